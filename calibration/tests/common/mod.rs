//! Test inputs made from the sample generator's truth: field landmarks projected with the
//! generator's own camera (not the engine's) plus seeded click noise.

#![allow(
    dead_code,
    reason = "each test file uses a different part of these helpers"
)]

use nalgebra::{Matrix3, Point3, Rotation3, Vector3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use yardline_calibration::Correspondence;
use yardline_engine::field::{FieldKind, FieldModel};
use yardline_engine::geometry::Camera;
use yardline_samples::TruthRecord;

/// Standard normal deviate (Box-Muller).
pub fn gauss(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Ground landmarks (yard line x sideline/hash) the truth camera sees at least `margin_px`
/// inside the image, with their exact projections, spread out: `n` of them by farthest-point
/// sampling in the image.
pub fn visible_landmarks(truth: &TruthRecord, n: usize, margin_px: f64) -> Vec<Correspondence> {
    let field = FieldModel::new(FieldKind::Nfl);
    let (w, h) = (f64::from(truth.width), f64::from(truth.height));
    let cands: Vec<Correspondence> = field
        .landmarks
        .iter()
        .filter_map(|l| {
            let p = truth.project(l.position)?;
            let inside = p[0] >= margin_px
                && p[1] >= margin_px
                && p[0] <= w - 1.0 - margin_px
                && p[1] <= h - 1.0 - margin_px;
            inside.then_some(Correspondence {
                image: p,
                field: l.position,
            })
        })
        .collect();
    assert!(
        cands.len() >= n,
        "only {} landmarks in view, need {n}",
        cands.len()
    );
    let centre = [0.5 * w, 0.5 * h];
    let d2 = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2);
    let first = cands
        .iter()
        .enumerate()
        .max_by(|a, b| d2(a.1.image, centre).total_cmp(&d2(b.1.image, centre)))
        .map(|(i, _)| i)
        .expect("candidates");
    let mut chosen = vec![first];
    while chosen.len() < n {
        let next = (0..cands.len())
            .filter(|i| !chosen.contains(i))
            .max_by(|&a, &b| {
                let da = chosen
                    .iter()
                    .map(|&c| d2(cands[a].image, cands[c].image))
                    .fold(f64::INFINITY, f64::min);
                let db = chosen
                    .iter()
                    .map(|&c| d2(cands[b].image, cands[c].image))
                    .fold(f64::INFINITY, f64::min);
                da.total_cmp(&db)
            })
            .expect("candidate");
        chosen.push(next);
    }
    chosen.into_iter().map(|i| cands[i]).collect()
}

/// The same points with seeded Gaussian click noise of `sigma_px` per axis.
pub fn with_noise(points: &[Correspondence], sigma_px: f64, seed: u64) -> Vec<Correspondence> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    points
        .iter()
        .map(|c| Correspondence {
            image: [
                c.image[0] + sigma_px * gauss(&mut rng),
                c.image[1] + sigma_px * gauss(&mut rng),
            ],
            field: c.field,
        })
        .collect()
}

/// The engine camera of a truth record.
pub fn truth_camera(t: &TruthRecord) -> Camera {
    Camera::from_record(t.rotation, t.translation, t.intrinsics.to_array()).expect("truth camera")
}

/// Distance between two cameras' centres (metres).
pub fn position_error_m(a: &Camera, b: &Camera) -> f64 {
    (a.centre() - b.centre()).norm()
}

/// Angle of the rotation between two cameras' orientations (degrees).
pub fn rotation_error_deg(a: &Camera, b: &Camera) -> f64 {
    (a.rotation * b.rotation.inverse()).angle().to_degrees()
}

/// RMS image distance (pixels) between clicks and the truth's projections of their field
/// points (the generator's projection).
pub fn truth_rms_px(truth: &TruthRecord, points: &[Correspondence]) -> f64 {
    let s: f64 = points
        .iter()
        .map(|c| {
            let p = truth.project(c.field).expect("projects");
            (p[0] - c.image[0]).powi(2) + (p[1] - c.image[1]).powi(2)
        })
        .sum();
    (s / points.len() as f64).sqrt()
}

/// RMS image distance (pixels) between where two cameras put a set of field points.
pub fn reprojection_rms_px(a: &Camera, b: &Camera, field: &[Point3<f64>]) -> f64 {
    let mut s = 0.0;
    let mut n = 0;
    for p in field {
        if let (Some(pa), Some(pb)) = (a.project(p), b.project(p)) {
            s += (pa - pb).norm_squared();
            n += 1;
        }
    }
    assert!(n > 0, "no common points");
    (s / f64::from(n)).sqrt()
}

/// Unused helper types kept close to the conversions above.
pub fn rotation_of(r: [f64; 9]) -> Rotation3<f64> {
    Rotation3::from_matrix(&Matrix3::from_row_slice(&r))
}

/// A vector from an array.
pub fn v3(a: [f64; 3]) -> Vector3<f64> {
    Vector3::from(a)
}

/// Painted feature points a crew can click at any zoom: the landmarks (yard line x sideline /
/// hash) and both ends of every hash mark and sideline tick.
pub fn feature_points() -> Vec<[f64; 3]> {
    use yardline_engine::field::{LineKind, Shape};
    let field = FieldModel::new(FieldKind::Nfl);
    let mut pts: Vec<[f64; 3]> = field.landmarks.iter().map(|l| l.position).collect();
    for kind in [LineKind::Hash, LineKind::Tick] {
        for l in field.lines_of(kind) {
            if let Shape::Segment { a, b } = l.shape {
                pts.push([a[0], a[1], 0.0]);
                pts.push([b[0], b[1], 0.0]);
            }
        }
    }
    pts
}

/// A zoom sweep of the sample's head and lens: `n` frames from wide to tight (zoom 0 to 0.95
/// of the range), each aimed at a point along the near hash marks, with the feature points in
/// view (at most 16, spread) clicked with `sigma_px` noise, and the FreeD packet of the frame.
pub fn sample_sweep(
    sample: &yardline_samples::Sample,
    width: u32,
    height: u32,
    n: usize,
    sigma_px: f64,
    seed: u64,
) -> Vec<yardline_calibration::sweep::SweepFrame> {
    use yardline_samples::{FreedD1, HeadAngles, LensCurve, PinholeCamera};
    let mount = sample.mount();
    let lens = LensCurve::new(width, height);
    let features = feature_points();
    let hash = FieldKind::Nfl.hash_offset_m().expect("hash");
    (0..n)
        .map(|k| {
            let s = k as f64 / (n - 1) as f64;
            let zoom = (0.95 * 60_000.0 * s).round();
            // Aim along the near hash row, alternating sides, the far row every third frame.
            let tx = 12.0 * (k as f64 * 1.7).sin() - 6.0;
            let ty = if k % 3 == 2 { hash } else { -hash };
            let [mx, my, mz] = mount.position;
            let (dx, dy) = (tx - mx, ty - my);
            let angles = HeadAngles {
                pan_deg: dx.atan2(dy).to_degrees() - mount.yaw_deg,
                tilt_deg: (-mz).atan2((dx * dx + dy * dy).sqrt()).to_degrees() - mount.pitch_deg,
                roll_deg: 0.0,
            };
            let cam = PinholeCamera::from_head(&mount, &angles, lens.intrinsics(zoom));
            let margin = 20.0;
            let exact: Vec<Correspondence> = features
                .iter()
                .filter_map(|p| {
                    let q = cam.project(&Vector3::from(*p))?;
                    let inside = q[0] >= margin
                        && q[1] >= margin
                        && q[0] <= f64::from(width) - 1.0 - margin
                        && q[1] <= f64::from(height) - 1.0 - margin;
                    inside.then_some(Correspondence {
                        image: q,
                        field: *p,
                    })
                })
                .collect();
            let picked = spread(&exact, 16);
            let unit = 1.0 / 32768.0;
            let packet = FreedD1 {
                camera_id: 1,
                pan: (angles.pan_deg / unit).round() as i32,
                tilt: (angles.tilt_deg / unit).round() as i32,
                roll: 0,
                x: 0,
                y: 0,
                z: 0,
                zoom: zoom as u32,
                focus: 32_768,
            };
            let freed = yardline_engine::tracking::freed::to_hex(&packet.encode());
            yardline_calibration::sweep::SweepFrame {
                image: None,
                width,
                height,
                freed,
                points: with_noise(&picked, sigma_px, seed * 1000 + k as u64),
            }
        })
        .collect()
}

/// Up to `n` of the points, spread out by farthest-point sampling in the image.
pub fn spread(points: &[Correspondence], n: usize) -> Vec<Correspondence> {
    if points.len() <= n {
        return points.to_vec();
    }
    let d2 = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2);
    let mut chosen = vec![0_usize];
    while chosen.len() < n {
        let next = (0..points.len())
            .filter(|i| !chosen.contains(i))
            .max_by(|&a, &b| {
                let da = chosen
                    .iter()
                    .map(|&c| d2(points[a].image, points[c].image))
                    .fold(f64::INFINITY, f64::min);
                let db = chosen
                    .iter()
                    .map(|&c| d2(points[b].image, points[c].image))
                    .fold(f64::INFINITY, f64::min);
                da.total_cmp(&db)
            })
            .expect("point");
        chosen.push(next);
    }
    chosen.into_iter().map(|i| points[i]).collect()
}
