//! What the element tells the application: the per-frame `yardline-frame` element message,
//! and the `yardline-stats` structure the `stats` property serialises, with the element's own
//! counters and times behind it.

use std::collections::VecDeque;

use yardline_engine::report::Percentiles;
use yardline_engine::tracking::TrackingFeed;
use yardline_engine::{Engine, FrameReport};

/// Name of the per-frame element message.
pub const FRAME_MESSAGE: &str = "yardline-frame";
/// Name of the structure the `stats` property serialises.
pub const STATS_STRUCTURE: &str = "yardline-stats";
/// Frames the time percentiles cover (the most recent ones).
pub const TIMING_WINDOW: usize = 1024;

/// What one frame produced, for the bus.
#[derive(Debug)]
pub struct FrameOutcome {
    /// The engine's report; `None` when the engine did not run on the frame.
    pub report: Option<FrameReport>,
    /// The frame was passed through untouched (budget skip or caught panic).
    pub skipped: bool,
    /// Time the element spent on the frame (ms).
    pub element_ms: f64,
}

impl FrameOutcome {
    /// A frame passed through without the engine.
    pub fn skipped(element_ms: f64) -> Self {
        Self {
            report: None,
            skipped: true,
            element_ms,
        }
    }

    /// The `yardline-frame` message body for the buffer at `pts`.
    pub fn structure(&self, pts: Option<gst::ClockTime>) -> gst::Structure {
        let mut b = gst::Structure::builder(FRAME_MESSAGE)
            .field("skipped", self.skipped)
            .field("element-ms", self.element_ms);
        if let Some(pts) = pts {
            b = b.field("pts", pts);
        }
        if let Some(r) = &self.report {
            b = b
                .field("frame", r.frame)
                .field("source", r.source.as_str())
                .field("residual-px", r.residual_px.unwrap_or(-1.0))
                .field("inliers", r.inliers as u64)
                .field("confidence", r.confidence)
                .field("state", r.state.as_str())
                .field("drawn", r.drawn)
                .field("backend", r.backend)
                .field("sync-ms", r.timings.sync)
                .field("pose-ms", r.timings.pose)
                .field("graphics-ms", r.timings.graphics)
                .field("composite-ms", r.timings.composite)
                .field("engine-ms", r.timings.total);
            if let Some(why) = r.reason {
                b = b.field("reason", why.as_str());
            }
            if let Some(f) = &r.fault {
                b = b.field("fault", f.to_string());
            }
            if let Some(m) = r.tracking_match {
                b = b.field("tracking-match", m.as_str());
            }
        } else {
            b = b.field("source", "none").field("drawn", false);
        }
        b.build()
    }
}

/// The element's own counters (the engine keeps its own too).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ElementCounters {
    /// Buffers seen.
    pub frames: u64,
    /// Frames passed through untouched because the previous one overran the budget.
    pub budget_skips: u64,
    /// Frames whose processing took longer than the frame budget.
    pub over_budget: u64,
    /// Panics caught in the element around the engine.
    pub panics: u64,
    /// Frames whose memory layout the engine could not describe.
    pub layout_errors: u64,
    /// Frames that waited for a late tracking packet until the wait limit.
    pub tracking_waits_expired: u64,
}

/// Element processing times (ms) of the last [`TIMING_WINDOW`] frames.
#[derive(Debug, Clone, Default)]
pub struct TimingRing {
    times_ms: VecDeque<f64>,
}

impl TimingRing {
    /// Records one frame's time (ms).
    pub fn push(&mut self, ms: f64) {
        if self.times_ms.len() == TIMING_WINDOW {
            self.times_ms.pop_front();
        }
        self.times_ms.push_back(ms);
    }

    /// Percentiles of the window (ms); zeros when empty.
    pub fn percentiles(&self) -> Percentiles {
        let mut v: Vec<f64> = self.times_ms.iter().copied().collect();
        Percentiles::of(&mut v)
    }
}

/// The `stats` value while stopped.
pub fn stopped_stats() -> gst::Structure {
    gst::Structure::builder(STATS_STRUCTURE)
        .field("running", false)
        .build()
}

/// The `stats` value while running: the element's counters and times, the engine's counters,
/// and those of the tracking feed.
pub fn running_stats(
    engine: &Engine,
    feed: &TrackingFeed,
    counters: ElementCounters,
    timings: &TimingRing,
    frame_period_ns: i64,
) -> gst::Structure {
    let e = engine.stats();
    let c = counters;
    let p = timings.percentiles();
    let mut b = gst::Structure::builder(STATS_STRUCTURE)
        .field("running", true)
        .field("frames", c.frames)
        .field("drawn", e.drawn)
        .field("faults", e.faults)
        .field("panics", e.panics + c.panics)
        .field("sensor-misses", e.sensor_misses)
        .field("gpu-fallbacks", e.gpu_fallbacks)
        .field("budget-skips", c.budget_skips)
        .field("over-budget", c.over_budget)
        .field("layout-errors", c.layout_errors)
        .field("backend", engine.backend())
        .field("frame-period-ns", frame_period_ns)
        .field("tracking-delay-ns", engine.tracking_delay_ns())
        .field("tracking", feed.kind())
        .field("tracking-waits-expired", c.tracking_waits_expired)
        .field("element-ms-p50", p.p50)
        .field("element-ms-p99", p.p99)
        .field("element-ms-max", p.max);
    if let Some(sync) = engine.sync_stats() {
        b = b
            .field("sync-pushed", sync.pushed)
            .field("sync-late", sync.late)
            .field("sync-missing", sync.missing)
            .field("sync-timecode", sync.timecode);
    }
    if let Some(u) = feed.udp_stats() {
        b = b
            .field("udp-packets", u.packets)
            .field("udp-accepted", u.accepted)
            .field("udp-checksum-failures", u.checksum_failures)
            .field("udp-malformed", u.malformed)
            .field("udp-invalid-samples", u.invalid_samples)
            .field("udp-incomplete-payloads", u.incomplete_payloads)
            .field("udp-duplicates", u.duplicates)
            .field("udp-oversize", u.oversize)
            .field("udp-queue-drops", u.queue_drops)
            .field("udp-packets-per-second", u.packets_per_second);
        if let Some(addr) = feed.local_addr() {
            b = b.field("udp-port", u32::from(addr.port()));
        }
    }
    if let Some((_, st)) = feed.file_stats() {
        b = b
            .field("file-samples", st.samples)
            .field("file-garbage-lines", st.garbage_lines)
            .field("file-checksum-failures", st.checksum_failures);
    }
    b.build()
}

#[cfg(test)]
#[allow(clippy::float_cmp, reason = "exact values are the assertion")]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_window() {
        let mut r = TimingRing::default();
        assert_eq!(r.percentiles(), Percentiles::default());
        for i in 1..=100 {
            r.push(f64::from(i));
        }
        let p = r.percentiles();
        assert_eq!(p.max, 100.0);
        assert_eq!(p.p50, 51.0);
        assert_eq!(p.p99, 99.0);
        for _ in 0..TIMING_WINDOW {
            r.push(1.0);
        }
        assert_eq!(r.percentiles().max, 1.0);
    }

    #[test]
    fn a_frame_without_a_report_says_none_and_not_drawn() {
        gst::init().unwrap();
        let s = FrameOutcome::skipped(1.5).structure(Some(gst::ClockTime::from_mseconds(40)));
        assert_eq!(s.name(), FRAME_MESSAGE);
        assert!(s.get::<bool>("skipped").unwrap());
        assert_eq!(s.get::<&str>("source").unwrap(), "none");
        assert!(!s.get::<bool>("drawn").unwrap());
        assert_eq!(
            s.get::<gst::ClockTime>("pts").unwrap(),
            gst::ClockTime::from_mseconds(40)
        );
    }
}
