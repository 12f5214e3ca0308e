//! # yardline-samples
//!
//! Synthetic broadcast footage of an American-football field with exact camera truth, and
//! the scorer behind `yardline eval`.
//!
//! The generator shares no code with the engine's projection, field model or head model: it
//! has its own ([`camera`], the painted field in `field`), written from the conventions in
//! DESIGN.md, so that its truth cannot share the engine's bugs.
//!
//! ## Conventions
//! - **Field frame**: metres, right-handed, origin at the centre of the field, +x toward the
//!   right goal line, +y toward the far sideline, +z up; yard `L` -> `x = (L - 50) * 0.9144`.
//! - **Camera**: `OpenCV` pinhole, `X_cam = R X_field + t`, x right, y down, z forward; radial
//!   distortion `d = 1 + k1 r^2 + k2 r^4` on normalised coordinates; pixel centres at integers.
//! - **Head** (`FreeD`): pan positive to the right, tilt positive up, roll positive clockwise
//!   seen from behind; camera-to-field `M Rz(-pan) Rx(tilt) Ry(roll) B`.
//! - **Time**: nanoseconds; frame `i` at `round(i * 1e9 * fps_den / fps_num)`.
//! - **Mask**: 255 players/officials/ball (coverage >= 0.5), 0 field surface (grass and paint),
//!   128 outside the field of play.

pub mod camera;
pub mod config;
pub mod error;
pub mod eval;
mod field;
pub mod motion;
mod noise;
mod players;
pub mod records;
mod render;
mod sample;
mod stadium;

pub use camera::{HeadAngles, Intrinsics, LensCurve, MountPose, PinholeCamera};
pub use config::{SampleConfig, Scenario, SceneConfig};
pub use error::{Result, SampleError};
pub use eval::{EvalReport, Scorer};
pub use motion::FreedD1;
pub use records::{
    Click, ReportIntrinsics, ReportRecord, TrackingRecord, TruthRecord, VenueFile, clicks_json,
    read_clicks_json, read_report_jsonl, read_tracking_jsonl, read_truth_jsonl,
};
pub use render::{MASK_FIELD, MASK_OUTSIDE, MASK_PLAYER};
pub use sample::{
    CLICK_NOISE_PX, EXCLUSIONS_FILE, FILL_CLICKS, MIN_CLICKS, RenderedFrame,
    STREAM_H264_BITS_PER_PIXEL, Sample,
};
pub use stadium::{
    LOGO_RADIUS_M, OPERATOR_SCORE_BUG_RECT, SCORE_BUG_RECT, Surface, score_bug_pixels,
};
