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
//! match `m` is 1 within [`MATCH_SIGMAS`]`.0` noise sigmas of the cell's plate (or of a blend
//! with a neighbour's, as far as the pixel lies near their boundary: [`BLEND_REACH_PX`]) and 0
//! beyond [`MATCH_SIGMAS`]`.1`; on a trusted cell the key is `min(colour_key, m)`, on a paint
//! cell (an approved region, or the fringe beside one across the line) `m` (on an unsteady
//! one, a boundary between two paints a pixel or two wide, the match with its steady
//! neighbours and their blends, or else `min(colour_key, m)`), on a cold or re-verifying cell
//! the colour key; [`PlateTexel`] holds the weights of the three
//! and what a neighbour hides this frame.
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
//!   the colour key often calls such a pixel not field, so there the plate match alone decides,
//!   from the cell's first sample (a cold fringe cell takes its first sample as its plate).
//! - **Cover**: a kit in the paint's colour matches the paint's plate, but a kit over the paint
//!   also covers its sides, where the empty paint has grass. In a row across the line where a
//!   trusted cell one or two cells from the paint shows what its plate does not explain, the
//!   paint and its fringe are field that frame only where the colour key agrees (and a row
//!   either side, [`COVER_SPREAD_CELLS`]).
//! - **Hidden**: a kit in the grass's colour over a painted line shows only where it covers
//!   the paint. A cell whose sample its plate does not explain, in a colour the plate of the
//!   cell beside it across the line does explain, hides that neighbour's field this frame
//!   (key 0 there): the kit's edge cannot show against it, and a limb is wider than a cell.
//! - **Cold paint**: a cell with no plate yet whose samples are not keyed as field is paint
//!   from its first sample when its region is longer than [`COLD_REGION_MIN_ALONG_M`] and than
//!   [`COLD_REGION_PERSONS`] times what a person standing there covers in the picture (his
//!   height seen along the view, [`regions::person_reach_m`]): a painted line is field as the line comes
//!   into view, while a player standing still there when the plate starts is person-sized.
//!   Two shapes no person has count without his reach: a region no wider than
//!   [`regions::NARROW_MAX_M`] across in every row (a painted line along the strip) from
//!   [`COLD_REGION_MIN_ALONG_M`], and one whose colour runs on [`PROBE_ACROSS_M`] each side of
//!   the line beyond the strip in [`WIDE_ROWS`] of its rows (a logo) from
//!   [`REGION_MIN_ALONG_M`].
//! - **Lighting**: each frame the median ratio of sampled to plate luma over the trusted cells
//!   is a gain applied to every plate (a cloud, floodlights, an iris change); a local change
//!   (a shadow edge) is re-learnt by the region rule.
//! - **Moved line**: a line whose strip differs gets a new, cold plate; the last
//!   [`MAX_PLATES`] plates are kept, so a line moved back finds its plate again.
//! - **Cut**: a camera that jumps between frames (or a gap of frames without a line) keeps the
//!   cells but re-verifies them: each must agree [`WARM_FRAMES`] times again before it is
//!   trusted.

use yardline_frame::FrameRef;

use yardline_keying::Exclusion;

mod cell;
mod regions;
mod sampling;

use cell::{Cell, Model, learn_cell, texel};
pub use cell::{
    MATCH_SIGMAS, PlateTexel, SIGMA_FLOOR, SIGMA_TRUSTED, WARM_FRAMES, blend_match, plate_match,
};
use sampling::Strip;

use crate::geometry::{Camera, Crown};
use crate::render::crew::Crew;
use crate::render::{PixelKey, PreparedLine};

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
/// How far each side of the line's centre (metres) a plate looks, beyond its strip, at what
/// lies there: a cold region whose paint runs on there, in most of its rows, is wider than
/// a person ([`WIDE_ROWS`]).
pub const PROBE_ACROSS_M: f64 = 1.0;
/// Share of a cold region's rows whose probes both see its colour, not keyed as field, for it
/// to count as wider than a person: a painted logo, from its first frame (a kit in the colour
/// of a logo's emblem, standing on it, has the logo's other colours beyond it).
pub const WIDE_ROWS: f64 = 0.75;
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
/// Rows along the line between two measures of the picture's scale ([`sampling::row_scale`]).
const SCALE_ROWS: usize = 8;
/// Rows across the line sampled per task on the crew.
const ROWS_PER_TASK: usize = 16;
/// Plates kept for lines no longer drawn.
pub const MAX_PLATES: usize = 4;
/// How far (pixels, across the boundary in the picture) a pixel inside a cell may lie from the
/// boundary with a neighbouring cell and still blend the neighbour's colour: the pixel's own
/// footprint, the picture's sharpness and its 4:2:0 chroma. The share of the neighbour a pixel
/// may hold falls from 1 at the boundary to 0 at this distance, so a grass-coloured kit in the
/// middle of a painted line is no blend of the paint with the grass beside it.
pub const BLEND_REACH_PX: f32 = 1.5;

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
    /// Per row across the line this frame: pixels per metre in the picture, perpendicular to
    /// the boundaries between the row's cells (across) and between rows (along); 0 out of view.
    px_per_m: Vec<[f32; 2]>,
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
            px_per_m: vec![[0.0; 2]; n_along],
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
    /// Per row across the line of the plate being updated: the colour [`PROBE_ACROSS_M`] each
    /// side of the line's centre (Y, Cb, Cr), where seen and not keyed as field.
    probes: Vec<[Option<[f32; 3]>; 2]>,
    /// Luma ratios of the trusted cells (the gain's median).
    ratios: Vec<f32>,
    /// Per row across the line of the plate being updated: something covers its paint.
    covered: Vec<bool>,
    /// Per row across the line of the plate being updated: it holds an approved region cell.
    region_rows: Vec<bool>,
    /// Region labelling scratch: per row across the line, a region's cells in it and the
    /// first and last of them across.
    row_cells: Vec<[u16; 3]>,
    /// Region labelling scratch: per row across the line, the colour of a region's cell in it.
    row_colour: Vec<[f32; 3]>,
    /// Region labelling scratch: per cell its state, and the flood fill's stack.
    marks: Vec<u8>,
    stack: Vec<(usize, [f32; 3])>,
    /// Frames updated so far.
    frame: u64,
    /// The last camera (centre, optical axis), to tell a cut.
    last_view: Option<([f64; 3], [f64; 3])>,
    /// The threads the rows are sampled on (the caller alone unless set).
    crew: Crew,
}

impl CleanPlate {
    /// An empty plate (every line starts cold).
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty plate whose rows are sampled on `crew` (the engine's frame-path threads).
    pub fn with_crew(crew: Crew) -> Self {
        Self {
            crew,
            ..Self::default()
        }
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
        self.probes.clear();
        self.probes.resize(plate.n_along, [None; 2]);
        let nc = plate.n_across;
        // (A strip with no cells across has nothing to sample: `max(1)` keeps the chunks valid.)
        let (rows, row_len) = (ROWS_PER_TASK, nc.max(1));
        let LinePlate {
            cells,
            px_per_m,
            across0,
            ..
        } = &mut *plate;
        let strip = Strip {
            line,
            camera,
            crown,
            n_across: nc,
            across0: *across0,
        };
        let cells = &*cells;
        self.crew.run(
            self.samples
                .chunks_mut(row_len * rows)
                .zip(self.excluded.chunks_mut(row_len * rows))
                .zip(self.probes.chunks_mut(rows))
                .zip(px_per_m.chunks_mut(rows))
                .enumerate(),
            |(t, (((samples, excluded), probes), scales))| {
                for (r, ((samples, excluded), (probe, scale))) in samples
                    .chunks_mut(row_len)
                    .zip(excluded.chunks_mut(row_len))
                    .zip(probes.iter_mut().zip(scales.iter_mut()))
                    .enumerate()
                {
                    let ia = t * rows + r;
                    // The picture's scale changes slowly along the line: measured every few
                    // rows.
                    if ia.is_multiple_of(SCALE_ROWS) {
                        *scale = strip.row_scale(ia);
                    }
                    strip.sample_row(ia, frame, key, exclusions, samples, excluded);
                    // Beyond the strip, a probe each side across: what lies there, unless
                    // field? Only a row with a cold cell (the line just came into view) asks.
                    if cells[ia * nc..(ia + 1) * nc]
                        .iter()
                        .any(|c| c.plate.is_empty())
                    {
                        *probe = strip.probes(ia, frame, key, exclusions);
                    }
                }
            },
        );
        // Rows between measured ones take the last measured scale.
        for ia in 0..plate.n_along {
            if !ia.is_multiple_of(SCALE_ROWS) {
                plate.px_per_m[ia] = plate.px_per_m[ia - 1];
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
            // Paint under a kit that covers its sides: field only where both the colour key
            // and the plate agree this frame (a kit in the paint's colour is not keyed as
            // field, a kit in the grass's does not match the paint).
            if (c.region || c.fringe) && self.covered[i / nc] {
                t.grass = t.paint;
                t.paint = 0.0;
            }
        }
        self.find_hidden(plate);
    }

    /// Marks the cells beside an occupied cell across the line whose plate the occupant
    /// matches while their plates differ: a kit in the colour of the grass beside a painted
    /// line shows over the paint only, but covers the grass too ([`PlateTexel::hidden`]).
    fn find_hidden(&self, plate: &mut LinePlate) {
        let nc = plate.n_across;
        for i in 0..plate.cells.len() {
            let x = self.samples[i].0;
            let t = plate.texels[i];
            if x[0].is_nan() || t.grass + t.paint <= 0.0 || plate_match(&t, x) > 0.0 {
                continue;
            }
            let ic = i % nc;
            for j in [(ic > 0).then(|| i - 1), (ic + 1 < nc).then(|| i + 1)]
                .into_iter()
                .flatten()
            {
                // Only across a boundary between two fields (paint and grass): over grass
                // alone, a sample its plate does not explain (a shadow, the texture of a
                // zoom) looks like the grass beside it too.
                let n = &mut plate.texels[j];
                if n.grass + n.paint > 0.0
                    && plate_match(n, x) >= 1.0
                    && plate_match(n, t.mean) <= 0.0
                {
                    n.hidden = 1.0;
                }
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
        if t.unsteady() && t.paint > 0.0 {
            // Its own wide plate bounds the colour key, as on grass; its steady neighbours
            // decide alone.
            let m = steady_neighbours_match(p, ia, ic, x).max(k.min(plate_match(&t, x)));
            return t.paint * m * (1.0 - t.hidden) + (1.0 - t.paint) * k;
        }
        // The pixel may be a blend of this cell's plate and a neighbour's (the edge of a
        // painted marking between them): matched against the segment between the two, as far
        // along it as the pixel lies near their boundary.
        let mut m = plate_match(&t, x);
        if m < 1.0 {
            m = m.max(neighbour_blends(p, (ia, ic), (along, across), x));
        }
        (t.grass * k.min(m) + t.paint * m + (1.0 - t.grass - t.paint) * k) * (1.0 - t.hidden)
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
            px_per_m: Vec::new(),
            last_frame: 0,
        }
    }
}

/// The best match of colour `x` at field offsets (`along`, `across`) (metres) in cell
/// (`ia`, `ic`) of plate `p` with a blend of the cell's plate and a neighbour's, holding as
/// much of the neighbour as the pixel's nearness to their boundary allows
/// ([`BLEND_REACH_PX`]).
#[inline]
fn neighbour_blends(
    p: &LinePlate,
    (ia, ic): (usize, usize),
    (along, across): (f32, f32),
    x: [f32; 3],
) -> f32 {
    let nc = p.n_across;
    let t = &p.texels[ia * nc + ic];
    let mut m = 0.0_f32;
    let [across_px, along_px] = p.px_per_m[ia];
    let ca = along / CELL_ALONG_M as f32 - ia as f32;
    let cc = (across - p.across0 as f32) / CELL_ACROSS_M as f32 - ic as f32;
    let reach = |d_m: f32, px_per_m: f32| (1.0 - d_m * px_per_m / BLEND_REACH_PX).clamp(0.0, 1.0);
    let (ac, al) = (CELL_ACROSS_M as f32, CELL_ALONG_M as f32);
    let neighbours = [
        (ic > 0).then(|| (ia * nc + ic - 1, reach(cc * ac, across_px))),
        (ic + 1 < nc).then(|| (ia * nc + ic + 1, reach((1.0 - cc) * ac, across_px))),
        (ia > 0).then(|| ((ia - 1) * nc + ic, reach(ca * al, along_px))),
        (ia + 1 < p.n_along).then(|| ((ia + 1) * nc + ic, reach((1.0 - ca) * al, along_px))),
    ];
    for (j, r) in neighbours.into_iter().flatten() {
        let n = &p.texels[j];
        if n.grass + n.paint > 0.0 && r > 0.0 {
            m = m.max(blend_match(t, n, x, r));
        }
    }
    m
}

/// Match of colour `x` in unsteady paint cell (`ia`, `ic`) of `p`: with a steady neighbour's
/// plate, or a blend of two opposite ones (along or across).
fn steady_neighbours_match(p: &LinePlate, ia: usize, ic: usize, x: [f32; 3]) -> f32 {
    let nc = p.n_across;
    let steady = |i: Option<usize>| {
        i.map(|i| &p.texels[i])
            .filter(|n| n.grass + n.paint > 0.0 && !n.unsteady())
    };
    let pairs = [
        (
            steady((ia > 0).then(|| (ia - 1) * nc + ic)),
            steady((ia + 1 < p.n_along).then(|| (ia + 1) * nc + ic)),
        ),
        (
            steady((ic > 0).then(|| ia * nc + ic - 1)),
            steady((ic + 1 < nc).then(|| ia * nc + ic + 1)),
        ),
    ];
    let mut m = 0.0_f32;
    for (a, b) in pairs {
        if let (Some(a), Some(b)) = (a, b) {
            m = m.max(blend_match(a, b, x, 1.0));
        }
        for n in [a, b].into_iter().flatten() {
            m = m.max(plate_match(n, x));
        }
    }
    m
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
    use super::cell::tests::{GRASS, KIT};
    use super::regions::tests::{strip, strip_across};
    use super::*;

    /// White paint the colour key calls field (the paint view's palette).
    const WHITE: [f32; 3] = [230.0, 128.0, 128.0];

    /// A white line keyed as field in cells 3 and 4 of 8 across (0.05 m each), grass beside,
    /// learnt for 10 frames, drawn as the plate's only line at `px_per_m` pixels per metre.
    fn white_line(px_per_m: f32) -> CleanPlate {
        let (mut cp, mut plate) = strip_across(10, f64::INFINITY, |_, ic| {
            Some(if (3..5).contains(&ic) {
                (WHITE, 1.0)
            } else {
                (GRASS, 1.0)
            })
        });
        plate.px_per_m.fill([px_per_m; 2]);
        cp.plates = vec![plate];
        cp.active = vec![Some(0)];
        cp
    }

    #[test]
    fn a_kit_in_the_grass_colour_inside_a_painted_line_is_no_blend_of_the_two() {
        // 5 pixels per cell across: the middle of cell 3 lies 2.5 px from its edges.
        let cp = white_line(100.0);
        let mid = 0.175_f32;
        assert_eq!(cp.combine(0, 1.0, mid, WHITE, 1.0), 1.0, "the paint");
        assert_eq!(
            cp.combine(0, 1.0, mid, GRASS, 1.0),
            0.0,
            "a grass-coloured kit in the middle of the paint"
        );
        // At the paint's edge a pixel holds the grass beside it, and half of each a
        // quarter pixel inside.
        assert_eq!(cp.combine(0, 1.0, 0.1502, GRASS, 1.0), 1.0);
        let half: [f32; 3] = std::array::from_fn(|c| f32::midpoint(WHITE[c], GRASS[c]));
        assert_eq!(cp.combine(0, 1.0, 0.1525, half, 1.0), 1.0);
        assert_eq!(cp.combine(0, 1.0, mid, half, 1.0), 0.0);
        // Where the picture's scale is not known, a blend anywhere in the cell.
        assert_eq!(white_line(0.0).combine(0, 1.0, mid, GRASS, 1.0), 1.0);
    }

    #[test]
    fn a_kit_in_the_grass_colour_over_a_painted_line_hides_the_grass_beside_it() {
        let mut cp = white_line(100.0);
        let mut plate = cp.plates.pop().expect("one plate");
        let nc = plate.n_across;
        // This frame: in row 50 a kit the grass's colour covers the paint, in row 70 a
        // white kit; elsewhere the empty field.
        cp.samples = plate
            .cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let (ia, ic) = (i / nc, i % nc);
                let x = match (ia, (3..5).contains(&ic)) {
                    (50, true) => GRASS,
                    (70, true) => KIT,
                    _ => c.plate.mean,
                };
                (x, 1.0, 1.0)
            })
            .collect();
        cp.find_hidden(&mut plate);
        let hidden = |ia: usize, ic: usize| plate.texels[ia * nc + ic].hidden;
        assert_eq!((hidden(50, 2), hidden(50, 5)), (1.0, 1.0));
        assert_eq!(
            (hidden(50, 1), hidden(50, 6)),
            (0.0, 0.0),
            "one cell either side"
        );
        assert_eq!(
            (hidden(70, 2), hidden(70, 5)),
            (0.0, 0.0),
            "a white kit shows its edge"
        );
        assert_eq!(hidden(60, 2), 0.0);
        cp.plates = vec![plate];
        assert_eq!(cp.combine(0, 5.05, 0.125, GRASS, 1.0), 0.0);
        assert_eq!(cp.combine(0, 6.05, 0.125, GRASS, 1.0), 1.0);
    }

    #[test]
    fn an_unsteady_paint_cell_between_two_paints_matches_their_blends() {
        // Gold paint, a row a pixel wide on the boundary (its samples straddle gold and
        // purple), purple paint: all three approved.
        let gold = [184.0, 74.0, 151.0];
        let purple = [77.0, 141.0, 132.0];
        let (mut cp, mut plate) = strip_across(10, f64::INFINITY, |ia, _| {
            Some(if ia <= 50 { (gold, 0.0) } else { (purple, 0.0) })
        });
        let nc = plate.n_across;
        for ic in 0..nc {
            let c = &mut plate.cells[50 * nc + ic];
            c.plate.var = 30.0 * 30.0;
            c.region = true;
            plate.texels[50 * nc + ic] = texel(c);
        }
        assert!(plate.texels[50 * nc + 3].unsteady());
        plate.px_per_m.fill([0.0; 2]);
        cp.plates = vec![plate];
        cp.active = vec![Some(0)];
        let at = 5.05_f32;
        let half: [f32; 3] = std::array::from_fn(|c| f32::midpoint(gold[c], purple[c]));
        for x in [gold, purple, half] {
            assert_eq!(cp.combine(0, at, 0.175, x, 0.0), 1.0, "{x:?}");
        }
        assert_eq!(cp.combine(0, at, 0.175, KIT, 0.0), 0.0, "a white kit");
        // Anything else is bounded by the colour key, as on grass.
        assert_eq!(cp.combine(0, at, 0.175, GRASS, 0.0), 0.0);
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
