//! The names a pose goes by: the mode asked for, where a frame's camera came from, what
//! tracking is doing and why there is no camera.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Which inputs the pose may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PoseMode {
    /// Fused with sensors, vision-only without, with automatic fallback.
    #[default]
    Auto,
    /// Sensor camera only.
    Sensor,
    /// Vision tracking only (sensors ignored).
    Vision,
    /// Sensor camera refined by vision.
    Fused,
}

impl PoseMode {
    /// All modes, in a stable order.
    pub const ALL: [Self; 4] = [Self::Auto, Self::Sensor, Self::Vision, Self::Fused];

    /// Lower-case name used in files and on the command line.
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

/// An unknown pose mode name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown pose mode {0:?} (expected auto, sensor, vision or fused)")]
pub struct PoseModeError(pub String);

impl FromStr for PoseMode {
    type Err = PoseModeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == t)
            .ok_or_else(|| PoseModeError(s.to_string()))
    }
}

/// Where a frame's camera came from (`report.jsonl` "source").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PoseSource {
    /// The sensor camera (possibly with the last vision correction kept).
    Sensor,
    /// Vision tracking without sensors.
    Vision,
    /// The sensor camera refined by this frame's vision.
    Fused,
    /// The last good camera, held.
    Hold,
    /// No camera: the frame is left clean.
    None,
}

impl PoseSource {
    /// Lower-case name.
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

impl fmt::Display for PoseSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What tracking is doing in a frame (the operator app shows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrackState {
    /// A camera from this frame: sensor, fused or vision.
    Tracking,
    /// The last good camera, held while this frame's lines agree with it.
    Holding,
    /// Vision-only tracking lost the field and is searching around the last good pose.
    Searching,
    /// No camera and nothing to search from (no tracking feed, no registration).
    Lost,
}

impl TrackState {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tracking => "tracking",
            Self::Holding => "holding",
            Self::Searching => "searching",
            Self::Lost => "lost",
        }
    }
}

impl fmt::Display for TrackState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a frame has no camera (`report.jsonl` "reason").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoPose {
    /// No sensor camera, and vision-only tracking has no pose to start from (no registration
    /// in the venue, no sensor pose seen yet).
    NoStart,
    /// The sensor camera is missing and the mode does not track by vision.
    NoSensor,
    /// The painted lines do not fit any pose near the last good one (searching).
    NoFit,
    /// The held camera disagrees with this frame's painted lines.
    Contradicted,
    /// No painted lines to check a held camera against.
    Unchecked,
    /// Vision-only tracking goes on, but too few of this frame's lines agree with it to draw.
    Uncertain,
}

impl NoPose {
    /// Kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoStart => "no-start",
            Self::NoSensor => "no-sensor",
            Self::NoFit => "no-fit",
            Self::Contradicted => "contradicted",
            Self::Unchecked => "unchecked",
            Self::Uncertain => "uncertain",
        }
    }
}

impl fmt::Display for NoPose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
