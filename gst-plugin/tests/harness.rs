//! The element in `gst_check::Harness`: caps, exact agreement with the CLI render, live
//! property changes, pass-through, latency, bus messages and errors.

#![allow(
    clippy::unwrap_used,
    clippy::float_cmp,
    clippy::needless_range_loop,
    reason = "test code: a failed unwrap is a failed test; exact values are the assertion; \
              frames are compared across parallel runs by index"
)]

mod common;

use common::{TestSample, buffer, bytes, differing, init, rgb, stats};
use gst::prelude::*;
use gst_check::Harness;

fn harness(element: &gst::Element, caps: &str) -> Harness {
    let mut h = Harness::with_element(element, Some("sink"), Some("src"));
    h.set_src_caps_str(caps);
    h
}

/// Pushes every frame through and returns the outputs.
fn run(h: &mut Harness, s: &TestSample, frames: &[Vec<u8>]) -> Vec<Vec<u8>> {
    frames
        .iter()
        .enumerate()
        .map(|(i, f)| {
            h.push(buffer(f.clone(), s.pts(i), s.period_ns())).unwrap();
            bytes(&h.pull().unwrap())
        })
        .collect()
}

#[test]
fn rgba_frames_match_the_cli_render_byte_for_byte() {
    init();
    let s = TestSample::new(24, 35.0);
    let frames = s.rgba_frames();
    let element = s.element();
    let mut h = harness(&element, &s.caps("RGBA"));
    let out = run(&mut h, &s, &frames);
    let reference = s.reference(&frames, None);
    for (i, (o, r)) in out.iter().zip(&reference).enumerate() {
        assert_eq!(differing(o, r), 0, "frame {i} differs from the CLI render");
    }
    let drawn = out
        .iter()
        .zip(&frames)
        .filter(|(o, f)| differing(o, f) > 0)
        .count();
    assert_eq!(drawn, frames.len(), "the line is on every frame");
    let st = stats(&element);
    assert_eq!(st.get::<u64>("frames").unwrap(), 24);
    assert_eq!(st.get::<u64>("drawn").unwrap(), 24);
    assert_eq!(st.get::<u64>("faults").unwrap(), 0);
    assert_eq!(st.get::<&str>("tracking").unwrap(), "file");
}

#[test]
fn every_format_negotiates_and_gets_the_line() {
    init();
    let s = TestSample::new(3, 35.0);
    let frames = s.rgba_frames();
    let scene = s.scene();
    for format in [
        "RGBA",
        "BGRA",
        "RGBx",
        "BGRx",
        "I420",
        "NV12",
        "UYVY",
        "v210",
        "P010_10LE",
        "I420_10LE",
        "I422_10LE",
    ] {
        let line = |show: bool| {
            format!(
                "videoconvert ! video/x-raw,format={format} ! yardline venue=\"{}\" \
                 tracking=\"{}\" first-down={} line-width={} backend=cpu budget=-1 show-first-down={show}",
                s.venue_path().display(),
                s.tracking_uri(),
                scene.first_down_yard,
                scene.line_width_m,
            )
        };
        let mut outputs = Vec::new();
        for show in [true, false] {
            let mut h = Harness::new_parse(&line(show));
            h.set_src_caps_str(&s.caps("RGBA"));
            let out = run(&mut h, &s, &frames);
            let caps = h.sinkpad().unwrap().current_caps().unwrap();
            let info = gst_video::VideoInfo::from_caps(&caps).unwrap();
            assert_eq!(info.format().to_str(), format, "negotiated format");
            assert_eq!((info.width(), info.height()), s.size());
            assert_eq!(out[0].len(), info.size(), "{format}: whole frames");
            outputs.push(out);
        }
        for i in 0..frames.len() {
            let changed = differing(&outputs[0][i], &outputs[1][i]);
            // The line covers a few thousand pixels at 640x360.
            assert!(
                changed > 500,
                "{format} frame {i}: only {changed} bytes drawn"
            );
        }
    }
}

#[test]
fn ten_bit_and_subsampled_video_get_the_line_where_the_truth_puts_it() {
    // sample (RGBA) -> videoconvert -> 10-bit or 8-bit YUV -> yardline -> videoconvert -> RGBA
    // at 1080p, scored against the truth; each output compared with the same chain without the
    // line (the round trip through subsampled chroma changes the picture's sharp edges on its
    // own). The line lies on the painted 35: at the paint's edges a pixel's own luma comes with
    // the chroma of a site it shares with grass, which the paint palette keys as field.
    init();
    let s = TestSample::with_size(6, 35.0, 1920, 1080);
    let frames = s.rgba_frames();
    let scene = s.scene();
    let chain = |format: &str, show: bool| {
        let mut h = Harness::new_parse(&format!(
            "videoconvert ! video/x-raw,format={format} ! yardline venue=\"{}\" \
             tracking=\"{}\" first-down={} line-width={} backend=cpu budget=-1 \
             show-first-down={show} ! videoconvert ! capsfilter caps=video/x-raw,format=RGBA",
            s.venue_path().display(),
            s.tracking_uri(),
            scene.first_down_yard,
            scene.line_width_m,
        ));
        h.set_src_caps_str(&s.caps("RGBA"));
        let out = run(&mut h, &s, &frames);
        let caps = h.sinkpad().unwrap().current_caps().unwrap();
        let info = gst_video::VideoInfo::from_caps(&caps).unwrap();
        assert_eq!(info.format().to_str(), "RGBA");
        out.iter().map(|f| rgb(f)).collect::<Vec<_>>()
    };
    let rgba = s.score(&chain("RGBA", true));
    for format in [
        "v210",
        "P010_10LE",
        "I420_10LE",
        "I422_10LE",
        "UYVY",
        "I420",
    ] {
        let clean = chain(format, false);
        let drawn = chain(format, true);
        let inputs: Vec<&[u8]> = clean.iter().map(Vec::as_slice).collect();
        let score = s.score_against(&inputs, &drawn);
        println!("{format}: {score:?}\nRGBA: {rgba:?}");
        let centre = score.centre_error_px.unwrap();
        assert!(score.iou >= 0.95, "{format}: IoU {}", score.iou);
        assert!(centre <= 0.5, "{format}: centre error {centre} px");
        assert!(
            (score.iou - rgba.iou).abs() <= 0.02,
            "{format}: IoU {} vs {} on RGBA",
            score.iou,
            rgba.iou
        );
    }
}

/// The most frequent colour (rgb24) among the pixels the line changed by more than 24 codes in
/// some channel: the colour of the line's fully covered, fully keyed interior.
fn line_colour(clean: &[Vec<u8>], drawn: &[Vec<u8>]) -> [u8; 3] {
    let mut counts = std::collections::HashMap::<[u8; 3], usize>::new();
    for (c, d) in clean.iter().zip(drawn) {
        for (pc, pd) in c.chunks_exact(3).zip(d.chunks_exact(3)) {
            if pc.iter().zip(pd).any(|(a, b)| a.abs_diff(*b) > 24) {
                *counts.entry([pd[0], pd[1], pd[2]]).or_default() += 1;
            }
        }
    }
    counts
        .into_iter()
        .max_by_key(|&(c, n)| (n, c))
        .map(|(c, _)| c)
        .expect("the line changed some pixels")
}

#[test]
fn colorimetry_from_the_caps_puts_the_line_and_its_colour_where_they_belong() {
    // sample (RGBA) -> videoconvert -> YUV of a given colorimetry -> yardline -> videoconvert ->
    // RGBA at 1080p: the matrix and range of the caps (full range BT.709, limited BT.2020) give
    // the line where the truth puts it and the configured colour back, as BT.709 limited does.
    init();
    let s = TestSample::with_size(4, 37.3, 1920, 1080);
    let frames = s.rgba_frames();
    let scene = s.scene();
    let colour = [255_u8, 140, 0];
    let chain = |caps: &str, backend: &str, show: bool| {
        let mut h = Harness::new_parse(&format!(
            "videoconvert ! {caps} ! yardline venue=\"{}\" tracking=\"{}\" first-down={} \
             line-width={} backend={backend} budget=-1 first-down-color=0xFFFF8C00 \
             show-first-down={show} ! videoconvert ! capsfilter caps=video/x-raw,format=RGBA",
            s.venue_path().display(),
            s.tracking_uri(),
            scene.first_down_yard,
            scene.line_width_m,
        ));
        h.set_src_caps_str(&s.caps("RGBA"));
        let out = run(&mut h, &s, &frames);
        out.iter().map(|f| rgb(f)).collect::<Vec<_>>()
    };
    // The GPU compositor (lavapipe here) keys 8-bit frames with the same re-indexed LUTs and
    // the same converted colour.
    for (caps, backend) in [
        ("video/x-raw,format=I420,colorimetry=bt709", "cpu"),
        ("video/x-raw,format=I420,colorimetry=(string)1:3:5:1", "cpu"),
        ("video/x-raw,format=I420,colorimetry=(string)1:3:5:1", "gpu"),
        ("video/x-raw,format=NV12,colorimetry=(string)2:6:5:1", "gpu"),
        ("video/x-raw,format=I420_10LE,colorimetry=bt2020", "cpu"),
        ("video/x-raw,format=v210,colorimetry=bt2020", "cpu"),
    ] {
        let clean = chain(caps, backend, false);
        let drawn = chain(caps, backend, true);
        let inputs: Vec<&[u8]> = clean.iter().map(Vec::as_slice).collect();
        let score = s.score_against(&inputs, &drawn);
        let got = line_colour(&clean, &drawn);
        println!(
            "{caps} {backend}: IoU {} centre {:?} px, line colour {got:?}",
            score.iou, score.centre_error_px
        );
        let centre = score.centre_error_px.unwrap();
        assert!(score.iou >= 0.95, "{caps}: IoU {}", score.iou);
        assert!(centre <= 0.5, "{caps}: centre error {centre} px");
        // 8-bit limited-range codes (and subsampled chroma) hold a colour to a few RGB codes;
        // a wrong matrix or range is off by 10 or more.
        let tolerance = if caps.contains("10LE") || caps.contains("v210") {
            2
        } else {
            5
        };
        for (g, w) in got.iter().zip(colour) {
            assert!(
                g.abs_diff(w) <= tolerance,
                "{caps} {backend}: line colour {got:?}, configured {colour:?}"
            );
        }
    }
}

#[test]
fn unsupported_caps_fail_negotiation_naming_the_formats_that_work() {
    init();
    let pipeline =
        gst::parse::launch("appsrc name=src format=time ! yardline backend=cpu ! fakesink")
            .unwrap()
            .downcast::<gst::Pipeline>()
            .unwrap();
    let src = pipeline
        .by_name("src")
        .unwrap()
        .downcast::<gst_app::AppSrc>()
        .unwrap();
    src.set_caps(Some(
        &"video/x-raw,format=YUY2,width=64,height=48,framerate=30/1"
            .parse::<gst::Caps>()
            .unwrap(),
    ));
    pipeline.set_state(gst::State::Playing).unwrap();
    src.push_buffer(buffer(vec![0; 64 * 48 * 2], 0, 33_333_333))
        .unwrap();
    let bus = pipeline.bus().unwrap();
    let (mut warning, mut error) = (None, None);
    for msg in bus.iter_timed(gst::ClockTime::from_seconds(10)) {
        match msg.view() {
            gst::MessageView::Warning(w) => {
                warning = Some(format!("{} {:?}", w.error(), w.debug()));
            }
            gst::MessageView::Error(e) => {
                error = Some(format!("{} {:?}", e.error(), e.debug()));
                break;
            }
            _ => {}
        }
    }
    pipeline.set_state(gst::State::Null).unwrap();
    let warning = warning.expect("a warning naming the formats");
    for name in [
        "YUY2",
        "RGBA",
        "I420",
        "v210",
        "P010_10LE",
        "I420_10LE",
        "I422_10LE",
    ] {
        assert!(warning.contains(name), "{name} missing from: {warning}");
    }
    let error = error.expect("the flow stops");
    assert!(error.contains("not-negotiated"), "{error}");
}

#[test]
fn hidden_lines_pass_frames_through_byte_identical() {
    init();
    let s = TestSample::new(8, 35.0);
    let frames = s.rgba_frames();
    let element = s.element();
    element.set_property("show-first-down", false);
    element.set_property("show-scrimmage", false);
    let mut h = harness(&element, &s.caps("RGBA"));
    let out = run(&mut h, &s, &frames);
    for (i, (o, f)) in out.iter().zip(&frames).enumerate() {
        assert_eq!(differing(o, f), 0, "frame {i} was modified");
    }
    // The engine ran (tracking and pose kept up) but drew nothing.
    let st = stats(&element);
    assert_eq!(st.get::<u64>("frames").unwrap(), 8);
    assert_eq!(st.get::<u64>("drawn").unwrap(), 0);
}

#[test]
fn properties_change_while_playing_on_the_next_frame() {
    init();
    let s = TestSample::new(16, 35.0);
    let frames = s.rgba_frames();
    let element = s.element();
    let mut h = harness(&element, &s.caps("RGBA"));
    assert_eq!(element.current_state(), gst::State::Playing);
    let mut out = run(&mut h, &s, &frames[..8]);
    element.set_property("first-down", 36.5);
    element.set_property("first-down-color", 0xFF00_FF00_u32);
    // Bad new values while playing: a warning, and the old value stays.
    let venue = element.property::<Option<String>>("venue");
    element.set_property("venue", "/nonexistent/venue.toml");
    element.set_property("tracking", "bogus://nowhere");
    element.set_property("keying", "/nonexistent/key.toml");
    assert_eq!(element.property::<Option<String>>("venue"), venue);
    assert_eq!(
        element.property::<Option<String>>("tracking"),
        Some(s.tracking_uri())
    );
    assert_eq!(element.property::<Option<String>>("keying"), None);
    assert_eq!(element.property::<f64>("first-down"), 36.5);
    out.extend(
        frames[8..]
            .iter()
            .enumerate()
            .map(|(k, f)| {
                let i = k + 8;
                h.push(buffer(f.clone(), s.pts(i), s.period_ns())).unwrap();
                bytes(&h.pull().unwrap())
            })
            .collect::<Vec<_>>(),
    );
    let change = |c: &mut yardline_engine::EngineConfig| {
        c.first_down.yard = 36.5;
        c.first_down.rgb = [0, 255, 0];
    };
    let reference = s.reference(&frames, Some((8, &change)));
    let unchanged = s.reference(&frames, None);
    for i in 0..frames.len() {
        assert_eq!(differing(&out[i], &reference[i]), 0, "frame {i}");
    }
    for i in 8..frames.len() {
        assert!(
            differing(&out[i], &unchanged[i]) > 500,
            "frame {i}: the change did not show"
        );
    }
}

#[test]
fn a_frame_over_budget_passes_the_next_one_through_untouched() {
    init();
    let s = TestSample::new(7, 35.0);
    let frames = s.rgba_frames();
    let element = s.element();
    let mut h = harness(&element, &s.caps("RGBA"));
    let mut out = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        if i == 1 {
            // One nanosecond: every processed frame overruns it (frame 0, without a budget,
            // built the automatic key).
            element.set_property("budget", 1_i64);
        }
        h.push(buffer(f.clone(), s.pts(i), s.period_ns())).unwrap();
        out.push(bytes(&h.pull().unwrap()));
    }
    for (i, (o, f)) in out.iter().zip(&frames).enumerate() {
        let changed = differing(o, f);
        if i % 2 == 1 || i == 0 {
            assert!(changed > 500, "frame {i} should be drawn");
        } else {
            assert_eq!(changed, 0, "frame {i} should pass through untouched");
        }
    }
    let st = stats(&element);
    assert_eq!(st.get::<u64>("budget-skips").unwrap(), 3);
    assert_eq!(st.get::<u64>("over-budget").unwrap(), 3);
    assert_eq!(st.get::<u64>("frames").unwrap(), 7);
}

#[test]
fn under_a_budget_no_frame_waits_for_the_automatic_key() {
    init();
    let s = TestSample::new(40, 35.0);
    let frames = s.rgba_frames();
    let element = s.element();
    // No skipping (the machine may be slow), but a budget: the key builds in the background.
    element.set_property("budget", i64::MAX);
    let mut h = harness(&element, &s.caps("RGBA"));
    let mut first_drawn = None;
    for (i, f) in frames.iter().enumerate() {
        h.push(buffer(f.clone(), s.pts(i), s.period_ns())).unwrap();
        let changed = differing(&bytes(&h.pull().unwrap()), f);
        if changed > 500 {
            first_drawn.get_or_insert(i);
        } else {
            assert_eq!(changed, 0, "frame {i} modified without the line");
        }
        if first_drawn.is_none() {
            // Give the background key time, as frames arriving at the frame rate would.
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
    let first = first_drawn.expect("the key never became ready");
    assert!(first > 0, "frame 0 waited for the automatic key");
    let st = stats(&element);
    assert_eq!(st.get::<u64>("budget-skips").unwrap(), 0);
    assert_eq!(
        st.get::<u64>("drawn").unwrap(),
        (frames.len() - first) as u64
    );
}

#[test]
fn a_flush_restarts_the_timeline() {
    init();
    let s = TestSample::new(6, 35.0);
    let frames = s.rgba_frames();
    let element = s.element();
    let mut h = harness(&element, &s.caps("RGBA"));
    let first = run(&mut h, &s, &frames);
    // A seek back to the start: flush, new segment, the same frames again.
    assert!(h.push_event(gst::event::FlushStart::new()));
    assert!(h.push_event(gst::event::FlushStop::new(true)));
    let segment = gst::FormattedSegment::<gst::ClockTime>::new();
    assert!(h.push_event(gst::event::Segment::new(&segment)));
    let second = run(&mut h, &s, &frames);
    for i in 0..frames.len() {
        assert!(
            differing(&first[i], &frames[i]) > 500,
            "frame {i} not drawn"
        );
        assert_eq!(
            differing(&second[i], &first[i]),
            0,
            "frame {i} after the flush"
        );
    }
}

#[test]
fn latency_query_adds_the_live_tracking_delay() {
    init();
    let s = TestSample::new(1, 35.0);
    let upstream = gst::ClockTime::from_mseconds(20);

    // Recorded tracking adds nothing.
    let element = s.element();
    let mut h = harness(&element, &s.caps("RGBA"));
    h.set_upstream_latency(upstream);
    assert_eq!(h.query_latency(), Some(upstream));

    // Live tracking adds the venue's delay, then the property's once set.
    let element = s.element();
    element.set_property("tracking", "udp://127.0.0.1:0");
    let mut h = harness(&element, &s.caps("RGBA"));
    h.set_upstream_latency(upstream);
    let venue_delay = s.sample.config().tracking_delay_ns();
    assert!(venue_delay > 0);
    assert_eq!(
        h.query_latency(),
        Some(upstream + gst::ClockTime::from_nseconds(venue_delay as u64))
    );
    element.set_property("tracking-delay", 50_000_000_i64);
    // Applied with the next frame.
    h.push(buffer(s.rgba_frames()[0].clone(), 0, s.period_ns()))
        .unwrap();
    h.pull().unwrap();
    assert_eq!(
        h.query_latency(),
        Some(upstream + gst::ClockTime::from_mseconds(50))
    );
    assert_eq!(
        stats(&element).get::<i64>("tracking-delay-ns").unwrap(),
        50_000_000
    );
}

/// The `yardline-frame` messages posted while `frames` go through `element`, and the harness
/// (the element runs until it is dropped).
fn frame_messages(
    element: &gst::Element,
    s: &TestSample,
    frames: &[Vec<u8>],
) -> (Harness, Vec<gst::Structure>) {
    element.set_property("post-messages", true);
    let bus = gst::Bus::new();
    element.set_bus(Some(&bus));
    let mut h = harness(element, &s.caps("RGBA"));
    run(&mut h, s, frames);
    let messages = std::iter::from_fn(|| bus.pop())
        .filter_map(|m| match m.view() {
            gst::MessageView::Element(e) => e.structure().map(ToOwned::to_owned),
            _ => None,
        })
        .filter(|st| st.name() == "yardline-frame")
        .collect();
    (h, messages)
}

#[test]
fn frame_messages_carry_source_residual_and_timings() {
    init();
    let s = TestSample::new(6, 35.0);
    let element = s.element();
    let (_running, messages) = frame_messages(&element, &s, &s.rgba_frames());
    assert_eq!(messages.len(), 6);
    for (i, m) in messages.iter().enumerate() {
        assert_eq!(m.get::<u64>("frame").unwrap(), i as u64);
        let source = m.get::<&str>("source").unwrap();
        assert!(
            ["sensor", "fused"].contains(&source),
            "frame {i}: source {source}"
        );
        assert!(m.get::<bool>("drawn").unwrap());
        assert!(!m.get::<bool>("skipped").unwrap());
        assert!(m.get::<f64>("residual-px").unwrap() >= -1.0);
        assert!(m.get::<f64>("engine-ms").unwrap() > 0.0);
        assert!(m.get::<f64>("element-ms").unwrap() >= m.get::<f64>("engine-ms").unwrap());
        assert_eq!(
            m.get::<gst::ClockTime>("pts").unwrap().nseconds(),
            s.pts(i) as u64
        );
        assert_eq!(m.get::<&str>("backend").unwrap(), "cpu");
        let confidence = m.get::<f64>("confidence").unwrap();
        assert!(
            confidence > 0.0 && confidence <= 1.0,
            "frame {i}: confidence {confidence}"
        );
        assert_eq!(m.get::<&str>("state").unwrap(), "tracking");
        assert!(!m.has_field("reason"), "frame {i}: a reason with a camera");
    }
    let st = stats(&element);
    assert!(st.get::<f64>("element-ms-p99").unwrap() > 0.0);
}

#[test]
fn frame_messages_say_why_there_is_no_camera() {
    init();
    let s = TestSample::new(3, 35.0);
    let frames = s.rgba_frames();
    // A venue without a registration and no tracking: vision-only tracking has nothing to
    // start from.
    let element = s.element();
    element.set_property("tracking", None::<&str>);
    let (_, messages) = frame_messages(&element, &s, &frames);
    assert_eq!(messages.len(), 3);
    for (i, m) in messages.iter().enumerate() {
        assert_eq!(m.get::<&str>("source").unwrap(), "none", "frame {i}");
        assert!(!m.get::<bool>("drawn").unwrap());
        assert_eq!(m.get::<&str>("state").unwrap(), "lost", "frame {i}");
        assert_eq!(m.get::<&str>("reason").unwrap(), "no-start", "frame {i}");
        assert_eq!(m.get::<f64>("confidence").unwrap(), 0.0);
    }

    // Sensor-only pose with no tracking: no sensor camera, and the mode does not track by
    // vision.
    let element = s.element();
    element.set_property_from_str("pose-mode", "sensor");
    element.set_property("tracking", None::<&str>);
    let (_, messages) = frame_messages(&element, &s, &frames);
    assert_eq!(messages.len(), 3);
    for (i, m) in messages.iter().enumerate() {
        assert_eq!(m.get::<&str>("state").unwrap(), "lost", "frame {i}");
        assert_eq!(m.get::<&str>("reason").unwrap(), "no-sensor", "frame {i}");
    }
}

/// Launches `description`, which must fail to start, and returns the error it posted.
fn start_error(description: &str) -> String {
    let pipeline = gst::parse::launch(description).unwrap();
    let bus = pipeline.bus().unwrap();
    assert!(pipeline.set_state(gst::State::Paused).is_err());
    let error = std::iter::from_fn(|| bus.pop())
        .find_map(|m| match m.view() {
            gst::MessageView::Error(e) => Some(e.error().to_string()),
            _ => None,
        })
        .expect("an error message");
    pipeline.set_state(gst::State::Null).unwrap();
    error
}

#[test]
fn a_missing_venue_file_fails_start_naming_the_file() {
    init();
    let error = start_error(
        "videotestsrc num-buffers=2 ! yardline venue=/nonexistent/dir/venue.toml ! fakesink",
    );
    assert!(
        error.contains("/nonexistent/dir/venue.toml"),
        "error does not name the file: {error}"
    );
}

#[test]
fn an_unreadable_tracking_file_fails_start_naming_the_file() {
    init();
    let s = TestSample::new(1, 35.0);
    // A folder opens but cannot be read as a file: the recording is read whole at start.
    let folder = s.tmp.path().join("tracking.jsonl");
    std::fs::create_dir(&folder).unwrap();
    let uri = gst::glib::filename_to_uri(&folder, None).unwrap();
    let error = start_error(&format!(
        "videotestsrc num-buffers=2 ! yardline venue=\"{}\" tracking=\"{uri}\" ! fakesink",
        s.venue_path().display()
    ));
    assert!(
        error.contains(folder.to_str().unwrap()),
        "error does not name the file: {error}"
    );
}
