//! The field-space clean plate: per drawn line, the empty field's colour learnt where it lies.
//!
//! Each line's plate is a grid of cells in the line's own frame: [`CELL_ALONG_M`] along it by
//! [`CELL_ACROSS_M`] across, over the strip widened by [`PLATE_MARGIN_M`] each side. A cell
//! holds two colour models (mean Y, Cb, Cr and the noise around it, in 8-bit code values): the
//! **plate** (what the empty field looks like there) and a **candidate** (what the cell has
//! shown lately that the plate did not explain). Every frame, before compositing, each cell in
//! view is sampled once at the pixel its centre projects to ([`CleanPlate::update`]); players
//! are outliers in time at a cell and go to the candidate, which replaces the plate only when
//! it outweighs it and is field: keyed as field by the colour key, or part of a connected
//! region of the grid far longer along the line than a person ([`REGION_MIN_ALONG_M`]): a
//! painted logo, a coloured yard line, a shadow.
//!
//! Per covered pixel the compositors combine the two keys ([`CleanPlate::combine`]): the plate
//! match `m` is 1 within [`MATCH_SIGMAS`]`.0` noise sigmas of the cell's plate (or of an across
//! neighbour's) and 0 beyond [`MATCH_SIGMAS`]`.1`; on a grass cell (its plate keyed as field)
//! the key is `min(colour_key, m)`, on a paint cell (an approved region, or the fringe beside
//! one across the line) `m`, on a cold, re-verifying or unsteady cell the colour key;
//! [`PlateTexel`] holds the weights of the three.
//!
//! Policy (ARCHITECTURE.md section 6a):
//! - **Cold start**: a cell starts with no plate; its first sample the colour key calls field
//!   seeds the plate, other samples seed the candidate. A cell is trusted after
//!   [`WARM_FRAMES`] agreeing samples: until then the colour key alone decides.
//! - **Paint**: a candidate that is not keyed as field (paint, a logo, deep shade) and has
//!   outweighed the plate is promoted only inside a connected region of such cells longer than
//!   [`REGION_MIN_ALONG_M`] along the line; a player standing still stays a candidate (or, on a
//!   cell that started under him, an untrusted plate) and the colour key decides there. A
//!   region joins neighbouring cells of its colour ([`REGION_JOIN_CODES`]); the cells under
//!   an image-space exclusion (a burned-in graphic, never learnt) carry it across, so a painted
//!   line runs on under a score bug, while the length counted is that of its own paint.
//! - **Enclosed pieces**: a piece of paint-like cells of any colours, no longer than
//!   [`ENCLOSED_MAX_ALONG_M`], lying between two approved regions along the line (in rows across
//!   it that hold no approved cell) is paint too: a logo's ring and emblem between its disc and
//!   a painted line, each too short to be a region by itself.
//! - **Fringe**: the cells beside an approved region across the line hold the paint's blend
//!   with the grass and the paint's colour spread into the grass (4:2:0 chroma, compression):
//!   the colour key often calls such a pixel not field, so there the plate match alone decides.
//! - **Cover**: a kit in the paint's colour matches the paint's plate, but a kit over the paint
//!   also covers its sides, where the empty paint has grass. In a row across the line where a
//!   trusted cell one or two cells from the paint shows what its plate does not explain, the
//!   paint and its fringe are left to the colour key for that frame (and a row either side,
//!   [`COVER_SPREAD_CELLS`]).
//! - **Cold paint**: a cell with no plate yet whose samples are not keyed as field is paint
//!   from its first sample when its region is longer than [`COLD_REGION_MIN_ALONG_M`] and than
//!   [`COLD_REGION_PERSONS`] times what a person standing there covers in the picture (his
//!   height seen along the view, [`regions::person_reach_m`]): a painted line is field as the line comes
//!   into view, while a player standing still there when the plate starts is person-sized.
//! - **Lighting**: each frame the median ratio of sampled to plate luma over the trusted cells
//!   is a gain applied to every plate (a cloud, floodlights, an iris change); a local change
//!   (a shadow edge) is re-learnt by the region rule.
//! - **Moved line**: a line whose strip differs gets a new, cold plate; the last
//!   [`MAX_PLATES`] plates are kept, so a line moved back finds its plate again.
//! - **Cut**: a camera that jumps between frames (or a gap of frames without a line) keeps the
//!   cells but re-verifies them: each must agree [`WARM_FRAMES`] times again before it is
//!   trusted.

use nalgebra::Point3;
use yardline_frame::FrameRef;

use yardline_keying::Exclusion;

mod cell;
mod regions;

use cell::{Cell, Model, dist2, learn_cell, texel};
pub use cell::{
    MATCH_SIGMAS, PlateTexel, SIGMA_FLOOR, SIGMA_TRUSTED, WARM_FRAMES, blend_match, plate_match,
};

use crate::geometry::{Camera, Crown};
use crate::render::{KeyRegion, PixelKey, PreparedLine};

/// Cell length along the line (metres).
pub const CELL_ALONG_M: f64 = 0.10;
/// Cell width across the line (metres).
pub const CELL_ACROSS_M: f64 = 0.05;
/// How far the plate reaches past each edge of the strip (metres): the anti-aliased fringe and
/// the key's neighbourhood.
pub const PLATE_MARGIN_M: f64 = 0.15;
/// Shortest connected region along the line (metres) that counts as painted field although
/// the colour key does not call it field: far longer than a person's footprint.
pub const REGION_MIN_ALONG_M: f64 = 2.0;
/// Shortest region along the line (metres) whose cold cells (no plate yet: the line just came
/// into view) count as paint from their first sample: a painted line or logo is field from the
/// start, while a player standing still where the plate starts stays foreground.
pub const COLD_REGION_MIN_ALONG_M: f64 = 4.0;
/// A cold region is also longer than this many times what a person standing there covers in
/// the picture ([`regions::person_reach_m`]).
pub const COLD_REGION_PERSONS: f64 = 1.5;
/// A tall player with his helmet on, and his width (metres).
const PERSON_HEIGHT_M: f64 = 2.0;
const PERSON_WIDTH_M: f64 = 0.6;
/// Longest piece of paint (metres along the line, of any colours) approved for lying between
/// two approved regions: a logo's ring and emblem, not a crowd standing on a painted line.
pub const ENCLOSED_MAX_ALONG_M: f64 = 3.0;
/// Largest colour difference (RMS per channel, 8-bit code values) between two neighbouring
/// cells of one region.
pub const REGION_JOIN_CODES: f32 = 10.0;
/// Largest distance (pixels) of a plate row's middle from the straight line between its ends
/// for the cells between to be placed along that line rather than each projected.
const ROW_LERP_PX: f64 = 0.02;
/// Cells along the line (each way) a covered row makes its neighbours count as covered: a
/// kit's outline leaves the paint's sides open round about.
const COVER_SPREAD_CELLS: usize = 1;
/// Plates kept for lines no longer drawn.
pub const MAX_PLATES: usize = 4;

/// Camera centre jump (metres) or view direction change (radians) between two frames that
/// counts as a cut.
const CUT_MOVE_M: f64 = 1.0;
const CUT_TURN_RAD: f64 = 0.05;
/// Frames without the line after which its plate is re-verified.
const GAP_FRAMES: u32 = 30;
/// Fewest trusted cells for a lighting gain estimate.
const GAIN_MIN_CELLS: usize = 32;

/// The plate of one line's strip.
#[derive(Debug, Clone)]
struct LinePlate {
    /// The strip it was made for: origin, direction, half width, length.
    origin: [f64; 2],
    direction: [f64; 2],
    half_width_m: f64,
    length_m: f64,
    /// Cells along and across.
    n_along: usize,
    n_across: usize,
    /// Across offset of the first cell's edge (metres).
    across0: f64,
    cells: Vec<Cell>,
    texels: Vec<PlateTexel>,
    /// Frame counter of the last update.
    last_frame: u64,
}

impl LinePlate {
    fn new(line: &PreparedLine) -> Self {
        let half = line.mesh.half_width_m + PLATE_MARGIN_M;
        let n_along = ((line.mesh.length_m / CELL_ALONG_M).ceil() as usize).max(1);
        let n_across = ((2.0 * half / CELL_ACROSS_M).ceil() as usize).max(1);
        Self {
            origin: line.origin,
            direction: line.direction,
            half_width_m: line.mesh.half_width_m,
            length_m: line.mesh.length_m,
            n_along,
            n_across,
            across0: -half,
            cells: vec![Cell::default(); n_along * n_across],
            texels: vec![PlateTexel::default(); n_along * n_across],
            last_frame: 0,
        }
    }

    fn fits(&self, line: &PreparedLine) -> bool {
        const SAME_M: f64 = 0.005;
        (self.origin[0] - line.origin[0]).abs() < SAME_M
            && (self.origin[1] - line.origin[1]).abs() < SAME_M
            && (self.direction[0] - line.direction[0]).abs() < 1e-6
            && (self.direction[1] - line.direction[1]).abs() < 1e-6
            && (self.half_width_m - line.mesh.half_width_m).abs() < SAME_M
            && (self.length_m - line.mesh.length_m).abs() < SAME_M
    }

    /// Forgets the trust of every cell (after a cut): each must agree again.
    fn reverify(&mut self) {
        for c in &mut self.cells {
            if !c.plate.is_empty() {
                c.plate.frames = 1;
                c.plate.weight = c.plate.weight.min(0.5);
            }
            c.candidate = Model::default();
            c.region = false;
            c.fringe = false;
        }
    }
}

/// The field-space clean plates of the lines drawn, and the scratch of their update (reused:
/// nothing is allocated per frame once a line's plate exists).
#[derive(Debug, Default)]
pub struct CleanPlate {
    plates: Vec<LinePlate>,
    /// Per line of this frame: its plate, if it has one.
    active: Vec<Option<usize>>,
    /// Per cell of the plate being updated: the sample (Y, Cb, Cr interpolated between the 2x2
    /// pixels round the centre's projection), their spread (weighted mean squared deviation
    /// per channel) and its colour key; NaN Y when not in view or excluded.
    samples: Vec<([f32; 3], f32, f32)>,
    /// Per cell of the plate being updated: its centre falls inside an image-space exclusion.
    excluded: Vec<bool>,
    /// Luma ratios of the trusted cells (the gain's median).
    ratios: Vec<f32>,
    /// Per row across the line of the plate being updated: something covers its paint.
    covered: Vec<bool>,
    /// Per row across the line of the plate being updated: it holds an approved region cell.
    region_rows: Vec<bool>,
    /// Region labelling scratch: per cell its state, and the flood fill's stack.
    marks: Vec<u8>,
    stack: Vec<(usize, [f32; 3])>,
    /// Frames updated so far.
    frame: u64,
    /// The last camera (centre, optical axis), to tell a cut.
    last_view: Option<([f64; 3], [f64; 3])>,
}

impl CleanPlate {
    /// An empty plate (every line starts cold).
    pub fn new() -> Self {
        Self::default()
    }

    /// Drops every plate (a new venue, a new key).
    pub fn clear(&mut self) {
        self.plates.clear();
        self.active.clear();
        self.last_view = None;
    }

    /// Samples this frame's pixels under each line's plate (created cold for a new line) and
    /// learns from them, before the frame is drawn on: `key` is the colour key the compositor
    /// uses (its palettes and regions), `crown` the field surface.
    pub fn update(
        &mut self,
        frame: FrameRef<'_>,
        camera: &Camera,
        crown: &Crown,
        lines: &[PreparedLine],
        key: &dyn PixelKey,
        exclusions: &[Exclusion],
    ) {
        self.frame += 1;
        let cut = self.is_cut(camera);
        if cut {
            for p in &mut self.plates {
                p.reverify();
            }
        }
        self.active.clear();
        for line in lines {
            let at = if let Some(i) = self.plates.iter().position(|p| p.fits(line)) {
                i
            } else {
                if self.plates.len() >= MAX_PLATES {
                    // Forget the plate drawn longest ago.
                    if let Some(old) =
                        (0..self.plates.len()).min_by_key(|&i| self.plates[i].last_frame)
                    {
                        self.plates.remove(old);
                        for a in self.active.iter_mut().flatten() {
                            *a -= usize::from(*a > old);
                        }
                    }
                }
                self.plates.push(LinePlate::new(line));
                self.plates.len() - 1
            };
            if self.active.contains(&Some(at)) {
                self.active.push(None);
                continue;
            }
            self.active.push(Some(at));
            let mut plate = std::mem::replace(&mut self.plates[at], LinePlate::empty());
            if plate.last_frame > 0 && self.frame - plate.last_frame > u64::from(GAP_FRAMES) {
                plate.reverify();
            }
            self.update_line(&mut plate, frame, (camera, crown), line, key, exclusions);
            plate.last_frame = self.frame;
            self.plates[at] = plate;
        }
    }

    /// A camera jump since the last frame (or the first camera): true on a cut.
    fn is_cut(&mut self, camera: &Camera) -> bool {
        let c = camera.centre();
        let m = camera.rotation.matrix();
        // The optical axis in field coordinates: the third row of R.
        let axis = [m[(2, 0)], m[(2, 1)], m[(2, 2)]];
        let view = ([c.x, c.y, c.z], axis);
        let cut = self.last_view.is_some_and(|(c0, a0)| {
            let moved = ((c0[0] - view.0[0]).powi(2)
                + (c0[1] - view.0[1]).powi(2)
                + (c0[2] - view.0[2]).powi(2))
            .sqrt();
            let dot = (a0[0] * axis[0] + a0[1] * axis[1] + a0[2] * axis[2]).clamp(-1.0, 1.0);
            moved > CUT_MOVE_M || dot.acos() > CUT_TURN_RAD
        });
        self.last_view = Some(view);
        cut
    }

    fn update_line(
        &mut self,
        plate: &mut LinePlate,
        frame: FrameRef<'_>,
        (camera, crown): (&Camera, &Crown),
        line: &PreparedLine,
        key: &dyn PixelKey,
        exclusions: &[Exclusion],
    ) {
        let n = plate.cells.len();
        self.samples.clear();
        self.samples.resize(n, ([f32::NAN; 3], 0.0, 0.0));
        self.excluded.clear();
        self.excluded.resize(n, false);
        let (w, h) = (frame.layout.width, frame.layout.height);
        let regions = key.regions();
        let nc = plate.n_across;
        for ia in 0..plate.n_along {
            let along = (ia as f64 + 0.5) * CELL_ALONG_M;
            let centre =
                |ic: usize| line.field_xy(along, plate.across0 + (ic as f64 + 0.5) * CELL_ACROSS_M);
            let project =
                |[fx, fy]: [f64; 2]| camera.project(&Point3::new(fx, fy, crown.height_at(fy)));
            // A row across the strip is short: where its middle lies on the straight line
            // between its ends, the cells between are placed along that line instead of each
            // projected.
            let ends = (nc >= 3)
                .then(|| {
                    let (a, m, b) = (
                        project(centre(0))?,
                        project(centre(nc / 2))?,
                        project(centre(nc - 1))?,
                    );
                    let t = (nc / 2) as f64 / (nc - 1) as f64;
                    ((a + (b - a) * t - m).norm() < ROW_LERP_PX).then_some((a, b))
                })
                .flatten();
            for ic in 0..nc {
                let [fx, fy] = centre(ic);
                let px = match ends {
                    Some((a, b)) => Some(a + (b - a) * (ic as f64 / (nc - 1) as f64)),
                    None => project([fx, fy]),
                };
                let Some(px) = px else {
                    continue;
                };
                // The 2x2 pixels round the centre's projection: interpolated, they are the
                // sample; their spread is the texture a single pixel of the cell shows beside
                // the noise in time.
                let (u, v) = (px.x.floor(), px.y.floor());
                if !(u >= 0.0 && v >= 0.0 && u + 1.0 < f64::from(w) && v + 1.0 < f64::from(h)) {
                    continue;
                }
                // A graphic burned into the picture is not field: never learnt, but a painted
                // region may run on under it.
                let (un, vn) = ((px.x + 0.5) / f64::from(w), (px.y + 0.5) / f64::from(h));
                if exclusions.iter().any(|e| e.contains(un, vn)) {
                    self.excluded[ia * plate.n_across + ic] = true;
                    continue;
                }
                let (fu, fv) = ((px.x - u) as f32, (px.y - v) as f32);
                let (u, v) = (u as u32, v as u32);
                let quad = [(u, v), (u + 1, v), (u, v + 1), (u + 1, v + 1)]
                    .map(|(x, y)| frame.ycbcr_f32(x, y));
                // Bilinear at the centre's projection: the same field point gives the same
                // sample whatever its place among the pixels as the camera moves.
                let wq = [
                    (1.0 - fu) * (1.0 - fv),
                    fu * (1.0 - fv),
                    (1.0 - fu) * fv,
                    fu * fv,
                ];
                let mean: [f32; 3] = std::array::from_fn(|c| {
                    quad.iter().zip(wq).map(|(q, w)| q[c] * w).sum::<f32>()
                });
                let spread = quad
                    .iter()
                    .zip(wq)
                    .map(|(q, w)| dist2(*q, mean) * w)
                    .sum::<f32>()
                    / 3.0;
                let lut = regions
                    .iter()
                    .find(|r: &&KeyRegion| r.contains(fx, fy))
                    .map_or(0, |r| r.lut as usize);
                self.samples[ia * plate.n_across + ic] = (mean, spread, key.key(mean, lut));
            }
        }
        let gain = self.gain(plate);
        for (cell, &(x, spread, k)) in plate.cells.iter_mut().zip(&self.samples) {
            if (gain - 1.0).abs() > 1e-3 && !cell.plate.is_empty() {
                let m = &mut cell.plate.mean;
                m[0] = 16.0 + (m[0] - 16.0) * gain;
                m[1] = 128.0 + (m[1] - 128.0) * gain;
                m[2] = 128.0 + (m[2] - 128.0) * gain;
            }
            if !x[0].is_nan() {
                learn_cell(cell, x, spread, k);
            }
        }
        let c = camera.centre();
        self.approve_regions(plate, |along| {
            regions::person_reach_m([c.x, c.y, c.z], line.field_xy(along, 0.0), line.direction)
        });
        self.find_covered(plate);
        for (i, (t, c)) in plate.texels.iter_mut().zip(&plate.cells).enumerate() {
            *t = texel(c);
            // Paint under a kit that covers its sides: the colour key decides there this frame.
            if (c.region || c.fringe) && self.covered[i / nc] {
                t.paint = 0.0;
            }
        }
    }

    /// The lighting gain of this frame: the median ratio of sampled to plate luma (above
    /// black) over the trusted cells; 1 with too few of them.
    fn gain(&mut self, plate: &LinePlate) -> f32 {
        self.ratios.clear();
        for (c, &(x, ..)) in plate.cells.iter().zip(&self.samples) {
            if !x[0].is_nan() && c.plate.frames >= WARM_FRAMES && c.plate.mean[0] > 40.0 {
                self.ratios.push((x[0] - 16.0) / (c.plate.mean[0] - 16.0));
            }
        }
        if self.ratios.len() < GAIN_MIN_CELLS {
            return 1.0;
        }
        let mid = self.ratios.len() / 2;
        let (_, m, _) = self.ratios.select_nth_unstable_by(mid, f32::total_cmp);
        // Noise moves the median a little every frame: follow only a clear change.
        let g = m.clamp(0.5, 2.0);
        if (g - 1.0).abs() < 0.02 { 1.0 } else { g }
    }

    /// The key of a covered pixel of line `li` at field offsets (`along`, `across`) (metres,
    /// as the compositors interpolate them in f32) with colour `x` (Y, Cb, Cr) and colour key
    /// `k`: `w * plate_match + (1 - w) * k` (see the module docs); `k` where the line has no
    /// plate there.
    #[inline]
    pub fn combine(&self, li: usize, along: f32, across: f32, x: [f32; 3], k: f32) -> f32 {
        let Some(&Some(at)) = self.active.get(li) else {
            return k;
        };
        let p = &self.plates[at];
        let Some((ia, ic)) = cell_index(along, across, p.across0 as f32, p.n_along, p.n_across)
        else {
            return k;
        };
        let nc = p.n_across;
        let t = p.texels[ia * nc + ic];
        if t.grass + t.paint <= 0.0 {
            return k;
        }
        // The pixel may be a blend of this cell's plate and a neighbour's (the edge of a
        // painted marking between them): matched against the segment between the two.
        let mut m = plate_match(&t, x);
        let neighbours = [
            (ic > 0).then(|| ia * nc + ic - 1),
            (ic + 1 < nc).then(|| ia * nc + ic + 1),
            (ia > 0).then(|| (ia - 1) * nc + ic),
            (ia + 1 < p.n_along).then(|| (ia + 1) * nc + ic),
        ];
        for j in neighbours.into_iter().flatten() {
            let n = &p.texels[j];
            if n.grass + n.paint > 0.0 {
                m = m.max(blend_match(&t, n, x));
            }
        }
        t.grass * k.min(m) + t.paint * m + (1.0 - t.grass - t.paint) * k
    }

    /// The texels of line `li`'s plate this frame (row-major, `n_across` per along step) with
    /// its grid: (texels, cells along, cells across, across offset of the first cell's edge).
    pub fn line_texels(&self, li: usize) -> Option<(&[PlateTexel], usize, usize, f64)> {
        let p = &self.plates[(*self.active.get(li)?)?];
        Some((&p.texels, p.n_along, p.n_across, p.across0))
    }
}

impl LinePlate {
    fn empty() -> Self {
        Self {
            origin: [0.0; 2],
            direction: [1.0, 0.0],
            half_width_m: 0.0,
            length_m: 0.0,
            n_along: 0,
            n_across: 0,
            across0: 0.0,
            cells: Vec::new(),
            texels: Vec::new(),
            last_frame: 0,
        }
    }
}

/// The cell (along index, across index) holding field offsets (`along`, `across`) (metres) on
/// a grid of `n_along` x `n_across` cells whose first across edge is at `across0`; `None`
/// outside it. In f32, as the GPU computes it.
#[inline]
pub fn cell_index(
    along: f32,
    across: f32,
    across0: f32,
    n_along: usize,
    n_across: usize,
) -> Option<(usize, usize)> {
    let ia = (along / CELL_ALONG_M as f32).floor();
    let ic = ((across - across0) / CELL_ACROSS_M as f32).floor();
    (ia >= 0.0 && ic >= 0.0 && (ia as usize) < n_along && (ic as usize) < n_across)
        .then_some((ia as usize, ic as usize))
}

#[cfg(test)]
#[allow(
    clippy::float_cmp,
    reason = "the weights and matches asserted are exactly 0 or 1 by their clamps"
)]
mod tests {
    use super::cell::tests::GRASS;
    use super::regions::tests::strip;
    use super::*;

    #[test]
    fn a_lighting_gain_is_taken_from_the_trusted_cells() {
        let (mut cp, mut plate) = strip(GRASS, 1.0, 10.0, 5);
        cp.samples.clear();
        let dim = [16.0 + (GRASS[0] - 16.0) * 0.6, GRASS[1], GRASS[2]];
        cp.samples.resize(plate.cells.len(), (dim, 1.0, 1.0));
        let g = cp.gain(&plate);
        assert!((g - 0.6).abs() < 1e-3, "gain {g}");
        // With most cells as they were (a change under a few of them), no gain.
        for s in cp.samples.iter_mut().skip(40) {
            *s = (GRASS, 1.0, 1.0);
        }
        assert_eq!(cp.gain(&plate), 1.0);
        plate.reverify();
        assert!(plate.cells.iter().all(|c| texel(c).grass == 0.0));
    }
}
