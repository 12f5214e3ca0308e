//! Field-to-image homography of the ground plane (operator registration), fitted to the same
//! line measurements as the camera.

use nalgebra::{DVector, Matrix3, Point2, Point3, Vector3};

use super::VisionError;
use super::luma::LumaView;
use super::measure::{MeasureParams, Measurement, Projector, measure};
use super::solve::{Model, SolveConfig, SolveResult, robust_solve};
use super::template::LineTemplate;

/// Homogeneous scale below which a point counts as on the horizon (does not project).
const MIN_W: f64 = 1e-9;
/// Parameters of a homography update (the 3x3 matrix less its fixed last entry).
const H_DIM: usize = 8;
/// Prior standard deviation of each normalised update entry (unitless). Painted lines leave
/// some homographies unconstrained (with one sideline in view, a stretch along the yard
/// lines about it maps every visible line to itself); the weak prior keeps those at the start
/// while the data move the rest freely.
const UPDATE_PRIOR_SIGMA: f64 = 0.05;
/// Registration search ranges, coarse to fine, as fractions of the image width.
const REGISTER_RANGES: [f64; 5] = [0.05, 0.035, 0.02, 0.01, 0.006];
/// Measure-and-solve rounds at each range (count).
const ROUNDS_PER_RANGE: usize = 2;
/// Spacing of registration searches along a line, as a fraction of the image width.
const REGISTER_SPACING: f64 = 0.012;
/// Most registration measurements (count).
const REGISTER_MAX_POINTS: usize = 1500;

/// A homography from field ground coordinates (x, y metres, z = 0) to pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Homography {
    /// The 3x3 matrix: `(u w, v w, w) = H (x, y, 1)`.
    pub h: Matrix3<f64>,
}

impl Homography {
    /// From nine numbers, row-major; `None` unless finite and invertible.
    pub fn from_row_major(h: &[f64; 9]) -> Option<Self> {
        let mut m = Matrix3::from_row_slice(h);
        let ok = m.iter().all(|v| v.is_finite()) && m.determinant().abs() > 1e-300;
        // A homography is defined up to scale; keep the field centre in front (w > 0).
        if m[(2, 2)] < 0.0 {
            m = -m;
        }
        ok.then_some(Self { h: m })
    }

    /// The nine numbers, row-major, scaled so the last is 1 where possible.
    pub fn to_row_major(&self) -> [f64; 9] {
        let s = if self.h[(2, 2)].abs() > 1e-12 {
            self.h[(2, 2)]
        } else {
            1.0
        };
        let m = self.h / s;
        std::array::from_fn(|i| m[(i / 3, i % 3)])
    }

    /// The ground homography of a camera, ignoring lens distortion: `K [r1 r2 t]`.
    pub fn from_camera(cam: &crate::geometry::Camera) -> Self {
        let r = cam.rotation.matrix();
        let m = Matrix3::from_columns(&[
            r.column(0).into_owned(),
            r.column(1).into_owned(),
            cam.translation,
        ]);
        Self {
            h: cam.intrinsics.matrix() * m,
        }
    }

    /// Ground point (x, y metres) -> pixel.
    #[inline]
    pub fn map(&self, x: f64, y: f64) -> Option<Point2<f64>> {
        let q = self.h * Vector3::new(x, y, 1.0);
        (q.z > MIN_W).then(|| Point2::new(q.x / q.z, q.y / q.z))
    }
}

impl Projector for Homography {
    #[inline]
    fn project_point(&self, p: &Point3<f64>) -> Option<Point2<f64>> {
        self.map(p.x, p.y)
    }
}

/// Updates `H' = N^-1 (I + D) N H` with `D` the eight free entries (D22 = 0) and `N` a
/// pixel normalisation (centre, half width), so every parameter is O(1).
struct HomographyModel {
    base: Matrix3<f64>,
    norm: Matrix3<f64>,
    norm_inv: Matrix3<f64>,
    half_width: f64,
}

impl HomographyModel {
    fn new(base: &Homography, width: f64, height: f64) -> Self {
        let s = 0.5 * width;
        let (cx, cy) = (0.5 * width, 0.5 * height);
        let norm = Matrix3::new(1.0 / s, 0.0, -cx / s, 0.0, 1.0 / s, -cy / s, 0.0, 0.0, 1.0);
        let norm_inv = Matrix3::new(s, 0.0, cx, 0.0, s, cy, 0.0, 0.0, 1.0);
        Self {
            base: base.h,
            norm,
            norm_inv,
            half_width: s,
        }
    }

    fn matrix(&self, x: &DVector<f64>) -> Matrix3<f64> {
        let mut d = Matrix3::identity();
        for k in 0..H_DIM {
            d[(k / 3, k % 3)] += x[k];
        }
        self.norm_inv * d * self.norm * self.base
    }
}

impl Model for HomographyModel {
    type Proj = Homography;
    fn build(&self, x: &DVector<f64>) -> Option<Homography> {
        let h = self.matrix(x);
        (h.iter().all(|v| v.is_finite())).then_some(Homography { h })
    }
    fn steps(&self) -> DVector<f64> {
        DVector::from_element(H_DIM, 1e-6)
    }
    fn pixel_scale(&self) -> DVector<f64> {
        DVector::from_element(H_DIM, self.half_width)
    }
    fn prior(&self) -> DVector<f64> {
        DVector::from_element(H_DIM, 1.0 / (UPDATE_PRIOR_SIGMA * UPDATE_PRIOR_SIGMA))
    }
}

/// Solves the homography that best fits the measurements, starting from `init`.
pub fn solve_homography(
    init: &Homography,
    meas: &[Measurement],
    width: u32,
    height: u32,
    cfg: &SolveConfig,
) -> Result<SolveResult<Homography>, VisionError> {
    let model = HomographyModel::new(init, f64::from(width), f64::from(height));
    let res = robust_solve(&model, DVector::zeros(H_DIM), meas, cfg)?;
    let h = model.build(&res.value).ok_or(VisionError::Diverged)?;
    Ok(SolveResult {
        value: h,
        residual_px: res.residual_px,
        inliers: res.inliers,
        lines: res.lines,
        sigma: res.sigma,
        information: res.information,
    })
}

/// Outcome of a registration.
#[derive(Debug, Clone, PartialEq)]
pub struct HomographyFit {
    /// The refined homography.
    pub homography: Homography,
    /// RMS distance of the inlier line measurements from it (pixels).
    pub residual_px: f64,
    /// Inlier measurements (count).
    pub inliers: usize,
    /// Distinct painted lines among the inliers (count).
    pub lines: usize,
}

/// Refines a field-to-image homography from a rough start using the painted lines of the
/// image: measure-and-solve rounds with search ranges shrinking from about 5 % of the image
/// width to under 1 %.
pub fn register_homography(
    luma: &LumaView<'_>,
    template: &LineTemplate,
    init: &Homography,
    cfg: &SolveConfig,
) -> Result<HomographyFit, VisionError> {
    let (w, h) = (luma.width(), luma.height());
    let wf = f64::from(w);
    let mut current = *init;
    let mut last: Option<SolveResult<Homography>> = None;
    for frac in REGISTER_RANGES {
        for _ in 0..ROUNDS_PER_RANGE {
            let params = MeasureParams {
                max_range_px: (frac * wf).max(3.0),
                min_range_px: 1.5,
                spacing_px: (REGISTER_SPACING * wf).max(4.0),
                max_points: REGISTER_MAX_POINTS,
                ends: false,
            };
            let meas = measure(luma, &current, template, &params);
            match solve_homography(&current, &meas, w, h, cfg) {
                Ok(res) => {
                    current = res.value;
                    last = Some(res);
                }
                Err(e) if last.is_none() && frac == REGISTER_RANGES[0] => return Err(e),
                Err(_) => {}
            }
        }
    }
    let res = last.ok_or(VisionError::TooFewMeasurements {
        found: 0,
        needed: cfg.min_measurements,
    })?;
    Ok(HomographyFit {
        homography: res.value,
        residual_px: res.residual_px,
        inliers: res.inliers,
        lines: res.lines,
    })
}
