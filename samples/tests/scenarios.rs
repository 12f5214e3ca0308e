//! The `zoom` and `cut` scenarios show what they promise: tight shots with only two yard lines
//! and one row of hash marks, crowds, cut-aways with no field and exact cameras, and returns to
//! other framings.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail the test by panicking"
)]
#![allow(
    clippy::float_cmp,
    reason = "identical scenes give bit-identical cameras"
)]
#![allow(
    clippy::naive_bytecount,
    reason = "small test images; no extra dependency"
)]

use yardline_samples::{
    MASK_FIELD, MASK_OUTSIDE, MASK_PLAYER, Sample, SampleConfig, Scenario, TruthRecord,
};

const HALF_FIELD_WIDTH_M: f64 = 24.384;
const NFL_HASH_M: f64 = 0.5 * (18.0 * 0.3048 + 6.0 * 0.0254);
const YARD_M: f64 = 0.9144;
const FPS: f64 = 60_000.0 / 1001.0;

fn yard_x(yard: f64) -> f64 {
    (yard - 50.0) * YARD_M
}

fn sample(scenario: Scenario, seed: u64, frames: u32, width: u32, height: u32) -> Sample {
    Sample::new(SampleConfig {
        seed,
        frames,
        width,
        height,
        scenario,
        ..SampleConfig::default()
    })
    .unwrap()
}

fn in_image(t: &TruthRecord, p: [f64; 3]) -> bool {
    t.project(p).is_some_and(|[u, v]| {
        u >= -0.5 && v >= -0.5 && u <= f64::from(t.width) - 0.5 && v <= f64::from(t.height) - 0.5
    })
}

/// The yard lines (every 5 yards) with some part in the image, and the rows of hash marks
/// with some 1-yard mark's inner end in the image.
fn lines_and_hash_rows(t: &TruthRecord) -> (usize, usize) {
    let lines = (0..=20)
        .filter(|k| {
            let x = yard_x(f64::from(k * 5));
            (0..=400).any(|j| {
                let y = -HALF_FIELD_WIDTH_M + 2.0 * HALF_FIELD_WIDTH_M * f64::from(j) / 400.0;
                in_image(t, [x, y, 0.0])
            })
        })
        .count();
    let rows = [-NFL_HASH_M, NFL_HASH_M]
        .into_iter()
        .filter(|&y| (0..=100).any(|yard| in_image(t, [yard_x(f64::from(yard)), y, 0.0])))
        .count();
    (lines, rows)
}

/// Width of the ground (yards) seen across the image's middle row.
fn span_yd(t: &TruthRecord) -> f64 {
    let cam = t.camera().unwrap();
    let v = 0.5 * (f64::from(t.height) - 1.0);
    let a = cam.ground_hit(-0.5, v).unwrap();
    let b = cam.ground_hit(f64::from(t.width) - 0.5, v).unwrap();
    (b[0] - a[0]).hypot(b[1] - a[1]) / YARD_M
}

#[test]
fn zoom_pushes_in_to_two_yard_lines_and_one_hash_row() {
    let frames = 600;
    let zoom = sample(Scenario::Zoom, 1, frames, 640, 360);
    let default = sample(Scenario::Default, 1, frames, 640, 360);
    let (mut tight, mut narrowest, mut widest) = (0, f64::INFINITY, 0.0_f64);
    for i in 0..frames {
        let t = zoom.truth(i).unwrap();
        let (lines, rows) = lines_and_hash_rows(&t);
        if (1..=2).contains(&lines) && rows == 1 {
            tight += 1;
        }
        let span = span_yd(&t);
        narrowest = narrowest.min(span);
        widest = widest.max(span);
        let (default_lines, _) = lines_and_hash_rows(&default.truth(i).unwrap());
        assert!(
            default_lines >= 4,
            "default frame {i}: {default_lines} lines"
        );
    }
    // A tight hold of 2.6 s in every 6.5 s cycle, more or less of it with one hash row.
    assert!(
        tight >= frames / 8,
        "only {tight} of {frames} frames show at most two yard lines and one hash row"
    );
    assert!(
        (5.0..=10.5).contains(&narrowest),
        "narrowest {narrowest} yd"
    );
    assert!(widest >= 25.0, "widest {widest} yd");
    // The push is fast: the focal length grows threefold within a second somewhere.
    let second = FPS.round() as u32;
    let fastest = (0..frames - second)
        .map(|i| {
            zoom.truth(i + second).unwrap().intrinsics.fx / zoom.truth(i).unwrap().intrinsics.fx
        })
        .fold(0.0, f64::max);
    assert!(fastest >= 3.0, "fastest push x{fastest:.2} per second");
    // The clip opens wide, so that frame 0 can be calibrated from.
    assert!(span_yd(&zoom.truth(0).unwrap()) >= 25.0);
}

#[test]
fn zoom_crowds_the_tight_shots() {
    let frames = 600;
    let s = sample(Scenario::Zoom, 2, frames, 320, 180);
    // The tightest frames of the clip.
    let mut by_fx: Vec<(f64, u32)> = (0..frames)
        .map(|i| (s.truth(i).unwrap().intrinsics.fx, i))
        .collect();
    by_fx.sort_by(|a, b| b.0.total_cmp(&a.0));
    for &(_, i) in by_fx.iter().step_by(20).take(4) {
        let f = s.render_frame(i).unwrap();
        let n = f.mask.len() as f64;
        let players = f.mask.iter().filter(|&&m| m == MASK_PLAYER).count() as f64 / n;
        let field = f.mask.iter().filter(|&&m| m == MASK_FIELD).count() as f64 / n;
        assert!(
            players >= 0.2,
            "frame {i}: players cover only {:.1} %",
            100.0 * players
        );
        assert!(
            field >= 0.2,
            "frame {i}: field covers only {:.1} %",
            100.0 * field
        );
    }
    // Default spreads fewer players over a wider view.
    let d = sample(Scenario::Default, 2, 2, 320, 180)
        .render_frame(1)
        .unwrap();
    let players = d.mask.iter().filter(|&&m| m == MASK_PLAYER).count() as f64;
    assert!(players / (d.mask.len() as f64) < 0.1);
}

/// The cut-away stretches of a clip: (first frame, frame after the last).
fn cut_aways(s: &Sample) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    for i in 0..s.frame_count() {
        if s.cut_away(i).unwrap() {
            match out.last_mut() {
                Some(last) if last.1 == i => last.1 = i + 1,
                _ => out.push((i, i + 1)),
            }
        }
    }
    out
}

#[test]
fn cut_aways_show_no_field_and_keep_exact_cameras() {
    let frames = 600;
    let s = sample(Scenario::Cut, 1, frames, 160, 90);
    let cuts = cut_aways(&s);
    assert!(cuts.len() >= 2, "{cuts:?}");
    let secs = |frames: u32| f64::from(frames) / FPS;
    assert!((2.0..=3.05).contains(&secs(cuts[0].0)), "{cuts:?}");
    for (k, &(a, b)) in cuts.iter().enumerate() {
        // Each comes back to the field, the last a second before the end.
        assert!(secs(frames - b) >= 0.98, "{cuts:?}");
        assert!((0.98..=3.02).contains(&secs(b - a)), "{cuts:?}");
        if let Some(next) = cuts.get(k + 1) {
            assert!((3.98..=6.02).contains(&secs(next.0 - a)), "{cuts:?}");
        }
    }
    let fd = yard_x(35.0);
    for i in 0..frames {
        let t = s.truth(i).unwrap();
        let cam = t.camera().unwrap();
        let line_in_view = (0..=100).any(|j| {
            let y = -HALF_FIELD_WIDTH_M + 2.0 * HALF_FIELD_WIDTH_M * f64::from(j) / 100.0;
            in_image(&t, [fd, y, 0.0])
        });
        if s.cut_away(i).unwrap() {
            let f = s.render_frame(i).unwrap();
            assert_eq!(f.truth, t);
            assert!(
                f.mask.iter().all(|&m| m == MASK_OUTSIDE),
                "cut-away frame {i} shows more than the stands and the sky"
            );
            assert!(!line_in_view, "frame {i}");
            // The camera looks up, over the far side.
            assert!(cam.ray(79.5, 44.5).z > -0.2, "frame {i}");
        } else {
            assert!(line_in_view, "frame {i}");
        }
    }
    // Field frames show the field.
    let f = s.render_frame(cuts[0].1).unwrap();
    let field = f.mask.iter().filter(|&&m| m == MASK_FIELD).count();
    assert!(field > f.mask.len() / 3, "{field} field px");
}

#[test]
fn cut_aways_of_other_seeds_show_no_field_either() {
    for seed in 2..8 {
        let s = sample(Scenario::Cut, seed, 1800, 96, 54);
        let cuts = cut_aways(&s);
        assert!(cuts.len() >= 5, "seed {seed}: {cuts:?}");
        assert!(
            cuts.iter().all(|&(_, b)| b + 59 < 1800),
            "seed {seed}: {cuts:?}"
        );
        for (a, b) in cuts {
            for i in (a..b).step_by(7) {
                let f = s.render_frame(i).unwrap();
                assert!(
                    f.mask.iter().all(|&m| m == MASK_OUTSIDE),
                    "seed {seed}: cut-away frame {i} shows more than the stands and the sky"
                );
            }
        }
    }
}

#[test]
fn cut_returns_to_another_framing_and_moves_on_smoothly() {
    for seed in [1, 2, 3] {
        let frames = 600;
        let cut = sample(Scenario::Cut, seed, frames, 320, 180);
        let default = sample(Scenario::Default, seed, frames, 320, 180);
        let cuts = cut_aways(&cut);
        let first = cuts[0];
        // Until the first cut-away, the cut scenario is default, bit for bit.
        for i in 0..first.0 {
            assert_eq!(cut.truth(i).unwrap(), default.truth(i).unwrap());
        }
        // After it: another zoom (0.75x to 0.9x or 1.1x to 1.35x), kept until the next cut.
        let back = first.1;
        let until = cuts.get(1).map_or(frames, |c| c.0);
        let ratio =
            |i: u32| cut.truth(i).unwrap().intrinsics.fx / default.truth(i).unwrap().intrinsics.fx;
        // (Unless the lens is at the end of its range.)
        let free = |i: u32| {
            let zc = cut.zoom_counts(i).unwrap();
            zc > 0.0 && zc < 60_000.0
        };
        let scaled: Vec<f64> = (back..until).filter(|&i| free(i)).map(ratio).collect();
        assert!(scaled.len() > 30, "seed {seed}");
        let r = scaled[0];
        assert!(
            (0.749..=0.91).contains(&r) || (1.099..=1.351).contains(&r),
            "seed {seed}: focal x{r}"
        );
        assert!(scaled.iter().all(|x| (x - r).abs() < 1e-6), "seed {seed}");
        // ... and the aim elsewhere along the field, by at most the shift plus the wander.
        let centre = |t: TruthRecord| t.camera().unwrap().ground_hit(159.5, 89.5).unwrap();
        let dx = (centre(cut.truth(back).unwrap())[0] - centre(default.truth(back).unwrap())[0])
            .abs()
            / YARD_M;
        assert!(dx <= 8.0, "seed {seed}: {dx} yd");
        // Smooth between cuts: small steps frame to frame, jumps only at the cuts.
        for i in 1..frames {
            let (a, b) = (cut.head_angles(i - 1).unwrap(), cut.head_angles(i).unwrap());
            let step = (b.pan_deg - a.pan_deg)
                .abs()
                .max((b.tilt_deg - a.tilt_deg).abs());
            let at_cut = cuts.iter().any(|&(s, e)| i == s || i == e);
            if at_cut {
                assert!(
                    step > 1.0,
                    "seed {seed} frame {i}: the cut moves only {step} deg"
                );
            } else {
                assert!(step < 0.5, "seed {seed} frame {i}: {step} deg in one frame");
            }
        }
    }
}

#[test]
fn frame_zero_gives_enough_clicks_in_every_scenario() {
    for scenario in Scenario::ALL {
        let s = sample(scenario, 4, 2, 640, 360);
        let clicks = s.clicks().unwrap();
        assert!(clicks.len() >= 6, "{scenario}: {} clicks", clicks.len());
    }
}
