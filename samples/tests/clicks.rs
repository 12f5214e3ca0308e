//! `clicks.json`: frame 0's landmarks as an operator clicks them.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail the test by panicking"
)]

use yardline_samples::{
    CLICK_NOISE_PX, Click, FILL_CLICKS, MASK_FIELD, MASK_PLAYER, MIN_CLICKS, Sample, SampleConfig,
    Scenario, read_clicks_json,
};

const YARD_M: f64 = 0.9144;
const HALF_FIELD_WIDTH_M: f64 = 24.384;
const NFL_HASH_M: f64 = 0.5 * (18.0 * 0.3048 + 6.0 * 0.0254);
const TICK_M: f64 = HALF_FIELD_WIDTH_M - 4.0 * 0.0254;
const MARK_M: f64 = 2.0 * 0.3048;

fn sample(scenario: Scenario, seed: u64, width: u32, height: u32) -> Sample {
    Sample::new(SampleConfig {
        seed,
        frames: 3,
        width,
        height,
        scenario,
        ..SampleConfig::default()
    })
    .unwrap()
}

/// The yard (0..=100) of a field x, when it lies on one.
fn yard_of(x: f64) -> Option<i64> {
    let yard = x / YARD_M + 50.0;
    ((yard - yard.round()).abs() < 1e-9).then_some(yard.round() as i64)
}

fn is_landmark(c: &Click) -> bool {
    let y = c.field[1].abs();
    yard_of(c.field[0]).is_some_and(|yd| yd % 5 == 0)
        && ((y - NFL_HASH_M).abs() < 1e-9 || (y - HALF_FIELD_WIDTH_M).abs() < 1e-9)
        && c.field[2] == 0.0
}

/// Checks every click lies near the truth projection of its field point, on visible field
/// surface well inside the image; returns the click errors (pixels, both axes).
fn check(s: &Sample, clicks: &[Click]) -> Vec<f64> {
    let frame = s.render_frame(0).unwrap();
    let (w, h) = (frame.truth.width as usize, frame.truth.height as usize);
    let mut errors = Vec::new();
    for c in clicks {
        let [u, v] = frame.truth.project(c.field).unwrap();
        let (du, dv) = (c.image[0] - u, c.image[1] - v);
        assert!(du.hypot(dv) < 6.0 * CLICK_NOISE_PX, "{c:?} vs ({u}, {v})");
        errors.extend([du, dv]);
        let margin = 0.05 * w.min(h) as f64;
        assert!(u >= margin && u <= w as f64 - 1.0 - margin, "{c:?}");
        assert!(v >= margin && v <= h as f64 - 1.0 - margin, "{c:?}");
        let (col, row) = (u.round() as usize, v.round() as usize);
        assert_eq!(frame.mask[row * w + col], MASK_FIELD, "{c:?}");
        for r in row - 1..=row + 1 {
            for k in col - 1..=col + 1 {
                assert_ne!(
                    frame.mask[r * w + k],
                    MASK_PLAYER,
                    "{c:?} is beside a player"
                );
            }
        }
    }
    errors
}

#[test]
fn wide_frames_give_landmarks_with_click_noise() {
    let mut errors = Vec::new();
    for (seed, scenario) in [
        (1, Scenario::Default),
        (2, Scenario::Default),
        (3, Scenario::Cut),
        (4, Scenario::Zoom),
        (5, Scenario::Drift),
    ] {
        let s = sample(scenario, seed, 640, 360);
        let clicks = s.clicks().unwrap();
        println!("{scenario} seed {seed}: {} clicks", clicks.len());
        assert!(
            clicks.len() >= MIN_CLICKS,
            "{scenario} seed {seed}: {clicks:?}"
        );
        assert!(clicks.iter().all(is_landmark), "{scenario}: {clicks:?}");
        // Both rows of hash marks and both axes of the field are spanned.
        assert!(clicks.iter().any(|c| c.field[1] > 0.0) && clicks.iter().any(|c| c.field[1] < 0.0));
        errors.extend(check(&s, &clicks));
    }
    let rms = (errors.iter().map(|e| e * e).sum::<f64>() / errors.len() as f64).sqrt();
    println!("click noise {rms:.3} px RMS over {} axes", errors.len());
    assert!(errors.len() >= 100);
    assert!(
        (0.8 * CLICK_NOISE_PX..=1.2 * CLICK_NOISE_PX).contains(&rms),
        "click noise {rms} px RMS"
    );
}

#[test]
fn tight_frames_add_points_further_along() {
    // A hard sample that opens tight (its zoom breathes deep): find one among the seeds.
    let s = (1..200)
        .map(|seed| sample(Scenario::Hard, seed, 640, 360))
        .find(|s| s.zoom_counts(0).unwrap() > 0.8 * 60_000.0)
        .expect("a hard sample that opens tight");
    let clicks = s.clicks().unwrap();
    println!("{} clicks: {clicks:?}", clicks.len());
    let further = clicks.iter().filter(|c| !is_landmark(c)).count();
    assert!(further > 0, "{clicks:?}");
    assert!(
        (FILL_CLICKS..=FILL_CLICKS + 1).contains(&clicks.len()),
        "{clicks:?}"
    );
    for c in clicks.iter().filter(|c| !is_landmark(c)) {
        let y = c.field[1].abs();
        assert!(yard_of(c.field[0]).is_some_and(|yd| yd % 5 != 0), "{c:?}");
        assert!(
            [NFL_HASH_M, NFL_HASH_M + MARK_M, TICK_M, TICK_M - MARK_M]
                .iter()
                .any(|r| (y - r).abs() < 1e-9),
            "{c:?}"
        );
    }
    // Not all on one line of the field (a camera cannot be solved from those).
    let (a, b) = (clicks[0].field, clicks[1].field);
    let off_line = clicks.iter().any(|c| {
        let cross = (b[0] - a[0]) * (c.field[1] - a[1]) - (b[1] - a[1]) * (c.field[0] - a[0]);
        cross.abs() > 0.1
    });
    assert!(off_line, "{clicks:?}");
    check(&s, &clicks);
}

#[test]
fn clicks_json_is_the_calibrate_points_format() {
    let dir = std::env::temp_dir().join(format!("yardline-samples-clicks-{}", std::process::id()));
    let s = sample(Scenario::Default, 9, 320, 180);
    s.write_metadata(&dir).unwrap();
    let path = dir.join("clicks.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let points = value.as_array().unwrap();
    assert!(points.len() >= MIN_CLICKS, "{text}");
    for p in points {
        let obj = p.as_object().unwrap();
        assert_eq!(obj.len(), 2, "{p}");
        assert_eq!(obj["image"].as_array().unwrap().len(), 2, "{p}");
        assert_eq!(obj["field"].as_array().unwrap().len(), 3, "{p}");
        assert!(
            obj["image"]
                .as_array()
                .unwrap()
                .iter()
                .all(serde_json::Value::is_f64)
        );
    }
    assert_eq!(read_clicks_json(&path).unwrap(), s.clicks().unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
}
