//! End to end: `yardline sample` -> `yardline render --sample` -> `yardline eval --json`, the
//! real binary on real files, scored against the generator's exact truth.

#![allow(
    clippy::unwrap_used,
    clippy::float_cmp,
    clippy::needless_range_loop,
    reason = "test code: a failed unwrap is a failed test; exact float results are the assertion"
)]

use std::path::Path;
use std::process::Command;

fn yardline(args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_yardline"))
        .args(args)
        .output()
        .expect("run yardline");
    assert!(
        out.status.success(),
        "yardline {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn eval(dir: &Path, output: &Path, report: &Path) -> serde_json::Value {
    let out = yardline(&[
        "eval",
        "--sample",
        dir.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
        "--json",
    ]);
    serde_json::from_slice(&out.stdout).expect("eval prints one JSON object")
}

#[test]
fn sample_render_eval_meets_the_accuracy_goals() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sample");
    let d = dir.to_str().unwrap();
    yardline(&[
        "sample",
        "--out",
        d,
        "--frames",
        "10",
        "--size",
        "640x360",
        "--first-down",
        "37.5",
        "--quiet",
    ]);
    let output = tmp.path().join("out.mkv");
    let report = tmp.path().join("report.jsonl");
    let render = yardline(&[
        "render",
        "--sample",
        d,
        "--output",
        output.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
        "--backend",
        "cpu",
        "--json",
        "--quiet",
    ]);
    let summary: serde_json::Value = serde_json::from_slice(&render.stdout).unwrap();
    assert_eq!(summary["frames"], 10);
    assert_eq!(summary["drawn_frames"], 10);
    assert_eq!(
        std::fs::read_to_string(&report).unwrap().lines().count(),
        10
    );
    let score = eval(&dir, &output, &report);
    let iou = score["iou"].as_f64().unwrap();
    let leak = score["leak"].as_f64().unwrap();
    let centre = score["centre_error_px"].as_f64().unwrap();
    assert!(iou >= 0.9, "IoU {iou}");
    // The paint palette applies on the markings only, so the white kits off them stay clear.
    assert!(leak <= 0.005, "leak {leak}");
    assert!(centre <= 0.5, "centre error {centre} px");

    // The same render with the line moved a yard scores far worse: eval can fail.
    let moved = tmp.path().join("moved.mkv");
    yardline(&[
        "render",
        "--sample",
        d,
        "--first-down",
        "38.5",
        "--output",
        moved.to_str().unwrap(),
        "--backend",
        "cpu",
        "--quiet",
    ]);
    let score = eval(&dir, &moved, &report);
    assert!(score["iou"].as_f64().unwrap() < 0.2, "{score}");
}

/// The default first down (own 35) lies on a painted yard line: the line covers the paint
/// (the automatic paint palette) and not the white kits standing on it (the paint view);
/// `--save-key` writes the key used, which renders the same again.
#[test]
fn a_line_on_a_painted_yard_line_covers_the_paint_and_not_the_kits() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sample");
    let d = dir.to_str().unwrap();
    yardline(&[
        "sample", "--out", d, "--frames", "10", "--size", "640x360", "--quiet",
    ]);
    let (output, report, key) = (
        tmp.path().join("out.mkv"),
        tmp.path().join("report.jsonl"),
        tmp.path().join("key.toml"),
    );
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    let (o, r, k) = (s(&output), s(&report), s(&key));
    let args = [
        "render",
        "--sample",
        d,
        "--report",
        &r,
        "--backend",
        "cpu",
        "--quiet",
    ];
    yardline(&[&args[..], &["--output", &o, "--save-key", &k]].concat());
    let score = eval(&dir, &output, &report);
    let (iou, leak) = (
        score["iou"].as_f64().unwrap(),
        score["leak"].as_f64().unwrap(),
    );
    assert!(iou >= 0.88, "IoU {iou}");
    assert!(leak <= 0.01, "leak {leak}");
    assert!(score["centre_error_px"].as_f64().unwrap() <= 0.5, "{score}");
    let text = std::fs::read_to_string(&key).unwrap();
    assert!(text.contains("[paint"), "no paint palette saved:\n{text}");
    // Rendering again with the saved key gives the same frames.
    let again = tmp.path().join("again.mkv");
    yardline(&[&args[..], &["--output", &s(&again), "--keying", &k]].concat());
    let score2 = eval(&dir, &again, &report);
    assert_eq!(score2["iou"], score["iou"]);
}

#[test]
fn render_rejects_bad_input_with_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = Command::new(env!("CARGO_BIN_EXE_yardline"))
        .args(["render", "--input", "/nonexistent.mkv", "--output"])
        .arg(tmp.path().join("o.mkv"))
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    let no_sample = Command::new(env!("CARGO_BIN_EXE_yardline"))
        .args(["render", "--sample", "/nonexistent-dir", "--output"])
        .arg(tmp.path().join("o.mkv"))
        .output()
        .unwrap();
    assert_eq!(no_sample.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&no_sample.stderr);
    assert!(stderr.contains("no such sample folder"), "{stderr}");
    assert!(!stderr.contains("panicked"));
}
