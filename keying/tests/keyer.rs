//! The keyer: exclusion beats inclusion, the min-filter, pixel sets, regions and the sampling
//! API on real frames.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use common::{OwnedFrame, football_scene, frame_from_rgb, to_rgb_bytes};
use yardline_frame::PixelFormat;
use yardline_keying::{
    EdgeFilter, KeyConfig, KeyError, KeyLut, Keyer, Palette, PixelRect, Region, Sample, SampleKind,
};

fn sphere(kind: SampleKind, mean: [f64; 3], sd: f64, tolerance: f64) -> Sample {
    let v = sd * sd;
    Sample {
        kind,
        label: String::new(),
        mean,
        covariance: [[v, 0.0, 0.0], [0.0, v, 0.0], [0.0, 0.0, v]],
        tolerance,
    }
}

/// A frame filled with one YCbCr colour (as RGB), with a block of another colour.
fn two_colour_frame(
    format: PixelFormat,
    w: u32,
    h: u32,
    back: [u8; 3],
    block: [u8; 3],
    rect: (u32, u32, u32, u32),
) -> OwnedFrame {
    let (bx, by, bw, bh) = rect;
    let rgb: Vec<[u8; 3]> = (0..w * h)
        .map(|i| {
            let (x, y) = (i % w, i / w);
            if (bx..bx + bw).contains(&x) && (by..by + bh).contains(&y) {
                to_rgb_bytes(block)
            } else {
                to_rgb_bytes(back)
            }
        })
        .collect();
    frame_from_rgb(format, w, h, &rgb, 4)
}

#[test]
fn exclusion_beats_inclusion_within_its_tolerance() {
    // A broad grass sample that also covers a green jersey, and an exclusion on the jersey.
    let mut palette = Palette::new();
    palette
        .push(sphere(
            SampleKind::Inclusion,
            [100.0, 110.0, 110.0],
            10.0,
            3.5,
        ))
        .unwrap();
    palette
        .push(sphere(
            SampleKind::Exclusion,
            [90.0, 118.0, 104.0],
            2.5,
            3.0,
        ))
        .unwrap();
    let model = palette.model().unwrap();
    // At the jersey colour and anywhere within its tolerance: 0, though inclusion says 1.
    for d in [
        [0.0, 0.0, 0.0],
        [7.0, 0.0, 0.0],
        [0.0, -4.0, 5.0],
        [-4.3, 4.3, 0.0],
    ] {
        let (y, cb, cr) = (90.0 + d[0], 118.0 + d[1], 104.0 + d[2]);
        assert!(model.key(y, cb, cr).abs() < 1e-12, "{d:?}");
    }
    // Grass away from the jersey: 1.
    assert!((model.key(110.0, 105.0, 112.0) - 1.0).abs() < 1e-12);
    // The same through the LUT and a frame.
    let mut config = KeyConfig::new(palette);
    config.min_filter_radius = 0;
    config.lut_size = 65;
    let keyer = Keyer::compile(&config).unwrap();
    let frame = two_colour_frame(
        PixelFormat::I420,
        32,
        32,
        [110, 105, 112],
        [90, 118, 104],
        (8, 8, 8, 8),
    );
    assert!((keyer.key_at(frame.as_ref(), 2, 2) - 1.0).abs() < 1e-6);
    assert!(keyer.key_at(frame.as_ref(), 11, 11) < 1e-6);
    // Order does not matter: exclusion first, inclusion second gives the same key.
    let mut reversed = config.palette.clone();
    reversed.samples.reverse();
    let m2 = reversed.model().unwrap();
    assert!(m2.key(90.0, 118.0, 104.0).abs() < 1e-12);
}

#[test]
fn min_filter_erodes_the_key_around_a_thin_dark_edge() {
    // Grass with a 1-pixel dark vertical line at x = 10.
    let (w, h) = (24, 16);
    let frame = two_colour_frame(
        PixelFormat::Rgba,
        w,
        h,
        [100, 105, 110],
        [30, 128, 128],
        (10, 0, 1, h),
    );
    let mut palette = Palette::new();
    palette
        .push(sphere(
            SampleKind::Inclusion,
            [100.0, 105.0, 110.0],
            4.0,
            3.5,
        ))
        .unwrap();
    for radius in 0..=2_u32 {
        let mut config = KeyConfig::new(palette.clone());
        config.min_filter_radius = radius;
        let keyer = Keyer::compile(&config).unwrap();
        let matte = keyer.key_frame(frame.as_ref()).unwrap();
        for x in 0..w {
            let k = matte[(5 * w + x) as usize];
            let near = x.abs_diff(10) <= radius;
            if near {
                assert!(k < 1e-6, "r={radius} x={x}: {k}");
            } else {
                assert!(k > 0.99, "r={radius} x={x}: {k}");
            }
        }
    }
}

#[test]
fn unmix_keys_a_kit_edge_by_its_share_of_kit_and_leaves_the_grass() {
    // Each row: grass, one pixel of grass mixed with a kit's colour (the row's share of kit),
    // then the kit.
    let (grass, kit) = ([100.0_f64, 105.0, 110.0], [140.0_f64, 150.0, 120.0]);
    let shares = [0.1, 0.3, 0.4, 0.6, 0.7, 0.9];
    let (w, edge) = (16_u32, 8_u32);
    let h = shares.len() as u32;
    let rgb: Vec<[u8; 3]> = (0..w * h)
        .map(|i| {
            let (x, y) = (i % w, i / w);
            let t = match x.cmp(&edge) {
                std::cmp::Ordering::Less => 0.0,
                std::cmp::Ordering::Equal => shares[y as usize],
                std::cmp::Ordering::Greater => 1.0,
            };
            to_rgb_bytes(std::array::from_fn(|c| {
                (grass[c] + (kit[c] - grass[c]) * t).round() as u8
            }))
        })
        .collect();
    // A wide grass sample keys the mixtures up to 70 % kit as field; the kit is excluded.
    let mut palette = Palette::new();
    palette
        .push(sphere(SampleKind::Inclusion, grass, 12.0, 3.5))
        .unwrap();
    palette
        .push(sphere(SampleKind::Exclusion, kit, 2.0, 2.0))
        .unwrap();
    for format in [PixelFormat::Rgba, PixelFormat::Bgrx] {
        let frame = frame_from_rgb(format, w, h, &rgb, 4);
        let mut config = KeyConfig::new(palette.clone());
        config.min_filter_radius = 0;
        let raw = Keyer::compile(&config)
            .unwrap()
            .key_frame(frame.as_ref())
            .unwrap();
        config.min_filter_radius = 1;
        config.edge_filter = EdgeFilter::Unmix;
        let unmixed = Keyer::compile(&config)
            .unwrap()
            .key_frame(frame.as_ref())
            .unwrap();
        for (y, share) in (0..h).zip(shares) {
            for x in 0..w {
                let (r, u) = (raw[(y * w + x) as usize], unmixed[(y * w + x) as usize]);
                assert!(
                    u <= r + 1e-6,
                    "{format} ({x},{y}): unmix raised the key {r} -> {u}"
                );
                if x < edge {
                    // The grass beside the edge keeps its key.
                    assert!(u > 0.95, "{format} ({x},{y}): grass keyed {u}");
                }
            }
            // Without the filter the mixtures key as field; with it, by their grass share.
            let (r, u) = (
                raw[(y * w + edge) as usize],
                unmixed[(y * w + edge) as usize],
            );
            if share <= 0.7 {
                assert!(r > 0.9, "{format} {share} kit: raw key {r}");
            }
            let want = r.min(1.0 - share as f32);
            assert!((u - want).abs() < 0.05, "{format} {share} kit keyed {u}");
        }
    }
}

/// A diagonal band of pixels like the first-down line's, row by row; it leaves the frame on
/// the right (runs cross the edge, some rows lie wholly outside) and every 9th row holds a
/// second short run.
fn band(w: u32, h: u32, width: u32) -> Vec<(u32, u32)> {
    let mut coords = Vec::new();
    for y in 0..h {
        let x0 = w / 5 + y * 3 / 2;
        for x in x0..x0 + width {
            coords.push((x, y));
        }
        if y % 9 == 0 {
            coords.extend((3..8).map(|x| (x, y)));
        }
    }
    coords
}

#[test]
fn key_pixels_matches_key_frame_for_bands_scattered_sets_and_outside_pixels() {
    let scene = football_scene(320, 180, 7);
    for format in [
        PixelFormat::Bgrx,
        PixelFormat::I420,
        PixelFormat::Nv12,
        PixelFormat::Uyvy,
    ] {
        let frame = frame_from_rgb(format, 320, 180, &scene.rgb, 8);
        let palette = yardline_keying::auto_palette(
            frame.as_ref(),
            |_, _| true,
            &yardline_keying::AutoPaletteOptions::default(),
        )
        .unwrap();
        for (radius, edge) in [
            (0, EdgeFilter::Min),
            (1, EdgeFilter::Min),
            (3, EdgeFilter::Min),
            (1, EdgeFilter::Unmix),
            (2, EdgeFilter::Unmix),
        ] {
            let mut config = KeyConfig::new(palette.clone());
            config.min_filter_radius = radius;
            config.edge_filter = edge;
            let keyer = Keyer::compile(&config).unwrap();
            let matte = keyer.key_frame(frame.as_ref()).unwrap();
            let mut scattered: Vec<(u32, u32)> = (0..5000_u32)
                .map(|i| ((i * 7919) % 320, (i * 104_729) % 180))
                .collect();
            scattered.extend([(320, 0), (0, 180), (u32::MAX, u32::MAX)]);
            // Runs broken at every place within and across the batches the run detection
            // checks at a time: a skipped column, a repeated one, a step to the next row.
            let mut broken = Vec::new();
            for (row, cut) in (0..40_u32).map(|i| (3 * i + 1, i % 19 + 1)) {
                let x0 = (row * 5) % 200;
                for x in x0..x0 + 24 {
                    match x - x0 {
                        d if d == cut => broken.push((x + 1, row)),
                        d if d == cut + 3 => broken.extend([(x, row), (x, row)]),
                        d if d == cut + 6 => broken.push((x, row + 1)),
                        _ => broken.push((x, row)),
                    }
                }
            }
            broken.extend((310..330).map(|x| (x, 9)));
            for coords in [band(320, 180, 12), scattered, broken] {
                let mut out = vec![f32::NAN; coords.len()];
                keyer.key_pixels(frame.as_ref(), &coords, &mut out).unwrap();
                for (&(x, y), &k) in coords.iter().zip(&out) {
                    let want = if x < 320 && y < 180 {
                        matte[(y * 320 + x) as usize]
                    } else {
                        0.0
                    };
                    assert!(
                        (k - want).abs() < 1e-6,
                        "{format} r={radius} {edge:?} ({x},{y})"
                    );
                }
            }
            assert!(keyer.key_at(frame.as_ref(), 320, 5) <= 0.0);
        }
    }
}

#[test]
fn bad_calls_give_errors_not_panics() {
    let scene = football_scene(64, 32, 1);
    let frame = frame_from_rgb(PixelFormat::I420, 64, 32, &scene.rgb, 0);
    let keyer = Keyer::compile(&KeyConfig::default()).unwrap();
    let mut out = vec![0.0; 3];
    assert!(matches!(
        keyer.key_pixels(frame.as_ref(), &[(0, 0)], &mut out),
        Err(KeyError::LengthMismatch { coords: 1, out: 3 })
    ));
    assert!(matches!(
        keyer.with_lut(1),
        Err(KeyError::NoSuchLut { index: 1, count: 1 })
    ));
    // A view whose buffer is shorter than its layout (fields are public).
    let short = yardline_frame::FrameRef {
        layout: &frame.layout,
        data: &frame.data[..100],
    };
    assert!(keyer.key_frame(short).is_err());
    assert!(keyer.key_pixels(short, &[(0, 0)], &mut out[..1]).is_err());
    assert!(keyer.key_at(short, 0, 0) <= 0.0);
    // An empty palette keys nothing.
    assert!(
        keyer
            .key_frame(frame.as_ref())
            .unwrap()
            .iter()
            .all(|&k| k == 0.0)
    );
    let mut k2 = keyer.clone();
    assert!(k2.set_min_filter_radius(99).is_err());
    assert!(Keyer::from_lut(KeyLut::from_data(2, vec![255; 8]).unwrap(), 0).is_ok());
}

#[test]
fn regions_select_their_own_lut_by_field_position() {
    let grass = sphere(SampleKind::Inclusion, [100.0, 105.0, 110.0], 4.0, 3.5);
    let mud = sphere(SampleKind::Inclusion, [80.0, 120.0, 140.0], 4.0, 3.5);
    let mut config = KeyConfig::new(Palette {
        softness: 1.0,
        samples: vec![grass.clone()],
    });
    config.regions.push(Region {
        name: "midfield mud".into(),
        rect: [-10.0, -24.384, 10.0, 24.384],
        palette: Palette {
            softness: 1.0,
            samples: vec![grass, mud],
        },
    });
    config.regions.push(Region {
        name: "overlapping logo".into(),
        rect: [5.0, -5.0, 15.0, 5.0],
        palette: Palette::new(),
    });
    let keyer = Keyer::compile(&config).unwrap();
    assert_eq!(keyer.luts().len(), 3);
    assert_eq!(keyer.lut_index_at(0.0, 0.0), 1);
    assert_eq!(keyer.lut_index_at(10.0, 24.384), 1); // edges included
    assert_eq!(keyer.lut_index_at(8.0, 0.0), 1); // first region listed wins
    assert_eq!(keyer.lut_index_at(12.0, 0.0), 2);
    assert_eq!(keyer.lut_index_at(-30.0, 0.0), 0);
    assert_eq!(keyer.lut_index_at(f64::NAN, 0.0), 0);
    // Mud keys only in the mud region's LUT.
    let mud_colour = [80_u8, 120, 140];
    assert!(keyer.luts()[0].lookup_u8(80, 120, 140) < 0.01);
    assert!(keyer.luts()[1].lookup_u8(80, 120, 140) > 0.99);
    let frame = two_colour_frame(
        PixelFormat::Nv12,
        16,
        16,
        mud_colour,
        mud_colour,
        (0, 0, 1, 1),
    );
    let mud_keyer = keyer.with_lut(1).unwrap();
    assert!(mud_keyer.key_at(frame.as_ref(), 4, 4) > 0.99);
    assert!(keyer.key_at(frame.as_ref(), 4, 4) < 0.01);
}

#[test]
fn sampling_api_adds_robust_samples_and_undoes_them() {
    // Grass with a 5x5 white blob (outliers) inside the sampled rectangle.
    let grass = [100_u8, 105, 110];
    let frame = two_colour_frame(
        PixelFormat::Uyvy,
        64,
        48,
        grass,
        [220, 128, 128],
        (20, 20, 5, 5),
    );
    let mut palette = Palette::new();
    let rect = PixelRect {
        x: 10,
        y: 10,
        width: 30,
        height: 30,
    };
    let s = palette
        .add_inclusion_from_region(frame.as_ref(), rect)
        .unwrap();
    // The median ignores the blob; the covariance rejects it (only the noise floor is left).
    assert!((s.mean[0] - 100.0).abs() < 0.5, "{:?}", s.mean);
    assert!((s.mean[1] - 105.0).abs() < 0.5 && (s.mean[2] - 110.0).abs() < 0.5);
    assert!(s.covariance[0][0] < 10.0, "{:?}", s.covariance);
    assert_eq!(s.kind, SampleKind::Inclusion);
    palette
        .add_exclusion_from_region(
            frame.as_ref(),
            PixelRect {
                x: 20,
                y: 20,
                width: 5,
                height: 5,
            },
        )
        .unwrap();
    assert_eq!(palette.exclusion().count(), 1);
    let model = palette.model().unwrap();
    assert!(model.key(220.0, 128.0, 128.0) < 1e-9);
    assert!((model.key(100.0, 105.0, 110.0) - 1.0).abs() < 1e-9);
    // Undo removes the exclusion (the last click), then the inclusion.
    assert_eq!(palette.remove_last().unwrap().kind, SampleKind::Exclusion);
    assert_eq!(palette.remove_last().unwrap().kind, SampleKind::Inclusion);
    assert!(palette.remove_last().is_none());
    // Tolerance and softness adjustments change the key.
    palette
        .add_inclusion_from_region(frame.as_ref(), rect)
        .unwrap();
    let before = palette.model().unwrap().key(100.0, 105.0, 118.0);
    palette.set_tolerance(0, 5.0).unwrap();
    palette.set_softness(2.0).unwrap();
    let after = palette.model().unwrap().key(100.0, 105.0, 118.0);
    assert!(after > before, "{before} -> {after}");
    // Regions off the frame or too small are refused.
    let off = PixelRect {
        x: 60,
        y: 0,
        width: 10,
        height: 10,
    };
    assert!(matches!(
        palette.add_inclusion_from_region(frame.as_ref(), off),
        Err(KeyError::BadRegion { .. })
    ));
    let tiny = PixelRect {
        x: 0,
        y: 0,
        width: 2,
        height: 2,
    };
    assert!(matches!(
        palette.add_exclusion_from_region(frame.as_ref(), tiny),
        Err(KeyError::TooFewPixels { .. })
    ));
    assert_eq!(palette.samples.len(), 1);
}
