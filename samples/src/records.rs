//! The files a sample is made of besides its videos: `truth.jsonl`, `tracking.jsonl`,
//! `venue.toml`, `clicks.json`, and the engine's `report.jsonl` as the scorer reads it.

use std::io::{BufRead, BufReader};
use std::path::Path;

use nalgebra::Vector3;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::camera::{Intrinsics, PinholeCamera};
use crate::error::{Result, SampleError};

/// One line of `truth.jsonl`: the exact camera of one frame (DESIGN.md convention).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TruthRecord {
    /// Frame index (0-based).
    pub frame: u32,
    /// Presentation time (ns).
    pub pts_ns: i64,
    /// Image width (pixels).
    pub width: u32,
    /// Image height (pixels).
    pub height: u32,
    /// `R` (field -> camera), row-major.
    pub rotation: [f64; 9],
    /// `t` (metres) in `X_cam = R X_field + t`.
    pub translation: [f64; 3],
    /// Intrinsics, written as the flat keys `fx`, `fy`, `cx`, `cy`, `k1`, `k2`.
    #[serde(flatten)]
    pub intrinsics: Intrinsics,
}

impl TruthRecord {
    /// The record of a camera.
    pub fn from_camera(
        frame: u32,
        pts_ns: i64,
        width: u32,
        height: u32,
        cam: &PinholeCamera,
    ) -> Self {
        Self {
            frame,
            pts_ns,
            width,
            height,
            rotation: cam.rotation_row_major(),
            translation: [cam.translation.x, cam.translation.y, cam.translation.z],
            intrinsics: cam.intrinsics,
        }
    }

    /// The generator's camera for this record (checks it is a valid camera).
    pub fn camera(&self) -> Result<PinholeCamera> {
        PinholeCamera::from_parts(self.rotation, self.translation, self.intrinsics)
    }

    /// Projects a field point (metres) to a pixel with the generator's own projection;
    /// `None` behind the camera, where the lens folds back, or for an invalid record.
    pub fn project(&self, p: [f64; 3]) -> Option<[f64; 2]> {
        self.camera().ok()?.project(&Vector3::from(p))
    }
}

/// One line of `tracking.jsonl`: a `FreeD` packet and when it arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingRecord {
    /// Receive time (ns) = pts of the frame it describes + the tracking delay.
    pub pts_ns: i64,
    /// The 29 packet bytes as 58 lower-case hex characters.
    pub freed: String,
}

/// One line of the engine's `report.jsonl`, as far as the scorer needs it. Camera fields are
/// optional (absent when the engine had no pose); unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportRecord {
    /// Frame index.
    pub frame: u32,
    /// Presentation time (ns).
    pub pts_ns: Option<i64>,
    /// Pose source: sensor, vision, fused, hold or none.
    pub source: Option<String>,
    /// Vision residual (pixels).
    pub residual_px: Option<f64>,
    /// Image width (pixels).
    pub width: Option<u32>,
    /// Image height (pixels).
    pub height: Option<u32>,
    /// `R` (field -> camera), row-major.
    pub rotation: Option<[f64; 9]>,
    /// `t` (metres).
    pub translation: Option<[f64; 3]>,
    /// Intrinsics, read from the flat keys `fx`, `fy`, `cx`, `cy`, `k1`, `k2`.
    #[serde(flatten)]
    pub intrinsics: ReportIntrinsics,
}

/// The intrinsics of a `report.jsonl` line, each of them optional.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ReportIntrinsics {
    /// Focal length x (pixels).
    pub fx: Option<f64>,
    /// Focal length y (pixels).
    pub fy: Option<f64>,
    /// Principal point x (pixels).
    pub cx: Option<f64>,
    /// Principal point y (pixels).
    pub cy: Option<f64>,
    /// Radial distortion k1 (unitless; absent means 0).
    pub k1: Option<f64>,
    /// Radial distortion k2 (unitless; absent means 0).
    pub k2: Option<f64>,
}

impl ReportIntrinsics {
    /// The intrinsics, when the focal lengths and the principal point are all given.
    pub fn get(&self) -> Option<Intrinsics> {
        Some(Intrinsics {
            fx: self.fx?,
            fy: self.fy?,
            cx: self.cx?,
            cy: self.cy?,
            k1: self.k1.unwrap_or(0.0),
            k2: self.k2.unwrap_or(0.0),
        })
    }
}

impl ReportRecord {
    /// The reported camera as a camera record, when the line has one (image size and pts
    /// taken from `truth` where the report leaves them out); `None` for source none or when
    /// any camera field is missing.
    pub fn camera_record(&self, truth: &TruthRecord) -> Option<TruthRecord> {
        if self.source.as_deref() == Some("none") {
            return None;
        }
        Some(TruthRecord {
            frame: self.frame,
            pts_ns: self.pts_ns.unwrap_or(truth.pts_ns),
            width: self.width.unwrap_or(truth.width),
            height: self.height.unwrap_or(truth.height),
            rotation: self.rotation?,
            translation: self.translation?,
            intrinsics: self.intrinsics.get()?,
        })
    }
}

fn read_jsonl<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    let file = std::fs::File::open(path).map_err(|source| SampleError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|source| SampleError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(
            serde_json::from_str(&line).map_err(|source| SampleError::Json {
                path: path.to_path_buf(),
                line: i + 1,
                source,
            })?,
        );
    }
    Ok(out)
}

/// Reads `truth.jsonl`.
pub fn read_truth_jsonl(path: &Path) -> Result<Vec<TruthRecord>> {
    read_jsonl(path)
}

/// Reads the engine's `report.jsonl` (unknown fields ignored).
pub fn read_report_jsonl(path: &Path) -> Result<Vec<ReportRecord>> {
    read_jsonl(path)
}

/// Reads `tracking.jsonl`.
pub fn read_tracking_jsonl(path: &Path) -> Result<Vec<TrackingRecord>> {
    read_jsonl(path)
}

/// One point of `clicks.json`: a landmark an operator clicks to calibrate, in the format
/// `yardline calibrate --points` reads (`{"image": [u, v], "field": [x, y, z]}`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Click {
    /// Where it was clicked (pixels, pixel centres at integers, (0, 0) the top-left pixel).
    pub image: [f64; 2],
    /// The landmark (field metres).
    pub field: [f64; 3],
}

/// Reads `clicks.json` (a JSON array of [`Click`]s).
pub fn read_clicks_json(path: &Path) -> Result<Vec<Click>> {
    let text = std::fs::read_to_string(path).map_err(|source| SampleError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| SampleError::Json {
        path: path.to_path_buf(),
        line: source.line(),
        source,
    })
}

/// `clicks.json` text: a JSON array with one click per line.
pub fn clicks_json(clicks: &[Click]) -> Result<String> {
    let mut text = String::from("[");
    for (i, c) in clicks.iter().enumerate() {
        text.push_str(if i == 0 { "\n  " } else { ",\n  " });
        text.push_str(
            &serde_json::to_string(c).map_err(|source| SampleError::Json {
                path: "clicks.json".into(),
                line: 0,
                source,
            })?,
        );
    }
    text.push_str("\n]\n");
    Ok(text)
}

/// `venue.toml`: the calibration a venue set-up produces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VenueFile {
    /// Format version (1).
    pub version: u32,
    /// The cameras of the venue.
    pub camera: Vec<VenueCamera>,
}

/// One camera of `venue.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VenueCamera {
    /// `FreeD` camera id.
    pub id: u8,
    /// How long after a frame's pts its `FreeD` packet arrives (ns).
    pub tracking_delay_ns: i64,
    /// Head position and mount orientation.
    pub mount: VenueMount,
    /// Offsets added to the decoded `FreeD` angles.
    pub encoder: VenueEncoder,
    /// Lens table.
    pub lens: VenueLens,
}

/// `[camera.mount]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VenueMount {
    /// Head rotation centre (field metres).
    pub position: [f64; 3],
    /// Mount yaw (degrees).
    pub yaw_deg: f64,
    /// Mount pitch (degrees).
    pub pitch_deg: f64,
    /// Mount roll (degrees).
    pub roll_deg: f64,
}

/// `[camera.encoder]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VenueEncoder {
    /// Added to the `FreeD` pan (degrees).
    pub pan_offset_deg: f64,
    /// Added to the `FreeD` tilt (degrees).
    pub tilt_offset_deg: f64,
    /// Added to the `FreeD` roll (degrees).
    pub roll_offset_deg: f64,
}

/// `[camera.lens]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VenueLens {
    /// Image width the table is given for (pixels).
    pub width: u32,
    /// Image height the table is given for (pixels).
    pub height: u32,
    /// How `zoom` is expressed ("raw": `FreeD` counts).
    pub zoom_profile: String,
    /// Table points, sorted by zoom.
    pub points: Vec<VenueLensPoint>,
}

/// One `[[camera.lens.points]]` row.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VenueLensPoint {
    /// Raw `FreeD` zoom counts.
    pub zoom: u32,
    /// Intrinsics, written as the flat keys `fx`, `fy`, `cx`, `cy`, `k1`, `k2`.
    #[serde(flatten)]
    pub intrinsics: Intrinsics,
    /// Optical centre offset along the optical axis (metres, + forward).
    pub nodal_shift_m: f64,
}

impl VenueFile {
    /// The TOML text.
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(self).map_err(|source| SampleError::TomlWrite {
            what: "venue.toml",
            source,
        })
    }

    /// Reads `venue.toml`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| SampleError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| SampleError::TomlRead {
            path: path.to_path_buf(),
            source,
        })
    }
}
