//! The video thread: a GStreamer pipeline into an appsink, the engine on every frame, and the
//! clean and program pictures handed to the UI through a bounded channel.
//!
//! The engine runs here, not on the UI thread, so the program output never depends on the UI's
//! frame rate: a slow or hidden window only drops *previews* (`try_send` on a full channel),
//! never a processed frame. The UI changes the engine through a bounded command channel; each
//! command is applied between two frames.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use gst::prelude::*;
use yardline_engine::key::FieldKey;
use yardline_engine::tracking::sync::SyncStats;
use yardline_engine::tracking::{
    SensorReading, TrackingSample, UdpSource, UdpSourceConfig, load_jsonl,
};
use yardline_engine::venue::Venue;
use yardline_engine::{Engine, EngineConfig};
use yardline_engine::{EngineStats, FrameReport};
use yardline_frame::{FrameLayout, FrameMut, PixelFormat};
use yardline_keying::KeyConfig;

use crate::error::UiError;

/// Name of the appsink every pipeline ends in.
const SINK_NAME: &str = "yardline_sink";
/// Previews waiting for the UI; older ones are dropped when it falls behind.
pub const PREVIEW_QUEUE: usize = 2;
/// Commands waiting for the video thread.
pub const COMMAND_QUEUE: usize = 32;
/// How long the video thread waits for a frame before it looks at commands and the bus.
const PULL_TIMEOUT_MS: u64 = 50;
/// Frames appsink buffers before it holds the decoder back.
const APPSINK_BUFFERS: u32 = 2;
/// Tracking packets are pushed to the engine up to this far past a frame's expected packet,
/// as they would have arrived by then on a live feed (frames).
const TRACKING_SLACK_FRAMES: i64 = 2;

/// Initialises GStreamer once (safe to call many times).
pub fn init_gstreamer() -> Result<(), UiError> {
    gst::init().map_err(|e| UiError::Pipeline {
        description: "gst::init".into(),
        detail: e.to_string(),
    })
}

/// Where video comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VideoSpec {
    /// A media file GStreamer can play (looped).
    File(PathBuf),
    /// `videotestsrc` (SMPTE bars at 640x360, 59.94 fps).
    TestPattern,
    /// A `gst-launch` description of a source; the app appends the conversion and its appsink.
    Launch(String),
}

impl VideoSpec {
    /// The full pipeline description, ending in the app's appsink (RGBA).
    pub fn pipeline_description(&self) -> Result<String, UiError> {
        let tail = format!(
            "videoconvert ! video/x-raw,format=RGBA ! appsink name={SINK_NAME} max-buffers={APPSINK_BUFFERS} drop=false"
        );
        Ok(match self {
            Self::File(path) => {
                if !path.is_file() {
                    return Err(UiError::Config(format!(
                        "{}: no such video file",
                        path.display()
                    )));
                }
                let abs = std::fs::canonicalize(path).map_err(|source| UiError::Io {
                    path: path.clone(),
                    source,
                })?;
                let uri = gst::glib::filename_to_uri(&abs, None).map_err(|e| {
                    UiError::Config(format!("{}: not a file name: {e}", path.display()))
                })?;
                format!("uridecodebin uri=\"{uri}\" ! {tail} sync=true")
            }
            Self::TestPattern => format!(
                "videotestsrc is-live=true pattern=smpte ! video/x-raw,width=640,height=360,framerate=60000/1001 ! {tail} sync=true"
            ),
            Self::Launch(desc) => {
                if desc.trim().is_empty() {
                    return Err(UiError::Config(
                        "--source: empty pipeline description".into(),
                    ));
                }
                format!("{desc} ! {tail} sync=true")
            }
        })
    }

    /// Whether the source loops (seeks back to the start at its end).
    pub fn loops(&self) -> bool {
        matches!(self, Self::File(_))
    }
}

/// Where tracking comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackingSpec {
    /// No tracking (vision-only or no pose).
    None,
    /// A `tracking.jsonl` file, replayed with the video.
    File(PathBuf),
    /// FreeD over UDP on this address.
    Udp(std::net::SocketAddr),
}

/// Everything the video thread needs.
#[derive(Debug, Clone)]
pub struct VideoSetup {
    /// Video source.
    pub video: VideoSpec,
    /// Tracking source.
    pub tracking: TrackingSpec,
    /// Venue calibration.
    pub venue: Option<Venue>,
    /// Engine settings at start.
    pub config: EngineConfig,
    /// Operator key at start (`None`: automatic palette from the first frame).
    pub key: Option<KeyConfig>,
}

/// One processed frame for the UI.
#[derive(Debug, Clone)]
pub struct Preview {
    /// Frame width (pixels).
    pub width: u32,
    /// Frame height (pixels).
    pub height: u32,
    /// The frame as decoded (RGBA, tightly packed).
    pub clean: Arc<Vec<u8>>,
    /// The frame after the engine (RGBA, tightly packed).
    pub program: Arc<Vec<u8>>,
    /// The engine's report.
    pub report: FrameReport,
    /// Which pass over a looping source this frame belongs to (0-based).
    pub pass: u64,
    /// The frame's pts in the source itself (ns); `report.pts_ns` runs on across loops.
    pub source_pts_ns: i64,
    /// The FreeD reading nearest to this frame's packet (for the calibration wizard).
    pub reading: Option<SensorReading>,
}

/// What the video thread publishes besides previews.
#[derive(Debug, Clone, Default)]
pub struct Published {
    /// The engine's settings as it holds them now.
    pub config: Option<EngineConfig>,
    /// The engine's key (automatic or the operator's).
    pub key: Option<FieldKey>,
    /// Bumped whenever `key` changes.
    pub key_version: u64,
    /// Engine counters (summed over loops of the source).
    pub stats: EngineStats,
    /// Tracking sync counters of the current pass.
    pub sync: Option<SyncStats>,
    /// Tracking packets delivered to the engine per second (packets/s).
    pub packets_per_second: f64,
    /// Tracking packets dropped for a bad checksum (packets).
    pub checksum_failures: u64,
    /// Previews the UI did not take in time (frames; the program is unaffected).
    pub preview_drops: u64,
    /// Compositor in use.
    pub backend: String,
    /// Tracking delay the engine applies (ns).
    pub tracking_delay_ns: i64,
    /// The last error (a refused setting, a pipeline error).
    pub error: Option<String>,
    /// Frames processed in total.
    pub frames: u64,
    /// True once the source ended (non-looping sources).
    pub ended: bool,
}

/// A change the UI asks of the engine.
#[derive(Debug, Clone)]
pub enum Command {
    /// New settings (refused and reported when invalid).
    SetConfig(Box<EngineConfig>),
    /// New operator key; `None` returns to the automatic palette.
    SetKey(Option<Box<KeyConfig>>),
}

/// Handle of the running video thread. Dropping it stops the thread.
pub struct VideoThread {
    commands: Sender<Command>,
    previews: Receiver<Preview>,
    published: Arc<Mutex<Published>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for VideoThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoThread").finish_non_exhaustive()
    }
}

impl VideoThread {
    /// Builds the pipeline, prerolls it and starts the thread. `notify` is called after each
    /// preview is queued (to wake the UI).
    pub fn start(setup: VideoSetup, notify: Box<dyn Fn() + Send>) -> Result<Self, UiError> {
        init_gstreamer()?;
        let description = setup.video.pipeline_description()?;
        let pipe_err = |detail: String| UiError::Pipeline {
            description: description.clone(),
            detail,
        };
        let pipeline = gst::parse::launch(&description)
            .map_err(|e| pipe_err(e.to_string()))?
            .downcast::<gst::Pipeline>()
            .map_err(|_| pipe_err("not a pipeline".into()))?;
        let sink = pipeline
            .by_name(SINK_NAME)
            .and_then(|e| e.downcast::<gst_app::AppSink>().ok())
            .ok_or_else(|| pipe_err("no appsink".into()))?;
        let tracking = Tracking::open(&setup.tracking, &pipeline)?;
        let engine = Engine::new(
            setup.config.clone(),
            setup.venue.as_ref(),
            setup.key.as_ref(),
        )
        .map_err(|e| UiError::Config(e.to_string()))?;
        if pipeline.set_state(gst::State::Playing).is_err() {
            let detail =
                pop_error(&pipeline).unwrap_or_else(|| "the pipeline did not start".into());
            // Best effort on a pipeline that failed to start.
            pipeline.set_state(gst::State::Null).ok();
            return Err(pipe_err(detail));
        }
        let (cmd_tx, cmd_rx) = crossbeam_channel::bounded(COMMAND_QUEUE);
        let (prev_tx, prev_rx) = crossbeam_channel::bounded(PREVIEW_QUEUE);
        let published = Arc::new(Mutex::new(Published {
            config: Some(engine.config().clone()),
            backend: engine.backend(),
            ..Published::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let mut worker = Worker {
            loops: setup.video.loops(),
            pipeline,
            sink,
            tracking,
            venue: setup.venue,
            key: setup.key,
            engine,
            commands: cmd_rx,
            previews: prev_tx,
            published: Arc::clone(&published),
            stop: Arc::clone(&stop),
            notify,
            pass: 0,
            base_stats: EngineStats::default(),
            key_published: false,
            rate_window: (Instant::now(), 0),
            offset_ns: 0,
            last_source_pts: 0,
        };
        let thread = std::thread::Builder::new()
            .name("yardline-video".into())
            .spawn(move || worker.run())
            .map_err(|e| UiError::Pipeline {
                description: "video thread".into(),
                detail: e.to_string(),
            })?;
        Ok(Self {
            commands: cmd_tx,
            previews: prev_rx,
            published,
            stop,
            thread: Some(thread),
        })
    }

    /// Queues a command; false when the queue is full (the UI retries next frame).
    pub fn send(&self, command: Command) -> bool {
        self.commands.try_send(command).is_ok()
    }

    /// The newest preview, if any arrived since the last call (older ones are skipped).
    pub fn latest_preview(&self) -> Option<Preview> {
        self.previews.try_iter().last()
    }

    /// A copy of what the video thread published.
    pub fn published(&self) -> Published {
        self.published
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for VideoThread {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            tracing::error!("video thread panicked");
        }
    }
}

fn pop_error(pipeline: &gst::Pipeline) -> Option<String> {
    let bus = pipeline.bus()?;
    let msg = bus.timed_pop_filtered(gst::ClockTime::ZERO, &[gst::MessageType::Error])?;
    match msg.view() {
        gst::MessageView::Error(e) => Some(format!(
            "{}{}",
            e.error(),
            e.debug().map(|d| format!(" ({d})")).unwrap_or_default()
        )),
        _ => None,
    }
}

/// Tracking input of the video thread.
enum Tracking {
    None,
    File {
        samples: Vec<TrackingSample>,
        next: usize,
        checksum_failures: u64,
    },
    Udp {
        source: UdpSource,
        last: Option<TrackingSample>,
    },
}

impl Tracking {
    fn open(spec: &TrackingSpec, pipeline: &gst::Pipeline) -> Result<Self, UiError> {
        Ok(match spec {
            TrackingSpec::None => Self::None,
            TrackingSpec::File(path) => {
                let log = load_jsonl(path)
                    .map_err(|e| UiError::Config(format!("{}: {e}", path.display())))?;
                Self::File {
                    samples: log.samples,
                    next: 0,
                    checksum_failures: log.stats.checksum_failures,
                }
            }
            TrackingSpec::Udp(addr) => {
                let weak = pipeline.downgrade();
                let clock = Arc::new(move || {
                    weak.upgrade()
                        .and_then(|p| p.current_running_time())
                        .and_then(|t| i64::try_from(t.nseconds()).ok())
                        .unwrap_or(0)
                });
                let udp = UdpSource::start_with_clock(
                    UdpSourceConfig {
                        bind: *addr,
                        ..UdpSourceConfig::default()
                    },
                    clock,
                )
                .map_err(|e| UiError::Config(format!("--udp {addr}: {e}")))?;
                Self::Udp {
                    source: udp,
                    last: None,
                }
            }
        })
    }

    /// Pushes what has arrived by the time the frame at source pts `pts_ns` is processed;
    /// file samples are moved by `offset_ns` onto the looping timeline. Returns the count.
    fn feed(&mut self, engine: &mut Engine, pts_ns: i64, period_ns: i64, offset_ns: i64) -> u64 {
        match self {
            Self::None => 0,
            Self::File { samples, next, .. } => {
                let horizon =
                    pts_ns + engine.tracking_delay_ns() + TRACKING_SLACK_FRAMES * period_ns;
                let mut n = 0;
                while let Some(s) = samples.get(*next).filter(|s| s.pts_ns <= horizon) {
                    engine.push_tracking(&TrackingSample {
                        pts_ns: s.pts_ns + offset_ns,
                        packet: s.packet,
                    });
                    *next += 1;
                    n += 1;
                }
                n
            }
            Self::Udp { source, last } => {
                let mut n = 0;
                while let Some(s) = source.try_recv() {
                    engine.push_tracking(&s);
                    *last = Some(s);
                    n += 1;
                }
                n
            }
        }
    }

    /// The reading of the packet received nearest to `pts_ns` (file), or the latest (UDP).
    fn reading_near(&self, pts_ns: i64) -> Option<SensorReading> {
        match self {
            Self::None => None,
            Self::File { samples, .. } => {
                let i = samples.partition_point(|s| s.pts_ns < pts_ns);
                [i.checked_sub(1), Some(i)]
                    .into_iter()
                    .flatten()
                    .filter_map(|j| samples.get(j))
                    .min_by_key(|s| (s.pts_ns - pts_ns).unsigned_abs())
                    .map(|s| SensorReading::from(&s.packet))
            }
            Self::Udp { last, .. } => last.map(|s| SensorReading::from(&s.packet)),
        }
    }

    fn rewind(&mut self) {
        if let Self::File { next, .. } = self {
            *next = 0;
        }
    }

    fn checksum_failures(&self) -> u64 {
        match self {
            Self::None => 0,
            Self::File {
                checksum_failures, ..
            } => *checksum_failures,
            Self::Udp { source, .. } => source.stats().checksum_failures,
        }
    }

    fn udp_rate(&self) -> Option<f64> {
        match self {
            Self::Udp { source, .. } => Some(source.stats().packets_per_second),
            _ => None,
        }
    }
}

struct Worker {
    loops: bool,
    pipeline: gst::Pipeline,
    sink: gst_app::AppSink,
    tracking: Tracking,
    venue: Option<Venue>,
    key: Option<KeyConfig>,
    engine: Engine,
    commands: Receiver<Command>,
    previews: Sender<Preview>,
    published: Arc<Mutex<Published>>,
    stop: Arc<AtomicBool>,
    notify: Box<dyn Fn() + Send>,
    pass: u64,
    base_stats: EngineStats,
    key_published: bool,
    rate_window: (Instant, u64),
    offset_ns: i64,
    last_source_pts: i64,
}

impl Worker {
    fn publish(&self, f: impl FnOnce(&mut Published)) {
        f(&mut self
            .published
            .lock()
            .unwrap_or_else(PoisonError::into_inner));
    }

    fn run(&mut self) {
        while !self.stop.load(Ordering::Relaxed) {
            self.apply_commands();
            if let Some(err) = self.bus_error() {
                tracing::error!("video: {err}");
                self.publish(|p| {
                    p.error = Some(err);
                    p.ended = true;
                });
                break;
            }
            let sample = self
                .sink
                .try_pull_sample(gst::ClockTime::from_mseconds(PULL_TIMEOUT_MS));
            match sample {
                Some(s) => self.process(&s),
                None if self.sink.is_eos() => {
                    if self.loops {
                        self.rewind();
                    } else {
                        self.publish(|p| p.ended = true);
                        std::thread::sleep(Duration::from_millis(PULL_TIMEOUT_MS));
                    }
                }
                None => {}
            }
        }
        // Best effort: the thread is shutting down.
        self.pipeline.set_state(gst::State::Null).ok();
    }

    fn bus_error(&self) -> Option<String> {
        pop_error(&self.pipeline)
    }

    fn apply_commands(&mut self) {
        while let Ok(cmd) = self.commands.try_recv() {
            match cmd {
                Command::SetConfig(config) => match self.engine.set_config(*config) {
                    Ok(()) => {
                        let c = self.engine.config().clone();
                        self.publish(|p| {
                            p.config = Some(c);
                            p.error = None;
                        });
                    }
                    Err(e) => {
                        tracing::warn!("setting refused: {e}");
                        self.publish(|p| p.error = Some(format!("setting refused: {e}")));
                    }
                },
                Command::SetKey(key) => self.set_key(key.map(|k| *k)),
            }
        }
    }

    fn set_key(&mut self, key: Option<KeyConfig>) {
        let Some(k) = key else {
            self.key = None;
            // A fresh engine builds its automatic palette from the next frame.
            self.rebuild_engine();
            return;
        };
        match FieldKey::compile(&k) {
            Ok(fk) => {
                self.engine.set_key(fk);
                self.key = Some(k);
                self.publish_key();
            }
            Err(e) => self.publish(|p| p.error = Some(format!("key refused: {e}"))),
        }
    }

    fn publish_key(&mut self) {
        let key = self.engine.key().cloned();
        self.key_published = key.is_some();
        self.publish(|p| {
            p.key = key;
            p.key_version += 1;
        });
    }

    fn rebuild_engine(&mut self) {
        let config = self.engine.config().clone();
        match Engine::new(config, self.venue.as_ref(), self.key.as_ref()) {
            Ok(e) => {
                let s = self.engine.stats();
                self.base_stats.frames += s.frames;
                self.base_stats.drawn += s.drawn;
                self.base_stats.faults += s.faults;
                self.base_stats.sensor_misses += s.sensor_misses;
                self.base_stats.gpu_fallbacks += s.gpu_fallbacks;
                self.base_stats.panics += s.panics;
                self.engine = e;
                self.key_published = false;
                self.publish_key();
            }
            Err(e) => self.publish(|p| p.error = Some(format!("engine: {e}"))),
        }
    }

    /// Back to the start of a looping source. The engine's timeline runs on: the next pass is
    /// presented (and its tracking replayed) one frame period after the last frame, so the
    /// sync, the pose filter, the key and the counters carry over.
    fn rewind(&mut self) {
        let seek = self.pipeline.seek_simple(
            gst::SeekFlags::FLUSH | gst::SeekFlags::KEY_UNIT,
            gst::ClockTime::ZERO,
        );
        if let Err(e) = seek {
            self.publish(|p| {
                p.error = Some(format!("cannot loop the source: {e}"));
                p.ended = true;
            });
            self.loops = false;
            return;
        }
        self.tracking.rewind();
        self.pass += 1;
        self.offset_ns += self.last_source_pts + self.engine.config().frame_period_ns;
    }

    fn process(&mut self, sample: &gst::Sample) {
        let Some(frame) = copy_rgba(sample) else {
            tracing::warn!("video: a sample without a readable RGBA frame was skipped");
            return;
        };
        let (width, height, source_pts, clean) = frame;
        self.last_source_pts = source_pts;
        let pts_ns = source_pts + self.offset_ns;
        let period = self.engine.config().frame_period_ns;
        let pushed = self
            .tracking
            .feed(&mut self.engine, source_pts, period, self.offset_ns);
        let mut program = clean.clone();
        let report = match FrameLayout::packed(PixelFormat::Rgba, width, height) {
            Ok(layout) => match FrameMut::new(&layout, &mut program) {
                Ok(mut fm) => self.engine.process(&mut fm, pts_ns),
                Err(e) => {
                    tracing::warn!("video: {e}");
                    return;
                }
            },
            Err(e) => {
                tracing::warn!("video: {e}");
                return;
            }
        };
        if !self.key_published && self.engine.key().is_some() {
            self.publish_key();
        }
        let (start, count) = &mut self.rate_window;
        *count += pushed;
        let elapsed = start.elapsed().as_secs_f64();
        let rate = if elapsed >= 1.0 {
            let r = *count as f64 / elapsed;
            *start = Instant::now();
            *count = 0;
            Some(r)
        } else {
            None
        };
        let mut stats = self.engine.stats();
        stats.frames += self.base_stats.frames;
        stats.drawn += self.base_stats.drawn;
        stats.faults += self.base_stats.faults;
        stats.sensor_misses += self.base_stats.sensor_misses;
        stats.gpu_fallbacks += self.base_stats.gpu_fallbacks;
        stats.panics += self.base_stats.panics;
        let sync = self.engine.sync_stats();
        let backend = self.engine.backend();
        let checksum_failures = self.tracking.checksum_failures();
        let udp_rate = self.tracking.udp_rate();
        let delay = self.engine.tracking_delay_ns();
        let reading = self.tracking.reading_near(source_pts + delay);
        let preview = Preview {
            width,
            height,
            clean: Arc::new(clean),
            program: Arc::new(program),
            report,
            pass: self.pass,
            source_pts_ns: source_pts,
            reading,
        };
        let dropped = match self.previews.try_send(preview) {
            Ok(()) => false,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => true,
        };
        self.publish(|p| {
            p.stats = stats;
            p.frames = stats.frames;
            p.sync = sync;
            p.backend = backend;
            p.tracking_delay_ns = delay;
            p.checksum_failures = checksum_failures;
            if let Some(r) = udp_rate.or(rate) {
                p.packets_per_second = r;
            }
            if dropped {
                p.preview_drops += 1;
            }
        });
        (self.notify)();
    }
}

/// The frame of `sample` as tightly packed RGBA with its pts (ns).
fn copy_rgba(sample: &gst::Sample) -> Option<(u32, u32, i64, Vec<u8>)> {
    let caps = sample.caps()?;
    let info = gst_video::VideoInfo::from_caps(caps).ok()?;
    let buffer = sample.buffer()?;
    let pts_ns = buffer
        .pts()
        .and_then(|t| i64::try_from(t.nseconds()).ok())
        .unwrap_or(0);
    let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer, &info).ok()?;
    let (w, h) = (info.width(), info.height());
    let row = w as usize * 4;
    let stride = usize::try_from(*info.stride().first()?).ok()?;
    let data = frame.plane_data(0).ok()?;
    let mut out = Vec::with_capacity(row * h as usize);
    for y in 0..h as usize {
        out.extend_from_slice(data.get(y * stride..y * stride + row)?);
    }
    // videoconvert leaves alpha 0 when it turns an opaque source into RGBA: frames are opaque.
    for px in out.chunks_exact_mut(4) {
        px[3] = 255;
    }
    Some((w, h, pts_ns, out))
}

/// Inputs of a sample folder: `video.mkv`, `tracking.jsonl`, `venue.toml`, `scene.toml`.
pub fn sample_setup(dir: &Path, mut config: EngineConfig) -> Result<VideoSetup, UiError> {
    if !dir.is_dir() {
        return Err(UiError::Config(format!(
            "{}: no such sample folder",
            dir.display()
        )));
    }
    let scene_path = dir.join("scene.toml");
    let scene = yardline_samples::SceneConfig::load(&scene_path)
        .map_err(|e| UiError::Config(format!("{}: {e}", scene_path.display())))?;
    config.first_down.yard = scene.first_down_yard;
    config.first_down.width_m = scene.line_width_m;
    config.scrimmage.yard = scene.scrimmage_yard;
    config.scrimmage.width_m = scene.line_width_m;
    config.field = scene
        .field
        .parse()
        .map_err(|e| UiError::Config(format!("{}: {e}", scene_path.display())))?;
    if let Some(period) = scene.frame_period_ns() {
        config.frame_period_ns = period;
    }
    let venue_path = dir.join("venue.toml");
    let venue = Venue::load(&venue_path)
        .map_err(|e| UiError::Config(format!("{}: {e}", venue_path.display())))?;
    Ok(VideoSetup {
        video: VideoSpec::File(dir.join("video.mkv")),
        tracking: TrackingSpec::File(dir.join("tracking.jsonl")),
        venue: Some(venue),
        config,
        key: None,
    })
}
