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

/// Writes the `FreeD` tracking of `freed` (a tracking.jsonl) to `out` as `OpenTrackIO`
/// samples that say the same (source number, pan, tilt, roll, raw zoom and focus encoders), each
/// labelled with the timecode of its arrival time counted from `start`, plus `shift` frames:
/// a recording as a timecode-stamping tracker would have sent it.
pub fn freed_as_opentrackio(
    freed: &std::path::Path,
    out: &std::path::Path,
    start: &yardline_engine::tracking::Timecode,
    shift: i64,
) {
    use yardline_engine::tracking::source::{load_jsonl, write_jsonl};
    use yardline_engine::tracking::{OpenTrackIoSample, Packet, TrackingSample};
    let log = load_jsonl(freed).expect("a FreeD tracking.jsonl");
    let samples: Vec<TrackingSample> = log
        .samples
        .iter()
        .map(|s| {
            let f = s.packet.freed().expect("FreeD packets");
            let tc = start.at_pts(s.pts_ns).add_frames(shift);
            let json = serde_json::json!({
                "sourceNumber": f.camera_id,
                "timing": {"timecode": {"hours": tc.hours, "minutes": tc.minutes,
                    "seconds": tc.seconds, "frames": tc.frames,
                    "frameRate": {"num": tc.rate_num, "denom": tc.rate_denom},
                    "dropFrame": tc.drop_frame}},
                "lens": {"rawEncoders": {"zoom": f.zoom, "focus": f.focus}},
                "transforms": [{"translation": {"x": 0.0, "y": 0.0, "z": 0.0},
                    "rotation": {"pan": -f.pan_deg(), "tilt": f.tilt_deg(), "roll": f.roll_deg()}}],
            });
            let sample: OpenTrackIoSample =
                serde_json::from_value(json).expect("a valid OpenTrackIO sample");
            TrackingSample {
                pts_ns: s.pts_ns,
                packet: Packet::opentrackio(sample).expect("a sample with a transform"),
            }
        })
        .collect();
    let file = std::fs::File::create(out).expect("the OpenTrackIO file");
    write_jsonl(file, &samples).expect("the OpenTrackIO samples written");
}
