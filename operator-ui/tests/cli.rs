//! The binary's flags and its usage errors (no window is opened for either).

use std::process::Command;

fn operator() -> Command {
    Command::new(env!("CARGO_BIN_EXE_yardline-operator"))
}

#[test]
fn help_lists_the_flags() {
    let out = operator().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--source",
        "--input",
        "--sample",
        "--test-pattern",
        "--tracking",
        "--udp",
        "--venue",
        "--keying",
        "--first-down",
        "--renderer",
        "--cache-dir",
    ] {
        assert!(text.contains(flag), "--help lacks {flag}:\n{text}");
    }
}

#[test]
fn a_missing_sample_folder_is_a_usage_error() {
    let out = operator()
        .args(["--sample", "/nonexistent/yardline-sample"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/yardline-sample"), "{err}");
}

#[test]
fn a_malformed_key_file_is_a_usage_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.toml");
    std::fs::write(&key, "version = 1\n[palette]\nsoftness = \"soft\"\n").unwrap();
    let out = operator()
        .arg("--test-pattern")
        .arg("--keying")
        .arg(&key)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("key.toml"), "{err}");
}
