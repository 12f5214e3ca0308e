//! # yardline-calibration
//!
//! Venue calibration with OpenCV: the camera from clicked field landmarks ([`landmarks`]),
//! refined on the painted lines with the engine's own line measurements ([`refine`]); the
//! head's position, mount and encoder offsets from several registered frames with their FreeD
//! samples ([`head`]); the zoom lens table from a zoom sweep ([`lens`], [`sweep`]); and the
//! venue calibration built from them ([`venue`]), written with the engine's `Venue` types.
//!
//! ## Conventions
//! - **Field frame** (DESIGN.md): metres, origin at the centre of the field, +x toward the right
//!   goal line, +y toward the far sideline, +z up.
//! - **Camera**: OpenCV pinhole, `X_cam = R X_field + t` (field to camera), x right, y down,
//!   z forward; `d = 1 + k1 r^2 + k2 r^4`; pixel centres at integers, (0, 0) the top-left
//!   pixel; [`yardline_engine::Camera`].
//! - **Head angles** (FreeD): degrees, pan right, tilt up, roll clockwise seen from behind;
//!   camera-to-field `M Rz(-pan) Rx(tilt) Ry(roll) B` ([`yardline_engine::head`]).
//! - **Residuals**: image distances in pixels between a click and its projected field point.

#![allow(
    clippy::doc_markdown,
    reason = "SQPnP, IPPE, PnP, FreeD and PCHIP are method and product names, not code"
)]

pub mod error;
pub mod head;
pub mod landmarks;
pub mod lens;
mod lm;
pub mod refine;
pub mod sweep;
pub mod venue;

pub use error::CalibrationError;
pub use landmarks::{Correspondence, LandmarkSolution, solve_landmarks, solve_landmarks_views};
