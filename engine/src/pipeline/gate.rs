//! The sensor gate: a plausibility check on head angles that refuses readings jumping faster
//! than a head can slew until several consecutive readings agree on the new position (a cut).

/// Fastest plausible head slew (degrees per second) on any axis; a faster change between
/// consecutive readings is a glitch or a cut.
pub const MAX_SLEW_DEG_PER_S: f64 = 360.0;

/// Consecutive mutually consistent readings after a jump that make it a new position (a cut,
/// or a re-homed encoder) rather than a glitch.
pub const JUMP_CONFIRM_READINGS: u32 = 3;

/// Plausibility gate on head angles: refuses readings that jump faster than a head can slew
/// until several consecutive readings agree on the new position.
#[derive(Debug, Clone, Default)]
pub(super) struct SlewGate {
    /// Last accepted reading: (pts ns, pan, tilt, roll).
    last: Option<(i64, [f64; 3])>,
    /// A jumped-to position waiting for confirmation, and how many readings agree on it.
    candidate: Option<((i64, [f64; 3]), u32)>,
}

/// What the gate made of a reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Gate {
    Accept,
    /// Accepted as a new position after a confirmed jump: filters must restart.
    AcceptAfterJump,
    Reject,
}

impl SlewGate {
    fn plausible(from: (i64, [f64; 3]), to: (i64, [f64; 3]), period_ns: i64) -> bool {
        let dt_s = ((to.0 - from.0).abs().max(period_ns)) as f64 / 1e9;
        let max_step = MAX_SLEW_DEG_PER_S * dt_s;
        (0..3).all(|i| (to.1[i] - from.1[i]).abs() <= max_step)
    }

    pub(super) fn check(&mut self, pts_ns: i64, angles: [f64; 3], period_ns: i64) -> Gate {
        let now = (pts_ns, angles);
        let Some(last) = self.last else {
            self.last = Some(now);
            return Gate::Accept;
        };
        if Self::plausible(last, now, period_ns) {
            self.last = Some(now);
            self.candidate = None;
            return Gate::Accept;
        }
        let agree = match self.candidate {
            Some((c, n)) if Self::plausible(c, now, period_ns) => n + 1,
            _ => 1,
        };
        if agree >= JUMP_CONFIRM_READINGS {
            self.last = Some(now);
            self.candidate = None;
            Gate::AcceptAfterJump
        } else {
            self.candidate = Some((now, agree));
            Gate::Reject
        }
    }
}
