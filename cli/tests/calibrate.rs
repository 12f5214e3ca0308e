//! `yardline calibrate` on a rendered sample frame (clicked landmarks = truth projections plus
//! seeded noise), as PNG, as JPEG and as a frame of the sample's video; the registration it
//! writes; its bad-input exits; and `yardline calibrate lens` on a zoom sweep.

use std::path::Path;
use std::process::{Command, Output};

use nalgebra::Point3;
use nalgebra::{Matrix3, Vector3};
use yardline_engine::field::{FieldKind, FieldModel};
use yardline_engine::geometry::Camera;
use yardline_engine::tracking::SensorReading;
use yardline_engine::tracking::freed::{decode_checked, to_hex};
use yardline_engine::venue::Venue;
use yardline_samples::{
    FreedD1, HeadAngles, LensCurve, PinholeCamera, Sample, SampleConfig, TruthRecord,
    read_truth_jsonl,
};

fn yardline(args: &[&str], paths: &[&Path]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_yardline"));
    c.args(args);
    for p in paths {
        c.arg(p);
    }
    c.output().expect("run yardline")
}

/// Seeded uniform numbers in (0, 1) (splitmix64).
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 11) as f64 + 0.5) / (1_u64 << 53) as f64
    }

    /// Standard normal deviate (Box-Muller).
    fn gauss(&mut self) -> f64 {
        let (u1, u2) = (self.unit(), self.unit());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// Landmarks the projector puts inside a `w` x `h` image (20 px margin), `n` of them spread
/// over the image, with Gaussian click noise `sigma` per axis.
fn clicks(
    project: impl Fn([f64; 3]) -> Option<[f64; 2]>,
    cands: &[[f64; 3]],
    (w, h): (u32, u32),
    n: usize,
    sigma: f64,
    seed: u64,
) -> Vec<([f64; 2], [f64; 3])> {
    let vis: Vec<([f64; 2], [f64; 3])> = cands
        .iter()
        .filter_map(|p| {
            let q = project(*p)?;
            (q[0] > 20.0 && q[1] > 20.0 && q[0] < f64::from(w) - 21.0 && q[1] < f64::from(h) - 21.0)
                .then_some((q, *p))
        })
        .collect();
    let d2 = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2);
    let mut chosen = vec![0_usize];
    while chosen.len() < n.min(vis.len()) {
        let next = (0..vis.len())
            .filter(|i| !chosen.contains(i))
            .max_by(|&a, &b| {
                let f = |i: usize| {
                    chosen
                        .iter()
                        .map(|&c| d2(vis[i].0, vis[c].0))
                        .fold(f64::INFINITY, f64::min)
                };
                f(a).total_cmp(&f(b))
            })
            .expect("point");
        chosen.push(next);
    }
    let mut rng = Rng(seed);
    chosen
        .into_iter()
        .map(|i| {
            let (q, p) = vis[i];
            ([q[0] + sigma * rng.gauss(), q[1] + sigma * rng.gauss()], p)
        })
        .collect()
}

fn points_json(c: &[([f64; 2], [f64; 3])]) -> String {
    let v: Vec<serde_json::Value> = c
        .iter()
        .map(|(i, f)| serde_json::json!({"image": i, "field": f}))
        .collect();
    serde_json::Value::Array(v).to_string()
}

fn landmarks() -> Vec<[f64; 3]> {
    FieldModel::new(FieldKind::Nfl)
        .landmarks
        .iter()
        .map(|l| l.position)
        .collect()
}

#[test]
fn calibrate_one_frame_prints_json_and_writes_a_venue_the_engine_loads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sample = Sample::new(SampleConfig {
        frames: 1,
        width: 1280,
        height: 720,
        ..SampleConfig::default()
    })
    .expect("sample");
    let frame = sample.render_frame(0).expect("render");
    let t = frame.truth;
    let png = dir.path().join("frame.png");
    image::RgbImage::from_raw(1280, 720, frame.rgb)
        .expect("image")
        .save(&png)
        .expect("png");
    let cl = clicks(|p| t.project(p), &landmarks(), (1280, 720), 8, 0.5, 4);
    let pts = dir.path().join("points.json");
    std::fs::write(&pts, points_json(&cl)).expect("write");
    let freed = to_hex(
        &sample
            .freed_packet(0)
            .expect("frame")
            .expect("packet")
            .encode(),
    );
    let venue = dir.path().join("venue.toml");
    // The lens is known from the sample's venue (its lens table at the packet's zoom).
    let lens_venue = dir.path().join("lens.toml");
    std::fs::write(&lens_venue, sample.venue().to_toml().expect("toml")).expect("write");
    let run = yardline(
        &[
            "calibrate",
            "--field",
            "nfl",
            "--freed",
            &freed,
            "--json",
            "--image",
        ],
        &[&png],
    );
    assert_eq!(
        run.status.code(),
        Some(2),
        "missing --points is a usage error"
    );
    let mut c = Command::new(env!("CARGO_BIN_EXE_yardline"));
    c.args([
        "calibrate",
        "--field",
        "nfl",
        "--freed",
        &freed,
        "--json",
        "--image",
    ])
    .arg(&png)
    .arg("--points")
    .arg(&pts)
    .arg("--out")
    .arg(&venue);
    let run = c.output().expect("run");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    let rms = v["rms_px"].as_f64().expect("rms_px");
    let per: Vec<f64> = v["points"]
        .as_array()
        .expect("points")
        .iter()
        .map(|x| x.as_f64().expect("px"))
        .collect();
    assert_eq!(per.len(), 8);
    let truth_rms = (cl
        .iter()
        .map(|(i, f)| {
            let q = t.project(*f).expect("projects");
            (q[0] - i[0]).powi(2) + (q[1] - i[1]).powi(2)
        })
        .sum::<f64>()
        / 8.0)
        .sqrt();
    assert!(
        (rms - truth_rms).abs() <= 0.2,
        "rms {rms:.3} vs truth {truth_rms:.3}"
    );
    let cam = &v["camera"];
    let r: Vec<f64> = cam["rotation"]
        .as_array()
        .expect("rotation")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect();
    assert_eq!(r.len(), 9);
    let tr: Vec<f64> = cam["translation"]
        .as_array()
        .expect("translation")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect();
    for k in ["fx", "fy", "cx", "cy", "k1", "k2"] {
        assert!(cam[k].as_f64().is_some(), "camera.{k}");
    }
    // Against the truth, in the DESIGN.md convention.
    let rm = Matrix3::from_row_slice(&r);
    let rt = Matrix3::from_row_slice(&t.rotation);
    let ang = ((rm * rt.transpose()).trace() - 1.0)
        .mul_add(0.5, 0.0)
        .clamp(-1.0, 1.0)
        .acos();
    let centre = -(rm.transpose() * Vector3::new(tr[0], tr[1], tr[2]));
    let tcentre = -(rt.transpose() * Vector3::from(t.translation));
    println!(
        "cli calibrate: rms {rms:.3} px (truth {truth_rms:.3}), rotation {:.4} deg, position \
         {:.3} m, fx {:.2} (truth {:.2})",
        ang.to_degrees(),
        (centre - tcentre).norm(),
        cam["fx"].as_f64().unwrap_or_default(),
        t.intrinsics.fx
    );
    assert!(ang.to_degrees() <= 0.02);
    assert!((centre - tcentre).norm() <= 0.15);
    // The venue loads in the engine and gives the camera for the frame's FreeD reading.
    let loaded = Venue::load(&venue).expect("venue loads");
    let packet = sample.freed_packet(0).expect("frame").expect("packet");
    let reading = SensorReading::from(decode_checked(&packet.encode()).expect("packet"));
    let sensor = loaded.cameras[0]
        .camera_for(&reading, 1280, 720)
        .expect("sensor camera");
    assert!((sensor.centre().coords - centre).norm() < 1e-6);
    // The solved camera itself is the registration, at the image's size, with no frame or time
    // (an image file is not part of a video); --json prints the same.
    let reg = loaded.cameras[0]
        .registration
        .as_ref()
        .expect("the venue has a registration");
    assert_eq!((reg.width, reg.height), (1280, 720));
    assert_eq!((reg.frame, reg.time_s), (None, None));
    assert_eq!(reg.camera.rotation_row_major().to_vec(), r);
    assert_eq!(reg.camera.translation.as_slice(), tr.as_slice());
    assert_eq!(Some(reg.camera.intrinsics.fx), cam["fx"].as_f64());
    let rj = &v["registration"];
    assert_eq!(rj["width"], 1280);
    assert_eq!(rj["height"], 720);
    assert!(
        rj.get("frame").is_none() && rj.get("time_s").is_none(),
        "{rj}"
    );
    assert_eq!(rj["rotation"], cam["rotation"]);
    assert_eq!(rj["k1"], cam["k1"]);
    assert_eq!(v["venue"].as_str(), Some(venue.to_str().expect("utf-8")));

    // Text mode prints the residuals.
    let mut c = Command::new(env!("CARGO_BIN_EXE_yardline"));
    c.args(["calibrate", "--image"])
        .arg(&png)
        .arg("--points")
        .arg(&pts)
        .arg("--out")
        .arg(dir.path().join("v2.toml"));
    let run = c.output().expect("run");
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success() && text.contains("px RMS") && text.contains("point 7"),
        "{text}"
    );
}

/// Field points on a 5-yard grid between the hash marks and the sidelines that `truth` sees at
/// least 10 px inside its `w` x `h` picture.
fn visible_grid(truth: &TruthRecord) -> Vec<[f64; 3]> {
    let (w, h) = (f64::from(truth.width), f64::from(truth.height));
    let mut out = Vec::new();
    for yard in (0..=20).map(|i| f64::from(i) * 5.0) {
        for y in [-24.384, -16.0, -8.0, -2.82, 0.0, 2.82, 8.0, 16.0, 24.384] {
            let p = [(yard - 50.0) * 0.9144, y, 0.0];
            if let Some(q) = truth.project(p)
                && q[0] > 10.0
                && q[1] > 10.0
                && q[0] < w - 11.0
                && q[1] < h - 11.0
            {
                out.push(p);
            }
        }
    }
    out
}

/// Largest distance (pixels) between where `camera` and `truth` put the grid points.
fn reprojection_error_px(camera: &Camera, truth: &TruthRecord, grid: &[[f64; 3]]) -> f64 {
    grid.iter()
        .map(|p| {
            let a = camera
                .project(&Point3::from(*p))
                .expect("the registration sees the point");
            let b = truth.project(*p).expect("the truth sees the point");
            (a.x - b[0]).hypot(a.y - b[1])
        })
        .fold(0.0, f64::max)
}

fn run_calibrate(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yardline"))
        .arg("calibrate")
        .args(args)
        .output()
        .expect("run yardline")
}

#[test]
fn calibrate_reads_a_jpeg() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sample = Sample::new(SampleConfig {
        frames: 1,
        width: 640,
        height: 360,
        ..SampleConfig::default()
    })
    .expect("sample");
    let frame = sample.render_frame(0).expect("render");
    let t = frame.truth;
    let rgb = image::RgbImage::from_raw(640, 360, frame.rgb).expect("image");
    // A JPEG, and the same JPEG under a .png name: read by content either way.
    let jpg = dir.path().join("frame.jpg");
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 92)
        .encode_image(&rgb)
        .expect("jpeg");
    std::fs::write(&jpg, &bytes).expect("write");
    let misnamed = dir.path().join("frame-jpeg.png");
    std::fs::write(&misnamed, &bytes).expect("write");
    let cl = clicks(|p| t.project(p), &landmarks(), (640, 360), 8, 0.0, 1);
    let pts = dir.path().join("points.json");
    std::fs::write(&pts, points_json(&cl)).expect("write");
    let grid = visible_grid(&t);
    assert!(grid.len() >= 12, "{} grid points in view", grid.len());
    for (name, image) in [("jpg", &jpg), ("misnamed", &misnamed)] {
        let out = dir.path().join(format!("{name}.toml"));
        let run = run_calibrate(&[
            "--image".as_ref(),
            image.as_os_str(),
            "--points".as_ref(),
            pts.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ]);
        assert!(
            run.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let venue = Venue::load(&out).expect("venue loads");
        let reg = venue.cameras[0]
            .registration
            .as_ref()
            .expect("registration");
        assert_eq!((reg.width, reg.height), (640, 360));
        let err = reprojection_error_px(&reg.camera, &t, &grid);
        println!("calibrate from a JPEG ({name}): grid reprojection {err:.3} px");
        assert!(err <= 1.0, "{name}: {err:.3} px");
    }
    // Neither PNG nor JPEG: one clear usage error naming both.
    let text = dir.path().join("notes.jpg");
    std::fs::write(&text, "clicked on the 30").expect("write");
    let run = run_calibrate(&[
        "--image".as_ref(),
        text.as_os_str(),
        "--points".as_ref(),
        pts.as_os_str(),
        "--out".as_ref(),
        dir.path().join("x.toml").as_os_str(),
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("notes.jpg") && stderr.contains("PNG or JPEG"),
        "{stderr}"
    );
}

#[test]
fn calibrate_on_a_video_frame_registers_that_frame() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("sample");
    let run = yardline(
        &[
            "sample", "--frames", "12", "--size", "640x360", "--quiet", "--out",
        ],
        &[&dir],
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let video = dir.join("video.mkv");
    let truth = read_truth_jsonl(&dir.join("truth.jsonl")).expect("truth");
    assert_eq!(truth.len(), 12);
    let n = 9;
    let t = truth[n];
    // Noise-free clicks from frame 9's truth.
    let cl = clicks(|p| t.project(p), &landmarks(), (640, 360), 8, 0.0, 2);
    let pts = tmp.path().join("points.json");
    std::fs::write(&pts, points_json(&cl)).expect("write");
    let grid = visible_grid(&t);
    assert!(grid.len() >= 12, "{} grid points in view", grid.len());
    // The camera moves: frame 0's truth is visibly elsewhere, so a wrong frame cannot pass.
    let far = grid
        .iter()
        .filter_map(|p| Some((t.project(*p)?, truth[0].project(*p)?)))
        .map(|(a, b)| (a[0] - b[0]).hypot(a[1] - b[1]))
        .fold(0.0, f64::max);
    assert!(far > 5.0, "frames 0 and {n} differ by only {far:.2} px");

    let at = format!("{:.4}", t.pts_ns as f64 / 1e9);
    for (how, pick) in [("--frame", n.to_string()), ("--at", at)] {
        let out = tmp.path().join(format!("venue{how}.toml"));
        let run = run_calibrate(&[
            "--json".as_ref(),
            "--video".as_ref(),
            video.as_os_str(),
            how.as_ref(),
            pick.as_ref(),
            "--points".as_ref(),
            pts.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ]);
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(
            run.status.success(),
            "{how}: {stdout}\n{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
        let venue = Venue::load(&out).expect("venue loads");
        let reg = venue.cameras[0]
            .registration
            .as_ref()
            .expect("registration");
        assert_eq!((reg.width, reg.height), (640, 360));
        assert_eq!(reg.frame, Some(n as u64), "{how}");
        let time_s = reg.time_s.expect("time");
        assert!(
            (time_s - t.pts_ns as f64 / 1e9).abs() < 1e-6,
            "{how}: {time_s}"
        );
        // The painted lines of the decoded frame were found where the clicks put them (on a
        // wrong frame they are not, or pull the camera off).
        assert!(v["lines"].is_object(), "{how}: no line refinement: {v}");
        assert_eq!(v["registration"]["frame"], n);
        assert_eq!(v["registration"]["time_s"].as_f64(), Some(time_s));
        let err = reprojection_error_px(&reg.camera, &t, &grid);
        println!("calibrate on video frame {n} ({how}): grid reprojection {err:.3} px");
        assert!(err <= 1.0, "{how}: {err:.3} px");
        // The engine's scaling of the registration to another size of the same picture.
        let half = reg.camera_for_size(320, 180).expect("same aspect ratio");
        let p = Point3::from(grid[0]);
        let (a, b) = (
            reg.camera.project(&p).expect("projects"),
            half.project(&p).expect("projects"),
        );
        assert!((b.x - ((a.x + 0.5) * 0.5 - 0.5)).abs() < 1e-9);
        assert!(reg.camera_for_size(640, 480).is_err());
    }

    // Past the end: one clear usage error that says how long the clip is.
    for (how, pick) in [("--at", "3.5"), ("--frame", "12")] {
        let run = run_calibrate(&[
            "--video".as_ref(),
            video.as_os_str(),
            how.as_ref(),
            pick.as_ref(),
            "--points".as_ref(),
            pts.as_os_str(),
            "--out".as_ref(),
            tmp.path().join("never.toml").as_os_str(),
        ]);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{how} {pick}: {stderr}");
        assert!(
            stderr.contains("beyond the end")
                && stderr.contains("video.mkv")
                && stderr.contains("12 frames (0.200 s)"),
            "{stderr}"
        );
        assert_eq!(
            stderr.lines().filter(|l| l.starts_with("error")).count(),
            1,
            "{stderr}"
        );
        assert!(!tmp.path().join("never.toml").exists());
    }
    // --image with --video, or --frame with --at: usage errors.
    for args in [
        vec!["--image", "x.png", "--video"],
        vec!["--frame", "1", "--at", "0.1", "--video"],
    ] {
        let mut c = Command::new(env!("CARGO_BIN_EXE_yardline"));
        c.arg("calibrate")
            .args(&args)
            .arg(&video)
            .arg("--points")
            .arg(&pts)
            .arg("--out")
            .arg(tmp.path().join("never.toml"));
        let run = c.output().expect("run");
        assert_eq!(run.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn bad_points_exit_2_with_one_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sample = Sample::new(SampleConfig {
        frames: 1,
        width: 640,
        height: 360,
        ..SampleConfig::default()
    })
    .expect("sample");
    let t = sample.truth(0).expect("truth");
    let png = dir.path().join("frame.png");
    image::RgbImage::new(640, 360).save(&png).expect("png");
    let good = clicks(|p| t.project(p), &landmarks(), (640, 360), 6, 0.3, 1);
    let a = good[0].1;
    let b = good[1].1;
    let collinear: Vec<([f64; 2], [f64; 3])> = [0.0, 0.3, 0.6, 1.0]
        .iter()
        .map(|s| {
            let f = [a[0] + s * (b[0] - a[0]), a[1] + s * (b[1] - a[1]), 0.0];
            (t.project(f).expect("projects"), f)
        })
        .collect();
    let big: Vec<([f64; 2], [f64; 3])> = good
        .iter()
        .map(|(i, f)| ([i[0] * 3.0, i[1] * 3.0], *f))
        .collect();
    // A field point behind the head paired with a pixel inside the image.
    let cam = t.camera().expect("camera");
    let behind_cam = cam.centre + cam.rotation.transpose() * Vector3::new(1.0, 0.5, -20.0);
    let c = cam.rotation * behind_cam + cam.translation;
    let k = cam.intrinsics;
    let mut behind = good.clone();
    behind.push((
        [k.fx * c.x / c.z + k.cx, k.fy * c.y / c.z + k.cy],
        [behind_cam.x, behind_cam.y, behind_cam.z],
    ));
    for (name, pts, expect) in [
        ("three", good[..3].to_vec(), "too few points"),
        ("collinear", collinear, "collinear"),
        ("size", big, "outside the 640x360 image"),
        ("behind", behind, "behind the camera"),
    ] {
        let path = dir.path().join(format!("{name}.json"));
        std::fs::write(&path, points_json(&pts)).expect("write");
        let mut c = Command::new(env!("CARGO_BIN_EXE_yardline"));
        c.args(["calibrate", "--no-refine", "--image"])
            .arg(&png)
            .arg("--points")
            .arg(&path)
            .arg("--out")
            .arg(dir.path().join("v.toml"));
        let run = c.output().expect("run");
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(expect), "{name}: {stderr}");
        assert_eq!(
            stderr.lines().filter(|l| l.starts_with("error")).count(),
            1,
            "{stderr}"
        );
    }
}

#[test]
fn calibrate_lens_fits_a_zoom_sweep_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sample = Sample::new(SampleConfig::default()).expect("sample");
    let mount = sample.mount();
    let lens = LensCurve::new(1280, 720);
    let hash = FieldKind::Nfl.hash_offset_m().expect("hash");
    let mut cands = landmarks();
    for l in FieldModel::new(FieldKind::Nfl).lines_of(yardline_engine::field::LineKind::Hash) {
        if let yardline_engine::field::Shape::Segment { a, b } = l.shape {
            cands.push([a[0], a[1], 0.0]);
            cands.push([b[0], b[1], 0.0]);
        }
    }
    let mut text = String::new();
    for k in 0..12_u32 {
        let zoom = (0.95 * 60_000.0 * f64::from(k) / 11.0).round();
        let tx = 10.0 * (f64::from(k) * 1.7).sin();
        let ty = if k % 3 == 2 { hash } else { -hash };
        let [mx, my, mz] = mount.position;
        let (dx, dy) = (tx - mx, ty - my);
        let angles = HeadAngles {
            pan_deg: dx.atan2(dy).to_degrees() - mount.yaw_deg,
            tilt_deg: (-mz).atan2(dx.hypot(dy)).to_degrees() - mount.pitch_deg,
            roll_deg: 0.0,
        };
        let cam = PinholeCamera::from_head(&mount, &angles, lens.intrinsics(zoom));
        let cl = clicks(
            |p| cam.project(&Vector3::from(p)),
            &cands,
            (1280, 720),
            12,
            0.3,
            u64::from(k),
        );
        let packet = FreedD1 {
            camera_id: 1,
            pan: (angles.pan_deg * 32768.0).round() as i32,
            tilt: (angles.tilt_deg * 32768.0).round() as i32,
            zoom: zoom as u32,
            focus: 32_768,
            ..FreedD1::default()
        };
        let line = serde_json::json!({
            "width": 1280, "height": 720, "freed": to_hex(&packet.encode()),
            "points": cl.iter().map(|(i, f)| serde_json::json!({"image": i, "field": f})).collect::<Vec<_>>(),
        });
        text.push_str(&line.to_string());
        text.push('\n');
    }
    std::fs::write(dir.path().join("sweep.jsonl"), text).expect("write");
    let out = dir.path().join("lens.toml");
    let mut c = Command::new(env!("CARGO_BIN_EXE_yardline"));
    c.args(["calibrate", "lens", "--json", "--frames"])
        .arg(dir.path())
        .arg("--out")
        .arg(&out);
    let run = c.output().expect("run");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("json");
    assert_eq!(v["frames"].as_array().expect("frames").len(), 12);
    let venue = Venue::load(&out).expect("lens.toml is a venue file");
    let table = &venue.cameras[0].lens;
    for i in 0..=20 {
        let z = 0.95 * 60_000.0 * f64::from(i) / 20.0;
        let got = table.at(z, 1280, 720).expect("lens").intrinsics.fx;
        let want = lens.intrinsics(z).fx;
        assert!(
            (got / want - 1.0).abs() <= 0.003,
            "zoom {z}: {got:.2} vs {want:.2}"
        );
    }
    // A folder without sweep.jsonl is a usage error.
    let empty = tempfile::tempdir().expect("tempdir");
    let mut c = Command::new(env!("CARGO_BIN_EXE_yardline"));
    c.args(["calibrate", "lens", "--frames"])
        .arg(empty.path())
        .arg("--out")
        .arg(&out);
    let run = c.output().expect("run");
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("sweep.jsonl"));
}
