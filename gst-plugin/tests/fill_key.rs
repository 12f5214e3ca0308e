//! `output=fill-key` on real pipelines: the fill-and-key frame holds the very alpha the
//! program blend uses (the program recomputed from it, pixel by pixel), nothing outside the
//! line, and impossible caps are refused at negotiation with a message.

#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap is a failed test; codes are small"
)]

mod common;

use common::{TestSample, buffer, bytes, init};
use gst::prelude::*;
use gst_check::Harness;
use yardline_frame::{Colorimetry, FrameLayout, FrameRef, PixelFormat, YuvMatrix, YuvRange};

/// Pushes every frame of `s` through `line` (a `gst-launch` description) and returns the
/// outputs with their caps.
fn run(s: &TestSample, line: &str) -> (Vec<Vec<u8>>, gst_video::VideoInfo) {
    let mut h = Harness::new_parse(line);
    h.set_src_caps_str(&s.caps("RGBA"));
    let out = s
        .rgba_frames()
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            h.push(buffer(f, s.pts(i), s.period_ns())).unwrap();
            bytes(&h.pull().unwrap())
        })
        .collect();
    let caps = h.sinkpad().unwrap().current_caps().unwrap();
    (out, gst_video::VideoInfo::from_caps(&caps).unwrap())
}

/// The element as the CLI renders the sample, with `extra` properties.
fn element(s: &TestSample, extra: &str) -> String {
    let scene = s.scene();
    format!(
        "yardline venue=\"{}\" tracking=\"{}\" first-down={} scrimmage={} line-width={} \
         backend=cpu budget=-1 {extra}",
        s.venue_path().display(),
        s.tracking_uri(),
        scene.first_down_yard,
        scene.scrimmage_yard,
        scene.line_width_m,
    )
}

/// The engine's layout of a frame of `info`.
fn layout(info: &gst_video::VideoInfo) -> FrameLayout {
    let format: PixelFormat = info.format().to_str().parse().unwrap();
    let n = format.plane_count();
    let offsets: Vec<usize> = info.offset()[..n].to_vec();
    let strides: Vec<usize> = info.stride()[..n].iter().map(|&s| s as usize).collect();
    let c = info.colorimetry();
    let colorimetry = Colorimetry {
        matrix: match c.matrix() {
            gst_video::VideoColorMatrix::Bt2020 => YuvMatrix::Bt2020,
            gst_video::VideoColorMatrix::Bt601 => YuvMatrix::Bt601,
            _ => YuvMatrix::Bt709,
        },
        range: if c.range() == gst_video::VideoColorRange::Range0_255 {
            YuvRange::Full
        } else {
            YuvRange::Limited
        },
    };
    FrameLayout::with_planes(
        format,
        info.width(),
        info.height(),
        &offsets,
        &strides,
        info.size(),
    )
    .unwrap()
    .with_colorimetry(colorimetry)
}

/// One fill-and-key pixel: fill (R, G, B 0..=255, or Y, Cb, Cr 10-bit codes) and alpha 0..=1.
fn fill_key_pixel(info: &gst_video::VideoInfo, data: &[u8], x: u32, y: u32) -> ([f32; 3], f32) {
    let stride = info.stride()[0] as usize;
    match info.format() {
        gst_video::VideoFormat::Bgra => {
            let p = &data[y as usize * stride + x as usize * 4..][..4];
            ([p[2], p[1], p[0]].map(f32::from), f32::from(p[3]) / 255.0)
        }
        gst_video::VideoFormat::Argb => {
            let p = &data[y as usize * stride + x as usize * 4..][..4];
            ([p[1], p[2], p[3]].map(f32::from), f32::from(p[0]) / 255.0)
        }
        gst_video::VideoFormat::Ayuv64 => {
            let p = &data[y as usize * stride + x as usize * 8..][..8];
            let w = |i: usize| f32::from(u16::from_le_bytes([p[2 * i], p[2 * i + 1]]));
            let code = |i: usize| w(i) * 1023.0 / 65535.0;
            ([code(1), code(2), code(3)], w(0) / 65535.0)
        }
        other => panic!("not a fill-and-key format: {other:?}"),
    }
}

/// Checks one format: the program equals `in + (fill - in) * alpha` recomputed from the
/// fill-and-key output within `tolerance` codes on every pixel (chroma of subsampled formats
/// as the mean over its site, as the program blends it), and alpha is exactly 0 wherever the
/// program left the picture alone more than 3 pixels away from any change. Returns the pixels
/// with a key.
fn check(s: &TestSample, input: &str, fill: &str, tolerance: f32) -> usize {
    let convert = format!("videoconvert ! capsfilter caps=\"{input}\"");
    let (clean, in_info) = run(s, &format!("{convert} ! identity"));
    let (program, _) = run(s, &format!("{convert} ! {}", element(s, "")));
    let (fk, fk_info) = run(
        s,
        &format!(
            "{convert} ! {} ! capsfilter caps=video/x-raw,format={fill}",
            element(s, "output=fill-key")
        ),
    );
    assert_eq!(
        fk_info.format().to_str(),
        fill,
        "negotiated fill-and-key format"
    );
    assert_eq!((fk_info.width(), fk_info.height()), s.size());
    let layout = layout(&in_info);
    let (w, h) = s.size();
    let bits = layout.format.bit_depth();
    let (sx, sy) = layout.format.chroma_step();
    let mut keyed = 0;
    for ((c, p), k) in clean.iter().zip(&program).zip(&fk) {
        let c = FrameRef::new(&layout, c).unwrap();
        let p = FrameRef::new(&layout, p).unwrap();
        let mut changed = vec![false; (w * h) as usize];
        for y in 0..h {
            for x in 0..w {
                let (fill, a) = fill_key_pixel(&fk_info, k, x, y);
                keyed += usize::from(a > 0.0);
                if layout.format.is_rgb() {
                    let (ci, pi) = (c.rgb(x, y), p.rgb(x, y));
                    changed[(y * w + x) as usize] = ci != pi;
                    for ch in 0..3 {
                        let v = f32::from(ci[ch]);
                        let want = v + (fill[ch] - v) * a;
                        let got = f32::from(pi[ch]);
                        assert!(
                            (got - want).abs() <= tolerance,
                            "{input} ({x},{y}) channel {ch}: program {got}, from fill and key \
                             {want} (fill {fill:?} alpha {a})"
                        );
                    }
                    continue;
                }
                // YUV: the fill in the input's codes, luma per pixel.
                let fill = if fk_info.format() == gst_video::VideoFormat::Ayuv64 {
                    fill
                } else {
                    let scale = if bits == 10 { 4.0 } else { 1.0 };
                    layout
                        .colorimetry
                        .rgb_to_ycbcr(bits, fill)
                        .map(|v| v * scale)
                };
                let (ci, pi) = (c.codes(x, y).unwrap(), p.codes(x, y).unwrap());
                changed[(y * w + x) as usize] = ci != pi;
                let v = f32::from(ci[0]);
                let want = v + (fill[0] - v) * a;
                assert!(
                    (f32::from(pi[0]) - want).abs() <= tolerance,
                    "{input} ({x},{y}) luma: program {}, from fill and key {want}",
                    pi[0]
                );
                // Chroma once per site, at its top-left pixel.
                if x % sx != 0 || y % sy != 0 {
                    continue;
                }
                // The program blends each pixel's chroma, rounds it, and takes the mean.
                let mut sum = [0.0_f32; 2];
                let (mut n, mut any) = (0.0, false);
                for yy in y..(y + sy).min(h) {
                    for xx in x..(x + sx).min(w) {
                        let (f, a) = fill_key_pixel(&fk_info, k, xx, yy);
                        let f = if fk_info.format() == gst_video::VideoFormat::Ayuv64 {
                            f
                        } else {
                            let scale = if bits == 10 { 4.0 } else { 1.0 };
                            layout.colorimetry.rgb_to_ycbcr(bits, f).map(|v| v * scale)
                        };
                        any |= a > 0.0;
                        for ch in 0..2 {
                            let v = f32::from(ci[ch + 1]);
                            sum[ch] += (v + (f[ch + 1] - v) * a).round();
                        }
                        n += 1.0;
                    }
                }
                for ch in 0..2 {
                    let want = if any {
                        (sum[ch] / n).round()
                    } else {
                        f32::from(ci[ch + 1])
                    };
                    let got = f32::from(pi[ch + 1]);
                    assert!(
                        (got - want).abs() <= tolerance,
                        "{input} ({x},{y}) chroma {ch}: program {got}, from fill and key {want}"
                    );
                }
            }
        }
        // Outside the line (3 pixels past anything the program changed) alpha is exactly 0.
        for y in 0..h {
            for x in 0..w {
                let near = (y.saturating_sub(3)..(y + 4).min(h)).any(|yy| {
                    (x.saturating_sub(3)..(x + 4).min(w)).any(|xx| changed[(yy * w + xx) as usize])
                });
                if !near {
                    let (_, a) = fill_key_pixel(&fk_info, k, x, y);
                    assert!(a == 0.0, "{input} ({x},{y}): alpha {a} outside the line");
                }
            }
        }
    }
    keyed
}

#[test]
fn program_is_the_input_keyed_with_the_fill_and_key_output() {
    init();
    let s = TestSample::new(3, 35.0);
    for (input, fill, tolerance) in [
        ("video/x-raw,format=RGBA", "BGRA", 1.0),
        ("video/x-raw,format=I420", "BGRA", 1.0),
        (
            "video/x-raw,format=UYVY,colorimetry=(string)1:3:5:1",
            "ARGB",
            1.0,
        ),
        ("video/x-raw,format=v210", "AYUV64", 4.0),
        (
            "video/x-raw,format=I420_10LE,colorimetry=bt2020",
            "AYUV64",
            4.0,
        ),
    ] {
        let keyed = check(&s, input, fill, tolerance);
        println!("{input} -> {fill}: {keyed} keyed pixels");
        // The two lines cover a few thousand pixels per frame at 640x360.
        assert!(keyed > 3 * 1000, "{input}: only {keyed} keyed pixels");
    }
}

#[test]
fn fill_key_is_drawn_by_the_cpu_compositor_whatever_the_backend() {
    // With backend=gpu (lavapipe here) the program is the GPU's, fill and key the CPU
    // compositor's: byte for byte what backend=cpu gives.
    init();
    let s = TestSample::new(3, 35.0);
    let line = |backend: &str| {
        format!(
            "videoconvert ! capsfilter caps=video/x-raw,format=I420 ! {} ! \
             capsfilter caps=video/x-raw,format=BGRA",
            element(&s, &format!("output=fill-key backend={backend}"))
        )
    };
    let (cpu, _) = run(&s, &line("cpu"));
    let (gpu, _) = run(&s, &line("gpu"));
    assert_eq!(cpu.len(), gpu.len());
    for (i, (c, g)) in cpu.iter().zip(&gpu).enumerate() {
        assert!(c == g, "frame {i}: fill and key differs with backend=gpu");
        assert!(
            c.chunks_exact(4).filter(|p| p[3] > 0).count() > 1000,
            "frame {i}: keyed"
        );
    }
}

/// Plays `line` (its last capsfilter named `out`, given `out_caps` once linked, so the
/// refusal comes at negotiation, not at linking) and returns the warnings and the error it posts.
fn negotiate(line: &str, out_caps: &str) -> (Vec<String>, Option<String>) {
    let pipeline = gst::parse::launch(line)
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
    let out = pipeline.by_name("out").unwrap();
    out.set_property("caps", out_caps.parse::<gst::Caps>().unwrap());
    pipeline.set_state(gst::State::Playing).unwrap();
    let bus = pipeline.bus().unwrap();
    let (mut warnings, mut error) = (Vec::new(), None);
    for msg in bus.iter_timed(gst::ClockTime::from_seconds(10)) {
        match msg.view() {
            gst::MessageView::Warning(w) => {
                warnings.push(format!("{} {:?}", w.error(), w.debug()));
            }
            gst::MessageView::Error(e) => {
                error = Some(format!("{} {:?}", e.error(), e.debug()));
                break;
            }
            gst::MessageView::Eos(_) => break,
            _ => {}
        }
    }
    pipeline.set_state(gst::State::Null).unwrap();
    (warnings, error)
}

#[test]
fn impossible_caps_fail_negotiation_with_a_message() {
    init();
    let line = |input: &str, output: &str| {
        format!(
            "videotestsrc num-buffers=3 ! video/x-raw,width=64,height=48,format={input} ! \
             yardline backend=cpu output={output} ! capsfilter name=out ! fakesink"
        )
    };
    for (line, out, names) in [
        // Fill and key into a format without alpha.
        (
            line("I420", "fill-key"),
            "video/x-raw,format=I420",
            ["output=fill-key", "BGRA or ARGB", "AYUV64"],
        ),
        // 10-bit input into an 8-bit key.
        (
            line("v210", "fill-key"),
            "video/x-raw,format=BGRA",
            ["output=fill-key", "AYUV64 for 10-bit input", "v210"],
        ),
        // The program is drawn in place: no format change.
        (
            line("I420", "program"),
            "video/x-raw,format=BGRA",
            ["output=program", "in place", "fill-key"],
        ),
    ] {
        let (warnings, error) = negotiate(&line, out);
        let error = error.unwrap_or_else(|| panic!("{line} -> {out}: no error"));
        assert!(error.contains("negotiat"), "{line} -> {out}: {error}");
        let all = warnings.join("\n");
        for n in names {
            assert!(
                all.contains(n),
                "{line} -> {out}: no warning naming {n}: {all}"
            );
        }
    }
    // The good pairings play to the end.
    for (input, out) in [
        ("I420", "video/x-raw,format=ARGB"),
        ("P010_10LE", "video/x-raw"),
        ("RGBA", "video/x-raw,format=BGRA"),
    ] {
        let line = line(input, "fill-key");
        let (_, error) = negotiate(&line, out);
        assert!(error.is_none(), "{line} -> {out}: {error:?}");
    }
}
