//! The video thread's side: the pipeline it pulls frames from, the engine it runs them
//! through, the tracking feed, looping the source, and what it hands the UI.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError, TrySendError};
use gst::prelude::*;
use yardline_engine::key::FieldKey;
use yardline_engine::tracking::TrackingFeed;
use yardline_engine::tracking::source::ReceiveClock;
use yardline_engine::venue::Venue;
use yardline_engine::{Engine, EngineError, EngineStats};
use yardline_frame::{FrameLayout, FrameMut, PixelFormat};
use yardline_keying::{Exclusion, KeyConfig};

use super::{
    COMMAND_QUEUE, Command, PREVIEW_QUEUE, Preview, Published, SINK_NAME, VideoSetup, VideoThread,
    init_gstreamer,
};
use crate::error::UiError;

/// How long the video thread waits for a frame before it looks at commands and the bus.
const PULL_TIMEOUT_MS: u64 = 50;

/// Builds the pipeline, prerolls it and starts the thread ([`VideoThread::start`]).
pub(super) fn spawn(
    setup: VideoSetup,
    notify: Box<dyn Fn() + Send>,
) -> Result<VideoThread, UiError> {
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
    let tracking = TrackingFeed::open(&setup.tracking, running_time(&pipeline))
        .map_err(|e| UiError::Config(e.to_string()))?;
    let engine = Engine::new(
        setup.config.clone(),
        setup.venue.as_ref(),
        setup.key.as_ref(),
    )
    .map_err(|e| UiError::Config(e.to_string()))?;
    if pipeline.set_state(gst::State::Playing).is_err() {
        let detail = pop_error(&pipeline).unwrap_or_else(|| "the pipeline did not start".into());
        // Best effort on a pipeline that failed to start.
        pipeline.set_state(gst::State::Null).ok();
        return Err(pipe_err(detail));
    }
    let (cmd_tx, cmd_rx) = crossbeam_channel::bounded(COMMAND_QUEUE);
    let (prev_tx, prev_rx) = crossbeam_channel::bounded(PREVIEW_QUEUE);
    let published = Arc::new(Mutex::new(Published {
        config: Some(engine.config().clone()),
        venue: setup.venue.clone().map(Arc::new),
        backend: engine.backend(),
        exclusions: engine.exclusions().to_vec(),
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
        base_stats: EngineStats::default(),
        key_published: false,
        rate_window: (Instant::now(), 0),
        offset_ns: 0,
        last_source_pts: 0,
        rebuild: None,
    };
    let thread = std::thread::Builder::new()
        .name("yardline-video".into())
        .spawn(move || worker.run())
        .map_err(|e| UiError::Pipeline {
            description: "video thread".into(),
            detail: e.to_string(),
        })?;
    Ok(VideoThread {
        commands: cmd_tx,
        previews: prev_rx,
        published,
        stop,
        thread: Some(thread),
    })
}

/// The pipeline's running time (ns; 0 before it runs): the clock live tracking packets are
/// stamped with.
fn running_time(pipeline: &gst::Pipeline) -> ReceiveClock {
    let weak = pipeline.downgrade();
    Arc::new(move || {
        weak.upgrade()
            .and_then(|p| p.current_running_time())
            .and_then(|t| i64::try_from(t.nseconds()).ok())
            .unwrap_or(0)
    })
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

struct Worker {
    loops: bool,
    pipeline: gst::Pipeline,
    sink: gst_app::AppSink,
    tracking: TrackingFeed,
    venue: Option<Venue>,
    key: Option<KeyConfig>,
    engine: Engine,
    commands: Receiver<Command>,
    previews: Sender<Preview>,
    published: Arc<Mutex<Published>>,
    stop: Arc<AtomicBool>,
    notify: Box<dyn Fn() + Send>,
    base_stats: EngineStats,
    key_published: bool,
    rate_window: (Instant, u64),
    offset_ns: i64,
    last_source_pts: i64,
    rebuild: Option<Rebuild>,
}

/// A new engine being built off the video thread (opening a GPU compositor takes a while);
/// frames go on through the old engine meanwhile.
struct Rebuild {
    /// The engine, or why it could not be made.
    result: Receiver<Result<Engine, EngineError>>,
    /// The venue it is built with (the worker's once it runs).
    venue: Option<Venue>,
    /// The operator key it is built with (the worker's once it runs).
    key: Option<KeyConfig>,
}

impl Worker {
    fn publish(&self, f: impl FnOnce(&mut Published)) {
        f(&mut self
            .published
            .lock()
            .unwrap_or_else(PoisonError::into_inner));
    }

    fn run(&mut self) {
        // This thread processes every frame of the program output: real-time when permitted.
        yardline_engine::sched::promote_current_thread("operator video thread");
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

    /// Applies the commands waiting, in order. While a new engine is being built they wait:
    /// they are meant for the engine that runs after them.
    fn apply_commands(&mut self) {
        self.finish_rebuild();
        while self.rebuild.is_none()
            && let Ok(cmd) = self.commands.try_recv()
        {
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
                Command::SetExclusions(list) => self.set_exclusions(list),
                Command::SetVenue(venue) => self.start_rebuild(Some(*venue), self.key.clone()),
                Command::SetReference { camera, venue } => {
                    self.engine.pose_mut().set_reference(*camera);
                    self.venue = Some(*venue);
                    self.publish_venue();
                }
            }
        }
    }

    fn set_key(&mut self, key: Option<KeyConfig>) {
        let Some(k) = key else {
            // A fresh engine builds its automatic palette from the next frame.
            self.start_rebuild(self.venue.clone(), None);
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

    fn set_exclusions(&mut self, list: Vec<Exclusion>) {
        match self.engine.set_exclusions(list) {
            Ok(()) => {
                let list = self.engine.exclusions().to_vec();
                self.publish(|p| {
                    p.exclusions = list;
                    p.error = None;
                });
            }
            Err(e) => self.publish(|p| p.error = Some(format!("exclusions refused: {e}"))),
        }
    }

    fn publish_venue(&self) {
        let venue = self.venue.clone().map(Arc::new);
        self.publish(|p| p.venue = venue);
    }

    fn publish_key(&mut self) {
        let key = self.engine.key().cloned();
        self.key_published = key.is_some();
        self.publish(|p| {
            p.key = key;
            p.key_version += 1;
        });
    }

    /// Starts building a fresh engine with the current settings, `venue` and the operator
    /// `key` (none: an automatic key, learnt from the next frame with a pose) on a thread of
    /// its own at normal priority.
    fn start_rebuild(&mut self, venue: Option<Venue>, key: Option<KeyConfig>) {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let (config, v, k) = (self.engine.config().clone(), venue.clone(), key.clone());
        let spawned = std::thread::Builder::new()
            .name("yardline-engine-build".into())
            .spawn(move || {
                yardline_engine::sched::demote_current_thread();
                // The worker may have stopped meanwhile: nobody is left to take the engine.
                tx.send(Engine::new(config, v.as_ref(), k.as_ref())).ok();
            });
        match spawned {
            Ok(_) => {
                self.rebuild = Some(Rebuild {
                    result: rx,
                    venue,
                    key,
                });
            }
            Err(e) => self.publish(|p| p.error = Some(format!("engine not rebuilt: {e}"))),
        }
    }

    /// Swaps in the engine being built once it is ready; an engine that could not be made
    /// is reported and the old one, its venue and key run on.
    fn finish_rebuild(&mut self) {
        let Some(rebuild) = self.rebuild.take() else {
            return;
        };
        let result = match rebuild.result.try_recv() {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(TryRecvError::Empty) => {
                self.rebuild = Some(rebuild);
                return;
            }
            Err(TryRecvError::Disconnected) => Err("the engine build thread failed".to_string()),
        };
        match result {
            Ok(engine) => {
                add_stats(&mut self.base_stats, &self.engine.stats());
                // The operator's exclusions carry over to the new engine.
                let exclusions = self.engine.exclusions().to_vec();
                self.engine = engine;
                self.set_exclusions(exclusions);
                self.venue = rebuild.venue;
                self.key = rebuild.key;
                self.key_published = false;
                self.publish_key();
                self.publish_venue();
            }
            Err(e) => {
                tracing::warn!("engine not rebuilt: {e}");
                self.publish(|p| p.error = Some(format!("engine not rebuilt: {e}")));
            }
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
        self.offset_ns += self.last_source_pts + self.engine.config().frame_period_ns;
        self.tracking.rewind(self.offset_ns);
    }

    fn process(&mut self, sample: &gst::Sample) {
        let Some(frame) = copy_rgba(sample) else {
            tracing::warn!("video: a sample without a readable RGBA frame was skipped");
            return;
        };
        let (width, height, source_pts, clean) = frame;
        self.last_source_pts = source_pts;
        let pts_ns = source_pts + self.offset_ns;
        // Frames are fed on the source's own timeline; the feed moves a recording's samples
        // onto the engine's by the loop offset it was rewound with.
        let pushed = self
            .engine
            .take_tracking(&mut self.tracking, source_pts, false)
            .pushed;
        // A source that stamps timecodes (SDI capture, `timecodestamper`): tracking samples
        // carrying timecode are matched by it, as the element matches them.
        self.engine.set_frame_timecode(
            sample
                .buffer()
                .and_then(gstyardline::yardline::frame_timecode),
        );
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
        add_stats(&mut stats, &self.base_stats);
        let sync = self.engine.sync_stats();
        let backend = self.engine.backend();
        let checksum_failures = self.tracking.checksum_failures();
        let udp_rate = self.tracking.udp_stats().map(|s| s.packets_per_second);
        let delay = self.engine.tracking_delay_ns();
        let reading = self.tracking.reading_near(source_pts + delay);
        let preview = Preview {
            width,
            height,
            clean: Arc::new(clean),
            program: Arc::new(program),
            report,
            source_pts_ns: source_pts,
            reading,
        };
        let dropped = match self.previews.try_send(preview) {
            Ok(()) => false,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => true,
        };
        self.publish(|p| {
            p.stats = stats;
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

/// Adds the counters of `more` that the health panel sums over engines to `total`.
fn add_stats(total: &mut EngineStats, more: &EngineStats) {
    total.frames += more.frames;
    total.drawn += more.drawn;
    total.faults += more.faults;
    total.sensor_misses += more.sensor_misses;
    total.gpu_fallbacks += more.gpu_fallbacks;
    total.panics += more.panics;
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
