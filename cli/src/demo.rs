//! `yardline demo`: generates the built-in sample (a 1280x720 broadcast camera following play,
//! about 5 s), renders it with the engine exactly as `yardline render --sample` does, writes the
//! video and a contact sheet of 6 frames, and prints where they are with the render summary.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use image::{RgbaImage, imageops};
use yardline_engine::BackendChoice;
use yardline_engine::pose::PoseMode;
use yardline_samples::Scenario;

use crate::render_cmd::{self, RenderArgs};
use crate::sample_cmd::{self, SampleArgs};
use crate::video::{PixelFormat, VideoReader};

/// Frames in the contact sheet.
const SHEET_FRAMES: usize = 6;
/// Contact sheet columns.
const SHEET_COLUMNS: u32 = 3;

/// Arguments of `yardline demo`.
#[derive(Debug, Args, Clone)]
pub struct DemoArgs {
    /// Rendered video (.mp4 H.264, or .mkv lossless); the contact sheet goes next to it as .png.
    #[arg(long, default_value = "demo.mp4")]
    pub output: PathBuf,
    /// Frames of the built-in sample (300 = 5 s at 59.94 fps).
    #[arg(long, default_value_t = 300)]
    pub frames: u32,
    /// Picture size.
    #[arg(long, value_name = "WxH", default_value = "1280x720", value_parser = sample_cmd::parse_size)]
    pub size: (u32, u32),
    /// Compositor backend: auto, cpu or gpu.
    #[arg(long, default_value = "auto", value_parser = |s: &str| s.parse::<BackendChoice>().map_err(|e| e.to_string()))]
    pub backend: BackendChoice,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs the demo.
pub fn run(args: &DemoArgs) -> Result<()> {
    let sample_dir = sample_dir_for(&args.output);
    println!(
        "demo: generating the built-in sample ({} frames, {}x{}) in {}",
        args.frames,
        args.size.0,
        args.size.1,
        sample_dir.display()
    );
    sample_cmd::run(&SampleArgs {
        out: sample_dir.clone(),
        seed: 1,
        frames: args.frames,
        size: args.size,
        fps: (60_000, 1001),
        scenario: Scenario::Default,
        first_down: None,
        scrimmage: None,
        field: "nfl".into(),
        quiet: args.quiet,
    })?;
    println!("demo: rendering it with the first-down line");
    let render = RenderArgs {
        clean_plate: false,
        exclusions: None,
        input: None,
        tracking: None,
        venue: None,
        keying: None,
        sample: Some(sample_dir.clone()),
        first_down: None,
        scrimmage: None,
        line_width_m: None,
        field: None,
        backend: args.backend,
        pose_mode: PoseMode::Auto,
        report: Some(sample_dir.join("report.jsonl")),
        save_key: None,
        output: args.output.clone(),
        output_mode: yardline_engine::OutputMode::Program,
        timecode: None,
        control: None,
        control_token: None,
        realtime: false,
        udp: None,
        json: false,
        quiet: args.quiet,
    };
    let summary = render_cmd::render(&render)?;
    render_cmd::print_summary(&summary, false)?;
    let sheet = args.output.with_extension("png");
    contact_sheet(&args.output, &sheet)?;
    println!(
        "demo: video {} , contact sheet {} (6 frames), per-frame report {}",
        args.output.display(),
        sheet.display(),
        sample_dir.join("report.jsonl").display()
    );
    Ok(())
}

/// `demo.mp4` -> `demo_sample/`.
fn sample_dir_for(output: &Path) -> PathBuf {
    let stem = output
        .file_stem()
        .map_or_else(|| "demo".into(), |s| s.to_string_lossy().into_owned());
    output.with_file_name(format!("{stem}_sample"))
}

/// A 3x2 grid of 6 evenly spaced frames of `video`, each at half size.
fn contact_sheet(video: &Path, out: &Path) -> Result<()> {
    let mut frames = Vec::new();
    let mut reader = VideoReader::open(video, PixelFormat::Rgba)?;
    while let Some(f) = reader.next_frame()? {
        frames.push(f);
    }
    anyhow::ensure!(!frames.is_empty(), "{}: no frames to show", video.display());
    let (w, h) = (frames[0].width / 2, frames[0].height / 2);
    let rows = (SHEET_FRAMES as u32).div_ceil(SHEET_COLUMNS);
    let mut sheet = RgbaImage::new(w * SHEET_COLUMNS, h * rows);
    for k in 0..SHEET_FRAMES {
        let i = (k * (frames.len() - 1)) / (SHEET_FRAMES - 1).max(1);
        let f = &frames[i];
        let img = RgbaImage::from_raw(f.width, f.height, f.data.clone())
            .context("decoded frame has the wrong size")?;
        let small = imageops::resize(&img, w, h, imageops::FilterType::Triangle);
        let (cx, cy) = (k as u32 % SHEET_COLUMNS, k as u32 / SHEET_COLUMNS);
        imageops::replace(&mut sheet, &small, i64::from(cx * w), i64::from(cy * h));
    }
    sheet
        .save(out)
        .with_context(|| format!("cannot write {}", out.display()))?;
    Ok(())
}
