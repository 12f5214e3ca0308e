//! The element's properties as `gst-inspect-1.0 yardline` shows them: names, ranges, defaults
//! and the texts that document them.

use gst::glib;
use gst::prelude::*;
use yardline_engine::venue::MAX_TRACKING_DELAY_NS;

use super::settings::{
    BackendProperty, DEFAULT_BUDGET, DEFAULT_CAMERA_ID, DEFAULT_FIRST_DOWN,
    DEFAULT_FIRST_DOWN_COLOR, DEFAULT_OPACITY, DEFAULT_POST_MESSAGES, DEFAULT_REALTIME,
    DEFAULT_SCRIMMAGE, DEFAULT_SCRIMMAGE_COLOR, DEFAULT_SHOW_FIRST_DOWN, DEFAULT_SHOW_SCRIMMAGE,
    DEFAULT_TRACKING_DELAY, Field, Output, Pose,
};

/// Narrowest line width accepted (metres).
const MIN_LINE_WIDTH_M: f64 = 0.01;
/// Widest line width accepted (metres; the engine's own limit is 5 m exclusive).
const MAX_LINE_WIDTH_M: f64 = 4.99;

/// Every property, in the order `gst-inspect-1.0` lists them.
#[allow(
    clippy::too_many_lines,
    reason = "one declarative list of every property"
)]
pub fn specs() -> Vec<glib::ParamSpec> {
    vec![
        glib::ParamSpecString::builder("venue")
            .nick("Venue file")
            .blurb(
                "Venue calibration (venue.toml): lens table, head mount and tracking \
                 delay per camera. Needed for tracking. A missing file fails start; a \
                 bad new file while playing is ignored with a warning",
            )
            .mutable_playing()
            .build(),
        glib::ParamSpecString::builder("keying")
            .nick("Key file")
            .blurb(
                "Key palette (key.toml): the colours of the field surface, so players \
                 stay in front of the line. Unset: an automatic palette from the first \
                 frame with a pose",
            )
            .mutable_playing()
            .build(),
        glib::ParamSpecString::builder("exclusions")
            .nick("Exclusions")
            .blurb(
                "Parts of the picture never drawn over (score bug, network bug, ticker), \
                 besides the key file's [[exclusion]]s: shapes separated by ';', each \
                 rect:u0,v0,u1,v1 or polygon:u,v,u,v,u,v[,...] in normalised image \
                 coordinates ((0,0) top-left corner, (1,1) bottom-right; a pixel whose \
                 centre lies inside is left as it came in; outside the frame is clipped). \
                 A malformed value is ignored with a warning",
            )
            .mutable_playing()
            .build(),
        glib::ParamSpecEnum::builder_with_default("field", Field::Nfl)
            .nick("Field")
            .blurb("Field rulebook: its line and hash-mark layout")
            .mutable_playing()
            .build(),
        glib::ParamSpecDouble::builder("first-down")
            .nick("First-down yard")
            .blurb("First-down line: yards from the left goal line (-10..110, end zones included)")
            .minimum(-10.0)
            .maximum(110.0)
            .default_value(DEFAULT_FIRST_DOWN)
            .mutable_playing()
            .build(),
        glib::ParamSpecDouble::builder("scrimmage")
            .nick("Scrimmage yard")
            .blurb("Line of scrimmage: yards from the left goal line (-10..110)")
            .minimum(-10.0)
            .maximum(110.0)
            .default_value(DEFAULT_SCRIMMAGE)
            .mutable_playing()
            .build(),
        glib::ParamSpecBoolean::builder("show-first-down")
            .nick("Show first down")
            .blurb("Draw the first-down line (fades in and out when toggled)")
            .default_value(DEFAULT_SHOW_FIRST_DOWN)
            .mutable_playing()
            .build(),
        glib::ParamSpecBoolean::builder("show-scrimmage")
            .nick("Show scrimmage")
            .blurb("Draw the line of scrimmage (fades in and out when toggled)")
            .default_value(DEFAULT_SHOW_SCRIMMAGE)
            .mutable_playing()
            .build(),
        glib::ParamSpecDouble::builder("line-width")
            .nick("Line width")
            .blurb("Painted width of both lines on the ground (metres)")
            .minimum(MIN_LINE_WIDTH_M)
            .maximum(MAX_LINE_WIDTH_M)
            .default_value(yardline_engine::graphics::DEFAULT_LINE_WIDTH_M)
            .mutable_playing()
            .build(),
        glib::ParamSpecUInt::builder("first-down-color")
            .nick("First-down colour")
            .blurb("First-down line colour as 0xAARRGGBB (alpha ignored: see opacity)")
            .default_value(DEFAULT_FIRST_DOWN_COLOR)
            .mutable_playing()
            .build(),
        glib::ParamSpecUInt::builder("scrimmage-color")
            .nick("Scrimmage colour")
            .blurb("Line-of-scrimmage colour as 0xAARRGGBB (alpha ignored: see opacity)")
            .default_value(DEFAULT_SCRIMMAGE_COLOR)
            .mutable_playing()
            .build(),
        glib::ParamSpecDouble::builder("opacity")
            .nick("Opacity")
            .blurb("Opacity of both lines (0 = invisible, 1 = opaque paint)")
            .minimum(0.0)
            .maximum(1.0)
            .default_value(DEFAULT_OPACITY)
            .mutable_playing()
            .build(),
        glib::ParamSpecString::builder("tracking")
            .nick("Tracking source")
            .blurb(
                "Camera tracking: udp://ADDR:PORT to listen for FreeD D1 packets \
                 (receive time = running time), or file:///path/tracking.jsonl \
                 (receive time = buffer timestamps). Needs venue. Unset: vision only",
            )
            .mutable_playing()
            .build(),
        glib::ParamSpecInt64::builder("tracking-delay")
            .nick("Tracking delay")
            .blurb(
                "How long after a frame its tracking packet arrives (ns); -1 takes the \
                 venue's. Live (UDP) tracking adds it to the latency",
            )
            .minimum(-1)
            .maximum(MAX_TRACKING_DELAY_NS)
            .default_value(DEFAULT_TRACKING_DELAY)
            .mutable_playing()
            .build(),
        glib::ParamSpecInt::builder("camera-id")
            .nick("Camera id")
            .blurb("FreeD camera id to follow (0..255); -1 follows the venue's first camera")
            .minimum(-1)
            .maximum(255)
            .default_value(DEFAULT_CAMERA_ID)
            .mutable_playing()
            .build(),
        glib::ParamSpecEnum::builder_with_default("pose-mode", Pose::Auto)
            .nick("Pose mode")
            .blurb("Where the camera pose comes from")
            .mutable_playing()
            .build(),
        glib::ParamSpecBoolean::builder("clean-plate")
            .nick("Clean plate")
            .blurb(
                "Key with the field-space clean plate beside the colour key: the empty \
                 field learnt under each line, so kits of any colour stay foreground and painted \
                 logos and coloured lines count as field (composited on the CPU)",
            )
            .default_value(false)
            .mutable_playing()
            .build(),
        glib::ParamSpecEnum::builder_with_default("backend", BackendProperty::Auto)
            .nick("Compositor backend")
            .blurb("Which compositor draws the line")
            .mutable_playing()
            .build(),
        glib::ParamSpecEnum::builder_with_default("output", Output::Program)
            .nick("Output")
            .blurb(
                "What the src pad carries. program: the video with the lines drawn in, in \
                 the sink caps (in place). fill-key: the lines alone for an external keyer or \
                 a vision mixer's downstream key: the line colour as fill with the very alpha \
                 the program blend uses (coverage x key x opacity, fades included) as key, \
                 straight (not premultiplied), transparent elsewhere; BGRA or ARGB (8-bit \
                 alpha, the fill in RGB) for 8-bit input, AYUV64 (16-bit alpha, the fill in \
                 the input's YUV colorimetry) for 10-bit input; any other src format fails \
                 negotiation with a warning naming those. Always drawn by the CPU \
                 compositor. A change while playing renegotiates from the next frame on; one                  downstream cannot take is refused with a warning and the old output kept",
            )
            .mutable_playing()
            .build(),
        glib::ParamSpecBoolean::builder("post-messages")
            .nick("Post frame messages")
            .blurb(
                "Post a yardline-frame element message per frame: frame, pts, source \
                 (sensor|vision|fused|hold|none), residual-px (-1 when not measured), \
                 inliers, drawn, skipped, backend, stage times (ms), fault",
            )
            .default_value(DEFAULT_POST_MESSAGES)
            .mutable_playing()
            .build(),
        glib::ParamSpecBoolean::builder("realtime")
            .nick("Real-time streaming thread")
            .blurb(
                "Give the streaming thread that draws real-time scheduling (SCHED_FIFO 20, \
                 else the best nice level allowed) when it first draws. Off by default: \
                 GStreamer leaves a streaming thread's priority to the application (its \
                 stream-status message); for gst-launch-1.0, which answers no message, set \
                 it here. The element's helper threads ask for it always",
            )
            .default_value(DEFAULT_REALTIME)
            .mutable_playing()
            .build(),
        glib::ParamSpecInt64::builder("budget")
            .nick("Frame budget")
            .blurb(
                "Processing time allowed per frame (ns); 0 = one frame period. A frame \
                 that overruns it makes the next frame pass through untouched (counted \
                 as a budget skip) so the stream catches up, and the automatic key is \
                 built in the background (frames pass untouched until it is ready); -1 \
                 never skips and builds the key on the first frame, as a render does",
            )
            .minimum(-1)
            .default_value(DEFAULT_BUDGET)
            .mutable_playing()
            .build(),
        glib::ParamSpecString::builder("control")
            .nick("Control address")
            .blurb(
                "Serve the control API (HTTP + WebSocket, JSON) on ADDR:PORT while the element \
                 runs; a bare PORT binds loopback, port 0 picks a free one (see \
                 control-address). Remote changes are validated like properties and apply \
                 at the next frame boundary. Off when empty",
            )
            .mutable_playing()
            .build(),
        glib::ParamSpecString::builder("control-token")
            .nick("Control token")
            .blurb(
                "Shared secret every control request must carry (Authorization: Bearer \
                 TOKEN), compared in constant time; when empty, YARDLINE_CONTROL_TOKEN, \
                 else no token is required",
            )
            .write_only()
            .mutable_playing()
            .build(),
        glib::ParamSpecString::builder("control-address")
            .nick("Control address bound")
            .blurb("The address the control server listens on while it runs")
            .read_only()
            .build(),
        glib::ParamSpecString::builder("stats")
            .nick("Statistics")
            .blurb(
                "Summary as a yardline-stats structure: frames, drawn, faults, panics, \
                 budget skips and overruns, tracking counters, element time per frame \
                 (p50/p99/max ms over the last 1024 frames)",
            )
            .read_only()
            .build(),
    ]
}
