//! `yardline register` on a rendered sample frame (as PNG, and as a frame of the sample's
//! video): a perturbed true homography is refined.

use std::path::Path;
use std::process::Command;

use nalgebra::{Matrix3, Vector2, Vector3};
use yardline_samples::{Sample, SampleConfig, Scenario, TruthRecord, read_truth_jsonl};

const YARD_M: f64 = 0.9144;

fn yardline() -> Command {
    Command::new(env!("CARGO_BIN_EXE_yardline"))
}

fn write_h(path: &Path, h: &Matrix3<f64>) {
    let v: Vec<f64> = (0..9).map(|i| h[(i / 3, i % 3)]).collect();
    std::fs::write(path, serde_json::json!({ "h": v }).to_string()).expect("write");
}

fn read_h(path: &Path) -> Matrix3<f64> {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json");
    let h: Vec<f64> = v["h"]
        .as_array()
        .expect("h")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect();
    Matrix3::from_row_slice(&h)
}

fn map(h: &Matrix3<f64>, x: f64, y: f64) -> Vector2<f64> {
    let q = h * Vector3::new(x, y, 1.0);
    Vector2::new(q.x / q.z, q.y / q.z)
}

/// Largest distance (pixels) across the line between yard lines near the first down drawn
/// with `h` and with the truth.
fn line_error(h: &Matrix3<f64>, truth: &Matrix3<f64>, first_down_yard: f64) -> f64 {
    let mut worst: f64 = 0.0;
    for dx in [-5.0, 0.0, 5.0] {
        let x = (first_down_yard - 50.0) * YARD_M + dx;
        let (a0, a1) = (map(truth, x, -10.0), map(truth, x, 10.0));
        let d = (a1 - a0).normalize();
        let n = Vector2::new(-d.y, d.x);
        for y in [-8.0, -4.0, 0.0, 4.0, 8.0] {
            worst = worst.max(n.dot(&(map(h, x, y) - a0)).abs());
        }
    }
    worst
}

/// The true ground homography `K [r1 r2 t]` of a frame (the lens distortion is left to the
/// fit).
fn truth_homography(t: &TruthRecord) -> Matrix3<f64> {
    let r = Matrix3::from_row_slice(&t.rotation);
    let ti = t.intrinsics;
    let k = Matrix3::new(ti.fx, 0.0, ti.cx, 0.0, ti.fy, ti.cy, 0.0, 0.0, 1.0);
    k * Matrix3::from_columns(&[
        r.column(0).into_owned(),
        r.column(1).into_owned(),
        Vector3::from(t.translation),
    ])
}

/// `truth` 2 degrees rolled and 8 % zoomed about the image centre, 6 px off.
fn perturbed(truth: &Matrix3<f64>, t: &TruthRecord) -> Matrix3<f64> {
    let (s, c) = 2.0_f64.to_radians().sin_cos();
    let z = 1.08;
    let (cx, cy) = (t.intrinsics.cx, t.intrinsics.cy);
    let about = Matrix3::new(1.0, 0.0, cx + 6.0, 0.0, 1.0, cy - 3.0, 0.0, 0.0, 1.0)
        * Matrix3::new(z * c, -z * s, 0.0, z * s, z * c, 0.0, 0.0, 0.0, 1.0)
        * Matrix3::new(1.0, 0.0, -cx, 0.0, 1.0, -cy, 0.0, 0.0, 1.0);
    about * truth
}

#[test]
fn register_refines_a_perturbed_homography() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = SampleConfig {
        scenario: Scenario::Static,
        frames: 1,
        width: 640,
        height: 360,
        ..SampleConfig::default()
    };
    let first_down = cfg.first_down_yard;
    let sample = Sample::new(cfg).expect("sample");
    let frame = sample.render_frame(0).expect("render");
    let t = frame.truth;
    let png = dir.path().join("frame.png");
    image::RgbImage::from_raw(t.width, t.height, frame.rgb)
        .expect("image")
        .save(&png)
        .expect("png");
    let truth = truth_homography(&t);
    let start = perturbed(&truth, &t);
    let init = dir.path().join("init.json");
    let out = dir.path().join("out.json");
    write_h(&init, &start);
    let before = line_error(&start, &truth, first_down);
    assert!(before > 10.0, "the start is visibly off: {before:.1} px");

    let run = yardline()
        .args(["register", "--field", "nfl", "--image"])
        .arg(&png)
        .arg("--init")
        .arg(&init)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run yardline");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        stdout.contains("residual") && stdout.contains("inliers"),
        "{stdout}"
    );
    let after = line_error(&read_h(&out), &truth, first_down);
    assert!(
        after < 1.5,
        "refined line error {after:.2} px (from {before:.1})"
    );
}

#[test]
fn register_reports_usage_errors_and_failures_to_lock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let png = dir.path().join("grass.png");
    image::RgbImage::from_pixel(320, 180, image::Rgb([62, 118, 50]))
        .save(&png)
        .expect("png");
    let init = dir.path().join("init.json");
    let h = Matrix3::new(10.0, 0.0, 160.0, 0.0, -3.0, 120.0, 0.0, 0.01, 1.0);
    write_h(&init, &h);
    let out = dir.path().join("out.json");
    let code = |args: &[&std::ffi::OsStr]| {
        yardline()
            .arg("register")
            .args(args)
            .output()
            .expect("run")
            .status
            .code()
    };
    let (png, init_s, out_s) = (png.as_os_str(), init.as_os_str(), out.as_os_str());
    // Plain grass: nothing to lock onto.
    let args = [
        "--image".as_ref(),
        png,
        "--init".as_ref(),
        init_s,
        "--out".as_ref(),
        out_s,
    ];
    assert_eq!(code(&args), Some(1));
    assert!(!out.exists());
    // Unknown field kind, missing init file, malformed homography: usage errors.
    let mut bad_field = vec!["--field".as_ref(), "rugby".as_ref()];
    bad_field.extend_from_slice(&args);
    assert_eq!(code(&bad_field), Some(2));
    let missing = dir.path().join("missing.json");
    let args2 = [
        "--image".as_ref(),
        png,
        "--init".as_ref(),
        missing.as_os_str(),
        "--out".as_ref(),
        out_s,
    ];
    assert_eq!(code(&args2), Some(2));
    std::fs::write(&init, r#"{"h": [1, 2, 3]}"#).expect("write");
    assert_eq!(code(&args), Some(2));
}

#[test]
fn register_works_on_a_video_frame() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("sample");
    let run = yardline()
        .args([
            "sample",
            "--scenario",
            "static",
            "--frames",
            "3",
            "--size",
            "640x360",
            "--first-down",
            "35",
            "--quiet",
            "--out",
        ])
        .arg(&dir)
        .output()
        .expect("run yardline");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let t = read_truth_jsonl(&dir.join("truth.jsonl")).expect("truth")[2];
    let truth = truth_homography(&t);
    let start = perturbed(&truth, &t);
    let init = tmp.path().join("init.json");
    let out = tmp.path().join("out.json");
    write_h(&init, &start);
    let video = dir.join("video.mkv");
    let run = yardline()
        .args(["register", "--frame", "2", "--video"])
        .arg(&video)
        .arg("--init")
        .arg(&init)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run yardline");
    assert!(
        run.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let after = line_error(&read_h(&out), &truth, 35.0);
    assert!(after < 1.5, "refined line error {after:.2} px");
    // A time past the end of the clip: a usage error that says how long it is.
    let run = yardline()
        .args(["register", "--at", "1.5", "--video"])
        .arg(&video)
        .arg("--init")
        .arg(&init)
        .arg("--out")
        .arg(tmp.path().join("never.json"))
        .output()
        .expect("run yardline");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--at 1.5 s is beyond the end") && stderr.contains("3 frames (0.050 s)"),
        "{stderr}"
    );
    // Neither --image nor --video.
    let run = yardline()
        .args(["register", "--init"])
        .arg(&init)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run yardline");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--image") && stderr.contains("--video"),
        "{stderr}"
    );
}
