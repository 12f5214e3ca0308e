//! Venue file, lens table, sensor pose and the registration a calibration from clicks stores.

#![allow(
    clippy::float_cmp,
    clippy::unwrap_used,
    reason = "table and pose values are exact by construction; test helpers may unwrap"
)]

use nalgebra::{Point3, Vector3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use yardline_engine::geometry::Intrinsics;
use yardline_engine::head::{HeadAngles, Mount, head_camera};
use yardline_engine::lens::{LensPoint, LensTable, pchip_eval, pchip_slopes};
use yardline_engine::tracking::SensorReading;
use yardline_engine::tracking::freed::{FreedPacket, ZoomProfile, ZoomVendor};
use yardline_engine::venue::{PoseError, Registration, RegistrationError, Venue, VenueError};

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
        lens: None,
        timecode: None,
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

// ---- registration -----------------------------------------------------------------------------

/// A registration block for `SAMPLE`'s camera: level, looking along +y from (0, -55, 20).
const REGISTRATION: &str = r"
[camera.registration]
width = 1920
height = 1080
frame = 42
time_s = 0.7007
rotation = [1.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 1.0, 0.0]
translation = [0.0, 20.0, 55.0]
fx = 1662.8
fy = 1663.1
cx = 959.5
cy = 539.5
k1 = -0.12
k2 = 0.01
";

fn with_registration() -> String {
    format!("{SAMPLE}{REGISTRATION}")
}

/// A registration made on a 1920x1080 frame, pointed at midfield from a high sideline camera.
fn hd_registration() -> Registration {
    let mount = Mount {
        position: [4.0, -48.0, 18.0],
        yaw_deg: 0.0,
        pitch_deg: 0.0,
        roll_deg: 0.0,
    };
    let angles = HeadAngles {
        pan_deg: -3.0,
        tilt_deg: -19.0,
        roll_deg: 0.4,
    };
    let intrinsics = Intrinsics {
        fx: 2100.0,
        fy: 2101.5,
        cx: 962.25,
        cy: 537.75,
        k1: -0.08,
        k2: 0.015,
    };
    Registration {
        width: 1920,
        height: 1080,
        frame: Some(120),
        time_s: Some(2.002),
        camera: head_camera(&mount, &angles, intrinsics, 0.0),
    }
}

#[test]
fn venue_files_without_a_registration_still_load() {
    let v = Venue::from_toml_str(SAMPLE).unwrap();
    assert_eq!(v.cameras[0].registration, None);
    // And saving writes no registration table for them.
    let text = v.to_toml_string().unwrap();
    assert!(!text.contains("registration"), "{text}");
}

#[test]
fn registration_table_reads_in_the_documented_layout() {
    let v = Venue::from_toml_str(&with_registration()).unwrap();
    let r = v.cameras[0].registration.as_ref().unwrap();
    assert_eq!((r.width, r.height), (1920, 1080));
    assert_eq!(r.frame, Some(42));
    assert_eq!(r.time_s, Some(0.7007));
    let k = r.camera.intrinsics;
    assert_eq!(
        [k.fx, k.fy, k.cx, k.cy, k.k1, k.k2],
        [1662.8, 1663.1, 959.5, 539.5, -0.12, 0.01]
    );
    assert_eq!(
        r.camera.rotation_row_major(),
        [1.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 1.0, 0.0]
    );
    assert_eq!(r.camera.translation, Vector3::new(0.0, 20.0, 55.0));
    // DESIGN.md convention: R and t map field to camera, so the centre is the mount position
    // and a point straight ahead on the camera's level projects onto the principal point.
    assert!((r.camera.centre() - Point3::new(0.0, -55.0, 20.0)).norm() < 1e-12);
    let ahead = r.camera.project(&Point3::new(0.0, 0.0, 20.0)).unwrap();
    assert!((ahead.x - 959.5).abs() < 1e-9 && (ahead.y - 539.5).abs() < 1e-9);
    // Frame and time are optional.
    let bare = with_registration()
        .replace("frame = 42\n", "")
        .replace("time_s = 0.7007\n", "");
    let v = Venue::from_toml_str(&bare).unwrap();
    let r = v.cameras[0].registration.as_ref().unwrap();
    assert_eq!((r.frame, r.time_s), (None, None));
}

#[test]
fn registration_save_load_round_trip() {
    let mut v = Venue::from_toml_str(SAMPLE).unwrap();
    v.cameras[0].registration = Some(hd_registration());
    let mut second = v.cameras[0].clone();
    second.id = 4;
    second.registration = Some(Registration {
        frame: None,
        time_s: None,
        ..hd_registration()
    });
    v.cameras.push(second);
    let mut third = v.cameras[0].clone();
    third.id = 5;
    third.registration = None;
    v.cameras.push(third);
    let dir = tempdir();
    let path = dir.join("venue.toml");
    v.save(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.matches("[camera.registration]").count(), 2, "{text}");
    let back = Venue::load(&path).unwrap();
    assert_eq!(back, v);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn registration_rescales_to_a_video_of_the_same_aspect_ratio() {
    let r = hd_registration();
    // The calibration's own size: the camera exactly as stored.
    assert_eq!(r.camera_for_size(1920, 1080).unwrap(), r.camera);
    let s = 1280.0 / 1920.0;
    let small = r.camera_for_size(1280, 720).unwrap();
    assert_eq!(small.rotation, r.camera.rotation);
    assert_eq!(small.translation, r.camera.translation);
    assert_eq!(
        (small.intrinsics.k1, small.intrinsics.k2),
        (r.camera.intrinsics.k1, r.camera.intrinsics.k2)
    );
    // Every field point lands on the same spot of the picture: pixel centres at integers, so
    // u' = (u + 0.5) s - 0.5.
    let mut seen = 0;
    for x in [-45.72, -20.0, -9.144, 0.0, 9.144, 27.432] {
        for y in [-24.384, -6.0, 0.0, 8.0, 24.384] {
            let p = Point3::new(x, y, 0.0);
            let (Some(big), Some(px)) = (r.camera.project(&p), small.project(&p)) else {
                continue;
            };
            if !(0.0..1920.0).contains(&big.x) || !(0.0..1080.0).contains(&big.y) {
                continue;
            }
            seen += 1;
            assert!((px.x - ((big.x + 0.5) * s - 0.5)).abs() < 1e-9, "{p}");
            assert!((px.y - ((big.y + 0.5) * s - 0.5)).abs() < 1e-9, "{p}");
        }
    }
    assert!(seen >= 10, "only {seen} field points in view");
    // Up to 4K and back: the same camera.
    let uhd = r.camera_for_size(3840, 2160).unwrap();
    let back = Registration {
        width: 3840,
        height: 2160,
        camera: uhd,
        ..r.clone()
    }
    .camera_for_size(1920, 1080)
    .unwrap();
    let (a, b) = (back.intrinsics, r.camera.intrinsics);
    assert!((a.fx - b.fx).abs() < 1e-9 && (a.cy - b.cy).abs() < 1e-9);
}

#[test]
fn registration_refuses_another_aspect_ratio() {
    let r = hd_registration();
    let err = r.camera_for_size(1280, 960).unwrap_err();
    assert_eq!(
        err,
        RegistrationError::AspectRatio {
            calibrated_width: 1920,
            calibrated_height: 1080,
            width: 1280,
            height: 960
        }
    );
    assert_eq!(
        err.to_string(),
        "the calibration was made at 1920x1080; this video is 1280x960 (another aspect \
         ratio): calibrate again at this size"
    );
    // Within 0.5 %: scaled (720x404 is 0.3 % off 16:9); beyond: refused (720x400 is 1.25 %).
    assert!(r.camera_for_size(720, 404).is_ok());
    assert!(matches!(
        r.camera_for_size(720, 400),
        Err(RegistrationError::AspectRatio { .. })
    ));
    assert_eq!(
        r.camera_for_size(0, 720),
        Err(RegistrationError::BadSize {
            width: 0,
            height: 720
        })
    );
}

#[test]
fn bad_registrations_name_the_camera_and_field() {
    let with = |from: &str, to: &str| {
        let block = REGISTRATION.replace(from, to);
        assert_ne!(block, REGISTRATION, "{from:?} is not in the registration");
        format!("{SAMPLE}{block}")
    };
    for (from, to, key) in [
        ("width = 1920", "width = 0", "width"),
        ("height = 1080", "height = -5", "height"),
        ("frame = 42", "frame = -1", "frame"),
        ("time_s = 0.7007", "time_s = nan", "time_s"),
        ("time_s = 0.7007", "time_s = -2.0", "time_s"),
        ("fx = 1662.8", "fx = 0.0", "fx"),
        ("fy = 1663.1", "fy = -1663.1", "fy"),
        ("cx = 959.5", "cx = inf", "cx"),
        ("k2 = 0.01", "k2 = nan", "k2"),
        ("[0.0, 20.0, 55.0]", "[0.0, nan, 55.0]", "translation[1]"),
        ("[1.0, 0.0, 0.0,", "[inf, 0.0, 0.0,", "rotation[0]"),
        // Off orthonormal by 1e-5.
        ("[1.0, 0.0, 0.0,", "[1.00001, 0.0, 0.0,", "rotation"),
        // A reflection.
        ("[1.0, 0.0, 0.0,", "[-1.0, 0.0, 0.0,", "rotation"),
    ] {
        assert_eq!(
            invalid_key(&with(from, to)),
            format!("camera[0].registration.{key}"),
            "{to:?}"
        );
    }
    // A reason a person can act on.
    let err = Venue::from_toml_str(&with("[1.0, 0.0, 0.0,", "[1.00001, 0.0, 0.0,"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("camera[0].registration.rotation") && err.contains("orthonormal"),
        "{err}"
    );
    // Missing or misspelt keys are parse errors that name them.
    let missing = parse_message(&with("k1 = -0.12\n", ""));
    assert!(missing.contains("k1"), "{missing}");
    let typo = parse_message(&with("time_s = 0.7007", "time = 0.7007"));
    assert!(typo.contains("unknown field `time`"), "{typo}");
    // A registration built in code that the loader would refuse is not saved.
    let mut v = Venue::from_toml_str(SAMPLE).unwrap();
    let mut r = hd_registration();
    r.camera.intrinsics.fx = f64::NAN;
    v.cameras[0].registration = Some(r);
    assert!(matches!(
        v.to_toml_string(),
        Err(VenueError::Invalid { key, .. }) if key == "camera[0].registration.fx"
    ));
}
