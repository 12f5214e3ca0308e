//! Tracking sources: `tracking.jsonl` files and a UDP listener on its own thread.
//!
//! Bad input is counted and skipped, never fatal: garbage lines, malformed datagrams,
//! checksum failures, senders outside the allow-list, over-size datagrams and queue overflow
//! each have a counter.

#![allow(
    clippy::doc_markdown,
    reason = "FreeD and SciPy are product names, not code identifiers"
)]

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use serde::{Deserialize, Serialize};

use super::freed::{self, FreedError, PACKET_LEN};
use super::opentrackio::{self, OpenTrackIoSample, Reassembler};
use super::{Packet, TrackingSample};

/// Default UDP port for FreeD.
pub const DEFAULT_UDP_PORT: u16 = 40000;
/// Default largest OpenTrackIO datagram accepted (bytes): a header and the largest segment.
pub const DEFAULT_MAX_OPENTRACKIO_BYTES: usize =
    opentrackio::HEADER_LEN + opentrackio::MAX_SEGMENT_PAYLOAD;
/// Default largest datagram accepted (bytes); larger ones are dropped as over-size.
pub const DEFAULT_MAX_PACKET_BYTES: usize = 64;
/// Default capacity of the queue between the listener thread and the pipeline (samples).
pub const DEFAULT_QUEUE_CAPACITY: usize = 256;
/// Default socket read timeout: how quickly the listener notices a shutdown.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_millis(20);
/// Window over which packets/s is measured.
const RATE_WINDOW: Duration = Duration::from_secs(1);
/// Pause after an unexpected socket error, so a persistent error cannot spin a core.
const ERROR_BACKOFF: Duration = Duration::from_millis(5);

/// Errors opening or reading a tracking source.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// File or socket I/O failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done (`open tracking.jsonl`, `bind 127.0.0.1:40000`, ...).
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A configuration value is unusable.
    #[error("invalid UDP source configuration: {0}")]
    Config(String),
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> SourceError {
    let context = context.into();
    move |source| SourceError::Io { context, source }
}

// ---------------------------------------------------------------------------------------------
// tracking.jsonl
// ---------------------------------------------------------------------------------------------

/// One `tracking.jsonl` line: a FreeD packet in hex or an OpenTrackIO sample as JSON.
#[derive(Debug, Deserialize)]
struct JsonlLine {
    pts_ns: i64,
    #[serde(default)]
    freed: Option<String>,
    #[serde(default)]
    opentrackio: Option<OpenTrackIoSample>,
}

/// Counters from reading a `tracking.jsonl` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct JsonlStats {
    /// Non-blank lines read (lines).
    pub lines: u64,
    /// Lines that gave a usable sample (lines).
    pub samples: u64,
    /// Lines that are not a valid record (bad JSON, missing field, bad hex, not 0xD1) (lines).
    pub garbage_lines: u64,
    /// Well-formed packets whose checksum failed, dropped (lines).
    pub checksum_failures: u64,
    /// OpenTrackIO samples that give no reading (no transform, reserved source number,
    /// non-finite value), dropped (lines).
    pub invalid_samples: u64,
}

/// The samples of a `tracking.jsonl` file, in file order, and what was skipped.
#[derive(Debug, Clone, Default)]
pub struct TrackingLog {
    /// Usable samples (checksum verified).
    pub samples: Vec<TrackingSample>,
    /// Read counters.
    pub stats: JsonlStats,
}

/// What one line holds.
enum LineOutcome {
    Blank,
    Sample(TrackingSample),
    Garbage,
    Checksum,
    Invalid,
}

fn parse_line(bytes: &[u8]) -> LineOutcome {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return LineOutcome::Garbage;
    };
    let text = text.trim();
    if text.is_empty() {
        return LineOutcome::Blank;
    }
    let Ok(line) = serde_json::from_str::<JsonlLine>(text) else {
        return LineOutcome::Garbage;
    };
    match (line.freed, line.opentrackio) {
        (Some(hex), None) => match freed::parse_hex(&hex).and_then(|b| freed::decode_checked(&b)) {
            Ok(packet) => LineOutcome::Sample(TrackingSample::freed(line.pts_ns, packet)),
            Err(FreedError::Checksum { .. }) => LineOutcome::Checksum,
            Err(_) => LineOutcome::Garbage,
        },
        (None, Some(sample)) => match Packet::opentrackio(sample) {
            Ok(packet) => LineOutcome::Sample(TrackingSample {
                pts_ns: line.pts_ns,
                packet,
            }),
            Err(_) => LineOutcome::Invalid,
        },
        _ => LineOutcome::Garbage,
    }
}

/// Reads `tracking.jsonl` lines; garbage lines and checksum failures are counted and skipped.
/// Only an I/O error fails.
pub fn read_jsonl(mut reader: impl BufRead) -> Result<TrackingLog, SourceError> {
    let mut log = TrackingLog::default();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(io_err("read tracking.jsonl"))?;
        if n == 0 {
            break;
        }
        match parse_line(&buf) {
            LineOutcome::Blank => continue,
            LineOutcome::Sample(s) => {
                log.samples.push(s);
                log.stats.samples += 1;
            }
            LineOutcome::Garbage => log.stats.garbage_lines += 1,
            LineOutcome::Checksum => log.stats.checksum_failures += 1,
            LineOutcome::Invalid => log.stats.invalid_samples += 1,
        }
        log.stats.lines += 1;
    }
    Ok(log)
}

/// Opens and reads a `tracking.jsonl` file (see [`read_jsonl`]).
pub fn load_jsonl(path: &Path) -> Result<TrackingLog, SourceError> {
    let f = File::open(path).map_err(io_err(format!("open {}", path.display())))?;
    read_jsonl(BufReader::new(f))
}

impl TrackingSample {
    /// The `tracking.jsonl` line for this sample (no trailing newline): the FreeD packet in
    /// hex, or the OpenTrackIO sample as JSON.
    pub fn to_jsonl(&self) -> String {
        match &self.packet {
            Packet::Freed(p) => {
                format!(
                    "{{\"pts_ns\":{},\"freed\":\"{}\"}}",
                    self.pts_ns,
                    p.to_hex()
                )
            }
            Packet::OpenTrackIo(o) => {
                let json = serde_json::to_string(&o.sample).unwrap_or_else(|e| {
                    tracing::error!("OpenTrackIO sample not written as JSON: {e}");
                    "{}".to_owned()
                });
                format!("{{\"pts_ns\":{},\"opentrackio\":{json}}}", self.pts_ns)
            }
        }
    }
}

/// Writes samples as `tracking.jsonl` lines.
pub fn write_jsonl(mut w: impl Write, samples: &[TrackingSample]) -> Result<(), SourceError> {
    for s in samples {
        writeln!(w, "{}", s.to_jsonl()).map_err(io_err("write tracking.jsonl"))?;
    }
    w.flush().map_err(io_err("write tracking.jsonl"))
}

// ---------------------------------------------------------------------------------------------
// UDP
// ---------------------------------------------------------------------------------------------

/// Receive clock for UDP samples: returns "now" on the video clock (ns).
pub type ReceiveClock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// Settings of a [`UdpSource`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpSourceConfig {
    /// Address to bind (default 127.0.0.1:40000; port 0 picks a free port).
    pub bind: SocketAddr,
    /// Senders accepted; empty accepts everyone (IP addresses).
    pub allow: Vec<IpAddr>,
    /// Largest datagram accepted (bytes, >= 29); larger ones are dropped and counted. An
    /// OpenTrackIO datagram (starting `OTrk`) has its own cap, `max_opentrackio_bytes`.
    pub max_packet_bytes: usize,
    /// Largest OpenTrackIO datagram accepted (bytes, >= 16).
    pub max_opentrackio_bytes: usize,
    /// IPv4 multicast group to join on `multicast_interface` (OpenTrackIO: 239.135.1.N).
    pub multicast: Option<Ipv4Addr>,
    /// Interface address the multicast group is joined on (0.0.0.0: the system's choice).
    pub multicast_interface: Ipv4Addr,
    /// Capacity of the sample queue (samples, >= 1); when full the oldest is dropped.
    pub queue_capacity: usize,
    /// Socket read timeout: the longest a shutdown waits (duration, > 0).
    pub read_timeout: Duration,
}

impl Default for UdpSourceConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), DEFAULT_UDP_PORT),
            allow: Vec::new(),
            max_packet_bytes: DEFAULT_MAX_PACKET_BYTES,
            max_opentrackio_bytes: DEFAULT_MAX_OPENTRACKIO_BYTES,
            multicast: None,
            multicast_interface: Ipv4Addr::UNSPECIFIED,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            read_timeout: DEFAULT_READ_TIMEOUT,
        }
    }
}

/// A snapshot of a [`UdpSource`]'s counters.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct UdpStats {
    /// Datagrams received, whatever they held (datagrams).
    pub packets: u64,
    /// Valid packets put on the queue (packets).
    pub accepted: u64,
    /// Datagrams of the right size whose checksum failed (datagrams).
    pub checksum_failures: u64,
    /// Datagrams that are neither a FreeD D1 packet (wrong length or type byte) nor a readable
    /// OpenTrackIO packet (truncated, unknown encoding, segment out of order, bad payload)
    /// (datagrams).
    pub malformed: u64,
    /// OpenTrackIO samples that give no reading (no transform, reserved source number,
    /// non-finite value), dropped (samples).
    pub invalid_samples: u64,
    /// OpenTrackIO payloads dropped with segments missing (payloads).
    pub incomplete_payloads: u64,
    /// OpenTrackIO datagrams received again right after themselves, ignored (datagrams).
    pub duplicates: u64,
    /// Datagrams larger than `max_packet_bytes` (datagrams).
    pub oversize: u64,
    /// Datagrams from senders outside the allow-list (datagrams).
    pub rejected_senders: u64,
    /// Samples dropped because the queue was full (oldest first) (samples).
    pub queue_drops: u64,
    /// Socket errors other than timeouts (errors).
    pub io_errors: u64,
    /// Valid packets per second over the last completed one-second window (packets/s).
    pub packets_per_second: f64,
}

/// Counters shared between the listener thread and the handle.
#[derive(Debug, Default)]
struct Counters {
    packets: AtomicU64,
    accepted: AtomicU64,
    checksum_failures: AtomicU64,
    malformed: AtomicU64,
    invalid_samples: AtomicU64,
    incomplete_payloads: AtomicU64,
    duplicates: AtomicU64,
    oversize: AtomicU64,
    rejected_senders: AtomicU64,
    queue_drops: AtomicU64,
    io_errors: AtomicU64,
    /// `f64` bits of packets/s.
    rate_bits: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// A FreeD and OpenTrackIO UDP listener on its own thread, feeding a bounded queue. Dropping it stops the
/// thread (within `read_timeout`) and joins it.
pub struct UdpSource {
    rx: Receiver<TrackingSample>,
    counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
    local_addr: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for UdpSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UdpSource")
            .field("local_addr", &self.local_addr)
            .field("queued", &self.rx.len())
            .finish_non_exhaustive()
    }
}

/// Everything the listener thread owns.
struct Listener {
    socket: UdpSocket,
    allow: Vec<IpAddr>,
    max_packet_bytes: usize,
    max_opentrackio_bytes: usize,
    reassembler: Reassembler,
    tx: Sender<TrackingSample>,
    /// A receiver clone, to drop the oldest sample when the queue is full.
    rx: Receiver<TrackingSample>,
    counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
    clock: ReceiveClock,
}

impl Listener {
    fn run(mut self) {
        // One byte more than the cap, so an over-size datagram is seen as such.
        let mut buf = vec![0_u8; self.max_packet_bytes.max(self.max_opentrackio_bytes) + 1];
        let mut window_start = Instant::now();
        let mut window_count = self.counters.accepted.load(Ordering::Relaxed);
        while !self.stop.load(Ordering::Acquire) {
            match self.socket.recv_from(&mut buf) {
                Ok((n, from)) => self.handle(&buf[..n], from),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => {
                    bump(&self.counters.io_errors);
                    tracing::warn!("tracking UDP receive error: {e}");
                    std::thread::sleep(ERROR_BACKOFF);
                }
            }
            let elapsed = window_start.elapsed();
            if elapsed >= RATE_WINDOW {
                let now_count = self.counters.accepted.load(Ordering::Relaxed);
                let rate = (now_count - window_count) as f64 / elapsed.as_secs_f64();
                self.counters
                    .rate_bits
                    .store(rate.to_bits(), Ordering::Relaxed);
                window_start = Instant::now();
                window_count = now_count;
            }
        }
    }

    fn allowed(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.allow.is_empty() || self.allow.iter().any(|a| a.to_canonical() == ip)
    }

    fn handle(&mut self, data: &[u8], from: SocketAddr) {
        let c = &self.counters;
        bump(&c.packets);
        if !self.allowed(from.ip()) {
            bump(&c.rejected_senders);
            return;
        }
        let otrk = data.starts_with(&opentrackio::MAGIC);
        let cap = if otrk {
            self.max_opentrackio_bytes
        } else {
            self.max_packet_bytes
        };
        if data.len() > cap {
            bump(&c.oversize);
            return;
        }
        let packet = if otrk {
            let Some(p) = self.opentrackio(data) else {
                return;
            };
            p
        } else {
            match freed::decode_checked(data) {
                Ok(p) => Packet::Freed(p),
                Err(FreedError::Checksum { .. }) => {
                    bump(&c.checksum_failures);
                    return;
                }
                Err(_) => {
                    bump(&c.malformed);
                    return;
                }
            }
        };
        self.enqueue(TrackingSample {
            pts_ns: (self.clock)(),
            packet,
        });
    }

    /// One OpenTrackIO datagram: a packet once its payload is whole, else counted.
    fn opentrackio(&mut self, data: &[u8]) -> Option<Packet> {
        let c = &self.counters;
        let (before, repeats) = (
            self.reassembler.incomplete_dropped(),
            self.reassembler.duplicates(),
        );
        let pushed = self.reassembler.push(data);
        let lost = self.reassembler.incomplete_dropped() - before;
        c.incomplete_payloads.fetch_add(lost, Ordering::Relaxed);
        let repeated = self.reassembler.duplicates() - repeats;
        c.duplicates.fetch_add(repeated, Ordering::Relaxed);
        let (encoding, payload) = match pushed {
            Ok(Some(whole)) => whole,
            Ok(None) => return None,
            Err(e) if e.is_checksum() => {
                bump(&c.checksum_failures);
                return None;
            }
            Err(_) => {
                bump(&c.malformed);
                return None;
            }
        };
        let Ok(sample) = opentrackio::decode_payload(encoding, &payload) else {
            bump(&c.malformed);
            return None;
        };
        match Packet::opentrackio(sample) {
            Ok(p) => Some(p),
            Err(e) => {
                bump(&c.invalid_samples);
                tracing::debug!("OpenTrackIO sample dropped: {e}");
                None
            }
        }
    }

    fn enqueue(&self, mut sample: TrackingSample) {
        let c = &self.counters;
        loop {
            match self.tx.try_send(sample) {
                Ok(()) => {
                    bump(&c.accepted);
                    return;
                }
                Err(TrySendError::Full(s)) => {
                    // Real time wants the newest state: drop the oldest queued sample.
                    if self.rx.try_recv().is_ok() {
                        bump(&c.queue_drops);
                    }
                    sample = s;
                }
                // Unreachable while `self.rx` lives; nothing left to feed.
                Err(TrySendError::Disconnected(_)) => return,
            }
        }
    }
}

impl UdpSource {
    /// Binds and starts listening; receive times come from a monotonic clock starting at 0
    /// when the source starts (ns).
    pub fn start(config: UdpSourceConfig) -> Result<Self, SourceError> {
        let epoch = Instant::now();
        Self::start_with_clock(
            config,
            Arc::new(move || i64::try_from(epoch.elapsed().as_nanos()).unwrap_or(i64::MAX)),
        )
    }

    /// Binds and starts listening; `clock` stamps each packet's receive time (ns, video clock).
    pub fn start_with_clock(
        config: UdpSourceConfig,
        clock: ReceiveClock,
    ) -> Result<Self, SourceError> {
        if config.max_opentrackio_bytes < opentrackio::HEADER_LEN {
            return Err(SourceError::Config(format!(
                "max_opentrackio_bytes {} is below the OpenTrackIO header size {}",
                config.max_opentrackio_bytes,
                opentrackio::HEADER_LEN
            )));
        }
        if config.max_packet_bytes < PACKET_LEN {
            return Err(SourceError::Config(format!(
                "max_packet_bytes {} is below the FreeD packet size {PACKET_LEN}",
                config.max_packet_bytes
            )));
        }
        if config.queue_capacity == 0 {
            return Err(SourceError::Config("queue_capacity must be >= 1".into()));
        }
        if config.read_timeout.is_zero() {
            return Err(SourceError::Config("read_timeout must be > 0".into()));
        }
        let socket =
            UdpSocket::bind(config.bind).map_err(io_err(format!("bind {}", config.bind)))?;
        socket
            .set_read_timeout(Some(config.read_timeout))
            .map_err(io_err("set UDP read timeout"))?;
        let local_addr = socket
            .local_addr()
            .map_err(io_err("read UDP local address"))?;
        if let Some(group) = config.multicast {
            socket
                .join_multicast_v4(&group, &config.multicast_interface)
                .map_err(io_err(format!(
                    "join multicast group {group} on {}",
                    config.multicast_interface
                )))?;
        }
        let (tx, rx) = crossbeam_channel::bounded(config.queue_capacity);
        let counters = Arc::new(Counters::default());
        let stop = Arc::new(AtomicBool::new(false));
        let listener = Listener {
            socket,
            allow: config.allow,
            max_packet_bytes: config.max_packet_bytes,
            max_opentrackio_bytes: config.max_opentrackio_bytes,
            reassembler: Reassembler::new(),
            tx,
            rx: rx.clone(),
            counters: Arc::clone(&counters),
            stop: Arc::clone(&stop),
            clock,
        };
        let thread = std::thread::Builder::new()
            .name("yardline-tracking-udp".into())
            .spawn(move || listener.run())
            .map_err(io_err("spawn tracking UDP thread"))?;
        Ok(Self {
            rx,
            counters,
            stop,
            local_addr,
            thread: Some(thread),
        })
    }

    /// The bound address (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The next queued sample, if any (never blocks).
    pub fn try_recv(&self) -> Option<TrackingSample> {
        self.rx.try_recv().ok()
    }

    /// The next sample, waiting at most `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<TrackingSample> {
        self.rx.recv_timeout(timeout).ok()
    }

    /// Moves every queued sample into `out` (never blocks); returns how many.
    pub fn drain_into(&self, out: &mut Vec<TrackingSample>) -> usize {
        let before = out.len();
        out.extend(self.rx.try_iter());
        out.len() - before
    }

    /// The queue's receiving end, for `select!` with other channels.
    pub fn receiver(&self) -> &Receiver<TrackingSample> {
        &self.rx
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> UdpStats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        UdpStats {
            packets: get(&c.packets),
            accepted: get(&c.accepted),
            checksum_failures: get(&c.checksum_failures),
            malformed: get(&c.malformed),
            invalid_samples: get(&c.invalid_samples),
            incomplete_payloads: get(&c.incomplete_payloads),
            duplicates: get(&c.duplicates),
            oversize: get(&c.oversize),
            rejected_senders: get(&c.rejected_senders),
            queue_drops: get(&c.queue_drops),
            io_errors: get(&c.io_errors),
            packets_per_second: f64::from_bits(get(&c.rate_bits)),
        }
    }
}

impl Drop for UdpSource {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            tracing::error!("tracking UDP listener thread panicked");
        }
    }
}
