//! The search points of a field's painted lines, laid out once per field model: stations
//! along each line with the room round them (the clearance to the next line, the line left
//! to either side), and the lines' free ends.

use nalgebra::{Point2, Point3, Vector2};

use super::ends::free_ends;
use crate::field::{FieldModel, LineKind, Shape};
use crate::graphics::point_segment_distance;

/// Spacing of template points along each painted line (metres).
pub const TEMPLATE_STEP_M: f64 = 0.25;
/// Least spacing of template points along a short line (metres).
const MIN_TEMPLATE_STEP_M: f64 = 0.05;
/// Template points stay this far from a line's ends (metres): ends meet other lines.
const END_MARGIN_M: f64 = 0.15;
/// Points nearer than this to another painted line (metres, edge to edge) are never searched.
pub(super) const MIN_CLEARANCE_M: f64 = 0.25;
/// Clearance beyond which another line no longer limits the search (metres).
pub const MAX_CLEARANCE_M: f64 = 10.0;
/// Polyline step used for arcs when computing clearances (metres).
const ARC_STEP_M: f64 = 0.25;

/// One search point on a painted line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TemplatePoint {
    /// Point on the line's centreline, on the field surface (field metres).
    pub field: Point3<f64>,
    /// Unit direction of the line on the ground here (field x, y; unitless).
    pub tangent: Vector2<f64>,
    /// Painted width of the line (metres).
    pub width_m: f64,
    /// Distance along the ground normal to the nearest other painted line, centre to centre
    /// (metres, capped at `MAX_CLEARANCE_M`); at a free end ([`LineTemplate::ends`]) the open
    /// grass beyond it.
    pub clearance_m: f64,
    /// Distance along the line to its nearer end (metres): how much line a search sees; at a
    /// free end the line behind it.
    pub room_m: f64,
    /// Index of the line in [`FieldModel::lines`].
    pub line: u32,
}

/// The search points of a field: built once per field model.
#[derive(Debug, Clone, PartialEq)]
pub struct LineTemplate {
    pub(super) points: Vec<TemplatePoint>,
    /// The free ends of the lines (see [`super::ends`]): `tangent` points out of the line,
    /// `clearance_m` is the open grass beyond, `room_m` the line behind.
    pub(super) ends: Vec<TemplatePoint>,
    /// Per line, the range of its points in `points`.
    pub(super) spans: Vec<(usize, usize)>,
}

/// Whether field point `p` of a line `width_m` wide lies closer to the painted piece from `a`
/// to `b` (`width` wide) than [`MIN_CLEARANCE_M`] between their edges.
pub(super) fn crowds(
    p: Point2<f64>,
    width_m: f64,
    (a, b, width): (Point2<f64>, Point2<f64>, f64),
) -> bool {
    point_segment_distance(p, a, b) < MIN_CLEARANCE_M + 0.5 * (width + width_m)
}

/// Straight pieces of a painted line (arcs as polylines), with the line's index and width.
pub(super) fn pieces(field: &FieldModel) -> Vec<(Point2<f64>, Point2<f64>, usize, f64)> {
    let mut out = Vec::new();
    for (i, line) in field.lines.iter().enumerate() {
        let pts = match line.shape {
            Shape::Segment { a, b } => vec![Point2::from(a), Point2::from(b)],
            Shape::Arc { .. } => line.shape.sample(ARC_STEP_M),
        };
        for w in pts.windows(2) {
            out.push((w[0], w[1], i, line.width_m));
        }
    }
    out
}

/// Where the line `p + s g` crosses segment `a`-`b`: `|s|` (metres), if it does.
fn normal_crossing(p: Point2<f64>, g: Vector2<f64>, a: Point2<f64>, b: Point2<f64>) -> Option<f64> {
    let ab = b - a;
    let denom = g.x * ab.y - g.y * ab.x;
    if denom.abs() < 1e-12 {
        return None;
    }
    let ap = a - p;
    let s = (ap.x * ab.y - ap.y * ab.x) / denom;
    let u = (ap.x * g.y - ap.y * g.x) / denom;
    (0.0..=1.0).contains(&u).then_some(s.abs())
}

impl LineTemplate {
    /// Search points on every searchable painted line of `field` (spots are skipped), each
    /// with its clearance to the neighbouring lines; points crowded by another line are left
    /// out.
    pub fn new(field: &FieldModel) -> Self {
        let pieces = pieces(field);
        let mut points = Vec::new();
        let mut spans = Vec::with_capacity(field.lines.len());
        for (i, line) in field.lines.iter().enumerate() {
            let start = points.len();
            if line.kind != LineKind::Spot {
                for (p, tangent, room_m) in line_stations(&line.shape) {
                    let g = Vector2::new(-tangent.y, tangent.x);
                    let mut clearance = MAX_CLEARANCE_M;
                    let mut crowded = false;
                    for &(a, b, j, width) in &pieces {
                        if j == i {
                            continue;
                        }
                        let lo = a.coords.inf(&b.coords);
                        let hi = a.coords.sup(&b.coords);
                        if p.x < lo.x - MAX_CLEARANCE_M
                            || p.x > hi.x + MAX_CLEARANCE_M
                            || p.y < lo.y - MAX_CLEARANCE_M
                            || p.y > hi.y + MAX_CLEARANCE_M
                        {
                            continue;
                        }
                        if crowds(p, line.width_m, (a, b, width)) {
                            crowded = true;
                            break;
                        }
                        if let Some(s) = normal_crossing(p, g, a, b) {
                            clearance = clearance.min(s);
                        }
                    }
                    if !crowded {
                        points.push(TemplatePoint {
                            field: Point3::new(p.x, p.y, field.surface_z(p.x, p.y)),
                            tangent,
                            width_m: line.width_m,
                            clearance_m: clearance,
                            room_m,
                            line: i as u32,
                        });
                    }
                }
            }
            spans.push((start, points.len()));
        }
        Self {
            points,
            spans,
            ends: free_ends(field),
        }
    }

    /// Every search point.
    pub fn points(&self) -> &[TemplatePoint] {
        &self.points
    }

    /// The free ends searched along their lines (hash marks, sideline ticks).
    pub fn ends(&self) -> &[TemplatePoint] {
        &self.ends
    }

    /// Number of painted lines the template covers.
    pub fn line_count(&self) -> usize {
        self.spans.len()
    }
}

/// Stations along a line's centreline (points, unit tangents and the distance to the nearer
/// end), away from its ends; a short line gives its midpoint only.
fn line_stations(shape: &Shape) -> Vec<(Point2<f64>, Vector2<f64>, f64)> {
    match *shape {
        Shape::Segment { a, b } => {
            let (a, b) = (Point2::from(a), Point2::from(b));
            let len = (b - a).norm();
            if len <= 0.0 {
                return Vec::new();
            }
            let t = (b - a) / len;
            let usable = len - 2.0 * END_MARGIN_M;
            // Short marks (hash marks) get at least four stations: at a tight zoom they are
            // what tells one yard from the next.
            let step = TEMPLATE_STEP_M.min(usable / 3.0);
            if step < MIN_TEMPLATE_STEP_M {
                return vec![(a + (b - a) * 0.5, t, 0.5 * len)];
            }
            let n = (usable / step).floor() as usize;
            let first = 0.5 * (len - n as f64 * step);
            (0..=n)
                .map(|k| {
                    let d = first + k as f64 * step;
                    (a + t * d, t, d.min(len - d))
                })
                .collect()
        }
        Shape::Arc {
            centre,
            radius,
            start_rad,
            end_rad,
        } => {
            let len = radius * (end_rad - start_rad);
            if len <= 2.0 * END_MARGIN_M || radius <= 0.0 {
                return Vec::new();
            }
            let n = ((len - 2.0 * END_MARGIN_M) / TEMPLATE_STEP_M)
                .floor()
                .max(0.0) as usize;
            let margin = END_MARGIN_M / radius;
            let span = (end_rad - start_rad) - 2.0 * margin;
            (0..=n)
                .map(|k| {
                    let f = k as f64 / n.max(1) as f64;
                    let ang = start_rad + margin + span * f;
                    let (s, c) = ang.sin_cos();
                    let d = END_MARGIN_M + (len - 2.0 * END_MARGIN_M) * f;
                    (
                        Point2::new(centre[0] + radius * c, centre[1] + radius * s),
                        Vector2::new(-s, c),
                        d.min(len - d),
                    )
                })
                .collect()
        }
    }
}
