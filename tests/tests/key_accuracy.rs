//! Key accuracy on generated frames against their exact masks (issue 4's measure): the
//! engine's automatic key as it stands after learning the measured frames (it learns a view
//! every `AUTO_KEY_RELEARN_FRAMES` frames while automatic; the frames measured are those
//! views) plus at most 3 exclusion samples an operator would drag over kits that show through
//! (inside the kits, not their edges; the tolerance turned down until a sample costs under
//! 0.2 % of the field), over the field-of-play pixels of those frames, with the paint palette
//! where `PaintView` sees paint and the key's edge unmixing. Field pixels should key >= 0.5,
//! player pixels < 0.5. At 1920x1080 the assertions are the goals (99.5 % / 99 %); at 640x360
//! the levels measured when this was written, less a margin, so a regression fails.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail the test by panicking"
)]

use std::collections::HashMap;

use yardline_e2e::truth_camera;
use yardline_engine::AUTO_KEY_RELEARN_FRAMES;
use yardline_engine::key::{AutoKeyLearner, FieldKey};
use yardline_engine::{FieldKind, FieldModel};
use yardline_frame::{FrameLayout, FrameRef, PixelFormat};
use yardline_keying::{EdgeFilter, KeyConfig, Sample, SampleKind};
use yardline_samples::{MASK_FIELD, RenderedFrame, Sample as Clip, SampleConfig, Scenario};

/// Issue 4's goals.
const FIELD_GOAL: f64 = 0.995;
const PLAYER_GOAL: f64 = 0.99;
/// The levels to keep at broadcast size (1920x1080): the goals themselves, on the default
/// scenario and on five seeds of the hard one (65-node LUTs, the default). Measured when this
/// was written (field / players after the operator's exclusions): default seed 1 0.9984 /
/// 0.9972; hard seeds 1 to 5 0.9975 / 0.9923, 0.9984 / 0.9952, 0.9979 / 0.9960, 0.9962 /
/// 0.9903, 0.9967 / 0.9918.
const BROADCAST: [Case; 6] = [
    goal(Scenario::Default, 1),
    goal(Scenario::Hard, 1),
    goal(Scenario::Hard, 2),
    goal(Scenario::Hard, 3),
    goal(Scenario::Hard, 4),
    goal(Scenario::Hard, 5),
];

/// The levels to keep at 640x360, where kit edges blended with the grass are a larger share of
/// the players: those measured less a margin. The camouflage scenario's kit has the grass's
/// own colour, where no per-pixel colour key keys out more than about 0.75 of the players
/// ([`colour_bound`]).
const SMALL: [Case; 3] = [
    Case {
        scenario: Scenario::Default,
        seed: 1,
        size: (640, 360),
        field_floor: 0.99,
        player_floor: 0.975,
    },
    Case {
        scenario: Scenario::Hard,
        seed: 3,
        size: (640, 360),
        field_floor: 0.99,
        player_floor: 0.975,
    },
    Case {
        scenario: Scenario::Camouflage,
        seed: 3,
        size: (640, 360),
        field_floor: 0.99,
        player_floor: 0.70,
    },
];

/// A broadcast-size case held to the goals.
const fn goal(scenario: Scenario, seed: u64) -> Case {
    Case {
        scenario,
        seed,
        size: (1920, 1080),
        field_floor: FIELD_GOAL,
        player_floor: PLAYER_GOAL,
    }
}

/// The frames measured: the views the automatic key has learnt by the last of them.
const VIEWS: [u32; 3] = [0, AUTO_KEY_RELEARN_FRAMES, 2 * AUTO_KEY_RELEARN_FRAMES];

/// One measured clip and the levels it must keep.
#[derive(Clone, Copy)]
struct Case {
    scenario: Scenario,
    seed: u64,
    size: (u32, u32),
    field_floor: f64,
    player_floor: f64,
}

/// How far below the colour bound ([`colour_bound`]) the player share may lie.
const BOUND_MARGIN: f64 = 0.03;
/// Exclusion samples the operator may add.
const MAX_EXCLUSIONS: usize = 3;
/// Tolerances (standard deviations) the operator tries for a sample, from the default down.
const EXCLUSION_TOLERANCES: [f64; 6] = [3.0, 2.5, 2.0, 1.75, 1.5, 1.25];
/// Most field share an exclusion sample may cost before the operator undoes it.
const MAX_FIELD_COST: f64 = 0.002;
/// Mask value of players, officials and the ball.
const MASK_PLAYER: u8 = 255;

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
/// Cr) of the player pixels keyed as field inside the kits (all 8 neighbours players too):
/// where an operator would drag an exclusion sample.
type Score = (f64, f64, Vec<[f64; 3]>);

fn accuracy(key: &FieldKey, f: &RenderedFrame, field: &FieldModel) -> Score {
    let (layout, data) = rgba(f);
    let frame = FrameRef::new(&layout, &data).unwrap();
    let matte = key.matte(frame, &truth_camera(&f.truth), field).unwrap();
    let (mut field_n, mut field_ok, mut player_n, mut player_ok) = (0_u64, 0_u64, 0_u64, 0_u64);
    let mut leaks = Vec::new();
    let (w, h) = (f.truth.width, f.truth.height);
    let inside = |x: u32, y: u32| {
        (x > 0 && y > 0 && x + 1 < w && y + 1 < h)
            && (y - 1..=y + 1)
                .all(|yy| (x - 1..=x + 1).all(|xx| f.mask[(yy * w + xx) as usize] == MASK_PLAYER))
    };
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
                if inside(x, y) {
                    leaks.push(frame.ycbcr_f32(x, y).map(f64::from));
                }
            }
        }
    }
    (
        field_ok as f64 / field_n.max(1) as f64,
        player_ok as f64 / player_n.max(1) as f64,
        leaks,
    )
}

/// The pixels an operator's drag over one patch of kit would take: the half of `leaks` nearest
/// their median colour.
fn patch(leaks: &[[f64; 3]]) -> Vec<[f64; 3]> {
    let median = |i: usize| {
        let mut v: Vec<f64> = leaks.iter().map(|c| c[i]).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let m = [median(0), median(1), median(2)];
    let d = |c: &[f64; 3]| (0..3).map(|i| (c[i] - m[i]).powi(2)).sum::<f64>();
    let mut by_distance = leaks.to_vec();
    by_distance.sort_by(|a, b| d(a).total_cmp(&d(b)));
    by_distance.truncate(leaks.len().div_ceil(2));
    by_distance
}

/// The most player pixels any per-pixel colour key can key out on `frames` while keying at
/// least `field_share` of their field pixels: each 8-bit RGB colour decided on its own counts
/// of field and player pixels in these very frames (an oracle fitted to the answer), colours
/// taken as "not field" in order of their player-to-field ratio while the field allows
/// (Neyman-Pearson). A key that looks at colour alone cannot do better; the engine's key also
/// knows where the painted markings are, so it may lie a little above.
fn colour_bound(frames: &[RenderedFrame], field_share: f64) -> f64 {
    let mut counts: HashMap<[u8; 3], (u64, u64)> = HashMap::new();
    let (mut field_n, mut player_n) = (0_u64, 0_u64);
    for f in frames {
        for (p, &m) in f.rgb.chunks_exact(3).zip(&f.mask) {
            let c = counts.entry([p[0], p[1], p[2]]).or_default();
            if m == MASK_FIELD {
                c.0 += 1;
                field_n += 1;
            } else if m == MASK_PLAYER {
                c.1 += 1;
                player_n += 1;
            }
        }
    }
    let mut colours: Vec<(u64, u64)> = counts.into_values().filter(|c| c.1 > 0).collect();
    // Most player per field pixel first (pure player colours lead).
    colours.sort_by(|a, b| (b.1 * a.0).cmp(&(a.1 * b.0)));
    let mut field_budget = ((1.0 - field_share) * field_n as f64).floor() as u64;
    let mut players = 0;
    for (f, p) in colours {
        if f <= field_budget {
            field_budget -= f;
            players += p;
        }
    }
    players as f64 / player_n.max(1) as f64
}

/// A case's measured shares: field and player pixels keyed right, and the colour bound on the
/// players at that field share.
struct Measured {
    field: f64,
    players: f64,
    bound: f64,
}

/// Frames `frames` of `clip`, and the automatic key learner that has learnt from each under
/// its true camera.
fn learn_from(
    clip: &Clip,
    frames: &[u32],
    field: &FieldModel,
) -> (Vec<RenderedFrame>, AutoKeyLearner) {
    let rendered: Vec<RenderedFrame> = frames
        .iter()
        .map(|&i| clip.render_frame(i).unwrap())
        .collect();
    let mut learner = AutoKeyLearner::new();
    for f in &rendered {
        let (layout, data) = rgba(f);
        let frame = FrameRef::new(&layout, &data).unwrap();
        learner
            .learn(frame, &truth_camera(&f.truth), field)
            .unwrap();
    }
    (rendered, learner)
}

fn measure(scenario: Scenario, width: u32, height: u32, seed: u64, frames: &[u32]) -> Measured {
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
    let (rendered, learner) = learn_from(&clip, frames, &field);
    let mut config: KeyConfig = learner.config().unwrap();
    assert_eq!(config.edge_filter, EdgeFilter::Unmix);
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
    // The operator drags over what shows through on the worst frame while it helps, turning
    // the sample's tolerance down until it costs the field little.
    'samples: for n in 1..=MAX_EXCLUSIONS {
        if pa >= PLAYER_GOAL || leaks.len() < 64 {
            break;
        }
        let pixels = patch(&leaks);
        for tolerance in EXCLUSION_TOLERANCES {
            let sample = Sample::from_pixels(
                SampleKind::Exclusion,
                format!("kit {n}"),
                &pixels,
                tolerance,
            )
            .unwrap();
            let m = sample.mean;
            let mut trial = config.clone();
            trial.palette.push(sample).unwrap();
            let (f1, p1, l1) = score(&trial);
            println!(
                "  + exclusion {n} (Y {:.0} Cb {:.0} Cr {:.0}, tolerance {tolerance}): field {f1:.4}, players {p1:.4}",
                m[0], m[1], m[2]
            );
            if f1 >= fa - MAX_FIELD_COST && p1 > pa {
                (config, fa, pa, leaks) = (trial, f1, p1, l1);
                continue 'samples;
            }
        }
        break; // no tolerance pays: the operator would undo it
    }
    Measured {
        field: fa,
        players: pa,
        bound: colour_bound(&rendered, fa),
    }
}

#[test]
fn automatic_key_meets_the_goals_at_broadcast_size_on_the_default_scenario() {
    check(&BROADCAST[..1]);
}

#[test]
fn automatic_key_meets_the_goals_at_broadcast_size_on_hard_seeds_1_to_3() {
    check(&BROADCAST[1..4]);
}

#[test]
fn automatic_key_meets_the_goals_at_broadcast_size_on_hard_seeds_4_and_5() {
    check(&BROADCAST[4..]);
}

#[test]
fn automatic_key_accuracy_holds_its_level_at_640x360() {
    check(&SMALL);
}

fn check(cases: &[Case]) {
    for Case {
        scenario,
        seed,
        size: (w, h),
        field_floor,
        player_floor,
    } in cases.iter().copied()
    {
        let Measured {
            field,
            players,
            bound,
        } = measure(scenario, w, h, seed, &VIEWS);
        println!(
            "{scenario} seed {seed} {w}x{h}: field {field:.4} (goal {FIELD_GOAL}), players {players:.4} (goal {PLAYER_GOAL}); \
             the best any per-pixel colour key does on these frames at this field share: players {bound:.4}"
        );
        assert!(
            field >= field_floor,
            "{scenario} {w}x{h}: field pixels keyed {field:.4}"
        );
        assert!(
            players >= player_floor,
            "{scenario} {w}x{h}: player pixels keyed out {players:.4}"
        );
        assert!(
            players >= bound - BOUND_MARGIN,
            "{scenario} {w}x{h}: player pixels keyed out {players:.4}, {bound:.4} reachable"
        );
    }
}

/// The zoom scenario's views: the wide field, then tight shots into the crowd where kits fill
/// half the picture. The views weigh the field area they show, so the kits of the tight shots
/// do not become field colours: the automatic key learnt from a wide view and two crowded
/// ones keys the kits of a crowded frame out (measured when written: players 0.9976 keyed out
/// on the crowded frame, field 0.9859; with each view weighing the same, players 0.1512, field
/// 0.9849).
#[test]
fn a_tight_shot_into_a_crowd_does_not_teach_the_key_the_kits() {
    let clip = Clip::new(SampleConfig {
        seed: 5,
        frames: 150,
        width: 640,
        height: 360,
        scenario: Scenario::Zoom,
        ..SampleConfig::default()
    })
    .unwrap();
    let field = FieldModel::new(FieldKind::Nfl);
    let (views, learner) = learn_from(&clip, &[0, 100, 140], &field);
    let key = FieldKey::compile(&learner.config().unwrap())
        .unwrap()
        .on_field(&field);
    let crowded = &views[2];
    let players: usize = crowded
        .mask
        .iter()
        .map(|&m| usize::from(m == MASK_PLAYER))
        .sum();
    assert!(
        players * 4 > crowded.mask.len(),
        "frame 140 is not crowded: {players} player pixels"
    );
    let (field_share, player_share, _) = accuracy(&key, crowded, &field);
    println!("zoom seed 5, crowded frame 140: field {field_share:.4}, players {player_share:.4}");
    assert!(field_share >= 0.98, "field {field_share}");
    assert!(player_share >= 0.95, "players {player_share}");
}
