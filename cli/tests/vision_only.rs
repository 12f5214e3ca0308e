//! Encoder-free tracking end to end, as a new user runs it: a sample, `calibrate` on its first
//! frame from the clicks an operator would make (`clicks.json`, about 0.7 px of noise), `render`
//! with no tracking data, `eval` against the truth.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::{text, yardline};

fn run(args: &[&str]) -> Output {
    let out = yardline(args);
    assert_eq!(out.status.code(), Some(0), "{args:?}\n{}", text(&out));
    out
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A sample of `scenario`, `frames` frames at `size` in `tmp/sample`, calibrated from its
/// `clicks.json` on frame 0 into `tmp/venue.toml`: (sample folder, venue file).
fn calibrated_sample(tmp: &Path, scenario: &str, frames: u32, size: &str) -> (PathBuf, PathBuf) {
    let dir = tmp.join("sample");
    let frames = frames.to_string();
    run(&[
        "sample",
        "--out",
        s(&dir),
        "--seed",
        "3",
        "--frames",
        &frames,
        "--size",
        size,
        "--scenario",
        scenario,
    ]);
    let venue = tmp.join("venue.toml");
    run(&[
        "calibrate",
        "--video",
        s(&dir.join("video.mkv")),
        "--frame",
        "0",
        "--points",
        s(&dir.join("clicks.json")),
        "--out",
        s(&venue),
    ]);
    (dir, venue)
}

/// Renders the sample's video with `venue` and no tracking data: (output video, report lines).
fn render_untracked(tmp: &Path, dir: &Path, venue: &Path) -> (PathBuf, Vec<serde_json::Value>) {
    let scene = std::fs::read_to_string(dir.join("scene.toml")).expect("scene.toml");
    let first_down = scene
        .lines()
        .find_map(|l| l.strip_prefix("first_down_yard = "))
        .expect("first_down_yard")
        .trim()
        .to_string();
    let (out, report) = (tmp.join("out.mkv"), tmp.join("report.jsonl"));
    run(&[
        "render",
        "--input",
        s(&dir.join("video.mkv")),
        "--venue",
        s(venue),
        "--first-down",
        &first_down,
        "--backend",
        "cpu",
        "--report",
        s(&report),
        "--output",
        s(&out),
        "--quiet",
    ]);
    let lines = std::fs::read_to_string(&report)
        .expect("report.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    (out, lines)
}

/// `yardline eval --json` of an output against the sample.
fn eval(dir: &Path, out: &Path) -> serde_json::Value {
    let e = run(&["eval", "--sample", s(dir), "--output", s(out), "--json"]);
    serde_json::from_slice(&e.stdout).expect("eval json")
}

/// A number of an eval (NaN when absent).
fn num(e: &serde_json::Value, key: &str) -> f64 {
    e[key].as_f64().unwrap_or(f64::NAN)
}

/// The eval of an output, checked for what every vision-only render must meet: the line drawn
/// in at least `min_drawn` of the frames it is in view, centre RMS at most 0.5 px, no frame's
/// line off by more than 1.5 px, nothing painted while out of view.
fn eval_drawn_right(dir: &Path, out: &Path, min_drawn: f64) -> serde_json::Value {
    let e = eval(dir, out);
    assert!(num(&e, "drawn_share") >= min_drawn, "{e}");
    assert!(num(&e, "centre_error_px") <= 0.5, "{e}");
    assert!(num(&e, "max_frame_centre_px") <= 1.5, "{e}");
    assert_eq!(e["painted_out_of_view_frames"], 0, "{e}");
    e
}

#[test]
fn clicks_on_frame_zero_then_vision_alone_draws_the_line_on_every_frame() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (dir, venue) = calibrated_sample(tmp.path(), "default", 90, "640x360");
    let (out, lines) = render_untracked(tmp.path(), &dir, &venue);
    assert_eq!(lines.len(), 90);
    for l in &lines {
        assert_eq!(l["source"], "vision", "{l}");
        assert_eq!(l["state"], "tracking", "{l}");
        assert!(l["confidence"].as_f64().is_some_and(|c| c > 0.5), "{l}");
    }
    let e = eval_drawn_right(&dir, &out, 0.95);
    assert!(num(&e, "iou") >= 0.9, "{e}");
}

#[test]
fn after_a_cut_away_the_field_is_found_again_within_a_few_frames_and_never_drawn_wrong() {
    // 7 s: the play, a cut to the stands for 1 to 3 s, the field again in another framing
    // (moved along the field, zoomed).
    let tmp = tempfile::tempdir().expect("tempdir");
    let (dir, venue) = calibrated_sample(tmp.path(), "cut", 420, "640x360");
    let (out, lines) = render_untracked(tmp.path(), &dir, &venue);
    assert!(
        lines.iter().any(|l| l["state"] == "searching"),
        "the cut-away is searched through"
    );
    let e = eval_drawn_right(&dir, &out, 0.95);
    assert_eq!(e["unreacquired_returns"], 0, "{e}");
    assert!(
        e["reacquire_frames"]
            .as_array()
            .is_some_and(|r| !r.is_empty()),
        "{e}"
    );
    assert!(num(&e, "max_reacquire_frames") <= 10.0, "{e}");
    assert!(num(&e, "iou") >= 0.95, "{e}");
}

#[test]
fn a_zoom_into_the_crowd_keeps_its_track_along_the_lines() {
    // 2.5 s: from a wide shot into the play until two yard lines and a row of hash marks fill
    // the frame, players over most of them. Only the hash marks' ends hold the camera along
    // the lines there.
    let tmp = tempfile::tempdir().expect("tempdir");
    let (dir, venue) = calibrated_sample(tmp.path(), "zoom", 150, "640x360");
    let (out, lines) = render_untracked(tmp.path(), &dir, &venue);
    assert!(
        lines.iter().all(|l| l["state"] == "tracking"),
        "the track is never lost"
    );
    // In the tightest frames the fits sit near the gates: a line on air is not blinked off
    // for one frame.
    let drawn: Vec<bool> = lines.iter().map(|l| l["source"] != "none").collect();
    let blinks: Vec<usize> = (1..drawn.len().saturating_sub(1))
        .filter(|&i| drawn[i - 1] && !drawn[i] && drawn[i + 1])
        .collect();
    assert!(
        blinks.is_empty(),
        "the line blinks off at frames {blinks:?}"
    );
    eval_drawn_right(&dir, &out, 0.95);
}

#[test]
fn a_clip_the_field_never_fits_passes_through_clean_with_the_reason() {
    // A registration that looks away from the field: nothing fits, every frame leaves
    // untouched and the report says why.
    let tmp = tempfile::tempdir().expect("tempdir");
    let (dir, venue) = calibrated_sample(tmp.path(), "default", 12, "320x180");
    // Turn the registered camera half round about its own vertical (centre kept): it faces
    // the stands behind it. diag(-1, 1, -1) R and diag(-1, 1, -1) t.
    let mut doc: toml::Table = std::fs::read_to_string(&venue)
        .expect("venue")
        .parse()
        .expect("toml");
    let reg = doc["camera"].as_array_mut().expect("cameras")[0]
        .as_table_mut()
        .expect("camera")["registration"]
        .as_table_mut()
        .expect("registration");
    for (key, flip) in [
        ("rotation", &[0, 1, 2, 6, 7, 8][..]),
        ("translation", &[0, 2]),
    ] {
        let v = reg[key].as_array_mut().expect(key);
        for &k in flip {
            let x = v[k].as_float().expect("float");
            v[k] = toml::Value::Float(-x);
        }
    }
    std::fs::write(&venue, toml::to_string(&doc).expect("toml")).expect("write");
    let (out, lines) = render_untracked(tmp.path(), &dir, &venue);
    assert_eq!(lines.len(), 12);
    for l in &lines {
        assert_eq!(l["source"], "none", "{l}");
        assert!(l["reason"].is_string(), "{l}");
    }
    assert_eq!(eval(&dir, &out)["painted_px"], 0);
}
