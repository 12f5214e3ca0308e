//! One cell of a clean plate: the two colour models it learns from its samples (the empty
//! field's plate and a candidate), the policy of a single cell (cold start, outliers in time, a
//! candidate replacing the plate) and what the compositors read of it ([`PlateTexel`]) with the
//! match of a pixel's colour against it. The grid of cells over a line, its lighting and cuts
//! are the parent module's, its painted regions `regions`', what the picture shows at a field
//! point `sampling`'s.

/// Agreeing samples before a cell is trusted (frames).
pub const WARM_FRAMES: u16 = 3;
/// Lowest noise sigma of a cell (8-bit code values, RMS per channel).
pub const SIGMA_FLOOR: f32 = 3.0;
/// Largest noise sigma of a steady cell (8-bit code values): a cell whose samples spread
/// wider (its pixels straddle a paint edge, an edge between a player and the grass seeded it)
/// only bounds the colour key, and is never matched alone as paint.
pub const SIGMA_TRUSTED: f32 = 12.0;
/// Match distances in noise sigmas: full match within the first, none beyond the second.
pub const MATCH_SIGMAS: (f32, f32) = (3.0, 5.0);
/// Least colour key of a sample (or mean key of a model) that counts as field: a model keyed
/// lower (paint, deep shade) is left to the region rule.
pub(super) const FIELD_KEY: f32 = 0.5;
/// Learning rate of a model's mean and noise once it holds a few samples.
const MEAN_RATE: f32 = 1.0 / 16.0;
/// Learning rate of the models' weights (how much of the recent past each explains).
const WEIGHT_RATE: f32 = 1.0 / 32.0;
/// A sample within this many sigmas of a model belongs to it.
const BELONG_SIGMAS: f32 = 3.5;
/// Distance (noise sigmas) beyond which a sample that belongs to a model moves it no more than
/// one at this distance would.
const LEARN_CLIP_SIGMAS: f32 = 2.0;
/// Samples a candidate needs before it may replace the plate.
pub(super) const PROMOTE_FRAMES: u16 = 8;
/// One colour model of a cell.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Model {
    /// Mean Y, Cb, Cr (8-bit limited-range code values).
    pub(super) mean: [f32; 3],
    /// Mean squared distance per channel (code values squared).
    pub(super) var: f32,
    /// Share of the recent past this model explains (0 = empty).
    pub(super) weight: f32,
    /// Mean colour key of its samples (0..1).
    pub(super) key: f32,
    /// Samples taken (saturating).
    pub(super) frames: u16,
}

impl Model {
    pub(super) fn is_empty(&self) -> bool {
        self.frames == 0
    }

    fn seed(x: [f32; 3], spread: f32, key: f32) -> Self {
        Self {
            mean: x,
            var: (SIGMA_FLOOR * SIGMA_FLOOR).max(2.0 * spread),
            weight: WEIGHT_RATE,
            key,
            frames: 1,
        }
    }

    /// Distance of sample `x` (a 2x2 mean) in noise sigmas.
    #[inline]
    pub(super) fn sigmas(&self, x: [f32; 3]) -> f32 {
        let d2 = dist2(x, self.mean) / 3.0;
        (d2 / self.var.max(SIGMA_FLOOR * SIGMA_FLOOR)).sqrt()
    }

    fn learn(&mut self, x: [f32; 3], spread: f32, key: f32) {
        let rate = (1.0 / f32::from(self.frames + 1)).max(MEAN_RATE);
        // Robust: a sample beyond `LEARN_CLIP_SIGMAS` moves the mean and the noise no more
        // than one at that distance (the edge of a kit in the field's colour, passing, must
        // not widen the plate until it explains the kit).
        let var = self.var.max(SIGMA_FLOOR * SIGMA_FLOOR);
        let d2 = dist2(x, self.mean) / 3.0;
        let clip = LEARN_CLIP_SIGMAS * LEARN_CLIP_SIGMAS * var;
        let pull = if self.frames >= WARM_FRAMES && d2 > clip {
            (clip / d2).sqrt()
        } else {
            1.0
        };
        let d2 = if self.frames >= WARM_FRAMES {
            d2.min(clip)
        } else {
            d2
        } + spread;
        for (m, v) in self.mean.iter_mut().zip(x) {
            *m += (v - *m) * rate * pull;
        }
        self.var += (d2 - self.var) * rate;
        self.key += (key - self.key) * rate;
        self.weight += (1.0 - self.weight) * WEIGHT_RATE;
        self.frames = self.frames.saturating_add(1);
    }
}

#[inline]
pub(super) fn dist2(a: [f32; 3], b: [f32; 3]) -> f32 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)
}

/// One cell of a plate.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Cell {
    pub(super) plate: Model,
    pub(super) candidate: Model,
    /// The plate is part of a region long enough to count as painted field.
    pub(super) region: bool,
    /// Not paint itself but beside an approved region across the line: the paint's fringe,
    /// where the plate match alone decides as on the paint.
    pub(super) fringe: bool,
}

/// What the compositors read per cell: the plate's colour, its noise and its trust.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[repr(C)]
pub struct PlateTexel {
    /// Plate Y, Cb, Cr (8-bit limited-range code values).
    pub mean: [f32; 3],
    /// 1 / noise sigma (per code value).
    pub inv_sigma: f32,
    /// Trust of the plate as grass (its colour keyed as field): there the key is the lower of
    /// the colour key and the plate match. 0..=1.
    pub grass: f32,
    /// Trust of the plate as paint (an approved region the colour key does not call field):
    /// there the plate match alone decides. 0..=1, `grass + paint <= 1`; the rest of the key
    /// is the colour key's.
    pub paint: f32,
    /// Share of the key taken away this frame (0..=1): a cell beside this one across the line
    /// shows, where its own plate does not explain it, a colour this cell's plate does (a kit
    /// in the grass's colour over a painted line). Its edge cannot show against this cell's
    /// field, and a limb is wider than a cell.
    pub hidden: f32,
}

impl PlateTexel {
    /// The plate's samples spread wider than [`SIGMA_TRUSTED`] (its pixels straddle an edge
    /// a pixel or two from them, or a player's edge seeded it): as paint, its own colour says
    /// nothing, and a pixel is matched against its steady neighbours' plates and blends.
    #[inline]
    pub fn unsteady(&self) -> bool {
        self.inv_sigma * SIGMA_TRUSTED < 1.0
    }
}

/// Match of colour `x` with a blend of two texels' plates holding at most `reach` (0..=1) of
/// `b`: its distance to that part of the segment between their colours, in the wider of their
/// noises.
#[inline]
pub fn blend_match(a: &PlateTexel, b: &PlateTexel, x: [f32; 3], reach: f32) -> f32 {
    let ab = [
        b.mean[0] - a.mean[0],
        b.mean[1] - a.mean[1],
        b.mean[2] - a.mean[2],
    ];
    let ax = [x[0] - a.mean[0], x[1] - a.mean[1], x[2] - a.mean[2]];
    let len2 = ab[0] * ab[0] + ab[1] * ab[1] + ab[2] * ab[2];
    let s = if len2 > 0.0 {
        ((ax[0] * ab[0] + ax[1] * ab[1] + ax[2] * ab[2]) / len2).clamp(0.0, reach)
    } else {
        0.0
    };
    let near = [
        a.mean[0] + ab[0] * s,
        a.mean[1] + ab[1] * s,
        a.mean[2] + ab[2] * s,
    ];
    let d = (dist2(x, near) / 3.0).sqrt() * a.inv_sigma.min(b.inv_sigma);
    ((MATCH_SIGMAS.1 - d) / (MATCH_SIGMAS.1 - MATCH_SIGMAS.0)).clamp(0.0, 1.0)
}

/// Match of colour `x` with a texel's plate: 1 within [`MATCH_SIGMAS`]`.0` sigmas, 0 beyond
/// [`MATCH_SIGMAS`]`.1`, linear between.
#[inline]
pub fn plate_match(t: &PlateTexel, x: [f32; 3]) -> f32 {
    let d = (dist2(x, t.mean) / 3.0).sqrt() * t.inv_sigma;
    ((MATCH_SIGMAS.1 - d) / (MATCH_SIGMAS.1 - MATCH_SIGMAS.0)).clamp(0.0, 1.0)
}

/// The colour of a paint-like cell: its candidate's when that is about to replace the plate
/// (or the cell has no plate yet).
pub(super) fn paint_colour(c: &Cell) -> [f32; 3] {
    if promotable(c) || cold_paint(c) {
        c.candidate.mean
    } else {
        c.plate.mean
    }
}

/// A cell's plate, promoted candidate or cold candidate is paint-like: stable (or all the
/// cell has seen), and not keyed as field.
pub(super) fn is_paint_like(c: &Cell) -> bool {
    // A plate promoted from a cold cell's first samples is paint-like while its region holds.
    let plate = !c.plate.is_empty()
        && c.plate.key < FIELD_KEY
        && (c.plate.frames >= WARM_FRAMES || c.region);
    plate || promotable(c) || cold_paint(c)
}

/// The candidate has outweighed the plate long enough to replace it.
pub(super) fn promotable(c: &Cell) -> bool {
    c.candidate.frames >= PROMOTE_FRAMES && c.candidate.weight > c.plate.weight
}

/// A cold cell (no plate yet) whose samples so far were not keyed as field: paint from its
/// first sample when it lies in a region far longer than a person
/// ([`super::COLD_REGION_MIN_ALONG_M`]).
pub(super) fn cold_paint(c: &Cell) -> bool {
    c.plate.is_empty() && !c.candidate.is_empty()
}

/// Learns sample `x` (colour key `k`) into a cell (see the module docs).
pub(super) fn learn_cell(c: &mut Cell, x: [f32; 3], spread: f32, k: f32) {
    if c.plate.is_empty() {
        if k >= FIELD_KEY {
            c.plate = Model::seed(x, spread, k);
        } else {
            learn_candidate(c, x, spread, k);
        }
        return;
    }
    if c.plate.sigmas(x) < BELONG_SIGMAS {
        c.plate.learn(x, spread, k);
        c.candidate.weight *= 1.0 - WEIGHT_RATE;
        return;
    }
    c.plate.weight *= 1.0 - WEIGHT_RATE;
    learn_candidate(c, x, spread, k);
    // A candidate keyed as field replaces the plate once it outweighs it (a player who stood
    // on a cold cell walked off, the light changed); one that is not waits for the region rule.
    if promotable(c) && c.candidate.key >= FIELD_KEY {
        c.plate = c.candidate;
        c.candidate = Model::default();
    }
}

fn learn_candidate(c: &mut Cell, x: [f32; 3], spread: f32, k: f32) {
    if c.candidate.is_empty() || c.candidate.sigmas(x) >= BELONG_SIGMAS {
        c.candidate = Model::seed(x, spread, k);
    } else {
        c.candidate.learn(x, spread, k);
    }
    if c.plate.is_empty() && promotable(c) && c.candidate.key >= FIELD_KEY {
        c.plate = c.candidate;
        c.candidate = Model::default();
    }
}

/// What the compositors read of a cell.
pub(super) fn texel(c: &Cell) -> PlateTexel {
    let p = &c.plate;
    // An approved region is trusted from its first sample (paint counts as field from the
    // start); grass after a few agreeing frames.
    // An unsteady plate (its samples spread wide: an edge between paint and grass at a pixel
    // or two per cell, a player's edge seeded it) still tells a colour far from all it has
    // shown, so it bounds the colour key; only a steady one decides alone on paint.
    let warm = p.frames >= WARM_FRAMES || c.region || c.fringe;
    let (grass, paint) = match (warm, c.region || c.fringe) {
        (false, _) => (0.0, 0.0),
        (true, true) => (0.0, 1.0),
        (true, false) => (1.0, 0.0),
    };
    PlateTexel {
        mean: p.mean,
        inv_sigma: 1.0 / p.var.sqrt().max(SIGMA_FLOOR),
        grass,
        paint,
        hidden: 0.0,
    }
}

#[cfg(test)]
#[allow(
    clippy::float_cmp,
    reason = "the weights and matches asserted are exactly 0 or 1 by their clamps"
)]
pub(super) mod tests {
    use super::*;

    /// Colours of the plate's tests (Y, Cb, Cr): grass, a white kit, a painted logo.
    pub(in crate::key::plate) const GRASS: [f32; 3] = [90.0, 110.0, 115.0];
    pub(in crate::key::plate) const KIT: [f32; 3] = [200.0, 128.0, 128.0];
    pub(in crate::key::plate) const LOGO: [f32; 3] = [60.0, 150.0, 160.0];

    #[test]
    fn a_player_passing_is_an_outlier_and_the_plate_stays_grass() {
        let mut c = Cell::default();
        for _ in 0..10 {
            learn_cell(&mut c, GRASS, 1.0, 1.0);
        }
        for _ in 0..6 {
            learn_cell(&mut c, KIT, 1.0, 0.0);
        }
        assert_eq!(c.plate.mean, GRASS);
        let t = texel(&c);
        assert!(t.grass > 0.9);
        assert_eq!(plate_match(&t, KIT), 0.0);
        assert_eq!(plate_match(&t, GRASS), 1.0);
    }

    #[test]
    fn a_kit_near_the_field_colour_passing_does_not_widen_the_plate() {
        let mut c = Cell::default();
        for _ in 0..20 {
            learn_cell(&mut c, GRASS, 1.0, 1.0);
        }
        let sigma0 = c.plate.var.sqrt().max(SIGMA_FLOOR);
        // Three sigmas off (RMS per channel) in luma: close enough to belong to the plate, for
        // ten frames. Learnt in full, it would double the noise.
        let kit = [GRASS[0] + 3.0 * 3_f32.sqrt() * sigma0, GRASS[1], GRASS[2]];
        for _ in 0..10 {
            learn_cell(&mut c, kit, 1.0, 1.0);
        }
        let sigma = c.plate.var.sqrt();
        assert!(sigma < 1.6 * sigma0, "noise {sigma0} -> {sigma}");
        assert_eq!(plate_match(&texel(&c), GRASS), 1.0);
    }

    #[test]
    fn a_plate_keyed_as_field_only_at_times_is_trusted_as_field() {
        // White paint whose palette the paint view drops while a kit covers the marking
        // nearby: its samples are keyed as field one frame, not the next.
        let white = [230.0, 128.0, 128.0];
        let mut c = Cell::default();
        for n in 0..20 {
            learn_cell(&mut c, white, 1.0, if n % 2 == 0 { 1.0 } else { 0.0 });
        }
        let t = texel(&c);
        assert_eq!((t.grass, t.paint), (1.0, 0.0));
        // A kit the grass's colour over it is foreground whatever the colour key says.
        assert_eq!(plate_match(&t, GRASS), 0.0);
    }

    #[test]
    fn an_unsteady_plate_bounds_the_colour_key() {
        // A cell a pixel or two wide on a paint edge: the 2x2 pixels of each sample straddle
        // the paint and the grass.
        let mut c = Cell::default();
        for _ in 0..20 {
            learn_cell(&mut c, GRASS, 200.0, 1.0);
        }
        assert!(c.plate.var.sqrt() > SIGMA_TRUSTED);
        let t = texel(&c);
        assert_eq!((t.grass, t.paint), (1.0, 0.0));
        assert_eq!(plate_match(&t, GRASS), 1.0);
        assert!(plate_match(&t, KIT) < 0.5, "a white kit is foreground");
        // As paint, its own colour says nothing: `combine` matches its pixels against its
        // steady neighbours.
        c.region = true;
        assert!(texel(&c).unsteady());
    }

    #[test]
    fn a_cold_cell_is_seeded_by_field_and_trusted_after_a_few_frames() {
        let mut c = Cell::default();
        // A player on the cell when it comes into view: not keyed as field, not the plate.
        learn_cell(&mut c, KIT, 1.0, 0.0);
        assert!(c.plate.is_empty());
        learn_cell(&mut c, GRASS, 1.0, 1.0);
        assert_eq!(texel(&c).grass, 0.0, "not trusted after one sample");
        for _ in 1..WARM_FRAMES {
            learn_cell(&mut c, GRASS, 1.0, 1.0);
        }
        assert!(texel(&c).grass > 0.9);
    }
}
