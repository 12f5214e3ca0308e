//! The CPU compositor (rayon): shades only the gathered tiles, same formula as the GPU.

use rayon::prelude::*;
use yardline_keying::frame::{FrameMut, PixelFormat};

use super::raster::{TriangleSetup, strip_coverage};
use super::tiles::{ATLAS_COLS, CELL, HALO, TILE, TileAtlas, TilePlan, atlas_rows};
use super::{
    CompositeStats, Compositor, KeyModel, PreparedLine, RenderError, native_colour, native_to_ycbcr,
};

/// Composites on the CPU. Keeps its tile plan and atlas between frames (no per-frame
/// allocation once warm).
#[derive(Debug, Default)]
pub struct CpuCompositor {
    plan: TilePlan,
    atlas: TileAtlas,
    scratch: Vec<CellScratch>,
    colours: Vec<[f32; 3]>,
    setups: Vec<Option<TriangleSetup>>,
}

#[derive(Debug, Default, Clone)]
struct CellScratch {
    /// Raw key per atlas-cell pixel (NaN = not computed yet).
    key: Vec<f32>,
    /// Alpha per tile pixel for the line being drawn.
    alpha: Vec<f32>,
}

impl CpuCompositor {
    /// A new compositor.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Compositor for CpuCompositor {
    fn describe(&self) -> String {
        format!("cpu (rayon, {} threads)", rayon::current_num_threads())
    }

    fn composite(
        &mut self,
        frame: &mut FrameMut<'_>,
        lines: &[PreparedLine],
        key: &dyn KeyModel,
    ) -> Result<CompositeStats, RenderError> {
        let layout = frame.layout;
        self.plan.build(layout.width, layout.height, lines);
        if self.plan.tiles.is_empty() {
            return Ok(CompositeStats::default());
        }
        self.atlas.gather(&frame.as_ref(), &self.plan);
        let rows = atlas_rows(self.plan.tiles.len()) as usize;
        if self.scratch.len() < rows {
            self.scratch.resize_with(rows, CellScratch::default);
        }
        let format = layout.format;
        // Per-frame tables live in reused buffers: no allocation once warm.
        self.colours.clear();
        self.colours
            .extend(lines.iter().map(|l| native_colour(format, l.rgb)));
        self.setups.clear();
        self.setups
            .extend(self.plan.triangles.iter().map(TriangleSetup::new));
        let (colours, setups) = (&self.colours, &self.setups);
        let plan = &self.plan;
        let row_bytes = CELL as usize * TileAtlas::STRIDE;
        let radius = key.min_filter_radius().min(HALO);
        let triangles: usize = self.atlas.data[..rows * row_bytes]
            .par_chunks_mut(row_bytes)
            .zip(self.scratch[..rows].par_iter_mut())
            .enumerate()
            .map(|(row, (chunk, scratch))| {
                let first = row * ATLAS_COLS as usize;
                let last = (first + ATLAS_COLS as usize).min(plan.tiles.len());
                let mut n = 0;
                for cell in first..last {
                    n += shade_cell(
                        chunk, scratch, cell, plan, setups, lines, colours, key, radius, format,
                    );
                }
                n
            })
            .sum();
        self.atlas.scatter(frame, &self.plan);
        Ok(CompositeStats {
            tiles: self.plan.tiles.len(),
            triangles,
        })
    }
}

/// Shades one atlas cell in place; returns the triangles rasterised.
#[allow(
    clippy::too_many_arguments,
    reason = "one call site; a struct would only rename them"
)]
fn shade_cell(
    chunk: &mut [u8],
    scratch: &mut CellScratch,
    cell: usize,
    plan: &TilePlan,
    setups: &[Option<TriangleSetup>],
    lines: &[PreparedLine],
    colours: &[[f32; 3]],
    key: &dyn KeyModel,
    radius: u32,
    format: PixelFormat,
) -> usize {
    let (tx, ty) = plan.tiles[cell];
    let (ox, _) = TileAtlas::cell_origin(cell);
    let stride = TileAtlas::STRIDE;
    let cellpx = (CELL * CELL) as usize;
    scratch.key.clear();
    scratch.key.resize(cellpx, f32::NAN);
    let tpx = (TILE * TILE) as usize;
    let (fw, fh) = plan.size;
    let x0 = f64::from(tx * TILE);
    let y0 = f64::from(ty * TILE);
    let x_last = f64::from((tx * TILE + TILE).min(fw) - 1);
    let y_last = f64::from((ty * TILE + TILE).min(fh) - 1);
    let mut count = 0;
    // Lines in order; each line's alpha is computed against the original pixels (key) and
    // blended over what earlier lines left.
    for (li, line) in lines.iter().enumerate() {
        scratch.alpha.clear();
        scratch.alpha.resize(tpx, 0.0);
        let mut any = false;
        for &t in &plan.tile_triangles[cell] {
            let tri = &plan.triangles[t as usize];
            if tri.line as usize != li {
                continue;
            }
            let Some(setup) = &setups[t as usize] else {
                continue;
            };
            count += 1;
            let bx0 = setup.bbox[0].max(x0);
            let by0 = setup.bbox[1].max(y0);
            let bx1 = setup.bbox[2].min(x_last);
            let by1 = setup.bbox[3].min(y_last);
            let mut y = by0;
            while y <= by1 {
                let mut x = bx0;
                while x <= bx1 {
                    if setup.contains(x, y) {
                        let (off, grad) = setup.offsets(x, y);
                        let cov =
                            strip_coverage(off, grad, line.mesh.half_width_m, line.mesh.length_m);
                        if cov > 0.0 {
                            let lx = (x - x0) as usize;
                            let ly = (y - y0) as usize;
                            let field = line.field_xy(off[1], off[0]);
                            let k =
                                filtered_key(chunk, &mut scratch.key, ox, lx, ly, radius, |p| {
                                    key.key(native_to_ycbcr(format, p), field)
                                });
                            scratch.alpha[ly * TILE as usize + lx] =
                                (cov as f32) * k * line.opacity.clamp(0.0, 1.0);
                            any = true;
                        }
                    }
                    x += 1.0;
                }
                y += 1.0;
            }
        }
        if !any {
            continue;
        }
        let col = colours[li];
        for ly in 0..TILE as usize {
            for lx in 0..TILE as usize {
                let a = scratch.alpha[ly * TILE as usize + lx];
                if a <= 0.0 {
                    continue;
                }
                let o = (ly + HALO as usize) * stride + (ox as usize + lx + HALO as usize) * 4;
                for c in 0..3 {
                    let v = f32::from(chunk[o + c]);
                    chunk[o + c] = (v + (col[c] - v) * a).round().clamp(0.0, 255.0) as u8;
                }
            }
        }
    }
    count
}

/// Minimum of the raw key over the (2r+1)^2 neighbourhood of tile pixel (lx, ly), computing
/// (and caching) raw keys of the original cell pixels on demand.
#[inline]
fn filtered_key(
    chunk: &[u8],
    cache: &mut [f32],
    ox: u32,
    lx: usize,
    ly: usize,
    radius: u32,
    raw: impl Fn([u8; 3]) -> f32,
) -> f32 {
    let r = radius as usize;
    let h = HALO as usize;
    let mut k = 1.0_f32;
    for cy in (ly + h - r)..=(ly + h + r) {
        for cx in (lx + h - r)..=(lx + h + r) {
            let ci = cy * CELL as usize + cx;
            let mut v = cache[ci];
            if v.is_nan() {
                let o = cy * TileAtlas::STRIDE + (ox as usize + cx) * 4;
                v = raw([chunk[o], chunk[o + 1], chunk[o + 2]]);
                cache[ci] = v;
            }
            k = k.min(v);
        }
    }
    k
}
