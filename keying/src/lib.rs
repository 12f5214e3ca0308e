//! # yardline-keying
//!
//! Video frame layouts for the 8-bit formats yardline handles (`frame`) and, as it lands, the
//! occlusion key: colour palettes compiled into a 3D key LUT and a CPU keyer.

pub mod frame;

pub use frame::{FrameError, FrameLayout, FrameMut, FrameRef, PixelFormat};
