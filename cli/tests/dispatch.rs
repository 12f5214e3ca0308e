//! The two binaries of the command line: `yardline` runs `control` (and `--version`) itself,
//! without loading the engine's libraries, and execs `yardline-full` for every other command
//! under its own name, exit codes and messages unchanged.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{text, yardline};

/// A copy of `yardline` alone in a folder of its own: no `yardline-full` beside it.
fn lone_yardline() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let exe = tmp.path().join("yardline");
    std::fs::copy(env!("CARGO_BIN_EXE_yardline"), &exe).unwrap();
    (tmp, exe)
}

#[test]
fn yardline_loads_none_of_the_engine_libraries() {
    // The dynamic loader lists what it would load, and stops (as `ldd` asks it to).
    let listed = Command::new(env!("CARGO_BIN_EXE_yardline"))
        .env("LD_TRACE_LOADED_OBJECTS", "1")
        .output()
        .unwrap();
    let libs = String::from_utf8_lossy(&listed.stdout).to_string();
    assert!(libs.contains("libc.so"), "not a loader listing: {libs}");
    for heavy in ["opencv", "gstreamer", "glib", "stdc++", "vulkan", "X11"] {
        assert!(!libs.contains(heavy), "yardline loads {heavy}: {libs}");
    }
    // The engine's binary does load them: the listing tells them apart.
    let full = Command::new(env!("CARGO_BIN_EXE_yardline-full"))
        .env("LD_TRACE_LOADED_OBJECTS", "1")
        .output()
        .unwrap();
    let full = String::from_utf8_lossy(&full.stdout).to_string();
    assert!(full.contains("libopencv_core"), "{full}");
    assert!(full.contains("libgstreamer"), "{full}");
}

#[test]
fn control_runs_without_the_engine_binary() {
    let (_tmp, exe) = lone_yardline();
    // Nothing listens on port 1: the control client's own failure (exit 1), not a missing
    // `yardline-full`.
    let out = Command::new(&exe)
        .args(["control", "127.0.0.1:1", "get", "status"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!text(&out).contains("yardline-full"), "{}", text(&out));
    // A bad control command is still a usage error (2) with the command's usage.
    let bad = Command::new(&exe)
        .args(["control", "127.0.0.1:1", "frobnicate"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(
        text(&bad).contains("Usage: yardline control"),
        "{}",
        text(&bad)
    );
    let unknown_key = Command::new(&exe)
        .args(["control", "127.0.0.1:1", "set", "colour", "1"])
        .output()
        .unwrap();
    assert_eq!(unknown_key.status.code(), Some(2), "{}", text(&unknown_key));
    assert!(text(&unknown_key).contains("unknown key"));
    let version = Command::new(&exe).arg("--version").output().unwrap();
    assert!(version.status.success(), "{}", text(&version));
    let full_version = Command::new(env!("CARGO_BIN_EXE_yardline-full"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(version.stdout, full_version.stdout);
}

#[test]
fn other_commands_run_in_yardline_full_under_the_name_yardline() {
    // A usage error of `render` comes from the full binary, exit 2, naming `yardline`.
    let render = yardline(&["render"]);
    assert_eq!(render.status.code(), Some(2), "{}", text(&render));
    assert!(
        text(&render).contains("Usage: yardline render"),
        "{}",
        text(&render)
    );
    // A failing command keeps its exit code and its message.
    let decode = yardline(&["tracking", "decode", "zz"]);
    let direct = Command::new(env!("CARGO_BIN_EXE_yardline-full"))
        .args(["tracking", "decode", "zz"])
        .output()
        .unwrap();
    assert!(!decode.status.success(), "{}", text(&decode));
    assert_eq!(decode.status.code(), direct.status.code());
    assert_eq!(decode.stderr, direct.stderr);
    // The help lists every command, `control` among them.
    let help = yardline(&["--help"]);
    assert!(help.status.success(), "{}", text(&help));
    for command in ["render", "bench", "calibrate", "control"] {
        assert!(text(&help).contains(command), "{}", text(&help));
    }
}

#[test]
fn a_missing_yardline_full_is_a_clear_failure() {
    let (_tmp, exe) = lone_yardline();
    let out = Command::new(&exe).args(["render"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("yardline-full"), "{}", text(&out));
}
