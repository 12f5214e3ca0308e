//! SMPTE timecode: hours, minutes, seconds and frames at a rational rate, counted as frames
//! since midnight so that video and tracking can be matched by label.
//!
//! The nominal rate is the rate rounded up (`30000/1001` counts 30 frames a second).
//! Drop-frame timecode (29.97 and 59.94 only) skips frame labels 0 and 1 (0..=3 at 59.94) at
//! the start of every minute except every tenth.

use serde::{Deserialize, Serialize};

/// Why a timecode is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimecodeError {
    /// The rate is zero, absurd, or drop-frame at a rate that has none.
    #[error("timecode rate {num}/{denom} is not usable{}", if *.drop_frame { " with drop frame" } else { "" })]
    Rate {
        /// Numerator (frames).
        num: u32,
        /// Denominator (seconds).
        denom: u32,
        /// Drop-frame was asked for.
        drop_frame: bool,
    },
    /// Not `HH:MM:SS:FF` or `HH:MM:SS;FF`.
    #[error("timecode {0:?} is not HH:MM:SS:FF (HH:MM:SS;FF for drop frame)")]
    Syntax(String),
    /// A field is out of range for the rate.
    #[error("timecode {0:02}:{1:02}:{2:02}:{3:02} is out of range for its rate")]
    Range(u8, u8, u8, u8),
}

/// Highest nominal rate accepted (frames per second).
const MAX_NOMINAL_FPS: u32 = 120;

/// A valid SMPTE timecode label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timecode {
    /// Hours (0..=23).
    pub hours: u8,
    /// Minutes (0..=59).
    pub minutes: u8,
    /// Seconds (0..=59).
    pub seconds: u8,
    /// Frames (0..nominal rate).
    pub frames: u8,
    /// Rate numerator (frames).
    pub rate_num: u32,
    /// Rate denominator (seconds).
    pub rate_denom: u32,
    /// Drop-frame counting.
    pub drop_frame: bool,
}

impl Timecode {
    /// Checks and builds a timecode from `[hours, minutes, seconds, frames]` at `num/denom`
    /// frames per second.
    pub fn new(
        hmsf: [u8; 4],
        (num, denom): (u32, u32),
        drop_frame: bool,
    ) -> Result<Self, TimecodeError> {
        let rate_err = TimecodeError::Rate {
            num,
            denom,
            drop_frame,
        };
        if num == 0 || denom == 0 {
            return Err(rate_err);
        }
        let nominal = num.div_ceil(denom);
        if nominal > MAX_NOMINAL_FPS || (drop_frame && !(nominal == 30 || nominal == 60)) {
            return Err(rate_err);
        }
        let [h, m, s, f] = hmsf;
        let tc = Self {
            hours: h,
            minutes: m,
            seconds: s,
            frames: f,
            rate_num: num,
            rate_denom: denom,
            drop_frame,
        };
        let dropped = drop_frame && s == 0 && m % 10 != 0 && u32::from(f) < tc.drop_per_minute();
        if h > 23 || m > 59 || s > 59 || u32::from(f) >= nominal || dropped {
            return Err(TimecodeError::Range(h, m, s, f));
        }
        Ok(tc)
    }

    /// Reads `HH:MM:SS:FF` (`HH:MM:SS;FF` for drop frame) at `num/denom` frames per second.
    pub fn parse(text: &str, rate: (u32, u32)) -> Result<Self, TimecodeError> {
        let bad = || TimecodeError::Syntax(text.to_owned());
        let drop_frame = text.contains(';');
        let fields: Vec<u8> = text
            .split([':', ';'])
            .map(|f| f.parse::<u8>().map_err(|_| bad()))
            .collect::<Result<_, _>>()?;
        let hmsf: [u8; 4] = fields.try_into().map_err(|_| bad())?;
        Self::new(hmsf, rate, drop_frame)
    }

    /// Frames per second counted (the rate rounded up).
    pub fn nominal_fps(&self) -> u32 {
        self.rate_num.div_ceil(self.rate_denom)
    }

    fn drop_per_minute(&self) -> u32 {
        if self.drop_frame {
            self.nominal_fps() / 15
        } else {
            0
        }
    }

    /// Frames since 00:00:00:00 (frames).
    pub fn frame_number(&self) -> u64 {
        let fps = u64::from(self.nominal_fps());
        let total_minutes = 60 * u64::from(self.hours) + u64::from(self.minutes);
        let plain =
            (3600 * u64::from(self.hours) + 60 * u64::from(self.minutes) + u64::from(self.seconds))
                * fps
                + u64::from(self.frames);
        plain - u64::from(self.drop_per_minute()) * (total_minutes - total_minutes / 10)
    }

    /// Frames in one day at this timecode's rate and counting (frames).
    pub fn frames_per_day(&self) -> u64 {
        let fps = u64::from(self.nominal_fps());
        24 * 3600 * fps - u64::from(self.drop_per_minute()) * (24 * 60 - 24 * 6)
    }

    /// Frames from `self` to `later`, wrapping at midnight (frames, 0..frames_per_day).
    pub fn frames_until(&self, later: &Self) -> u64 {
        let day = self.frames_per_day();
        (later.frame_number() + day - self.frame_number() % day) % day
    }

    /// The label `frames` frames after this one (wrapping at midnight), same rate and counting.
    #[must_use]
    pub fn add_frames(&self, frames: i64) -> Self {
        let day = self.frames_per_day();
        let n = i128::from(self.frame_number()) + i128::from(frames);
        let n = u64::try_from(n.rem_euclid(i128::from(day))).unwrap_or(0);
        self.with_frame_number(n)
    }

    /// The label of frame `n` since midnight (`n < frames_per_day`), same rate and counting.
    #[must_use]
    pub fn with_frame_number(&self, n: u64) -> Self {
        let fps = u64::from(self.nominal_fps());
        let drop = u64::from(self.drop_per_minute());
        let mut n = n % self.frames_per_day();
        if drop > 0 {
            // Add back the dropped labels: per ten minutes 9 * drop of them.
            let per_ten = 600 * fps - 9 * drop;
            let per_min = 60 * fps - drop;
            let tens = n / per_ten;
            let rem = n % per_ten;
            n += 9 * drop * tens;
            if rem >= drop {
                n += drop * ((rem - drop) / per_min);
            }
        }
        let frames = n % fps;
        let secs = n / fps;
        #[allow(
            clippy::cast_possible_truncation,
            reason = "each field is reduced below its range first"
        )]
        Self {
            hours: (secs / 3600 % 24) as u8,
            minutes: (secs / 60 % 60) as u8,
            seconds: (secs % 60) as u8,
            frames: frames as u8,
            ..*self
        }
    }

    /// The label of a frame at `pts_ns` of a stream at this rate starting at `self`: frame
    /// `round(pts_ns * num / (denom * 1e9))` after it.
    #[must_use]
    pub fn at_pts(&self, pts_ns: i64) -> Self {
        let frames = (i128::from(pts_ns) * i128::from(self.rate_num)
            + i128::from(self.rate_denom) * 500_000_000)
            .div_euclid(i128::from(self.rate_denom) * 1_000_000_000);
        self.add_frames(i64::try_from(frames).unwrap_or(0))
    }
}

impl std::fmt::Display for Timecode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sep = if self.drop_frame { ';' } else { ':' };
        write!(
            f,
            "{:02}:{:02}:{:02}{sep}{:02}",
            self.hours, self.minutes, self.seconds, self.frames
        )
    }
}
