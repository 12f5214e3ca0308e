//! Truth consistency: the white yard lines painted in the generator's pixels lie where the
//! ENGINE's field model and camera put them with the truth camera. The two implementations
//! (generator ray casting, engine projection) share no code, so agreement checks both.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail the test by panicking"
)]

use nalgebra::Point3;
use yardline_e2e::{luma, rms, truth_camera};
use yardline_engine::field::{LineKind, Shape};
use yardline_engine::{FieldKind, FieldModel};
use yardline_samples::{MASK_FIELD, RenderedFrame, Sample, SampleConfig, Scenario};

/// Largest RMS distance (pixels) between measured and projected line centres.
const MAX_RMS_PX: f64 = 0.25;
/// Spacing of the stations along each yard line (metres).
const STATION_M: f64 = 0.25;
/// Columns on each side of the profile used for the background level.
const FLANK_PX: usize = 2;
/// Smallest summed luma excess of a usable profile (levels x pixels).
const MIN_EXCESS: f64 = 40.0;

/// Signed perpendicular errors (pixels) of the measured yard-line centres in one frame.
fn frame_errors(f: &RenderedFrame, field: &FieldModel) -> Vec<f64> {
    let cam = truth_camera(&f.truth);
    let (w, h) = (f.truth.width as usize, f.truth.height as usize);
    let proj = |x: f64, y: f64| cam.project(&Point3::new(x, y, 0.0)).map(|p| [p.x, p.y]);
    let mut errors = Vec::new();
    let lines = field
        .lines_of(LineKind::YardLine)
        .chain(field.lines_of(LineKind::GoalLine));
    for line in lines {
        let Shape::Segment { a, b } = line.shape else {
            continue;
        };
        let x = a[0];
        let half = 0.5 * line.width_m;
        let (y0, y1) = (a[1].min(b[1]) + 1.0, a[1].max(b[1]) - 1.0);
        let mut y = y0;
        while y <= y1 {
            if let Some(e) = measure(f, &proj, x, y, half, w, h) {
                errors.push(e);
            }
            y += STATION_M;
        }
    }
    errors
}

/// Measures the line centre on the image row nearest to the projection of (x, y).
fn measure(
    f: &RenderedFrame,
    proj: &impl Fn(f64, f64) -> Option<[f64; 2]>,
    x: f64,
    y: f64,
    half: f64,
    w: usize,
    h: usize,
) -> Option<f64> {
    let p = proj(x, y)?;
    let (pa, pb) = (proj(x, y - 0.05)?, proj(x, y + 0.05)?);
    let (du, dv) = (pb[0] - pa[0], pb[1] - pa[1]);
    let len = (du * du + dv * dv).sqrt();
    let steep = dv.abs() / len;
    if steep < 0.5 {
        return None;
    }
    let r = p[1].round();
    if r < 0.0 || r > (h - 1) as f64 {
        return None;
    }
    let u_line = p[0] + (r - p[1]) * du / dv;
    // Apparent width across the row, and the neighbouring painted marks (1 yd away).
    let width_px = (proj(x + half, y)?[0] - proj(x - half, y)?[0]).abs() / steep.max(1e-3);
    let gap_px = (proj(x + 0.9144, y)?[0] - p[0])
        .abs()
        .min((proj(x - 0.9144, y)?[0] - p[0]).abs());
    let inner = (0.5 * width_px).ceil() as usize + 2;
    if (inner + FLANK_PX + 2) as f64 > gap_px {
        return None;
    }
    let c0 = u_line.round() as i64 - (inner + FLANK_PX) as i64;
    let c1 = u_line.round() as i64 + (inner + FLANK_PX) as i64;
    if c0 < 0 || c1 >= w as i64 {
        return None;
    }
    let (c0, c1, row) = (c0 as usize, c1 as usize, r as usize);
    if (c0..=c1).any(|c| f.mask[row * w + c] != MASK_FIELD) {
        return None;
    }
    let l = |c: usize| luma(&f.rgb, w, c, row);
    let left = (c0..c0 + FLANK_PX).map(l).sum::<f64>() / FLANK_PX as f64;
    let right = (c1 + 1 - FLANK_PX..=c1).map(l).sum::<f64>() / FLANK_PX as f64;
    let (lx, rx) = (
        c0 as f64 + 0.5 * (FLANK_PX - 1) as f64,
        c1 as f64 - 0.5 * (FLANK_PX - 1) as f64,
    );
    let (mut sum, mut moment) = (0.0, 0.0);
    for c in c0 + FLANK_PX..=c1 - FLANK_PX {
        let bg = left + (right - left) * (c as f64 - lx) / (rx - lx);
        let e = l(c) - bg;
        sum += e;
        moment += e * c as f64;
    }
    if sum < MIN_EXCESS {
        return None;
    }
    Some((moment / sum - u_line) * steep)
}

fn check(scenario: Scenario, width: u32, height: u32, seed: u64, frames: &[u32]) -> Vec<f64> {
    let s = Sample::new(SampleConfig {
        seed,
        frames: 400,
        width,
        height,
        scenario,
        ..SampleConfig::default()
    })
    .unwrap();
    let field = FieldModel::new(FieldKind::Nfl);
    let mut all = Vec::new();
    for &i in frames {
        let f = s.render_frame(i).unwrap();
        let e = frame_errors(&f, &field);
        let mean = e.iter().sum::<f64>() / e.len().max(1) as f64;
        println!(
            "{scenario} {width}x{height} frame {i}: fx {:.0}, k1 {:.3}: {} points, rms {:.3} px, mean {:+.3} px",
            f.truth.intrinsics.fx,
            f.truth.intrinsics.k1,
            e.len(),
            rms(&e),
            mean
        );
        assert!(e.len() >= 50, "frame {i}: only {} usable points", e.len());
        all.extend(e);
    }
    all
}

#[test]
fn painted_yard_lines_lie_where_the_engine_projects_them() {
    let mut all = check(Scenario::Default, 640, 360, 1, &[0, 30, 59]);
    all.extend(check(Scenario::Hard, 960, 540, 3, &[0, 120, 200]));
    all.extend(check(Scenario::Static, 1280, 720, 4, &[10]));
    let r = rms(&all);
    println!("all: {} points, rms {r:.3} px", all.len());
    assert!(
        r <= MAX_RMS_PX,
        "yard lines are {r:.3} px RMS from the engine's projection"
    );
}
