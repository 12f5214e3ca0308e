//! Sub-pixel line-centre measurement along short profiles across the painted lines, at the
//! search points of their template ([`super::template`]) a predicting projector puts in view.

use nalgebra::{Point2, Point3, Vector2};

use super::ends::{locate_end, plan_end};
use super::luma::LumaView;
use super::template::{LineTemplate, TEMPLATE_STEP_M, TemplatePoint};
use crate::geometry::Camera;
use crate::render::crew::Crew;

/// Ground step used to find a line's image direction and scale by finite differences (metres).
pub(super) const PROBE_M: f64 = 0.01;
/// Pixels between the line window and each background band (pixels).
const BAND_GAP_PX: i32 = 1;
/// Least background band width (pixels).
const MIN_BAND_PX: i32 = 3;
/// Least excess luma of a line over its background, summed across it (code values x pixels).
const MIN_EXCESS_LEVEL_PX: f32 = 10.0;
/// Least peak excess luma of a line over its background (code values).
const MIN_PEAK_LEVELS: f32 = 6.0;
/// The best matched response must beat any other (away from the peak) by this factor.
pub(super) const UNIQUE_RATIO: f32 = 0.5;
/// Allowed background step across the line: this share of the line's peak contrast...
const SIDE_STEP_RATIO: f32 = 0.45;
/// ...plus this many code values.
const SIDE_STEP_LEVELS: f32 = 4.0;
/// Allowed background roughness (std within a band): this share of the peak contrast...
pub(super) const SIDE_NOISE_RATIO: f32 = 0.2;
/// ...plus this many code values.
pub(super) const SIDE_NOISE_LEVELS: f32 = 4.0;
/// A line's measured spread (std across it, pixels) may exceed that of its expected width by
/// this many pixels (blur, anti-aliasing).
const WIDTH_SLACK_PX: f64 = 1.0;
/// Least projected length of line either side of a search (pixels): shorter marks (a far
/// hash mark at a wide zoom) are too small to measure.
const MIN_ROOM_PX: f64 = 2.5;
/// Rounds of re-estimating the centre against a background that steps at the line.
const CENTROID_ROUNDS: usize = 3;
/// Pixels kept clear of the image border by a profile (pixels).
const BORDER_PX: f64 = 1.0;

/// Anything that maps field points to pixels: a [`Camera`] or a ground homography.
pub trait Projector: Sync {
    /// Field point (metres) -> pixel; `None` where it does not project.
    fn project_point(&self, p: &Point3<f64>) -> Option<Point2<f64>>;
}

impl Projector for Camera {
    #[inline]
    fn project_point(&self, p: &Point3<f64>) -> Option<Point2<f64>> {
        self.project(p)
    }
}

/// How to search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeasureParams {
    /// Largest search distance either side of the predicted line, along its normal (at a
    /// free end, along the line) (pixels).
    pub max_range_px: f64,
    /// Points whose clearance allows a smaller range than this are skipped (pixels).
    pub min_range_px: f64,
    /// Least distance between searched points along one line (pixels).
    pub spacing_px: f64,
    /// Most measurements across the lines per frame (count); evenly thinned beyond it. Free
    /// ends add at most a quarter as many again.
    pub max_points: usize,
    /// Also search the free ends of the lines along them (hash marks, sideline ticks): they
    /// hold a camera along the lines, once it is known which lines they are (off by default:
    /// from a rough camera they tie one row of marks to the next).
    pub ends: bool,
}

impl Default for MeasureParams {
    fn default() -> Self {
        Self {
            max_range_px: 16.0,
            min_range_px: 2.0,
            spacing_px: 24.0,
            max_points: 400,
            ends: false,
        }
    }
}

/// One located line centre.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measurement {
    /// The searched point on the line's centreline (field metres).
    pub field: Point3<f64>,
    /// Index of the line in [`crate::field::FieldModel::lines`].
    pub line: u32,
    /// Unit image direction the point was measured along (unitless): the predicted line's
    /// normal, or at a line's free end the normal of the end's own edge.
    pub normal: Vector2<f64>,
    /// Where the predicting projector put the point (pixels).
    pub predicted: Point2<f64>,
    /// A point on the observed line centre (pixels); only its offset along `normal` counts.
    pub observed: Point2<f64>,
    /// Peak luma of the line over its background, or at a free end the mean step from the
    /// paint to the grass beyond (code values).
    pub contrast: f32,
}

impl Measurement {
    /// Signed distance (pixels, along `normal`) of a projection of the field point from the
    /// observed line.
    #[inline]
    pub fn residual(&self, projected: Point2<f64>) -> f64 {
        self.normal.dot(&(projected - self.observed))
    }
}

/// How the ground around a template point projected at `p` shows in the image: steps of
/// [`PROBE_M`] along its line and across it.
pub(super) struct Probe {
    /// Unit image direction of the line (along its tangent).
    pub(super) along: Vector2<f64>,
    /// Image length of the step along the line (pixels).
    pub(super) along_px: f64,
    /// Image step of the ground step across the line (pixels).
    pub(super) across: Vector2<f64>,
}

impl Probe {
    /// The probe of `tp`, projected at `p` by `proj`; `None` where it does not project.
    pub(super) fn at<P: Projector>(proj: &P, tp: &TemplatePoint, p: Point2<f64>) -> Option<Self> {
        let t3 = nalgebra::Vector3::new(tp.tangent.x, tp.tangent.y, 0.0);
        let g3 = nalgebra::Vector3::new(-tp.tangent.y, tp.tangent.x, 0.0);
        let pt = proj.project_point(&(tp.field + t3 * PROBE_M))?;
        let pg = proj.project_point(&(tp.field + g3 * PROBE_M))?;
        let t = pt - p;
        let along_px = t.norm();
        (along_px.is_finite() && along_px > 0.0).then(|| Self {
            along: t / along_px,
            along_px,
            across: pg - p,
        })
    }

    /// Unit image normal of the line.
    pub(super) fn normal(&self) -> Vector2<f64> {
        Vector2::new(-self.along.y, self.along.x)
    }

    /// Image pixels per ground metre across the line, along its image normal (not finite or
    /// 0 where the view runs along the ground there).
    pub(super) fn across_px_per_m(&self) -> f64 {
        self.normal().dot(&self.across).abs() / PROBE_M
    }
}

/// A planned search: where, which way, how wide and how far.
#[derive(Debug, Clone, Copy)]
pub(super) struct Task {
    /// The template point searched for.
    pub(super) point: TemplatePoint,
    /// Where the predicting projector puts it (pixels).
    pub(super) predicted: Point2<f64>,
    /// Image direction searched along (unit): across the line, or out of it at an end.
    pub(super) normal: Vector2<f64>,
    /// Image width of the line (pixels).
    pub(super) width_px: f64,
    /// Search distance either side of the prediction (pixels).
    pub(super) range_px: f64,
    /// A search for the line's free end: the line's image direction out of it, which the
    /// profile runs along (`normal` is then the normal of the end's own edge); `None` for a
    /// search across the line for its centre.
    pub(super) end: Option<Vector2<f64>>,
}

/// Plans the searches of one line. Where two neighbouring stations project further apart
/// than twice the spacing (a tight zoom), stations are added between them.
fn plan_line<P: Projector>(
    proj: &P,
    pts: &[TemplatePoint],
    params: &MeasureParams,
    size: (f64, f64),
    out: &mut Vec<Task>,
) {
    let mut last: Option<Point2<f64>> = None;
    let mut next_p = pts.first().and_then(|tp| proj.project_point(&tp.field));
    for (i, tp) in pts.iter().enumerate() {
        let p = next_p;
        let next = pts.get(i + 1);
        next_p = next.and_then(|n| proj.project_point(&n.field));
        let Some(p) = p else {
            continue;
        };
        plan_point(proj, tp, p, params, size, &mut last, out);
        let (Some(n), Some(q)) = (next, next_p) else {
            continue;
        };
        let gap = (n.field - tp.field).norm();
        let between = ((q - p).norm() / params.spacing_px).floor() as usize;
        if between < 2 || gap > 1.5 * TEMPLATE_STEP_M {
            continue;
        }
        let between = between.min(MAX_BETWEEN);
        for k in 1..between {
            let f = k as f64 / between as f64;
            let mid = TemplatePoint {
                field: tp.field + (n.field - tp.field) * f,
                clearance_m: tp.clearance_m.min(n.clearance_m),
                room_m: tp.room_m.min(n.room_m),
                ..*tp
            };
            if let Some(pm) = proj.project_point(&mid.field) {
                plan_point(proj, &mid, pm, params, size, &mut last, out);
            }
        }
    }
}

/// Plans the search of one station projected at `p`, unless it is out of view, too close to
/// the `last` one planned, too small or crowded.
fn plan_point<P: Projector>(
    proj: &P,
    tp: &TemplatePoint,
    p: Point2<f64>,
    params: &MeasureParams,
    size: (f64, f64),
    last: &mut Option<Point2<f64>>,
    out: &mut Vec<Task>,
) {
    let margin = params.max_range_px + BORDER_PX;
    if p.x < margin || p.y < margin || p.x > size.0 - 1.0 - margin || p.y > size.1 - 1.0 - margin {
        return;
    }
    if last.is_some_and(|q| (p - q).norm() < params.spacing_px) {
        return;
    }
    let Some(probe) = Probe::at(proj, tp, p) else {
        return;
    };
    let normal = probe.normal();
    if probe.along_px / PROBE_M * tp.room_m < MIN_ROOM_PX {
        return;
    }
    let px_per_m = probe.across_px_per_m();
    if !px_per_m.is_finite() || px_per_m <= 0.0 {
        return;
    }
    let width_px = px_per_m * tp.width_m;
    let range_px = params
        .max_range_px
        .min(0.5 * px_per_m * tp.clearance_m - 0.5 * width_px - 1.0);
    if range_px < params.min_range_px {
        return;
    }
    *last = Some(p);
    out.push(Task {
        point: *tp,
        predicted: p,
        normal,
        width_px,
        range_px,
        end: None,
    });
}

/// Measures the painted lines `proj` predicts in view: plans short searches across them
/// (spaced along each line, limited by the neighbouring lines) and locates each line's
/// centre with sub-pixel accuracy. Searches that do not look like a clean line on grass (a
/// player, a shadow edge, two peaks) give nothing. Runs on the calling thread alone; the frame
/// path uses [`measure_with`] and the engine's crew.
pub fn measure<P: Projector>(
    luma: &LumaView<'_>,
    proj: &P,
    template: &LineTemplate,
    params: &MeasureParams,
) -> Vec<Measurement> {
    measure_with(&Crew::default(), luma, proj, template, params)
}

/// [`measure`] on `crew` (the engine's frame-path threads): the same measurements in the same
/// order, whatever the crew.
pub fn measure_with<P: Projector>(
    crew: &Crew,
    luma: &LumaView<'_>,
    proj: &P,
    template: &LineTemplate,
    params: &MeasureParams,
) -> Vec<Measurement> {
    measure_counted_with(crew, luma, proj, template, params).0
}

/// [`measure_with`], and how many searches it made (count): the lines a camera puts in view
/// that a search could have found.
pub fn measure_counted_with<P: Projector>(
    crew: &Crew,
    luma: &LumaView<'_>,
    proj: &P,
    template: &LineTemplate,
    params: &MeasureParams,
) -> (Vec<Measurement>, usize) {
    let size = (f64::from(luma.width()), f64::from(luma.height()));
    let mut planned: Vec<Vec<Task>> = vec![Vec::new(); template.spans.len()];
    let plan = |planned: &mut Vec<Vec<Task>>, params: &MeasureParams| {
        crew.run(planned.iter_mut().zip(&template.spans), |(out, &span)| {
            *out = plan_span(proj, template, span, params, size);
        });
        planned.iter().map(Vec::len).sum::<usize>()
    };
    let count = plan(&mut planned, params);
    // A tight shot shows a line or two: searched closer together, they still give the solve
    // enough to stand on where players hide most of them.
    let wanted = (params.max_points / DENSE_SHARE).min(DENSE_MOST);
    if count > 0 && count < wanted && params.spacing_px > MIN_SPACING_PX {
        let closer = MeasureParams {
            spacing_px: (params.spacing_px * count as f64 / wanted as f64)
                .max(MIN_SPACING_PX)
                .max(0.25 * params.spacing_px),
            ..*params
        };
        plan(&mut planned, &closer);
    }
    let mut tasks = decimate(planned.into_iter().flatten().collect(), params.max_points);
    if params.ends {
        let ends: Vec<Task> = template
            .ends
            .iter()
            .filter_map(|e| plan_end(proj, e, params, size))
            .collect();
        tasks.extend(decimate(ends, params.max_points / MAX_END_SHARE));
    }
    let mut found: Vec<Option<Measurement>> = vec![None; tasks.len()];
    crew.run(
        found
            .chunks_mut(TASKS_PER_CHUNK)
            .zip(tasks.chunks(TASKS_PER_CHUNK)),
        |(out, tasks)| {
            for (o, task) in out.iter_mut().zip(tasks) {
                *o = measure_task(luma, task);
            }
        },
    );
    let searched = found.len();
    (found.into_iter().flatten().collect(), searched)
}

/// Most stations added between two neighbouring template stations (count).
const MAX_BETWEEN: usize = 8;

/// Searches across lines wanted at least (one in this many of [`MeasureParams::max_points`]):
/// with fewer in view, the spacing along the lines shrinks.
const DENSE_SHARE: usize = 3;
/// ...and at most this many (count).
const DENSE_MOST: usize = 150;
/// Least spacing of the searches along a line (pixels).
const MIN_SPACING_PX: f64 = 4.0;

/// At most one search in this many of [`MeasureParams::max_points`] is for a line's end.
const MAX_END_SHARE: usize = 4;

/// Searches located per item of a crew's pass.
const TASKS_PER_CHUNK: usize = 16;

/// The searches across the template points of one span (one painted line).
fn plan_span<P: Projector>(
    proj: &P,
    template: &LineTemplate,
    (a, b): (usize, usize),
    params: &MeasureParams,
    size: (f64, f64),
) -> Vec<Task> {
    let mut out = Vec::new();
    plan_line(proj, &template.points[a..b], params, size, &mut out);
    out
}

/// At most `max_points` searches (0: no limit), evenly spread over the list.
fn decimate(tasks: Vec<Task>, max_points: usize) -> Vec<Task> {
    if tasks.len() > max_points && max_points > 0 {
        let n = tasks.len();
        (0..max_points).map(|k| tasks[k * n / max_points]).collect()
    } else {
        tasks
    }
}

/// One search's measurement, if it finds a clean line.
fn measure_task(luma: &LumaView<'_>, task: &Task) -> Option<Measurement> {
    let (observed, contrast) = if task.end.is_some() {
        locate_end(luma, task)?
    } else {
        locate(luma, task)?
    };
    Some(Measurement {
        field: task.point.field,
        line: task.point.line,
        normal: task.normal,
        predicted: task.predicted,
        observed,
        contrast,
    })
}

/// Mean and standard deviation of a slice (code values).
pub(super) fn mean_std(v: &[f32]) -> (f32, f32) {
    let n = v.len().max(1) as f32;
    let mean = v.iter().sum::<f32>() / n;
    let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / n;
    (mean, var.sqrt())
}

/// Locates the line centre of one task on a row or column profile (whichever runs closer to
/// the line normal): matched window against two background bands, then the centroid of the
/// luma excess.
fn locate(luma: &LumaView<'_>, task: &Task) -> Option<(Point2<f64>, f32)> {
    let n = task.normal;
    let p = task.predicted;
    let horizontal = n.x.abs() >= n.y.abs();
    // Along-axis distance per normal distance.
    let stretch = 1.0 / if horizontal { n.x.abs() } else { n.y.abs() };
    let (fixed, along_pred) = if horizontal {
        let row = p.y.round();
        // Tangent (n.y, -n.x) up to sign: along the row, x moves by -(dy) * n.y / n.x.
        (row, p.x - (row - p.y) * n.y / n.x)
    } else {
        let col = p.x.round();
        (col, p.y - (col - p.x) * n.x / n.y)
    };
    let w_axis = task.width_px * stretch;
    let h = (0.5 * w_axis).ceil().max(1.0) as i32;
    let band = MIN_BAND_PX.max(w_axis.ceil() as i32);
    let range = (task.range_px * stretch).ceil() as i32;
    let reach = range + h + BAND_GAP_PX + band;
    let c0 = along_pred.round() as i32;
    let (lo, hi) = (c0 - reach, c0 + reach);
    let (len_axis, len_fixed) = if horizontal {
        (luma.width(), luma.height())
    } else {
        (luma.height(), luma.width())
    };
    if lo < 0 || hi >= len_axis as i32 || fixed < 0.0 || fixed >= f64::from(len_fixed) {
        return None;
    }
    let fixed_i = fixed as u32;
    let profile: Vec<f32> = (lo..=hi)
        .map(|k| {
            if horizontal {
                luma.at(k as u32, fixed_i)
            } else {
                luma.at(fixed_i, k as u32)
            }
        })
        .collect();
    // Prefix sums; index of along-axis offset j from c0 is j + reach.
    let mut prefix = Vec::with_capacity(profile.len() + 1);
    prefix.push(0.0_f32);
    for v in &profile {
        let last = prefix.last().copied().unwrap_or(0.0);
        prefix.push(last + v);
    }
    let idx = |j: i32| (j + reach) as usize;
    let sum = |a: i32, b: i32| prefix[idx(b) + 1] - prefix[idx(a)];
    let response = |j: i32| {
        let inner = sum(j - h, j + h);
        let left = sum(j - h - BAND_GAP_PX - band, j - h - BAND_GAP_PX - 1);
        let right = sum(j + h + BAND_GAP_PX + 1, j + h + BAND_GAP_PX + band);
        inner - (2 * h + 1) as f32 * (left + right) / (2 * band) as f32
    };
    let (mut best_j, mut best) = (0, f32::NEG_INFINITY);
    for j in -range..=range {
        let r = response(j);
        if r > best {
            best = r;
            best_j = j;
        }
    }
    if best < MIN_EXCESS_LEVEL_PX || best_j.abs() == range {
        return None;
    }
    let second = (-range..=range)
        .filter(|j| (j - best_j).abs() > 2 * h + 1)
        .map(response)
        .fold(f32::NEG_INFINITY, f32::max);
    if second > UNIQUE_RATIO * best {
        return None;
    }
    let slice = |a: i32, b: i32| &profile[idx(a)..=idx(b)];
    let (left_mean, left_std) = mean_std(slice(
        best_j - h - BAND_GAP_PX - band,
        best_j - h - BAND_GAP_PX - 1,
    ));
    let (right_mean, right_std) = mean_std(slice(
        best_j + h + BAND_GAP_PX + 1,
        best_j + h + BAND_GAP_PX + band,
    ));
    // Background: the left level left of the line centre, the right level right of it (a
    // line often borders a different surface), refined from the provisional centre.
    let (lm, rm) = (f64::from(left_mean), f64::from(right_mean));
    let mut centre = f64::from(best_j);
    let (mut s0, mut peak) = (0.0_f64, 0.0_f32);
    let mut excess = Vec::with_capacity((2 * h + 3) as usize);
    for _ in 0..CENTROID_ROUNDS {
        excess.clear();
        let (mut a0, mut a1, mut pk) = (0.0_f64, 0.0_f64, 0.0_f32);
        for j in (best_j - h - 1)..=(best_j + h + 1) {
            let x = f64::from(j);
            // Share of pixel j right of the centre.
            let right_share = (x + 0.5 - centre).clamp(0.0, 1.0);
            let bg = lm + (rm - lm) * right_share;
            let e = f64::from(profile[idx(j)]) - bg;
            pk = pk.max(e as f32);
            a0 += e;
            a1 += e * x;
            excess.push((x, e));
        }
        if a0 <= 0.0 {
            return None;
        }
        (s0, peak) = (a0, pk);
        centre = a1 / a0;
    }
    if peak < MIN_PEAK_LEVELS || (centre - f64::from(best_j)).abs() > f64::from(h) + 0.5 {
        return None;
    }
    if (left_mean - right_mean).abs() > SIDE_STEP_RATIO * peak + SIDE_STEP_LEVELS
        || left_std.max(right_std) > SIDE_NOISE_RATIO * peak + SIDE_NOISE_LEVELS
    {
        return None;
    }
    let spread2 = excess
        .iter()
        .map(|(x, e)| (x - centre) * (x - centre) * e)
        .sum::<f64>()
        / s0;
    let expected = w_axis / 12.0_f64.sqrt() + WIDTH_SLACK_PX;
    if spread2 > expected * expected {
        return None;
    }
    let along = f64::from(c0) + centre;
    let observed = if horizontal {
        Point2::new(along, fixed)
    } else {
        Point2::new(fixed, along)
    };
    Some((observed, peak))
}
