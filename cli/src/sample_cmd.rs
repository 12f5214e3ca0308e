//! `yardline sample`: writes a synthetic broadcast sample with exact truth into a folder:
//! `video.mkv` (FFV1 RGB), `masks.mkv` (FFV1 gray8), `truth.jsonl`, `tracking.jsonl`,
//! `venue.toml`, `scene.toml`, `clicks.json` (frame 0's landmarks as an operator would click
//! them, for `yardline calibrate --points`) and, in `stadium`, `exclusions.txt` (the operator's
//! rectangle round the burned-in score bug, which `render --sample` applies). Same seed, same
//! bytes.
//!
//! A streamed scenario (`stadium`, [`Scenario::streamed`]) passes its video through H.264 at
//! streaming quality first (x264enc at [`STREAM_H264_BITS_PER_PIXEL`] on one thread, so the
//! same seed gives the same bytes, into a temporary `video.h264.mp4`), decodes it
//! back and stores the decoded pictures in `video.mkv` (FFV1: what the engine is given is
//! exactly what `yardline eval` compares with). Masks and truth stay exact.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use yardline_samples::{STREAM_H264_BITS_PER_PIXEL, Sample, SampleConfig, SampleError, Scenario};

use crate::UsageError;
use crate::video::{H264Settings, PixelFormat, VideoReader, VideoWriter};

/// Frames rendered per parallel batch, per worker thread: enough to keep every core busy
/// while the batch before is being encoded.
const BATCH_PER_THREAD: usize = 2;
/// x264 threads of a streamed scenario's H.264 pass: one, so the same seed gives the same
/// bytes (x264's frame threads under a bitrate target did not, run to run).
const STREAM_H264_THREADS: u32 = 1;
/// The streamed scenarios' H.264 file while the sample is written (removed at the end).
const STREAM_H264_FILE: &str = "video.h264.mp4";

/// Arguments of `yardline sample`.
#[derive(Debug, clap::Args)]
pub struct SampleArgs {
    /// Folder to write the sample into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Random seed: the same seed gives the same bytes in every file.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of frames.
    #[arg(long, default_value_t = 60)]
    pub frames: u32,
    /// Frame size in pixels, `WIDTHxHEIGHT`.
    #[arg(long, value_name = "WxH", default_value = "640x360", value_parser = parse_size)]
    pub size: (u32, u32),
    /// Frame rate: 59.94, 29.97, 23.976 (the 1000/1001 rates), 50, 60000/1001, ...
    #[arg(long, default_value = "59.94", value_parser = parse_frame_rate)]
    pub fps: (u32, u32),
    /// Camera behaviour and difficulty: default, hard, drift, static, camouflage, zoom (tight
    /// shots into a crowd), cut (cut-aways from the field, back to other framings) or stadium
    /// (light kits in shade against purple kits, a purple yard line and a team logo under the
    /// first-down line, a burned-in score bug, mown grass, the video through H.264 at
    /// streaming quality; needs an even width and height).
    #[arg(long, default_value = "default")]
    pub scenario: Scenario,
    /// First-down line, yards from the left goal line (0..=100).
    #[arg(long, value_name = "YARD")]
    pub first_down: Option<f64>,
    /// Line of scrimmage, yards from the left goal line (0..=100).
    #[arg(long, value_name = "YARD")]
    pub scrimmage: Option<f64>,
    /// Field markings: nfl, ncaa or hs.
    #[arg(long, default_value = "nfl")]
    pub field: String,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Parses `WIDTHxHEIGHT`.
pub fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("{s:?} is not WIDTHxHEIGHT (e.g. 1920x1080)"))?;
    let num = |v: &str| {
        v.trim()
            .parse::<u32>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("{s:?} is not WIDTHxHEIGHT with positive integers"))
    };
    Ok((num(w)?, num(h)?))
}

/// Parses a frame rate into an exact fraction: `N/D`, an integer, one of the NTSC rates written
/// as a decimal (23.976, 29.97, 59.94, 119.88 -> N*1000/1001), or another decimal (to 1/1000).
pub fn parse_frame_rate(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("{s:?} is not a frame rate (e.g. 59.94, 50 or 60000/1001)");
    let t = s.trim();
    if let Some((n, d)) = t.split_once('/') {
        let n: u32 = n.trim().parse().map_err(|_| bad())?;
        let d: u32 = d.trim().parse().map_err(|_| bad())?;
        return if n > 0 && d > 0 {
            Ok((n, d))
        } else {
            Err(bad())
        };
    }
    let fps: f64 = t.parse().map_err(|_| bad())?;
    if !fps.is_finite() || fps <= 0.0 || fps > 10_000.0 {
        return Err(bad());
    }
    if (fps - fps.round()).abs() < 1e-9 {
        return Ok((fps.round() as u32, 1));
    }
    // 1000/1001 rates: 23.976, 29.97, 47.952, 59.94, 119.88, ...
    let ntsc = (fps * 1.001).round();
    if (ntsc / 1.001 - fps).abs() < 0.006 {
        return Ok((ntsc as u32 * 1000, 1001));
    }
    let milli = (fps * 1000.0).round() as u32;
    let g = gcd(milli, 1000);
    Ok((milli / g, 1000 / g))
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// A sample error that lies in the arguments is a usage error.
fn classify(e: SampleError) -> anyhow::Error {
    match e {
        SampleError::InvalidConfig(_)
        | SampleError::UnknownScenario(_)
        | SampleError::UnsupportedField(_) => UsageError(e.to_string()).into(),
        other => other.into(),
    }
}

/// Writes the sample and prints a one-line summary.
pub fn run(args: &SampleArgs) -> Result<()> {
    let start = Instant::now();
    let mut cfg = SampleConfig {
        seed: args.seed,
        frames: args.frames,
        width: args.size.0,
        height: args.size.1,
        fps_num: args.fps.0,
        fps_den: args.fps.1,
        scenario: args.scenario,
        field: args.field.clone(),
        ..SampleConfig::default()
    };
    if let Some(y) = args.first_down {
        cfg.first_down_yard = y;
    }
    if let Some(y) = args.scrimmage {
        cfg.scrimmage_yard = y;
    }
    if cfg.scenario.streamed() && (!cfg.width.is_multiple_of(2) || !cfg.height.is_multiple_of(2)) {
        return Err(UsageError(format!(
            "the {} scenario passes its video through H.264, which needs an even width and height, got {}x{}",
            cfg.scenario, cfg.width, cfg.height
        ))
        .into());
    }
    let fps = (
        i32::try_from(cfg.fps_num).map_err(|_| UsageError("frame rate too large".into()))?,
        i32::try_from(cfg.fps_den).map_err(|_| UsageError("frame rate too large".into()))?,
    );
    let sample = Sample::new(cfg).map_err(classify)?;
    let dir = &args.out;
    std::fs::create_dir_all(dir).map_err(|e| {
        UsageError(format!(
            "cannot create output folder {}: {e}",
            dir.display()
        ))
    })?;
    sample
        .write_metadata(dir)
        .with_context(|| format!("writing the sample metadata into {}", dir.display()))?;

    let cfg = sample.config();
    let (w, h) = (cfg.width, cfg.height);
    let streamed = cfg.scenario.streamed();
    let mut video = if streamed {
        VideoWriter::create_with(
            dir.join(STREAM_H264_FILE),
            w,
            h,
            fps,
            PixelFormat::Rgb,
            H264Settings {
                bits_per_pixel: STREAM_H264_BITS_PER_PIXEL,
                threads: STREAM_H264_THREADS,
            },
        )?
    } else {
        VideoWriter::create(dir.join("video.mkv"), w, h, fps.0, fps.1, PixelFormat::Rgb)?
    };
    let mut masks = VideoWriter::create(
        dir.join("masks.mkv"),
        w,
        h,
        fps.0,
        fps.1,
        PixelFormat::Gray8,
    )?;
    let progress = progress_bar(u64::from(cfg.frames), args.quiet);

    let batch = (rayon::current_num_threads() * BATCH_PER_THREAD).max(1) as u32;
    let mut first = 0;
    while first < cfg.frames {
        let last = (first + batch).min(cfg.frames);
        let rendered = (first..last)
            .into_par_iter()
            .map(|i| sample.render_frame(i))
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("rendering frames {first}..{last}"))?;
        for (i, frame) in (first..).zip(rendered) {
            let pts = cfg.pts_ns(i);
            video.write(frame.rgb, pts)?;
            masks.write(frame.mask, pts)?;
            progress.inc(1);
        }
        first = last;
    }
    let mut frames = video.finish()?;
    masks.finish()?;
    if streamed {
        frames = store_decoded(sample.config(), dir, fps)?;
    }
    progress.finish_and_clear();

    let secs = start.elapsed().as_secs_f64();
    println!(
        "sample: {frames} frames {w}x{h} @ {:.3} fps, scenario {}, seed {}, first down {} yd -> {} ({secs:.1} s, {:.1} frames/s)",
        cfg.fps(),
        cfg.scenario,
        cfg.seed,
        cfg.first_down_yard,
        dir.display(),
        frames as f64 / secs.max(1e-9),
    );
    Ok(())
}

/// Decodes the streamed scenario's H.264 file in `dir` and stores its pictures in
/// `video.mkv` (FFV1) at the sample's frame times; removes the H.264 file. Returns the frames
/// stored.
fn store_decoded(cfg: &SampleConfig, dir: &std::path::Path, fps: (i32, i32)) -> Result<u64> {
    let h264 = dir.join(STREAM_H264_FILE);
    let reader = VideoReader::open(&h264, PixelFormat::Rgb)?;
    let mut video = VideoWriter::create(
        dir.join("video.mkv"),
        cfg.width,
        cfg.height,
        fps.0,
        fps.1,
        PixelFormat::Rgb,
    )?;
    let mut stored = 0_u32;
    for frame in reader {
        let frame = frame?;
        if stored >= cfg.frames {
            anyhow::bail!(
                "{}: the H.264 pass gave more than the {} frames written",
                h264.display(),
                cfg.frames
            );
        }
        video.write(frame.data, cfg.pts_ns(stored))?;
        stored += 1;
    }
    if stored != cfg.frames {
        anyhow::bail!(
            "{}: the H.264 pass gave {stored} of the {} frames written",
            h264.display(),
            cfg.frames
        );
    }
    let frames = video.finish()?;
    std::fs::remove_file(&h264).with_context(|| format!("removing {}", h264.display()))?;
    Ok(frames)
}

/// A progress bar on a terminal, nothing otherwise.
pub fn progress_bar(len: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} frames  {per_sec}  ETA {eta}")
    {
        bar.set_style(style);
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_rates() {
        assert_eq!(parse_frame_rate("59.94"), Ok((60_000, 1001)));
        assert_eq!(parse_frame_rate("29.97"), Ok((30_000, 1001)));
        assert_eq!(parse_frame_rate("23.976"), Ok((24_000, 1001)));
        assert_eq!(parse_frame_rate("119.88"), Ok((120_000, 1001)));
        assert_eq!(parse_frame_rate("50"), Ok((50, 1)));
        assert_eq!(parse_frame_rate("60000/1001"), Ok((60_000, 1001)));
        assert_eq!(parse_frame_rate("12.5"), Ok((25, 2)));
        assert!(parse_frame_rate("0").is_err());
        assert!(parse_frame_rate("fast").is_err());
        assert!(parse_frame_rate("30/0").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1920x1080"), Ok((1920, 1080)));
        assert_eq!(parse_size("320X180"), Ok((320, 180)));
        assert!(parse_size("1920").is_err());
        assert!(parse_size("0x10").is_err());
        assert!(parse_size("ax10").is_err());
    }
}
