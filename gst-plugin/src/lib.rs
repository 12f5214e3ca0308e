//! GStreamer plugin `yardline`: the element that draws the virtual first-down line in a
//! broadcast chain through the yardline engine.
//!
//! ```text
//! gst-launch-1.0 decklinkvideosrc ! videoconvert ! \
//!     yardline venue=venue.toml tracking=udp://0.0.0.0:40000 first-down=35 ! ...
//! ```
//!
//! The element is a `GstVideoFilter` working in place on `RGBA`, `BGRA`, `RGBx`, `BGRx`, `I420`,
//! `NV12` and `UYVY`. Every frame goes through the engine's single pipeline
//! ([`yardline_engine::Engine::process`]); properties change while playing and apply on the
//! next frame; tracking comes through the engine's tracking feed (a recording read whole at
//! start, or a UDP listener on its own thread). Conventions (field frame, camera, time in ns)
//! are the engine's.

use gst::glib;

mod debug;
pub mod yardline;

pub use yardline::Yardline;

fn plugin_init(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    yardline::register(plugin)
}

#[allow(
    unsafe_code,
    reason = "plugin_define! emits the exported C entry points GStreamer loads the plugin by"
)]
mod plugin_desc {
    use super::plugin_init;

    gst::plugin_define!(
        yardline,
        env!("CARGO_PKG_DESCRIPTION"),
        plugin_init,
        concat!(env!("CARGO_PKG_VERSION"), "-", env!("COMMIT_ID")),
        "MIT/X11",
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_REPOSITORY"),
        env!("BUILD_REL_DATE")
    );
}

pub use plugin_desc::plugin_register_static;
