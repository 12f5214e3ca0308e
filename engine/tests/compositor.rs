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
    FrameLayout, FrameMut, FrameRef, PixelFormat, rgb_index, rgb_to_ycbcr709, yuv_indices,
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
                let ycc = rgb_to_ycbcr709(f32::from(rgb[0]), f32::from(rgb[1]), f32::from(rgb[2]))
                    .map(|v| v.round() as u8);
                let [iy, icb, icr] = yuv_indices(&layout, x, y).unwrap();
                data[iy] = ycc[0];
                data[icb] = ycc[1];
                data[icr] = ycc[2];
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
    ];
    for (format, offsets, strides, size) in layouts {
        let (packed, mut want) = make_frame(format, w, h, pic);
        let mut f = FrameMut::new(&packed, &mut want).unwrap();
        CpuCompositor::with_crew(Crew::new(1))
            .composite(&mut f, &lines, &NoKey)
            .unwrap();
        let want = FrameRef::new(&packed, &want).unwrap();
        let rows = [hu, ch, ch];
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
                for i in yuv_indices(&layout, x, y).unwrap() {
                    inside[i] = true;
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
