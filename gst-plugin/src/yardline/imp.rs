//! The element's state and its GObject/GStreamer virtual methods.
//!
//! Threads: properties are set from the application thread; frames arrive on the streaming
//! thread; tracking is read on its own thread (UDP listener or file reader) into a bounded
//! queue that the streaming thread drains. Lock order: `state` before `settings`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::prelude::*;
use gst_video::prelude::*;
use gst_video::subclass::prelude::*;
use yardline_engine::key::FieldKey;
use yardline_engine::tracking::TrackingSample;
use yardline_engine::tracking::source::ReceiveClock;
use yardline_engine::venue::{MAX_TRACKING_DELAY_NS, Venue};
use yardline_engine::{Engine, FrameReport};
use yardline_frame::{FrameLayout, FrameMut, PixelFormat};
use yardline_keying::KeyConfig;

use super::settings::{
    Compositor, DEFAULT_BUDGET, DEFAULT_CAMERA_ID, DEFAULT_FIRST_DOWN, DEFAULT_FIRST_DOWN_COLOR,
    DEFAULT_OPACITY, DEFAULT_POST_MESSAGES, DEFAULT_SCRIMMAGE, DEFAULT_SCRIMMAGE_COLOR,
    DEFAULT_SHOW_FIRST_DOWN, DEFAULT_SHOW_SCRIMMAGE, DEFAULT_TRACKING_DELAY, Field, Pose, Settings,
};
use super::stats::{ElementCounters, TimingRing};
use crate::tracking::{Tracking, TrackingUri, drain_udp, wait_udp};

/// The `yardline` debug category.
pub static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "yardline",
        gst::DebugColorFlags::empty(),
        Some("yardline: virtual first-down line"),
    )
});

/// Name of the per-frame element message.
pub const FRAME_MESSAGE: &str = "yardline-frame";
/// Name of the structure the `stats` property serialises.
pub const STATS_STRUCTURE: &str = "yardline-stats";

/// Formats the element handles, with the engine's names for them.
const FORMATS: [(gst_video::VideoFormat, PixelFormat); 7] = [
    (gst_video::VideoFormat::Rgba, PixelFormat::Rgba),
    (gst_video::VideoFormat::Bgra, PixelFormat::Bgra),
    (gst_video::VideoFormat::Rgbx, PixelFormat::Rgbx),
    (gst_video::VideoFormat::Bgrx, PixelFormat::Bgrx),
    (gst_video::VideoFormat::I420, PixelFormat::I420),
    (gst_video::VideoFormat::Nv12, PixelFormat::Nv12),
    (gst_video::VideoFormat::Uyvy, PixelFormat::Uyvy),
];

/// Narrowest line width accepted (metres).
const MIN_LINE_WIDTH_M: f64 = 0.01;
/// Widest line width accepted (metres; the engine's own limit is 5 m exclusive).
const MAX_LINE_WIDTH_M: f64 = 4.99;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn pixel_format(f: gst_video::VideoFormat) -> Option<PixelFormat> {
    FORMATS.iter().find(|(g, _)| *g == f).map(|(_, p)| *p)
}

fn ns(t: gst::ClockTime) -> i64 {
    i64::try_from(t.nseconds()).unwrap_or(i64::MAX)
}

/// Everything that exists between `start` and `stop`.
struct State {
    /// Built at start, rebuilt when the frame rate or venue changes.
    engine: Engine,
    venue: Option<Arc<Venue>>,
    key: Option<Arc<KeyConfig>>,
    tracking: Option<Tracking>,
    /// Frame period of the negotiated caps (ns).
    frame_period_ns: i64,
    /// Settings generation the engine runs with.
    applied: u64,
    /// Processing budget per frame (ns); `None` = unlimited.
    budget_ns: Option<i64>,
    counters: ElementCounters,
    timings: TimingRing,
    /// The previous frame overran the budget: pass the next one through.
    skip_next: bool,
    /// Contiguous copy of planar frames (the engine wants one buffer with plane offsets).
    scratch: Vec<u8>,
    last_pts: Option<i64>,
}

/// What one frame produced, for the bus.
struct FrameOutcome {
    report: Option<FrameReport>,
    skipped: bool,
    element_ms: f64,
}

/// The element.
pub struct Yardline {
    settings: Mutex<Settings>,
    /// Bumped on every accepted property change; the streaming thread applies it.
    generation: AtomicU64,
    state: Mutex<Option<State>>,
    /// Latency this element adds (ns), for the latency query.
    latency_ns: AtomicU64,
    /// The latency changed and the pipeline has not been told yet.
    latency_changed: AtomicBool,
    /// A flush (seek) happened: the next frame starts a new timeline.
    flushed: AtomicBool,
}

impl std::fmt::Debug for Yardline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Yardline")
            .field("settings", &*lock(&self.settings))
            .finish_non_exhaustive()
    }
}

impl Default for Yardline {
    fn default() -> Self {
        Self {
            settings: Mutex::new(Settings::default()),
            generation: AtomicU64::new(0),
            state: Mutex::new(None),
            latency_ns: AtomicU64::new(0),
            latency_changed: AtomicBool::new(false),
            flushed: AtomicBool::new(false),
        }
    }
}

#[glib::object_subclass]
impl ObjectSubclass for Yardline {
    const NAME: &'static str = "GstYardline";
    type Type = super::Yardline;
    type ParentType = gst_video::VideoFilter;
}

impl ObjectImpl for Yardline {
    #[allow(
        clippy::too_many_lines,
        reason = "one declarative list of every property"
    )]
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
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
                glib::ParamSpecEnum::builder_with_default("backend", Compositor::Auto)
                    .nick("Compositor backend")
                    .blurb("Which compositor draws the line")
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
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        match pspec.name() {
            "venue" => {
                self.set_venue(path_value(value));
                self.post_latency_change();
            }
            "keying" => self.set_keying(path_value(value)),
            "tracking" => {
                self.set_tracking(value.get::<Option<String>>().ok().flatten());
                self.post_latency_change();
            }
            "camera-id" => {
                let id = value.get::<i32>().unwrap_or(DEFAULT_CAMERA_ID);
                self.set_camera_id(id);
                self.post_latency_change();
            }
            "field" => {
                let v = value.get::<Field>().unwrap_or_default();
                self.update("field", |s| s.field = v);
            }
            "first-down" => {
                let v = value.get::<f64>().unwrap_or(f64::NAN);
                self.update("first-down", |s| s.first_down = v);
            }
            "scrimmage" => {
                let v = value.get::<f64>().unwrap_or(f64::NAN);
                self.update("scrimmage", |s| s.scrimmage = v);
            }
            "show-first-down" => {
                let v = value.get::<bool>().unwrap_or(DEFAULT_SHOW_FIRST_DOWN);
                self.update("show-first-down", |s| s.show_first_down = v);
            }
            "show-scrimmage" => {
                let v = value.get::<bool>().unwrap_or(DEFAULT_SHOW_SCRIMMAGE);
                self.update("show-scrimmage", |s| s.show_scrimmage = v);
            }
            "line-width" => {
                let v = value.get::<f64>().unwrap_or(f64::NAN);
                self.update("line-width", |s| s.line_width = v);
            }
            "first-down-color" => {
                let v = value.get::<u32>().unwrap_or(DEFAULT_FIRST_DOWN_COLOR);
                self.update("first-down-color", |s| s.first_down_color = v);
            }
            "scrimmage-color" => {
                let v = value.get::<u32>().unwrap_or(DEFAULT_SCRIMMAGE_COLOR);
                self.update("scrimmage-color", |s| s.scrimmage_color = v);
            }
            "opacity" => {
                let v = value.get::<f64>().unwrap_or(f64::NAN);
                self.update("opacity", |s| s.opacity = v);
            }
            "tracking-delay" => {
                let v = value.get::<i64>().unwrap_or(DEFAULT_TRACKING_DELAY);
                self.update("tracking-delay", |s| s.tracking_delay = v);
            }
            "pose-mode" => {
                let v = value.get::<Pose>().unwrap_or_default();
                self.update("pose-mode", |s| s.pose_mode = v);
            }
            "backend" => {
                let v = value.get::<Compositor>().unwrap_or_default();
                self.update("backend", |s| s.backend = v);
            }
            "post-messages" => {
                let v = value.get::<bool>().unwrap_or(DEFAULT_POST_MESSAGES);
                lock(&self.settings).post_messages = v;
            }
            "budget" => {
                let v = value.get::<i64>().unwrap_or(DEFAULT_BUDGET);
                self.update("budget", |s| s.budget = v);
            }
            other => gst::warning!(CAT, imp = self, "unknown property {other}"),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        if pspec.name() == "stats" {
            return self.stats_string().to_value();
        }
        let s = lock(&self.settings);
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.to_string_lossy().into_owned());
        match pspec.name() {
            "venue" => path(&s.venue).to_value(),
            "keying" => path(&s.keying).to_value(),
            "tracking" => s.tracking.to_value(),
            "camera-id" => s.camera_id.to_value(),
            "field" => s.field.to_value(),
            "first-down" => s.first_down.to_value(),
            "scrimmage" => s.scrimmage.to_value(),
            "show-first-down" => s.show_first_down.to_value(),
            "show-scrimmage" => s.show_scrimmage.to_value(),
            "line-width" => s.line_width.to_value(),
            "first-down-color" => s.first_down_color.to_value(),
            "scrimmage-color" => s.scrimmage_color.to_value(),
            "opacity" => s.opacity.to_value(),
            "tracking-delay" => s.tracking_delay.to_value(),
            "pose-mode" => s.pose_mode.to_value(),
            "backend" => s.backend.to_value(),
            "post-messages" => s.post_messages.to_value(),
            "budget" => s.budget.to_value(),
            // Every property is listed above; GObject never asks for another.
            _ => pspec.default_value().clone(),
        }
    }

    fn constructed(&self) {
        self.parent_constructed();
        // Late frames are passed through (never dropped): the element handles its budget
        // itself instead of base-transform QoS dropping.
        self.obj().set_qos(false);
    }
}

impl GstObjectImpl for Yardline {}

impl ElementImpl for Yardline {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static META: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "yardline first-down line",
                "Filter/Effect/Video",
                "Draws the virtual first-down line and line of scrimmage on football video, \
                 keyed under the players, from FreeD camera tracking and/or vision",
                "yardline developers",
            )
        });
        Some(&*META)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let caps = gst_video::VideoCapsBuilder::new()
                .format_list(FORMATS.iter().map(|(g, _)| *g))
                .build();
            [gst::PadDirection::Src, gst::PadDirection::Sink]
                .into_iter()
                .filter_map(|dir| {
                    let name = if dir == gst::PadDirection::Src {
                        "src"
                    } else {
                        "sink"
                    };
                    gst::PadTemplate::new(name, dir, gst::PadPresence::Always, &caps).ok()
                })
                .collect()
        });
        TEMPLATES.as_ref()
    }
}

impl BaseTransformImpl for Yardline {
    const MODE: gst_base::subclass::BaseTransformMode =
        gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let settings = lock(&self.settings).clone();
        let venue = match &settings.venue {
            Some(p) => Some(Arc::new(load_venue(p).map_err(start_error)?)),
            None => None,
        };
        let key = match &settings.keying {
            Some(p) => Some(Arc::new(load_key(p).map(|(c, _)| c).map_err(start_error)?)),
            None => None,
        };
        let tracking = match settings.tracking_uri() {
            None => None,
            Some(Err(e)) => return Err(gst::error_msg!(gst::ResourceError::Settings, ("{e}"))),
            Some(Ok(uri)) => {
                if venue.is_none() {
                    return Err(gst::error_msg!(
                        gst::ResourceError::Settings,
                        ("tracking {uri:?} needs a venue file (lens table and head mount)")
                    ));
                }
                Some(
                    Tracking::open(&uri, self.receive_clock())
                        .map_err(|e| gst::error_msg!(gst::ResourceError::OpenRead, ("{e}")))?,
                )
            }
        };
        let generation = self.generation.load(Ordering::Acquire);
        let period = settings.engine_config(0).frame_period_ns;
        let engine = Engine::new(
            settings.engine_config(period),
            venue.as_deref(),
            key.as_deref(),
        )
        .map_err(|e| gst::error_msg!(gst::ResourceError::Settings, ("{e}")))?;
        gst::info!(CAT, imp = self, "started: {}", engine.backend());
        let state = State {
            engine,
            venue,
            key,
            tracking,
            frame_period_ns: period,
            applied: generation,
            budget_ns: settings.budget_ns(period),
            counters: ElementCounters::default(),
            timings: TimingRing::default(),
            skip_next: false,
            scratch: Vec::new(),
            last_pts: None,
        };
        self.update_latency(&state);
        self.flushed.store(false, Ordering::Release);
        *lock(&self.state) = Some(state);
        self.post_latency_change();
        Ok(())
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        let old = lock(&self.state).take();
        if let Some(s) = old {
            gst::info!(CAT, imp = self, "stopped: {}", stats_structure(&s));
        }
        self.latency_ns.store(0, Ordering::Release);
        Ok(())
    }

    fn sink_event(&self, event: gst::Event) -> bool {
        if let gst::EventView::FlushStop(_) = event.view() {
            self.flushed.store(true, Ordering::Release);
        }
        self.parent_sink_event(event)
    }

    fn query(&self, direction: gst::PadDirection, query: &mut gst::QueryRef) -> bool {
        let is_latency = matches!(query.view(), gst::QueryView::Latency(_));
        if direction != gst::PadDirection::Src || !is_latency {
            return BaseTransformImplExt::parent_query(self, direction, query);
        }
        if !BaseTransformImplExt::parent_query(self, direction, query) {
            return false;
        }
        if let gst::QueryViewMut::Latency(q) = query.view_mut() {
            let extra = gst::ClockTime::from_nseconds(self.latency_ns.load(Ordering::Acquire));
            let (live, min, max) = q.result();
            gst::debug!(CAT, imp = self, "adding {extra} of tracking delay to {min}");
            q.set(live, min + extra, max.map(|m| m + extra));
        }
        true
    }
}

impl VideoFilterImpl for Yardline {
    fn set_info(
        &self,
        incaps: &gst::Caps,
        in_info: &gst_video::VideoInfo,
        outcaps: &gst::Caps,
        out_info: &gst_video::VideoInfo,
    ) -> Result<(), gst::LoggableError> {
        if pixel_format(in_info.format()).is_none() {
            return Err(gst::loggable_error!(
                CAT,
                "unsupported format {:?}",
                in_info.format()
            ));
        }
        let fps = in_info.fps();
        let period = if fps.numer() > 0 && fps.denom() > 0 {
            (1e9 * f64::from(fps.denom()) / f64::from(fps.numer())).round() as i64
        } else {
            0
        };
        let mut guard = lock(&self.state);
        if let Some(state) = guard.as_mut() {
            let settings = lock(&self.settings).clone();
            let period = settings.engine_config(period).frame_period_ns;
            if period != state.frame_period_ns {
                let engine = Engine::new(
                    settings.engine_config(period),
                    state.venue.as_deref(),
                    state.key.as_deref(),
                )
                .map_err(|e| gst::loggable_error!(CAT, "cannot set up the engine: {e}"))?;
                state.engine = engine;
                state.frame_period_ns = period;
                state.budget_ns = settings.budget_ns(period);
                state.applied = self.generation.load(Ordering::Acquire);
            }
            gst::debug!(
                CAT,
                imp = self,
                "{}x{} {:?}, frame period {} ns",
                in_info.width(),
                in_info.height(),
                in_info.format(),
                state.frame_period_ns
            );
        }
        drop(guard);
        self.parent_set_info(incaps, in_info, outcaps, out_info)
    }

    fn transform_frame_ip(
        &self,
        frame: &mut gst_video::VideoFrameRef<&mut gst::BufferRef>,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        let started = Instant::now();
        let mut guard = lock(&self.state);
        let Some(state) = guard.as_mut() else {
            return Ok(gst::FlowSuccess::Ok);
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| self.process(state, frame, started)));
        let post = lock(&self.settings).post_messages;
        let outcome = match outcome {
            Ok(o) => o,
            Err(panic) => {
                state.counters.panics += 1;
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(ToString::to_string)
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                gst::error!(CAT, imp = self, "panic caught, frame passed through: {msg}");
                FrameOutcome {
                    report: None,
                    skipped: true,
                    element_ms: started.elapsed().as_secs_f64() * 1e3,
                }
            }
        };
        drop(guard);
        self.post_latency_change();
        if post {
            self.post_frame_message(&outcome, frame.buffer().pts());
        }
        Ok(gst::FlowSuccess::Ok)
    }
}

/// Why a file could not be loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LoadError {
    /// It does not exist.
    NotFound,
    /// It exists but is unusable.
    Invalid,
}

/// The element error for a file that cannot be loaded at start.
fn start_error((kind, msg): (LoadError, String)) -> gst::ErrorMessage {
    match kind {
        LoadError::NotFound => gst::error_msg!(gst::ResourceError::NotFound, ("{msg}")),
        LoadError::Invalid => gst::error_msg!(gst::ResourceError::Settings, ("{msg}")),
    }
}

fn load_venue(path: &std::path::Path) -> Result<Venue, (LoadError, String)> {
    if !path.is_file() {
        return Err((
            LoadError::NotFound,
            format!("venue file {} not found", path.display()),
        ));
    }
    Venue::load(path).map_err(|e| {
        (
            LoadError::Invalid,
            format!("venue file {}: {e}", path.display()),
        )
    })
}

fn load_key(path: &std::path::Path) -> Result<(KeyConfig, FieldKey), (LoadError, String)> {
    if !path.is_file() {
        return Err((
            LoadError::NotFound,
            format!("key file {} not found", path.display()),
        ));
    }
    let invalid = |e: &dyn std::fmt::Display| {
        (
            LoadError::Invalid,
            format!("key file {}: {e}", path.display()),
        )
    };
    let config = KeyConfig::load(path).map_err(|e| invalid(&e))?;
    let key = FieldKey::compile(&config).map_err(|e| invalid(&e))?;
    Ok((config, key))
}

fn path_value(value: &glib::Value) -> Option<PathBuf> {
    value
        .get::<Option<String>>()
        .ok()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .map(PathBuf::from)
}

impl Yardline {
    /// Applies a plain setting: validated against the engine's rules; a bad value is logged and
    /// the old one kept. The streaming thread picks it up on the next frame.
    fn update(&self, name: &str, change: impl FnOnce(&mut Settings)) {
        let mut s = lock(&self.settings);
        let mut new = s.clone();
        change(&mut new);
        if let Err(e) = new.engine_config(0).validate() {
            gst::warning!(CAT, imp = self, "{name}: {e}; keeping the old value");
            return;
        }
        *s = new;
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Rebuilds the running engine with `venue`, `key` and the current settings.
    fn rebuild(
        &self,
        state: &mut State,
        settings: &Settings,
        venue: Option<Arc<Venue>>,
        key: Option<Arc<KeyConfig>>,
    ) -> Result<(), String> {
        let engine = Engine::new(
            settings.engine_config(state.frame_period_ns),
            venue.as_deref(),
            key.as_deref(),
        )
        .map_err(|e| e.to_string())?;
        state.engine = engine;
        state.venue = venue;
        state.key = key;
        state.budget_ns = settings.budget_ns(state.frame_period_ns);
        state.applied = self.generation.load(Ordering::Acquire);
        self.update_latency(state);
        Ok(())
    }

    fn set_venue(&self, path: Option<PathBuf>) {
        let mut guard = lock(&self.state);
        let Some(state) = guard.as_mut() else {
            lock(&self.settings).venue = path;
            return;
        };
        let venue = match &path {
            Some(p) => match load_venue(p) {
                Ok(v) => Some(Arc::new(v)),
                Err((_, msg)) => {
                    gst::warning!(CAT, imp = self, "{msg}; keeping the old venue");
                    return;
                }
            },
            None => None,
        };
        if venue.is_none() && state.tracking.is_some() {
            gst::warning!(
                CAT,
                imp = self,
                "tracking needs a venue; keeping the old venue"
            );
            return;
        }
        let mut settings = lock(&self.settings).clone();
        settings.venue.clone_from(&path);
        let key = state.key.clone();
        match self.rebuild(state, &settings, venue, key) {
            Ok(()) => lock(&self.settings).venue = path,
            Err(e) => gst::warning!(CAT, imp = self, "venue: {e}; keeping the old venue"),
        }
    }

    fn set_camera_id(&self, id: i32) {
        let mut guard = lock(&self.state);
        let Some(state) = guard.as_mut() else {
            lock(&self.settings).camera_id = id;
            return;
        };
        let mut settings = lock(&self.settings).clone();
        settings.camera_id = id;
        let (venue, key) = (state.venue.clone(), state.key.clone());
        match self.rebuild(state, &settings, venue, key) {
            Ok(()) => lock(&self.settings).camera_id = id,
            Err(e) => gst::warning!(CAT, imp = self, "camera-id {id}: {e}; keeping the old one"),
        }
    }

    fn set_keying(&self, path: Option<PathBuf>) {
        let mut guard = lock(&self.state);
        let Some(state) = guard.as_mut() else {
            lock(&self.settings).keying = path;
            return;
        };
        if let Some(p) = &path {
            match load_key(p) {
                Ok((config, key)) => {
                    state.engine.set_key(key);
                    state.key = Some(Arc::new(config));
                }
                Err((_, msg)) => {
                    gst::warning!(CAT, imp = self, "{msg}; keeping the old key");
                    return;
                }
            }
        } else {
            // Back to the automatic palette: a fresh engine builds one.
            let settings = lock(&self.settings).clone();
            let venue = state.venue.clone();
            if let Err(e) = self.rebuild(state, &settings, venue, None) {
                gst::warning!(CAT, imp = self, "keying: {e}; keeping the old key");
                return;
            }
        }
        lock(&self.settings).keying = path;
    }

    fn set_tracking(&self, uri: Option<String>) {
        let uri = uri.filter(|u| !u.trim().is_empty());
        let parsed = match uri.as_deref().map(TrackingUri::parse).transpose() {
            Ok(p) => p,
            Err(e) => {
                gst::warning!(CAT, imp = self, "{e}; keeping the old tracking source");
                return;
            }
        };
        let mut guard = lock(&self.state);
        let Some(state) = guard.as_mut() else {
            lock(&self.settings).tracking = uri;
            return;
        };
        let tracking = match &parsed {
            None => None,
            Some(_) if state.venue.is_none() => {
                gst::warning!(
                    CAT,
                    imp = self,
                    "tracking needs a venue file; keeping the old tracking source"
                );
                return;
            }
            Some(p) => match Tracking::open(p, self.receive_clock()) {
                Ok(t) => Some(t),
                Err(e) => {
                    gst::warning!(CAT, imp = self, "{e}; keeping the old tracking source");
                    return;
                }
            },
        };
        // Samples of the old source mean nothing to the new one: start the engine afresh.
        let settings = lock(&self.settings).clone();
        let (venue, key) = (state.venue.clone(), state.key.clone());
        state.tracking = tracking;
        if let Err(e) = self.rebuild(state, &settings, venue, key) {
            gst::warning!(CAT, imp = self, "tracking: {e}");
        }
        lock(&self.settings).tracking = uri;
    }

    /// Stamps UDP packets with the element's running time (ns); -1 while it has no clock.
    fn receive_clock(&self) -> ReceiveClock {
        let weak = self.obj().downgrade();
        Arc::new(move || {
            weak.upgrade()
                .and_then(|e| e.current_running_time())
                .map_or(-1, ns)
        })
    }

    /// Latency the element adds: the tracking delay while following live (UDP) tracking.
    fn update_latency(&self, state: &State) {
        let delay = match state.tracking {
            Some(Tracking::Udp(_)) => state.engine.tracking_delay_ns().max(0) as u64,
            _ => 0,
        };
        let old = self.latency_ns.swap(delay, Ordering::AcqRel);
        if old != delay {
            gst::info!(CAT, imp = self, "latency now {delay} ns");
            self.latency_changed.store(true, Ordering::Release);
        }
    }

    /// Tells the pipeline to redistribute latency after a change; called with no lock held
    /// (bus sync handlers may call back into the element).
    fn post_latency_change(&self) {
        if self.latency_changed.swap(false, Ordering::AcqRel) {
            let obj = self.obj();
            // No bus before the element is in a bin: nothing to tell then.
            if obj
                .post_message(gst::message::Latency::builder().src(&*obj).build())
                .is_err()
            {
                gst::debug!(CAT, imp = self, "no bus for the latency message");
            }
        }
    }

    /// After a flush: a fresh engine (its tracking sync and pose filter knew the old timeline)
    /// and a recorded tracking file read again from the start.
    fn restart(&self, state: &mut State) {
        let settings = lock(&self.settings).clone();
        if let (Some(Tracking::File(_)), Some(Ok(uri))) = (&state.tracking, settings.tracking_uri())
        {
            match Tracking::open(&uri, self.receive_clock()) {
                Ok(t) => state.tracking = Some(t),
                Err(e) => gst::warning!(CAT, imp = self, "after flush: {e}"),
            }
        }
        let (venue, key) = (state.venue.clone(), state.key.clone());
        if let Err(e) = self.rebuild(state, &settings, venue, key) {
            gst::warning!(CAT, imp = self, "after flush: {e}");
        }
        state.last_pts = None;
        state.skip_next = false;
        gst::debug!(CAT, imp = self, "flushed: engine and tracking restarted");
    }

    /// One frame: settings, tracking, budget, engine.
    fn process(
        &self,
        state: &mut State,
        frame: &mut gst_video::VideoFrameRef<&mut gst::BufferRef>,
        started: Instant,
    ) -> FrameOutcome {
        state.counters.frames += 1;
        if self.flushed.swap(false, Ordering::AcqRel) {
            self.restart(state);
        }
        self.apply_settings(state);
        let period = state.frame_period_ns;
        let pts = frame
            .buffer()
            .pts()
            .map_or_else(|| state.last_pts.map_or(0, |p| p + period), ns);
        state.last_pts = Some(pts);

        // Tracking, on its own clock: buffer time for a file, running time for live UDP.
        let frame_time = self.feed_tracking(state, pts);
        let processing = Instant::now();

        if state.skip_next {
            state.skip_next = false;
            state.counters.budget_skips += 1;
            gst::debug!(
                CAT,
                imp = self,
                "previous frame overran the budget: pass-through"
            );
            let element_ms = started.elapsed().as_secs_f64() * 1e3;
            state.timings.push(element_ms);
            return FrameOutcome {
                report: None,
                skipped: true,
                element_ms,
            };
        }

        // Under a budget no frame may wait the second or so the automatic key takes.
        state.engine.set_auto_key_inline(state.budget_ns.is_none());
        let report = match run_engine(&mut state.engine, &mut state.scratch, frame, frame_time) {
            Ok(r) => Some(r),
            Err(e) => {
                state.counters.layout_errors += 1;
                gst::warning!(CAT, imp = self, "frame passed through: {e}");
                None
            }
        };
        if let Some(r) = report.as_ref().and_then(|r| r.fault.as_ref()) {
            gst::debug!(CAT, imp = self, "engine fault, frame untouched: {r}");
        }
        let took = processing.elapsed();
        if let Some(budget) = state.budget_ns
            && i64::try_from(took.as_nanos()).unwrap_or(i64::MAX) > budget
        {
            state.counters.over_budget += 1;
            state.skip_next = true;
            gst::debug!(
                CAT,
                imp = self,
                "frame took {took:?}, over the {budget} ns budget"
            );
        }
        let element_ms = started.elapsed().as_secs_f64() * 1e3;
        state.timings.push(element_ms);
        FrameOutcome {
            report,
            skipped: false,
            element_ms,
        }
    }

    fn apply_settings(&self, state: &mut State) {
        let generation = self.generation.load(Ordering::Acquire);
        if generation == state.applied {
            return;
        }
        let (config, budget) = {
            let s = lock(&self.settings);
            (
                s.engine_config(state.frame_period_ns),
                s.budget_ns(state.frame_period_ns),
            )
        };
        state.applied = generation;
        state.budget_ns = budget;
        match state.engine.set_config(config) {
            Ok(()) => gst::debug!(CAT, imp = self, "settings applied"),
            Err(e) => gst::warning!(CAT, imp = self, "settings not applied: {e}"),
        }
        self.update_latency(state);
    }

    /// Hands the engine the tracking due for the frame at `pts`; returns the frame's time on
    /// the tracking clock.
    fn feed_tracking(&self, state: &mut State, pts: i64) -> i64 {
        let engine = &mut state.engine;
        let delay = engine.tracking_delay_ns();
        let period = state.frame_period_ns;
        match state.tracking.as_mut() {
            None => pts,
            Some(Tracking::File(file)) => {
                // What a live receiver would hold once this frame leaves the delay buffer.
                file.feed_until(pts + delay + period / 2, |s| engine.push_tracking(s));
                pts
            }
            Some(Tracking::Udp(udp)) => {
                let running = self.running_time(pts);
                let target = running + delay;
                let mut push = |s: &TrackingSample| {
                    if s.pts_ns >= 0 {
                        engine.push_tracking(s);
                    }
                };
                let newest = drain_udp(udp, &mut push);
                if newest.is_some_and(|n| n >= target) {
                    return running;
                }
                // Wait for this frame's packet, at most until half a frame past its due time
                // and never longer than the delay plus one frame.
                let Some(now) = self.obj().current_running_time().map(ns) else {
                    return running;
                };
                let limit = (target + period / 2 - now).min(delay + period);
                if limit <= 0 {
                    return running;
                }
                let deadline = Instant::now() + Duration::from_nanos(limit as u64);
                loop {
                    let Some(s) = wait_udp(udp, deadline) else {
                        state.counters.tracking_waits_expired += 1;
                        break;
                    };
                    push(&s);
                    if s.pts_ns >= target {
                        break;
                    }
                }
                running
            }
        }
    }

    /// Running time of a buffer timestamp in the current segment (the timestamp itself when
    /// it lies outside).
    fn running_time(&self, pts: i64) -> i64 {
        let segment = self.obj().segment();
        segment
            .downcast_ref::<gst::ClockTime>()
            .and_then(|s| s.to_running_time(gst::ClockTime::from_nseconds(pts.max(0) as u64)))
            .map_or(pts, ns)
    }

    fn post_frame_message(&self, outcome: &FrameOutcome, pts: Option<gst::ClockTime>) {
        let mut b = gst::Structure::builder(FRAME_MESSAGE)
            .field("skipped", outcome.skipped)
            .field("element-ms", outcome.element_ms);
        if let Some(pts) = pts {
            b = b.field("pts", pts);
        }
        if let Some(r) = &outcome.report {
            b = b
                .field("frame", r.frame)
                .field("source", r.source.as_str())
                .field("residual-px", r.residual_px.unwrap_or(-1.0))
                .field("inliers", r.inliers as u64)
                .field("drawn", r.drawn)
                .field("backend", r.backend)
                .field("sync-ms", r.timings.sync)
                .field("pose-ms", r.timings.pose)
                .field("graphics-ms", r.timings.graphics)
                .field("composite-ms", r.timings.composite)
                .field("engine-ms", r.timings.total);
            if let Some(f) = &r.fault {
                b = b.field("fault", f.to_string());
            }
        } else {
            b = b.field("source", "none").field("drawn", false);
        }
        let obj = self.obj();
        let msg = gst::message::Element::builder(b.build()).src(&*obj).build();
        if obj.post_message(msg).is_err() {
            gst::trace!(CAT, imp = self, "no bus for the frame message");
        }
    }

    fn stats_string(&self) -> String {
        match lock(&self.state).as_ref() {
            Some(s) => stats_structure(s).to_string(),
            None => gst::Structure::builder(STATS_STRUCTURE)
                .field("running", false)
                .build()
                .to_string(),
        }
    }
}

/// Runs the engine on a mapped frame: in place for packed formats, through one contiguous
/// copy for planar ones (written back only when the line was drawn).
fn run_engine(
    engine: &mut Engine,
    scratch: &mut Vec<u8>,
    frame: &mut gst_video::VideoFrameRef<&mut gst::BufferRef>,
    pts_ns: i64,
) -> Result<FrameReport, String> {
    let format =
        pixel_format(frame.format()).ok_or_else(|| format!("format {:?}", frame.format()))?;
    let (width, height) = (frame.width(), frame.height());
    let n = format.plane_count();
    let strides: Vec<usize> = (0..n)
        .map(|i| usize::try_from(frame.plane_stride()[i]).unwrap_or(0))
        .collect();
    if n == 1 {
        let data = frame.plane_data_mut(0).map_err(|e| e.to_string())?;
        let layout = FrameLayout::with_planes(format, width, height, &[0], &strides, data.len())
            .map_err(|e| e.to_string())?;
        let mut fm = FrameMut::new(&layout, data).map_err(|e| e.to_string())?;
        return Ok(engine.process(&mut fm, pts_ns));
    }
    let mut offsets = Vec::with_capacity(n);
    scratch.clear();
    for i in 0..n {
        offsets.push(scratch.len());
        let plane = frame.plane_data(i as u32).map_err(|e| e.to_string())?;
        scratch.extend_from_slice(plane);
    }
    let layout = FrameLayout::with_planes(format, width, height, &offsets, &strides, scratch.len())
        .map_err(|e| e.to_string())?;
    let report = {
        let mut fm = FrameMut::new(&layout, scratch).map_err(|e| e.to_string())?;
        engine.process(&mut fm, pts_ns)
    };
    if report.drawn {
        for (i, &off) in offsets.iter().enumerate() {
            let plane = frame.plane_data_mut(i as u32).map_err(|e| e.to_string())?;
            let len = plane.len();
            plane.copy_from_slice(&scratch[off..off + len]);
        }
    }
    Ok(report)
}

fn stats_structure(s: &State) -> gst::Structure {
    let e = s.engine.stats();
    let c = s.counters;
    let p = s.timings.percentiles();
    let mut b = gst::Structure::builder(STATS_STRUCTURE)
        .field("running", true)
        .field("frames", c.frames)
        .field("drawn", e.drawn)
        .field("faults", e.faults)
        .field("panics", e.panics + c.panics)
        .field("sensor-misses", e.sensor_misses)
        .field("gpu-fallbacks", e.gpu_fallbacks)
        .field("budget-skips", c.budget_skips)
        .field("over-budget", c.over_budget)
        .field("layout-errors", c.layout_errors)
        .field("backend", s.engine.backend())
        .field("frame-period-ns", s.frame_period_ns)
        .field("tracking-delay-ns", s.engine.tracking_delay_ns())
        .field(
            "tracking",
            s.tracking.as_ref().map_or("none", Tracking::kind),
        )
        .field("tracking-waits-expired", c.tracking_waits_expired)
        .field("element-ms-p50", p.p50)
        .field("element-ms-p99", p.p99)
        .field("element-ms-max", p.max);
    if let Some(sync) = s.engine.sync_stats() {
        b = b
            .field("sync-pushed", sync.pushed)
            .field("sync-late", sync.late)
            .field("sync-missing", sync.missing);
    }
    match &s.tracking {
        Some(Tracking::Udp(src)) => {
            let u = src.stats();
            b = b
                .field("udp-packets", u.packets)
                .field("udp-accepted", u.accepted)
                .field("udp-checksum-failures", u.checksum_failures)
                .field("udp-malformed", u.malformed)
                .field("udp-oversize", u.oversize)
                .field("udp-queue-drops", u.queue_drops)
                .field("udp-packets-per-second", u.packets_per_second)
                .field("udp-port", u32::from(src.local_addr().port()));
        }
        Some(Tracking::File(f)) => {
            let (st, err) = f.stats();
            b = b
                .field("file-samples", st.samples)
                .field("file-garbage-lines", st.garbage_lines)
                .field("file-checksum-failures", st.checksum_failures);
            if let Some(err) = err {
                b = b.field("file-error", err);
            }
        }
        None => {}
    }
    b.build()
}
