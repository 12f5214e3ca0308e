//! `yardline tracking decode FILE|HEX`, `yardline tracking listen` and
//! `yardline tracking record`: FreeD and OpenTrackIO tools for set-up and capture.

#![allow(
    clippy::doc_markdown,
    reason = "FreeD and OpenTrackIO are product names, not code identifiers"
)]

use std::fs::File;
use std::io::{LineWriter, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde_json::json;
use yardline_engine::tracking::freed::{self, PACKET_LEN};
use yardline_engine::tracking::opentrackio::{
    self, ENCODING_CBOR, ENCODING_JSON, OpenTrackIoSample, Reassembler,
};
use yardline_engine::tracking::source::{DEFAULT_UDP_PORT, UdpSource, UdpSourceConfig, UdpStats};
use yardline_engine::tracking::{Packet, SensorReading};

use crate::UsageError;

/// Arguments of `yardline tracking`.
#[derive(Debug, Args, Clone)]
pub struct TrackingArgs {
    #[command(subcommand)]
    command: TrackingCommand,
}

/// Where to listen: the socket and, for OpenTrackIO multicast, the group.
#[derive(Debug, Args, Clone)]
struct ListenArgs {
    /// Address to bind (default 127.0.0.1:40000, or 0.0.0.0:55555 when joining a multicast
    /// group).
    #[arg(long, visible_alias = "udp")]
    bind: Option<SocketAddr>,
    /// Join the OpenTrackIO multicast group of this source number (239.135.1.N, 1..=200).
    #[arg(long, value_name = "N", conflicts_with = "multicast")]
    source_number: Option<u8>,
    /// Join this IPv4 multicast group.
    #[arg(long, value_name = "GROUP")]
    multicast: Option<Ipv4Addr>,
    /// Interface address to join the group on (the system's choice by default).
    #[arg(long, value_name = "IP", default_value = "0.0.0.0")]
    interface: Ipv4Addr,
    /// Accept packets only from these senders (repeatable); all when none is given.
    #[arg(long = "allow", value_name = "IP")]
    allow: Vec<IpAddr>,
    /// Stop after this many seconds (runs until interrupted when absent).
    #[arg(long, value_name = "S")]
    seconds: Option<f64>,
}

#[derive(Debug, Subcommand, Clone)]
enum TrackingCommand {
    /// Decode one FreeD D1 packet (58 hex characters, or a 29-byte file) or one OpenTrackIO
    /// sample (a file: an `OTrk` packet, a JSON or a CBOR sample; or a packet as hex) and
    /// print it as one JSON line.
    Decode {
        /// The packet as hex, or a file holding it.
        input: String,
        /// Print everything decoded (the whole OpenTrackIO sample and the engine's reading),
        /// indented.
        #[arg(long)]
        json: bool,
    },
    /// Listen for FreeD and OpenTrackIO packets on UDP and print packets/s, the drop
    /// counters and the last decode.
    Listen(ListenArgs),
    /// Record a live FreeD or OpenTrackIO feed as `tracking.jsonl` (receive times from the
    /// start of the recording), for `yardline render --tracking`.
    Record {
        #[command(flatten)]
        listen: ListenArgs,
        /// The `tracking.jsonl` file to write.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Runs a tracking subcommand.
pub fn run(args: &TrackingArgs) -> Result<()> {
    match &args.command {
        TrackingCommand::Decode { input, json } => decode(input, *json),
        TrackingCommand::Listen(l) => listen(l, None),
        TrackingCommand::Record { listen: l, out } => listen(l, Some(out)),
    }
}

/// What `decode` read.
enum Input {
    Freed(Vec<u8>),
    OpenTrackIo {
        sample: Box<OpenTrackIoSample>,
        encoding: &'static str,
        sequence: Option<u16>,
    },
}

fn otio_err(what: &str) -> impl FnOnce(opentrackio::OpenTrackIoError) -> anyhow::Error {
    let what = what.to_owned();
    move |e| UsageError(format!("{what}: {e}")).into()
}

/// Reads an `OTrk` packet (one datagram, or a segmented payload's datagrams one after
/// another) or a bare JSON or CBOR sample.
fn read_opentrackio(bytes: &[u8], what: &str) -> Result<Input> {
    if bytes.starts_with(&opentrackio::MAGIC) {
        let mut r = Reassembler::new();
        let mut rest = bytes;
        loop {
            let (h, seg) = opentrackio::parse_packet(rest).map_err(otio_err(what))?;
            let sequence = h.sequence;
            let used = opentrackio::HEADER_LEN + seg.len();
            if let Some((enc, payload)) = r.push(&rest[..used]).map_err(otio_err(what))? {
                let sample = opentrackio::decode_payload(enc, &payload).map_err(otio_err(what))?;
                let encoding = if enc == ENCODING_JSON { "json" } else { "cbor" };
                return Ok(Input::OpenTrackIo {
                    sample: Box::new(sample),
                    encoding,
                    sequence: Some(sequence),
                });
            }
            rest = &rest[used..];
            if rest.is_empty() {
                return Err(UsageError(format!(
                    "{what}: the OpenTrackIO payload's last segment is missing"
                ))
                .into());
            }
        }
    }
    let text_start = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let (enc, encoding) = if text_start == Some(&b'{') {
        (ENCODING_JSON, "json")
    } else {
        (ENCODING_CBOR, "cbor")
    };
    let sample = opentrackio::decode_payload(enc, bytes).map_err(otio_err(what))?;
    Ok(Input::OpenTrackIo {
        sample: Box::new(sample),
        encoding,
        sequence: None,
    })
}

fn read_input(input: &str) -> Result<Input> {
    let path = Path::new(input);
    if path.is_file() {
        let bytes = std::fs::read(path).with_context(|| format!("read {input}"))?;
        let trimmed = bytes.trim_ascii();
        if bytes.len() == PACKET_LEN && bytes[0] == freed::D1_TYPE {
            return Ok(Input::Freed(bytes));
        }
        if trimmed.len() == freed::HEX_LEN && trimmed.iter().all(u8::is_ascii_hexdigit) {
            let hex = String::from_utf8_lossy(trimmed);
            return Ok(Input::Freed(
                freed::parse_hex(&hex)
                    .map_err(|e| UsageError(format!("{input}: {e}")))?
                    .to_vec(),
            ));
        }
        return read_opentrackio(&bytes, input);
    }
    if input.len() > freed::HEX_LEN && input.len().is_multiple_of(2) {
        let bytes: Option<Vec<u8>> = (0..input.len())
            .step_by(2)
            .map(|i| {
                input
                    .get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect();
        if let Some(b) = bytes.filter(|b| b.starts_with(&opentrackio::MAGIC)) {
            return read_opentrackio(&b, "OpenTrackIO packet");
        }
    }
    let b = freed::parse_hex(input).map_err(|e| {
        UsageError(format!(
            "{input:?} is neither a file nor a FreeD or OpenTrackIO packet in hex: {e}"
        ))
    })?;
    Ok(Input::Freed(b.to_vec()))
}

/// One JSON line for a reading (the engine's units: degrees, millimetres, lens counts).
fn reading_json(r: &SensorReading) -> serde_json::Value {
    json!({
        "camera_id": r.camera_id,
        "pan_deg": r.angles.pan_deg,
        "tilt_deg": r.angles.tilt_deg,
        "roll_deg": r.angles.roll_deg,
        "x_mm": r.position_mm[0],
        "y_mm": r.position_mm[1],
        "z_mm": r.position_mm[2],
        "zoom": r.zoom,
        "focus": r.focus,
        "timecode": r.timecode.map(|t| t.to_string()),
        "lens": r.lens,
    })
}

fn decode(input: &str, full: bool) -> Result<()> {
    match read_input(input)? {
        Input::Freed(bytes) => {
            let decoded = freed::decode(&bytes).map_err(|e| UsageError(format!("{input}: {e}")))?;
            let report = decoded.report();
            if full {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("{}", serde_json::to_string(&report)?);
            }
        }
        Input::OpenTrackIo {
            sample,
            encoding,
            sequence,
        } => {
            // A sample that gives no reading still prints what it holds, and says why.
            let (reading, error) = match sample.reading() {
                Ok(r) => (Some(reading_json(&r)), None),
                Err(e) => (None, Some(e.to_string())),
            };
            let mut v = json!({
                "protocol": "opentrackio",
                "encoding": encoding,
                "sequence": sequence,
                "sample_id": sample.sample_id,
                "reading": reading,
                "error": error,
            });
            if full {
                v["sample"] = serde_json::to_value(&*sample)?;
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                println!("{}", serde_json::to_string(&v)?);
            }
        }
    }
    Ok(())
}

fn last_json(p: &Packet) -> String {
    match p {
        Packet::Freed(f) => serde_json::to_string(&f.report(true)).unwrap_or_default(),
        Packet::OpenTrackIo(o) => reading_json(&o.reading).to_string(),
    }
}

fn print_stats(st: &UdpStats, last: Option<&Packet>) {
    let last = last.map_or_else(|| "none".to_string(), last_json);
    println!(
        "{:.1} packets/s, {} accepted, {} checksum failures, {} malformed, {} invalid samples, {} incomplete payloads, {} duplicates, {} rejected senders; last: {last}",
        st.packets_per_second,
        st.accepted,
        st.checksum_failures,
        st.malformed,
        st.invalid_samples,
        st.incomplete_payloads,
        st.duplicates,
        st.rejected_senders
    );
}

fn listen(args: &ListenArgs, out: Option<&PathBuf>) -> Result<()> {
    if args.seconds.is_some_and(|s| !(s.is_finite() && s > 0.0)) {
        return Err(UsageError("--seconds must be a positive number".into()).into());
    }
    let multicast = match args.source_number {
        Some(n) if n == 0 || u32::from(n) > opentrackio::MAX_SOURCE_NUMBER => {
            return Err(UsageError(format!(
                "--source-number {n}: OpenTrackIO source numbers are 1..=200"
            ))
            .into());
        }
        Some(n) => Some(opentrackio::multicast_group(n)),
        None => args.multicast,
    };
    if let Some(g) = multicast.filter(|g| !g.is_multicast()) {
        return Err(UsageError(format!("--multicast {g} is not a multicast address")).into());
    }
    let bind = args.bind.unwrap_or_else(|| match multicast {
        Some(_) => SocketAddr::from((Ipv4Addr::UNSPECIFIED, opentrackio::DEFAULT_PORT)),
        None => SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_UDP_PORT)),
    });
    let mut writer = match out {
        Some(path) => Some(LineWriter::new(
            File::create(path).with_context(|| format!("create {}", path.display()))?,
        )),
        None => None,
    };
    let source = UdpSource::start(UdpSourceConfig {
        bind,
        allow: args.allow.clone(),
        multicast,
        multicast_interface: args.interface,
        ..UdpSourceConfig::default()
    })
    .map_err(|e| UsageError(format!("cannot listen on {bind}: {e}")))?;
    let what = if writer.is_some() {
        "recording"
    } else {
        "listening for"
    };
    let group = multicast
        .map(|g| format!(" (group {g})"))
        .unwrap_or_default();
    println!(
        "{what} FreeD and OpenTrackIO on {}{group}",
        source.local_addr()
    );
    let start = Instant::now();
    let mut last: Option<Packet> = None;
    let mut written = 0_u64;
    let mut next_print = Duration::from_secs(1);
    loop {
        if let Some(s) = source.recv_timeout(Duration::from_millis(100)) {
            if let Some(w) = writer.as_mut() {
                writeln!(w, "{}", s.to_jsonl()).context("write the recording")?;
                written += 1;
            }
            last = Some(s.packet);
        }
        let elapsed = start.elapsed();
        if elapsed >= next_print {
            next_print += Duration::from_secs(1);
            print_stats(&source.stats(), last.as_ref());
        }
        if args.seconds.is_some_and(|s| elapsed.as_secs_f64() >= s) {
            break;
        }
    }
    if let (Some(mut w), Some(path)) = (writer, out) {
        while let Some(s) = source.try_recv() {
            writeln!(w, "{}", s.to_jsonl()).context("write the recording")?;
            written += 1;
        }
        w.flush().context("write the recording")?;
        println!("recorded {written} samples to {}", path.display());
    }
    Ok(())
}
