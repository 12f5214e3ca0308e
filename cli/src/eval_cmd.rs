//! `yardline eval`: scores a rendered output against a sample's truth, black-box, from pixels.
//!
//! Exit codes: 0 when it could evaluate, 1 when the inputs do not match (frame counts,
//! sizes), 2 on usage errors (missing files, unreadable scene or truth).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use yardline_samples::{
    EvalReport, ReportRecord, SampleError, SceneConfig, Scorer, TruthRecord, read_report_jsonl,
    read_truth_jsonl,
};

use crate::UsageError;
use crate::video::{PixelFormat, VideoReader};

/// Arguments of `yardline eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Sample folder (from `yardline sample`): video.mkv, masks.mkv, truth.jsonl, scene.toml.
    #[arg(long, value_name = "DIR")]
    pub sample: PathBuf,
    /// The rendered output to score (lossless, e.g. FFV1 .mkv from `yardline render`).
    #[arg(long, value_name = "OUT.mkv")]
    pub output: PathBuf,
    /// The engine's per-frame report, to also score the reported camera.
    #[arg(long, value_name = "report.jsonl")]
    pub report: Option<PathBuf>,
    /// Print the scores as one JSON object on stdout instead of the summary.
    #[arg(long)]
    pub json: bool,
}

/// The input files of a sample folder.
struct SampleFiles {
    video: PathBuf,
    masks: PathBuf,
    truth: PathBuf,
    scene: PathBuf,
}

impl SampleFiles {
    fn locate(dir: &Path) -> Result<Self, UsageError> {
        if !dir.is_dir() {
            return Err(UsageError(format!(
                "{}: no such sample folder",
                dir.display()
            )));
        }
        let files = Self {
            video: dir.join("video.mkv"),
            masks: dir.join("masks.mkv"),
            truth: dir.join("truth.jsonl"),
            scene: dir.join("scene.toml"),
        };
        for f in [&files.video, &files.masks, &files.truth, &files.scene] {
            if !f.is_file() {
                return Err(UsageError(format!(
                    "{}: missing from the sample folder",
                    f.display()
                )));
            }
        }
        Ok(files)
    }
}

/// A file the user named that cannot be read or parsed is a usage error.
fn usage(e: &SampleError) -> anyhow::Error {
    UsageError(e.to_string()).into()
}

/// Scores the output and prints the result.
pub fn run(args: &EvalArgs) -> Result<()> {
    let files = SampleFiles::locate(&args.sample)?;
    if !args.output.is_file() {
        return Err(UsageError(format!("{}: no such output file", args.output.display())).into());
    }
    let scene = SceneConfig::load(&files.scene).map_err(|e| usage(&e))?;
    let truth = read_truth_jsonl(&files.truth).map_err(|e| usage(&e))?;
    let reported: BTreeMap<u32, ReportRecord> = match &args.report {
        Some(path) if !path.is_file() => {
            return Err(UsageError(format!("{}: no such report file", path.display())).into());
        }
        Some(path) => read_report_jsonl(path)
            .map_err(|e| usage(&e))?
            .into_iter()
            .map(|r| (r.frame, r))
            .collect(),
        None => BTreeMap::new(),
    };

    let mut input = VideoReader::open(&files.video, PixelFormat::Rgb)?;
    let mut masks = VideoReader::open(&files.masks, PixelFormat::Gray8)?;
    let mut output = VideoReader::open(&args.output, PixelFormat::Rgb)?;
    let size = (input.width(), input.height());
    for (what, r) in [("masks", &masks), ("output", &output)] {
        if (r.width(), r.height()) != size {
            bail!(
                "input mismatch: {} is {}x{}, the sample video is {}x{} ({what})",
                r.path().display(),
                r.width(),
                r.height(),
                size.0,
                size.1
            );
        }
    }

    let mut scorer = Scorer::new(&scene).map_err(|e| usage(&e))?;
    let mut frames = 0u64;
    loop {
        let (a, m, o) = (
            input.next_frame()?,
            masks.next_frame()?,
            output.next_frame()?,
        );
        let (a, m, o) = match (a, m, o) {
            (None, None, None) => break,
            (Some(a), Some(m), Some(o)) => (a, m, o),
            (a, m, o) => {
                let ended: Vec<&str> = [("video.mkv", &a), ("masks.mkv", &m), ("output", &o)]
                    .iter()
                    .filter(|(_, f)| f.is_none())
                    .map(|(n, _)| *n)
                    .collect();
                let counts = format!(
                    "video.mkv {}, masks.mkv {}, output {}",
                    count_all(&mut input, frames, a.is_some())?,
                    count_all(&mut masks, frames, m.is_some())?,
                    count_all(&mut output, frames, o.is_some())?
                );
                bail!(
                    "input mismatch: {} ended after {frames} frames; frame counts: {counts}",
                    ended.join(" and ")
                );
            }
        };
        let t = truth_for(&truth, frames, size)?;
        let rep = reported.get(&t.frame).and_then(|r| r.camera_record(t));
        scorer
            .add_frame(&a.data, &o.data, &m.data, t, rep.as_ref())
            .with_context(|| format!("scoring frame {frames}"))?;
        frames += 1;
    }
    if truth.len() as u64 != frames {
        bail!(
            "input mismatch: truth.jsonl has {} frames, the videos have {frames}",
            truth.len()
        );
    }

    let report = scorer.finish();
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&report).context("serialising the report")?
        );
    } else {
        print_summary(&report, size, &args.output);
    }
    Ok(())
}

/// Total frames of a stream that stopped agreeing with the others after `read` common frames.
fn count_all(reader: &mut VideoReader, read: u64, has_one_more: bool) -> Result<u64> {
    let mut n = read + u64::from(has_one_more);
    if has_one_more {
        while reader.next_frame()?.is_some() {
            n += 1;
        }
    }
    Ok(n)
}

fn truth_for(truth: &[TruthRecord], i: u64, size: (u32, u32)) -> Result<&TruthRecord> {
    let Some(t) = usize::try_from(i).ok().and_then(|i| truth.get(i)) else {
        bail!(
            "input mismatch: truth.jsonl has {} frames, the videos have more",
            truth.len()
        );
    };
    if (t.width, t.height) != size {
        bail!(
            "input mismatch: truth frame {i} is {}x{}, the videos are {}x{}",
            t.width,
            t.height,
            size.0,
            size.1
        );
    }
    Ok(t)
}

fn print_summary(r: &EvalReport, size: (u32, u32), output: &Path) {
    let px = |v: Option<f64>| v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.3} px"));
    println!(
        "eval: {} frames {}x{} of {}",
        r.frames,
        size.0,
        size.1,
        output.display()
    );
    println!(
        "  IoU {:.4} (worst frame {})  leak {:.3} %  miss {:.3} %",
        r.iou,
        r.worst_frame_iou
            .map_or_else(|| "n/a".to_string(), |v| format!("{v:.4}")),
        r.leak * 100.0,
        r.miss * 100.0
    );
    println!(
        "  centre error {} RMS over {} rows  jitter {} over {} frames",
        px(r.centre_error_px),
        r.centre_rows,
        px(r.jitter_px),
        r.jitter_frames
    );
    println!(
        "  worst frame centre error {}{}",
        px(r.max_frame_centre_px),
        r.max_frame_centre_frame
            .map_or_else(String::new, |f| format!(" (frame {f})"))
    );
    println!(
        "  line in view {} frames, drawn in {} ({})  painted out of view {} frames",
        r.in_view_frames,
        r.drawn_in_view_frames,
        r.drawn_share
            .map_or_else(|| "n/a".to_string(), |s| format!("{:.1} %", s * 100.0)),
        r.painted_out_of_view_frames
    );
    if !r.reacquire_frames.is_empty() {
        let each: Vec<String> = r
            .reacquire_frames
            .iter()
            .map(|f| f.map_or_else(|| "never".to_string(), |f| f.to_string()))
            .collect();
        println!(
            "  re-acquired after {} returns: [{}] frames (max {}, {} never)",
            r.reacquire_frames.len(),
            each.join(", "),
            r.max_reacquire_frames
                .map_or_else(|| "n/a".to_string(), |f| f.to_string()),
            r.unreacquired_returns
        );
    }
    if r.reported_frames > 0 || r.reported_invalid_frames > 0 {
        println!(
            "  reported camera: {} RMS over {} frames ({} unusable)",
            px(r.reported_rms_px),
            r.reported_frames,
            r.reported_invalid_frames
        );
    }
    println!(
        "  pixels: painted {}  truth {}  both {}  on players {}  missed {}",
        r.painted_px, r.truth_px, r.intersection_px, r.leak_px, r.missed_px
    );
    if r.painted_px == 0 {
        println!("  nothing painted: the output equals the input");
    }
}
