//! The pixel-set path ([`LutKeyer::key_pixels`]): each block of coordinates is cut into runs
//! along rows, the row spans their neighbourhoods cover are keyed once, then filtered by a
//! horizontal and a vertical minimum; scattered sets fall back to the per-pixel walk.

use std::cell::RefCell;

use rayon::prelude::*;

use super::source::Image;
use super::{LutKeyer, horizontal_min, unit};
use crate::config::EdgeFilter;
use crate::error::KeyError;
use yardline_frame::FrameRef;

/// Pixel coordinates handled by one parallel task in [`LutKeyer::key_pixels`].
const PIXEL_CHUNK: usize = 4096;
/// A pixel set is keyed through row spans while the spans hold at most this many times the
/// pixels a per-pixel neighbourhood walk would key; scattered sets fall back to the walk.
const SPAN_OVERHEAD_LIMIT: usize = 2;
/// A block of pixels is keyed through row spans when its runs along rows are at least this
/// long on average.
const MIN_AVERAGE_RUN: usize = 4;
/// Coordinates checked at a time for the continuation of a run.
const RUN_BATCH: usize = 8;

/// A run of pixel coordinates: consecutive columns of one row, in order.
#[derive(Debug, Clone, Copy)]
struct Run {
    /// First column (pixels).
    x: usize,
    /// Row (pixels).
    y: usize,
    /// Number of pixels.
    len: usize,
    /// Index of the first pixel in the block's coordinates.
    at: usize,
}

thread_local! {
    /// Each thread's buffers for [`LutKeyer::key_pixels`], kept between calls so the hot path
    /// does not allocate once they have grown to a frame's blocks.
    static SCRATCH: RefCell<SpanScratch> = RefCell::default();
}

/// Reusable buffers of one parallel task of [`LutKeyer::key_pixels`].
#[derive(Default)]
struct SpanScratch {
    /// The block's runs of in-frame pixels.
    runs: Vec<Run>,
    /// Per row of the block's row range: first column of the block's own pixels.
    own_lo: Vec<usize>,
    /// Per row: one past the last column of the block's own pixels.
    own_hi: Vec<usize>,
    /// Per row: first column of the span to key (own columns of the rows within the radius,
    /// widened by the radius).
    lo: Vec<usize>,
    /// Per row: one past the last column of the span.
    hi: Vec<usize>,
    /// Per row: start of the row's span in `keys` and `hmin`.
    start: Vec<usize>,
    /// Unfiltered fixed-point keys of every span, row after row.
    keys: Vec<u32>,
    /// Horizontal minimum of `keys` over 2r + 1 columns, same layout.
    hmin: Vec<u32>,
    /// Vertical minimum of one run.
    vmin: Vec<u32>,
}

impl SpanScratch {
    /// Splits a block into runs of in-frame pixels (writing 0 for pixels outside the frame);
    /// returns the number of in-frame pixels.
    fn collect_runs(
        &mut self,
        coords: &[(u32, u32)],
        w: usize,
        h: usize,
        out: &mut [f32],
    ) -> usize {
        self.runs.clear();
        let mut in_frame = 0;
        let mut i = 0;
        while i < coords.len() {
            let (x, y) = (coords[i].0 as usize, coords[i].1 as usize);
            if x >= w || y >= h {
                out[i] = 0.0;
                i += 1;
                continue;
            }
            let mut end = x + 1;
            let mut j = i + 1;
            // A run continues while each next coordinate is the next column of the row: checked
            // a batch at a time (without early exit, so the check vectorises), then one by one.
            while j + RUN_BATCH <= coords.len() && end + RUN_BATCH <= w {
                let (next, row) = (end as u32, y as u32);
                let differs = coords[j..j + RUN_BATCH]
                    .iter()
                    .zip(next..)
                    .fold(0, |d, (&(cx, cy), ex)| d | (cx ^ ex) | (cy ^ row));
                if differs != 0 {
                    break;
                }
                end += RUN_BATCH;
                j += RUN_BATCH;
            }
            while j < coords.len() && end < w && coords[j] == (end as u32, y as u32) {
                end += 1;
                j += 1;
            }
            self.runs.push(Run {
                x,
                y,
                len: j - i,
                at: i,
            });
            in_frame += j - i;
            i = j;
        }
        in_frame
    }

    /// The row spans to key for the runs and radius `r`; returns the first row, the number of
    /// rows and the total span length.
    fn plan_spans(&mut self, r: usize, w: usize, h: usize) -> (usize, usize, usize) {
        let ymin = self.runs.iter().map(|run| run.y).min().unwrap_or(0);
        let ymax = self.runs.iter().map(|run| run.y).max().unwrap_or(0);
        let ya = ymin.saturating_sub(r);
        let rows = (ymax + r).min(h - 1) - ya + 1;
        // Columns the block's own pixels occupy per row...
        let (own_lo, own_hi) = (&mut self.own_lo, &mut self.own_hi);
        own_lo.clear();
        own_lo.resize(rows, usize::MAX);
        own_hi.clear();
        own_hi.resize(rows, 0);
        for run in &self.runs {
            let i = run.y - ya;
            own_lo[i] = own_lo[i].min(run.x);
            own_hi[i] = own_hi[i].max(run.x + run.len);
        }
        // ...spread over the rows within the radius and widened by it.
        self.lo.clear();
        self.hi.clear();
        self.start.clear();
        let mut total = 0;
        for i in 0..rows {
            let (a, b) = (i.saturating_sub(r), (i + r + 1).min(rows));
            let l = own_lo[a..b].iter().copied().min().unwrap_or(usize::MAX);
            let hh = own_hi[a..b].iter().copied().max().unwrap_or(0);
            let (l, hh) = if l < hh {
                (l.saturating_sub(r), (hh + r).min(w))
            } else {
                (0, 0)
            };
            self.lo.push(l);
            self.hi.push(hh);
            self.start.push(total);
            total += hh - l;
        }
        (ya, rows, total)
    }

    /// Writes each run's keys: the vertical minimum of the horizontally filtered spans (or the
    /// keys themselves when `r` is 0), as 0..=1.
    fn write_runs(&mut self, r: usize, ya: usize, rows: usize, out: &mut [f32]) {
        let filtered = if r > 0 { &self.hmin } else { &self.keys };
        let (start, lo) = (&self.start, &self.lo);
        for run in &self.runs {
            let i = run.y - ya;
            let (ra, rb) = (i.saturating_sub(r), (i + r).min(rows - 1));
            let at = |row: usize| {
                let from = start[row] + (run.x - lo[row]);
                &filtered[from..from + run.len]
            };
            let dst = &mut out[run.at..run.at + run.len];
            if ra == rb {
                for (d, &k) in dst.iter_mut().zip(at(ra)) {
                    *d = unit(k);
                }
                continue;
            }
            if rb - ra == 2 {
                // Three rows (radius 1 away from the frame's edges): one fused pass.
                let (a, b, c) = (at(ra), at(ra + 1), at(rb));
                for (d, ((&ka, &kb), &kc)) in dst.iter_mut().zip(a.iter().zip(b).zip(c)) {
                    *d = unit(ka.min(kb).min(kc));
                }
                continue;
            }
            self.vmin.clear();
            self.vmin.extend_from_slice(at(ra));
            for row in ra + 1..=rb {
                for (m, &k) in self.vmin.iter_mut().zip(at(row)) {
                    *m = (*m).min(k);
                }
            }
            for (d, &k) in dst.iter_mut().zip(&self.vmin) {
                *d = unit(k);
            }
        }
    }
}

impl LutKeyer<'_> {
    /// Keys (0..=1, edge filter applied) of the pixels `coords` (x, y) into `out`, in parallel:
    /// the hot path, keying only the line's pixels. Coordinates outside the frame get 0. Each
    /// block of coordinates keys the row spans its neighbourhoods cover once, takes the
    /// horizontal then the vertical minimum, so a band of pixels (the line) costs little more
    /// than one LUT lookup per pixel; scattered sets fall back to a per-pixel neighbourhood
    /// walk. Unmixing walks the neighbourhood again only for pixels beside a player.
    /// Coordinates in row order (as a rasterised strip gives them) are fastest.
    pub fn key_pixels(
        &self,
        frame: FrameRef<'_>,
        coords: &[(u32, u32)],
        out: &mut [f32],
    ) -> Result<(), KeyError> {
        if coords.len() != out.len() {
            return Err(KeyError::LengthMismatch {
                coords: coords.len(),
                out: out.len(),
            });
        }
        let c = frame.layout.yuv_colorimetry();
        if !c.is_key_space() {
            let lut = self.lut.for_colorimetry(c, frame.layout.format.bit_depth());
            let keyer = LutKeyer { lut: &lut, ..*self };
            return keyer.key_pixels_native(frame, coords, out);
        }
        self.key_pixels_native(frame, coords, out)
    }

    /// [`LutKeyer::key_pixels`] with this LUT indexed by the frame's own codes.
    fn key_pixels_native(
        &self,
        frame: FrameRef<'_>,
        coords: &[(u32, u32)],
        out: &mut [f32],
    ) -> Result<(), KeyError> {
        let img = Image::new(frame)?;
        coords
            .par_chunks(PIXEL_CHUNK)
            .zip(out.par_chunks_mut(PIXEL_CHUNK))
            .for_each(|(c, o)| {
                SCRATCH.with_borrow_mut(|scratch| self.key_block(&img, c, o, scratch));
            });
        Ok(())
    }

    /// Filtered keys of one block of coordinates: through row spans when the pixels come
    /// in runs along rows, else pixel by pixel.
    fn key_block(
        &self,
        img: &Image<'_>,
        coords: &[(u32, u32)],
        out: &mut [f32],
        s: &mut SpanScratch,
    ) {
        let (w, h) = (img.w, img.h);
        let r = self.radius as usize;
        let in_frame = s.collect_runs(coords, w, h, out);
        if s.runs.is_empty() {
            return;
        }
        let side = 2 * r + 1;
        let scattered = s.runs.len() * MIN_AVERAGE_RUN > in_frame;
        let (ya, rows, total) = if scattered {
            (0, 0, usize::MAX)
        } else {
            s.plan_spans(r, w, h)
        };
        if scattered || total > SPAN_OVERHEAD_LIMIT * in_frame * side * side {
            // Scattered pixels: walk each neighbourhood.
            for run in &s.runs {
                for k in 0..run.len {
                    out[run.at + k] = self.filtered_key(img, run.x + k, run.y);
                }
            }
            return;
        }
        // Every span is written before it is read: the buffers only grow, never cleared.
        if s.keys.len() < total {
            s.keys.resize(total, 0);
        }
        if r > 0 && s.hmin.len() < total {
            s.hmin.resize(total, 0);
        }
        for i in 0..rows {
            let (a, b, st) = (s.lo[i], s.hi[i], s.start[i]);
            if a < b {
                let keys = &mut s.keys[st..st + (b - a)];
                img.src.key_span(self.lut, ya + i, a, b, keys);
                if r > 0 {
                    horizontal_min(keys, &mut s.hmin[st..st + (b - a)], r);
                }
            }
        }
        s.write_runs(r, ya, rows, out);
        if self.edge == EdgeFilter::Unmix && r > 0 {
            // `out` holds the neighbourhood minima: unmix where a player is near.
            for run in &s.runs {
                let i = run.y - ya;
                let raw = &s.keys[s.start[i] + (run.x - s.lo[i])..][..run.len];
                let dst = &mut out[run.at..run.at + run.len];
                for (k, (d, &own)) in dst.iter_mut().zip(raw).enumerate() {
                    *d = self.unmix_or_own(img, run.x + k, run.y, own, *d);
                }
            }
        }
    }
}
