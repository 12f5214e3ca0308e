//! The CPU compositor: same coverage formula and key as the GPU, but no atlas. Each touched
//! tile rasterises its strip triangles row span by row span (tiles in parallel on the calling
//! thread and its [`Crew`]), keys only the covered pixels (and, for the edge filter, their
//! neighbours) straight from the frame, and records an alpha per covered pixel; then the
//! covered spans are blended into the frame in place. Nothing outside the strip's footprint is
//! read or written.

use yardline_frame::{FrameLayout, FrameMut, FrameRef, PixelFormat, yuv_indices};
use yardline_keying::{EdgeFilter, UNMIX_FOREGROUND_KEY, unmix_key};

use super::crew::Crew;
use super::raster::TriangleSetup;
use super::tiles::{CELL, HALO, TILE, TilePlan, read_native_run};
use super::{
    CompositeStats, Compositor, KeyRegion, PixelKey, PreparedLine, RenderError, native_colour,
    regions_near_lines, tile_regions,
};

/// Pixels of a tile.
const TILE_PX: usize = (TILE * TILE) as usize;
/// Pixels of a tile with its halo (the raw keys).
const CELL_PX: usize = (CELL * CELL) as usize;

/// Composites on the CPU. Keeps its tile plan and per-tile scratch between frames (no
/// per-frame allocation once warm).
#[derive(Debug, Default)]
pub struct CpuCompositor {
    plan: TilePlan,
    scratch: Vec<TileScratch>,
    colours: Vec<[f32; 3]>,
    setups: Vec<Option<TriangleSetup>>,
    /// The key regions near the lines this frame (indices into the key's regions, in order).
    near: Vec<u32>,
    /// The threads that work each pass (started on the first frame).
    crew: Option<Crew>,
}

/// Per-tile working memory, reused across frames.
#[derive(Debug, Default, Clone)]
struct TileScratch {
    /// Raw key per pixel of the tile and its halo, one `CELL_PX` block per palette in `used`,
    /// valid where the covered pixels' neighbourhoods reach.
    raw: Vec<f32>,
    /// `raw` min-filtered along rows.
    hmin: Vec<f32>,
    /// Alpha per tile pixel, one `TILE_PX` block per line; zero outside `spans`.
    alpha: Vec<f32>,
    /// Palette of each covered pixel, laid out as `alpha` (written only when regions are near;
    /// an index into `used` once the key is applied).
    luts: Vec<u32>,
    /// Palettes used by the tile's covered pixels this frame.
    used: Vec<u32>,
    /// Per line and tile row: the covered columns `[lo, hi)` (empty when `lo >= hi`).
    spans: Vec<[u16; 2]>,
    /// Per palette in `used` and cell row: the cell columns whose row minimum is read.
    need: Vec<u128>,
    /// The key regions the tile's covered pixels can lie in (indices into the key's regions).
    near: Vec<u32>,
    /// Per 2x2 block of the tile: the palette found for it on triangle `stamp` (see
    /// [`block_lut`]), so a block is looked up once per triangle.
    blocks: Vec<(u32, u32)>,
    /// Stamp of the triangle being rasterised (counts up, never 0).
    stamp: u32,
    /// Triangles rasterised this frame.
    triangles: usize,
}

/// 2x2 pixel blocks per tile.
const BLOCKS: usize = (TILE as usize / 2) * (TILE as usize / 2);

/// An empty column span.
const NO_SPAN: [u16; 2] = [TILE as u16, 0];

impl TileScratch {
    fn prepare(&mut self, lines: usize) {
        if self.raw.len() < CELL_PX {
            self.raw.resize(CELL_PX, 0.0);
            self.hmin.resize(CELL_PX, 0.0);
        }
        if self.alpha.len() < lines * TILE_PX {
            self.alpha.resize(lines * TILE_PX, 0.0);
            self.luts.resize(lines * TILE_PX, 0);
        }
        self.used.clear();
        if self.blocks.len() < BLOCKS {
            self.blocks.resize(BLOCKS, (0, 0));
        }
        if self.spans.len() < lines * TILE as usize {
            self.spans.resize(lines * TILE as usize, NO_SPAN);
        }
        self.triangles = 0;
    }
}

impl CpuCompositor {
    /// A new compositor (its crew as large as the global rayon pool, started on the first
    /// frame).
    pub fn new() -> Self {
        Self::default()
    }

    /// A new compositor working its passes with `crew`.
    pub fn with_crew(crew: Crew) -> Self {
        Self {
            crew: Some(crew),
            ..Self::default()
        }
    }
}

impl Compositor for CpuCompositor {
    fn describe(&self) -> String {
        let threads = self
            .crew
            .as_ref()
            .map_or_else(rayon::current_num_threads, Crew::threads);
        format!("cpu ({threads} threads)")
    }

    fn composite(
        &mut self,
        frame: &mut FrameMut<'_>,
        lines: &[PreparedLine],
        key: &dyn PixelKey,
    ) -> Result<CompositeStats, RenderError> {
        let layout = frame.layout;
        self.plan.build(layout.width, layout.height, lines);
        let n_tiles = self.plan.tiles.len();
        if n_tiles == 0 {
            return Ok(CompositeStats::default());
        }
        if self.scratch.len() < n_tiles {
            self.scratch.resize_with(n_tiles, TileScratch::default);
        }
        let format = layout.format;
        // Per-frame tables live in reused buffers: no allocation once warm.
        self.colours.clear();
        self.colours
            .extend(lines.iter().map(|l| native_colour(format, l.rgb)));
        self.setups.clear();
        self.setups
            .extend(self.plan.triangles.iter().map(TriangleSetup::new));
        let radius = key.min_filter_radius().min(HALO);
        let regions = key.regions();
        regions_near_lines(regions, lines, &mut self.near);
        let ctx = Raster {
            regions,
            near: &self.near,
            plan: &self.plan,
            setups: &self.setups,
            lines,
            key,
            radius,
            frame: frame.as_ref(),
        };
        let crew = self.crew.get_or_insert_with(Crew::sized_like_rayon);
        // 1. Coverage x key x opacity of every covered pixel, from the original frame.
        crew.run(
            self.scratch[..n_tiles].iter_mut().enumerate(),
            |(cell, scratch)| ctx.raster_tile(cell, scratch),
        );
        // 2. Blend the covered spans, line by line in order, tile by tile, rows of tiles in
        // parallel (each holds its own rows of every plane).
        let scratch = &mut self.scratch[..n_tiles];
        let triangles = scratch.iter().map(|s| s.triangles).sum();
        if let Some(offs) = format.rgb_offsets() {
            let plane = layout.planes[0];
            let rgb = RgbBlend {
                stride: plane.stride,
                offsets: offs,
                colours: &self.colours,
            };
            let rows = TileRows {
                plane: PlaneRows {
                    rest: &mut frame.data[plane.offset..],
                    start: plane.offset,
                    row: 0,
                    stride: plane.stride,
                    sub: 1,
                },
                split: TileRowSplit::new(&self.plan.tiles, scratch),
            };
            crew.run(rows, |(band, row0, tiles, scratch)| {
                rgb.blend(band, row0, tiles, scratch);
            });
        } else {
            let rows = YuvTileRows::new(frame, &self.plan.tiles, scratch);
            let colours = &self.colours;
            crew.run(rows, |(mut band, tiles, scratch)| {
                for (&origin, scratch) in tiles.iter().zip(scratch) {
                    for (li, colour) in colours.iter().enumerate() {
                        blend_yuv_line(layout, &mut band, scratch, li, origin, *colour);
                    }
                }
            });
        }
        Ok(CompositeStats {
            tiles: n_tiles,
            triangles,
        })
    }
}

/// What the rasteriser reads.
struct Raster<'a> {
    /// The key's regions.
    regions: &'a [KeyRegion],
    /// Those near the lines (indices into `regions`, in order); empty: palette 0 everywhere.
    near: &'a [u32],
    plan: &'a TilePlan,
    setups: &'a [Option<TriangleSetup>],
    lines: &'a [PreparedLine],
    key: &'a dyn PixelKey,
    radius: u32,
    frame: FrameRef<'a>,
}

impl Raster<'_> {
    /// Fills the tile's alpha blocks and spans for every line.
    fn raster_tile(&self, cell: usize, scratch: &mut TileScratch) {
        scratch.prepare(self.lines.len());
        let (tx, ty) = self.plan.tiles[cell];
        let (fw, fh) = self.plan.size;
        let (tx0, ty0) = (tx * TILE, ty * TILE);
        let x0 = f64::from(tx0);
        let y0 = f64::from(ty0);
        let x_last = f64::from((tx0 + TILE).min(fw) - 1);
        let y_last = f64::from((ty0 + TILE).min(fh) - 1);
        let TileScratch {
            alpha,
            luts,
            used,
            spans,
            near,
            blocks,
            stamp,
            triangles,
            ..
        } = scratch;
        let zoned = !self.near.is_empty();
        tile_regions(self.regions, self.near, self.plan, cell, self.lines, near);
        let near = &*near;
        if !zoned {
            used.push(0);
        }
        for &t in &self.plan.tile_triangles[cell] {
            let tri = &self.plan.triangles[t as usize];
            let Some(setup) = &self.setups[t as usize] else {
                continue;
            };
            let li = tri.line as usize;
            let line = &self.lines[li];
            let (half_width, length) = (line.mesh.half_width_m, line.mesh.length_m);
            let opacity = line.opacity.clamp(0.0, 1.0);
            *triangles += 1;
            *stamp = stamp.wrapping_add(1);
            if *stamp == 0 {
                // Wrapped: no entry may look current.
                blocks.fill((0, 0));
                *stamp = 1;
            }
            let alpha = &mut alpha[li * TILE_PX..(li + 1) * TILE_PX];
            let luts = &mut luts[li * TILE_PX..(li + 1) * TILE_PX];
            let spans = &mut spans[li * TILE as usize..(li + 1) * TILE as usize];
            let bx0 = setup.bbox[0].max(x0);
            let by0 = setup.bbox[1].max(y0);
            let bx1 = setup.bbox[2].min(x_last);
            let by1 = setup.bbox[3].min(y_last);
            let mut y = by0;
            while y <= by1 {
                let Some((sx0, sx1)) = setup.row_span(y, bx0, bx1) else {
                    y += 1.0;
                    continue;
                };
                // A triangle's pixel centres on a row are contiguous (edge functions are
                // monotonic in x): trim the candidate span's ends, test nothing inside.
                let (mut sx0, mut sx1) = (sx0, sx1);
                while sx0 <= sx1 && !setup.contains(sx0, y) {
                    sx0 += 1.0;
                }
                while sx1 > sx0 && !setup.contains(sx1, y) {
                    sx1 -= 1.0;
                }
                let ly = (y - y0) as usize;
                let mut x = sx0;
                while x <= sx1 {
                    let (cov, _) = setup.coverage(x, y, half_width, length);
                    if cov > 0.0 {
                        let lx = (x - x0) as usize;
                        let i = ly * TILE as usize + lx;
                        alpha[i] = (cov as f32) * opacity;
                        if zoned {
                            let lut = if near.is_empty() {
                                0
                            } else {
                                let b = (ly / 2) * (TILE as usize / 2) + lx / 2;
                                if blocks[b].0 != *stamp {
                                    let lut = block_lut(setup, line, self.regions, near, x, y);
                                    blocks[b] = (*stamp, lut);
                                }
                                blocks[b].1
                            };
                            luts[i] = lut;
                            if !used.contains(&lut) {
                                used.push(lut);
                            }
                        }
                        let span = &mut spans[ly];
                        span[0] = span[0].min(lx as u16);
                        span[1] = span[1].max(lx as u16 + 1);
                    }
                    x += 1.0;
                }
                y += 1.0;
            }
        }
        if let [lut] = scratch.used[..] {
            self.apply_key(scratch, (tx0, ty0), lut);
        } else {
            self.apply_keys(scratch, (tx0, ty0));
        }
    }

    /// [`Raster::apply_key`] for a tile that several palettes share: each covered pixel's
    /// neighbourhood is keyed with its own pixel's palette. Raw keys are computed per palette
    /// just where its pixels' neighbourhoods reach (one bit mask of cell columns per cell row
    /// and palette); the frame is read once per cell.
    fn apply_keys(&self, scratch: &mut TileScratch, (tx0, ty0): (u32, u32)) {
        const _: () = assert!(CELL <= 128, "cell rows must fit a u128 mask");
        let (t, c) = (TILE as usize, CELL as usize);
        let (r, h) = (self.radius as usize, HALO as usize);
        let TileScratch {
            raw,
            hmin,
            alpha,
            luts,
            used,
            spans,
            need,
            ..
        } = scratch;
        let slots = used.len();
        if raw.len() < slots * CELL_PX {
            raw.resize(slots * CELL_PX, 0.0);
            hmin.resize(slots * CELL_PX, 0.0);
        }
        need.clear();
        need.resize(slots * c, 0);
        // Per palette slot and cell row: the cell columns whose row minimum a covered pixel
        // reads. `luts` now holds each covered pixel's slot.
        for li in 0..self.lines.len() {
            for ly in 0..t {
                let [lo, hi] = spans[li * t + ly];
                let row = li * TILE_PX + ly * t;
                for lx in lo as usize..hi as usize {
                    if alpha[row + lx] <= 0.0 {
                        continue;
                    }
                    let lut = &mut luts[row + lx];
                    let slot = used.iter().position(|u| u == lut).unwrap_or(0);
                    *lut = slot as u32;
                    let bit = 1_u128 << (lx + h);
                    for m in &mut need[slot * c + ly + h - r..=slot * c + ly + h + r] {
                        *m |= bit;
                    }
                }
            }
        }
        let dilate = |m: u128| (1..=r).fold(m, |acc, k| acc | (m << k) | (m >> k));
        let layout = self.frame.layout;
        let hgt = i64::from(layout.height);
        let rgb = layout.format.is_rgb();
        let fx0 = i64::from(tx0) - h as i64;
        let mut px = [[0_u8; 3]; CELL as usize];
        for cy in 0..c {
            let any = (0..slots).fold(0, |acc, s| acc | need[s * c + cy]);
            if any == 0 {
                continue;
            }
            let fy = (i64::from(ty0) + cy as i64 - h as i64).clamp(0, hgt - 1) as u32;
            let reach = dilate(any);
            let (k0, k1) = (
                reach.trailing_zeros() as usize,
                128 - reach.leading_zeros() as usize,
            );
            read_native_run(&self.frame, fx0 + k0 as i64, fy, &mut px[k0..k1]);
            for (slot, &lut) in used.iter().enumerate() {
                let m = need[slot * c + cy];
                if m == 0 {
                    continue;
                }
                let base = slot * CELL_PX + cy * c;
                let row = &mut raw[base..base + c];
                let mut rest = dilate(m);
                while rest != 0 {
                    let k0 = rest.trailing_zeros() as usize;
                    let k1 = k0 + (!(rest >> k0)).trailing_zeros() as usize;
                    self.key
                        .key_u8_run(rgb, &px[k0..k1], lut as usize, &mut row[k0..k1]);
                    rest &= !(((1_u128 << (k1 - k0)) - 1) << k0);
                }
                if r > 0 {
                    let out = &mut hmin[base..base + c];
                    let mut bits = m;
                    while bits != 0 {
                        let cx = bits.trailing_zeros() as usize;
                        out[cx] = window_min(row, cx, r);
                        bits &= bits - 1;
                    }
                }
            }
        }
        let rows = if r > 0 { &*hmin } else { &*raw };
        let unmix = self.unmix((tx0, ty0));
        multiply_by_key(alpha, spans, self.lines.len(), (rows, raw), r, unmix, |i| {
            luts[i] as usize
        });
    }

    /// Multiplies every covered pixel's alpha by its filtered key with palette `lut` (the
    /// tile's only one): raw keys once per pixel of the covered spans widened by the radius
    /// (rows and columns), a running minimum along each row, then along each column.
    fn apply_key(&self, scratch: &mut TileScratch, (tx0, ty0): (u32, u32), lut: u32) {
        let lines = self.lines.len();
        let (t, c) = (TILE as usize, CELL as usize);
        let (r, h) = (self.radius as usize, HALO as usize);
        let TileScratch {
            raw,
            hmin,
            alpha,
            spans,
            ..
        } = scratch;
        // Covered columns of each tile row, over all lines.
        let mut union = [NO_SPAN; TILE as usize];
        for (ly, u) in union.iter_mut().enumerate() {
            for li in 0..lines {
                let s = spans[li * t + ly];
                u[0] = u[0].min(s[0]);
                u[1] = u[1].max(s[1]);
            }
        }
        let hgt = i64::from(self.frame.layout.height);
        let rgb = self.frame.layout.format.is_rgb();
        let mut px = [[0_u8; 3]; CELL as usize];
        for cy in 0..c {
            // Tile rows whose neighbourhood reaches cell row cy.
            let first = cy.saturating_sub(h + r);
            let last = (cy + r).saturating_sub(h).min(t - 1);
            if cy + r < h || first > last {
                continue;
            }
            let (mut lo, mut hi) = (t, 0);
            for u in &union[first..=last] {
                lo = lo.min(u[0] as usize);
                hi = hi.max(u[1] as usize);
            }
            if lo >= hi {
                continue;
            }
            // Cell columns lo + h - r .. hi + h + r hold every neighbour of the covered pixels.
            let fy = (i64::from(ty0) + cy as i64 - h as i64).clamp(0, hgt - 1) as u32;
            let row = &mut raw[cy * c..(cy + 1) * c];
            let (k0, k1) = (lo + h - r, hi + h + r);
            let fx0 = i64::from(tx0) + k0 as i64 - h as i64;
            read_native_run(&self.frame, fx0, fy, &mut px[k0..k1]);
            self.key
                .key_u8_run(rgb, &px[k0..k1], lut as usize, &mut row[k0..k1]);
            if r > 0 {
                let out = &mut hmin[cy * c..(cy + 1) * c];
                for (cx, o) in out.iter_mut().enumerate().take(hi + h).skip(lo + h) {
                    *o = window_min(row, cx, r);
                }
            }
        }
        let rows = if r > 0 { &*hmin } else { &*raw };
        let unmix = self.unmix((tx0, ty0));
        multiply_by_key(alpha, spans, lines, (rows, raw), r, unmix, |_| 0);
    }

    /// What [`multiply_by_key`] needs to unmix the edges of the tile at `origin`, when the key
    /// unmixes them.
    fn unmix(&self, origin: (u32, u32)) -> Option<Unmix<'_>> {
        (self.key.edge_filter() == EdgeFilter::Unmix && self.radius > 0).then_some(Unmix {
            frame: self.frame,
            origin,
        })
    }
}

/// The frame and a tile's origin in it, for [`EdgeFilter::Unmix`].
#[derive(Clone, Copy)]
struct Unmix<'a> {
    frame: FrameRef<'a>,
    origin: (u32, u32),
}

impl Unmix<'_> {
    /// The unmixed key of tile pixel (lx, ly) of raw key `own` from the raw keys of its
    /// `(2r + 1)^2` neighbourhood in `raw` (one palette's cell block), as the GPU does it: the
    /// lowest- and highest-keyed neighbours (first in row order on a tie; the pixel itself left
    /// out, the frame's edge pixels repeated beyond it as the cells hold them) give the colours
    /// of the player and the grass. The keyer ([`yardline_keying::LutKeyer`]) leaves the
    /// neighbours beyond the frame out instead, which differs only on the frame's edge.
    fn key(&self, raw: &[f32], lx: usize, ly: usize, r: usize, own: f32) -> f32 {
        let (c, h) = (CELL as usize, HALO as usize);
        let layout = self.frame.layout;
        let (w, hgt) = (i64::from(layout.width), i64::from(layout.height));
        let (fx, fy) = (
            i64::from(self.origin.0) + lx as i64,
            i64::from(self.origin.1) + ly as i64,
        );
        let (mut lo, mut lo_at) = (f32::INFINITY, (fx, fy));
        let (mut hi, mut hi_at) = (f32::NEG_INFINITY, (fx, fy));
        let r = r as i64;
        for dy in -r..=r {
            for dx in -r..=r {
                if (dx, dy) == (0, 0) {
                    continue;
                }
                let cx = (lx as i64 + h as i64 + dx) as usize;
                let cy = (ly as i64 + h as i64 + dy) as usize;
                let k = raw[cy * c + cx];
                let at = ((fx + dx).clamp(0, w - 1), (fy + dy).clamp(0, hgt - 1));
                if k < lo {
                    (lo, lo_at) = (k, at);
                }
                if k > hi {
                    (hi, hi_at) = (k, at);
                }
            }
        }
        let colour = |(x, y): (i64, i64)| self.frame.ycbcr_f32(x as u32, y as u32);
        unmix_key(own, colour((fx, fy)), colour(lo_at), colour(hi_at))
    }
}

/// Palette of the covered pixel (x, y) of a triangle: that of the first region (in `near`'s
/// order) containing the field position of the centre of any pixel of its 2x2 block (even x
/// and y at its top-left), interpolated on the same triangle; 0 when none does. A block shares
/// one palette: the GPU shares the block's key lookups.
#[inline]
fn block_lut(
    setup: &TriangleSetup,
    line: &PreparedLine,
    regions: &[KeyRegion],
    near: &[u32],
    x: f64,
    y: f64,
) -> u32 {
    let (x0, y0) = (2.0 * (0.5 * x).floor(), 2.0 * (0.5 * y).floor());
    let mut first = usize::MAX;
    for (dx, dy) in [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)] {
        let [across, along] = setup.field_offsets(x0 + dx, y0 + dy);
        let [fx, fy] = line.field_xy(along, across);
        if let Some(k) = near[..first.min(near.len())]
            .iter()
            .position(|&i| regions[i as usize].contains(fx, fy))
        {
            first = k;
        }
    }
    near.get(first).map_or(0, |&i| regions[i as usize].lut)
}

/// The minimum of `row[cx - r ..= cx + r]`.
#[inline]
fn window_min(row: &[f32], cx: usize, r: usize) -> f32 {
    row[cx - r..=cx + r]
        .iter()
        .copied()
        .fold(f32::INFINITY, f32::min)
}

/// Multiplies each covered pixel's alpha (`lines` blocks of `TILE_PX`, covered on `spans`) by
/// its filtered key: the minimum over its neighbourhood's cell rows of `rows` (row-minimised
/// raw keys, one `CELL_PX` block per palette as `raw`, the raw keys; `block(i)` is pixel
/// `i`'s), or with `unmix` its own raw key, unmixed beside a player.
fn multiply_by_key(
    alpha: &mut [f32],
    spans: &[[u16; 2]],
    lines: usize,
    (rows, raw): (&[f32], &[f32]),
    r: usize,
    unmix: Option<Unmix<'_>>,
    block: impl Fn(usize) -> usize,
) {
    let (t, c, h) = (TILE as usize, CELL as usize, HALO as usize);
    for li in 0..lines {
        for ly in 0..t {
            let [lo, hi] = spans[li * t + ly];
            for lx in lo as usize..hi as usize {
                let i = li * TILE_PX + ly * t + lx;
                if alpha[i] <= 0.0 {
                    continue;
                }
                let base = block(i) * CELL_PX + lx + h;
                let mut k = 1.0_f32;
                for cy in ly + h - r..=ly + h + r {
                    k = k.min(rows[base + cy * c]);
                }
                if let Some(u) = &unmix {
                    let own = raw[base + (ly + h) * c];
                    k = if own < UNMIX_FOREGROUND_KEY || k >= UNMIX_FOREGROUND_KEY {
                        own
                    } else {
                        let block = &raw[base - lx - h..][..CELL_PX];
                        u.key(block, lx, ly, r, own)
                    };
                }
                alpha[i] *= k;
            }
        }
    }
}

/// `v + (c - v) * a`, rounded to a byte.
#[inline]
fn mix(v: u8, c: f32, a: f32) -> u8 {
    let v = f32::from(v);
    // Round half up of a value clamped to [0, 255] (`round` is a library call on baseline x86-64).
    ((v + (c - v) * a).clamp(0.0, 255.0) + 0.5) as u8
}

/// A row of tiles: its tile row, the tiles and their scratch.
type TileRow<'a> = (u32, &'a [(u32, u32)], &'a mut [TileScratch]);

/// A plan's tiles (row-major) and their scratch, handed out a row of tiles at a time.
struct TileRowSplit<'a> {
    tiles: &'a [(u32, u32)],
    scratch: &'a mut [TileScratch],
    /// Rows of tiles left.
    left: usize,
}

impl<'a> TileRowSplit<'a> {
    fn new(tiles: &'a [(u32, u32)], scratch: &'a mut [TileScratch]) -> Self {
        let left = tiles.chunk_by(|a, b| a.1 == b.1).count();
        Self {
            tiles,
            scratch,
            left,
        }
    }

    /// The next row of tiles: its tile row, tiles and their scratch.
    fn next_row(&mut self) -> Option<TileRow<'a>> {
        let &(_, ty) = self.tiles.first()?;
        let k = self.tiles.partition_point(|&(_, t)| t <= ty);
        let (tiles, more) = self.tiles.split_at(k);
        self.tiles = more;
        let (scratch, more) = std::mem::take(&mut self.scratch).split_at_mut(k);
        self.scratch = more;
        self.left -= 1;
        Some((ty, tiles, scratch))
    }

    /// Every tile left, as one piece.
    fn rest(&mut self) -> (&'a [(u32, u32)], &'a mut [TileScratch]) {
        self.left = 0;
        (
            std::mem::take(&mut self.tiles),
            std::mem::take(&mut self.scratch),
        )
    }
}

/// Rows of tiles of a plan with the RGB plane rows each covers and its tiles' scratch:
/// disjoint pieces, blended at once.
struct TileRows<'a> {
    plane: PlaneRows<'a>,
    split: TileRowSplit<'a>,
}

impl<'a> Iterator for TileRows<'a> {
    /// The plane rows, the first one's index, the tiles and their scratch.
    type Item = (&'a mut [u8], u32, &'a [(u32, u32)], &'a mut [TileScratch]);

    fn next(&mut self) -> Option<Self::Item> {
        let (ty, tiles, scratch) = self.split.next_row()?;
        let (band, _) = self.plane.take(ty * TILE, (ty + 1) * TILE);
        Some((band, ty * TILE, tiles, scratch))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.split.left, Some(self.split.left))
    }
}

impl ExactSizeIterator for TileRows<'_> {}

/// Blending into an RGB-family plane.
struct RgbBlend<'a> {
    /// Bytes per row.
    stride: usize,
    /// Byte offsets of R, G, B in a pixel.
    offsets: [usize; 3],
    /// Line colours.
    colours: &'a [[f32; 3]],
}

impl RgbBlend<'_> {
    /// Blends `tiles` (with their scratch) into `band`, the plane's rows from `row0` on. Clears
    /// the scratch it used.
    fn blend(&self, band: &mut [u8], row0: u32, tiles: &[(u32, u32)], scratch: &mut [TileScratch]) {
        for (&(tx, ty), scratch) in tiles.iter().zip(scratch) {
            for (li, colour) in self.colours.iter().enumerate() {
                self.blend_line(band, row0, (tx, ty), scratch, li, *colour);
            }
        }
    }

    /// Blends line `li`'s covered spans of one tile and clears them.
    fn blend_line(
        &self,
        band: &mut [u8],
        row0: u32,
        (tx, ty): (u32, u32),
        scratch: &mut TileScratch,
        li: usize,
        colour: [f32; 3],
    ) {
        let t = TILE as usize;
        let alpha = &mut scratch.alpha[li * TILE_PX..(li + 1) * TILE_PX];
        let spans = &mut scratch.spans[li * t..(li + 1) * t];
        let offs = self.offsets;
        for (ly, span) in spans.iter_mut().enumerate() {
            let [lo, hi] = std::mem::replace(span, NO_SPAN);
            if lo >= hi {
                continue;
            }
            let (lo, hi) = (lo as usize, hi as usize);
            let row = &mut alpha[ly * t + lo..ly * t + hi];
            let base = (ty * TILE + ly as u32 - row0) as usize * self.stride
                + (tx * TILE) as usize * 4
                + lo * 4;
            let pixels = &mut band[base..base + (hi - lo) * 4];
            for (a, px) in row.iter_mut().zip(pixels.chunks_exact_mut(4)) {
                let a = std::mem::take(a);
                if a <= 0.0 {
                    continue;
                }
                for (&o, &c) in offs.iter().zip(&colour) {
                    px[o] = mix(px[o], c, a);
                }
            }
        }
    }
}

/// Blends line `li`'s covered spans of one tile into a YUV frame and clears them. Chroma takes
/// the mean of the blended chroma of the pixels sharing its site.
fn blend_yuv_line(
    layout: &FrameLayout,
    band: &mut YuvBand<'_>,
    scratch: &mut TileScratch,
    li: usize,
    (tx, ty): (u32, u32),
    colour: [f32; 3],
) {
    let (w, h) = (layout.width, layout.height);
    let (tx0, ty0) = (tx * TILE, ty * TILE);
    let t = TILE as usize;
    let alpha = &mut scratch.alpha[li * TILE_PX..(li + 1) * TILE_PX];
    let spans = &mut scratch.spans[li * t..(li + 1) * t];
    let (sx, sy) = match layout.format {
        PixelFormat::I420 | PixelFormat::Nv12 => (2_usize, 2_usize),
        _ => (2, 1),
    };
    for ly in (0..t).step_by(sy) {
        // Union of the covered columns of the site row, aligned to whole sites (tiles start
        // on a site boundary).
        let (mut lo, mut hi) = (t, 0);
        for span in &mut spans[ly..(ly + sy).min(t)] {
            lo = lo.min(span[0] as usize);
            hi = hi.max(span[1] as usize);
            *span = NO_SPAN;
        }
        if lo >= hi {
            continue;
        }
        let lo = lo - lo % sx;
        for lx in (lo..hi).step_by(sx) {
            let (fx, fy) = (tx0 + lx as u32, ty0 + ly as u32);
            let Some([_, icb, icr]) = yuv_indices(layout, fx, fy) else {
                continue;
            };
            let (Some(cb), Some(cr)) = (band.get(icb), band.get(icr)) else {
                continue;
            };
            let (mut sum_cb, mut sum_cr, mut n, mut any) = (0_u32, 0_u32, 0_u32, false);
            for yy in 0..sy {
                for xx in 0..sx {
                    let (px, py) = (fx + xx as u32, fy + yy as u32);
                    if px >= w || py >= h {
                        continue;
                    }
                    n += 1;
                    let a = std::mem::take(&mut alpha[(ly + yy) * t + lx + xx]);
                    if a <= 0.0 {
                        sum_cb += u32::from(cb);
                        sum_cr += u32::from(cr);
                        continue;
                    }
                    any = true;
                    if let Some([iy, _, _]) = yuv_indices(layout, px, py)
                        && let Some(v) = band.get(iy)
                    {
                        band.set(iy, mix(v, colour[0], a));
                    }
                    sum_cb += u32::from(mix(cb, colour[1], a));
                    sum_cr += u32::from(mix(cr, colour[2], a));
                }
            }
            if any {
                band.set(icb, ((sum_cb + n / 2) / n) as u8);
                band.set(icr, ((sum_cr + n / 2) / n) as u8);
            }
        }
    }
}

/// The rows of each plane of a YUV frame that one row of tiles covers: disjoint pieces of the
/// frame's buffer, each with the buffer index of its first byte.
struct YuvBand<'a> {
    parts: [(&'a mut [u8], usize); 3],
}

impl YuvBand<'_> {
    /// The byte at buffer index `i`, if the band holds it.
    fn get(&self, i: usize) -> Option<u8> {
        self.parts
            .iter()
            .find_map(|(part, start)| part.get(i.checked_sub(*start)?).copied())
    }

    /// Writes the byte at buffer index `i` if the band holds it.
    fn set(&mut self, i: usize, v: u8) {
        if let Some(b) = self
            .parts
            .iter_mut()
            .find_map(|(part, start)| part.get_mut(i.checked_sub(*start)?))
        {
            *b = v;
        }
    }
}

/// One plane of a YUV frame, handed out row band by row band down the frame.
struct PlaneRows<'a> {
    /// The plane's bytes from plane row `row` on.
    rest: &'a mut [u8],
    /// Buffer index of `rest[0]`.
    start: usize,
    row: u32,
    /// Bytes per plane row.
    stride: usize,
    /// Frame rows per plane row (2 for 4:2:0 chroma).
    sub: u32,
}

impl<'a> PlaneRows<'a> {
    fn empty() -> Self {
        Self {
            rest: &mut [],
            start: 0,
            row: 0,
            stride: 0,
            sub: 1,
        }
    }

    /// The plane rows holding frame rows `y0..y1` (`y0` at or below the rows handed out so far)
    /// and the buffer index of their first byte.
    fn take(&mut self, y0: u32, y1: u32) -> (&'a mut [u8], usize) {
        let (r0, r1) = (y0 / self.sub, y1.div_ceil(self.sub));
        let rest = std::mem::take(&mut self.rest);
        let skip = (r0.saturating_sub(self.row) as usize * self.stride).min(rest.len());
        let len = (r1.saturating_sub(r0) as usize * self.stride).min(rest.len() - skip);
        let (part, rest) = rest[skip..].split_at_mut(len);
        let start = self.start + skip;
        (self.rest, self.start, self.row) = (rest, start + len, r1.max(self.row));
        (part, start)
    }
}

/// Rows of tiles of a plan (row-major) with the rows of each YUV plane each covers
/// ([`YuvBand`]) and its tiles' scratch: disjoint pieces, blended at once. A layout whose planes
/// are not disjoint row ranges of the buffer gives one band holding the whole buffer.
struct YuvTileRows<'a> {
    planes: [PlaneRows<'a>; 3],
    split: TileRowSplit<'a>,
    /// The whole buffer, when the planes cannot be split.
    whole: Option<&'a mut [u8]>,
}

impl<'a> YuvTileRows<'a> {
    fn new(
        frame: &'a mut FrameMut<'_>,
        tiles: &'a [(u32, u32)],
        scratch: &'a mut [TileScratch],
    ) -> Self {
        let layout = frame.layout;
        let data: &'a mut [u8] = &mut *frame.data;
        let split = TileRowSplit::new(tiles, scratch);
        match split_planes(layout, data) {
            Ok(planes) => Self {
                planes,
                split,
                whole: None,
            },
            Err(data) => Self {
                planes: std::array::from_fn(|_| PlaneRows::empty()),
                split,
                whole: Some(data),
            },
        }
    }
}

/// The planes of a YUV layout as [`PlaneRows`], or the buffer back when a plane's rows run
/// into the next plane.
fn split_planes<'a>(
    layout: &FrameLayout,
    data: &'a mut [u8],
) -> Result<[PlaneRows<'a>; 3], &'a mut [u8]> {
    let shapes = layout
        .format
        .packed_planes(layout.width as usize, layout.height as usize);
    // (plane, bytes of a row's pixels, rows), in buffer order (no allocation: this runs every
    // frame).
    let mut sorted = [(0, 0, 0); 3];
    let order = &mut sorted[..layout.format.plane_count()];
    for (p, o) in order.iter_mut().enumerate() {
        *o = (p, shapes[p].0, shapes[p].1);
    }
    order.sort_by_key(|&(p, ..)| layout.planes[p].offset);
    let order = &*order;
    // Each plane's bytes end before the next one starts.
    let end = |&(p, row_bytes, rows): &(usize, usize, usize)| {
        let plane = layout.planes[p];
        plane.offset + rows.saturating_sub(1) * plane.stride + row_bytes
    };
    let disjoint = !order.is_empty()
        && order
            .windows(2)
            .all(|pair| end(&pair[0]) <= layout.planes[pair[1].0].offset)
        && order.last().is_some_and(|last| end(last) <= data.len());
    if !disjoint {
        return Err(data);
    }
    let mut planes = std::array::from_fn(|_| PlaneRows::empty());
    let (mut rest, mut at) = (data, 0);
    for (k, &(p, ..)) in order.iter().enumerate() {
        let plane = layout.planes[p];
        let next = order
            .get(k + 1)
            .map_or(at + rest.len(), |&(q, ..)| layout.planes[q].offset);
        let (_, tail) = std::mem::take(&mut rest).split_at_mut(plane.offset - at);
        let (mine, tail) = tail.split_at_mut(next - plane.offset);
        (rest, at) = (tail, next);
        planes[p] = PlaneRows {
            rest: mine,
            start: plane.offset,
            row: 0,
            stride: plane.stride,
            // Chroma planes hold one row per two frame rows.
            sub: if p == 0 { 1 } else { 2 },
        };
    }
    Ok(planes)
}

impl<'a> Iterator for YuvTileRows<'a> {
    /// The band, the tiles and their scratch.
    type Item = (YuvBand<'a>, &'a [(u32, u32)], &'a mut [TileScratch]);

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(data) = self.whole.take() {
            let (tiles, scratch) = self.split.rest();
            let band = YuvBand {
                parts: [(data, 0), (&mut [], 0), (&mut [], 0)],
            };
            return Some((band, tiles, scratch));
        }
        let (ty, tiles, scratch) = self.split.next_row()?;
        let parts = self
            .planes
            .each_mut()
            .map(|p| p.take(ty * TILE, (ty + 1) * TILE));
        Some((YuvBand { parts }, tiles, scratch))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = if self.whole.is_some() {
            1
        } else {
            self.split.left
        };
        (left, Some(left))
    }
}

impl ExactSizeIterator for YuvTileRows<'_> {}
