//! Tracking matched by timecode: `timecodestamper` puts a `GstVideoTimeCodeMeta` on each real
//! buffer, the element reads it and takes the OpenTrackIO sample labelled the frame's timecode
//! plus the tracking delay in frames.

#![allow(
    clippy::unwrap_used,
    clippy::doc_markdown,
    reason = "test code: a failed unwrap is a failed test; names of products"
)]

mod common;

use std::path::Path;

use common::{TestSample, buffer, bytes, differing, init};
use gst::prelude::*;
use gst_check::Harness;
use yardline_engine::tracking::Timecode;

/// The sample's FreeD tracking as OpenTrackIO samples, each labelled with the 59.94
/// drop-frame timecode of its arrival time plus `shift` frames.
fn as_opentrackio(freed: &Path, out: &Path, shift: i64) {
    let start = Timecode::parse("00:00:00;00", (60000, 1001)).unwrap();
    yardline_e2e::freed_as_opentrackio(freed, out, &start, shift);
}

/// Runs the frames through `timecodestamper ! yardline` and returns the outputs and each
/// frame's `tracking-match`.
fn run(s: &TestSample, tracking: &Path) -> (Vec<Vec<u8>>, Vec<String>) {
    let scene = s.scene();
    let uri = gst::glib::filename_to_uri(tracking, None).unwrap();
    let line = format!(
        "timecodestamper set=always drop-frame=true ! \
         yardline venue=\"{}\" tracking=\"{uri}\" first-down={} line-width={} \
         backend=cpu budget=-1 post-messages=true",
        s.venue_path().display(),
        scene.first_down_yard,
        scene.line_width_m,
    );
    let mut h = Harness::new_parse(&line);
    let bus = gst::Bus::new();
    h.element().unwrap().set_bus(Some(&bus));
    h.set_src_caps_str(&s.caps("RGBA"));
    let outputs = s
        .rgba_frames()
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            h.push(buffer(f, s.pts(i), s.period_ns())).unwrap();
            let out = h.pull().unwrap();
            assert!(
                out.meta::<gst_video::VideoTimeCodeMeta>().is_some(),
                "frame {i} has no timecode meta"
            );
            bytes(&out)
        })
        .collect();
    let matches = std::iter::from_fn(|| bus.pop())
        .filter_map(|m| match m.view() {
            gst::MessageView::Element(e) => e.structure().map(ToOwned::to_owned),
            _ => None,
        })
        .filter(|st| st.name() == "yardline-frame")
        .map(|st| st.get::<String>("tracking-match").unwrap_or_default())
        .collect();
    (outputs, matches)
}

#[test]
fn buffers_timecode_meta_matches_opentrackio_samples_as_arrival_matches_freed() {
    init();
    let s = TestSample::new(8, 35.0);
    let frames = s.rgba_frames();
    let reference = s.reference(&frames, None);
    let freed = s.dir.join("tracking.jsonl");
    let otio = s.dir.join("otio.jsonl");
    as_opentrackio(&freed, &otio, 0);

    // FreeD carries no timecode: matched by arrival, as the CLI render is.
    let (out, matches) = run(&s, &freed);
    assert_eq!(matches, vec!["arrival"; 8]);
    for (i, (o, r)) in out.iter().zip(&reference).enumerate() {
        assert_eq!(
            differing(o, r),
            0,
            "FreeD frame {i} differs from the CLI render"
        );
    }
    // OpenTrackIO labelled as the delay says: matched by timecode, the same pictures.
    let (out, matches) = run(&s, &otio);
    assert_eq!(matches, vec!["timecode"; 8]);
    for (i, (o, r)) in out.iter().zip(&reference).enumerate() {
        assert_eq!(
            differing(o, r),
            0,
            "OpenTrackIO frame {i} differs from the CLI render"
        );
    }
    // The samples labelled one frame late: other samples are taken, and the line moves.
    let shifted = s.dir.join("shifted.jsonl");
    as_opentrackio(&freed, &shifted, 1);
    let (out, matches) = run(&s, &shifted);
    assert!(
        matches.iter().filter(|m| *m == "timecode").count() >= 6,
        "{matches:?}"
    );
    let moved = out
        .iter()
        .zip(&reference)
        .filter(|(o, r)| differing(o, r) > 0)
        .count();
    assert!(moved >= 5, "only {moved} frames changed");
}
