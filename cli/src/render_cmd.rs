//! `yardline render`: files in, the engine's `Engine::process` on every frame, files out.
//!
//! Decode, process and encode run on three threads joined by bounded channels, so the engine
//! works on frame `n` while frame `n + 1` decodes and frame `n - 1` encodes; order is kept.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;
use yardline_engine::FieldKind;
use yardline_engine::pose::PoseMode;
use yardline_engine::report::Percentiles;
use yardline_engine::tracking::{Timecode, TrackingFeed};
use yardline_engine::venue::Venue;
use yardline_engine::{BackendChoice, Engine, EngineConfig, FrameReport, OutputMode};
use yardline_frame::{
    FillKeyFormat, FillKeyMut, FrameLayout, FrameMut, FrameRef, PixelFormat as EnginePixelFormat,
};
use yardline_keying::{Exclusion, KeyConfig, parse_exclusions};

use crate::UsageError;
use crate::live::Live;
use crate::video::{PixelFormat, VideoReader, VideoWriter};

/// Frames in flight between two stages.
const QUEUE_DEPTH: usize = 4;

/// Arguments of `yardline render`.
#[derive(Debug, Args, Clone)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "each is a command-line switch of its own"
)]
pub struct RenderArgs {
    /// Input video (any container/codec GStreamer plays).
    #[arg(long, value_name = "VIDEO", required_unless_present = "sample")]
    pub input: Option<PathBuf>,
    /// FreeD packets as tracking.jsonl; without it the pose is tracked by vision alone from the
    /// venue's registration (see `yardline calibrate`).
    #[arg(long, value_name = "FILE")]
    pub tracking: Option<PathBuf>,
    /// Venue calibration (venue.toml).
    #[arg(long, value_name = "FILE")]
    pub venue: Option<PathBuf>,
    /// Key palette (key.toml); without it an automatic palette is built from the first frame.
    #[arg(long, value_name = "FILE")]
    pub keying: Option<PathBuf>,
    /// Take video.mkv, tracking.jsonl, venue.toml and scene.toml from a sample folder (and the
    /// operator's exclusions from its exclusions.txt, where the scenario burns in graphics).
    #[arg(long, value_name = "DIR")]
    pub sample: Option<PathBuf>,
    /// First-down line position (yards from the left goal line, or "own 35" / "opp 20").
    #[arg(long, value_name = "YARD", value_parser = parse_yard_arg)]
    pub first_down: Option<f64>,
    /// Line of scrimmage position (drawn when given).
    #[arg(long, value_name = "YARD", value_parser = parse_yard_arg)]
    pub scrimmage: Option<f64>,
    /// Width of the drawn lines (metres).
    #[arg(long, value_name = "W")]
    pub line_width_m: Option<f64>,
    /// Field rulebook.
    #[arg(long, value_parser = parse_field)]
    pub field: Option<FieldKind>,
    /// Compositor backend: auto (hardware GPU if present, else CPU), cpu or gpu.
    #[arg(long, default_value = "auto", value_parser = parse_backend)]
    pub backend: BackendChoice,
    /// Pose mode: auto, sensor, vision or fused.
    #[arg(long, default_value = "auto", value_parser = parse_pose_mode)]
    pub pose_mode: PoseMode,
    /// Key with a field-space clean plate under the lines beside the colour key (off by
    /// default: ARCHITECTURE.md section 6a).
    #[arg(long)]
    pub clean_plate: bool,
    /// Write one report line per frame (report.jsonl).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Image-space exclusions, never drawn over, beside the key file's and a sample's
    /// exclusions.txt (`rect:u0,v0,u1,v1;polygon:u,v,u,v,u,v`, normalised image coordinates, as
    /// the element's `exclusions` property): they also work with the automatic key.
    #[arg(long, value_name = "SHAPES")]
    pub exclusions: Option<String>,
    /// Write the key the render used (the automatic one unless --keying) to this key.toml, to
    /// refine in the operator app or reuse with --keying.
    #[arg(long, value_name = "FILE")]
    pub save_key: Option<PathBuf>,
    /// Output: .mkv (FFV1 lossless RGB), .mp4 (H.264) or a PNG pattern like out_%05d.png.
    #[arg(long, value_name = "OUT")]
    pub output: PathBuf,
    /// What is written: `program` (the video with the lines drawn in) or `fill-key` (the
    /// lines alone as RGBA for an external keyer: the line colour with the very alpha the
    /// program blend uses, straight alpha, transparent elsewhere; .mkv stores FFV1 BGRA, a PNG
    /// pattern RGBA PNGs; .mp4 has no alpha and is refused), as the element's `output`.
    #[arg(long, value_name = "MODE", default_value = "program", value_parser = parse_output_mode)]
    pub output_mode: OutputMode,
    /// Timecode of the frame at pts 0, HH:MM:SS:FF (HH:MM:SS;FF for drop frame); every frame
    /// is labelled from its pts at the video's rate, and a tracking sample carrying a timecode
    /// (OpenTrackIO) is matched to its frame by timecode plus the tracking delay in frames
    /// instead of by arrival time (the report's `tracking_match` says which).
    #[arg(long, value_name = "TC")]
    #[allow(clippy::doc_markdown, reason = "OpenTrackIO is a product name")]
    pub timecode: Option<String>,
    /// Serve the control API on ADDR:PORT (a bare port: loopback) while rendering, so the
    /// render can be driven live (`yardline control ADDR set first-down 45`); changes apply at
    /// the next frame boundary. The bound address is printed on stderr.
    #[arg(long, value_name = "ADDR")]
    pub control: Option<String>,
    /// Shared-secret token of the control API (default: `$YARDLINE_CONTROL_TOKEN`).
    #[arg(long, value_name = "T", requires = "control")]
    pub control_token: Option<String>,
    /// Pace frames at the video's rate like a live source: frame i is processed no earlier
    /// than its pts after the first frame's.
    #[arg(long)]
    pub realtime: bool,
    /// Live tracking: FreeD or OpenTrackIO datagrams on this UDP address (HOST:PORT) instead
    /// of a recording; each packet is stamped on the video's clock (use with --realtime).
    #[arg(long, value_name = "ADDR", conflicts_with = "tracking")]
    #[allow(clippy::doc_markdown, reason = "OpenTrackIO is a product name")]
    pub udp: Option<std::net::SocketAddr>,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

fn parse_output_mode(s: &str) -> Result<OutputMode, String> {
    s.parse()
}

fn parse_yard_arg(s: &str) -> Result<f64, String> {
    yardline_engine::field::parse_yard(s).map_err(|e| e.to_string())
}

fn parse_field(s: &str) -> Result<FieldKind, String> {
    s.parse()
        .map_err(|e: yardline_engine::field::FieldParseError| e.to_string())
}

fn parse_backend(s: &str) -> Result<BackendChoice, String> {
    s.parse()
        .map_err(|e: yardline_engine::EngineError| e.to_string())
}

fn parse_pose_mode(s: &str) -> Result<PoseMode, String> {
    s.parse()
        .map_err(|e: yardline_engine::pose::PoseModeError| e.to_string())
}

/// The end-of-run summary.
#[derive(Debug, Clone, Serialize)]
pub struct RenderSummary {
    /// Output written.
    pub output: PathBuf,
    /// Frames processed.
    pub frames: u64,
    /// Frames a line was drawn on.
    pub drawn_frames: u64,
    /// Wall-clock throughput (frames per second), decode and encode included.
    pub fps: f64,
    /// Per-stage engine times (wall clock, ms).
    pub stages: BTreeMap<String, Percentiles>,
    /// The engine thread's own CPU time per frame (ms): what the engine cost, whatever else
    /// (the encoder, the decoder) the machine ran meanwhile.
    pub engine_cpu: Percentiles,
    /// How the engine's threads were scheduled.
    pub scheduling: String,
    /// Frames per pose source.
    pub sources: BTreeMap<String, u64>,
    /// Mean residual over frames that measured one (pixels).
    pub mean_residual_px: Option<f64>,
    /// Frames with a fault (left untouched).
    pub faults: u64,
    /// Compositor used at the end.
    pub backend: String,
    /// Tracking lines skipped as garbage, bad checksums or samples that give no reading.
    pub tracking_lines_skipped: u64,
    /// Tracking packets left unused because the video ended first.
    pub tracking_unused: u64,
    /// Frames per way their tracking sample was found (`timecode`, `arrival`).
    pub tracking_matches: BTreeMap<String, u64>,
}

/// Resolved inputs of a render.
struct Inputs {
    input: PathBuf,
    tracking: Option<PathBuf>,
    venue: Option<PathBuf>,
    config: EngineConfig,
    /// The shapes of the sample's exclusions.txt (empty without one).
    sample_exclusions: Vec<Exclusion>,
}

fn resolve(args: &RenderArgs) -> Result<Inputs> {
    let mut config = EngineConfig::default();
    let (mut input, mut tracking, mut venue) = (
        args.input.clone(),
        args.tracking.clone(),
        args.venue.clone(),
    );
    let mut sample_exclusions = Vec::new();
    if let Some(dir) = &args.sample {
        if !dir.is_dir() {
            return Err(UsageError(format!("{}: no such sample folder", dir.display())).into());
        }
        input.get_or_insert_with(|| dir.join("video.mkv"));
        if args.udp.is_none() {
            tracking.get_or_insert_with(|| dir.join("tracking.jsonl"));
        }
        venue.get_or_insert_with(|| dir.join("venue.toml"));
        let path = dir.join(yardline_samples::EXCLUSIONS_FILE);
        if path.is_file() {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
            sample_exclusions = parse_exclusions(text.trim())
                .map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
        }
        let scene_path = dir.join("scene.toml");
        let scene = yardline_samples::SceneConfig::load(&scene_path)
            .map_err(|e| UsageError(format!("{}: {e}", scene_path.display())))?;
        config.set_lines(
            scene.first_down_yard,
            scene.scrimmage_yard,
            scene.line_width_m,
        );
        config.field = scene
            .field
            .parse()
            .map_err(|e: yardline_engine::field::FieldParseError| UsageError(e.to_string()))?;
        if let Some(period) = scene.frame_period_ns() {
            config.frame_period_ns = period;
        }
    }
    let input = input.ok_or_else(|| UsageError("--input or --sample is required".into()))?;
    if let Some(y) = args.first_down {
        config.first_down.yard = y;
    }
    if let Some(y) = args.scrimmage {
        config.scrimmage.yard = y;
        config.scrimmage.enabled = true;
    }
    if let Some(w) = args.line_width_m {
        config.first_down.width_m = w;
        config.scrimmage.width_m = w;
    }
    if let Some(f) = args.field {
        config.field = f;
    }
    config.backend = args.backend;
    config.pose_mode = args.pose_mode;
    config.clean_plate = args.clean_plate;
    // Fades are for live toggles; a render shows the line from its first frame.
    config.first_down.fade_ms = 0.0;
    config.scrimmage.fade_ms = 0.0;
    config.validate().map_err(|e| UsageError(e.to_string()))?;
    Ok(Inputs {
        input,
        tracking,
        venue,
        config,
        sample_exclusions,
    })
}

/// Runs a render and prints its summary.
pub fn run(args: &RenderArgs) -> Result<()> {
    let summary = render(args)?;
    print_summary(&summary, args.json)?;
    Ok(())
}

/// Prints a summary, human-readable or as one JSON object.
pub fn print_summary(s: &RenderSummary, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(s)?);
        return Ok(());
    }
    println!(
        "rendered {} frames ({} with the line) to {} at {:.1} fps on {}",
        s.frames,
        s.drawn_frames,
        s.output.display(),
        s.fps,
        s.backend
    );
    for (stage, p) in &s.stages {
        println!(
            "  {stage:<10} p50 {:7.3} ms  p99 {:7.3} ms  max {:7.3} ms",
            p.p50, p.p99, p.max
        );
    }
    let c = s.engine_cpu;
    println!(
        "  engine CPU p50 {:7.3} ms  p99 {:7.3} ms  max {:7.3} ms (the engine thread's own time; {})",
        c.p50, c.p99, c.max, s.scheduling
    );
    let sources: Vec<String> = s.sources.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!("  pose sources: {}", sources.join(", "));
    if let Some(r) = s.mean_residual_px {
        println!("  mean residual: {r:.3} px");
    }
    if !s.tracking_matches.is_empty() {
        let m: Vec<String> = s
            .tracking_matches
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        println!("  tracking matched by: {}", m.join(", "));
    }
    if s.faults > 0 || s.tracking_lines_skipped > 0 {
        println!(
            "  faults: {} frames untouched; tracking lines skipped: {}",
            s.faults, s.tracking_lines_skipped
        );
    }
    Ok(())
}

/// Renders and returns the summary (no printing but the progress bar).
#[allow(clippy::too_many_lines, reason = "one linear set-up of three threads")]
pub fn render(args: &RenderArgs) -> Result<RenderSummary> {
    let inputs = resolve(args)?;
    let venue = match &inputs.venue {
        Some(p) => Some(Venue::load(p).map_err(|e| UsageError(format!("{}: {e}", p.display())))?),
        None => None,
    };
    let key = match &args.keying {
        Some(p) => {
            Some(KeyConfig::load(p).map_err(|e| UsageError(format!("{}: {e}", p.display())))?)
        }
        None => None,
    };
    // Live packets are stamped on the video's clock, taken to start at pts 0 when the render
    // starts (what --realtime paces the frames by).
    let clock_start = Instant::now();
    let mut feed = match (&inputs.tracking, args.udp) {
        (_, Some(addr)) => {
            let clock: yardline_engine::tracking::source::ReceiveClock = Arc::new(move || {
                i64::try_from(clock_start.elapsed().as_nanos()).unwrap_or(i64::MAX)
            });
            TrackingFeed::open_udp(addr, clock).map_err(|e| UsageError(e.to_string()))?
        }
        (Some(p), None) => TrackingFeed::open_file(p).map_err(|e| UsageError(e.to_string()))?,
        (None, None) => TrackingFeed::none(),
    };
    if feed.is_some() && venue.is_none() {
        return Err(
            UsageError("--tracking needs --venue (the lens table and mount)".into()).into(),
        );
    }
    let mut engine = Engine::new(inputs.config.clone(), venue.as_ref(), key.as_ref())
        .map_err(|e| UsageError(e.to_string()))?;
    if !inputs.sample_exclusions.is_empty() || args.exclusions.is_some() {
        let mut shapes = key
            .as_ref()
            .map(|k| k.exclusions.clone())
            .unwrap_or_default();
        shapes.extend(inputs.sample_exclusions.iter().cloned());
        if let Some(text) = &args.exclusions {
            shapes.extend(
                parse_exclusions(text).map_err(|e| UsageError(format!("--exclusions: {e}")))?,
            );
        }
        engine
            .set_exclusions(shapes)
            .map_err(|e| UsageError(format!("--exclusions: {e}")))?;
    }
    let mut live = Live::start(
        args.control.as_deref(),
        args.control_token.as_deref(),
        &inputs.config,
        key.is_some(),
        args.realtime.then_some(clock_start),
    )?;
    let mut reader = VideoReader::open(&inputs.input, PixelFormat::Rgba)?;
    let (w, h) = (reader.width(), reader.height());
    let (fps_num, fps_den) = (reader.fps_num(), reader.fps_den());
    let start_tc = args
        .timecode
        .as_deref()
        .map(|t| {
            let rate = (
                u32::try_from(fps_num).unwrap_or(0),
                u32::try_from(fps_den).unwrap_or(0),
            );
            Timecode::parse(t, rate).map_err(|e| UsageError(format!("--timecode: {e}")))
        })
        .transpose()?;
    let fill_key = args.output_mode == OutputMode::FillKey;
    let writer = if fill_key {
        VideoWriter::create_with_alpha(&args.output, w, h, fps_num, fps_den)
            .map_err(|e| UsageError(e.to_string()))?
    } else {
        VideoWriter::create(&args.output, w, h, fps_num, fps_den, PixelFormat::Rgba)?
    };
    let mut report_out = match &args.report {
        Some(p) => Some(BufWriter::new(
            File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => None,
    };
    let skipped = feed.file_stats().map_or(0, |(_, s)| {
        s.garbage_lines + s.checksum_failures + s.invalid_samples
    });
    let progress =
        crate::sample_cmd::progress_bar(reader.estimated_frames().unwrap_or(0), args.quiet);
    let started = Instant::now();

    let (to_engine, from_decoder) = crossbeam_channel::bounded(QUEUE_DEPTH);
    let (to_encoder, from_engine) = crossbeam_channel::bounded::<(Vec<u8>, i64)>(QUEUE_DEPTH);
    let mut cpu_ms = Vec::new();
    let mut scheduling = yardline_engine::sched::Scheduling::Unchanged;
    let result = std::thread::scope(|scope| -> Result<(Vec<FrameReport>, u64)> {
        let (cpu_ms, scheduling) = (&mut cpu_ms, &mut scheduling);
        let decoder = scope.spawn(move || -> Result<()> {
            while let Some(frame) = reader.next_frame()? {
                if to_engine.send(frame).is_err() {
                    break;
                }
            }
            Ok(())
        });
        let encoder = scope.spawn(move || -> Result<u64> {
            let mut writer = writer;
            for (data, pts) in &from_engine {
                writer.write(data, pts)?;
            }
            Ok(writer.finish()?)
        });
        let layout = FrameLayout::packed(EnginePixelFormat::Rgba, w, h)?;
        let mut reports = Vec::new();
        let mut failure = None;
        // This thread is the engine's: real-time when permitted, so the encoder and decoder
        // threads beside it cannot hold a frame up.
        *scheduling = yardline_engine::sched::promote_current_thread("render engine thread");
        for frame in &from_decoder {
            let mut data = frame.data;
            if frame.width != w || frame.height != h {
                failure = Some(anyhow::anyhow!(
                    "frame {}: size changed to {}x{} mid-stream",
                    frame.index,
                    frame.width,
                    frame.height
                ));
                break;
            }
            let hook = live.before(&mut engine, &layout, &data, frame.pts_ns);
            // Everything a live receiver would hold when this frame is processed.
            let live_feed = feed.is_live();
            engine.take_tracking(&mut feed, frame.pts_ns, live_feed);
            engine.set_frame_timecode(start_tc.map(|t| t.at_pts(frame.pts_ns)));
            let cpu_before = yardline_engine::sched::thread_cpu_time();
            let report = if fill_key {
                match fill_key_frame(&mut engine, &layout, &data, frame.pts_ns) {
                    Ok((report, rgba)) => {
                        data = rgba;
                        report
                    }
                    Err(e) => {
                        failure = Some(anyhow::anyhow!("frame {}: {e}", frame.index));
                        break;
                    }
                }
            } else {
                match FrameMut::new(&layout, &mut data) {
                    Ok(mut fm) => engine.process(&mut fm, frame.pts_ns),
                    Err(e) => {
                        failure = Some(anyhow::anyhow!("frame {}: {e}", frame.index));
                        break;
                    }
                }
            };
            cpu_ms.push(yardline_engine::sched::thread_cpu_ms_since(cpu_before));
            live.after(hook, &engine, &layout, &data, &report);
            if let Some(out) = report_out.as_mut() {
                writeln!(out, "{}", report.to_json_line()?)?;
            }
            reports.push(report);
            progress.inc(1);
            if to_encoder.send((data, frame.pts_ns)).is_err() {
                break;
            }
        }
        drop(to_encoder);
        drop(from_decoder);
        let decoded = decoder
            .join()
            .map_err(|_| anyhow::anyhow!("decoder thread panicked"))?;
        let written = encoder
            .join()
            .map_err(|_| anyhow::anyhow!("encoder thread panicked"))??;
        decoded.context("decoding failed")?;
        if let Some(f) = failure {
            return Err(f);
        }
        tracing::debug!("{written} frames written");
        Ok((reports, feed.unused() as u64))
    });
    progress.finish_and_clear();
    let (reports, unused) = result?;
    if let Some(mut out) = report_out {
        out.flush()?;
    }
    if reports.is_empty() {
        bail!("{}: no frames decoded", inputs.input.display());
    }
    if let Some(path) = &args.save_key {
        let config = engine.key().and_then(|k| k.config()).ok_or_else(|| {
            anyhow::anyhow!(
                "{}: no key to save (no frame had a camera pose to build one)",
                path.display()
            )
        })?;
        config
            .save(path)
            .with_context(|| format!("cannot save the key to {}", path.display()))?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok(summarise(
        &reports,
        &mut cpu_ms,
        scheduling,
        &engine,
        args.output.clone(),
        elapsed,
        (skipped, unused),
    ))
}

/// Fill and key of one RGBA frame: the engine's `BGRA` fill-and-key frame, as RGBA for the
/// writer.
fn fill_key_frame(
    engine: &mut Engine,
    layout: &FrameLayout,
    data: &[u8],
    pts_ns: i64,
) -> Result<(FrameReport, Vec<u8>), yardline_frame::FrameError> {
    let frame = FrameRef::new(layout, data)?;
    let (w, h) = (layout.width, layout.height);
    let mut out = vec![0_u8; w as usize * h as usize * 4];
    let mut fk = FillKeyMut::new(FillKeyFormat::Bgra, w, h, w as usize * 4, &mut out)?;
    let report = engine.process_fill_key(frame, &mut fk, pts_ns);
    for px in out.chunks_exact_mut(4) {
        px.swap(0, 2);
    }
    Ok((report, out))
}

/// The summary of a render: `cpu_ms` is the engine thread's CPU time per frame, `tracking`
/// the tracking lines skipped and the packets left unused.
fn summarise(
    reports: &[FrameReport],
    cpu_ms: &mut [f64],
    scheduling: yardline_engine::sched::Scheduling,
    engine: &Engine,
    output: PathBuf,
    elapsed_s: f64,
    (skipped, unused): (u64, u64),
) -> RenderSummary {
    let stages = Percentiles::of_stages(reports);
    let mut sources = BTreeMap::new();
    let mut tracking_matches = BTreeMap::new();
    for r in reports {
        *sources.entry(r.source.as_str().to_string()).or_insert(0) += 1;
        if let Some(m) = r.tracking_match {
            *tracking_matches.entry(m.as_str().to_string()).or_insert(0) += 1;
        }
    }
    let residuals: Vec<f64> = reports.iter().filter_map(|r| r.residual_px).collect();
    RenderSummary {
        output,
        frames: reports.len() as u64,
        drawn_frames: reports.iter().filter(|r| r.drawn).count() as u64,
        fps: reports.len() as f64 / elapsed_s.max(1e-9),
        stages,
        engine_cpu: Percentiles::of(cpu_ms),
        scheduling: scheduling.to_string(),
        sources,
        mean_residual_px: (!residuals.is_empty())
            .then(|| residuals.iter().sum::<f64>() / residuals.len() as f64),
        faults: reports.iter().filter(|r| r.fault.is_some()).count() as u64,
        backend: engine.backend(),
        tracking_lines_skipped: skipped,
        tracking_unused: unused,
        tracking_matches,
    }
}
