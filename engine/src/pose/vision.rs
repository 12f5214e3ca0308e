//! Vision-only tracking of one frame: from the tracking filter's prediction (or the last good
//! pose after a loss) to a fitted camera, with the search of a lost track and the
//! confirmation of one found again.

use super::check::yard_line_uncertainty_px;
use super::search::Search;
use super::search::{search_step, yard_angle};
use super::{
    ACQUIRE_CONFIRM_FRAMES, ACQUIRE_MIN_SHARE, CLEAN_RESIDUAL_PX, NoPose, Outcome, PoseEstimator,
    PoseSource, half_diagonal, rms_of,
};
use crate::geometry::Camera;
use crate::vision::{
    Correction, CorrectionFilter, KalmanTuning, LumaView, MeasureParams, SolveConfig,
    measure_counted_with, solve_correction,
};

/// Vision-only tracking between frames.
#[derive(Debug, Clone)]
pub(super) struct VisionTrack {
    /// The tracking filter of the correction of `base`.
    pub(super) filter: CorrectionFilter,
    /// The camera the corrections apply to: the last tracked pose, or the one to start from.
    pub(super) base: Option<Camera>,
    /// Locked onto the lines (else searching around the last good pose).
    pub(super) locked: bool,
    /// The search of a lost track.
    pub(super) search: Search,
    /// Frames a track found again must still fit before it is drawn.
    pub(super) confirm_left: u32,
    /// Running residual (pixels RMS) of the vision fits the frames' lines agreed with: how
    /// noisy this footage's lines are (compressed, real paint); [`CLEAN_RESIDUAL_PX`] before
    /// the first.
    pub(super) typical_residual_px: f64,
}

impl VisionTrack {
    pub(super) fn new(tuning: KalmanTuning) -> Self {
        Self {
            filter: CorrectionFilter::new(tuning),
            base: None,
            locked: false,
            search: Search::default(),
            confirm_left: 0,
            typical_residual_px: CLEAN_RESIDUAL_PX,
        }
    }

    /// Starts over from `base` (or the base kept): no motion, lock, search or confirmation
    /// pending. What the footage's noise is stays learnt.
    pub(super) fn restart(&mut self, base: Option<Camera>) {
        if base.is_some() {
            self.base = base;
        }
        self.filter.reset();
        self.locked = false;
        self.search.restart(Correction::default());
        self.confirm_left = 0;
    }
}

impl PoseEstimator {
    pub(super) fn vision_step(&mut self, luma: &LumaView<'_>) -> Result<Outcome, NoPose> {
        let base = self
            .vision
            .base
            .or(self.last_good)
            .or(self.reference)
            .ok_or(NoPose::NoStart)?;
        let radius = half_diagonal(luma);
        let ppu = Correction::pixels_per_unit(base.intrinsics.fx, radius);
        let pred = if self.vision.filter.is_started() {
            self.vision.filter.predict(&ppu)
        } else {
            Correction::default()
        };
        let locked = self.vision.locked;
        let cfg = self.solve_config(true, true);
        let search_cfg = self.solve_config(true, false);
        let params = self.measure_params(luma.width(), locked);
        let min_lines = self.config.vision_min_lines;
        let try_counted = |start: &Correction, params: &MeasureParams, cfg: &SolveConfig| {
            let predicted = start.apply(&base);
            let (meas, searched) =
                measure_counted_with(&self.crew, luma, &predicted, &self.template, params);
            let res = solve_correction(&base, start, &meas, radius, cfg);
            (meas, searched, res)
        };
        let try_from =
            |start: &Correction, params: &MeasureParams| try_counted(start, params, &cfg);
        let try_search =
            |start: &Correction, params: &MeasureParams| try_counted(start, params, &search_cfg);
        // What the motion alone knows of this frame's correction: the directions this frame's
        // lines do not see (all of them parallel at a tight zoom) stay as known as that.
        let motion_variance = self.vision.filter.variance();
        // From the last good pose after a loss the tight prior: a loose one lets the solve
        // slide onto lines a yard or five over.
        let (mut meas, mut searched, mut solved) = if locked {
            try_from(&pred, &params)
        } else {
            try_search(&pred, &params)
        };
        if let Ok(r) = &solved
            && locked
            && self.fits(r, locked, min_lines)
        {
            // A second look around the solved camera: the lines the prediction missed (a fast
            // zoom moves the far ones out of the search range) come in.
            let (m2, n2, s2) = try_from(&r.value, &params);
            if let Ok(r2) = &s2
                && r2.inliers > r.inliers
                && self.fits(r2, locked, min_lines)
            {
                (meas, searched, solved) = (m2, n2, s2);
            }
        }
        // Found again from the last good pose only when most of what it should see is there: a
        // pose several yards off finds a line here and there.
        let fitted = solved.as_ref().is_ok_and(|r| {
            self.fits(r, false, min_lines)
                && (locked || r.inliers as f64 >= ACQUIRE_MIN_SHARE * searched as f64)
        });
        let mut from_search = false;
        if !locked && !fitted {
            // Lost: rank candidates around the search centre, try the best with a few
            // measurements each; the best one is solved again in full.
            solved = Err(crate::vision::VisionError::Degenerate);
            let found = search_step(
                &mut self.vision.search,
                &self.config,
                &base,
                luma,
                &self.template,
                &params,
                &try_search,
            );
            if let Some(start) = found {
                from_search = true;
                (meas, searched, solved) = try_from(&start, &params);
                if let Some((value, inliers)) = solved.as_ref().ok().map(|r| (r.value, r.inliers)) {
                    // The lines repeat every yard (hash marks) and every five (yard lines): of
                    // the fit and its neighbours a yard or two either way, the one most of
                    // the lines agree with, the nearest on a tie.
                    let yard = yard_angle(&value.apply(&base));
                    let mut best_inliers = inliers;
                    for k in [-1.0, 1.0, -2.0, 2.0] {
                        let mut alt = value;
                        alt.rotation.y += k * yard;
                        let (m, n, res) = try_search(&alt, &params);
                        if let Ok(a) = &res
                            && self.fits(a, false, min_lines)
                            && a.inliers > best_inliers + best_inliers / 10
                        {
                            best_inliers = a.inliers;
                            (meas, searched, solved) = (m, n, res);
                        }
                    }
                }
            }
        }
        if !locked
            && (from_search || self.vision.search.frames > 0)
            && solved
                .as_ref()
                .is_ok_and(|r| self.fits(r, false, min_lines))
        {
            // Found again after a loss or by the search: drawn only once it has held for a few
            // frames (a start from the operator's registration is drawn at once).
            self.vision.confirm_left = ACQUIRE_CONFIRM_FRAMES;
        }
        match solved {
            Ok(res) if self.fits(&res, locked, min_lines) => {
                let fresh = !self.vision.filter.is_started();
                let filtered = self.vision.filter.update(&res.value, &res.sigma, &ppu);
                if fresh && let Some(v) = self.vision.search.carried_velocity() {
                    // Found again in the middle of the motion it was lost in.
                    self.vision.filter.seed_velocity(&v);
                }
                let camera = filtered.apply(&base);
                self.vision.filter.rebase();
                self.vision.base = Some(camera);
                self.vision.locked = true;
                self.vision.search.restart(Correction::default());
                let (residual_px, inliers) = rms_of(&camera, &meas, self.config.inlier_px);
                let confirming = self.vision.confirm_left > 0;
                self.vision.confirm_left = self.vision.confirm_left.saturating_sub(1);
                Ok(Outcome {
                    camera,
                    source: PoseSource::Vision,
                    residual_px,
                    inliers,
                    searched,
                    confirming,
                    confidence: self.confidence_of(&camera, &meas),
                    uncertainty_px: yard_line_uncertainty_px(
                        &camera,
                        &with_prior(&res.information, motion_variance.as_ref()),
                        luma,
                    ),
                })
            }
            _ => {
                if locked {
                    // Lost: the search follows the track's last motion for a while.
                    let velocity = self.vision.filter.velocity();
                    self.vision.search.restart(velocity);
                }
                self.vision.search.frames = self.vision.search.frames.saturating_add(1);
                // Retry from the last good pose, at rest, with the wide search.
                self.vision.filter.reset();
                self.vision.locked = false;
                Err(NoPose::NoFit)
            }
        }
    }
}

/// `information` (inverse covariance, parameter units^-2) plus what a prior of per-parameter
/// `variance` (parameter units squared) knows, if any.
fn with_prior(
    information: &nalgebra::DMatrix<f64>,
    variance: Option<&[f64; Correction::MAX_DIM]>,
) -> nalgebra::DMatrix<f64> {
    let mut info = information.clone();
    if let Some(v) = variance {
        for k in 0..info.nrows().min(Correction::MAX_DIM) {
            info[(k, k)] += 1.0 / v[k].max(1e-30);
        }
    }
    info
}
