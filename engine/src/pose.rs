//! The per-frame camera pose: the sensor camera as is, refined by vision (fused), tracked by
//! vision alone, or the last good pose held for a bounded time.
//!
//! ## Policy
//! - [`PoseMode::Sensor`]: the sensor camera, unrefined (no image work).
//! - [`PoseMode::Fused`]: the painted lines are measured around the sensor camera (with the
//!   correction predicted from previous frames) and a small correction (pan, tilt, roll,
//!   focal scale) is solved and filtered by a constant-velocity Kalman filter. When the lines
//!   do not fit (hysteresis on residual and inliers), the sensor camera is used with the last
//!   filtered correction (source `sensor`).
//! - [`PoseMode::Vision`]: no sensors; each frame is tracked from the previous one (or from
//!   the operator registration, [`PoseEstimator::set_reference`]) with the same measurements.
//!   After a loss or a cut, every frame retries from the last good pose until the lines fit.
//! - [`PoseMode::Auto`]: fused while a sensor camera arrives, vision tracking from the last
//!   good pose when it does not.
//! - Whenever no pose is usable, the last good camera is held for
//!   [`PoseConfig::hold_frames`] frames (source `hold`), then `none` (the frame is left clean).
//!   A cut ([`PoseEstimator::reset`]) ends any hold: the old shot's pose would be wrong.
//!
//! Pixel distances in [`PoseConfig`] marked "at 1920 wide" scale with the frame width.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use yardline_frame::FrameRef;

use crate::field::FieldModel;
use crate::geometry::Camera;
use crate::render::crew::Crew;
use crate::vision::{
    Correction, CorrectionFilter, KalmanTuning, LineTemplate, LumaView, MeasureParams, Measurement,
    SolveConfig, SolveResult, measure_with, residual_rms, solve_correction,
};

/// Frame width (pixels) at which the pixel settings of [`PoseConfig`] apply as given.
pub const REFERENCE_WIDTH_PX: f64 = 1920.0;
/// Default number of frames the last good pose is held.
pub const DEFAULT_HOLD_FRAMES: u32 = 10;
/// Consecutive frames past [`PoseConfig::fused_gate_px`] that make a new correction real.
pub const FUSED_GATE_CONFIRM: u32 = 3;

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
    /// Largest rotation the fused correction may reach (degrees): beyond it the lines are
    /// taken to be misread (a hash mark one yard over is about 1 degree away), not the sensor.
    pub max_fused_correction_deg: f64,
    /// Innovation gate of the fused filter (pixels at 1920 wide): a solved correction that
    /// moves a point further than this from the filter's prediction is taken for a sensor
    /// glitch (a late or corrupt packet): that frame is drawn with the solved correction, the
    /// filter is not updated. [`FUSED_GATE_CONFIRM`] gated frames in a row are a real change:
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
            enter_min_inliers: 30,
            exit_min_inliers: 15,
            min_lines: 3,
            track_range_px: 16.0,
            acquire_range_px: 48.0,
            spacing_px: 24.0,
            max_measurements: 400,
            inlier_px: 2.0,
            prior_px: 2.0,
            max_fused_correction_deg: 0.5,
            fused_gate_px: 3.0,
            fused_filter: KalmanTuning::FUSED,
            vision_filter: KalmanTuning::VISION,
            vision_estimates_k1: true,
        }
    }
}

/// The pose of one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoseEstimate {
    /// The camera to draw with; `None` leaves the frame clean.
    pub camera: Option<Camera>,
    /// Where it came from.
    pub source: PoseSource,
    /// RMS distance of the inlier line measurements from the chosen camera (pixels); `None`
    /// when nothing was measured.
    pub residual_px: Option<f64>,
    /// Inlier line measurements (count).
    pub inliers: usize,
    /// Frames the current camera may still be held if nothing usable follows (frames).
    pub hold_remaining: u32,
}

/// A usable pose of this frame, before the hold logic.
#[derive(Debug, Clone, Copy)]
struct Outcome {
    camera: Camera,
    source: PoseSource,
    residual_px: Option<f64>,
    inliers: usize,
}

/// Frame-to-frame pose estimation for one camera (see the module docs for the policy).
#[derive(Debug, Clone)]
pub struct PoseEstimator {
    field: FieldModel,
    template: LineTemplate,
    mode: PoseMode,
    config: PoseConfig,
    reference: Option<Camera>,
    last_good: Option<Camera>,
    hold_left: u32,
    fused_filter: CorrectionFilter,
    fused_locked: bool,
    /// Consecutive frames the fused innovation gate held back.
    fused_gated: u32,
    /// The last estimate was gated.
    gated_last: bool,
    vision_filter: CorrectionFilter,
    vision_base: Option<Camera>,
    vision_locked: bool,
    /// The threads the line measurements run on (the caller alone until set).
    crew: Crew,
}

/// True when a camera's numbers can be drawn with.
fn camera_ok(c: &Camera) -> bool {
    c.intrinsics.is_valid()
        && c.translation.iter().all(|v| v.is_finite())
        && c.rotation.matrix().iter().all(|v| v.is_finite())
}

impl PoseEstimator {
    /// An estimator for `field` (its search points are laid out once, here).
    pub fn new(field: FieldModel, mode: PoseMode, config: PoseConfig) -> Self {
        let template = LineTemplate::new(&field);
        Self {
            field,
            template,
            mode,
            fused_filter: CorrectionFilter::new(config.fused_filter),
            vision_filter: CorrectionFilter::new(config.vision_filter),
            config,
            reference: None,
            last_good: None,
            hold_left: 0,
            fused_locked: false,
            fused_gated: 0,
            gated_last: false,
            vision_base: None,
            vision_locked: false,
            crew: Crew::default(),
        }
    }

    /// Runs the line measurements on `crew` (the engine's frame-path threads).
    pub fn set_crew(&mut self, crew: Crew) {
        self.crew = crew;
    }

    /// The field model.
    pub fn field(&self) -> &FieldModel {
        &self.field
    }

    /// The current mode.
    pub fn mode(&self) -> PoseMode {
        self.mode
    }

    /// The configuration.
    pub fn config(&self) -> &PoseConfig {
        &self.config
    }

    /// Switches mode; temporal state is kept.
    pub fn set_mode(&mut self, mode: PoseMode) {
        self.mode = mode;
    }

    /// Changes the hold length (frames).
    pub fn set_hold_frames(&mut self, frames: u32) {
        self.config.hold_frames = frames;
    }

    /// An operator registration (or another known pose) for vision-only tracking to start
    /// from.
    pub fn set_reference(&mut self, camera: Camera) {
        if !camera_ok(&camera) {
            return;
        }
        self.reference = Some(camera);
        self.vision_base = Some(camera);
        self.vision_filter.reset();
        self.vision_locked = false;
    }

    /// True when the last estimate drew with the lines against a sensor reading that jumped
    /// from the filtered correction (see [`PoseConfig::fused_gate_px`]).
    pub fn last_estimate_gated(&self) -> bool {
        self.gated_last
    }

    /// A cut: forgets velocities, locks and any hold. The last good pose stays as the place
    /// vision-only tracking retries from.
    pub fn reset(&mut self) {
        self.fused_filter.reset();
        self.vision_filter.reset();
        self.fused_locked = false;
        self.fused_gated = 0;
        self.vision_locked = false;
        self.hold_left = 0;
    }

    /// The pose of one frame, given the sensor camera for it (if any).
    pub fn estimate(&mut self, frame: FrameRef<'_>, sensor: Option<&Camera>) -> PoseEstimate {
        self.gated_last = false;
        let luma = LumaView::new(frame);
        let sensor = sensor.filter(|c| camera_ok(c));
        let outcome = match (self.mode, sensor) {
            (PoseMode::Sensor, Some(s)) => Some(Outcome {
                camera: *s,
                source: PoseSource::Sensor,
                residual_px: None,
                inliers: 0,
            }),
            (PoseMode::Fused | PoseMode::Auto, Some(s)) => Some(self.fused_step(&luma, s)),
            (PoseMode::Vision, _) | (PoseMode::Auto, None) => self.vision_step(&luma),
            (PoseMode::Sensor | PoseMode::Fused, None) => None,
        };
        match outcome {
            Some(o) if camera_ok(&o.camera) => {
                self.last_good = Some(o.camera);
                self.hold_left = self.config.hold_frames;
                if o.source != PoseSource::Vision {
                    // Vision-only tracking, if it takes over, starts from this pose.
                    self.vision_base = Some(o.camera);
                    self.vision_filter.reset();
                    self.vision_locked = false;
                }
                PoseEstimate {
                    camera: Some(o.camera),
                    source: o.source,
                    residual_px: o.residual_px,
                    inliers: o.inliers,
                    hold_remaining: self.hold_left,
                }
            }
            _ => self.hold(),
        }
    }

    /// The hold (or nothing) when no pose is usable.
    fn hold(&mut self) -> PoseEstimate {
        match self.last_good {
            Some(cam) if self.hold_left > 0 => {
                self.hold_left -= 1;
                PoseEstimate {
                    camera: Some(cam),
                    source: PoseSource::Hold,
                    residual_px: None,
                    inliers: 0,
                    hold_remaining: self.hold_left,
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

    /// Search settings for a frame of `width` pixels.
    fn measure_params(&self, width: u32, locked: bool) -> MeasureParams {
        let s = f64::from(width) / REFERENCE_WIDTH_PX;
        let range = if locked {
            self.config.track_range_px
        } else {
            self.config.acquire_range_px
        };
        MeasureParams {
            max_range_px: (range * s).max(3.0),
            min_range_px: 1.5,
            spacing_px: (self.config.spacing_px * s).max(4.0),
            max_points: self.config.max_measurements,
        }
    }

    fn solve_config(&self, estimate_k1: bool) -> SolveConfig {
        SolveConfig {
            inlier_px: self.config.inlier_px,
            prior_px: self.config.prior_px,
            min_measurements: self.config.exit_min_inliers,
            estimate_k1,
            ..SolveConfig::default()
        }
    }

    /// Whether a solve fits well enough (hysteresis on `locked`).
    fn fits<T>(&self, res: &SolveResult<T>, locked: bool) -> bool {
        let c = &self.config;
        let (max_res, min_inl) = if locked {
            (c.exit_max_residual_px, c.exit_min_inliers)
        } else {
            (c.enter_max_residual_px, c.enter_min_inliers)
        };
        res.residual_px <= max_res && res.inliers >= min_inl && res.lines >= c.min_lines
    }

    fn fused_step(&mut self, luma: &LumaView<'_>, sensor: &Camera) -> Outcome {
        let radius = half_diagonal(luma);
        let ppu = Correction::pixels_per_unit(sensor.intrinsics.fx, radius);
        let pred = self.fused_filter.predict(&ppu);
        let predicted = pred.apply(sensor);
        let params = self.measure_params(luma.width(), self.fused_locked);
        let meas = measure_with(&self.crew, luma, &predicted, &self.template, &params);
        let solved = solve_correction(sensor, &pred, &meas, radius, &self.solve_config(false));
        let max_rot = self.config.max_fused_correction_deg.to_radians();
        match solved {
            Ok(res)
                if self.fits(&res, self.fused_locked) && res.value.rotation.norm() <= max_rot =>
            {
                self.fused_locked = true;
                let gate_px =
                    self.config.fused_gate_px * f64::from(luma.width()) / REFERENCE_WIDTH_PX;
                let gated = self.fused_filter.is_started()
                    && innovation_px(&res.value, &pred, &ppu) > gate_px;
                let camera = if gated && self.fused_gated + 1 < FUSED_GATE_CONFIRM {
                    // The lines moved against the sensor in one frame: trust the lines for
                    // this frame, keep the filter on the correction it had.
                    self.fused_gated += 1;
                    self.gated_last = true;
                    res.value.apply(sensor)
                } else {
                    if gated {
                        // Confirmed: the correction really changed.
                        self.fused_filter.reset();
                    }
                    self.fused_gated = 0;
                    self.fused_filter
                        .update(&res.value, &res.sigma, &ppu)
                        .apply(sensor)
                };
                let (rms, inliers) = residual_rms(&camera, &meas, self.config.inlier_px);
                Outcome {
                    camera,
                    source: PoseSource::Fused,
                    residual_px: rms.is_finite().then_some(rms),
                    inliers,
                }
            }
            _ => {
                self.fused_locked = false;
                self.fused_gated = 0;
                self.fused_filter.stop();
                let camera = if self.fused_filter.is_started() {
                    self.fused_filter.value().apply(sensor)
                } else {
                    *sensor
                };
                let (residual_px, inliers) = rms_of(&camera, &meas, self.config.inlier_px);
                Outcome {
                    camera,
                    source: PoseSource::Sensor,
                    residual_px,
                    inliers,
                }
            }
        }
    }

    fn vision_step(&mut self, luma: &LumaView<'_>) -> Option<Outcome> {
        let base = self.vision_base.or(self.last_good).or(self.reference)?;
        let radius = half_diagonal(luma);
        let ppu = Correction::pixels_per_unit(base.intrinsics.fx, radius);
        let pred = if self.vision_filter.is_started() {
            self.vision_filter.predict(&ppu)
        } else {
            Correction::default()
        };
        let predicted = pred.apply(&base);
        let params = self.measure_params(luma.width(), self.vision_locked);
        let meas = measure_with(&self.crew, luma, &predicted, &self.template, &params);
        let cfg = self.solve_config(self.config.vision_estimates_k1);
        match solve_correction(&base, &pred, &meas, radius, &cfg) {
            Ok(res) if self.fits(&res, self.vision_locked) => {
                let filtered = self.vision_filter.update(&res.value, &res.sigma, &ppu);
                let camera = filtered.apply(&base);
                self.vision_filter.rebase();
                self.vision_base = Some(camera);
                self.vision_locked = true;
                let (residual_px, inliers) = rms_of(&camera, &meas, self.config.inlier_px);
                Some(Outcome {
                    camera,
                    source: PoseSource::Vision,
                    residual_px,
                    inliers,
                })
            }
            _ => {
                // Retry from the last good pose, at rest, with the wide search.
                self.vision_filter.reset();
                self.vision_locked = false;
                None
            }
        }
    }
}

/// How far (pixels) correction `a` moves a point from where correction `b` puts it: the
/// largest change over rotation and scale.
fn innovation_px(a: &Correction, b: &Correction, ppu: &[f64; Correction::MAX_DIM]) -> f64 {
    let (a, b) = (a.to_array(), b.to_array());
    (0..4)
        .map(|k| (a[k] - b[k]).abs() * ppu[k])
        .fold(0.0, f64::max)
}

/// Half the image diagonal (pixels).
fn half_diagonal(luma: &LumaView<'_>) -> f64 {
    0.5 * f64::from(luma.width()).hypot(f64::from(luma.height()))
}

/// Residual and inliers of measurements against a camera, `None` when nothing fits.
fn rms_of(camera: &Camera, meas: &[Measurement], inlier_px: f64) -> (Option<f64>, usize) {
    let (rms, n) = residual_rms(camera, meas, inlier_px);
    (rms.is_finite().then_some(rms), n)
}
