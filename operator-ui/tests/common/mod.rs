//! Shared set-up of the operator app tests: a small sample folder and an app on it.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of these helpers"
)]

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use yardline_engine::BackendChoice;
use yardline_operator::OperatorApp;
use yardline_operator::sample_cache::write_sample;
use yardline_operator::video::{VideoThread, sample_setup};
use yardline_samples::{Sample, SampleConfig, Scenario};

/// Frames of the test sample.
pub const FRAMES: u32 = 4;
/// Longest a test waits for the video thread to reflect a change (a failure bound, not a
/// speed requirement).
pub const WAIT: Duration = Duration::from_secs(120);

/// Configuration of the test sample (small, static camera so every frame has the same pose).
pub fn sample_config() -> SampleConfig {
    SampleConfig {
        seed: 7,
        frames: FRAMES,
        width: 640,
        height: 360,
        scenario: Scenario::Static,
        ..SampleConfig::default()
    }
}

/// The test sample folder, generated once per build under the target's test tmp dir.
pub fn sample_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    static LOCK: Mutex<()> = Mutex::new(());
    DIR.get_or_init(|| {
        let _guard = LOCK
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("operator-ui-sample-static-4f");
        if !dir.join(".complete").is_file() {
            write_sample(sample_config(), &dir).expect("write the test sample");
        }
        dir
    })
    .clone()
}

/// The generator's own view of the test sample (truth, masks).
pub fn sample() -> Sample {
    Sample::new(sample_config()).expect("sample config")
}

/// The app on the test sample, with an optional operator key, in a kittest harness.
pub fn harness(key: Option<yardline_keying::KeyConfig>) -> Harness<'static, OperatorApp> {
    let mut setup = sample_setup(&sample_dir(), yardline_engine::EngineConfig::default())
        .expect("sample setup");
    setup.config.backend = BackendChoice::Cpu;
    setup.key = key;
    let (config, key) = (setup.config.clone(), setup.key.clone());
    let video = VideoThread::start(setup, Box::new(|| {})).expect("video thread");
    Harness::builder()
        .with_size([1280.0, 800.0])
        .with_max_steps(10_000)
        .build_eframe(move |_cc| OperatorApp::new(video, config, key, None))
}

/// Steps the harness until `cond` holds; panics with `what` after [`WAIT`].
pub fn step_until(
    harness: &mut Harness<'static, OperatorApp>,
    what: &str,
    cond: impl Fn(&OperatorApp) -> bool,
) {
    let start = Instant::now();
    loop {
        harness.step();
        if cond(harness.state()) {
            return;
        }
        assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Steps until the first frame is on screen.
pub fn wait_for_video(harness: &mut Harness<'static, OperatorApp>) {
    step_until(harness, "the first frame", |a| a.preview().is_some());
    // One more pass lays the image out (the image rect is known after a drawn frame).
    harness.step();
}

/// A primary click at screen position `pos`, with `modifiers`.
pub fn click_at(
    harness: &mut Harness<'static, OperatorApp>,
    pos: egui::Pos2,
    modifiers: egui::Modifiers,
) {
    harness.event(egui::Event::PointerMoved(pos));
    harness.step();
    harness.event(egui::Event::ModifiersChanged(modifiers));
    for pressed in [true, false] {
        harness.event(egui::Event::PointerButton {
            pos,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers,
        });
    }
    harness.step();
    harness.event(egui::Event::ModifiersChanged(egui::Modifiers::NONE));
    harness.step();
}
