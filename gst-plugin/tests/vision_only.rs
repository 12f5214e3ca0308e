//! The element with a venue and no tracking feed: vision-only tracking starts from the venue's
//! registration (a calibration from clicks) and draws the line on every frame.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use common::{TestSample, buffer, bytes, differing, init, stats};
use gst::prelude::*;
use gst_check::Harness;
use yardline_engine::Camera;
use yardline_engine::venue::{Registration, Venue};

/// The sample's venue with the truth camera of frame 0 as its registration, written beside it.
fn registered_venue(s: &TestSample) -> std::path::PathBuf {
    let mut venue = Venue::load(&s.venue_path()).unwrap();
    let t = &s.frames[0].truth;
    let camera = Camera::from_record(t.rotation, t.translation, t.intrinsics.to_array()).unwrap();
    let (width, height) = s.size();
    venue.cameras[0].registration = Some(Registration {
        width,
        height,
        frame: Some(0),
        time_s: Some(0.0),
        camera,
    });
    let path = s.dir.join("venue-registered.toml");
    venue.save(&path).unwrap();
    path
}

#[test]
fn with_a_registration_and_no_tracking_the_line_is_drawn_by_vision() {
    init();
    let s = TestSample::new(40, 35.0);
    let venue = registered_venue(&s);
    let element = s.element();
    element.set_property("venue", venue.to_str().unwrap());
    element.set_property("tracking", None::<String>);
    element.set_property("post-messages", true);
    let bus = gst::Bus::new();
    element.set_bus(Some(&bus));
    let mut h = Harness::with_element(&element, Some("sink"), Some("src"));
    h.set_src_caps_str(&s.caps("RGBA"));
    let frames = s.rgba_frames();
    let out: Vec<Vec<u8>> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| {
            h.push(buffer(f.clone(), s.pts(i), s.period_ns())).unwrap();
            bytes(&h.pull().unwrap())
        })
        .collect();
    for (i, (o, f)) in out.iter().zip(&frames).enumerate() {
        assert!(differing(o, f) > 0, "frame {i} has no line");
    }
    let sources: Vec<String> = std::iter::from_fn(|| bus.pop())
        .filter_map(|m| match m.view() {
            gst::MessageView::Element(e) => e.structure().map(ToOwned::to_owned),
            _ => None,
        })
        .filter(|st| st.name() == "yardline-frame")
        .map(|st| st.get::<String>("source").unwrap())
        .collect();
    assert_eq!(sources.len(), frames.len());
    assert!(sources.iter().all(|src| src == "vision"), "{sources:?}");
    let report = s.score(&out.iter().map(|o| common::rgb(o)).collect::<Vec<_>>());
    assert!(report.iou >= 0.95, "{report:?}");
    assert!(
        report.centre_error_px.is_some_and(|c| c <= 0.5),
        "{report:?}"
    );
    assert_eq!(stats(&element).get::<&str>("tracking").unwrap(), "none");
}

#[test]
fn a_registration_of_another_aspect_ratio_draws_nothing() {
    init();
    let s = TestSample::new(4, 35.0);
    let mut venue = Venue::load(&registered_venue(&s)).unwrap();
    if let Some(r) = venue.cameras[0].registration.as_mut() {
        r.height += r.height / 3;
    }
    let path = s.dir.join("venue-other-aspect.toml");
    venue.save(&path).unwrap();
    let element = s.element();
    element.set_property("venue", path.to_str().unwrap());
    element.set_property("tracking", None::<String>);
    let mut h = Harness::with_element(&element, Some("sink"), Some("src"));
    h.set_src_caps_str(&s.caps("RGBA"));
    for (i, f) in s.rgba_frames().iter().enumerate() {
        h.push(buffer(f.clone(), s.pts(i), s.period_ns())).unwrap();
        assert_eq!(differing(&bytes(&h.pull().unwrap()), f), 0, "frame {i}");
    }
}
