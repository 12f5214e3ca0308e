//! Every pixel format keys the same picture the same way: YUV (I420, NV12, UYVY) and RGB
//! (RGBA, BGRA, `RGBx`, `BGRx`) within 1/255, through `key_frame`, `key_pixels` and `key_at`.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use common::{OwnedFrame, rgb_frame, to_ycbcr_bytes, yuv_frame};
use yardline_frame::PixelFormat;
use yardline_frame::rgb_to_ycbcr709;
use yardline_keying::{KeyConfig, Keyer, Palette, Sample, SampleKind};

const ONE_LEVEL: f32 = 1.0 / 255.0;
/// A colour counts as exact when its YCbCr code values lie this close to integers.
const EXACT: f32 = 0.02;

/// RGB colours whose BT.709 YCbCr lands within [`EXACT`] of integer code values, so an RGB
/// frame and a YUV frame can hold the very same colour. Taken near grass, paint and jerseys,
/// so the key takes every value from 0 to 1.
fn exact_colours() -> Vec<[u8; 3]> {
    let mut out = Vec::new();
    for r in 0..=255_u16 {
        for g in 0..=255_u16 {
            for b in 0..=255_u16 {
                let c = rgb_to_ycbcr709(f32::from(r), f32::from(g), f32::from(b));
                if c.iter().all(|v| (v - v.round()).abs() <= EXACT) {
                    out.push([r as u8, g as u8, b as u8]);
                }
            }
        }
    }
    out
}

fn palette() -> Palette {
    let ellipsoid = |kind, mean: [f64; 3], sd: [f64; 3], tolerance| Sample {
        kind,
        label: String::new(),
        mean,
        covariance: [
            [sd[0] * sd[0], 0.0, 0.0],
            [0.0, sd[1] * sd[1], 0.0],
            [0.0, 0.0, sd[2] * sd[2]],
        ],
        tolerance,
    };
    Palette {
        softness: 2.0,
        samples: vec![
            ellipsoid(
                SampleKind::Inclusion,
                [105.0, 102.0, 107.0],
                [30.0, 12.0, 10.0],
                2.0,
            ),
            ellipsoid(
                SampleKind::Inclusion,
                [200.0, 119.0, 124.0],
                [20.0, 8.0, 8.0],
                2.0,
            ),
            ellipsoid(
                SampleKind::Exclusion,
                [120.0, 140.0, 125.0],
                [25.0, 8.0, 8.0],
                2.0,
            ),
        ],
    }
}

/// Picture of 2x2 and 4x4 blocks of exact colours (so 4:2:0 and 4:2:2 chroma is exact too).
fn picture(w: u32, h: u32) -> Vec<[u8; 3]> {
    let colours = exact_colours();
    assert!(colours.len() > 200, "{} exact colours", colours.len());
    // Prefer colours the palette keys partly or fully: sort by distance to grass.
    let mut near: Vec<[u8; 3]> = colours.clone();
    near.sort_by_key(|c| {
        let y = to_ycbcr_bytes(*c);
        (i32::from(y[0]) - 105).abs() / 3
            + (i32::from(y[1]) - 102).abs()
            + (i32::from(y[2]) - 107).abs()
    });
    let mut out = Vec::with_capacity((w * h) as usize);
    for y in 0..h {
        for x in 0..w {
            // Mostly 4x4 blocks, so the min-filter leaves some key; every 2x2 block of one
            // colour.
            let block = if (x / 2 + y / 2) % 5 == 0 {
                (x / 2) * 7919 + (y / 2) * 104_729
            } else {
                (x / 4) * 7919 + (y / 4) * 104_729
            };
            let c = if block % 3 == 0 {
                colours[block as usize % colours.len()]
            } else {
                near[block as usize % near.len().min(60)]
            };
            out.push(c);
        }
    }
    out
}

fn frames(w: u32, h: u32, rgb: &[[u8; 3]]) -> Vec<OwnedFrame> {
    let ycc: Vec<[u8; 3]> = rgb.iter().map(|&p| to_ycbcr_bytes(p)).collect();
    PixelFormat::ALL
        .into_iter()
        .map(|f| {
            if f.is_rgb() {
                rgb_frame(f, w, h, rgb, 12)
            } else {
                yuv_frame(f, w, h, &ycc, 6)
            }
        })
        .collect()
}

#[test]
fn yuv_and_rgb_paths_agree_within_one_level() {
    // Odd size: the last chroma site covers a single column and row.
    let (w, h) = (67_u32, 41_u32);
    let rgb = picture(w, h);
    let frames = frames(w, h, &rgb);
    for radius in [0, 1, 2] {
        let mut config = KeyConfig::new(palette());
        config.min_filter_radius = radius;
        let keyer = Keyer::compile(&config).unwrap();
        let reference = keyer.key_frame(frames[0].as_ref()).unwrap();
        let partial = reference.iter().filter(|&&k| k > 0.01 && k < 0.9).count();
        let full = reference.iter().filter(|&&k| k >= 0.9).count();
        let none = reference.iter().filter(|&&k| k <= 0.01).count();
        assert!(
            partial > 50 && none > 50,
            "r={radius}: {partial} {full} {none}"
        );
        if radius == 0 {
            assert!(full > 50, "r={radius}: {partial} {full} {none}");
        }
        for frame in &frames {
            let format = frame.layout.format;
            let matte = keyer.key_frame(frame.as_ref()).unwrap();
            let worst = matte
                .iter()
                .zip(&reference)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0_f32, f32::max);
            assert!(
                worst <= ONE_LEVEL,
                "{format} r={radius}: differs by {worst}"
            );
            // The same pixels through key_pixels (every pixel, shuffled) and key_at.
            let coords: Vec<(u32, u32)> = (0..w * h)
                .map(|i| {
                    let j = (i * 7_919) % (w * h);
                    (j % w, j / w)
                })
                .collect();
            let mut out = vec![0.0; coords.len()];
            keyer.key_pixels(frame.as_ref(), &coords, &mut out).unwrap();
            for (&(x, y), &k) in coords.iter().zip(&out) {
                let m = matte[(y * w + x) as usize];
                assert!(
                    (k - m).abs() <= 1e-6,
                    "{format} r={radius} key_pixels ({x},{y})"
                );
                let a = keyer.key_at(frame.as_ref(), x, y);
                assert!(
                    (a - m).abs() <= 1e-6,
                    "{format} r={radius} key_at ({x},{y})"
                );
            }
        }
    }
}

#[test]
fn frame_reads_agree_across_formats() {
    let (w, h) = (9_u32, 5_u32);
    let rgb = picture(w, h);
    let frames = frames(w, h, &rgb);
    for frame in &frames {
        let f = frame.as_ref();
        for y in 0..h {
            for x in 0..w {
                let want = to_ycbcr_bytes(rgb[(y * w + x) as usize]);
                assert_eq!(f.ycbcr(x, y), want, "{} ({x},{y})", f.layout.format);
                let fl = f.ycbcr_f32(x, y);
                for c in 0..3 {
                    assert!((fl[c] - f32::from(want[c])).abs() <= EXACT + 1e-4);
                }
            }
        }
    }
}

#[test]
fn frames_of_other_colorimetries_key_as_their_colours_do() {
    // A picture held as BT.2020 full range (8 bits) and BT.601 limited (10 bits) keys as the
    // same colours in RGB do: the LUT re-indexed for the frame's codes, nothing per pixel.
    use yardline_frame::{
        Colorimetry, FrameLayout, YuvMatrix, YuvRange, code_scale, write_sample, yuv_samples,
    };
    let keyer = Keyer::compile(&KeyConfig {
        palette: palette(),
        min_filter_radius: 0,
        ..KeyConfig::default()
    })
    .unwrap();
    let (w, h) = (64_u32, 32_u32);
    let colours: Vec<[u8; 3]> = (0..w * h)
        .map(|i| {
            let (x, y) = (i % w, i / w);
            // 2x2 blocks of one colour, so subsampled chroma holds it exactly.
            let (bx, by) = (x / 2, y / 2);
            [
                (40 + bx * 5) as u8,
                (60 + by * 9) as u8,
                (30 + (bx * by) % 120) as u8,
            ]
        })
        .collect();
    let rgb = rgb_frame(PixelFormat::Rgba, w, h, &colours, 0);
    let want = keyer.key_frame(rgb.as_ref()).unwrap();
    for (format, c) in [
        (
            PixelFormat::I420,
            Colorimetry {
                matrix: YuvMatrix::Bt2020,
                range: YuvRange::Full,
            },
        ),
        (
            PixelFormat::I420_10,
            Colorimetry {
                matrix: YuvMatrix::Bt601,
                range: YuvRange::Limited,
            },
        ),
    ] {
        let layout = FrameLayout::packed(format, w, h)
            .unwrap()
            .with_colorimetry(c);
        let mut data = vec![0_u8; layout.size];
        let scale = code_scale(format);
        for y in 0..h {
            for x in 0..w {
                let p = colours[(y * w + x) as usize].map(f32::from);
                let codes = c
                    .rgb_to_ycbcr(format.bit_depth(), p)
                    .map(|v| (v / scale).round() as u16);
                for (s, v) in yuv_samples(&layout, x, y).unwrap().into_iter().zip(codes) {
                    write_sample(format.sample_storage(), &mut data, s, v);
                }
            }
        }
        let frame = yardline_frame::FrameRef::new(&layout, &data).unwrap();
        let got = keyer.key_frame(frame).unwrap();
        let coords: Vec<(u32, u32)> = (0..w * h).map(|i| (i % w, i / w)).collect();
        let mut pixels = vec![0.0; coords.len()];
        keyer.key_pixels(frame, &coords, &mut pixels).unwrap();
        let (mut worst, mut keyed) = (0.0_f32, 0);
        for ((g, p), w) in got.iter().zip(&pixels).zip(&want) {
            worst = worst.max((g - w).abs());
            assert!(
                (g - p).abs() <= ONE_LEVEL,
                "{format}: key_frame and key_pixels agree"
            );
            keyed += usize::from(*w > 0.5);
        }
        // Rounding to the frame's codes and the re-indexed lattice move a key a little on
        // the palette's soft edges; a frame keyed as BT.709 limited range is off by far more.
        assert!(worst <= 0.1, "{format} {c}: worst key difference {worst}");
        assert!(
            keyed > 100 && keyed < colours.len() - 100,
            "a picture of both kinds"
        );
    }
}
