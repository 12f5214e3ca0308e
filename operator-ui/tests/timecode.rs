//! Tracking matched by timecode in the app: a source that stamps timecodes (here
//! `timecodestamper`, as an SDI capture would) and `OpenTrackIO` samples carrying timecode are
//! matched by it, `FreeD` (no timecode) by arrival; the health panel says which.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use common::{first_down_pixels_changed, harness_on, sample_dir, step_until, test_setup};
use egui_kittest::kittest::Queryable;
use yardline_engine::report::TrackingMatch;
use yardline_engine::tracking::{Timecode, TrackingSpec};
use yardline_operator::video::{VideoSetup, VideoSpec};

/// The test sample's video through `timecodestamper` (59.94 drop frame from 00:00:00;00),
/// with `tracking`.
fn stamped(tracking: std::path::PathBuf) -> VideoSetup {
    let mut setup = test_setup();
    let uri = gst::glib::filename_to_uri(sample_dir().join("video.mkv"), None).expect("a file URI");
    setup.video = VideoSpec::Launch(format!(
        "uridecodebin uri=\"{uri}\" ! videoconvert ! timecodestamper set=always drop-frame=true"
    ));
    setup.tracking = TrackingSpec::File(tracking);
    setup
}

/// Plays `setup` until a frame's report says how its tracking was matched; that way, and
/// whether the health panel shows it, with the line's share on the field.
fn matched(setup: VideoSetup) -> (TrackingMatch, usize, usize) {
    let mut h = harness_on(setup);
    step_until(&mut h, "a frame matched to tracking", |a| {
        a.preview()
            .is_some_and(|p| p.report.tracking_match.is_some() && p.report.drawn)
    });
    let how = h.state().preview().unwrap().report.tracking_match.unwrap();
    assert!(
        h.query_by_label("Tracking matched by").is_some()
            && h.query_by_label(how.as_str()).is_some(),
        "the health panel does not say {how:?}"
    );
    let (changed, looked) = first_down_pixels_changed(h.state());
    (how, changed, looked)
}

#[test]
fn a_stamped_source_matches_opentrackio_by_timecode_and_freed_by_arrival() {
    let tmp = tempfile::tempdir().unwrap();
    let otio = tmp.path().join("otio.jsonl");
    let start = Timecode::parse("00:00:00;00", (60000, 1001)).unwrap();
    yardline_e2e::freed_as_opentrackio(&sample_dir().join("tracking.jsonl"), &otio, &start, 0);

    let (how, changed, looked) = matched(stamped(otio));
    assert_eq!(how, TrackingMatch::Timecode);
    assert!(
        looked >= 10 && changed * 2 >= looked,
        "{changed} of {looked}"
    );

    let (how, changed, looked) = matched(stamped(sample_dir().join("tracking.jsonl")));
    assert_eq!(how, TrackingMatch::Arrival);
    assert!(
        looked >= 10 && changed * 2 >= looked,
        "{changed} of {looked}"
    );
}
