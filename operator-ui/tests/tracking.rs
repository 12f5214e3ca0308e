//! Vision-only tracking in the app: the calibration wizard's venue starts it, the health
//! panel shows what it is doing, and "Re-register on this frame" brings it back. A generated
//! sample is played with no tracking feed through GStreamer into the real engine; the wizard is
//! driven through its widgets with clicks the generator's own camera places.

mod common;

use common::{
    click_landmarks, first_down_pixels_changed, harness_on, sample, shown_index, step_until,
    test_setup, type_into, wait_for_video,
};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use nalgebra::{Point3, Rotation3, Vector3};
use yardline_engine::Camera;
use yardline_engine::pose::{NoPose, PoseSource, TrackState};
use yardline_engine::tracking::TrackingSpec;
use yardline_engine::venue::Venue;
use yardline_operator::OperatorApp;
use yardline_operator::calib::Purpose;
use yardline_operator::video::VideoSetup;

/// The test sample's video alone: no tracking feed, and `venue` (none: no calibration yet).
fn video_only(venue: Option<Venue>) -> VideoSetup {
    let mut setup = test_setup();
    setup.tracking = TrackingSpec::None;
    setup.venue = venue;
    setup
}

/// The state and reason of the newest frame's report.
fn tracking(app: &OperatorApp) -> Option<(TrackState, Option<NoPose>)> {
    app.preview().map(|p| (p.report.state, p.report.reason))
}

/// The newest frame was tracked by vision and the line drawn with it.
fn vision_drawn(app: &OperatorApp) -> bool {
    app.preview().is_some_and(|p| {
        p.report.source == PoseSource::Vision
            && p.report.state == TrackState::Tracking
            && p.report.drawn
    })
}

/// The health panel shows `state` (and, when given, a reason naming `reason`).
fn health_shows(h: &Harness<'static, OperatorApp>, state: &str, reason: Option<&str>) {
    assert!(
        h.query_by_label(state).is_some(),
        "the health panel does not show {state:?}"
    );
    if let Some(r) = reason {
        assert!(
            h.query_by_label_contains(&format!("{r}: ")).is_some(),
            "the health panel does not give the reason {r:?}"
        );
    }
}

/// Solves the wizard's clicks; panics with the wizard's message when it cannot.
fn solve(h: &mut Harness<'static, OperatorApp>) -> Camera {
    h.get_by_label("Solve").click();
    h.step();
    let w = h.state().wizard();
    let sol = w
        .solution()
        .unwrap_or_else(|| panic!("no solution: {:?}", w.message()));
    assert!(sol.rms_px < 1.0, "RMS {} px", sol.rms_px);
    sol.camera
}

/// The line is drawn where the generator's camera puts the first down on the newest frame:
/// on most of its length (the key may keep it off a stretch of shaded paint).
fn assert_line_on_the_field(h: &Harness<'static, OperatorApp>) {
    let (changed, looked) = first_down_pixels_changed(h.state());
    assert!(looked >= 10, "only {looked} first-down pixels in view");
    assert!(
        changed * 2 >= looked,
        "the program changed {changed} of {looked} first-down pixels"
    );
}

#[test]
fn the_wizard_s_venue_starts_vision_tracking_without_encoders() {
    let mut h = harness_on(video_only(None));
    wait_for_video(&mut h);
    // Nothing to start from: no sensor, no registration.
    step_until(&mut h, "a frame reported lost", |a| {
        tracking(a) == Some((TrackState::Lost, Some(NoPose::NoStart)))
    });
    h.step();
    health_shows(&h, "lost", Some("no-start"));
    assert!(!h.state().preview().unwrap().report.drawn);
    let (changed, looked) = first_down_pixels_changed(h.state());
    assert!(
        looked >= 10 && changed == 0,
        "{changed} of {looked} changed"
    );

    h.get_by_label("Calibrate camera").click();
    h.step();
    h.step();
    let clicked = click_landmarks(&mut h, 10);
    assert!(clicked >= 6, "only {clicked} landmarks in view");
    let solved = solve(&mut h);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("venue.toml");
    type_into(&mut h, "Venue file", path.to_str().unwrap());
    h.get_by_label("Save venue").click();
    h.step();
    let saved = Venue::load(&path)
        .unwrap_or_else(|e| panic!("{e}; wizard says {:?}", h.state().wizard().message()));
    let reg = saved.cameras[0]
        .registration
        .as_ref()
        .expect("the venue keeps the solved camera as its registration");
    assert!((reg.camera.translation - solved.translation).norm() < 1e-6);

    // The engine runs with the new venue: vision-only tracking starts from its registration.
    h.get_by_label("Close calibration").click();
    step_until(&mut h, "a frame tracked by vision and drawn", vision_drawn);
    h.step();
    health_shows(&h, "tracking", None);
    assert!(h.query_by_label("lost").is_none());
    assert!(
        h.state()
            .published()
            .venue
            .as_deref()
            .is_some_and(|v| *v == saved),
        "the video thread publishes the venue it runs with"
    );
    let report = &h.state().preview().unwrap().report;
    assert!(report.confidence > 0.5, "confidence {}", report.confidence);
    assert_line_on_the_field(&h);
}

/// The generator's camera of frame `index` turned round to face the stands behind it: a
/// registration of another shot, where this one's painted lines cannot fit.
fn camera_facing_away(index: u32) -> Camera {
    let t = sample().truth(index).expect("truth");
    let i = t.intrinsics;
    let truth = Camera::from_record(
        t.rotation,
        t.translation,
        [i.fx, i.fy, i.cx, i.cy, i.k1, i.k2],
    )
    .expect("a valid truth camera");
    let about_face = Rotation3::from_axis_angle(&Vector3::y_axis(), std::f64::consts::PI);
    let rotation = about_face * truth.rotation;
    Camera::from_centre(truth.intrinsics, rotation.inverse(), truth.centre())
}

#[test]
fn re_registering_on_a_frame_brings_lost_tracking_back() {
    let s = sample();
    let size = (s.config().width, s.config().height);
    let wrong = camera_facing_away(0);
    let centre_of_field = wrong.project(&Point3::new(0.0, 0.0, 0.0));
    assert!(
        centre_of_field.is_none_or(|p| p.x < 0.0 || p.y < 0.0 || p.x > f64::from(size.0)),
        "the wrong registration must not see the field"
    );
    let cal = yardline_calibration::venue::camera_calibration(&wrong, size, None, 1, 0)
        .expect("a venue of the wrong registration");
    let venue = Venue { cameras: vec![cal] };

    let mut h = harness_on(video_only(Some(venue.clone())));
    wait_for_video(&mut h);
    step_until(&mut h, "a frame reported searching", |a| {
        tracking(a) == Some((TrackState::Searching, Some(NoPose::NoFit)))
    });
    h.step();
    health_shows(&h, "searching", Some("no-fit"));
    assert!(!h.state().preview().unwrap().report.drawn);

    h.get_by_label("Re-register on this frame").click();
    h.step();
    h.step();
    assert!(h.state().wizard().is_open());
    assert_eq!(h.state().wizard().purpose(), Purpose::Register);
    let frozen = shown_index(h.state());
    let clicked = click_landmarks(&mut h, 10);
    assert!(
        clicked >= 6,
        "only {clicked} landmarks in view of frame {frozen}"
    );
    let solved = solve(&mut h);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("venue.toml");
    type_into(&mut h, "Venue file", path.to_str().unwrap());
    h.get_by_label("Apply registration").click();
    h.step();
    assert!(!h.state().wizard().is_open(), "applying closes the wizard");

    // The running engine tracks from the new camera...
    step_until(&mut h, "a frame tracked by vision and drawn", vision_drawn);
    h.step();
    health_shows(&h, "tracking", None);
    assert_line_on_the_field(&h);

    // ...and the venue file keeps it as the registration, the rest of the venue as it was.
    let saved = Venue::load(&path)
        .unwrap_or_else(|e| panic!("{e}; wizard says {:?}", h.state().wizard().message()));
    assert_eq!(saved.cameras.len(), 1);
    let (old, new) = (&venue.cameras[0], &saved.cameras[0]);
    assert_eq!(new.mount, old.mount);
    assert_eq!(new.lens, old.lens);
    let reg = new.registration.as_ref().expect("a registration");
    assert_eq!((reg.width, reg.height), size);
    assert!((reg.camera.translation - solved.translation).norm() < 1e-6);
    assert!((reg.camera.rotation.matrix() - solved.rotation.matrix()).norm() < 1e-9);
    assert!(
        h.state()
            .published()
            .venue
            .as_deref()
            .is_some_and(|v| *v == saved),
        "the video thread keeps the venue with the new registration"
    );
}
