//! The search of a lost vision-only track: candidate poses around the last good one (or
//! around the motion it was lost in), many ranked per frame against the frame's ridge map and
//! the best few measured and solved.

use super::PoseConfig;
use crate::field::YARD_M;
use crate::geometry::Camera;
use crate::vision::{
    Correction, LineTemplate, LumaView, MeasureParams, Measurement, RidgeMap, SolveResult,
    VisionError,
};

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
    /// The template points as seen from the base camera (built with the offsets).
    pub(super) rays: Rays,
    /// The best candidates ranked so far, not yet tried.
    pub(super) ranked: Vec<Ranked>,
    /// This frame's ridge map (its buffers kept).
    pub(super) map: RidgeMap,
}

impl Search {
    /// Starts over (no offsets, ranking or frames since a loss) with the lost track's
    /// `velocity`, keeping the ridge map's buffers.
    pub(super) fn restart(&mut self, velocity: Correction) {
        let map = std::mem::take(&mut self.map);
        *self = Self {
            velocity,
            map,
            ..Self::default()
        };
    }

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

/// Measures and solves the correction from a start, with the given search settings: the
/// measurements, the searches made for them (count) and the solve.
pub(super) type TryFrom<'a> = dyn Fn(
        &Correction,
        &MeasureParams,
    ) -> (
        Vec<Measurement>,
        usize,
        Result<SolveResult<Correction>, VisionError>,
    ) + 'a;

/// Frames after a loss during which the search follows the lost track's motion.
const SEARCH_CARRY_FRAMES: u32 = 20;
/// Per-frame decay of the lost track's motion in the search centre.
const SEARCH_CARRY_DECAY: f64 = 0.85;
/// A candidate fits only with at least this share of its searches among the inliers: a pose
/// a few yards off finds a line here and there.
const SEARCH_MIN_SHARE: f64 = 0.3;
/// Line measurements per search candidate (a full solve confirms the best).
const SEARCH_POINTS: usize = 80;

/// Candidates kept ranked between frames (count).
const RANKED_KEEP: usize = 8;
/// A candidate is kept ranked with at least this share of its lines' points on a line of the
/// frame's ridge map.
const RANK_MIN_SCORE: f64 = 0.3;
/// Least template points in view for a candidate to be ranked (count, at one a metre).
const RANK_MIN_IN_VIEW: usize = 12;
/// A candidate's score counts its points in view as at least this many (count): a view with
/// a handful of points on lines does not outrank one with many.
const RANK_FULL_VIEW: usize = 30;
/// Template points used for ranking: one in this many (the template is spaced a quarter
/// metre: one a metre; each hash mark keeps one).
const RANK_POINT_STRIDE: usize = 4;
/// Cells the ridge map's marks spread each way (tolerance of the ranking, in map cells).
const RANK_DILATE: usize = 2;

/// A candidate pose of the search, ranked by how many of its lines' points lie on lines of
/// the frame.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ranked {
    /// The candidate (a correction of the search's base camera).
    start: Correction,
    /// Its points in view on a line of the frame, less those a random pose would put there
    /// (the map's local density summed over its points in view).
    score: f64,
}

/// Template points as directions from the base camera (its camera frame), sorted by their
/// normalised image x, for ranking candidates: one candidate looks only at the points whose
/// x its view can hold.
#[derive(Debug, Clone, Default)]
pub(super) struct Rays {
    /// (normalised x, direction in the base camera's frame, the direction of a point 0.3 m
    /// further along the line), by normalised x.
    rays: Vec<(f64, nalgebra::Vector3<f64>, nalgebra::Vector3<f64>)>,
}

impl Rays {
    fn new(base: &Camera, template: &LineTemplate) -> Self {
        let mut rays: Vec<_> = template
            .points()
            .iter()
            .step_by(RANK_POINT_STRIDE)
            .filter_map(|p| {
                let d = base.to_camera(&p.field);
                let along = p.field + nalgebra::Vector3::new(p.tangent.x, p.tangent.y, 0.0) * 0.3;
                (d.z > 1e-9).then(|| (d.x / d.z, d, base.to_camera(&along)))
            })
            .collect();
        rays.sort_by(|a, b| a.0.total_cmp(&b.0));
        Self { rays }
    }

    /// The points of `start` in view that lie on a ridge of their own direction of `map`, the
    /// points in view (counts), and how many of them would lie on one by chance (the map's
    /// local density summed over them).
    fn score(
        &self,
        base: &Camera,
        start: &Correction,
        map: &RidgeMap,
        size: (f64, f64),
    ) -> (usize, usize, f64) {
        let scale = start.log_scale.exp();
        // The candidate's lens: the base's, zoomed; projected as `Camera::project` does.
        let k = crate::geometry::Intrinsics {
            fx: base.intrinsics.fx * scale,
            fy: base.intrinsics.fy * scale,
            ..base.intrinsics
        };
        let max_r2 = k.max_valid_r2();
        let rot = *nalgebra::Rotation3::new(start.rotation).matrix();
        // The view's centre and half width in the base camera's normalised x.
        let axis = rot.transpose() * nalgebra::Vector3::z();
        if axis.z <= 1e-6 {
            return (0, 0, 0.0);
        }
        let centre = axis.x / axis.z;
        let half = 0.5 * size.0 / k.fx;
        let (lo, hi) = (centre - 1.3 * half - 0.02, centre + 1.3 * half + 0.02);
        let first = self.rays.partition_point(|r| r.0 < lo);
        let (mut hits, mut in_view, mut chance) = (0_usize, 0_usize, 0.0_f64);
        let pixel = |d: &nalgebra::Vector3<f64>| {
            let p = rot * d;
            if p.z <= 1e-9 {
                return None;
            }
            let n = nalgebra::Point2::new(p.x / p.z, p.y / p.z);
            if n.coords.norm_squared() > max_r2 {
                return None;
            }
            let q = k.distort(n);
            Some((q.x, q.y))
        };
        for (x, d, along) in &self.rays[first..] {
            if *x > hi {
                break;
            }
            let Some((u, v)) = pixel(d) else { continue };
            if u < 0.0 || v < 0.0 || u > size.0 - 1.0 || v > size.1 - 1.0 {
                continue;
            }
            let Some((u2, v2)) = pixel(along) else {
                continue;
            };
            if let Some((hit, local)) = map.hit(u, v, u2 - u, v2 - v) {
                in_view += 1;
                hits += usize::from(hit);
                chance += local;
            }
        }
        (hits, in_view, chance)
    }
}

/// One frame of the search: the frame's ridge map ranks the next
/// [`PoseConfig::search_rank_per_frame`] candidates of the grid around the search centre (and
/// re-ranks those kept from earlier frames); the best [`PoseConfig::search_per_frame`] not yet
/// tried are measured at [`SEARCH_POINTS`] points each and solved; the solution of the one
/// with the most inliers, if any fits.
#[allow(
    clippy::too_many_arguments,
    reason = "one frame of the search: its state, settings, base camera, frame, template and solver"
)]
pub(super) fn search_step(
    search: &mut Search,
    config: &PoseConfig,
    base: &Camera,
    luma: &LumaView<'_>,
    template: &LineTemplate,
    params: &MeasureParams,
    try_from: &TryFrom<'_>,
) -> Option<Correction> {
    if search.offsets.is_empty() {
        search.offsets = search_offsets(base, luma, config);
        search.next = 0;
        search.rays = Rays::new(base, template);
        search.ranked.clear();
    }
    let n = search.offsets.len();
    if n == 0 {
        return None;
    }
    let size = (f64::from(luma.width()), f64::from(luma.height()));
    search.map.rebuild(luma, RANK_DILATE);
    let (map, rays) = (&search.map, &search.rays);
    // A candidate's score is the points it puts on lines beyond those a random pose would
    // (the map's density where each point falls: the stands and crowds are busier than the
    // grass): a wide view with many lines outranks a tight one that lines up a few.
    let rank = |(hits, in_view, chance): (usize, usize, f64)| {
        let share = hits as f64 / in_view.max(RANK_FULL_VIEW) as f64;
        (in_view >= RANK_MIN_IN_VIEW && share >= RANK_MIN_SCORE).then_some(hits as f64 - chance)
    };
    for r in &mut search.ranked {
        r.score = rank(rays.score(base, &r.start, map, size)).unwrap_or(f64::NEG_INFINITY);
    }
    search.ranked.retain(|r| r.score > 0.0);
    let centre = search.centre();
    for _ in 0..config.search_rank_per_frame.min(n) {
        let o = search.offsets[search.next % n];
        search.next = (search.next + 1) % n;
        let start = Correction {
            rotation: centre.rotation + o.rotation,
            log_scale: centre.log_scale + o.log_scale,
            k1: 0.0,
        };
        let Some(score) = rank(rays.score(base, &start, map, size)).filter(|&e| e > 0.0) else {
            continue;
        };
        if search.ranked.len() < RANKED_KEEP {
            search.ranked.push(Ranked { start, score });
        } else if let Some(worst) = search
            .ranked
            .iter_mut()
            .min_by(|a, b| a.score.total_cmp(&b.score))
            && worst.score < score
        {
            *worst = Ranked { start, score };
        }
    }
    search.ranked.sort_by(|a, b| b.score.total_cmp(&a.score));
    let quick = MeasureParams {
        max_points: SEARCH_POINTS,
        ..*params
    };
    let quick_inliers =
        config.enter_min_inliers * SEARCH_POINTS / config.max_measurements.max(SEARCH_POINTS);
    let mut best: Option<SolveResult<Correction>> = None;
    let tries = config.search_per_frame.min(search.ranked.len());
    for r in search.ranked.drain(..tries) {
        let (_, searched, solved) = try_from(&r.start, &quick);
        if let Ok(res) = solved
            && res.inliers as f64 >= SEARCH_MIN_SHARE * searched as f64
            && res.residual_px <= config.enter_max_residual_px
            && res.inliers >= quick_inliers.max(config.exit_min_inliers)
            && res.lines >= config.vision_min_lines
            && best.as_ref().is_none_or(|b| res.inliers > b.inliers)
        {
            best = Some(res);
        }
    }
    best.map(|r| r.value)
}

/// Offsets of the search candidates from the search centre, nearest first, a grid of
/// [`PoseConfig::search_step_px`]: pan out to [`PoseConfig::search_yards`] at the aim point
/// either way (at most 0.4 of the view's width), tilt out to half of that (at most 0.15 of
/// its height), zoom out to [`PoseConfig::search_zoom`] either way.
fn search_offsets(base: &Camera, luma: &LumaView<'_>, config: &PoseConfig) -> Vec<Correction> {
    let fx = base.intrinsics.fx.max(1.0);
    let (w, h) = (f64::from(luma.width()), f64::from(luma.height()));
    let step_px = config.search_step_px * w / super::REFERENCE_WIDTH_PX;
    let pan_step = step_px / fx;
    let pan_max = (config.search_yards * yard_angle(base)).min(0.4 * w / fx);
    let pans = (pan_max / pan_step).round().clamp(0.0, 40.0) as i32;
    let tilt_max = (0.5 * pan_max).min(0.15 * h / fx);
    let tilts = (tilt_max / pan_step).round().clamp(0.0, 12.0) as i32;
    let zoom_step = (step_px / (0.5 * w)).max(0.02);
    let zooms = (config.search_zoom.max(1.0).ln() / zoom_step)
        .ceil()
        .clamp(0.0, 20.0) as i32;
    let mut out = Vec::new();
    for p in -pans..=pans {
        for z in -zooms..=zooms {
            for t in -tilts..=tilts {
                out.push(Correction {
                    // Camera y points down: a rotation about it pans; about x tilts.
                    rotation: nalgebra::Vector3::new(
                        f64::from(t) * pan_step,
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
            + (c.rotation.x / pan_step).abs()
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
