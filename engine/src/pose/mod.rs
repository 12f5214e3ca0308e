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
//!   Vision-only tracking starts from the venue's registration (a calibration from clicks,
//!   given with [`PoseEstimator::set_reference`]); while lost it searches around the last good
//!   pose: a grid of pan, tilt and zoom candidates is ranked against the frame's ridge map
//!   (`RidgeMap`), the best few a frame are measured and solved (each with 30% of its
//!   searches among the inliers; the retry from the last good pose with a quarter), and a
//!   track found again is drawn only after `ACQUIRE_CONFIRM_FRAMES` more fitting frames.
//! - Whenever no pose is usable, the last good camera may be held for up to
//!   [`PoseConfig::hold_frames`] frames (source `hold`), but only while this frame's painted
//!   lines agree with it: they are measured around the held camera; the line fades with the
//!   disagreement (their median distance: full at [`PoseConfig::agree_px`], gone at
//!   [`PoseConfig::contradict_px`]) and a contradicted hold ends at once (source `none`). With
//!   no lines to check (a cut to the stands, a crowd), a hold lasts at most
//!   [`PoseConfig::blind_hold_frames`] frames after a sensor pose (a lost packet) and none in
//!   vision-only tracking. A cut ([`PoseEstimator::reset`]) ends any hold: the old shot's pose
//!   would be wrong.
//! - Every estimate has a `confidence` (0..1): how well this frame's painted lines agree with
//!   the camera drawn (their share within [`PoseConfig::contradict_px`] and their median
//!   distance), 0.5 for a sensor camera with no lines to check, 1 in sensor-only mode (no image
//!   work), 0 with no camera. A vision-only camera under 0.5 is not drawn (source `none`,
//!   reason `uncertain`) while tracking goes on, nor one fitted with a residual over 0.9 px
//!   RMS, nor one with under 15% of its line searches among its inliers (locked a few yards
//!   off, it finds a line here and there), nor one whose frame's lines leave a yard line's
//!   place uncertain by more than 0.5 px
//!   (one standard deviation: one yard line does not fix the zoom). What the lines do not see
//!   is as known as the tracking filter's prediction: that grows with every frame the
//!   direction stays unseen. On noisy footage (compressed broadcast video, real paint) the
//!   residual and uncertainty limits widen with the typical residual of the fits the lines
//!   agree with, past 0.6 px, by at most half. While a vision-only line is on air both limits
//!   stand a quarter wider (hysteresis: a line is not blinked off for one frame just past
//!   them; one off air comes back only within them). [`PoseEstimate::state`] says what
//!   tracking is doing.
//! - Vision-only tracking, once locked, looks twice: the lines are measured around the prediction, then
//!   again around the solved camera (a fast zoom moves the far lines out of the first
//!   search), and the solve with more inliers is kept.
//!
//! Pixel distances in [`PoseConfig`] marked "at 1920 wide" scale with the frame width.

use yardline_frame::FrameRef;

use crate::field::FieldModel;
use crate::geometry::Camera;
use crate::render::crew::Crew;
use crate::vision::{
    Correction, CorrectionFilter, LineTemplate, LumaView, MeasureParams, Measurement, SolveConfig,
    SolveResult, measure_with, residual_rms, solve_correction,
};

mod check;
mod config;
mod kinds;
mod search;
mod vision;

use check::Agreement;
pub use config::PoseConfig;
pub use kinds::{NoPose, PoseMode, PoseModeError, PoseSource, TrackState};
use vision::VisionTrack;

/// Frame width (pixels) at which the pixel settings of [`PoseConfig`] apply as given.
pub const REFERENCE_WIDTH_PX: f64 = 1920.0;
/// Default number of frames the last good pose is held.
pub const DEFAULT_HOLD_FRAMES: u32 = 10;
/// Consecutive frames past [`PoseConfig::fused_gate_px`] that make a new correction real.
pub const FUSED_GATE_CONFIRM: u32 = 3;

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
    /// How well this frame's painted lines agree with the camera (0..1, see the module docs).
    pub confidence: f64,
    /// Opacity factor of the lines drawn with this camera (0..1): below 1 while a held camera
    /// starts to disagree with the image.
    pub opacity: f64,
    /// What tracking is doing.
    pub state: TrackState,
    /// Why there is no camera (`None` when there is one).
    pub reason: Option<NoPose>,
}

/// A usable pose of this frame, before the hold logic.
#[derive(Debug, Clone, Copy)]
struct Outcome {
    camera: Camera,
    source: PoseSource,
    residual_px: Option<f64>,
    inliers: usize,
    confidence: f64,
    /// How far a yard line drawn with this camera may lie from where the frame's lines alone
    /// put it (pixels, one standard deviation); 0 when not estimated.
    uncertainty_px: f64,
    /// Line searches made around the camera (count; 0 when not measured).
    searched: usize,
    /// A vision track found again that has not yet held for
    /// [`ACQUIRE_CONFIRM_FRAMES`] more frames.
    confirming: bool,
}

/// Least confidence a vision-only camera needs to be drawn.
const VISION_MIN_CONFIDENCE: f64 = 0.5;
/// Largest uncertainty of a yard line's place a vision-only camera may leave and be drawn
/// (pixels, one standard deviation, from this frame's lines alone): three of them are the
/// 1.5 px a line may be off on air.
const VISION_MAX_UNCERTAINTY_PX: f64 = 0.5;
/// Largest residual (pixels RMS) of the lines a vision-only camera is drawn with: a fit this
/// loose has taken a player's edge for paint somewhere.
const VISION_MAX_RESIDUAL_PX: f64 = 0.9;
/// How much wider the residual and uncertainty gates stand for a vision-only camera whose line
/// was drawn on the last frame (hysteresis: a line on air is not blinked off for one frame just
/// past a gate; a line off air comes back only within them).
const VISION_KEEP_WIDEN: f64 = 1.25;
/// Typical residual (pixels RMS) of vision fits on clean video: the gates above hold as given
/// up to it and widen in proportion beyond it (compressed broadcast video, real paint).
const CLEAN_RESIDUAL_PX: f64 = 0.6;
/// Most the residual and uncertainty gates widen on noisy footage (factor).
const NOISE_MAX: f64 = 1.5;
/// Share of each agreeing fit's residual taken into the footage's typical residual.
const NOISE_LEARN_RATE: f64 = 0.05;
/// Least share of its line searches a vision-only camera needs among its inliers to be drawn:
/// a pose locked a few yards off the truth finds a line here and there; the true one finds
/// most of those players leave in view.
const VISION_MIN_SHARE: f64 = 0.15;
/// Least share of its line searches among the inliers for a lost vision-only track to count
/// as found again.
const ACQUIRE_MIN_SHARE: f64 = 0.25;
/// Frames a vision-only track found again must go on fitting before it is drawn.
const ACQUIRE_CONFIRM_FRAMES: u32 = 4;
/// Least confidence a held camera needs to be drawn.
const HOLD_MIN_CONFIDENCE: f64 = 0.25;

/// Frame-to-frame pose estimation for one camera (see the module docs for the policy).
#[derive(Debug, Clone)]
pub struct PoseEstimator {
    field: FieldModel,
    template: LineTemplate,
    mode: PoseMode,
    config: PoseConfig,
    reference: Option<Camera>,
    last_good: Option<Camera>,
    held: HoldState,
    fused_filter: CorrectionFilter,
    fused_locked: bool,
    /// Consecutive frames the fused innovation gate held back.
    fused_gated: u32,
    /// The last estimate was gated.
    gated_last: bool,
    /// The last frame's vision-only camera was drawn.
    vision_drawn: bool,
    /// Vision-only tracking between frames.
    vision: VisionTrack,
    /// Buffer of the measurements' distances from a camera (kept between frames).
    distances: Vec<f64>,
    /// The threads the line measurements run on (the caller alone until set).
    crew: Crew,
}

/// The hold of the last good camera.
#[derive(Debug, Clone, Copy, Default)]
struct HoldState {
    /// Frames it may still be held (frames).
    left: u32,
    /// It came from a sensor (a blind hold may follow: a lost packet).
    from_sensor: bool,
    /// Frames held with nothing to check it against (frames).
    blind: u32,
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
            vision: VisionTrack::new(config.vision_filter),
            config,
            reference: None,
            last_good: None,
            held: HoldState::default(),
            fused_locked: false,
            fused_gated: 0,
            gated_last: false,
            vision_drawn: false,
            distances: Vec::new(),
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
        self.vision.restart(Some(camera));
    }

    /// The reference camera vision-only tracking starts from, if any.
    pub fn reference(&self) -> Option<&Camera> {
        self.reference.as_ref()
    }

    /// Forgets the reference and every pose tracked from it (they belong to another frame
    /// size or another calibration).
    pub fn clear_reference(&mut self) {
        self.reference = None;
        self.vision.base = None;
        self.last_good = None;
        self.reset();
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
        self.fused_locked = false;
        self.fused_gated = 0;
        self.vision.restart(None);
        self.held.left = 0;
        self.vision_drawn = false;
    }

    /// The pose of one frame, given the sensor camera for it (if any).
    pub fn estimate(&mut self, frame: FrameRef<'_>, sensor: Option<&Camera>) -> PoseEstimate {
        self.gated_last = false;
        let luma = LumaView::new(frame);
        let sensor = sensor.filter(|c| camera_ok(c));
        let outcome = match (self.mode, sensor) {
            (PoseMode::Sensor, Some(s)) => Ok(Outcome {
                camera: *s,
                source: PoseSource::Sensor,
                residual_px: None,
                inliers: 0,
                confidence: 1.0,
                uncertainty_px: 0.0,
                searched: 0,
                confirming: false,
            }),
            (PoseMode::Fused | PoseMode::Auto, Some(s)) => Ok(self.fused_step(&luma, s)),
            (PoseMode::Vision, _) | (PoseMode::Auto, None) => self.vision_step(&luma),
            (PoseMode::Sensor | PoseMode::Fused, None) => Err(NoPose::NoSensor),
        };
        let noise = self.noise_factor(outcome.as_ref().ok());
        // A line on air stays on while its camera stays near the gates: one frame just past
        // them would blink it off.
        let gate = if std::mem::take(&mut self.vision_drawn) {
            noise * VISION_KEEP_WIDEN
        } else {
            noise
        };
        match outcome {
            Ok(o)
                if o.source == PoseSource::Vision
                    && (o.confidence < VISION_MIN_CONFIDENCE
                        || o.confirming
                        || (o.inliers as f64) < VISION_MIN_SHARE * o.searched as f64
                        || o.residual_px.unwrap_or(f64::INFINITY)
                            > VISION_MAX_RESIDUAL_PX * gate
                        || o.uncertainty_px > VISION_MAX_UNCERTAINTY_PX * gate) =>
            {
                // Tracked, but too few of this frame's lines agree, or they leave a yard line's
                // place open (one line only: the zoom is unseen), to put a line on air.
                tracing::debug!(
                    confidence = o.confidence,
                    confirming = o.confirming,
                    inliers = o.inliers,
                    searched = o.searched,
                    residual_px = o.residual_px,
                    uncertainty_px = o.uncertainty_px,
                    noise,
                    "vision camera not drawn"
                );
                PoseEstimate {
                    camera: None,
                    source: PoseSource::None,
                    residual_px: o.residual_px,
                    inliers: o.inliers,
                    hold_remaining: 0,
                    confidence: o.confidence,
                    opacity: 0.0,
                    state: TrackState::Tracking,
                    reason: Some(NoPose::Uncertain),
                }
            }
            Ok(o) if camera_ok(&o.camera) => {
                self.vision_drawn = o.source == PoseSource::Vision;
                self.last_good = Some(o.camera);
                self.held.left = self.config.hold_frames;
                self.held.blind = 0;
                self.held.from_sensor = o.source != PoseSource::Vision;
                if o.source != PoseSource::Vision {
                    // Vision-only tracking, if it takes over, starts from this pose.
                    self.vision.restart(Some(o.camera));
                }
                PoseEstimate {
                    camera: Some(o.camera),
                    source: o.source,
                    residual_px: o.residual_px,
                    inliers: o.inliers,
                    hold_remaining: self.held.left,
                    confidence: o.confidence,
                    opacity: 1.0,
                    state: TrackState::Tracking,
                    reason: None,
                }
            }
            Ok(_) => self.hold(&luma, NoPose::NoFit),
            Err(why) => self.hold(&luma, why),
        }
    }

    /// How much looser than on clean video the residual and uncertainty gates of a vision
    /// camera stand for this frame (1..=[`NOISE_MAX`]): the footage's typical residual over
    /// [`CLEAN_RESIDUAL_PX`], learnt from the earlier fits the frames' lines agreed with (a
    /// drifting fit loses their agreement first, and no fit loosens the gates for itself);
    /// this frame's outcome `o` is learnt after.
    fn noise_factor(&mut self, o: Option<&Outcome>) -> f64 {
        let factor = (self.vision.typical_residual_px / CLEAN_RESIDUAL_PX).clamp(1.0, NOISE_MAX);
        if let Some(o) = o
            && o.source == PoseSource::Vision
            && o.confidence >= VISION_MIN_CONFIDENCE
            && let Some(r) = o.residual_px.filter(|r| r.is_finite())
        {
            let t = &mut self.vision.typical_residual_px;
            *t += NOISE_LEARN_RATE * (r - *t);
        }
        factor
    }

    /// The hold (or nothing) when no pose is usable: the held camera is checked against this
    /// frame's painted lines first.
    fn hold(&mut self, luma: &LumaView<'_>, why: NoPose) -> PoseEstimate {
        let searching = why == NoPose::NoFit;
        let state = if searching {
            TrackState::Searching
        } else {
            TrackState::Lost
        };
        let none = |reason: NoPose, hold_remaining: u32| PoseEstimate {
            camera: None,
            source: PoseSource::None,
            residual_px: None,
            inliers: 0,
            hold_remaining,
            confidence: 0.0,
            opacity: 0.0,
            state,
            reason: Some(reason),
        };
        let cam = match self.last_good {
            Some(cam) if self.held.left > 0 => cam,
            _ => return none(why, 0),
        };
        if self.mode == PoseMode::Sensor {
            // No image work in sensor-only mode: the hold is unchecked, as configured.
            self.held.left -= 1;
            return PoseEstimate {
                camera: Some(cam),
                source: PoseSource::Hold,
                residual_px: None,
                inliers: 0,
                hold_remaining: self.held.left,
                confidence: 0.5,
                opacity: 1.0,
                state: TrackState::Holding,
                reason: None,
            };
        }
        let params = self.measure_params(luma.width(), true);
        let meas = measure_with(&self.crew, luma, &cam, &self.template, &params);
        let agreement = Agreement::of(&cam, &meas, self.config.contradict_px, &mut self.distances);
        let (confidence, opacity) = match agreement.confidence(&self.config) {
            Some(c) => (c, agreement.fade(&self.config)),
            None if self.held.from_sensor && self.held.blind < self.config.blind_hold_frames => {
                self.held.blind += 1;
                (0.5, 1.0)
            }
            None => {
                // Nothing to check against: a cut away from the field, or the lines hidden.
                self.held.left = 0;
                return none(NoPose::Unchecked, 0);
            }
        };
        if confidence < HOLD_MIN_CONFIDENCE || opacity <= 0.0 {
            // The image contradicts the held camera: no line rather than a wrong one.
            self.held.left = 0;
            return none(NoPose::Contradicted, 0);
        }
        self.held.left -= 1;
        PoseEstimate {
            camera: Some(cam),
            source: PoseSource::Hold,
            residual_px: agreement
                .median_px
                .is_finite()
                .then_some(agreement.median_px),
            inliers: agreement.within,
            hold_remaining: self.held.left,
            confidence,
            opacity,
            state: TrackState::Holding,
            reason: None,
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
            // Ends once locked: while searching they would tie one hash row to the other.
            ends: locked,
        }
    }

    /// Solve settings: `vision_only` tracking estimates `k1`, and its `tracking` solves take
    /// the wider prior of [`PoseConfig::vision_prior_px`] (the candidates of a search do not).
    fn solve_config(&self, vision_only: bool, tracking: bool) -> SolveConfig {
        SolveConfig {
            inlier_px: self.config.inlier_px,
            prior_px: if vision_only && tracking {
                self.config.vision_prior_px
            } else {
                self.config.prior_px
            },
            min_measurements: self.config.exit_min_inliers,
            estimate_k1: vision_only && self.config.vision_estimates_k1,
            ..SolveConfig::default()
        }
    }

    /// Whether a solve fits well enough (hysteresis on `locked`), with at least `min_lines`
    /// distinct lines.
    fn fits<T>(&self, res: &SolveResult<T>, locked: bool, min_lines: usize) -> bool {
        let c = &self.config;
        let (max_res, min_inl) = if locked {
            (c.exit_max_residual_px, c.exit_min_inliers)
        } else {
            (c.enter_max_residual_px, c.enter_min_inliers)
        };
        res.residual_px <= max_res && res.inliers >= min_inl && res.lines >= min_lines
    }

    /// Confidence of a camera from the measurements made for it (0.5 when too few to tell).
    fn confidence_of(&mut self, camera: &Camera, meas: &[Measurement]) -> f64 {
        Agreement::of(camera, meas, self.config.contradict_px, &mut self.distances)
            .confidence(&self.config)
            .unwrap_or(0.5)
    }

    fn fused_step(&mut self, luma: &LumaView<'_>, sensor: &Camera) -> Outcome {
        let radius = half_diagonal(luma);
        let ppu = Correction::pixels_per_unit(sensor.intrinsics.fx, radius);
        let pred = self.fused_filter.predict(&ppu);
        let predicted = pred.apply(sensor);
        let params = self.measure_params(luma.width(), self.fused_locked);
        let meas = measure_with(&self.crew, luma, &predicted, &self.template, &params);
        let solved = solve_correction(
            sensor,
            &pred,
            &meas,
            radius,
            &self.solve_config(false, false),
        );
        let max_rot = self.config.max_fused_correction_deg.to_radians();
        match solved {
            Ok(res)
                if self.fits(&res, self.fused_locked, self.config.min_lines)
                    && res.value.rotation.norm() <= max_rot =>
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
                    confidence: self.confidence_of(&camera, &meas),
                    uncertainty_px: 0.0,
                    searched: 0,
                    confirming: false,
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
                    confidence: self.confidence_of(&camera, &meas),
                    uncertainty_px: 0.0,
                    searched: 0,
                    confirming: false,
                }
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
pub(super) fn half_diagonal(luma: &LumaView<'_>) -> f64 {
    0.5 * f64::from(luma.width()).hypot(f64::from(luma.height()))
}

/// Residual and inliers of measurements against a camera, `None` when nothing fits.
fn rms_of(camera: &Camera, meas: &[Measurement], inlier_px: f64) -> (Option<f64>, usize) {
    let (rms, n) = residual_rms(camera, meas, inlier_px);
    (rms.is_finite().then_some(rms), n)
}

#[cfg(test)]
mod tests {
    use nalgebra::{Point3, Rotation3};

    use super::*;
    use crate::field::FieldKind;
    use crate::geometry::Intrinsics;

    fn outcome(residual_px: f64, confidence: f64) -> Outcome {
        Outcome {
            camera: Camera::from_centre(
                Intrinsics::from_hfov(1280, 720, 0.5),
                Rotation3::identity(),
                Point3::new(0.0, -60.0, 20.0),
            ),
            source: PoseSource::Vision,
            residual_px: Some(residual_px),
            inliers: 100,
            confidence,
            uncertainty_px: 0.1,
            searched: 200,
            confirming: false,
        }
    }

    #[test]
    fn noisy_footage_widens_the_gates_by_at_most_half_and_a_drifting_fit_not_at_all() {
        let field = FieldModel::new(FieldKind::Nfl);
        let mut est = PoseEstimator::new(field, PoseMode::Vision, PoseConfig::default());
        assert!(
            (est.noise_factor(None) - 1.0).abs() < 1e-12,
            "nothing learnt yet"
        );
        // The first fit agreed with at 1.3 px does not widen the gates it is checked by.
        assert!((est.noise_factor(Some(&outcome(1.3, 0.9))) - 1.0).abs() < 1e-12);
        est.vision.typical_residual_px = CLEAN_RESIDUAL_PX;
        // Clean video: fits at 0.3 px leave the gates as they are.
        for _ in 0..100 {
            assert!((est.noise_factor(Some(&outcome(0.3, 1.0))) - 1.0).abs() < 1e-12);
        }
        // A drifting fit the lines disagree with does not loosen them for itself.
        for _ in 0..100 {
            assert!((est.noise_factor(Some(&outcome(1.4, 0.2))) - 1.0).abs() < 1e-12);
        }
        // Compressed broadcast video: fits at 0.8 px, agreed with.
        let mut factor = 1.0;
        for _ in 0..200 {
            factor = est.noise_factor(Some(&outcome(0.8, 0.9)));
        }
        assert!((factor - 0.8 / CLEAN_RESIDUAL_PX).abs() < 0.01, "{factor}");
        for _ in 0..200 {
            factor = est.noise_factor(Some(&outcome(1.5, 0.9)));
        }
        assert!((factor - NOISE_MAX).abs() < 1e-12, "{factor}");
    }
}
