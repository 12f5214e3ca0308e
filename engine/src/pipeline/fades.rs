//! Line fades: each football line's visibility moves toward shown (1) or hidden (0) over its
//! fade time, with presentation time.

use crate::config::{EngineConfig, YardLine};

/// The visibility of the first-down line and the line of scrimmage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct LineFades {
    /// First-down line, 0..=1.
    pub(super) first_down: f64,
    /// Line of scrimmage, 0..=1.
    pub(super) scrimmage: f64,
    /// Presentation time of the last frame (ns).
    last_pts: Option<i64>,
}

impl LineFades {
    /// Each line fully shown or hidden as `config` has it.
    pub(super) fn new(config: &EngineConfig) -> Self {
        let full = |l: &YardLine| if l.enabled { 1.0 } else { 0.0 };
        Self {
            first_down: full(&config.first_down),
            scrimmage: full(&config.scrimmage),
            last_pts: None,
        }
    }

    /// Moves each line toward its target by the time since the last frame (one frame period
    /// for the first frame, or when time went backwards).
    pub(super) fn advance(&mut self, config: &EngineConfig, pts_ns: i64) {
        let dt_ms = match self.last_pts {
            Some(p) if pts_ns > p => (pts_ns - p) as f64 / 1e6,
            _ => config.frame_period_ns as f64 / 1e6,
        };
        self.last_pts = Some(pts_ns);
        step(&mut self.first_down, &config.first_down, dt_ms);
        step(&mut self.scrimmage, &config.scrimmage, dt_ms);
    }
}

fn step(f: &mut f64, line: &YardLine, dt_ms: f64) {
    let target = if line.enabled { 1.0 } else { 0.0 };
    let step = if line.fade_ms > 0.0 {
        dt_ms / line.fade_ms
    } else {
        1.0
    };
    *f = if *f < target {
        (*f + step).min(target)
    } else {
        (*f - step).max(target)
    };
}
