//! The calibration error type.

use yardline_engine::lens::LensError;
use yardline_engine::venue::VenueError;

/// Why a calibration step gave no answer.
///
/// [`CalibrationError::is_input_error`] tells bad input (the operator can fix the clicks or the
/// files) from a solver failure.
#[derive(Debug, thiserror::Error)]
pub enum CalibrationError {
    /// Fewer correspondences than the solve needs.
    #[error("too few points: {found} (need at least {needed})")]
    TooFewPoints {
        /// Points given (count).
        found: usize,
        /// Points needed (count).
        needed: usize,
    },
    /// A coordinate is NaN or infinite.
    #[error("point {index}: {what} is not a finite number")]
    NonFinite {
        /// Index of the correspondence.
        index: usize,
        /// Which coordinate (`image` or `field`).
        what: &'static str,
    },
    /// Two correspondences use the same image or field point.
    #[error("points {first} and {second} are the same {what} point")]
    Duplicate {
        /// Index of the first of the two.
        first: usize,
        /// Index of the second.
        second: usize,
        /// Which side repeats (`image` or `field`).
        what: &'static str,
    },
    /// The points lie on one line (in the image or on the field): the camera is not determined.
    #[error(
        "the {what} points are collinear (spread across their line {spread:.3} {unit}); \
         click points that are not all on one line"
    )]
    Collinear {
        /// Which side is degenerate (`image` or `field`).
        what: &'static str,
        /// Standard deviation of the points across their best-fit line.
        spread: f64,
        /// Unit of `spread` (`px` or `m`).
        unit: &'static str,
    },
    /// A clicked point lies outside the image.
    #[error(
        "point {index}: image position ({u:.1}, {v:.1}) is outside the {width}x{height} image \
         (points from an image of another size?)"
    )]
    PointOutsideImage {
        /// Index of the correspondence.
        index: usize,
        /// Its column (pixels).
        u: f64,
        /// Its row (pixels).
        v: f64,
        /// Image width (pixels).
        width: u32,
        /// Image height (pixels).
        height: u32,
    },
    /// The best camera puts a field point behind itself: that point cannot have been seen.
    #[error(
        "point {index}: field point ({x:.2}, {y:.2}, {z:.2}) m would lie behind the camera; \
         check its field position and click"
    )]
    PointBehindCamera {
        /// Index of the correspondence.
        index: usize,
        /// Field x (metres).
        x: f64,
        /// Field y (metres).
        y: f64,
        /// Field z (metres).
        z: f64,
    },
    /// The image size is unusable, or the intrinsics are for another image size.
    #[error("image size: {0}")]
    ImageSize(String),
    /// The intrinsics given are unusable.
    #[error("intrinsics: {0}")]
    Intrinsics(String),
    /// The input is unusable in another way (the message says how).
    #[error("{0}")]
    Input(String),
    /// An OpenCV call failed.
    #[error("OpenCV {call}: {message}")]
    OpenCv {
        /// The function called.
        call: &'static str,
        /// OpenCV's message.
        message: String,
    },
    /// A solve did not converge to a usable answer.
    #[error("solve failed: {0}")]
    Solve(String),
    /// The fitted lens table is not valid.
    #[error("lens table: {0}")]
    Lens(#[from] LensError),
    /// The venue could not be built or written.
    #[error(transparent)]
    Venue(#[from] VenueError),
}

impl CalibrationError {
    /// True for bad input (too few, duplicate, collinear, non-finite, out-of-image or
    /// behind-camera points, a wrong image size or intrinsics): the operator must fix the
    /// input. False for solver and OpenCV failures.
    pub fn is_input_error(&self) -> bool {
        !matches!(
            self,
            Self::OpenCv { .. } | Self::Solve(_) | Self::Lens(_) | Self::Venue(_)
        )
    }

    pub(crate) fn opencv(call: &'static str) -> impl FnOnce(opencv::Error) -> Self {
        move |e| Self::OpenCv {
            call,
            message: e.message,
        }
    }
}
