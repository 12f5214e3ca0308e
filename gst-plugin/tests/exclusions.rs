//! The `exclusions` property in a real pipeline (`appsrc ! yardline ! appsink`): inside the
//! excluded rectangle every pixel leaves as it came in, outside it the frames are the CLI
//! render's byte for byte; a malformed value is refused and the old one kept.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use common::{TestSample, buffer, bytes, init};
use gst::prelude::*;

const W: u32 = 320;
const H: u32 = 180;

/// Runs `frames` (RGBA) through `appsrc ! element ! appsink` and returns the outputs.
fn run_pipeline(s: &TestSample, element: &gst::Element, frames: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let pipeline = gst::Pipeline::new();
    let caps: gst::Caps = s.caps("RGBA").parse().unwrap();
    let src = gst_app::AppSrc::builder()
        .caps(&caps)
        .format(gst::Format::Time)
        .build();
    let sink = gst_app::AppSink::builder().sync(false).build();
    pipeline
        .add_many([src.upcast_ref(), element, sink.upcast_ref()])
        .unwrap();
    gst::Element::link_many([src.upcast_ref(), element, sink.upcast_ref()]).unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let mut out = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        src.push_buffer(buffer(f.clone(), s.pts(i), s.period_ns()))
            .unwrap();
        let sample = sink
            .try_pull_sample(gst::ClockTime::from_seconds(60))
            .expect("a frame comes out");
        out.push(bytes(sample.buffer_owned().as_ref().unwrap()));
    }
    src.end_of_stream().unwrap();
    pipeline.set_state(gst::State::Null).unwrap();
    out
}

#[test]
fn the_exclusions_property_keeps_the_line_off_a_rectangle_in_a_pipeline() {
    init();
    let s = TestSample::with_size(6, 35.0, W, H);
    let frames = s.rgba_frames();
    let reference = s.reference(&frames, None);
    // A band across the middle of the rows the line covers in frame 0.
    let rows: Vec<usize> = (0..H as usize)
        .filter(|&r| {
            let row = r * W as usize * 4..(r + 1) * W as usize * 4;
            frames[0][row.clone()] != reference[0][row]
        })
        .collect();
    assert!(rows.len() > 20, "the line covers {} rows", rows.len());
    let (v0, v1) = (
        rows[rows.len() * 2 / 5] as f64 / f64::from(H),
        rows[rows.len() * 3 / 5] as f64 / f64::from(H),
    );
    let element = s.element();
    element.set_property("exclusions", format!("rect:0.1,{v0},0.9,{v1}"));
    // A malformed value is refused; the rectangle stays.
    element.set_property("exclusions", "polygon:0.1,0.1,0.2,0.2");
    assert_eq!(
        element.property::<Option<String>>("exclusions").unwrap(),
        format!("rect:0.1,{v0},0.9,{v1}")
    );
    let out = run_pipeline(&s, &element, &frames);

    let inside = |p: usize| {
        let (c, r) = (p % W as usize, p / W as usize);
        let u = (c as f64 + 0.5) / f64::from(W);
        let v = (r as f64 + 0.5) / f64::from(H);
        (0.1..0.9).contains(&u) && (v0..v1).contains(&v)
    };
    let mut would_draw = 0;
    for (k, ((o, f), r)) in out.iter().zip(&frames).zip(&reference).enumerate() {
        for p in 0..(W * H) as usize {
            let px = |b: &[u8]| b[4 * p..4 * p + 4].to_vec();
            if inside(p) {
                assert_eq!(
                    px(o),
                    px(f),
                    "frame {k} pixel {p} inside the exclusion changed"
                );
                would_draw += usize::from(px(r) != px(f));
            } else {
                assert_eq!(
                    px(o),
                    px(r),
                    "frame {k} pixel {p} outside differs from the CLI render"
                );
            }
        }
    }
    assert!(
        would_draw > 50,
        "the line crosses {would_draw} excluded pixels"
    );
}
