//! Landmark registration on sample truth: clicked landmarks (the truth projections plus seeded
//! Gaussian click noise) at 1920x1080, bad-input errors, outliers.

mod common;

use common::{
    position_error_m, rotation_error_deg, truth_camera, truth_rms_px, visible_landmarks, with_noise,
};
use yardline_calibration::{
    CalibrationError, Correspondence, solve_landmarks, solve_landmarks_views,
};
use yardline_samples::{Sample, SampleConfig};

const SIZE: (u32, u32) = (1920, 1080);
/// Frames of the default sample spread over its zoom range.
const FRAMES: [u32; 6] = [0, 50, 100, 150, 200, 250];

fn sample_1080() -> Sample {
    Sample::new(SampleConfig {
        frames: 300,
        width: SIZE.0,
        height: SIZE.1,
        ..SampleConfig::default()
    })
    .expect("sample")
}

#[test]
fn six_noisy_clicks_with_a_known_lens_place_the_camera() {
    let sample = sample_1080();
    let (mut worst_pos, mut worst_rot, mut worst_rms) = (0.0_f64, 0.0_f64, 0.0_f64);
    for frame in FRAMES {
        let truth = sample.truth(frame).expect("truth");
        let tcam = truth_camera(&truth);
        let exact = visible_landmarks(&truth, 6, 40.0);
        for seed in 0..5 {
            let clicks = with_noise(&exact, 0.5, seed);
            let sol = solve_landmarks(&clicks, SIZE, Some(&tcam.intrinsics)).expect("solve");
            assert!(sol.outliers.is_empty(), "frame {frame}: {:?}", sol.outliers);
            assert_eq!(sol.residuals_px.len(), 6);
            let pos = position_error_m(&sol.camera, &tcam);
            let rot = rotation_error_deg(&sol.camera, &tcam);
            let drms = (sol.rms_px - truth_rms_px(&truth, &clicks)).abs();
            worst_pos = worst_pos.max(pos);
            worst_rot = worst_rot.max(rot);
            worst_rms = worst_rms.max(drms);
        }
    }
    println!(
        "clicks only, 6 points, sigma 0.5 px: worst position {worst_pos:.3} m, rotation \
         {worst_rot:.4} deg, |rms - truth rms| {worst_rms:.3} px"
    );
    assert!(worst_pos <= 0.15, "position error {worst_pos:.3} m");
    // Six clicks alone fix the orientation to a few hundredths of a degree; the line
    // refinement (tests/refine.rs) brings it under 0.02.
    assert!(worst_rot <= 0.1, "rotation error {worst_rot:.4} deg");
}

#[test]
fn unknown_lens_is_estimated_with_calibrate_camera() {
    let sample = sample_1080();
    for frame in [0_u32, 150] {
        let truth = sample.truth(frame).expect("truth");
        let tcam = truth_camera(&truth);
        let clicks = with_noise(&visible_landmarks(&truth, 10, 40.0), 0.5, 7);
        let sol = solve_landmarks(&clicks, SIZE, None).expect("solve");
        let k = sol.camera.intrinsics;
        let ferr = (k.fx / truth.intrinsics.fx - 1.0).abs();
        println!(
            "frame {frame}: fx {:.1} (truth {:.1}, {:.2} %), k1 {:.4} (truth {:.4}), rms {:.3} px, \
             position {:.3} m",
            k.fx,
            truth.intrinsics.fx,
            100.0 * ferr,
            k.k1,
            truth.intrinsics.k1,
            sol.rms_px,
            position_error_m(&sol.camera, &tcam)
        );
        assert!(ferr < 0.02, "focal error {:.2} %", 100.0 * ferr);
        assert!(sol.rms_px < 1.0, "rms {:.3}", sol.rms_px);
        assert!((k.cx - 959.5).abs() < 1e-9 && (k.fy - k.fx).abs() < 1e-9);
    }
}

#[test]
fn several_views_share_one_lens() {
    let sample = sample_1080();
    let truth = sample.truth(0).expect("truth");
    // Three consecutive frames: the zoom barely moves in 33 ms, the clicks differ.
    let views: Vec<Vec<Correspondence>> = [(0_u32, 6_usize), (1, 7), (2, 8)]
        .iter()
        .map(|&(f, n)| {
            let t = sample.truth(f).expect("truth");
            with_noise(&visible_landmarks(&t, n, 40.0), 0.5, u64::from(f))
        })
        .collect();
    let refs: Vec<&[Correspondence]> = views.iter().map(Vec::as_slice).collect();
    let sols = solve_landmarks_views(&refs, SIZE).expect("solve");
    assert_eq!(sols.len(), 3);
    let f = sols[0].camera.intrinsics.fx;
    assert!(
        sols.iter()
            .all(|s| (s.camera.intrinsics.fx - f).abs() < 1e-9)
    );
    let ferr = (f / truth.intrinsics.fx - 1.0).abs();
    assert!(
        ferr < 0.02,
        "shared focal {f:.1} vs {:.1}",
        truth.intrinsics.fx
    );
}

#[test]
fn a_gross_click_error_is_flagged_as_an_outlier() {
    let sample = sample_1080();
    let truth = sample.truth(100).expect("truth");
    let tcam = truth_camera(&truth);
    let mut clicks = with_noise(&visible_landmarks(&truth, 8, 40.0), 0.5, 3);
    clicks[5].image[0] += 25.0;
    clicks[5].image[1] -= 12.0;
    let sol = solve_landmarks(&clicks, SIZE, Some(&tcam.intrinsics)).expect("solve");
    assert_eq!(sol.outliers, vec![5]);
    assert!(sol.residuals_px[5] > 20.0, "{:?}", sol.residuals_px);
    assert!(sol.rms_px < 1.0, "rms of the rest {:.3}", sol.rms_px);
    assert!(position_error_m(&sol.camera, &tcam) < 0.15);
}

fn clicks_of_frame_0() -> (Vec<Correspondence>, yardline_engine::Camera) {
    let sample = sample_1080();
    let truth = sample.truth(0).expect("truth");
    (
        with_noise(&visible_landmarks(&truth, 6, 40.0), 0.5, 1),
        truth_camera(&truth),
    )
}

#[test]
fn fewer_than_four_points_is_an_input_error() {
    let (clicks, cam) = clicks_of_frame_0();
    let err = solve_landmarks(&clicks[..3], SIZE, Some(&cam.intrinsics)).expect_err("3 points");
    assert!(
        matches!(
            err,
            CalibrationError::TooFewPoints {
                found: 3,
                needed: 4
            }
        ),
        "{err}"
    );
    assert!(err.is_input_error());
}

#[test]
fn collinear_points_are_an_input_error() {
    let sample = sample_1080();
    let truth = sample.truth(0).expect("truth");
    let cam = truth_camera(&truth);
    // Five points on the field line between two visible landmarks.
    let ends = visible_landmarks(&truth, 2, 40.0);
    let (a, b) = (ends[0].field, ends[1].field);
    let clicks: Vec<Correspondence> = [0.0, 0.2, 0.45, 0.7, 1.0]
        .iter()
        .map(|&s| {
            let field = [a[0] + s * (b[0] - a[0]), a[1] + s * (b[1] - a[1]), 0.0];
            Correspondence {
                image: truth.project(field).expect("projects"),
                field,
            }
        })
        .collect();
    let err = solve_landmarks(&clicks, SIZE, Some(&cam.intrinsics)).expect_err("collinear");
    assert!(matches!(err, CalibrationError::Collinear { .. }), "{err}");
    assert!(err.to_string().contains("collinear"), "{err}");
}

#[test]
fn a_point_behind_the_camera_is_an_input_error() {
    let sample = sample_1080();
    let truth = sample.truth(0).expect("truth");
    let cam = truth_camera(&truth);
    let (mut clicks, _) = clicks_of_frame_0();
    // A point behind the head (which stands at y = -55 looking toward +y), paired with the
    // pixel the pinhole formula gives it through the back of the camera.
    let behind = cam.centre() + cam.rotation.inverse() * nalgebra::Vector3::new(3.0, 2.0, -20.0);
    let c = cam.to_camera(&behind);
    assert!(c.z < 0.0);
    let k = cam.intrinsics;
    let u = k.fx * c.x / c.z + k.cx;
    let v = k.fy * c.y / c.z + k.cy;
    assert!(
        (0.0..1919.0).contains(&u) && (0.0..1079.0).contains(&v),
        "{u} {v}"
    );
    clicks.push(Correspondence {
        image: [u, v],
        field: behind.into(),
    });
    let err = solve_landmarks(&clicks, SIZE, Some(&cam.intrinsics)).expect_err("behind");
    assert!(
        matches!(err, CalibrationError::PointBehindCamera { index: 6, .. }),
        "{err}"
    );
}

#[test]
fn points_from_another_image_size_are_an_input_error() {
    let (clicks, cam) = clicks_of_frame_0();
    // The same 1920x1080 clicks against a 1280x720 image.
    let err = solve_landmarks(&clicks, (1280, 720), None).expect_err("outside");
    assert!(
        matches!(err, CalibrationError::PointOutsideImage { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("1280x720"), "{err}");
    // 1920x1080 intrinsics against a small image that happens to contain the clicks.
    let inside: Vec<Correspondence> = clicks
        .iter()
        .map(|c| Correspondence {
            image: [c.image[0] * 0.25, c.image[1] * 0.25],
            field: c.field,
        })
        .collect();
    let err = solve_landmarks(&inside, (480, 270), Some(&cam.intrinsics)).expect_err("size");
    assert!(matches!(err, CalibrationError::ImageSize(_)), "{err}");
}

#[test]
fn nan_and_duplicate_points_are_input_errors() {
    let (mut clicks, cam) = clicks_of_frame_0();
    let mut dup = clicks.clone();
    dup[4] = dup[1];
    let err = solve_landmarks(&dup, SIZE, Some(&cam.intrinsics)).expect_err("duplicate");
    assert!(
        matches!(
            err,
            CalibrationError::Duplicate {
                first: 1,
                second: 4,
                ..
            }
        ),
        "{err}"
    );
    clicks[2].field[1] = f64::NAN;
    let err = solve_landmarks(&clicks, SIZE, Some(&cam.intrinsics)).expect_err("nan");
    assert!(
        matches!(
            err,
            CalibrationError::NonFinite {
                index: 2,
                what: "field"
            }
        ),
        "{err}"
    );
    assert!(err.is_input_error());
}
