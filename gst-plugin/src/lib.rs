//! GStreamer plugin `yardline`: the element that draws the virtual first-down line in a
//! broadcast chain through the yardline engine.
