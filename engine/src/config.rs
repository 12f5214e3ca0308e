//! What an operator sets: [`EngineConfig`] (the lines, the compositor, the pose mode, the
//! tracking delay), its defaults and its validation, and [`EngineError`] for setting up an
//! engine.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::field::FieldKind;
use crate::graphics::DEFAULT_LINE_WIDTH_M;
use crate::pose::PoseMode;

/// Frame period of 59.94 Hz video (ns).
pub const FRAME_PERIOD_5994_NS: i64 = 16_683_333;
/// Default first-down line colour (sRGB).
pub const DEFAULT_FIRST_DOWN_RGB: [u8; 3] = [255, 215, 0];
/// Default line-of-scrimmage colour (sRGB).
pub const DEFAULT_SCRIMMAGE_RGB: [u8; 3] = [30, 100, 255];
/// Default fade time for showing/hiding a line (ms).
pub const DEFAULT_FADE_MS: f64 = 250.0;

/// Which compositor runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// A hardware GPU when one exists, else the CPU.
    #[default]
    Auto,
    /// The CPU compositor (rayon).
    Cpu,
    /// A wgpu device, software adapters included.
    Gpu,
}

impl FromStr for BackendChoice {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "gpu" => Ok(Self::Gpu),
            other => Err(EngineError::Config(format!(
                "unknown backend {other:?} (expected auto, cpu or gpu)"
            ))),
        }
    }
}

/// One football line (first down or scrimmage).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct YardLine {
    /// Shown (fades in/out over `fade_ms`).
    pub enabled: bool,
    /// Yard position, 0..=100 from the left goal line (end zones -10..=110).
    pub yard: f64,
    /// Painted width (metres).
    pub width_m: f64,
    /// Colour (sRGB 8-bit).
    pub rgb: [u8; 3],
    /// Opacity 0..=1.
    pub opacity: f32,
    /// Fade time when shown or hidden (ms).
    pub fade_ms: f64,
}

/// Any other field-space line (a red-zone line, a soccer offside line).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtraLine {
    /// Operator's name.
    pub name: String,
    /// Shown.
    pub enabled: bool,
    /// Centreline start (field x, y metres).
    pub a: [f64; 2],
    /// Centreline end (field x, y metres).
    pub b: [f64; 2],
    /// Painted width (metres).
    pub width_m: f64,
    /// Colour (sRGB 8-bit).
    pub rgb: [u8; 3],
    /// Opacity 0..=1.
    pub opacity: f32,
}

/// Everything an operator can change while running.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineConfig {
    /// Field rulebook.
    pub field: FieldKind,
    /// First-down line.
    pub first_down: YardLine,
    /// Line of scrimmage.
    pub scrimmage: YardLine,
    /// Extra lines.
    pub extra: Vec<ExtraLine>,
    /// Compositor backend.
    pub backend: BackendChoice,
    /// Pose mode.
    pub pose_mode: PoseMode,
    /// Frames the last good pose is held (frames).
    pub hold_frames: u32,
    /// FreeD camera id to follow; `None` = the venue's first camera.
    pub camera_id: Option<u8>,
    /// Tracking delay override (ns); `None` = the venue's.
    pub tracking_delay_ns: Option<i64>,
    /// Frame period of the video (ns).
    pub frame_period_ns: i64,
    /// Build an automatic key palette from the first frame with a pose when no key is loaded,
    /// and while that key stays automatic, learn a new view every
    /// [`AUTO_KEY_RELEARN_FRAMES`] frames ([`crate::key::AutoKeyLearner`]).
    pub auto_key: bool,
    /// Learn a field-space clean plate under each drawn line and key with it beside the colour
    /// key ([`crate::key::CleanPlate`]); off (the default until it meets its accuracy goals
    /// on every scenario): the colour key alone.
    pub clean_plate: bool,
}

/// Frames drawn between two views the automatic key learns (about 2 s at 30 frames a second;
/// in the background, plus the time the rebuild takes).
pub const AUTO_KEY_RELEARN_FRAMES: u32 = 60;

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            field: FieldKind::Nfl,
            first_down: YardLine {
                enabled: true,
                yard: 35.0,
                width_m: DEFAULT_LINE_WIDTH_M,
                rgb: DEFAULT_FIRST_DOWN_RGB,
                opacity: 1.0,
                fade_ms: DEFAULT_FADE_MS,
            },
            scrimmage: YardLine {
                enabled: false,
                yard: 25.0,
                width_m: DEFAULT_LINE_WIDTH_M,
                rgb: DEFAULT_SCRIMMAGE_RGB,
                opacity: 1.0,
                fade_ms: DEFAULT_FADE_MS,
            },
            extra: Vec::new(),
            backend: BackendChoice::Auto,
            pose_mode: PoseMode::Auto,
            hold_frames: crate::pose::DEFAULT_HOLD_FRAMES,
            camera_id: None,
            tracking_delay_ns: None,
            frame_period_ns: FRAME_PERIOD_5994_NS,
            auto_key: true,
            clean_plate: false,
        }
    }
}

impl EngineConfig {
    /// Places the first-down line at `first_down_yard` and the line of scrimmage at
    /// `scrimmage_yard` (yards from the left goal line), both `width_m` wide: the lines a
    /// recorded scene fixes.
    pub fn set_lines(&mut self, first_down_yard: f64, scrimmage_yard: f64, width_m: f64) {
        self.first_down.yard = first_down_yard;
        self.first_down.width_m = width_m;
        self.scrimmage.yard = scrimmage_yard;
        self.scrimmage.width_m = width_m;
    }

    /// Checks ranges; the error names the setting.
    pub fn validate(&self) -> Result<(), EngineError> {
        let bad = |what: &str, why: String| Err(EngineError::Config(format!("{what}: {why}")));
        for (name, l) in [
            ("first-down", &self.first_down),
            ("scrimmage", &self.scrimmage),
        ] {
            if !(l.yard.is_finite() && (-10.0..=110.0).contains(&l.yard)) {
                return bad(name, format!("yard {} outside -10..=110", l.yard));
            }
            if !(l.width_m.is_finite() && l.width_m > 0.0 && l.width_m < 5.0) {
                return bad(name, format!("width {} m must be in (0, 5)", l.width_m));
            }
            if !(l.opacity.is_finite() && (0.0..=1.0).contains(&l.opacity)) {
                return bad(name, format!("opacity {} outside 0..=1", l.opacity));
            }
            if !(l.fade_ms.is_finite() && l.fade_ms >= 0.0) {
                return bad(name, format!("fade {} ms must be >= 0", l.fade_ms));
            }
        }
        for l in &self.extra {
            let finite = l.a.iter().chain(&l.b).all(|v| v.is_finite());
            if !finite || !l.width_m.is_finite() || l.width_m <= 0.0 {
                return bad(&l.name, "non-finite end or non-positive width".into());
            }
        }
        if self.frame_period_ns <= 0 {
            return bad("frame period", format!("{} ns", self.frame_period_ns));
        }
        Ok(())
    }
}

/// Errors setting up the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A setting out of range.
    #[error("invalid setting: {0}")]
    Config(String),
    /// The requested compositor cannot run.
    #[error("compositor: {0}")]
    Render(#[from] crate::render::RenderError),
    /// The venue lacks the requested camera.
    #[error("venue has no camera {0}")]
    NoCamera(u8),
}
