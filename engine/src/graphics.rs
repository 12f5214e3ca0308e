//! Line graphics: ground strips (first-down line, line of scrimmage, offside line, ...) and
//! their tessellation into a projected triangle strip fine enough for the lens.
//!
//! A strip is a centreline segment on the field surface with a width. The mesh extends a
//! little beyond the painted edges and ends (the anti-aliasing margin) and every vertex carries
//! its field-space offsets `across` (metres from the centreline, signed) and `along` (metres
//! from the start), so a rasteriser can compute analytic edge coverage in field space.

use nalgebra::{Point2, Point3, Vector2};

use crate::field::{FOOTBALL_HALF_WIDTH_M, yard_to_x};
use crate::geometry::{Camera, Crown};

/// Default width of a drawn first-down / scrimmage line (metres).
pub const DEFAULT_LINE_WIDTH_M: f64 = 0.2;
/// Default chord tolerance (pixels) of the tessellation.
pub const DEFAULT_MAX_CHORD_PX: f64 = 0.05;
/// Default anti-aliasing margin around a strip (pixels).
pub const DEFAULT_AA_MARGIN_PX: f64 = 1.5;
/// Stations sampled along a strip to find its visible part before refining.
const COARSE_STATIONS: usize = 64;
/// Deepest recursive subdivision between two coarse stations.
const MAX_SUBDIVISION_DEPTH: u32 = 12;

/// A straight strip painted on the field surface.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GroundStrip {
    /// Start of the centreline (field x, y metres).
    pub a: Point2<f64>,
    /// End of the centreline (field x, y metres).
    pub b: Point2<f64>,
    /// Painted width (metres).
    pub width_m: f64,
}

impl GroundStrip {
    /// A football line across the field (sideline to sideline) at yard position `yard`.
    pub fn football_line(yard: f64, width_m: f64) -> Self {
        let x = yard_to_x(yard);
        Self {
            a: Point2::new(x, -FOOTBALL_HALF_WIDTH_M),
            b: Point2::new(x, FOOTBALL_HALF_WIDTH_M),
            width_m,
        }
    }

    /// Centreline length (metres).
    pub fn length(&self) -> f64 {
        (self.b - self.a).norm()
    }

    /// Unit direction along the centreline.
    fn dir(&self) -> Vector2<f64> {
        (self.b - self.a).normalize()
    }

    /// Unit normal (to the left of the direction).
    fn normal(&self) -> Vector2<f64> {
        let d = self.dir();
        Vector2::new(-d.y, d.x)
    }

    /// Ground point at `along` metres from `a` and `across` metres to the left.
    pub fn point(&self, along: f64, across: f64, crown: &Crown) -> Point3<f64> {
        let p = self.a + self.dir() * along + self.normal() * across;
        Point3::new(p.x, p.y, crown.height_at(p.y))
    }
}

/// Tessellation settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TessellationOptions {
    /// Image width (pixels).
    pub width: u32,
    /// Image height (pixels).
    pub height: u32,
    /// Largest allowed distance (pixels) between the projected edge and the mesh chord.
    pub max_chord_px: f64,
    /// How far (pixels) the mesh reaches beyond the painted edges for anti-aliasing.
    pub aa_margin_px: f64,
}

impl TessellationOptions {
    /// Defaults for an image size.
    pub fn new(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            max_chord_px: DEFAULT_MAX_CHORD_PX,
            aa_margin_px: DEFAULT_AA_MARGIN_PX,
        }
    }
}

/// One mesh vertex.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StripVertex {
    /// Distorted pixel position.
    pub pixel: Point2<f64>,
    /// Depth along the optical axis (metres), for perspective-correct interpolation.
    pub depth: f64,
    /// Signed field-space offset from the centreline (metres).
    pub across: f64,
    /// Field-space distance from the strip start (metres).
    pub along: f64,
}

/// A connected visible run of the strip as a triangle strip: vertices alternate right, left
/// edge at increasing `along` (each consecutive pair of stations forms two triangles).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StripRun {
    /// Vertices, two per station.
    pub vertices: Vec<StripVertex>,
}

impl StripRun {
    /// Triangles as vertex index triples.
    pub fn triangles(&self) -> impl Iterator<Item = [usize; 3]> + '_ {
        let n = self.vertices.len();
        (0..n.saturating_sub(2)).map(|i| [i, i + 1, i + 2])
    }

    /// Pixel bounding box (min x, min y, max x, max y).
    pub fn bounds(&self) -> Option<[f64; 4]> {
        let mut it = self.vertices.iter();
        let v0 = it.next()?;
        let mut b = [v0.pixel.x, v0.pixel.y, v0.pixel.x, v0.pixel.y];
        for v in it {
            b[0] = b[0].min(v.pixel.x);
            b[1] = b[1].min(v.pixel.y);
            b[2] = b[2].max(v.pixel.x);
            b[3] = b[3].max(v.pixel.y);
        }
        Some(b)
    }
}

/// A tessellated strip: zero or more visible runs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StripMesh {
    /// Visible runs.
    pub runs: Vec<StripRun>,
    /// Half the painted width (metres), the coverage edge for `across`.
    pub half_width_m: f64,
    /// Painted length (metres), the coverage end for `along`.
    pub length_m: f64,
}

impl StripMesh {
    /// True when nothing of the strip is visible.
    pub fn is_empty(&self) -> bool {
        self.runs.iter().all(|r| r.vertices.len() < 4)
    }
}

struct Ctx<'a> {
    cam: &'a Camera,
    strip: &'a GroundStrip,
    crown: &'a Crown,
    opts: &'a TessellationOptions,
    margin_m: f64,
}

impl Ctx<'_> {
    /// Pixel of an edge point, `None` when not projectable or far outside the image.
    fn edge(&self, along: f64, across: f64) -> Option<(Point2<f64>, f64)> {
        let p = self.strip.point(along, across, self.crown);
        let px = self.cam.project(&p)?;
        let depth = self.cam.to_camera(&p).z;
        Some((px, depth))
    }

    fn half(&self) -> f64 {
        0.5 * self.strip.width_m + self.margin_m
    }

    /// Whether a station is usable: both edges project and the centre is near the image.
    fn visible(&self, along: f64) -> bool {
        let h = self.half();
        let (Some((l, _)), Some((r, _))) = (self.edge(along, h), self.edge(along, -h)) else {
            return false;
        };
        let (w, hgt) = (f64::from(self.opts.width), f64::from(self.opts.height));
        let pad_x = 0.25 * w + 64.0;
        let pad_y = 0.25 * hgt + 64.0;
        [l, r]
            .iter()
            .any(|p| p.x >= -pad_x && p.x <= w + pad_x && p.y >= -pad_y && p.y <= hgt + pad_y)
    }

    fn chord_ok(&self, a0: f64, a1: f64) -> bool {
        let h = self.half();
        for across in [h, -h] {
            let (Some((p0, _)), Some((p1, _))) = (self.edge(a0, across), self.edge(a1, across))
            else {
                return false;
            };
            for t in [0.25, 0.5, 0.75] {
                let Some((pm, _)) = self.edge(a0 + (a1 - a0) * t, across) else {
                    return false;
                };
                if point_segment_distance(pm, p0, p1) > self.opts.max_chord_px {
                    return false;
                }
            }
        }
        true
    }

    fn refine(&self, a0: f64, a1: f64, depth: u32, out: &mut Vec<f64>) {
        if depth < MAX_SUBDIVISION_DEPTH && !self.chord_ok(a0, a1) {
            let mid = 0.5 * (a0 + a1);
            self.refine(a0, mid, depth + 1, out);
            self.refine(mid, a1, depth + 1, out);
        } else {
            out.push(a1);
        }
    }

    /// Bisects between a visible and an invisible station for the visibility boundary.
    fn boundary(&self, mut vis: f64, mut invis: f64) -> f64 {
        for _ in 0..40 {
            let mid = 0.5 * (vis + invis);
            if self.visible(mid) {
                vis = mid;
            } else {
                invis = mid;
            }
        }
        vis
    }
}

/// Distance from `p` to the segment `a`-`b` (in the points' own unit).
pub fn point_segment_distance(p: Point2<f64>, a: Point2<f64>, b: Point2<f64>) -> f64 {
    let ab = b - a;
    let len2 = ab.norm_squared();
    let t = if len2 > 0.0 {
        ((p - a).dot(&ab) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (p - (a + ab * t)).norm()
}

/// Metres per pixel across the strip near its visible middle, for the AA margin.
fn metres_per_pixel(cam: &Camera, strip: &GroundStrip, crown: &Crown, along: f64) -> Option<f64> {
    let step = 0.5 * strip.width_m.max(0.01);
    let p0 = cam.project(&strip.point(along, -step, crown))?;
    let p1 = cam.project(&strip.point(along, step, crown))?;
    let d = (p1 - p0).norm();
    (d > 1e-9).then(|| 2.0 * step / d)
}

/// Tessellates a strip for a camera: clips it to the part that projects near the image and
/// subdivides until every edge chord is within `max_chord_px` of the projected curve.
pub fn tessellate(
    cam: &Camera,
    strip: &GroundStrip,
    crown: &Crown,
    opts: &TessellationOptions,
) -> StripMesh {
    let len = strip.length();
    let mut mesh = StripMesh {
        runs: Vec::new(),
        half_width_m: 0.5 * strip.width_m,
        length_m: len,
    };
    if !(len > 0.0 && strip.width_m > 0.0 && len.is_finite() && cam.intrinsics.is_valid()) {
        return mesh;
    }
    // Coarse visibility scan (using the bare painted width as the margin estimate is unknown).
    let mut ctx = Ctx {
        cam,
        strip,
        crown,
        opts,
        margin_m: 0.0,
    };
    let stations: Vec<f64> = (0..=COARSE_STATIONS)
        .map(|i| len * i as f64 / COARSE_STATIONS as f64)
        .collect();
    // Margin from the coarsest (largest metres-per-pixel) visible station, so that the AA band
    // is at least `aa_margin_px` wide everywhere along the strip.
    let mut mpp = 0.0_f64;
    for &s in &stations {
        if ctx.visible(s)
            && let Some(m) = metres_per_pixel(cam, strip, crown, s)
        {
            mpp = mpp.max(m);
        }
    }
    if !(mpp > 0.0 && mpp.is_finite()) {
        return mesh;
    }
    ctx.margin_m = opts.aa_margin_px * mpp;
    // The ends need their own margin: along the strip one pixel spans far more ground.
    let end_margin = |along: f64, dir: f64| {
        let step = 0.05_f64.max(ctx.margin_m);
        let p0 = cam.project(&strip.point(along, 0.0, crown));
        let p1 = cam.project(&strip.point(along + dir * step, 0.0, crown));
        match (p0, p1) {
            (Some(p0), Some(p1)) if (p1 - p0).norm() > 1e-9 => {
                (opts.aa_margin_px * step / (p1 - p0).norm()).min(0.25 * len)
            }
            _ => ctx.margin_m,
        }
    };
    // Extended parameter range [-margin, len + margin].
    let lo = -end_margin(0.0, -1.0).max(ctx.margin_m);
    let hi = len + end_margin(len, 1.0).max(ctx.margin_m);
    let stations: Vec<f64> = (0..=COARSE_STATIONS)
        .map(|i| lo + (hi - lo) * i as f64 / COARSE_STATIONS as f64)
        .collect();
    let vis: Vec<bool> = stations.iter().map(|&s| ctx.visible(s)).collect();
    let mut i = 0;
    while i < stations.len() {
        if !vis[i] {
            i += 1;
            continue;
        }
        let start = if i > 0 {
            ctx.boundary(stations[i], stations[i - 1])
        } else {
            stations[i]
        };
        let mut j = i;
        while j + 1 < stations.len() && vis[j + 1] {
            j += 1;
        }
        let end = if j + 1 < stations.len() {
            ctx.boundary(stations[j], stations[j + 1])
        } else {
            stations[j]
        };
        // Refine between the run's coarse stations.
        let mut knots = vec![start];
        let mut inner: Vec<f64> = stations[i..=j]
            .iter()
            .copied()
            .filter(|&s| s > start && s < end)
            .collect();
        inner.push(end);
        let mut prev = start;
        for s in inner {
            ctx.refine(prev, s, 0, &mut knots);
            prev = s;
        }
        let h = ctx.half();
        let mut run = StripRun::default();
        for &along in &knots {
            let (Some((pr, dr)), Some((pl, dl))) = (ctx.edge(along, -h), ctx.edge(along, h)) else {
                continue;
            };
            run.vertices.push(StripVertex {
                pixel: pr,
                depth: dr,
                across: -h,
                along,
            });
            run.vertices.push(StripVertex {
                pixel: pl,
                depth: dl,
                across: h,
                along,
            });
        }
        if run.vertices.len() >= 4 {
            mesh.runs.push(run);
        }
        i = j + 1;
    }
    mesh
}
