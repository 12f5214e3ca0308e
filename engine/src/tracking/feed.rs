//! The tracking feed every front end uses: where samples come from (a recorded
//! `tracking.jsonl`, live UDP, or nothing) and which of them a frame holds.
//!
//! ## The horizon rule
//! The packet describing the frame at time `t` (on the tracking clock: the buffer time for a
//! recording, the running time for live UDP) arrives at `t + delay`. When that frame is
//! processed, a receiver holds every sample received up to [`horizon_ns`]`(t) = t + delay +
//! period / 2`: the frame's own packet, and nothing from the frame after it. A recording is fed
//! exactly up to the horizon, so an offline render sees what a live receiver would; a live
//! feed pushes what has arrived and, when asked to, waits for the frame's packet until the
//! horizon (never longer than the delay plus one frame).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::source::{
    JsonlStats, ReceiveClock, SourceError, UdpSource, UdpSourceConfig, UdpStats, load_jsonl,
};
use super::{SensorReading, TrackingSample};

/// Where tracking comes from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TrackingSpec {
    /// No tracking (vision-only or no pose).
    #[default]
    None,
    /// A recorded `tracking.jsonl` (receive times on the video's timestamps).
    File(PathBuf),
    /// FreeD D1 over UDP on this address (receive times from the feed's clock).
    Udp(SocketAddr),
}

/// Errors opening a feed; each names the file or address.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The recording cannot be read.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: SourceError,
    },
    /// The UDP listener cannot start.
    #[error("tracking udp://{addr}: {source}")]
    Udp {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: SourceError,
    },
}

/// The last time a frame at `frame_time_ns` may take samples from: its packet's arrival time
/// (`frame_time_ns + delay_ns`) plus half a frame period.
pub fn horizon_ns(frame_time_ns: i64, delay_ns: i64, period_ns: i64) -> i64 {
    frame_time_ns
        .saturating_add(delay_ns.max(0))
        .saturating_add(period_ns / 2)
}

/// What feeding one frame did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fed {
    /// Samples pushed to the engine.
    pub pushed: u64,
    /// A live feed waited for the frame's packet and it did not come by the horizon.
    pub wait_expired: bool,
}

/// A recording in receive-time order with a cursor.
#[derive(Debug)]
struct Recording {
    path: PathBuf,
    samples: Vec<TrackingSample>,
    next: usize,
    /// Added to every pushed sample's time (a looping player's timeline).
    offset_ns: i64,
    stats: JsonlStats,
}

enum Source {
    None,
    File(Recording),
    Udp {
        source: UdpSource,
        clock: ReceiveClock,
        /// Boxed (allocated once, written in place): a reading with a full distortion model
        /// is large.
        last: Box<Option<SensorReading>>,
    },
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::File(r) => f.debug_tuple("File").field(r).finish(),
            Self::Udp { source, last, .. } => f
                .debug_struct("Udp")
                .field("source", source)
                .field("last", last)
                .finish_non_exhaustive(),
        }
    }
}

/// One open tracking input and the rule for what each frame holds.
#[derive(Debug)]
pub struct TrackingFeed {
    source: Source,
}

impl TrackingFeed {
    /// A feed that never has samples.
    pub fn none() -> Self {
        Self {
            source: Source::None,
        }
    }

    /// Reads a recording (garbage lines and checksum failures are counted and skipped; only an
    /// I/O error fails), in receive-time order (stable for equal times).
    pub fn open_file(path: &Path) -> Result<Self, FeedError> {
        let log = load_jsonl(path).map_err(|source| FeedError::File {
            path: path.to_path_buf(),
            source,
        })?;
        let mut samples = log.samples;
        samples.sort_by_key(|s| s.pts_ns);
        Ok(Self {
            source: Source::File(Recording {
                path: path.to_path_buf(),
                samples,
                next: 0,
                offset_ns: 0,
                stats: log.stats,
            }),
        })
    }

    /// Starts a UDP listener on `addr`; `clock` stamps each packet's receive time and tells
    /// the feed the time now (ns, on the clock frames are fed on).
    pub fn open_udp(addr: SocketAddr, clock: ReceiveClock) -> Result<Self, FeedError> {
        // A multicast address (OpenTrackIO: 239.135.1.N) is bound and its group joined.
        let multicast = match addr.ip() {
            std::net::IpAddr::V4(ip) if ip.is_multicast() => Some(ip),
            _ => None,
        };
        let config = UdpSourceConfig {
            bind: addr,
            multicast,
            ..UdpSourceConfig::default()
        };
        let source = UdpSource::start_with_clock(config, clock.clone())
            .map_err(|source| FeedError::Udp { addr, source })?;
        Ok(Self {
            source: Source::Udp {
                source,
                clock,
                last: Box::new(None),
            },
        })
    }

    /// Opens what `spec` names; `clock` is used by a UDP feed only.
    pub fn open(spec: &TrackingSpec, clock: ReceiveClock) -> Result<Self, FeedError> {
        match spec {
            TrackingSpec::None => Ok(Self::none()),
            TrackingSpec::File(path) => Self::open_file(path),
            TrackingSpec::Udp(addr) => Self::open_udp(*addr, clock),
        }
    }

    /// "none", "file" or "udp".
    pub fn kind(&self) -> &'static str {
        match self.source {
            Source::None => "none",
            Source::File(_) => "file",
            Source::Udp { .. } => "udp",
        }
    }

    /// True for a live (UDP) feed: its delay is latency the video must wait for.
    pub fn is_live(&self) -> bool {
        matches!(self.source, Source::Udp { .. })
    }

    /// True when the feed has a source.
    pub fn is_some(&self) -> bool {
        !matches!(self.source, Source::None)
    }

    /// Pushes every sample the frame at `frame_time_ns` holds ([`horizon_ns`]) to `push`, in
    /// receive order. A live feed pushes what has arrived; with `wait`, when the frame's own
    /// packet (received at or after `frame_time_ns + delay_ns`) is not in yet, it waits for it
    /// until the horizon, never longer than the delay plus one frame. Live samples received
    /// before time 0 (before the clock's start) are dropped.
    pub fn feed(
        &mut self,
        frame_time_ns: i64,
        delay_ns: i64,
        period_ns: i64,
        wait: bool,
        mut push: impl FnMut(&TrackingSample),
    ) -> Fed {
        let horizon = horizon_ns(frame_time_ns, delay_ns, period_ns);
        let mut fed = Fed::default();
        match &mut self.source {
            Source::None => {}
            Source::File(r) => {
                while let Some(s) = r.samples.get(r.next).filter(|s| s.pts_ns <= horizon) {
                    push(&TrackingSample {
                        pts_ns: s.pts_ns.saturating_add(r.offset_ns),
                        packet: s.packet.clone(),
                    });
                    r.next += 1;
                    fed.pushed += 1;
                }
            }
            Source::Udp {
                source,
                clock,
                last,
            } => {
                let due = frame_time_ns.saturating_add(delay_ns.max(0));
                let mut take = |s: TrackingSample, fed: &mut Fed| {
                    if s.pts_ns >= 0 {
                        push(&s);
                        **last = Some(s.packet.reading());
                        fed.pushed += 1;
                    }
                };
                let mut newest: Option<i64> = None;
                while let Some(s) = source.try_recv() {
                    let pts = s.pts_ns;
                    take(s, &mut fed);
                    newest = Some(newest.map_or(pts, |n| n.max(pts)));
                }
                if !wait || newest.is_some_and(|n| n >= due) {
                    return fed;
                }
                let limit = (horizon - clock()).min(delay_ns.max(0).saturating_add(period_ns));
                if limit <= 0 {
                    return fed;
                }
                let deadline = Instant::now() + Duration::from_nanos(limit.unsigned_abs());
                loop {
                    let Ok(s) = source.receiver().recv_deadline(deadline) else {
                        fed.wait_expired = true;
                        break;
                    };
                    let pts = s.pts_ns;
                    take(s, &mut fed);
                    if pts >= due {
                        break;
                    }
                }
            }
        }
        fed
    }

    /// Starts a recording over (a looping player): its samples are pushed again from the
    /// first, each moved by `offset_ns` onto the player's timeline. No effect on a live feed.
    pub fn rewind(&mut self, offset_ns: i64) {
        if let Source::File(r) = &mut self.source {
            r.next = 0;
            r.offset_ns = offset_ns;
        }
    }

    /// The reading received nearest to `time_ns` (a recording, in its own times), or the
    /// latest received (live).
    pub fn reading_near(&self, time_ns: i64) -> Option<SensorReading> {
        match &self.source {
            Source::None => None,
            Source::File(r) => {
                let i = r.samples.partition_point(|s| s.pts_ns < time_ns);
                [i.checked_sub(1), Some(i)]
                    .into_iter()
                    .flatten()
                    .filter_map(|j| r.samples.get(j))
                    .min_by_key(|s| (s.pts_ns - time_ns).unsigned_abs())
                    .map(|s| s.packet.reading())
            }
            Source::Udp { last, .. } => **last,
        }
    }

    /// Samples of a recording not fed yet (0 for a live feed).
    pub fn unused(&self) -> usize {
        match &self.source {
            Source::File(r) => r.samples.len() - r.next,
            _ => 0,
        }
    }

    /// The recording's path and read counters.
    pub fn file_stats(&self) -> Option<(&Path, JsonlStats)> {
        match &self.source {
            Source::File(r) => Some((&r.path, r.stats)),
            _ => None,
        }
    }

    /// The live listener's counters.
    pub fn udp_stats(&self) -> Option<UdpStats> {
        match &self.source {
            Source::Udp { source, .. } => Some(source.stats()),
            _ => None,
        }
    }

    /// The live listener's bound address.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match &self.source {
            Source::Udp { source, .. } => Some(source.local_addr()),
            _ => None,
        }
    }

    /// Packets dropped for a bad checksum, by the recording's reader or the listener.
    pub fn checksum_failures(&self) -> u64 {
        match &self.source {
            Source::None => 0,
            Source::File(r) => r.stats.checksum_failures,
            Source::Udp { source, .. } => source.stats().checksum_failures,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        reason = "test code: a failed unwrap is a failed test"
    )]

    use super::*;
    use crate::tracking::freed::FreedPacket;
    use crate::tracking::source::write_jsonl;

    fn recording(times: &[i64]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tracking.jsonl");
        let samples: Vec<TrackingSample> = times
            .iter()
            .map(|&t| TrackingSample::freed(t, FreedPacket::default()))
            .collect();
        write_jsonl(std::fs::File::create(&path).unwrap(), &samples).unwrap();
        (dir, path)
    }

    #[test]
    fn a_recording_feeds_up_to_the_horizon_in_order() {
        let (_dir, path) = recording(&[300, 100, 200, 1_000]);
        let mut feed = TrackingFeed::open_file(&path).unwrap();
        let mut got = Vec::new();
        // Frame at 0, delay 150, period 200: horizon 250.
        let fed = feed.feed(0, 150, 200, false, |s| got.push(s.pts_ns));
        assert_eq!(got, [100, 200]);
        assert_eq!(fed.pushed, 2);
        feed.feed(200, 150, 200, false, |s| got.push(s.pts_ns));
        assert_eq!(got, [100, 200, 300]);
        assert_eq!(feed.unused(), 1);
        feed.rewind(5_000);
        got.clear();
        feed.feed(0, 150, 200, false, |s| got.push(s.pts_ns));
        assert_eq!(got, [5_100, 5_200]);
    }

    #[test]
    fn the_horizon_is_the_packet_time_plus_half_a_period() {
        assert_eq!(horizon_ns(1_000, 500, 200), 1_600);
        // A negative delay counts as none.
        assert_eq!(horizon_ns(1_000, -500, 200), 1_100);
        assert_eq!(horizon_ns(i64::MAX - 1, 500, 200), i64::MAX);
    }

    #[test]
    fn a_missing_recording_names_the_file() {
        let e = TrackingFeed::open_file(Path::new("/nonexistent/tracking.jsonl")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/tracking.jsonl"), "{e}");
    }
}
