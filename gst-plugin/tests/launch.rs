//! `gst-launch-1.0` with `GST_PLUGIN_PATH`: the built `libgstyardline.so` in a file-to-file
//! chain, scored against the sample's truth like the CLI render of the same files.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{TestSample, init, rgb, rgba};
use gst::prelude::*;
use gst_video::prelude::*;

/// A folder holding only the freshly built `libgstyardline.so`, for `GST_PLUGIN_PATH`.
///
/// The test binary lives in `$CARGO_TARGET_DIR/<profile>/deps/`; cargo builds the cdylib for
/// the tests there (and uplifts it to `<profile>/` on `cargo build`). Copying the newer of the
/// two keeps GStreamer from scanning every other library in `deps/`.
fn plugin_dir(tmp: &Path) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    let candidates = [
        deps.join("libgstyardline.so"),
        deps.parent().unwrap().join("libgstyardline.so"),
    ];
    let newest = candidates
        .iter()
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
        .max()
        .map(|(_, p)| p.clone())
        .expect("libgstyardline.so is built next to the tests");
    let dir = tmp.join("plugins");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(&newest, dir.join("libgstyardline.so")).unwrap();
    dir
}

/// Runs a pipeline description to EOS, panicking on an error message.
fn run_to_eos(pipeline: &gst::Element) {
    let bus = pipeline.bus().unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    for msg in bus.iter_timed(gst::ClockTime::from_seconds(120)) {
        match msg.view() {
            gst::MessageView::Eos(_) => break,
            gst::MessageView::Error(e) => {
                pipeline.set_state(gst::State::Null).unwrap();
                panic!("{}: {:?}", e.error(), e.debug());
            }
            _ => {}
        }
    }
    pipeline.set_state(gst::State::Null).unwrap();
}

/// Writes rgb24 frames as Matroska + FFV1 (RGB kept lossless as `BGRx`), as `yardline sample`.
fn write_ffv1(s: &TestSample, path: &Path) {
    let c = s.sample.config();
    let src = gst_app::AppSrc::builder()
        .caps(&s.caps("RGB").parse::<gst::Caps>().unwrap())
        .format(gst::Format::Time)
        .max_bytes(0)
        .build();
    let rest = gst::parse::bin_from_description(
        &format!(
            "videoconvert ! video/x-raw,format=BGRx ! avenc_ffv1 ! matroskamux ! \
             filesink location=\"{}\"",
            path.display()
        ),
        true,
    )
    .unwrap();
    let pipeline = gst::Pipeline::new();
    pipeline
        .add_many([src.upcast_ref(), rest.upcast_ref::<gst::Element>()])
        .unwrap();
    src.link(&rest).unwrap();
    let period = s.period_ns();
    for (i, f) in s.frames.iter().enumerate() {
        src.push_buffer(common::buffer(f.rgb.clone(), s.pts(i), period))
            .unwrap();
    }
    src.end_of_stream().unwrap();
    assert_eq!(c.width % 4, 0, "rgb24 rows stay unpadded");
    run_to_eos(pipeline.upcast_ref());
}

/// Decodes a video file into tight frames of `format` (RGB or RGBA).
fn decode(path: &Path, format: &str) -> Vec<Vec<u8>> {
    let pipeline = gst::parse::launch(&format!(
        "filesrc location=\"{}\" ! decodebin ! videoconvert ! video/x-raw,format={format} ! \
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
    let bus = pipeline.bus().unwrap();
    while let Some(sample) = sink.try_pull_sample(gst::ClockTime::from_seconds(60)) {
        let buffer = sample.buffer().unwrap();
        let info = gst_video::VideoInfo::from_caps(sample.caps().unwrap()).unwrap();
        let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer, &info).unwrap();
        let row = info.width() as usize * info.format_info().pixel_stride()[0] as usize;
        let stride = frame.plane_stride()[0] as usize;
        let data = frame.plane_data(0).unwrap();
        let mut tight = Vec::with_capacity(row * info.height() as usize);
        for r in 0..info.height() as usize {
            tight.extend_from_slice(&data[r * stride..r * stride + row]);
        }
        frames.push(tight);
    }
    let error = bus.iter().find_map(|m| match m.view() {
        gst::MessageView::Error(e) => Some(format!("{}: {:?}", e.error(), e.debug())),
        _ => None,
    });
    pipeline.set_state(gst::State::Null).unwrap();
    assert!(error.is_none(), "decoding {}: {error:?}", path.display());
    frames
}

#[test]
fn gst_launch_render_scores_like_the_cli_render() {
    init();
    let s = TestSample::new(30, 35.0);
    let video = s.dir.join("video.mkv");
    write_ffv1(&s, &video);
    let out = s.tmp.path().join("out.mkv");
    let scene = s.scene();

    let status = Command::new("gst-launch-1.0")
        .env("GST_PLUGIN_PATH", plugin_dir(s.tmp.path()))
        .env("GST_REGISTRY", s.tmp.path().join("registry.bin"))
        .arg("-q")
        .args(["filesrc", &format!("location={}", video.display()), "!"])
        .args(["decodebin", "!", "videoconvert", "!", "yardline"])
        .arg(format!("venue={}", s.venue_path().display()))
        .arg(format!("tracking={}", s.tracking_uri()))
        .arg(format!("first-down={}", scene.first_down_yard))
        .arg(format!("line-width={}", scene.line_width_m))
        .args(["backend=cpu", "budget=-1", "!", "videoconvert", "!"])
        .args([
            "video/x-raw,format=BGRx",
            "!",
            "avenc_ffv1",
            "!",
            "matroskamux",
            "!",
        ])
        .args(["filesink", &format!("location={}", out.display())])
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "gst-launch-1.0 failed: {}{}",
        String::from_utf8_lossy(&status.stdout),
        String::from_utf8_lossy(&status.stderr)
    );

    let rendered = decode(&out, "RGB");
    assert_eq!(rendered.len(), s.frames.len(), "every frame written");
    let score = s.score(&rendered);

    // The CLI render of the same file: decoded to RGBA (made opaque), `Engine::process`.
    let decoded: Vec<Vec<u8>> = decode(&video, "RGB").iter().map(|f| rgba(f)).collect();
    for (d, f) in decoded.iter().zip(&s.frames) {
        assert_eq!(rgb(d), f.rgb, "FFV1 round trip is lossless");
    }
    let cli: Vec<Vec<u8>> = s.reference(&decoded, None).iter().map(|f| rgb(f)).collect();
    let cli_score = s.score(&cli);

    println!("gst-launch: {score:?}\nCLI render: {cli_score:?}");
    let centre = score.centre_error_px.unwrap();
    let cli_centre = cli_score.centre_error_px.unwrap();
    assert!(centre <= 0.5, "centre error {centre} px: {score:?}");
    assert!(
        (centre - cli_centre).abs() <= 0.05,
        "centre error {centre} px vs {cli_centre} px from the CLI render"
    );
    assert!(
        (score.iou - cli_score.iou).abs() <= 0.01,
        "IoU {} vs {} from the CLI render",
        score.iou,
        cli_score.iou
    );
    assert!(
        (score.leak - cli_score.leak).abs() <= 0.01,
        "leak {} vs {} from the CLI render",
        score.leak,
        cli_score.leak
    );
    assert!(score.painted_px > 0);
}
