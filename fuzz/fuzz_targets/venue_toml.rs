//! `venue.toml` loading: any text gives a venue or an error; a loaded venue gives cameras or
//! errors for any reading, never a panic or a non-finite camera.
#![no_main]

use libfuzzer_sys::fuzz_target;
use yardline_engine::HeadAngles;
use yardline_engine::tracking::SensorReading;
use yardline_engine::venue::Venue;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(venue) = Venue::from_toml_str(text) else {
        return;
    };
    let saved = venue.to_toml_string().expect("a loaded venue saves");
    Venue::from_toml_str(&saved).expect("a saved venue loads");
    for cal in &venue.cameras {
        for (pan, zoom) in [(0.0, 0.0), (45.0, 1e6), (-300.0, 5e6), (f64::NAN, 1.0)] {
            let reading = SensorReading {
                camera_id: cal.id,
                angles: HeadAngles {
                    pan_deg: pan,
                    tilt_deg: -10.0,
                    roll_deg: 0.0,
                },
                position_mm: [0.0; 3],
                zoom,
                focus: 0.0,
                lens: None,
                timecode: None,
            };
            if let Ok(cam) = cal.camera_for(&reading, 1920, 1080) {
                assert!(cam.intrinsics.is_valid());
                assert!(cam.translation.iter().all(|v| v.is_finite()));
            }
        }
    }
});
