//! `yardline bench --json`: one JSON object with the stages issue 5 names, on RGB and YUV
//! frames, the line drawn on every frame; `--realtime` paces the frames; bad arguments exit 2.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use common::yardline;

/// `yardline bench --backend cpu --json` with `args`.
fn bench(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["bench", "--backend", "cpu", "--json"];
    all.extend_from_slice(args);
    let out = yardline(&all);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn bench_prints_every_stage_for_rgb_and_yuv_frames() {
    for format in [
        "RGBx",
        "I420",
        "UYVY",
        "v210",
        "P010_10LE",
        "I420_10LE",
        "I422_10LE",
    ] {
        let v = bench(&["--size", "320x180", "--frames", "30", "--format", format]);
        assert_eq!(v["realtime"], false);
        assert_eq!(v["format"], format);
        assert_eq!(v["backend"], "cpu");
        assert_eq!(
            (v["width"].as_u64(), v["height"].as_u64()),
            (Some(320), Some(180))
        );
        assert_eq!(v["frames"].as_u64(), Some(30));
        assert_eq!(
            v["drawn_frames"].as_u64(),
            Some(30),
            "{format}: line not drawn"
        );
        let period = v["frame_period_ms"].as_f64().unwrap();
        assert!((period - 1000.0 / 59.94).abs() < 1e-3, "{period}");
        for stage in ["sync", "pose", "graphics", "composite", "total"] {
            let s = &v["stages"][stage];
            let [p50, p99, max] = ["p50", "p99", "max"].map(|k| s[k].as_f64().unwrap());
            assert!(
                0.0 <= p50 && p50 <= p99 && p99 <= max,
                "{format} {stage}: {s}"
            );
        }
        assert_eq!(v["total_ms"], v["stages"]["total"]);
        assert!(v["stages"]["composite"]["p50"].as_f64().unwrap() > 0.0);
        // The set-up frame builds the automatic key (hundreds of ms): kept out of the timing.
        let (setup, max) = (
            v["setup_ms"].as_f64().unwrap(),
            v["total_ms"]["max"].as_f64().unwrap(),
        );
        assert!(
            setup > max,
            "{format}: set-up {setup} ms, slowest timed frame {max} ms"
        );
    }
}

#[test]
fn paced_bench_takes_the_frames_periods() {
    // Small frames take a few ms each even unoptimised: well under a period.
    let v = bench(&["--size", "160x90", "--frames", "60", "--realtime"]);
    assert_eq!(v["realtime"], true);
    assert_eq!(v["drawn_frames"].as_u64(), Some(60));
    // 60 frames paced at 59.94 Hz: the last starts 59 periods after the first.
    let periods = 59.0 * v["frame_period_ms"].as_f64().unwrap();
    let wall = v["wall_ms"].as_f64().unwrap();
    assert!(wall >= periods, "{wall} ms for {periods} ms of periods");
}

#[test]
fn bench_refuses_bad_arguments_with_exit_2() {
    for args in [
        &["bench", "--format", "YUY9"][..],
        &["bench", "--frames", "0"][..],
        &["bench", "--size", "0x0"][..],
    ] {
        let out = yardline(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn the_gpu_backend_prints_no_error_lines_on_a_headless_machine() {
    // Mesa's device-select Vulkan layer prints "error: XDG_RUNTIME_DIR is invalid ..." when
    // it probes for a desktop with no session; the binary switches it off.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yardline"))
        .args([
            "bench",
            "--backend",
            "gpu",
            "--size",
            "160x90",
            "--frames",
            "2",
            "--json",
        ])
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("DISPLAY")
        .env_remove("NODEVICE_SELECT")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", common::text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.lines().any(|l| l.starts_with("error:")),
        "stderr: {stderr}"
    );
}
