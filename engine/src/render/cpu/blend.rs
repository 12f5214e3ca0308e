//! Blending a tile's covered spans into the frame in place, line by line, clearing the spans
//! and alphas it used: RGB-family pixels one by one, YUV luma per pixel and chroma as the mean
//! of the blended chroma of the pixels sharing its site (every line over each pixel first).

use yardline_frame::{FillKeyMut, FrameLayout, yuv_samples};

use super::bands::YuvBand;
use super::{NO_SPAN, TILE_PX, TileScratch};
use crate::render::tiles::TILE;

/// `v + (c - v) * a`, rounded to a byte.
#[inline]
fn mix(v: u8, c: f32, a: f32) -> u8 {
    let v = f32::from(v);
    // Round half up of a value clamped to [0, 255] (`round` is a library call on baseline x86-64).
    ((v + (c - v) * a).clamp(0.0, 255.0) + 0.5) as u8
}

/// Blending into an RGB-family plane.
pub(super) struct RgbBlend<'a> {
    /// Bytes per row.
    pub(super) stride: usize,
    /// Byte offsets of R, G, B in a pixel.
    pub(super) offsets: [usize; 3],
    /// Line colours.
    pub(super) colours: &'a [[f32; 3]],
}

impl RgbBlend<'_> {
    /// Blends `tiles` (with their scratch) into `band`, the plane's rows from `row0` on. Clears
    /// the scratch it used.
    pub(super) fn blend(
        &self,
        band: &mut [u8],
        row0: u32,
        tiles: &[(u32, u32)],
        scratch: &mut [TileScratch],
    ) {
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

/// `v + (c - v) * a` for a code of at most `max` (255 or 1023), rounded to a code of the same
/// depth: a 10-bit frame is blended at its own precision.
#[inline]
fn mix_code(v: u16, c: f32, a: f32, max: f32) -> u16 {
    let v = f32::from(v);
    ((v + (c - v) * a).clamp(0.0, max) + 0.5) as u16
}

/// Blends every line's covered spans of one tile into a YUV frame (8- or 10-bit; `colours` in
/// its codes), the lines in order, and clears them. Each pixel takes its site's chroma and the
/// lines over it one after another, rounded to a code after each, as luma is; the site then
/// takes the mean of its pixels' chroma. So lines over one another give the chroma the GPU
/// compositor gives (its atlas repeats a site's chroma over its pixels and is written back as
/// their mean).
pub(super) fn blend_yuv_tile(
    layout: &FrameLayout,
    band: &mut YuvBand<'_>,
    scratch: &mut TileScratch,
    (tx, ty): (u32, u32),
    colours: &[[f32; 3]],
) {
    let (w, h) = (layout.width, layout.height);
    let (tx0, ty0) = (tx * TILE, ty * TILE);
    let t = TILE as usize;
    let (sx, sy) = layout.format.chroma_step();
    let (sx, sy) = (sx as usize, sy as usize);
    let storage = layout.format.sample_storage();
    let max = if layout.format.bit_depth() == 10 {
        1023.0
    } else {
        255.0
    };
    let lines = colours.len();
    for ly in (0..t).step_by(sy) {
        // Union over the lines of the covered columns of the site row, aligned to whole sites
        // (tiles start on a site boundary).
        let (mut lo, mut hi) = (t, 0);
        for li in 0..lines {
            for span in &mut scratch.spans[li * t + ly..li * t + (ly + sy).min(t)] {
                lo = lo.min(span[0] as usize);
                hi = hi.max(span[1] as usize);
                *span = NO_SPAN;
            }
        }
        if lo >= hi {
            continue;
        }
        let lo = lo - lo % sx;
        for lx in (lo..hi).step_by(sx) {
            let (fx, fy) = (tx0 + lx as u32, ty0 + ly as u32);
            let Some([_, icb, icr]) = yuv_samples(layout, fx, fy) else {
                continue;
            };
            let (Some(cb), Some(cr)) = (band.read(storage, icb), band.read(storage, icr)) else {
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
                    let at = (ly + yy) * t + lx + xx;
                    let (mut pcb, mut pcr) = (cb, cr);
                    let luma = yuv_samples(layout, px, py)
                        .and_then(|[iy, _, _]| Some((iy, band.read(storage, iy)?)));
                    let mut y = luma.map(|(_, v)| v);
                    let mut covered = false;
                    for (li, colour) in colours.iter().enumerate() {
                        let a = std::mem::take(&mut scratch.alpha[li * TILE_PX + at]);
                        if a <= 0.0 {
                            continue;
                        }
                        covered = true;
                        y = y.map(|v| mix_code(v, colour[0], a, max));
                        pcb = mix_code(pcb, colour[1], a, max);
                        pcr = mix_code(pcr, colour[2], a, max);
                    }
                    if covered {
                        any = true;
                        if let (Some((iy, _)), Some(v)) = (luma, y) {
                            band.write(storage, iy, v);
                        }
                    }
                    sum_cb += u32::from(pcb);
                    sum_cr += u32::from(pcr);
                }
            }
            if any {
                band.write(storage, icb, ((sum_cb + n / 2) / n) as u16);
                band.write(storage, icr, ((sum_cr + n / 2) / n) as u16);
            }
        }
    }
}

/// Writes every tile's lines into the fill-and-key frame `out` (cleared beforehand) and clears
/// the spans and alphas used: per pixel, the lines `over` one another in order (straight
/// alpha: `A = a + A (1 - a)`, fill `(c a + F A (1 - a)) / A`), so one line gives its own alpha
/// and colour. `fills[i]` is line `i`'s fill in `out`'s components.
pub(super) fn fill_key_tiles(
    tiles: &[(u32, u32)],
    scratch: &mut [TileScratch],
    fills: &[[f32; 3]],
    out: &mut FillKeyMut<'_>,
) {
    let t = TILE as usize;
    // Per tile pixel: fill and alpha so far.
    let mut acc = vec![([0.0_f32; 3], 0.0_f32); TILE_PX];
    for (&(tx, ty), scratch) in tiles.iter().zip(scratch) {
        acc.fill(([0.0; 3], 0.0));
        let (mut lo_all, mut hi_all) = (t, 0);
        let (mut top, mut bottom) = (t, 0);
        for (li, fill) in fills.iter().enumerate() {
            let alpha = &mut scratch.alpha[li * TILE_PX..(li + 1) * TILE_PX];
            let spans = &mut scratch.spans[li * t..(li + 1) * t];
            for (ly, span) in spans.iter_mut().enumerate() {
                let [lo, hi] = std::mem::replace(span, NO_SPAN);
                if lo >= hi {
                    continue;
                }
                let (lo, hi) = (lo as usize, hi as usize);
                (lo_all, hi_all) = (lo_all.min(lo), hi_all.max(hi));
                (top, bottom) = (top.min(ly), bottom.max(ly + 1));
                for lx in lo..hi {
                    let a = std::mem::take(&mut alpha[ly * t + lx]);
                    if a <= 0.0 {
                        continue;
                    }
                    let (f, acc_a) = &mut acc[ly * t + lx];
                    let under = *acc_a * (1.0 - a);
                    let total = a + under;
                    for (fc, &c) in f.iter_mut().zip(fill) {
                        *fc = (c * a + *fc * under) / total;
                    }
                    *acc_a = total;
                }
            }
        }
        for ly in top..bottom {
            let y = ty * TILE + ly as u32;
            for lx in lo_all..hi_all {
                let x = tx * TILE + lx as u32;
                let (f, a) = acc[ly * t + lx];
                if a > 0.0 && x < out.width && y < out.height {
                    out.put(x, y, f, a);
                }
            }
        }
    }
}
