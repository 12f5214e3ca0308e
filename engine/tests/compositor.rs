//! CPU compositor: coverage exactness, occlusion, formats, untouched frames.

#![allow(
    clippy::unwrap_used,
    clippy::float_cmp,
    clippy::needless_range_loop,
    reason = "test code: a failed unwrap is a failed test; exact float results are the assertion"
)]

use nalgebra::{Matrix3, Point2, Point3, Rotation3};
use yardline_engine::graphics::GroundStrip;
use yardline_engine::head::{HeadAngles, Mount, head_camera};
use yardline_engine::render::crew::Crew;
use yardline_engine::render::{
    Compositor, CpuCompositor, NoKey, PixelKey, PreparedLine, prepare_line,
};
use yardline_engine::{Camera, Crown, Intrinsics};
use yardline_frame::{
    FrameLayout, FrameMut, FrameRef, PixelFormat, SampleStorage, rgb_index, rgb_to_ycbcr709,
    write_sample, yuv_samples,
};

const GRASS: [u8; 3] = [40, 120, 50];
const YELLOW: [u8; 3] = [255, 215, 0];

/// 50 m above the field looking straight down: 20 px per metre, image x = field x.
fn down_camera(w: u32, h: u32) -> Camera {
    let k = Intrinsics {
        fx: 1000.0,
        fy: 1000.0,
        cx: f64::from(w) / 2.0 - 0.5,
        cy: f64::from(h) / 2.0 - 0.5,
        k1: 0.0,
        k2: 0.0,
    };
    let c2f = Rotation3::from_matrix(&Matrix3::new(1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, -1.0));
    Camera::from_centre(k, c2f, Point3::new(0.0, 0.0, 50.0))
}

fn frame_rgba(w: u32, h: u32, rgb: [u8; 3]) -> (FrameLayout, Vec<u8>) {
    let layout = FrameLayout::packed(PixelFormat::Rgba, w, h).unwrap();
    let mut data = vec![255u8; layout.size];
    for px in data.chunks_mut(4) {
        px[..3].copy_from_slice(&rgb);
    }
    (layout, data)
}

/// A vertical strip at field x, from y = -5 to 5, seen by the down camera.
fn vertical_line(cam: &Camera, w: u32, h: u32, x: f64, width_m: f64) -> PreparedLine {
    let strip = GroundStrip {
        a: Point2::new(x, -5.0),
        b: Point2::new(x, 5.0),
        width_m,
    };
    prepare_line(cam, &strip, &Crown::default(), w, h, YELLOW, 1.0)
}

#[test]
fn coverage_integrates_to_the_line_width_and_centre() {
    let (w, h) = (320, 240);
    let cam = down_camera(w, h);
    // 0.2 m at 20 px/m = 4 px wide, centred at a fractional pixel.
    for x in [0.0, 0.013, 0.37, -1.111] {
        let (layout, mut data) = frame_rgba(w, h, [0, 0, 0]);
        let line = vertical_line(&cam, w, h, x, 0.2);
        let mut frame = FrameMut::new(&layout, &mut data).unwrap();
        CpuCompositor::new()
            .composite(
                &mut frame,
                &[PreparedLine {
                    rgb: [255, 255, 255],
                    ..line
                }],
                &NoKey,
            )
            .unwrap();
        let centre_px = cam.project(&Point3::new(x, 0.0, 0.0)).unwrap().x;
        for row in [60u32, 120, 180] {
            let mut sum = 0.0;
            let mut moment = 0.0;
            for col in 0..w {
                let a = f64::from(data[rgb_index(&layout, col, row)]) / 255.0;
                sum += a;
                moment += a * f64::from(col);
            }
            assert!((sum - 4.0).abs() < 0.02, "x={x} row {row}: width {sum}");
            let c = moment / sum;
            assert!(
                (c - centre_px).abs() < 0.02,
                "x={x}: centre {c} vs {centre_px}"
            );
        }
        // Rows beyond the strip's ends (y = +-5 m = 100 px from the centre) are untouched.
        for row in [0u32, 10, 230] {
            assert!((0..w).all(|col| data[rgb_index(&layout, col, row)] == 0));
        }
    }
}

/// A key that says "not field" for reddish pixels.
struct RedIsPlayer;
impl PixelKey for RedIsPlayer {
    fn key(&self, ycbcr: [f32; 3], _lut: usize) -> f32 {
        if ycbcr[2] > 160.0 { 0.0 } else { 1.0 }
    }
    fn min_filter_radius(&self) -> u32 {
        1
    }
}

#[test]
fn an_occluder_leaves_its_pixels_untouched() {
    let (w, h) = (320, 240);
    let cam = down_camera(w, h);
    let (layout, mut data) = frame_rgba(w, h, GRASS);
    // A red "player" block over the line.
    for y in 100..140 {
        for x in 150..170 {
            let o = rgb_index(&layout, x, y);
            data[o..o + 3].copy_from_slice(&[200, 20, 20]);
        }
    }
    let before = data.clone();
    let line = vertical_line(&cam, w, h, 0.0, 0.4);
    let mut frame = FrameMut::new(&layout, &mut data).unwrap();
    CpuCompositor::new()
        .composite(&mut frame, &[line], &RedIsPlayer)
        .unwrap();
    for y in 99..141 {
        for x in 149..171 {
            let o = rgb_index(&layout, x, y);
            assert_eq!(data[o..o + 3], before[o..o + 3], "pixel ({x},{y}) changed");
        }
    }
    // The line is drawn above and below the player.
    let o = rgb_index(&layout, 160, 60);
    assert_eq!(&data[o..o + 3], &YELLOW);
    let o = rgb_index(&layout, 160, 180);
    assert_eq!(&data[o..o + 3], &YELLOW);
}

fn broadcast_camera(w: u32, h: u32, tilt: f64) -> Camera {
    let k = Intrinsics::from_hfov(w, h, 40f64.to_radians());
    head_camera(
        &Mount {
            position: [0.0, -60.0, 25.0],
            ..Mount::default()
        },
        &HeadAngles {
            pan_deg: 0.0,
            tilt_deg: tilt,
            roll_deg: 0.0,
        },
        k,
        0.0,
    )
}

#[test]
fn invisible_lines_leave_the_frame_untouched() {
    let (w, h) = (640, 360);
    for (cam, yard) in [
        // Looking at the sky.
        (broadcast_camera(w, h, 35.0), 50.0),
        // The goal line far outside a midfield shot.
        (broadcast_camera(w, h, -20.0), 0.0),
    ] {
        let (layout, mut data) = frame_rgba(w, h, GRASS);
        let before = data.clone();
        let line = prepare_line(
            &cam,
            &GroundStrip::football_line(yard, 0.2),
            &Crown::default(),
            w,
            h,
            YELLOW,
            1.0,
        );
        let mut frame = FrameMut::new(&layout, &mut data).unwrap();
        let stats = CpuCompositor::new()
            .composite(&mut frame, &[line], &NoKey)
            .unwrap();
        assert_eq!(stats.tiles, 0);
        assert_eq!(data, before);
    }
    // An edge-on camera (level with the ground) sees the line as a sliver of zero area.
    let k = Intrinsics::from_hfov(w, h, 0.7);
    let edge_on = head_camera(
        &Mount {
            position: [0.0, -60.0, 0.0],
            ..Mount::default()
        },
        &HeadAngles::default(),
        k,
        0.0,
    );
    let (layout, mut data) = frame_rgba(w, h, GRASS);
    let before = data.clone();
    let line = prepare_line(
        &edge_on,
        &GroundStrip::football_line(50.0, 0.2),
        &Crown::default(),
        w,
        h,
        YELLOW,
        1.0,
    );
    let mut frame = FrameMut::new(&layout, &mut data).unwrap();
    CpuCompositor::new()
        .composite(&mut frame, &[line], &NoKey)
        .unwrap();
    assert_eq!(data, before);
}

/// Fills a frame of any format from an RGB picture function.
fn make_frame(
    format: PixelFormat,
    w: u32,
    h: u32,
    pic: impl Fn(u32, u32) -> [u8; 3],
) -> (FrameLayout, Vec<u8>) {
    fill_frame(FrameLayout::packed(format, w, h).unwrap(), pic)
}

/// Fills a frame of `layout` from an RGB picture function (bytes outside the planes: 7).
fn fill_frame(layout: FrameLayout, pic: impl Fn(u32, u32) -> [u8; 3]) -> (FrameLayout, Vec<u8>) {
    let (format, w, h) = (layout.format, layout.width, layout.height);
    let mut data = vec![7u8; layout.size];
    for y in 0..h {
        for x in 0..w {
            let rgb = pic(x, y);
            if let Some(o) = format.rgb_offsets() {
                let i = rgb_index(&layout, x, y);
                for c in 0..3 {
                    data[i + o[c]] = rgb[c];
                }
                data[i + 3] = 255;
            } else {
                // 10-bit formats take the colour at their own precision.
                let scale = if format.bit_depth() == 10 { 4.0 } else { 1.0 };
                let ycc = rgb_to_ycbcr709(f32::from(rgb[0]), f32::from(rgb[1]), f32::from(rgb[2]))
                    .map(|v| (v * scale).round() as u16);
                let samples = yuv_samples(&layout, x, y).unwrap();
                for (s, v) in samples.into_iter().zip(ycc) {
                    write_sample(format.sample_storage(), &mut data, s, v);
                }
            }
        }
    }
    (layout, data)
}

#[test]
fn every_format_draws_the_same_line() {
    let (w, h) = (256, 192);
    let cam = broadcast_camera(w, h, -20.0);
    let strip = GroundStrip::football_line(50.0, 0.4);
    let line = prepare_line(&cam, &strip, &Crown::default(), w, h, YELLOW, 0.8);
    // Smooth picture so chroma subsampling does not matter away from the line.
    let pic = |_x: u32, y: u32| [30, 110 + (y / 16) as u8, 45];
    let (rl, mut rd) = make_frame(PixelFormat::Rgba, w, h, pic);
    let mut f = FrameMut::new(&rl, &mut rd).unwrap();
    CpuCompositor::new()
        .composite(&mut f, std::slice::from_ref(&line), &NoKey)
        .unwrap();
    let reference = FrameRef::new(&rl, &rd).unwrap();
    for format in PixelFormat::ALL {
        let (layout, mut data) = make_frame(format, w, h, pic);
        let mut f = FrameMut::new(&layout, &mut data).unwrap();
        CpuCompositor::new()
            .composite(&mut f, std::slice::from_ref(&line), &NoKey)
            .unwrap();
        let out = FrameRef::new(&layout, &data).unwrap();
        let mut changed = 0;
        for y in 0..h {
            for x in 0..w {
                let a = reference.ycbcr(x, y);
                let b = out.ycbcr(x, y);
                // Luma matches per pixel (rounding through YCbCr allowed).
                assert!(
                    (i32::from(a[0]) - i32::from(b[0])).abs() <= 2,
                    "{format} luma at ({x},{y}): {a:?} vs {b:?}"
                );
                if reference.rgb(x, y) != pic(x, y) {
                    changed += 1;
                }
            }
        }
        assert!(changed > 100, "{format}: the line was not drawn");
    }
}

#[test]
fn yuv_layouts_blend_alike_on_a_crew() {
    // Odd size: the last chroma row and column cover one pixel. Two lines over a picture with
    // detail in every plane, so a byte written in the wrong place shows.
    let (w, h) = (301, 233);
    let cam = broadcast_camera(w, h, -20.0);
    let lines: Vec<PreparedLine> = [(45.0, YELLOW), (55.0, [20, 60, 230])]
        .into_iter()
        .map(|(x, rgb)| {
            let strip = GroundStrip::football_line(x, 0.4);
            prepare_line(&cam, &strip, &Crown::default(), w, h, rgb, 0.8)
        })
        .collect();
    let pic = |x: u32, y: u32| [30 + (x % 7) as u8 * 9, 110 + (y % 5) as u8 * 11, 45];
    let (cw, ch) = (w.div_ceil(2) as usize, h.div_ceil(2) as usize);
    let (wu, hu) = (w as usize, h as usize);
    // (format, plane offsets, strides, buffer size): padded rows, planes in reverse order, and
    // (the last) U and V halves of the same rows, which no row band can split.
    let layouts = [
        (
            PixelFormat::I420,
            vec![0, wu * hu, wu * hu + cw * ch],
            vec![wu, cw, cw],
            0,
        ),
        (
            PixelFormat::I420,
            vec![2 * 400 * ch + 64, 400 * ch, 0],
            vec![320, 400, 400],
            2 * 400 * ch + 64 + 320 * hu,
        ),
        (
            PixelFormat::Nv12,
            vec![cw * 2 * ch + 16, 0],
            vec![wu + 3, cw * 2],
            0,
        ),
        (PixelFormat::Uyvy, vec![8], vec![cw * 4 + 12], 0),
        (
            PixelFormat::I420,
            vec![0, wu * hu, wu * hu + cw],
            vec![wu, 2 * cw, 2 * cw],
            0,
        ),
        // 10-bit: padded P010 planes in reverse order, 4:2:2 planes in reverse order, v210
        // with an offset and row padding, I420_10LE's U and V halves of the same rows.
        (
            PixelFormat::P010,
            vec![cw * 4 * ch + 32, 0],
            vec![2 * wu + 6, cw * 4],
            0,
        ),
        (
            PixelFormat::I422_10,
            vec![4 * cw * hu, 2 * cw * hu, 0],
            vec![2 * wu, 2 * cw, 2 * cw],
            0,
        ),
        (
            PixelFormat::V210,
            vec![16],
            vec![w.div_ceil(48) as usize * 128 + 128],
            0,
        ),
        (
            PixelFormat::I420_10,
            vec![0, 2 * wu * hu, 2 * wu * hu + 2 * cw],
            vec![2 * wu, 4 * cw, 4 * cw],
            0,
        ),
    ];
    for (format, offsets, strides, size) in layouts {
        let (packed, mut want) = make_frame(format, w, h, pic);
        let mut f = FrameMut::new(&packed, &mut want).unwrap();
        CpuCompositor::with_crew(Crew::new(1))
            .composite(&mut f, &lines, &NoKey)
            .unwrap();
        let want = FrameRef::new(&packed, &want).unwrap();
        let chroma_rows = if format.chroma_step().1 == 1 { hu } else { ch };
        let rows = [hu, chroma_rows, chroma_rows];
        let size = (0..offsets.len())
            .map(|p| offsets[p] + strides[p] * rows[p])
            .max()
            .unwrap()
            .max(size);
        let layout = FrameLayout::with_planes(format, w, h, &offsets, &strides, size).unwrap();
        let (layout, mut data) = fill_frame(layout, pic);
        let untouched = data.clone();
        let mut f = FrameMut::new(&layout, &mut data).unwrap();
        CpuCompositor::with_crew(Crew::new(3))
            .composite(&mut f, &lines, &NoKey)
            .unwrap();
        let got = FrameRef::new(&layout, &data).unwrap();
        let mut changed = 0;
        for y in 0..h {
            for x in 0..w {
                assert_eq!(
                    got.ycbcr(x, y),
                    want.ycbcr(x, y),
                    "{format} {offsets:?} {strides:?} at ({x},{y})"
                );
                changed += usize::from(
                    got.ycbcr(x, y) != FrameRef::new(&layout, &untouched).unwrap().ycbcr(x, y),
                );
            }
        }
        assert!(
            changed > 500,
            "{format} {offsets:?}: {changed} pixels drawn"
        );
        // Nothing outside the planes was written.
        let mut inside = vec![false; data.len()];
        for y in 0..h {
            for x in 0..w {
                let bytes = match format.sample_storage() {
                    SampleStorage::U8 => 1,
                    SampleStorage::U16 => 2,
                    SampleStorage::U32 => 4,
                };
                for s in yuv_samples(&layout, x, y).unwrap() {
                    inside[s.byte..s.byte + bytes].fill(true);
                }
            }
        }
        for (i, (&a, &b)) in data.iter().zip(&untouched).enumerate() {
            assert!(
                inside[i] || a == b,
                "{format} {offsets:?}: byte {i} outside the planes written"
            );
        }
    }
}

/// The 10-bit YUV formats.
const TEN_BIT: [PixelFormat; 4] = [
    PixelFormat::V210,
    PixelFormat::P010,
    PixelFormat::I420_10,
    PixelFormat::I422_10,
];

#[test]
fn ten_bit_frames_blend_at_their_own_precision() {
    // Inside an opaque strip's interior, alpha is the opacity: each code becomes
    // round(v + (c - v) * a) at 10 bits, with no step through 8 bits. The picture's codes are
    // not multiples of 4, so an 8-bit round trip would show.
    let (w, h) = (64, 48);
    let cam = down_camera(w, h);
    let opacity = 0.8_f32;
    let line = PreparedLine {
        opacity,
        // 0.4 m at 20 px/m: 8 px wide, centred between columns 31 and 32.
        ..vertical_line(&cam, w, h, 0.0, 0.4)
    };
    let colour = rgb_to_ycbcr709(255.0, 215.0, 0.0).map(|v| v * 4.0);
    let mix = |v: u16, c: f32| {
        let v = f32::from(v);
        ((v + (c - v) * opacity).clamp(0.0, 1023.0) + 0.5) as u16
    };
    for format in TEN_BIT {
        let layout = FrameLayout::packed(format, w, h).unwrap();
        let storage = format.sample_storage();
        let mut data = vec![0_u8; layout.size];
        // Luma per pixel, chroma per site (written by every pixel of the site alike).
        let code = |x: u32, y: u32| {
            let (sx, sy) = format.chroma_step();
            let (cx, cy) = (x / sx, y / sy);
            [
                (301 + 7 * x + 3 * y) as u16,
                (509 + cx % 5 + 2 * cy) as u16,
                (493 + 3 * (cx % 4) + cy) as u16,
            ]
        };
        for y in 0..h {
            for x in 0..w {
                let samples = yuv_samples(&layout, x, y).unwrap();
                for (s, v) in samples.into_iter().zip(code(x, y)) {
                    write_sample(storage, &mut data, s, v);
                }
            }
        }
        let mut f = FrameMut::new(&layout, &mut data).unwrap();
        CpuCompositor::new()
            .composite(&mut f, std::slice::from_ref(&line), &NoKey)
            .unwrap();
        let out = FrameRef::new(&layout, &data).unwrap();
        let mut off_grid = 0;
        // Columns 28..=35 are covered; 29..=34 (whole chroma sites 30..=33 for the chroma)
        // lie fully inside.
        for y in 0..h {
            for x in 29..=34 {
                let [vy, vcb, vcr] = code(x, y);
                let got = out.codes(x, y).unwrap();
                assert_eq!(got[0], mix(vy, colour[0]), "{format} luma ({x},{y})");
                if (30..=33).contains(&x) {
                    assert_eq!(got[1], mix(vcb, colour[1]), "{format} Cb ({x},{y})");
                    assert_eq!(got[2], mix(vcr, colour[2]), "{format} Cr ({x},{y})");
                }
                off_grid += got.iter().filter(|&&c| c % 4 != 0).count();
            }
            // Pixels away from the strip are untouched.
            for x in [0, 10, 20, 40, 50, 63] {
                assert_eq!(out.codes(x, y).unwrap(), code(x, y), "{format} ({x},{y})");
            }
        }
        assert!(off_grid > 100, "{format}: codes rounded to 8 bits");
    }
}
