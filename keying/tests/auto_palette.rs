//! Automatic palette on a synthetic football scene: field and player key accuracy against the
//! scene's exact truth, with the automatic palette plus at most 3 exclusion samples.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use common::{Jersey, Scene, Truth, football_scene, frame_from_rgb};
use yardline_frame::PixelFormat;
use yardline_keying::{
    AutoPaletteOptions, KeyConfig, KeyError, Keyer, PixelRect, auto_paint_palette, auto_palette,
    auto_palette_from_mask,
};

/// Goal of issue 4: share of field-surface pixels keyed >= 0.5.
const FIELD_GOAL: f64 = 0.995;
/// Goal of issue 4: share of player pixels keyed < 0.5.
const PLAYER_GOAL: f64 = 0.99;
/// Exclusion samples the operator may add (issue 4).
const MAX_EXCLUSIONS: usize = 3;
const W: u32 = 960;
const H: u32 = 540;

struct Accuracy {
    field: f64,
    players: f64,
    paint: f64,
}

fn accuracy(scene: &Scene, matte: &[f32]) -> Accuracy {
    let (mut field, mut field_ok, mut players, mut players_ok, mut paint, mut paint_ok) =
        (0, 0, 0, 0, 0, 0);
    for (i, &k) in matte.iter().enumerate() {
        match scene.truth[i] {
            Truth::Grass | Truth::Paint => {
                field += 1;
                field_ok += usize::from(k >= 0.5);
                if scene.truth[i] == Truth::Paint {
                    paint += 1;
                    paint_ok += usize::from(k >= 0.5);
                }
            }
            Truth::Player(_) => {
                players += 1;
                players_ok += usize::from(k < 0.5);
            }
        }
    }
    Accuracy {
        field: field_ok as f64 / field as f64,
        players: players_ok as f64 / players as f64,
        paint: paint_ok as f64 / paint as f64,
    }
}

/// The operator's clicks: looking at the matte of the automatic palette, the operator takes
/// an exclusion sample (a drag across the torso) on the players that show through most, one
/// per jersey and lighting, at most `MAX_EXCLUSIONS` of them.
fn add_exclusions(
    scene: &Scene,
    config: &mut KeyConfig,
    frame: yardline_frame::FrameRef<'_>,
    matte: &[f32],
) {
    let mut groups: Vec<((Jersey, bool), usize, usize)> = Vec::new();
    for (index, p) in scene.players.iter().enumerate() {
        let shade = scene.in_shadow[(p.y as u32 * scene.width + p.x as u32) as usize];
        let keyed = (0..matte.len())
            .filter(|&i| {
                let (x, y) = (
                    (i as u32 % scene.width) as f64,
                    (i as u32 / scene.width) as f64,
                );
                matte[i] >= 0.5 && p.hit(x + 0.5, y + 0.5).is_some()
            })
            .count();
        match groups.iter_mut().find(|g| g.0 == (p.jersey, shade)) {
            Some(g) => g.1 += keyed,
            None => groups.push(((p.jersey, shade), keyed, index)),
        }
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.1));
    for &(_, keyed, index) in groups.iter().take(MAX_EXCLUSIONS) {
        if keyed == 0 {
            break;
        }
        let (x, y, width, height) = scene.players[index].torso_rect();
        config
            .palette
            .add_exclusion_from_region(
                frame,
                PixelRect {
                    x,
                    y,
                    width,
                    height,
                },
            )
            .unwrap();
    }
}

fn run(format: PixelFormat) -> (Accuracy, Accuracy, Accuracy, KeyConfig) {
    let scene = football_scene(W, H, 1);
    let frame = frame_from_rgb(format, W, H, &scene.rgb, 8);
    let field_mask = vec![true; (W * H) as usize];
    let palette =
        auto_palette_from_mask(frame.as_ref(), &field_mask, &AutoPaletteOptions::default())
            .unwrap();
    let mut config = KeyConfig::new(palette);
    config.min_filter_radius = 0;
    let auto_matte = Keyer::compile(&config)
        .unwrap()
        .key_frame(frame.as_ref())
        .unwrap();
    let auto_only = accuracy(&scene, &auto_matte);
    add_exclusions(&scene, &mut config, frame.as_ref(), &auto_matte);
    assert!(config.palette.exclusion().count() <= 3);
    let keyed = accuracy(
        &scene,
        &Keyer::compile(&config)
            .unwrap()
            .key_frame(frame.as_ref())
            .unwrap(),
    );
    config.min_filter_radius = 1;
    let filtered = accuracy(
        &scene,
        &Keyer::compile(&config)
            .unwrap()
            .key_frame(frame.as_ref())
            .unwrap(),
    );
    (auto_only, keyed, filtered, config)
}

fn report(format: PixelFormat, a: &Accuracy, k: &Accuracy, f: &Accuracy) {
    eprintln!(
        "{format}: auto only: field {:.3}% paint {:.2}% players {:.2}% | +3 exclusions: field \
         {:.3}% paint {:.2}% players {:.3}% | with 3x3 min-filter: field {:.3}% players {:.3}%",
        100.0 * a.field,
        100.0 * a.paint,
        100.0 * a.players,
        100.0 * k.field,
        100.0 * k.paint,
        100.0 * k.players,
        100.0 * f.field,
        100.0 * f.players,
    );
}

#[test]
fn auto_palette_plus_three_exclusions_meets_the_accuracy_goal_rgb() {
    // RGB is what the evaluation videos hold (FFV1 RGB, DESIGN.md).
    let (a, k, f, config) = run(PixelFormat::Bgrx);
    report(PixelFormat::Bgrx, &a, &k, &f);
    for s in &config.palette.samples {
        eprintln!("  {:?} {:?} mean {:.1?}", s.kind, s.label, s.mean);
    }
    assert!(k.field >= FIELD_GOAL, "field {}", k.field);
    assert!(k.players >= PLAYER_GOAL, "players {}", k.players);
    // The min-filter only removes key: players stay out, the field loses a rim around them.
    assert!(f.players >= PLAYER_GOAL, "players {}", f.players);
    assert!(f.field <= k.field);
}

#[test]
fn auto_palette_plus_three_exclusions_on_i420() {
    // 4:2:0 gives a pixel on a jersey's edge the chroma of the grass beside it, so some edge
    // pixels look like grass or paint to any per-pixel colour key; the min-filter removes them.
    let (a, k, f, _) = run(PixelFormat::I420);
    report(PixelFormat::I420, &a, &k, &f);
    assert!(k.field >= FIELD_GOAL, "field {}", k.field);
    assert!(f.players >= PLAYER_GOAL, "players {}", f.players);
}

/// Mean Y, Cb, Cr of the scene's pixels `pick` selects.
fn mean_colour(scene: &Scene, pick: &dyn Fn(usize) -> bool) -> [f64; 3] {
    let (mut sum, mut n) = ([0.0; 3], 0.0);
    for i in (0..scene.rgb.len()).filter(|&i| pick(i)) {
        let c = common::to_ycbcr_bytes(scene.rgb[i]);
        for k in 0..3 {
            sum[k] += f64::from(c[k]);
        }
        n += 1.0;
    }
    sum.map(|v| v / n)
}

#[test]
fn auto_palette_separates_sun_and_shadow_grass_and_finds_paint() {
    let scene = football_scene(W, H, 2);
    let frame = frame_from_rgb(PixelFormat::Rgba, W, H, &scene.rgb, 0);
    let palette =
        auto_palette(frame.as_ref(), |_, _| true, &AutoPaletteOptions::default()).unwrap();
    let model = palette.model().unwrap();
    // Mean colour of grass in sun and in shadow, and of paint in sun.
    let mean_of = |pick: &dyn Fn(usize) -> bool| mean_colour(&scene, pick);
    let sun = mean_of(&|i| scene.truth[i] == Truth::Grass && !scene.in_shadow[i]);
    let shadow = mean_of(&|i| scene.truth[i] == Truth::Grass && scene.in_shadow[i]);
    let paint = mean_of(&|i| scene.truth[i] == Truth::Paint && !scene.in_shadow[i]);
    let nearest_sample = |c: [f64; 3]| {
        palette
            .inclusion()
            .enumerate()
            .min_by(|a, b| {
                let d = |s: &yardline_keying::Sample| {
                    (0..3).map(|k| (s.mean[k] - c[k]).powi(2)).sum::<f64>()
                };
                d(a.1).total_cmp(&d(b.1))
            })
            .unwrap()
            .0
    };
    assert_ne!(
        nearest_sample(sun),
        nearest_sample(shadow),
        "sun and shadow share a sample"
    );
    for c in [sun, shadow, paint] {
        assert!(model.key(c[0], c[1], c[2]) > 0.99, "{c:?} not keyed");
    }
    assert!(palette.inclusion().any(|s| s.label.starts_with("paint")));
    // Deterministic: the same frame gives the same palette.
    let again = auto_palette(frame.as_ref(), |_, _| true, &AutoPaletteOptions::default()).unwrap();
    assert_eq!(palette, again);
}

#[test]
fn the_paint_palette_keys_paint_and_its_edges_and_the_surface_one_does_not() {
    let scene = football_scene(W, H, 2);
    let frame = frame_from_rgb(PixelFormat::Rgba, W, H, &scene.rgb, 0);
    let options = AutoPaletteOptions {
        find_paint: false,
        ..AutoPaletteOptions::default()
    };
    // The surface from the field off the paint (the engine knows where the markings lie).
    let off_paint = |x: u32, y: u32| scene.truth[(y * W + x) as usize] != Truth::Paint;
    let surface = auto_palette(frame.as_ref(), off_paint, &options).unwrap();
    assert!(surface.inclusion().all(|s| s.label.starts_with("surface")));
    let is_paint = |x: u32, y: u32| scene.truth[(y * W + x) as usize] == Truth::Paint;
    let paint = auto_paint_palette(frame.as_ref(), &surface, is_paint, &options).unwrap();
    let (surface_model, paint_model) = (surface.model().unwrap(), paint.model().unwrap());
    let mean = |pick: &dyn Fn(usize) -> bool| mean_colour(&scene, pick);
    for shade in [false, true] {
        let grass = mean(&|i| scene.truth[i] == Truth::Grass && scene.in_shadow[i] == shade);
        let white = mean(&|i| scene.truth[i] == Truth::Paint && scene.in_shadow[i] == shade);
        let edge: [f64; 3] = std::array::from_fn(|k| 0.5 * (grass[k] + white[k]));
        let (g, p, e) = (
            |m: &yardline_keying::KeyModel, c: [f64; 3]| m.key(c[0], c[1], c[2]),
            white,
            edge,
        );
        assert!(
            g(&paint_model, grass) > 0.99,
            "shade {shade}: grass not in the paint palette"
        );
        assert!(
            g(&paint_model, p) > 0.99,
            "shade {shade}: paint {p:?} not keyed"
        );
        assert!(
            g(&paint_model, e) >= 0.5,
            "shade {shade}: paint edge {e:?} not keyed"
        );
        // Subsampled chroma at the paint's edge: a pixel's own luma, paint or grass, with the
        // chroma of a site it shares half with the other.
        for own in [white, grass] {
            let shared = [own[0], edge[1], edge[2]];
            assert!(
                g(&paint_model, shared) >= 0.5,
                "shade {shade}: luma {:.0} with shared chroma {shared:?} not keyed",
                own[0]
            );
        }
        assert!(
            g(&surface_model, p) < 0.5,
            "shade {shade}: the surface palette keys paint"
        );
    }
    // Nothing on the paint: a clear error.
    let e = auto_paint_palette(frame.as_ref(), &surface, |_, _| false, &options).unwrap_err();
    assert!(matches!(e, KeyError::TooFewPixels { .. }), "{e}");
}

#[test]
fn auto_palette_rejects_an_empty_or_mis_sized_mask() {
    let scene = football_scene(64, 48, 3);
    let frame = frame_from_rgb(PixelFormat::Rgba, 64, 48, &scene.rgb, 0);
    assert!(auto_palette(frame.as_ref(), |_, _| false, &AutoPaletteOptions::default()).is_err());
    assert!(
        auto_palette_from_mask(frame.as_ref(), &[true; 10], &AutoPaletteOptions::default())
            .is_err()
    );
}

#[test]
fn grass_in_a_shadows_soft_edge_is_keyed_and_paint_gets_no_penumbra() {
    // Grass in sun and in deep shadow with a soft edge between them (a tenth of the frame), a
    // white painted band and a red kit.
    let (w, h) = (200_u32, 100_u32);
    let grass = [62.0_f64, 118.0, 50.0];
    let lit = |s: f64| grass.map(|c| (c * s).round().clamp(0.0, 255.0) as u8);
    let (sun, shade) = (1.22, 0.45);
    let (palette, key) = banded_scene_key(w, h, |x| {
        if x < 90 {
            lit(sun)
        } else if x >= 110 {
            lit(shade)
        } else {
            lit(sun + (shade - sun) * f64::from(x - 90) / 20.0)
        }
    });
    for t in [0.25, 0.5, 0.75] {
        let c = lit(sun + (shade - sun) * t);
        assert!(key(c) >= 0.5, "penumbra {t} ({c:?}) keyed {}", key(c));
    }
    assert!(key([150, 20, 30]) < 0.5, "the kit is keyed as field");
    // Grass and paint differ in chromaticity, not light: nothing is mixed between them.
    let penumbra: Vec<_> = palette
        .inclusion()
        .filter(|s| s.label.contains("penumbra"))
        .collect();
    assert!(!penumbra.is_empty(), "no penumbra sample");
    for s in penumbra {
        assert!(
            s.mean[0] < 130.0,
            "a penumbra sample as bright as paint: {s:?}"
        );
    }
}

#[test]
fn grass_in_more_light_than_the_set_up_frame_still_keys() {
    // Set-up frame: mown grass (two stripes) in sun and in shadow, a white band, a red kit.
    let (w, h) = (200_u32, 100_u32);
    let grass = [62.0_f64, 118.0, 50.0];
    let lit = |s: f64| grass.map(|c| (c * s).round().clamp(0.0, 255.0) as u8);
    let (palette, key) = banded_scene_key(w, h, |x| {
        if x >= 130 {
            lit(0.5)
        } else if (x / 20) % 2 == 0 {
            lit(1.0)
        } else {
            lit(1.08)
        }
    });
    // Later the sun comes out: the same grass, up to a quarter brighter.
    for s in [1.1, 1.15, 1.2, 1.25] {
        let c = lit(s);
        assert!(
            key(c) >= 0.5,
            "grass in light x{s} ({c:?}) keyed {}",
            key(c)
        );
    }
    assert!(
        palette.inclusion().any(|s| s.label.contains("brighter")),
        "no brighter surface sample: {palette:?}"
    );
    assert!(key([150, 20, 30]) < 0.5, "the kit is keyed as field");
    assert!(key([214, 218, 210]) >= 0.5, "the paint is not keyed");
}

/// A `w` x `h` scene of ground coloured by column (`ground(x)`) with a white painted band
/// (columns 60..64) and a red kit (columns 20..24, rows 10..30): its automatic palette and
/// that palette's key of a colour.
fn banded_scene_key(
    w: u32,
    h: u32,
    ground: impl Fn(u32) -> [u8; 3],
) -> (yardline_keying::Palette, impl Fn([u8; 3]) -> f64) {
    let rgb: Vec<[u8; 3]> = (0..w * h)
        .map(|i| {
            let (x, y) = (i % w, i / w);
            if (60..64).contains(&x) {
                [214, 218, 210]
            } else if (20..24).contains(&x) && (10..30).contains(&y) {
                [150, 20, 30]
            } else {
                ground(x)
            }
        })
        .collect();
    let frame = frame_from_rgb(PixelFormat::Rgba, w, h, &rgb, 0);
    let palette =
        auto_palette(frame.as_ref(), |_, _| true, &AutoPaletteOptions::default()).unwrap();
    let model = palette.model().unwrap();
    let key = move |p: [u8; 3]| {
        let c = common::to_ycbcr_bytes(p).map(f64::from);
        model.key(c[0], c[1], c[2])
    };
    (palette, key)
}
