//! End-to-end tests across the yardline crates; this library holds their shared helpers.

/// Rec. 601 luma of pixel (x, y) of a tightly packed rgb24 image `width` pixels wide.
pub fn luma(rgb: &[u8], width: usize, x: usize, y: usize) -> f64 {
    let i = (y * width + x) * 3;
    0.299 * f64::from(rgb[i]) + 0.587 * f64::from(rgb[i + 1]) + 0.114 * f64::from(rgb[i + 2])
}

/// Root-mean-square of some values (0 for none).
pub fn rms(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    (values.iter().map(|v| v * v).sum::<f64>() / values.len() as f64).sqrt()
}

/// The engine's camera for a generated frame's truth record (the generator and the engine
/// share no projection code; this is where their camera conventions meet).
pub fn truth_camera(t: &yardline_samples::TruthRecord) -> yardline_engine::Camera {
    yardline_engine::Camera::from_record(t.rotation, t.translation, t.intrinsics.to_array())
        .expect("a truth record holds a proper rotation")
}
