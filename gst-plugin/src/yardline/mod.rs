//! The `yardline` element: a `GstVideoFilter` drawing the first-down line in place through the
//! engine's [`Engine::process`](yardline_engine::Engine::process).

use gst::glib;
use gst::prelude::*;

mod imp;
pub mod settings;
mod stats;

pub use imp::CAT;

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
