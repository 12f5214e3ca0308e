//! `yardline render --output-mode fill-key`: the lines alone as RGBA, with the very alpha the
//! program blend uses, checked offline against a program render of the same sample.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use std::path::Path;

use common::{text, yardline};
use gst::prelude::*;

/// Every frame of a video file as tight RGBA rows.
fn decode(path: &Path) -> Vec<Vec<u8>> {
    gst::init().unwrap();
    let pipeline = gst::parse::launch(&format!(
        "filesrc location=\"{}\" ! decodebin ! videoconvert ! video/x-raw,format=RGBA ! \
         appsink name=sink sync=false",
        path.display()
    ))
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let sink = pipeline
        .by_name("sink")
        .unwrap()
        .downcast::<gst_app::AppSink>()
        .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let mut frames = Vec::new();
    while let Ok(sample) = sink.pull_sample() {
        let info = gst_video::VideoInfo::from_caps(sample.caps().unwrap()).unwrap();
        let map = sample.buffer().unwrap().map_readable().unwrap();
        let row = info.width() as usize * 4;
        let stride = info.stride()[0] as usize;
        let mut f = Vec::with_capacity(row * info.height() as usize);
        for r in 0..info.height() as usize {
            f.extend_from_slice(&map[r * stride..r * stride + row]);
        }
        frames.push(f);
    }
    pipeline.set_state(gst::State::Null).unwrap();
    frames
}

fn png(path: &Path) -> Vec<u8> {
    image::open(path).unwrap().to_rgba8().into_raw()
}

#[test]
fn fill_key_render_holds_the_program_blend_alpha() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sample");
    let d = dir.to_str().unwrap();
    let run = |args: &[&str]| {
        let out = yardline(args);
        assert!(out.status.success(), "yardline {args:?}: {}", text(&out));
    };
    run(&[
        "sample", "--out", d, "--frames", "4", "--size", "640x360", "--quiet",
    ]);
    let program = tmp.path().join("program_%02d.png");
    let fk_png = tmp.path().join("fk_%02d.png");
    let fk_mkv = tmp.path().join("fk.mkv");
    for (out, mode) in [
        (&program, "program"),
        (&fk_png, "fill-key"),
        (&fk_mkv, "fill-key"),
    ] {
        run(&[
            "render",
            "--sample",
            d,
            "--backend",
            "cpu",
            "--quiet",
            "--output",
            out.to_str().unwrap(),
            "--output-mode",
            mode,
        ]);
    }
    let inputs = decode(&dir.join("video.mkv"));
    assert_eq!(inputs.len(), 4);
    let mkv = decode(&fk_mkv);
    let (mut keyed, mut changed) = (0, 0);
    for (i, input) in inputs.iter().enumerate() {
        let file = |p: &Path| -> std::path::PathBuf {
            p.to_str()
                .unwrap()
                .replace("%02d", &format!("{i:02}"))
                .into()
        };
        let prog = png(&file(&program));
        let fk = png(&file(&fk_png));
        // FFV1 BGRA in Matroska keeps the alpha, losslessly.
        assert_eq!(mkv[i], fk, "frame {i}: .mkv and .png fill and key differ");
        for ((p_in, p_out), k) in input
            .chunks_exact(4)
            .zip(prog.chunks_exact(4))
            .zip(fk.chunks_exact(4))
        {
            let a = f32::from(k[3]) / 255.0;
            keyed += usize::from(k[3] > 0);
            changed += usize::from(p_in[..3] != p_out[..3]);
            for ch in 0..3 {
                let v = f32::from(p_in[ch]);
                let want = v + (f32::from(k[ch]) - v) * a;
                let got = f32::from(p_out[ch]);
                assert!(
                    (got - want).abs() <= 1.0,
                    "frame {i}: program {got}, from fill and key {want} ({p_in:?} {k:?})"
                );
            }
            if k[3] == 0 {
                assert_eq!(&k[..3], &[0, 0, 0], "transparent pixels are black");
            }
        }
    }
    assert!(keyed > 4 * 1000, "{keyed} keyed pixels");
    assert!(changed > 4 * 1000, "{changed} pixels drawn");
    // H.264 has no alpha: refused with a message.
    let mp4 = tmp.path().join("fk.mp4");
    let out = yardline(&[
        "render",
        "--sample",
        d,
        "--quiet",
        "--output",
        mp4.to_str().unwrap(),
        "--output-mode",
        "fill-key",
    ]);
    assert!(!out.status.success());
    assert!(text(&out).contains("no alpha"), "{}", text(&out));
}
