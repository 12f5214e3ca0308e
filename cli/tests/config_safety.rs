//! Every configuration loader refuses bad values with one message naming the file and the key,
//! and the command exits 2 — never a panic, never a run with a bad value.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::path::Path;
mod common;

use common::yardline;

fn sample(dir: &Path) {
    let out = yardline(&[
        "sample",
        "--out",
        dir.to_str().unwrap(),
        "--frames",
        "2",
        "--size",
        "320x180",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `render` and checks it refused with exit 2 and every `needles` in the message.
fn refused(args: &[&str], needles: &[&str]) {
    let out = yardline(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: {n:?} not in: {err}");
    }
}

#[test]
fn bad_venue_values_are_refused_with_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());
    let good = std::fs::read_to_string(dir.path().join("venue.toml")).unwrap();
    let first_fx = good
        .lines()
        .find(|l| l.starts_with("fx = "))
        .unwrap()
        .to_string();
    let cases: [(&str, String, &[&str]); 6] = [
        (
            "negative focal",
            good.replacen(&first_fx, "fx = -100.0", 1),
            &["fx", "> 0"],
        ),
        (
            "NaN focal",
            good.replacen(&first_fx, "fx = nan", 1),
            &["fx", "finite"],
        ),
        (
            "infinite position",
            good.replacen("position = [", "position = [inf, ", 1)
                .replacen("[inf, 0.0, ", "[inf, ", 1),
            &["position"],
        ),
        (
            "unknown version",
            good.replacen("version = 1", "version = 9", 1),
            &["version"],
        ),
        (
            "missing camera id",
            good.replacen("id = 1\n", "\n", 1),
            &["id"],
        ),
        ("binary garbage", "\u{0}\u{1}\u{2}[[[".to_string(), &[]),
    ];
    let video = dir.path().join("video.mkv");
    let tracking = dir.path().join("tracking.jsonl");
    let out = dir.path().join("out.mkv");
    for (what, text, keys) in cases {
        let bad = dir.path().join("bad-venue.toml");
        std::fs::write(&bad, text).unwrap();
        let mut needles = vec!["bad-venue.toml"];
        needles.extend_from_slice(keys);
        eprintln!("case: {what}");
        refused(
            &[
                "render",
                "--input",
                video.to_str().unwrap(),
                "--tracking",
                tracking.to_str().unwrap(),
                "--venue",
                bad.to_str().unwrap(),
                "--output",
                out.to_str().unwrap(),
            ],
            &needles,
        );
    }
    assert!(
        !out.exists(),
        "no output is written from a refused configuration"
    );
}

#[test]
fn bad_keying_scene_and_line_values_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());
    let d = |f: &str| dir.path().join(f).to_str().unwrap().to_string();
    let (video, tracking, venue, out) = (
        d("video.mkv"),
        d("tracking.jsonl"),
        d("venue.toml"),
        d("out.mkv"),
    );
    let base = [
        "render",
        "--input",
        &video,
        "--tracking",
        &tracking,
        "--venue",
        &venue,
        "--output",
        &out,
    ];

    std::fs::write(d("bad-key.toml"), "version = 1\nsoftness = nan\n").unwrap();
    let key = d("bad-key.toml");
    let mut args = base.to_vec();
    args.extend(["--keying", &key]);
    refused(&args, &["bad-key.toml"]);

    for (flag, value, needle) in [
        ("--first-down", "150", "--first-down"),
        ("--first-down", "nan", "--first-down"),
        ("--line-width-m", "-1", "width"),
        ("--line-width-m", "0", "width"),
    ] {
        let arg = format!("{flag}={value}");
        let mut args = base.to_vec();
        args.push(&arg);
        refused(&args, &[needle]);
    }

    let missing = d("no-such-venue.toml");
    let mut args = base.to_vec();
    args[6] = &missing;
    refused(&args, &["no-such-venue.toml"]);

    let scene = std::fs::read_to_string(d("scene.toml")).unwrap();
    for (what, from, to, key) in [
        (
            "yard",
            "first_down_yard = 35.0",
            "first_down_yard = 250.0",
            "first_down_yard",
        ),
        (
            "NaN yard",
            "first_down_yard = 35.0",
            "first_down_yard = nan",
            "first_down_yard",
        ),
        (
            "width",
            "line_width_m = 0.2",
            "line_width_m = -0.2",
            "line_width_m",
        ),
    ] {
        assert!(scene.contains(from), "{what}: scene.toml lacks {from:?}");
        std::fs::write(d("scene.toml"), scene.replacen(from, to, 1)).unwrap();
        refused(
            &[
                "render",
                "--sample",
                dir.path().to_str().unwrap(),
                "--output",
                &out,
            ],
            &["scene.toml", key],
        );
    }
}
