//! Geometry core: projection, distortion, head model, field model, tessellation.

#![allow(
    clippy::unwrap_used,
    clippy::float_cmp,
    clippy::needless_range_loop,
    reason = "test code: a failed unwrap is a failed test; exact float results are the assertion"
)]

use nalgebra::{Point2, Point3, Rotation3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use yardline_engine::field::{
    FOOT_M, FieldKind, FieldModel, INCH_M, LineKind, Shape, YARD_M, parse_yard, x_to_yard,
    yard_label, yard_to_x,
};
use yardline_engine::graphics::{GroundStrip, TessellationOptions, tessellate};
use yardline_engine::head::{HeadAngles, Mount, angles_from_rotation, head_camera};
use yardline_engine::{Camera, Crown, Intrinsics};

/// A broadcast-style camera: head on the near side, high up, looking at the field.
fn broadcast_camera(width: u32, height: u32, hfov_deg: f64, k1: f64, k2: f64) -> Camera {
    let mut k = Intrinsics::from_hfov(width, height, hfov_deg.to_radians());
    k.k1 = k1;
    k.k2 = k2;
    let mount = Mount {
        position: [0.0, -60.0, 25.0],
        ..Mount::default()
    };
    let angles = HeadAngles {
        pan_deg: 8.0,
        tilt_deg: -22.0,
        roll_deg: 0.3,
    };
    head_camera(&mount, &angles, k, 0.1)
}

#[test]
fn project_then_unproject_round_trips_on_the_ground() {
    let cam = broadcast_camera(1920, 1080, 40.0, -0.08, 0.01);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut n = 0;
    for _ in 0..2000 {
        let p = Point3::new(
            rng.random_range(-60.0..60.0),
            rng.random_range(-30.0..30.0),
            0.0,
        );
        let Some(px) = cam.project(&p) else { continue };
        if !(0.0..1920.0).contains(&px.x) || !(0.0..1080.0).contains(&px.y) {
            continue;
        }
        let back = cam.unproject_to_ground(px).expect("ray hits the ground");
        assert!((back - p).norm() < 1e-6, "{p} -> {px} -> {back}");
        n += 1;
    }
    assert!(n > 100, "only {n} points landed in the image");
}

#[test]
fn unproject_to_crowned_surface_round_trips() {
    let cam = broadcast_camera(1920, 1080, 50.0, -0.05, 0.0);
    let crown = Crown {
        height_m: 0.3,
        half_width_m: 24.384,
    };
    for &(x, y) in &[(0.0, 0.0), (5.0, 10.0), (-12.0, -15.0), (20.0, 20.0)] {
        let p = Point3::new(x, y, crown.height_at(y));
        let px = cam.project(&p).expect("in front");
        let back = cam.unproject_to_surface(px, &crown).expect("hits");
        assert!((back - p).norm() < 1e-6, "{p} vs {back}");
    }
}

#[test]
fn distortion_inverse_converges_inside_the_image() {
    for &(k1, k2) in &[
        (-0.25, 0.05),
        (-0.1, 0.0),
        (0.08, 0.01),
        (0.0, 0.0),
        (-0.02, -0.01),
    ] {
        let k = Intrinsics {
            fx: 1100.0,
            fy: 1100.0,
            cx: 959.5,
            cy: 539.5,
            k1,
            k2,
        };
        for v in (0..1080).step_by(60) {
            for u in (0..1920).step_by(60) {
                let px = Point2::new(f64::from(u), f64::from(v));
                let n = k.undistort(px).expect("inside the valid radius");
                let again = k.distort(n);
                assert!(
                    (again - px).norm() < 1e-9,
                    "k1={k1} k2={k2} {px} -> {again}"
                );
            }
        }
    }
}

#[test]
fn behind_the_camera_does_not_project() {
    let cam = broadcast_camera(1280, 720, 40.0, 0.0, 0.0);
    // Far behind the head (the head is at y = -60 looking toward +y).
    assert!(cam.project(&Point3::new(0.0, -200.0, 0.0)).is_none());
    // The ground right in front projects.
    assert!(cam.project(&Point3::new(0.0, 0.0, 0.0)).is_some());
}

#[test]
fn straight_down_camera_maps_metres_linearly() {
    // Camera 50 m above the centre looking straight down, image x along field +x,
    // image y along field -y.
    let k = Intrinsics {
        fx: 1000.0,
        fy: 1000.0,
        cx: 640.0,
        cy: 360.0,
        k1: 0.0,
        k2: 0.0,
    };
    let c2f = Rotation3::from_matrix(&nalgebra::Matrix3::new(
        1.0, 0.0, 0.0, //
        0.0, -1.0, 0.0, //
        0.0, 0.0, -1.0,
    ));
    let cam = Camera::from_centre(k, c2f, Point3::new(0.0, 0.0, 50.0));
    for &(x, y) in &[
        (0.0, 0.0),
        (5.0, 0.0),
        (0.0, 5.0),
        (-10.0, 7.5),
        (12.5, -3.0),
    ] {
        let px = cam.project(&Point3::new(x, y, 0.0)).unwrap();
        assert!((px.x - (640.0 + 20.0 * x)).abs() < 1e-9);
        assert!((px.y - (360.0 - 20.0 * y)).abs() < 1e-9);
    }
}

#[test]
fn head_angles_follow_the_documented_signs() {
    let k = Intrinsics::from_hfov(1280, 720, 40f64.to_radians());
    let mount = Mount {
        position: [0.0, -50.0, 10.0],
        ..Mount::default()
    };
    let zero = head_camera(&mount, &HeadAngles::default(), k, 0.0);
    // All zero: looks along +y, level: a point straight ahead at head height is the centre.
    let ahead = zero.project(&Point3::new(0.0, 0.0, 10.0)).unwrap();
    assert!((ahead.x - k.cx).abs() < 1e-9 && (ahead.y - k.cy).abs() < 1e-9);
    // Pan right: the point straight ahead moves left in the image.
    let panned = head_camera(
        &mount,
        &HeadAngles {
            pan_deg: 5.0,
            ..HeadAngles::default()
        },
        k,
        0.0,
    );
    assert!(panned.project(&Point3::new(0.0, 0.0, 10.0)).unwrap().x < k.cx - 10.0);
    // Tilt up: the point moves down in the image.
    let tilted = head_camera(
        &mount,
        &HeadAngles {
            tilt_deg: 5.0,
            ..HeadAngles::default()
        },
        k,
        0.0,
    );
    assert!(tilted.project(&Point3::new(0.0, 0.0, 10.0)).unwrap().y > k.cy + 10.0);
    // Roll clockwise (seen from behind): a point right of centre moves up in the image.
    let rolled = head_camera(
        &mount,
        &HeadAngles {
            roll_deg: 5.0,
            ..HeadAngles::default()
        },
        k,
        0.0,
    );
    let right = Point3::new(10.0, 0.0, 10.0);
    assert!(rolled.project(&right).unwrap().y < zero.project(&right).unwrap().y - 5.0);
}

#[test]
fn head_angles_invert() {
    let mount = Mount {
        position: [1.0, -55.0, 20.0],
        yaw_deg: 1.5,
        pitch_deg: -0.4,
        roll_deg: 0.2,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for _ in 0..100 {
        let a = HeadAngles {
            pan_deg: rng.random_range(-80.0..80.0),
            tilt_deg: rng.random_range(-60.0..30.0),
            roll_deg: rng.random_range(-5.0..5.0),
        };
        let c2f = yardline_engine::head::camera_to_field(&mount, &a);
        let b = angles_from_rotation(&mount, &c2f);
        assert!((a.pan_deg - b.pan_deg).abs() < 1e-9);
        assert!((a.tilt_deg - b.tilt_deg).abs() < 1e-9);
        assert!((a.roll_deg - b.roll_deg).abs() < 1e-9);
    }
}

#[test]
fn nodal_shift_moves_the_centre_along_the_optical_axis() {
    let k = Intrinsics::from_hfov(1280, 720, 0.5);
    let mount = Mount {
        position: [0.0, -50.0, 10.0],
        ..Mount::default()
    };
    let cam = head_camera(&mount, &HeadAngles::default(), k, 0.25);
    let c = cam.centre();
    assert!((c - Point3::new(0.0, -49.75, 10.0)).norm() < 1e-12);
}

#[test]
fn field_model_matches_the_rulebooks() {
    let nfl = FieldModel::new(FieldKind::Nfl);
    let ncaa = FieldModel::new(FieldKind::Ncaa);
    let hs = FieldModel::new(FieldKind::Hs);
    let soccer = FieldModel::new(FieldKind::Soccer);
    let eq = |a: f64, b: f64| (a - b).abs() < 1e-9;
    // 1. Goal line to goal line: 100 yd.
    assert!(eq(2.0 * nfl.half_length_m, 100.0 * YARD_M));
    // 2. Sideline to sideline: 160 ft (53 1/3 yd).
    assert!(eq(2.0 * nfl.half_width_m, 160.0 * FOOT_M));
    // 3. End line to end line: 120 yd.
    assert!(eq(2.0 * nfl.half_length_with_end_zones_m, 120.0 * YARD_M));
    // 4-6. Hash separation NFL 18 ft 6 in, NCAA 40 ft, HS 53 ft 4 in.
    let hash_sep = |m: &FieldModel| {
        let ys: Vec<f64> = m
            .lines_of(LineKind::Hash)
            .map(|l| match l.shape {
                Shape::Segment { a, b } => a[1].abs().min(b[1].abs()),
                Shape::Arc { .. } => unreachable!(),
            })
            .collect();
        2.0 * ys.iter().copied().fold(f64::INFINITY, f64::min)
    };
    assert!(eq(hash_sep(&nfl), 18.0 * FOOT_M + 6.0 * INCH_M));
    assert!(eq(hash_sep(&ncaa), 40.0 * FOOT_M));
    assert!(eq(hash_sep(&hs), 53.0 * FOOT_M + 4.0 * INCH_M));
    // 7. 21 lines across the field every 5 yd (goal lines included), 4 in wide.
    let across: Vec<_> = nfl
        .lines
        .iter()
        .filter(|l| matches!(l.kind, LineKind::YardLine | LineKind::GoalLine))
        .collect();
    assert_eq!(across.len(), 21);
    assert!(across.iter().all(|l| eq(l.width_m, 4.0 * INCH_M)));
    // 8. Hash marks and ticks every yard except the 5-yd lines, two rows each: 80 x 2.
    assert_eq!(nfl.lines_of(LineKind::Hash).count(), 160);
    assert_eq!(nfl.lines_of(LineKind::Tick).count(), 160);
    // 9. Soccer: 105 x 68, centre circle radius 9.15 m, penalty spot 11 m from the goal line.
    assert!(eq(soccer.half_length_m, 52.5) && eq(soccer.half_width_m, 34.0));
    let circle = soccer
        .lines_of(LineKind::Circle)
        .find_map(|l| match l.shape {
            Shape::Arc {
                centre: [0.0, 0.0],
                radius,
                ..
            } => Some(radius),
            _ => None,
        })
        .unwrap();
    assert!(eq(circle, 9.15));
    let spots: Vec<f64> = soccer
        .lines_of(LineKind::Spot)
        .filter_map(|l| match l.shape {
            Shape::Arc { centre, .. } if centre[0] != 0.0 => Some(centre[0]),
            _ => None,
        })
        .collect();
    assert!(spots.iter().all(|x| eq(52.5 - x.abs(), 11.0)));
    // 10. Penalty area 40.32 m wide, 16.5 m deep.
    let boxes: Vec<[f64; 2]> = soccer
        .lines_of(LineKind::Box)
        .filter_map(|l| match l.shape {
            Shape::Segment { a, b } if eq(a[0], b[0]) => Some([a[0], (b[1] - a[1]).abs()]),
            _ => None,
        })
        .collect();
    assert!(
        boxes
            .iter()
            .any(|b| eq(52.5 - b[0].abs(), 16.5) && eq(b[1], 40.32))
    );
    // Numbers: tops 9 yd from the sideline.
    assert!(
        nfl.number_boxes
            .iter()
            .any(|b| eq(b[2][1], nfl.half_width_m - 9.0 * YARD_M))
    );
}

#[test]
fn yard_helpers() {
    assert!((yard_to_x(50.0)).abs() < 1e-12);
    assert!((yard_to_x(0.0) + 45.72).abs() < 1e-9);
    assert!((x_to_yard(yard_to_x(37.5)) - 37.5).abs() < 1e-12);
    assert_eq!(parse_yard("own 35").unwrap(), 35.0);
    assert_eq!(parse_yard("opp 35").unwrap(), 65.0);
    assert_eq!(parse_yard("Opponent 20").unwrap(), 80.0);
    assert_eq!(parse_yard(" 42.5 ").unwrap(), 42.5);
    assert!(parse_yard("own 60").is_err());
    assert!(parse_yard("own").is_err());
    assert!(parse_yard("nan").is_err());
    assert_eq!(yard_label(35.0), "own 35");
    assert_eq!(yard_label(65.0), "opp 35");
    assert_eq!(yard_label(50.0), "50");
    for y in [1.0, 22.0, 49.0, 51.0, 99.0] {
        assert_eq!(parse_yard(&yard_label(y)).unwrap(), y);
    }
    assert_eq!("NCAA".parse::<FieldKind>().unwrap(), FieldKind::Ncaa);
    assert!("rugby".parse::<FieldKind>().is_err());
}

#[test]
fn tessellation_chord_error_is_bounded_at_4k() {
    let (w, h) = (3840, 2160);
    for &(hfov, k1, k2) in &[(60.0, -0.22, 0.04), (30.0, -0.08, 0.0), (4.0, -0.005, 0.0)] {
        let cam = broadcast_camera(w, h, hfov, k1, k2);
        let opts = TessellationOptions::new(w, h);
        for yard in [20.0, 45.0, 50.0, 58.0] {
            let strip = GroundStrip::football_line(yard, 0.2);
            let mesh = tessellate(&cam, &strip, &Crown::default(), &opts);
            if mesh.is_empty() {
                continue;
            }
            for run in &mesh.runs {
                for pair in run.vertices.chunks(2).collect::<Vec<_>>().windows(2) {
                    for side in 0..2 {
                        let (v0, v1) = (pair[0][side], pair[1][side]);
                        for t in [0.1, 0.3, 0.5, 0.7, 0.9] {
                            let along = v0.along + (v1.along - v0.along) * t;
                            let p = strip.point(along, v0.across, &Crown::default());
                            let px = cam.project(&p).unwrap();
                            let d = dist_to_segment(px, v0.pixel, v1.pixel);
                            assert!(d < 0.05, "hfov {hfov} yard {yard}: chord error {d} px");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn tessellation_skips_invisible_lines() {
    let cam = broadcast_camera(1920, 1080, 10.0, 0.0, 0.0);
    let opts = TessellationOptions::new(1920, 1080);
    // Goal line far to the side of a tight shot near midfield.
    let mesh = tessellate(
        &cam,
        &GroundStrip::football_line(0.0, 0.2),
        &Crown::default(),
        &opts,
    );
    assert!(mesh.is_empty());
    // A camera looking up at the sky.
    let k = Intrinsics::from_hfov(1920, 1080, 0.5);
    let sky = head_camera(
        &Mount {
            position: [0.0, -60.0, 20.0],
            ..Mount::default()
        },
        &HeadAngles {
            tilt_deg: 40.0,
            ..HeadAngles::default()
        },
        k,
        0.0,
    );
    let mesh = tessellate(
        &sky,
        &GroundStrip::football_line(50.0, 0.2),
        &Crown::default(),
        &opts,
    );
    assert!(mesh.is_empty());
}

#[test]
fn tessellation_covers_the_visible_line() {
    let cam = broadcast_camera(1920, 1080, 40.0, -0.05, 0.0);
    let opts = TessellationOptions::new(1920, 1080);
    let strip = GroundStrip::football_line(50.0, 0.2);
    let mesh = tessellate(&cam, &strip, &Crown::default(), &opts);
    assert_eq!(mesh.runs.len(), 1);
    let b = mesh.runs[0].bounds().unwrap();
    // The midfield line runs from below the picture up to the far sideline inside it.
    let far = cam
        .project(&strip.point(strip.length(), 0.0, &Crown::default()))
        .unwrap();
    assert!(b[3] > 1079.0, "{b:?}");
    assert!(
        far.y > 0.0 && (b[1] - far.y).abs() < 10.0,
        "{b:?} vs far end {far}"
    );
}

fn dist_to_segment(p: Point2<f64>, a: Point2<f64>, b: Point2<f64>) -> f64 {
    let ab = b - a;
    let t = ((p - a).dot(&ab) / ab.norm_squared()).clamp(0.0, 1.0);
    (p - (a + ab * t)).norm()
}
