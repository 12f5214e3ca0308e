//! The search of a lost vision-only track: candidate poses around the last good one (or
//! around the motion it was lost in), a few per frame.

use super::PoseConfig;
use crate::field::YARD_M;
use crate::geometry::Camera;
use crate::vision::{Correction, LumaView, MeasureParams, Measurement, SolveResult, VisionError};

/// The search of a lost vision-only track (see [`search_offsets`]).
#[derive(Debug, Clone, Default)]
pub(super) struct Search {
    /// Offsets from the search centre, nearest first; empty until the first search frame.
    pub(super) offsets: Vec<Correction>,
    /// Next offset to try.
    pub(super) next: usize,
    /// The track's velocity when it was lost (per frame).
    pub(super) velocity: Correction,
    /// Frames since the track was lost.
    pub(super) frames: u32,
}

impl Search {
    /// The lost track's velocity as the search centre carries it now, while it does.
    pub(super) fn carried_velocity(&self) -> Option<Correction> {
        if self.frames == 0 || self.frames > SEARCH_CARRY_FRAMES {
            return None;
        }
        Some(self.motion_times(SEARCH_CARRY_DECAY.powf(f64::from(self.frames))))
    }

    /// The lost track's per-frame motion (rotation and zoom) times `f`.
    fn motion_times(&self, f: f64) -> Correction {
        Correction {
            rotation: self.velocity.rotation * f,
            log_scale: self.velocity.log_scale * f,
            k1: 0.0,
        }
    }

    /// The search centre `frames` frames after the loss: the motion of the lost track carried
    /// on, slowing down (a zoom or pan rarely stops dead), for [`SEARCH_CARRY_FRAMES`] frames;
    /// the last good pose after that (a cut: the motion before it says nothing).
    fn centre(&self) -> Correction {
        if self.frames > SEARCH_CARRY_FRAMES {
            return Correction::default();
        }
        let k = f64::from(self.frames);
        // Sum of SEARCH_CARRY_DECAY^j for j = 1..=k.
        let d = SEARCH_CARRY_DECAY;
        self.motion_times(d * (1.0 - d.powf(k)) / (1.0 - d))
    }
}

/// Measures and solves the correction from a start, with the given search settings.
pub(super) type TryFrom<'a> = dyn Fn(
        &Correction,
        &MeasureParams,
    ) -> (
        Vec<Measurement>,
        Result<SolveResult<Correction>, VisionError>,
    ) + 'a;

/// Frames after a loss during which the search follows the lost track's motion.
const SEARCH_CARRY_FRAMES: u32 = 20;
/// Per-frame decay of the lost track's motion in the search centre.
const SEARCH_CARRY_DECAY: f64 = 0.85;
/// Line measurements per search candidate (a full solve confirms the best).
const SEARCH_POINTS: usize = 80;

/// One frame of the search: [`PoseConfig::search_per_frame`] candidates around the search
/// centre, each measured at [`SEARCH_POINTS`] points and solved; the solution of the one
/// with the most inliers (the nearest on a tie: they come nearest first), if any fits.
pub(super) fn search_step(
    search: &mut Search,
    config: &PoseConfig,
    base: &Camera,
    luma: &LumaView<'_>,
    params: &MeasureParams,
    try_from: &TryFrom<'_>,
) -> Option<Correction> {
    if search.offsets.is_empty() {
        search.offsets = search_offsets(base, luma, config, params);
        search.next = 0;
    }
    let n = search.offsets.len();
    if n == 0 {
        return None;
    }
    let centre = search.centre();
    let quick = MeasureParams {
        max_points: SEARCH_POINTS,
        ..*params
    };
    let quick_inliers =
        config.enter_min_inliers * SEARCH_POINTS / config.max_measurements.max(SEARCH_POINTS);
    let mut best: Option<SolveResult<Correction>> = None;
    for _ in 0..config.search_per_frame.min(n) {
        let o = search.offsets[search.next % n];
        search.next = (search.next + 1) % n;
        let start = Correction {
            rotation: centre.rotation + o.rotation,
            log_scale: centre.log_scale + o.log_scale,
            k1: 0.0,
        };
        if let (_, Ok(r)) = try_from(&start, &quick)
            && r.residual_px <= config.enter_max_residual_px
            && r.inliers >= quick_inliers.max(config.exit_min_inliers)
            && r.lines >= config.vision_min_lines
            && best.as_ref().is_none_or(|b| r.inliers > b.inliers)
        {
            best = Some(r);
        }
    }
    best.map(|r| r.value)
}

/// Offsets of the search candidates from the search centre, nearest first: pan steps a little
/// under twice the acquisition range out to [`PoseConfig::search_yards`] at the aim point either
/// way, zoom steps of the same image size out to [`PoseConfig::search_zoom`], and a tilt step
/// either way.
fn search_offsets(
    base: &Camera,
    luma: &LumaView<'_>,
    config: &PoseConfig,
    params: &MeasureParams,
) -> Vec<Correction> {
    let fx = base.intrinsics.fx.max(1.0);
    let step_px = 1.6 * params.max_range_px;
    let pan_step = step_px / fx;
    let pan_max = config.search_yards * yard_angle(base);
    let pans = (pan_max / pan_step).ceil().clamp(0.0, 16.0) as i32;
    let half_w = 0.5 * f64::from(luma.width());
    let zoom_step = (step_px / half_w).max(0.02);
    let zooms = (config.search_zoom.max(1.0).ln() / zoom_step)
        .ceil()
        .clamp(0.0, 12.0) as i32;
    let tilt_step = step_px / fx;
    let mut out = Vec::new();
    for p in -pans..=pans {
        for z in -zooms..=zooms {
            for t in -1_i32..=1 {
                out.push(Correction {
                    // Camera y points down: a rotation about it pans; about x tilts.
                    rotation: nalgebra::Vector3::new(
                        f64::from(t) * tilt_step,
                        f64::from(p) * pan_step,
                        0.0,
                    ),
                    log_scale: f64::from(z) * zoom_step,
                    k1: 0.0,
                });
            }
        }
    }
    let cost = |c: &Correction| {
        (c.rotation.y / pan_step).abs()
            + (c.log_scale / zoom_step).abs()
            + 1.5 * (c.rotation.x / tilt_step).abs()
    };
    out.sort_by(|a, b| cost(a).total_cmp(&cost(b)));
    out
}

/// The pan angle (radians) that moves a camera's aim point one yard along the field: its
/// distance to the field at the image centre sets the scale.
pub(super) fn yard_angle(camera: &Camera) -> f64 {
    let k = camera.intrinsics;
    let range_m = camera
        .unproject_to_ground(nalgebra::Point2::new(k.cx, k.cy))
        .map_or(100.0, |g| (g - camera.centre()).norm().clamp(5.0, 500.0));
    (YARD_M / range_m).atan()
}
