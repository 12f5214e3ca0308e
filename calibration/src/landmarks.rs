//! Landmark registration: the camera from clicked image points and their field positions.
//!
//! With known intrinsics the pose comes from OpenCV `solvePnP` (SQPnP, plus IPPE for planar
//! points and the iterative solver, the best of them) refined by `solvePnPRefineLM`; from six
//! points on, `solvePnPRansac` picks the starting inliers. With unknown intrinsics a focal
//! length sweep of PnP solves gives a start for `calibrateCamera` on one or several views with
//! the principal point fixed at the image centre, square pixels, no tangential distortion, and
//! `k1` (from [`MIN_POINTS_K1`] points) and `k2` (from [`MIN_POINTS_K2`], in a view wide enough
//! for it: [`MIN_CORNER_R2_K2`]) estimated.
//!
//! Field points on the ground (`z = 0`: yard-line x sideline/hash intersections, number
//! corners, box corners) are the common, planar case; raised points (goal-post tops) are
//! accepted too and make the focal length better determined.
//!
//! Residuals are image distances (pixels) between each click and the projection of its field
//! point with the solved camera (the engine's projection, lens distortion included). Outliers
//! are points whose residual exceeds `max(`[`OUTLIER_MIN_PX`]`, `[`OUTLIER_MAD_K`]` * 1.4826 *
//! median residual)`; they are dropped one by one (largest first) and the camera solved again
//! from the rest while enough points remain.

use nalgebra::{Matrix2, Matrix3, Point2, Point3, Rotation3, Vector3};
use opencv::core::{Mat, Point2d, Point2f, Point3d, Point3f, Size, TermCriteria, Vector};
use opencv::prelude::*;
use serde::{Deserialize, Serialize};
use yardline_engine::geometry::{Camera, Intrinsics, MIN_DEPTH_M};

use crate::error::CalibrationError;

/// Fewest correspondences for a solve (count).
pub const MIN_POINTS: usize = 4;
/// Fewest correspondences (over all views) before `k1` is estimated with the focal length.
pub const MIN_POINTS_K1: usize = 6;
/// Fewest correspondences (over all views) before `k2` is estimated as well.
pub const MIN_POINTS_K2: usize = 14;
/// Least squared distance (normalised image coordinates) of the image corner from the centre
/// before `k2` is estimated: narrower views leave it 0.
pub const MIN_CORNER_R2_K2: f64 = 0.15;
/// Points closer than this to the best-fit line through all image points count as collinear
/// (standard deviation across the line, pixels).
pub const MIN_IMAGE_SPREAD_PX: f64 = 2.0;
/// The same on the field (metres).
pub const MIN_FIELD_SPREAD_M: f64 = 0.05;
/// Residuals up to this are never outliers (pixels): clicks are not that precise.
pub const OUTLIER_MIN_PX: f64 = 3.0;
/// Outlier threshold in robust standard deviations (1.4826 * median residual).
pub const OUTLIER_MAD_K: f64 = 5.0;
/// From this many points on, `solvePnPRansac` chooses the starting inliers.
const RANSAC_MIN_POINTS: usize = 6;
/// RANSAC inlier distance (pixels).
const RANSAC_THRESHOLD_PX: f32 = 8.0;
/// RANSAC iterations.
const RANSAC_ITERATIONS: i32 = 200;
/// Image points closer than this are the same click (pixels).
const DUPLICATE_IMAGE_PX: f64 = 0.5;
/// Field points closer than this are the same point (metres).
const DUPLICATE_FIELD_M: f64 = 0.01;
/// Horizontal fields of view tried when the focal length is unknown (degrees, log spaced).
const FOCAL_SWEEP_HFOV_DEG: (f64, f64, usize) = (0.5, 150.0, 48);
/// Largest horizontal field of view a solved focal length may give (degrees).
const MAX_HFOV_DEG: f64 = 170.0;

/// One clicked point: where it is in the image and where it is on the field.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Correspondence {
    /// Image position `[u, v]` (pixels, pixel centres at integers, (0, 0) top-left).
    pub image: [f64; 2],
    /// Field position `[x, y, z]` (metres, DESIGN.md field frame).
    pub field: [f64; 3],
}

/// A solved camera with its fit quality.
#[derive(Debug, Clone, PartialEq)]
pub struct LandmarkSolution {
    /// The camera (DESIGN.md convention: `X_cam = R X_field + t`).
    pub camera: Camera,
    /// Image distance of each point's projection from its click (pixels), in input order,
    /// outliers included.
    pub residuals_px: Vec<f64>,
    /// RMS of the residuals of the points the camera was solved from, i.e. all but the
    /// outliers (pixels).
    pub rms_px: f64,
    /// Indices of the points flagged as outliers (left out of the final solve), ascending.
    pub outliers: Vec<usize>,
}

impl LandmarkSolution {
    fn from_camera(camera: Camera, points: &[Correspondence], outliers: Vec<usize>) -> Self {
        let residuals_px = residuals(&camera, points);
        let used: Vec<f64> = residuals_px
            .iter()
            .enumerate()
            .filter(|(i, _)| !outliers.contains(i))
            .map(|(_, r)| *r)
            .collect();
        Self {
            camera,
            rms_px: rms(&used),
            residuals_px,
            outliers,
        }
    }
}

/// RMS of some values (0 for none).
pub fn rms(v: &[f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    (v.iter().map(|r| r * r).sum::<f64>() / v.len() as f64).sqrt()
}

/// Image distance between each click and its field point projected with `camera` (pixels);
/// infinite for a point the camera cannot project.
pub fn residuals(camera: &Camera, points: &[Correspondence]) -> Vec<f64> {
    points
        .iter()
        .map(|c| {
            camera
                .project(&Point3::from(c.field))
                .map_or(f64::INFINITY, |p| {
                    (p - Point2::new(c.image[0], c.image[1])).norm()
                })
        })
        .collect()
}

/// Checks points against an image size: enough of them, finite, inside the image, no
/// duplicates, not collinear in the image or on the field.
pub fn validate_points(
    points: &[Correspondence],
    image_size: (u32, u32),
) -> Result<(), CalibrationError> {
    let (width, height) = image_size;
    if width == 0 || height == 0 {
        return Err(CalibrationError::ImageSize(format!(
            "{width}x{height} is not a positive size"
        )));
    }
    if points.len() < MIN_POINTS {
        return Err(CalibrationError::TooFewPoints {
            found: points.len(),
            needed: MIN_POINTS,
        });
    }
    for (index, c) in points.iter().enumerate() {
        if !c.image.iter().all(|v| v.is_finite()) {
            return Err(CalibrationError::NonFinite {
                index,
                what: "image",
            });
        }
        if !c.field.iter().all(|v| v.is_finite()) {
            return Err(CalibrationError::NonFinite {
                index,
                what: "field",
            });
        }
        let [u, v] = c.image;
        let inside = (-0.5..=f64::from(width) - 0.5).contains(&u)
            && (-0.5..=f64::from(height) - 0.5).contains(&v);
        if !inside {
            return Err(CalibrationError::PointOutsideImage {
                index,
                u,
                v,
                width,
                height,
            });
        }
    }
    for (j, b) in points.iter().enumerate() {
        for (i, a) in points[..j].iter().enumerate() {
            let di = Point2::from(a.image) - Point2::from(b.image);
            if di.norm() < DUPLICATE_IMAGE_PX {
                return Err(CalibrationError::Duplicate {
                    first: i,
                    second: j,
                    what: "image",
                });
            }
            let df = Point3::from(a.field) - Point3::from(b.field);
            if df.norm() < DUPLICATE_FIELD_M {
                return Err(CalibrationError::Duplicate {
                    first: i,
                    second: j,
                    what: "field",
                });
            }
        }
    }
    let spread = image_spread(points);
    if spread < MIN_IMAGE_SPREAD_PX {
        return Err(CalibrationError::Collinear {
            what: "image",
            spread,
            unit: "px",
        });
    }
    let spread = field_spread(points);
    if spread < MIN_FIELD_SPREAD_M {
        return Err(CalibrationError::Collinear {
            what: "field",
            spread,
            unit: "m",
        });
    }
    Ok(())
}

/// Standard deviation of the image points across their best-fit line (pixels).
fn image_spread(points: &[Correspondence]) -> f64 {
    let n = points.len() as f64;
    let mean = points.iter().fold(nalgebra::Vector2::zeros(), |a, c| {
        a + nalgebra::Vector2::from(c.image)
    }) / n;
    let cov = points.iter().fold(Matrix2::zeros(), |a, c| {
        let d = nalgebra::Vector2::from(c.image) - mean;
        a + d * d.transpose()
    }) / n;
    cov.symmetric_eigenvalues().min().max(0.0).sqrt()
}

/// Standard deviation of the field points across their best-fit line (metres): the second
/// largest principal spread.
fn field_spread(points: &[Correspondence]) -> f64 {
    let n = points.len() as f64;
    let mean = points
        .iter()
        .fold(Vector3::zeros(), |a, c| a + Vector3::from(c.field))
        / n;
    let cov = points.iter().fold(Matrix3::zeros(), |a, c| {
        let d = Vector3::from(c.field) - mean;
        a + d * d.transpose()
    }) / n;
    let mut ev: Vec<f64> = cov.symmetric_eigenvalues().iter().copied().collect();
    ev.sort_by(f64::total_cmp);
    ev[1].max(0.0).sqrt()
}

/// Checks intrinsics against an image size.
fn validate_intrinsics(k: &Intrinsics, image_size: (u32, u32)) -> Result<(), CalibrationError> {
    if !k.is_valid() {
        return Err(CalibrationError::Intrinsics(format!(
            "{k:?} is not finite with positive focal lengths"
        )));
    }
    let (w, h) = (f64::from(image_size.0), f64::from(image_size.1));
    if !(0.0..=w - 1.0).contains(&k.cx) || !(0.0..=h - 1.0).contains(&k.cy) {
        return Err(CalibrationError::ImageSize(format!(
            "the principal point ({:.1}, {:.1}) lies outside the {}x{} image (intrinsics for \
             another image size?)",
            k.cx, k.cy, image_size.0, image_size.1
        )));
    }
    Ok(())
}

/// Solves the camera of one image from clicked landmarks.
///
/// `intrinsics`: the lens when known (e.g. from the venue's lens table at the FreeD zoom);
/// `None` estimates the focal length (and `k1`, `k2` with enough points) with the principal
/// point at the image centre. Bad input (see [`validate_points`]) and a camera that puts a
/// field point behind itself are errors; points far off the fit are flagged as outliers.
pub fn solve_landmarks(
    points: &[Correspondence],
    image_size: (u32, u32),
    intrinsics: Option<&Intrinsics>,
) -> Result<LandmarkSolution, CalibrationError> {
    validate_points(points, image_size)?;
    if let Some(k) = intrinsics {
        validate_intrinsics(k, image_size)?;
        solve_known(points, k)
    } else {
        let mut sols = solve_views(&[points], image_size)?;
        Ok(sols.remove(0))
    }
}

/// Solves several images of the same lens state (same zoom) at once: one shared set of
/// intrinsics (focal length, and `k1`/`k2` with enough points over all views; principal point
/// at the image centre) and one pose per view, with OpenCV `calibrateCamera`.
pub fn solve_landmarks_views(
    views: &[&[Correspondence]],
    image_size: (u32, u32),
) -> Result<Vec<LandmarkSolution>, CalibrationError> {
    if views.is_empty() {
        return Err(CalibrationError::Input("no views given".into()));
    }
    for v in views {
        validate_points(v, image_size)?;
    }
    solve_views(views, image_size)
}

// ---- known intrinsics ---------------------------------------------------------------------

fn solve_known(
    points: &[Correspondence],
    k: &Intrinsics,
) -> Result<LandmarkSolution, CalibrationError> {
    let all: Vec<usize> = (0..points.len()).collect();
    let mut used = if points.len() >= RANSAC_MIN_POINTS {
        ransac_inliers(points, k)?
            .filter(|v| v.len() >= MIN_POINTS)
            .unwrap_or_else(|| all.clone())
    } else {
        all.clone()
    };
    let mut camera = pose_known(points, &used, k)?;
    // Points RANSAC left out come back when the refined camera fits them.
    let res = residuals(&camera, points);
    let thr = outlier_threshold(&used.iter().map(|&i| res[i]).collect::<Vec<_>>());
    let back: Vec<usize> = all
        .iter()
        .copied()
        .filter(|i| !used.contains(i) && res[*i] <= thr)
        .collect();
    if !back.is_empty() {
        used.extend(back);
        used.sort_unstable();
        camera = pose_known(points, &used, k)?;
    }
    let camera = drop_outliers(points, &mut used, camera, |pts, idx| {
        pose_known(pts, idx, k)
    })?;
    finish(points, camera, &used)
}

/// The points kept by RANSAC (`None` when it finds no model).
fn ransac_inliers(
    points: &[Correspondence],
    k: &Intrinsics,
) -> Result<Option<Vec<usize>>, CalibrationError> {
    let idx: Vec<usize> = (0..points.len()).collect();
    let (obj, img) = cv_points(points, &idx);
    let (km, dist) = cv_intrinsics(k)?;
    let (mut rvec, mut tvec) = (Mat::default(), Mat::default());
    let mut inliers = Mat::default();
    let ok = opencv::calib3d::solve_pnp_ransac(
        &obj,
        &img,
        &km,
        &dist,
        &mut rvec,
        &mut tvec,
        false,
        RANSAC_ITERATIONS,
        RANSAC_THRESHOLD_PX,
        0.999,
        &mut inliers,
        opencv::calib3d::SOLVEPNP_EPNP,
    )
    .map_err(CalibrationError::opencv("solvePnPRansac"))?;
    if !ok || inliers.empty() {
        return Ok(None);
    }
    let mut out = Vec::new();
    for r in 0..inliers.rows() {
        let i = *inliers
            .at_2d::<i32>(r, 0)
            .map_err(CalibrationError::opencv("solvePnPRansac inliers"))?;
        out.push(i as usize);
    }
    out.sort_unstable();
    Ok(Some(out))
}

/// Pose from the points `used` with known intrinsics: the best of SQPnP, IPPE (planar points)
/// and the iterative solver, refined by Levenberg-Marquardt.
fn pose_known(
    points: &[Correspondence],
    used: &[usize],
    k: &Intrinsics,
) -> Result<Camera, CalibrationError> {
    let (obj, img) = cv_points(points, used);
    let (km, dist) = cv_intrinsics(k)?;
    let mut methods = vec![
        opencv::calib3d::SOLVEPNP_SQPNP,
        opencv::calib3d::SOLVEPNP_ITERATIVE,
    ];
    if is_planar(points, used) {
        methods.push(opencv::calib3d::SOLVEPNP_IPPE);
    }
    let sel: Vec<Correspondence> = used.iter().map(|&i| points[i]).collect();
    let mut best: Option<(f64, Camera)> = None;
    for flags in methods {
        let (mut rvec, mut tvec) = (Mat::default(), Mat::default());
        let solved =
            opencv::calib3d::solve_pnp(&obj, &img, &km, &dist, &mut rvec, &mut tvec, false, flags);
        // A solver that refuses this configuration is simply not a candidate.
        if !matches!(solved, Ok(true)) {
            continue;
        }
        let criteria = TermCriteria::new(
            opencv::core::TermCriteria_COUNT + opencv::core::TermCriteria_EPS,
            100,
            1e-12,
        )
        .map_err(CalibrationError::opencv("TermCriteria"))?;
        opencv::calib3d::solve_pnp_refine_lm(
            &obj, &img, &km, &dist, &mut rvec, &mut tvec, criteria,
        )
        .map_err(CalibrationError::opencv("solvePnPRefineLM"))?;
        let Some(cam) = camera_from_cv(*k, &rvec, &tvec)? else {
            continue;
        };
        let err = cost(&cam, &sel);
        if best.as_ref().is_none_or(|(e, _)| err < *e) {
            best = Some((err, cam));
        }
    }
    best.map(|(_, c)| c)
        .ok_or_else(|| CalibrationError::Solve("solvePnP found no pose".into()))
}

// ---- unknown intrinsics -------------------------------------------------------------------

/// Joint intrinsics + per-view poses, with outlier rejection per view.
fn solve_views(
    views: &[&[Correspondence]],
    image_size: (u32, u32),
) -> Result<Vec<LandmarkSolution>, CalibrationError> {
    let mut used: Vec<Vec<usize>> = views.iter().map(|v| (0..v.len()).collect()).collect();
    let mut cams = calibrate(views, &used, image_size)?;
    loop {
        let mut dropped = false;
        for (vi, v) in views.iter().enumerate() {
            if used[vi].len() <= MIN_POINTS + 1 {
                continue;
            }
            let res = residuals(&cams[vi], v);
            let mine: Vec<f64> = used[vi].iter().map(|&i| res[i]).collect();
            let thr = outlier_threshold(&mine);
            if let Some((pos, _)) = mine
                .iter()
                .enumerate()
                .filter(|(_, r)| **r > thr)
                .max_by(|a, b| a.1.total_cmp(b.1))
            {
                used[vi].remove(pos);
                dropped = true;
            }
        }
        if !dropped {
            break;
        }
        cams = calibrate(views, &used, image_size)?;
    }
    views
        .iter()
        .zip(cams)
        .zip(&used)
        .map(|((v, cam), u)| finish(v, cam, u))
        .collect()
}

/// `calibrateCamera` over the points `used` of each view, started from a focal-length sweep.
fn calibrate(
    views: &[&[Correspondence]],
    used: &[Vec<usize>],
    image_size: (u32, u32),
) -> Result<Vec<Camera>, CalibrationError> {
    let (w, h) = (f64::from(image_size.0), f64::from(image_size.1));
    let centre = (0.5 * w - 0.5, 0.5 * h - 0.5);
    let f0 = focal_sweep(views, used, image_size, centre)?;
    let total: usize = used.iter().map(Vec::len).sum();
    let mut flags = opencv::calib3d::CALIB_USE_INTRINSIC_GUESS
        | opencv::calib3d::CALIB_FIX_PRINCIPAL_POINT
        | opencv::calib3d::CALIB_FIX_ASPECT_RATIO
        | opencv::calib3d::CALIB_ZERO_TANGENT_DIST
        | opencv::calib3d::CALIB_FIX_K3;
    // `k2` acts on the fourth power of the distance from the centre: in a narrow view its
    // effect stays under the click noise and a fitted value is noise that grows when the same
    // lens zooms out.
    let corner_r2_at_f0 = ((0.5 * w).powi(2) + (0.5 * h).powi(2)) / (f0 * f0);
    if total < MIN_POINTS_K2 || corner_r2_at_f0 < MIN_CORNER_R2_K2 {
        flags |= opencv::calib3d::CALIB_FIX_K2;
    }
    if total < MIN_POINTS_K1 {
        flags |= opencv::calib3d::CALIB_FIX_K1;
    }
    let start = Intrinsics {
        fx: f0,
        fy: f0,
        cx: centre.0,
        cy: centre.1,
        k1: 0.0,
        k2: 0.0,
    };
    let cams = calibrate_cv(views, used, image_size, &start, flags)?;
    // A distortion estimate that folds the lens inside the image is noise, not a lens.
    let corner_r2 = {
        let k = cams[0].intrinsics;
        let (x, y) = (
            (w - 1.0 - k.cx).max(k.cx) / k.fx,
            (h - 1.0 - k.cy).max(k.cy) / k.fy,
        );
        x * x + y * y
    };
    if cams[0].intrinsics.max_valid_r2() < corner_r2 * 1.5 {
        let flags = flags | opencv::calib3d::CALIB_FIX_K1 | opencv::calib3d::CALIB_FIX_K2;
        return calibrate_cv(views, used, image_size, &start, flags);
    }
    Ok(cams)
}

fn calibrate_cv(
    views: &[&[Correspondence]],
    used: &[Vec<usize>],
    image_size: (u32, u32),
    start: &Intrinsics,
    flags: i32,
) -> Result<Vec<Camera>, CalibrationError> {
    let mut obj: Vector<Vector<Point3f>> = Vector::new();
    let mut img: Vector<Vector<Point2f>> = Vector::new();
    for (v, u) in views.iter().zip(used) {
        obj.push(
            u.iter()
                .map(|&i| {
                    let p = v[i].field;
                    Point3f::new(p[0] as f32, p[1] as f32, p[2] as f32)
                })
                .collect(),
        );
        img.push(
            u.iter()
                .map(|&i| {
                    let p = v[i].image;
                    Point2f::new(p[0] as f32, p[1] as f32)
                })
                .collect(),
        );
    }
    let (mut km, _) = cv_intrinsics(start)?;
    let mut dist = Mat::from_slice(&[0.0_f64; 5])
        .and_then(|m| m.try_clone())
        .map_err(CalibrationError::opencv("Mat"))?;
    let mut rvecs: Vector<Mat> = Vector::new();
    let mut tvecs: Vector<Mat> = Vector::new();
    let criteria = TermCriteria::new(
        opencv::core::TermCriteria_COUNT + opencv::core::TermCriteria_EPS,
        200,
        f64::EPSILON,
    )
    .map_err(CalibrationError::opencv("TermCriteria"))?;
    let size = Size::new(image_size.0 as i32, image_size.1 as i32);
    opencv::calib3d::calibrate_camera(
        &obj, &img, size, &mut km, &mut dist, &mut rvecs, &mut tvecs, flags, criteria,
    )
    .map_err(CalibrationError::opencv("calibrateCamera"))?;
    let get = |m: &Mat, r: i32, c: i32| -> Result<f64, CalibrationError> {
        m.at_2d::<f64>(r, c)
            .copied()
            .map_err(CalibrationError::opencv("calibrateCamera result"))
    };
    let d = |i: i32| -> Result<f64, CalibrationError> {
        if dist.rows() == 1 {
            get(&dist, 0, i)
        } else {
            get(&dist, i, 0)
        }
    };
    let k = Intrinsics {
        fx: get(&km, 0, 0)?,
        fy: get(&km, 1, 1)?,
        cx: get(&km, 0, 2)?,
        cy: get(&km, 1, 2)?,
        k1: d(0)?,
        k2: d(1)?,
    };
    let min_f = 0.5 * f64::from(image_size.0) / (0.5 * MAX_HFOV_DEG.to_radians()).tan();
    if !k.is_valid() || k.fx < min_f {
        return Err(CalibrationError::Solve(format!(
            "calibrateCamera gave unusable intrinsics {k:?}"
        )));
    }
    let mut cams = Vec::with_capacity(views.len());
    for i in 0..views.len() {
        let (r, t) = (
            rvecs.get(i).map_err(CalibrationError::opencv("rvecs"))?,
            tvecs.get(i).map_err(CalibrationError::opencv("tvecs"))?,
        );
        let cam = camera_from_cv(k, &r, &t)?.ok_or_else(|| {
            CalibrationError::Solve("calibrateCamera gave a non-finite pose".into())
        })?;
        cams.push(cam);
    }
    Ok(cams)
}

/// Focal length (pixels) whose PnP solves fit the views best, over a log sweep of fields of
/// view (no distortion).
fn focal_sweep(
    views: &[&[Correspondence]],
    used: &[Vec<usize>],
    image_size: (u32, u32),
    centre: (f64, f64),
) -> Result<f64, CalibrationError> {
    let (lo, hi, n) = FOCAL_SWEEP_HFOV_DEG;
    let half_w = 0.5 * f64::from(image_size.0);
    let mut best: Option<(f64, f64)> = None;
    for s in 0..n {
        let hfov = lo * (hi / lo).powf(s as f64 / (n - 1) as f64);
        let f = half_w / (0.5 * hfov.to_radians()).tan();
        let k = Intrinsics {
            fx: f,
            fy: f,
            cx: centre.0,
            cy: centre.1,
            k1: 0.0,
            k2: 0.0,
        };
        let mut total = 0.0;
        let mut ok = true;
        for (v, u) in views.iter().zip(used) {
            match pose_known(v, u, &k) {
                Ok(cam) => {
                    let sel: Vec<Correspondence> = u.iter().map(|&i| v[i]).collect();
                    total += cost(&cam, &sel);
                }
                Err(CalibrationError::Solve(_)) => ok = false,
                Err(e) => return Err(e),
            }
        }
        if ok && total.is_finite() && best.is_none_or(|(c, _)| total < c) {
            best = Some((total, f));
        }
    }
    best.map(|(_, f)| f).ok_or_else(|| {
        CalibrationError::Solve("no focal length gives a pose for these points".into())
    })
}

// ---- shared -------------------------------------------------------------------------------

/// Sum of squared residuals (pixels^2); infinite when a point does not project.
fn cost(cam: &Camera, points: &[Correspondence]) -> f64 {
    residuals(cam, points).iter().map(|r| r * r).sum()
}

/// Residual above which a point is an outlier, from the residuals of the points in use.
pub fn outlier_threshold(res: &[f64]) -> f64 {
    let mut v: Vec<f64> = res.iter().copied().filter(|r| r.is_finite()).collect();
    if v.is_empty() {
        return OUTLIER_MIN_PX;
    }
    v.sort_by(f64::total_cmp);
    let med = v[v.len() / 2];
    OUTLIER_MIN_PX.max(OUTLIER_MAD_K * 1.4826 * med)
}

/// Drops the worst point while it is an outlier and enough points remain, re-solving each time.
fn drop_outliers(
    points: &[Correspondence],
    used: &mut Vec<usize>,
    mut camera: Camera,
    solve: impl Fn(&[Correspondence], &[usize]) -> Result<Camera, CalibrationError>,
) -> Result<Camera, CalibrationError> {
    while used.len() > MIN_POINTS + 1 {
        let res = residuals(&camera, points);
        let mine: Vec<f64> = used.iter().map(|&i| res[i]).collect();
        let thr = outlier_threshold(&mine);
        let Some((pos, _)) = mine
            .iter()
            .enumerate()
            .filter(|(_, r)| **r > thr)
            .max_by(|a, b| a.1.total_cmp(b.1))
        else {
            break;
        };
        used.remove(pos);
        camera = solve(points, used)?;
    }
    Ok(camera)
}

/// Checks every point is in front of the camera and builds the solution.
fn finish(
    points: &[Correspondence],
    camera: Camera,
    used: &[usize],
) -> Result<LandmarkSolution, CalibrationError> {
    for (index, c) in points.iter().enumerate() {
        let p = Point3::from(c.field);
        let z = camera.to_camera(&p).z;
        if z.is_nan() || z < MIN_DEPTH_M {
            return Err(CalibrationError::PointBehindCamera {
                index,
                x: p.x,
                y: p.y,
                z: p.z,
            });
        }
    }
    let outliers: Vec<usize> = (0..points.len()).filter(|i| !used.contains(i)).collect();
    if !outliers.is_empty() {
        tracing::warn!(?outliers, "landmark points left out as outliers");
    }
    Ok(LandmarkSolution::from_camera(camera, points, outliers))
}

/// True when the points `used` lie on one plane (within a millimetre).
fn is_planar(points: &[Correspondence], used: &[usize]) -> bool {
    let sel: Vec<Correspondence> = used.iter().map(|&i| points[i]).collect();
    let n = sel.len() as f64;
    let mean = sel
        .iter()
        .fold(Vector3::zeros(), |a, c| a + Vector3::from(c.field))
        / n;
    let cov = sel.iter().fold(Matrix3::zeros(), |a, c| {
        let d = Vector3::from(c.field) - mean;
        a + d * d.transpose()
    }) / n;
    cov.symmetric_eigenvalues().min().max(0.0).sqrt() < 1e-3
}

/// OpenCV point vectors of the points `used`.
fn cv_points(points: &[Correspondence], used: &[usize]) -> (Vector<Point3d>, Vector<Point2d>) {
    let obj = used
        .iter()
        .map(|&i| {
            let p = points[i].field;
            Point3d::new(p[0], p[1], p[2])
        })
        .collect();
    let img = used
        .iter()
        .map(|&i| {
            let p = points[i].image;
            Point2d::new(p[0], p[1])
        })
        .collect();
    (obj, img)
}

/// OpenCV camera matrix and distortion vector `(k1, k2, p1, p2)`.
fn cv_intrinsics(k: &Intrinsics) -> Result<(Mat, Mat), CalibrationError> {
    let km = Mat::from_slice_2d(&[[k.fx, 0.0, k.cx], [0.0, k.fy, k.cy], [0.0, 0.0, 1.0]])
        .map_err(CalibrationError::opencv("Mat"))?;
    let dist = Mat::from_slice(&[k.k1, k.k2, 0.0, 0.0])
        .and_then(|m| m.try_clone())
        .map_err(CalibrationError::opencv("Mat"))?;
    Ok((km, dist))
}

/// The engine camera of an OpenCV `rvec`, `tvec` (`None` when not finite).
fn camera_from_cv(
    k: Intrinsics,
    rvec: &Mat,
    tvec: &Mat,
) -> Result<Option<Camera>, CalibrationError> {
    let read = |m: &Mat| -> Result<Vector3<f64>, CalibrationError> {
        let v: Vec<f64> = if m.rows() == 1 {
            (0..3)
                .map(|i| m.at_2d::<f64>(0, i).copied())
                .collect::<Result<_, _>>()
        } else {
            (0..3)
                .map(|i| m.at_2d::<f64>(i, 0).copied())
                .collect::<Result<_, _>>()
        }
        .map_err(CalibrationError::opencv("pose vector"))?;
        Ok(Vector3::new(v[0], v[1], v[2]))
    };
    let (r, t) = (read(rvec)?, read(tvec)?);
    if !r.iter().chain(t.iter()).all(|v| v.is_finite()) {
        return Ok(None);
    }
    Ok(Some(Camera {
        intrinsics: k,
        rotation: Rotation3::new(r),
        translation: t,
    }))
}
