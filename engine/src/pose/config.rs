//! The estimator's thresholds, hysteresis, search sizes and filter tuning.

use crate::vision::KalmanTuning;

use super::DEFAULT_HOLD_FRAMES;

/// Thresholds, hysteresis, search sizes and filter tuning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoseConfig {
    /// Frames the last good camera is held when nothing is usable (frames).
    pub hold_frames: u32,
    /// Vision counts as fitting (from not fitting) at or below this residual (pixels RMS).
    pub enter_max_residual_px: f64,
    /// Vision keeps fitting up to this residual (pixels RMS; hysteresis, >= enter).
    pub exit_max_residual_px: f64,
    /// Vision counts as fitting (from not fitting) with at least this many inliers (count).
    pub enter_min_inliers: usize,
    /// Vision keeps fitting with at least this many inliers (count; hysteresis, <= enter).
    pub exit_min_inliers: usize,
    /// Least distinct painted lines among the inliers (count).
    pub min_lines: usize,
    /// Least distinct painted lines among the inliers in vision-only tracking (count): two
    /// yard lines fix pan and zoom (the focal length is free there), the prior holds the rest.
    pub vision_min_lines: usize,
    /// A held camera whose lines lie within this median distance of this frame's is drawn at
    /// full opacity (pixels).
    pub agree_px: f64,
    /// A held camera whose lines lie this median distance from this frame's is contradicted:
    /// not drawn (pixels); a measurement further than this from the camera counts against it.
    pub contradict_px: f64,
    /// Least line measurements that make a check (count); fewer is no evidence.
    pub min_evidence: usize,
    /// Frames a sensor camera may be held with no lines to check it (a lost packet).
    pub blind_hold_frames: u32,
    /// Candidate poses tried per frame while vision-only tracking searches (count; the best
    /// ranked, each measured at a fifth of the points of a tracking frame).
    pub search_per_frame: usize,
    /// Candidate poses ranked per frame against the frame's ridge map while vision-only
    /// tracking searches (count; a grid larger than this takes several frames).
    pub search_rank_per_frame: usize,
    /// Spacing of the search grid (pixels at 1920 wide, at the image edge for the zoom).
    pub search_step_px: f64,
    /// How far the search looks along the field either way (yards at the aim point).
    pub search_yards: f64,
    /// How far the search looks in zoom either way (focal-length ratio, > 1).
    pub search_zoom: f64,
    /// Search range either side of the predicted line while locked (pixels at 1920 wide).
    pub track_range_px: f64,
    /// Search range while acquiring (pixels at 1920 wide).
    pub acquire_range_px: f64,
    /// Spacing of searches along a line (pixels at 1920 wide).
    pub spacing_px: f64,
    /// Most line measurements per frame (count).
    pub max_measurements: usize,
    /// A measurement within this distance of the solved camera is an inlier (pixels).
    pub inlier_px: f64,
    /// Prior standard deviation of each correction parameter around its prediction (pixels
    /// it moves a typical point by): what the lines cannot see stays predicted.
    pub prior_px: f64,
    /// The same in vision-only tracking (pixels): wider, since the prediction there is the
    /// whole camera motion and lags a fast zoom; a tight prior would hold the lag. The
    /// candidates of a search for a lost track keep [`PoseConfig::prior_px`]: a loose prior
    /// there lets a candidate slide onto the wrong lines.
    pub vision_prior_px: f64,
    /// Largest rotation the fused correction may reach (degrees): beyond it the lines are
    /// taken to be misread (a hash mark one yard over is about 1 degree away), not the sensor.
    pub max_fused_correction_deg: f64,
    /// Innovation gate of the fused filter (pixels at 1920 wide): a solved correction that
    /// moves a point further than this from the filter's prediction is taken for a sensor
    /// glitch (a late or corrupt packet): that frame is drawn with the solved correction, the
    /// filter is not updated. [`FUSED_GATE_CONFIRM`](super::FUSED_GATE_CONFIRM) gated frames in a row are a real change:
    /// the filter restarts from the new correction.
    pub fused_gate_px: f64,
    /// Filter of the fused correction.
    pub fused_filter: KalmanTuning,
    /// Filter of vision-only tracking.
    pub vision_filter: KalmanTuning,
    /// Vision-only tracking also solves the lens distortion `k1` (no lens table follows the
    /// zoom there).
    pub vision_estimates_k1: bool,
}

impl Default for PoseConfig {
    fn default() -> Self {
        Self {
            hold_frames: DEFAULT_HOLD_FRAMES,
            enter_max_residual_px: 1.5,
            exit_max_residual_px: 2.5,
            enter_min_inliers: 20,
            exit_min_inliers: 15,
            min_lines: 3,
            vision_min_lines: 2,
            agree_px: 0.75,
            contradict_px: 1.5,
            min_evidence: 12,
            blind_hold_frames: 2,
            search_per_frame: 3,
            search_rank_per_frame: 800,
            search_step_px: 48.0,
            search_yards: 12.0,
            search_zoom: 1.8,
            track_range_px: 16.0,
            acquire_range_px: 48.0,
            spacing_px: 24.0,
            max_measurements: 400,
            inlier_px: 2.0,
            prior_px: 2.0,
            vision_prior_px: 16.0,
            max_fused_correction_deg: 0.5,
            fused_gate_px: 3.0,
            fused_filter: KalmanTuning::FUSED,
            vision_filter: KalmanTuning::VISION,
            vision_estimates_k1: true,
        }
    }
}
