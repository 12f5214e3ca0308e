//! The paint view: each frame, the key's paint palette narrowed to the pieces of painted
//! marking actually seen (a white kit standing on a yard line has the paint's colour).

use nalgebra::Point2;
use yardline_frame::FrameRef;
use yardline_keying::KeyLut;

use super::{FieldKey, FrameKey};
use crate::field::FieldModel;
use crate::geometry::Camera;
use crate::render::crew::Crew;
use crate::render::{KeyRegion, PreparedLine, regions_near_lines, strip_box};

/// How far along a painted marking (pixels in a 1080-line image, fewer in smaller ones) a
/// covered piece makes its neighbours count as covered: a kit that covers the whole width of
/// the marking in one place covers one side of it round about, where one clean side would
/// pass it for paint.
const PAINT_COVER_SPREAD_PX: f64 = 20.0;
/// Length of the pieces a painted marking is split into to tell seen paint from a kit that
/// covers it (pixels in a 1080-line image, more in taller ones) ...
const PAINT_PIECE_PX: f64 = 4.0;
/// ... or, where the marking's ends do not project, metres along it.
const PAINT_PIECE_M: f64 = 0.1;
/// Most pieces per marking.
const MAX_PAINT_PIECES: usize = 8192;
/// How far beyond a painted marking's edge (pixels) its sides are looked at: past the edge's
/// blend with the grass and the min-filter's reach.
const PAINT_SIDE_PX: [f64; 2] = [4.0, 5.5];
/// Widest reach of the paint palette past a painted marking's edge in the image (pixels): the
/// paint's blend with the grass and a pixel of pose error. In a tight shot the palette's
/// margin in metres spans many pixels, where a white kit beside the paint would be keyed as
/// paint.
const PAINT_MARGIN_MAX_PX: f64 = 3.0;
/// A piece dropped for a kit beside or over it is looked at again in stretches of about this
/// many pixels along the marking ...
const SCAN_ALONG_PX: f64 = 1.0;
/// ... each sampled across every this many pixels ...
const SCAN_STEP_PX: f64 = 1.5;
/// ... the outer samples this far inside the paint's edges (off its blend with the grass, and
/// off the chroma a subsampled frame's edge pixels share with it) ...
const SCAN_EDGE_PX: f64 = 2.0;
/// ... every sample with the colour of the clean paint nearby: within this many spreads of its
/// median in each component ...
const CLEAN_SPREADS: f32 = 3.5;
/// ... or this many code values.
const CLEAN_MIN_CODES: f32 = 2.0;
/// Narrowest a marking may span across in the image (pixels) to be looked at again: at least
/// two samples across. Across a narrower one a kit standing on it (a player in a wide shot,
/// in the paint's colour in shade) may show the paint's colour in the one sample and grass
/// beside it.
const SCAN_MIN_WIDTH_PX: f64 = 3.0;
/// Most stretches a dropped piece is looked at in.
const SCAN_MAX_STRETCHES: usize = 16;

/// The key's regions for one frame: where the paint palette applies is narrowed to the paint
/// actually seen. A white kit standing on a yard line has the paint's colour; what tells them
/// apart is that a painted line is thin: beside seen paint lies grass (or a kit the default
/// palette keys out anyway, or the ground beyond the field), while a kit covering the paint
/// also covers its sides with a colour only the paint palette keys; and seen paint has the
/// colour of the clean paint nearby. Reused between frames (no allocation once warm).
#[derive(Debug, Default)]
pub struct PaintView {
    /// Works the pieces (the caller alone by default).
    crew: Crew,
    near: Vec<u32>,
    pieces: Vec<([f64; 4], Piece)>,
    seen: Vec<Cover>,
    kept: Vec<bool>,
    /// Per piece: the clean paint round it, once asked for (by the cover rule or the second
    /// look).
    clean: Vec<CleanRound>,
    regions: Vec<KeyRegion>,
}

/// What lies beside a painted marking, from least to most suspect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Side {
    /// Keyed as field by the default palette.
    Grass,
    /// Keyed by neither palette (a kit the default palette keys out anyway).
    Other,
    /// Keyed by the paint palette only: paint, or a kit as white as the paint.
    PaintLike,
}

/// What lies on the two sides of a piece of painted marking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Beside {
    /// Grass on both sides: clean paint.
    Grass,
    /// A kit the default palette keys out on a side, nothing paint-like: paint beside a dark
    /// kit, or a kit in the paint's colour over the paint between a dark kit and the grass.
    Other,
    /// Paint-like on one side, grass on the other: paint beside a white kit, or a white kit
    /// over the paint with grass on its other side.
    PaintLikeAndGrass,
    /// Paint-like on one side and no grass on the other: covered.
    PaintLike,
}

/// Whether a piece of painted marking is seen, and what covers it if not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cover {
    /// Seen paint.
    None,
    /// A kit of another colour than the paint's: its neighbours are partly covered.
    Kit,
    /// A kit as white as the paint: pieces within `PAINT_COVER_SPREAD_PX` are covered too.
    White,
}

/// What one piece of a painted marking looks like this frame.
#[derive(Debug, Clone, Copy)]
struct Piece {
    beside: Beside,
    /// Y, Cb, Cr at its centre (none when out of the frame).
    colour: Option<[f32; 3]>,
}

impl Piece {
    /// A piece whose centre is out of the frame (or does not project).
    const OUT_OF_FRAME: Self = Self {
        beside: Beside::Grass,
        colour: None,
    };
}

/// Pieces looked at by one task of the crew (about 20 us of work).
const PIECES_PER_TASK: usize = 32;

/// Clean pieces (no paint-like side) each way along a marking that give the paint's colour
/// there.
const PAINT_REFERENCE_PIECES: usize = 20;

/// The clean paint round a piece, once worked out.
#[derive(Debug, Clone, Copy)]
enum CleanRound {
    /// Not asked for yet.
    Unknown,
    /// Worked out: `None` with fewer than 3 clean pieces round it.
    Known(Option<CleanPaint>),
}

/// The colour of the clean pieces (no paint-like side) round a piece of a marking, robust to
/// a kit inside the marking that touches neither side: per component the median and the
/// spread (1.4826 median absolute deviations).
#[derive(Debug, Clone, Copy)]
struct CleanPaint {
    median: [f32; 3],
    spread: [f32; 3],
}

impl CleanPaint {
    /// The clean pieces among `pieces` (at most `2 * PAINT_REFERENCE_PIECES + 1`); `None` with
    /// fewer than 3.
    fn of(pieces: impl Iterator<Item = Piece>) -> Option<Self> {
        const MOST: usize = 2 * PAINT_REFERENCE_PIECES + 1;
        let mut values = [[0.0_f32; MOST]; 3];
        let mut n = 0;
        for colour in pieces
            .filter(|p| p.beside == Beside::Grass)
            .filter_map(|p| p.colour)
            .take(MOST)
        {
            for i in 0..3 {
                values[i][n] = colour[i];
            }
            n += 1;
        }
        if n < 3 {
            return None;
        }
        let median = |v: &mut [f32]| {
            v.sort_unstable_by(f32::total_cmp);
            v[v.len() / 2]
        };
        let (mut med, mut spread) = ([0.0; 3], [0.0; 3]);
        for i in 0..3 {
            let v = &mut values[i][..n];
            med[i] = median(v);
            for x in v.iter_mut() {
                *x = (*x - med[i]).abs();
            }
            spread[i] = 1.4826 * median(v);
        }
        Some(Self {
            median: med,
            spread,
        })
    }

    /// Whether `c` has this colour: within `CLEAN_SPREADS` spreads of the median in each
    /// component (at least `CLEAN_MIN_CODES` code values).
    fn matches(&self, c: [f32; 3]) -> bool {
        (0..3).all(|i| {
            (c[i] - self.median[i]).abs() <= (CLEAN_SPREADS * self.spread[i]).max(CLEAN_MIN_CODES)
        })
    }
}

impl PaintView {
    /// A new, empty view.
    pub fn new() -> Self {
        Self::default()
    }

    /// A new, empty view that looks at the pieces with `crew`.
    pub fn with_crew(crew: Crew) -> Self {
        Self {
            crew,
            ..Self::default()
        }
    }

    /// Narrows `key`'s regions for `frame` seen by `camera` (over `surface`) with `lines`
    /// drawn: the key's own regions as they are; the part of each painted marking under a
    /// line split into pieces of about 4 pixels (at 1080 lines), a piece kept unless a
    /// colour only the paint palette keys lies beside it (a kit as white as the paint, which
    /// would cover the paint too; with grass on the other side, a piece of the colour of the
    /// clean paint nearby is kept) or a kit the default palette keys out lies beside it and
    /// the piece has another colour than the clean paint nearby (a kit over the paint); the
    /// pieces next to a rejected one rejected too, and those within about 20 pixels (at 1080
    /// lines) of one a white kit covers; kept pieces merged; the rejected pieces a white kit
    /// does not cover looked at again a pixel at a time along the marking, the paint kept
    /// where it is seen all across. Returns the key to composite with.
    pub fn update<'a>(
        &'a mut self,
        key: &'a FieldKey,
        frame: FrameRef<'_>,
        camera: &Camera,
        surface: &FieldModel,
        lines: &[PreparedLine],
    ) -> FrameKey<'a> {
        self.narrow(key, frame, camera, surface, Some(lines))
    }

    /// [`PaintView::update`] over every marking, whole (for mattes: no line is drawn).
    pub fn update_all<'a>(
        &'a mut self,
        key: &'a FieldKey,
        frame: FrameRef<'_>,
        camera: &Camera,
        surface: &FieldModel,
    ) -> FrameKey<'a> {
        self.narrow(key, frame, camera, surface, None)
    }

    fn narrow<'a>(
        &'a mut self,
        key: &'a FieldKey,
        frame: FrameRef<'_>,
        camera: &Camera,
        surface: &FieldModel,
        lines: Option<&[PreparedLine]>,
    ) -> FrameKey<'a> {
        self.regions.clear();
        let own = key.keyer.regions().len();
        self.regions.extend_from_slice(&key.regions[..own]);
        if key.regions.len() > own {
            if let Some(lines) = lines {
                regions_near_lines(&key.regions, lines, &mut self.near);
            } else {
                self.near.clear();
                self.near.extend(own as u32..key.regions.len() as u32);
            }
            if let Some(default) = key.keyer.luts().first() {
                let sight = Sight {
                    key,
                    frame,
                    camera,
                    surface,
                    default,
                    margin: key.keyer.paint().map_or(0.0, |p| p.1),
                };
                self.narrow_markings(&sight, own, lines);
            }
        }
        FrameKey {
            key,
            regions: &self.regions,
            plate: None,
        }
    }

    /// Each painted marking near the lines: its pieces looked at, covered or not, kept or
    /// not, the kept ones merged into this frame's regions.
    fn narrow_markings(&mut self, sight: &Sight<'_>, own: usize, lines: Option<&[PreparedLine]>) {
        // Kits scale with the picture: pieces of PAINT_PIECE_PX at 1080 lines, covered pieces
        // spread PAINT_COVER_SPREAD_PX at 1080 lines (at least the next piece).
        let lines_scale = f64::from(sight.frame.height()) / 1080.0;
        let piece_px = PAINT_PIECE_PX * lines_scale.max(1.0);
        let spread = ((PAINT_COVER_SPREAD_PX * lines_scale / piece_px) as usize).max(1);
        for k in 0..self.near.len() {
            let i = self.near[k];
            if (i as usize) < own {
                continue;
            }
            let Some(marking) = Marking::under_lines(sight, i, lines, piece_px) else {
                continue;
            };
            self.look_at_pieces(sight, &marking);
            self.cover_pieces();
            self.keep_pieces(spread);
            self.merge_kept(marking.region.lut, marking.along_x);
            self.scan_dropped(sight, &marking);
        }
    }

    /// The pieces dropped for a kit beside or over them, looked at again in stretches of
    /// about `SCAN_ALONG_PX` along the marking: a stretch whose samples all across the paint
    /// have the colour of the clean paint nearby is seen paint, kept between the paint's own
    /// edges (no margin: the kit may lie right beside it). Consecutive such stretches are
    /// merged.
    fn scan_dropped(&mut self, sight: &Sight<'_>, marking: &Marking) {
        let n = self.pieces.len();
        let lut = marking.region.lut;
        let mut run: Option<(f64, f64)> = None;
        for k in 0..=n {
            let clean = (k < n
                && !self.kept[k]
                && self.seen[k] != Cover::White
                && self.pieces[k].1.colour.is_some())
            .then(|| self.clean_round(k))
            .flatten();
            let Some(clean) = clean else {
                if let Some((a, b)) = run.take() {
                    self.regions.push(marking.paint_between(a, b, lut));
                }
                continue;
            };
            let (a, b) = marking.piece_span(k);
            let stretches = match (
                marking.at(sight, a, marking.vm),
                marking.at(sight, b, marking.vm),
            ) {
                (Some(p), Some(q)) => ((p - q).norm() / SCAN_ALONG_PX).ceil() as usize,
                _ => 1,
            }
            .clamp(1, SCAN_MAX_STRETCHES);
            let step = (b - a) / stretches as f64;
            for j in 0..stretches {
                let (sa, sb) = (a + step * j as f64, a + step * (j + 1) as f64);
                if marking.seen_across(sight, &self.near, 0.5 * (sa + sb), &clean) {
                    run = Some(run.map_or((sa, sb), |(ra, _)| (ra, sb)));
                } else if let Some((ra, rb)) = run.take() {
                    self.regions.push(marking.paint_between(ra, rb, lut));
                }
            }
        }
    }

    /// Looks at every piece of `marking` over the crew.
    fn look_at_pieces(&mut self, sight: &Sight<'_>, marking: &Marking) {
        let near = &self.near;
        self.pieces.clear();
        self.pieces
            .resize(marking.n, ([0.0; 4], Piece::OUT_OF_FRAME));
        self.crew.run(
            self.pieces.chunks_mut(PIECES_PER_TASK).enumerate(),
            |(c, out)| {
                for (j, o) in out.iter_mut().enumerate() {
                    *o = marking.piece(sight, near, c * PIECES_PER_TASK + j);
                }
            },
        );
    }

    /// Whether each piece is seen paint or covered. A kit beside the piece: it is paint when
    /// it has the colour of the clean paint nearby. Without clean paint nearby to compare
    /// with, a dark kit beside it passes (as does the apron beside a sideline), a white one
    /// does not.
    fn cover_pieces(&mut self) {
        let n = self.pieces.len();
        self.seen.clear();
        self.clean.clear();
        self.clean.resize(n, CleanRound::Unknown);
        for k in 0..n {
            let p = self.pieces[k].1;
            let cover = match (p.beside, p.colour) {
                (Beside::Grass, _) | (Beside::Other, None) => Cover::None,
                (Beside::Other, Some(c)) => {
                    if self.clean_round(k).is_none_or(|clean| clean.matches(c)) {
                        Cover::None
                    } else {
                        Cover::Kit
                    }
                }
                (Beside::PaintLikeAndGrass, Some(c))
                    if self.clean_round(k).is_some_and(|clean| clean.matches(c)) =>
                {
                    Cover::None
                }
                (Beside::PaintLikeAndGrass | Beside::PaintLike, _) => Cover::White,
            };
            self.seen.push(cover);
        }
    }

    /// The colour of the clean pieces within `PAINT_REFERENCE_PIECES` of piece `k` (worked
    /// out once per piece and marking).
    fn clean_round(&mut self, k: usize) -> Option<CleanPaint> {
        if let CleanRound::Known(clean) = self.clean[k] {
            return clean;
        }
        let lo = k.saturating_sub(PAINT_REFERENCE_PIECES);
        let hi = (k + PAINT_REFERENCE_PIECES + 1).min(self.pieces.len());
        let clean = CleanPaint::of(self.pieces[lo..hi].iter().map(|q| q.1));
        self.clean[k] = CleanRound::Known(clean);
        clean
    }

    /// The pieces kept: a piece next to a covered one is partly covered; a white kit covers
    /// one side of the marking `spread` pieces further along.
    fn keep_pieces(&mut self, spread: usize) {
        let n = self.seen.len();
        self.kept.clear();
        let seen = &self.seen;
        self.kept.extend((0..n).map(|k| {
            let near = |r: usize| &seen[k.saturating_sub(r)..(k + r + 1).min(n)];
            near(1).iter().all(|&c| c == Cover::None)
                && near(spread).iter().all(|&c| c != Cover::White)
        }));
    }

    /// Runs of kept pieces of a marking (along field x when `along_x`) merged into regions of
    /// palette `lut`: along it the run's whole length, across it the narrowest piece's reach
    /// (the paint is in every piece). A piece reaching across more or less than
    /// `REACH_CHANGE` of the run's reach starts a new run: in a shot looking along the marking
    /// its near pieces reach fewer metres than its far ones (at most
    /// `PAINT_MARGIN_MAX_PX` each).
    fn merge_kept(&mut self, lut: u32, along_x: bool) {
        /// Largest change of the reach across within one run (share of the run's).
        const REACH_CHANGE: f64 = 0.2;
        let (u, v) = if along_x { (0, 1) } else { (1, 0) };
        let mut run: Option<[f64; 4]> = None;
        for (k, &ok) in self.kept.iter().enumerate() {
            let r = self.pieces[k].0;
            let width = |q: &[f64; 4]| q[v + 2] - q[v];
            match (&mut run, ok) {
                (Some(cur), true)
                    if (width(&r) - width(cur)).abs() <= REACH_CHANGE * width(cur) =>
                {
                    cur[u] = cur[u].min(r[u]);
                    cur[u + 2] = cur[u + 2].max(r[u + 2]);
                    cur[v] = cur[v].max(r[v]);
                    cur[v + 2] = cur[v + 2].min(r[v + 2]);
                }
                (Some(cur), true) => {
                    self.regions.push(KeyRegion { rect: *cur, lut });
                    run = Some(r);
                }
                (None, true) => run = Some(r),
                (Some(cur), false) => {
                    self.regions.push(KeyRegion { rect: *cur, lut });
                    run = None;
                }
                (None, false) => {}
            }
        }
        if let Some(cur) = run {
            self.regions.push(KeyRegion { rect: cur, lut });
        }
    }
}

/// What one frame's pieces are looked at with.
struct Sight<'a> {
    key: &'a FieldKey,
    frame: FrameRef<'a>,
    camera: &'a Camera,
    surface: &'a FieldModel,
    /// The default palette's LUT.
    default: &'a KeyLut,
    /// How far the paint regions extend past the paint (metres).
    margin: f64,
}

impl Sight<'_> {
    fn in_frame(&self, p: Point2<f64>) -> bool {
        (0.0..=f64::from(self.frame.width()) - 1.0).contains(&p.x)
            && (0.0..=f64::from(self.frame.height()) - 1.0).contains(&p.y)
    }

    /// What lies at a pixel beside the paint of palette `lut`.
    fn side_at(&self, p: Point2<f64>, lut: u32) -> Side {
        if !self.in_frame(p) {
            return Side::Grass; // cannot tell: keep the paint
        }
        let c = self.frame.ycbcr_f32(p.x.round() as u32, p.y.round() as u32);
        let luts = self.key.keyer.luts();
        let paint = luts.get(lut as usize).unwrap_or(self.default);
        if self.default.lookup(c[0], c[1], c[2]) >= 0.5 {
            Side::Grass
        } else if paint.lookup(c[0], c[1], c[2]) >= 0.5 {
            Side::PaintLike
        } else {
            Side::Other
        }
    }
}

/// The part of one painted marking under the lines, in its own axes: `u` along it, `v`
/// across.
struct Marking {
    /// Index of the marking's region in the key's regions.
    index: u32,
    region: KeyRegion,
    along_x: bool,
    u0: f64,
    /// The region's near side across (the paint's edge `p0` less the margin).
    v0: f64,
    /// The centreline across.
    vm: f64,
    /// The paint's own edges (the region is the marking widened by the margin).
    p0: f64,
    p1: f64,
    /// Pieces and their length along the marking (metres).
    n: usize,
    step: f64,
}

impl Marking {
    /// The part of marking `index` under a line (the whole marking without lines), cut into
    /// pieces of about `piece_px` in the image (`PAINT_PIECE_M` when an end does not project);
    /// `None` when no line crosses it.
    fn under_lines(
        sight: &Sight<'_>,
        index: u32,
        lines: Option<&[PreparedLine]>,
        piece_px: f64,
    ) -> Option<Self> {
        let region = sight.key.regions[index as usize];
        let [x0, y0, x1, y1] = region.rect;
        let along_x = x1 - x0 >= y1 - y0;
        let (mut u0, mut u1, v0, v1) = if along_x {
            (x0, x1, y0, y1)
        } else {
            (y0, y1, x0, x1)
        };
        let (mut lo, mut hi) = match lines {
            Some(_) => (f64::INFINITY, f64::NEG_INFINITY),
            None => (u0, u1),
        };
        for b in lines.unwrap_or_default().iter().map(strip_box) {
            if region.meets(b) {
                let (a, c) = if along_x { (b[0], b[2]) } else { (b[1], b[3]) };
                lo = lo.min(a);
                hi = hi.max(c);
            }
        }
        u0 = u0.max(lo);
        u1 = u1.min(hi);
        if u0 >= u1 {
            return None;
        }
        let mut marking = Self {
            index,
            region,
            along_x,
            u0,
            v0,
            vm: 0.5 * (v0 + v1),
            p0: v0 + sight.margin,
            p1: v1 - sight.margin,
            n: 1,
            step: 0.0,
        };
        let n = match (
            marking.at(sight, u0, marking.vm),
            marking.at(sight, u1, marking.vm),
        ) {
            (Some(a), Some(b)) => ((b - a).norm() / piece_px).ceil(),
            _ => ((u1 - u0) / PAINT_PIECE_M).ceil(),
        };
        marking.n = (n as usize).clamp(1, MAX_PAINT_PIECES);
        marking.step = (u1 - u0) / marking.n as f64;
        Some(marking)
    }

    /// The field point at (`u`, `v`) on the surface, projected.
    fn at(&self, sight: &Sight<'_>, u: f64, v: f64) -> Option<Point2<f64>> {
        let (x, y) = if self.along_x { (u, v) } else { (v, u) };
        sight
            .camera
            .project(&nalgebra::Point3::new(x, y, sight.surface.surface_z(x, y)))
    }

    /// Piece `k`'s span along the marking (metres).
    fn piece_span(&self, k: usize) -> (f64, f64) {
        (
            self.u0 + self.step * k as f64,
            self.u0 + self.step * (k + 1) as f64,
        )
    }

    /// The region of palette `lut` over the paint itself (no margin) from `a` to `b` along
    /// the marking.
    fn paint_between(&self, a: f64, b: f64, lut: u32) -> KeyRegion {
        let rect = if self.along_x {
            [a, self.p0, b, self.p1]
        } else {
            [self.p0, a, self.p1, b]
        };
        KeyRegion { rect, lut }
    }

    /// Whether the paint at `u` along the marking is seen all across: nothing paint-like beside
    /// it (a kit as white as the paint, which may reach over it), and the colour of `clean`
    /// in every sample across, taken every `SCAN_STEP_PX` between its edges (`SCAN_EDGE_PX`
    /// inside them, less on a narrow marking): a kit over part of its width shows in a sample.
    /// A marking narrower than `SCAN_MIN_WIDTH_PX` is not seen. `near` as for
    /// [`Marking::piece`].
    fn seen_across(&self, sight: &Sight<'_>, near: &[u32], u: f64, clean: &CleanPaint) -> bool {
        let (Some(e0), Some(e1)) = (self.at(sight, u, self.p0), self.at(sight, u, self.p1)) else {
            return false;
        };
        let width = (e1 - e0).norm();
        if width < SCAN_MIN_WIDTH_PX {
            return false;
        }
        let c = e0 + (e1 - e0) * 0.5;
        if self.side(sight, near, u, c, e0, self.p0) == Side::PaintLike
            || self.side(sight, near, u, c, e1, self.p1) == Side::PaintLike
        {
            return false;
        }
        // At least two samples, a pixel apart or more: the insets shrink on a narrow marking.
        let inset = SCAN_EDGE_PX.min(0.5 * (width - 1.0));
        let inner = width - 2.0 * inset;
        let samples = (inner / SCAN_STEP_PX).ceil() as usize + 1;
        (0..samples).all(|i| {
            let t = (inset + inner * i as f64 / (samples - 1) as f64) / width;
            let p = e0 + (e1 - e0) * t;
            sight.in_frame(p)
                && clean.matches(
                    sight
                        .frame
                        .ycbcr_f32(p.x.round() as u32, p.y.round() as u32),
                )
        })
    }

    /// Piece `k`: its field rectangle and what it looks like. `near` lists the regions near
    /// the lines (another marking of the same paint beside this one counts as grass).
    fn piece(&self, sight: &Sight<'_>, near: &[u32], k: usize) -> ([f64; 4], Piece) {
        let (a, b) = self.piece_span(k);
        let um = 0.5 * (a + b);
        let (centre, edge0, edge1) = (
            self.at(sight, um, self.vm),
            self.at(sight, um, self.p0),
            self.at(sight, um, self.p1),
        );
        let piece = match (centre, edge0, edge1) {
            (Some(c), Some(e0), Some(e1)) if sight.in_frame(c) => {
                let s0 = self.side(sight, near, um, c, e0, self.p0);
                let s1 = self.side(sight, near, um, c, e1, self.p1);
                let beside = match (s0.min(s1), s0.max(s1)) {
                    (_, Side::Grass) => Beside::Grass,
                    (_, Side::Other) => Beside::Other,
                    (Side::Grass, Side::PaintLike) => Beside::PaintLikeAndGrass,
                    _ => Beside::PaintLike,
                };
                let colour = sight
                    .frame
                    .ycbcr_f32(c.x.round() as u32, c.y.round() as u32);
                Piece {
                    beside,
                    colour: Some(colour),
                }
            }
            _ => Piece::OUT_OF_FRAME,
        };
        let (v0, v1) = self.across(centre, edge0, edge1);
        let rect = if self.along_x {
            [a, v0, b, v1]
        } else {
            [v0, a, v1, b]
        };
        (rect, piece)
    }

    /// A piece across (metres), from the images of its centre and of the paint's edges: the
    /// paint widened by the margin, at most `PAINT_MARGIN_MAX_PX` in the image on each side.
    fn across(
        &self,
        centre: Option<Point2<f64>>,
        edge0: Option<Point2<f64>>,
        edge1: Option<Point2<f64>>,
    ) -> (f64, f64) {
        let margin = self.p0 - self.v0;
        let reach = |p: f64, e: Option<Point2<f64>>| {
            let (Some(e), Some(f)) = (e, centre) else {
                return margin;
            };
            // Metres per pixel across, from the paint's half width in pixels here.
            let px = (e - f).norm();
            if px > 1e-9 {
                margin.min(PAINT_MARGIN_MAX_PX * (p - self.vm).abs() / px)
            } else {
                margin
            }
        };
        (
            self.p0 - reach(self.p0, edge0),
            self.p1 + reach(self.p1, edge1),
        )
    }

    /// The worst of what lies beside the marking on the side of its edge `v` (image point
    /// `e`, the centre at `c`): paint-like, then other, then grass.
    fn side(
        &self,
        sight: &Sight<'_>,
        near: &[u32],
        um: f64,
        c: Point2<f64>,
        e: Point2<f64>,
        v: f64,
    ) -> Side {
        let px = (e - c).norm();
        let Some(d) = (e - c).try_normalize(1e-9) else {
            return Side::Grass;
        };
        let regions = &sight.key.regions;
        PAINT_SIDE_PX.iter().fold(Side::Grass, |worst, &s| {
            // The side's field position (metres per pixel across the marking from the paint's
            // half width in pixels here).
            let side = v + (v - self.vm) * s / px;
            let (x, y) = if self.along_x { (um, side) } else { (side, um) };
            let other_paint = near.iter().any(|&j| {
                j != self.index
                    && regions[j as usize].lut == self.region.lut
                    && regions[j as usize].contains(x, y)
            });
            let here = if other_paint {
                Side::Grass
            } else {
                match sight.side_at(e + d * s, self.region.lut) {
                    // The ground beyond a sideline or end line (the apron, which the paint's
                    // edge mixtures may key).
                    Side::Other | Side::PaintLike if !sight.surface.contains(x, y) => Side::Grass,
                    seen => seen,
                }
            };
            worst.max(here)
        })
    }
}
