//! The element's GObject/GStreamer virtual methods: properties, pads, start/stop, caps and the
//! per-frame entry point.
//!
//! Threads: properties are set from the application thread; frames arrive on the streaming
//! thread; tracking is read on its own thread (UDP listener) into a bounded queue that the
//! streaming thread drains. Lock order: `state` before `settings`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::prelude::*;
use gst_video::prelude::*;
use gst_video::subclass::prelude::*;
use yardline_engine::sched::{thread_cpu_ms_since, thread_cpu_time};
use yardline_engine::tracking::source::ReceiveClock;
use yardline_keying::{format_exclusions, parse_exclusions};

use super::control::{ElementTarget, current, still, thumbnail};
use super::frame::{self, FORMATS, Frames, format_names};
use super::messages::{FrameOutcome, stopped_stats};
use super::settings::{
    DEFAULT_CAMERA_ID, DEFAULT_POST_MESSAGES, DEFAULT_REALTIME, Output, Settings,
};
use super::state::{State, StateError, ns};
use super::{caps, properties, tracking};
use crate::debug::CAT;
use yardline_engine::control::ControlHub;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
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
    /// The control server's address, token and the server while running.
    control: Mutex<ControlSetup>,
    /// What the streaming thread shares with the control server.
    pub(super) hub: Arc<ControlHub>,
    /// The last fill-and-key negotiation warning posted (each posted once).
    negotiation_warning: Mutex<Option<String>>,
}

/// The `control` and `control-token` properties and the server they start.
#[derive(Debug, Default)]
struct ControlSetup {
    /// `ADDR:PORT` (or a bare port on loopback); `None`: no control server.
    addr: Option<String>,
    /// The shared secret; `None`: `YARDLINE_CONTROL_TOKEN`, else no token.
    token: Option<String>,
    /// The server, between start and stop.
    server: Option<yardline_control::server::ControlServer>,
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
            control: Mutex::new(ControlSetup::default()),
            hub: Arc::new(ControlHub::default()),
            negotiation_warning: Mutex::new(None),
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
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(properties::specs);
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        match pspec.name() {
            "venue" => {
                let path = path_value(value);
                self.swap("venue", |s| s.venue.clone_from(&path), State::swap_venue);
            }
            "keying" => {
                let path = path_value(value);
                self.swap("key", |s| s.keying.clone_from(&path), State::swap_key);
                self.hub
                    .set_key_source(lock(&self.settings).keying.is_some());
            }
            "exclusions" => {
                let text = value.get::<Option<String>>().ok().flatten();
                match parse_exclusions(text.as_deref().unwrap_or_default()) {
                    Ok(list) => self.swap(
                        "exclusions",
                        |s| s.exclusions.clone_from(&list),
                        State::swap_exclusions,
                    ),
                    Err(e) => {
                        gst::warning!(CAT, imp = self, "{e}; keeping the old exclusions");
                    }
                }
            }
            "camera-id" => {
                let id = value.get::<i32>().unwrap_or(DEFAULT_CAMERA_ID);
                self.swap("camera id", |s| s.camera_id = id, State::swap_camera);
            }
            "tracking" => self.set_tracking(value.get::<Option<String>>().ok().flatten()),
            "output" => {
                let v = value.get::<Output>().unwrap_or_default();
                let old = lock(&self.settings).output;
                if v == old {
                    return;
                }
                if let Some(why) = self.output_refused(v) {
                    gst::element_imp_warning!(
                        self,
                        gst::CoreError::Negotiation,
                        (
                            "output={} refused while playing, output={} kept: {}",
                            output_nick(v),
                            output_nick(old),
                            why
                        )
                    );
                    return;
                }
                lock(&self.settings).output = v;
                gst::debug!(CAT, imp = self, "output {v:?}: renegotiating");
                self.obj().reconfigure_src();
            }
            "post-messages" => {
                let v = value.get::<bool>().unwrap_or(DEFAULT_POST_MESSAGES);
                lock(&self.settings).post_messages = v;
            }
            "realtime" => {
                let v = value.get::<bool>().unwrap_or(DEFAULT_REALTIME);
                lock(&self.settings).realtime = v;
            }
            "control" | "control-token" => {
                let v = value
                    .get::<Option<String>>()
                    .ok()
                    .flatten()
                    .filter(|v| !v.trim().is_empty());
                let mut c = lock(&self.control);
                if pspec.name() == "control" {
                    c.addr = v;
                } else {
                    c.token = v;
                }
                let running = c.server.take().is_some();
                drop(c);
                if running && let Err(e) = self.start_control() {
                    gst::warning!(CAT, imp = self, "{e}; no control server");
                }
            }
            name => self.update(name, value),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        match pspec.name() {
            "stats" => return self.stats_string().to_value(),
            "control" => return lock(&self.control).addr.to_value(),
            "control-address" => {
                let c = lock(&self.control);
                let addr = c.server.as_ref().map(|s| s.local_addr().to_string());
                return addr.to_value();
            }
            _ => {}
        }
        let s = lock(&self.settings);
        if let Some(v) = s.plain(pspec.name()) {
            return v;
        }
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.to_string_lossy().into_owned());
        match pspec.name() {
            "venue" => path(&s.venue).to_value(),
            "keying" => path(&s.keying).to_value(),
            "exclusions" => format_exclusions(&s.exclusions).to_value(),
            "tracking" => s.tracking.to_value(),
            "camera-id" => s.camera_id.to_value(),
            "output" => s.output.to_value(),
            "post-messages" => s.post_messages.to_value(),
            "realtime" => s.realtime.to_value(),
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
                 keyed under the players, from FreeD or OpenTrackIO camera tracking and/or \
                 vision; with output=fill-key it emits the lines alone as fill and key \
                 (BGRA/ARGB, or AYUV64 for 10-bit input) for an external keyer",
                "yardline developers",
            )
        });
        Some(&*META)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let sink = gst_video::VideoCapsBuilder::new()
                .format_list(FORMATS.iter().map(|(g, _)| *g))
                .build();
            // The src pad carries the sink's formats (program) or the fill-and-key ones.
            let src = gst_video::VideoCapsBuilder::new()
                .format_list(caps::src_formats())
                .build();
            [
                ("src", gst::PadDirection::Src, src),
                ("sink", gst::PadDirection::Sink, sink),
            ]
            .into_iter()
            .filter_map(|(name, dir, caps)| {
                gst::PadTemplate::new(name, dir, gst::PadPresence::Always, &caps).ok()
            })
            .collect()
        });
        TEMPLATES.as_ref()
    }
}

impl BaseTransformImpl for Yardline {
    // In place for the program, a new output buffer for fill and key (`set_info` says which).
    const MODE: gst_base::subclass::BaseTransformMode = gst_base::subclass::BaseTransformMode::Both;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let settings = lock(&self.settings).clone();
        let generation = self.generation.load(Ordering::Acquire);
        let state = State::start(&settings, generation, self.receive_clock())
            .map_err(|e| gst::error_msg!(e.resource_error(), ("{e}")))?;
        gst::info!(CAT, imp = self, "started: {}", state.backend());
        self.update_latency(&state);
        self.flushed.store(false, Ordering::Release);
        self.hub.set_key_source(settings.keying.is_some());
        *lock(&self.state) = Some(state);
        self.post_latency_change();
        self.start_control()
            .map_err(|e| gst::error_msg!(gst::ResourceError::OpenRead, ("{e}")))
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        let server = lock(&self.control).server.take();
        self.hub.active.store(false, Ordering::Release);
        drop(server);
        let old = lock(&self.state).take();
        if let Some(s) = old {
            gst::info!(CAT, imp = self, "stopped: {}", s.stats());
        }
        self.latency_ns.store(0, Ordering::Release);
        Ok(())
    }

    fn accept_caps(&self, direction: gst::PadDirection, caps: &gst::Caps) -> bool {
        let accepted = self.parent_accept_caps(direction, caps);
        // Fixed caps refused for their format: say which formats work (the flow then stops as
        // not-negotiated).
        if !accepted
            && caps.is_fixed()
            && let Some(s) = caps.structure(0)
            && s.name() == "video/x-raw"
            && let Ok(format) = s.get::<&str>("format")
            && !FORMATS.iter().any(|(g, _)| g.to_str() == format)
        {
            gst::element_imp_warning!(
                self,
                gst::CoreError::Negotiation,
                ("unsupported video format {}", format),
                ["yardline takes video/x-raw in {}", format_names()]
            );
        }
        accepted
    }

    fn transform_caps(
        &self,
        direction: gst::PadDirection,
        caps: &gst::Caps,
        filter: Option<&gst::Caps>,
    ) -> Option<gst::Caps> {
        let output = lock(&self.settings).output;
        let other = match output {
            Output::Program => caps.clone(),
            Output::FillKey => caps::fill_key_transform(direction, caps),
        };
        let result = match filter {
            Some(f) => f.intersect_with_mode(&other, gst::CapsIntersectMode::First),
            None => other,
        };
        gst::debug!(
            CAT,
            imp = self,
            "{output:?} {direction:?} {caps} -> {result}"
        );
        Some(result)
    }

    fn sink_event(&self, event: gst::Event) -> bool {
        if let gst::EventView::FlushStop(_) = event.view() {
            self.flushed.store(true, Ordering::Release);
        }
        self.parent_sink_event(event)
    }

    fn query(&self, direction: gst::PadDirection, query: &mut gst::QueryRef) -> bool {
        if direction == gst::PadDirection::Sink
            && let gst::QueryViewMut::Caps(q) = query.view_mut()
        {
            let answered = BaseTransformImplExt::parent_query(self, direction, q.query_mut());
            if q.result().is_some_and(gst::CapsRef::is_empty) {
                self.explain_refusal(q.filter_owned());
            }
            return answered;
        }
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
        let output = lock(&self.settings).output;
        if let Err(e) = caps::check(output, in_info, out_info) {
            gst::element_imp_warning!(
                self,
                gst::CoreError::Negotiation,
                ("refused caps: {}", e),
                ["sink {} src {}", incaps, outcaps]
            );
            return Err(gst::loggable_error!(CAT, "refused caps: {e}"));
        }
        // The program is drawn in place; fill and key writes a new buffer.
        self.obj().set_in_place(output == Output::Program);
        let fps = in_info.fps();
        let period = if fps.numer() > 0 && fps.denom() > 0 {
            (1e9 * f64::from(fps.denom()) / f64::from(fps.numer())).round() as i64
        } else {
            0
        };
        let (colorimetry, assumed) = frame::colorimetry(in_info);
        if let Some(a) = assumed.filter(|_| in_info.format_info().is_yuv()) {
            gst::warning!(
                CAT,
                imp = self,
                "colorimetry {}: {a}",
                in_info.colorimetry()
            );
        }
        let mut guard = lock(&self.state);
        if let Some(state) = guard.as_mut() {
            state.set_colorimetry(colorimetry);
            let settings = lock(&self.settings).clone();
            let period = settings.engine_config(period).frame_period_ns;
            state
                .set_frame_period(&settings, period, self.generation.load(Ordering::Acquire))
                .map_err(|e| gst::loggable_error!(CAT, "cannot set up the engine: {e}"))?;
            gst::debug!(
                CAT,
                imp = self,
                "{}x{} {:?} ({colorimetry}), frame period {} ns",
                in_info.width(),
                in_info.height(),
                in_info.format(),
                state.frame_period_ns()
            );
        }
        drop(guard);
        self.parent_set_info(incaps, in_info, outcaps, out_info)
    }

    fn transform_frame(
        &self,
        inframe: &gst_video::VideoFrameRef<&gst::BufferRef>,
        outframe: &mut gst_video::VideoFrameRef<&mut gst::BufferRef>,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        self.fill_key_frame(inframe, outframe);
        Ok(gst::FlowSuccess::Ok)
    }

    fn transform_frame_ip(
        &self,
        frame: &mut gst_video::VideoFrameRef<&mut gst::BufferRef>,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        let started = Instant::now();
        if lock(&self.settings).realtime {
            promote_streaming_thread();
        }
        let mut guard = lock(&self.state);
        let Some(state) = guard.as_mut() else {
            return Ok(gst::FlowSuccess::Ok);
        };
        // The control hook: a clean thumbnail before drawing when a preview is due. Its cost
        // is the streaming thread's CPU time, whatever else the machine runs.
        let control = self.hub.active.load(Ordering::Acquire);
        let cpu = control.then(thread_cpu_time).flatten();
        let due = control.then(|| self.hub.preview.due()).flatten();
        let clean = due.filter(|d| d.clean).and_then(|_| thumbnail(frame));
        if control
            && self.hub.preview.still_due()
            && let Some(still) = still(frame)
        {
            self.hub.preview.offer_still(still);
        }
        let pre_ms = if control {
            thread_cpu_ms_since(cpu)
        } else {
            0.0
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            self.process(state, &mut Frames::Program(frame), started)
        }));
        let post = lock(&self.settings).post_messages;
        let outcome = match outcome {
            Ok(o) => o,
            Err(panic) => {
                state.count_panic();
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(ToString::to_string)
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                gst::error!(CAT, imp = self, "panic caught, frame passed through: {msg}");
                FrameOutcome::skipped(started.elapsed().as_secs_f64() * 1e3)
            }
        };
        if due.is_some_and(|d| d.clean) {
            state.share_key(&self.hub);
        }
        drop(guard);
        if control {
            let cpu = thread_cpu_time();
            if due.is_some()
                && let Some(program) = thumbnail(frame)
            {
                self.hub.preview.offer(program, clean);
            }
            let pts = frame.buffer().pts().map_or(-1, ns);
            let cost_ms = pre_ms + thread_cpu_ms_since(cpu);
            self.hub.record(
                outcome.report.as_ref(),
                outcome.skipped,
                pts,
                outcome.element_ms,
                cost_ms,
            );
            self.hub.add_cost(cost_ms);
        }
        self.post_latency_change();
        if post {
            self.post_frame_message(&outcome, frame.buffer().pts());
        }
        Ok(gst::FlowSuccess::Ok)
    }
}

/// The `output` property's value as `gst-launch` spells it.
fn output_nick(output: Output) -> &'static str {
    match output {
        Output::Program => "program",
        Output::FillKey => "fill-key",
    }
}

impl Yardline {
    /// Why `output` cannot replace the current one on the negotiated stream, if it cannot:
    /// downstream takes none of the caps it would emit for the current sink caps (the flow
    /// would then stop as not-negotiated). Before negotiation every value is taken.
    fn output_refused(&self, output: Output) -> Option<String> {
        let obj = self.obj();
        let sink = obj.static_pad("sink")?.current_caps()?;
        let peer = obj.static_pad("src")?.peer()?;
        let emitted = match output {
            Output::Program => sink.clone(),
            Output::FillKey => caps::fill_key_transform(gst::PadDirection::Sink, &sink),
        };
        let rule = match output {
            Output::FillKey => caps::FILL_KEY_RULE,
            Output::Program => caps::PROGRAM_RULE,
        };
        peer.query_caps(Some(&emitted)).is_empty().then(|| {
            format!(
                "{rule}; downstream takes {} for input {sink}",
                peer.query_caps(None)
            )
        })
    }

    /// Upstream asked what the sink pad takes and nothing can pair with what downstream
    /// takes: a warning saying why, once per pairing (the flow then stops as not-negotiated).
    fn explain_refusal(&self, upstream: Option<gst::Caps>) {
        let downstream = self
            .obj()
            .static_pad("src")
            .and_then(|p| p.peer())
            .map(|p| p.query_caps(None));
        let Some(downstream) = downstream.filter(|c| !c.is_empty() && !c.is_any()) else {
            return;
        };
        let rule = match lock(&self.settings).output {
            Output::FillKey => caps::FILL_KEY_RULE,
            Output::Program => caps::PROGRAM_RULE,
        };
        let upstream = upstream.map_or_else(|| "any caps".to_string(), |c| c.to_string());
        let msg = format!("{rule}; downstream takes {downstream}, upstream offers {upstream}");
        let mut last = lock(&self.negotiation_warning);
        if last.as_deref() != Some(msg.as_str()) {
            gst::element_imp_warning!(self, gst::CoreError::Negotiation, ("{}", rule), ["{}", msg]);
            *last = Some(msg);
        }
    }

    /// Fill and key: the engine on `inframe` writing the lines alone into `outframe` (no
    /// control previews: the program is not drawn).
    fn fill_key_frame(
        &self,
        inframe: &gst_video::VideoFrameRef<&gst::BufferRef>,
        outframe: &mut gst_video::VideoFrameRef<&mut gst::BufferRef>,
    ) {
        let started = Instant::now();
        if lock(&self.settings).realtime {
            promote_streaming_thread();
        }
        let pts = inframe.buffer().pts();
        let mut frames = Frames::FillKey(inframe, outframe);
        let mut guard = lock(&self.state);
        let Some(state) = guard.as_mut() else {
            frames.pass_through();
            return;
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            self.process(state, &mut frames, started)
        }));
        let outcome = outcome.unwrap_or_else(|panic| {
            state.count_panic();
            let msg = panic
                .downcast_ref::<&str>()
                .map(ToString::to_string)
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            gst::error!(
                CAT,
                imp = self,
                "panic caught, fill and key left clear: {msg}"
            );
            frames.pass_through();
            FrameOutcome::skipped(started.elapsed().as_secs_f64() * 1e3)
        });
        drop(guard);
        if self.hub.active.load(Ordering::Acquire) {
            self.hub.record(
                outcome.report.as_ref(),
                outcome.skipped,
                pts.map_or(-1, ns),
                outcome.element_ms,
                0.0,
            );
        }
        self.post_latency_change();
        if lock(&self.settings).post_messages {
            self.post_frame_message(&outcome, pts);
        }
    }
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
    fn update(&self, name: &str, value: &glib::Value) {
        if let Err(e) = self.try_update(name, value) {
            gst::warning!(CAT, imp = self, "{e}; keeping the old value");
        }
    }

    /// Validates and stores a plain setting for the next frame boundary (a property or a
    /// control request); an error changes nothing.
    pub(super) fn try_update(&self, name: &str, value: &glib::Value) -> Result<(), String> {
        let mut s = lock(&self.settings);
        let mut new = s.clone();
        let checked = match new.set_plain(name, value) {
            None => return Err(format!("unknown property {name}")),
            Some(set) => set
                .map_err(|e| e.to_string())
                .and_then(|()| new.engine_config(0).validate().map_err(|e| e.to_string())),
        };
        if let Err(e) = checked {
            return Err(format!("{name}: {e}"));
        }
        *s = new;
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// The control API's status: the settings in force and the last frame.
    pub(super) fn control_status(&self, name: String) -> yardline_control::Status {
        let settings = lock(&self.settings).clone();
        self.hub.status(name, &current(&settings))
    }

    /// Starts the control server when `control` is set (token: `control-token`, else
    /// `YARDLINE_CONTROL_TOKEN`).
    fn start_control(&self) -> Result<(), yardline_control::server::ServerError> {
        let mut c = lock(&self.control);
        c.server = None;
        let Some(addr) = c.addr.clone() else {
            return Ok(());
        };
        let token = c.token.clone().or_else(yardline_control::token_from_env);
        let target = Arc::new(ElementTarget {
            element: self.obj().downgrade(),
        });
        self.hub.reset();
        let server = yardline_control::server::ControlServer::start_with(
            &addr,
            token.as_deref(),
            yardline_control::server::RateLimit::default(),
            target,
            Arc::clone(&self.hub.preview),
            yardline_engine::control::server_threads(),
        )?;
        gst::info!(
            CAT,
            imp = self,
            "control server on {} (token {})",
            server.local_addr(),
            if token.is_some() {
                "required"
            } else {
                "not required"
            }
        );
        c.server = Some(server);
        self.hub.active.store(true, Ordering::Release);
        Ok(())
    }

    /// Sets a property that swaps what it names at once: `change` is stored as it is while
    /// stopped; while running, `apply` swaps it in with the changed settings, and when that
    /// fails (logged) the old `what` is kept.
    fn swap(
        &self,
        what: &str,
        change: impl Fn(&mut Settings),
        apply: impl FnOnce(&mut State, &Settings, u64) -> Result<(), StateError>,
    ) {
        let mut guard = lock(&self.state);
        let Some(state) = guard.as_mut() else {
            change(&mut lock(&self.settings));
            return;
        };
        let mut settings = lock(&self.settings).clone();
        change(&mut settings);
        let result = apply(state, &settings, self.generation.load(Ordering::Acquire));
        self.update_latency(state);
        match result {
            Ok(()) => change(&mut lock(&self.settings)),
            Err(e) => gst::warning!(CAT, imp = self, "{e}; keeping the old {what}"),
        }
        drop(guard);
        self.post_latency_change();
    }

    fn set_tracking(&self, uri: Option<String>) {
        let uri = uri.filter(|u| !u.trim().is_empty());
        let spec = match uri.as_deref().map(tracking::parse).transpose() {
            Ok(spec) => spec.unwrap_or_default(),
            Err(e) => {
                gst::warning!(CAT, imp = self, "{e}; keeping the old tracking source");
                return;
            }
        };
        let clock = self.receive_clock();
        let apply = |state: &mut State, settings: &Settings, generation| {
            match state.swap_tracking(&spec, settings, generation, clock) {
                // The new source is in place all the same.
                Err(e @ StateError::Rebuild { .. }) => {
                    gst::warning!(CAT, imp = self, "{e}");
                    Ok(())
                }
                other => other,
            }
        };
        self.swap("tracking source", |s| s.tracking.clone_from(&uri), apply);
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
        let delay = state.latency_ns();
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

    /// One frame: flush, settings, tracking, then the budget rule and the engine.
    fn process(
        &self,
        state: &mut State,
        frame: &mut Frames<'_, '_, '_>,
        started: Instant,
    ) -> FrameOutcome {
        state.count_frame();
        let generation = self.generation.load(Ordering::Acquire);
        if self.flushed.swap(false, Ordering::AcqRel) {
            let settings = lock(&self.settings).clone();
            if let Err(e) = state.restart(&settings, generation) {
                gst::warning!(CAT, imp = self, "{e}");
            }
            self.update_latency(state);
            gst::debug!(CAT, imp = self, "flushed: engine and tracking restarted");
        }
        if !state.is_current(generation) {
            let settings = lock(&self.settings).clone();
            match state.apply(&settings, generation) {
                Ok(()) => gst::debug!(CAT, imp = self, "settings applied"),
                Err(e) => gst::warning!(CAT, imp = self, "settings not applied: {e}"),
            }
            self.update_latency(state);
        }
        if self.hub.active.load(Ordering::Acquire) {
            // The key and a re-registration sent to the control API, at this frame boundary.
            let (width, height) = frame.size();
            if state.apply_control(&self.hub, width, height) {
                // A key that landed brings its exclusions, beside the property's.
                let settings = lock(&self.settings).clone();
                if let Err(e) = state.swap_exclusions(&settings, generation) {
                    gst::warning!(CAT, imp = self, "exclusions of the key not applied: {e}");
                }
            }
        }
        let pts = state.frame_pts(frame.input_buffer().pts());
        // Tracking, on its own clock: buffer time for a file, running time for live UDP,
        // whose feed waits for a late packet once the element has a running time.
        let live = state.is_live();
        let frame_time = if live { self.running_time(pts) } else { pts };
        state.take_tracking(
            frame_time,
            live && self.obj().current_running_time().is_some(),
        );
        state.set_frame_timecode(tracking::frame_timecode(frame.input_buffer()));
        state.run_frame(frame, frame_time, started, &*self.obj())
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
        let obj = self.obj();
        let msg = gst::message::Element::builder(outcome.structure(pts))
            .src(&*obj)
            .build();
        if obj.post_message(msg).is_err() {
            gst::trace!(CAT, imp = self, "no bus for the frame message");
        }
    }

    fn stats_string(&self) -> String {
        match lock(&self.state).as_ref() {
            Some(s) => s.stats().to_string(),
            None => stopped_stats().to_string(),
        }
    }
}

thread_local! {
    /// This streaming thread has been promoted already.
    static PROMOTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Promotes the calling streaming thread once (the `realtime` property).
fn promote_streaming_thread() {
    PROMOTED.with(|p| {
        if !p.replace(true) {
            yardline_engine::sched::promote_current_thread("yardline streaming thread");
        }
    });
}
