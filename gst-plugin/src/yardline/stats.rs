//! Per-frame element times and counters behind the `stats` property.

use std::collections::VecDeque;

/// Frames the time percentiles cover (the most recent ones).
pub const TIMING_WINDOW: usize = 1024;

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

/// p50 / p99 / max (ms).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Percentiles {
    /// Median (ms).
    pub p50: f64,
    /// 99th percentile (ms).
    pub p99: f64,
    /// Maximum (ms).
    pub max: f64,
}

impl TimingRing {
    /// Records one frame's time (ms).
    pub fn push(&mut self, ms: f64) {
        if self.times_ms.len() == TIMING_WINDOW {
            self.times_ms.pop_front();
        }
        self.times_ms.push_back(ms);
    }

    /// Percentiles of the window (nearest rank); zeros when empty.
    pub fn percentiles(&self) -> Percentiles {
        if self.times_ms.is_empty() {
            return Percentiles::default();
        }
        let mut v: Vec<f64> = self.times_ms.iter().copied().collect();
        v.sort_by(f64::total_cmp);
        let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        Percentiles {
            p50: at(0.5),
            p99: at(0.99),
            max: v[v.len() - 1],
        }
    }
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
}
