//! Tile selection (both compositors) and the tile atlas (the GPU compositor).
//!
//! The atlas is an image of 4-byte pixels, `ATLAS_COLS` cells per row; each cell holds one frame
//! tile plus a [`HALO`]-pixel border, in the frame's own colour space: R, G, B for the RGB
//! formats (whatever their byte order) and Y, Cb, Cr for the YUV formats (chroma repeated over
//! its site). 8-bit frames fill it as RGBA8 (alpha 255), 10-bit frames with their 10-bit codes
//! packed in one 32-bit word per pixel (`ten_bit`: the bits of an `Rgb10a2Unorm` texel, its bytes
//! an RGBA8 texel of the GPU's atlas).

use yardline_frame::{FrameMut, FrameRef, PixelFormat, Plane, rgb_index};

use super::PreparedLine;
use super::crew::Crew;

mod ten_bit;

/// Tile edge (pixels). Even, so chroma sites never straddle tiles.
pub const TILE: u32 = 64;
/// Border around each tile in the atlas (pixels): the largest key filter radius.
pub const HALO: u32 = 2;
/// Atlas cell edge (pixels).
pub const CELL: u32 = TILE + 2 * HALO;
/// Cells per atlas row.
pub const ATLAS_COLS: u32 = 32;

/// One triangle of a prepared line, in pixel coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Triangle {
    /// Index of the line in the frame's line list.
    pub line: u32,
    /// Pixel positions.
    pub p: [[f64; 2]; 3],
    /// Depths (metres along the optical axis).
    pub depth: [f64; 3],
    /// Across-strip offsets (metres).
    pub across: [f64; 3],
    /// Along-strip offsets (metres).
    pub along: [f64; 3],
}

/// Which tiles this frame touches and which triangles touch each tile. Reused across frames.
#[derive(Debug, Default)]
pub struct TilePlan {
    /// Frame size the plan is for (pixels).
    pub size: (u32, u32),
    /// Touched tiles (tile column, tile row), in row-major order.
    pub tiles: Vec<(u32, u32)>,
    /// All triangles of all lines.
    pub triangles: Vec<Triangle>,
    /// For each touched tile, indices into `triangles`.
    pub tile_triangles: Vec<Vec<u32>>,
    /// Scratch: slot of each frame tile in `tiles`, or `u32::MAX`.
    slot: Vec<u32>,
}

impl TilePlan {
    /// Plans the tiles for `lines` on a `width` x `height` frame.
    pub fn build(&mut self, width: u32, height: u32, lines: &[PreparedLine]) {
        let (tw, th) = (width.div_ceil(TILE), height.div_ceil(TILE));
        self.size = (width, height);
        self.tiles.clear();
        self.triangles.clear();
        for list in &mut self.tile_triangles {
            list.clear();
        }
        self.slot.clear();
        self.slot.resize((tw * th) as usize, u32::MAX);
        for (li, line) in lines.iter().enumerate() {
            if line.opacity <= 0.0 {
                continue;
            }
            for run in &line.mesh.runs {
                for [a, b, c] in run.triangles() {
                    let v = [run.vertices[a], run.vertices[b], run.vertices[c]];
                    self.triangles.push(Triangle {
                        line: li as u32,
                        p: v.map(|v| [v.pixel.x, v.pixel.y]),
                        depth: v.map(|v| v.depth),
                        across: v.map(|v| v.across),
                        along: v.map(|v| v.along),
                    });
                }
            }
        }
        let mut tiles_of_tri = Vec::new();
        for tri in &self.triangles {
            tiles_of_tri.clear();
            overlapped_tiles(tri, tw, th, &mut tiles_of_tri);
            for &(tx, ty) in &tiles_of_tri {
                let k = (ty * tw + tx) as usize;
                if self.slot[k] == u32::MAX {
                    self.slot[k] = self.tiles.len() as u32;
                    self.tiles.push((tx, ty));
                }
            }
        }
        // Row-major order, then bucket triangles per tile.
        self.tiles.sort_unstable_by_key(|&(tx, ty)| (ty, tx));
        for (i, &(tx, ty)) in self.tiles.iter().enumerate() {
            self.slot[(ty * tw + tx) as usize] = i as u32;
        }
        if self.tile_triangles.len() < self.tiles.len() {
            self.tile_triangles.resize_with(self.tiles.len(), Vec::new);
        }
        for (ti, tri) in self.triangles.iter().enumerate() {
            tiles_of_tri.clear();
            overlapped_tiles(tri, tw, th, &mut tiles_of_tri);
            for &(tx, ty) in &tiles_of_tri {
                let s = self.slot[(ty * tw + tx) as usize] as usize;
                self.tile_triangles[s].push(ti as u32);
            }
        }
    }
}

/// Tiles (within the frame's tile grid) whose pixel-centre rectangle a triangle overlaps,
/// by a separating-axis test (tile edges and triangle edges).
fn overlapped_tiles(tri: &Triangle, tw: u32, th: u32, out: &mut Vec<(u32, u32)>) {
    let xs = tri.p.map(|p| p[0]);
    let ys = tri.p.map(|p| p[1]);
    let min = |a: [f64; 3]| a.iter().copied().fold(f64::INFINITY, f64::min);
    let max = |a: [f64; 3]| a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let t = f64::from(TILE);
    let (x0, x1, y0, y1) = (min(xs), max(xs), min(ys), max(ys));
    if !(x0.is_finite() && x1.is_finite() && y0.is_finite() && y1.is_finite()) {
        return;
    }
    let clampi = |v: f64, hi: u32| v.clamp(0.0, f64::from(hi) - 1.0) as u32;
    if x1 < -0.5 || y1 < -0.5 || x0 > f64::from(tw) * t || y0 > f64::from(th) * t {
        return;
    }
    let (cx0, cx1) = (clampi((x0 / t).floor(), tw), clampi((x1 / t).floor(), tw));
    let (cy0, cy1) = (clampi((y0 / t).floor(), th), clampi((y1 / t).floor(), th));
    for ty in cy0..=cy1 {
        for tx in cx0..=cx1 {
            // Pixel centres of the tile span [tx*T, tx*T + T - 1]; pad half a pixel.
            let rx0 = f64::from(tx) * t - 0.5;
            let ry0 = f64::from(ty) * t - 0.5;
            let (rx1, ry1) = (rx0 + t, ry0 + t);
            let corners = [[rx0, ry0], [rx1, ry0], [rx1, ry1], [rx0, ry1]];
            let mut separated = false;
            for e in 0..3 {
                let a = tri.p[e];
                let b = tri.p[(e + 1) % 3];
                let c = tri.p[(e + 2) % 3];
                let n = [b[1] - a[1], a[0] - b[0]];
                let side = |p: [f64; 2]| n[0] * (p[0] - a[0]) + n[1] * (p[1] - a[1]);
                let sc = side(c);
                if sc == 0.0 {
                    continue;
                }
                if corners.iter().all(|&q| side(q) * sc < 0.0) {
                    separated = true;
                    break;
                }
            }
            if !separated {
                out.push((tx, ty));
            }
        }
    }
}

/// Number of atlas rows needed for `tiles` cells.
pub fn atlas_rows(tiles: usize) -> u32 {
    (tiles as u32).div_ceil(ATLAS_COLS).max(1)
}

/// Atlas width in pixels.
pub const ATLAS_WIDTH: u32 = ATLAS_COLS * CELL;

/// CPU copy of the tile atlas; grows to the largest tile count seen, never shrinks.
#[derive(Debug, Default)]
pub struct TileAtlas {
    /// 4-byte pixels (RGBA8, or packed 10-bit codes for a 10-bit frame), `ATLAS_WIDTH * 4`
    /// bytes per row.
    pub data: Vec<u8>,
    /// Cells in use this frame.
    pub used: usize,
}

impl TileAtlas {
    /// Bytes per atlas row.
    pub const STRIDE: usize = (ATLAS_WIDTH * 4) as usize;

    /// Atlas pixel of cell `i`'s top-left halo corner.
    #[inline]
    pub fn cell_origin(i: usize) -> (u32, u32) {
        let i = i as u32;
        ((i % ATLAS_COLS) * CELL, (i / ATLAS_COLS) * CELL)
    }

    /// Makes room for `tiles` cells.
    pub fn reserve(&mut self, tiles: usize) {
        let need = atlas_rows(tiles) as usize * CELL as usize * Self::STRIDE;
        if self.data.len() < need {
            self.data.resize(need, 0);
        }
        self.used = tiles;
    }

    /// Copies each planned tile (plus halo, edge pixels repeated past the frame border) into
    /// its cell, converting to the frame's native RGB or YCbCr components (10-bit codes for a
    /// 10-bit frame); bands of atlas rows are shared out over `crew`.
    pub fn gather(&mut self, frame: &FrameRef<'_>, plan: &TilePlan, crew: &Crew) {
        self.reserve(plan.tiles.len());
        let tiles = &plan.tiles;
        let rows = atlas_rows(tiles.len()) as usize * CELL as usize;
        let bands = self.data[..rows * Self::STRIDE].chunks_mut(GATHER_BAND_ROWS * Self::STRIDE);
        let read = if frame.layout.format.bit_depth() == 10 {
            ten_bit::read_row
        } else {
            read_row
        };
        crew.run(bands.enumerate(), |(band, chunk)| {
            for (k, line) in chunk.chunks_exact_mut(Self::STRIDE).enumerate() {
                let row = band * GATHER_BAND_ROWS + k;
                let (cell_row, cy) = (row / CELL as usize, row % CELL as usize);
                let first = cell_row * ATLAS_COLS as usize;
                for (i, &(tx, ty)) in tiles
                    .iter()
                    .enumerate()
                    .skip(first)
                    .take(ATLAS_COLS as usize)
                {
                    let ox = Self::cell_origin(i).0 as usize;
                    let fx0 = i64::from(tx * TILE) - i64::from(HALO);
                    let fy = i64::from(ty * TILE) + cy as i64 - i64::from(HALO);
                    read(frame, fx0, fy, &mut line[ox * 4..(ox + CELL as usize) * 4]);
                }
            }
        });
    }
}

/// Atlas rows one crew member gathers at a time (a quarter of a cell row).
const GATHER_BAND_ROWS: usize = CELL as usize / 4;

/// Writes each planned tile's interior from an atlas copy (e.g. a mapped GPU readback buffer of
/// `TileAtlas::STRIDE` bytes per row) back into the frame. YUV chroma takes the mean of the
/// pixels sharing its site (exactly the blend with their mean alpha). RGB frames are written
/// a row of tiles per crew member.
pub fn scatter_from(data: &[u8], frame: &mut FrameMut<'_>, plan: &TilePlan, crew: &Crew) {
    let layout = frame.layout;
    if let Some(swap) = layout.format.rgb_offsets().and_then(byte_swap) {
        let plane = layout.planes[0];
        let (w, h) = (layout.width, layout.height);
        let band_bytes = plane.stride * TILE as usize;
        let end = (plane.offset + plane.stride * h as usize).min(frame.data.len());
        let bands = frame.data[plane.offset..end].chunks_mut(band_bytes);
        crew.run(bands.enumerate(), |(band, dst)| {
            for (i, &(tx, ty)) in plan.tiles.iter().enumerate() {
                if ty as usize != band {
                    continue;
                }
                let (ox, oy) = TileAtlas::cell_origin(i);
                let n = ((tx * TILE + TILE).min(w) - tx * TILE) as usize;
                let rows = ((ty * TILE + TILE).min(h) - ty * TILE) as usize;
                for r in 0..rows {
                    let at = (oy + HALO) as usize * TileAtlas::STRIDE
                        + r * TileAtlas::STRIDE
                        + (ox + HALO) as usize * 4;
                    let src = &data[at..at + n * 4];
                    let o = r * plane.stride + (tx * TILE) as usize * 4;
                    // Whole 32-bit pixels: R, G, B in the frame's order, its fourth byte kept.
                    for (d, s) in dst[o..o + n * 4]
                        .chunks_exact_mut(4)
                        .zip(src.chunks_exact(4))
                    {
                        let old = u32::from_le_bytes([d[0], d[1], d[2], d[3]]);
                        let px = swap_rb(u32::from_le_bytes([s[0], s[1], s[2], s[3]]), swap);
                        d.copy_from_slice(
                            &((old & 0xFF00_0000) | (px & 0x00FF_FFFF)).to_le_bytes(),
                        );
                    }
                }
            }
        });
        return;
    }
    scatter_yuv(data, frame, plan, crew);
}

/// What one crew member writes of a YUV frame in [`scatter_from`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum YuvShare {
    /// Nothing (a plane the format does not have).
    #[default]
    None,
    /// A 4:2:0 luma plane.
    Luma,
    /// A 4:2:0 chroma plane of one component (1 = Cb, 2 = Cr).
    Chroma(usize),
    /// A 4:2:0 plane of interleaved Cb, Cr.
    ChromaPairs,
    /// A band of a packed 4:2:2 (U Y V Y) plane holding tile row `ty`.
    Packed(u32),
    /// A 16-bit luma plane of a 10-bit frame.
    Luma10,
    /// A 16-bit chroma plane of a 10-bit frame: one component (1 = Cb, 2 = Cr), or 0 for
    /// interleaved Cb, Cr (P010).
    Chroma10(usize),
    /// A band of a v210 plane holding tile row `ty`.
    V210(u32),
}

/// [`scatter_from`] for YUV frames (8- or 10-bit): the planes (planar layouts) or bands of tile
/// rows (packed 4:2:2: UYVY, v210) shared out over `crew`. Chroma takes the mean of the pixels
/// sharing its site.
fn scatter_yuv(data: &[u8], frame: &mut FrameMut<'_>, plan: &TilePlan, crew: &Crew) {
    let layout = frame.layout;
    let (w, h) = (layout.width as usize, layout.height as usize);
    let [p0, p1, p2] = layout.planes;
    let write = |share: YuvShare, dst: &mut [u8], stride: usize| {
        if ten_bit::is_ten_bit(share) {
            let size = (layout.format, w as u32, h as u32);
            ten_bit::write_share(data, plan, size, share, dst, stride);
        } else {
            write_yuv_share(data, plan, (w as u32, h as u32), share, dst, stride);
        }
    };
    let packed = match layout.format {
        PixelFormat::Uyvy => Some(YuvShare::Packed as fn(u32) -> YuvShare),
        PixelFormat::V210 => Some(YuvShare::V210 as fn(u32) -> YuvShare),
        _ => None,
    };
    if let Some(share) = packed {
        let bands = frame.data[p0.offset..].chunks_mut(p0.stride * TILE as usize);
        crew.run(bands.enumerate(), |(band, dst)| {
            write(share(band as u32), dst, p0.stride);
        });
        return;
    }
    // Each plane's bytes (offset, length) and share, in buffer order.
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let extent = |p: Plane, rows: usize, bytes: usize| (p.offset, (rows - 1) * p.stride + bytes);
    let mut planes = match layout.format {
        PixelFormat::I420 => [
            (extent(p0, h, w), YuvShare::Luma, p0.stride),
            (extent(p1, ch, cw), YuvShare::Chroma(1), p1.stride),
            (extent(p2, ch, cw), YuvShare::Chroma(2), p2.stride),
        ],
        PixelFormat::Nv12 => [
            (extent(p0, h, w), YuvShare::Luma, p0.stride),
            (extent(p1, ch, 2 * cw), YuvShare::ChromaPairs, p1.stride),
            ((usize::MAX, 0), YuvShare::None, 0),
        ],
        PixelFormat::P010 => [
            (extent(p0, h, 2 * w), YuvShare::Luma10, p0.stride),
            (extent(p1, ch, 4 * cw), YuvShare::Chroma10(0), p1.stride),
            ((usize::MAX, 0), YuvShare::None, 0),
        ],
        PixelFormat::I420_10 | PixelFormat::I422_10 => {
            let rows = if layout.format == PixelFormat::I420_10 {
                ch
            } else {
                h
            };
            [
                (extent(p0, h, 2 * w), YuvShare::Luma10, p0.stride),
                (extent(p1, rows, 2 * cw), YuvShare::Chroma10(1), p1.stride),
                (extent(p2, rows, 2 * cw), YuvShare::Chroma10(2), p2.stride),
            ]
        }
        _ => return,
    };
    planes.sort_by_key(|((offset, _), ..)| *offset);
    let len = frame.data.len();
    let used = planes
        .iter()
        .filter(|(_, share, _)| *share != YuvShare::None);
    if used
        .clone()
        .any(|&((offset, bytes), ..)| offset + bytes > len)
    {
        return;
    }
    let disjoint = used
        .clone()
        .zip(used.skip(1))
        .all(|(((a, bytes), ..), ((b, _), ..))| a + bytes <= *b);
    if !disjoint {
        // Planes whose rows interleave (U and V halves of the same rows): no plane can be
        // split off, so the planes are written one after the other.
        for ((offset, _), share, stride) in planes {
            if share != YuvShare::None {
                write(share, &mut frame.data[offset..], stride);
            }
        }
        return;
    }
    // Split the buffer into the planes' own slices, written side by side.
    let mut rest: &mut [u8] = frame.data;
    let mut consumed = 0;
    let mut shares: [(&mut [u8], YuvShare, usize); 3] = Default::default();
    for (slot, ((offset, len), share, stride)) in shares.iter_mut().zip(planes) {
        if share == YuvShare::None {
            continue;
        }
        let tail = std::mem::take(&mut rest);
        let (plane, tail) = tail[offset - consumed..].split_at_mut(len);
        *slot = (plane, share, stride);
        rest = tail;
        consumed = offset + len;
    }
    crew.run(shares.into_iter(), |(dst, share, stride)| {
        write(share, dst, stride);
    });
}

/// Writes `share` of every planned tile from the atlas `data` into `dst`, a plane (rows from 0)
/// or, for [`YuvShare::Packed`], the band of rows of its tile row.
fn write_yuv_share(
    data: &[u8],
    plan: &TilePlan,
    (w, h): (u32, u32),
    share: YuvShare,
    dst: &mut [u8],
    stride: usize,
) {
    let sy = if matches!(share, YuvShare::Packed(_)) {
        1
    } else {
        2
    };
    for (i, &(tx, ty)) in plan.tiles.iter().enumerate() {
        let band_row0 = match share {
            YuvShare::None | YuvShare::Luma10 | YuvShare::Chroma10(_) | YuvShare::V210(_) => {
                return;
            }
            YuvShare::Packed(band) if band != ty => continue,
            YuvShare::Packed(_) => (ty * TILE) as usize,
            _ => 0,
        };
        let (ox, oy) = TileAtlas::cell_origin(i);
        let (x0, y0) = (tx * TILE, ty * TILE);
        let (x1, y1) = ((x0 + TILE).min(w), (y0 + TILE).min(h));
        let at = |fx: u32, fy: u32| {
            (oy + HALO + fy - y0) as usize * TileAtlas::STRIDE + (ox + HALO + fx - x0) as usize * 4
        };
        // Mean of component `c` over the pixels of the chroma site at (fx, fy).
        let mean = |fx: u32, fy: u32, c: usize| {
            let (mut sum, mut n) = (0u32, 0u32);
            for yy in fy..(fy + sy).min(h) {
                for xx in fx..(fx + 2).min(w) {
                    sum += u32::from(data[at(xx, yy) + c]);
                    n += 1;
                }
            }
            ((sum + n / 2) / n) as u8
        };
        match share {
            YuvShare::Luma => {
                let n = (x1 - x0) as usize;
                for fy in y0..y1 {
                    let src = &data[at(x0, fy)..][..n * 4];
                    let row = &mut dst[fy as usize * stride + x0 as usize..][..n];
                    for (d, s) in row.iter_mut().zip(src.chunks_exact(4)) {
                        *d = s[0];
                    }
                }
            }
            YuvShare::Chroma(_) | YuvShare::ChromaPairs => {
                // Whole 2x2 sites from two atlas rows at once; sites cut by the frame's right
                // or bottom edge through `mean`.
                let (comps, step) = match share {
                    YuvShare::Chroma(c) => ([c, c], 1),
                    _ => ([1, 2], 2),
                };
                let whole = ((x1 - x0) / 2) as usize;
                for fy in (y0..y1).step_by(2) {
                    let row = &mut dst[(fy / 2) as usize * stride + (x0 / 2) as usize * step..];
                    let sites = whole * step;
                    if fy + 1 < h {
                        let a = &data[at(x0, fy)..][..whole * 8];
                        let b = &data[at(x0, fy + 1)..][..whole * 8];
                        for (k, (pa, pb)) in a.chunks_exact(8).zip(b.chunks_exact(8)).enumerate() {
                            for (j, &c) in comps.iter().enumerate().take(step) {
                                let sum = u32::from(pa[c])
                                    + u32::from(pa[4 + c])
                                    + u32::from(pb[c])
                                    + u32::from(pb[4 + c]);
                                row[k * step + j] = ((sum + 2) / 4) as u8;
                            }
                        }
                    }
                    let first = if fy + 1 < h { sites / step } else { 0 };
                    for k in first..((x1 - x0).div_ceil(2) as usize) {
                        let fx = x0 + 2 * k as u32;
                        for (j, &c) in comps.iter().enumerate().take(step) {
                            row[k * step + j] = mean(fx, fy, c);
                        }
                    }
                }
            }
            YuvShare::Packed(_) => {
                let whole = ((x1 - x0) / 2) as usize;
                for fy in y0..y1 {
                    let row = &mut dst[(fy as usize - band_row0) * stride + x0 as usize * 2..];
                    let src = &data[at(x0, fy)..][..whole * 8];
                    for (site, p) in row.chunks_exact_mut(4).zip(src.chunks_exact(8)) {
                        let mean2 =
                            |c: usize| (u32::from(p[c]) + u32::from(p[4 + c])).div_ceil(2) as u8;
                        site.copy_from_slice(&[mean2(1), p[0], mean2(2), p[4]]);
                    }
                    // A last site cut by the frame's right edge holds one pixel.
                    if (x1 - x0) % 2 == 1 {
                        let fx = x1 - 1;
                        let site = &mut row[whole * 4..];
                        site[0] = mean(fx, fy, 1);
                        site[1] = data[at(fx, fy)];
                        site[2] = mean(fx, fy, 2);
                    }
                }
            }
            YuvShare::None | YuvShare::Luma10 | YuvShare::Chroma10(_) | YuvShare::V210(_) => {
                return;
            }
        }
    }
}

/// Reads `out.len() / 4` pixels of frame row `fy` from column `fx0` on into RGBA8 cells in the
/// frame's native components (alpha 255); rows and columns past the border repeat the edge.
fn read_row(frame: &FrameRef<'_>, fx0: i64, fy: i64, out: &mut [u8]) {
    let layout = frame.layout;
    let (w, h) = (i64::from(layout.width), i64::from(layout.height));
    let y = fy.clamp(0, h - 1) as u32;
    let n = (out.len() / 4) as i64;
    let (a, b) = (fx0.max(0), (fx0 + n).min(w));
    let swap = layout.format.rgb_offsets().and_then(byte_swap);
    if let (Some(swap), true) = (swap, a < b) {
        // Interior run as whole 32-bit pixels; the edge pixels past the border below.
        let src = &frame.data[rgb_index(layout, a as u32, y)..][..(b - a) as usize * 4];
        let dst = &mut out[(a - fx0) as usize * 4..(b - fx0) as usize * 4];
        for (d, s) in dst.chunks_exact_mut(4).zip(src.chunks_exact(4)) {
            let px = u32::from_le_bytes([s[0], s[1], s[2], s[3]]);
            d.copy_from_slice(&(swap_rb(px, swap) | 0xFF00_0000).to_le_bytes());
        }
        for k in (0..n).filter(|&k| fx0 + k < a || fx0 + k >= b) {
            let px = read_native(frame, (fx0 + k).clamp(0, w - 1) as u32, y);
            out[k as usize * 4..k as usize * 4 + 4].copy_from_slice(&[px[0], px[1], px[2], 255]);
        }
        return;
    }
    for_native_run(frame, fx0, y, out.len() / 4, |k, px| {
        out[k * 4..k * 4 + 4].copy_from_slice(&[px[0], px[1], px[2], 255]);
    });
}

/// Whether R, G, B at byte offsets `offs` of a 32-bit pixel are the atlas's order swapped
/// (B, G, R), not (R, G, B); `None` for any other order.
fn byte_swap(offs: [usize; 3]) -> Option<bool> {
    match offs {
        [0, 1, 2] => Some(false),
        [2, 1, 0] => Some(true),
        _ => None,
    }
}

/// A 32-bit little-endian RGB pixel with its first and third bytes exchanged when `swap` (BGR
/// byte order to RGB and back).
#[inline]
fn swap_rb(px: u32, swap: bool) -> u32 {
    if swap {
        (px & 0xFF00_FF00) | ((px & 0xFF) << 16) | ((px >> 16) & 0xFF)
    } else {
        px
    }
}

/// Native components (see [`read_native`]) of `out.len()` pixels of frame row `fy` from column
/// `fx0` on; columns past the border repeat the edge.
#[inline]
pub(crate) fn read_native_run(frame: &FrameRef<'_>, fx0: i64, fy: u32, out: &mut [[u8; 3]]) {
    for_native_run(frame, fx0, fy, out.len(), |k, px| out[k] = px);
}

/// The 10-bit Y, Cb, Cr codes of `out.len()` pixels of row `fy` of a 10-bit YUV frame from
/// column `fx0` on; columns past the border repeat the edge.
#[inline]
pub(crate) fn read_native_run10(frame: &FrameRef<'_>, fx0: i64, fy: u32, out: &mut [[u16; 3]]) {
    let w = i64::from(frame.layout.width);
    for (x, o) in (fx0..).zip(out.iter_mut()) {
        *o = frame
            .codes(x.clamp(0, w - 1) as u32, fy)
            .unwrap_or_default();
    }
}

/// Calls `put(k, pixel)` for the `n` pixels of row `y` from column `fx0` on (clamped to the
/// frame), in the frame's native components. RGB rows are read as one slice.
#[inline]
fn for_native_run(
    frame: &FrameRef<'_>,
    fx0: i64,
    y: u32,
    n: usize,
    mut put: impl FnMut(usize, [u8; 3]),
) {
    let layout = frame.layout;
    let w = i64::from(layout.width);
    let n = n as i64;
    let clamp_x = |x: i64| x.clamp(0, w - 1) as u32;
    if let Some(offs) = layout.format.rgb_offsets() {
        // Interior run first, as one slice; edge pixels one by one.
        let (a, b) = (fx0.max(0), (fx0 + n).min(w));
        if a < b {
            let src = &frame.data[rgb_index(layout, a as u32, y)..][..(b - a) as usize * 4];
            let k0 = (a - fx0) as usize;
            for (k, s) in src.chunks_exact(4).enumerate() {
                put(k0 + k, [s[offs[0]], s[offs[1]], s[offs[2]]]);
            }
        }
        for k in (0..n).filter(|&k| fx0 + k < a || fx0 + k >= b) {
            put(k as usize, read_native(frame, clamp_x(fx0 + k), y));
        }
        return;
    }
    for k in 0..n {
        put(k as usize, read_native(frame, clamp_x(fx0 + k), y));
    }
}

/// Native components of a frame pixel: RGB for the RGB formats, YCbCr for YUV.
#[inline]
pub(crate) fn read_native(frame: &FrameRef<'_>, x: u32, y: u32) -> [u8; 3] {
    let layout = frame.layout;
    if let Some(o) = layout.format.rgb_offsets() {
        let i = rgb_index(layout, x, y);
        [
            frame.data[i + o[0]],
            frame.data[i + o[1]],
            frame.data[i + o[2]],
        ]
    } else {
        frame.ycbcr(x, y)
    }
}

#[cfg(test)]
mod tests {
    use yardline_frame::PixelFormat;

    use super::{byte_swap, swap_rb};

    /// Every RGB format's byte order is one the whole-pixel copies handle (scatter has no
    /// other path for RGB).
    #[test]
    fn every_rgb_format_copies_as_whole_pixels() {
        for format in PixelFormat::ALL {
            if let Some(offs) = format.rgb_offsets() {
                let swap = byte_swap(offs).expect("a handled byte order");
                let frame = [1, 2, 3, 4];
                let atlas = swap_rb(u32::from_le_bytes(frame), swap).to_le_bytes();
                let native = offs.map(|o| frame[o]);
                assert_eq!(atlas[..3], native, "{format}: frame to atlas");
                let back = swap_rb(u32::from_le_bytes(atlas), swap).to_le_bytes();
                assert_eq!(back, frame, "{format}: atlas to frame");
            }
        }
    }
}
