//! Vision refinement: find the painted field lines near where a camera predicts them, solve a
//! small camera correction from them, and filter that correction over time.
//!
//! ## Conventions
//! - Cameras follow [`crate::geometry`]: `X_cam = R X_field + t`, OpenCV axes, pixel centres at
//!   integer coordinates, f64.
//! - A [`Correction`] acts in the camera frame about the optical centre:
//!   `R' = exp([w]x) R`, `fx' = fx e^s`, `fy' = fy e^s`, the centre unchanged (a head pans,
//!   tilts, rolls and zooms about a fixed point). `w` is a rotation vector in radians, `s` the
//!   natural log of the focal scale.
//! - Measurements are signed pixel distances along the predicted line's image normal, or at a
//!   line's free end (hash marks, sideline ticks) along the normal of the end's edge; the
//!   residual of a camera is `n . (project(P) - observed)`.
//! - Luma is BT.709 in code values 0..=255 (RGB formats: full-range weighted sum; YUV formats:
//!   the Y plane as stored). Only its differences matter.
//!
//! Flow: [`LineTemplate::new`] (once per field) lists search points on the painted lines;
//! [`measure`] projects them with a predicted camera, keeps those in view and locates each
//! line's centre on a short luma profile across it (and, when asked, the free ends of the
//! hash marks and ticks along them); [`solve_correction`] fits a correction by
//! robust Gauss-Newton; [`CorrectionFilter`] smooths it with a Kalman filter
//! (a velocity kept or dying away, `k1` a random walk).
//! [`solve_homography`] fits a field-to-image homography from the same measurements (operator
//! registration).

mod ends;
mod homography;
mod kalman;
mod luma;
mod measure;
mod ridge;
mod solve;
mod template;

pub use homography::{Homography, HomographyFit, register_homography, solve_homography};
pub use kalman::{CorrectionFilter, KalmanTuning};
pub use luma::LumaView;
pub use measure::{
    MeasureParams, Measurement, Projector, measure, measure_counted_with, measure_with,
};
pub use ridge::RidgeMap;
pub use solve::{
    Correction, SolveConfig, SolveResult, max_linear_sigma, residual_rms, solve_correction,
};
pub use template::{LineTemplate, TemplatePoint};

/// Why a vision step gave no answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VisionError {
    /// Too few line measurements survived to constrain the solve.
    #[error("too few line measurements: {found} (need {needed})")]
    TooFewMeasurements {
        /// Measurements available (count).
        found: usize,
        /// Measurements needed (count).
        needed: usize,
    },
    /// The measurements do not constrain every parameter (e.g. all lines parallel).
    #[error("the visible lines do not constrain the solve")]
    Degenerate,
    /// The solve produced a non-finite or absurd camera.
    #[error("the solve diverged")]
    Diverged,
}
