//! # yardline-operator
//!
//! The operator desktop app (eframe/egui): watch the program with the line, place the line
//! with a click or a key, fix the key, register a camera, and see at a glance that the pose
//! is healthy. The library holds the app state so that it can be tested with `egui_kittest`;
//! the binary parses flags and opens the window.
//!
//! ```text
//! GStreamer source -> appsink --(video thread: Engine::process)--> previews (bounded, try_send)
//!                                      ^ commands (bounded)              | UI thread
//!                                      +--------- OperatorApp <----------+
//! ```
//!
//! ## Conventions
//! - Pixels: (0, 0) is the centre of the top-left pixel (DESIGN.md); field frame in metres,
//!   yard positions in yards from the left goal line (`x = (L - 50) * 0.9144`).
//! - Times in nanoseconds; frame times in the health panel in milliseconds.
//! - Frames travel as tightly packed RGBA.

pub mod app;
pub mod calib;
pub mod cli;
pub mod error;
pub mod overlay;
pub mod remote;
pub mod sample_cache;
pub mod settings;
pub mod video;

pub use app::OperatorApp;
pub use error::UiError;
