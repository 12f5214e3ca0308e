//! A 20-frame zoom sweep of the sample's head: the lens table's focal length against the
//! sample's lens curve, and the venue it makes against the sample's own venue.toml when
//! rendering the sample.

mod common;

use common::{reprojection_rms_px, sample_sweep, truth_camera};
use nalgebra::Point3;
use yardline_calibration::sweep::{SWEEP_FILE, calibrate_sweep, read_sweep, write_sweep};
use yardline_engine::field::{FieldKind, FieldModel, LineKind, Shape};
use yardline_engine::tracking::SensorReading;
use yardline_engine::tracking::freed::decode_checked;
use yardline_engine::venue::Venue;
use yardline_samples::{LensCurve, Sample, SampleConfig};

/// Field points the render comparison measures: landmarks and points along every straight
/// painted line (yard lines, sidelines, hash marks), every metre.
fn field_points() -> Vec<Point3<f64>> {
    let field = FieldModel::new(FieldKind::Nfl);
    let mut pts: Vec<Point3<f64>> = field
        .landmarks
        .iter()
        .map(|l| Point3::from(l.position))
        .collect();
    for l in &field.lines {
        if l.kind == LineKind::Tick {
            continue;
        }
        if let Shape::Segment { .. } = l.shape {
            pts.extend(
                l.shape
                    .sample(1.0)
                    .into_iter()
                    .map(|p| Point3::new(p.x, p.y, 0.0)),
            );
        }
    }
    pts
}

#[test]
fn a_twenty_frame_sweep_gives_the_lens_and_a_venue_as_good_as_the_truth() {
    let sample = Sample::new(SampleConfig {
        frames: 600,
        width: 1280,
        height: 720,
        ..SampleConfig::default()
    })
    .expect("sample");
    let frames = sample_sweep(&sample, 1920, 1080, 20, 0.5, 1);
    let dir = tempfile::tempdir().expect("tempdir");
    write_sweep(dir.path(), &frames).expect("write");
    assert!(dir.path().join(SWEEP_FILE).is_file());
    let frames = read_sweep(dir.path()).expect("read");
    assert_eq!(frames.len(), 20);
    let res = calibrate_sweep(&frames, sample.config().tracking_delay_ns()).expect("sweep");
    println!(
        "head at {:?}, yaw {:.4} pitch {:.4} roll {:.4} deg, offsets tilt {:.4} roll {:.4}, \
         rms {:.3} px",
        res.head.mount.position,
        res.head.mount.yaw_deg,
        res.head.mount.pitch_deg,
        res.head.mount.roll_deg,
        res.head.encoder.tilt_offset_deg,
        res.head.encoder.roll_offset_deg,
        res.head.rms_px
    );
    // Focal length across the range, at the sweep's size.
    let curve = LensCurve::new(1920, 1080);
    let table = &res.calibration.lens;
    let mut worst = 0.0_f64;
    for i in 0..=100 {
        let z = 0.95 * 60_000.0 * f64::from(i) / 100.0;
        let got = table.at(z, 1920, 1080).expect("lens").intrinsics.fx;
        let want = curve.intrinsics(z).fx;
        worst = worst.max((got / want - 1.0).abs());
    }
    println!(
        "lens table focal length: worst error {:.3} % over the sweep range",
        100.0 * worst
    );
    assert!(worst <= 0.003, "focal error {:.3} %", 100.0 * worst);
    let pos = nalgebra::Vector3::from(res.head.mount.position)
        - nalgebra::Vector3::from(sample.mount().position);
    assert!(
        pos.norm() <= 0.15,
        "head position error {:.3} m",
        pos.norm()
    );

    // Render accuracy on the sample itself (1280x720, its own FreeD stream): reprojection
    // RMS of the field lines and landmarks of each frame's sensor camera against the truth,
    // with the calibrated venue and with the sample's venue.toml.
    let truth_venue =
        Venue::from_toml_str(&sample.venue().to_toml().expect("toml")).expect("truth venue");
    let ours = Venue {
        cameras: vec![res.calibration.clone()],
    };
    let path = dir.path().join("venue.toml");
    ours.save(&path).expect("save");
    let ours = Venue::load(&path).expect("load");
    let pts = field_points();
    let (mut sum_ours, mut sum_truth, mut n) = (0.0, 0.0, 0_u32);
    let mut worst_frame = 0.0_f64;
    for i in (0..600).step_by(10) {
        let Some(p) = sample.freed_packet(i).expect("frame") else {
            continue;
        };
        let reading = SensorReading::from(decode_checked(&p.encode()).expect("packet"));
        let truth = truth_camera(&sample.truth(i).expect("truth"));
        let a = ours.cameras[0]
            .camera_for(&reading, 1280, 720)
            .expect("camera");
        let b = truth_venue.cameras[0]
            .camera_for(&reading, 1280, 720)
            .expect("camera");
        let in_view: Vec<Point3<f64>> = pts
            .iter()
            .filter(|q| {
                truth
                    .project(q)
                    .is_some_and(|px| (0.0..1280.0).contains(&px.x) && (0.0..720.0).contains(&px.y))
            })
            .copied()
            .collect();
        let ra = reprojection_rms_px(&a, &truth, &in_view);
        let rb = reprojection_rms_px(&b, &truth, &in_view);
        sum_ours += ra * ra;
        sum_truth += rb * rb;
        worst_frame = worst_frame.max(ra - rb);
        n += 1;
    }
    let (rms_ours, rms_truth) = (
        (sum_ours / f64::from(n)).sqrt(),
        (sum_truth / f64::from(n)).sqrt(),
    );
    println!(
        "render on the sample ({n} frames, 1280x720): calibrated venue {rms_ours:.3} px RMS, \
         sample venue {rms_truth:.3} px RMS, worst frame excess {worst_frame:.3} px"
    );
    assert!(
        rms_ours <= rms_truth + 0.2,
        "{rms_ours:.3} vs {rms_truth:.3}"
    );
}
