//! What the engine says of each frame and of itself: [`FrameReport`] (one `report.jsonl`
//! line), [`FrameFault`] (why a frame was left untouched), [`StageTimings`], [`Stage`] and the
//! running [`EngineStats`].

use serde::{Deserialize, Serialize};

use crate::geometry::Camera;
use crate::pose::{NoPose, PoseSource, TrackState};

/// Time spent per stage (ms).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct StageTimings {
    /// Tracking sync and sensor pose.
    pub sync: f64,
    /// Pose selection and vision.
    pub pose: f64,
    /// Tessellation.
    pub graphics: f64,
    /// Key + blend, upload and readback included.
    pub composite: f64,
    /// The whole call.
    pub total: f64,
}

/// What happened to one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameReport {
    /// Frame number (0-based, in call order).
    pub frame: u64,
    /// Presentation time (ns).
    pub pts_ns: i64,
    /// Frame width (pixels).
    pub width: u32,
    /// Frame height (pixels).
    pub height: u32,
    /// Camera used (or estimated).
    pub camera: Option<Camera>,
    /// Pose source.
    pub source: PoseSource,
    /// Residual of the line measurements (pixels RMS), when measured.
    pub residual_px: Option<f64>,
    /// Line measurements that agreed.
    pub inliers: usize,
    /// How well this frame's painted lines agree with the camera (0..1; see
    /// [`crate::pose`]).
    pub confidence: f64,
    /// What tracking is doing.
    pub state: TrackState,
    /// Why there is no camera, when there is none and the pose step ran.
    pub reason: Option<NoPose>,
    /// Per-stage times.
    pub timings: StageTimings,
    /// Whether any line pixel was drawn.
    pub drawn: bool,
    /// Compositor that drew ("cpu", "gpu").
    pub backend: &'static str,
    /// What went wrong, if anything (the frame then left untouched or held).
    pub fault: Option<FrameFault>,
    /// How this frame's tracking sample was found, when the sync gave one.
    pub tracking_match: Option<TrackingMatch>,
}

/// How a frame's tracking sample was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrackingMatch {
    /// The sample's timecode matched the frame's (plus the tracking delay in frames).
    Timecode,
    /// By arrival time: the frame's pts plus the tracking delay.
    Arrival,
}

impl TrackingMatch {
    /// `timecode` or `arrival`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Timecode => "timecode",
            Self::Arrival => "arrival",
        }
    }
}

/// Why a frame was left untouched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameFault {
    /// The pose has unusable intrinsics.
    #[error("camera has invalid intrinsics")]
    InvalidIntrinsics,
    /// The compositor failed (the CPU one, or a GPU one with no fallback left).
    #[error("compositor: {0}")]
    Compositor(String),
    /// The GPU failed and the CPU compositor that took over failed too.
    #[error("CPU compositor: {0}")]
    CpuFallback(String),
    /// A stage panicked; the panic was caught.
    #[error("panic: {0}")]
    Panic(String),
}

#[derive(Serialize)]
struct ReportLine {
    frame: u64,
    pts_ns: i64,
    width: u32,
    height: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    rotation: Option<[f64; 9]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    translation: Option<[f64; 3]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fx: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fy: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cx: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cy: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    k1: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    k2: Option<f64>,
    source: &'static str,
    residual_px: Option<f64>,
    inliers: usize,
    confidence: f64,
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    timings_ms: StageTimings,
    backend: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    fault: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tracking_match: Option<&'static str>,
}

impl FrameReport {
    /// The `report.jsonl` line (DESIGN.md: the truth camera fields plus `source`,
    /// `residual_px`, `confidence` and `timings_ms`; also `inliers`, `state`, `reason` when
    /// there is no camera, `backend` and `fault`).
    pub fn to_json_line(&self) -> Result<String, serde_json::Error> {
        let c = self.camera.as_ref();
        let line = ReportLine {
            frame: self.frame,
            pts_ns: self.pts_ns,
            width: self.width,
            height: self.height,
            rotation: c.map(Camera::rotation_row_major),
            translation: c.map(|c| [c.translation.x, c.translation.y, c.translation.z]),
            fx: c.map(|c| c.intrinsics.fx),
            fy: c.map(|c| c.intrinsics.fy),
            cx: c.map(|c| c.intrinsics.cx),
            cy: c.map(|c| c.intrinsics.cy),
            k1: c.map(|c| c.intrinsics.k1),
            k2: c.map(|c| c.intrinsics.k2),
            source: self.source.as_str(),
            residual_px: self.residual_px,
            inliers: self.inliers,
            confidence: self.confidence,
            state: self.state.as_str(),
            reason: self.reason.map(NoPose::as_str),
            timings_ms: self.timings,
            backend: self.backend,
            fault: self.fault.as_ref().map(ToString::to_string),
            tracking_match: self.tracking_match.map(TrackingMatch::as_str),
        };
        serde_json::to_string(&line)
    }
}

/// Running counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EngineStats {
    /// Frames processed.
    pub frames: u64,
    /// Frames drawn on.
    pub drawn: u64,
    /// Frames left untouched because of a fault.
    pub faults: u64,
    /// Frames without a usable sensor camera while tracking was configured.
    pub sensor_misses: u64,
    /// Times the GPU failed and the CPU took over.
    pub gpu_fallbacks: u64,
    /// Panics caught inside a stage.
    pub panics: u64,
    /// Sensor readings refused because the head would have moved faster than any head can
    /// (a glitch, or the first readings after a cut before they confirm each other).
    pub jumps_rejected: u64,
    /// Frames whose size differed from the previous frame's (pose filters restarted).
    pub size_changes: u64,
    /// Tracking samples dropped on arrival for jumping faster than a head can slew.
    pub jump_samples_rejected: u64,
    /// Frames whose sensor reading disagreed with the painted lines in one step (a late or
    /// corrupt packet): drawn with the lines' correction, the filter left alone.
    pub sensor_glitches_gated: u64,
}

/// A stage of [`crate::Engine::process`], for fault injection and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Tracking sync and the sensor pose.
    Sync,
    /// Pose selection and vision refinement.
    Pose,
    /// Line tessellation and projection.
    Graphics,
    /// Key and composite.
    Composite,
}

impl Stage {
    /// All stages in pipeline order.
    pub const ALL: [Self; 4] = [Self::Sync, Self::Pose, Self::Graphics, Self::Composite];
}

/// p50 / p99 / max of a set of times (ms), by nearest rank.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Median (ms).
    pub p50: f64,
    /// 99th percentile (ms).
    pub p99: f64,
    /// Maximum (ms).
    pub max: f64,
}

impl Percentiles {
    /// Percentiles of `values` (ms), which it sorts; zeros when empty.
    pub fn of(values: &mut [f64]) -> Self {
        if values.is_empty() {
            return Self::default();
        }
        values.sort_by(f64::total_cmp);
        let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
        Self {
            p50: at(0.5),
            p99: at(0.99),
            max: values[values.len() - 1],
        }
    }

    /// Each stage's percentiles over `reports`, by stage name (`sync`, `pose`, `graphics`,
    /// `composite`, `total`).
    pub fn of_stages(reports: &[FrameReport]) -> std::collections::BTreeMap<String, Self> {
        type Column = (&'static str, fn(&StageTimings) -> f64);
        let stages: [Column; 5] = [
            ("sync", |t| t.sync),
            ("pose", |t| t.pose),
            ("graphics", |t| t.graphics),
            ("composite", |t| t.composite),
            ("total", |t| t.total),
        ];
        stages
            .into_iter()
            .map(|(name, f)| {
                let mut v: Vec<f64> = reports.iter().map(|r| f(&r.timings)).collect();
                (name.to_string(), Self::of(&mut v))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::float_cmp, reason = "nearest rank picks exact values")]
    fn stage_percentiles_take_each_stage_of_each_report() {
        let report = |k: f64| FrameReport {
            frame: 0,
            pts_ns: 0,
            width: 1,
            height: 1,
            camera: None,
            source: PoseSource::None,
            residual_px: None,
            inliers: 0,
            confidence: 0.0,
            state: TrackState::Lost,
            reason: None,
            timings: StageTimings {
                sync: k,
                pose: 2.0 * k,
                graphics: 3.0 * k,
                composite: 4.0 * k,
                total: 10.0 * k,
            },
            drawn: false,
            backend: "cpu",
            fault: None,
            tracking_match: None,
        };
        let reports: Vec<FrameReport> = (1..=3).map(|k| report(f64::from(k))).collect();
        let stages = Percentiles::of_stages(&reports);
        let names: Vec<&str> = stages.keys().map(String::as_str).collect();
        assert_eq!(names, ["composite", "graphics", "pose", "sync", "total"]);
        assert_eq!(stages["pose"].p50, 4.0);
        assert_eq!(stages["composite"].max, 12.0);
        assert_eq!(stages["total"].p99, 30.0);
    }

    #[test]
    #[allow(clippy::float_cmp, reason = "nearest rank picks exact values")]
    fn percentiles_are_nearest_ranks() {
        assert_eq!(Percentiles::of(&mut []), Percentiles::default());
        let mut v: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        let p = Percentiles::of(&mut v);
        assert_eq!((p.p50, p.p99, p.max), (51.0, 99.0, 100.0));
        assert_eq!(Percentiles::of(&mut [7.0]).p99, 7.0);
    }
}
