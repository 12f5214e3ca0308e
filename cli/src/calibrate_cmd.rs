//! `yardline calibrate`: a camera's venue calibration from clicked landmarks on one picture
//! (an image file, PNG or JPEG, or one frame of a video: `--video F --frame N | --at S`),
//! refined on the painted lines, and `yardline calibrate lens` for a zoom sweep
//! (`DIR/sweep.jsonl`, see `yardline_calibration::sweep`).
//!
//! The venue file holds the head mount and lens table solved from the picture, and the solved
//! camera itself as the camera's `[camera.registration]` (the picture's size, and its frame
//! index and time when it came from a video).
//!
//! `points.json`: `[{"image": [u, v], "field": [x, y, z]}, ...]` (pixels, field metres).
//! With `--json` one object on stdout: `{"rms_px", "points": [per-point px], "outliers",
//! "camera": {rotation (row-major 9), translation, fx, fy, cx, cy, k1, k2}, "lines",
//! "registration": {width, height, frame?, time_s?, rotation, translation, fx, ..., k2},
//! "venue"}` in the DESIGN.md camera convention.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;
use yardline_calibration::landmarks::{residuals, rms};
use yardline_calibration::refine::{RefineOptions, refine_rgb};
use yardline_calibration::venue::{camera_calibration, update_mount};
use yardline_calibration::{CalibrationError, Correspondence, solve_landmarks};
use yardline_engine::field::{FieldKind, FieldModel};
use yardline_engine::geometry::{Camera, Intrinsics};
use yardline_engine::tracking::SensorReading;
use yardline_engine::tracking::freed::{decode_checked, parse_hex};
use yardline_engine::venue::{Registration, Venue};

use crate::UsageError;
use crate::still::StillArgs;

/// Arguments of `yardline calibrate`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CalibrateArgs {
    #[command(subcommand)]
    sub: Option<CalibrateSub>,
    #[command(flatten)]
    image: ImageArgs,
}

#[derive(Debug, clap::Subcommand)]
enum CalibrateSub {
    /// Fit the zoom lens table, head position, mount and encoder offsets from a zoom sweep.
    Lens(lens::LensArgs),
}

/// Arguments of the one-image calibration.
#[derive(Debug, clap::Args)]
struct ImageArgs {
    /// Field kind: nfl, ncaa, hs or soccer.
    #[arg(long, default_value = "nfl")]
    field: String,
    /// The picture the points were clicked on.
    #[command(flatten)]
    picture: StillArgs,
    /// Clicked points: [{"image": [u, v], "field": [x, y, z]}, ...].
    #[arg(long)]
    points: Option<PathBuf>,
    /// The FreeD D1 packet of the image's frame (58 hex characters).
    #[arg(long)]
    freed: Option<String>,
    /// An existing venue file: its lens table at the FreeD zoom gives the intrinsics (else they
    /// are estimated), and the output keeps its other cameras, lens table and offsets.
    #[arg(long)]
    venue: Option<PathBuf>,
    /// FreeD camera id when there is no --freed packet.
    #[arg(long, default_value_t = 1)]
    id: u8,
    /// Tracking delay written for a new camera (ns).
    #[arg(long, default_value_t = 0)]
    tracking_delay_ns: i64,
    /// Skip the refinement on the painted lines.
    #[arg(long)]
    no_refine: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Where to write the venue file.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The camera in the DESIGN.md convention.
#[derive(Debug, Serialize)]
pub(crate) struct CameraJson {
    rotation: [f64; 9],
    translation: [f64; 3],
    /// Written as the flat keys `fx`, `fy`, `cx`, `cy`, `k1`, `k2`.
    #[serde(flatten)]
    intrinsics: Intrinsics,
}

impl From<&Camera> for CameraJson {
    fn from(c: &Camera) -> Self {
        Self {
            rotation: c.rotation_row_major(),
            translation: [c.translation.x, c.translation.y, c.translation.z],
            intrinsics: c.intrinsics,
        }
    }
}

/// A venue registration: the camera and the frame it belongs to.
#[derive(Debug, Serialize)]
struct RegistrationJson {
    width: u32,
    height: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    frame: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_s: Option<f64>,
    #[serde(flatten)]
    camera: CameraJson,
}

impl From<&Registration> for RegistrationJson {
    fn from(r: &Registration) -> Self {
        Self {
            width: r.width,
            height: r.height,
            frame: r.frame,
            time_s: r.time_s,
            camera: CameraJson::from(&r.camera),
        }
    }
}

#[derive(Debug, Serialize)]
struct LinesJson {
    residual_px: f64,
    inliers: usize,
    lines: usize,
}

#[derive(Debug, Serialize)]
struct Output {
    rms_px: f64,
    points: Vec<f64>,
    outliers: Vec<usize>,
    camera: CameraJson,
    lines: Option<LinesJson>,
    registration: RegistrationJson,
    venue: String,
}

/// A calibration error as the CLI reports it: bad input exits 2, a failed solve 1.
pub(crate) fn calibration_error(context: &Path, e: CalibrationError) -> anyhow::Error {
    if e.is_input_error() {
        UsageError(format!("{}: {e}", context.display())).into()
    } else {
        anyhow::Error::new(e).context(format!("{}", context.display()))
    }
}

fn need<'a, T>(v: Option<&'a T>, flag: &str) -> Result<&'a T, UsageError> {
    v.ok_or_else(|| UsageError(format!("calibrate needs {flag}")))
}

/// Reads `points.json`.
pub(crate) fn read_points(path: &Path) -> anyhow::Result<Vec<Correspondence>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("{}: cannot read: {e}", path.display())))?;
    let points: Vec<Correspondence> = serde_json::from_str(&text).map_err(|e| {
        UsageError(format!(
            "{}: not a points file ([{{\"image\": [u, v], \"field\": [x, y, z]}}, ...]): {e}",
            path.display()
        ))
    })?;
    Ok(points)
}

/// Decodes a FreeD packet given as hex.
pub(crate) fn read_freed(hex: &str, what: &str) -> Result<SensorReading, UsageError> {
    let bytes = parse_hex(hex.trim()).map_err(|e| UsageError(format!("{what}: {e}")))?;
    let packet = decode_checked(&bytes).map_err(|e| UsageError(format!("{what}: {e}")))?;
    Ok(SensorReading::from(packet))
}

/// Runs `yardline calibrate`.
pub fn run(args: &CalibrateArgs) -> anyhow::Result<()> {
    match &args.sub {
        Some(CalibrateSub::Lens(a)) => lens::run(a),
        None => run_image(&args.image),
    }
}

fn run_image(args: &ImageArgs) -> anyhow::Result<()> {
    let kind: FieldKind = args
        .field
        .parse()
        .map_err(|e| UsageError(format!("--field: {e}")))?;
    let points_path = need(args.points.as_ref(), "--points points.json")?;
    let out = need(args.out.as_ref(), "--out venue.toml")?;
    let points = read_points(points_path)?;
    let still = args.picture.load("calibrate")?;
    let img = &still.rgb;
    let size = img.dimensions();
    let reading = args
        .freed
        .as_deref()
        .map(|h| read_freed(h, "--freed"))
        .transpose()?;
    let venue = args
        .venue
        .as_ref()
        .map(|p| Venue::load(p).map_err(|e| UsageError(e.to_string())))
        .transpose()?;
    let base = match (&venue, &reading) {
        (Some(v), Some(r)) => Some(v.camera(r.camera_id).cloned().ok_or_else(|| {
            UsageError(format!(
                "--venue has no camera with the FreeD id {} of --freed",
                r.camera_id
            ))
        })?),
        (Some(_), None) => {
            return Err(UsageError(
                "--venue needs --freed (the lens table is read at the packet's zoom)".into(),
            )
            .into());
        }
        _ => None,
    };
    let intrinsics: Option<Intrinsics> = match (&base, &reading) {
        (Some(b), Some(r)) => Some(
            b.lens
                .at(r.zoom, size.0, size.1)
                .map_err(|e| UsageError(format!("--venue lens table: {e}")))?
                .intrinsics,
        ),
        _ => None,
    };
    let sol = solve_landmarks(&points, size, intrinsics.as_ref())
        .map_err(|e| calibration_error(points_path, e))?;
    let mut camera = sol.camera;
    let mut lines = None;
    if !args.no_refine {
        let used: Vec<Correspondence> = points
            .iter()
            .enumerate()
            .filter(|(i, _)| !sol.outliers.contains(i))
            .map(|(_, c)| *c)
            .collect();
        let opts = RefineOptions {
            estimate_focal: intrinsics.is_none(),
            estimate_k1: intrinsics.is_none(),
            ..RefineOptions::default()
        };
        match refine_rgb(
            img.as_raw(),
            size.0,
            size.1,
            &FieldModel::new(kind),
            &camera,
            &used,
            &opts,
        ) {
            Ok(r) => {
                camera = r.camera;
                lines = Some(LinesJson {
                    residual_px: r.residual_px,
                    inliers: r.inliers,
                    lines: r.lines,
                });
            }
            Err(e) => tracing::warn!("no refinement on the painted lines: {e}"),
        }
    }
    let res = residuals(&camera, &points);
    let used: Vec<f64> = res
        .iter()
        .enumerate()
        .filter(|(i, _)| !sol.outliers.contains(i))
        .map(|(_, r)| *r)
        .collect();
    let rms_px = rms(&used);
    let mut cal = match (&base, &reading) {
        (Some(b), Some(r)) => update_mount(b, &camera, r, size),
        _ => camera_calibration(
            &camera,
            size,
            reading.as_ref(),
            args.id,
            args.tracking_delay_ns,
        ),
    }
    .map_err(|e| calibration_error(points_path, e))?;
    // The solved camera as the registration, with where its frame lies in the video.
    let registration = Registration {
        frame: still.frame,
        time_s: still.time_s,
        ..yardline_calibration::venue::registration(&camera, size)
    };
    cal.registration = Some(registration.clone());
    let mut out_venue = venue.unwrap_or_default();
    if let Some(slot) = out_venue.cameras.iter_mut().find(|c| c.id == cal.id) {
        *slot = cal;
    } else {
        out_venue.cameras.push(cal);
    }
    out_venue
        .save(out)
        .with_context(|| format!("cannot write {}", out.display()))?;
    if args.json {
        let o = Output {
            rms_px,
            points: res,
            outliers: sol.outliers,
            camera: CameraJson::from(&camera),
            lines,
            registration: RegistrationJson::from(&registration),
            venue: out.display().to_string(),
        };
        println!("{}", serde_json::to_string(&o).context("JSON")?);
    } else {
        println!(
            "calibrated: residual {rms_px:.3} px RMS over {} points -> {}",
            used.len(),
            out.display()
        );
        for (i, r) in res.iter().enumerate() {
            let flag = if sol.outliers.contains(&i) {
                "  (outlier, not used)"
            } else {
                ""
            };
            println!("  point {i}: {r:.3} px{flag}");
        }
        if let Some(l) = &lines {
            println!(
                "  painted lines: {:.3} px RMS, {} measurements on {} lines",
                l.residual_px, l.inliers, l.lines
            );
        }
        let c = camera.centre();
        println!(
            "  camera at ({:.3}, {:.3}, {:.3}) m, fx {:.2} px",
            c.x, c.y, c.z, camera.intrinsics.fx
        );
        let at = match (still.frame, still.time_s) {
            (Some(f), Some(t)) => format!(", frame {f} at {t:.3} s of {}", still.path.display()),
            _ => String::new(),
        };
        println!("  registration: {}x{}{at}", size.0, size.1);
    }
    Ok(())
}

/// `yardline calibrate lens`: head position, mount, encoder offsets and zoom lens table from a
/// zoom-sweep folder (`DIR/sweep.jsonl`, format in `yardline_calibration::sweep`), written as
/// a venue file the engine loads.
mod lens {
    use std::path::PathBuf;

    use anyhow::Context;
    use serde::Serialize;
    use yardline_calibration::sweep::{calibrate_sweep, read_sweep};
    use yardline_engine::venue::Venue;

    use super::calibration_error;

    /// Arguments of `yardline calibrate lens`.
    #[derive(Debug, clap::Args)]
    pub struct LensArgs {
        /// The sweep folder (holds sweep.jsonl).
        #[arg(long)]
        frames: PathBuf,
        /// Where to write the calibration (venue file format: head, offsets, lens table).
        #[arg(long)]
        out: PathBuf,
        /// Tracking delay written for the camera (ns).
        #[arg(long, default_value_t = 0)]
        tracking_delay_ns: i64,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    }

    #[derive(Debug, Serialize)]
    struct FrameJson {
        zoom: f64,
        fx: f64,
        k1: f64,
        k2: f64,
        rms_px: f64,
    }

    #[derive(Debug, Serialize)]
    struct LensJson {
        rms_px: f64,
        position: [f64; 3],
        yaw_deg: f64,
        pitch_deg: f64,
        roll_deg: f64,
        tilt_offset_deg: f64,
        roll_offset_deg: f64,
        frames: Vec<FrameJson>,
        table_points: usize,
        out: String,
    }

    /// Runs `yardline calibrate lens`.
    pub fn run(args: &LensArgs) -> anyhow::Result<()> {
        let frames = read_sweep(&args.frames).map_err(|e| calibration_error(&args.frames, e))?;
        let res = calibrate_sweep(&frames, args.tracking_delay_ns)
            .map_err(|e| calibration_error(&args.frames, e))?;
        Venue {
            cameras: vec![res.calibration.clone()],
        }
        .save(&args.out)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
        let per_frame: Vec<FrameJson> = res
            .zooms
            .iter()
            .zip(&res.head.intrinsics)
            .zip(&res.head.residuals_px)
            .map(|((z, k), r)| FrameJson {
                zoom: *z,
                fx: k.fx,
                k1: k.k1,
                k2: k.k2,
                rms_px: yardline_calibration::landmarks::rms(r),
            })
            .collect();
        let m = res.head.mount;
        if args.json {
            let o = LensJson {
                rms_px: res.head.rms_px,
                position: m.position,
                yaw_deg: m.yaw_deg,
                pitch_deg: m.pitch_deg,
                roll_deg: m.roll_deg,
                tilt_offset_deg: res.head.encoder.tilt_offset_deg,
                roll_offset_deg: res.head.encoder.roll_offset_deg,
                frames: per_frame,
                table_points: res.calibration.lens.points().len(),
                out: args.out.display().to_string(),
            };
            println!("{}", serde_json::to_string(&o).context("JSON")?);
        } else {
            println!(
                "zoom sweep: {} frames, residual {:.3} px RMS -> {}",
                frames.len(),
                res.head.rms_px,
                args.out.display()
            );
            println!(
                "  head at ({:.3}, {:.3}, {:.3}) m, mount yaw {:.4} pitch {:.4} roll {:.4} deg, \
                 offsets tilt {:.4} roll {:.4} deg",
                m.position[0],
                m.position[1],
                m.position[2],
                m.yaw_deg,
                m.pitch_deg,
                m.roll_deg,
                res.head.encoder.tilt_offset_deg,
                res.head.encoder.roll_offset_deg
            );
            for f in &per_frame {
                println!(
                    "  zoom {:>8.0}: fx {:>9.2} px, k1 {:+.4}, k2 {:+.4}, {:.3} px RMS",
                    f.zoom, f.fx, f.k1, f.k2, f.rms_px
                );
            }
        }
        Ok(())
    }
}
