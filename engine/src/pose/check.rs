//! How this frame's painted lines bear on a camera: their agreement with it (the confidence,
//! the check of a held camera) and how far they leave a yard line's place open.

use nalgebra::DMatrix;

use super::{PoseConfig, half_diagonal};
use crate::geometry::Camera;
use crate::vision::{Correction, LumaView, Measurement, max_linear_sigma};

/// How this frame's painted lines agree with a camera.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Agreement {
    /// Line measurements made (count).
    pub(super) measured: usize,
    /// Measurements within the contradiction distance (count).
    pub(super) within: usize,
    /// Median distance of all measurements from the camera's lines (pixels): robust to the
    /// few misread ones, and it grows with the camera's error as a whole.
    pub(super) median_px: f64,
}

impl Agreement {
    /// `dist` is a buffer kept between frames (its contents are replaced).
    pub(super) fn of(
        camera: &Camera,
        meas: &[Measurement],
        contradict_px: f64,
        dist: &mut Vec<f64>,
    ) -> Self {
        dist.clear();
        dist.extend(meas.iter().map(|m| {
            camera
                .project(&m.field)
                .map_or(f64::INFINITY, |q| m.residual(q).abs())
        }));
        let within = dist.iter().filter(|d| **d <= contradict_px).count();
        let median_px = if dist.is_empty() {
            f64::INFINITY
        } else {
            let mid = dist.len() / 2;
            *dist.select_nth_unstable_by(mid, f64::total_cmp).1
        };
        Self {
            measured: meas.len(),
            within,
            median_px,
        }
    }

    /// Confidence 0..1, `None` without enough measurements to tell.
    pub(super) fn confidence(&self, c: &PoseConfig) -> Option<f64> {
        if self.measured < c.min_evidence {
            return None;
        }
        let share = self.within as f64 / self.measured as f64;
        // Seven in ten measurements on the camera's lines is full agreement; three in ten none.
        let share_q = ((share - 0.3) / 0.4).clamp(0.0, 1.0);
        Some(share_q * self.fade(c))
    }

    /// Opacity for a held camera: 1 up to `agree_px` median distance, 0 from `contradict_px`.
    pub(super) fn fade(&self, c: &PoseConfig) -> f64 {
        if !self.median_px.is_finite() {
            return 0.0;
        }
        ((c.contradict_px - self.median_px) / (c.contradict_px - c.agree_px).max(1e-9))
            .clamp(0.0, 1.0)
    }
}

/// How far (pixels, one standard deviation) a yard line may lie from its place under `camera`
/// given what this frame's lines know of the correction (`information`): the largest over the
/// yard lines through the ground seen at nine places of the image (its centre, sides, top and
/// bottom: a line right at the centre and wrong at the top is turned, not placed).
pub(super) fn yard_line_uncertainty_px(
    camera: &Camera,
    information: &DMatrix<f64>,
    luma: &LumaView<'_>,
) -> f64 {
    let dim = information.nrows();
    let (w, h) = (f64::from(luma.width()), f64::from(luma.height()));
    let ppu = Correction::pixels_per_unit(camera.intrinsics.fx, half_diagonal(luma));
    let steps = ppu.map(|p| 0.01 / p.max(1e-12));
    let mut grads = [[0.0; Correction::MAX_DIM]; 9];
    let mut n = 0;
    let places = [0.5, 0.1, 0.9]
        .into_iter()
        .flat_map(|v| [0.5, 0.1, 0.9].map(|u| (u * w, v * h)));
    for (u, v) in places {
        let Some(g) = camera.unproject_to_ground(nalgebra::Point2::new(u, v)) else {
            continue;
        };
        let (Some(p), Some(q)) = (
            camera.project(&g),
            camera.project(&nalgebra::Point3::new(g.x, g.y + 1.0, 0.0)),
        ) else {
            continue;
        };
        if (q - p).norm() < 1e-9 {
            continue;
        }
        let d = (q - p).normalize();
        let normal = nalgebra::Vector2::new(-d.y, d.x);
        // Displacement across the yard line per unit of each parameter.
        let grad: [f64; Correction::MAX_DIM] = std::array::from_fn(|k| {
            let mut x = [0.0; Correction::MAX_DIM];
            x[k] = steps[k];
            Correction::from_slice(&x)
                .apply(camera)
                .project(&g)
                .map_or(0.0, |p2| normal.dot(&(p2 - p)) / steps[k])
        });
        grads[n] = grad;
        n += 1;
    }
    max_linear_sigma(information, &grads[..n], &ppu[..dim])
}
