//! GPU compositor (wgpu on whatever adapter is present; Mesa lavapipe in CI) against the CPU
//! compositor and a stored reference picture.
//!
//! Reference: `tests/golden/composite_rgba.png`, made by the CPU compositor
//! (`YARDLINE_BLESS=1 cargo test -p yardline-engine --test gpu_compositor` rewrites it).
//! Tolerance: 2 levels per channel for either compositor on 8-bit frames; on 10-bit frames
//! (compared code by code) 4 codes, one level of the 8-bit scale.

#![allow(
    clippy::unwrap_used,
    clippy::float_cmp,
    clippy::needless_range_loop,
    reason = "test code: a failed unwrap is a failed test; exact float results are the assertion"
)]

use std::path::PathBuf;

use yardline_engine::graphics::GroundStrip;
use yardline_engine::head::{HeadAngles, Mount, head_camera};
use yardline_engine::key::FieldKey;
use yardline_engine::render::crew::Crew;
use yardline_engine::render::{
    AdapterChoice, Compositor, CpuCompositor, GpuCompositor, HALO, PreparedLine, prepare_line,
};
use yardline_engine::{Camera, Crown, Intrinsics};
use yardline_frame::{
    FrameLayout, FrameMut, FrameRef, PixelFormat, SampleStorage, read_sample, rgb_index,
    rgb_to_ycbcr709, write_sample, yuv_samples,
};
use yardline_keying::{EdgeFilter, KeyConfig, Palette, Region, Sample, SampleKind};

const W: u32 = 384;
const H: u32 = 216;
/// Largest difference allowed between the compositors and against the reference.
const TOLERANCE: u8 = 2;
/// Largest difference allowed between the compositors on 10-bit frames, in 10-bit codes.
const TOLERANCE_10: u16 = 4;

fn camera() -> Camera {
    camera_sized(W, H)
}

fn camera_sized(w: u32, h: u32) -> Camera {
    let mut k = Intrinsics::from_hfov(w, h, 38f64.to_radians());
    k.k1 = -0.06;
    head_camera(
        &Mount {
            position: [0.0, -58.0, 22.0],
            ..Mount::default()
        },
        &HeadAngles {
            pan_deg: -4.0,
            tilt_deg: -20.0,
            roll_deg: 0.4,
        },
        k,
        0.0,
    )
}

/// Striped grass, a shadow, and red "players" standing on the lines.
fn picture(x: u32, y: u32) -> [u8; 3] {
    let stripe = (x / 24 + y / 40).is_multiple_of(2);
    let mut g = if stripe {
        [52u8, 128, 58]
    } else {
        [44, 112, 50]
    };
    if x > 250 {
        g = g.map(|v| v / 2);
    }
    let player = (196..212).contains(&x) && (80..150).contains(&y)
        || (256..268).contains(&x) && (120..190).contains(&y);
    if player { [190, 30, 35] } else { g }
}

fn key() -> FieldKey {
    key_with_radius(yardline_keying::DEFAULT_MIN_FILTER_RADIUS)
}

/// The test key with min-filter radius `radius`.
fn key_with_radius(radius: u32) -> FieldKey {
    FieldKey::compile(&config_with_radius(radius)).unwrap()
}

/// The test key's configuration with min-filter radius `radius`.
fn config_with_radius(radius: u32) -> KeyConfig {
    let to_ycc = |c: [u8; 3]| {
        let v = rgb_to_ycbcr709(f32::from(c[0]), f32::from(c[1]), f32::from(c[2]));
        [f64::from(v[0]), f64::from(v[1]), f64::from(v[2])]
    };
    let mut grass: Vec<([u8; 3], Vec<[f64; 3]>)> = Vec::new();
    let mut red = Vec::new();
    for y in (0..H).step_by(3) {
        for x in (0..W).step_by(3) {
            let c = picture(x, y);
            if c[0] > 150 {
                red.push(to_ycc(c));
            } else if let Some((_, px)) = grass.iter_mut().find(|(g, _)| *g == c) {
                px.push(to_ycc(c));
            } else {
                grass.push((c, vec![to_ycc(c)]));
            }
        }
    }
    // One inclusion sample per grass shade (two stripes, in sun and in shadow), one exclusion.
    assert_eq!(grass.len(), 4);
    let mut palette = Palette::new();
    for (_, px) in grass {
        palette
            .push(Sample::from_pixels(SampleKind::Inclusion, "grass", &px, 3.5).unwrap())
            .unwrap();
    }
    palette
        .push(Sample::from_pixels(SampleKind::Exclusion, "red jersey", &red, 3.0).unwrap())
        .unwrap();
    let mut config = KeyConfig::new(palette);
    config.min_filter_radius = radius;
    config
}

fn lines(cam: &Camera) -> Vec<PreparedLine> {
    lines_sized(cam, W, H)
}

fn lines_sized(cam: &Camera, w: u32, h: u32) -> Vec<PreparedLine> {
    vec![
        prepare_line(
            cam,
            &GroundStrip::football_line(47.0, 0.25),
            &Crown::default(),
            w,
            h,
            [255, 215, 0],
            0.95,
        ),
        prepare_line(
            cam,
            &GroundStrip::football_line(53.5, 0.25),
            &Crown::default(),
            w,
            h,
            [30, 90, 255],
            0.8,
        ),
    ]
}

fn make_frame(format: PixelFormat) -> (FrameLayout, Vec<u8>) {
    make_frame_sized(format, W, H)
}

fn make_frame_sized(format: PixelFormat, w: u32, h: u32) -> (FrameLayout, Vec<u8>) {
    let layout = FrameLayout::packed(format, w, h).unwrap();
    let mut data = vec![0u8; layout.size];
    for y in 0..h {
        for x in 0..w {
            let rgb = picture(x, y);
            if let Some(o) = format.rgb_offsets() {
                let i = rgb_index(&layout, x, y);
                for c in 0..3 {
                    data[i + o[c]] = rgb[c];
                }
                data[i + 3] = 255;
            } else {
                // 10-bit formats hold the colour at their own precision.
                let scale = if format.bit_depth() == 10 { 4.0 } else { 1.0 };
                let v = rgb_to_ycbcr709(f32::from(rgb[0]), f32::from(rgb[1]), f32::from(rgb[2]));
                let samples = yuv_samples(&layout, x, y).unwrap();
                for (s, v) in samples.into_iter().zip(v) {
                    write_sample(
                        format.sample_storage(),
                        &mut data,
                        s,
                        (v * scale).round() as u16,
                    );
                }
            }
        }
    }
    (layout, data)
}

fn run(c: &mut dyn Compositor, format: PixelFormat, key: &FieldKey) -> (FrameLayout, Vec<u8>) {
    let cam = camera();
    let (layout, mut data) = make_frame(format);
    let mut frame = FrameMut::new(&layout, &mut data).unwrap();
    let stats = c.composite(&mut frame, &lines(&cam), key).unwrap();
    assert!(stats.tiles > 0);
    (layout, data)
}

/// Largest difference between two frames of `layout`: per byte for 8-bit formats, per 10-bit
/// code for 10-bit ones.
fn max_code_diff(layout: &FrameLayout, a: &[u8], b: &[u8]) -> u16 {
    if layout.format.bit_depth() == 8 {
        return u16::from(max_diff(a, b));
    }
    let (fa, fb) = (
        FrameRef::new(layout, a).unwrap(),
        FrameRef::new(layout, b).unwrap(),
    );
    let mut d = 0;
    for y in 0..layout.height {
        for x in 0..layout.width {
            let (p, q) = (fa.codes(x, y).unwrap(), fb.codes(x, y).unwrap());
            d = (0..3).fold(d, |d, c| d.max(p[c].abs_diff(q[c])));
        }
    }
    d
}

/// The largest difference allowed between the compositors on frames of `format`.
fn tolerance(format: PixelFormat) -> u16 {
    if format.bit_depth() == 10 {
        TOLERANCE_10
    } else {
        u16::from(TOLERANCE)
    }
}

/// A difference of `levels` on the 8-bit scale in codes of `format`.
fn levels(format: PixelFormat, levels: u16) -> u16 {
    if format.bit_depth() == 10 {
        4 * levels
    } else {
        levels
    }
}

fn max_diff(a: &[u8], b: &[u8]) -> u8 {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.abs_diff(*y))
        .max()
        .unwrap_or(0)
}

fn gpu() -> GpuCompositor {
    GpuCompositor::new(AdapterChoice::Any)
        .expect("a wgpu adapter (lavapipe is installed by scripts/install-deps.sh)")
}

#[test]
fn gpu_and_cpu_agree_on_every_format_and_filter_radius() {
    let mut gpu = gpu();
    let mut cpu = CpuCompositor::new();
    let filters = (0..=HALO)
        .map(|r| (r, EdgeFilter::Min))
        .chain((1..=HALO).map(|r| (r, EdgeFilter::Unmix)));
    for (radius, edge) in filters {
        let mut config = config_with_radius(radius);
        config.edge_filter = edge;
        let key = FieldKey::compile(&config).unwrap();
        for format in PixelFormat::ALL {
            let (layout, a) = run(&mut cpu, format, &key);
            let (_, b) = run(&mut gpu, format, &key);
            let (_, clean) = make_frame(format);
            let d = max_code_diff(&layout, &a, &b);
            assert!(
                d <= tolerance(format),
                "{format}, radius {radius} {edge:?}, on {}: max difference {d}",
                gpu.describe()
            );
            assert!(
                max_code_diff(&layout, &a, &clean) > levels(format, 60),
                "{format}: nothing drawn"
            );
        }
    }
}

#[test]
fn odd_frame_sizes_agree_on_both_compositors() {
    // An odd width and height: the last tile row and column are partial and the last chroma
    // sites hold a single column or row; the lines run down to the bottom row.
    let (w, h) = (W - 1, H - 1);
    let cam = camera_sized(w, h);
    let lines = lines_sized(&cam, w, h);
    let mut gpu = gpu().with_crew(Crew::new(2));
    let mut cpu = CpuCompositor::new();
    let key = key();
    for format in PixelFormat::ALL {
        let mut out = Vec::new();
        for c in [&mut cpu as &mut dyn Compositor, &mut gpu] {
            let (layout, mut data) = make_frame_sized(format, w, h);
            let mut frame = FrameMut::new(&layout, &mut data).unwrap();
            assert!(c.composite(&mut frame, &lines, &key).unwrap().tiles > 0);
            out.push(data);
        }
        let (layout, clean) = make_frame_sized(format, w, h);
        let d = max_code_diff(&layout, &out[0], &out[1]);
        assert!(
            d <= tolerance(format),
            "{format} {w}x{h}: max difference {d}"
        );
        assert!(
            max_code_diff(&layout, &out[0], &clean) > levels(format, 60),
            "{format}: nothing drawn"
        );
        let last_row = layout.planes[0].offset + (h as usize - 1) * layout.planes[0].stride;
        let row = last_row..last_row + layout.planes[0].stride;
        assert!(
            max_diff(&out[0][row.clone()], &clean[row]) > 0,
            "{format}: nothing drawn in the bottom row"
        );
    }
}

#[test]
fn a_crew_sharing_the_atlas_copies_gives_the_same_frame() {
    // Three threads over bands of atlas rows (gather) and of tile rows (scatter, the last one
    // partial at 216 lines) against the calling thread alone.
    let mut alone = gpu();
    let mut shared = gpu().with_crew(Crew::new(3));
    let key = key();
    for format in PixelFormat::ALL {
        let (_, a) = run(&mut alone, format, &key);
        let (_, b) = run(&mut shared, format, &key);
        assert!(a == b, "{format}: the crew's frame differs");
    }
}

/// Three lines drawn over one another (a wide translucent band, a narrower line inside it and a
/// third across both edges): the GPU blends each line over what the earlier ones drew, as the
/// CPU does: within tolerance on every component, subsampled chroma included (both take each
/// line over each pixel of a chroma site in turn, then the site's mean; when the CPU blended
/// the site with each line's mean alpha in turn, the two parted by up to 7 levels there).
/// Blended each over the untouched frame instead, the overlap would be the last line's colour
/// over the picture, tens of levels away.
#[test]
fn lines_over_one_another_blend_in_order_on_both_compositors() {
    let cam = camera();
    let line = |yard: f64, width: f64, rgb: [u8; 3], opacity: f32| {
        prepare_line(
            &cam,
            &GroundStrip::football_line(yard, width),
            &Crown::default(),
            W,
            H,
            rgb,
            opacity,
        )
    };
    let stacked = [
        line(50.0, 1.2, [255, 215, 0], 0.9),
        line(50.1, 0.5, [30, 90, 255], 0.6),
        line(50.6, 0.6, [240, 20, 200], 0.7),
    ];
    let key = key();
    let mut gpu = gpu();
    let mut cpu = CpuCompositor::new();
    for format in PixelFormat::ALL {
        let draw = |c: &mut dyn Compositor, lines: &[PreparedLine]| {
            let (layout, mut data) = make_frame(format);
            let mut frame = FrameMut::new(&layout, &mut data).unwrap();
            c.composite(&mut frame, lines, &key).unwrap();
            (layout, data)
        };
        let (layout, a) = draw(&mut cpu, &stacked);
        let (_, b) = draw(&mut gpu, &stacked);
        // Every component, chroma of YUV frames included: both take each line over each pixel
        // in turn before a chroma site takes its pixels' mean.
        let d = max_code_diff(&layout, &a, &b);
        assert!(
            d <= tolerance(format),
            "{format}: max difference {d} with lines over one another on {}",
            gpu.describe()
        );
        // The overlap is not what the last line alone over the picture gives.
        let (_, last) = draw(&mut cpu, &stacked[1..2]);
        assert!(
            max_code_diff(&layout, &a, &last) > levels(format, 40),
            "{format}: the lines do not overlap"
        );
    }
}

/// An RGBA frame of `pic`.
fn rgba_frame(pic: impl Fn(u32, u32) -> [u8; 3]) -> (FrameLayout, Vec<u8>) {
    let layout = FrameLayout::packed(PixelFormat::Rgba, W, H).unwrap();
    let mut data = vec![255u8; layout.size];
    for y in 0..H {
        for x in 0..W {
            let i = rgb_index(&layout, x, y);
            data[i..i + 3].copy_from_slice(&pic(x, y));
        }
    }
    (layout, data)
}

/// Plain grass and a player's red, for the tests of a key's neighbourhood.
const GRASS: [u8; 3] = [52, 128, 58];
const RED: [u8; 3] = [190, 30, 35];

/// A 2.5 m wide first-down line across the test camera's view.
fn wide_line() -> [PreparedLine; 1] {
    [prepare_line(
        &camera(),
        &GroundStrip::football_line(50.0, 2.5),
        &Crown::default(),
        W,
        H,
        [255, 215, 0],
        1.0,
    )]
}

/// `pic` as an RGBA frame with `lines` composited over it by `c`.
fn composite_picture(
    c: &mut dyn Compositor,
    pic: &dyn Fn(u32, u32) -> [u8; 3],
    lines: &[PreparedLine],
    key: &FieldKey,
) -> Vec<u8> {
    let (layout, mut data) = rgba_frame(pic);
    let mut frame = FrameMut::new(&layout, &mut data).unwrap();
    c.composite(&mut frame, lines, key).unwrap();
    data
}

/// The min-filter on both compositors: one player-coloured pixel inside the line keeps
/// exactly the (2r+1)^2 square around it free of the line, wherever it sits in a 2x2 quad
/// (the GPU shares the neighbourhood lookups between the pixels of a quad).
#[test]
fn one_off_colour_pixel_keys_out_exactly_its_neighbourhood() {
    let wide = wide_line();
    let composite = |c: &mut dyn Compositor, pic: &dyn Fn(u32, u32) -> [u8; 3], key: &FieldKey| {
        composite_picture(c, pic, &wide, key)
    };
    let px = |data: &[u8], x: u32, y: u32| {
        let i = rgb_index(&FrameLayout::packed(PixelFormat::Rgba, W, H).unwrap(), x, y);
        [data[i], data[i + 1], data[i + 2]]
    };
    // The line's colour where it covers plain grass fully (the grass keys a little under 1).
    let full = |c: [u8; 3]| c[0] >= 225 && c[1] >= 200 && c[2] <= 10;
    // Dots where the line is drawn fully on plain grass for 3 pixels around, one per position
    // in a quad.
    let plain = composite(&mut CpuCompositor::new(), &|_, _| GRASS, &key());
    let around = |x: u32, y: u32, r: u32| {
        (y - r..=y + r).flat_map(move |yy| (x - r..=x + r).map(move |xx| (xx, yy)))
    };
    let mut dots: Vec<(u32, u32)> = Vec::new();
    for y in 4..H - 4 {
        for x in 4..W - 4 {
            let parity_new = !dots.iter().any(|d| d.0 % 2 == x % 2 && d.1 % 2 == y % 2);
            let apart = dots
                .iter()
                .all(|d| d.0.abs_diff(x).max(d.1.abs_diff(y)) > 8);
            if parity_new && apart && around(x, y, 3).all(|(xx, yy)| full(px(&plain, xx, yy))) {
                dots.push((x, y));
            }
        }
    }
    assert_eq!(dots.len(), 4, "room for a dot at each quad position");
    let dotted = |x: u32, y: u32| if dots.contains(&(x, y)) { RED } else { GRASS };
    let mut gpu = gpu();
    for radius in 0..=HALO {
        let key = key_with_radius(radius);
        let a = composite(&mut CpuCompositor::new(), &dotted, &key);
        let b = composite(&mut gpu, &dotted, &key);
        assert!(max_diff(&a, &b) <= TOLERANCE, "radius {radius}");
        for (name, out) in [("cpu", &a), ("gpu", &b)] {
            for &(x, y) in &dots {
                for (xx, yy) in around(x, y, radius + 1) {
                    let near = xx.abs_diff(x).max(yy.abs_diff(y)) <= radius;
                    let c = px(out, xx, yy);
                    if near {
                        assert_eq!(c, dotted(xx, yy), "{name} r{radius}: ({xx},{yy}) drawn");
                    } else {
                        assert!(full(c), "{name} r{radius}: ({xx},{yy}) not drawn: {c:?}");
                    }
                }
            }
        }
    }
}

/// Edge unmixing on both compositors: the grass round a player-coloured pixel inside the line
/// keeps the line (its colour is no mixture with the player's), the pixel itself stays clear.
#[test]
fn unmixing_keeps_the_line_on_the_grass_beside_a_player() {
    let wide = wide_line();
    let layout = FrameLayout::packed(PixelFormat::Rgba, W, H).unwrap();
    let px = |data: &[u8], x: u32, y: u32| {
        let i = rgb_index(&layout, x, y);
        [data[i], data[i + 1], data[i + 2]]
    };
    let full = |c: [u8; 3]| c[0] >= 225 && c[1] >= 200 && c[2] <= 10;
    let composite = |c: &mut dyn Compositor, pic: &dyn Fn(u32, u32) -> [u8; 3], key: &FieldKey| {
        composite_picture(c, pic, &wide, key)
    };
    // A dot where the line covers plain grass fully for 3 pixels around.
    let plain = composite(&mut CpuCompositor::new(), &|_, _| GRASS, &key());
    let (dx, dy) = (4..H - 4)
        .flat_map(|y| (4..W - 4).map(move |x| (x, y)))
        .find(|&(x, y)| {
            (y - 3..=y + 3).all(|yy| (x - 3..=x + 3).all(|xx| full(px(&plain, xx, yy))))
        })
        .expect("the line covers some grass fully");
    let dotted = |x: u32, y: u32| if (x, y) == (dx, dy) { RED } else { GRASS };
    let mut gpu = gpu();
    for radius in 1..=HALO {
        let mut config = config_with_radius(radius);
        config.edge_filter = EdgeFilter::Unmix;
        let key = FieldKey::compile(&config).unwrap();
        let a = composite(&mut CpuCompositor::new(), &dotted, &key);
        let b = composite(&mut gpu, &dotted, &key);
        assert!(max_diff(&a, &b) <= TOLERANCE, "radius {radius}");
        for (name, out) in [("cpu", &a), ("gpu", &b)] {
            assert_eq!(px(out, dx, dy), RED, "{name} r{radius}: the dot drawn over");
            for yy in dy - radius - 1..=dy + radius + 1 {
                for xx in dx - radius - 1..=dx + radius + 1 {
                    let c = px(out, xx, yy);
                    if (xx, yy) != (dx, dy) {
                        assert!(full(c), "{name} r{radius}: ({xx},{yy}) not drawn: {c:?}");
                    }
                }
            }
        }
    }
}

/// Many operator regions across the lines, alternately keying the grass out and in: tiles
/// list up to the cap of key regions (the GPU then picks a pipeline with enough region slots),
/// and both compositors give each 2x2 block the same region's palette.
#[test]
fn many_key_regions_agree_on_both_compositors() {
    let mut config = config_with_radius(1);
    let blue: Vec<[f64; 3]> = (0..40)
        .map(|i| {
            let v = rgb_to_ycbcr709(20.0 + (i % 5) as f32, 40.0, 200.0 + (i / 5) as f32);
            v.map(f64::from)
        })
        .collect();
    // A palette that keys nothing of the picture as field.
    let mut hide = Palette::new();
    hide.push(Sample::from_pixels(SampleKind::Inclusion, "blue", &blue, 3.0).unwrap())
        .unwrap();
    config.regions = (0..20)
        .map(|k| {
            let y0 = -20.0 + 2.0 * f64::from(k);
            Region {
                name: format!("stripe {k}"),
                rect: [-60.0, y0, 60.0, y0 + 2.0],
                palette: if k % 2 == 0 {
                    hide.clone()
                } else {
                    config.palette.clone()
                },
            }
        })
        .collect();
    let striped = FieldKey::compile(&config).unwrap();
    let mut gpu = gpu();
    let (_, clean) = make_frame(PixelFormat::Rgba);
    let (_, plain) = run(&mut CpuCompositor::new(), PixelFormat::Rgba, &key());
    let (_, a) = run(&mut CpuCompositor::new(), PixelFormat::Rgba, &striped);
    let (_, b) = run(&mut gpu, PixelFormat::Rgba, &striped);
    let d = max_diff(&a, &b);
    assert!(d <= TOLERANCE, "CPU vs GPU ({}): {d}", gpu.describe());
    let drawn = |out: &[u8]| {
        out.chunks(4)
            .zip(clean.chunks(4))
            .filter(|(p, q)| p.iter().zip(q.iter()).any(|(x, y)| x.abs_diff(*y) > 8))
            .count()
    };
    let (all, some) = (drawn(&plain), drawn(&b));
    assert!(
        some > all / 5 && some < all * 4 / 5,
        "stripes hide part of the lines: {some} of {all} pixels drawn"
    );
}

#[test]
fn occluders_stay_untouched_on_the_gpu() {
    let key = key();
    let (layout, out) = run(&mut gpu(), PixelFormat::Rgba, &key);
    let (_, clean) = make_frame(PixelFormat::Rgba);
    for y in 0..H {
        for x in 0..W {
            if picture(x, y)[0] > 150 {
                let i = rgb_index(&layout, x, y);
                assert_eq!(
                    out[i..i + 4],
                    clean[i..i + 4],
                    "player pixel ({x},{y}) painted"
                );
            }
        }
    }
}

#[test]
fn both_compositors_match_the_reference_picture() {
    let key = key();
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/composite_rgba.png");
    let (_, cpu_out) = run(&mut CpuCompositor::new(), PixelFormat::Rgba, &key);
    if std::env::var_os("YARDLINE_BLESS").is_some() {
        image::RgbaImage::from_raw(W, H, cpu_out.clone())
            .unwrap()
            .save(&path)
            .unwrap();
    }
    let reference = image::open(&path)
        .expect("reference picture")
        .to_rgba8()
        .into_raw();
    let d = max_diff(&cpu_out, &reference);
    assert!(d <= TOLERANCE, "cpu vs reference: {d}");
    let mut gpu = gpu();
    let (_, gpu_out) = run(&mut gpu, PixelFormat::Rgba, &key);
    let d = max_diff(&gpu_out, &reference);
    assert!(d <= TOLERANCE, "gpu ({}) vs reference: {d}", gpu.describe());
}

#[test]
fn a_lost_device_reports_an_error_and_leaves_the_frame_alone() {
    let key = key();
    let gpu = gpu();
    gpu.simulate_device_loss();
    let mut gpu = gpu;
    let (layout, mut data) = make_frame(PixelFormat::Rgba);
    let clean = data.clone();
    let mut frame = FrameMut::new(&layout, &mut data).unwrap();
    assert!(gpu.composite(&mut frame, &lines(&camera()), &key).is_err());
    assert_eq!(data, clean);
}

/// The 10-bit YUV formats.
const TEN_BIT: [PixelFormat; 4] = [
    PixelFormat::V210,
    PixelFormat::P010,
    PixelFormat::I420_10,
    PixelFormat::I422_10,
];

/// Per YUV frame of `layout`: each sample's code, pixel by pixel (Y, Cb, Cr).
fn codes(layout: &FrameLayout, data: &[u8]) -> Vec<[u16; 3]> {
    let f = FrameRef::new(layout, data).unwrap();
    (0..layout.height)
        .flat_map(|y| (0..layout.width).map(move |x| (x, y)))
        .map(|(x, y)| f.codes(x, y).unwrap())
        .collect()
}

#[test]
fn ten_bit_frames_keep_their_precision_on_the_gpu() {
    // The picture's codes are not multiples of 4: an atlas of 8-bit components would change
    // every sample of the touched tiles, and the blended codes would lie on the 8-bit grid.
    let key = key();
    let mut gpu = gpu();
    for format in TEN_BIT {
        let (layout, cpu_out) = run(&mut CpuCompositor::new(), format, &key);
        let (_, gpu_out) = run(&mut gpu, format, &key);
        let (_, clean) = make_frame(format);
        let (clean, cpu_out, gpu_out) = (
            codes(&layout, &clean),
            codes(&layout, &cpu_out),
            codes(&layout, &gpu_out),
        );
        let (mut kept, mut moved, mut drawn, mut off_grid) = (0, 0, 0, 0);
        for ((c, a), b) in clean.iter().zip(&cpu_out).zip(&gpu_out) {
            for k in 0..3 {
                if a[k] == c[k] {
                    kept += 1;
                    moved += usize::from(b[k] != c[k]);
                } else if b[k] != c[k] {
                    drawn += 1;
                    off_grid += usize::from(b[k] % 4 != 0);
                }
            }
        }
        assert!(
            moved * 1000 <= kept,
            "{format}: {moved} of the {kept} samples the CPU left alone changed on the GPU"
        );
        assert!(drawn > 1000, "{format}: {drawn} samples drawn");
        assert!(
            off_grid * 2 > drawn,
            "{format}: {off_grid} of {drawn} drawn codes off the 8-bit grid"
        );
    }
}

#[test]
fn yuv_layouts_with_padding_and_planes_in_any_order_scatter_alike() {
    // Padded rows, planes in reverse order, v210 at an offset with padded rows, I420's and
    // I420_10LE's U and V halves of the same rows (no plane can be split off): the GPU's frame
    // reads code for code as on the packed layout, and nothing outside the planes is written.
    let key = key();
    let mut gpu = gpu().with_crew(Crew::new(3));
    let cam = camera();
    let (w, h) = (W as usize, H as usize);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let layouts = [
        (
            PixelFormat::P010,
            vec![cw * 4 * ch + 32, 0],
            vec![2 * w + 6, cw * 4],
        ),
        (
            PixelFormat::I422_10,
            vec![4 * cw * h, 2 * cw * h, 0],
            vec![2 * w, 2 * cw, 2 * cw],
        ),
        (
            PixelFormat::V210,
            vec![16],
            vec![w.div_ceil(48) * 128 + 128],
        ),
        (
            PixelFormat::I420_10,
            vec![0, 2 * w * h, 2 * w * h + 2 * cw],
            vec![2 * w, 4 * cw, 4 * cw],
        ),
        (
            PixelFormat::I420,
            vec![0, w * h, w * h + cw],
            vec![w, 2 * cw, 2 * cw],
        ),
        (PixelFormat::Uyvy, vec![8], vec![cw * 4 + 12]),
    ];
    for (format, offsets, strides) in layouts {
        let (packed, want) = run(&mut gpu, format, &key);
        let chroma_rows = if format.chroma_step().1 == 1 { h } else { ch };
        let rows = [h, chroma_rows, chroma_rows];
        let size = (0..offsets.len())
            .map(|p| offsets[p] + strides[p] * rows[p])
            .max()
            .unwrap();
        let layout = FrameLayout::with_planes(format, W, H, &offsets, &strides, size).unwrap();
        // The packed frame's samples moved into the padded layout; padding bytes 0x5a.
        let (_, clean) = make_frame(format);
        let mut data = vec![0x5a_u8; size];
        let mut inside = vec![false; size];
        let bytes = match format.sample_storage() {
            SampleStorage::U8 => 1,
            SampleStorage::U16 => 2,
            SampleStorage::U32 => 4,
        };
        for y in 0..H {
            for x in 0..W {
                let (from, to) = (
                    yuv_samples(&packed, x, y).unwrap(),
                    yuv_samples(&layout, x, y).unwrap(),
                );
                for (s, t) in from.into_iter().zip(to) {
                    let v = read_sample(format.sample_storage(), &clean, s);
                    write_sample(format.sample_storage(), &mut data, t, v);
                    inside[t.byte..t.byte + bytes].fill(true);
                }
            }
        }
        let untouched = data.clone();
        let mut frame = FrameMut::new(&layout, &mut data).unwrap();
        assert!(gpu.composite(&mut frame, &lines(&cam), &key).unwrap().tiles > 0);
        assert!(
            codes(&layout, &data) == codes(&packed, &want),
            "{format} {offsets:?}: the frame differs from the packed layout's"
        );
        for (i, (&a, &b)) in data.iter().zip(&untouched).enumerate() {
            assert!(
                inside[i] || a == b,
                "{format} {offsets:?}: byte {i} outside the planes written"
            );
        }
    }
}
