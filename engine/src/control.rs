//! The engine's side of the control plane, shared by every front end that serves the control
//! API (the element, the CLI's live render): frame counts and the last frame's status, preview
//! thumbnails of a frame, the key matte of a preview, and the changes that apply to the engine
//! itself at a frame boundary (the key, a re-registration).
//!
//! Threads: the server's thread validates a change ([`ControlHub::stage`]: the key is parsed
//! and compiled there, a camera checked against the video's size) and stages it; the video
//! thread picks it up with [`ControlHub::apply_staged`] at its next frame boundary (one atomic
//! load per frame when nothing is staged) and records each frame with
//! [`ControlHub::record`], handing over through `try_lock`ed slots it skips when busy.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use yardline_control::preview::{PreviewSlot, StillFn, Thumbnail};
use yardline_control::protocol::{
    FrameStatus, KeyInForce, KeySource, RegisterCamera, Status, Timings, key_hash,
};
use yardline_control::{Change, Health, ThreadSetup};
use yardline_frame::{FrameLayout, FrameRef};
use yardline_keying::{KeyConfig, KeyLut};

use crate::field::FieldKind;
use crate::geometry::Intrinsics;
use crate::key::FieldKey;
use crate::render::PixelKey;
use crate::venue::Registration;
use crate::{Engine, EngineConfig, FrameReport};

/// A change to the engine itself, validated, waiting for the next frame boundary.
#[derive(Debug)]
enum KeyChange {
    /// Back to the automatic key.
    Auto,
    /// An operator's key, compiled, with the hash of its text.
    Operator(Box<FieldKey>, String),
}

/// Changes staged for the next frame boundary (the latest of each kind wins).
#[derive(Debug, Default)]
struct Staged {
    key: Option<KeyChange>,
    register: Option<Registration>,
}

/// What the video thread and the control server share; lives as long as the front end.
#[derive(Debug, Default)]
pub struct ControlHub {
    /// Previews asked for and handed over.
    pub preview: Arc<PreviewSlot>,
    /// A server is running: the video thread records frames for it.
    pub active: AtomicBool,
    /// Frames seen since the server started (count).
    frames: AtomicU64,
    /// Frames with lines drawn (count).
    drawn: AtomicU64,
    /// Frames with a fault (count).
    faults: AtomicU64,
    /// Time the control hook took over all frames (ns).
    control_ns: AtomicU64,
    /// The last frame's size, `width << 32 | height` (0: no frame yet).
    size: AtomicU64,
    /// The last frame's status.
    last: Mutex<Option<FrameStatus>>,
    /// Something is staged (one load per frame on the video thread).
    has_staged: AtomicBool,
    staged: Mutex<Staged>,
    /// The key in force, as of the last frame boundary.
    key: Mutex<KeyInForce>,
    /// Re-registrations applied (count).
    registrations: AtomicU64,
    /// The engine's field kind, as of the last frame boundary: its place in
    /// [`FieldKind::ALL`] plus one (0: no frame yet).
    field: AtomicU8,
    /// The default palette's LUT of the key in use, with its generation, for matte previews.
    matte_lut: Mutex<Option<(u64, Arc<KeyLut>)>>,
}

/// Why a staged change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StageError(pub String);

impl ControlHub {
    /// A hub whose engine starts with a key file (`true`) or the automatic key.
    pub fn with_key_file(file: bool) -> Self {
        let hub = Self::default();
        hub.set_key_source(file);
        hub
    }

    /// The engine was (re)built with a key file (`true`) or the automatic key: the status says
    /// so until an operator sends one.
    pub fn set_key_source(&self, file: bool) {
        let mut k = self.key.lock().unwrap_or_else(PoisonError::into_inner);
        k.source = if file {
            KeySource::File
        } else {
            KeySource::Auto
        };
        k.hash = None;
    }

    /// A server starts: counters from zero, nothing staged.
    pub fn reset(&self) {
        self.frames.store(0, Ordering::Relaxed);
        self.drawn.store(0, Ordering::Relaxed);
        self.faults.store(0, Ordering::Relaxed);
        self.control_ns.store(0, Ordering::Relaxed);
        self.registrations.store(0, Ordering::Relaxed);
        if let Ok(mut last) = self.last.try_lock() {
            *last = None;
        }
        *self.staged.lock().unwrap_or_else(PoisonError::into_inner) = Staged::default();
        self.has_staged.store(false, Ordering::Release);
    }

    /// Video thread: adds what the control hook cost on a frame (CPU ms).
    pub fn add_cost(&self, ms: f64) {
        self.control_ns
            .fetch_add((ms * 1e6) as u64, Ordering::Relaxed);
    }

    /// Video thread: records a frame's outcome. `report`: the engine's (none when the frame
    /// was passed through before the engine ran); `front_end_ms`: the whole front end's time
    /// on it; `control_ms`: what the control hook's preview captures cost on it (CPU ms).
    pub fn record(
        &self,
        report: Option<&FrameReport>,
        skipped: bool,
        pts_ns: i64,
        front_end_ms: f64,
        control_ms: f64,
    ) {
        self.frames.fetch_add(1, Ordering::Relaxed);
        if report.is_some_and(|r| r.drawn) {
            self.drawn.fetch_add(1, Ordering::Relaxed);
        }
        if report.is_some_and(|r| r.fault.is_some()) {
            self.faults.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(r) = report {
            self.size.store(
                u64::from(r.width) << 32 | u64::from(r.height),
                Ordering::Relaxed,
            );
        }
        let Ok(mut last) = self.last.try_lock() else {
            return;
        };
        let mut status = FrameStatus {
            pts_ns,
            skipped,
            source: "none".into(),
            timings_ms: Timings {
                element: front_end_ms + control_ms,
                control: control_ms,
                ..Timings::default()
            },
            ..FrameStatus::default()
        };
        if let Some(r) = report {
            status.frame = r.frame;
            status.source = r.source.as_str().into();
            status.confidence = r.confidence;
            status.residual_px = r.residual_px;
            status.state = r.state.as_str().into();
            status.reason = r.reason.map(|w| w.as_str().into());
            status.drawn = r.drawn;
            status.backend = r.backend.into();
            status.fault = r.fault.as_ref().map(ToString::to_string);
            status.timings_ms.sync = r.timings.sync;
            status.timings_ms.pose = r.timings.pose;
            status.timings_ms.graphics = r.timings.graphics;
            status.timings_ms.composite = r.timings.composite;
            status.timings_ms.engine = r.timings.total;
        }
        *last = Some(status);
    }

    /// The status of an engine called `name` whose plain settings in force are `settings`.
    pub fn status(&self, name: String, settings: &[Change]) -> Status {
        let last = self
            .last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let frames = self.frames.load(Ordering::Relaxed);
        Status {
            name,
            health: Status::health_of(last.as_ref()),
            frames,
            drawn: self.drawn.load(Ordering::Relaxed),
            faults: self.faults.load(Ordering::Relaxed),
            settings: settings
                .iter()
                .map(|c| (c.key().to_owned(), c.value()))
                .collect::<BTreeMap<_, _>>(),
            last_frame: last,
            control_ms_per_frame: self.control_ns.load(Ordering::Relaxed) as f64
                / 1e6
                / frames.max(1) as f64,
            rate_limited: 0,
            key: self
                .key
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
            registrations: self.registrations.load(Ordering::Relaxed),
            field: self.field().map(|k| k.name().to_owned()),
        }
    }

    /// The engine's field kind as of the last frame boundary (`None` before the first).
    pub fn field(&self) -> Option<FieldKind> {
        let code = self.field.load(Ordering::Relaxed);
        FieldKind::ALL
            .get(usize::from(code).checked_sub(1)?)
            .copied()
    }

    /// The status of a front end that is gone.
    pub fn idle_status() -> Status {
        Status {
            name: String::new(),
            health: Health::Idle,
            frames: 0,
            drawn: 0,
            faults: 0,
            settings: BTreeMap::new(),
            last_frame: None,
            control_ms_per_frame: 0.0,
            rate_limited: 0,
            key: KeyInForce::default(),
            registrations: 0,
            field: None,
        }
    }

    /// Server thread: validates a change to the engine itself (`key`, `register`) and stages
    /// it for the next frame boundary. `Ok(false)`: not such a change (a plain setting the
    /// front end applies itself). A refused change stages nothing.
    pub fn stage(&self, change: &Change) -> Result<bool, StageError> {
        let staged = match change {
            Change::Key(None) => Staged {
                key: Some(KeyChange::Auto),
                register: None,
            },
            Change::Key(Some(text)) => {
                let config =
                    KeyConfig::from_toml_str(text).map_err(|e| StageError(format!("key: {e}")))?;
                let key =
                    FieldKey::compile(&config).map_err(|e| StageError(format!("key: {e}")))?;
                Staged {
                    key: Some(KeyChange::Operator(Box::new(key), key_hash(text))),
                    register: None,
                }
            }
            Change::Register(camera) => Staged {
                key: None,
                register: Some(self.registration(camera)?),
            },
            _ => return Ok(false),
        };
        let mut s = self.staged.lock().unwrap_or_else(PoisonError::into_inner);
        if staged.key.is_some() {
            s.key = staged.key;
        }
        if staged.register.is_some() {
            s.register = staged.register;
        }
        self.has_staged.store(true, Ordering::Release);
        Ok(true)
    }

    /// A sent camera as a registration, checked against the video's size when a frame was
    /// seen (the same size, or the same aspect ratio: scaled).
    fn registration(&self, c: &RegisterCamera) -> Result<Registration, StageError> {
        c.check()
            .map_err(|why| StageError(format!("register: {why}")))?;
        let intrinsics = Intrinsics {
            fx: c.fx,
            fy: c.fy,
            cx: c.cx,
            cy: c.cy,
            k1: c.k1,
            k2: c.k2,
        };
        let reg = Registration::from_parts(
            "register",
            c.width,
            c.height,
            c.rotation,
            c.translation,
            intrinsics,
        )
        .map_err(|e| StageError(e.to_string()))?;
        if let Some((w, h)) = self.frame_size() {
            reg.camera_for_size(w, h)
                .map_err(|e| StageError(format!("register: {e}")))?;
        }
        Ok(reg)
    }

    /// The size of the frames seen, once one was.
    pub fn frame_size(&self) -> Option<(u32, u32)> {
        let s = self.size.load(Ordering::Relaxed);
        (s != 0).then_some(((s >> 32) as u32, s as u32))
    }

    /// Video thread, at a frame boundary before processing a `width` x `height` frame:
    /// applies what was staged to `engine`. A registration waits until a frame of this size
    /// went through the engine (its first frame seeds the venue's own registration). Never
    /// waits: a stage in progress is picked up on the next frame. Returns the key that
    /// landed, if one did (`Some(None)`: back to the automatic key), for a front end that
    /// rebuilds its engine to keep it.
    #[must_use]
    pub fn apply_staged(
        &self,
        engine: &mut Engine,
        width: u32,
        height: u32,
    ) -> Option<Option<KeyConfig>> {
        let kind = engine.field().kind;
        let code = FieldKind::ALL
            .iter()
            .position(|k| *k == kind)
            .map_or(0, |i| i + 1);
        self.field.store(code as u8, Ordering::Relaxed);
        if !self.has_staged.load(Ordering::Acquire) {
            return None;
        }
        let Ok(mut staged) = self.staged.try_lock() else {
            return None;
        };
        let landed = match staged.key.take() {
            Some(KeyChange::Auto) => {
                engine.clear_key();
                // The automatic key has no exclusions (a front end adds its own after).
                let _ = engine.set_exclusions(Vec::new());
                self.key_landed(KeySource::Auto, None);
                Some(None)
            }
            Some(KeyChange::Operator(key, hash)) => {
                let config = key.config().cloned();
                engine.set_key(*key);
                // The key file's exclusions come with it (validated when it was parsed).
                if let Err(e) = engine.set_exclusions(
                    config
                        .as_ref()
                        .map(|c| c.exclusions.clone())
                        .unwrap_or_default(),
                ) {
                    tracing::warn!("exclusions of the key not applied: {e}");
                }
                self.key_landed(KeySource::Operator, Some(hash));
                Some(config)
            }
            None => None,
        };
        if self.frame_size() == Some((width, height))
            && let Some(reg) = staged.register.take()
        {
            match reg.camera_for_size(width, height) {
                Ok(camera) => {
                    engine.pose_mut().set_reference(camera);
                    self.registrations.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => tracing::warn!("re-registration not used: {e}"),
            }
        }
        self.has_staged
            .store(staged.register.is_some(), Ordering::Release);
        landed
    }

    fn key_landed(&self, source: KeySource, hash: Option<String>) {
        let mut k = self.key.lock().unwrap_or_else(PoisonError::into_inner);
        k.source = source;
        k.hash = hash;
        k.generation += 1;
    }

    /// Video thread, when a matte preview is due: keeps the default palette's LUT of the key
    /// `engine` uses for the server (copied only when the key changed).
    pub fn share_key(&self, engine: &Engine) {
        let Some(key) = engine.key() else {
            if let Ok(mut m) = self.matte_lut.try_lock() {
                *m = None;
            }
            return;
        };
        let generation = key.lut().map_or(0, |l| l.generation);
        let Ok(mut m) = self.matte_lut.try_lock() else {
            return;
        };
        if m.as_ref().is_none_or(|(g, _)| *g != generation)
            && let Some(lut) = key.keyer().luts().first()
        {
            *m = Some((generation, Arc::new(lut.clone())));
        }
    }

    /// Server thread: the key matte of a clean thumbnail: each pixel keyed with the default
    /// palette of the engine's key (white: field surface, the line would cover it; black:
    /// players and everything else), no neighbourhood filter. `None` before a key exists.
    pub fn key_matte(&self, clean: &Thumbnail) -> Option<Thumbnail> {
        let lut = self
            .matte_lut
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|(_, l)| Arc::clone(l))?;
        let rgb = clean
            .rgb
            .chunks_exact(3)
            .flat_map(|p| {
                let v = (lut.lookup_rgb8(p[0], p[1], p[2]) * 255.0)
                    .round()
                    .clamp(0.0, 255.0) as u8;
                [v, v, v]
            })
            .collect();
        Some(Thumbnail {
            width: clean.width,
            height: clean.height,
            rgb,
        })
    }
}

/// A preview thumbnail of a frame held in one buffer (any layout the frame crate knows).
pub fn thumbnail(frame: &FrameRef<'_>) -> Option<Thumbnail> {
    Thumbnail::sample(frame.width(), frame.height(), |x, y| frame.rgb(x, y))
}

/// Every plain setting of `config` as the control API shows it (the element's property
/// names; `opacity` is the first-down line's, which a change sets for both lines).
pub fn settings_of(config: &EngineConfig) -> [Change; 10] {
    [
        Change::FirstDown(config.first_down.yard),
        Change::Scrimmage(config.scrimmage.yard),
        Change::ShowFirstDown(config.first_down.enabled),
        Change::ShowScrimmage(config.scrimmage.enabled),
        Change::LineWidth(config.first_down.width_m),
        Change::FirstDownColor(config.first_down.rgb),
        Change::ScrimmageColor(config.scrimmage.rgb),
        Change::Opacity(f64::from(config.first_down.opacity)),
        Change::PoseMode(config.pose_mode.as_str()),
        Change::CleanPlate(config.clean_plate),
    ]
}

/// Applies a plain change to `config`, validated as the engine validates its settings
/// ([`EngineConfig::validate`]); a refused change leaves `config` as it was. `Ok(false)`: not
/// a setting of the configuration (the key, a registration: [`ControlHub::stage`]).
pub fn apply_to_config(config: &mut EngineConfig, change: &Change) -> Result<bool, String> {
    let mut new = config.clone();
    match change {
        Change::FirstDown(v) => new.first_down.yard = *v,
        Change::Scrimmage(v) => new.scrimmage.yard = *v,
        Change::ShowFirstDown(v) => new.first_down.enabled = *v,
        Change::ShowScrimmage(v) => new.scrimmage.enabled = *v,
        Change::CleanPlate(v) => new.clean_plate = *v,
        Change::LineWidth(v) => {
            new.first_down.width_m = *v;
            new.scrimmage.width_m = *v;
        }
        Change::FirstDownColor(c) => new.first_down.rgb = *c,
        Change::ScrimmageColor(c) => new.scrimmage.rgb = *c,
        Change::Opacity(v) => {
            if !(0.0..=1.0).contains(v) {
                return Err(format!("opacity: {v} outside 0..=1"));
            }
            new.first_down.opacity = *v as f32;
            new.scrimmage.opacity = *v as f32;
        }
        Change::PoseMode(m) => {
            new.pose_mode = m
                .parse()
                .map_err(|e: crate::pose::PoseModeError| format!("pose-mode: {e}"))?;
        }
        Change::Key(_) | Change::Register(_) => return Ok(false),
    }
    new.validate()
        .map_err(|e| format!("{}: {e}", change.key()))?;
    *config = new;
    Ok(true)
}

/// A full-size still of a frame whose bytes (`layout`) were copied out of the video thread's
/// buffer: converted to RGB when the server calls it, on the server's side.
pub fn still(layout: FrameLayout, data: Vec<u8>) -> StillFn {
    Box::new(move || {
        let frame = FrameRef::new(&layout, &data).ok()?;
        Thumbnail::sample_to(frame.width(), frame.height(), frame.width(), |x, y| {
            frame.rgb(x, y)
        })
    })
}

/// The scheduling of a control server's threads, for `ControlServer::start_with`: the
/// server's own thread real-time below the frame path ([`crate::sched::promote_control_thread`]),
/// the threads it starts to encode stills back to normal scheduling.
pub fn server_threads() -> ThreadSetup {
    ThreadSetup {
        server: Some(Arc::new(|| {
            crate::sched::promote_control_thread();
        })),
        worker: Some(Arc::new(crate::sched::demote_current_thread)),
    }
}
