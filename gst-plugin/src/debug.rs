//! The `yardline` debug category every part of the element logs to
//! (`GST_DEBUG=yardline:5`).

use std::sync::LazyLock;

/// The `yardline` debug category.
pub static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "yardline",
        gst::DebugColorFlags::empty(),
        Some("yardline: virtual first-down line"),
    )
});
