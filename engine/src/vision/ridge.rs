//! A coarse map of thin bright lines in a frame: where painted lines may be, at a few pixels'
//! tolerance, for ranking many candidate poses cheaply before any is measured.

use super::luma::LumaView;

/// Width of the map (cells) a frame is reduced to, about.
const RIDGE_MAP_WIDTH: u32 = 160;
/// Least excess luma of a cell over both cells either side of it (code values): a line.
const RIDGE_MIN_EXCESS: f32 = 8.0;
/// Least excess luma of a line cell over the frame's median cell (code values): paint is
/// brighter than grass, not only brighter than the grass beside it (blades, mown stripes).
const RIDGE_MIN_OVER_MEDIAN: f32 = 15.0;
/// Cell mark: a ridge across a row (a line steeper than flat runs through).
const STEEP: u8 = 1;
/// Cell mark: a ridge across a column (a line flatter than steep runs through).
const FLAT: u8 = 2;
/// Samples per cell side when averaging a cell's luma.
const CELL_SAMPLES: u32 = 3;
/// Half-side of the window over which a cell's local density of marks is taken (cells).
const LOCAL_CELLS: usize = 8;

/// A frame reduced to cells of `scale` x `scale` pixels, each marked when a thin bright line
/// (brighter than the frame's grass and than the cells two or three away on both sides,
/// across its row or across its column: which way is kept) runs through it or through a cell
/// within `dilate` of it.
#[derive(Debug, Clone, Default)]
pub struct RidgeMap {
    width: usize,
    height: usize,
    /// Frame pixels per cell side.
    scale: f64,
    /// Per cell: [`STEEP`] and [`FLAT`] marks on or beside a line.
    cells: Vec<u8>,
    /// Per cell: the share of marked cells around it (0..1): how often a point dropped there
    /// at random would hit a mark.
    local: Vec<f32>,
    /// Scratch: summed-area table of the marked cells.
    sums: Vec<u32>,
    /// Scratch: cell luma.
    luma: Vec<f32>,
    /// Scratch: undilated marks.
    marks: Vec<u8>,
    /// Scratch: the cell lumas the median is taken of.
    sorted: Vec<f32>,
}

impl RidgeMap {
    /// Rebuilds the map from a frame, keeping its buffers; marks spread `dilate` cells each way.
    pub fn rebuild(&mut self, luma: &LumaView<'_>, dilate: usize) {
        let (fw, fh) = (luma.width(), luma.height());
        let scale = (fw / RIDGE_MAP_WIDTH).max(1);
        let (w, h) = ((fw / scale) as usize, (fh / scale) as usize);
        self.width = w;
        self.height = h;
        self.scale = f64::from(scale);
        self.luma.clear();
        self.luma.resize(w * h, 0.0);
        let step = (scale / CELL_SAMPLES).max(1);
        let offset = (scale - step * (CELL_SAMPLES - 1).min(scale - 1)) / 2;
        for cy in 0..h {
            for cx in 0..w {
                let (x0, y0) = (cx as u32 * scale + offset, cy as u32 * scale + offset);
                let (mut sum, mut n) = (0.0_f32, 0.0_f32);
                for j in 0..CELL_SAMPLES.min(scale) {
                    for i in 0..CELL_SAMPLES.min(scale) {
                        let (x, y) = ((x0 + i * step).min(fw - 1), (y0 + j * step).min(fh - 1));
                        sum += luma.at(x, y);
                        n += 1.0;
                    }
                }
                self.luma[cy * w + cx] = sum / n;
            }
        }
        self.marks.clear();
        self.marks.resize(w * h, 0);
        let median = {
            let sorted = &mut self.sorted;
            sorted.clear();
            sorted.extend(self.luma.iter().step_by(7));
            let mid = sorted.len() / 2;
            if sorted.is_empty() {
                0.0
            } else {
                *sorted.select_nth_unstable_by(mid, f32::total_cmp).1
            }
        };
        let at = |x: usize, y: usize| self.luma[y * w + x];
        for y in 0..h {
            for x in 0..w {
                let c = at(x, y);
                if c < median + RIDGE_MIN_OVER_MEDIAN {
                    continue;
                }
                let (mut across_row, mut across_column) = (f32::MIN, f32::MIN);
                for d in [2_usize, 3] {
                    if x >= d && x + d < w {
                        across_row = across_row.max(c - at(x - d, y).max(at(x + d, y)));
                    }
                    if y >= d && y + d < h {
                        across_column = across_column.max(c - at(x, y - d).max(at(x, y + d)));
                    }
                }
                self.marks[y * w + x] = (u8::from(across_row >= RIDGE_MIN_EXCESS) * STEEP)
                    | (u8::from(across_column >= RIDGE_MIN_EXCESS) * FLAT);
            }
        }
        // Dilation by a (2 dilate + 1)^2 square, separably: rows into `cells`, then columns.
        self.cells.clear();
        self.cells.resize(w * h, 0);
        for y in 0..h {
            for x in 0..w {
                let m = self.marks[y * w + x];
                if m != 0 {
                    let (a, b) = (x.saturating_sub(dilate), (x + dilate).min(w - 1));
                    for c in &mut self.cells[y * w + a..=y * w + b] {
                        *c |= m;
                    }
                }
            }
        }
        self.marks.copy_from_slice(&self.cells);
        for y in 0..h {
            for x in 0..w {
                let m = self.marks[y * w + x];
                if m != 0 {
                    for yy in y.saturating_sub(dilate)..=(y + dilate).min(h - 1) {
                        self.cells[yy * w + x] |= m;
                    }
                }
            }
        }
        // Local density: the stands or a crowd of players are busier than grass and paint.
        let sw = w + 1;
        self.sums.clear();
        self.sums.resize(sw * (h + 1), 0);
        for y in 0..h {
            let mut row = 0_u32;
            for x in 0..w {
                row += u32::from(self.cells[y * w + x] != 0);
                self.sums[(y + 1) * sw + x + 1] = self.sums[y * sw + x + 1] + row;
            }
        }
        self.local.clear();
        self.local.resize(w * h, 0.0);
        for y in 0..h {
            let (y0, y1) = (y.saturating_sub(LOCAL_CELLS), (y + LOCAL_CELLS + 1).min(h));
            for x in 0..w {
                let (x0, x1) = (x.saturating_sub(LOCAL_CELLS), (x + LOCAL_CELLS + 1).min(w));
                let n = self.sums[y1 * sw + x1] + self.sums[y0 * sw + x0]
                    - self.sums[y0 * sw + x1]
                    - self.sums[y1 * sw + x0];
                self.local[y * w + x] = n as f32 / ((y1 - y0) * (x1 - x0)) as f32;
            }
        }
    }

    /// Whether a line running along image direction (dx, dy) may pass through frame pixel
    /// (u, v) (a steep line shows as a ridge across a row, a flat one across a column, a
    /// diagonal one as either), and the share of marked cells around it (what a point there
    /// would hit by chance); `None` outside the map.
    #[inline]
    pub fn hit(&self, u: f64, v: f64, dx: f64, dy: f64) -> Option<(bool, f64)> {
        let (x, y) = (u / self.scale + 0.5, v / self.scale + 0.5);
        if !(x >= 0.0 && y >= 0.0) {
            return None;
        }
        let (x, y) = (x as usize, y as usize);
        if x >= self.width || y >= self.height {
            return None;
        }
        let want = (u8::from(dy.abs() >= 0.5 * dx.abs()) * STEEP)
            | (u8::from(dx.abs() >= 0.5 * dy.abs()) * FLAT);
        let i = y * self.width + x;
        Some((self.cells[i] & want != 0, f64::from(self.local[i])))
    }

    /// Share of cells marked (0..1): how busy the frame is.
    #[cfg(test)]
    fn density(&self) -> f64 {
        if self.cells.is_empty() {
            return 0.0;
        }
        self.cells.iter().filter(|&&c| c != 0).count() as f64 / self.cells.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yardline_frame::{FrameLayout, FrameRef, PixelFormat};

    #[test]
    fn a_thin_line_is_marked_and_flat_grass_is_not() {
        let (w, h) = (640_u32, 360_u32);
        let layout = FrameLayout::packed(PixelFormat::Rgba, w, h).expect("layout");
        let mut data = vec![0_u8; layout.size];
        for y in 0..h {
            for x in 0..w {
                let i = (y * w + x) as usize * 4;
                // A slanted 3-pixel white line and a flat one (row 300, right half) on green.
                let on = (f64::from(x) - 200.0 - 0.1 * f64::from(y)).abs() < 1.5
                    || (x > 400 && (f64::from(y) - 300.0).abs() < 1.5);
                let px = if on {
                    [235, 235, 235, 255]
                } else {
                    [40, 110, 40, 255]
                };
                data[i..i + 4].copy_from_slice(&px);
            }
        }
        let frame = FrameRef::new(&layout, &data).expect("frame");
        let mut map = RidgeMap::default();
        map.rebuild(&LumaView::new(frame), 1);
        for y in (20..340).step_by(20) {
            let u = 200.0 + 0.1 * f64::from(y);
            let v = f64::from(y);
            assert_eq!(
                map.hit(u, v, 0.1, 1.0).map(|h| h.0),
                Some(true),
                "on the line at row {y}"
            );
            assert_eq!(
                map.hit(u + 40.0, v, 0.1, 1.0).map(|h| h.0),
                Some(false),
                "beside it at row {y}"
            );
        }
        for x in (440..620).step_by(20) {
            let u = f64::from(x);
            assert_eq!(
                map.hit(u, 300.0, 1.0, 0.0).map(|h| h.0),
                Some(true),
                "the flat line at {x}"
            );
            assert_eq!(
                map.hit(u, 300.0, 0.0, 1.0).map(|h| h.0),
                Some(false),
                "no steep line at {x}"
            );
        }
        assert_eq!(map.hit(-5.0, 10.0, 0.0, 1.0), None);
        assert!(map.density() < 0.1, "{}", map.density());
        // Beside the steep line the map is busier than far from both lines.
        let near = map.hit(210.0, 100.0, 0.1, 1.0).map_or(0.0, |h| h.1);
        let far = map.hit(600.0, 100.0, 0.1, 1.0).map_or(1.0, |h| h.1);
        assert!(
            near > 0.1 && far < 0.01,
            "local density {near} near, {far} far"
        );
    }
}
