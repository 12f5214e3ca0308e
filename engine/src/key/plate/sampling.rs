//! What the picture shows at a plate's field points: where a strip's cells lie in the picture
//! ([`Strip`]), the interpolated sample at a cell's centre or a probe, its colour key, and the
//! picture's scale along a row of cells.

use nalgebra::{Point2, Point3};
use yardline_frame::FrameRef;
use yardline_keying::Exclusion;

use super::cell::{FIELD_KEY, dist2};
use super::{CELL_ACROSS_M, CELL_ALONG_M, PROBE_ACROSS_M, ROW_LERP_PX};
use crate::geometry::{Camera, Crown};
use crate::render::{KeyRegion, PixelKey, PreparedLine};

/// The colour key of colour `x` (Y, Cb, Cr) at field point `at`: with the palette of the first
/// key region holding it, the default one elsewhere.
pub(super) fn key_at(
    key: &dyn PixelKey,
    regions: &[KeyRegion],
    x: [f32; 3],
    [fx, fy]: [f64; 2],
) -> f32 {
    let lut = regions
        .iter()
        .find(|r| r.contains(fx, fy))
        .map_or(0, |r| r.lut as usize);
    key.key(x, lut)
}

/// What a field point's projection shows.
pub(super) enum Sample {
    /// Off the picture.
    Outside,
    /// Under an image-space exclusion.
    Excluded,
    /// The 2x2 pixels round the projection, interpolated (Y, Cb, Cr), and their spread
    /// (weighted mean squared deviation per channel).
    Seen([f32; 3], f32),
}

/// The sample of `frame` at pixel position `px`: the 2x2 pixels round it, interpolated (the
/// same field point gives the same sample whatever its place among the pixels as the camera
/// moves); their spread is the texture a single pixel shows beside the noise in time.
pub(super) fn sample_at(frame: FrameRef<'_>, px: Point2<f64>, exclusions: &[Exclusion]) -> Sample {
    let (w, h) = (frame.layout.width, frame.layout.height);
    let (u, v) = (px.x.floor(), px.y.floor());
    if !(u >= 0.0 && v >= 0.0 && u + 1.0 < f64::from(w) && v + 1.0 < f64::from(h)) {
        return Sample::Outside;
    }
    let (un, vn) = ((px.x + 0.5) / f64::from(w), (px.y + 0.5) / f64::from(h));
    if exclusions.iter().any(|e| e.contains(un, vn)) {
        return Sample::Excluded;
    }
    let (fu, fv) = ((px.x - u) as f32, (px.y - v) as f32);
    let (u, v) = (u as u32, v as u32);
    let quad = [(u, v), (u + 1, v), (u, v + 1), (u + 1, v + 1)].map(|(x, y)| frame.ycbcr_f32(x, y));
    let wq = [
        (1.0 - fu) * (1.0 - fv),
        fu * (1.0 - fv),
        (1.0 - fu) * fv,
        fu * fv,
    ];
    let mean: [f32; 3] =
        std::array::from_fn(|c| quad.iter().zip(wq).map(|(q, w)| q[c] * w).sum::<f32>());
    let spread = quad
        .iter()
        .zip(wq)
        .map(|(q, w)| dist2(*q, mean) * w)
        .sum::<f32>()
        / 3.0;
    Sample::Seen(mean, spread)
}

/// Pixels per metre in the picture perpendicular to a plate row's cell boundaries (across)
/// and to the boundaries between rows (along), at the row's middle cell: `project` maps a field
/// point to the picture, `centre(ic)` is the field point of cell `ic`'s centre. 0 (no blend
/// limit known) where the row does not project.
pub(super) fn row_scale(
    project: &impl Fn([f64; 2]) -> Option<Point2<f64>>,
    centre: &impl Fn(usize) -> [f64; 2],
    nc: usize,
) -> [f32; 2] {
    let mid = nc / 2;
    let next = if mid + 1 < nc {
        mid + 1
    } else {
        mid.saturating_sub(1)
    };
    let (c0, c1) = (centre(mid), centre(next));
    // The along direction is perpendicular to the across one, in the field.
    let across_m = ((c1[0] - c0[0]).powi(2) + (c1[1] - c0[1]).powi(2)).sqrt();
    if across_m <= 0.0 {
        return [0.0; 2];
    }
    let unit = [(c1[0] - c0[0]) / across_m, (c1[1] - c0[1]) / across_m];
    let step = CELL_ALONG_M;
    let c2 = [c0[0] - unit[1] * step, c0[1] + unit[0] * step];
    let (Some(p0), Some(p1), Some(p2)) = (project(c0), project(c1), project(c2)) else {
        return [0.0; 2];
    };
    // Picture vectors of a metre across and a metre along.
    let ja = (p1 - p0) / across_m;
    let jl = (p2 - p0) / step;
    let area = (ja.x * jl.y - ja.y * jl.x).abs();
    let (na, nl) = (ja.norm(), jl.norm());
    if na <= 0.0 || nl <= 0.0 {
        return [0.0; 2];
    }
    // A boundary between cells of a row runs along the line: a point d metres across from it
    // lies d * area / |jl| pixels from its picture; likewise along.
    [(area / nl) as f32, (area / na) as f32]
}

/// A plate's cells in the picture of one frame: where each cell's centre lies.
pub(super) struct Strip<'a> {
    pub(super) line: &'a PreparedLine,
    pub(super) camera: &'a Camera,
    pub(super) crown: &'a Crown,
    pub(super) n_across: usize,
    /// Across offset of the first cell's edge (metres).
    pub(super) across0: f64,
}

impl Strip<'_> {
    /// The field point of cell (`ia`, `ic`)'s centre.
    fn centre(&self, ia: usize, ic: usize) -> [f64; 2] {
        let along = (ia as f64 + 0.5) * CELL_ALONG_M;
        self.line
            .field_xy(along, self.across0 + (ic as f64 + 0.5) * CELL_ACROSS_M)
    }

    /// The picture of field point (`fx`, `fy`) on the crowned surface.
    fn project(&self, [fx, fy]: [f64; 2]) -> Option<Point2<f64>> {
        self.camera
            .project(&Point3::new(fx, fy, self.crown.height_at(fy)))
    }

    /// The picture's scale across and along row `ia` ([`row_scale`]).
    pub(super) fn row_scale(&self, ia: usize) -> [f32; 2] {
        row_scale(
            &|p| self.project(p),
            &|ic| self.centre(ia, ic),
            self.n_across,
        )
    }

    /// Samples the cells of row `ia` into `samples` (colour, spread, colour key; NaN colour
    /// where not seen) and `excluded`.
    pub(super) fn sample_row(
        &self,
        ia: usize,
        frame: FrameRef<'_>,
        key: &dyn PixelKey,
        exclusions: &[Exclusion],
        samples: &mut [([f32; 3], f32, f32)],
        excluded: &mut [bool],
    ) {
        let nc = self.n_across;
        let regions = key.regions();
        // A row across the strip is short: where its middle lies on the straight line between
        // its ends, the cells between are placed along that line instead of each projected.
        let ends = (nc >= 3)
            .then(|| {
                let (a, m, b) = (
                    self.project(self.centre(ia, 0))?,
                    self.project(self.centre(ia, nc / 2))?,
                    self.project(self.centre(ia, nc - 1))?,
                );
                let t = (nc / 2) as f64 / (nc - 1) as f64;
                ((a + (b - a) * t - m).norm() < ROW_LERP_PX).then_some((a, b))
            })
            .flatten();
        for ic in 0..nc {
            let at = self.centre(ia, ic);
            let px = match ends {
                Some((a, b)) => Some(a + (b - a) * (ic as f64 / (nc - 1) as f64)),
                None => self.project(at),
            };
            let Some(px) = px else {
                continue;
            };
            match sample_at(frame, px, exclusions) {
                Sample::Outside => {}
                // A graphic burned into the picture is not field: never learnt, but a painted
                // region may run on under it.
                Sample::Excluded => excluded[ic] = true,
                Sample::Seen(mean, spread) => {
                    samples[ic] = (mean, spread, key_at(key, regions, mean, at));
                }
            }
        }
    }

    /// The colour [`PROBE_ACROSS_M`] each side of row `ia`'s centre, where seen and not keyed
    /// as field.
    pub(super) fn probes(
        &self,
        ia: usize,
        frame: FrameRef<'_>,
        key: &dyn PixelKey,
        exclusions: &[Exclusion],
    ) -> [Option<[f32; 3]>; 2] {
        let along = (ia as f64 + 0.5) * CELL_ALONG_M;
        [-PROBE_ACROSS_M, PROBE_ACROSS_M].map(|across| {
            let at = self.line.field_xy(along, across);
            let Sample::Seen(mean, _) = sample_at(frame, self.project(at)?, exclusions) else {
                return None;
            };
            (key_at(key, key.regions(), mean, at) < FIELD_KEY).then_some(mean)
        })
    }
}

#[cfg(test)]
#[allow(
    clippy::float_cmp,
    reason = "a row that does not project has the scale 0 exactly"
)]
mod tests {
    use super::*;
    use crate::key::plate::CELL_ACROSS_M;

    #[test]
    fn a_row_scale_is_the_pixels_per_metre_across_each_cell_boundary() {
        // Across the line is field y, along it field x; the picture is sheared.
        let project =
            |[x, y]: [f64; 2]| Some(nalgebra::Point2::new(200.0 * x + 100.0 * y, 100.0 * y));
        let centre = |ic: usize| [3.0, ic as f64 * CELL_ACROSS_M];
        let [across, along] = row_scale(&project, &centre, 8);
        // A boundary between cells of a row runs along x (level in the picture); one between
        // rows runs along y (diagonal).
        assert!((across - 100.0).abs() < 1e-3, "{across}");
        assert!((along - 200.0 / 2_f32.sqrt()).abs() < 1e-3, "{along}");
        assert_eq!(row_scale(&|_| None, &centre, 8), [0.0; 2]);
    }
}
