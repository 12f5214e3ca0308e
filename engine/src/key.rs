//! The compiled occlusion key as the compositor sees it: per-pixel LUT lookups on the CPU and
//! the stacked LUTs (one block per region) for the GPU.

use std::sync::atomic::{AtomicU64, Ordering};

use nalgebra::Point2;
use rayon::prelude::*;
use yardline_frame::FrameRef;
use yardline_keying::{
    AutoPaletteOptions, DEFAULT_PAINT_MARGIN_M, EdgeFilter, KeyConfig, Keyer, PaintKey,
    auto_paint_palette_from_points, auto_palette_from_points, field_points,
};

use crate::field::FieldModel;
use crate::geometry::Camera;

use crate::render::crew::Crew;
use crate::render::{
    HALO, PixelKey, KeyRegion, LutView, PreparedLine, regions_near_lines, strip_box,
};

static GENERATION: AtomicU64 = AtomicU64::new(1);

/// A compiled key ready for either compositor.
#[derive(Debug, Clone)]
pub struct FieldKey {
    keyer: Keyer,
    config: Option<KeyConfig>,
    stacked: Vec<u8>,
    regions: Vec<KeyRegion>,
    generation: u64,
}

impl FieldKey {
    /// Wraps a compiled keyer. The min-filter radius is limited to the compositor's halo. The
    /// paint palette, if any, applies nowhere until [`FieldKey::on_field`] places it.
    pub fn new(mut keyer: Keyer) -> Self {
        if keyer.min_filter_radius() > HALO {
            tracing::warn!(
                "key min-filter radius {} limited to {HALO} pixels",
                keyer.min_filter_radius()
            );
            // HALO is within the keyer's accepted range, so this cannot fail.
            keyer.set_min_filter_radius(HALO).ok();
        }
        let stacked = keyer
            .luts()
            .iter()
            .flat_map(|l| l.data.iter().copied())
            .collect();
        let regions = keyer
            .regions()
            .iter()
            .enumerate()
            .map(|(i, r)| KeyRegion {
                rect: r.rect,
                lut: i as u32 + 1,
            })
            .collect();
        Self {
            keyer,
            config: None,
            stacked,
            regions,
            generation: GENERATION.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// Compiles a key configuration (kept, see [`FieldKey::config`]).
    pub fn compile(config: &KeyConfig) -> Result<Self, yardline_keying::KeyError> {
        let mut key = Self::new(Keyer::compile(config)?);
        key.config = Some(config.clone());
        Ok(key)
    }

    /// The same key with its paint palette placed on `field`'s painted markings (each widened
    /// by the palette's margin), after the key's own regions. A key without a paint palette
    /// is returned as is.
    #[must_use]
    pub fn on_field(mut self, field: &FieldModel) -> Self {
        let Some((lut, margin)) = self.keyer.paint() else {
            return self;
        };
        let own = self.keyer.regions().len();
        self.regions.truncate(own);
        self.regions
            .extend(field.paint_rects().into_iter().map(|r| KeyRegion {
                rect: [r[0] - margin, r[1] - margin, r[2] + margin, r[3] + margin],
                lut: lut as u32,
            }));
        self
    }

    /// The underlying keyer (matte previews, sampling).
    pub fn keyer(&self) -> &Keyer {
        &self.keyer
    }

    /// The key of every pixel of `frame` (row-major, 0..=1), as the compositor keys a covered
    /// pixel: with the palette of the pixel's field position under `camera` (the regions in
    /// order, then the painted markings; pixels whose ray misses the ground take the default)
    /// and the min-filter over its neighbourhood with that palette. The paint applies where
    /// [`PaintView::update_all`] sees it. For mattes and key accuracy.
    pub fn matte(
        &self,
        frame: FrameRef<'_>,
        camera: &Camera,
        field: &FieldModel,
    ) -> Result<Vec<f32>, yardline_keying::KeyError> {
        let (w, h) = (frame.width() as usize, frame.height() as usize);
        let mut view = PaintView::new();
        let regions = view.update_all(self, frame, camera, field).regions;
        let index = PaintIndex::new(regions.iter().map(|r| r.rect).collect());
        let lut_of: Vec<u32> = (0..w * h)
            .into_par_iter()
            .map(|i| {
                let px = Point2::new((i % w) as f64, (i / w) as f64);
                camera
                    .unproject_to_surface(px, &field.crown)
                    .and_then(|p| index.find_index([p.x, p.y]))
                    .map_or(0, |r| regions[r].lut)
            })
            .collect();
        let mut used: Vec<u32> = vec![0];
        for &l in &lut_of {
            if !used.contains(&l) {
                used.push(l);
            }
        }
        let mut out = self.keyer.with_lut(0)?.key_frame(frame)?;
        for &l in &used[1..] {
            let m = self.keyer.with_lut(l as usize)?.key_frame(frame)?;
            for ((o, &v), &pl) in out.iter_mut().zip(&m).zip(&lut_of) {
                if pl == l {
                    *o = v;
                }
            }
        }
        Ok(out)
    }

    /// The configuration the key was compiled from (what `key.toml` would hold), when it was
    /// compiled from one.
    pub fn config(&self) -> Option<&KeyConfig> {
        self.config.as_ref()
    }
}

impl PixelKey for FieldKey {
    #[inline]
    fn key(&self, ycbcr: [f32; 3], lut: usize) -> f32 {
        let luts = self.keyer.luts();
        luts.get(lut)
            .or_else(|| luts.first())
            .map_or(1.0, |l| l.lookup(ycbcr[0], ycbcr[1], ycbcr[2]))
    }

    fn key_u8_run(&self, rgb: bool, px: &[[u8; 3]], lut: usize, out: &mut [f32]) {
        let luts = self.keyer.luts();
        let Some(lut) = luts.get(lut).or_else(|| luts.first()) else {
            out.fill(1.0);
            return;
        };
        if rgb {
            lut.lookup_rgb8_run(px, out);
        } else {
            let pairs = px.iter().zip(out);
            pairs.for_each(|(p, o)| *o = lut.lookup_u8(p[0], p[1], p[2]));
        }
    }

    fn regions(&self) -> &[KeyRegion] {
        &self.regions
    }

    fn min_filter_radius(&self) -> u32 {
        self.keyer.min_filter_radius()
    }

    fn edge_filter(&self) -> EdgeFilter {
        self.keyer.edge_filter()
    }

    fn lut(&self) -> Option<LutView<'_>> {
        let size = self.keyer.luts().first()?.size;
        Some(LutView {
            size,
            data: &self.stacked,
            generation: self.generation,
        })
    }
}

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

/// Whether `c` has the colour of the clean pieces among `pieces` (each Y, Cb, Cr within 2.5
/// standard deviations of their mean, at least 2 code values): seen paint rather than a kit
/// whose white differs from the paint's. `None` with fewer than 3 clean pieces.
fn matches_clean_paint(c: [f32; 3], pieces: impl Iterator<Item = Piece>) -> Option<bool> {
    let (mut n, mut sum, mut sq) = (0.0_f32, [0.0_f32; 3], [0.0_f32; 3]);
    for colour in pieces
        .filter(|p| p.beside == Beside::Grass)
        .filter_map(|p| p.colour)
    {
        n += 1.0;
        for i in 0..3 {
            sum[i] += colour[i];
            sq[i] += colour[i] * colour[i];
        }
    }
    if n < 3.0 {
        return None;
    }
    Some((0..3).all(|i| {
        let mean = sum[i] / n;
        let sd = (sq[i] / n - mean * mean).max(0.0).sqrt();
        (c[i] - mean).abs() <= (2.5 * sd).max(2.0)
    }))
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
    /// lines) of one a white kit covers; kept pieces merged. Returns the key to composite with.
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
        let margin = key.keyer.paint().map_or(0.0, |p| p.1);
        self.regions.extend_from_slice(&key.regions[..own]);
        if key.regions.len() > own {
            if let Some(lines) = lines {
                regions_near_lines(&key.regions, lines, &mut self.near);
            } else {
                self.near.clear();
                self.near.extend(own as u32..key.regions.len() as u32);
            }
            let Some(default) = key.keyer.luts().first() else {
                return FrameKey {
                    key,
                    regions: &self.regions,
                };
            };
            let (w, h) = (frame.width(), frame.height());
            // Kits scale with the picture: pieces of PAINT_PIECE_PX at 1080 lines, covered
            // pieces spread PAINT_COVER_SPREAD_PX at 1080 lines (at least the next piece).
            let lines_scale = f64::from(h) / 1080.0;
            let piece_px = PAINT_PIECE_PX * lines_scale.max(1.0);
            let spread = ((PAINT_COVER_SPREAD_PX * lines_scale / piece_px) as usize).max(1);
            let luts = key.keyer.luts();
            let in_frame = |p: Point2<f64>| {
                (0.0..=f64::from(w) - 1.0).contains(&p.x)
                    && (0.0..=f64::from(h) - 1.0).contains(&p.y)
            };
            // What lies at a pixel beside the paint.
            let side_at = |p: Point2<f64>, lut: u32| {
                if !in_frame(p) {
                    return Side::Grass; // cannot tell: keep the paint
                }
                let c = frame.ycbcr_f32(p.x.round() as u32, p.y.round() as u32);
                let paint = luts.get(lut as usize).unwrap_or(default);
                if default.lookup(c[0], c[1], c[2]) >= 0.5 {
                    Side::Grass
                } else if paint.lookup(c[0], c[1], c[2]) >= 0.5 {
                    Side::PaintLike
                } else {
                    Side::Other
                }
            };
            for &i in &self.near {
                let region = key.regions[i as usize];
                if (i as usize) < own {
                    continue;
                }
                let [x0, y0, x1, y1] = region.rect;
                let along_x = x1 - x0 >= y1 - y0;
                let (mut u0, mut u1, v0, v1) = if along_x {
                    (x0, x1, y0, y1)
                } else {
                    (y0, y1, x0, x1)
                };
                // Only the part of the marking under a line matters.
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
                    continue;
                }
                let field = |u: f64, v: f64| {
                    let (x, y) = if along_x { (u, v) } else { (v, u) };
                    camera.project(&nalgebra::Point3::new(x, y, surface.surface_z(x, y)))
                };
                let vm = 0.5 * (v0 + v1);
                // Pieces of about PAINT_PIECE_PX in the image (PAINT_PIECE_M when an end does
                // not project).
                let n = match (field(u0, vm), field(u1, vm)) {
                    (Some(a), Some(b)) => ((b - a).norm() / piece_px).ceil(),
                    _ => ((u1 - u0) / PAINT_PIECE_M).ceil(),
                };
                let n = (n as usize).clamp(1, MAX_PAINT_PIECES);
                let step = (u1 - u0) / n as f64;
                // The paint's own edges (the region is the marking widened by the margin).
                let (p0, p1) = (v0 + margin, v1 - margin);
                let near = &self.near;
                let piece_at = |k: usize| {
                    let (a, b) = (u0 + step * k as f64, u0 + step * (k + 1) as f64);
                    let um = 0.5 * (a + b);
                    // The worst of what lies beside the marking on one side (paint-like, then
                    // other, then grass).
                    let side = |c: Point2<f64>, e: Point2<f64>, v: f64| {
                        let px = (e - c).norm();
                        let Some(d) = (e - c).try_normalize(1e-9) else {
                            return Side::Grass;
                        };
                        PAINT_SIDE_PX.iter().fold(Side::Grass, |worst, &s| {
                            // The side's field position (metres per pixel across the marking
                            // from the paint's half width in pixels here).
                            let side = v + (v - vm) * s / px;
                            let (x, y) = if along_x { (um, side) } else { (side, um) };
                            let other_paint = near.iter().any(|&j| {
                                j != i
                                    && key.regions[j as usize].lut == region.lut
                                    && key.regions[j as usize].contains(x, y)
                            });
                            let here = if other_paint {
                                Side::Grass
                            } else {
                                match side_at(e + d * s, region.lut) {
                                    // The ground beyond a sideline or end line (the apron,
                                    // which the paint's edge mixtures may key).
                                    Side::Other | Side::PaintLike if !surface.contains(x, y) => {
                                        Side::Grass
                                    }
                                    seen => seen,
                                }
                            };
                            worst.max(here)
                        })
                    };
                    let piece = match (field(um, vm), field(um, p0), field(um, p1)) {
                        (Some(c), Some(e0), Some(e1)) if in_frame(c) => {
                            let (s0, s1) = (side(c, e0, p0), side(c, e1, p1));
                            let beside = match (s0.min(s1), s0.max(s1)) {
                                (_, Side::Grass) => Beside::Grass,
                                (_, Side::Other) => Beside::Other,
                                (Side::Grass, Side::PaintLike) => Beside::PaintLikeAndGrass,
                                _ => Beside::PaintLike,
                            };
                            let colour = frame.ycbcr_f32(c.x.round() as u32, c.y.round() as u32);
                            Piece {
                                beside,
                                colour: Some(colour),
                            }
                        }
                        _ => Piece::OUT_OF_FRAME,
                    };
                    let rect = if along_x {
                        [a, v0, b, v1]
                    } else {
                        [v0, a, v1, b]
                    };
                    (rect, piece)
                };
                self.pieces.clear();
                self.pieces.resize(n, ([0.0; 4], Piece::OUT_OF_FRAME));
                self.crew.run(
                    self.pieces.chunks_mut(PIECES_PER_TASK).enumerate(),
                    |(c, out)| {
                        for (j, o) in out.iter_mut().enumerate() {
                            *o = piece_at(c * PIECES_PER_TASK + j);
                        }
                    },
                );
                // A kit beside the piece: it is paint when it has the colour of the clean
                // paint nearby. Without clean paint nearby to compare with, a dark kit beside
                // it passes (as does the apron beside a sideline), a white one does not.
                self.seen.clear();
                for k in 0..n {
                    let p = self.pieces[k].1;
                    let like_clean = |c: [f32; 3]| {
                        let lo = k.saturating_sub(PAINT_REFERENCE_PIECES);
                        let hi = (k + PAINT_REFERENCE_PIECES + 1).min(n);
                        matches_clean_paint(c, self.pieces[lo..hi].iter().map(|q| q.1))
                    };
                    let cover = match (p.beside, p.colour) {
                        (Beside::Grass, _) | (Beside::Other, None) => Cover::None,
                        (Beside::Other, Some(c)) => {
                            if like_clean(c).unwrap_or(true) {
                                Cover::None
                            } else {
                                Cover::Kit
                            }
                        }
                        (Beside::PaintLikeAndGrass, Some(c)) if like_clean(c) == Some(true) => {
                            Cover::None
                        }
                        (Beside::PaintLikeAndGrass | Beside::PaintLike, _) => Cover::White,
                    };
                    self.seen.push(cover);
                }
                // A piece next to a covered one is partly covered; a white kit covers one side
                // of the marking further along.
                self.kept.clear();
                let seen = &self.seen;
                self.kept.extend((0..n).map(|k| {
                    let near = |r: usize| &seen[k.saturating_sub(r)..(k + r + 1).min(n)];
                    near(1).iter().all(|&c| c == Cover::None)
                        && near(spread).iter().all(|&c| c != Cover::White)
                }));
                let mut run: Option<[f64; 4]> = None;
                for (k, &ok) in self.kept.iter().enumerate() {
                    let r = self.pieces[k].0;
                    match (&mut run, ok) {
                        (Some(cur), true) => {
                            cur[2] = cur[2].max(r[2]);
                            cur[3] = cur[3].max(r[3]);
                        }
                        (None, true) => run = Some(r),
                        (Some(cur), false) => {
                            self.regions.push(KeyRegion {
                                rect: *cur,
                                lut: region.lut,
                            });
                            run = None;
                        }
                        (None, false) => {}
                    }
                }
                if let Some(cur) = run {
                    self.regions.push(KeyRegion {
                        rect: cur,
                        lut: region.lut,
                    });
                }
            }
        }
        FrameKey {
            key,
            regions: &self.regions,
        }
    }
}

/// A key with its regions for one frame ([`PaintView::update`]).
#[derive(Debug, Clone, Copy)]
pub struct FrameKey<'a> {
    key: &'a FieldKey,
    regions: &'a [KeyRegion],
}

impl PixelKey for FrameKey<'_> {
    #[inline]
    fn key(&self, ycbcr: [f32; 3], lut: usize) -> f32 {
        self.key.key(ycbcr, lut)
    }
    fn key_u8_run(&self, rgb: bool, px: &[[u8; 3]], lut: usize, out: &mut [f32]) {
        self.key.key_u8_run(rgb, px, lut, out);
    }
    fn regions(&self) -> &[KeyRegion] {
        self.regions
    }
    fn min_filter_radius(&self) -> u32 {
        self.key.min_filter_radius()
    }

    fn edge_filter(&self) -> EdgeFilter {
        self.key.edge_filter()
    }

    fn lut(&self) -> Option<LutView<'_>> {
        self.key.lut()
    }
}

/// How far inside a painted marking (in pixels of its footprint) a pixel must lie to sample the
/// paint's colour: the pixel's corners all on the paint.
const PAINT_SAMPLE_INSET_PX: f64 = 0.5;
/// Pixels whose centre lies within this of a painted marking (metres) stay out of the surface
/// samples (the paint's blended edges).
const PAINT_NEAR_M: f64 = 0.1;

/// Views an [`AutoKeyLearner`] keeps (the oldest is dropped for a new one).
pub const AUTO_KEY_VIEWS: usize = 4;

/// What the automatic key learns from one view of the field: colours sampled off the paint,
/// well on the paint, and anywhere on the field (for a key without a paint palette).
#[derive(Debug, Clone)]
struct ViewColours {
    surface: Vec<[f64; 3]>,
    paint: Vec<[f64; 3]>,
    field: Vec<[f64; 3]>,
}

/// The automatic key learnt from the last [`AUTO_KEY_VIEWS`] views of the field: each view
/// gives an even sample of its field colours, and the palettes are found over all of them
/// pooled (each view weighing the same). A first view that shows only grass in the sun, or a
/// tight shot that a kit fills, is then not the whole story once the camera has shown the
/// shade and the wide field.
#[derive(Debug, Clone, Default)]
pub struct AutoKeyLearner {
    views: std::collections::VecDeque<ViewColours>,
}

impl AutoKeyLearner {
    /// A learner that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Views learnt (at most [`AUTO_KEY_VIEWS`]).
    pub fn views(&self) -> usize {
        self.views.len()
    }

    /// Forgets the view learnt last (one whose key could not be built).
    pub fn forget_last(&mut self) {
        self.views.pop_back();
    }

    /// Learns the colours of the field of play as `camera` sees it in `frame`: off the paint
    /// (pixels whose centre lies more than `PAINT_NEAR_M` from any painted marking), well on
    /// the paint (the whole pixel on one marking) and anywhere inside the field. One pass over
    /// the frame, most of a second at 1080p. Fails (learning nothing) when the field of play
    /// is not in view.
    pub fn learn(
        &mut self,
        frame: FrameRef<'_>,
        camera: &Camera,
        field: &FieldModel,
    ) -> Result<(), String> {
        let outline: Vec<Point2<f64>> = field_polygon(camera, field);
        if outline.len() < 3 {
            return Err("the field of play is not in view".into());
        }
        let (w, h) = (frame.width(), frame.height());
        let inside = polygon_mask(w, h, &outline);
        let paint = PaintIndex::new(field.paint_rects());
        let ground = |x: f64, y: f64| {
            camera
                .unproject_to_surface(Point2::new(x, y), &field.crown)
                .map(|p| [p.x, p.y])
        };
        // Per pixel: 0 off the paint, 1 near a marking (its centre within the marking widened
        // by PAINT_NEAR_M), 2 with its whole footprint on one marking.
        let paint_class: Vec<u8> = inside
            .par_iter()
            .enumerate()
            .map(|(i, &inside)| {
                if !inside {
                    return 0;
                }
                let (x, y) = ((i % w as usize) as f64, (i / w as usize) as f64);
                let Some(centre) = ground(x, y) else {
                    return 0;
                };
                let Some(rect) = paint.find(centre) else {
                    return u8::from(paint.near(centre, PAINT_NEAR_M));
                };
                let d = PAINT_SAMPLE_INSET_PX;
                let whole = [(-d, -d), (d, -d), (-d, d), (d, d)]
                    .iter()
                    .all(|&(dx, dy)| ground(x + dx, y + dy).is_some_and(|p| contains(rect, p)));
                if whole { 2 } else { 1 }
            })
            .collect();
        let max = AutoPaletteOptions::default().max_pixels;
        let pick = |class: Option<u8>| {
            let (inside, paint_class) = (&inside, &paint_class);
            move |x: u32, y: u32| {
                let i = y as usize * w as usize + x as usize;
                inside[i] && class.is_none_or(|c| paint_class[i] == c)
            }
        };
        let points = |class| field_points(frame, pick(class), max).map_err(|e| e.to_string());
        let view = ViewColours {
            surface: points(Some(0))?,
            paint: points(Some(2))?,
            field: points(None)?,
        };
        if self.views.len() == AUTO_KEY_VIEWS {
            self.views.pop_front();
        }
        self.views.push_back(view);
        Ok(())
    }

    /// The key from every view learnt: the grass clusters off the paint as the default
    /// palette, and, where painted markings were seen, a paint palette (grass, the paint's
    /// colours and their edge mixtures) that applies on the markings only. Without paint seen,
    /// paint-like clusters go into the default palette. The neighbourhood unmixes edges
    /// ([`EdgeFilter::Unmix`]): a kit's edge blended with the grass keys by its share of kit,
    /// and no rim round the players is cut from the line.
    pub fn config(&self) -> Result<KeyConfig, String> {
        if self.views.is_empty() {
            return Err("no view of the field learnt yet".into());
        }
        let options = AutoPaletteOptions {
            find_paint: false,
            ..AutoPaletteOptions::default()
        };
        // One view gives all its points; several give the same number each, evenly spaced.
        let pooled = |part: fn(&ViewColours) -> &Vec<[f64; 3]>| {
            let n = self.views.len();
            let per_view = options.max_pixels.div_ceil(n);
            let mut out = Vec::new();
            for p in self.views.iter().map(part) {
                if n == 1 || p.len() <= per_view {
                    out.extend_from_slice(p);
                } else {
                    out.extend((0..per_view).map(|k| p[k * p.len() / per_view]));
                }
            }
            out
        };
        let surface = auto_palette_from_points(&pooled(|v| &v.surface), &options)
            .map_err(|e| e.to_string())?;
        let mut config =
            match auto_paint_palette_from_points(&surface, &pooled(|v| &v.paint), &options) {
                Ok(palette) => {
                    let mut config = KeyConfig::new(surface);
                    config.paint = Some(PaintKey {
                        margin_m: DEFAULT_PAINT_MARGIN_M,
                        palette,
                    });
                    config
                }
                Err(e) => {
                    tracing::info!(
                        "no paint palette ({e}); paint-like colours join the default palette"
                    );
                    auto_palette_from_points(&pooled(|v| &v.field), &AutoPaletteOptions::default())
                        .map(KeyConfig::new)
                        .map_err(|e| e.to_string())?
                }
            };
        config.edge_filter = EdgeFilter::Unmix;
        Ok(config)
    }
}

/// The automatic initial key for a frame, from the field of play as `camera` sees it: an
/// [`AutoKeyLearner`] that has learnt this one view. Most of a second at 1080p.
pub fn auto_key_config(
    frame: FrameRef<'_>,
    camera: &Camera,
    field: &FieldModel,
) -> Result<KeyConfig, String> {
    let mut learner = AutoKeyLearner::new();
    learner.learn(frame, camera, field)?;
    learner.config()
}

/// `learner` taught the view of `frame` under `camera`, and its key compiled and placed on
/// `field`; `None` (logged) when either fails, the learner then as it was.
pub fn learn_key(
    learner: &mut AutoKeyLearner,
    frame: FrameRef<'_>,
    camera: &Camera,
    field: &FieldModel,
) -> Option<FieldKey> {
    let built = learner.learn(frame, camera, field).and_then(|()| {
        let key = learner
            .config()
            .and_then(|c| FieldKey::compile(&c).map_err(|e| e.to_string()));
        if key.is_err() {
            learner.forget_last();
        }
        key
    });
    match built {
        Ok(k) => {
            tracing::info!(
                "automatic key palette built from {} view(s) of the field",
                learner.views()
            );
            Some(k.on_field(field))
        }
        Err(e) => {
            tracing::warn!("automatic key palette failed: {e}");
            None
        }
    }
}

fn contains(r: &[f64; 4], p: [f64; 2]) -> bool {
    p[0] >= r[0] && p[0] <= r[2] && p[1] >= r[1] && p[1] <= r[3]
}

/// Painted rectangles binned by field x, for a point lookup per pixel.
struct PaintIndex {
    rects: Vec<[f64; 4]>,
    x0: f64,
    bins: Vec<Vec<u32>>,
}

impl PaintIndex {
    /// Bin width along x (metres).
    const BIN_M: f64 = 1.0;

    fn new(rects: Vec<[f64; 4]>) -> Self {
        let x0 = rects.iter().map(|r| r[0]).fold(f64::INFINITY, f64::min);
        let x1 = rects.iter().map(|r| r[2]).fold(f64::NEG_INFINITY, f64::max);
        let n = if x1 >= x0 {
            ((x1 - x0) / Self::BIN_M) as usize + 1
        } else {
            0
        };
        let mut bins = vec![Vec::new(); n];
        for (i, r) in rects.iter().enumerate() {
            let a = ((r[0] - x0) / Self::BIN_M) as usize;
            let b = (((r[2] - x0) / Self::BIN_M) as usize).min(n.saturating_sub(1));
            for bin in &mut bins[a..=b] {
                bin.push(i as u32);
            }
        }
        Self { rects, x0, bins }
    }

    /// Whether `p` lies within `d` metres of a marking (the bin holding `p` and its neighbours
    /// are searched, so `d` must not exceed the bin width).
    fn near(&self, p: [f64; 2], d: f64) -> bool {
        let t = (p[0] - self.x0) / Self::BIN_M;
        if t.is_nan() || t < -1.0 {
            return false;
        }
        let b = t.max(0.0) as usize;
        (b.saturating_sub(1)..=b + 1)
            .filter_map(|i| self.bins.get(i))
            .flatten()
            .map(|&i| &self.rects[i as usize])
            .any(|r| p[0] >= r[0] - d && p[0] <= r[2] + d && p[1] >= r[1] - d && p[1] <= r[3] + d)
    }

    /// Index of the first rectangle containing `p`.
    fn find_index(&self, p: [f64; 2]) -> Option<usize> {
        let t = (p[0] - self.x0) / Self::BIN_M;
        if t.is_nan() || t < 0.0 {
            return None;
        }
        self.bins
            .get(t as usize)?
            .iter()
            .map(|&i| i as usize)
            .find(|&i| contains(&self.rects[i], p))
    }

    fn find(&self, p: [f64; 2]) -> Option<&[f64; 4]> {
        self.find_index(p).map(|i| &self.rects[i])
    }
}

/// The field of play's outline projected into the image (points behind the camera dropped).
fn field_polygon(camera: &Camera, field: &FieldModel) -> Vec<Point2<f64>> {
    let c = field.outline();
    let mut out = Vec::new();
    for i in 0..4 {
        let (a, b) = (c[i], c[(i + 1) % 4]);
        for k in 0..64 {
            let t = f64::from(k) / 64.0;
            let p = nalgebra::Point3::new(a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, 0.0);
            if let Some(px) = camera.project(&p) {
                out.push(px);
            }
        }
    }
    out
}

/// Row-major `width * height` mask of the pixel centres inside `poly` (even-odd rule), filled
/// row by row from the edge crossings.
fn polygon_mask(width: u32, height: u32, poly: &[Point2<f64>]) -> Vec<bool> {
    let (w, h) = (width as usize, height as usize);
    let mut mask = vec![false; w * h];
    let mut xs = Vec::new();
    for (row, out) in mask.chunks_exact_mut(w.max(1)).enumerate().take(h) {
        let y = row as f64;
        xs.clear();
        let mut j = poly.len() - 1;
        for i in 0..poly.len() {
            let (pi, pj) = (poly[i], poly[j]);
            if (pi.y > y) != (pj.y > y) {
                xs.push((pj.x - pi.x) * (y - pi.y) / (pj.y - pi.y) + pi.x);
            }
            j = i;
        }
        xs.sort_by(f64::total_cmp);
        for pair in xs.chunks_exact(2) {
            // Pixels x with pair[0] <= x < pair[1] (x < crossing toggles, as in the point test).
            let a = pair[0].ceil().max(0.0);
            let b = pair[1].ceil().min(w as f64);
            if a < b {
                out[a as usize..b as usize].fill(true);
            }
        }
    }
    mask
}
