//! The field-space clean plate on real rendered frames: generated samples drawn by the engine
//! (CPU compositor, the automatic key, sensor tracking so only the key varies) with the plate
//! on and off, scored by the samples' scorer against the exact truth.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use yardline_engine::tracking::TrackingSample;
use yardline_engine::tracking::freed::decode_checked;
use yardline_engine::venue::Venue;
use yardline_engine::{BackendChoice, Engine, EngineConfig};
use yardline_frame::{FrameLayout, FrameMut, PixelFormat};
use yardline_keying::Exclusion;
use yardline_samples::{EvalReport, Sample, SampleConfig, Scenario, Scorer};

/// A rendered sample: its frames as the engine drew them and the truth to score them with.
struct Drawn {
    report: EvalReport,
    /// Per frame: the input and output RGB and the mask.
    frames: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)>,
    /// Per frame: the compositor that drew it.
    backends: Vec<&'static str>,
}

/// Draws `frames` frames of `scenario` (seed, size) with the plate on or off.
fn draw(scenario: Scenario, seed: u64, size: (u32, u32), frames: u32, plate: bool) -> Drawn {
    draw_excluding(scenario, seed, size, frames, plate, Vec::new())
}

/// [`draw`] with image-space exclusions.
fn draw_excluding(
    scenario: Scenario,
    seed: u64,
    size: (u32, u32),
    frames: u32,
    plate: bool,
    exclusions: Vec<Exclusion>,
) -> Drawn {
    draw_with(
        BackendChoice::Cpu,
        scenario,
        seed,
        size,
        frames,
        plate,
        exclusions,
    )
}

/// [`draw_excluding`] on `backend`.
fn draw_with(
    backend: BackendChoice,
    scenario: Scenario,
    seed: u64,
    (w, h): (u32, u32),
    frames: u32,
    plate: bool,
    exclusions: Vec<Exclusion>,
) -> Drawn {
    let cfg = SampleConfig {
        seed,
        frames,
        width: w,
        height: h,
        scenario,
        ..SampleConfig::default()
    };
    let (period, delay) = (cfg.pts_ns(1), cfg.tracking_delay_ns());
    let sample = Sample::new(cfg).unwrap();
    let dir = tempfile::tempdir().unwrap();
    sample.write_metadata(dir.path()).unwrap();
    let venue = Venue::load(&dir.path().join("venue.toml")).unwrap();
    let scene = sample.scene();
    let mut config = EngineConfig {
        backend,
        clean_plate: plate,
        ..EngineConfig::default()
    };
    config.set_lines(
        scene.first_down_yard,
        scene.scrimmage_yard,
        scene.line_width_m,
    );
    config.first_down.fade_ms = 0.0;
    let mut engine = Engine::new(config, Some(&venue), None).unwrap();
    engine.set_exclusions(exclusions).unwrap();
    let layout = FrameLayout::packed(PixelFormat::Rgbx, w, h).unwrap();
    let mut scorer = Scorer::new(&scene).unwrap();
    let mut out = Vec::new();
    let mut backends = Vec::new();
    for i in 0..frames {
        // Each packet arrives its delay after its frame; the frame looks that far ahead.
        for m in [i, i + 1, i + 2].into_iter().filter(|&m| m < frames) {
            if m != i + 2 && i != 0 {
                continue;
            }
            if let Some(p) = sample.freed_packet(m).unwrap() {
                engine.push_tracking(&TrackingSample {
                    pts_ns: i64::from(m) * period + delay,
                    packet: decode_checked(&p.encode()).unwrap().into(),
                });
            }
        }
        let rendered = sample.render_frame(i).unwrap();
        let mut data: Vec<u8> = rendered
            .rgb
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect();
        let mut frame = FrameMut::new(&layout, &mut data).unwrap();
        let report = engine.process(&mut frame, i64::from(i) * period);
        assert!(report.fault.is_none(), "frame {i}: {:?}", report.fault);
        backends.push(report.backend);
        let rgb: Vec<u8> = data
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        let truth = sample.truth(i).unwrap();
        scorer
            .add_frame(&rendered.rgb, &rgb, &rendered.mask, &truth, None)
            .unwrap();
        out.push((rendered.rgb, rgb, rendered.mask));
    }
    Drawn {
        report: scorer.finish(),
        frames: out,
        backends,
    }
}

/// The camouflage scenario: shaded grass along the line and kits in the grass's colours. The
/// paint palette's split luma/chroma mixtures now key the shade the colour key used to cut
/// (miss 0.187 when this was first measured, 0.048 now), so the plate has little left to add
/// there; it must keep the line on the shade and take leak off. Measured (40 frames): colour
/// key alone miss 0.0484 leak 0.0171 `IoU` 0.9358, with the plate miss 0.0484 leak 0.0168 `IoU`
/// 0.9361 (at 1280x720 and 1920x1080 the plate takes off far more: a kit in the grass's colour
/// over a painted line hides the grass beside the paint, and is no blend of the paint with it).
#[test]
fn the_plate_keeps_the_line_on_shade_and_off_camouflaged_kits() {
    let size = (960, 540);
    let off = draw(Scenario::Camouflage, 14, size, 40, false).report;
    let on = draw(Scenario::Camouflage, 14, size, 40, true).report;
    eprintln!(
        "camouflage seed 14 960x540: colour key alone miss {:.4} leak {:.4} IoU {:.4}; \
         with the plate miss {:.4} leak {:.4} IoU {:.4}",
        off.miss, off.leak, off.iou, on.miss, on.leak, on.iou
    );
    assert!(
        on.miss < 0.06 && on.miss <= off.miss + 0.004,
        "miss {} with the plate, {} without",
        on.miss,
        off.miss
    );
    assert!(
        on.iou >= 0.93 && on.iou >= off.iou - 0.002,
        "IoU {} with, {} without",
        on.iou,
        off.iou
    );
    assert!(
        on.leak < off.leak - 0.0002,
        "leak {} with, {} without",
        on.leak,
        off.leak
    );
}

/// Frame-to-frame change of the line's alpha on field pixels under a locked-off camera: per
/// pixel of the field (mask 0) painted in either of two consecutive frames, the alpha of each
/// frame estimated from the output's change toward the line colour. Returns (mean |delta
/// alpha|, share of those pixels whose alpha changes by more than 0.1).
fn flicker(frames: &[(Vec<u8>, Vec<u8>, Vec<u8>)], colour: [u8; 3]) -> (f64, f64) {
    let alpha = |input: &[u8], output: &[u8], i: usize| -> f32 {
        // The channel where the line colour differs most from the input.
        let (c, d) = (0..3)
            .map(|c| (c, f32::from(colour[c]) - f32::from(input[3 * i + c])))
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .unwrap();
        if d.abs() < 16.0 {
            return 0.0;
        }
        ((f32::from(output[3 * i + c]) - f32::from(input[3 * i + c])) / d).clamp(0.0, 1.0)
    };
    let (mut sum, mut big, mut n) = (0.0_f64, 0_u64, 0_u64);
    for pair in frames.windows(2) {
        let ((i0, o0, m0), (i1, o1, m1)) = (&pair[0], &pair[1]);
        for p in 0..m0.len() {
            if m0[p] != 0 || m1[p] != 0 {
                continue;
            }
            let (a0, a1) = (alpha(i0, o0, p), alpha(i1, o1, p));
            if a0 <= 0.0 && a1 <= 0.0 {
                continue;
            }
            let d = f64::from((a1 - a0).abs());
            sum += d;
            big += u64::from(d > 0.1);
            n += 1;
        }
    }
    assert!(n > 0, "no field pixel painted");
    (sum / n as f64, big as f64 / n as f64)
}

/// Temporal stability (issue 26, item 5): under a static camera the plate does not make the
/// key flicker on the field; both figures are reported.
#[test]
fn the_plate_keeps_the_key_steady_on_static_grass() {
    let size = (960, 540);
    let colour = EngineConfig::default().first_down.rgb;
    let off = draw(Scenario::Static, 21, size, 30, false);
    let on = draw(Scenario::Static, 21, size, 30, true);
    let (off_mean, off_big) = flicker(&off.frames, colour);
    let (on_mean, on_big) = flicker(&on.frames, colour);
    eprintln!(
        "static seed 21 960x540, frame-to-frame |delta alpha| on field pixels: colour key alone \
         mean {off_mean:.5}, share > 0.1 {off_big:.5}; with the plate mean {on_mean:.5}, share \
         > 0.1 {on_big:.5}"
    );
    assert!(
        on_mean <= off_mean + 0.002,
        "{on_mean} with, {off_mean} without"
    );
    assert!(
        on_big <= off_big + 0.002,
        "{on_big} with, {off_big} without"
    );
    assert!(
        on.report.iou >= off.report.iou - 0.002,
        "IoU {} with, {} without",
        on.report.iou,
        off.report.iou
    );
}

/// On `stadium` the first-down line lies on a yard line painted in the purple kit's colour and
/// across a purple and gold logo round a white emblem: the colour key cuts the line out of all
/// of it. With the burned-in score bug excluded, the plate learns the paint along the line (the
/// logo one region across its emblem, the yard line one region under the bug) and draws it,
/// without drawing on the players.
#[test]
fn the_plate_draws_the_line_over_a_painted_yard_line_and_logo() {
    let size = (960, 540);
    let bug = || vec![Exclusion::rect("score bug", [0.22, 0.845, 0.78, 0.925])];
    let off = draw_excluding(Scenario::Stadium, 12, size, 40, false, bug()).report;
    let on = draw_excluding(Scenario::Stadium, 12, size, 40, true, bug()).report;
    eprintln!(
        "stadium seed 12 960x540, score bug excluded: colour key alone miss {:.4} leak {:.4} \
         IoU {:.4}; with the plate miss {:.4} leak {:.4} IoU {:.4}",
        off.miss, off.leak, off.iou, on.miss, on.leak, on.iou
    );
    assert!(
        on.iou > off.iou + 0.2,
        "IoU {} with, {} without",
        on.iou,
        off.iou
    );
    // The paint's fringe (its colour spread into the grass beside it by the stream's chroma,
    // from its first frame), the logo's ring and emblem between its painted parts, and the
    // line's first frames (a long painted line, a narrow one and a logo wider than a person
    // are field from the start), and the boundaries between two paints a pixel or two wide
    // drawn too. Measured: 0.9392.
    assert!(on.iou > 0.93, "IoU {} with the plate", on.iou);
    assert!(on.leak < 0.005, "leak {} with the plate", on.leak);
}

/// The GPU compositor does not sample the plate: a GPU backend hands the frames keyed with it
/// to the CPU compositor beside it, so the plate draws the same line on every backend (and the
/// report says which compositor drew).
#[test]
fn the_plate_draws_alike_on_every_backend() {
    let draw = |backend| {
        draw_with(
            backend,
            Scenario::Camouflage,
            14,
            (480, 270),
            12,
            true,
            Vec::new(),
        )
    };
    let cpu = draw(BackendChoice::Cpu);
    let gpu = draw(BackendChoice::Gpu);
    assert!(
        cpu.backends
            .iter()
            .chain(&gpu.backends)
            .all(|b| *b == "cpu")
    );
    for (i, (c, g)) in cpu.frames.iter().zip(&gpu.frames).enumerate() {
        assert!(c.1 == g.1, "frame {i} differs between the backends");
    }
    assert!(cpu.report.drawn_share == Some(1.0), "{:?}", cpu.report);
    // Without the plate the GPU compositor draws.
    let plain = draw_with(
        BackendChoice::Gpu,
        Scenario::Camouflage,
        14,
        (480, 270),
        2,
        false,
        Vec::new(),
    );
    assert!(
        plain.backends.iter().all(|b| *b == "gpu"),
        "{:?}",
        plain.backends
    );
}
