//! Coverage: a tile's strip triangles rasterised row span by row span into an alpha per
//! covered pixel (coverage times opacity), the covered columns of each row, and with key
//! regions near, each covered pixel's palette, found once per 2x2 block and triangle.

use super::{Raster, TILE_PX, TileScratch};
use crate::render::raster::TriangleSetup;
use crate::render::tiles::TILE;
use crate::render::{KeyRegion, PreparedLine, tile_regions};

impl Raster<'_> {
    /// Fills the tile's alpha blocks and spans for every line.
    pub(super) fn raster_tile(&self, cell: usize, scratch: &mut TileScratch) {
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
            offs,
            used,
            spans,
            near,
            blocks,
            stamp,
            triangles,
            ..
        } = scratch;
        let zoned = !self.near.is_empty();
        let plated = self.key.plate().is_some();
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
            let offs = &mut offs[li * TILE_PX..(li + 1) * TILE_PX];
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
                    let (cov, [across, along]) = setup.coverage(x, y, half_width, length);
                    if cov > 0.0 {
                        let lx = (x - x0) as usize;
                        let i = ly * TILE as usize + lx;
                        alpha[i] = (cov as f32) * opacity;
                        if plated {
                            offs[i] = [along as f32, across as f32];
                        }
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
        self.key_tile(scratch, (tx0, ty0));
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
