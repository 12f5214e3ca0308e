//! `yardline sample` and `yardline eval`, run as the real binary on real files.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

mod common;

use common::{text, yardline};

const SIZE: &str = "160x90";
const FRAMES: u32 = 8;
const SAMPLE_FILES: [&str; 7] = [
    "video.mkv",
    "masks.mkv",
    "truth.jsonl",
    "tracking.jsonl",
    "venue.toml",
    "scene.toml",
    "clicks.json",
];

fn make_sample(dir: &Path, seed: u32, frames: u32, size: &str) {
    let out = yardline(&[
        "sample",
        "--out",
        dir.to_str().expect("utf-8 path"),
        "--seed",
        &seed.to_string(),
        "--frames",
        &frames.to_string(),
        "--size",
        size,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

/// One small sample shared by the tests of this file.
fn shared_sample() -> &'static Path {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = DIR.get_or_init(|| {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("s");
        make_sample(&path, 7, FRAMES, SIZE);
        (tmp, path)
    });
    path
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn sample_writes_every_file_and_is_deterministic() {
    let a = shared_sample();
    let tmp = tempfile::tempdir().expect("tempdir");
    let b = tmp.path().join("again");
    make_sample(&b, 7, FRAMES, SIZE);
    for name in SAMPLE_FILES {
        let (fa, fb) = (a.join(name), b.join(name));
        let ba = std::fs::read(&fa).unwrap_or_else(|e| panic!("{}: {e}", fa.display()));
        let bb = std::fs::read(&fb).unwrap_or_else(|e| panic!("{}: {e}", fb.display()));
        assert!(!ba.is_empty(), "{name} is empty");
        assert!(
            ba == bb,
            "{name} differs between two runs with the same seed"
        );
    }
    let truth = std::fs::read_to_string(a.join("truth.jsonl")).expect("truth");
    assert_eq!(truth.lines().count(), FRAMES as usize);

    // Another seed gives other pictures.
    let c = tmp.path().join("other");
    make_sample(&c, 8, FRAMES, SIZE);
    let video = |d: &Path| std::fs::read(d.join("video.mkv")).expect("video");
    assert!(video(a) != video(&c), "seeds 7 and 8 gave the same video");
}

#[test]
fn sample_video_holds_the_frames_ffmpeg_sees() {
    let a = shared_sample();
    let probe = |name: &str, pix: &str| {
        let out = Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(a.join(name))
            .args(["-f", "rawvideo", "-pix_fmt", pix, "-"])
            .output()
            .expect("run ffmpeg");
        assert!(out.status.success(), "{}", text(&out));
        out.stdout.len()
    };
    assert_eq!(probe("video.mkv", "rgb24"), 160 * 90 * 3 * FRAMES as usize);
    assert_eq!(probe("masks.mkv", "gray"), 160 * 90 * FRAMES as usize);
}

#[test]
fn sample_rejects_bad_arguments_with_exit_2() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("bad");
    let d = path_str(&dir);
    for args in [
        vec!["sample", "--out", d, "--size", "8x8"],
        vec!["sample", "--out", d, "--size", "wide"],
        vec!["sample", "--out", d, "--scenario", "nope"],
        vec!["sample", "--out", d, "--first-down", "120"],
        vec!["sample", "--out", d, "--frames", "0"],
        vec!["sample", "--out", d, "--fps", "0"],
    ] {
        let out = yardline(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn eval_of_the_clean_video_reports_nothing_painted() {
    let a = shared_sample();
    let out = yardline(&[
        "eval",
        "--sample",
        path_str(a),
        "--output",
        path_str(&a.join("video.mkv")),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.trim().lines().count(),
        1,
        "one JSON object: {stdout}"
    );
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).expect("JSON report");
    assert_eq!(report["frames"], FRAMES);
    assert_eq!(report["painted_px"], 0);
    assert_eq!(report["leak_px"], 0);
    assert!(
        report["truth_px"].as_u64().expect("truth_px") > 0,
        "{report}"
    );
    assert_eq!(report["miss"], 1.0);
    assert_eq!(report["iou"], 0.0);
    // The line is in view throughout and never drawn; nothing painted anywhere.
    assert_eq!(report["in_view_frames"], FRAMES);
    assert_eq!(report["drawn_in_view_frames"], 0);
    assert_eq!(report["drawn_share"], 0.0);
    assert_eq!(report["painted_out_of_view_frames"], 0);
    assert_eq!(report["reacquire_frames"], serde_json::json!([]));
    assert!(report["max_frame_centre_px"].is_null(), "{report}");
    assert!(report["max_reacquire_frames"].is_null(), "{report}");

    // The readable summary says the same.
    let out = yardline(&[
        "eval",
        "--sample",
        path_str(a),
        "--output",
        path_str(&a.join("video.mkv")),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("IoU 0.0000"), "{summary}");
    assert!(summary.contains("nothing painted"), "{summary}");
    assert!(
        summary.contains(&format!("line in view {FRAMES} frames, drawn in 0 (0.0 %)")),
        "{summary}"
    );
}

#[test]
fn eval_with_mismatched_frame_counts_exits_1() {
    let a = shared_sample();
    let tmp = tempfile::tempdir().expect("tempdir");
    let short = tmp.path().join("short");
    make_sample(&short, 7, FRAMES - 3, SIZE);
    let out = yardline(&[
        "eval",
        "--sample",
        path_str(a),
        "--output",
        path_str(&short.join("video.mkv")),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mismatch"), "{err}");
    assert!(err.contains(&format!("output {}", FRAMES - 3)), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
}

#[test]
fn eval_with_mismatched_size_exits_1() {
    let a = shared_sample();
    let tmp = tempfile::tempdir().expect("tempdir");
    let other = tmp.path().join("other");
    make_sample(&other, 7, FRAMES, "96x54");
    let out = yardline(&[
        "eval",
        "--sample",
        path_str(a),
        "--output",
        path_str(&other.join("video.mkv")),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("96x54"),
        "{}",
        text(&out)
    );
}

#[test]
fn eval_usage_errors_exit_2() {
    let a = shared_sample();
    let tmp = tempfile::tempdir().expect("tempdir");
    let missing = tmp.path().join("missing");
    let not_video = tmp.path().join("notes.mkv");
    std::fs::write(&not_video, "not a video\n".repeat(50)).expect("write");
    let video = a.join("video.mkv");
    for (args, expect) in [
        (
            vec![
                "eval",
                "--sample",
                path_str(&missing),
                "--output",
                path_str(&video),
            ],
            "no such sample folder",
        ),
        (
            vec![
                "eval",
                "--sample",
                path_str(a),
                "--output",
                path_str(&missing),
            ],
            "no such output file",
        ),
        (
            vec![
                "eval",
                "--sample",
                path_str(a),
                "--output",
                path_str(&not_video),
            ],
            "cannot read as video",
        ),
        (
            vec![
                "eval",
                "--sample",
                path_str(a),
                "--output",
                path_str(&video),
                "--report",
                path_str(&missing),
            ],
            "no such report file",
        ),
        (vec!["eval", "--sample", path_str(a)], "--output"),
    ] {
        let out = yardline(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{args:?}: {err}");
    }
}
