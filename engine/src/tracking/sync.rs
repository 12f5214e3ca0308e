//! Matching tracking samples to video frames.
//!
//! For a frame with pts `p` the engine wants the head state at `p + tracking_delay_ns` on the
//! receive clock. Arrival times jitter (network, sender scheduling), so each sample's receive
//! time is first smoothed by a second-order timing loop that knows the nominal packet period
//! (a head genlocked to the video sends one packet per frame): the smoothed times follow the
//! sender's steady clock, not the jitter. Then, for a frame:
//!
//! - a sample whose smoothed time lies within `snap_ns` of the target is used as is
//!   ([`SyncKind::Exact`]);
//! - otherwise angles, zoom, focus and position are interpolated linearly between the samples
//!   just before and after the target ([`SyncKind::Interpolated`]), unless they are more than
//!   `max_gap_ns` apart (a gap: [`SyncMiss::Gap`]);
//! - a target past the newest sample by at most `jitter_tolerance_ns` holds the newest sample
//!   ([`SyncKind::Held`]); further past, the sample is late ([`SyncMiss::Late`]).
//!
//! Memory is bounded: a ring of at most `capacity` samples.

#![allow(
    clippy::doc_markdown,
    reason = "FreeD and SciPy are product names, not code identifiers"
)]

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::{FreedPacket, SampleLens, SensorReading, Timecode, TrackingSample};
use crate::head::HeadAngles;

/// Frame period of 59.94 fps video (ns).
pub const FRAME_PERIOD_5994_NS: f64 = 1_001_000_000.0 / 60.0;
/// Default ring capacity (samples): about two seconds at 59.94.
pub const DEFAULT_CAPACITY: usize = 128;
/// Smallest phase gain of the timing loop (after start-up averaging).
const PHASE_GAIN_MIN: f64 = 0.1;
/// Largest period gain of the timing loop.
const PERIOD_GAIN_MAX: f64 = 0.01;
/// The period estimate stays within this factor of the nominal period.
const PERIOD_CLAMP: f64 = 1.5;

/// Settings of a [`TrackingSync`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SyncConfig {
    /// Only samples from this FreeD camera id are used; `None` accepts any.
    pub camera_id: Option<u8>,
    /// How long after a frame's pts its packet arrives (ns, >= 0).
    pub tracking_delay_ns: i64,
    /// Nominal interval between packets (ns, > 0; a genlocked head sends one per frame).
    pub packet_period_ns: f64,
    /// A sample this close to the target is used without interpolation (ns, >= 0).
    pub snap_ns: f64,
    /// Arrival jitter tolerated: how far past the newest sample a target may lie and still hold
    /// it (ns, >= 0; default half a frame).
    pub jitter_tolerance_ns: f64,
    /// Longest interval interpolated across (ns); longer gaps are reported, not bridged.
    pub max_gap_ns: f64,
    /// Ring capacity (samples, >= 2).
    pub capacity: usize,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self::for_frame_period(FRAME_PERIOD_5994_NS, 0)
    }
}

impl SyncConfig {
    /// Defaults for one packet per video frame of `frame_period_ns` and a tracking delay:
    /// snap within a quarter frame, tolerate half a frame of jitter, bridge gaps up to three
    /// packet periods.
    pub fn for_frame_period(frame_period_ns: f64, tracking_delay_ns: i64) -> Self {
        Self {
            camera_id: None,
            tracking_delay_ns,
            packet_period_ns: frame_period_ns,
            snap_ns: 0.25 * frame_period_ns,
            jitter_tolerance_ns: 0.5 * frame_period_ns,
            max_gap_ns: 3.0 * frame_period_ns + 0.5 * frame_period_ns,
            capacity: DEFAULT_CAPACITY,
        }
    }

    /// True when every value is usable.
    pub fn is_valid(&self) -> bool {
        self.tracking_delay_ns >= 0
            && self.packet_period_ns.is_finite()
            && self.packet_period_ns > 0.0
            && self.snap_ns.is_finite()
            && self.snap_ns >= 0.0
            && self.jitter_tolerance_ns.is_finite()
            && self.jitter_tolerance_ns >= 0.0
            && self.max_gap_ns.is_finite()
            && self.max_gap_ns > 0.0
            && self.capacity >= 2
    }
}

/// How a [`SyncedState`] was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncKind {
    /// One sample, at the target time (within `snap_ns`).
    Exact,
    /// Interpolated between the samples around the target.
    Interpolated,
    /// The nearest sample held across a short arrival delay (within the jitter tolerance).
    Held,
}

/// The head state for one frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SyncedState {
    /// Encoder state at the target time.
    pub reading: SensorReading,
    /// Target time on the receive clock: frame pts + tracking delay (ns).
    pub target_ns: i64,
    /// How it was obtained.
    pub kind: SyncKind,
    /// Distance from the target to the nearest sample used (ns, smoothed times).
    pub offset_ns: f64,
}

/// Why no state could be given for a frame.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum SyncMiss {
    /// No sample has been received.
    #[error("no tracking samples")]
    NoSamples,
    /// The target lies past the newest sample by more than the jitter tolerance.
    #[error("tracking late: newest sample is {behind_ns:.0} ns before the target")]
    Late {
        /// Target minus the newest sample's time (ns).
        behind_ns: f64,
    },
    /// The samples around the target are too far apart to interpolate.
    #[error("tracking gap of {gap_ns:.0} ns around the target")]
    Gap {
        /// Interval between the samples around the target (ns).
        gap_ns: f64,
    },
    /// The target is older than every sample still in the ring.
    #[error("target is {ahead_ns:.0} ns before the oldest retained sample")]
    TooOld {
        /// Oldest sample's time minus the target (ns).
        ahead_ns: f64,
    },
}

/// Counters of a [`TrackingSync`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SyncStats {
    /// Samples accepted into the ring (samples).
    pub pushed: u64,
    /// Samples ignored because they are for another camera id (samples).
    pub other_camera: u64,
    /// Samples dropped because they arrived with an earlier time than the previous one (samples).
    pub out_of_order: u64,
    /// Samples dropped because a value was not finite (samples).
    pub invalid: u64,
    /// Times the timing loop restarted after a long silence (events).
    pub resyncs: u64,
    /// Frames served by one sample (frames).
    pub exact: u64,
    /// Frames served by interpolation (frames).
    pub interpolated: u64,
    /// Frames served by holding the newest sample within the jitter tolerance (frames).
    pub held: u64,
    /// Frames whose sample had not arrived (frames).
    pub late: u64,
    /// Frames with no usable sample: none yet, a gap, or older than the ring (frames).
    pub missing: u64,
    /// Frames served by the sample whose timecode matched the frame's (frames; also counted
    /// in `exact`).
    pub timecode: u64,
}

/// One sample in the ring.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Receive time (ns).
    arrival_ns: i64,
    /// Smoothed time (ns).
    time_ns: f64,
    reading: SensorReading,
}

/// Matches tracking samples to frames (see the module docs).
#[derive(Debug, Clone)]
pub struct TrackingSync {
    config: SyncConfig,
    ring: VecDeque<Entry>,
    /// Period estimate of the timing loop (ns).
    period_ns: f64,
    /// Samples since the timing loop (re)started.
    locked_samples: u64,
    stats: SyncStats,
}

/// Shortest signed angular difference `b - a` (degrees), for angles that may wrap at +-180.
fn angle_delta(a: f64, b: f64) -> f64 {
    let d = b - a;
    if d.abs() <= 180.0 {
        d
    } else {
        (d + 180.0).rem_euclid(360.0) - 180.0
    }
}

fn lerp(a: f64, b: f64, w: f64) -> f64 {
    a + (b - a) * w
}

fn interpolate(a: &SensorReading, b: &SensorReading, w: f64) -> SensorReading {
    SensorReading {
        camera_id: a.camera_id,
        angles: HeadAngles {
            pan_deg: a.angles.pan_deg + angle_delta(a.angles.pan_deg, b.angles.pan_deg) * w,
            tilt_deg: lerp(a.angles.tilt_deg, b.angles.tilt_deg, w),
            roll_deg: a.angles.roll_deg + angle_delta(a.angles.roll_deg, b.angles.roll_deg) * w,
        },
        position_mm: [
            lerp(a.position_mm[0], b.position_mm[0], w),
            lerp(a.position_mm[1], b.position_mm[1], w),
            lerp(a.position_mm[2], b.position_mm[2], w),
        ],
        zoom: lerp(a.zoom, b.zoom, w),
        focus: lerp(a.focus, b.focus, w),
        lens: match (a.lens, b.lens) {
            (Some(la), Some(lb)) => Some(SampleLens {
                focal_length_mm: lerp(la.focal_length_mm, lb.focal_length_mm, w),
                k1: lerp(la.k1, lb.k1, w),
                k2: lerp(la.k2, lb.k2, w),
                nodal_shift_m: lerp(la.nodal_shift_m, lb.nodal_shift_m, w),
                projection_offset_mm: [
                    lerp(la.projection_offset_mm[0], lb.projection_offset_mm[0], w),
                    lerp(la.projection_offset_mm[1], lb.projection_offset_mm[1], w),
                ],
                sensor_width_mm: la.sensor_width_mm.or(lb.sensor_width_mm),
                // A model is not interpolated term by term: the nearer sample's.
                full_distortion: if w < 0.5 {
                    la.full_distortion
                } else {
                    lb.full_distortion
                },
            }),
            (la, lb) => {
                if w < 0.5 {
                    la.or(lb)
                } else {
                    lb.or(la)
                }
            }
        },
        // A label is not interpolated: the nearer sample's.
        timecode: if w < 0.5 { a.timecode } else { b.timecode },
    }
}

impl TrackingSync {
    /// A sync with the given settings; invalid settings are replaced by the 59.94 defaults
    /// (keeping the camera id and the delay, clamped to >= 0) and logged, so a bad
    /// configuration cannot stop the stream.
    pub fn new(config: SyncConfig) -> Self {
        let config = if config.is_valid() {
            config
        } else {
            tracing::warn!("invalid tracking sync configuration {config:?}; using defaults");
            let mut c =
                SyncConfig::for_frame_period(FRAME_PERIOD_5994_NS, config.tracking_delay_ns.max(0));
            c.camera_id = config.camera_id;
            c
        };
        Self {
            ring: VecDeque::with_capacity(config.capacity),
            period_ns: config.packet_period_ns,
            locked_samples: 0,
            stats: SyncStats::default(),
            config,
        }
    }

    /// The settings in use.
    pub fn config(&self) -> &SyncConfig {
        &self.config
    }

    /// Changes the tracking delay (ns, negative values clamp to 0); samples are kept.
    pub fn set_tracking_delay_ns(&mut self, delay_ns: i64) {
        self.config.tracking_delay_ns = delay_ns.max(0);
    }

    /// Counters so far.
    pub fn stats(&self) -> SyncStats {
        self.stats
    }

    /// Samples in the ring.
    pub fn len(&self) -> usize {
        self.ring.len()
    }

    /// True when the ring is empty.
    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// The timing loop's current packet period estimate (ns).
    pub fn period_estimate_ns(&self) -> f64 {
        self.period_ns
    }

    /// Forgets every sample (e.g. after a source change); counters are kept.
    pub fn clear(&mut self) {
        self.ring.clear();
        self.period_ns = self.config.packet_period_ns;
        self.locked_samples = 0;
    }

    /// Adds a sample (see [`TrackingSample`]).
    pub fn push_sample(&mut self, sample: &TrackingSample) {
        self.push_reading(sample.pts_ns, sample.packet.reading());
    }

    /// Adds a packet received at `pts_ns` (receive time on the video clock, ns).
    pub fn push(&mut self, pts_ns: i64, packet: &FreedPacket) {
        self.push_reading(pts_ns, SensorReading::from(packet));
    }

    /// Adds an already-decoded reading received at `pts_ns` (ns). Non-finite readings are
    /// dropped and counted.
    pub fn push_reading(&mut self, pts_ns: i64, reading: SensorReading) {
        if self
            .config
            .camera_id
            .is_some_and(|id| id != reading.camera_id)
        {
            self.stats.other_camera += 1;
            return;
        }
        if !reading.is_finite() {
            self.stats.invalid += 1;
            return;
        }
        let time_ns = match self.ring.back() {
            Some(last) if pts_ns <= last.arrival_ns => {
                self.stats.out_of_order += 1;
                return;
            }
            Some(last) => self.smooth(last.time_ns, pts_ns),
            None => {
                self.locked_samples = 1;
                pts_ns as f64
            }
        };
        if self.ring.len() >= self.config.capacity {
            self.ring.pop_front();
        }
        self.ring.push_back(Entry {
            arrival_ns: pts_ns,
            time_ns,
            reading,
        });
        self.stats.pushed += 1;
    }

    /// One step of the timing loop: the smoothed time of a sample arriving at `arrival_ns`
    /// after a sample whose smoothed time is `prev_ns`.
    fn smooth(&mut self, prev_ns: f64, arrival_ns: i64) -> f64 {
        let arrival = arrival_ns as f64;
        let dt = arrival - prev_ns;
        if dt > self.config.max_gap_ns || dt <= 0.0 {
            // A long silence (or a smoothed time that ran ahead): restart on this arrival.
            self.stats.resyncs += 1;
            self.locked_samples = 1;
            return arrival;
        }
        let periods = (dt / self.period_ns).round().max(1.0);
        let predicted = prev_ns + periods * self.period_ns;
        let err = arrival - predicted;
        self.locked_samples += 1;
        // Start-up: average the first arrivals' phase, then settle to a fixed gain.
        let phase_gain = (1.0 / self.locked_samples as f64).max(PHASE_GAIN_MIN);
        let period_gain = (0.25 * phase_gain * phase_gain).min(PERIOD_GAIN_MAX);
        let nominal = self.config.packet_period_ns;
        self.period_ns = (self.period_ns + period_gain * err / periods)
            .clamp(nominal / PERIOD_CLAMP, nominal * PERIOD_CLAMP);
        // Never move backwards past the previous sample.
        (predicted + phase_gain * err).max(prev_ns + 1.0)
    }

    /// The head state for the frame with pts `frame_pts_ns` (ns), at
    /// `frame_pts_ns + tracking_delay_ns` on the receive clock.
    pub fn state_at(&mut self, frame_pts_ns: i64) -> Result<SyncedState, SyncMiss> {
        let target_ns = frame_pts_ns.saturating_add(self.config.tracking_delay_ns);
        let r = self.lookup(target_ns);
        match &r {
            Ok(s) => match s.kind {
                SyncKind::Exact => self.stats.exact += 1,
                SyncKind::Interpolated => self.stats.interpolated += 1,
                SyncKind::Held => self.stats.held += 1,
            },
            Err(SyncMiss::Late { .. }) => self.stats.late += 1,
            Err(_) => self.stats.missing += 1,
        }
        r
    }

    /// The head state for the frame with pts `frame_pts_ns` (ns) labelled `frame_tc`: the
    /// sample labelled `frame_tc + delay_frames` (the tracking delay in frames), the newest
    /// such in the ring. `None` when no sample carries that label (the caller then matches by
    /// arrival time).
    pub fn state_for_timecode(
        &mut self,
        frame_pts_ns: i64,
        frame_tc: &Timecode,
        delay_frames: i64,
    ) -> Option<SyncedState> {
        let want = frame_tc.add_frames(delay_frames);
        let target_ns = frame_pts_ns.saturating_add(self.config.tracking_delay_ns);
        let e = self.ring.iter().rev().find(|e| {
            e.reading.timecode.is_some_and(|t| {
                t.frame_number() == want.frame_number()
                    && t.nominal_fps() == want.nominal_fps()
                    && t.drop_frame == want.drop_frame
            })
        })?;
        self.stats.exact += 1;
        self.stats.timecode += 1;
        Some(SyncedState {
            reading: e.reading,
            target_ns,
            kind: SyncKind::Exact,
            offset_ns: (e.time_ns - target_ns as f64).abs(),
        })
    }

    fn lookup(&self, target_ns: i64) -> Result<SyncedState, SyncMiss> {
        let target = target_ns as f64;
        let cfg = &self.config;
        let idx = self.ring.partition_point(|e| e.time_ns <= target);
        let before = idx.checked_sub(1).and_then(|i| self.ring.get(i));
        let after = self.ring.get(idx);
        let state = |e: &Entry, kind| SyncedState {
            reading: e.reading,
            target_ns,
            kind,
            offset_ns: (e.time_ns - target).abs(),
        };
        let nearest = match (before, after) {
            (Some(b), Some(a)) => {
                if target - b.time_ns <= a.time_ns - target {
                    b
                } else {
                    a
                }
            }
            (Some(e), None) | (None, Some(e)) => e,
            (None, None) => return Err(SyncMiss::NoSamples),
        };
        if (nearest.time_ns - target).abs() <= cfg.snap_ns {
            return Ok(state(nearest, SyncKind::Exact));
        }
        match (before, after) {
            (Some(b), Some(a)) => {
                let gap_ns = a.time_ns - b.time_ns;
                if gap_ns > cfg.max_gap_ns {
                    return Err(SyncMiss::Gap { gap_ns });
                }
                let w = ((target - b.time_ns) / gap_ns).clamp(0.0, 1.0);
                Ok(SyncedState {
                    reading: interpolate(&b.reading, &a.reading, w),
                    target_ns,
                    kind: SyncKind::Interpolated,
                    offset_ns: (target - b.time_ns).min(a.time_ns - target),
                })
            }
            (Some(b), None) => {
                let behind_ns = target - b.time_ns;
                if behind_ns <= cfg.jitter_tolerance_ns {
                    Ok(state(b, SyncKind::Held))
                } else {
                    Err(SyncMiss::Late { behind_ns })
                }
            }
            (None, Some(a)) => {
                let ahead_ns = a.time_ns - target;
                if ahead_ns <= cfg.jitter_tolerance_ns {
                    Ok(state(a, SyncKind::Held))
                } else {
                    Err(SyncMiss::TooOld { ahead_ns })
                }
            }
            (None, None) => Err(SyncMiss::NoSamples),
        }
    }
}
