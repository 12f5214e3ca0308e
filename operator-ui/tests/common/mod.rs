//! Shared set-up of the operator app tests: a small sample folder and an app on it.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of these helpers"
)]

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use yardline_engine::BackendChoice;
use yardline_engine::field::{FieldKind, FieldModel};
use yardline_operator::OperatorApp;
use yardline_operator::sample_cache::write_sample;
use yardline_operator::video::{VideoSetup, VideoThread, sample_setup};
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

/// The test sample as the app plays it (video, tracking, venue, scene), on the CPU compositor.
pub fn test_setup() -> VideoSetup {
    let mut setup = sample_setup(&sample_dir(), yardline_engine::EngineConfig::default())
        .expect("sample setup");
    setup.config.backend = BackendChoice::Cpu;
    setup
}

/// The app on the test sample, with an optional operator key, in a kittest harness.
pub fn harness(key: Option<yardline_keying::KeyConfig>) -> Harness<'static, OperatorApp> {
    let mut setup = test_setup();
    setup.key = key;
    harness_on(setup)
}

/// The app on `setup` in a kittest harness.
pub fn harness_on(setup: VideoSetup) -> Harness<'static, OperatorApp> {
    let (config, key) = (setup.config.clone(), setup.key.clone());
    let video = VideoThread::start(setup, Box::new(|| {})).expect("video thread");
    Harness::builder()
        .with_size([1280.0, 800.0])
        .with_max_steps(10_000)
        .build_eframe(move |_cc| OperatorApp::new(video, config, key, None))
}

/// Steps the harness (of any app) until `cond` holds, then once more so the screen shows what
/// the state now says; panics with `what` after [`WAIT`].
pub fn step_until<S>(harness: &mut Harness<'static, S>, what: &str, cond: impl Fn(&S) -> bool) {
    let start = Instant::now();
    loop {
        harness.step();
        if cond(harness.state()) {
            harness.step();
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

/// A primary click at screen position `pos`, with `modifiers`, in the harness of any app.
pub fn click_at<S>(harness: &mut Harness<'static, S>, pos: egui::Pos2, modifiers: egui::Modifiers) {
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

/// Index of the sample frame the app shows.
pub fn shown_index(app: &OperatorApp) -> u32 {
    let p = app.shown_frame().expect("a frame on screen");
    (p.source_pts_ns as f64 * sample().config().fps() / 1e9).round() as u32
}

/// Replaces the text of the field labelled `label` with `text`.
pub fn type_into<S>(harness: &mut Harness<'static, S>, label: &str, text: &str) {
    harness.get_by_label(label).focus();
    harness.step();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.step();
    harness.get_by_label(label).type_text(text);
    harness.step();
}

/// In the open calibration wizard, picks and clicks up to `max` landmarks of the NFL field
/// that the generator's exact camera puts well inside the frozen frame; returns how many.
pub fn click_landmarks(harness: &mut Harness<'static, OperatorApp>, max: usize) -> usize {
    let s = sample();
    let index = shown_index(harness.state());
    let (width, height) = {
        let p = harness.state().shown_frame().expect("frozen frame");
        (f64::from(p.width), f64::from(p.height))
    };
    let field = FieldModel::new(FieldKind::Nfl);
    let margin = 12.0;
    let mut clicked = 0;
    for lm in &field.landmarks {
        let Some(px) = s.project(index, lm.position).expect("truth camera") else {
            continue;
        };
        let inside =
            px[0] > margin && px[1] > margin && px[0] < width - margin && px[1] < height - margin;
        if !inside {
            continue;
        }
        type_into(harness, "Landmark filter", &lm.name);
        harness.get_by_label(&lm.name).click();
        harness.step();
        let pos = harness
            .state()
            .image_to_screen(px)
            .expect("image on screen");
        click_at(harness, pos, egui::Modifiers::NONE);
        clicked += 1;
        if clicked == max {
            break;
        }
    }
    clicked
}

/// On the frame on screen: of the pixels the generator's camera puts on the middle of the
/// first-down line (every metre from sideline to sideline, field surface only by its mask),
/// how many the program changed from the clean frame, and how many were looked at.
pub fn first_down_pixels_changed(app: &OperatorApp) -> (usize, usize) {
    let s = sample();
    let p = app.preview().expect("a frame");
    let index = (p.source_pts_ns as f64 * s.config().fps() / 1e9).round() as u32;
    let truth = s.render_frame(index).expect("render truth frame");
    let x = (s.scene().first_down_yard - 50.0) * 0.9144;
    let (w, h) = (p.width, p.height);
    let (mut changed, mut looked) = (0, 0);
    for ym in -24..=24 {
        let Some([u, v]) = s
            .project(index, [x, f64::from(ym), 0.0])
            .expect("truth camera")
        else {
            continue;
        };
        let (u, v) = (u.round(), v.round());
        if u < 0.0 || v < 0.0 || u >= f64::from(w) || v >= f64::from(h) {
            continue;
        }
        let i = v as usize * w as usize + u as usize;
        if truth.mask[i] != 0 {
            continue;
        }
        looked += 1;
        let diff: i32 = (0..3)
            .map(|c| (i32::from(p.program[4 * i + c]) - i32::from(p.clean[4 * i + c])).abs())
            .sum();
        if diff > 30 {
            changed += 1;
        }
    }
    (changed, looked)
}
