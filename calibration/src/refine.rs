//! Refinement on the painted lines: after the clicks, the engine's own line measurements
//! ([`yardline_engine::vision::measure`], hundreds of sub-pixel line-centre positions) and the
//! clicks together refine the whole camera pose (orientation and centre), and optionally the
//! focal length and `k1`, by Levenberg-Marquardt. Each round re-measures around the improved
//! camera; line measurements are weighted by Huber's rule on their robust scale and those
//! beyond [`LINE_OUTLIER_PX`] are dropped. The clicks keep the solution on the right yard
//! lines (the painted pattern repeats every 5 yards).

use nalgebra::{DVector, Point2, Point3, Rotation3, Vector3};
use yardline_engine::field::FieldModel;
use yardline_engine::geometry::{Camera, Intrinsics};
use yardline_engine::vision::{LineTemplate, LumaView, MeasureParams, Measurement, measure};
use yardline_frame::{FrameLayout, FrameRef, PixelFormat};

use crate::error::CalibrationError;
use crate::landmarks::Correspondence;
use crate::lm::{self, LmOptions};

/// Measure-and-solve rounds at most (each re-measures around the improved camera).
const MAX_ROUNDS: usize = 4;
/// Stop once a round moves no line measurement by more than this (pixels).
const CONVERGED_PX: f64 = 0.02;
/// Search distance either side of the predicted line in the first round (pixels); clicked
/// cameras are within a few pixels.
const FIRST_RANGE_PX: f64 = 12.0;
/// Search distance in later rounds (pixels).
const LATER_RANGE_PX: f64 = 6.0;
/// Line measurements farther than this from the current camera's lines are dropped (pixels).
pub const LINE_OUTLIER_PX: f64 = 4.0;
/// Huber constant (robust standard deviations).
const HUBER_K: f64 = 1.345;
/// Floor of the line residual scale (pixels).
const MIN_LINE_SCALE_PX: f64 = 0.15;
/// Nominal click uncertainty (pixels): weighs the clicks against the lines.
pub const CLICK_SIGMA_PX: f64 = 1.0;
/// Residual of a point that no longer projects (pixels): keeps the residual vector's shape.
const LOST_PX: f64 = 100.0;

/// Settings of the line refinement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefineOptions {
    /// Least inlier line measurements for an answer (count).
    pub min_measurements: usize,
    /// Least distinct painted lines among the inliers (count).
    pub min_lines: usize,
    /// Also refine the focal length (when the lens is not known from a table).
    pub estimate_focal: bool,
    /// Also refine `k1` (when the lens is not known from a table).
    pub estimate_k1: bool,
}

impl Default for RefineOptions {
    fn default() -> Self {
        Self {
            min_measurements: 30,
            min_lines: 3,
            estimate_focal: false,
            estimate_k1: false,
        }
    }
}

/// The refined camera and how well the lines fit it.
#[derive(Debug, Clone, PartialEq)]
pub struct LineRefinement {
    /// The camera after refinement.
    pub camera: Camera,
    /// RMS distance of the inlier line measurements from the refined camera's lines (pixels).
    pub residual_px: f64,
    /// Inlier line measurements (count).
    pub inliers: usize,
    /// Distinct painted lines among them (count).
    pub lines: usize,
}

/// The camera of parameters `p` about `base`: rotation vector (camera side), centre shift
/// (metres), then optionally log focal scale and `k1` change.
fn camera_of(base: &Camera, p: &[f64], opts: &RefineOptions) -> Camera {
    let rotation = Rotation3::new(Vector3::new(p[0], p[1], p[2])) * base.rotation;
    let centre = base.centre() + Vector3::new(p[3], p[4], p[5]);
    let mut k = base.intrinsics;
    let mut i = 6;
    if opts.estimate_focal {
        let s = p[i].exp();
        k = Intrinsics {
            fx: k.fx * s,
            fy: k.fy * s,
            ..k
        };
        i += 1;
    }
    if opts.estimate_k1 {
        k.k1 += p[i];
    }
    Camera::from_centre(k, rotation.inverse(), centre)
}

/// Signed line residuals (pixels) of a camera, `LOST_PX` where a point does not project.
fn line_residuals(cam: &Camera, meas: &[Measurement]) -> Vec<f64> {
    meas.iter()
        .map(|m| cam.project(&m.field).map_or(LOST_PX, |p| m.residual(p)))
        .collect()
}

/// Robust scale: 1.4826 * median |r| (pixels), floored.
fn robust_scale(r: &[f64]) -> f64 {
    let mut a: Vec<f64> = r.iter().map(|v| v.abs()).collect();
    if a.is_empty() {
        return MIN_LINE_SCALE_PX;
    }
    a.sort_by(f64::total_cmp);
    (1.4826 * a[a.len() / 2]).max(MIN_LINE_SCALE_PX)
}

/// Refines `start` on the painted lines of `field` seen in `luma`, together with the clicks
/// it was solved from (may be empty).
pub fn refine_with_lines(
    luma: &LumaView<'_>,
    field: &FieldModel,
    start: &Camera,
    clicks: &[Correspondence],
    opts: &RefineOptions,
) -> Result<LineRefinement, CalibrationError> {
    let template = LineTemplate::new(field);
    let dim = 6 + usize::from(opts.estimate_focal) + usize::from(opts.estimate_k1);
    let fx = start.intrinsics.fx;
    let depth = clicks
        .iter()
        .map(|c| start.to_camera(&Point3::from(c.field)).z)
        .fold(50.0_f64, f64::max);
    let mut steps = vec![
        1e-3 / fx,
        1e-3 / fx,
        1e-3 / fx,
        1e-3 * depth / fx,
        1e-3 * depth / fx,
        1e-3 * depth / fx,
    ];
    steps.extend(std::iter::repeat_n(1e-6, dim - 6));
    let mut camera = *start;
    let mut summary = None;
    for round in 0..MAX_ROUNDS {
        let params = MeasureParams {
            max_range_px: if round == 0 {
                FIRST_RANGE_PX
            } else {
                LATER_RANGE_PX
            },
            spacing_px: 12.0,
            max_points: 800,
            ..MeasureParams::default()
        };
        let all = measure(luma, &camera, &template, &params);
        let r0 = line_residuals(&camera, &all);
        let scale = robust_scale(&r0);
        let cut = LINE_OUTLIER_PX
            .min(4.0 * scale)
            .max(3.0 * MIN_LINE_SCALE_PX);
        let kept: Vec<(Measurement, f64)> = all
            .iter()
            .zip(&r0)
            .filter(|(_, r)| r.abs() <= cut)
            .map(|(m, r)| {
                let w = (HUBER_K * scale / r.abs().max(1e-12)).min(1.0);
                (*m, w.sqrt() / scale)
            })
            .collect();
        if kept.len() < opts.min_measurements {
            return Err(CalibrationError::Solve(format!(
                "line refinement: {} line measurements (need {})",
                kept.len(),
                opts.min_measurements
            )));
        }
        let base = camera;
        let f = |p: &DVector<f64>| -> Option<DVector<f64>> {
            let cam = camera_of(&base, p.as_slice(), opts);
            let mut out = Vec::with_capacity(kept.len() + 2 * clicks.len());
            for (m, w) in &kept {
                out.push(cam.project(&m.field).map_or(LOST_PX, |q| m.residual(q)) * w);
            }
            for c in clicks {
                let q = cam
                    .project(&Point3::from(c.field))
                    .unwrap_or(Point2::new(LOST_PX, LOST_PX));
                out.push((q.x - c.image[0]) / CLICK_SIGMA_PX);
                out.push((q.y - c.image[1]) / CLICK_SIGMA_PX);
            }
            Some(DVector::from_vec(out))
        };
        let res = lm::solve(f, DVector::zeros(dim), &steps, &LmOptions::default())
            .ok_or_else(|| CalibrationError::Solve("line refinement diverged".into()))?;
        let next = camera_of(&base, res.x.as_slice(), opts);
        if !next.intrinsics.is_valid() {
            return Err(CalibrationError::Solve("line refinement diverged".into()));
        }
        let moved = kept
            .iter()
            .filter_map(|(m, _)| Some((next.project(&m.field)? - base.project(&m.field)?).norm()))
            .fold(0.0, f64::max);
        camera = next;
        let rf = line_residuals(&camera, &kept.iter().map(|(m, _)| *m).collect::<Vec<_>>());
        let inl: Vec<f64> = rf.iter().copied().filter(|r| r.abs() <= cut).collect();
        let mut lines: Vec<u32> = kept
            .iter()
            .zip(&rf)
            .filter(|(_, r)| r.abs() <= cut)
            .map(|(m, _)| m.0.line)
            .collect();
        lines.sort_unstable();
        lines.dedup();
        tracing::debug!(
            round,
            scale,
            kept = kept.len(),
            moved,
            "line refinement round"
        );
        summary = Some((crate::landmarks::rms(&inl), inl.len(), lines.len()));
        if moved < CONVERGED_PX {
            break;
        }
    }
    let (residual_px, inliers, lines) =
        summary.ok_or_else(|| CalibrationError::Solve("line refinement ran no round".into()))?;
    if inliers < opts.min_measurements || lines < opts.min_lines {
        return Err(CalibrationError::Solve(format!(
            "line refinement: {inliers} inlier measurements on {lines} lines (need {} on {})",
            opts.min_measurements, opts.min_lines
        )));
    }
    Ok(LineRefinement {
        camera,
        residual_px,
        inliers,
        lines,
    })
}

/// [`refine_with_lines`] on a packed rgb24 image (`width * height * 3` bytes, row-major).
pub fn refine_rgb(
    rgb: &[u8],
    width: u32,
    height: u32,
    field: &FieldModel,
    start: &Camera,
    clicks: &[Correspondence],
    opts: &RefineOptions,
) -> Result<LineRefinement, CalibrationError> {
    let layout = FrameLayout::packed(PixelFormat::Rgbx, width, height)
        .map_err(|e| CalibrationError::ImageSize(e.to_string()))?;
    let pixels = width as usize * height as usize;
    if rgb.len() != pixels * 3 {
        return Err(CalibrationError::ImageSize(format!(
            "{} bytes is not a {width}x{height} rgb24 image",
            rgb.len()
        )));
    }
    let rgbx: Vec<u8> = rgb
        .chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect();
    let frame =
        FrameRef::new(&layout, &rgbx).map_err(|e| CalibrationError::Input(e.to_string()))?;
    refine_with_lines(&LumaView::new(frame), field, start, clicks, opts)
}
