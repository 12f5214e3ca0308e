//! The `output` property changed while playing, on a real pipeline (appsrc, videoconvert, the
//! element, appsink): program to fill and key and back renegotiates from the next frame on,
//! and a change downstream cannot take is refused with a warning, the old output kept. Either
//! way every frame comes out, none fails.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use common::{TestSample, buffer, init};
use gst::prelude::*;

/// A property change on the element, before frame `.0`.
type Change<'a> = (usize, &'a dyn Fn(&gst::Element));

/// What came out for one frame: its caps' format and bytes.
struct Out {
    format: String,
    data: Vec<u8>,
}

/// Plays the sample's frames as I420 through `element` (then `downstream`, a `gst-launch`
/// description or empty) into an appsink, running each of `changes` on the element before
/// its frame. Returns every frame out and the warnings and errors posted.
fn play(
    s: &TestSample,
    element: &gst::Element,
    downstream: &str,
    changes: &[Change<'_>],
) -> (Vec<Out>, Vec<String>, Vec<String>) {
    let src = gst_app::AppSrc::builder()
        .caps(&s.caps("RGBA").parse::<gst::Caps>().unwrap())
        .format(gst::Format::Time)
        .build();
    let sink = gst_app::AppSink::builder().sync(false).build();
    let pipeline = gst::Pipeline::new();
    let convert = gst::parse::bin_from_description(
        "videoconvert ! capsfilter caps=video/x-raw,format=I420",
        true,
    )
    .unwrap();
    let tail = if downstream.is_empty() {
        gst::ElementFactory::make("identity").build().unwrap()
    } else {
        gst::parse::bin_from_description(downstream, true)
            .unwrap()
            .upcast()
    };
    pipeline
        .add_many([
            src.upcast_ref(),
            convert.upcast_ref(),
            element,
            &tail,
            sink.upcast_ref(),
        ])
        .unwrap();
    gst::Element::link_many([
        src.upcast_ref(),
        convert.upcast_ref(),
        element,
        &tail,
        sink.upcast_ref(),
    ])
    .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let mut out = Vec::new();
    for (i, frame) in s.rgba_frames().into_iter().enumerate() {
        for (at, change) in changes {
            if *at == i {
                change(element);
            }
        }
        src.push_buffer(buffer(frame, s.pts(i), s.period_ns()))
            .unwrap();
        let Some(sample) = sink.try_pull_sample(gst::ClockTime::from_seconds(30)) else {
            break;
        };
        let caps = sample.caps().unwrap();
        out.push(Out {
            format: caps.structure(0).unwrap().get::<String>("format").unwrap(),
            data: sample.buffer().unwrap().map_readable().unwrap().to_vec(),
        });
    }
    src.end_of_stream().unwrap();
    let bus = pipeline.bus().unwrap();
    let (mut warnings, mut errors) = (Vec::new(), Vec::new());
    for msg in bus.iter_timed(gst::ClockTime::from_seconds(10)) {
        match msg.view() {
            gst::MessageView::Warning(w) => {
                warnings.push(format!("{} {:?}", w.error(), w.debug()));
            }
            gst::MessageView::Error(e) => {
                errors.push(format!("{} {:?}", e.error(), e.debug()));
                break;
            }
            gst::MessageView::Eos(_) => break,
            _ => {}
        }
    }
    pipeline.set_state(gst::State::Null).unwrap();
    (out, warnings, errors)
}

/// The frames through the same conversion without the element (I420).
fn clean(s: &TestSample) -> Vec<Vec<u8>> {
    let identity = gst::ElementFactory::make("identity").build().unwrap();
    let (out, _, errors) = play(s, &identity, "", &[]);
    assert!(errors.is_empty(), "{errors:?}");
    out.into_iter().map(|o| o.data).collect()
}

/// Pixels of a BGRA frame with a key (alpha above 0).
fn keyed(bgra: &[u8]) -> usize {
    bgra.chunks_exact(4).filter(|p| p[3] > 0).count()
}

#[test]
fn output_switches_to_fill_key_and_back_while_playing() {
    init();
    let s = TestSample::new(9, 35.0);
    let clean = clean(&s);
    let element = s.element();
    let to = |v: &'static str| move |e: &gst::Element| e.set_property_from_str("output", v);
    let (fill_key, program) = (to("fill-key"), to("program"));
    let (out, warnings, errors) = play(&s, &element, "", &[(3, &fill_key), (6, &program)]);
    assert!(errors.is_empty(), "errors: {errors:?}");
    assert!(warnings.is_empty(), "warnings: {warnings:?}");
    assert_eq!(out.len(), 9, "every frame comes out");
    let (w, h) = s.size();
    for (i, o) in out.iter().enumerate() {
        if (3..6).contains(&i) {
            // The lines alone: BGRA of the input's size, keyed where the lines are.
            assert_eq!(o.format, "BGRA", "frame {i}");
            assert_eq!(o.data.len(), (w * h * 4) as usize, "frame {i}");
            let k = keyed(&o.data);
            assert!(k > 1000, "frame {i}: only {k} keyed pixels");
        } else {
            // The program: the input's I420 with the lines drawn in.
            assert_eq!(o.format, "I420", "frame {i}");
            assert_eq!(o.data.len(), clean[i].len(), "frame {i}");
            let changed = common::differing(&o.data, &clean[i]);
            assert!(changed > 1000, "frame {i}: only {changed} bytes drawn");
        }
    }
    assert_eq!(
        element.property_value("output").serialize().unwrap(),
        "program"
    );
}

#[test]
fn a_switch_downstream_cannot_take_is_refused_and_the_program_kept() {
    init();
    let s = TestSample::new(6, 35.0);
    let clean = clean(&s);
    let element = s.element();
    let fill_key = |e: &gst::Element| e.set_property_from_str("output", "fill-key");
    // Downstream takes I420 only: no fill-and-key format.
    let (out, warnings, errors) = play(
        &s,
        &element,
        "capsfilter caps=video/x-raw,format=I420",
        &[(2, &fill_key)],
    );
    assert!(errors.is_empty(), "errors: {errors:?}");
    assert_eq!(out.len(), 6, "every frame comes out");
    for (i, o) in out.iter().enumerate() {
        assert_eq!(o.format, "I420", "frame {i}");
        let changed = common::differing(&o.data, &clean[i]);
        assert!(changed > 1000, "frame {i}: only {changed} bytes drawn");
    }
    let all = warnings.join("\n");
    for says in [
        "output=fill-key refused while playing",
        "output=program kept",
        "BGRA",
    ] {
        assert!(all.contains(says), "no warning saying {says:?}: {all}");
    }
    assert_eq!(
        element.property_value("output").serialize().unwrap(),
        "program"
    );
}
