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
//!   height seen along the view, [`person_reach_m`]): a painted line is field as the line comes
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

use cell::{
    Cell, FIELD_KEY, Model, PROMOTE_FRAMES, cold_paint, dist2, is_paint_like, learn_cell,
    paint_colour, promotable, texel,
};
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
/// the picture ([`person_reach_m`]).
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

/// A cell's state in the region labelling.
const MARK_NONE: u8 = 0;
const MARK_PAINT: u8 = 1;
const MARK_SEEN: u8 = 2;
const MARK_BRIDGE: u8 = 3;

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
            person_reach_m([c.x, c.y, c.z], line.field_xy(along, 0.0), line.direction)
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

    /// Marks the rows across the line where something covers the grass next to an approved
    /// painted region this frame (a sample of a warm cell one or two cells from the paint,
    /// beyond [`MATCH_SIGMAS`]`.1` sigmas of its plate), spread [`COVER_SPREAD_CELLS`] along: a kit in the paint's colour
    /// over the paint also covers its sides, while the empty paint has grass beside it.
    fn find_covered(&mut self, plate: &LinePlate) {
        let (na, nc) = (plate.n_along, plate.n_across);
        self.covered.clear();
        self.covered.resize(na, false);
        for ia in 0..na {
            let row = ia * nc..(ia + 1) * nc;
            let cells = &plate.cells[row.clone()];
            if !cells.iter().any(|c| c.region) {
                continue;
            }
            // Cells one or two from the paint across: `distance(ic)` is how far.
            let distance = |ic: usize| {
                (!cells[ic].region)
                    .then(|| {
                        (1..=2).find(|&d| {
                            (ic >= d && cells[ic - d].region)
                                || (ic + d < nc && cells[ic + d].region)
                        })
                    })
                    .flatten()
            };
            let samples = &self.samples[row];
            let covered = (0..nc).any(|ic| {
                let (c, x) = (&cells[ic], samples[ic].0);
                distance(ic).is_some()
                    && !x[0].is_nan()
                    && c.plate.frames >= WARM_FRAMES
                    && c.plate.sigmas(x) > MATCH_SIGMAS.1
            });
            if covered {
                let lo = ia.saturating_sub(COVER_SPREAD_CELLS);
                let hi = (ia + COVER_SPREAD_CELLS + 1).min(na);
                self.covered[lo..hi].fill(true);
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

    /// Marks the cells whose plate or candidate is paint-like (not keyed as field, stable) and
    /// promotes or approves those in connected regions longer than [`REGION_MIN_ALONG_M`].
    /// `person_reach(along)` is how far along the line a person standing at `along` covers
    /// the field in the picture ([`person_reach_m`]).
    fn approve_regions(&mut self, plate: &mut LinePlate, person_reach: impl Fn(f64) -> f64) {
        let (na, nc) = (plate.n_along, plate.n_across);
        self.marks.clear();
        self.marks.extend(
            plate
                .cells
                .iter()
                .zip(&self.excluded)
                .map(|(c, &excluded)| {
                    if is_paint_like(c) {
                        MARK_PAINT
                    } else if excluded {
                        MARK_BRIDGE
                    } else {
                        MARK_NONE
                    }
                }),
        );
        let min_cells = (REGION_MIN_ALONG_M / CELL_ALONG_M).ceil() as usize;
        for start in 0..na * nc {
            if self.marks[start] != MARK_PAINT {
                continue;
            }
            // Flood fill (4-connected), noting the extent along.
            self.stack.clear();
            self.stack.push((start, paint_colour(&plate.cells[start])));
            self.marks[start] = MARK_SEEN;
            let (mut lo, mut hi) = (start / nc, start / nc);
            let mut k = 0;
            // The stack keeps every visited cell (read back below), `k` walks it.
            while k < self.stack.len() {
                let (i, colour) = self.stack[k];
                k += 1;
                let (ia, ic) = (i / nc, i % nc);
                if is_paint_like(&plate.cells[i]) {
                    lo = lo.min(ia);
                    hi = hi.max(ia);
                }
                let cells = &plate.cells;
                let mut visit = |j: usize| {
                    // Paint joins paint of its colour: a player standing on a shadow or a logo
                    // is not part of it. The cells under a burned-in graphic carry a region
                    // across (a painted line under a score bug); the region is measured over
                    // its own paint alone.
                    let joins = match self.marks[j] {
                        MARK_PAINT => {
                            let c = paint_colour(&cells[j]);
                            (dist2(c, colour) < REGION_JOIN_CODES.powi(2) * 3.0).then_some(c)
                        }
                        MARK_BRIDGE => Some(colour),
                        _ => None,
                    };
                    if let Some(c) = joins {
                        self.marks[j] = MARK_SEEN;
                        self.stack.push((j, c));
                    }
                };
                if ia > 0 {
                    visit(i - nc);
                }
                if ia + 1 < na {
                    visit(i + nc);
                }
                if ic > 0 {
                    visit(i - 1);
                }
                if ic + 1 < nc {
                    visit(i + 1);
                }
            }
            let long = hi - lo + 1 >= min_cells;
            let middle = (lo + hi + 1) as f64 * 0.5 * CELL_ALONG_M;
            let cold_min_m =
                COLD_REGION_MIN_ALONG_M.max(COLD_REGION_PERSONS * person_reach(middle));
            let very_long = (hi - lo + 1) as f64 * CELL_ALONG_M >= cold_min_m;
            for &(i, _) in &self.stack {
                let c = &mut plate.cells[i];
                if !is_paint_like(c) {
                    continue;
                }
                if (long && promotable(c)) || (very_long && cold_paint(c)) {
                    c.plate = c.candidate;
                    c.candidate = Model::default();
                }
                c.region = long && !c.plate.is_empty();
            }
        }
        for (c, &m) in plate.cells.iter_mut().zip(&self.marks) {
            if m != MARK_SEEN || !is_paint_like(c) {
                c.region = false;
            }
        }
        self.enclose_pieces(plate);
        // The cells beside a painted region across the line hold the paint's blend with the
        // grass (and its colour spread into them by chroma subsampling and compression).
        for i in 0..na * nc {
            let ic = i % nc;
            let beside =
                (ic > 0 && plate.cells[i - 1].region) || (ic + 1 < nc && plate.cells[i + 1].region);
            plate.cells[i].fringe = !plate.cells[i].region && beside;
        }
    }

    /// Approves the short pieces of paint-like cells, of any colours, that lie between two
    /// approved regions along the line and span at most [`ENCLOSED_MAX_ALONG_M`]: a logo's
    /// ring and emblem between its disc and a painted line. Each piece is a connected set of
    /// paint-like cells outside the regions; it is enclosed when an approved cell lies next to
    /// it along the line on both sides. A piece lies in rows across the line that hold no
    /// approved cell (the paint's own fringe beside a region is no piece), and is made of
    /// cells that never held grass ([`enclosable`]): a player standing still on a painted line
    /// over cells that learnt the grass first stays foreground.
    fn enclose_pieces(&mut self, plate: &mut LinePlate) {
        let (na, nc) = (plate.n_along, plate.n_across);
        let max_cells = (ENCLOSED_MAX_ALONG_M / CELL_ALONG_M).round() as usize;
        // Rows across the line holding an approved cell are the regions' (with their fringe):
        // a piece lies in rows of its own.
        self.region_rows.clear();
        self.region_rows.extend(
            plate
                .cells
                .chunks(nc)
                .map(|row| row.iter().any(|c| c.region)),
        );
        self.marks.fill(MARK_NONE);
        for start in 0..na * nc {
            let c = &plate.cells[start];
            if self.marks[start] != MARK_NONE || self.region_rows[start / nc] || !enclosable(c) {
                continue;
            }
            self.stack.clear();
            self.stack.push((start, [0.0; 3]));
            self.marks[start] = MARK_SEEN;
            let (mut lo, mut hi) = (start / nc, start / nc);
            let (mut before, mut after) = (false, false);
            let mut k = 0;
            while k < self.stack.len() {
                let (i, _) = self.stack[k];
                k += 1;
                let (ia, ic) = (i / nc, i % nc);
                lo = lo.min(ia);
                hi = hi.max(ia);
                // Neighbours with their step along (-1 before, +1 after, 0 across).
                let neighbours = [
                    (ia > 0).then(|| (i - nc, -1)),
                    (ia + 1 < na).then(|| (i + nc, 1)),
                    (ic > 0).then(|| (i - 1, 0)),
                    (ic + 1 < nc).then(|| (i + 1, 0)),
                ];
                for (j, step) in neighbours.into_iter().flatten() {
                    let cj = &plate.cells[j];
                    if cj.region {
                        before |= step < 0;
                        after |= step > 0;
                    } else if self.marks[j] == MARK_NONE
                        && !self.region_rows[j / nc]
                        && enclosable(cj)
                    {
                        self.marks[j] = MARK_SEEN;
                        self.stack.push((j, [0.0; 3]));
                    }
                }
            }
            if !(before && after && hi - lo < max_cells) {
                continue;
            }
            for &(i, _) in &self.stack {
                let c = &mut plate.cells[i];
                // A cold cell takes its candidate; a warm one keeps its paint (a kit standing
                // on it does not replace it).
                if c.plate.is_empty() && promotable(c) {
                    c.plate = c.candidate;
                    c.candidate = Model::default();
                }
                c.region = !c.plate.is_empty() && c.plate.key < FIELD_KEY;
            }
        }
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

/// A cell a piece between painted regions may take: its plate is paint-like and warm, or it
/// has no plate and a steady candidate not keyed as field. A candidate that would replace a
/// plate learnt as grass (a player standing still) is not taken.
fn enclosable(c: &Cell) -> bool {
    if c.plate.is_empty() {
        c.candidate.frames >= PROMOTE_FRAMES && c.candidate.key < FIELD_KEY
    } else {
        c.plate.frames >= WARM_FRAMES && c.plate.key < FIELD_KEY
    }
}

/// How far along a line of direction `direction` (metres) a person standing on it at field
/// point `at` covers the field in the picture of a camera centred at `camera`: a standing body
/// hides the ground behind it along the view (its height times the distance over the camera's
/// height above the head), seen along the line as far as the view runs along it, plus the
/// body's width. Unbounded for a camera not well above a person's head.
fn person_reach_m(camera: [f64; 3], at: [f64; 2], direction: [f64; 2]) -> f64 {
    let (dx, dy) = (at[0] - camera[0], at[1] - camera[1]);
    let d = dx.hypot(dy);
    let above = camera[2] - PERSON_HEIGHT_M;
    if above < 0.25 * PERSON_HEIGHT_M || d <= 0.0 {
        return f64::INFINITY;
    }
    let cos = ((dx * direction[0] + dy * direction[1]) / d).abs();
    PERSON_HEIGHT_M * d / above * cos + PERSON_WIDTH_M
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
    use super::cell::tests::{GRASS, KIT, LOGO};
    use super::*;

    /// A strip 0.4 m across, 10 m along, its cells with `colour` (keyed `key`) over
    /// `along_m` metres from its start and grass elsewhere, learnt for `frames` frames.
    fn strip(colour: [f32; 3], key: f32, along_m: f64, frames: u32) -> (CleanPlate, LinePlate) {
        let inside = (along_m / CELL_ALONG_M) as usize;
        strip_with(frames, |ia| {
            Some(if ia < inside {
                (colour, key)
            } else {
                (GRASS, 1.0)
            })
        })
    }

    /// A strip 0.4 m across, 10 m along, whose cells at along index `ia` show `at(ia)`
    /// (colour and key; `None`: under an exclusion), learnt for `frames` frames.
    fn strip_with(
        frames: u32,
        at: impl Fn(usize) -> Option<([f32; 3], f32)>,
    ) -> (CleanPlate, LinePlate) {
        strip_across(frames, f64::INFINITY, |ia, _| at(ia))
    }

    /// [`strip_with`] with cells that differ across (`at(ia, ic)`, 8 cells across) under a
    /// camera where a person covers `reach_m` along the line.
    fn strip_across(
        frames: u32,
        reach_m: f64,
        at: impl Fn(usize, usize) -> Option<([f32; 3], f32)>,
    ) -> (CleanPlate, LinePlate) {
        let n_along = 100;
        let n_across = 8;
        let mut plate = LinePlate::empty();
        plate.n_along = n_along;
        plate.n_across = n_across;
        plate.cells = vec![Cell::default(); n_along * n_across];
        plate.texels = vec![PlateTexel::default(); n_along * n_across];
        let mut cp = CleanPlate::new();
        cp.excluded = (0..n_along * n_across)
            .map(|i| at(i / n_across, i % n_across).is_none())
            .collect();
        for _ in 0..frames {
            for (i, c) in plate.cells.iter_mut().enumerate() {
                if let Some((x, k)) = at(i / n_across, i % n_across) {
                    learn_cell(c, x, 1.0, k);
                }
            }
            cp.approve_regions(&mut plate, |_| reach_m);
        }
        for (t, c) in plate.texels.iter_mut().zip(&plate.cells) {
            *t = texel(c);
        }
        (cp, plate)
    }

    #[test]
    fn a_painted_logo_counts_as_field_within_a_few_frames_and_a_still_player_does_not() {
        let (_, logo) = strip(LOGO, 0.0, 4.0, PROMOTE_FRAMES.into());
        let t = logo.texels[0];
        assert_eq!(
            t.paint, 1.0,
            "a 4 m logo is paint after {PROMOTE_FRAMES} frames"
        );
        assert_eq!(plate_match(&t, LOGO), 1.0);
        let (_, player) = strip(KIT, 0.0, 0.6, 120);
        let t = player.texels[0];
        assert_eq!(
            t.grass + t.paint,
            0.0,
            "a player standing still stays to the colour key"
        );
    }

    /// Along index of `m` metres.
    fn cells(m: f64) -> usize {
        (m / CELL_ALONG_M).round() as usize
    }

    #[test]
    fn pieces_of_paint_join_by_colour_alone() {
        // Two 1.2 m pieces of one colour with grass between: two person-sized blobs.
        let disc = |ia| ia < cells(1.2) || (cells(1.6)..cells(2.8)).contains(&ia);
        let (_, apart) = strip_with(PROMOTE_FRAMES.into(), |ia| {
            Some(if disc(ia) { (LOGO, 0.0) } else { (GRASS, 1.0) })
        });
        assert_eq!(apart.texels[0].paint, 0.0);
        // A kit of another colour beside a piece does not lengthen it.
        let (_, player) = strip_with(PROMOTE_FRAMES.into(), |ia| {
            Some(if ia < cells(1.2) {
                (LOGO, 0.0)
            } else if ia < cells(2.2) {
                (KIT, 0.0)
            } else {
                (GRASS, 1.0)
            })
        });
        assert_eq!(player.texels[0].paint, 0.0);
        assert_eq!(player.texels[cells(1.5) * 8].paint, 0.0);
    }

    #[test]
    fn a_painted_line_runs_on_under_an_excluded_graphic() {
        // 1.2 m of paint each side of 1 m under a score bug: one region, never learnt under
        // the bug.
        let (_, line) = strip_with(PROMOTE_FRAMES.into(), |ia| {
            if (cells(1.2)..cells(2.2)).contains(&ia) {
                None
            } else if ia < cells(3.4) {
                Some((LOGO, 0.0))
            } else {
                Some((GRASS, 1.0))
            }
        });
        assert_eq!(line.texels[0].paint, 1.0);
        assert_eq!(line.texels[cells(3.0) * 8].paint, 1.0);
        let under = line.cells[cells(1.5) * 8];
        assert!(under.plate.is_empty() && under.candidate.is_empty());
    }

    #[test]
    fn a_long_painted_line_is_field_from_its_first_frame_and_a_player_where_it_starts_is_not() {
        // A purple line two cells wide down the whole 10 m strip, seen for one frame.
        let line = |_: usize, ic: usize| {
            Some(if (3..5).contains(&ic) {
                (LOGO, 0.0)
            } else {
                (GRASS, 1.0)
            })
        };
        let (_, plate) = strip_across(1, 2.0, line);
        assert_eq!(plate.texels[cells(5.0) * 8 + 3].paint, 1.0);
        assert_eq!(plate.texels[cells(5.0) * 8 + 1].paint, 0.0);
        // A kit over 4.2 m of the strip where a person covers 3 m: not paint from its first
        // frame, though it is longer than the cold floor of 4 m (1.5 times 3 m is 4.5 m)...
        let kit = |ia: usize, _: usize| {
            Some(if ia < cells(4.2) {
                (KIT, 0.0)
            } else {
                (GRASS, 1.0)
            })
        };
        let (_, first) = strip_across(1, 3.0, kit);
        assert_eq!(first.texels[0].paint, 0.0);
        let (_, short_reach) = strip_across(1, 2.5, kit);
        assert_eq!(
            short_reach.texels[0].paint, 1.0,
            "where a person covers 2.5 m, 4.2 m is paint"
        );
        // ... while a 10 m line where a person covers 8 m waits for the frames a warm region
        // needs.
        let (_, far) = strip_across(1, 8.0, line);
        assert_eq!(far.texels[cells(5.0) * 8 + 3].paint, 0.0);
        let (_, later) = strip_across(PROMOTE_FRAMES.into(), 8.0, line);
        assert_eq!(later.texels[cells(5.0) * 8 + 3].paint, 1.0);
    }

    #[test]
    fn the_fringe_of_a_painted_region_is_matched_against_its_plate_alone() {
        // Paint in cells 3 and 4; beside it, the grass tinted by the paint, which the colour
        // key calls field only just (a pixel of it, noisier than the cell's mean, often not);
        // grass beyond.
        let tinted = [80.0, 125.0, 130.0];
        let at = |_: usize, ic: usize| {
            Some(match ic {
                3 | 4 => (LOGO, 0.0),
                2 | 5 => (tinted, 0.6),
                _ => (GRASS, 1.0),
            })
        };
        let (_, plate) = strip_across(PROMOTE_FRAMES.into(), 2.0, at);
        let t = plate.texels[cells(5.0) * 8 + 2];
        assert_eq!((t.grass, t.paint), (0.0, 1.0));
        assert!(plate.cells[cells(5.0) * 8 + 2].fringe);
        assert!(!plate.cells[cells(5.0) * 8 + 1].fringe);
    }

    #[test]
    fn a_kit_over_the_paint_and_its_side_covers_that_row() {
        let at = |_: usize, ic: usize| {
            Some(if (3..5).contains(&ic) {
                (LOGO, 0.0)
            } else {
                (GRASS, 1.0)
            })
        };
        let (mut cp, plate) = strip_across(PROMOTE_FRAMES.into(), 2.0, at);
        // This frame: as learnt, but a kit over cells 1 to 4 of the rows 40 to 44.
        cp.samples = (0..plate.cells.len())
            .map(|i| {
                let (ia, ic) = (i / 8, i % 8);
                let x = if (40..45).contains(&ia) && (1..5).contains(&ic) {
                    KIT
                } else {
                    at(ia, ic).map_or([f32::NAN; 3], |(x, _)| x)
                };
                (x, 1.0, 1.0)
            })
            .collect();
        cp.find_covered(&plate);
        let covered: Vec<usize> = (0..plate.n_along).filter(|&ia| cp.covered[ia]).collect();
        assert_eq!(
            covered,
            (40 - COVER_SPREAD_CELLS..=44 + COVER_SPREAD_CELLS).collect::<Vec<_>>()
        );
        // A kit beside the line, three cells and more from the paint, covers nothing.
        for (i, s) in cp.samples.iter_mut().enumerate() {
            let (ia, ic) = (i / 8, i % 8);
            s.0 = if (40..45).contains(&ia) && ic == 7 {
                KIT
            } else {
                at(ia, ic).map_or([f32::NAN; 3], |(x, _)| x)
            };
        }
        cp.find_covered(&plate);
        assert!(cp.covered.iter().all(|&c| !c));
    }

    #[test]
    fn pieces_of_a_logo_between_its_painted_parts_are_paint_and_a_kit_beside_the_paint_is_not() {
        // Along the strip: purple paint, a 0.3 m gold ring and a 1 m disc and a 0.6 m white
        // emblem (each too short to be a region by itself), purple again; full width.
        let gold = [150.0, 80.0, 150.0];
        let logo = |ia: usize| {
            if ia < cells(3.0) {
                (LOGO, 0.0)
            } else if ia < cells(3.3) {
                (gold, 0.0)
            } else if ia < cells(4.3) {
                (LOGO, 0.0)
            } else if ia < cells(4.9) {
                (KIT, 0.0)
            } else if ia < cells(8.0) {
                (LOGO, 0.0)
            } else {
                (GRASS, 1.0)
            }
        };
        let (_, plate) = strip_across(PROMOTE_FRAMES.into(), 2.0, |ia, _| Some(logo(ia)));
        for m in [3.1, 3.8, 4.6] {
            assert_eq!(plate.texels[cells(m) * 8 + 4].paint, 1.0, "{m} m");
        }
        // A kit standing still on a purple line two cells wide, between two stretches of it:
        // its rows hold the line's own approved cells, so it is no enclosed piece.
        let (_, kit) = strip_across(120, 2.0, |ia, ic| {
            Some(
                if (cells(4.0)..cells(4.6)).contains(&ia) && (1..3).contains(&ic) {
                    (KIT, 0.0)
                } else if (3..5).contains(&ic) {
                    (LOGO, 0.0)
                } else {
                    (GRASS, 1.0)
                },
            )
        });
        assert_eq!(kit.texels[cells(4.3) * 8 + 3].paint, 1.0);
        assert_eq!(kit.texels[cells(4.3) * 8 + 1].paint, 0.0);
        assert_eq!(kit.texels[cells(4.3) * 8 + 1].grass, 0.0);
        // Too long a piece (4 m of kits between two stretches of paint) stays out.
        let (_, long) = strip_across(PROMOTE_FRAMES.into(), 2.0, |ia, _| {
            Some(if (cells(3.0)..cells(7.0)).contains(&ia) {
                (if ia % 2 == 0 { KIT } else { gold }, 0.0)
            } else if ia < cells(9.5) {
                (LOGO, 0.0)
            } else {
                (GRASS, 1.0)
            })
        });
        assert_eq!(long.texels[cells(5.0) * 8 + 4].paint, 0.0);
    }

    #[test]
    fn a_player_standing_still_across_a_painted_line_is_no_enclosed_piece() {
        // A purple line two cells wide down the strip, learnt with grass beside it; then a kit
        // stands across the whole strip (0.6 m along) and stays.
        let line = |_: usize, ic: usize| {
            Some(if (3..5).contains(&ic) {
                (LOGO, 0.0)
            } else {
                (GRASS, 1.0)
            })
        };
        let (mut cp, mut plate) = strip_across(PROMOTE_FRAMES.into(), 2.0, line);
        let on = |ia: usize| (cells(4.0)..cells(4.6)).contains(&ia);
        assert_eq!(plate.texels[cells(4.3) * 8 + 3].paint, 1.0);
        for _ in 0..120 {
            for (i, c) in plate.cells.iter_mut().enumerate() {
                let (x, k) = if on(i / 8) {
                    (KIT, 0.0)
                } else {
                    line(i / 8, i % 8).unwrap()
                };
                learn_cell(c, x, 1.0, k);
            }
            cp.approve_regions(&mut plate, |_| f64::INFINITY);
        }
        for (t, c) in plate.texels.iter_mut().zip(&plate.cells) {
            *t = texel(c);
        }
        // The kit matches no plate under it: the paint keeps its colour, the grass its own.
        for ic in 0..8 {
            let i = cells(4.3) * 8 + ic;
            assert_eq!(plate_match(&plate.texels[i], KIT), 0.0, "cell {ic}");
            let want = if (3..5).contains(&ic) { LOGO } else { GRASS };
            assert_eq!(plate.cells[i].plate.mean, want, "cell {ic}");
        }
        assert_eq!(plate.texels[cells(2.0) * 8 + 3].paint, 1.0);
    }

    #[test]
    fn a_person_covers_more_of_a_line_that_runs_away_from_the_camera() {
        // A line along y through (0, 0); the camera 15 m up, 40 m from there, looking along
        // it, then across it.
        let along_view = person_reach_m([0.0, -40.0, 15.0], [0.0, 0.0], [0.0, 1.0]);
        let across_view = person_reach_m([-40.0, 0.0, 15.0], [0.0, 0.0], [0.0, 1.0]);
        assert!(
            (along_view - (2.0 * 40.0 / 13.0 + 0.6)).abs() < 1e-9,
            "{along_view}"
        );
        assert!((across_view - 0.6).abs() < 1e-9, "{across_view}");
        assert!(person_reach_m([0.0, -40.0, 2.2], [0.0, 0.0], [0.0, 1.0]).is_infinite());
    }

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
