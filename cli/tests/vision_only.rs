//! Encoder-free tracking end to end, as a new user runs it: a sample, `calibrate` on its first
//! frame from the clicks an operator would make (`clicks.json`, about 0.7 px of noise), `render`
//! with no tracking data, `eval` against the truth.

use std::path::Path;
use std::process::Output;

mod common;

use common::yardline;

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn run(args: &[&str]) -> Output {
    let out = yardline(args);
    assert_eq!(out.status.code(), Some(0), "{args:?}\n{}", text(&out));
    out
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn clicks_on_frame_zero_then_vision_alone_draws_the_line_on_every_frame() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("sample");
    run(&[
        "sample",
        "--out",
        s(&dir),
        "--seed",
        "3",
        "--frames",
        "90",
        "--size",
        "640x360",
    ]);
    let venue = tmp.path().join("venue.toml");
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
    let scene = std::fs::read_to_string(dir.join("scene.toml")).expect("scene.toml");
    let first_down = scene
        .lines()
        .find_map(|l| l.strip_prefix("first_down_yard = "))
        .expect("first_down_yard")
        .trim()
        .to_string();
    let (out, report) = (tmp.path().join("out.mkv"), tmp.path().join("report.jsonl"));
    run(&[
        "render",
        "--input",
        s(&dir.join("video.mkv")),
        "--venue",
        s(&venue),
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
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&report)
        .expect("report.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 90);
    for l in &lines {
        assert_eq!(l["source"], "vision", "{l}");
        assert_eq!(l["state"], "tracking", "{l}");
        assert!(l["confidence"].as_f64().is_some_and(|c| c > 0.5), "{l}");
    }
    let eval = run(&[
        "eval",
        "--sample",
        s(&dir),
        "--output",
        s(&out),
        "--report",
        s(&report),
        "--json",
    ]);
    let e: serde_json::Value = serde_json::from_slice(&eval.stdout).expect("eval json");
    let num = |k: &str| e[k].as_f64().unwrap_or(f64::NAN);
    assert!(num("drawn_share") >= 0.95, "{e}");
    assert!(num("centre_error_px") <= 0.5, "{e}");
    assert!(num("max_frame_centre_px") <= 1.5, "{e}");
    assert!(num("iou") >= 0.9, "{e}");
    assert_eq!(e["painted_out_of_view_frames"], 0, "{e}");
}

#[test]
fn a_clip_the_field_never_fits_passes_through_clean_with_the_reason() {
    // A registration that looks at the sky: nothing fits, every frame leaves untouched and
    // the report says why.
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("sample");
    run(&[
        "sample",
        "--out",
        s(&dir),
        "--seed",
        "3",
        "--frames",
        "12",
        "--size",
        "320x180",
    ]);
    let venue = tmp.path().join("venue.toml");
    run(&[
        "calibrate",
        "--video",
        s(&dir.join("video.mkv")),
        "--points",
        s(&dir.join("clicks.json")),
        "--out",
        s(&venue),
    ]);
    // Turn the registered camera half round about its own vertical (centre kept): it faces
    // the stands behind it.
    let text_in = std::fs::read_to_string(&venue).expect("venue");
    let mut doc: toml::Table = text_in.parse().expect("toml");
    let reg = doc["camera"].as_array_mut().expect("cameras")[0]
        .as_table_mut()
        .expect("camera")["registration"]
        .as_table_mut()
        .expect("registration");
    let rot = reg["rotation"].as_array_mut().expect("rotation");
    // diag(-1, 1, -1) R and diag(-1, 1, -1) t.
    for k in [0, 1, 2, 6, 7, 8] {
        let v = rot[k].as_float().expect("float");
        rot[k] = toml::Value::Float(-v);
    }
    let t = reg["translation"].as_array_mut().expect("translation");
    for k in [0, 2] {
        let v = t[k].as_float().expect("float");
        t[k] = toml::Value::Float(-v);
    }
    std::fs::write(&venue, toml::to_string(&doc).expect("toml")).expect("write");
    let (out, report) = (tmp.path().join("out.mkv"), tmp.path().join("report.jsonl"));
    let render = yardline(&[
        "render",
        "--input",
        s(&dir.join("video.mkv")),
        "--venue",
        s(&venue),
        "--first-down",
        "35",
        "--backend",
        "cpu",
        "--report",
        s(&report),
        "--output",
        s(&out),
        "--quiet",
    ]);
    assert_eq!(render.status.code(), Some(0), "{}", text(&render));
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&report)
        .expect("report.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 12);
    for l in &lines {
        assert_eq!(l["source"], "none", "{l}");
        assert!(l["reason"].is_string(), "{l}");
    }
    let eval = run(&["eval", "--sample", s(&dir), "--output", s(&out), "--json"]);
    let e: serde_json::Value = serde_json::from_slice(&eval.stdout).expect("eval json");
    assert_eq!(e["painted_px"], 0, "{e}");
}
