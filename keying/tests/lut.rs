//! The compiled LUT against direct evaluation of the palette it was built from.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use yardline_keying::{KeyLut, KeyModel, Palette, Sample, SampleKind, node_code_value};

/// Agreement required between LUT and direct evaluation (alpha, 0..=1).
const ONE_LEVEL: f64 = 1.0 / 255.0;

fn sample(kind: SampleKind, mean: [f64; 3], sd: [f64; 3], rho: f64, tolerance: f64) -> Sample {
    let c01 = rho * sd[0] * sd[1];
    Sample {
        kind,
        label: String::new(),
        mean,
        covariance: [
            [sd[0] * sd[0], c01, 0.0],
            [c01, sd[1] * sd[1], 0.0],
            [0.0, 0.0, sd[2] * sd[2]],
        ],
        tolerance,
    }
}

/// Grass in sun and shadow, paint, a navy and a white jersey: a realistic palette.
fn field_palette(softness: f64) -> Palette {
    Palette {
        softness,
        samples: vec![
            sample(
                SampleKind::Inclusion,
                [105.0, 102.0, 107.0],
                [8.0, 3.0, 2.5],
                -0.6,
                3.5,
            ),
            sample(
                SampleKind::Inclusion,
                [58.0, 118.0, 116.0],
                [5.0, 2.5, 2.5],
                -0.3,
                3.5,
            ),
            sample(
                SampleKind::Inclusion,
                [200.0, 119.0, 124.0],
                [7.0, 2.0, 2.0],
                0.0,
                3.5,
            ),
            sample(
                SampleKind::Exclusion,
                [47.0, 147.0, 123.0],
                [4.0, 2.5, 2.5],
                0.0,
                3.0,
            ),
            sample(
                SampleKind::Exclusion,
                [214.0, 131.0, 127.0],
                [11.0, 2.2, 2.2],
                0.0,
                3.0,
            ),
        ],
    }
}

/// Broad, soft samples: a key whose soft edges span about 160 code values, so it varies
/// smoothly over many lattice cells even at 33 nodes.
fn smooth_palette() -> Palette {
    Palette {
        softness: 8.0,
        samples: vec![
            sample(
                SampleKind::Inclusion,
                [110.0, 100.0, 110.0],
                [20.0, 20.0, 20.0],
                -0.4,
                0.5,
            ),
            sample(
                SampleKind::Exclusion,
                [90.0, 150.0, 140.0],
                [22.0, 20.0, 20.0],
                0.0,
                0.2,
            ),
        ],
    }
}

fn direct(model: &KeyModel, y: f64, cb: f64, cr: f64) -> f64 {
    model.key(y, cb, cr)
}

#[test]
fn nodes_hold_the_direct_key_in_the_documented_layout() {
    for palette in [field_palette(1.0), smooth_palette()] {
        let model = palette.model().unwrap();
        for n in [33, 65] {
            let lut = KeyLut::build(&model, n).unwrap();
            assert_eq!(lut.size, n);
            assert_eq!(lut.data.len(), n * n * n);
            let mut nonzero = 0;
            for icr in 0..n {
                for icb in 0..n {
                    for iy in 0..n {
                        let (y, cb, cr) = (
                            node_code_value(iy, n),
                            node_code_value(icb, n),
                            node_code_value(icr, n),
                        );
                        let want = direct(&model, y, cb, cr);
                        // The layout the GPU relies on, spelled out.
                        let stored = f64::from(lut.data[iy + n * (icb + n * icr)]) / 255.0;
                        assert!(
                            (stored - want).abs() <= 0.5 * ONE_LEVEL + 1e-9,
                            "n={n} node ({iy},{icb},{icr}): stored {stored}, direct {want}"
                        );
                        let looked = f64::from(lut.lookup(y as f32, cb as f32, cr as f32));
                        assert!(
                            (looked - want).abs() <= ONE_LEVEL,
                            "n={n} lookup at node ({iy},{icb},{icr}): {looked}, direct {want}"
                        );
                        nonzero += usize::from(stored > 0.0);
                    }
                }
            }
            // Both palettes key a real part of colour space.
            assert!(nonzero > 20, "n={n}: only {nonzero} nodes keyed");
        }
    }
}

/// True when the direct key is smooth at the lattice scale around a point: over the point's
/// cell, trilinear interpolation of the direct key at the 8 corners reproduces the direct key
/// at 27 points of the cell (corners, edge midpoints, face centres, centre, and the point)
/// within half a level. Decided from the direct key alone, never from the LUT.
fn smooth_at_lattice_scale(model: &KeyModel, n: usize, p: [f64; 3]) -> bool {
    let step = 255.0 / (n - 1) as f64;
    let lower = p.map(|v| ((v / step).floor() as usize).min(n - 2));
    let corner = |d: [usize; 3]| {
        direct(
            model,
            node_code_value(lower[0] + d[0], n),
            node_code_value(lower[1] + d[1], n),
            node_code_value(lower[2] + d[2], n),
        )
    };
    let c: Vec<f64> = (0..8)
        .map(|i| corner([i & 1, (i >> 1) & 1, (i >> 2) & 1]))
        .collect();
    let trilinear = |t: [f64; 3]| {
        let mut v = 0.0;
        for (i, ci) in c.iter().enumerate() {
            let w: f64 = (0..3)
                .map(|a| if (i >> a) & 1 == 1 { t[a] } else { 1.0 - t[a] })
                .product();
            v += w * ci;
        }
        v
    };
    let mut checks: Vec<[f64; 3]> = Vec::new();
    for a in 0..3 {
        for b in 0..3 {
            for d in 0..3 {
                checks.push([f64::from(a) * 0.5, f64::from(b) * 0.5, f64::from(d) * 0.5]);
            }
        }
    }
    checks.push([0, 1, 2].map(|a| p[a] / step - lower[a] as f64));
    checks.iter().all(|t| {
        let q = [0, 1, 2].map(|a| (lower[a] as f64 + t[a]) * step);
        (trilinear(*t) - direct(model, q[0], q[1], q[2])).abs() <= 0.5 * ONE_LEVEL
    })
}

#[test]
fn random_points_agree_where_the_key_is_smooth() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for (name, palette) in [("field", field_palette(1.0)), ("smooth", smooth_palette())] {
        let model = palette.model().unwrap();
        for n in [33, 65] {
            let lut = KeyLut::build(&model, n).unwrap();
            let (mut checked, mut partial, mut worst) = (0, 0, 0.0_f64);
            for i in 0..40_000 {
                // Half uniform over the cube, half near the samples' centres.
                let p = if i % 2 == 0 {
                    [0; 3].map(|_| rng.random_range(0.0..=255.0))
                } else {
                    let s = &palette.samples[rng.random_range(0..palette.samples.len())];
                    [0, 1, 2].map(|a| (s.mean[a] + rng.random_range(-30.0..30.0)).clamp(0.0, 255.0))
                };
                if !smooth_at_lattice_scale(&model, n, p) {
                    continue;
                }
                let want = direct(&model, p[0], p[1], p[2]);
                let got = f64::from(lut.lookup(p[0] as f32, p[1] as f32, p[2] as f32));
                worst = worst.max((got - want).abs());
                assert!(
                    (got - want).abs() <= ONE_LEVEL,
                    "{name} n={n} at {p:?}: LUT {got}, direct {want}"
                );
                checked += 1;
                partial += usize::from(want > 0.02 && want < 0.98);
            }
            eprintln!(
                "{name} n={n}: {checked} smooth points, {partial} with a partial key, worst \
                 difference {:.3} levels",
                worst * 255.0
            );
            assert!(
                checked > 10_000,
                "{name} n={n}: only {checked} smooth points"
            );
            if name == "smooth" {
                assert!(partial > 500, "{name} n={n}: only {partial} partial points");
            }
        }
    }
}

#[test]
fn byte_lookup_matches_float_lookup_and_the_direct_key_at_flat_colours() {
    let model = field_palette(1.0).model().unwrap();
    let lut = KeyLut::build(&model, 33).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for _ in 0..20_000 {
        let [y, cb, cr] = [0; 3].map(|_| rng.random_range(0..=255_u8));
        let a = lut.lookup_u8(y, cb, cr);
        let b = lut.lookup(f32::from(y), f32::from(cb), f32::from(cr));
        assert!((a - b).abs() < 1e-5, "({y},{cb},{cr}): {a} vs {b}");
    }
    // Centre of the sun-grass sample: fully keyed; centre of a jersey: not keyed.
    assert!((lut.lookup(105.0, 102.0, 107.0) - 1.0).abs() <= 1e-6);
    assert!(lut.lookup(47.0, 147.0, 123.0) <= 1e-6);
}

#[test]
fn ten_bit_lookup_is_indexed_at_ten_bits() {
    // A 10-bit code c sits at c / 4 on the byte scale: the fixed-point lookup matches the float
    // lookup there (every 65- and 129-node weight is exact), and codes between two byte steps
    // key between their neighbours' keys rather than snapping to one of them.
    let model = field_palette(1.0).model().unwrap();
    for n in [65, 129] {
        let lut = KeyLut::build(&model, n).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut between = 0;
        for _ in 0..20_000 {
            let [y, cb, cr] = [0; 3].map(|_| rng.random_range(0..=1023_u16));
            let a = lut.lookup_u10(y, cb, cr);
            let b = lut.lookup(f32::from(y) / 4.0, f32::from(cb) / 4.0, f32::from(cr) / 4.0);
            assert!((a - b).abs() < 1e-5, "n={n} ({y},{cb},{cr}): {a} vs {b}");
            // Four times a byte code keys as the byte does.
            let (y8, cb8, cr8) = ((y / 4) as u8, (cb / 4) as u8, (cr / 4) as u8);
            let k8 = lut.lookup_u8(y8, cb8, cr8);
            let k10 = lut.lookup_u10(u16::from(y8) * 4, u16::from(cb8) * 4, u16::from(cr8) * 4);
            assert!(
                (k8 - k10).abs() < 1e-6,
                "n={n} ({y8},{cb8},{cr8}): {k8} vs {k10}"
            );
            if y % 4 != 0 && y < 1020 {
                let lo = lut.lookup_u10(y - y % 4, cb, cr);
                let hi = lut.lookup_u10(y - y % 4 + 4, cb, cr);
                // (Not every such code: the key bends at the nodes between the two.)
                if (lo - hi).abs() > 1e-3 && a > lo.min(hi) + 1e-5 && a < lo.max(hi) - 1e-5 {
                    between += 1;
                }
            }
        }
        assert!(
            between > 20,
            "n={n}: only {between} codes between distinct keys"
        );
        // Codes past the top node clamp to it; the run form agrees with the single lookups.
        assert_eq!(
            lut.lookup_u10(1023, 512, 512).to_bits(),
            lut.lookup_u10(1020, 512, 512).to_bits()
        );
        let px = [[420_u16, 409, 429], [421, 410, 430], [63, 1000, 3]];
        let mut out = [0.0; 3];
        lut.lookup_u10_run(&px, &mut out);
        for (p, o) in px.iter().zip(out) {
            assert_eq!(o.to_bits(), lut.lookup_u10(p[0], p[1], p[2]).to_bits());
        }
    }
}
