//! The CPU keyer: compiled LUTs applied to frames, per pixel, per pixel set or per frame, with
//! the neighbourhood edge filter (the min-filter, or edge unmixing).

use std::cell::RefCell;

use rayon::prelude::*;

use crate::config::{
    EdgeFilter, KeyConfig, MAX_MIN_FILTER_RADIUS, Region, UNMIX_FOREGROUND_KEY, unmix_key,
};
use crate::error::KeyError;
use crate::lut::{FIXED_TO_UNIT, KeyLut};
use yardline_frame::{FrameRef, PixelFormat, Plane};

/// Pixel coordinates handled by one parallel task in [`LutKeyer::key_pixels`].
const PIXEL_CHUNK: usize = 4096;
/// Output rows handled by one parallel task in [`LutKeyer::key_frame`].
const FRAME_BAND_ROWS: usize = 32;
/// A pixel set is keyed through row spans while the spans hold at most this many times the
/// pixels a per-pixel neighbourhood walk would key; scattered sets fall back to the walk.
const SPAN_OVERHEAD_LIMIT: usize = 2;
/// A block of pixels is keyed through row spans when its runs along rows are at least this
/// long on average.
const MIN_AVERAGE_RUN: usize = 4;
/// Coordinates checked at a time for the continuation of a run.
const RUN_BATCH: usize = 8;

/// A key compiled from a [`KeyConfig`]: one LUT per palette (0 = the default palette, `i + 1`
/// = region `i`, then the paint palette), the regions' field rectangles and the edge filter
/// (radius and kind).
#[derive(Debug, Clone)]
pub struct Keyer {
    luts: Vec<KeyLut>,
    regions: Vec<Region>,
    paint: Option<(usize, f64)>,
    min_filter_radius: u32,
    edge: EdgeFilter,
}

impl Keyer {
    /// Validates the configuration and compiles every palette to a LUT of `config.lut_size`
    /// nodes per axis.
    pub fn compile(config: &KeyConfig) -> Result<Self, KeyError> {
        config.validate()?;
        let mut luts = Vec::with_capacity(config.regions.len() + 1);
        luts.push(KeyLut::build(&config.palette.model()?, config.lut_size)?);
        for (i, r) in config.regions.iter().enumerate() {
            let model = r.palette.model().map_err(|e| match e {
                KeyError::Invalid { key, reason } => KeyError::Invalid {
                    key: format!("regions[{i}].{key}"),
                    reason,
                },
                other => other,
            })?;
            luts.push(KeyLut::build(&model, config.lut_size)?);
        }
        let mut paint = None;
        if let Some(p) = &config.paint {
            let model = p.palette.model().map_err(|e| match e {
                KeyError::Invalid { key, reason } => KeyError::Invalid {
                    key: format!("paint.{key}"),
                    reason,
                },
                other => other,
            })?;
            paint = Some((luts.len(), p.margin_m));
            luts.push(KeyLut::build(&model, config.lut_size)?);
        }
        Ok(Self {
            luts,
            regions: config.regions.clone(),
            paint,
            min_filter_radius: config.min_filter_radius,
            edge: config.edge_filter,
        })
    }

    /// A keyer over one ready LUT (no regions).
    pub fn from_lut(lut: KeyLut, min_filter_radius: u32) -> Result<Self, KeyError> {
        check_radius(min_filter_radius)?;
        Ok(Self {
            luts: vec![lut],
            regions: Vec::new(),
            paint: None,
            min_filter_radius,
            edge: EdgeFilter::Min,
        })
    }

    /// Index into [`Keyer::luts`] of the paint palette and its margin (metres), when the key has
    /// one. Where the paint lies is the field model's business (see [`crate::PaintKey`]).
    pub fn paint(&self) -> Option<(usize, f64)> {
        self.paint
    }

    /// The compiled LUTs: 0 is the default palette, `i + 1` is region `i`, the paint palette
    /// last.
    pub fn luts(&self) -> &[KeyLut] {
        &self.luts
    }

    /// The regions, in the order they are tested.
    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    /// Index into [`Keyer::luts`] of the palette for field point (x, y) (metres): the first
    /// region containing it, else 0. Non-finite points get 0. The paint palette is not
    /// considered (the keyer does not know where the paint lies).
    pub fn lut_index_at(&self, field_x: f64, field_y: f64) -> usize {
        self.regions
            .iter()
            .position(|r| r.contains(field_x, field_y))
            .map_or(0, |i| i + 1)
    }

    /// Edge filter neighbourhood radius (pixels; 0 = off).
    pub fn min_filter_radius(&self) -> u32 {
        self.min_filter_radius
    }

    /// Changes the edge filter radius (pixels; 0 = off, at most [`MAX_MIN_FILTER_RADIUS`]).
    pub fn set_min_filter_radius(&mut self, radius: u32) -> Result<(), KeyError> {
        check_radius(radius)?;
        self.min_filter_radius = radius;
        Ok(())
    }

    /// What the neighbourhood does ([`EdgeFilter`]).
    pub fn edge_filter(&self) -> EdgeFilter {
        self.edge
    }

    /// The keyer for LUT `index` (see [`Keyer::lut_index_at`]).
    pub fn with_lut(&self, index: usize) -> Result<LutKeyer<'_>, KeyError> {
        let lut = self.luts.get(index).ok_or(KeyError::NoSuchLut {
            index,
            count: self.luts.len(),
        })?;
        Ok(LutKeyer {
            lut,
            radius: self.min_filter_radius,
            edge: self.edge,
        })
    }

    fn default_lut(&self) -> LutKeyer<'_> {
        LutKeyer {
            lut: &self.luts[0],
            radius: self.min_filter_radius,
            edge: self.edge,
        }
    }

    /// Key (0..=1) of pixel (x, y) with the default palette and the edge filter; 0 for a pixel
    /// outside the frame or a frame whose buffer does not match its layout.
    pub fn key_at(&self, frame: FrameRef<'_>, x: u32, y: u32) -> f32 {
        self.default_lut().key_at(frame, x, y)
    }

    /// Keys of a set of pixels (default palette, edge filter applied) into `out`, in parallel.
    /// See [`LutKeyer::key_pixels`].
    pub fn key_pixels(
        &self,
        frame: FrameRef<'_>,
        coords: &[(u32, u32)],
        out: &mut [f32],
    ) -> Result<(), KeyError> {
        self.default_lut().key_pixels(frame, coords, out)
    }

    /// The whole frame's matte (default palette, edge filter applied), row-major.
    pub fn key_frame(&self, frame: FrameRef<'_>) -> Result<Vec<f32>, KeyError> {
        self.default_lut().key_frame(frame)
    }
}

fn check_radius(radius: u32) -> Result<(), KeyError> {
    if radius > MAX_MIN_FILTER_RADIUS {
        return Err(KeyError::Invalid {
            key: "min_filter_radius".into(),
            reason: format!("{radius} is larger than {MAX_MIN_FILTER_RADIUS}"),
        });
    }
    Ok(())
}

/// One LUT of a [`Keyer`] with its neighbourhood radius and edge filter, applied to frames.
#[derive(Debug, Clone, Copy)]
pub struct LutKeyer<'a> {
    lut: &'a KeyLut,
    radius: u32,
    edge: EdgeFilter,
}

/// A validated frame, split by format so inner loops do not branch on it.
#[derive(Clone, Copy)]
enum Source<'a> {
    Rgb {
        data: &'a [u8],
        plane: Plane,
        order: [usize; 3],
    },
    I420 {
        data: &'a [u8],
        y: Plane,
        cb: Plane,
        cr: Plane,
    },
    Nv12 {
        data: &'a [u8],
        y: Plane,
        cbcr: Plane,
    },
    Uyvy {
        data: &'a [u8],
        plane: Plane,
    },
}

impl<'a> Source<'a> {
    fn new(frame: FrameRef<'a>) -> Result<Self, KeyError> {
        let l = frame.layout;
        l.check_buffer(frame.data.len())?;
        let data = frame.data;
        let [p0, p1, p2] = l.planes;
        Ok(match l.format {
            PixelFormat::Rgba | PixelFormat::Bgra | PixelFormat::Rgbx | PixelFormat::Bgrx => {
                Source::Rgb {
                    data,
                    plane: p0,
                    order: l.format.rgb_offsets().unwrap_or([0, 1, 2]),
                }
            }
            PixelFormat::I420 => Source::I420 {
                data,
                y: p0,
                cb: p1,
                cr: p2,
            },
            PixelFormat::Nv12 => Source::Nv12 {
                data,
                y: p0,
                cbcr: p1,
            },
            PixelFormat::Uyvy => Source::Uyvy { data, plane: p0 },
        })
    }

    /// Fixed-point keys (0..=`FIXED_ONE`) of pixels `x0..x1` of row `row` into `out`
    /// (`x1 - x0` values). The caller keeps the span inside the frame.
    fn key_span(&self, lut: &KeyLut, row: usize, x0: usize, x1: usize, out: &mut [u32]) {
        let out = &mut out[..x1 - x0];
        match *self {
            Source::Rgb { data, plane, order } => {
                let start = plane.offset + row * plane.stride;
                let px = &data[start + x0 * 4..start + x1 * 4];
                key_rgb(lut, px, out, order);
            }
            Source::I420 { data, y, cb, cr } => {
                let ys = &data[y.offset + row * y.stride..][..x1];
                let sites = x1.div_ceil(2);
                let cbs = &data[cb.offset + (row / 2) * cb.stride..][x0 / 2..sites];
                let crs = &data[cr.offset + (row / 2) * cr.stride..][x0 / 2..sites];
                let chroma = cbs.iter().zip(crs).map(|(&b, &r)| (b, r));
                key_pairs(lut, ys, x0, x1, out, chroma);
            }
            Source::Nv12 { data, y, cbcr } => {
                let ys = &data[y.offset + row * y.stride..][..x1];
                let cs = &data[cbcr.offset + (row / 2) * cbcr.stride..][..x1.div_ceil(2) * 2];
                let chroma = cs[x0 / 2 * 2..].chunks_exact(2).map(|c| (c[0], c[1]));
                key_pairs(lut, ys, x0, x1, out, chroma);
            }
            Source::Uyvy { data, plane } => {
                let r = &data[plane.offset + row * plane.stride..][..x1.div_ceil(2) * 4];
                let mut x = x0;
                let mut out = out.iter_mut();
                if x & 1 == 1 {
                    if let Some(o) = out.next() {
                        let b = (x / 2) * 4;
                        *o = lut.lookup_site(r[b + 3], lut.chroma_site(r[b], r[b + 2]));
                    }
                    x += 1;
                }
                // Whole U Y0 V Y1 groups, then a last lone pixel.
                for group in r[x * 2..].chunks_exact(4) {
                    let c = lut.chroma_site(group[0], group[2]);
                    let Some(o0) = out.next() else {
                        return;
                    };
                    let Some(o1) = out.next() else {
                        *o0 = lut.lookup_site(group[1], c);
                        return;
                    };
                    [*o0, *o1] = lut.lookup_pair(group[1], group[3], c);
                }
            }
        }
    }
}

/// Fixed-point keys of the 4-byte RGB pixels `px` into `out`, R, G and B at bytes `order` of
/// each pixel, two pixels at a time.
#[inline]
fn key_rgb(lut: &KeyLut, px: &[u8], out: &mut [u32], order: [usize; 3]) {
    let rgb = |p: &[u8]| [p[order[0]], p[order[1]], p[order[2]]];
    let mut pairs = out.chunks_exact_mut(2);
    for (o, p) in pairs.by_ref().zip(px.chunks_exact(8)) {
        o.copy_from_slice(&lut.lookup_rgb_pair(rgb(&p[..4]), rgb(&p[4..])));
    }
    if let ([o], Some(p)) = (pairs.into_remainder(), px.rchunks_exact(4).next()) {
        let [r, g, b] = rgb(p);
        *o = lut.lookup_fixed_rgb(r, g, b);
    }
}

/// Fixed-point keys of pixels `x0..x1` of a row of luma `ys` (from column 0) into `out`, the
/// row's chroma sites (pixels `2i` and `2i + 1`) given as Cb/Cr bytes from site `x0 / 2` on:
/// the chroma steps of the lookup are found once per site. (Sharing the Cb/Cr interpolation
/// between the two pixels when their lumas fall in the same LUT cell was slower: the branch
/// mispredicts on noisy luma.)
#[inline]
fn key_pairs(
    lut: &KeyLut,
    ys: &[u8],
    x0: usize,
    x1: usize,
    out: &mut [u32],
    mut sites: impl Iterator<Item = (u8, u8)>,
) {
    let (ys, out) = (&ys[x0..x1], &mut out[..x1 - x0]);
    // A first pixel on an odd column has its site to itself.
    let lead = usize::from(x0 & 1 == 1).min(ys.len());
    if lead == 1
        && let Some((b, r)) = sites.next()
    {
        out[0] = lut.lookup_site(ys[0], lut.chroma_site(b, r));
    }
    let (ys, out) = (&ys[lead..], &mut out[lead..]);
    let mut pairs = ys.chunks_exact(2).zip(out.chunks_exact_mut(2));
    for ((y, o), (b, r)) in pairs.by_ref().zip(sites.by_ref()) {
        o.copy_from_slice(&lut.lookup_pair(y[0], y[1], lut.chroma_site(b, r)));
    }
    // A last pixel on an even column has its site to itself.
    if ys.len() % 2 == 1
        && let (Some(&y), Some(o), Some((b, r))) = (ys.last(), out.last_mut(), sites.next())
    {
        *o = lut.lookup_site(y, lut.chroma_site(b, r));
    }
}

/// Fixed-point key to 0..=1.
#[inline]
fn unit(k: u32) -> f32 {
    k as f32 * FIXED_TO_UNIT
}

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
    /// The LUT applied.
    pub fn lut(&self) -> &KeyLut {
        self.lut
    }

    /// Key (0..=1) of pixel (x, y) with the edge filter over the `(2r + 1)^2` neighbourhood,
    /// clipped at the frame's edges: the smallest key in it ([`EdgeFilter::Min`]) or the
    /// unmixed key ([`EdgeFilter::Unmix`]). 0 for a pixel outside the frame or a frame whose
    /// buffer does not match its layout.
    pub fn key_at(&self, frame: FrameRef<'_>, x: u32, y: u32) -> f32 {
        let Ok(src) = Source::new(frame) else {
            return 0.0;
        };
        let (w, h) = (frame.width() as usize, frame.height() as usize);
        self.filtered_key(frame, &src, w, h, x as usize, y as usize)
    }

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
        let src = Source::new(frame)?;
        coords
            .par_chunks(PIXEL_CHUNK)
            .zip(out.par_chunks_mut(PIXEL_CHUNK))
            .for_each(|(c, o)| {
                SCRATCH.with_borrow_mut(|scratch| self.key_block(frame, &src, c, o, scratch));
            });
        Ok(())
    }

    /// Filtered keys of one block of coordinates: through row spans when the pixels come
    /// in runs along rows, else pixel by pixel.
    fn key_block(
        &self,
        frame: FrameRef<'_>,
        src: &Source<'_>,
        coords: &[(u32, u32)],
        out: &mut [f32],
        s: &mut SpanScratch,
    ) {
        let (w, h) = (frame.width() as usize, frame.height() as usize);
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
                    out[run.at + k] = self.filtered_key(frame, src, w, h, run.x + k, run.y);
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
                src.key_span(self.lut, ya + i, a, b, keys);
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
                    *d = self.unmix_or_own(frame, src, run.x + k, run.y, own, *d);
                }
            }
        }
    }

    /// The filtered key (0..=1) of in-frame pixel (x, y) by walking its neighbourhood.
    fn filtered_key(
        &self,
        frame: FrameRef<'_>,
        src: &Source<'_>,
        w: usize,
        h: usize,
        x: usize,
        y: usize,
    ) -> f32 {
        let min = unit(self.key_neighbourhood(src, w, h, x, y));
        if self.edge == EdgeFilter::Min || self.radius == 0 || x >= w || y >= h {
            return min;
        }
        let mut own = [0_u32; 1];
        src.key_span(self.lut, y, x, x + 1, &mut own);
        self.unmix_or_own(frame, src, x, y, own[0], min)
    }

    /// [`EdgeFilter::Unmix`] at in-frame pixel (x, y) of fixed-point key `own` whose
    /// neighbourhood's smallest key is `min` (0..=1, its own included): its own key unless a
    /// neighbour keys below [`UNMIX_FOREGROUND_KEY`] while it does not, then [`unmix_key`]
    /// between the colours of the lowest- and the highest-keyed neighbours (the first met in
    /// row order on a tie). Only pixels beside a player go further.
    #[inline]
    fn unmix_or_own(
        &self,
        frame: FrameRef<'_>,
        src: &Source<'_>,
        x: usize,
        y: usize,
        own: u32,
        min: f32,
    ) -> f32 {
        let own_key = unit(own);
        if own_key < UNMIX_FOREGROUND_KEY || min >= UNMIX_FOREGROUND_KEY {
            return own_key;
        }
        self.unmixed(frame, src, x, y, own_key)
    }

    /// [`unmix_key`] at in-frame pixel (x, y) of key `own_key` (0..=1) beside a player.
    #[cold]
    #[inline(never)]
    fn unmixed(
        &self,
        frame: FrameRef<'_>,
        src: &Source<'_>,
        x: usize,
        y: usize,
        own_key: f32,
    ) -> f32 {
        let (w, h) = (frame.width() as usize, frame.height() as usize);
        let r = self.radius as usize;
        let (xa, xb) = (x.saturating_sub(r), (x + r + 1).min(w));
        let mut row = [0_u32; 2 * MAX_MIN_FILTER_RADIUS as usize + 1];
        let (mut lo, mut lo_at) = (u32::MAX, (x, y));
        let (mut hi, mut hi_at) = (0_u32, (x, y));
        let mut any = false;
        for yy in y.saturating_sub(r)..(y + r + 1).min(h) {
            let keys = &mut row[..xb - xa];
            src.key_span(self.lut, yy, xa, xb, keys);
            for (xx, &k) in (xa..xb).zip(keys.iter()) {
                if (xx, yy) == (x, y) {
                    continue;
                }
                if k < lo {
                    (lo, lo_at) = (k, (xx, yy));
                }
                if !any || k > hi {
                    (hi, hi_at) = (k, (xx, yy));
                }
                any = true;
            }
        }
        let colour = |(px, py): (usize, usize)| frame.ycbcr_f32(px as u32, py as u32);
        unmix_key(own_key, colour((x, y)), colour(lo_at), colour(hi_at))
    }

    /// Neighbourhood-minimum fixed-point key of one pixel by walking its neighbourhood (0 outside the
    /// frame).
    fn key_neighbourhood(&self, src: &Source<'_>, w: usize, h: usize, x: usize, y: usize) -> u32 {
        if x >= w || y >= h {
            return 0;
        }
        let r = self.radius as usize;
        let (xa, xb) = (x.saturating_sub(r), (x + r + 1).min(w));
        let mut row = [0_u32; 2 * MAX_MIN_FILTER_RADIUS as usize + 1];
        let mut best = u32::MAX;
        for yy in y.saturating_sub(r)..(y + r + 1).min(h) {
            let keys = &mut row[..xb - xa];
            src.key_span(self.lut, yy, xa, xb, keys);
            best = keys.iter().fold(best, |m, &k| m.min(k));
        }
        best
    }

    /// The whole frame's matte (0..=1, edge filter applied), row-major, `width * height`
    /// values, computed in parallel bands of rows.
    pub fn key_frame(&self, frame: FrameRef<'_>) -> Result<Vec<f32>, KeyError> {
        let mut out = vec![0.0; frame.width() as usize * frame.height() as usize];
        self.key_frame_into(frame, &mut out)?;
        Ok(out)
    }

    /// [`LutKeyer::key_frame`] into a caller's buffer of `width * height` values.
    pub fn key_frame_into(&self, frame: FrameRef<'_>, out: &mut [f32]) -> Result<(), KeyError> {
        let src = Source::new(frame)?;
        let (w, h) = (frame.width() as usize, frame.height() as usize);
        if out.len() != w * h {
            return Err(KeyError::LengthMismatch {
                coords: w * h,
                out: out.len(),
            });
        }
        let r = self.radius as usize;
        out.par_chunks_mut(w * FRAME_BAND_ROWS)
            .enumerate()
            .for_each_init(
                || (Vec::new(), Vec::new(), Vec::new()),
                |(keys, hmin, vmin): &mut (Vec<u32>, Vec<u32>, Vec<u32>), (band, o)| {
                    let y0 = band * FRAME_BAND_ROWS;
                    let y1 = y0 + o.len() / w;
                    let (ya, yb) = (y0.saturating_sub(r), (y1 + r).min(h));
                    keys.resize((yb - ya) * w, 0);
                    for (row, dst) in (ya..yb).zip(keys.chunks_exact_mut(w)) {
                        src.key_span(self.lut, row, 0, w, dst);
                    }
                    if r == 0 {
                        for (d, &k) in o.iter_mut().zip(keys.iter()) {
                            *d = unit(k);
                        }
                        return;
                    }
                    hmin.resize((yb - ya) * w, 0);
                    for (src_row, dst) in keys.chunks_exact(w).zip(hmin.chunks_exact_mut(w)) {
                        horizontal_min(src_row, dst, r);
                    }
                    let hrow = |row: usize| &hmin[(row - ya) * w..(row - ya + 1) * w];
                    for (row, dst) in (y0..y1).zip(o.chunks_exact_mut(w)) {
                        let (ra, rb) = (row.saturating_sub(r).max(ya), (row + r + 1).min(yb));
                        vmin.clear();
                        vmin.extend_from_slice(hrow(ra));
                        for rr in ra + 1..rb {
                            for (m, &k) in vmin.iter_mut().zip(hrow(rr)) {
                                *m = (*m).min(k);
                            }
                        }
                        if self.edge == EdgeFilter::Unmix {
                            let raw = &keys[(row - ya) * w..(row - ya + 1) * w];
                            for (x, (d, (&m, &own))) in
                                dst.iter_mut().zip(vmin.iter().zip(raw)).enumerate()
                            {
                                *d = self.unmix_or_own(frame, &src, x, row, own, unit(m));
                            }
                            continue;
                        }
                        for (d, &k) in dst.iter_mut().zip(vmin.iter()) {
                            *d = unit(k);
                        }
                    }
                },
            );
        Ok(())
    }
}

/// `dst[x] = min(src[x - r ..= x + r])`, clipped at the slice's ends.
fn horizontal_min(src: &[u32], dst: &mut [u32], r: usize) {
    let w = src.len();
    if r == 1 && w >= 2 {
        dst[0] = src[0].min(src[1]);
        for (d, win) in dst[1..w - 1].iter_mut().zip(src.windows(3)) {
            *d = win[0].min(win[1]).min(win[2]);
        }
        dst[w - 1] = src[w - 2].min(src[w - 1]);
        return;
    }
    for (x, d) in dst.iter_mut().enumerate() {
        let (a, b) = (x.saturating_sub(r), (x + r + 1).min(w));
        *d = src[a..b].iter().copied().min().unwrap_or(0);
    }
}
