//! Vision refinement, fused and vision-only pose on real generated frames (yardline-samples).

use std::time::Instant;

use nalgebra::{Point3, Vector3};
use yardline_engine::Camera;
use yardline_engine::field::{FieldKind, FieldModel, yard_to_x};
use yardline_engine::pose::{
    NoPose, PoseConfig, PoseEstimate, PoseEstimator, PoseMode, PoseSource, TrackState,
};
use yardline_engine::tracking::SensorReading;
use yardline_engine::tracking::freed::decode_checked;
use yardline_engine::venue::Venue;
use yardline_engine::vision::{
    Correction, Homography, LineTemplate, LumaView, MeasureParams, SolveConfig, measure,
    register_homography, solve_correction,
};
use yardline_frame::{FrameLayout, FrameRef, PixelFormat};
use yardline_samples::{RenderedFrame, Sample, SampleConfig, Scenario, TruthRecord};

/// Stations along the first-down line for the camera error (as the eval scorer).
const STATIONS: usize = 201;

fn config(scenario: Scenario, w: u32, h: u32, frames: u32) -> SampleConfig {
    SampleConfig {
        scenario,
        width: w,
        height: h,
        frames,
        seed: 7,
        ..SampleConfig::default()
    }
}

/// The rendered frame as packed `RGBx`.
fn rgbx(f: &RenderedFrame) -> (FrameLayout, Vec<u8>) {
    let (w, h) = (f.truth.width, f.truth.height);
    let layout = FrameLayout::packed(PixelFormat::Rgbx, w, h).expect("layout");
    let mut data = vec![0_u8; layout.size];
    for (px, src) in data.chunks_exact_mut(4).zip(f.rgb.chunks_exact(3)) {
        px[..3].copy_from_slice(src);
        px[3] = 255;
    }
    (layout, data)
}

fn truth_camera(t: &TruthRecord) -> Camera {
    Camera::from_record(t.rotation, t.translation, t.intrinsics.to_array()).expect("truth camera")
}

/// The sensor camera of each frame: the frame's FreeD packet decoded by the engine and posed
/// with the sample's venue file (`None` where the packet is lost).
fn sensor_cameras(sample: &Sample) -> Vec<Option<Camera>> {
    let venue =
        Venue::from_toml_str(&sample.venue().to_toml().expect("venue toml")).expect("venue");
    let cal = venue.camera(1).expect("camera 1");
    let cfg = sample.config();
    (0..sample.frame_count())
        .map(|i| {
            let p = sample.freed_packet(i).expect("packet")?;
            let packet = decode_checked(&p.encode()).expect("decode");
            let reading = SensorReading::from(&packet);
            Some(
                cal.camera_for(&reading, cfg.width, cfg.height)
                    .expect("sensor camera"),
            )
        })
        .collect()
}

/// Sum of squared distances (pixels^2) and count between the first-down line projected with
/// `est` and with `truth`, over the stations the truth shows in the image; also the mean
/// signed offset along the line's image normal.
fn line_error(est: &Camera, truth: &Camera, yard: f64, w: u32, h: u32) -> (f64, usize, f64) {
    let x = yard_to_x(yard);
    let half = 80.0 * 0.3048;
    let (mut sq, mut n, mut signed) = (0.0, 0, 0.0);
    for k in 0..STATIONS {
        let y = -half + 2.0 * half * k as f64 / (STATIONS - 1) as f64;
        let p = Point3::new(x, y, 0.0);
        let Some(t) = truth.project(&p) else { continue };
        if t.x < -0.5 || t.y < -0.5 || t.x > f64::from(w) - 0.5 || t.y > f64::from(h) - 0.5 {
            continue;
        }
        let Some(q) = est.project(&p) else {
            sq += 1e6;
            n += 1;
            continue;
        };
        let Some(t2) = truth.project(&Point3::new(x, y + 0.01, 0.0)) else {
            continue;
        };
        let dir = (t2 - t).normalize();
        let normal = nalgebra::Vector2::new(-dir.y, dir.x);
        sq += (q - t).norm_squared();
        signed += normal.dot(&(q - t));
        n += 1;
    }
    (sq, n, if n > 0 { signed / n as f64 } else { 0.0 })
}

/// A camera rotated about its centre and zoomed.
fn perturbed(cam: &Camera, rot_deg: [f64; 3], scale: f64) -> Camera {
    Correction {
        rotation: Vector3::from(rot_deg.map(f64::to_radians)),
        log_scale: scale.ln(),
        k1: 0.0,
    }
    .apply(cam)
}

struct RunStats {
    rms_px: f64,
    sensor_rms_px: f64,
    offsets: Vec<f64>,
    sources: Vec<PoseSource>,
    times_ms: Vec<f64>,
}

/// Runs the estimator over a sample; `vision_only` gives it the truth of frame 0 as the
/// reference and no sensors.
fn run(sample: &Sample, mode: PoseMode, vision_only: bool, skip: u32) -> RunStats {
    let cfg = sample.config().clone();
    let sensors = sensor_cameras(sample);
    let mut est = PoseEstimator::new(FieldModel::new(FieldKind::Nfl), mode, PoseConfig::default());
    let (mut sq, mut n, mut ssq, mut sn) = (0.0, 0, 0.0, 0);
    let mut offsets = Vec::new();
    let mut sources = Vec::new();
    let mut times_ms = Vec::new();
    for i in 0..sample.frame_count() {
        let f = sample.render_frame(i).expect("render");
        let truth = truth_camera(&f.truth);
        if vision_only && i == 0 {
            est.set_reference(truth);
        }
        let (layout, data) = rgbx(&f);
        let frame = FrameRef::new(&layout, &data).expect("frame");
        let sensor = if vision_only {
            None
        } else {
            sensors[i as usize]
        };
        let t0 = Instant::now();
        let e: PoseEstimate = est.estimate(frame, sensor.as_ref());
        times_ms.push(t0.elapsed().as_secs_f64() * 1e3);
        sources.push(e.source);
        if i < skip {
            continue;
        }
        let cam = e.camera.expect("a camera every frame");
        let (s, k, off) = line_error(&cam, &truth, cfg.first_down_yard, cfg.width, cfg.height);
        sq += s;
        n += k;
        if k > 0 {
            offsets.push(off);
        }
        if let Some(sc) = sensor {
            let (s, k, _) = line_error(&sc, &truth, cfg.first_down_yard, cfg.width, cfg.height);
            ssq += s;
            sn += k;
        }
    }
    RunStats {
        rms_px: (sq / n.max(1) as f64).sqrt(),
        sensor_rms_px: (ssq / sn.max(1) as f64).sqrt(),
        offsets,
        sources,
        times_ms,
    }
}

fn std_dev(v: &[f64]) -> f64 {
    let m = v.iter().sum::<f64>() / v.len().max(1) as f64;
    (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len().max(1) as f64).sqrt()
}

fn p99(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[((s.len() as f64 * 0.99).ceil() as usize).clamp(1, s.len()) - 1]
}

#[test]
fn luma_fast_path_matches_the_frame_accessor() {
    let (w, h) = (37_u32, 11_u32);
    for format in PixelFormat::ALL {
        let layout = FrameLayout::packed(format, w, h).expect("layout");
        let data: Vec<u8> = (0..layout.size).map(|i| (i * 7919 % 251) as u8).collect();
        let frame = FrameRef::new(&layout, &data).expect("frame");
        let luma = LumaView::new(frame);
        for y in 0..h {
            for x in 0..w {
                let (a, b) = (luma.at(x, y), luma.at_reference(x, y));
                assert!((a - b).abs() < 1e-3, "{format} ({x},{y}): {a} vs {b}");
            }
        }
    }
}

#[test]
fn template_skips_crowded_points_and_limits_clearance() {
    let field = FieldModel::new(FieldKind::Nfl);
    let t = LineTemplate::new(&field);
    assert!(t.points().len() > 3000, "{} points", t.points().len());
    // No point lies on a line crossing: every clearance is positive and capped.
    assert!(
        t.points()
            .iter()
            .all(|p| p.clearance_m > 0.2 && p.clearance_m <= 10.0)
    );
    // Hash marks have their neighbours a yard away.
    let hash = t
        .points()
        .iter()
        .find(|p| field.lines[p.line as usize].kind == yardline_engine::field::LineKind::Hash)
        .expect("a hash point");
    assert!(
        (hash.clearance_m - 0.9144).abs() < 1e-6,
        "{}",
        hash.clearance_m
    );
    let soccer = LineTemplate::new(&FieldModel::new(FieldKind::Soccer));
    assert!(soccer.points().len() > 500);
}

#[test]
fn measurements_sit_on_the_true_lines() {
    let sample = Sample::new(config(Scenario::Default, 640, 360, 1)).expect("sample");
    let f = sample.render_frame(0).expect("render");
    let truth = truth_camera(&f.truth);
    let (layout, data) = rgbx(&f);
    let luma = LumaView::new(FrameRef::new(&layout, &data).expect("frame"));
    let template = LineTemplate::new(&FieldModel::new(FieldKind::Nfl));
    // Predict with a camera 0.1 degree and 2 % off: the lines are found where they truly are.
    let pred = perturbed(&truth, [0.1, -0.08, 0.05], 1.02);
    let params = MeasureParams {
        max_range_px: 10.0,
        spacing_px: 8.0,
        ..MeasureParams::default()
    };
    let meas = measure(&luma, &pred, &template, &params);
    assert!(meas.len() >= 60, "{} measurements", meas.len());
    let mut res: Vec<f64> = meas
        .iter()
        .filter_map(|m| truth.project(&m.field).map(|q| m.residual(q).abs()))
        .collect();
    res.sort_by(f64::total_cmp);
    let median = res[res.len() / 2];
    let good = res.iter().filter(|r| **r < 0.5).count() as f64 / res.len() as f64;
    assert!(median < 0.15, "median |residual| {median:.3} px");
    assert!(good > 0.9, "share within 0.5 px {good:.3}");
}

#[test]
fn line_ends_are_found_where_the_marks_stop() {
    // A zoom into the play: the hash marks are large enough for their ends to be measured.
    let sample = Sample::new(config(Scenario::Zoom, 1280, 720, 150)).expect("sample");
    let template = LineTemplate::new(&FieldModel::new(FieldKind::Nfl));
    assert!(
        template.ends().len() > 300,
        "{} free ends",
        template.ends().len()
    );
    let params = MeasureParams {
        max_range_px: 8.0,
        ends: true,
        ..MeasureParams::default()
    };
    let mut found = Vec::new();
    for frame in (0..150).step_by(4) {
        let f = sample.render_frame(frame).expect("render");
        if f.truth.intrinsics.fx < 3000.0 {
            continue;
        }
        let truth = truth_camera(&f.truth);
        let (layout, data) = rgbx(&f);
        let luma = LumaView::new(FrameRef::new(&layout, &data).expect("frame"));
        // Predicted a little off along the lines (a tilt): the ends are found where they are.
        let pred = perturbed(&truth, [0.02, 0.0, 0.0], 1.0);
        for m in measure(&luma, &pred, &template, &params) {
            let Some(end) = template.ends().iter().find(|e| e.field == m.field) else {
                continue;
            };
            let q = truth.project(&m.field).expect("in view");
            // Measured out of the line, across the end's edge.
            let along = truth
                .project(&(m.field + Vector3::new(end.tangent.x, end.tangent.y, 0.0) * 0.01))
                .expect("in view")
                - q;
            assert!(along.normalize().dot(&m.normal) > 0.5, "{m:?}");
            found.push(m.residual(q).abs());
        }
    }
    assert!(found.len() >= 40, "{} ends measured", found.len());
    found.sort_by(f64::total_cmp);
    let median = found[found.len() / 2];
    let good = found.iter().filter(|r| **r < 0.5).count() as f64 / found.len() as f64;
    assert!(median < 0.2, "median |residual| {median:.3} px");
    assert!(good > 0.85, "share within 0.5 px {good:.3}");
}

#[test]
fn solver_recovers_a_perturbed_camera() {
    let sample = Sample::new(config(Scenario::Default, 640, 360, 1)).expect("sample");
    let f = sample.render_frame(0).expect("render");
    let truth = truth_camera(&f.truth);
    let (layout, data) = rgbx(&f);
    let luma = LumaView::new(FrameRef::new(&layout, &data).expect("frame"));
    let template = LineTemplate::new(&FieldModel::new(FieldKind::Nfl));
    let start = perturbed(&truth, [0.15, -0.12, 0.1], 1.03);
    let (before, n, _) = line_error(&start, &truth, 35.0, 640, 360);
    let params = MeasureParams {
        max_range_px: 16.0,
        spacing_px: 8.0,
        ..MeasureParams::default()
    };
    let mut corr = Correction::default();
    let mut residual = f64::NAN;
    for _ in 0..2 {
        let meas = measure(&luma, &corr.apply(&start), &template, &params);
        let res =
            solve_correction(&start, &corr, &meas, 367.0, &SolveConfig::default()).expect("solve");
        corr = res.value;
        residual = res.residual_px;
        assert!(res.lines >= 3);
    }
    let (after, m, _) = line_error(&corr.apply(&start), &truth, 35.0, 640, 360);
    let (before, after) = ((before / n as f64).sqrt(), (after / m as f64).sqrt());
    assert!(before > 3.0, "the start is visibly off: {before:.2} px");
    assert!(
        after < 0.35,
        "first-down line error {after:.3} px (from {before:.2})"
    );
    assert!(residual < 0.5, "residual {residual:.3} px");
}

#[test]
fn fused_corrects_drift_where_the_sensor_is_off() {
    let sample = Sample::new(config(Scenario::Drift, 640, 360, 150)).expect("sample");
    let s = run(&sample, PoseMode::Fused, false, 0);
    let fused = s
        .sources
        .iter()
        .filter(|x| **x == PoseSource::Fused)
        .count();
    assert!(
        fused >= 145,
        "fused on {fused} of 150 frames: {:?}",
        s.sources
    );
    assert!(
        s.sensor_rms_px > 2.0 && s.rms_px <= 0.5 && s.rms_px < 0.25 * s.sensor_rms_px,
        "fused {:.3} px vs sensor-only {:.3} px",
        s.rms_px,
        s.sensor_rms_px
    );
}

/// The line error (RMS px) on each of `stale` frames when the sensor reading of those frames is
/// the one from `lag` frames earlier (a late FreeD packet taken for the current one), and
/// whether the estimator gated it; `gate_px` is the innovation gate.
fn stale_readings(sample: &Sample, stale: &[u32], lag: u32, gate_px: f64) -> Vec<(f64, f64, bool)> {
    let cfg = sample.config().clone();
    let sensors = sensor_cameras(sample);
    let config = PoseConfig {
        fused_gate_px: gate_px,
        ..PoseConfig::default()
    };
    let mut est = PoseEstimator::new(FieldModel::new(FieldKind::Nfl), PoseMode::Fused, config);
    let mut out = Vec::new();
    for i in 0..sample.frame_count() {
        let f = sample.render_frame(i).expect("render");
        let truth = truth_camera(&f.truth);
        let (layout, data) = rgbx(&f);
        let frame = FrameRef::new(&layout, &data).expect("frame");
        let sensor = if stale.contains(&i) {
            sensors[(i - lag) as usize]
        } else {
            sensors[i as usize]
        };
        let e = est.estimate(frame, sensor.as_ref());
        if stale.contains(&i) {
            let rms = |c: &Camera| {
                let (sq, n, _) = line_error(c, &truth, cfg.first_down_yard, cfg.width, cfg.height);
                (sq / n.max(1) as f64).sqrt()
            };
            let drawn = rms(&e.camera.expect("a camera"));
            let raw = rms(&sensor.expect("a reading"));
            out.push((drawn, raw, est.last_estimate_gated()));
        }
    }
    out
}

#[test]
fn fused_draws_a_late_reading_with_the_lines_and_keeps_the_filter() {
    let sample = Sample::new(config(Scenario::Default, 1280, 720, 48)).expect("sample");
    let stale = [20, 31, 42];
    let gated = stale_readings(&sample, &stale, 3, PoseConfig::default().fused_gate_px);
    let ungated = stale_readings(&sample, &stale, 3, f64::INFINITY);
    for ((drawn, raw, was_gated), (plain, _, _)) in gated.iter().zip(&ungated) {
        assert!(
            *raw > 3.0,
            "the stale reading is only {raw:.2} px off: {gated:?}"
        );
        assert!(*was_gated, "not gated: {gated:?}");
        assert!(
            *drawn < 1.0 && *drawn < 0.5 * plain,
            "gated {drawn:.2} px, without the gate {plain:.2} px, stale sensor {raw:.2} px"
        );
    }
}

#[test]
fn fused_static_camera_does_not_jitter() {
    let sample = Sample::new(config(Scenario::Static, 640, 360, 40)).expect("sample");
    let s = run(&sample, PoseMode::Auto, false, 5);
    assert!(
        s.sources[5..].iter().all(|x| *x == PoseSource::Fused),
        "{:?}",
        s.sources
    );
    let jitter = std_dev(&s.offsets);
    assert!(jitter <= 0.1, "jitter {jitter:.4} px");
    assert!(s.rms_px <= 0.5, "error {:.3} px", s.rms_px);
}

#[test]
fn vision_only_tracks_the_default_scenario() {
    let sample = Sample::new(config(Scenario::Default, 640, 360, 120)).expect("sample");
    let s = run(&sample, PoseMode::Vision, true, 0);
    assert!(
        s.sources.iter().all(|x| *x == PoseSource::Vision),
        "lost lock: {:?}",
        s.sources
    );
    assert!(s.rms_px <= 1.0, "vision-only error {:.3} px", s.rms_px);
}

#[test]
fn holds_then_gives_up_then_recovers_after_a_cut() {
    let sample = Sample::new(config(Scenario::Default, 640, 360, 3)).expect("sample");
    let frames: Vec<_> = (0..3)
        .map(|i| sample.render_frame(i).expect("render"))
        .collect();
    let truth = truth_camera(&frames[0].truth);
    let cfg = PoseConfig {
        hold_frames: 3,
        ..PoseConfig::default()
    };
    let mut est = PoseEstimator::new(FieldModel::new(FieldKind::Nfl), PoseMode::Vision, cfg);
    // No reference yet: nothing to track from.
    let (layout, data) = rgbx(&frames[0]);
    let frame = FrameRef::new(&layout, &data).expect("frame");
    assert_eq!(est.estimate(frame, None).source, PoseSource::None);
    est.set_reference(truth);
    let e = est.estimate(frame, None);
    assert_eq!(e.source, PoseSource::Vision);
    assert!(
        e.residual_px.is_some_and(|r| r < 0.5) && e.inliers >= 30,
        "{e:?}"
    );
    // A cut to a shot without lines (flat grass): nothing checks the old pose, so vision-only
    // tracking draws nothing rather than hold it, and says why.
    let blank: Vec<u8> = (0..layout.size)
        .map(|i| [60_u8, 118, 50, 255][i % 4])
        .collect();
    let blank_frame = FrameRef::new(&layout, &blank).expect("frame");
    for k in 0..5 {
        let e = est.estimate(blank_frame, None);
        assert_eq!(e.source, PoseSource::None, "{e:?}");
        let why = if k == 0 {
            NoPose::Unchecked
        } else {
            NoPose::NoFit
        };
        assert_eq!(e.reason, Some(why), "{e:?}");
        assert_eq!(e.state, TrackState::Searching, "{e:?}");
        assert!(e.confidence.abs() < f64::EPSILON, "{e:?}");
    }
    // Back to the camera: the lines fit again from the last good pose.
    est.reset();
    let (layout2, data2) = rgbx(&frames[2]);
    let e = est.estimate(FrameRef::new(&layout2, &data2).expect("frame"), None);
    assert_eq!(e.source, PoseSource::Vision, "{e:?}");
    let (sq, n, _) = line_error(
        &e.camera.expect("camera"),
        &truth_camera(&frames[2].truth),
        35.0,
        640,
        360,
    );
    assert!((sq / n as f64).sqrt() < 0.5);
}

#[test]
fn a_held_pose_is_drawn_only_while_the_lines_agree() {
    let sample = Sample::new(config(Scenario::Default, 640, 360, 90)).expect("sample");
    let first = sample.render_frame(0).expect("render");
    let truth0 = truth_camera(&first.truth);
    let mut est = PoseEstimator::new(
        FieldModel::new(FieldKind::Nfl),
        PoseMode::Fused,
        PoseConfig {
            hold_frames: 30,
            ..PoseConfig::default()
        },
    );
    let (layout, data) = rgbx(&first);
    let frame = FrameRef::new(&layout, &data).expect("frame");
    let e = est.estimate(frame, Some(&truth0));
    assert_eq!(e.source, PoseSource::Fused, "{e:?}");
    assert!(e.confidence > 0.9, "{e:?}");
    // The sensor drops out on the same view: the lines confirm the held camera.
    let e = est.estimate(frame, None);
    assert_eq!(e.source, PoseSource::Hold, "{e:?}");
    assert_eq!(e.state, TrackState::Holding);
    assert!(e.confidence > 0.9 && e.opacity > 0.99, "{e:?}");
    // The camera keeps moving while the sensor is out: the first frame whose first-down line
    // lies 3 px from the held camera's is contradicted, and nothing is drawn.
    let moved = (1..sample.frame_count())
        .find(|&i| {
            let t = truth_camera(&sample.truth(i).expect("truth").clone());
            let (sq, n, _) = line_error(&truth0, &t, 35.0, 640, 360);
            n > 0 && (sq / n as f64).sqrt() > 3.0
        })
        .expect("the camera moves 3 px within the clip");
    let f = sample.render_frame(moved).expect("render");
    let (layout, data) = rgbx(&f);
    let e = est.estimate(FrameRef::new(&layout, &data).expect("frame"), None);
    assert_eq!(e.source, PoseSource::None, "frame {moved}: {e:?}");
    assert_eq!(e.reason, Some(NoPose::Contradicted), "{e:?}");
    assert!(e.camera.is_none() && e.opacity.abs() < f64::EPSILON);
    // And the hold is over: the view returning does not bring the stale camera back.
    let e = est.estimate(frame, None);
    assert_eq!(e.source, PoseSource::None, "{e:?}");
}

#[test]
fn auto_falls_back_to_sensor_and_back_to_fused() {
    let sample = Sample::new(config(Scenario::Drift, 640, 360, 3)).expect("sample");
    let sensors = sensor_cameras(&sample);
    let frames: Vec<_> = (0..3)
        .map(|i| sample.render_frame(i).expect("render"))
        .collect();
    let mut est = PoseEstimator::new(
        FieldModel::new(FieldKind::Nfl),
        PoseMode::Auto,
        PoseConfig::default(),
    );
    let (layout, data) = rgbx(&frames[0]);
    let e = est.estimate(
        FrameRef::new(&layout, &data).expect("frame"),
        sensors[0].as_ref(),
    );
    assert_eq!(e.source, PoseSource::Fused);
    let blank: Vec<u8> = (0..layout.size)
        .map(|i| [60_u8, 118, 50, 255][i % 4])
        .collect();
    let blank_frame = FrameRef::new(&layout, &blank).expect("frame");
    // Lines gone: the sensor camera, keeping the last (tiny, at frame 0 of drift) correction.
    let e = est.estimate(blank_frame, sensors[1].as_ref());
    assert_eq!(e.source, PoseSource::Sensor);
    let (cam, sensor) = (e.camera.expect("camera"), sensors[1].expect("sensor"));
    let (sq, n, _) = line_error(&cam, &sensor, 35.0, 640, 360);
    assert!((sq / n as f64).sqrt() < 1.0);
    let (layout, data) = rgbx(&frames[2]);
    let e = est.estimate(
        FrameRef::new(&layout, &data).expect("frame"),
        sensors[2].as_ref(),
    );
    assert_eq!(e.source, PoseSource::Fused);
    // Sensor mode never looks at the image.
    est.set_mode(PoseMode::Sensor);
    let e = est.estimate(blank_frame, sensors[2].as_ref());
    assert_eq!((e.source, e.camera), (PoseSource::Sensor, sensors[2]));
    // Fused without a sensor holds.
    est.set_mode(PoseMode::Fused);
    assert_eq!(est.estimate(blank_frame, None).source, PoseSource::Hold);
    assert_eq!("vision".parse::<PoseMode>(), Ok(PoseMode::Vision));
    assert!("gyro".parse::<PoseMode>().is_err());
}

#[test]
fn homography_registration_locks_from_a_rough_start() {
    let sample = Sample::new(config(Scenario::Static, 640, 360, 1)).expect("sample");
    let f = sample.render_frame(0).expect("render");
    let truth = truth_camera(&f.truth);
    let (layout, data) = rgbx(&f);
    let luma = LumaView::new(FrameRef::new(&layout, &data).expect("frame"));
    let template = LineTemplate::new(&FieldModel::new(FieldKind::Nfl));
    let true_h = Homography::from_camera(&truth);
    let start = Homography::from_camera(&perturbed(&truth, [0.4, -0.3, 1.5], 1.08));
    let fit = register_homography(&luma, &template, &start, &SolveConfig::default())
        .expect("registration");
    // Distance of yard lines near the first down, drawn with `h`, from the true ones (pixels,
    // across the line: a stretch along the lines is not seen by the lines themselves).
    let err = |h: &Homography| {
        let mut worst: f64 = 0.0;
        for dx in [-5.0, 0.0, 5.0] {
            let x = yard_to_x(35.0) + dx;
            let (Some(a0), Some(a1)) = (true_h.map(x, -10.0), true_h.map(x, 10.0)) else {
                continue;
            };
            let n = nalgebra::Vector2::new(-(a1 - a0).y, (a1 - a0).x).normalize();
            for y in [-8.0, -4.0, 0.0, 4.0, 8.0] {
                if let Some(q) = h.map(x, y) {
                    worst = worst.max(n.dot(&(q - a0)).abs());
                }
            }
        }
        worst
    };
    assert!(err(&start) > 15.0, "start error {:.1} px", err(&start));
    assert!(
        err(&fit.homography) < 2.0,
        "refined error {:.2} px",
        err(&fit.homography)
    );
    assert!(fit.inliers >= 30 && fit.residual_px < 1.5, "{fit:?}");
}

/// Accuracy and timing at a chosen size (run in release with `--ignored --nocapture`;
/// `YARDLINE_VISION_SIZE=1920x1080`).
#[test]
#[ignore = "benchmark-style report; run in release"]
fn report_accuracy_and_timing() {
    let size = std::env::var("YARDLINE_VISION_SIZE").unwrap_or_else(|_| "1920x1080".into());
    let (w, h) = size.split_once('x').expect("WxH");
    let (w, h): (u32, u32) = (w.parse().expect("w"), h.parse().expect("h"));
    let frames: u32 = std::env::var("YARDLINE_VISION_FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(180);
    for (name, scenario, mode, vision_only) in [
        ("drift fused", Scenario::Drift, PoseMode::Fused, false),
        ("static fused", Scenario::Static, PoseMode::Fused, false),
        (
            "default vision-only",
            Scenario::Default,
            PoseMode::Vision,
            true,
        ),
        ("default fused", Scenario::Default, PoseMode::Fused, false),
        ("hard fused", Scenario::Hard, PoseMode::Fused, false),
    ] {
        if std::env::var("YARDLINE_VISION_ONLY").is_ok_and(|only| !name.contains(only.as_str())) {
            continue;
        }
        let n = if scenario == Scenario::Static {
            frames.min(60)
        } else {
            frames
        };
        let sample = Sample::new(config(scenario, w, h, n)).expect("sample");
        let s = run(&sample, mode, vision_only, 0);
        let lost = s
            .sources
            .iter()
            .filter(|x| **x != PoseSource::Fused && **x != PoseSource::Vision)
            .count();
        println!(
            "{name} {w}x{h} {n} frames: rms {:.3} px (sensor-only {:.3}), jitter {:.4} px, \
             not refined {lost}, time p50 {:.2} ms p99 {:.2} ms",
            s.rms_px,
            s.sensor_rms_px,
            std_dev(&s.offsets),
            {
                let mut t = s.times_ms.clone();
                t.sort_by(f64::total_cmp);
                t[t.len() / 2]
            },
            p99(&s.times_ms),
        );
    }
}

#[test]
fn vision_only_tracking_finds_the_field_again_after_a_cut_away() {
    // The cut scenario: a cut-away to the stands after 2-3 s, back to another framing (aim
    // moved 1-4 yards, zoom changed 10-35 %).
    let cfg = SampleConfig {
        frames: 330,
        ..config(Scenario::Cut, 640, 360, 330)
    };
    let sample = Sample::new(cfg).expect("sample");
    let mut est = PoseEstimator::new(
        FieldModel::new(FieldKind::Nfl),
        PoseMode::Vision,
        PoseConfig::default(),
    );
    let yard = sample.config().first_down_yard;
    let (mut away, mut returned, mut found) = (None, None, None);
    let mut worst = 0.0_f64;
    for i in 0..sample.frame_count() {
        let f = sample.render_frame(i).expect("render");
        let truth = truth_camera(&f.truth);
        if i == 0 {
            est.set_reference(truth);
        }
        let (layout, data) = rgbx(&f);
        let e = est.estimate(FrameRef::new(&layout, &data).expect("frame"), None);
        let field_seen = f.mask.iter().any(|&m| m != 128);
        if !field_seen {
            away.get_or_insert(i);
            assert!(
                e.camera.is_none(),
                "frame {i}: a line over the stands: {e:?}"
            );
            continue;
        }
        if away.is_some() && returned.is_none() {
            returned = Some(i);
        }
        if let Some(cam) = e.camera {
            let (sq, n, _) = line_error(&cam, &truth, yard, 640, 360);
            if n > 0 {
                worst = worst.max((sq / n as f64).sqrt());
            }
            if returned.is_some() && found.is_none() {
                found = Some(i);
            }
        }
        if found.is_some_and(|k| i > k + 30) {
            break;
        }
    }
    let (returned, found) = (
        returned.expect("the clip returns to the field"),
        found.expect("the field is found again"),
    );
    assert!(away.is_some(), "the clip cuts away");
    assert!(
        found - returned <= 10,
        "found {} frames after the return",
        found - returned
    );
    assert!(
        worst <= 1.5,
        "worst drawn line {worst:.2} px from the truth"
    );
}
