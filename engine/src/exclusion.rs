//! Image-space exclusions: parts of the picture the graphics never cover (a burned-in score
//! bug, a network bug, a ticker, a region the operator draws). The shapes are
//! [`yardline_keying::Exclusion`]s in normalised image coordinates (`key.toml`'s
//! `[[exclusion]]`, the element's `exclusions` property, the operator app's tool).
//!
//! How they apply: after the graphics step, before the compositor runs, the bytes of the
//! excluded pixels that the lines could touch are saved; after it, they are written back.
//! Alpha is therefore exactly 0 inside, whatever compositor ran (CPU or GPU, and the CPU
//! fallback of a GPU fault): both agree by construction, and nothing of the keyer or the
//! compositors changes.
//!
//! The edge is hard: a pixel is excluded when its centre lies in a shape (see
//! [`yardline_keying::exclusion`]); the exclusion is rounded outward to the frame format's
//! smallest self-contained block of pixels (1x1 for the RGB family, 2x2 for 4:2:0, 2x1 for
//! UYVY and 4:2:2, 6x1 for v210), so no chroma sample mixes drawn and excluded pixels. A
//! shape reaching outside the frame is clipped to it.
//!
//! Costs: the pixel mask is built once per frame size, format and list of shapes; per frame,
//! the excluded bytes inside the lines' bounding box are copied out and back (no allocation
//! once the buffer has grown to its largest).

use yardline_frame::{FillKeyMut, FrameLayout, FrameMut, PixelFormat};
use yardline_keying::{Exclusion, ExclusionShape};

use crate::render::PreparedLine;

/// Pixels the lines' bounding box is widened by on every side (the compositors' anti-aliased
/// edge and the key's neighbourhood never reach further than the strip's pixels plus this).
const BOUNDS_MARGIN_PX: f64 = 2.0;

/// One run of excluded blocks: block row `y0..y0 + block height`, pixel columns `x0..x1`
/// (block-aligned, `x1` clipped to the frame width).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    y0: u32,
    x0: u32,
    x1: u32,
}

/// Where a plane's bytes of a pixel lie: plane column `x / x_div` holds `unit_bytes` bytes,
/// plane row `y / y_div`.
#[derive(Debug, Clone, Copy)]
struct PlaneUnit {
    x_div: u32,
    y_div: u32,
    unit_bytes: usize,
}

/// The planes' units of a format.
fn plane_units(format: PixelFormat) -> ([PlaneUnit; 3], usize) {
    let u = |x_div, y_div, unit_bytes| PlaneUnit {
        x_div,
        y_div,
        unit_bytes,
    };
    let none = u(1, 1, 0);
    match format {
        PixelFormat::Rgba | PixelFormat::Bgra | PixelFormat::Rgbx | PixelFormat::Bgrx => {
            ([u(1, 1, 4), none, none], 1)
        }
        PixelFormat::I420 => ([u(1, 1, 1), u(2, 2, 1), u(2, 2, 1)], 3),
        PixelFormat::Nv12 => ([u(1, 1, 1), u(2, 2, 2), none], 2),
        PixelFormat::Uyvy => ([u(2, 1, 4), none, none], 1),
        PixelFormat::V210 => ([u(6, 1, 16), none, none], 1),
        PixelFormat::P010 => ([u(1, 1, 2), u(2, 2, 4), none], 2),
        PixelFormat::I420_10 => ([u(1, 1, 2), u(2, 2, 2), u(2, 2, 2)], 3),
        PixelFormat::I422_10 => ([u(1, 1, 2), u(2, 1, 2), u(2, 1, 2)], 3),
    }
}

/// The excluded pixels of a frame as a boolean mask (row-major, `width * height`).
pub fn pixel_mask(shapes: &[Exclusion], width: u32, height: u32) -> Vec<bool> {
    let (w, h) = (width as usize, height as usize);
    let mut mask = vec![false; w * h];
    let mut crossings = Vec::new();
    for r in 0..h {
        let v = (r as f64 + 0.5) / h as f64;
        let row = &mut mask[r * w..(r + 1) * w];
        for e in shapes {
            let mut fill = |ua: f64, ub: f64| {
                // Columns whose centre u = (c + 0.5) / w lies in [ua, ub).
                let first = (ua * w as f64 - 0.5).ceil().max(0.0);
                let end = (ub * w as f64 - 0.5).ceil().min(w as f64);
                if first < end {
                    row[first as usize..end as usize].fill(true);
                }
            };
            match &e.shape {
                ExclusionShape::Rect([u0, v0, u1, v1]) => {
                    if (*v0..*v1).contains(&v) {
                        fill(*u0, *u1);
                    }
                }
                ExclusionShape::Polygon(p) => {
                    crossings.clear();
                    let mut j = p.len() - 1;
                    for i in 0..p.len() {
                        let ([ui, vi], [uj, vj]) = (p[i], p[j]);
                        if (vi > v) != (vj > v) {
                            crossings.push((uj - ui) * (v - vi) / (vj - vi) + ui);
                        }
                        j = i;
                    }
                    crossings.sort_by(f64::total_cmp);
                    for pair in crossings.chunks_exact(2) {
                        fill(pair[0], pair[1]);
                    }
                }
            }
        }
    }
    mask
}

/// The engine's exclusions: the shapes, their block runs for the frame layout in use and the
/// bytes saved before the compositor ran.
#[derive(Debug, Default)]
pub struct Exclusions {
    shapes: Vec<Exclusion>,
    /// (format, width, height) the runs were built for.
    built_for: Option<(PixelFormat, u32, u32)>,
    runs: Vec<Run>,
    saved: Vec<u8>,
    /// Whether `saved` holds this frame's bytes (set by `save`, cleared by `restore`).
    pending: bool,
    /// Rows and columns of the lines' bounding box saved this frame (pixels, inclusive
    /// start, exclusive end).
    window: [u32; 4],
}

impl Exclusions {
    /// The shapes in use.
    pub fn shapes(&self) -> &[Exclusion] {
        &self.shapes
    }

    /// Replaces the shapes (already validated: [`Exclusion::validate`]).
    pub fn set(&mut self, shapes: Vec<Exclusion>) {
        if shapes != self.shapes {
            self.shapes = shapes;
            self.built_for = None;
        }
    }

    fn build(&mut self, layout: &FrameLayout) {
        let key = (layout.format, layout.width, layout.height);
        if self.built_for == Some(key) {
            return;
        }
        self.built_for = Some(key);
        self.runs.clear();
        if self.shapes.is_empty() {
            return;
        }
        let (units, planes) = plane_units(layout.format);
        let bw = units[..planes].iter().map(|p| p.x_div).max().unwrap_or(1);
        let bh = units[..planes].iter().map(|p| p.y_div).max().unwrap_or(1);
        let (w, h) = (layout.width, layout.height);
        let mask = pixel_mask(&self.shapes, w, h);
        let mut blocks = vec![false; w.div_ceil(bw) as usize];
        for y0 in (0..h).step_by(bh as usize) {
            blocks.fill(false);
            for r in y0..(y0 + bh).min(h) {
                let row = &mask[(r * w) as usize..((r + 1) * w) as usize];
                for (c, _) in row.iter().enumerate().filter(|(_, m)| **m) {
                    blocks[c / bw as usize] = true;
                }
            }
            let mut b = 0;
            while b < blocks.len() {
                if !blocks[b] {
                    b += 1;
                    continue;
                }
                let start = b;
                while b < blocks.len() && blocks[b] {
                    b += 1;
                }
                self.runs.push(Run {
                    y0,
                    x0: start as u32 * bw,
                    x1: (b as u32 * bw).min(w),
                });
            }
        }
    }

    /// Calls `f` with each byte range of the excluded blocks inside `window`, in a fixed
    /// order.
    fn for_each_range(&self, layout: &FrameLayout, mut f: impl FnMut(std::ops::Range<usize>)) {
        let (units, planes) = plane_units(layout.format);
        let bh = units[..planes].iter().map(|p| p.y_div).max().unwrap_or(1);
        let bw = units[..planes].iter().map(|p| p.x_div).max().unwrap_or(1);
        let [wx0, wy0, wx1, wy1] = self.window;
        for run in &self.runs {
            if run.y0 + bh <= wy0 || run.y0 >= wy1 || run.x1 <= wx0 || run.x0 >= wx1 {
                continue;
            }
            // The window's columns, widened to whole blocks.
            let x0 = run.x0.max(wx0 / bw * bw);
            let x1 = run.x1.min(wx1.div_ceil(bw) * bw).min(layout.width);
            let y1 = (run.y0 + bh).min(layout.height);
            for (unit, plane) in units[..planes].iter().zip(&layout.planes) {
                let rows = run.y0 / unit.y_div..y1.div_ceil(unit.y_div);
                let cols = (x0 / unit.x_div) as usize * unit.unit_bytes
                    ..x1.div_ceil(unit.x_div) as usize * unit.unit_bytes;
                for r in rows {
                    let start = plane.offset + r as usize * plane.stride;
                    f(start + cols.start..start + cols.end);
                }
            }
        }
    }

    /// Before the compositor: saves the excluded bytes the lines could touch.
    pub fn save(&mut self, frame: &FrameMut<'_>, lines: &[PreparedLine]) {
        self.pending = false;
        if self.shapes.is_empty() {
            return;
        }
        self.build(frame.layout);
        let Some(window) = lines_window(lines, frame.layout.width, frame.layout.height) else {
            return;
        };
        self.window = window;
        let mut saved = std::mem::take(&mut self.saved);
        saved.clear();
        let data = &*frame.data;
        self.for_each_range(frame.layout, |range| {
            saved.extend_from_slice(&data[range]);
        });
        self.saved = saved;
        self.pending = true;
    }

    /// After the compositor: writes the saved bytes back, so nothing inside an exclusion
    /// changed.
    pub fn restore(&mut self, frame: &mut FrameMut<'_>) {
        if !std::mem::take(&mut self.pending) {
            return;
        }
        let saved = std::mem::take(&mut self.saved);
        let mut at = 0;
        let data = &mut *frame.data;
        self.for_each_range(frame.layout, |range| {
            let n = range.len();
            data[range].copy_from_slice(&saved[at..at + n]);
            at += n;
        });
        self.saved = saved;
    }
}

impl Exclusions {
    /// Fill and key, after the compositor wrote `out` from a frame of `layout`: the excluded
    /// pixels the lines can touch become transparent, as the program keeps the input there.
    pub fn clear_fill_key(
        &mut self,
        layout: &FrameLayout,
        out: &mut FillKeyMut<'_>,
        lines: &[PreparedLine],
    ) {
        if self.shapes.is_empty() {
            return;
        }
        self.build(layout);
        let Some([wx0, wy0, wx1, wy1]) = lines_window(lines, layout.width, layout.height) else {
            return;
        };
        let (units, planes) = plane_units(layout.format);
        let bh = units[..planes].iter().map(|p| p.y_div).max().unwrap_or(1);
        let (w, h) = (out.width.min(wx1), out.height.min(wy1));
        for run in &self.runs {
            for y in run.y0.max(wy0)..(run.y0 + bh).min(h) {
                for x in run.x0.max(wx0)..run.x1.min(w) {
                    out.put(x, y, [0.0; 3], 0.0);
                }
            }
        }
    }
}

/// The pixels the lines can touch: their vertices' bounding box widened by
/// [`BOUNDS_MARGIN_PX`], clipped to the frame (`[x0, y0, x1, y1)`), or `None` when nothing
/// is drawn.
fn lines_window(lines: &[PreparedLine], width: u32, height: u32) -> Option<[u32; 4]> {
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for run in lines.iter().flat_map(|l| &l.mesh.runs) {
        if let Some([x0, y0, x1, y1]) = run.bounds() {
            b = [b[0].min(x0), b[1].min(y0), b[2].max(x1), b[3].max(y1)];
        }
    }
    if !(b[0] <= b[2] && b[1] <= b[3]) {
        return None;
    }
    let clamp = |v: f64, n: u32| v.clamp(0.0, f64::from(n)) as u32;
    let window = [
        clamp((b[0] - BOUNDS_MARGIN_PX).floor(), width),
        clamp((b[1] - BOUNDS_MARGIN_PX).floor(), height),
        clamp((b[2] + BOUNDS_MARGIN_PX).ceil() + 1.0, width),
        clamp((b[3] + BOUNDS_MARGIN_PX).ceil() + 1.0, height),
    ];
    (window[0] < window[2] && window[1] < window[3]).then_some(window)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixel_centres_decide_and_shapes_outside_are_clipped() {
        let shapes = [
            Exclusion::rect("", [0.5, 0.5, 2.0, 2.0]),
            Exclusion::polygon(
                "",
                vec![[-1.0, -1.0], [0.25, -1.0], [0.25, 0.25], [-1.0, 0.25]],
            ),
        ];
        let m = pixel_mask(&shapes, 8, 4);
        let rows: Vec<String> = m
            .chunks(8)
            .map(|r| r.iter().map(|&b| if b { '#' } else { '.' }).collect())
            .collect();
        assert_eq!(rows, ["##......", "........", "....####", "....####"]);
    }

    #[test]
    fn blocks_round_outward_per_format() {
        let shapes = vec![Exclusion::rect("", [0.0, 0.0, 0.3, 0.3])];
        for (format, bw, bh) in [
            (PixelFormat::Rgba, 1, 1),
            (PixelFormat::I420, 2, 2),
            (PixelFormat::Uyvy, 2, 1),
            (PixelFormat::V210, 6, 1),
        ] {
            let layout = FrameLayout::packed(format, 20, 10).unwrap();
            let mut ex = Exclusions::default();
            ex.set(shapes.clone());
            ex.build(&layout);
            // Centres below 0.3 * 20 = 6: columns 0..6, rows 0..3.
            let cols = 6_u32.div_ceil(bw) * bw;
            let rows = 3_u32.div_ceil(bh) * bh;
            assert!(
                ex.runs.iter().all(|r| r.x0 == 0 && r.x1 == cols),
                "{format:?}"
            );
            assert_eq!(ex.runs.len() as u32 * bh, rows, "{format:?}");
        }
    }
}
