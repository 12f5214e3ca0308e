//! `yardline soak` on the real binary: every fault kind on its own, then all mixed; each frame
//! must come out present, in order, and correct or untouched.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::process::Command;

use serde_json::Value;

fn soak(args: &[&str]) -> (Value, std::process::Output) {
    let out = Command::new(env!("CARGO_BIN_EXE_yardline"))
        .arg("soak")
        .args(["--json", "--size", "320x180"])
        .args(args)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "soak {args:?} printed no JSON ({e}); stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, out)
}

fn assert_clean_run(v: &Value, frames: u64, what: &str) {
    assert_eq!(v["frames"], frames, "{what}: {v}");
    assert_eq!(
        v["wrong"], 0,
        "{what}: wrong frames: {}",
        v["wrong_examples"]
    );
    assert_eq!(v["out_of_order"], 0, "{what}: {v}");
    let sum = v["correct"].as_u64().unwrap() + v["untouched"].as_u64().unwrap();
    assert_eq!(sum, frames, "{what}: every frame correct or untouched: {v}");
}

#[test]
fn every_fault_kind_alone_leaves_frames_correct_or_untouched() {
    let kinds = [
        "dropout",
        "burst",
        "corrupt",
        "short",
        "duplicate",
        "reorder",
        "late",
        "absurd",
        "non-finite",
        "jump",
        "resize",
        "bad-key-update",
        "bad-venue-update",
        "device-loss",
        "panic",
    ];
    for kind in kinds {
        let (v, out) = soak(&["--frames", "240", "--seed", "3", "--faults", kind]);
        assert!(
            out.status.success(),
            "{kind}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_clean_run(&v, 240, kind);
        assert!(
            v["faults"][kind].as_u64().unwrap() > 0,
            "{kind} was never injected: {}",
            v["faults"]
        );
        // The line is still drawn on most frames: faults cost frames, not the show.
        assert!(
            v["correct"].as_u64().unwrap() > 60,
            "{kind}: only {} frames drawn",
            v["correct"]
        );
    }
}

#[test]
fn fault_counters_say_what_happened() {
    let (v, out) = soak(&["--frames", "240", "--seed", "5", "--faults", "panic"]);
    assert!(out.status.success());
    assert_eq!(v["caught_panics"], v["faults"]["panic"], "{v}");

    let (v, _) = soak(&["--frames", "240", "--seed", "5", "--faults", "corrupt"]);
    assert!(
        v["intake"]["checksum_failures"].as_u64().unwrap() > 0,
        "{v}"
    );

    let (v, _) = soak(&["--frames", "240", "--seed", "5", "--faults", "jump"]);
    let refused = v["engine"]["jumps_rejected"].as_u64().unwrap()
        + v["engine"]["jump_samples_rejected"].as_u64().unwrap();
    assert!(refused > 0, "{v}");

    let (v, _) = soak(&["--frames", "240", "--seed", "5", "--faults", "resize"]);
    assert!(v["engine"]["size_changes"].as_u64().unwrap() > 0, "{v}");

    let (v, _) = soak(&[
        "--frames",
        "240",
        "--seed",
        "5",
        "--faults",
        "bad-key-update,bad-venue-update",
    ]);
    assert!(v["updates_refused"].as_u64().unwrap() > 0, "{v}");
}

#[test]
fn all_faults_mixed_for_a_thousand_frames() {
    let (v, out) = soak(&["--frames", "1000", "--seed", "11"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_clean_run(&v, 1000, "mixed");
    assert!(v["faults"]["dropout"].as_u64().unwrap() > 100, "{v}");
    assert!(v["correct"].as_u64().unwrap() > 500, "{v}");
}

#[test]
fn bad_arguments_exit_2() {
    for args in [
        &["--frames", "0"][..],
        &["--faults", "gremlins"][..],
        &["--tolerance-px", "nan"][..],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_yardline"))
            .arg("soak")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("error"), "{args:?}: {err}");
    }
}
