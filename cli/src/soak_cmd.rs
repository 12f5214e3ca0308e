//! `yardline soak`: the engine on a looping built-in scene for many frames with every fault mixed
//! in at random (seeded), checking each frame comes out present, in order, and either correct
//! (the line where the truth camera puts it) or untouched.
//!
//! The scene is the built-in sample at the requested size plus the same scene at half size (for
//! frames of another size mid-stream). Its FreeD packets are re-timed to the running clock and
//! pass through the engine's fault injector ([`yardline_engine::faults`]) and the same
//! decode-and-check intake as the UDP listener. The scene plays forwards then backwards, so the
//! camera moves continuously however long the run.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use rayon::prelude::*;
use serde::Serialize;
use yardline_engine::faults::{
    FaultInjector, FaultKind, FaultMix, Intake, IntakeStats, Outcome, classify, datagram,
};
use yardline_engine::geometry::Camera;
use yardline_engine::key::{FieldKey, auto_key_config};
use yardline_engine::venue::Venue;
use yardline_engine::{BackendChoice, Engine, EngineConfig, EngineStats, YardLine};
use yardline_frame::{FrameLayout, FrameMut, FrameRef, PixelFormat};
use yardline_keying::KeyConfig;
use yardline_samples::{Sample, TruthRecord};

use crate::UsageError;
use crate::scene::{LoopScene, SCENE_FRAMES, scene_sample};
use yardline_engine::report::Percentiles;

/// Largest accepted RSS growth after warm-up (MiB).
const MAX_RSS_GROWTH_MB: f64 = 5.0;

/// Arguments of `yardline soak`.
#[derive(Debug, Args, Clone)]
pub struct SoakArgs {
    /// Frames to run.
    #[arg(long, default_value_t = 10_000)]
    pub frames: u32,
    /// Seed of the fault mix.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Frame size.
    #[arg(long, value_name = "WxH", default_value = "1280x720", value_parser = crate::sample_cmd::parse_size)]
    pub size: (u32, u32),
    /// Compositor backend: auto, cpu or gpu.
    #[arg(long, default_value = "auto", value_parser = |s: &str| s.parse::<BackendChoice>().map_err(|e| e.to_string()))]
    pub backend: BackendChoice,
    /// Faults to inject: `all` (the soak mix), `none`, or a comma-separated list of kinds
    /// (dropout, burst, corrupt, short, duplicate, reorder, late, absurd, non-finite, jump,
    /// resize, bad-key-update, bad-venue-update, device-loss, panic), each then frequent.
    #[arg(long, default_value = "all")]
    pub faults: String,
    /// Largest acceptable distance between the drawn line and the truth (px).
    #[arg(long, default_value_t = 3.0)]
    pub tolerance_px: f64,
    /// Also fail (exit 1) when the p99 frame time exceeds the frame period or memory grows by
    /// more than 5 MiB after warm-up (meaningful for release builds and long runs).
    #[arg(long)]
    pub strict: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// One wrong frame, for the report.
#[derive(Debug, Serialize)]
pub struct WrongFrame {
    /// Frame index.
    pub frame: u64,
    /// What was wrong.
    pub why: String,
    /// Pose source of the frame.
    pub source: String,
}

/// Result of a soak run.
#[derive(Debug, Serialize)]
pub struct SoakResult {
    /// Frames run.
    pub frames: u64,
    /// Seed.
    pub seed: u64,
    /// Frame width (pixels).
    pub width: u32,
    /// Frame height (pixels).
    pub height: u32,
    /// Compositor the run ended on.
    pub backend: String,
    /// Frames with the line drawn within tolerance of the truth.
    pub correct: u64,
    /// Frames passed through byte-identical.
    pub untouched: u64,
    /// Frames neither correct nor untouched.
    pub wrong: u64,
    /// The first wrong frames.
    pub wrong_examples: Vec<WrongFrame>,
    /// Frames whose report was missing or out of order (index or pts).
    pub out_of_order: u64,
    /// Panics caught inside the engine (each an injected one, frame passed through).
    pub caught_panics: u64,
    /// Largest line error on correct frames (px).
    pub max_error_px: f64,
    /// Frame time (whole `Engine::process` call, ms).
    pub frame_ms: Percentiles,
    /// Frames slower than the frame period, after warm-up.
    pub late_frames: u64,
    /// The frame period (ms, 59.94 Hz).
    pub frame_period_ms: f64,
    /// p99 frame time within the frame period.
    pub within_budget: bool,
    /// Resident memory after warm-up (MiB).
    pub rss_warm_mb: f64,
    /// Resident memory at the end (MiB).
    pub rss_end_mb: f64,
    /// Growth after warm-up (MiB).
    pub rss_growth_mb: f64,
    /// Growth below 5 MiB.
    pub memory_flat: bool,
    /// Configuration updates refused (unreadable keying/venue text), old one kept.
    pub updates_refused: u64,
    /// Configuration updates that parsed (a spoilt text that happened to stay valid).
    pub updates_accepted: u64,
    /// Faults injected, per kind.
    pub faults: BTreeMap<&'static str, u64>,
    /// Tracking intake counters.
    pub intake: IntakeStats,
    /// Engine counters.
    pub engine: EngineStatsOut,
    /// Wall time of the whole run (s).
    pub wall_s: f64,
}

/// Engine counters in the report.
#[derive(Debug, Serialize)]
pub struct EngineStatsOut {
    /// Frames drawn.
    pub drawn: u64,
    /// Faults reported by frames.
    pub faults: u64,
    /// Frames without a sensor pose.
    pub sensor_misses: u64,
    /// GPU to CPU fallbacks.
    pub gpu_fallbacks: u64,
    /// Frames whose synced head reading jumped implausibly (refused).
    pub jumps_rejected: u64,
    /// Tracking samples dropped on arrival for an implausible jump.
    pub jump_samples_rejected: u64,
    /// Frames drawn with the lines' correction against a sensor glitch.
    pub sensor_glitches_gated: u64,
    /// Frame size changes.
    pub size_changes: u64,
}

impl From<EngineStats> for EngineStatsOut {
    fn from(s: EngineStats) -> Self {
        Self {
            drawn: s.drawn,
            faults: s.faults,
            sensor_misses: s.sensor_misses,
            gpu_fallbacks: s.gpu_fallbacks,
            jumps_rejected: s.jumps_rejected,
            jump_samples_rejected: s.jump_samples_rejected,
            sensor_glitches_gated: s.sensor_glitches_gated,
            size_changes: s.size_changes,
        }
    }
}

/// One size of the looping scene.
struct Scene {
    layout: FrameLayout,
    frames: Vec<Vec<u8>>,
    truth: Vec<Camera>,
}

fn parse_faults(s: &str) -> Result<FaultMix> {
    match s {
        "all" => Ok(FaultMix::soak()),
        "none" => Ok(FaultMix::none()),
        list => {
            let kinds = list
                .split(',')
                .map(|k| k.trim().parse::<FaultKind>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| UsageError(e.to_string()))?;
            Ok(FaultMix::only(&kinds))
        }
    }
}

fn truth_camera(t: &TruthRecord) -> Result<Camera> {
    Camera::from_record(t.rotation, t.translation, t.intrinsics.to_array())
        .with_context(|| format!("truth camera of frame {} is not a rotation", t.frame))
}

fn build_scene(sample: &Sample, w: u32, h: u32) -> Result<Scene> {
    let layout = FrameLayout::packed(PixelFormat::Rgbx, w, h)?;
    let rendered: Vec<(Vec<u8>, Camera)> = (0..SCENE_FRAMES)
        .into_par_iter()
        .map(|i| -> Result<(Vec<u8>, Camera)> {
            let f = sample.render_frame(i)?;
            let mut out = vec![255u8; layout.size];
            for (px, rgb) in out.chunks_exact_mut(4).zip(f.rgb.chunks_exact(3)) {
                px[..3].copy_from_slice(rgb);
            }
            Ok((out, truth_camera(&f.truth)?))
        })
        .collect::<Result<_>>()
        .context("generating the soak scene")?;
    let (frames, truth) = rendered.into_iter().unzip();
    Ok(Scene {
        layout,
        frames,
        truth,
    })
}

/// Scene frame shown at stream frame `n`: forwards, then backwards, and again.
fn scene_index(n: u64) -> usize {
    let cycle = 2 * u64::from(SCENE_FRAMES - 1);
    let i = n % cycle;
    (if i < u64::from(SCENE_FRAMES) {
        i
    } else {
        cycle - i
    }) as usize
}

/// Resident set size (MiB) from `/proc/self/statm`; 0 where unavailable.
fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |pages| pages * 4096.0 / (1024.0 * 1024.0))
}

/// Runs the soak and prints the result; errors when any frame came out wrong.
#[allow(
    clippy::too_many_lines,
    reason = "one loop: faults in, frame through, outcome checked"
)]
pub fn run(args: &SoakArgs) -> Result<()> {
    let (w, h) = args.size;
    if args.frames == 0 {
        return Err(UsageError("--frames must be at least 1".into()).into());
    }
    if w < 64 || h < 64 {
        return Err(UsageError(format!("--size {w}x{h} is too small (at least 64x64)")).into());
    }
    if !(args.tolerance_px.is_finite() && args.tolerance_px > 0.0) {
        return Err(UsageError("--tolerance-px must be positive".into()).into());
    }
    let mix = parse_faults(&args.faults)?;
    // Injected panics are caught and logged by the engine; the default hook would also print
    // (and, with RUST_BACKTRACE, symbolise) each one.
    std::panic::set_hook(Box::new(|info| tracing::debug!("{info}")));
    let started = Instant::now();
    let LoopScene {
        sample,
        period_ns,
        delay_ns,
        venue_text,
        venue,
        packets,
    } = LoopScene::new(w, h)?;
    let small = scene_sample((w / 2) & !1, (h / 2) & !1)?;
    let full = build_scene(&sample, w, h)?;
    let half = build_scene(&small, small.config().width, small.config().height)?;

    let config = EngineConfig {
        backend: args.backend,
        first_down: YardLine {
            yard: sample.config().first_down_yard,
            fade_ms: 0.0,
            ..EngineConfig::default().first_down
        },
        ..EngineConfig::default()
    };
    let key_config: KeyConfig = auto_key_config(
        FrameRef::new(&full.layout, &full.frames[0])?,
        &full.truth[0],
        &yardline_engine::FieldModel::new(config.field),
    )
    .map_err(|e| anyhow::anyhow!("automatic key for the soak scene: {e}"))?;
    let key_text = key_config.to_toml_string()?;
    yardline_engine::sched::promote_current_thread("soak engine thread");
    let mut engine = Engine::new(config.clone(), Some(&venue), Some(&key_config))?;
    let mut injector =
        FaultInjector::new(mix, args.seed, period_ns).map_err(|e| UsageError(e.to_string()))?;
    let mut intake = Intake::new();

    let frames = u64::from(args.frames);
    let warm_up = (frames / 5).clamp(1, 1000);
    let mut rss_warm = 0.0;
    let mut times = Vec::with_capacity(args.frames as usize);
    let mut late_frames = 0;
    let (mut correct, mut untouched, mut wrong, mut out_of_order) = (0, 0, 0, 0);
    let (mut refused, mut accepted) = (0, 0);
    let mut max_error: f64 = 0.0;
    let mut wrong_examples = Vec::new();
    let mut buf = Vec::new();
    let period_ms = period_ns as f64 / 1e6;
    let yard = config.first_down.yard;
    for n in 0..frames {
        let k = scene_index(n);
        let pts = n as i64 * period_ns;
        // The packets the tracking delay has delivered by now (as `yardline bench`).
        let clean: Vec<_> = (0..=2u64)
            .filter(|ahead| *ahead == 2 || n == 0)
            .filter_map(|ahead| {
                let m = n + ahead;
                packets[scene_index(m)].map(|p| datagram(m as i64 * period_ns + delay_ns, &p))
            })
            .collect();
        for d in injector.tracking(n, clean) {
            intake.deliver(&mut engine, &d);
        }
        let ff = injector.frame(n);
        if ff.bad_key_update {
            let text = injector.spoil(&key_text);
            match KeyConfig::from_toml_str(&text).and_then(|c| FieldKey::compile(&c)) {
                Ok(k) => {
                    accepted += 1;
                    engine.set_key(k);
                }
                Err(e) => {
                    refused += 1;
                    tracing::debug!("keying update refused: {e}");
                }
            }
        }
        if ff.bad_venue_update {
            let text = injector.spoil(&venue_text);
            match Venue::from_toml_str(&text) {
                Ok(_) => accepted += 1,
                Err(e) => {
                    refused += 1;
                    tracing::debug!("venue update refused: {e}");
                }
            }
        }
        ff.arm(&mut engine);
        let scene = if ff.resize { &half } else { &full };
        buf.clear();
        buf.extend_from_slice(&scene.frames[k]);
        let mut frame = FrameMut::new(&scene.layout, &mut buf)?;
        let t = Instant::now();
        let report = engine.process(&mut frame, pts);
        let ms = t.elapsed().as_secs_f64() * 1e3;
        times.push(ms);
        if n >= warm_up && ms > period_ms {
            late_frames += 1;
        }
        if report.frame != n || report.pts_ns != pts {
            out_of_order += 1;
        }
        match classify(
            &scene.frames[k],
            &buf,
            &report,
            Some(&scene.truth[k]),
            yard,
            args.tolerance_px,
        ) {
            Outcome::Correct { error_px } => {
                correct += 1;
                max_error = max_error.max(error_px);
            }
            Outcome::Untouched => untouched += 1,
            Outcome::Wrong { why } => {
                wrong += 1;
                if wrong_examples.len() < 10 {
                    wrong_examples.push(WrongFrame {
                        frame: n,
                        why,
                        source: report.source.as_str().to_string(),
                    });
                }
            }
        }
        if n + 1 == warm_up {
            rss_warm = rss_mb();
        }
    }
    let rss_end = rss_mb();
    let frame_ms = Percentiles::of(&mut times);
    let result = SoakResult {
        frames,
        seed: args.seed,
        width: w,
        height: h,
        backend: engine.backend(),
        correct,
        untouched,
        wrong,
        wrong_examples,
        out_of_order,
        caught_panics: engine.stats().panics,
        max_error_px: max_error,
        frame_ms,
        late_frames,
        frame_period_ms: period_ms,
        within_budget: frame_ms.p99 <= period_ms,
        rss_warm_mb: rss_warm,
        rss_end_mb: rss_end,
        rss_growth_mb: rss_end - rss_warm,
        memory_flat: rss_end - rss_warm < MAX_RSS_GROWTH_MB,
        updates_refused: refused,
        updates_accepted: accepted,
        faults: injector.counts(),
        intake: intake.stats(),
        engine: engine.stats().into(),
        wall_s: started.elapsed().as_secs_f64(),
    };
    if args.json {
        println!("{}", serde_json::to_string(&result)?);
    } else {
        print_summary(&result);
    }
    if result.wrong > 0 || result.out_of_order > 0 {
        bail!(
            "{} wrong and {} out-of-order frames of {}",
            result.wrong,
            result.out_of_order,
            result.frames
        );
    }
    if args.strict && !(result.within_budget && result.memory_flat) {
        bail!(
            "p99 frame time {:.2} ms (budget {:.2} ms), memory growth {:.2} MiB (limit {MAX_RSS_GROWTH_MB})",
            result.frame_ms.p99,
            result.frame_period_ms,
            result.rss_growth_mb
        );
    }
    Ok(())
}

fn print_summary(r: &SoakResult) {
    println!(
        "soak: {} frames {}x{} seed {} on {} in {:.1} s",
        r.frames, r.width, r.height, r.seed, r.backend, r.wall_s
    );
    println!(
        "  correct {}  untouched {}  wrong {}  out of order {}  caught panics {}",
        r.correct, r.untouched, r.wrong, r.out_of_order, r.caught_panics
    );
    println!(
        "  frame time p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms (period {:.3} ms, {} late after warm-up)",
        r.frame_ms.p50, r.frame_ms.p99, r.frame_ms.max, r.frame_period_ms, r.late_frames
    );
    println!(
        "  memory {:.1} MiB after warm-up, {:.1} MiB at the end ({:+.2} MiB)",
        r.rss_warm_mb, r.rss_end_mb, r.rss_growth_mb
    );
    let faults: Vec<String> = r
        .faults
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    println!("  faults: {}", faults.join(", "));
    for w in &r.wrong_examples {
        println!("  wrong frame {} ({}): {}", w.frame, w.source, w.why);
    }
}
