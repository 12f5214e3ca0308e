//! The zoom-sweep folder and its calibration.
//!
//! A sweep folder `DIR` holds `DIR/sweep.jsonl`, one line per frame of the sweep (the camera
//! zoomed from wide to tight, aimed at painted field features, a handful of points clicked on
//! each frame):
//!
//! ```json
//! {"image": "frame_000.png", "width": 1920, "height": 1080,
//!  "freed": "d101...", "points": [{"image": [u, v], "field": [x, y, z]}, ...]}
//! ```
//!
//! `image` (optional) names the frame's picture relative to `DIR`; `width` x `height` is the
//! image size the points are in (the same for every frame); `freed` is the frame's FreeD D1
//! packet (58 hex characters); `points` are the clicks (>= 4 per frame). At least
//! [`crate::head::MIN_HEAD_FRAMES`] frames over [`crate::lens::MIN_SWEEP_ZOOMS`] zoom positions.
//!
//! [`calibrate_sweep`] registers the head on all frames at once with each frame's lens free
//! ([`crate::head`]), then fits the lens table ([`crate::lens`]): one complete venue camera.

use std::path::Path;

use serde::{Deserialize, Serialize};
use yardline_engine::tracking::SensorReading;
use yardline_engine::tracking::freed::{decode_checked, parse_hex};
use yardline_engine::venue::{CameraCalibration, Venue};

use crate::error::CalibrationError;
use crate::head::{HeadOptions, HeadSolution, RegisteredFrame, solve_head};
use crate::landmarks::Correspondence;
use crate::lens::{LensSample, fit_lens_table};

/// The sweep file inside a sweep folder.
pub const SWEEP_FILE: &str = "sweep.jsonl";

/// One line of `sweep.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepFrame {
    /// The frame's picture, relative to the folder (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Image width the points are in (pixels).
    pub width: u32,
    /// Image height (pixels).
    pub height: u32,
    /// The frame's FreeD D1 packet (58 hex characters).
    pub freed: String,
    /// Clicked points.
    pub points: Vec<Correspondence>,
}

/// Reads `DIR/sweep.jsonl`; errors name the file and line.
pub fn read_sweep(dir: &Path) -> Result<Vec<SweepFrame>, CalibrationError> {
    let path = dir.join(SWEEP_FILE);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| CalibrationError::Input(format!("{}: cannot read: {e}", path.display())))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let f: SweepFrame = serde_json::from_str(line)
            .map_err(|e| CalibrationError::Input(format!("{}:{}: {e}", path.display(), i + 1)))?;
        out.push(f);
    }
    Ok(out)
}

/// Writes `DIR/sweep.jsonl` (the folder is created if missing).
pub fn write_sweep(dir: &Path, frames: &[SweepFrame]) -> Result<(), CalibrationError> {
    let io = |e: std::io::Error| CalibrationError::Input(format!("{}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut text = String::new();
    for f in frames {
        let line = serde_json::to_string(f)
            .map_err(|e| CalibrationError::Input(format!("sweep frame: {e}")))?;
        text.push_str(&line);
        text.push('\n');
    }
    std::fs::write(dir.join(SWEEP_FILE), text).map_err(io)
}

/// A calibrated sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepResult {
    /// The venue camera: head, offsets, fitted lens table.
    pub calibration: CameraCalibration,
    /// The head registration (per-frame lenses and residuals).
    pub head: HeadSolution,
    /// Zoom counts of each frame.
    pub zooms: Vec<f64>,
}

/// Registers the head and fits the lens table from a sweep's frames.
pub fn calibrate_sweep(
    frames: &[SweepFrame],
    tracking_delay_ns: i64,
) -> Result<SweepResult, CalibrationError> {
    let first = frames
        .first()
        .ok_or_else(|| CalibrationError::Input("the sweep has no frames".into()))?;
    let size = (first.width, first.height);
    let mut reg = Vec::with_capacity(frames.len());
    for (i, f) in frames.iter().enumerate() {
        if (f.width, f.height) != size {
            return Err(CalibrationError::ImageSize(format!(
                "frame {i} is {}x{}, frame 0 is {}x{}",
                f.width, f.height, size.0, size.1
            )));
        }
        let bytes = parse_hex(f.freed.trim())
            .map_err(|e| CalibrationError::Input(format!("frame {i}: freed: {e}")))?;
        let packet = decode_checked(&bytes)
            .map_err(|e| CalibrationError::Input(format!("frame {i}: freed: {e}")))?;
        reg.push(RegisteredFrame {
            points: f.points.clone(),
            reading: SensorReading::from(packet),
            intrinsics: None,
        });
    }
    let head = solve_head(&reg, size, &HeadOptions::default())?;
    let zooms: Vec<f64> = reg.iter().map(|r| r.reading.zoom).collect();
    let samples: Vec<LensSample> = zooms
        .iter()
        .zip(&head.intrinsics)
        .map(|(z, k)| LensSample {
            zoom: *z,
            intrinsics: *k,
        })
        .collect();
    let lens = fit_lens_table(&samples, size.0, size.1)?;
    let calibration = CameraCalibration {
        id: reg[0].reading.camera_id,
        tracking_delay_ns,
        mount: head.mount,
        encoder: head.encoder,
        lens,
        // A sweep is many frames at many zooms: no one frame is the camera's registration.
        registration: None,
    };
    Venue {
        cameras: vec![calibration.clone()],
    }
    .to_toml_string()?;
    Ok(SweepResult {
        calibration,
        head,
        zooms,
    })
}
