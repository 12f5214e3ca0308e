//! Key accuracy on generated frames against their exact masks (issue 4's measure): the
//! engine's automatic key (from the first frame and its camera) plus at most 3 exclusion
//! samples an operator would drag over kits that show through (kept only when they cost
//! under 0.2 % of the field), over the field-of-play pixels of several frames, with the paint
//! palette where `PaintView` sees paint and no min-filter. Field pixels should key >= 0.5,
//! player pixels < 0.5. The goals (99.5 % / 99 %) are printed against; the assertions are the
//! levels measured when this was written, less a margin, so a regression fails.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail the test by panicking"
)]

use yardline_e2e::truth_camera;
use yardline_engine::key::{FieldKey, auto_key_config};
use yardline_engine::{Camera, FieldKind, FieldModel};
use yardline_keying::frame::{FrameLayout, FrameRef, PixelFormat};
use yardline_keying::{KeyConfig, Sample, SampleKind};
use yardline_samples::{MASK_FIELD, RenderedFrame, Sample as Clip, SampleConfig, Scenario};

/// Issue 4's goals.
const FIELD_GOAL: f64 = 0.995;
const PLAYER_GOAL: f64 = 0.99;
/// The levels measured less a margin. The default scenario at broadcast size (1920x1080:
/// field 0.9979, players 0.9917, both goals met) and at 640x360 (0.9946 / 0.9789: kit edges
/// are a larger share of the players there); the hard scenario's green kit is within a few
/// code values of the grass (0.9841 / 0.7418 at 640x360).
const FLOORS: [Case; 3] = [
    Case {
        scenario: Scenario::Default,
        seed: 1,
        size: (1920, 1080),
        field_floor: 0.995,
        player_floor: 0.985,
    },
    Case {
        scenario: Scenario::Default,
        seed: 1,
        size: (640, 360),
        field_floor: 0.989,
        player_floor: 0.97,
    },
    Case {
        scenario: Scenario::Hard,
        seed: 3,
        size: (640, 360),
        field_floor: 0.978,
        player_floor: 0.73,
    },
];

/// One measured clip and the levels it must keep.
struct Case {
    scenario: Scenario,
    seed: u64,
    size: (u32, u32),
    field_floor: f64,
    player_floor: f64,
}

/// Exclusion samples the operator may add.
const MAX_EXCLUSIONS: usize = 3;
/// Mask value of players, officials and the ball.
const MASK_PLAYER: u8 = 255;

fn engine_camera(f: &RenderedFrame) -> Camera {
    truth_camera(&f.truth)
}

/// The frame as RGBA (the generator writes rgb24).
fn rgba(f: &RenderedFrame) -> (FrameLayout, Vec<u8>) {
    let layout = FrameLayout::packed(PixelFormat::Rgba, f.truth.width, f.truth.height).unwrap();
    let data = f
        .rgb
        .chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect();
    (layout, data)
}

/// (field pixels keyed >= 0.5, player pixels keyed < 0.5) as shares, and the colours (Y, Cb,
/// Cr) of the player pixels keyed as field.
type Score = (f64, f64, Vec<[f64; 3]>);

fn accuracy(key: &FieldKey, f: &RenderedFrame, field: &FieldModel) -> Score {
    let (layout, data) = rgba(f);
    let frame = FrameRef::new(&layout, &data).unwrap();
    let matte = key.matte(frame, &engine_camera(f), field).unwrap();
    let (mut field_n, mut field_ok, mut player_n, mut player_ok) = (0_u64, 0_u64, 0_u64, 0_u64);
    let mut leaks = Vec::new();
    let w = f.truth.width;
    for (i, (&m, &k)) in f.mask.iter().zip(&matte).enumerate() {
        if m == MASK_FIELD {
            field_n += 1;
            field_ok += u64::from(k >= 0.5);
        } else if m == MASK_PLAYER {
            player_n += 1;
            if k < 0.5 {
                player_ok += 1;
            } else {
                let (x, y) = (i as u32 % w, i as u32 / w);
                leaks.push(frame.ycbcr_f32(x, y).map(f64::from));
            }
        }
    }
    (
        field_ok as f64 / field_n.max(1) as f64,
        player_ok as f64 / player_n.max(1) as f64,
        leaks,
    )
}

fn measure(scenario: Scenario, width: u32, height: u32, seed: u64, frames: &[u32]) -> (f64, f64) {
    let clip = Clip::new(SampleConfig {
        seed,
        frames: 400,
        width,
        height,
        scenario,
        ..SampleConfig::default()
    })
    .unwrap();
    let field = FieldModel::new(FieldKind::Nfl);
    let first = clip.render_frame(frames[0]).unwrap();
    let (layout, data) = rgba(&first);
    let frame = FrameRef::new(&layout, &data).unwrap();
    let mut config: KeyConfig = auto_key_config(frame, &engine_camera(&first), &field).unwrap();
    // Raw key accuracy: the min-filter (a spill option) keys out a ring round every player on
    // purpose.
    config.min_filter_radius = 0;
    let rendered: Vec<RenderedFrame> = frames
        .iter()
        .map(|&i| clip.render_frame(i).unwrap())
        .collect();
    let score = |config: &KeyConfig| {
        let key = FieldKey::compile(config).unwrap().on_field(&field);
        let all: Vec<_> = rendered.iter().map(|f| accuracy(&key, f, &field)).collect();
        let mean = |g: fn(&Score) -> f64| all.iter().map(g).sum::<f64>() / all.len() as f64;
        let (fa, pa) = (mean(|a| a.0), mean(|a| a.1));
        // The frame that shows the most through, for the next exclusion.
        let worst = all.into_iter().max_by_key(|a| a.2.len()).unwrap().2;
        (fa, pa, worst)
    };
    let (mut fa, mut pa, mut leaks) = score(&config);
    println!(
        "{scenario} {width}x{height}, frames {frames:?}: automatic key: field {fa:.4}, players {pa:.4}"
    );
    // The operator drags over what shows through on the worst frame, while it helps.
    for n in 1..=MAX_EXCLUSIONS {
        if pa >= PLAYER_GOAL || leaks.len() < 64 {
            break;
        }
        let sample =
            Sample::from_pixels(SampleKind::Exclusion, format!("kit {n}"), &leaks, 3.0).unwrap();
        let m = sample.mean;
        let mut trial = config.clone();
        trial.palette.push(sample).unwrap();
        let (f1, p1, l1) = score(&trial);
        println!(
            "  + exclusion {n} (Y {:.0} Cb {:.0} Cr {:.0}): field {f1:.4}, players {p1:.4}",
            m[0], m[1], m[2]
        );
        if f1 < fa - 0.002 {
            break; // it costs more field than it saves: the operator would undo it
        }
        (config, fa, pa, leaks) = (trial, f1, p1, l1);
    }
    (fa, pa)
}

#[test]
fn automatic_key_accuracy_on_generated_frames_holds_its_level() {
    for Case {
        scenario,
        seed,
        size: (w, h),
        field_floor,
        player_floor,
    } in FLOORS
    {
        let (field, players) = measure(scenario, w, h, seed, &[0, 60, 120]);
        println!(
            "{scenario} {w}x{h}: field {field:.4} (goal {FIELD_GOAL}), players {players:.4} (goal {PLAYER_GOAL})"
        );
        assert!(
            field >= field_floor,
            "{scenario} {w}x{h}: field pixels keyed {field:.4}"
        );
        assert!(
            players >= player_floor,
            "{scenario} {w}x{h}: player pixels keyed out {players:.4}"
        );
    }
}
