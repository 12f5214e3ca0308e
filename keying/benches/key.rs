//! Keyer benchmarks: full-frame matte at 1920x1080 and 3840x2160, and the line-only pixel set
//! (a diagonal band of about 3 % of a 1080p frame, row by row, as a rasterised strip gives it).
//! Goal (issue 4): line-only 1080p < 0.3 ms on 2 cores.

#![allow(
    missing_docs,
    reason = "criterion's macros generate undocumented items"
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use yardline_frame::PixelFormat;
use yardline_keying::{AutoPaletteOptions, EdgeFilter, KeyConfig, Keyer, auto_palette};

#[path = "../tests/common/mod.rs"]
mod common;

/// Share of a 1080p frame the line covers.
const LINE_SHARE: f64 = 0.03;

/// A diagonal band covering `share` of the frame, row-major.
fn line_band(w: u32, h: u32, share: f64) -> Vec<(u32, u32)> {
    let width = (share * f64::from(w) * f64::from(h) / f64::from(h)).round() as u32;
    let mut coords = Vec::with_capacity((width * h) as usize);
    for y in 0..h {
        let x0 = w / 6 + y * 2 / 3;
        for x in x0..(x0 + width).min(w) {
            coords.push((x, y));
        }
    }
    coords
}

fn keyer_for(frame: &common::OwnedFrame, radius: u32, edge: EdgeFilter) -> Keyer {
    let palette = auto_palette(frame.as_ref(), |_, _| true, &AutoPaletteOptions::default())
        .expect("automatic palette");
    let mut config = KeyConfig::new(palette);
    config.min_filter_radius = radius;
    config.edge_filter = edge;
    Keyer::compile(&config).expect("compile")
}

/// The edge filters benchmarked: name, radius, filter.
const FILTERS: [(&str, u32, EdgeFilter); 3] = [
    ("min3x3", 1, EdgeFilter::Min),
    ("unmix3x3", 1, EdgeFilter::Unmix),
    ("no_filter", 0, EdgeFilter::Min),
];

fn bench(c: &mut Criterion) {
    for (w, h) in [(1920_u32, 1080_u32), (3840, 2160)] {
        let scene = common::football_scene(w, h, 1);
        for format in [PixelFormat::I420, PixelFormat::Bgrx] {
            let frame = common::frame_from_rgb(format, w, h, &scene.rgb, 0);
            let mut group = c.benchmark_group(format!("key_frame/{w}x{h}"));
            group.sample_size(20);
            for (name, radius, edge) in &FILTERS[..2] {
                let keyer = keyer_for(&frame, *radius, *edge);
                group.bench_function(format!("{format}/{name}"), |b| {
                    b.iter(|| black_box(keyer.key_frame(frame.as_ref()).expect("key")));
                });
            }
            group.finish();
        }
    }
    let (w, h) = (1920, 1080);
    let scene = common::football_scene(w, h, 1);
    let coords = line_band(w, h, LINE_SHARE);
    let mut out = vec![0.0_f32; coords.len()];
    let mut group = c.benchmark_group(format!("line_pixels/{w}x{h}/{}px", coords.len()));
    for format in [
        PixelFormat::I420,
        PixelFormat::Nv12,
        PixelFormat::Uyvy,
        PixelFormat::Bgrx,
    ] {
        let frame = common::frame_from_rgb(format, w, h, &scene.rgb, 0);
        for (name, radius, edge) in FILTERS {
            let keyer = keyer_for(&frame, radius, edge);
            group.bench_function(format!("{format}/{name}"), |b| {
                b.iter(|| {
                    keyer
                        .key_pixels(frame.as_ref(), black_box(&coords), &mut out)
                        .expect("key");
                    black_box(&out);
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
