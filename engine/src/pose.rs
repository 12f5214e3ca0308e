//! Pose selection: which camera draws this frame, and from what source.
//!
//! Sources: `sensor` (encoders + lens table), `vision` (painted lines alone), `fused` (sensor
//! refined by vision), `hold` (the last good camera, for a bounded number of frames), `none`
//! (nothing usable: the frame stays clean).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use yardline_keying::frame::FrameRef;

use crate::field::FieldModel;
use crate::geometry::Camera;

/// Default number of frames the last good camera is held when tracking fails.
pub const DEFAULT_HOLD_FRAMES: u32 = 10;

/// How the pose is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PoseMode {
    /// Fused when vision fits, sensor when it does not, vision when there are no sensors.
    #[default]
    Auto,
    /// Sensor pose only.
    Sensor,
    /// Vision only.
    Vision,
    /// Sensor refined by vision.
    Fused,
}

impl PoseMode {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Sensor => "sensor",
            Self::Vision => "vision",
            Self::Fused => "fused",
        }
    }
}

impl fmt::Display for PoseMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for an unknown pose mode name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown pose mode {0:?} (expected auto, sensor, vision or fused)")]
pub struct PoseModeError(pub String);

impl FromStr for PoseMode {
    type Err = PoseModeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "sensor" => Ok(Self::Sensor),
            "vision" => Ok(Self::Vision),
            "fused" => Ok(Self::Fused),
            other => Err(PoseModeError(other.to_string())),
        }
    }
}

/// Where this frame's camera came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PoseSource {
    /// Encoders and lens table.
    Sensor,
    /// Painted lines alone.
    Vision,
    /// Sensor refined by vision.
    Fused,
    /// The last good camera, held.
    Hold,
    /// Nothing usable.
    None,
}

impl PoseSource {
    /// Lower-case name (as in report.jsonl).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sensor => "sensor",
            Self::Vision => "vision",
            Self::Fused => "fused",
            Self::Hold => "hold",
            Self::None => "none",
        }
    }
}

/// Pose selection settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoseConfig {
    /// Frames the last good camera is held when no source is usable (frames).
    pub hold_frames: u32,
}

impl Default for PoseConfig {
    fn default() -> Self {
        Self {
            hold_frames: DEFAULT_HOLD_FRAMES,
        }
    }
}

/// The camera chosen for one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoseEstimate {
    /// Camera to draw with; `None` leaves the frame clean.
    pub camera: Option<Camera>,
    /// Where it came from.
    pub source: PoseSource,
    /// RMS of the painted-line measurements against the chosen camera (pixels), when measured.
    pub residual_px: Option<f64>,
    /// Line measurements that agreed with the chosen camera.
    pub inliers: usize,
    /// Frames of hold left (frames).
    pub hold_remaining: u32,
}

/// Chooses the camera for each frame.
#[derive(Debug, Clone)]
pub struct PoseEstimator {
    field: FieldModel,
    mode: PoseMode,
    config: PoseConfig,
    reference: Option<Camera>,
    last_good: Option<Camera>,
    hold_remaining: u32,
}

impl PoseEstimator {
    /// A new estimator for a field.
    pub fn new(field: FieldModel, mode: PoseMode, config: PoseConfig) -> Self {
        Self {
            field,
            mode,
            config,
            reference: None,
            last_good: None,
            hold_remaining: 0,
        }
    }

    /// The field model measured against.
    pub fn field(&self) -> &FieldModel {
        &self.field
    }

    /// Current mode.
    pub fn mode(&self) -> PoseMode {
        self.mode
    }

    /// Changes the mode.
    pub fn set_mode(&mut self, mode: PoseMode) {
        self.mode = mode;
    }

    /// Changes the hold length (frames).
    pub fn set_hold_frames(&mut self, frames: u32) {
        self.config.hold_frames = frames;
    }

    /// A known-good camera (operator registration, or the last pose before a restart).
    pub fn set_reference(&mut self, camera: Camera) {
        self.reference = Some(camera);
    }

    /// Forgets temporal state (a cut).
    pub fn reset(&mut self) {
        self.last_good = None;
        self.hold_remaining = 0;
    }

    /// The camera for this frame from the sensor camera (when tracking gave one).
    pub fn estimate(&mut self, _frame: FrameRef<'_>, sensor: Option<&Camera>) -> PoseEstimate {
        let chosen = match self.mode {
            PoseMode::Vision => None,
            _ => sensor.copied().map(|c| (c, PoseSource::Sensor)),
        };
        if let Some((camera, source)) = chosen {
            self.last_good = Some(camera);
            self.hold_remaining = self.config.hold_frames;
            return PoseEstimate {
                camera: Some(camera),
                source,
                residual_px: None,
                inliers: 0,
                hold_remaining: self.hold_remaining,
            };
        }
        self.hold()
    }

    fn hold(&mut self) -> PoseEstimate {
        match self.last_good {
            Some(camera) if self.hold_remaining > 0 => {
                self.hold_remaining -= 1;
                PoseEstimate {
                    camera: Some(camera),
                    source: PoseSource::Hold,
                    residual_px: None,
                    inliers: 0,
                    hold_remaining: self.hold_remaining,
                }
            }
            _ => PoseEstimate {
                camera: None,
                source: PoseSource::None,
                residual_px: None,
                inliers: 0,
                hold_remaining: 0,
            },
        }
    }
}
