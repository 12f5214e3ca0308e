//! The paint palette: a line on a painted yard line covers the paint (its anti-aliased edges
//! included), the palette applies only on the field model's markings, a kit as white as the
//! paint standing on the marking stays over the line (also where it covers only one side of
//! the marking, and beside the marking in a tight shot, where the palette's margin spans many
//! pixels), and the CPU and GPU compositors agree with regions in play.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use nalgebra::{Matrix3, Point2, Point3, Rotation3};
use yardline_engine::key::{FieldKey, PaintView, auto_key_config};
use yardline_engine::render::crew::Crew;
use yardline_engine::render::{
    AdapterChoice, Compositor, CpuCompositor, GpuCompositor, PixelKey, PreparedLine, prepare_line,
};
use yardline_engine::{Camera, Crown, FieldKind, FieldModel, GroundStrip, Intrinsics};
use yardline_frame::{FrameLayout, FrameMut, FrameRef, PixelFormat, rgb_index};

const W: u32 = 320;
const H: u32 = 240;
const GRASS: [f64; 3] = [52.0, 118.0, 50.0];
const PAINT: [f64; 3] = [222.0, 224.0, 218.0];
const YELLOW: [u8; 3] = [255, 215, 0];
/// Most a channel may differ between the CPU and GPU compositors.
const TOLERANCE: u8 = 2;
/// Supersampling per axis when painting the picture.
const SS: u32 = 4;

/// 50 m above the field centre looking straight down: 20 px per metre, image x = field x, so
/// the 50-yard line (4 in = 2 px) runs down the middle column.
fn camera() -> Camera {
    camera_for(W, H)
}

/// [`camera`] for a `w` x `h` picture.
fn camera_for(w: u32, h: u32) -> Camera {
    camera_zoomed(w, h, 1000.0)
}

/// [`camera_for`] with focal length `f` (pixels): `f / 50` px per metre.
fn camera_zoomed(w: u32, h: u32, f: f64) -> Camera {
    let k = Intrinsics {
        fx: f,
        fy: f,
        cx: f64::from(w) / 2.0 - 0.5,
        cy: f64::from(h) / 2.0 - 0.5,
        k1: 0.0,
        k2: 0.0,
    };
    let c2f = Rotation3::from_matrix(&Matrix3::new(1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, -1.0));
    Camera::from_centre(k, c2f, Point3::new(0.0, 0.0, 50.0))
}

/// Grass with the field model's paint (anti-aliased by supersampling), and, where `kit` holds
/// a field rectangle, a "player" the colour of the paint standing over it.
fn picture(field: &FieldModel, kit: Option<[f64; 4]>) -> (FrameLayout, Vec<u8>) {
    picture_for(field, kit.as_slice(), W, H)
}

/// [`picture`] of `w` x `h` pixels ([`camera_for`]) with a kit over each of `kits`.
fn picture_for(field: &FieldModel, kits: &[[f64; 4]], w: u32, h: u32) -> (FrameLayout, Vec<u8>) {
    picture_seen(field, kits, &camera_for(w, h), w, h)
}

/// [`picture_for`] seen by `cam`.
fn picture_seen(
    field: &FieldModel,
    kits: &[[f64; 4]],
    cam: &Camera,
    w: u32,
    h: u32,
) -> (FrameLayout, Vec<u8>) {
    let rects = field.paint_rects();
    let layout = FrameLayout::packed(PixelFormat::Rgba, w, h).unwrap();
    let mut data = vec![255_u8; layout.size];
    for y in 0..h {
        for x in 0..w {
            let mut sum = [0.0; 3];
            for sy in 0..SS {
                for sx in 0..SS {
                    let px = Point2::new(
                        f64::from(x) - 0.5 + (f64::from(sx) + 0.5) / f64::from(SS),
                        f64::from(y) - 0.5 + (f64::from(sy) + 0.5) / f64::from(SS),
                    );
                    let g = cam.unproject_to_ground(px).unwrap();
                    let inside =
                        |r: &[f64; 4]| g.x >= r[0] && g.x <= r[2] && g.y >= r[1] && g.y <= r[3];
                    let c = if kits.iter().any(inside) || rects.iter().any(inside) {
                        PAINT
                    } else {
                        GRASS
                    };
                    for i in 0..3 {
                        sum[i] += c[i];
                    }
                }
            }
            let o = rgb_index(&layout, x, y);
            for i in 0..3 {
                data[o + i] = (sum[i] / f64::from(SS * SS)).round() as u8;
            }
        }
    }
    (layout, data)
}

/// A 0.2 m line on the 50-yard line (field x = 0), y from -5 to 5 m.
fn line_on_the_50() -> PreparedLine {
    line_on_the_50_for(W, H)
}

/// [`line_on_the_50`] in a `w` x `h` picture.
fn line_on_the_50_for(w: u32, h: u32) -> PreparedLine {
    line_on_the_50_seen(&camera_for(w, h), w, h)
}

/// [`line_on_the_50_for`] seen by `cam`.
fn line_on_the_50_seen(cam: &Camera, w: u32, h: u32) -> PreparedLine {
    let strip = GroundStrip {
        a: Point2::new(0.0, -5.0),
        b: Point2::new(0.0, 5.0),
        width_m: 0.2,
    };
    prepare_line(cam, &strip, &Crown::default(), w, h, YELLOW, 1.0)
}

fn composite(
    c: &mut dyn Compositor,
    key: &dyn PixelKey,
    picture: &(FrameLayout, Vec<u8>),
) -> Vec<u8> {
    let line = line_on_the_50_for(picture.0.width, picture.0.height);
    composite_line(c, key, picture, line)
}

fn composite_line(
    c: &mut dyn Compositor,
    key: &dyn PixelKey,
    picture: &(FrameLayout, Vec<u8>),
    line: PreparedLine,
) -> Vec<u8> {
    let (layout, mut data) = (picture.0.clone(), picture.1.clone());
    let mut frame = FrameMut::new(&layout, &mut data).unwrap();
    c.composite(&mut frame, &[line], key).unwrap();
    data
}

/// Rows `y0..y1` (image) where the drawn line's width (sum of per-pixel change towards yellow,
/// in pixels) is at least `min_px`.
fn drawn_rows(
    clean: &[u8],
    out: &[u8],
    layout: &FrameLayout,
    rows: std::ops::Range<u32>,
    min_px: f64,
) -> usize {
    rows.filter(|&y| {
        let width: f64 = (layout.width / 2 - 10..layout.width / 2 + 10)
            .map(|x| {
                let o = rgb_index(layout, x, y);
                // Blue falls from the background's towards yellow's 0.
                let (c, v) = (f64::from(clean[o + 2]), f64::from(out[o + 2]));
                ((c - v) / c.max(1.0)).clamp(0.0, 1.0)
            })
            .sum();
        width >= min_px
    })
    .count()
}

/// Asserts that no pixel of the kits (one pixel in from their edges, where they blend with the
/// grass) changed from `pic` to `out`.
fn assert_kits_untouched(pic: &(FrameLayout, Vec<u8>), out: &[u8], kits: &[[f64; 4]]) {
    assert_kits_untouched_seen(pic, out, kits, &camera_for(pic.0.width, pic.0.height));
}

/// [`assert_kits_untouched`] in a picture seen by `cam`.
fn assert_kits_untouched_seen(
    pic: &(FrameLayout, Vec<u8>),
    out: &[u8],
    kits: &[[f64; 4]],
    cam: &Camera,
) {
    let (w, h) = (pic.0.width, pic.0.height);
    for y in 0..h {
        for x in 0..w {
            let g = cam
                .unproject_to_ground(Point2::new(f64::from(x), f64::from(y)))
                .unwrap();
            let inside = |k: &[f64; 4]| {
                g.x > k[0] + 0.05 && g.x < k[2] - 0.05 && g.y > k[1] + 0.05 && g.y < k[3] - 0.05
            };
            if kits.iter().any(inside) {
                let o = rgb_index(&pic.0, x, y);
                assert_eq!(
                    out[o..o + 3],
                    pic.1[o..o + 3],
                    "kit pixel ({x},{y}) painted"
                );
            }
        }
    }
}

fn auto_key(field: &FieldModel, picture: &(FrameLayout, Vec<u8>)) -> FieldKey {
    auto_key_seen(
        field,
        picture,
        &camera_for(picture.0.width, picture.0.height),
    )
}

fn auto_key_seen(
    field: &FieldModel,
    picture: &(FrameLayout, Vec<u8>),
    camera: &Camera,
) -> FieldKey {
    let frame = FrameRef::new(&picture.0, &picture.1).unwrap();
    let config = auto_key_config(frame, camera, field).unwrap();
    assert!(config.paint.is_some(), "no paint palette found");
    FieldKey::compile(&config).unwrap()
}

#[test]
fn a_line_on_a_painted_yard_line_covers_the_paint() {
    let field = FieldModel::new(FieldKind::Nfl);
    let pic = picture(&field, None);
    let key = auto_key(&field, &pic);
    // Rows of the line clear of the hash marks' rows (y = +-2.82..3.43 m, rows 51..69 and
    // 171..189).
    let rows = 30..50;
    let placed = key.clone().on_field(&field);
    let out = composite(&mut CpuCompositor::new(), &placed, &pic);
    let full = drawn_rows(&pic.1, &out, &pic.0, rows.clone(), 3.5);
    assert_eq!(full, rows.len(), "the line is not whole over the paint");
    // The same palettes without the paint placed: the paint and its edges are keyed out.
    let out = composite(&mut CpuCompositor::new(), &key, &pic);
    let full = drawn_rows(&pic.1, &out, &pic.0, rows, 3.5);
    assert_eq!(full, 0, "the default palette keyed the paint");
    // Off the paint, the paint palette does not apply: a paint-white patch there is keyed out.
    let field_key = key.on_field(&field);
    assert!(
        field_key.regions().len() > 100,
        "every marking has a region"
    );
    assert!(
        field_key
            .regions()
            .iter()
            .all(|r| !r.contains(0.5, 0.0) && !r.contains(-0.5, 0.0)),
        "paint regions spread off the markings"
    );
}

#[test]
fn a_kit_as_white_as_the_paint_stays_over_the_line() {
    let field = FieldModel::new(FieldKind::Nfl);
    // A "player" 1 m across, from y = 1 to 2 m (image rows 80..100), standing on the line.
    let kit = [-0.5, 1.0, 0.5, 2.0];
    let key = auto_key(&field, &picture(&field, None)).on_field(&field);
    let pic = picture(&field, Some(kit));
    let frame = FrameRef::new(&pic.0, &pic.1).unwrap();
    let mut view = PaintView::new();
    let lines = [line_on_the_50()];
    let frame_key = view.update(&key, frame, &camera(), &field, &lines);
    // Pieces looked at by several threads give the same regions.
    let mut shared = PaintView::with_crew(Crew::new(3));
    let shared_key = shared.update(&key, frame, &camera(), &field, &lines);
    assert_eq!(shared_key.regions(), frame_key.regions());
    let out = composite(&mut CpuCompositor::new(), &frame_key, &pic);
    assert_kits_untouched(&pic, &out, &[kit]);
    // The paint away from the kit is still covered (rows 30..50: y = 3.5..4.5 m; rows
    // 110..150: y = -1.5..0.5 m; 0.2 m from the kit is rejected with it).
    let clean = &pic.1;
    assert_eq!(drawn_rows(clean, &out, &pic.0, 30..50, 3.5), 20);
    assert_eq!(drawn_rows(clean, &out, &pic.0, 110..150, 3.5), 40);
    // Without the view the whole marking keeps the paint palette, and the kit is drawn over.
    let out = composite(&mut CpuCompositor::new(), &key, &pic);
    let o = rgb_index(&pic.0, W / 2, 90);
    assert_ne!(
        out[o..o + 3],
        pic.1[o..o + 3],
        "the kit keyed as field without the view"
    );
}

#[test]
fn a_white_kit_over_one_side_of_the_marking_stays_over_the_line() {
    // A 1080-line picture (a narrow column of it), where pieces are 4 px and a covered piece
    // reaches 20 px (1 m here) along the marking.
    let (w, h) = (160, 1080);
    let field = FieldModel::new(FieldKind::Nfl);
    // A "player" covering the whole marking from y = 1 to 1.5 m, and its arm over the left
    // side and the left half of the marking (+-0.05 m) from 1.5 to 2.3 m: there the marking
    // has the kit on one side and grass on the other, as paint beside a white kit would.
    let kits = [[-0.5, 1.0, 0.5, 1.5], [-0.5, 1.5, 0.01, 2.3]];
    let clean = picture_for(&field, &[], w, h);
    let key = auto_key(&field, &clean).on_field(&field);
    let pic = picture_for(&field, &kits, w, h);
    let frame = FrameRef::new(&pic.0, &pic.1).unwrap();
    let mut view = PaintView::new();
    let lines = [line_on_the_50_for(w, h)];
    let frame_key = view.update(&key, frame, &camera_for(w, h), &field, &lines);
    let out = composite(&mut CpuCompositor::new(), &frame_key, &pic);
    assert_kits_untouched(&pic, &out, &kits);
    // The paint clear of the kit (by more than 1 m) and of the hash marks (|y| = 2.82 to
    // 3.43 m) is still covered: y = 4.8 to 3.6 m and -0.4 to -2.4 m.
    let row = |y_m: f64| (f64::from(h) / 2.0 - 0.5 - 20.0 * y_m).round() as u32;
    assert_eq!(
        drawn_rows(&clean.1, &out, &pic.0, row(4.8)..row(3.6), 3.5),
        24
    );
    assert_eq!(
        drawn_rows(&clean.1, &out, &pic.0, row(-0.4)..row(-2.4), 3.5),
        40
    );
}

#[test]
fn the_paint_beyond_a_white_kit_is_drawn_where_it_is_seen_all_across() {
    // A 1080-line picture (a narrow column of it) at 50 px per metre: the 4-inch paint is 5 px
    // wide, pieces are 4 px (0.08 m) and a covered piece would drop the paint 20 px (0.4 m)
    // along the marking either way.
    let (w, h, f) = (160, 1080, 2500.0);
    let cam = camera_zoomed(w, h, f);
    let field = FieldModel::new(FieldKind::Nfl);
    // A "player" as white as the paint over the whole marking from y = 1 to 1.5 m.
    let kits = [[-0.5, 1.0, 0.5, 1.5]];
    let clean = picture_seen(&field, &[], &cam, w, h);
    let key = auto_key_seen(&field, &clean, &cam).on_field(&field);
    let pic = picture_seen(&field, &kits, &cam, w, h);
    let frame = FrameRef::new(&pic.0, &pic.1).unwrap();
    let mut view = PaintView::new();
    let line = line_on_the_50_seen(&cam, w, h);
    let frame_key = view.update(&key, frame, &cam, &field, std::slice::from_ref(&line));
    let out = composite_line(&mut CpuCompositor::new(), &frame_key, &pic, line);
    assert_kits_untouched_seen(&pic, &out, &kits, &cam);
    // The paint 0.12 to 0.36 m beyond the kit, grass on both its sides and the clean paint's
    // colour all across, is covered: the whole 10 px of the line drawn (rows of y = 1.86 to
    // 1.62 m and 0.88 to 0.64 m).
    let row = |y_m: f64| (f64::from(h) / 2.0 - 0.5 - f / 50.0 * y_m).round() as u32;
    assert_eq!(
        drawn_rows(&clean.1, &out, &pic.0, row(1.86)..row(1.62), 9.0),
        12
    );
    assert_eq!(
        drawn_rows(&clean.1, &out, &pic.0, row(0.88)..row(0.64), 9.0),
        12
    );
}

#[test]
fn a_white_kit_beside_the_paint_in_a_tight_shot_stays_over_the_line() {
    // 500 px per metre: the 4-inch paint is 51 px wide, the paint palette's 0.05 m margin 25 px.
    let (w, h, f) = (400, 400, 25_000.0);
    let cam = camera_zoomed(w, h, f);
    let field = FieldModel::new(FieldKind::Nfl);
    // A "player" as white as the paint beside the marking, 6 px (0.012 m) clear of its right
    // edge (x = 0.0508 m), over rows 50..150 (y = 0.3 to 0.1 m).
    let kit = [0.063, 0.1, 0.3, 0.3];
    let clean = picture_seen(&field, &[], &cam, w, h);
    let key = auto_key_seen(&field, &clean, &cam).on_field(&field);
    let pic = picture_seen(&field, &[kit], &cam, w, h);
    let frame = FrameRef::new(&pic.0, &pic.1).unwrap();
    let mut view = PaintView::new();
    let line = line_on_the_50_seen(&cam, w, h);
    let frame_key = view.update(&key, frame, &cam, &field, std::slice::from_ref(&line));
    let out = composite_line(&mut CpuCompositor::new(), &frame_key, &pic, line);
    // No kit pixel 2 px or more inside its edges is drawn over.
    let inside = |x: u32, y: u32| {
        let g = cam
            .unproject_to_ground(Point2::new(f64::from(x), f64::from(y)))
            .unwrap();
        let m = 2.0 / (f / 50.0);
        g.x > kit[0] + m && g.x < kit[2] - m && g.y > kit[1] + m && g.y < kit[3] - m
    };
    let painted = (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .filter(|&(x, y)| inside(x, y))
        .filter(|&(x, y)| {
            let o = rgb_index(&pic.0, x, y);
            out[o..o + 3] != pic.1[o..o + 3]
        })
        .count();
    assert_eq!(painted, 0, "kit pixels keyed as paint beside the marking");
    // The paint beside the kit is still covered.
    let o = rgb_index(&pic.0, w / 2, 100);
    assert_ne!(
        out[o..o + 3],
        pic.1[o..o + 3],
        "the paint beside the kit is not drawn"
    );
}

#[test]
fn cpu_and_gpu_agree_with_paint_regions() {
    let field = FieldModel::new(FieldKind::Nfl);
    let pic = picture(&field, Some([-0.5, 1.0, 0.5, 2.0]));
    let key = auto_key(&field, &picture(&field, None)).on_field(&field);
    let frame = FrameRef::new(&pic.0, &pic.1).unwrap();
    let mut view = PaintView::new();
    let frame_key = view.update(&key, frame, &camera(), &field, &[line_on_the_50()]);
    let mut gpu = GpuCompositor::new(AdapterChoice::Any)
        .expect("a wgpu adapter (lavapipe is installed by scripts/install-deps.sh)");
    let a = composite(&mut CpuCompositor::new(), &frame_key, &pic);
    let b = composite(&mut gpu, &frame_key, &pic);
    let d = a.iter().zip(&b).map(|(x, y)| x.abs_diff(*y)).max().unwrap();
    assert!(
        d <= TOLERANCE,
        "CPU vs GPU ({}): max difference {d}",
        gpu.describe()
    );
    assert!(
        drawn_rows(&pic.1, &b, &pic.0, 30..50, 3.5) == 20,
        "GPU: line not whole over the paint"
    );
}
