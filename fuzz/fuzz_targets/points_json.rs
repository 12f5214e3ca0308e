//! `points.json` (clicked landmarks): any bytes give points or an error; points that pass the
//! checks give a solved camera or an error from the landmark solve, never a panic or abort.
#![no_main]

use libfuzzer_sys::fuzz_target;
use yardline_calibration::landmarks::{Correspondence, solve_landmarks, validate_points};

fuzz_target!(|data: &[u8]| {
    let Ok(points) = serde_json::from_slice::<Vec<Correspondence>>(data) else {
        return;
    };
    let size = (1920, 1080);
    if validate_points(&points, size).is_err() || points.len() > 64 {
        return;
    }
    if let Ok(s) = solve_landmarks(&points, size, None) {
        assert!(s.rms_px.is_finite(), "rms {}", s.rms_px);
        assert_eq!(s.residuals_px.len(), points.len());
    }
});
