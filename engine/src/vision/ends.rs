//! Line ends: where a painted mark stops on open grass (hash marks, the inner ends of the
//! sideline ticks).
//!
//! A search across a line fixes where the line lies sideways; a search along it at a free end
//! fixes where it lies along. At a tight zoom every line in view runs the same way (yard
//! lines and hash marks), and the ends of the hash marks are what holds the camera along
//! them: without them a zoom into the crowd slides the pose along the lines unseen.
//!
//! An end is measured on a luma profile along the line through its predicted end, averaged
//! across the middle of the line: the step from paint to grass is located by its area (for a
//! step blurred by any symmetric kernel the area between the two levels ends exactly at the
//! edge), then checked: two flat levels, the line brighter by the least contrast of a line,
//! and the grass beyond the end as bright as the grass beside the line (a shoe, a shadow or a
//! player's sock beyond it gives nothing).

use nalgebra::{Point2, Point3, Vector2};

use super::luma::LumaView;
use super::measure::{
    MeasureParams, PROBE_M, Probe, Projector, SIDE_NOISE_LEVELS, SIDE_NOISE_RATIO, Task,
    UNIQUE_RATIO, mean_std,
};
use super::template::{TemplatePoint, crowds, pieces};
use crate::field::{FieldModel, LineKind, Shape};

/// Open grass a free end needs beyond it (metres).
const FREE_M: f64 = 0.5;
/// Steps along the open grass beyond an end at which the clearance is checked (metres).
const FREE_STEP_M: f64 = 0.05;
/// Least image width of a line whose end is measured (pixels): narrower, the profile along
/// it cannot be kept on the paint.
const MIN_WIDTH_PX: f64 = 3.0;
/// Half-width of the edge's transition window (pixels): anti-aliasing, blur and coding.
const EDGE_HALF_PX: i32 = 2;
/// Least length of each flat level either side of the edge window (pixels).
const LEVEL_PX: i32 = 3;
/// Most length of each flat level (pixels).
const MAX_LEVEL_PX: i32 = 8;
/// Least luma step from the paint to the grass (code values).
const MIN_STEP_LEVELS: f32 = 8.0;
/// Allowed difference between the grass beyond the end and beside the line: this share of
/// the step...
const GRASS_STEP_RATIO: f32 = 0.3;
/// ...plus this many code values.
const GRASS_STEP_LEVELS: f32 = 4.0;
/// Pixels between the line's edge and the grass sampled beside it (pixels).
const BESIDE_GAP_PX: f64 = 1.5;
/// Least cosine between the end's edge normal and the line's direction: a view along the
/// edge sees no end.
const MIN_EDGE_COS: f64 = 0.5;
/// Pixels kept clear of the image border by a profile (pixels).
const BORDER_PX: f64 = 2.0;

/// The free ends of `field`'s straight lines: an end with `FREE_M` of open grass beyond it,
/// as a template point whose tangent points out of the line, `clearance_m` the open grass
/// beyond (metres) and `room_m` the line behind (metres).
pub(super) fn free_ends(field: &FieldModel) -> Vec<TemplatePoint> {
    let pieces = pieces(field);
    let mut out = Vec::new();
    for (i, line) in field.lines.iter().enumerate() {
        let Shape::Segment { a, b } = line.shape else {
            continue;
        };
        let (a, b) = (Point2::from(a), Point2::from(b));
        let len = (b - a).norm();
        if line.kind == LineKind::Spot || len <= 0.0 {
            continue;
        }
        for (end, other) in [(a, b), (b, a)] {
            let out_dir = (end - other) / len;
            let steps = (FREE_M / FREE_STEP_M).round() as usize;
            let free = (0..=steps).all(|k| {
                let p = end + out_dir * (k as f64 * FREE_STEP_M);
                pieces
                    .iter()
                    .all(|&(s0, s1, j, w)| j == i || !crowds(p, line.width_m, (s0, s1, w)))
            });
            if free {
                out.push(TemplatePoint {
                    field: Point3::new(end.x, end.y, field.surface_z(end.x, end.y)),
                    tangent: out_dir,
                    width_m: line.width_m,
                    clearance_m: FREE_M,
                    room_m: len,
                    line: i as u32,
                });
            }
        }
    }
    out
}

/// Length of each flat level beside the edge window for a line `width_px` wide (pixels).
fn level_px(width_px: f64) -> i32 {
    LEVEL_PX.max(((0.25 * width_px) as i32).min(MAX_LEVEL_PX))
}

/// Plans the search of one free end, if it is in view and large enough to measure.
pub(super) fn plan_end<P: Projector>(
    proj: &P,
    end: &TemplatePoint,
    params: &MeasureParams,
    size: (f64, f64),
) -> Option<Task> {
    let p = proj.project_point(&end.field)?;
    // Out of view, whatever its size: not worth the probes.
    if p.x < 0.0 || p.y < 0.0 || p.x > size.0 || p.y > size.1 {
        return None;
    }
    let probe = Probe::at(proj, end, p)?;
    let along = probe.along;
    let along_px_per_m = probe.along_px / PROBE_M;
    let width_px = probe.across_px_per_m() * end.width_m;
    // The end's edge runs along the ground normal's image, skewed from the line's image normal
    // by the perspective: measured along its own normal, where the profile crosses it does not
    // matter.
    let edge = probe.across;
    let en = edge.norm();
    if !(en.is_finite() && en > 0.0) {
        return None;
    }
    let mut normal = Vector2::new(-edge.y, edge.x) / en;
    if normal.dot(&along) < 0.0 {
        normal = -normal;
    }
    if normal.dot(&along) < MIN_EDGE_COS {
        return None;
    }
    if !(width_px.is_finite() && width_px >= MIN_WIDTH_PX) {
        return None;
    }
    let levels = f64::from(EDGE_HALF_PX + level_px(width_px) + 1);
    let inside_px = along_px_per_m * end.room_m;
    let outside_px = along_px_per_m * end.clearance_m;
    let range_px = params
        .max_range_px
        .min(inside_px - levels)
        .min(outside_px - levels);
    if range_px.is_nan() || range_px < params.min_range_px {
        return None;
    }
    let reach = range_px + levels + 0.5 * width_px + BESIDE_GAP_PX + 2.0;
    if p.x < reach + BORDER_PX
        || p.y < reach + BORDER_PX
        || p.x > size.0 - 1.0 - reach - BORDER_PX
        || p.y > size.1 - 1.0 - reach - BORDER_PX
    {
        return None;
    }
    Some(Task {
        point: *end,
        predicted: p,
        normal,
        width_px,
        range_px,
        end: Some(along),
    })
}

/// Locates a free end of a line along its image direction (see the module docs): the
/// observed end and the step from paint to grass (code values).
pub(super) fn locate_end(luma: &LumaView<'_>, task: &Task) -> Option<(Point2<f64>, f32)> {
    let along = task.end?;
    let across = Vector2::new(-along.y, along.x);
    let p = task.predicted;
    let range = task.range_px.floor() as i32;
    let level = level_px(task.width_px);
    let reach = range + EDGE_HALF_PX + level;
    // Across the middle of the line: its centre and a third of its half-width either side.
    let off = (0.3 * task.width_px)
        .min(0.5 * task.width_px - 1.0)
        .max(0.0);
    let at = |s: f64, o: f64| {
        let q = p + along * s + across * o;
        luma.bilinear(q.x, q.y)
    };
    let profile: Vec<f32> = (-reach..=reach)
        .map(|j| {
            let s = f64::from(j);
            (at(s, -off) + at(s, 0.0) + at(s, off)) / 3.0
        })
        .collect();
    let idx = |j: i32| (j + reach) as usize;
    let slice = |a: i32, b: i32| &profile[idx(a)..=idx(b)];
    // Paint before (negative along), grass after.
    let step = |j: i32| {
        let inside = slice(j - EDGE_HALF_PX - level, j - EDGE_HALF_PX - 1);
        let outside = slice(j + EDGE_HALF_PX + 1, j + EDGE_HALF_PX + level);
        mean_std(inside).0 - mean_std(outside).0
    };
    let (mut best_j, mut best) = (0, f32::NEG_INFINITY);
    for j in -range..=range {
        let r = step(j);
        if r > best {
            best = r;
            best_j = j;
        }
    }
    if best < MIN_STEP_LEVELS || best_j.abs() == range {
        return None;
    }
    let second = (-range..=range)
        .filter(|j| (j - best_j).abs() > 2 * EDGE_HALF_PX + 1)
        .map(|j| step(j).abs())
        .fold(0.0_f32, f32::max);
    if second > UNIQUE_RATIO * best {
        return None;
    }
    let (paint, paint_std) = mean_std(slice(
        best_j - EDGE_HALF_PX - level,
        best_j - EDGE_HALF_PX - 1,
    ));
    let (grass, grass_std) = mean_std(slice(
        best_j + EDGE_HALF_PX + 1,
        best_j + EDGE_HALF_PX + level,
    ));
    let contrast = paint - grass;
    if contrast < MIN_STEP_LEVELS
        || paint_std.max(grass_std) > SIDE_NOISE_RATIO * contrast + SIDE_NOISE_LEVELS
    {
        return None;
    }
    // The grass beside the line, level with the paint: the end's grass must match it.
    let beside = 0.5 * task.width_px + BESIDE_GAP_PX;
    let (mut sum, mut n) = (0.0_f32, 0.0_f32);
    for j in (best_j - EDGE_HALF_PX - level)..(best_j - EDGE_HALF_PX) {
        let s = f64::from(j);
        sum += at(s, -beside) + at(s, beside);
        n += 2.0;
    }
    let side = sum / n;
    if (side - grass).abs() > GRASS_STEP_RATIO * contrast + GRASS_STEP_LEVELS {
        return None;
    }
    // The edge by area: samples at integer steps cover [j - 0.5, j + 0.5].
    let (a, b) = (best_j - EDGE_HALF_PX, best_j + EDGE_HALF_PX);
    let covered: f64 = slice(a, b)
        .iter()
        .map(|&v| f64::from(((v - grass) / contrast).clamp(0.0, 1.0)))
        .sum();
    let edge = f64::from(a) - 0.5 + covered;
    if (edge - f64::from(best_j)).abs() > f64::from(EDGE_HALF_PX) + 0.5 {
        return None;
    }
    Some((p + along * edge, contrast))
}
