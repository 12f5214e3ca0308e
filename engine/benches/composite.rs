//! Compositor benchmarks: a first-down and a scrimmage line over a striped-grass broadcast view
//! with "players" on the lines and a compiled LUT key (3x3 min-filter), at 1920x1080 and
//! 3840x2160, on the CPU compositor and (when an adapter exists, lavapipe included) the GPU
//! compositor. Each iteration restores the clean frame first (a plain copy, outside the timing).
//! Goals: CPU 1080p p99 <= 2 ms, 2160p <= 6 ms; GPU on lavapipe 1080p <= 5 ms.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    reason = "criterion's macros generate undocumented items; a failed unwrap fails the bench"
)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use yardline_engine::graphics::GroundStrip;
use yardline_engine::head::{HeadAngles, Mount, head_camera};
use yardline_engine::key::FieldKey;
use yardline_engine::render::{
    AdapterChoice, Compositor, CpuCompositor, GpuCompositor, PreparedLine, prepare_line,
};
use yardline_engine::{Camera, Crown, Intrinsics};
use yardline_frame::{FrameLayout, FrameMut, PixelFormat, rgb_to_ycbcr709};
use yardline_keying::{KeyConfig, Palette, Sample, SampleKind};

const GRASS: [[u8; 3]; 2] = [[52, 128, 58], [44, 112, 50]];
const JERSEY: [u8; 3] = [190, 30, 35];

fn camera(w: u32, h: u32) -> Camera {
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

/// Striped grass with a few "players" (scaled with the frame).
fn picture(w: u32, h: u32, x: u32, y: u32) -> [u8; 3] {
    let (sx, sy) = (x * 384 / w, y * 216 / h);
    let player = (196..212).contains(&sx) && (80..150).contains(&sy)
        || (256..268).contains(&sx) && (120..190).contains(&sy);
    if player {
        JERSEY
    } else {
        GRASS[((sx / 24 + sy / 40) % 2) as usize]
    }
}

fn key() -> FieldKey {
    // Each colour with +-1 level of jitter per channel (27 samples).
    let ycc = |c: [u8; 3]| {
        (0..27_i32)
            .map(|i| {
                let d = [i % 3 - 1, (i / 3) % 3 - 1, i / 9 - 1];
                let [r, g, b] = [0, 1, 2].map(|k| (i32::from(c[k]) + d[k]) as f32);
                rgb_to_ycbcr709(r, g, b).map(f64::from)
            })
            .collect::<Vec<_>>()
    };
    let mut palette = Palette::new();
    for g in GRASS {
        palette
            .push(Sample::from_pixels(SampleKind::Inclusion, "grass", &ycc(g), 3.5).unwrap())
            .unwrap();
    }
    palette
        .push(Sample::from_pixels(SampleKind::Exclusion, "jersey", &ycc(JERSEY), 3.0).unwrap())
        .unwrap();
    FieldKey::compile(&KeyConfig::new(palette)).unwrap()
}

fn lines(w: u32, h: u32) -> Vec<PreparedLine> {
    let cam = camera(w, h);
    [(47.0, [255, 215, 0], 0.95), (53.5, [30, 90, 255], 0.8)]
        .into_iter()
        .map(|(x, rgb, opacity)| {
            let strip = GroundStrip::football_line(x, 0.25);
            prepare_line(&cam, &strip, &Crown::default(), w, h, rgb, opacity)
        })
        .collect()
}

fn frame(w: u32, h: u32) -> (FrameLayout, Vec<u8>) {
    let layout = FrameLayout::packed(PixelFormat::Rgbx, w, h).unwrap();
    let mut data = vec![255_u8; layout.size];
    for (i, px) in data.chunks_exact_mut(4).enumerate() {
        let (x, y) = (i as u32 % w, i as u32 / w);
        px[..3].copy_from_slice(&picture(w, h, x, y));
    }
    (layout, data)
}

fn bench(c: &mut Criterion) {
    let key = key();
    let mut gpu = GpuCompositor::new(AdapterChoice::Any).ok();
    for (w, h) in [(1920_u32, 1080_u32), (3840, 2160)] {
        let (layout, clean) = frame(w, h);
        let lines = lines(w, h);
        let mut group = c.benchmark_group(format!("composite/{w}x{h}"));
        group.sample_size(50);
        let mut cpu = CpuCompositor::new();
        let mut backends: Vec<(&str, &mut dyn Compositor)> = vec![("cpu", &mut cpu)];
        if let Some(g) = gpu.as_mut() {
            backends.push(("gpu", g));
        }
        for (name, compositor) in backends {
            group.bench_function(name, |b| {
                b.iter_batched_ref(
                    || clean.clone(),
                    |data| {
                        let mut f = FrameMut::new(&layout, data).unwrap();
                        black_box(compositor.composite(&mut f, &lines, &key).unwrap())
                    },
                    BatchSize::LargeInput,
                );
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
