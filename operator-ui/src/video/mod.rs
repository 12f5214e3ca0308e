//! The video thread: a GStreamer pipeline into an appsink, the engine on every frame, and the
//! clean and program pictures handed to the UI through a bounded channel.
//!
//! The engine runs here, not on the UI thread, so the program output never depends on the UI's
//! frame rate: a slow or hidden window only drops *previews* (`try_send` on a full channel),
//! never a processed frame. The UI changes the engine through a bounded command channel; each
//! command is applied between two frames.
//!
//! This file holds what the UI and the thread share (the inputs, previews, published state,
//! commands and the thread's handle); `worker` holds the thread itself: the pipeline, the
//! engine, the tracking feed and looping the source.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, TrySendError};
use yardline_engine::Camera;
use yardline_engine::key::FieldKey;
use yardline_engine::tracking::SensorReading;
use yardline_engine::tracking::sync::SyncStats;
use yardline_engine::venue::Venue;
use yardline_engine::{EngineConfig, EngineStats, FrameReport};
use yardline_keying::{Exclusion, KeyConfig};

use crate::error::UiError;

pub use yardline_engine::tracking::TrackingSpec;

mod worker;

/// Name of the appsink every pipeline ends in.
const SINK_NAME: &str = "yardline_sink";
/// Previews waiting for the UI; older ones are dropped when it falls behind.
pub const PREVIEW_QUEUE: usize = 2;
/// Commands waiting for the video thread.
pub const COMMAND_QUEUE: usize = 32;
/// Frames appsink buffers before it holds the decoder back.
const APPSINK_BUFFERS: u32 = 2;

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
    /// The venue the engine runs with (as loaded, or as the calibration wizard last gave it).
    pub venue: Option<Arc<Venue>>,
    /// The engine's key (automatic or the operator's).
    pub key: Option<FieldKey>,
    /// Bumped whenever `key` changes.
    pub key_version: u64,
    /// The image-space exclusions the engine applies.
    pub exclusions: Vec<Exclusion>,
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
    /// New image-space exclusions (parts of the picture never drawn over), kept across
    /// rebuilds of the engine.
    SetExclusions(Vec<Exclusion>),
    /// A new venue (the calibration wizard saved one): the engine is rebuilt with it, so the
    /// sensor pose uses its mount and lens and vision-only tracking starts from its
    /// registration on the next frame. The key and the settings carry over; an automatic key
    /// is learnt again.
    SetVenue(Box<Venue>),
    /// A new starting pose for vision-only tracking, solved on a frame of this video (the
    /// wizard's "re-register"): handed to the running engine
    /// ([`yardline_engine::pose::PoseEstimator::set_reference`]), which tracks from it on the
    /// next frame. `venue` is the venue with that registration, kept for any later rebuild
    /// of the engine and published.
    SetReference {
        /// The solved camera, in pixels of the video's frames.
        camera: Box<Camera>,
        /// The venue holding it as its registration.
        venue: Box<Venue>,
    },
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
        worker::spawn(setup, notify)
    }

    /// Queues a command; false when the queue is full (the UI retries next frame).
    pub fn send(&self, command: Command) -> bool {
        self.try_send(command).is_ok()
    }

    /// Queues a command; gives it back when the queue is full (or the thread has ended).
    pub fn try_send(&self, command: Command) -> Result<(), Command> {
        self.commands
            .try_send(command)
            .map_err(TrySendError::into_inner)
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

/// Inputs of a sample folder: `video.mkv`, `tracking.jsonl`, `venue.toml`, `scene.toml`.
pub fn sample_setup(dir: &Path, mut config: EngineConfig) -> Result<VideoSetup, UiError> {
    if !dir.is_dir() {
        return Err(UiError::Config(format!(
            "{}: no such sample folder",
            dir.display()
        )));
    }
    let scene_path = dir.join("scene.toml");
    let scene_error =
        |e: &dyn std::fmt::Display| UiError::Config(format!("{}: {e}", scene_path.display()));
    let scene = yardline_samples::SceneConfig::load(&scene_path).map_err(|e| scene_error(&e))?;
    config.field = scene.field.parse().map_err(|e| scene_error(&e))?;
    config.set_lines(
        scene.first_down_yard,
        scene.scrimmage_yard,
        scene.line_width_m,
    );
    config.frame_period_ns = scene.frame_period_ns().unwrap_or(config.frame_period_ns);
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
