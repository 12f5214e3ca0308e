//! The per-frame pipeline every front end calls: [`Engine::process`].
//!
//! sync -> sensor pose -> pose selection (vision) -> graphics -> key + composite, fail-open:
//! any fault leaves the frame untouched and is counted; a GPU fault switches to the CPU
//! compositor, which redraws the same frame.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::str::FromStr;
use std::time::Instant;

use crossbeam_channel::{Receiver, bounded};
use nalgebra::Point2;
use serde::{Deserialize, Serialize};
use yardline_keying::KeyConfig;
use yardline_frame::{FrameLayout, FrameMut, FrameRef};

use crate::field::{FieldKind, FieldModel};
use crate::geometry::Camera;
use crate::graphics::{DEFAULT_LINE_WIDTH_M, GroundStrip};
use crate::key::{AutoKeyLearner, FieldKey, PaintView, learn_key};
use crate::pose::{PoseConfig, PoseEstimate, PoseEstimator, PoseMode, PoseSource};
use crate::render::crew::Crew;
use crate::render::{
    AdapterChoice, Compositor, CpuCompositor, GpuCompositor, PixelKey, NoKey, PreparedLine,
    prepare_line,
};
use crate::tracking::sync::{SyncConfig, TrackingSync};
use crate::tracking::{SensorReading, TrackingSample};
use crate::venue::{CameraCalibration, Venue};

/// Frame period of 59.94 Hz video (ns).
pub const FRAME_PERIOD_5994_NS: i64 = 16_683_333;
/// Default first-down line colour (sRGB).
pub const DEFAULT_FIRST_DOWN_RGB: [u8; 3] = [255, 215, 0];
/// Default line-of-scrimmage colour (sRGB).
pub const DEFAULT_SCRIMMAGE_RGB: [u8; 3] = [30, 100, 255];
/// Default fade time for showing/hiding a line (ms).
pub const DEFAULT_FADE_MS: f64 = 250.0;

/// Which compositor runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// A hardware GPU when one exists, else the CPU.
    #[default]
    Auto,
    /// The CPU compositor (rayon).
    Cpu,
    /// A wgpu device, software adapters included.
    Gpu,
}

impl FromStr for BackendChoice {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "gpu" => Ok(Self::Gpu),
            other => Err(EngineError::Config(format!(
                "unknown backend {other:?} (expected auto, cpu or gpu)"
            ))),
        }
    }
}

/// One football line (first down or scrimmage).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct YardLine {
    /// Shown (fades in/out over `fade_ms`).
    pub enabled: bool,
    /// Yard position, 0..=100 from the left goal line (end zones -10..=110).
    pub yard: f64,
    /// Painted width (metres).
    pub width_m: f64,
    /// Colour (sRGB 8-bit).
    pub rgb: [u8; 3],
    /// Opacity 0..=1.
    pub opacity: f32,
    /// Fade time when shown or hidden (ms).
    pub fade_ms: f64,
}

/// Any other field-space line (a red-zone line, a soccer offside line).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtraLine {
    /// Operator's name.
    pub name: String,
    /// Shown.
    pub enabled: bool,
    /// Centreline start (field x, y metres).
    pub a: [f64; 2],
    /// Centreline end (field x, y metres).
    pub b: [f64; 2],
    /// Painted width (metres).
    pub width_m: f64,
    /// Colour (sRGB 8-bit).
    pub rgb: [u8; 3],
    /// Opacity 0..=1.
    pub opacity: f32,
}

/// Everything an operator can change while running.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineConfig {
    /// Field rulebook.
    pub field: FieldKind,
    /// First-down line.
    pub first_down: YardLine,
    /// Line of scrimmage.
    pub scrimmage: YardLine,
    /// Extra lines.
    pub extra: Vec<ExtraLine>,
    /// Compositor backend.
    pub backend: BackendChoice,
    /// Pose mode.
    pub pose_mode: PoseMode,
    /// Frames the last good pose is held (frames).
    pub hold_frames: u32,
    /// FreeD camera id to follow; `None` = the venue's first camera.
    pub camera_id: Option<u8>,
    /// Tracking delay override (ns); `None` = the venue's.
    pub tracking_delay_ns: Option<i64>,
    /// Frame period of the video (ns).
    pub frame_period_ns: i64,
    /// Build an automatic key palette from the first frame with a pose when no key is loaded,
    /// and while that key stays automatic, learn a new view every
    /// [`AUTO_KEY_RELEARN_FRAMES`] frames ([`AutoKeyLearner`]).
    pub auto_key: bool,
}

/// Frames drawn between two views the automatic key learns (about 2 s at 30 frames a second;
/// in the background, plus the time the rebuild takes).
pub const AUTO_KEY_RELEARN_FRAMES: u32 = 60;

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            field: FieldKind::Nfl,
            first_down: YardLine {
                enabled: true,
                yard: 35.0,
                width_m: DEFAULT_LINE_WIDTH_M,
                rgb: DEFAULT_FIRST_DOWN_RGB,
                opacity: 1.0,
                fade_ms: DEFAULT_FADE_MS,
            },
            scrimmage: YardLine {
                enabled: false,
                yard: 25.0,
                width_m: DEFAULT_LINE_WIDTH_M,
                rgb: DEFAULT_SCRIMMAGE_RGB,
                opacity: 1.0,
                fade_ms: DEFAULT_FADE_MS,
            },
            extra: Vec::new(),
            backend: BackendChoice::Auto,
            pose_mode: PoseMode::Auto,
            hold_frames: crate::pose::DEFAULT_HOLD_FRAMES,
            camera_id: None,
            tracking_delay_ns: None,
            frame_period_ns: FRAME_PERIOD_5994_NS,
            auto_key: true,
        }
    }
}

impl EngineConfig {
    /// Checks ranges; the error names the setting.
    pub fn validate(&self) -> Result<(), EngineError> {
        let bad = |what: &str, why: String| Err(EngineError::Config(format!("{what}: {why}")));
        for (name, l) in [
            ("first-down", &self.first_down),
            ("scrimmage", &self.scrimmage),
        ] {
            if !(l.yard.is_finite() && (-10.0..=110.0).contains(&l.yard)) {
                return bad(name, format!("yard {} outside -10..=110", l.yard));
            }
            if !(l.width_m.is_finite() && l.width_m > 0.0 && l.width_m < 5.0) {
                return bad(name, format!("width {} m must be in (0, 5)", l.width_m));
            }
            if !(l.opacity.is_finite() && (0.0..=1.0).contains(&l.opacity)) {
                return bad(name, format!("opacity {} outside 0..=1", l.opacity));
            }
            if !(l.fade_ms.is_finite() && l.fade_ms >= 0.0) {
                return bad(name, format!("fade {} ms must be >= 0", l.fade_ms));
            }
        }
        for l in &self.extra {
            let finite = l.a.iter().chain(&l.b).all(|v| v.is_finite());
            if !finite || !l.width_m.is_finite() || l.width_m <= 0.0 {
                return bad(&l.name, "non-finite end or non-positive width".into());
            }
        }
        if self.frame_period_ns <= 0 {
            return bad("frame period", format!("{} ns", self.frame_period_ns));
        }
        Ok(())
    }
}

/// Errors setting up the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A setting out of range.
    #[error("invalid setting: {0}")]
    Config(String),
    /// The requested compositor cannot run.
    #[error("compositor: {0}")]
    Render(#[from] crate::render::RenderError),
    /// The venue lacks the requested camera.
    #[error("venue has no camera {0}")]
    NoCamera(u8),
}

/// Time spent per stage (ms).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct StageTimings {
    /// Tracking sync and sensor pose.
    pub sync: f64,
    /// Pose selection and vision.
    pub pose: f64,
    /// Tessellation.
    pub graphics: f64,
    /// Key + blend, upload and readback included.
    pub composite: f64,
    /// The whole call.
    pub total: f64,
}

/// What happened to one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameReport {
    /// Frame number (0-based, in call order).
    pub frame: u64,
    /// Presentation time (ns).
    pub pts_ns: i64,
    /// Frame width (pixels).
    pub width: u32,
    /// Frame height (pixels).
    pub height: u32,
    /// Camera used (or estimated).
    pub camera: Option<Camera>,
    /// Pose source.
    pub source: PoseSource,
    /// Residual of the line measurements (pixels RMS), when measured.
    pub residual_px: Option<f64>,
    /// Line measurements that agreed.
    pub inliers: usize,
    /// Per-stage times.
    pub timings: StageTimings,
    /// Whether any line pixel was drawn.
    pub drawn: bool,
    /// Compositor that drew ("cpu", "gpu").
    pub backend: &'static str,
    /// What went wrong, if anything (the frame then left untouched or held).
    pub fault: Option<String>,
}

#[derive(Serialize)]
struct ReportLine<'a> {
    frame: u64,
    pts_ns: i64,
    width: u32,
    height: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    rotation: Option<[f64; 9]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    translation: Option<[f64; 3]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fx: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fy: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cx: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cy: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    k1: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    k2: Option<f64>,
    source: &'static str,
    residual_px: Option<f64>,
    inliers: usize,
    timings_ms: StageTimings,
    backend: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    fault: Option<&'a str>,
}

impl FrameReport {
    /// The `report.jsonl` line (DESIGN.md: the truth camera fields plus `source`,
    /// `residual_px` and `timings_ms`).
    pub fn to_json_line(&self) -> String {
        let c = self.camera.as_ref();
        let line = ReportLine {
            frame: self.frame,
            pts_ns: self.pts_ns,
            width: self.width,
            height: self.height,
            rotation: c.map(Camera::rotation_row_major),
            translation: c.map(|c| [c.translation.x, c.translation.y, c.translation.z]),
            fx: c.map(|c| c.intrinsics.fx),
            fy: c.map(|c| c.intrinsics.fy),
            cx: c.map(|c| c.intrinsics.cx),
            cy: c.map(|c| c.intrinsics.cy),
            k1: c.map(|c| c.intrinsics.k1),
            k2: c.map(|c| c.intrinsics.k2),
            source: self.source.as_str(),
            residual_px: self.residual_px,
            inliers: self.inliers,
            timings_ms: self.timings,
            backend: self.backend,
            fault: self.fault.as_deref(),
        };
        serde_json::to_string(&line).unwrap_or_default()
    }
}

/// Running counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EngineStats {
    /// Frames processed.
    pub frames: u64,
    /// Frames drawn on.
    pub drawn: u64,
    /// Frames left untouched because of a fault.
    pub faults: u64,
    /// Frames without a usable sensor camera while tracking was configured.
    pub sensor_misses: u64,
    /// Times the GPU failed and the CPU took over.
    pub gpu_fallbacks: u64,
    /// Panics caught inside a stage.
    pub panics: u64,
    /// Sensor readings refused because the head would have moved faster than any head can
    /// (a glitch, or the first readings after a cut before they confirm each other).
    pub jumps_rejected: u64,
    /// Frames whose size differed from the previous frame's (pose filters restarted).
    pub size_changes: u64,
    /// Tracking samples dropped on arrival for jumping faster than a head can slew.
    pub jump_samples_rejected: u64,
    /// Frames whose sensor reading disagreed with the painted lines in one step (a late or
    /// corrupt packet): drawn with the lines' correction, the filter left alone.
    pub sensor_glitches_gated: u64,
}

/// Fastest plausible head slew (degrees per second) on any axis; a faster change between
/// consecutive readings is a glitch or a cut.
pub const MAX_SLEW_DEG_PER_S: f64 = 360.0;

/// Consecutive mutually consistent readings after a jump that make it a new position (a cut,
/// or a re-homed encoder) rather than a glitch.
pub const JUMP_CONFIRM_READINGS: u32 = 3;

/// A stage of [`Engine::process`], for fault injection and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Tracking sync and the sensor pose.
    Sync,
    /// Pose selection and vision refinement.
    Pose,
    /// Line tessellation and projection.
    Graphics,
    /// Key and composite.
    Composite,
}

impl Stage {
    /// All stages in pipeline order.
    pub const ALL: [Self; 4] = [Self::Sync, Self::Pose, Self::Graphics, Self::Composite];
}

/// A deliberate fault armed in the engine for reliability tests (see [`crate::faults`]).
/// Nothing in the product arms one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InjectedFault {
    /// The given stage panics on the next frame.
    PanicIn(Stage),
    /// The GPU device is lost before the next composite (no effect on the CPU compositor).
    DeviceLoss,
}

/// Plausibility gate on head angles: refuses readings that jump faster than a head can slew
/// until several consecutive readings agree on the new position.
#[derive(Debug, Clone, Default)]
struct SlewGate {
    /// Last accepted reading: (pts ns, pan, tilt, roll).
    last: Option<(i64, [f64; 3])>,
    /// A jumped-to position waiting for confirmation, and how many readings agree on it.
    candidate: Option<((i64, [f64; 3]), u32)>,
}

/// What the gate made of a reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gate {
    Accept,
    /// Accepted as a new position after a confirmed jump: filters must restart.
    AcceptAfterJump,
    Reject,
}

impl SlewGate {
    fn plausible(from: (i64, [f64; 3]), to: (i64, [f64; 3]), period_ns: i64) -> bool {
        let dt_s = ((to.0 - from.0).abs().max(period_ns)) as f64 / 1e9;
        let max_step = MAX_SLEW_DEG_PER_S * dt_s;
        (0..3).all(|i| (to.1[i] - from.1[i]).abs() <= max_step)
    }

    fn check(&mut self, pts_ns: i64, angles: [f64; 3], period_ns: i64) -> Gate {
        let now = (pts_ns, angles);
        let Some(last) = self.last else {
            self.last = Some(now);
            return Gate::Accept;
        };
        if Self::plausible(last, now, period_ns) {
            self.last = Some(now);
            self.candidate = None;
            return Gate::Accept;
        }
        let agree = match self.candidate {
            Some((c, n)) if Self::plausible(c, now, period_ns) => n + 1,
            _ => 1,
        };
        if agree >= JUMP_CONFIRM_READINGS {
            self.last = Some(now);
            self.candidate = None;
            Gate::AcceptAfterJump
        } else {
            self.candidate = Some((now, agree));
            Gate::Reject
        }
    }
}

/// The engine: one per video stream.
pub struct Engine {
    config: EngineConfig,
    field: FieldModel,
    calibration: Option<CameraCalibration>,
    sync: Option<TrackingSync>,
    pose: PoseEstimator,
    key: Option<FieldKey>,
    compositor: Box<dyn Compositor>,
    backend_name: &'static str,
    cpu_fallback: Option<CpuCompositor>,
    fade: [f64; 2],
    last_pts: Option<i64>,
    last_size: Option<(u32, u32)>,
    slew: SlewGate,
    sample_slew: SlewGate,
    armed: Vec<InjectedFault>,
    /// Automatic key being built off the streaming thread (the learner comes back with it).
    key_job: Option<Receiver<(AutoKeyLearner, Option<FieldKey>)>>,
    /// The views the automatic key has learnt.
    learner: AutoKeyLearner,
    /// The key in use is the automatic one (no key was loaded or set since).
    key_is_auto: bool,
    /// Frames since the automatic key last learnt a view.
    auto_key_age: u32,
    /// Build the automatic key on the calling thread (offline rendering) instead.
    auto_key_inline: bool,
    stats: EngineStats,
    lines: Vec<PreparedLine>,
    /// Where the paint palette applies this frame.
    paint_view: PaintView,
    /// The threads of the CPU passes (paint view, CPU compositor).
    crew: Crew,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("backend", &self.compositor.describe())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// A new engine. `venue` enables the sensor pose; `key` is the occlusion key (with none, an
    /// automatic palette is built from the first frame with a pose when `config.auto_key`).
    pub fn new(
        config: EngineConfig,
        venue: Option<&Venue>,
        key: Option<&KeyConfig>,
    ) -> Result<Self, EngineError> {
        config.validate()?;
        let calibration = match venue {
            Some(v) => {
                let cal = match config.camera_id {
                    Some(id) => v.camera(id).ok_or(EngineError::NoCamera(id))?,
                    None => v
                        .cameras
                        .first()
                        .ok_or_else(|| EngineError::Config("venue has no cameras".into()))?,
                };
                Some(cal.clone())
            }
            None => None,
        };
        let sync = calibration.as_ref().map(|c| {
            let mut sc: SyncConfig = c.sync_config(config.frame_period_ns as f64);
            if let Some(d) = config.tracking_delay_ns {
                sc.tracking_delay_ns = d;
            }
            TrackingSync::new(sc)
        });
        let field = FieldModel::new(config.field);
        let key = key
            .map(|k| FieldKey::compile(k).map(|k| k.on_field(&field)))
            .transpose()
            .map_err(|e| EngineError::Config(format!("key: {e}")))?;
        let crew = Crew::sized_like_rayon();
        let (compositor, backend_name) = open_compositor(config.backend, &crew)?;
        let pose = PoseEstimator::new(
            field.clone(),
            config.pose_mode,
            PoseConfig {
                hold_frames: config.hold_frames,
                ..PoseConfig::default()
            },
        );
        let fade = [
            if config.first_down.enabled { 1.0 } else { 0.0 },
            if config.scrimmage.enabled { 1.0 } else { 0.0 },
        ];
        Ok(Self {
            config,
            field,
            calibration,
            sync,
            pose,
            key,
            compositor,
            backend_name,
            cpu_fallback: None,
            fade,
            last_pts: None,
            last_size: None,
            slew: SlewGate::default(),
            sample_slew: SlewGate::default(),
            armed: Vec::new(),
            key_job: None,
            learner: AutoKeyLearner::new(),
            key_is_auto: false,
            auto_key_age: 0,
            auto_key_inline: true,
            stats: EngineStats::default(),
            lines: Vec::new(),
            paint_view: PaintView::with_crew(crew.clone()),
            crew,
        })
    }

    /// Current settings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Applies new settings while running. An invalid set is refused and the old one kept.
    /// Changing the backend or field takes effect here too.
    pub fn set_config(&mut self, config: EngineConfig) -> Result<(), EngineError> {
        config.validate()?;
        if config.backend != self.config.backend {
            let (c, name) = open_compositor(config.backend, &self.crew)?;
            self.compositor = c;
            self.backend_name = name;
        }
        if config.field != self.config.field {
            self.field = FieldModel::new(config.field);
            self.key = self.key.take().map(|k| k.on_field(&self.field));
            self.pose = PoseEstimator::new(
                self.field.clone(),
                config.pose_mode,
                PoseConfig {
                    hold_frames: config.hold_frames,
                    ..PoseConfig::default()
                },
            );
        }
        self.pose.set_mode(config.pose_mode);
        self.pose.set_hold_frames(config.hold_frames);
        if let (Some(sync), Some(cal)) = (self.sync.as_mut(), self.calibration.as_ref()) {
            sync.set_tracking_delay_ns(config.tracking_delay_ns.unwrap_or(cal.tracking_delay_ns));
        }
        self.config = config;
        Ok(())
    }

    /// Replaces the occlusion key (and abandons an automatic key being built); its paint
    /// palette is placed on this engine's field.
    pub fn set_key(&mut self, key: FieldKey) {
        self.key = Some(key.on_field(&self.field));
        self.key_job = None;
        self.key_is_auto = false;
    }

    /// Where the automatic key is built. `inline` (the default, deterministic: offline
    /// rendering and tests) builds it on the first frame with a pose, and rebuilds it with
    /// each new view (every [`AUTO_KEY_RELEARN_FRAMES`] frames drawn while it is automatic),
    /// which takes those frames a second or so; live front ends pass `false` to build it on a
    /// background thread, the frames meanwhile passing through untouched until the first key
    /// and keyed with the key in place after, so no frame waits for it.
    pub fn set_auto_key_inline(&mut self, inline: bool) {
        self.auto_key_inline = inline;
    }

    /// True while an automatic key is being built (or rebuilt) in the background.
    pub fn auto_key_pending(&self) -> bool {
        self.key_job.is_some()
    }

    /// The occlusion key in use, if any.
    pub fn key(&self) -> Option<&FieldKey> {
        self.key.as_ref()
    }

    /// Views of the field the automatic key has learnt (0 with a key loaded or set, and while
    /// it learns one in the background).
    pub fn auto_key_views(&self) -> usize {
        if self.key_is_auto {
            self.learner.views()
        } else {
            0
        }
    }

    /// The pose estimator (to seed a reference camera for vision-only tracking).
    pub fn pose_mut(&mut self) -> &mut PoseEstimator {
        &mut self.pose
    }

    /// The field model in use.
    pub fn field(&self) -> &FieldModel {
        &self.field
    }

    /// Counters.
    pub fn stats(&self) -> EngineStats {
        self.stats
    }

    /// Tracking sync counters, when tracking is configured.
    pub fn sync_stats(&self) -> Option<crate::tracking::sync::SyncStats> {
        self.sync.as_ref().map(TrackingSync::stats)
    }

    /// Tracking delay the engine imposes (ns): what a live element must report as latency.
    pub fn tracking_delay_ns(&self) -> i64 {
        self.sync
            .as_ref()
            .map_or(0, |s| s.config().tracking_delay_ns.max(0))
    }

    /// Short description of the compositor in use.
    pub fn backend(&self) -> String {
        self.compositor.describe()
    }

    /// Feeds one received tracking packet.
    pub fn push_tracking(&mut self, sample: &TrackingSample) {
        self.push_reading(sample.pts_ns, SensorReading::from(&sample.packet));
    }

    /// Feeds one encoder reading from a source other than FreeD (receive time in ns on the
    /// video clock). Non-finite readings are refused and counted by the sync; a reading of this
    /// engine's camera that jumps faster than a head can slew is dropped (a glitch) unless the
    /// following readings confirm the new position, so the sync never holds or interpolates a
    /// glitch into several frames.
    pub fn push_reading(&mut self, pts_ns: i64, reading: SensorReading) {
        let ours = self
            .calibration
            .as_ref()
            .is_some_and(|c| c.id == reading.camera_id);
        if ours && reading.is_finite() {
            let a = reading.angles;
            let gate = self.sample_slew.check(
                pts_ns,
                [a.pan_deg, a.tilt_deg, a.roll_deg],
                self.config.frame_period_ns,
            );
            if gate == Gate::Reject {
                self.stats.jump_samples_rejected += 1;
                return;
            }
        }
        if let Some(sync) = self.sync.as_mut() {
            sync.push_reading(pts_ns, reading);
        }
    }

    /// Arms a deliberate fault for the next frame (fault-injection tests and `yardline soak`).
    pub fn inject(&mut self, fault: InjectedFault) {
        self.armed.push(fault);
    }

    /// Panics when a panic was armed for `stage` (fault injection).
    fn injected_panic(&mut self, stage: Stage) {
        if let Some(i) = self
            .armed
            .iter()
            .position(|f| *f == InjectedFault::PanicIn(stage))
        {
            self.armed.swap_remove(i);
            panic!("injected fault in the {stage:?} stage");
        }
    }

    /// Draws the enabled lines into `frame` (in place) for the frame at `pts_ns`. Never panics;
    /// on any fault the frame is left untouched and the report says why.
    pub fn process(&mut self, frame: &mut FrameMut<'_>, pts_ns: i64) -> FrameReport {
        let start = Instant::now();
        let index = self.stats.frames;
        self.stats.frames += 1;
        let (width, height) = (frame.layout.width, frame.layout.height);
        let mut report = FrameReport {
            frame: index,
            pts_ns,
            width,
            height,
            camera: None,
            source: PoseSource::None,
            residual_px: None,
            inliers: 0,
            timings: StageTimings::default(),
            drawn: false,
            backend: self.backend_name,
            fault: None,
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| self.run(frame, pts_ns, &mut report)));
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(fault)) => {
                self.stats.faults += 1;
                tracing::warn!("frame {index}: {fault}");
                report.fault = Some(fault);
            }
            Err(panic) => {
                self.stats.panics += 1;
                self.stats.faults += 1;
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(ToString::to_string)
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                tracing::error!("frame {index}: panic caught, frame passed through: {msg}");
                report.fault = Some(format!("panic: {msg}"));
                report.drawn = false;
            }
        }
        if report.drawn {
            self.stats.drawn += 1;
        }
        report.timings.total = ms_since(start);
        report
    }

    fn run(
        &mut self,
        frame: &mut FrameMut<'_>,
        pts_ns: i64,
        report: &mut FrameReport,
    ) -> Result<(), String> {
        let (width, height) = (frame.layout.width, frame.layout.height);
        if self.last_size.is_some_and(|s| s != (width, height)) {
            // Vision state is in pixels of the old size.
            tracing::warn!("frame size changed to {width}x{height}; pose filters restarted");
            self.stats.size_changes += 1;
            self.pose.reset();
        }
        self.last_size = Some((width, height));
        // Fades advance with presentation time.
        let dt_ms = match self.last_pts {
            Some(p) if pts_ns > p => (pts_ns - p) as f64 / 1e6,
            _ => self.config.frame_period_ns as f64 / 1e6,
        };
        self.last_pts = Some(pts_ns);
        for (i, l) in [self.config.first_down, self.config.scrimmage]
            .iter()
            .enumerate()
        {
            let target = if l.enabled { 1.0 } else { 0.0 };
            let step = if l.fade_ms > 0.0 {
                dt_ms / l.fade_ms
            } else {
                1.0
            };
            let f = &mut self.fade[i];
            *f = if *f < target {
                (*f + step).min(target)
            } else {
                (*f - step).max(target)
            };
        }

        // 1-3. Sync + sensor pose.
        let t = Instant::now();
        self.injected_panic(Stage::Sync);
        let mut fault = None;
        let period_ns = self.config.frame_period_ns;
        let sensor = match (self.sync.as_mut(), self.calibration.as_ref()) {
            (Some(sync), Some(cal)) => match sync.state_at(pts_ns) {
                Ok(state) => match cal.camera_for(&state.reading, width, height) {
                    Ok(c) => {
                        let a = state.reading.angles;
                        match self.slew.check(
                            pts_ns,
                            [a.pan_deg, a.tilt_deg, a.roll_deg],
                            period_ns,
                        ) {
                            Gate::Accept => Some(c),
                            Gate::AcceptAfterJump => {
                                tracing::info!(
                                    "head moved to a new position (cut); pose restarted"
                                );
                                self.pose.reset();
                                Some(c)
                            }
                            Gate::Reject => {
                                // The sensor says the view changed faster than a head can move:
                                // a glitch, or a cut not yet confirmed. Neither the sensor nor
                                // vision tracking from the old view can be trusted.
                                self.stats.jumps_rejected += 1;
                                self.stats.sensor_misses += 1;
                                report.timings.sync = ms_since(t);
                                tracing::debug!("frame {pts_ns}: implausible head jump refused");
                                return Ok(());
                            }
                        }
                    }
                    Err(e) => {
                        fault = Some(format!("sensor pose: {e}"));
                        None
                    }
                },
                Err(e) => {
                    fault = Some(format!("tracking: {e}"));
                    None
                }
            },
            _ => None,
        };
        if self.sync.is_some() && sensor.is_none() {
            self.stats.sensor_misses += 1;
        }
        report.timings.sync = ms_since(t);

        // 4. Pose selection and vision.
        let t = Instant::now();
        self.injected_panic(Stage::Pose);
        let est: PoseEstimate = self.pose.estimate(frame.as_ref(), sensor.as_ref());
        if self.pose.last_estimate_gated() {
            self.stats.sensor_glitches_gated += 1;
        }
        report.timings.pose = ms_since(t);
        report.camera = est.camera;
        report.source = est.source;
        report.residual_px = est.residual_px;
        report.inliers = est.inliers;
        let Some(camera) = est.camera else {
            // Nothing usable: the frame stays clean (a miss is not a fault once reported).
            if let Some(f) = fault {
                tracing::debug!("{f}");
            }
            return Ok(());
        };
        if !camera.intrinsics.is_valid() {
            return Err("camera has invalid intrinsics".into());
        }

        // 5. Graphics.
        let t = Instant::now();
        self.injected_panic(Stage::Graphics);
        self.prepare_lines(&camera, width, height);
        report.timings.graphics = ms_since(t);
        if self.lines.iter().all(|l| l.mesh.is_empty()) {
            return Ok(());
        }

        // 6. Key + composite.
        let t = Instant::now();
        self.injected_panic(Stage::Composite);
        if let Some(i) = self
            .armed
            .iter()
            .position(|f| *f == InjectedFault::DeviceLoss)
        {
            self.armed.swap_remove(i);
            self.compositor.simulate_device_loss();
        }
        if self.config.auto_key
            && (self.key.is_none() || self.key_is_auto)
            && !self.poll_auto_key(frame, &camera)
        {
            // No key yet: drawing without one would put the line over the players.
            return Ok(());
        }
        let frame_key;
        let key: &dyn PixelKey = match &self.key {
            Some(k) => {
                frame_key =
                    self.paint_view
                        .update(k, frame.as_ref(), &camera, &self.field, &self.lines);
                &frame_key
            }
            None => &NoKey,
        };
        let result = self.compositor.composite(frame, &self.lines, key);
        let stats = match result {
            Ok(s) => s,
            Err(e) if self.backend_name == "gpu" => {
                tracing::error!("GPU compositor failed ({e}); switching to the CPU compositor");
                self.stats.gpu_fallbacks += 1;
                let cpu = self
                    .cpu_fallback
                    .take()
                    .unwrap_or_else(|| CpuCompositor::with_crew(self.crew.clone()));
                self.compositor = Box::new(cpu);
                self.backend_name = "cpu";
                report.backend = "cpu";
                self.compositor
                    .composite(frame, &self.lines, key)
                    .map_err(|e| format!("CPU compositor: {e}"))?
            }
            Err(e) => return Err(format!("compositor: {e}")),
        };
        report.timings.composite = ms_since(t);
        report.drawn = stats.tiles > 0;
        Ok(())
    }

    /// Makes progress on the automatic key; true once a key is in place. The first view is
    /// learnt from the first frame with a pose, another every [`AUTO_KEY_RELEARN_FRAMES`]
    /// frames after (or after a failed try); the key in place keys the frames meanwhile.
    fn poll_auto_key(&mut self, frame: &FrameMut<'_>, camera: &Camera) -> bool {
        self.auto_key_age = self.auto_key_age.saturating_add(1);
        if let Some(job) = &self.key_job {
            match job.try_recv() {
                Ok((learner, key)) => {
                    self.key_job = None;
                    self.learner = learner;
                    self.take_learnt(key);
                }
                Err(crossbeam_channel::TryRecvError::Empty) => {}
                Err(crossbeam_channel::TryRecvError::Disconnected) => {
                    self.key_job = None;
                    self.auto_key_age = 0;
                }
            }
            return self.key.is_some();
        }
        if self.key.is_some() && self.auto_key_age < AUTO_KEY_RELEARN_FRAMES {
            return true;
        }
        if self.auto_key_inline {
            let key = learn_key(&mut self.learner, frame.as_ref(), camera, &self.field);
            self.take_learnt(key);
            return self.key.is_some();
        }
        // One copy of the frame, then the palette search runs off the streaming thread.
        let layout: FrameLayout = frame.layout.clone();
        let data = frame.data[..layout.size].to_vec();
        let (camera, field) = (*camera, self.field.clone());
        // The learner goes with the job and comes back with it, even from a panic in it.
        let mut learner = std::mem::take(&mut self.learner);
        let (tx, rx) = bounded(1);
        let spawned = std::thread::Builder::new()
            .name("yardline-auto-key".into())
            .spawn(move || {
                let key = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    FrameRef::new(&layout, &data)
                        .ok()
                        .and_then(|f| learn_key(&mut learner, f, &camera, &field))
                }))
                .unwrap_or_else(|_| {
                    tracing::error!("the automatic key job panicked; the key in place stays");
                    None
                });
                tx.send((learner, key)).ok();
            });
        match spawned {
            Ok(_) => self.key_job = Some(rx),
            Err(e) => {
                tracing::warn!("cannot start the automatic key thread: {e}");
                self.auto_key_age = 0;
            }
        }
        self.key.is_some()
    }

    /// Puts a newly learnt automatic key in place (a failed try keeps the key there is).
    fn take_learnt(&mut self, key: Option<FieldKey>) {
        self.auto_key_age = 0;
        if let Some(key) = key {
            self.key = Some(key);
            self.key_is_auto = true;
        }
    }

    fn prepare_lines(&mut self, camera: &Camera, width: u32, height: u32) {
        self.lines.clear();
        let crown = self.field.crown;
        for (i, l) in [self.config.first_down, self.config.scrimmage]
            .iter()
            .enumerate()
        {
            let opacity = l.opacity * self.fade[i] as f32;
            if opacity <= 0.0 {
                continue;
            }
            let strip = GroundStrip::football_line(l.yard, l.width_m);
            self.lines.push(prepare_line(
                camera, &strip, &crown, width, height, l.rgb, opacity,
            ));
        }
        for l in self
            .config
            .extra
            .iter()
            .filter(|l| l.enabled && l.opacity > 0.0)
        {
            let strip = GroundStrip {
                a: Point2::from(l.a),
                b: Point2::from(l.b),
                width_m: l.width_m,
            };
            self.lines.push(prepare_line(
                camera, &strip, &crown, width, height, l.rgb, l.opacity,
            ));
        }
    }
}

fn open_compositor(
    backend: BackendChoice,
    crew: &Crew,
) -> Result<(Box<dyn Compositor>, &'static str), EngineError> {
    let gpu = |choice| -> Result<(Box<dyn Compositor>, &'static str), EngineError> {
        let g = GpuCompositor::new(choice)?.with_crew(crew.clone());
        tracing::info!("compositor: GPU on {}", g.adapter());
        Ok((Box::new(g), "gpu"))
    };
    match backend {
        BackendChoice::Cpu => Ok((Box::new(CpuCompositor::with_crew(crew.clone())), "cpu")),
        BackendChoice::Gpu => gpu(AdapterChoice::Any),
        BackendChoice::Auto => gpu(AdapterChoice::HardwareOnly).or_else(|e| {
            tracing::info!("compositor: CPU (no hardware GPU: {e})");
            Ok((Box::new(CpuCompositor::with_crew(crew.clone())), "cpu"))
        }),
    }
}

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}
