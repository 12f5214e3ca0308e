//! `yardline register`: refines a field-to-image homography from the painted lines of one
//! picture, an image file (PNG or JPEG) or a frame of a video (`--video F --frame N | --at S`)
//! (operator registration for vision-only tracking).
//!
//! Homography file: `{"h": [h00, h01, h02, h10, h11, h12, h20, h21, h22]}`, row-major, mapping
//! field ground coordinates (metres, DESIGN.md frame, z = 0) to pixels:
//! `(u w, v w, w) = H (x, y, 1)`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use image::DynamicImage;
use serde::{Deserialize, Serialize};
use yardline_engine::field::{FieldKind, FieldModel};
use yardline_engine::vision::{
    Homography, LineTemplate, LumaView, SolveConfig, register_homography,
};
use yardline_frame::{FrameLayout, FrameRef, PixelFormat};

use crate::UsageError;
use crate::still::StillArgs;

/// Least inlier line measurements for a lock (count).
const MIN_INLIERS: usize = 30;
/// Least distinct painted lines among the inliers for a lock (count).
const MIN_LINES: usize = 3;
/// Largest RMS residual of a lock (pixels).
const MAX_RESIDUAL_PX: f64 = 2.0;

/// Arguments of `yardline register`.
#[derive(Debug, clap::Args)]
pub struct RegisterArgs {
    /// Field kind: nfl, ncaa, hs or soccer.
    #[arg(long, default_value = "nfl")]
    pub field: String,
    /// The picture to register.
    #[command(flatten)]
    pub picture: StillArgs,
    /// Starting homography, JSON {"h": [9 numbers]} (field metres -> pixels, row-major).
    #[arg(long)]
    pub init: PathBuf,
    /// Where to write the refined homography (same format).
    #[arg(long)]
    pub out: PathBuf,
}

/// The homography file.
#[derive(Debug, Serialize, Deserialize)]
struct HomographyFile {
    /// Nine numbers, row-major (field metres -> pixels).
    h: Vec<f64>,
}

fn read_homography(path: &Path) -> anyhow::Result<Homography> {
    let usage = |m: String| UsageError(format!("{}: {m}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| usage(format!("cannot read: {e}")))?;
    let file: HomographyFile =
        serde_json::from_str(&text).map_err(|e| usage(format!("not a homography file: {e}")))?;
    let n = file.h.len();
    let h: [f64; 9] = file
        .h
        .try_into()
        .map_err(|_| usage(format!("\"h\" needs 9 numbers, has {n}")))?;
    Ok(Homography::from_row_major(&h)
        .ok_or_else(|| usage("the homography is not finite and invertible".into()))?)
}

/// Runs `yardline register`.
pub fn run(args: &RegisterArgs) -> anyhow::Result<()> {
    let kind: FieldKind = args
        .field
        .parse()
        .map_err(|e| UsageError(format!("--field: {e}")))?;
    let init = read_homography(&args.init)?;
    let still = args.picture.load("register")?;
    let img = DynamicImage::ImageRgb8(still.rgb).to_rgba8();
    let (w, h) = img.dimensions();
    let layout = FrameLayout::packed(PixelFormat::Rgba, w, h)
        .map_err(|e| UsageError(format!("{}: {e}", still.path.display())))?;
    let frame = FrameRef::new(&layout, img.as_raw()).context("image buffer")?;
    let luma = LumaView::new(frame);
    let template = LineTemplate::new(&FieldModel::new(kind));
    let cfg = SolveConfig {
        min_measurements: MIN_INLIERS,
        ..SolveConfig::default()
    };
    let fit = register_homography(&luma, &template, &init, &cfg)
        .map_err(|e| anyhow::anyhow!("cannot lock onto the painted lines: {e}"))?;
    if fit.inliers < MIN_INLIERS || fit.lines < MIN_LINES || fit.residual_px > MAX_RESIDUAL_PX {
        bail!(
            "cannot lock onto the painted lines: residual {:.3} px RMS, {} inliers on {} lines \
             (need <= {MAX_RESIDUAL_PX} px, >= {MIN_INLIERS} inliers, >= {MIN_LINES} lines)",
            fit.residual_px,
            fit.inliers,
            fit.lines
        );
    }
    let out = HomographyFile {
        h: fit.homography.to_row_major().to_vec(),
    };
    let text = serde_json::to_string(&out).context("homography JSON")?;
    std::fs::write(&args.out, text + "\n")
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!(
        "registered: residual {:.3} px RMS, {} inliers on {} lines -> {}",
        fit.residual_px,
        fit.inliers,
        fit.lines,
        args.out.display()
    );
    Ok(())
}
