//! Robust Gauss-Newton (IRLS: Huber, then Tukey) on line measurements, and the camera
//! correction it solves for.

use nalgebra::{DMatrix, DVector, Rotation3, SymmetricEigen, Vector3};

use super::VisionError;
use super::measure::{Measurement, Projector};
use crate::geometry::{Camera, Intrinsics};

/// Tukey's biweight constant for unit-variance residuals (95 % efficiency).
const TUKEY_K: f64 = 4.685;
/// Huber's constant for unit-variance residuals (95 % efficiency).
const HUBER_K: f64 = 1.345;
/// MAD -> standard deviation for Gaussian residuals.
const MAD_TO_SIGMA: f64 = 1.4826;
/// Iterations that use Huber weights before switching to Tukey (convex start).
const HUBER_ITERATIONS: usize = 2;
/// Ratio of the smallest to the largest eigenvalue of the scaled normal matrix below which
/// the problem counts as degenerate.
const MIN_EIGEN_RATIO: f64 = 1e-7;
/// Stop when no parameter moves any measurement by more than this (pixels).
const CONVERGED_PX: f64 = 1e-4;
/// Largest focal scale change one solve may find (natural log).
const MAX_LOG_SCALE: f64 = 0.7;

/// Settings of the robust solve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolveConfig {
    /// Gauss-Newton iterations at most (count).
    pub max_iterations: usize,
    /// Floor of the Tukey/Huber scale (pixels): residuals well below it are never down-weighted.
    pub min_scale_px: f64,
    /// A measurement within this distance of the solved camera is an inlier (pixels).
    pub inlier_px: f64,
    /// Least inlier measurements for an answer (count).
    pub min_measurements: usize,
    /// Also solve the first radial distortion coefficient `k1` (vision-only tracking, where no
    /// lens table follows the zoom).
    pub estimate_k1: bool,
    /// Prior standard deviation of the `k1` change in one solve (unitless).
    pub k1_prior_sigma: f64,
    /// Prior standard deviation of each correction parameter around the start, as the pixels
    /// it moves a typical point by (pixels; 0 for none). Directions the lines do not see (all
    /// visible lines parallel, at a tight zoom) then stay at the start, the prediction.
    pub prior_px: f64,
}

impl Default for SolveConfig {
    fn default() -> Self {
        Self {
            max_iterations: 8,
            min_scale_px: 0.5,
            inlier_px: 2.0,
            min_measurements: 12,
            estimate_k1: false,
            k1_prior_sigma: 0.02,
            prior_px: 0.0,
        }
    }
}

/// A small camera correction about the optical centre (see the module docs of
/// [`crate::vision`]).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Correction {
    /// Rotation vector applied on the camera side, `R' = exp([w]x) R` (radians).
    pub rotation: Vector3<f64>,
    /// Natural log of the focal-length scale (unitless).
    pub log_scale: f64,
    /// Change of the radial distortion coefficient `k1` (unitless).
    pub k1: f64,
}

impl Correction {
    /// Number of parameters: 4 (rotation, scale) or 5 (with `k1`).
    pub const MAX_DIM: usize = 5;
    /// Index of `k1` among the parameters ([`Correction::to_array`]).
    pub const K1: usize = 4;

    /// The parameters as a vector of `dim` (4 or 5) entries.
    pub fn to_array(&self) -> [f64; Self::MAX_DIM] {
        [
            self.rotation.x,
            self.rotation.y,
            self.rotation.z,
            self.log_scale,
            self.k1,
        ]
    }

    /// From parameters (a missing `k1` is 0).
    pub fn from_slice(v: &[f64]) -> Self {
        let at = |i: usize| v.get(i).copied().unwrap_or(0.0);
        Self {
            rotation: Vector3::new(at(0), at(1), at(2)),
            log_scale: at(3),
            k1: at(4),
        }
    }

    /// True when every value is finite.
    pub fn is_finite(&self) -> bool {
        self.to_array().iter().all(|v| v.is_finite())
    }

    /// The corrected camera: rotated about its centre, focal lengths scaled, `k1` shifted.
    pub fn apply(&self, base: &Camera) -> Camera {
        let k = base.intrinsics;
        let scale = self.log_scale.exp();
        let intrinsics = Intrinsics {
            fx: k.fx * scale,
            fy: k.fy * scale,
            k1: k.k1 + self.k1,
            ..k
        };
        let rotation = Rotation3::new(self.rotation) * base.rotation;
        Camera::from_centre(intrinsics, rotation.inverse(), base.centre())
    }

    /// Pixels each parameter moves an image point at `radius_px` from the centre by, per
    /// unit, for a camera of focal length `fx` (for converting tolerances to parameters).
    pub fn pixels_per_unit(fx: f64, radius_px: f64) -> [f64; Self::MAX_DIM] {
        let r = radius_px / fx.max(1e-9);
        [fx, fx, radius_px, radius_px, fx * r * r * r]
    }
}

/// The outcome of a robust solve.
#[derive(Debug, Clone, PartialEq)]
pub struct SolveResult<T> {
    /// The solved model (a correction or a homography).
    pub value: T,
    /// RMS distance of the inlier measurements from the solved model (pixels).
    pub residual_px: f64,
    /// Inlier measurements (count).
    pub inliers: usize,
    /// Distinct painted lines among the inliers (count).
    pub lines: usize,
    /// Standard deviation of each parameter (parameter units), from the inlier scatter.
    pub sigma: Vec<f64>,
    /// What the measurements alone (without the prior) know of the parameters: the inverse
    /// covariance (parameter units^-2). Singular along what the lines do not see (all of them
    /// parallel, or one line only).
    pub information: DMatrix<f64>,
}

/// RMS distance (pixels) of the measurements within `inlier_px` of `proj`, and their count.
pub fn residual_rms<P: Projector>(proj: &P, meas: &[Measurement], inlier_px: f64) -> (f64, usize) {
    let (mut sq, mut n) = (0.0, 0_usize);
    for m in meas {
        if let Some(q) = proj.project_point(&m.field) {
            let r = m.residual(q);
            if r.abs() <= inlier_px {
                sq += r * r;
                n += 1;
            }
        }
    }
    if n == 0 {
        (f64::INFINITY, 0)
    } else {
        ((sq / n as f64).sqrt(), n)
    }
}

/// Median of absolute values (consumes the buffer's order).
fn median_abs(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    for x in v.iter_mut() {
        *x = x.abs();
    }
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    *m
}

/// A model the robust solver can fit: parameters -> projector.
pub(crate) trait Model {
    /// The projector type.
    type Proj: Projector;
    /// The projector for parameters `x`; `None` when they make no valid model.
    fn build(&self, x: &DVector<f64>) -> Option<Self::Proj>;
    /// Finite-difference step of each parameter.
    fn steps(&self) -> DVector<f64>;
    /// Pixels each parameter moves a typical point by, per unit (for scaling and stopping).
    fn pixel_scale(&self) -> DVector<f64>;
    /// Diagonal prior precision (1 / sigma^2) pulling each parameter toward 0, or 0.
    fn prior(&self) -> DVector<f64>;
}

/// Residuals of every measurement for a projector (`None` where the point does not project).
fn residuals<P: Projector>(proj: &P, meas: &[Measurement]) -> Vec<Option<f64>> {
    meas.iter()
        .map(|m| proj.project_point(&m.field).map(|q| m.residual(q)))
        .collect()
}

/// Robust Gauss-Newton from `x0`. Returns the parameters and the solve statistics.
pub(crate) fn robust_solve<M: Model>(
    model: &M,
    x0: DVector<f64>,
    meas: &[Measurement],
    cfg: &SolveConfig,
) -> Result<SolveResult<DVector<f64>>, VisionError> {
    let needed = cfg.min_measurements.max(x0.len() + 1);
    if meas.len() < needed {
        return Err(VisionError::TooFewMeasurements {
            found: meas.len(),
            needed,
        });
    }
    let dim = x0.len();
    let steps = model.steps();
    let pix = model.pixel_scale();
    let prior = model.prior();
    let start = x0.clone();
    let mut x = x0;
    let mut normal = DMatrix::<f64>::zeros(dim, dim);
    for it in 0..cfg.max_iterations.max(1) {
        let proj = model.build(&x).ok_or(VisionError::Diverged)?;
        let r0 = residuals(&proj, meas);
        let mut abs: Vec<f64> = r0.iter().flatten().copied().collect();
        if abs.len() < needed {
            return Err(VisionError::TooFewMeasurements {
                found: abs.len(),
                needed,
            });
        }
        let scale = (MAD_TO_SIGMA * median_abs(&mut abs)).max(cfg.min_scale_px);
        // Jacobian columns by forward differences.
        let mut cols: Vec<Vec<Option<f64>>> = Vec::with_capacity(dim);
        for k in 0..dim {
            let mut xk = x.clone();
            xk[k] += steps[k];
            let pk = model.build(&xk).ok_or(VisionError::Diverged)?;
            cols.push(residuals(&pk, meas));
        }
        normal.fill(0.0);
        let mut grad = DVector::<f64>::zeros(dim);
        let mut jrow = DVector::<f64>::zeros(dim);
        for (i, r) in r0.iter().enumerate() {
            let Some(r) = *r else { continue };
            let u = r.abs() / scale;
            let w = if it < HUBER_ITERATIONS {
                if u <= HUBER_K { 1.0 } else { HUBER_K / u }
            } else if u < TUKEY_K {
                let q = 1.0 - (u / TUKEY_K).powi(2);
                q * q
            } else {
                0.0
            };
            if w == 0.0 {
                continue;
            }
            let mut ok = true;
            for k in 0..dim {
                match cols[k][i] {
                    Some(rk) => jrow[k] = (rk - r) / steps[k],
                    None => ok = false,
                }
            }
            if !ok {
                continue;
            }
            normal.ger(w, &jrow, &jrow, 1.0);
            grad.axpy(w * r, &jrow, 1.0);
        }
        for k in 0..dim {
            normal[(k, k)] += prior[k];
            grad[k] += prior[k] * (x[k] - start[k]);
        }
        // Conditioning check on the pixel-scaled normal matrix.
        let scaled = DMatrix::from_fn(dim, dim, |a, b| normal[(a, b)] / (pix[a] * pix[b]));
        let eig = SymmetricEigen::new(scaled);
        let (emin, emax) = eig
            .eigenvalues
            .iter()
            .fold((f64::INFINITY, 0.0_f64), |(lo, hi), &e| {
                (lo.min(e), hi.max(e))
            });
        if emax.is_nan() || emax <= 0.0 || emin < MIN_EIGEN_RATIO * emax {
            return Err(VisionError::Degenerate);
        }
        let chol = normal.clone().cholesky().ok_or(VisionError::Degenerate)?;
        let dx = -chol.solve(&grad);
        if !dx.iter().all(|v| v.is_finite()) {
            return Err(VisionError::Diverged);
        }
        x += &dx;
        let moved = dx
            .iter()
            .zip(pix.iter())
            .map(|(d, p)| (d * p).abs())
            .fold(0.0, f64::max);
        if moved < CONVERGED_PX && it >= HUBER_ITERATIONS {
            break;
        }
    }
    let proj = model.build(&x).ok_or(VisionError::Diverged)?;
    let (residual_px, inliers) = residual_rms(&proj, meas, cfg.inlier_px);
    let mut lines: Vec<u32> = meas
        .iter()
        .filter(|m| {
            proj.project_point(&m.field)
                .is_some_and(|q| m.residual(q).abs() <= cfg.inlier_px)
        })
        .map(|m| m.line)
        .collect();
    lines.sort_unstable();
    lines.dedup();
    if inliers < needed {
        return Err(VisionError::TooFewMeasurements {
            found: inliers,
            needed,
        });
    }
    let scale = residual_px.max(cfg.min_scale_px * 0.1);
    let sigma = match normal.clone().try_inverse() {
        Some(inv) => (0..dim)
            .map(|k| (inv[(k, k)].max(0.0)).sqrt() * scale)
            .collect(),
        None => vec![f64::INFINITY; dim],
    };
    let mut information = normal.clone() / (scale * scale);
    for k in 0..dim {
        information[(k, k)] -= prior[k] / (scale * scale);
    }
    Ok(SolveResult {
        value: x,
        residual_px,
        inliers,
        lines: lines.len(),
        sigma,
        information,
    })
}

/// The correction model around a base camera.
struct CorrectionModel<'a> {
    base: &'a Camera,
    dim: usize,
    k1_prior: f64,
    prior_px: f64,
    radius_px: f64,
}

impl Model for CorrectionModel<'_> {
    type Proj = Camera;
    fn build(&self, x: &DVector<f64>) -> Option<Camera> {
        let c = Correction::from_slice(x.as_slice());
        if !c.is_finite() || c.log_scale.abs() > MAX_LOG_SCALE {
            return None;
        }
        let cam = c.apply(self.base);
        cam.intrinsics.is_valid().then_some(cam)
    }
    fn steps(&self) -> DVector<f64> {
        let fx = self.base.intrinsics.fx;
        // About a hundredth of a pixel for each parameter.
        let ppu = Correction::pixels_per_unit(fx, self.radius_px);
        DVector::from_iterator(self.dim, ppu.iter().take(self.dim).map(|p| 0.01 / p))
    }
    fn pixel_scale(&self) -> DVector<f64> {
        let ppu = Correction::pixels_per_unit(self.base.intrinsics.fx, self.radius_px);
        DVector::from_iterator(self.dim, ppu.iter().take(self.dim).copied())
    }
    fn prior(&self) -> DVector<f64> {
        let ppu = Correction::pixels_per_unit(self.base.intrinsics.fx, self.radius_px);
        let mut p = DVector::zeros(self.dim);
        if self.prior_px > 0.0 {
            for (k, v) in p.iter_mut().enumerate().take(4) {
                *v = (ppu[k] / self.prior_px).powi(2);
            }
        }
        if self.dim > 4 {
            p[4] += self.k1_prior;
        }
        p
    }
}

/// The largest standard deviation of the linear functions `g . x` of the parameters (each
/// `g` read to the information's dimension) given their `information` (inverse covariance),
/// with one eigen decomposition for all: infinite when a `g` reaches along a direction the
/// information does not see; 0 with no `g`. `pixels` scales each parameter for the
/// conditioning test (pixels per unit, [`Correction::pixels_per_unit`]).
pub fn max_linear_sigma(
    information: &DMatrix<f64>,
    gs: &[[f64; Correction::MAX_DIM]],
    pixels: &[f64],
) -> f64 {
    let dim = information.nrows();
    if pixels.len() < dim || dim > Correction::MAX_DIM {
        return f64::INFINITY;
    }
    let scaled = DMatrix::from_fn(dim, dim, |a, b| {
        information[(a, b)] / (pixels[a] * pixels[b])
    });
    let eig = SymmetricEigen::new(scaled);
    let emax = eig.eigenvalues.iter().copied().fold(0.0_f64, f64::max);
    gs.iter()
        .map(|g| {
            if emax.is_nan() || emax <= 0.0 {
                return f64::INFINITY;
            }
            let gs = DVector::from_iterator(dim, (0..dim).map(|k| g[k] / pixels[k]));
            let gn = gs.norm();
            let mut var = 0.0;
            for (i, &e) in eig.eigenvalues.iter().enumerate() {
                let c = gs.dot(&eig.eigenvectors.column(i));
                if e < MIN_EIGEN_RATIO * emax {
                    // A direction the lines do not see: harmless only if `g` does not reach
                    // along it.
                    if c.abs() > 1e-3 * gn {
                        return f64::INFINITY;
                    }
                    continue;
                }
                var += c * c / e;
            }
            var.sqrt()
        })
        .fold(0.0, f64::max)
}

/// Solves the correction of `base` that best fits the measurements, starting from `init`.
/// `radius_px` is a typical distance of image points from the centre (pixels, e.g. half the
/// image diagonal); it scales the stopping rule and the uncertainty.
pub fn solve_correction(
    base: &Camera,
    init: &Correction,
    meas: &[Measurement],
    radius_px: f64,
    cfg: &SolveConfig,
) -> Result<SolveResult<Correction>, VisionError> {
    let dim = if cfg.estimate_k1 { 5 } else { 4 };
    let model = CorrectionModel {
        base,
        dim,
        k1_prior: 1.0 / (cfg.k1_prior_sigma * cfg.k1_prior_sigma).max(1e-18),
        prior_px: cfg.prior_px,
        radius_px,
    };
    let x0 = DVector::from_iterator(dim, init.to_array().into_iter().take(dim));
    let res = robust_solve(&model, x0, meas, cfg)?;
    let value = Correction::from_slice(res.value.as_slice());
    let cam = value.apply(base);
    if !cam.intrinsics.is_valid() || !value.is_finite() {
        return Err(VisionError::Diverged);
    }
    Ok(SolveResult {
        value,
        residual_px: res.residual_px,
        inliers: res.inliers,
        lines: res.lines,
        sigma: res.sigma,
        information: res.information,
    })
}
