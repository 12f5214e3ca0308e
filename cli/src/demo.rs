//! `yardline demo`: the built-in broadcast camera looking at an NFL field, the painted field
//! lines as a wireframe and the first-down line drawn as a filled strip, written as a PNG.

use std::path::Path;

use anyhow::{Context, Result};
use image::{Rgb, RgbImage};
use nalgebra::Point3;
use yardline_engine::field::{FieldKind, FieldModel};
use yardline_engine::graphics::{GroundStrip, TessellationOptions, tessellate};
use yardline_engine::head::{HeadAngles, Mount, head_camera};
use yardline_engine::{Camera, Intrinsics};

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 720;
const FIRST_DOWN_YARD: f64 = 35.0;
const GRASS: Rgb<u8> = Rgb([46, 112, 52]);
const PAINT: Rgb<u8> = Rgb([235, 235, 235]);
const YELLOW: Rgb<u8> = Rgb([255, 215, 0]);

/// The built-in broadcast camera: high on the near side at midfield, panned toward the
/// first-down line.
pub fn builtin_camera() -> Camera {
    let mut k = Intrinsics::from_hfov(WIDTH, HEIGHT, 45f64.to_radians());
    k.k1 = -0.04;
    let mount = Mount {
        position: [0.0, -62.0, 24.0],
        ..Mount::default()
    };
    let angles = HeadAngles {
        pan_deg: -12.0,
        tilt_deg: -19.0,
        roll_deg: 0.0,
    };
    head_camera(&mount, &angles, k, 0.0)
}

pub fn run(output: &Path) -> Result<()> {
    let cam = builtin_camera();
    let field = FieldModel::new(FieldKind::Nfl);
    let mut img = RgbImage::from_pixel(WIDTH, HEIGHT, GRASS);
    for line in &field.lines {
        let pts: Vec<_> = line
            .shape
            .sample(0.5)
            .into_iter()
            .filter_map(|p| cam.project(&Point3::new(p.x, p.y, 0.0)))
            .collect();
        for w in pts.windows(2) {
            draw_segment(&mut img, [w[0].x, w[0].y], [w[1].x, w[1].y], PAINT);
        }
    }
    let strip = GroundStrip::football_line(FIRST_DOWN_YARD, 0.2);
    let mesh = tessellate(
        &cam,
        &strip,
        &field.crown,
        &TessellationOptions::new(WIDTH, HEIGHT),
    );
    let mut filled = 0usize;
    for run in &mesh.runs {
        for tri in run.triangles() {
            let p = tri.map(|i| [run.vertices[i].pixel.x, run.vertices[i].pixel.y]);
            filled += fill_triangle(&mut img, p, YELLOW);
        }
    }
    img.save(output)
        .with_context(|| format!("cannot write {}", output.display()))?;
    println!(
        "demo: projected the first-down line at the own {FIRST_DOWN_YARD} for the built-in \
         {WIDTH}x{HEIGHT} broadcast camera ({} mesh runs, {filled} pixels filled) and wrote {}",
        mesh.runs.len(),
        output.display()
    );
    Ok(())
}

fn draw_segment(img: &mut RgbImage, a: [f64; 2], b: [f64; 2], c: Rgb<u8>) {
    let n = ((b[0] - a[0]).abs().max((b[1] - a[1]).abs()).ceil() as usize).clamp(1, 10_000);
    for i in 0..=n {
        let t = i as f64 / n as f64;
        let (x, y) = (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t);
        put(img, x.round(), y.round(), c);
    }
}

fn put(img: &mut RgbImage, x: f64, y: f64, c: Rgb<u8>) -> bool {
    if x >= 0.0 && y >= 0.0 && x < f64::from(img.width()) && y < f64::from(img.height()) {
        img.put_pixel(x as u32, y as u32, c);
        return true;
    }
    false
}

fn fill_triangle(img: &mut RgbImage, p: [[f64; 2]; 3], c: Rgb<u8>) -> usize {
    let min_y = p.iter().map(|q| q[1]).fold(f64::INFINITY, f64::min).ceil().max(0.0);
    let max_y = p
        .iter()
        .map(|q| q[1])
        .fold(f64::NEG_INFINITY, f64::max)
        .floor()
        .min(f64::from(img.height()) - 1.0);
    let min_x = p.iter().map(|q| q[0]).fold(f64::INFINITY, f64::min).ceil().max(0.0);
    let max_x = p
        .iter()
        .map(|q| q[0])
        .fold(f64::NEG_INFINITY, f64::max)
        .floor()
        .min(f64::from(img.width()) - 1.0);
    let edge = |a: [f64; 2], b: [f64; 2], x: f64, y: f64| {
        (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0])
    };
    let area = edge(p[0], p[1], p[2][0], p[2][1]);
    if area.abs() < 1e-12 {
        return 0;
    }
    let mut n = 0;
    let mut y = min_y;
    while y <= max_y {
        let mut x = min_x;
        while x <= max_x {
            let w = [
                edge(p[1], p[2], x, y) / area,
                edge(p[2], p[0], x, y) / area,
                edge(p[0], p[1], x, y) / area,
            ];
            if w.iter().all(|&v| v >= 0.0) && put(img, x, y, c) {
                n += 1;
            }
            x += 1.0;
        }
        y += 1.0;
    }
    n
}
