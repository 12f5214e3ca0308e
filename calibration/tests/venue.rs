//! A solved camera with its FreeD reading becomes a venue calibration that gives the camera
//! back through the engine's sensor pose and keeps it as its registration, and survives the
//! venue file.

mod common;

use common::{position_error_m, rotation_error_deg, truth_camera};
use yardline_calibration::venue::camera_calibration;
use yardline_engine::tracking::SensorReading;
use yardline_engine::tracking::freed::decode_checked;
use yardline_engine::venue::Venue;
use yardline_samples::{Sample, SampleConfig};

#[test]
fn one_camera_and_its_freed_reading_make_a_venue_that_loads_and_gives_the_camera_back() {
    let sample = Sample::new(SampleConfig {
        frames: 30,
        ..SampleConfig::default()
    })
    .expect("sample");
    let truth = sample.truth(10).expect("truth");
    let cam = truth_camera(&truth);
    let packet = sample.freed_packet(10).expect("frame").expect("packet");
    let reading = SensorReading::from(decode_checked(&packet.encode()).expect("packet"));
    let cal = camera_calibration(&cam, (640, 360), Some(&reading), 9, 33_366_667).expect("cal");
    assert_eq!(cal.id, 1, "the id comes from the reading");
    // The solved camera is kept as it is, as the registration at the image's size.
    let reg = cal.registration.clone().expect("registration");
    assert_eq!((reg.width, reg.height), (640, 360));
    assert_eq!((reg.frame, reg.time_s), (None, None));
    assert_eq!(reg.camera, cam);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("venue.toml");
    Venue { cameras: vec![cal] }.save(&path).expect("save");
    let venue = Venue::load(&path).expect("load");
    assert_eq!(venue.cameras[0].registration, Some(reg));
    let back = venue.cameras[0]
        .camera_for(&reading, 640, 360)
        .expect("sensor camera");
    assert!(position_error_m(&back, &cam) < 1e-9);
    assert!(
        rotation_error_deg(&back, &cam) < 1e-5,
        "{}",
        rotation_error_deg(&back, &cam)
    );
    assert!((back.intrinsics.fx - cam.intrinsics.fx).abs() < 1e-5);
    // Another frame of the same head: the mount found from frame 10 is the sample's mount, up
    // to the encoder noise, so the sensor camera of frame 20 matches its truth.
    let p20 = sample.freed_packet(20).expect("frame").expect("packet");
    let r20 = SensorReading::from(decode_checked(&p20.encode()).expect("packet"));
    let c20 = venue.cameras[0].camera_for(&r20, 640, 360).expect("camera");
    let t20 = truth_camera(&sample.truth(20).expect("truth"));
    assert!(
        rotation_error_deg(&c20, &t20) < 0.002,
        "{}",
        rotation_error_deg(&c20, &t20)
    );
}
