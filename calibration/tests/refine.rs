//! Clicks, then the painted lines: six clicked landmarks with 0.5 px noise on rendered
//! 1920x1080 sample frames, refined with the engine's line measurements.

mod common;

use common::{
    position_error_m, rotation_error_deg, truth_camera, truth_rms_px, visible_landmarks, with_noise,
};
use yardline_calibration::landmarks::{residuals, rms};
use yardline_calibration::refine::{RefineOptions, refine_rgb};
use yardline_calibration::solve_landmarks;
use yardline_engine::field::{FieldKind, FieldModel};
use yardline_samples::{Sample, SampleConfig};

#[test]
fn six_clicks_refined_on_the_lines_meet_the_goals() {
    let sample = Sample::new(SampleConfig {
        frames: 300,
        width: 1920,
        height: 1080,
        ..SampleConfig::default()
    })
    .expect("sample");
    let field = FieldModel::new(FieldKind::Nfl);
    for frame in [0_u32, 150] {
        let rendered = sample.render_frame(frame).expect("render");
        let truth = rendered.truth;
        let tcam = truth_camera(&truth);
        let exact = visible_landmarks(&truth, 6, 40.0);
        for seed in 0..3 {
            let clicks = with_noise(&exact, 0.5, seed);
            let sol =
                solve_landmarks(&clicks, (1920, 1080), Some(&tcam.intrinsics)).expect("solve");
            let refined = refine_rgb(
                &rendered.rgb,
                1920,
                1080,
                &field,
                &sol.camera,
                &clicks,
                &RefineOptions::default(),
            )
            .expect("refine");
            let cam = refined.camera;
            let rms_px = rms(&residuals(&cam, &clicks));
            let truth_rms = truth_rms_px(&truth, &clicks);
            let pos = position_error_m(&cam, &tcam);
            let rot = rotation_error_deg(&cam, &tcam);
            println!(
                "frame {frame} seed {seed}: clicks rot {:.4} deg -> refined rot {rot:.4} deg, \
                 position {pos:.3} m, fx {:.2} (truth {:.2}), click rms {rms_px:.3} px (truth \
                 {truth_rms:.3}), lines {:.3} px on {} points / {} lines",
                rotation_error_deg(&sol.camera, &tcam),
                cam.intrinsics.fx,
                truth.intrinsics.fx,
                refined.residual_px,
                refined.inliers,
                refined.lines
            );
            assert!(pos <= 0.15, "position {pos:.3} m");
            assert!(rot <= 0.02, "rotation {rot:.4} deg");
            assert!(
                (rms_px - truth_rms).abs() <= 0.2,
                "rms {rms_px:.3} vs {truth_rms:.3}"
            );
        }
    }
}
