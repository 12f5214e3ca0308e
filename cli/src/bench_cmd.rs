//! `yardline bench`: the whole engine (sync, sensor + vision pose, graphics, key + composite) on
//! a built-in moving-camera scene, timed per stage.
//!
//! The scene is the built-in sample: `SCENE_FRAMES` distinct frames are generated once (outside
//! the timing) and played in a loop with their FreeD packets re-timed to the running clock, so
//! any number of frames can be timed at any size. One set-up frame goes first, timed apart
//! (`setup_ms`): it builds the automatic key inline, which a live front end does in the
//! background while frames pass through.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use clap::Args;
use rayon::prelude::*;
use serde::Serialize;
use yardline_engine::tracking::TrackingSample;
use yardline_engine::tracking::freed::decode_checked;
use yardline_engine::{BackendChoice, Engine, EngineConfig};
use yardline_frame::{
    FrameLayout, FrameMut, PixelFormat, Sample, rgb_index, rgb_to_ycbcr709, write_sample,
    yuv_samples,
};
use yardline_keying::{Exclusion, format_exclusions, parse_exclusions};

use crate::UsageError;
use crate::load::{Load, RunningLoad};
use crate::scene::{LoopScene, SCENE_FRAMES};
use yardline_engine::report::Percentiles;

/// Arguments of `yardline bench`.
#[derive(Debug, Args, Clone)]
pub struct BenchArgs {
    /// Frame size.
    #[arg(long, value_name = "WxH", default_value = "1920x1080", value_parser = crate::sample_cmd::parse_size)]
    pub size: (u32, u32),
    /// Frames to time.
    #[arg(long, default_value_t = 600)]
    pub frames: u32,
    /// Compositor backend: auto, cpu or gpu.
    #[arg(long, default_value = "auto", value_parser = |s: &str| s.parse::<BackendChoice>().map_err(|e| e.to_string()))]
    pub backend: BackendChoice,
    /// Pixel format of the frames: `RGBA`, `BGRA`, `RGBx`, `BGRx`, `I420`, `NV12`, `UYVY`, or
    /// the 10-bit `v210`, `P010_10LE`, `I420_10LE` or `I422_10LE`.
    #[arg(long, default_value = "RGBx", value_parser = |s: &str| s.parse::<PixelFormat>().map_err(|e| e.to_string()))]
    pub format: PixelFormat,
    /// Pace the frames at the frame period (59.94 Hz), as live video arrives, instead of
    /// back to back: the engine's threads then go idle between frames, as they do on air.
    #[arg(long)]
    pub realtime: bool,
    /// A co-running load: none, x264 (an x264 encode of a 1080p60 test pattern through
    /// GStreamer), busy (one spinning thread per core) or busy:N. With a load, the frames are
    /// timed twice, idle and then loaded, and both are printed side by side.
    #[arg(long, default_value = "none", value_parser = |s: &str| s.parse::<Load>())]
    pub load: Load,
    /// Image-space exclusions (`rect:u0,v0,u1,v1;polygon:u,v,u,v,u,v`, normalised image
    /// coordinates, as the element's `exclusions` property): the frames are timed twice,
    /// without and then with them, and both are printed side by side.
    #[arg(long, value_name = "SHAPES")]
    pub exclusions: Option<String>,
    /// Where the pose comes from: `freed` (the scene's FreeD packets, refined by the lines) or
    /// `none` (no tracking data: vision-only tracking from a registration on the first frame,
    /// as after `yardline calibrate`).
    #[arg(long, default_value = "freed", value_parser = ["freed", "none"])]
    pub tracking: String,
    /// Instead of timing the engine, time command to screen TRIES times each way: from
    /// `yardline control ADDR set first-down Y` (a new process per try) and from a set on one
    /// persistent WebSocket, to the first frame drawn at Y, the scene paced at its frame
    /// period through the render's live mode (control server on loopback).
    #[arg(long, value_name = "TRIES")]
    pub command_to_screen: Option<u32>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Key with the field-space clean plate beside the colour key (off by default), to compare
    /// with the colour key alone.
    #[arg(long)]
    pub clean_plate: bool,
}

/// The bench result (all times in ms).
#[derive(Debug, Serialize)]
pub struct BenchResult {
    /// Compositor backend that ran.
    pub backend: String,
    /// Adapter (GPU name, or the CPU compositor's thread count).
    pub adapter: String,
    /// Frame width (pixels).
    pub width: u32,
    /// Frame height (pixels).
    pub height: u32,
    /// Pixel format of the frames.
    pub format: String,
    /// Frames timed.
    pub frames: u32,
    /// Whole engine call.
    pub total_ms: Percentiles,
    /// Per stage.
    pub stages: BTreeMap<String, Percentiles>,
    /// Frame period of 59.94 Hz video.
    pub frame_period_ms: f64,
    /// p99 total as a share of the frame period.
    pub budget_used: f64,
    /// Frames a line was drawn on.
    pub drawn_frames: u32,
    /// Where the pose came from: "freed" or "none" (vision-only).
    pub tracking: String,
    /// Frames whose pose came from vision alone.
    pub vision_frames: u32,
    /// Whether the frames were paced at the frame period.
    pub realtime: bool,
    /// Wall time of the timed loop (ms).
    pub wall_ms: f64,
    /// The untimed set-up frame before the timed ones (ms): the automatic key is built in it.
    pub setup_ms: f64,
    /// Timed frames whose whole engine call took longer than [`SLOW_FRAME_MS`], at most
    /// [`SLOW_FRAMES_LISTED`] of them: where the outliers come from.
    pub slow_frames: Vec<SlowFrame>,
    /// How many timed frames took longer than [`SLOW_FRAME_MS`].
    pub slow_frame_count: u32,
}

/// An engine call over [`SLOW_FRAME_MS`].
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SlowFrame {
    /// Timed frame number (1-based).
    pub frame: u32,
    /// Per-stage wall-clock times (ms).
    pub timings_ms: yardline_engine::StageTimings,
    /// CPU time the calling thread spent in the call (ms): far below the wall time, the call
    /// waited (for a helper, a lock or the scheduler); close to it, it computed.
    pub caller_cpu_ms: f64,
}

/// A frame slower than this (ms) is listed.
pub const SLOW_FRAME_MS: f64 = 5.0;
/// Most slow frames listed.
const SLOW_FRAMES_LISTED: usize = 10;

/// Idle and loaded results side by side (`--load`).
#[derive(Debug, Serialize)]
pub struct LoadedBench {
    /// The load that ran beside the engine.
    pub load: String,
    /// How the engine's threads were scheduled.
    pub scheduling: String,
    /// Without the load.
    pub idle: BenchResult,
    /// With the load running.
    pub loaded: BenchResult,
}

/// How long a load runs before the loaded frames are timed (its threads up to speed).
const LOAD_WARM_UP: std::time::Duration = std::time::Duration::from_secs(1);

/// The scene the frames are timed on.
pub(crate) struct Scene {
    /// The looping scene's sample, venue and packets.
    pub(crate) looped: LoopScene,
    pub(crate) layout: FrameLayout,
    /// Its frames in `layout`'s format.
    pub(crate) frames: Vec<Vec<u8>>,
}

/// Without and with exclusions side by side (`--exclusions`).
#[derive(Debug, Serialize)]
pub struct ExcludedBench {
    /// The exclusions, as given.
    pub exclusions: String,
    /// How the engine's threads were scheduled.
    pub scheduling: String,
    /// Without the exclusions.
    pub without: BenchResult,
    /// With them.
    pub with: BenchResult,
}

/// Runs the benchmark and prints the result.
pub fn run(args: &BenchArgs) -> Result<()> {
    let exclusions = args
        .exclusions
        .as_deref()
        .map(parse_exclusions)
        .transpose()
        .map_err(|e| UsageError(format!("--exclusions: {e}")))?;
    let scene = scene(args)?;
    if let Some(tries) = args.command_to_screen {
        return command_to_screen(args, &scene, tries);
    }
    let scheduling = yardline_engine::sched::promote_current_thread("bench");
    if let Some(exclusions) = &exclusions {
        if args.load != Load::None {
            return Err(UsageError("--exclusions and --load time apart; give one".into()).into());
        }
        let without = time_frames(args, &scene, &[])?;
        let with = time_frames(args, &scene, exclusions)?;
        let both = ExcludedBench {
            exclusions: format_exclusions(exclusions),
            scheduling: scheduling.to_string(),
            without,
            with,
        };
        if args.json {
            println!("{}", serde_json::to_string(&both)?);
        } else {
            print_side_by_side(
                &format!("exclusions: {}", both.exclusions),
                ["without exclusions", "with exclusions"],
                &both.without,
                &both.with,
                &both.scheduling,
            );
        }
        return Ok(());
    }
    if args.load == Load::None {
        let result = time_frames(args, &scene, &[])?;
        if args.json {
            println!("{}", serde_json::to_string(&result)?);
        } else {
            print_result(&result);
        }
        return Ok(());
    }
    let idle = time_frames(args, &scene, &[])?;
    let load = RunningLoad::start(args.load)?;
    std::thread::sleep(LOAD_WARM_UP);
    let loaded = time_frames(args, &scene, &[])?;
    load.check()?;
    drop(load);
    let both = LoadedBench {
        load: args.load.to_string(),
        scheduling: scheduling.to_string(),
        idle,
        loaded,
    };
    if args.json {
        println!("{}", serde_json::to_string(&both)?);
    } else {
        print_side_by_side(
            &format!("load: {}", both.load),
            ["idle", "loaded"],
            &both.idle,
            &both.loaded,
            &both.scheduling,
        );
    }
    Ok(())
}

/// `--command-to-screen`: idle, then with the load when one is given.
fn command_to_screen(args: &BenchArgs, scene: &Scene, tries: u32) -> Result<()> {
    let idle = crate::bench_control::measure(args, scene, tries)?;
    let loaded = if args.load == Load::None {
        None
    } else {
        let load = RunningLoad::start(args.load)?;
        std::thread::sleep(LOAD_WARM_UP);
        let loaded = crate::bench_control::measure(args, scene, tries)?;
        load.check()?;
        drop(load);
        Some(loaded)
    };
    if args.json {
        let out = serde_json::json!({
            "width": args.size.0,
            "height": args.size.1,
            "load": args.load.to_string(),
            "idle": idle,
            "loaded": loaded,
        });
        println!("{out}");
        return Ok(());
    }
    let (w, h) = args.size;
    println!("command to screen at 59.94, {w}x{h} (ms; frame periods at p50/p99)");
    let rows = idle
        .iter()
        .map(|r| ("idle", r))
        .chain(loaded.iter().flatten().map(|r| ("loaded", r)));
    for (when, r) in rows {
        println!(
            "  {when:<6} {:<3} {} tries  p50 {:6.1}  p99 {:6.1}  max {:6.1}  ({:.2} / {:.2} periods)\
             ;  to the server p50 {:5.1} p99 {:5.1}, on to the frame p50 {:5.1} p99 {:5.1}",
            r.via,
            r.tries,
            r.ms.p50,
            r.ms.p99,
            r.ms.max,
            r.p50_periods,
            r.p99_periods,
            r.to_server_ms.p50,
            r.to_server_ms.p99,
            r.to_frame_ms.p50,
            r.to_frame_ms.p99
        );
    }
    Ok(())
}

fn scene(args: &BenchArgs) -> Result<Scene> {
    let (w, h) = args.size;
    if args.frames == 0 {
        return Err(UsageError("--frames must be at least 1".into()).into());
    }
    let looped = LoopScene::new(w, h)?;
    let layout = FrameLayout::packed(args.format, w, h)?;
    let frames: Vec<Vec<u8>> = (0..SCENE_FRAMES)
        .into_par_iter()
        .map(|i| -> Result<Vec<u8>> { Ok(encode(&layout, &looped.sample.render_frame(i)?.rgb)) })
        .collect::<Result<_>>()
        .context("generating the bench scene")?;
    Ok(Scene {
        looped,
        layout,
        frames,
    })
}

/// Times `args.frames` frames of `scene` through a new engine with `exclusions` (after one
/// untimed set-up frame).
fn time_frames(args: &BenchArgs, scene: &Scene, exclusions: &[Exclusion]) -> Result<BenchResult> {
    let (w, h) = args.size;
    let looped = &scene.looped;
    let (period_ns, delay_ns) = (looped.period_ns, looped.delay_ns);
    let (layout, frames, packets) = (&scene.layout, &scene.frames, &looped.packets);
    let config = EngineConfig {
        backend: args.backend,
        first_down: yardline_engine::YardLine {
            yard: looped.sample.config().first_down_yard,
            fade_ms: 0.0,
            ..EngineConfig::default().first_down
        },
        clean_plate: args.clean_plate,
        ..EngineConfig::default()
    };
    let mut engine = Engine::new(config, Some(&looped.venue), None)?;
    engine.set_exclusions(exclusions.to_vec())?;
    let vision_only = args.tracking == "none";
    // Vision-only: the loop starts from the first frame's camera, as a registration gives it.
    let first_camera = {
        let t = looped.sample.truth(0)?;
        yardline_engine::Camera::from_record(t.rotation, t.translation, t.intrinsics.to_array())
            .context("the scene's first camera")?
    };
    let mut reports = Vec::with_capacity(args.frames as usize);
    let mut slow_frames = Vec::new();
    let mut slow_frame_count = 0_u32;
    let mut buf = vec![0u8; layout.size];
    let mut start = std::time::Instant::now();
    let mut setup_ms = 0.0;
    // Frame 0 sets up (it builds the automatic key inline, as an offline render does; a live
    // front end builds it in the background while frames pass): timed apart. Then `frames`
    // frames are timed.
    for n in 0..=args.frames {
        if args.realtime && n > 0 {
            let due = std::time::Duration::from_nanos(u64::from(n - 1) * period_ns.unsigned_abs());
            if let Some(wait) = due.checked_sub(start.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        let k = (n % SCENE_FRAMES) as usize;
        let pts = i64::from(n) * period_ns;
        if k == 0 {
            // A new loop is a cut back to the first shot.
            engine.pose_mut().reset();
            if vision_only {
                engine.pose_mut().set_reference(first_camera);
            }
        }
        // Packets for this frame and the ones the delay has delivered by now.
        for ahead in 0..=2u32 {
            let m = n + ahead;
            if let Some(bytes) = packets[(m % SCENE_FRAMES) as usize]
                && (ahead == 2 || n == 0)
                && !vision_only
            {
                let packet = decode_checked(&bytes)?;
                engine.push_tracking(&TrackingSample::freed(
                    i64::from(m) * period_ns + delay_ns,
                    packet,
                ));
            }
        }
        buf.copy_from_slice(&frames[k]);
        let mut frame = FrameMut::new(layout, &mut buf)?;
        let cpu_before = yardline_engine::sched::thread_cpu_time();
        let report = engine.process(&mut frame, pts);
        let caller_cpu_ms = yardline_engine::sched::thread_cpu_ms_since(cpu_before);
        if n == 0 {
            setup_ms = report.timings.total;
            // The timed frames key with the key frame 0 built: an automatic key that goes on
            // learning rebuilds inline here, which a live front end does in the background.
            if let Some(key) = engine.key().cloned() {
                engine.set_key(key);
            }
            start = std::time::Instant::now();
        } else {
            if report.timings.total > SLOW_FRAME_MS {
                slow_frame_count += 1;
                if slow_frames.len() < SLOW_FRAMES_LISTED {
                    slow_frames.push(SlowFrame {
                        frame: n,
                        timings_ms: report.timings,
                        caller_cpu_ms,
                    });
                }
            }
            reports.push(report);
        }
    }
    let wall_ms = start.elapsed().as_secs_f64() * 1e3;
    let stages = Percentiles::of_stages(&reports);
    let total = stages.get("total").copied().unwrap_or_default();
    let frame_period_ms = period_ns as f64 / 1e6;
    let described = engine.backend();
    let result = BenchResult {
        backend: reports.last().map_or("cpu", |r| r.backend).to_string(),
        adapter: described,
        width: w,
        height: h,
        format: args.format.to_string(),
        frames: args.frames,
        total_ms: total,
        stages,
        frame_period_ms,
        budget_used: total.p99 / frame_period_ms,
        drawn_frames: reports.iter().filter(|r| r.drawn).count() as u32,
        tracking: args.tracking.clone(),
        vision_frames: reports
            .iter()
            .filter(|r| r.source == yardline_engine::pose::PoseSource::Vision)
            .count() as u32,
        realtime: args.realtime,
        wall_ms,
        setup_ms,
        slow_frames,
        slow_frame_count,
    };
    Ok(result)
}

fn print_result(result: &BenchResult) {
    println!(
        "bench: {} frames {}x{} {} on {} ({} drawn{}; tracking {}, {} by vision alone)",
        result.frames,
        result.width,
        result.height,
        result.format,
        result.adapter,
        result.drawn_frames,
        if result.realtime { ", paced" } else { "" },
        result.tracking,
        result.vision_frames
    );
    for (name, p) in &result.stages {
        println!(
            "  {name:<10} p50 {:7.3} ms  p99 {:7.3} ms  max {:7.3} ms",
            p.p50, p.p99, p.max
        );
    }
    println!(
        "  frame period {:.3} ms; p99 total uses {:.1} % of it",
        result.frame_period_ms,
        100.0 * result.budget_used
    );
    println!(
        "  set-up frame (automatic key, not timed above) {:.1} ms",
        result.setup_ms
    );
    print_slow(result);
}

fn print_slow(result: &BenchResult) {
    if result.slow_frame_count == 0 {
        return;
    }
    println!(
        "  {} frame(s) over {SLOW_FRAME_MS} ms{}:",
        result.slow_frame_count,
        if result.slow_frames.len() < result.slow_frame_count as usize {
            ", the first listed"
        } else {
            ""
        }
    );
    for f in &result.slow_frames {
        let t = f.timings_ms;
        println!(
            "    frame {}: total {:.2} ms (sync {:.2}, pose {:.2}, graphics {:.2}, composite {:.2}); \
             calling thread CPU {:.2} ms",
            f.frame, t.total, t.sync, t.pose, t.graphics, t.composite, f.caller_cpu_ms
        );
    }
}

fn print_side_by_side(
    what: &str,
    labels: [&str; 2],
    a: &BenchResult,
    b: &BenchResult,
    scheduling: &str,
) {
    println!(
        "bench: {} frames {}x{} {} on {}; {what}; engine threads: {scheduling}",
        a.frames, a.width, a.height, a.format, a.adapter
    );
    let [la, lb] = labels.map(|l| format!("{l} p50 / p99 / max (ms)"));
    println!("  {:<10} {la:>40} | {lb:>40}", "stage");
    for (name, p) in &a.stages {
        let q = b.stages.get(name).copied().unwrap_or_default();
        println!(
            "  {name:<10} {:>21.3} {:>8.3} {:>9.3} | {:>21.3} {:>8.3} {:>9.3}",
            p.p50, p.p99, p.max, q.p50, q.p99, q.max
        );
    }
    println!(
        "  frames drawn: {} {} of {}, {} {} of {}; frame period {:.3} ms",
        labels[0], a.drawn_frames, a.frames, labels[1], b.drawn_frames, b.frames, a.frame_period_ms
    );
    for (name, r) in [(labels[0], a), (labels[1], b)] {
        if r.slow_frame_count > 0 {
            print!("  {name}:");
            print_slow(r);
        }
    }
}

/// A full-range RGB24 picture in `layout`'s format: RGB bytes in the format's order, or BT.709
/// limited-range Y, Cb, Cr codes (10-bit for the 10-bit formats) with each chroma site the mean
/// of its pixels.
fn encode(layout: &FrameLayout, rgb: &[u8]) -> Vec<u8> {
    let mut out = vec![255u8; layout.size];
    let (w, h) = (layout.width, layout.height);
    let pixels = (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .zip(rgb.chunks_exact(3));
    if let Some(offs) = layout.format.rgb_offsets() {
        for ((x, y), p) in pixels {
            let i = rgb_index(layout, x, y);
            for (o, v) in offs.iter().zip(p) {
                out[i + o] = *v;
            }
        }
        return out;
    }
    let storage = layout.format.sample_storage();
    let scale = if layout.format.bit_depth() == 10 {
        4.0
    } else {
        1.0
    };
    let code = |v: f32| (v * scale).round().clamp(0.0, 255.0 * scale) as u16;
    // Chroma sums per chroma sample (three slots per byte: v210 packs three samples in a word),
    // then their means.
    let mut sums = vec![(0.0_f32, 0_u32, 0_u32); layout.size * 3];
    for ((x, y), p) in pixels {
        let c = rgb_to_ycbcr709(f32::from(p[0]), f32::from(p[1]), f32::from(p[2]));
        if let Some([sy, scb, scr]) = yuv_samples(layout, x, y) {
            write_sample(storage, &mut out, sy, code(c[0]));
            for (s, v) in [(scb, c[1]), (scr, c[2])] {
                let e = &mut sums[s.byte * 3 + (s.shift / 10) as usize % 3];
                (e.0, e.1, e.2) = (e.0 + v, e.1 + 1, s.shift);
            }
        }
    }
    for (i, (sum, n, shift)) in sums.into_iter().enumerate() {
        if n > 0 {
            let s = Sample { byte: i / 3, shift };
            write_sample(storage, &mut out, s, code(sum / n as f32));
        }
    }
    out
}
