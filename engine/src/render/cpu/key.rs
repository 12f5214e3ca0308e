//! The key pass of a tile: raw keys straight from the frame where the covered pixels'
//! neighbourhoods reach (of the tile's one palette, or of each covered pixel's own), their
//! minimum along cell rows, then each covered pixel's alpha multiplied by its filtered key: the
//! minimum over its neighbourhood or, with [`EdgeFilter::Unmix`], its own key unmixed beside a
//! player.

use std::ops::Range;

use yardline_frame::FrameRef;
use yardline_keying::{EdgeFilter, UNMIX_FOREGROUND_KEY, unmix_key};

use super::{CELL_PX, NO_SPAN, Raster, TILE_PX, TileScratch};
use crate::render::PixelKey;
use crate::render::tiles::{CELL, HALO, TILE, read_native_run, read_native_run10};

/// One cell row of frame pixels in the frame's own components: bytes (R, G, B or Y, Cb, Cr),
/// or the 10-bit Y, Cb, Cr codes of a 10-bit frame, keyed at that precision.
struct NativeRow {
    /// The frame is an RGB-family one.
    rgb: bool,
    /// The frame is a 10-bit one (`codes` used, else `bytes`).
    ten: bool,
    /// 8-bit components per cell column.
    bytes: [[u8; 3]; CELL as usize],
    /// 10-bit codes per cell column.
    codes: [[u16; 3]; CELL as usize],
}

impl NativeRow {
    fn new(frame: &FrameRef<'_>) -> Self {
        let format = frame.layout.format;
        Self {
            rgb: format.is_rgb(),
            ten: format.bit_depth() == 10,
            bytes: [[0; 3]; CELL as usize],
            codes: [[0; 3]; CELL as usize],
        }
    }

    /// Reads the cell columns `cols` of frame row `fy`, the first at frame column `fx0`.
    #[inline]
    fn read(&mut self, frame: &FrameRef<'_>, fx0: i64, fy: u32, cols: Range<usize>) {
        if self.ten {
            read_native_run10(frame, fx0, fy, &mut self.codes[cols]);
        } else {
            read_native_run(frame, fx0, fy, &mut self.bytes[cols]);
        }
    }

    /// Raw keys of cell columns `cols` with palette `lut` into `out`.
    #[inline]
    fn key(&self, key: &dyn PixelKey, cols: Range<usize>, lut: usize, out: &mut [f32]) {
        if self.ten {
            key.key_u10_run(&self.codes[cols], lut, out);
        } else {
            key.key_u8_run(self.rgb, &self.bytes[cols], lut, out);
        }
    }
}

impl Raster<'_> {
    /// Multiplies every covered pixel's alpha of the tile at `origin` (its top-left pixel) by
    /// its filtered key: the raw keys and row minima of the cells its neighbourhood reaches
    /// ([`Raster::key_cells`] for a tile with one palette, else
    /// [`Raster::key_cells_by_palette`]), then [`multiply_by_key`].
    pub(super) fn key_tile(&self, scratch: &mut TileScratch, origin: (u32, u32)) {
        let one = if let [lut] = scratch.used[..] {
            self.key_cells(scratch, origin, lut);
            true
        } else {
            self.key_cells_by_palette(scratch, origin);
            false
        };
        let r = self.radius as usize;
        let lines = self.lines.len();
        let TileScratch {
            raw,
            hmin,
            alpha,
            luts,
            offs,
            spans,
            ..
        } = scratch;
        let rows = if r > 0 { &*hmin } else { &*raw };
        let unmix = self.unmix(origin);
        let keys: (&[f32], &[f32]) = (rows, raw);
        match (self.key.plate(), one) {
            (None, true) => multiply_by_key(alpha, spans, lines, keys, r, unmix, |_| 0, |_, k| k),
            (None, false) => multiply_by_key(
                alpha,
                spans,
                lines,
                keys,
                r,
                unmix,
                |i| luts[i] as usize,
                |_, k| k,
            ),
            (Some(plate), _) => {
                // The clean plate: each covered pixel's key combined with its match of the
                // plate at its field position.
                let t = TILE as usize;
                let frame = self.frame;
                let finish = |i: usize, k: f32| {
                    let (li, p) = (i / TILE_PX, i % TILE_PX);
                    let (fx, fy) = (origin.0 + (p % t) as u32, origin.1 + (p / t) as u32);
                    let [along, across] = offs[i];
                    plate.combine(li, along, across, frame.ycbcr_f32(fx, fy), k)
                };
                if one {
                    multiply_by_key(alpha, spans, lines, keys, r, unmix, |_| 0, finish);
                } else {
                    let block = |i: usize| luts[i] as usize;
                    multiply_by_key(alpha, spans, lines, keys, r, unmix, block, finish);
                }
            }
        }
    }

    /// [`Raster::key_cells`] for a tile that several palettes share: each covered pixel's
    /// neighbourhood is keyed with its own pixel's palette. Raw keys are computed per palette
    /// just where its pixels' neighbourhoods reach (one bit mask of cell columns per cell row
    /// and palette); the frame is read once per cell. Leaves each covered pixel's palette slot
    /// (its index in `used`) in `luts`.
    fn key_cells_by_palette(&self, scratch: &mut TileScratch, (tx0, ty0): (u32, u32)) {
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
        let fx0 = i64::from(tx0) - h as i64;
        let mut px = NativeRow::new(&self.frame);
        for cy in 0..c {
            let any = (0..slots).fold(0, |acc, s| acc | need[s * c + cy]);
            if any == 0 {
                continue;
            }
            let fy = self.cell_row(ty0, cy);
            let reach = dilate(any);
            let (k0, k1) = (
                reach.trailing_zeros() as usize,
                128 - reach.leading_zeros() as usize,
            );
            px.read(&self.frame, fx0 + k0 as i64, fy, k0..k1);
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
                    px.key(self.key, k0..k1, lut as usize, &mut row[k0..k1]);
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
    }

    /// The raw keys with palette `lut` (the tile's only one) and their running minimum along
    /// each cell row, once per pixel of the covered spans widened by the radius (rows and
    /// columns).
    fn key_cells(&self, scratch: &mut TileScratch, (tx0, ty0): (u32, u32), lut: u32) {
        let (t, c) = (TILE as usize, CELL as usize);
        let (r, h) = (self.radius as usize, HALO as usize);
        let TileScratch {
            raw, hmin, spans, ..
        } = scratch;
        // Covered columns of each tile row, over all lines.
        let mut union = [NO_SPAN; TILE as usize];
        for (ly, u) in union.iter_mut().enumerate() {
            for li in 0..self.lines.len() {
                let s = spans[li * t + ly];
                u[0] = u[0].min(s[0]);
                u[1] = u[1].max(s[1]);
            }
        }
        let mut px = NativeRow::new(&self.frame);
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
            let fy = self.cell_row(ty0, cy);
            let row = &mut raw[cy * c..(cy + 1) * c];
            let (k0, k1) = (lo + h - r, hi + h + r);
            let fx0 = i64::from(tx0) + k0 as i64 - h as i64;
            px.read(&self.frame, fx0, fy, k0..k1);
            px.key(self.key, k0..k1, lut as usize, &mut row[k0..k1]);
            if r > 0 {
                let out = &mut hmin[cy * c..(cy + 1) * c];
                for (cx, o) in out.iter_mut().enumerate().take(hi + h).skip(lo + h) {
                    *o = window_min(row, cx, r);
                }
            }
        }
    }

    /// The frame row of cell row `cy` of the tile whose top row is `ty0` (the frame's edge rows
    /// repeated beyond it).
    #[inline]
    fn cell_row(&self, ty0: u32, cy: usize) -> u32 {
        let hgt = i64::from(self.frame.layout.height);
        (i64::from(ty0) + cy as i64 - i64::from(HALO)).clamp(0, hgt - 1) as u32
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
/// `i`'s), or with `unmix` its own raw key, unmixed beside a player; `finish(i, key)` gives
/// the key pixel `i` takes (the clean plate's combination, or the key itself).
#[expect(
    clippy::too_many_arguments,
    reason = "the tile's scratch borrowed piece by piece beside the key's two closures"
)]
fn multiply_by_key(
    alpha: &mut [f32],
    spans: &[[u16; 2]],
    lines: usize,
    (rows, raw): (&[f32], &[f32]),
    r: usize,
    unmix: Option<Unmix<'_>>,
    block: impl Fn(usize) -> usize,
    finish: impl Fn(usize, f32) -> f32,
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
                alpha[i] *= finish(i, k);
            }
        }
    }
}
