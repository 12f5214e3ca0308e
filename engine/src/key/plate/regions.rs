//! The painted regions of a line's plate: which cells hold paint the colour key does not call
//! field (connected regions of one colour long enough, a cold line's first samples, short pieces
//! between regions), the fringe beside them, and the rows a kit covers this frame (the policy
//! in the parent module's docs).

use super::cell::{
    Cell, FIELD_KEY, Model, PROMOTE_FRAMES, WARM_FRAMES, cold_paint, dist2, is_paint_like,
    paint_colour, promotable,
};
use super::{
    CELL_ACROSS_M, CELL_ALONG_M, COLD_REGION_MIN_ALONG_M, COLD_REGION_PERSONS, COVER_SPREAD_CELLS,
    CleanPlate, ENCLOSED_MAX_ALONG_M, LinePlate, MATCH_SIGMAS, PERSON_HEIGHT_M, PERSON_WIDTH_M,
    REGION_JOIN_CODES, REGION_MIN_ALONG_M, WIDE_ROWS,
};

/// Widest a cold region may be across the line (metres), in every row, to count as a painted
/// line from [`COLD_REGION_MIN_ALONG_M`] along whatever a person standing there covers: a
/// yard line and its blended edges; a person's torso is wider.
pub const NARROW_MAX_M: f64 = 0.3;

/// A cell's state in the region labelling.
const MARK_NONE: u8 = 0;
const MARK_PAINT: u8 = 1;
const MARK_SEEN: u8 = 2;
const MARK_BRIDGE: u8 = 3;

impl CleanPlate {
    /// Marks the rows across the line where something covers the grass next to an approved
    /// painted region this frame (a sample of a warm cell one or two cells from the paint,
    /// beyond [`MATCH_SIGMAS`]`.1` sigmas of its plate), spread [`COVER_SPREAD_CELLS`] along:
    /// a kit in the paint's colour over the paint also covers its sides, while the empty paint
    /// has grass beside it.
    pub(super) fn find_covered(&mut self, plate: &LinePlate) {
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

    /// Marks the cells whose plate or candidate is paint-like (not keyed as field, stable) and
    /// promotes or approves those in connected regions longer than [`REGION_MIN_ALONG_M`].
    /// `person_reach(along)` is how far along the line a person standing at `along` covers
    /// the field in the picture ([`person_reach_m`]).
    pub(super) fn approve_regions(
        &mut self,
        plate: &mut LinePlate,
        person_reach: impl Fn(f64) -> f64,
    ) {
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
            // A painted line along the strip is narrow in every row across, inside the strip;
            // a person standing on it is wider than that over any stretch as long as a cold
            // region (his torso), and one standing at the strip's edge may show only a narrow
            // part of himself inside it. Per row: cells, first and last across.
            self.row_cells.clear();
            self.row_cells.resize(na, [0, u16::MAX, 0]);
            self.row_colour.resize(na, [0.0; 3]);
            for &(i, colour) in &self.stack {
                if is_paint_like(&plate.cells[i]) {
                    let (r, ic) = (&mut self.row_cells[i / nc], (i % nc) as u16);
                    *r = [r[0] + 1, r[1].min(ic), r[2].max(ic)];
                    self.row_colour[i / nc] = colour;
                }
            }
            let narrow = (lo..=hi).all(|ia| {
                let [n, first, last] = self.row_cells[ia];
                n == 0
                    || (f64::from(n) * CELL_ACROSS_M <= NARROW_MAX_M + 1e-9
                        && first > 0
                        && usize::from(last) + 1 < nc)
            });
            // Paint that runs on beyond the strip each side, in most of the region's rows, is
            // wider than a person (a logo) however long the picture makes him.
            let rows = (lo..=hi).filter(|&ia| self.row_cells[ia][0] > 0);
            let (seen, wide_rows) = rows.fold((0_usize, 0_usize), |(n, w), ia| {
                let colour = self.row_colour[ia];
                let runs_on = |p: &Option<[f32; 3]>| {
                    p.is_some_and(|p| dist2(p, colour) < (2.0 * REGION_JOIN_CODES).powi(2) * 3.0)
                };
                let wide = self.probes.get(ia).is_some_and(|p| p.iter().all(runs_on));
                (n + 1, w + usize::from(wide))
            });
            let wide = wide_rows as f64 >= WIDE_ROWS * seen as f64 && seen > 0;
            let cold_min_m = if wide {
                REGION_MIN_ALONG_M
            } else if narrow {
                COLD_REGION_MIN_ALONG_M
            } else {
                COLD_REGION_MIN_ALONG_M.max(COLD_REGION_PERSONS * person_reach(middle))
            };
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
            let c = &mut plate.cells[i];
            c.fringe = !c.region && beside;
            // A cold cell beside the paint (the line just came into view) holds the paint's
            // blend from its first sample.
            if c.fringe && cold_paint(c) {
                c.plate = c.candidate;
                c.candidate = Model::default();
            }
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
pub(super) fn person_reach_m(camera: [f64; 3], at: [f64; 2], direction: [f64; 2]) -> f64 {
    let (dx, dy) = (at[0] - camera[0], at[1] - camera[1]);
    let d = dx.hypot(dy);
    let above = camera[2] - PERSON_HEIGHT_M;
    if above < 0.25 * PERSON_HEIGHT_M || d <= 0.0 {
        return f64::INFINITY;
    }
    let cos = ((dx * direction[0] + dy * direction[1]) / d).abs();
    PERSON_HEIGHT_M * d / above * cos + PERSON_WIDTH_M
}

#[cfg(test)]
#[allow(
    clippy::float_cmp,
    reason = "the weights and matches asserted are exactly 0 or 1 by their clamps"
)]
pub(super) mod tests {
    use super::super::cell::tests::{GRASS, KIT, LOGO};
    use super::super::cell::{PlateTexel, learn_cell, plate_match, texel};
    use super::*;

    /// A strip 0.4 m across, 10 m along, its cells with `colour` (keyed `key`) over
    /// `along_m` metres from its start and grass elsewhere, learnt for `frames` frames.
    pub(in crate::key::plate) fn strip(
        colour: [f32; 3],
        key: f32,
        along_m: f64,
        frames: u32,
    ) -> (CleanPlate, LinePlate) {
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
    pub(in crate::key::plate) fn strip_across(
        frames: u32,
        reach_m: f64,
        at: impl Fn(usize, usize) -> Option<([f32; 3], f32)>,
    ) -> (CleanPlate, LinePlate) {
        strip_probed(frames, reach_m, None, at)
    }

    /// [`strip_across`] whose probes beyond the strip each side see `probe` (a colour not
    /// keyed as field, or `None`) in every row.
    fn strip_probed(
        frames: u32,
        reach_m: f64,
        probe: Option<[f32; 3]>,
        at: impl Fn(usize, usize) -> Option<([f32; 3], f32)>,
    ) -> (CleanPlate, LinePlate) {
        let n_along = 100;
        let n_across = 8;
        let mut plate = LinePlate::empty();
        plate.n_along = n_along;
        plate.n_across = n_across;
        plate.cells = vec![Cell::default(); n_along * n_across];
        plate.texels = vec![PlateTexel::default(); n_along * n_across];
        plate.px_per_m = vec![[0.0; 2]; n_along];
        let mut cp = CleanPlate::new();
        cp.excluded = (0..n_along * n_across)
            .map(|i| at(i / n_across, i % n_across).is_none())
            .collect();
        cp.probes = vec![[probe; 2]; n_along];
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

    /// A painted line in cells 3 and 4 of the 8 across, down the whole strip, grass beside.
    fn painted_line(_: usize, ic: usize) -> ([f32; 3], f32) {
        if (3..5).contains(&ic) {
            (LOGO, 0.0)
        } else {
            (GRASS, 1.0)
        }
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
        let line = |ia, ic| Some(painted_line(ia, ic));
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
        // A painted line two cells wide is paint from its first frame however much of it a
        // person covers (a person is wider than 0.3 m over any 4 m of it), with its fringe...
        let (_, far) = strip_across(1, 8.0, line);
        assert_eq!(far.texels[cells(5.0) * 8 + 3].paint, 1.0);
        assert!(far.cells[cells(5.0) * 8 + 2].fringe);
        // ... while paint as wide as the strip over 10 m where a person covers 8 m waits for
        // the frames a warm region needs ...
        let wide = |_: usize, _: usize| Some((LOGO, 0.0));
        let (_, first) = strip_across(1, 8.0, wide);
        assert_eq!(first.texels[cells(5.0) * 8 + 3].paint, 0.0);
        let (_, later) = strip_across(PROMOTE_FRAMES.into(), 8.0, wide);
        assert_eq!(later.texels[cells(5.0) * 8 + 3].paint, 1.0);
        // ... unless it runs on beyond the strip each side (a logo): then 2 m of it are paint
        // from its first frame, and not where the field lies beyond (a player's torso) nor
        // another colour (a kit in the colour of a logo's emblem, standing on the logo).
        let logo = |ia: usize, _: usize| {
            Some(if ia < cells(2.5) {
                (LOGO, 0.0)
            } else {
                (GRASS, 1.0)
            })
        };
        let (_, beyond) = strip_probed(1, 8.0, Some(LOGO), logo);
        assert_eq!(beyond.texels[cells(1.0) * 8 + 3].paint, 1.0);
        let (_, person) = strip_probed(1, 8.0, None, logo);
        assert_eq!(person.texels[cells(1.0) * 8 + 3].paint, 0.0);
        let (_, emblem) = strip_probed(1, 8.0, Some(KIT), logo);
        assert_eq!(emblem.texels[cells(1.0) * 8 + 3].paint, 0.0);
    }

    #[test]
    fn a_cold_cell_beside_a_painted_line_holds_its_fringe_from_the_first_frame() {
        // Over a metre, the grass beside the paint is tinted by it: the colour key does not
        // call it field, so it seeds no plate of its own, and it is too short to be paint.
        let tinted = [80.0, 125.0, 130.0];
        let at = |ia: usize, ic: usize| {
            Some(match ic {
                3 | 4 => (LOGO, 0.0),
                2 | 5 if (cells(4.5)..cells(5.5)).contains(&ia) => (tinted, 0.2),
                _ => (GRASS, 1.0),
            })
        };
        let (_, plate) = strip_across(1, 2.0, at);
        let i = cells(5.0) * 8 + 2;
        assert!(plate.cells[i].fringe && !plate.cells[i].region);
        assert_eq!(plate.cells[i].plate.mean, tinted);
        assert_eq!(plate.texels[i].paint, 1.0);
        assert_eq!(plate_match(&plate.texels[i], tinted), 1.0);
        assert_eq!(plate_match(&plate.texels[i], KIT), 0.0);
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
        let at = |ia, ic| Some(painted_line(ia, ic));
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
        let line = |ia, ic| Some(painted_line(ia, ic));
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
}
