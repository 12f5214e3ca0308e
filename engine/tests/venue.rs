//! Venue file, lens table and sensor pose.

#![allow(
    clippy::float_cmp,
    clippy::unwrap_used,
    reason = "table and pose values are exact by construction; test helpers may unwrap"
)]

use nalgebra::Point3;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use yardline_engine::geometry::Intrinsics;
use yardline_engine::head::{HeadAngles, head_camera};
use yardline_engine::lens::{LensPoint, LensTable, pchip_eval, pchip_slopes};
use yardline_engine::tracking::SensorReading;
use yardline_engine::tracking::freed::{FreedPacket, ZoomProfile, ZoomVendor};
use yardline_engine::venue::{PoseError, Venue, VenueError};

const SAMPLE: &str = r#"
version = 1

[[camera]]
id = 1                      # FreeD camera id (0..=255)
tracking_delay_ns = 33366667

[camera.mount]
position = [0.0, -55.0, 20.0]
yaw_deg = 0.0
pitch_deg = 0.0
roll_deg = 0.0

[camera.encoder]
pan_offset_deg = 0.0
tilt_offset_deg = 0.0
roll_offset_deg = 0.0

[camera.lens]
width = 1920
height = 1080
zoom_profile = "raw"

[[camera.lens.points]]
zoom = 0
fx = 1662.8
fy = 1662.8
cx = 959.5
cy = 539.5
k1 = -0.12
k2 = 0.01
nodal_shift_m = 0.0

[[camera.lens.points]]
zoom = 400000
fx = 5000
fy = 5000.5
cx = 960.5
cy = 540.0
k1 = -0.05
k2 = 0.0
nodal_shift_m = 0.12

[[camera.lens.points]]
zoom = 1000000
fx = 20000.0
fy = 20001.0
cx = 961.0
cy = 541.0
k1 = 0.0
k2 = 0.0
nodal_shift_m = 0.3
"#;

fn invalid_key(text: &str) -> String {
    match Venue::from_toml_str(text) {
        Err(VenueError::Invalid { key, .. }) => key,
        other => panic!("expected an Invalid error, got {other:?}"),
    }
}

fn parse_message(text: &str) -> String {
    match Venue::from_toml_str(text) {
        Err(VenueError::Parse(m)) => m,
        other => panic!("expected a Parse error, got {other:?}"),
    }
}

#[test]
fn sample_venue_loads() {
    let v = Venue::from_toml_str(SAMPLE).unwrap();
    assert_eq!(v.cameras.len(), 1);
    let c = v.camera(1).unwrap();
    assert_eq!(c.tracking_delay_ns, 33_366_667);
    assert_eq!(c.mount.position, [0.0, -55.0, 20.0]);
    assert_eq!(c.lens.width(), 1920);
    assert_eq!(c.lens.zoom_profile().vendor, ZoomVendor::Raw);
    assert_eq!(c.lens.points().len(), 3);
    assert_eq!(c.lens.points()[1].intrinsics.fx, 5000.0);
    assert!(v.camera(2).is_none());
    let sync = c.sync_config(1_001_000_000.0 / 60.0);
    assert_eq!(sync.camera_id, Some(1));
    assert_eq!(sync.tracking_delay_ns, 33_366_667);
}

#[test]
fn venue_save_load_round_trip() {
    let mut v = Venue::from_toml_str(SAMPLE).unwrap();
    let mut second = v.cameras[0].clone();
    second.id = 7;
    second.encoder.pan_offset_deg = -0.125;
    second.mount.yaw_deg = 12.5;
    let profile = ZoomProfile {
        vendor: ZoomVendor::Custom,
        zoom: yardline_engine::tracking::freed::CountRange { min: 10, max: 5000 },
        focus: yardline_engine::tracking::freed::CountRange { min: 0, max: 4095 },
    };
    second.lens = LensTable::new(1280, 720, profile, second.lens.points().to_vec()).unwrap();
    v.cameras.push(second);
    let dir = tempdir();
    let path = dir.join("venue.toml");
    v.save(&path).unwrap();
    let back = Venue::load(&path).unwrap();
    assert_eq!(back, v);
    std::fs::remove_dir_all(dir).unwrap();
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "yardline-venue-test-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn venue_load_errors_name_the_key() {
    assert_eq!(
        invalid_key(&SAMPLE.replace("version = 1", "version = 2")),
        "version"
    );
    assert_eq!(
        invalid_key(&SAMPLE.replace("id = 1 ", "id = 300 ")),
        "camera[0].id"
    );
    assert_eq!(
        invalid_key(&SAMPLE.replace("fx = 5000\n", "fx = nan\n")),
        "camera[0].lens.points[1].fx"
    );
    assert_eq!(
        invalid_key(&SAMPLE.replace("fx = 5000\n", "fx = 1000\n")),
        "camera[0].lens.points[1].fx"
    );
    assert_eq!(
        invalid_key(&SAMPLE.replace("fx = 1662.8", "fx = -1662.8")),
        "camera[0].lens.points[0].fx"
    );
    assert_eq!(
        invalid_key(&SAMPLE.replace("zoom = 400000", "zoom = 2000000")),
        "camera[0].lens.points[2].zoom"
    );
    assert_eq!(
        invalid_key(&SAMPLE.replace(
            "position = [0.0, -55.0, 20.0]",
            "position = [0.0, inf, 20.0]"
        )),
        "camera[0].mount.position[1]"
    );
    assert_eq!(
        invalid_key(&SAMPLE.replace("tracking_delay_ns = 33366667", "tracking_delay_ns = -1")),
        "camera[0].tracking_delay_ns"
    );
    assert_eq!(
        invalid_key(&SAMPLE.replace("width = 1920", "width = 0")),
        "camera[0].lens.width"
    );
    assert_eq!(
        invalid_key(&SAMPLE.replace("zoom_profile = \"raw\"", "zoom_profile = \"canon\"")),
        "camera[0].lens.zoom_profile"
    );
    // Fewer than two lens points.
    let one_point = SAMPLE
        .split("[[camera.lens.points]]")
        .take(2)
        .collect::<Vec<_>>()
        .join("[[camera.lens.points]]");
    assert_eq!(invalid_key(&one_point), "camera[0].lens.points");
    // Two cameras with the same id.
    let twice = format!(
        "{SAMPLE}\n{}",
        &SAMPLE[SAMPLE.find("[[camera]]").unwrap()..]
    );
    assert_eq!(invalid_key(&twice), "camera[1].id");
    assert_eq!(invalid_key("version = 1\n"), "camera");
}

#[test]
fn venue_parse_errors_are_clear() {
    let missing = parse_message(&SAMPLE.replacen("fy = 1662.8\n", "", 1));
    assert!(missing.contains("fy"), "{missing}");
    let typo = parse_message(&SAMPLE.replace("pan_offset_deg", "pan_ofset_deg"));
    assert!(typo.contains("pan_ofset_deg"), "{typo}");
    let wrong_type = parse_message(&SAMPLE.replace("width = 1920", "width = \"wide\""));
    assert!(wrong_type.contains("width"), "{wrong_type}");
    // In a lens point too, the message quotes the offending line.
    let point_typo = parse_message(&SAMPLE.replacen("k2 = 0.01\n", "k_2 = 0.01\n", 1));
    assert!(
        point_typo.contains("k_2 = 0.01")
            && point_typo.contains("unknown field `k_2`, expected one of `zoom`, `fx`"),
        "{point_typo}"
    );
    let point_type = parse_message(&SAMPLE.replace("fx = 5000\n", "fx = \"tight\"\n"));
    assert!(point_type.contains("fx = \"tight\""), "{point_type}");
    parse_message("version = 1\n[[camera]\n");
    let err = Venue::load(std::path::Path::new("/nonexistent/venue.toml")).unwrap_err();
    assert!(matches!(err, VenueError::Io { .. }));
    assert!(err.to_string().contains("/nonexistent/venue.toml"));
}

#[test]
fn venue_defaults_and_vendor_profiles() {
    // No [camera.encoder] and no zoom_profile: zero offsets, raw counts.
    let start = SAMPLE.find("[camera.encoder]").unwrap();
    let end = SAMPLE.find("[camera.lens]").unwrap();
    let text =
        format!("{}{}", &SAMPLE[..start], &SAMPLE[end..]).replace("zoom_profile = \"raw\"\n", "");
    let v = Venue::from_toml_str(&text).unwrap();
    assert_eq!(v.cameras[0].encoder.pan_offset_deg, 0.0);
    assert_eq!(*v.cameras[0].lens.zoom_profile(), ZoomProfile::default());
    let pana = Venue::from_toml_str(&SAMPLE.replace("\"raw\"", "\"panasonic\"")).unwrap();
    assert_eq!(
        *pana.cameras[0].lens.zoom_profile(),
        ZoomProfile::preset(ZoomVendor::Panasonic)
    );
    let custom = SAMPLE.replace(
        "zoom_profile = \"raw\"",
        "zoom_profile = { vendor = \"stype\", zoom_min = 0, zoom_max = 65535, focus_min = 100, focus_max = 200 }",
    );
    let c = Venue::from_toml_str(&custom).unwrap();
    let p = c.cameras[0].lens.zoom_profile();
    assert_eq!(p.vendor, ZoomVendor::Stype);
    assert_eq!((p.focus.min, p.focus.max), (100, 200));
    let bad = SAMPLE.replace(
        "zoom_profile = \"raw\"",
        "zoom_profile = { zoom_min = 10, zoom_max = 5, focus_min = 0, focus_max = 1 }",
    );
    assert_eq!(invalid_key(&bad), "camera[0].lens.zoom_profile");
}

// ---- lens table -------------------------------------------------------------------------------

#[test]
fn pchip_matches_a_hand_computed_curve() {
    // x = [0, 1, 2], y = [0, 1, 4]: slopes d = [0, 1.5, 4] (Fritsch–Carlson, SciPy ends).
    let x = [0.0, 1.0, 2.0];
    let y = [0.0, 1.0, 4.0];
    let d = pchip_slopes(&x, &y);
    assert_eq!(d, vec![0.0, 1.5, 4.0]);
    assert!((pchip_eval(&x, &y, &d, 0.5) - 0.3125).abs() < 1e-12);
    assert!((pchip_eval(&x, &y, &d, 1.5) - 2.1875).abs() < 1e-12);
    assert_eq!(pchip_eval(&x, &y, &d, -3.0), 0.0);
    assert_eq!(pchip_eval(&x, &y, &d, 9.0), 4.0);
}

fn random_table(rng: &mut ChaCha8Rng, n: usize) -> Vec<LensPoint> {
    let mut zoom = 0.0;
    let mut fx = 1500.0;
    (0..n)
        .map(|_| {
            zoom += rng.random_range(1000.0..200_000.0);
            fx += rng.random_range(1.0..3000.0);
            LensPoint {
                zoom,
                intrinsics: Intrinsics {
                    fx,
                    fy: fx * 1.001,
                    cx: 959.5 + rng.random_range(-3.0..3.0),
                    cy: 539.5 + rng.random_range(-3.0..3.0),
                    k1: rng.random_range(-0.2..0.05),
                    // Flat stretches must stay flat (no overshoot).
                    k2: if rng.random_bool(0.5) { 0.0 } else { 0.01 },
                },
                nodal_shift_m: rng.random_range(0.0..0.4),
            }
        })
        .collect()
}

#[test]
fn lens_table_passes_through_points_and_is_monotone_between() {
    let mut rng = ChaCha8Rng::seed_from_u64(61);
    for _ in 0..20 {
        let n = rng.random_range(2..9);
        let pts = random_table(&mut rng, n);
        let t = LensTable::new(1920, 1080, ZoomProfile::default(), pts.clone()).unwrap();
        for p in &pts {
            let s = t.at(p.zoom, 1920, 1080).unwrap();
            let (k, p_k) = (s.intrinsics, p.intrinsics);
            assert!((k.fx - p_k.fx).abs() < 1e-9 * p_k.fx);
            assert!((k.fy - p_k.fy).abs() < 1e-9 * p_k.fy);
            assert!((k.cx - p_k.cx).abs() < 1e-9 && (k.cy - p_k.cy).abs() < 1e-9);
            assert!((k.k1 - p_k.k1).abs() < 1e-12 && (k.k2 - p_k.k2).abs() < 1e-12);
            assert!((s.nodal_shift_m - p.nodal_shift_m).abs() < 1e-12);
        }
        for w in pts.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            let (ak, bk) = (a.intrinsics, b.intrinsics);
            let mut prev = ak.fx;
            for i in 1..=200 {
                let z = a.zoom + (b.zoom - a.zoom) * f64::from(i) / 200.0;
                let s = t.at(z, 1920, 1080).unwrap();
                let fx = s.intrinsics.fx;
                assert!(fx >= prev - 1e-9, "fx not monotone at zoom {z}");
                prev = fx;
                // No overshoot in any parameter.
                for (v, lo, hi) in [
                    (s.intrinsics.k1, ak.k1.min(bk.k1), ak.k1.max(bk.k1)),
                    (s.intrinsics.k2, ak.k2.min(bk.k2), ak.k2.max(bk.k2)),
                    (s.intrinsics.cx, ak.cx.min(bk.cx), ak.cx.max(bk.cx)),
                    (
                        s.nodal_shift_m,
                        a.nodal_shift_m.min(b.nodal_shift_m),
                        a.nodal_shift_m.max(b.nodal_shift_m),
                    ),
                ] {
                    assert!(
                        v >= lo - 1e-12 && v <= hi + 1e-12,
                        "{v} outside [{lo}, {hi}]"
                    );
                }
            }
        }
        // Clamped outside the table.
        let first = t.at(0.0, 1920, 1080).unwrap();
        assert_eq!(first.intrinsics.fx, pts[0].intrinsics.fx);
        let last = t.at(1e12, 1920, 1080).unwrap();
        assert_eq!(last.intrinsics.fx, pts[pts.len() - 1].intrinsics.fx);
    }
}

#[test]
fn lens_table_scales_to_other_sizes() {
    let v = Venue::from_toml_str(SAMPLE).unwrap();
    let lens = &v.cameras[0].lens;
    let full = lens.at(400_000.0, 1920, 1080).unwrap().intrinsics;
    let small = lens.at(400_000.0, 1280, 720).unwrap().intrinsics;
    let s = 1280.0 / 1920.0;
    assert!((small.fx - full.fx * s).abs() < 1e-9);
    assert!((small.fy - full.fy * s).abs() < 1e-9);
    assert!((small.cx - ((full.cx + 0.5) * s - 0.5)).abs() < 1e-9);
    assert!((small.cy - ((full.cy + 0.5) * s - 0.5)).abs() < 1e-9);
    assert_eq!((small.k1, small.k2), (full.k1, full.k2));
    assert!(lens.at(f64::NAN, 1920, 1080).is_err());
    assert!(lens.at(0.0, 0, 1080).is_err());
}

// ---- sensor pose ------------------------------------------------------------------------------

#[test]
fn sensor_camera_equals_head_camera() {
    let mut v = Venue::from_toml_str(SAMPLE).unwrap();
    let cal = &mut v.cameras[0];
    cal.encoder.pan_offset_deg = 0.5;
    cal.encoder.tilt_offset_deg = -0.25;
    cal.encoder.roll_offset_deg = 0.1;
    cal.mount.yaw_deg = 3.0;
    cal.mount.pitch_deg = -1.0;
    let packet = FreedPacket::from_units(
        1,
        HeadAngles {
            pan_deg: 12.0,
            tilt_deg: -20.0,
            roll_deg: 0.0,
        },
        [0.0; 3],
        400_000,
        0,
    )
    .unwrap();
    let reading = SensorReading::from(packet);
    let cam = cal.camera_for(&reading, 1920, 1080).unwrap();
    let angles = HeadAngles {
        pan_deg: 12.5,
        tilt_deg: -20.25,
        roll_deg: 0.1,
    };
    let lens = cal.lens.at(400_000.0, 1920, 1080).unwrap();
    assert_eq!(lens.intrinsics.fx, 5000.0);
    assert_eq!(lens.nodal_shift_m, 0.12);
    let expected = head_camera(&cal.mount, &angles, lens.intrinsics, lens.nodal_shift_m);
    assert_eq!(cam.intrinsics, expected.intrinsics);
    assert!((cam.rotation.matrix() - expected.rotation.matrix()).norm() < 1e-12);
    assert!((cam.translation - expected.translation).norm() < 1e-9);
    // And it sees the field where the head model says: the same pixel for a field point.
    let p = Point3::new(5.0, 0.0, 0.0);
    let (a, b) = (cam.project(&p).unwrap(), expected.project(&p).unwrap());
    assert!((a - b).norm() < 1e-6);
    // Between table points the camera uses the interpolated lens.
    let mut mid = reading;
    mid.zoom = 700_000.0;
    let cam_mid = cal.camera_for(&mid, 1280, 720).unwrap();
    let lens_mid = cal.lens.at(700_000.0, 1280, 720).unwrap();
    assert_eq!(cam_mid.intrinsics, lens_mid.intrinsics);
    assert!(cam_mid.intrinsics.fx > 5000.0 * 1280.0 / 1920.0);
}

#[test]
fn sensor_camera_rejects_bad_readings() {
    let v = Venue::from_toml_str(SAMPLE).unwrap();
    let cal = &v.cameras[0];
    let good = SensorReading {
        camera_id: 1,
        angles: HeadAngles {
            pan_deg: 1.0,
            tilt_deg: -10.0,
            roll_deg: 0.0,
        },
        position_mm: [0.0; 3],
        zoom: 1000.0,
        focus: 0.0,
    };
    assert!(cal.camera_for(&good, 1920, 1080).is_ok());
    let mut r = good;
    r.angles.pan_deg = f64::NAN;
    assert!(matches!(
        cal.camera_for(&r, 1920, 1080),
        Err(PoseError::BadValue {
            field: "pan_deg",
            ..
        })
    ));
    let mut r = good;
    r.angles.tilt_deg = 1e6;
    assert!(matches!(
        cal.camera_for(&r, 1920, 1080),
        Err(PoseError::BadValue {
            field: "tilt_deg",
            ..
        })
    ));
    let mut r = good;
    r.zoom = f64::INFINITY;
    assert!(matches!(
        cal.camera_for(&r, 1920, 1080),
        Err(PoseError::BadValue { field: "zoom", .. })
    ));
    let mut r = good;
    r.camera_id = 2;
    assert!(matches!(
        cal.camera_for(&r, 1920, 1080),
        Err(PoseError::CameraMismatch {
            expected: 1,
            got: 2
        })
    ));
    assert!(matches!(
        cal.camera_for(&good, 0, 1080),
        Err(PoseError::Lens(_))
    ));
}
