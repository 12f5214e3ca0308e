//! The `yardline` element: a `GstVideoFilter` drawing the first-down line in place through the
//! engine's [`Engine::process`](yardline_engine::Engine::process), or with `output=fill-key`
//! the lines alone into a new alpha-carrying buffer through
//! [`Engine::process_fill_key`](yardline_engine::Engine::process_fill_key).
//!
//! `imp` holds the GObject/GStreamer glue; the rest is plain Rust behind it:
//! `properties` (the property specs), `settings` (property values and the engine
//! configuration they make), `state` (what runs between start and stop, the live swaps and
//! one frame's step), `load` (venue, key and tracking files), `tracking` (the `tracking`
//! URI), `caps` (the src caps of each `output` and the pairings refused), `frame` (a mapped
//! frame handed to the engine), `messages` (bus messages and
//! `stats`) and `control` (the control server's view of the element: remote changes, status,
//! preview thumbnails).

use gst::glib;
use gst::prelude::*;

mod caps;
mod control;
mod frame;
mod imp;
mod load;
mod messages;
mod properties;
pub mod settings;
mod state;
mod tracking;

pub use crate::debug::CAT;
pub use tracking::frame_timecode;

glib::wrapper! {
    /// The `yardline` element.
    pub struct Yardline(ObjectSubclass<imp::Yardline>)
        @extends gst_video::VideoFilter, gst_base::BaseTransform, gst::Element, gst::Object;
}

/// Registers the element with `plugin`.
pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "yardline",
        gst::Rank::NONE,
        Yardline::static_type(),
    )
}
