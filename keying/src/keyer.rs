//! The CPU keyer: compiled LUTs applied to frames, per pixel, per pixel set or per frame, with
//! the neighbourhood min-filter.

use rayon::prelude::*;

use crate::config::{KeyConfig, MAX_MIN_FILTER_RADIUS, Region};
use crate::error::KeyError;
use crate::frame::{FrameRef, PixelFormat, Plane, rgb_to_ycbcr709};
use crate::lut::KeyLut;

/// Pixel coordinates handled by one parallel task in [`LutKeyer::key_pixels`].
const PIXEL_CHUNK: usize = 2048;
/// Output rows handled by one parallel task in [`LutKeyer::key_frame`].
const FRAME_BAND_ROWS: usize = 32;
/// A pixel set is keyed through row spans while the spans hold at most this many times the
/// pixels a per-pixel neighbourhood walk would key; scattered sets fall back to the walk.
const SPAN_OVERHEAD_LIMIT: usize = 2;
/// Fixed-point key (0..=255^4) to 0..=1.
const FIXED_TO_UNIT: f32 = 1.0 / (255.0 * 255.0 * 255.0 * 255.0);

/// A key compiled from a [`KeyConfig`]: one LUT per palette (0 = the default palette, `i + 1`
/// = region `i`), the regions' field rectangles and the min-filter radius.
#[derive(Debug, Clone)]
pub struct Keyer {
    luts: Vec<KeyLut>,
    regions: Vec<Region>,
    min_filter_radius: u32,
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
        Ok(Self {
            luts,
            regions: config.regions.clone(),
            min_filter_radius: config.min_filter_radius,
        })
    }

    /// A keyer over one ready LUT (no regions).
    pub fn from_lut(lut: KeyLut, min_filter_radius: u32) -> Result<Self, KeyError> {
        check_radius(min_filter_radius)?;
        Ok(Self {
            luts: vec![lut],
            regions: Vec::new(),
            min_filter_radius,
        })
    }

    /// The compiled LUTs: 0 is the default palette, `i + 1` is region `i`.
    pub fn luts(&self) -> &[KeyLut] {
        &self.luts
    }

    /// The regions, in the order they are tested.
    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    /// Index into [`Keyer::luts`] of the palette for field point (x, y) (metres): the first
    /// region containing it, else 0. Non-finite points get 0.
    pub fn lut_index_at(&self, field_x: f64, field_y: f64) -> usize {
        self.regions
            .iter()
            .position(|r| r.contains(field_x, field_y))
            .map_or(0, |i| i + 1)
    }

    /// Min-filter neighbourhood radius (pixels; 0 = off).
    pub fn min_filter_radius(&self) -> u32 {
        self.min_filter_radius
    }

    /// Changes the min-filter radius (pixels; 0 = off, at most [`MAX_MIN_FILTER_RADIUS`]).
    pub fn set_min_filter_radius(&mut self, radius: u32) -> Result<(), KeyError> {
        check_radius(radius)?;
        self.min_filter_radius = radius;
        Ok(())
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
        })
    }

    fn default_lut(&self) -> LutKeyer<'_> {
        LutKeyer {
            lut: &self.luts[0],
            radius: self.min_filter_radius,
        }
    }

    /// Key (0..=1) of pixel (x, y) with the default palette and the min-filter; 0 for a pixel
    /// outside the frame or a frame whose buffer does not match its layout.
    pub fn key_at(&self, frame: FrameRef<'_>, x: u32, y: u32) -> f32 {
        self.default_lut().key_at(frame, x, y)
    }

    /// Keys of a set of pixels (default palette, min-filter applied) into `out`, in parallel.
    /// See [`LutKeyer::key_pixels`].
    pub fn key_pixels(
        &self,
        frame: FrameRef<'_>,
        coords: &[(u32, u32)],
        out: &mut [f32],
    ) -> Result<(), KeyError> {
        self.default_lut().key_pixels(frame, coords, out)
    }

    /// The whole frame's matte (default palette, min-filter applied), row-major.
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

/// One LUT of a [`Keyer`] with its min-filter radius, applied to frames.
#[derive(Debug, Clone, Copy)]
pub struct LutKeyer<'a> {
    lut: &'a KeyLut,
    radius: u32,
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

    /// Keys of pixels `x0..x1` of row `row` into `out` (`x1 - x0` values, 0..=1). The caller
    /// keeps the span inside the frame.
    fn key_span(&self, lut: &KeyLut, row: usize, x0: usize, x1: usize, out: &mut [f32]) {
        match *self {
            Source::Rgb { data, plane, order } => {
                let start = plane.offset + row * plane.stride;
                let px = &data[start + x0 * 4..start + x1 * 4];
                for (o, p) in out.iter_mut().zip(px.chunks_exact(4)) {
                    let [y, cb, cr] = rgb_to_ycbcr709(
                        f32::from(p[order[0]]),
                        f32::from(p[order[1]]),
                        f32::from(p[order[2]]),
                    );
                    *o = lut.lookup(y, cb, cr);
                }
            }
            Source::I420 { data, y, cb, cr } => {
                let ys = &data[y.offset + row * y.stride..];
                let cbs = &data[cb.offset + (row / 2) * cb.stride..];
                let crs = &data[cr.offset + (row / 2) * cr.stride..];
                for (o, x) in out.iter_mut().zip(x0..x1) {
                    *o = lut.lookup_fixed(ys[x], cbs[x / 2], crs[x / 2]) as f32 * FIXED_TO_UNIT;
                }
            }
            Source::Nv12 { data, y, cbcr } => {
                let ys = &data[y.offset + row * y.stride..];
                let cs = &data[cbcr.offset + (row / 2) * cbcr.stride..];
                for (o, x) in out.iter_mut().zip(x0..x1) {
                    let c = (x / 2) * 2;
                    *o = lut.lookup_fixed(ys[x], cs[c], cs[c + 1]) as f32 * FIXED_TO_UNIT;
                }
            }
            Source::Uyvy { data, plane } => {
                let r = &data[plane.offset + row * plane.stride..];
                for (o, x) in out.iter_mut().zip(x0..x1) {
                    let b = (x / 2) * 4;
                    *o = lut.lookup_fixed(r[b + 1 + (x % 2) * 2], r[b], r[b + 2]) as f32
                        * FIXED_TO_UNIT;
                }
            }
        }
    }

    /// Key of one pixel (inside the frame).
    #[inline]
    fn key_one(&self, lut: &KeyLut, x: usize, y: usize) -> f32 {
        let mut k = [0.0];
        self.key_span(lut, y, x, x + 1, &mut k);
        k[0]
    }
}

/// Reusable buffers of one parallel task of [`LutKeyer::key_pixels`].
#[derive(Default)]
struct SpanScratch {
    /// Per row of the chunk's row range: first column of the span.
    lo: Vec<usize>,
    /// Per row: one past the last column of the span.
    hi: Vec<usize>,
    /// Per row: start of the row's keys in `keys`.
    start: Vec<usize>,
    /// Unfiltered keys of every span, row after row.
    keys: Vec<f32>,
}

impl LutKeyer<'_> {
    /// The LUT applied.
    pub fn lut(&self) -> &KeyLut {
        self.lut
    }

    /// Key (0..=1) of pixel (x, y) with the min-filter: the smallest key in the
    /// `(2r + 1)^2` neighbourhood, clipped at the frame's edges. 0 for a pixel outside the
    /// frame or a frame whose buffer does not match its layout.
    pub fn key_at(&self, frame: FrameRef<'_>, x: u32, y: u32) -> f32 {
        let Ok(src) = Source::new(frame) else {
            return 0.0;
        };
        let (w, h) = (frame.width() as usize, frame.height() as usize);
        self.key_neighbourhood(&src, w, h, x as usize, y as usize)
    }

    /// Keys (0..=1, min-filter applied) of the pixels `coords` (x, y) into `out`, in parallel:
    /// the hot path, keying only the line's pixels. Coordinates outside the frame get 0. Each
    /// block of coordinates keys the row spans its neighbourhoods cover once, then takes the
    /// minimum per pixel, so a band of pixels (the line) costs little more than one LUT lookup
    /// per pixel; scattered sets fall back to a per-pixel neighbourhood walk. Coordinates in
    /// row order (as a rasterised strip gives them) are fastest.
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
        let (w, h) = (frame.width() as usize, frame.height() as usize);
        coords
            .par_chunks(PIXEL_CHUNK)
            .zip(out.par_chunks_mut(PIXEL_CHUNK))
            .for_each_init(SpanScratch::default, |scratch, (c, o)| {
                if self.radius == 0 {
                    for (k, &(x, y)) in o.iter_mut().zip(c) {
                        let (x, y) = (x as usize, y as usize);
                        *k = if x < w && y < h {
                            src.key_one(self.lut, x, y)
                        } else {
                            0.0
                        };
                    }
                } else {
                    self.key_chunk(&src, w, h, c, o, scratch);
                }
            });
        Ok(())
    }

    /// Min-filtered keys of one block of coordinates through row spans.
    fn key_chunk(
        &self,
        src: &Source<'_>,
        w: usize,
        h: usize,
        coords: &[(u32, u32)],
        out: &mut [f32],
        s: &mut SpanScratch,
    ) {
        let r = self.radius as usize;
        let inside = |&(x, y): &(u32, u32)| (x as usize) < w && (y as usize) < h;
        let (mut ymin, mut ymax) = (usize::MAX, 0);
        for &(_, y) in coords.iter().filter(|c| inside(c)) {
            ymin = ymin.min(y as usize);
            ymax = ymax.max(y as usize);
        }
        if ymin == usize::MAX {
            out.fill(0.0);
            return;
        }
        let ya = ymin.saturating_sub(r);
        let yb = (ymax + r).min(h - 1);
        let rows = yb - ya + 1;
        s.lo.clear();
        s.lo.resize(rows, usize::MAX);
        s.hi.clear();
        s.hi.resize(rows, 0);
        for &(x, y) in coords.iter().filter(|c| inside(c)) {
            let (x, y) = (x as usize, y as usize);
            let (xl, xh) = (x.saturating_sub(r), (x + r + 1).min(w));
            for i in y.saturating_sub(r) - ya..=(y + r).min(yb) - ya {
                s.lo[i] = s.lo[i].min(xl);
                s.hi[i] = s.hi[i].max(xh);
            }
        }
        s.start.clear();
        let mut total = 0;
        for i in 0..rows {
            s.start.push(total);
            if s.lo[i] < s.hi[i] {
                total += s.hi[i] - s.lo[i];
            }
        }
        let side = 2 * r + 1;
        if total > SPAN_OVERHEAD_LIMIT * coords.len() * side * side {
            // Scattered pixels: walk each neighbourhood instead.
            for (k, &(x, y)) in out.iter_mut().zip(coords) {
                *k = self.key_neighbourhood(src, w, h, x as usize, y as usize);
            }
            return;
        }
        s.keys.clear();
        s.keys.resize(total, 0.0);
        for i in 0..rows {
            if s.lo[i] < s.hi[i] {
                let span = &mut s.keys[s.start[i]..s.start[i] + s.hi[i] - s.lo[i]];
                src.key_span(self.lut, ya + i, s.lo[i], s.hi[i], span);
            }
        }
        for (k, &(x, y)) in out.iter_mut().zip(coords) {
            let (x, y) = (x as usize, y as usize);
            if x >= w || y >= h {
                *k = 0.0;
                continue;
            }
            let (xl, xh) = (x.saturating_sub(r), (x + r + 1).min(w));
            let mut best = f32::INFINITY;
            for i in y.saturating_sub(r) - ya..=(y + r).min(yb) - ya {
                let a = s.start[i] + (xl - s.lo[i]);
                for &v in &s.keys[a..a + (xh - xl)] {
                    best = best.min(v);
                }
            }
            *k = best;
        }
    }

    /// Min-filtered key of one pixel by walking its neighbourhood (0 outside the frame).
    fn key_neighbourhood(&self, src: &Source<'_>, w: usize, h: usize, x: usize, y: usize) -> f32 {
        if x >= w || y >= h {
            return 0.0;
        }
        let r = self.radius as usize;
        let (xa, xb) = (x.saturating_sub(r), (x + r + 1).min(w));
        let mut row = [0.0_f32; 2 * MAX_MIN_FILTER_RADIUS as usize + 1];
        let mut best = f32::INFINITY;
        for yy in y.saturating_sub(r)..(y + r + 1).min(h) {
            let keys = &mut row[..xb - xa];
            src.key_span(self.lut, yy, xa, xb, keys);
            best = keys.iter().fold(best, |m, &k| m.min(k));
        }
        best
    }

    /// The whole frame's matte (0..=1, min-filter applied), row-major, `width * height`
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
                || (Vec::new(), Vec::new()),
                |(keys, hmin): &mut (Vec<f32>, Vec<f32>), (band, o)| {
                    let y0 = band * FRAME_BAND_ROWS;
                    let y1 = y0 + o.len() / w;
                    if r == 0 {
                        for (row, dst) in (y0..y1).zip(o.chunks_exact_mut(w)) {
                            src.key_span(self.lut, row, 0, w, dst);
                        }
                        return;
                    }
                    let (ya, yb) = (y0.saturating_sub(r), (y1 + r).min(h));
                    keys.resize((yb - ya) * w, 0.0);
                    hmin.resize((yb - ya) * w, 0.0);
                    for (row, dst) in (ya..yb).zip(keys.chunks_exact_mut(w)) {
                        src.key_span(self.lut, row, 0, w, dst);
                    }
                    for (src_row, dst) in keys.chunks_exact(w).zip(hmin.chunks_exact_mut(w)) {
                        horizontal_min(src_row, dst, r);
                    }
                    for (row, dst) in (y0..y1).zip(o.chunks_exact_mut(w)) {
                        let (ra, rb) = (row.saturating_sub(r).max(ya), (row + r + 1).min(yb));
                        dst.copy_from_slice(&hmin[(ra - ya) * w..(ra - ya + 1) * w]);
                        for rr in ra + 1..rb {
                            let other = &hmin[(rr - ya) * w..(rr - ya + 1) * w];
                            for (d, &v) in dst.iter_mut().zip(other) {
                                *d = d.min(v);
                            }
                        }
                    }
                },
            );
        Ok(())
    }
}

/// `dst[x] = min(src[x - r ..= x + r])`, clipped at the row's ends.
fn horizontal_min(src: &[f32], dst: &mut [f32], r: usize) {
    let w = src.len();
    for (x, d) in dst.iter_mut().enumerate() {
        let (a, b) = (x.saturating_sub(r), (x + r + 1).min(w));
        *d = src[a..b].iter().fold(f32::INFINITY, |m, &v| m.min(v));
    }
}
