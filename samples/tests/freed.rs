//! `FreeD` packets decode (with a decoder written here) back to the truth after the delay.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail the test by panicking"
)]

use yardline_samples::motion::{DRIFT_MAX_DEG, ENCODER_NOISE_DEG};
use yardline_samples::{Sample, SampleConfig, Scenario};

/// Decoded D1 fields: (camera id, pan deg, tilt deg, roll deg, zoom counts, focus counts).
fn decode(hex: &str) -> Option<(u8, f64, f64, f64, u32, u32)> {
    if hex.len() != 58 {
        return None;
    }
    let b: Vec<u8> = (0..29)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16))
        .collect::<Result<_, _>>()
        .ok()?;
    let sum = b[..28].iter().fold(0_u8, |a, &x| a.wrapping_add(x));
    if b[0] != 0xD1 || 0x40_u8.wrapping_sub(sum) != b[28] {
        return None;
    }
    let u24 =
        |at: usize| (u32::from(b[at]) << 16) | (u32::from(b[at + 1]) << 8) | u32::from(b[at + 2]);
    let s24 = |at: usize| ((u24(at) << 8) as i32 >> 8) as f64 / 32768.0;
    Some((b[1], s24(2), s24(5), s24(8), u24(20), u24(23)))
}

fn check(scenario: Scenario) -> f64 {
    let cfg = SampleConfig {
        frames: 300,
        scenario,
        seed: 5,
        ..SampleConfig::default()
    };
    let s = Sample::new(cfg.clone()).unwrap();
    let recs = s.tracking_records().unwrap();
    let delay = cfg.tracking_delay_ns();
    assert_eq!(delay, 33_366_667);
    assert!(
        recs.len() >= 285 && recs.len() < 300,
        "{} packets of 300",
        recs.len()
    );
    let quant = 0.5 / 32768.0;
    let mut worst_err: f64 = 0.0;
    let mut next_frame = 0;
    for r in &recs {
        // Which frame does the packet describe? Its arrival time minus the delay is a pts.
        let frame = (next_frame..300)
            .find(|&i| cfg.pts_ns(i) + delay == r.pts_ns)
            .unwrap();
        next_frame = frame + 1;
        let (id, pan, tilt, roll, zoom, _focus) = decode(&r.freed).expect("valid packet");
        assert_eq!(id, 1);
        let truth = s.head_angles(frame).unwrap();
        let zc = s.zoom_counts(frame).unwrap();
        assert!(
            (f64::from(zoom) - zc).abs() <= 0.5 + 1e-9,
            "zoom {zoom} vs {zc}"
        );
        assert!(roll.abs() <= quant + ENCODER_NOISE_DEG);
        let err = (pan - truth.pan_deg)
            .abs()
            .max((tilt - truth.tilt_deg).abs());
        worst_err = worst_err.max(err);
        if scenario != Scenario::Drift {
            assert!(
                err <= quant + ENCODER_NOISE_DEG + 1e-12,
                "frame {frame}: FreeD differs from truth by {err} deg"
            );
        }
    }
    worst_err
}

#[test]
fn freed_matches_truth_within_quantisation_and_noise() {
    let worst = check(Scenario::Default);
    assert!(worst > 0.0, "noise and quantisation should be visible");
    check(Scenario::Static);
}

#[test]
fn freed_follows_the_head_through_zooms_and_cut_aways() {
    check(Scenario::Zoom);
    // Cut-away frames included: their packets point the head where the truth camera looks.
    let s = Sample::new(SampleConfig {
        frames: 300,
        scenario: Scenario::Cut,
        seed: 5,
        ..SampleConfig::default()
    })
    .unwrap();
    assert!((0..300).any(|i| s.cut_away(i).unwrap()));
    check(Scenario::Cut);
}

#[test]
fn drift_grows_to_a_tenth_of_a_degree() {
    let worst = check(Scenario::Drift);
    assert!(
        worst > 0.8 * DRIFT_MAX_DEG && worst <= DRIFT_MAX_DEG + 0.001,
        "worst drift {worst} deg"
    );
}
