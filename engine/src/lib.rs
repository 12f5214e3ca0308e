//! # yardline-engine
//!
//! Geometry, tracking, pose and compositing for drawing field-space graphics on live
//! sports video.
//!
//! ## Conventions
//! - **Field frame** (American football): metres, right-handed, origin at the centre of the
//!   field; +x toward the right goal line of the main camera's view, +y toward the far
//!   sideline, +z up. Yard position `L` (yards from the left goal line): `x = (L - 50) * 0.9144`.
//!   Soccer: origin at the centre spot, +x toward the right goal, +y toward the far touchline.
//! - **Camera**: OpenCV pinhole, `X_cam = R * X_field + t` (`R`, `t` map field to camera), camera
//!   frame x right, y down, z forward; radial distortion `d = 1 + k1 r^2 + k2 r^4` on normalised
//!   coordinates. Pixel centres at integer coordinates, (0, 0) the top-left pixel. f64.
//! - **Head angles** (FreeD): see [`head`]: pan positive to the right, tilt positive up, roll
//!   positive clockwise seen from behind; all zero looks along field +y. `OpenTrackIO`'s pan is
//!   positive to the left and is negated into these ([`tracking::opentrackio`]).
//! - **Time**: nanoseconds; SMPTE timecode as frames since midnight ([`tracking::timecode`]).

pub mod config;
pub mod control;
pub mod exclusion;
pub mod faults;
pub mod field;
pub mod geometry;
pub mod graphics;
pub mod head;
pub mod key;
pub mod lens;
pub mod pipeline;
pub mod pose;
pub mod render;
pub mod report;
pub mod sched;
pub mod tracking;
pub mod venue;
pub mod vision;

pub use config::{
    AUTO_KEY_RELEARN_FRAMES, BackendChoice, DEFAULT_FADE_MS, DEFAULT_FIRST_DOWN_RGB,
    DEFAULT_SCRIMMAGE_RGB, EngineConfig, EngineError, ExtraLine, FRAME_PERIOD_5994_NS, YardLine,
};
pub use field::{FieldKind, FieldModel};
pub use geometry::{Camera, Crown, Intrinsics};
pub use graphics::{GroundStrip, StripMesh, TessellationOptions};
pub use head::{HeadAngles, Mount};
pub use pipeline::{Engine, InjectedFault, OutputMode};
pub use report::{EngineStats, FrameFault, FrameReport, Stage, StageTimings};
