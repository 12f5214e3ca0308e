//! The per-frame pipeline every front end calls: [`Engine::process`].
//!
//! A frame goes through four steps, each a method here returning what the next needs:
//! `sensor_step` (tracking sync, sensor pose, the slew gate), `pose_step` (pose selection and
//! vision), `graphics_step` (tessellation) and `composite_step` (automatic key, paint view, key
//! and composite). Fail-open: any
//! fault leaves the frame untouched and is reported as a [`FrameFault`]; a GPU fault switches
//! to the CPU compositor, which redraws the same frame.

mod auto_key;
mod backend;
mod fades;
mod gate;
mod injection;
mod intake;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use nalgebra::Point2;
use yardline_frame::{FillKeyFormat, FillKeyMut, FrameLayout, FrameMut, FrameRef};
use yardline_keying::{Exclusion, KeyConfig, KeyError};

use crate::config::{EngineConfig, EngineError};
use crate::exclusion::Exclusions;
use crate::field::FieldModel;
use crate::geometry::Camera;
use crate::graphics::GroundStrip;
use crate::key::{CleanPlate, FieldKey, PaintView};
use crate::pose::{PoseConfig, PoseEstimator, TrackState};
use crate::render::crew::Crew;
use crate::render::{NoKey, PixelKey, PreparedLine, prepare_line};
use crate::report::{EngineStats, FrameFault, FrameReport, Stage, StageTimings, TrackingMatch};
use crate::tracking::Timecode;
use crate::tracking::sync::{SyncConfig, SyncMiss, SyncedState, TrackingSync};
use crate::venue::{CameraCalibration, Venue};

use auto_key::AutoKeyJob;
use backend::ActiveCompositor;
use fades::LineFades;
use gate::{Gate, SlewGate};
pub use gate::{JUMP_CONFIRM_READINGS, MAX_SLEW_DEG_PER_S};
use injection::Armed;
pub use injection::InjectedFault;

/// The engine: one per video stream.
pub struct Engine {
    config: EngineConfig,
    field: FieldModel,
    calibration: Option<CameraCalibration>,
    sync: Option<TrackingSync>,
    pose: PoseEstimator,
    /// The occlusion key in use.
    key: Option<FieldKey>,
    /// Learns the key while it is automatic.
    auto_key: AutoKeyJob,
    compositor: ActiveCompositor,
    fades: LineFades,
    last_size: Option<(u32, u32)>,
    /// Gates the reading synced to each frame.
    slew: SlewGate,
    /// Gates readings as they arrive.
    sample_slew: SlewGate,
    armed: Armed,
    stats: EngineStats,
    lines: Vec<PreparedLine>,
    /// Parts of the picture never drawn over.
    exclusions: Exclusions,
    /// Where the paint palette applies this frame.
    paint_view: PaintView,
    /// The field-space clean plate under the lines (learnt while `config.clean_plate`).
    plate: CleanPlate,
    /// The threads of the CPU passes (paint view, CPU compositor).
    crew: Crew,
    /// Opacity factor of this frame's pose (below 1 while a held pose starts to disagree with
    /// the image).
    pose_opacity: f64,
    /// The timecode of the next frame to process, when the front end knows it.
    frame_timecode: Option<Timecode>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("backend", &self.compositor.describe())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// What a front end emits for each frame: the program (the frame with the lines drawn in,
/// [`Engine::process`]) or fill and key (the lines alone with their alpha, for an external
/// keyer, [`Engine::process_fill_key`]). Named `program` and `fill-key` on the command line and
/// on the element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OutputMode {
    /// The frame with the lines drawn in.
    #[default]
    Program,
    /// The lines alone as an alpha-carrying frame.
    FillKey,
}

impl OutputMode {
    /// `program` or `fill-key`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Program => "program",
            Self::FillKey => "fill-key",
        }
    }
}

impl std::str::FromStr for OutputMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "program" => Ok(Self::Program),
            "fill-key" => Ok(Self::FillKey),
            other => Err(format!("unknown output {other:?} (program or fill-key)")),
        }
    }
}

/// Where a frame's lines go: into the frame itself (the program), or alone into a
/// fill-and-key frame, the input frame left as it is.
enum Target<'a, 'b, 'c> {
    Program(&'a mut FrameMut<'b>),
    FillKey(FrameRef<'b>, &'a mut FillKeyMut<'c>),
}

impl Target<'_, '_, '_> {
    /// The input frame.
    fn frame(&self) -> FrameRef<'_> {
        match self {
            Target::Program(f) => f.as_ref(),
            Target::FillKey(f, _) => *f,
        }
    }

    /// The input frame's layout.
    fn layout(&self) -> &FrameLayout {
        match self {
            Target::Program(f) => f.layout,
            Target::FillKey(f, _) => f.layout,
        }
    }
}

/// What the sensor step made of this frame's tracking.
enum Sensor {
    /// The head jumped faster than a head can slew: neither the sensor nor vision tracking
    /// from the old view can be trusted this frame.
    Refused,
    /// The sensor camera, if there is one, and why there is none otherwise.
    Seen {
        camera: Option<Camera>,
        miss: Option<String>,
    },
}

fn pose_config(config: &EngineConfig) -> PoseConfig {
    PoseConfig {
        hold_frames: config.hold_frames,
        ..PoseConfig::default()
    }
}

/// The reading for a frame: by timecode when the frame and a sample carry the matching one,
/// else by arrival time. Says which in the report.
fn synced(
    sync: &mut TrackingSync,
    frame_tc: Option<&Timecode>,
    pts_ns: i64,
    period_ns: i64,
    report: &mut FrameReport,
) -> Result<SyncedState, SyncMiss> {
    if let Some(tc) = frame_tc {
        let delay_ns = sync.config().tracking_delay_ns;
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_precision_loss,
            reason = "a delay of at most ten seconds in frames"
        )]
        let delay_frames = (delay_ns as f64 / period_ns.max(1) as f64).round() as i64;
        if let Some(s) = sync.state_for_timecode(pts_ns, tc, delay_frames) {
            report.tracking_match = Some(TrackingMatch::Timecode);
            return Ok(s);
        }
    }
    let r = sync.state_at(pts_ns);
    if r.is_ok() {
        report.tracking_match = Some(TrackingMatch::Arrival);
    }
    r
}

impl Engine {
    /// A new engine. `venue` enables the sensor pose; `key` is the occlusion key (with none, an
    /// automatic palette is built from the first frame with a pose when `config.auto_key`);
    /// the key's `[[exclusion]]`s become the engine's exclusions.
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
        let mut exclusions = Exclusions::default();
        exclusions.set(key.map(|k| k.exclusions.clone()).unwrap_or_default());
        let field = FieldModel::new(config.field);
        let key = key
            .map(|k| FieldKey::compile(k).map(|k| k.on_field(&field)))
            .transpose()
            .map_err(|e| EngineError::Config(format!("key: {e}")))?;
        let crew = Crew::sized_like_rayon();
        let compositor = ActiveCompositor::open(config.backend, &crew)?;
        let mut pose = PoseEstimator::new(field.clone(), config.pose_mode, pose_config(&config));
        pose.set_crew(crew.clone());
        Ok(Self {
            fades: LineFades::new(&config),
            config,
            field,
            calibration,
            sync,
            pose,
            key,
            auto_key: AutoKeyJob::new(),
            compositor,
            last_size: None,
            slew: SlewGate::default(),
            sample_slew: SlewGate::default(),
            armed: Armed::default(),
            stats: EngineStats::default(),
            lines: Vec::new(),
            exclusions,
            paint_view: PaintView::with_crew(crew.clone()),
            plate: CleanPlate::with_crew(crew.clone()),
            crew,
            pose_opacity: 1.0,
            frame_timecode: None,
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
            self.compositor = ActiveCompositor::open(config.backend, &self.crew)?;
        }
        if config.field != self.config.field {
            self.field = FieldModel::new(config.field);
            self.key = self.key.take().map(|k| k.on_field(&self.field));
            self.pose =
                PoseEstimator::new(self.field.clone(), config.pose_mode, pose_config(&config));
            self.pose.set_crew(self.crew.clone());
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
        self.auto_key.stop();
    }

    /// Returns to the automatic key: the key in use is dropped and the automatic key is
    /// learnt afresh from the next frame with a pose (as a new engine without a key does).
    pub fn clear_key(&mut self) {
        self.key = None;
        self.auto_key.restart();
    }

    /// Replaces the image-space exclusions: parts of the picture never drawn over
    /// (normalised image coordinates; see [`crate::exclusion`]). Each is validated; on an
    /// error the exclusions in use stay.
    pub fn set_exclusions(&mut self, exclusions: Vec<Exclusion>) -> Result<(), KeyError> {
        for (i, e) in exclusions.iter().enumerate() {
            e.validate(&format!("exclusion[{i}]"))?;
        }
        self.exclusions.set(exclusions);
        Ok(())
    }

    /// The image-space exclusions in use.
    pub fn exclusions(&self) -> &[Exclusion] {
        self.exclusions.shapes()
    }

    /// Where the automatic key is built. `inline` (the default, deterministic: offline
    /// rendering and tests) builds it on the first frame with a pose, and rebuilds it with
    /// each new view (every [`crate::AUTO_KEY_RELEARN_FRAMES`] frames drawn while it is
    /// automatic), which takes those frames a second or so; live front ends pass `false` to
    /// build it on a background thread, the frames meanwhile passing through untouched until
    /// the first key and keyed with the key in place after, so no frame waits for it.
    pub fn set_auto_key_inline(&mut self, inline: bool) {
        self.auto_key.set_inline(inline);
    }

    /// True while an automatic key is being built (or rebuilt) in the background.
    pub fn auto_key_pending(&self) -> bool {
        self.auto_key.pending()
    }

    /// The occlusion key in use, if any.
    pub fn key(&self) -> Option<&FieldKey> {
        self.key.as_ref()
    }

    /// Views of the field the automatic key has learnt (0 with a key loaded or set, and while
    /// it learns one in the background).
    pub fn auto_key_views(&self) -> usize {
        self.auto_key.views()
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

    /// Short description of the compositor in use.
    pub fn backend(&self) -> String {
        self.compositor.describe()
    }

    /// Arms a deliberate fault for the next frame (fault-injection tests and `yardline soak`).
    pub fn inject(&mut self, fault: InjectedFault) {
        self.armed.arm(fault);
    }

    /// The timecode of the next frame [`Self::process`] handles (from the buffer's
    /// `GstVideoTimeCodeMeta`, or derived by the front end). Its tracking sample is then the
    /// one labelled this timecode plus the tracking delay in frames, when one is in; otherwise
    /// (and for frames with none) the sample is matched by arrival time. Used once.
    pub fn set_frame_timecode(&mut self, timecode: Option<Timecode>) {
        self.frame_timecode = timecode;
    }

    /// Draws the enabled lines into `frame` (in place) for the frame at `pts_ns`. Never panics;
    /// on any fault the frame is left untouched and the report says why.
    pub fn process(&mut self, frame: &mut FrameMut<'_>, pts_ns: i64) -> FrameReport {
        self.process_target(&mut Target::Program(frame), pts_ns)
    }

    /// Fill and key: does for `frame` (at `pts_ns`) all [`Self::process`] does, but draws the
    /// lines alone into `out` instead of into the frame: per pixel the line colour with the
    /// alpha the program blend uses (coverage x key x opacity, fades included; see
    /// [`crate::render::CpuCompositor::fill_key`]), transparent elsewhere. `out` must be of
    /// `frame`'s size and one of [`FillKeyFormat::for_input`] of its format. Always drawn by
    /// the CPU compositor (whatever the backend), from the same alpha pass as its program.
    /// Never panics; on any fault `out` is left transparent and the report says why.
    pub fn process_fill_key(
        &mut self,
        frame: FrameRef<'_>,
        out: &mut FillKeyMut<'_>,
        pts_ns: i64,
    ) -> FrameReport {
        out.clear();
        let layout = frame.layout;
        let fits = FillKeyFormat::for_input(layout.format).contains(&out.format)
            && (out.width, out.height) == (layout.width, layout.height);
        let mut report = self.process_target(&mut Target::FillKey(frame, out), pts_ns);
        if !fits {
            report.drawn = false;
            report.fault = Some(FrameFault::Compositor(format!(
                "fill and key: {} {}x{} cannot carry {} {}x{} input (it takes {})",
                out.format,
                out.width,
                out.height,
                layout.format,
                layout.width,
                layout.height,
                FillKeyFormat::for_input(layout.format)
                    .iter()
                    .map(|f| f.name())
                    .collect::<Vec<_>>()
                    .join(" or ")
            )));
        }
        if report.fault.is_some() {
            out.clear();
        }
        report
    }

    fn process_target(&mut self, target: &mut Target<'_, '_, '_>, pts_ns: i64) -> FrameReport {
        let frame = target.layout();
        let start = Instant::now();
        let index = self.stats.frames;
        self.stats.frames += 1;
        let mut report = FrameReport {
            frame: index,
            pts_ns,
            width: frame.width,
            height: frame.height,
            camera: None,
            source: crate::pose::PoseSource::None,
            residual_px: None,
            inliers: 0,
            confidence: 0.0,
            state: TrackState::Lost,
            reason: None,
            timings: StageTimings::default(),
            drawn: false,
            backend: self.compositor.backend().name(),
            fault: None,
            tracking_match: None,
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| self.run(target, pts_ns, &mut report)));
        let fault = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(fault)) => {
                tracing::warn!("frame {index}: {fault}");
                Some(fault)
            }
            Err(panic) => {
                self.stats.panics += 1;
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(ToString::to_string)
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                tracing::error!("frame {index}: panic caught, frame passed through: {msg}");
                report.drawn = false;
                Some(FrameFault::Panic(msg))
            }
        };
        if fault.is_some() {
            self.stats.faults += 1;
        }
        report.fault = fault;
        if report.drawn {
            self.stats.drawn += 1;
        }
        report.timings.total = ms_since(start);
        report
    }

    fn run(
        &mut self,
        target: &mut Target<'_, '_, '_>,
        pts_ns: i64,
        report: &mut FrameReport,
    ) -> Result<(), FrameFault> {
        let (width, height) = (target.layout().width, target.layout().height);
        if self.last_size.is_some_and(|s| s != (width, height)) {
            // Vision state is in pixels of the old size.
            tracing::warn!("frame size changed to {width}x{height}; pose filters restarted");
            self.stats.size_changes += 1;
            self.pose.reset();
        }
        if self.last_size != Some((width, height)) {
            self.seed_registration(width, height);
        }
        self.last_size = Some((width, height));
        self.fades.advance(&self.config, pts_ns);
        let Sensor::Seen { camera, miss } = self.sensor_step(pts_ns, width, height, report) else {
            return Ok(());
        };
        let Some(camera) = self.pose_step(target.frame(), camera, report) else {
            // Nothing usable: the frame stays clean (a miss is not a fault once reported).
            if let Some(m) = miss {
                tracing::debug!("{m}");
            }
            return Ok(());
        };
        if !camera.intrinsics.is_valid() {
            return Err(FrameFault::InvalidIntrinsics);
        }
        if !self.graphics_step(&camera, width, height, report) {
            return Ok(());
        }
        self.composite_step(target, &camera, report)
    }

    /// Vision-only tracking starts from the venue's registration (a calibration from clicks),
    /// scaled to this frame size; one of another aspect ratio is refused with a warning.
    fn seed_registration(&mut self, width: u32, height: u32) {
        let Some(reg) = self
            .calibration
            .as_ref()
            .and_then(|c| c.registration.as_ref())
        else {
            return;
        };
        match reg.camera_for_size(width, height) {
            Ok(camera) => self.pose.set_reference(camera),
            Err(e) => {
                self.pose.clear_reference();
                tracing::warn!("venue registration not used: {e}");
            }
        }
    }

    /// Tracking sync, the sensor camera and the slew gate.
    fn sensor_step(
        &mut self,
        pts_ns: i64,
        width: u32,
        height: u32,
        report: &mut FrameReport,
    ) -> Sensor {
        let t = Instant::now();
        self.armed.panic_in(Stage::Sync);
        let mut miss = None;
        let period_ns = self.config.frame_period_ns;
        let frame_tc = self.frame_timecode.take();
        let camera = match (self.sync.as_mut(), self.calibration.as_ref()) {
            (Some(sync), Some(cal)) => {
                match synced(sync, frame_tc.as_ref(), pts_ns, period_ns, report) {
                    Ok(state) => match cal.camera_for(&state.reading, width, height) {
                        Ok(c) => {
                            let a = state.reading.angles;
                            let angles = [a.pan_deg, a.tilt_deg, a.roll_deg];
                            match self.slew.check(pts_ns, angles, period_ns) {
                                Gate::Accept => Some(c),
                                Gate::AcceptAfterJump => {
                                    tracing::info!(
                                        "head moved to a new position (cut); pose restarted"
                                    );
                                    self.pose.reset();
                                    Some(c)
                                }
                                Gate::Reject => {
                                    // A glitch, or a cut not yet confirmed.
                                    self.stats.jumps_rejected += 1;
                                    self.stats.sensor_misses += 1;
                                    report.timings.sync = ms_since(t);
                                    tracing::debug!(
                                        "frame {pts_ns}: implausible head jump refused"
                                    );
                                    return Sensor::Refused;
                                }
                            }
                        }
                        Err(e) => {
                            miss = Some(format!("sensor pose: {e}"));
                            None
                        }
                    },
                    Err(e) => {
                        miss = Some(format!("tracking: {e}"));
                        None
                    }
                }
            }
            _ => None,
        };
        if self.sync.is_some() && camera.is_none() {
            self.stats.sensor_misses += 1;
        }
        report.timings.sync = ms_since(t);
        Sensor::Seen { camera, miss }
    }

    /// Pose selection and vision; the camera to draw with, if any.
    fn pose_step(
        &mut self,
        frame: FrameRef<'_>,
        sensor: Option<Camera>,
        report: &mut FrameReport,
    ) -> Option<Camera> {
        let t = Instant::now();
        self.armed.panic_in(Stage::Pose);
        let est = self.pose.estimate(frame, sensor.as_ref());
        if self.pose.last_estimate_gated() {
            self.stats.sensor_glitches_gated += 1;
        }
        report.timings.pose = ms_since(t);
        report.camera = est.camera;
        report.source = est.source;
        report.residual_px = est.residual_px;
        report.inliers = est.inliers;
        report.confidence = est.confidence;
        report.state = est.state;
        report.reason = est.reason;
        self.pose_opacity = est.opacity;
        est.camera
    }

    /// Tessellates the lines shown; false when none has anything to draw.
    fn graphics_step(
        &mut self,
        camera: &Camera,
        width: u32,
        height: u32,
        report: &mut FrameReport,
    ) -> bool {
        let t = Instant::now();
        self.armed.panic_in(Stage::Graphics);
        self.prepare_lines(camera, width, height);
        report.timings.graphics = ms_since(t);
        self.lines.iter().any(|l| !l.mesh.is_empty())
    }

    /// The key (automatic or set, narrowed to the paint seen) and the composite.
    fn composite_step(
        &mut self,
        target: &mut Target<'_, '_, '_>,
        camera: &Camera,
        report: &mut FrameReport,
    ) -> Result<(), FrameFault> {
        let t = Instant::now();
        self.armed.panic_in(Stage::Composite);
        if self.armed.take(InjectedFault::DeviceLoss) {
            self.compositor.simulate_device_loss();
        }
        if self.config.auto_key
            && self.auto_key.wanted(self.key.as_ref())
            && !self
                .auto_key
                .poll(&mut self.key, target.frame(), camera, &self.field)
        {
            // No key yet: drawing without one would put the line over the players.
            return Ok(());
        }
        if let Some(k) = self.key.as_mut() {
            // The compositors key the frame's own codes (a new colorimetry re-indexes once).
            k.set_frame_space(target.layout());
        }
        let mut frame_key;
        let key: &dyn PixelKey = match &self.key {
            Some(k) => {
                frame_key =
                    self.paint_view
                        .update(k, target.frame(), camera, &self.field, &self.lines);
                // The plate is sampled by the CPU compositor: with it, a GPU backend hands the
                // frame to the CPU compositor beside it.
                if self.config.clean_plate {
                    self.plate.update(
                        target.frame(),
                        camera,
                        &self.field.crown,
                        &self.lines,
                        &frame_key,
                        self.exclusions.shapes(),
                    );
                    frame_key = frame_key.with_plate(&self.plate);
                }
                &frame_key
            }
            None => &NoKey,
        };
        let mut fell_back = false;
        let result = match target {
            Target::Program(frame) => {
                report.backend = self.compositor.draws(key).name();
                self.exclusions.save(frame, &self.lines);
                let result = self
                    .compositor
                    .composite(frame, &self.lines, key, &mut fell_back);
                self.exclusions.restore(frame);
                result
            }
            Target::FillKey(frame, out) => {
                let result = self.compositor.fill_key(*frame, &self.lines, key, out);
                self.exclusions
                    .clear_fill_key(frame.layout, out, &self.lines);
                result
            }
        };
        if fell_back {
            self.stats.gpu_fallbacks += 1;
            report.backend = self.compositor.backend().name();
        }
        let stats = result?;
        report.timings.composite = ms_since(t);
        report.drawn = stats.tiles > 0;
        Ok(())
    }

    fn prepare_lines(&mut self, camera: &Camera, width: u32, height: u32) {
        self.lines.clear();
        let crown = self.field.crown;
        for (l, fade) in [
            (self.config.first_down, self.fades.first_down),
            (self.config.scrimmage, self.fades.scrimmage),
        ] {
            let opacity = l.opacity * (fade * self.pose_opacity) as f32;
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
            let opacity = l.opacity * self.pose_opacity as f32;
            let strip = GroundStrip {
                a: Point2::from(l.a),
                b: Point2::from(l.b),
                width_m: l.width_m,
            };
            self.lines.push(prepare_line(
                camera, &strip, &crown, width, height, l.rgb, opacity,
            ));
        }
    }
}

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}
