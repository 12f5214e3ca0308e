//! The DESIGN.md file formats, key for key: `truth.jsonl` and `report.jsonl` lines and the
//! `[[camera.lens.points]]` rows of `venue.toml` carry the intrinsics as flat keys.

#![allow(
    clippy::float_cmp,
    clippy::unreadable_literal,
    clippy::unwrap_used,
    reason = "values are compared exactly as the files hold them, digit for digit; test helpers \
              may unwrap"
)]

use yardline_samples::{Intrinsics, ReportIntrinsics, ReportRecord, TruthRecord, VenueFile};

const K: Intrinsics = Intrinsics {
    fx: 1372.5409068349109,
    fy: 1372.25,
    cx: 319.5,
    cy: 179.5,
    k1: -0.04209028184464542,
    k2: 0.003507523487053785,
};

const TRUTH_LINE: &str = concat!(
    r#"{"frame":3,"pts_ns":50049999,"width":640,"height":360,"#,
    r#""rotation":[1.0,0.0,0.0,0.0,0.0,-1.0,0.0,1.0,0.0],"translation":[0.5,-0.25,55.0],"#,
    r#""fx":1372.5409068349109,"fy":1372.25,"cx":319.5,"cy":179.5,"#,
    r#""k1":-0.04209028184464542,"k2":0.003507523487053785}"#
);

fn truth() -> TruthRecord {
    TruthRecord {
        frame: 3,
        pts_ns: 50_049_999,
        width: 640,
        height: 360,
        rotation: [1.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 1.0, 0.0],
        translation: [0.5, -0.25, 55.0],
        intrinsics: K,
    }
}

#[test]
fn truth_line_has_flat_intrinsics_keys_and_reads_back() {
    assert_eq!(serde_json::to_string(&truth()).unwrap(), TRUTH_LINE);
    let back: TruthRecord = serde_json::from_str(TRUTH_LINE).unwrap();
    assert_eq!(back, truth());
    // Integers are numbers too.
    let int_fx = TRUTH_LINE.replace("1372.25", "1372");
    let back: TruthRecord = serde_json::from_str(&int_fx).unwrap();
    assert_eq!(back.intrinsics.fy, 1372.0);
    // Every intrinsic is required.
    let no_k2 = TRUTH_LINE.replace(r#","k2":0.003507523487053785"#, "");
    assert!(serde_json::from_str::<TruthRecord>(&no_k2).is_err());
}

#[test]
fn report_line_reads_flat_intrinsics_and_ignores_other_keys() {
    let line = TRUTH_LINE.replace(
        r#""frame":3,"#,
        r#""frame":3,"source":"fused","residual_px":0.125,"timings_ms":{"total":1.5},"#,
    );
    let r: ReportRecord = serde_json::from_str(&line).unwrap();
    assert_eq!(r.source.as_deref(), Some("fused"));
    assert_eq!(r.residual_px, Some(0.125));
    assert_eq!(r.intrinsics.get(), Some(K));
    assert_eq!(r.camera_record(&truth()), Some(truth()));

    // Distortion left out reads as none; a missing or null focal length means no camera.
    let no_k = line.replace(
        r#","k1":-0.04209028184464542,"k2":0.003507523487053785"#,
        "",
    );
    let r: ReportRecord = serde_json::from_str(&no_k).unwrap();
    let rec = r.camera_record(&truth()).unwrap();
    assert_eq!((rec.intrinsics.k1, rec.intrinsics.k2), (0.0, 0.0));
    let null_fx = line.replace(r#""fx":1372.5409068349109"#, r#""fx":null"#);
    let r: ReportRecord = serde_json::from_str(&null_fx).unwrap();
    assert_eq!(r.intrinsics.fx, None);
    assert_eq!(r.camera_record(&truth()), None);

    // A frame without a pose: source none and no camera keys.
    let none: ReportRecord =
        serde_json::from_str(r#"{"frame":4,"pts_ns":66733332,"source":"none"}"#).unwrap();
    assert_eq!(none.intrinsics, ReportIntrinsics::default());
    assert_eq!(none.camera_record(&truth()), None);
    assert_eq!(
        serde_json::to_string(&none).unwrap(),
        concat!(
            r#"{"frame":4,"pts_ns":66733332,"source":"none","residual_px":null,"#,
            r#""width":null,"height":null,"rotation":null,"translation":null,"#,
            r#""fx":null,"fy":null,"cx":null,"cy":null,"k1":null,"k2":null}"#
        )
    );
}

#[test]
fn venue_lens_points_have_flat_intrinsics_keys_and_read_back() {
    let text = r#"version = 1

[[camera]]
id = 1
tracking_delay_ns = 33366667

[camera.mount]
position = [0.0, -55.0, 20.0]
yaw_deg = 0.25
pitch_deg = -0.15
roll_deg = 0.1

[camera.encoder]
pan_offset_deg = 0.0
tilt_offset_deg = 0.0
roll_offset_deg = 0.0

[camera.lens]
width = 640
height = 360
zoom_profile = "raw"

[[camera.lens.points]]
zoom = 500
fx = 1372.5409068349109
fy = 1372.25
cx = 319.5
cy = 179.5
k1 = -0.04209028184464542
k2 = 0.003507523487053785
nodal_shift_m = 0.5
"#;
    let dir = std::env::temp_dir().join(format!("yardline-formats-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("venue.toml");
    std::fs::write(&path, text).unwrap();
    let venue = VenueFile::load(&path).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let point = &venue.camera[0].lens.points[0];
    assert_eq!(point.zoom, 500);
    assert_eq!(point.intrinsics, K);
    assert_eq!(point.nodal_shift_m, 0.5);
    assert_eq!(venue.to_toml().unwrap(), text);
}
