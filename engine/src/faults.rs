//! Fault injection: a seeded mix of the faults a live chain meets, and the per-frame check of
//! what came out of [`Engine::process`].
//!
//! The faults: tracking dropouts (random and in bursts), corrupt, short, duplicated, reordered
//! and late packets, non-finite and absurd readings, sudden head jumps, frames of another size,
//! unreadable keying/venue updates, GPU device loss and a panic inside a stage. A front end
//! (the `yardline soak` command, the GStreamer element's tests) feeds clean packets and frames
//! through a [`FaultInjector`], hands the deliveries to an [`Intake`] and classifies each output
//! frame with [`classify`]: a frame must come out either **correct** (the line where the truth
//! camera puts it) or **untouched** (byte-identical to the input), never anything else.
//!
//! Everything is seeded: the same mix and seed give the same faults on the same frames.

use std::collections::BTreeMap;

use nalgebra::Point3;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::field::yard_to_x;
use crate::geometry::Camera;
use crate::pipeline::{Engine, InjectedFault};
use crate::report::{FrameReport, Stage};
use crate::tracking::freed::{self, FreedError, PACKET_LEN};
use crate::tracking::{SensorReading, TrackingSample};

/// Every kind of fault the injector makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// A packet lost at random.
    Dropout,
    /// A packet lost inside a burst of losses.
    Burst,
    /// A packet with flipped bytes (its checksum fails, or it decodes to other values).
    Corrupt,
    /// A packet cut short.
    Short,
    /// A packet delivered twice.
    Duplicate,
    /// A packet delivered after the next one.
    Reorder,
    /// A packet received later than its nominal time.
    Late,
    /// A valid packet with absurd angles and zoom.
    Absurd,
    /// A reading with NaN or infinite values (from a non-FreeD source).
    NonFinite,
    /// Readings jumping by a large angle for a few frames (an encoder glitch).
    Jump,
    /// A frame of a different size.
    Resize,
    /// An unreadable keying file offered as a runtime update.
    BadKeyUpdate,
    /// An unreadable venue file offered as a runtime update.
    BadVenueUpdate,
    /// GPU device lost (a driver reset).
    DeviceLoss,
    /// A panic inside a pipeline stage.
    Panic,
}

/// A fault mix or injector that cannot be used; the message names the value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FaultConfigError {
    /// No fault kind has this name.
    #[error("unknown fault {name:?}; expected one of {expected}")]
    UnknownKind {
        /// The name given.
        name: String,
        /// The names there are, comma-separated.
        expected: String,
    },
    /// A rate outside 0..=1.
    #[error("fault rate {name} = {value} outside 0..=1")]
    Rate {
        /// The rate's name.
        name: &'static str,
        /// Its value.
        value: f64,
    },
    /// A jump larger than half a turn.
    #[error("jump_deg {0} outside -180..=180")]
    Jump(f64),
    /// A frame period that is not positive.
    #[error("frame period {0} ns must be positive")]
    Period(i64),
}

impl std::str::FromStr for FaultKind {
    type Err = FaultConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|k| k.name()).collect();
                FaultConfigError::UnknownKind {
                    name: s.to_string(),
                    expected: names.join(", "),
                }
            })
    }
}

impl FaultKind {
    /// Every kind, in a stable order.
    pub const ALL: [Self; 15] = [
        Self::Dropout,
        Self::Burst,
        Self::Corrupt,
        Self::Short,
        Self::Duplicate,
        Self::Reorder,
        Self::Late,
        Self::Absurd,
        Self::NonFinite,
        Self::Jump,
        Self::Resize,
        Self::BadKeyUpdate,
        Self::BadVenueUpdate,
        Self::DeviceLoss,
        Self::Panic,
    ];

    /// Kebab-case name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Dropout => "dropout",
            Self::Burst => "burst",
            Self::Corrupt => "corrupt",
            Self::Short => "short",
            Self::Duplicate => "duplicate",
            Self::Reorder => "reorder",
            Self::Late => "late",
            Self::Absurd => "absurd",
            Self::NonFinite => "non-finite",
            Self::Jump => "jump",
            Self::Resize => "resize",
            Self::BadKeyUpdate => "bad-key-update",
            Self::BadVenueUpdate => "bad-venue-update",
            Self::DeviceLoss => "device-loss",
            Self::Panic => "panic",
        }
    }
}

/// How often each fault happens. Packet faults are per packet, frame faults per frame
/// (probabilities in 0..=1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaultMix {
    /// A packet is lost.
    pub dropout: f64,
    /// A burst of losses starts (per frame).
    pub burst: f64,
    /// Length of a burst (frames).
    pub burst_frames: u32,
    /// A packet's bytes are flipped.
    pub corrupt: f64,
    /// A packet is cut short.
    pub short: f64,
    /// A packet is delivered twice.
    pub duplicate: f64,
    /// A packet is delivered after the next one.
    pub reorder: f64,
    /// A packet arrives late by up to `late_frames` frame periods.
    pub late: f64,
    /// Largest lateness (frames).
    pub late_frames: u32,
    /// A packet carries absurd values.
    pub absurd: f64,
    /// A non-finite reading is delivered (as well as the packet).
    pub non_finite: f64,
    /// A jump of `jump_deg` starts (per frame) and lasts 1..=`jump_frames` readings.
    pub jump: f64,
    /// Size of a jump (degrees of pan).
    pub jump_deg: f64,
    /// Longest jump (readings); must stay below the engine's confirmation count to be a
    /// glitch rather than a cut.
    pub jump_frames: u32,
    /// A frame comes in another size.
    pub resize: f64,
    /// An unreadable keying file is offered.
    pub bad_key_update: f64,
    /// An unreadable venue file is offered.
    pub bad_venue_update: f64,
    /// The GPU device is lost.
    pub device_loss: f64,
    /// A stage panics.
    pub panic: f64,
}

impl FaultMix {
    /// No faults.
    pub fn none() -> Self {
        Self {
            dropout: 0.0,
            burst: 0.0,
            burst_frames: 0,
            corrupt: 0.0,
            short: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            late: 0.0,
            late_frames: 0,
            absurd: 0.0,
            non_finite: 0.0,
            jump: 0.0,
            jump_deg: 0.0,
            jump_frames: 0,
            resize: 0.0,
            bad_key_update: 0.0,
            bad_venue_update: 0.0,
            device_loss: 0.0,
            panic: 0.0,
        }
    }

    /// Every fault at once, at rates a soak at 59.94 Hz meets them often: 30 % random loss, a
    /// 2 s burst every ~30 s, and each other fault every few seconds.
    pub fn soak() -> Self {
        Self {
            dropout: 0.30,
            burst: 1.0 / 1800.0,
            burst_frames: 120,
            corrupt: 0.02,
            short: 0.01,
            duplicate: 0.02,
            reorder: 0.02,
            late: 0.02,
            late_frames: 3,
            absurd: 0.005,
            non_finite: 0.005,
            jump: 0.004,
            jump_deg: 20.0,
            jump_frames: 2,
            resize: 0.003,
            bad_key_update: 0.002,
            bad_venue_update: 0.002,
            device_loss: 0.001,
            panic: 0.004,
        }
    }

    /// Only the given kinds, each at a rate that makes it happen every few dozen frames (the
    /// random loss stays at 30 %, a burst starts about every 100 frames).
    pub fn only(kinds: &[FaultKind]) -> Self {
        let mut m = Self::none();
        let base = Self::soak();
        for k in kinds {
            match k {
                FaultKind::Dropout => m.dropout = base.dropout,
                FaultKind::Burst => {
                    m.burst = 0.01;
                    m.burst_frames = base.burst_frames;
                }
                FaultKind::Corrupt => m.corrupt = 0.1,
                FaultKind::Short => m.short = 0.1,
                FaultKind::Duplicate => m.duplicate = 0.1,
                FaultKind::Reorder => m.reorder = 0.1,
                FaultKind::Late => {
                    m.late = 0.1;
                    m.late_frames = base.late_frames;
                }
                FaultKind::Absurd => m.absurd = 0.05,
                FaultKind::NonFinite => m.non_finite = 0.05,
                FaultKind::Jump => {
                    m.jump = 0.05;
                    m.jump_deg = base.jump_deg;
                    m.jump_frames = base.jump_frames;
                }
                FaultKind::Resize => m.resize = 0.05,
                FaultKind::BadKeyUpdate => m.bad_key_update = 0.05,
                FaultKind::BadVenueUpdate => m.bad_venue_update = 0.05,
                FaultKind::DeviceLoss => m.device_loss = 0.05,
                FaultKind::Panic => m.panic = 0.05,
            }
        }
        m
    }

    /// Checks every probability is in 0..=1.
    pub fn validate(&self) -> Result<(), FaultConfigError> {
        let p = [
            ("dropout", self.dropout),
            ("burst", self.burst),
            ("corrupt", self.corrupt),
            ("short", self.short),
            ("duplicate", self.duplicate),
            ("reorder", self.reorder),
            ("late", self.late),
            ("absurd", self.absurd),
            ("non_finite", self.non_finite),
            ("jump", self.jump),
            ("resize", self.resize),
            ("bad_key_update", self.bad_key_update),
            ("bad_venue_update", self.bad_venue_update),
            ("device_loss", self.device_loss),
            ("panic", self.panic),
        ];
        for (name, v) in p {
            if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
                return Err(FaultConfigError::Rate { name, value: v });
            }
        }
        if !(self.jump_deg.is_finite() && self.jump_deg.abs() <= 180.0) {
            return Err(FaultConfigError::Jump(self.jump_deg));
        }
        Ok(())
    }
}

/// A datagram as received: receive time on the video clock (ns) and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    /// Receive time (ns).
    pub pts_ns: i64,
    /// Payload as received.
    pub bytes: Vec<u8>,
}

/// One thing delivered to the engine's tracking input.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// A received datagram (to be decoded and checked like the UDP listener does).
    Datagram(Datagram),
    /// A reading from a non-FreeD source, receive time (ns).
    Reading(i64, SensorReading),
}

/// Faults that act on a frame rather than on tracking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "independent switches, any combination can happen on one frame"
)]
pub struct FrameFaults {
    /// Present this frame in another size.
    pub resize: bool,
    /// Offer an unreadable keying file before this frame.
    pub bad_key_update: bool,
    /// Offer an unreadable venue file before this frame.
    pub bad_venue_update: bool,
    /// Lose the GPU device before this frame.
    pub device_loss: bool,
    /// Panic in this stage.
    pub panic: Option<Stage>,
}

impl FrameFaults {
    /// Arms the engine-side faults (device loss, panic) for the next [`Engine::process`].
    pub fn arm(&self, engine: &mut Engine) {
        if self.device_loss {
            engine.inject(InjectedFault::DeviceLoss);
        }
        if let Some(stage) = self.panic {
            engine.inject(InjectedFault::PanicIn(stage));
        }
    }
}

/// Seeded fault maker.
#[derive(Debug)]
pub struct FaultInjector {
    mix: FaultMix,
    rng: ChaCha8Rng,
    burst_left: u32,
    jump_left: u32,
    /// Deliveries held back: (frame index they are due at, delivery).
    delayed: Vec<(u64, Delivery)>,
    counts: BTreeMap<FaultKind, u64>,
    period_ns: i64,
}

impl FaultInjector {
    /// An injector for a stream with frame period `period_ns`.
    pub fn new(mix: FaultMix, seed: u64, period_ns: i64) -> Result<Self, FaultConfigError> {
        mix.validate()?;
        if period_ns <= 0 {
            return Err(FaultConfigError::Period(period_ns));
        }
        Ok(Self {
            mix,
            rng: ChaCha8Rng::seed_from_u64(seed),
            burst_left: 0,
            jump_left: 0,
            delayed: Vec::new(),
            counts: BTreeMap::new(),
            period_ns,
        })
    }

    /// The mix in use.
    pub fn mix(&self) -> &FaultMix {
        &self.mix
    }

    fn hit(&mut self, p: f64) -> bool {
        p > 0.0 && self.rng.random_bool(p.min(1.0))
    }

    fn count(&mut self, kind: FaultKind) {
        *self.counts.entry(kind).or_default() += 1;
    }

    /// How many times each fault was injected so far.
    pub fn counts(&self) -> BTreeMap<&'static str, u64> {
        FaultKind::ALL
            .iter()
            .map(|k| (k.name(), self.counts.get(k).copied().unwrap_or(0)))
            .collect()
    }

    /// What reaches the tracking input during frame `frame`: the clean packets received then,
    /// with faults applied, plus anything delayed from earlier frames that is due.
    pub fn tracking(&mut self, frame: u64, clean: Vec<Datagram>) -> Vec<Delivery> {
        let mut out = Vec::new();
        if self.burst_left == 0 && self.hit(self.mix.burst) {
            self.burst_left = self.mix.burst_frames;
        }
        if self.jump_left == 0 && self.hit(self.mix.jump) {
            self.jump_left = self.rng.random_range(1..=self.mix.jump_frames.max(1));
        }
        for d in clean {
            self.packet_faults(frame, d, &mut out);
        }
        if self.burst_left > 0 {
            self.burst_left -= 1;
        }
        if self.jump_left > 0 {
            self.jump_left -= 1;
        }
        if self.hit(self.mix.non_finite) {
            self.count(FaultKind::NonFinite);
            let mut reading = SensorReading {
                camera_id: 0,
                angles: crate::head::HeadAngles::default(),
                position_mm: [0.0; 3],
                zoom: 0.0,
                focus: 0.0,
                lens: None,
                timecode: None,
            };
            match self.rng.random_range(0..3) {
                0 => reading.angles.pan_deg = f64::NAN,
                1 => reading.zoom = f64::INFINITY,
                _ => reading.angles.tilt_deg = f64::NEG_INFINITY,
            }
            // Stamped like a packet arriving now, so it competes with the real ones.
            let pts = (frame as i64 + 2) * self.period_ns;
            out.push(Delivery::Reading(pts, reading));
        }
        // Delayed deliveries come after this frame's own (that is what makes them reordered).
        let mut due = Vec::new();
        self.delayed.retain(|(at, d)| {
            if *at <= frame {
                due.push(d.clone());
                false
            } else {
                true
            }
        });
        out.extend(due);
        out
    }

    fn packet_faults(&mut self, frame: u64, mut d: Datagram, out: &mut Vec<Delivery>) {
        if self.burst_left > 0 {
            self.count(FaultKind::Burst);
            return;
        }
        if self.hit(self.mix.dropout) {
            self.count(FaultKind::Dropout);
            return;
        }
        if self.jump_left > 0
            && let Some(bytes) = shifted_pan(&d.bytes, self.mix.jump_deg)
        {
            self.count(FaultKind::Jump);
            d.bytes = bytes;
        }
        if self.hit(self.mix.absurd)
            && let Some(bytes) = absurd(&d.bytes, &mut self.rng)
        {
            self.count(FaultKind::Absurd);
            d.bytes = bytes;
        }
        if self.hit(self.mix.corrupt) && !d.bytes.is_empty() {
            self.count(FaultKind::Corrupt);
            let flips = self.rng.random_range(1..=3);
            for _ in 0..flips {
                let i = self.rng.random_range(0..d.bytes.len());
                d.bytes[i] ^= self.rng.random_range(1..=255u8);
            }
        }
        if self.hit(self.mix.short) && !d.bytes.is_empty() {
            self.count(FaultKind::Short);
            let len = self.rng.random_range(0..d.bytes.len());
            d.bytes.truncate(len);
        }
        if self.hit(self.mix.late) {
            self.count(FaultKind::Late);
            let frames = self.rng.random_range(1..=self.mix.late_frames.max(1));
            let jitter = self.rng.random_range(0.5..1.0) * self.period_ns as f64;
            d.pts_ns += (f64::from(frames - 1) * self.period_ns as f64 + jitter) as i64;
            self.delayed
                .push((frame + u64::from(frames), Delivery::Datagram(d)));
            return;
        }
        if self.hit(self.mix.reorder) {
            self.count(FaultKind::Reorder);
            self.delayed.push((frame + 1, Delivery::Datagram(d)));
            return;
        }
        let dup = self.hit(self.mix.duplicate);
        if dup {
            self.count(FaultKind::Duplicate);
            out.push(Delivery::Datagram(d.clone()));
        }
        out.push(Delivery::Datagram(d));
    }

    /// The frame-level faults for frame `frame`.
    pub fn frame(&mut self, _frame: u64) -> FrameFaults {
        let mut f = FrameFaults::default();
        if self.hit(self.mix.resize) {
            self.count(FaultKind::Resize);
            f.resize = true;
        }
        if self.hit(self.mix.bad_key_update) {
            self.count(FaultKind::BadKeyUpdate);
            f.bad_key_update = true;
        }
        if self.hit(self.mix.bad_venue_update) {
            self.count(FaultKind::BadVenueUpdate);
            f.bad_venue_update = true;
        }
        if self.hit(self.mix.device_loss) {
            self.count(FaultKind::DeviceLoss);
            f.device_loss = true;
        }
        if self.hit(self.mix.panic) {
            self.count(FaultKind::Panic);
            f.panic = Some(Stage::ALL[self.rng.random_range(0..Stage::ALL.len())]);
        }
        f
    }

    /// An unreadable variant of a good configuration file's text: binary garbage, a cut in
    /// the middle, an unknown version, or a number replaced by `nan`.
    pub fn spoil(&mut self, good: &str) -> String {
        match self.rng.random_range(0..4) {
            0 => {
                let n = self.rng.random_range(1..256);
                let bytes: Vec<u8> = (0..n).map(|_| self.rng.random()).collect();
                String::from_utf8_lossy(&bytes).into_owned()
            }
            1 => {
                // Cut inside the first table, so required keys are missing.
                let cut = good.find(']').map_or(good.len() / 2, |i| i + 1);
                good[..cut].to_string()
            }
            2 => good.replacen("version = 1", "version = 99", 1),
            _ => replace_first_number(good, "nan"),
        }
    }
}

/// `text` with its first floating-point value after an `=` replaced by `with`.
fn replace_first_number(text: &str, with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut done = false;
    for line in text.lines() {
        if !done
            && let Some((key, value)) = line.split_once('=')
            && value.trim().parse::<f64>().is_ok()
            && value.contains('.')
        {
            out.push_str(key);
            out.push_str("= ");
            out.push_str(with);
            done = true;
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    if done {
        out
    } else {
        format!("{text}\n= {with}\n")
    }
}

/// The packet with `deg` added to pan (re-checksummed), if it is a valid packet.
fn shifted_pan(bytes: &[u8], deg: f64) -> Option<Vec<u8>> {
    let mut p = freed::decode_checked(bytes).ok()?;
    let counts = f64::from(p.pan) + deg * freed::COUNTS_PER_DEGREE;
    p.pan = counts.clamp(f64::from(freed::I24_MIN), f64::from(freed::I24_MAX)) as i32;
    Some(p.encode().to_vec())
}

/// The packet with extreme (but encodable) angles and zoom, re-checksummed.
fn absurd(bytes: &[u8], rng: &mut ChaCha8Rng) -> Option<Vec<u8>> {
    let mut p = freed::decode_checked(bytes).ok()?;
    match rng.random_range(0..3) {
        0 => p.pan = freed::I24_MAX,
        1 => p.tilt = freed::I24_MIN,
        _ => p.zoom = freed::U24_MAX,
    }
    Some(p.encode().to_vec())
}

/// Counters of an [`Intake`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IntakeStats {
    /// Valid packets handed to the engine.
    pub accepted: u64,
    /// Datagrams whose checksum failed (dropped).
    pub checksum_failures: u64,
    /// Datagrams that are not a FreeD D1 packet (dropped).
    pub malformed: u64,
    /// Readings handed to the engine.
    pub readings: u64,
}

/// The tracking input path of a front end: decodes and checks datagrams exactly as the UDP
/// listener does, and hands what passes to the engine.
#[derive(Debug, Default)]
pub struct Intake {
    stats: IntakeStats,
}

impl Intake {
    /// A fresh intake.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counters so far.
    pub fn stats(&self) -> IntakeStats {
        self.stats
    }

    /// Delivers one item to the engine.
    pub fn deliver(&mut self, engine: &mut Engine, delivery: &Delivery) {
        match delivery {
            Delivery::Datagram(d) => match freed::decode_checked(&d.bytes) {
                Ok(packet) => {
                    self.stats.accepted += 1;
                    engine.push_tracking(&TrackingSample::freed(d.pts_ns, packet));
                }
                Err(FreedError::Checksum { .. }) => self.stats.checksum_failures += 1,
                Err(_) => self.stats.malformed += 1,
            },
            Delivery::Reading(pts, r) => {
                self.stats.readings += 1;
                engine.push_reading(*pts, *r);
            }
        }
    }
}

/// What came out of one frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum Outcome {
    /// The line was drawn with a camera within tolerance of the truth.
    Correct {
        /// Largest distance between the line as drawn and as the truth camera puts it (px).
        error_px: f64,
    },
    /// The frame is byte-identical to its input.
    Untouched,
    /// Anything else: drawn in the wrong place, or modified without a line being drawn.
    Wrong {
        /// What was wrong.
        why: String,
    },
}

impl Outcome {
    /// True for `Correct` and `Untouched`.
    pub fn is_ok(&self) -> bool {
        !matches!(self, Self::Wrong { .. })
    }
}

/// Points along a yard line from sideline to sideline (field metres).
fn yard_line_points(yard: f64, half_width_m: f64) -> impl Iterator<Item = Point3<f64>> {
    let x = yard_to_x(yard);
    (0..=16).map(move |k| {
        let y = -half_width_m + 2.0 * half_width_m * f64::from(k) / 16.0;
        Point3::new(x, y, 0.0)
    })
}

/// Largest image distance (px) between the yard line at `yard` projected by `a` and by `b`,
/// over the points that `b` puts inside the `width` x `height` image; `None` when none is.
pub fn line_error_px(
    a: &Camera,
    b: &Camera,
    yard: f64,
    half_width_m: f64,
    width: u32,
    height: u32,
) -> Option<f64> {
    let mut worst: Option<f64> = None;
    for p in yard_line_points(yard, half_width_m) {
        let Some(pb) = b.project(&p) else { continue };
        if !(0.0..f64::from(width)).contains(&pb.x) || !(0.0..f64::from(height)).contains(&pb.y) {
            continue;
        }
        let e = a.project(&p).map_or(f64::INFINITY, |pa| (pa - pb).norm());
        worst = Some(worst.map_or(e, |w: f64| w.max(e)));
    }
    worst
}

/// Classifies one output frame: `before`/`after` are the frame's bytes in and out, `report`
/// the engine's report, `truth` the exact camera (when known), `yard` the first-down line's
/// position and `tolerance_px` the largest acceptable line error.
pub fn classify(
    before: &[u8],
    after: &[u8],
    report: &FrameReport,
    truth: Option<&Camera>,
    yard: f64,
    tolerance_px: f64,
) -> Outcome {
    if !report.drawn {
        return if before == after {
            Outcome::Untouched
        } else {
            Outcome::Wrong {
                why: "frame modified although no line was drawn".into(),
            }
        };
    }
    let Some(used) = report.camera else {
        return Outcome::Wrong {
            why: "line drawn without a camera".into(),
        };
    };
    let Some(truth) = truth else {
        // Without truth a drawn frame can only be checked for a sane camera.
        return Outcome::Correct { error_px: 0.0 };
    };
    let half = crate::field::FOOTBALL_HALF_WIDTH_M;
    match line_error_px(&used, truth, yard, half, report.width, report.height) {
        Some(e) if e <= tolerance_px => Outcome::Correct { error_px: e },
        Some(e) => Outcome::Wrong {
            why: format!("line drawn {e:.2} px from the truth"),
        },
        // The truth line is off screen; the drawn one must be too (nothing of it visible).
        None => Outcome::Wrong {
            why: "line drawn where the truth camera sees none".into(),
        },
    }
}

/// The bytes of a packet stream's clean datagram, for feeding [`FaultInjector::tracking`].
pub fn datagram(pts_ns: i64, packet: &[u8; PACKET_LEN]) -> Datagram {
    Datagram {
        pts_ns,
        bytes: packet.to_vec(),
    }
}
