//! The CPU keyer: compiled LUTs applied to frames, per pixel, per pixel set or per frame, with
//! the neighbourhood edge filter (the min-filter, or edge unmixing).
//!
//! This module holds the [`Keyer`], the [`LutKeyer`] and the whole-frame path; [`source`] reads
//! a frame's keys row span by row span, [`spans`] keys pixel sets through row spans and
//! [`walk`] keys single pixels by walking their neighbourhoods (and unmixes edges).

mod source;
mod spans;
mod walk;

use rayon::prelude::*;

use crate::config::{EdgeFilter, KeyConfig, MAX_MIN_FILTER_RADIUS, Region};
use crate::error::KeyError;
use crate::lut::{FIXED_TO_UNIT, KeyLut};
use source::Image;
use yardline_frame::FrameRef;

/// Output rows handled by one parallel task in [`LutKeyer::key_frame`].
const FRAME_BAND_ROWS: usize = 32;

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
            let model = r
                .palette
                .model()
                .map_err(|e| nested(&format!("regions[{i}]"), e))?;
            luts.push(KeyLut::build(&model, config.lut_size)?);
        }
        let mut paint = None;
        if let Some(p) = &config.paint {
            let model = p.palette.model().map_err(|e| nested("paint", e))?;
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

/// `e` with the key of a [`KeyError::Invalid`] named as a field of `parent` (`parent.key`).
fn nested(parent: &str, e: KeyError) -> KeyError {
    match e {
        KeyError::Invalid { key, reason } => KeyError::Invalid {
            key: format!("{parent}.{key}"),
            reason,
        },
        other => other,
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

impl LutKeyer<'_> {
    /// The LUT applied.
    pub fn lut(&self) -> &KeyLut {
        self.lut
    }

    /// Key (0..=1) of pixel (x, y) with the edge filter over the `(2r + 1)^2` neighbourhood,
    /// clipped at the frame's edges: the smallest key in it ([`EdgeFilter::Min`]) or the
    /// unmixed key ([`EdgeFilter::Unmix`]). 0 for a pixel outside the frame or a frame whose
    /// buffer does not match its layout. The LUT is indexed with the frame's own codes: key a
    /// YUV frame of another colorimetry than BT.709 limited range with
    /// [`LutKeyer::key_pixels`] or [`LutKeyer::key_frame`], which re-index it for the frame.
    pub fn key_at(&self, frame: FrameRef<'_>, x: u32, y: u32) -> f32 {
        let Ok(img) = Image::new(frame) else {
            return 0.0;
        };
        self.filtered_key(&img, x as usize, y as usize)
    }

    /// The whole frame's matte (0..=1, edge filter applied), row-major, `width * height`
    /// values, computed in parallel bands of rows.
    pub fn key_frame(&self, frame: FrameRef<'_>) -> Result<Vec<f32>, KeyError> {
        let mut out = vec![0.0; frame.width() as usize * frame.height() as usize];
        self.key_frame_into(frame, &mut out)?;
        Ok(out)
    }

    /// [`LutKeyer::key_frame`] into a caller's buffer of `width * height` values. A YUV frame
    /// of another colorimetry than BT.709 limited range is keyed with the LUT re-indexed for
    /// its codes ([`KeyLut::for_colorimetry`], built for the call).
    pub fn key_frame_into(&self, frame: FrameRef<'_>, out: &mut [f32]) -> Result<(), KeyError> {
        let c = frame.layout.yuv_colorimetry();
        if !c.is_key_space() {
            let lut = self.lut.for_colorimetry(c, frame.layout.format.bit_depth());
            let keyer = LutKeyer { lut: &lut, ..*self };
            return keyer.key_frame_native(frame, out);
        }
        self.key_frame_native(frame, out)
    }

    /// [`LutKeyer::key_frame_into`] with this LUT indexed by the frame's own codes.
    fn key_frame_native(&self, frame: FrameRef<'_>, out: &mut [f32]) -> Result<(), KeyError> {
        let img = Image::new(frame)?;
        let (w, h) = (img.w, img.h);
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
                        img.src.key_span(self.lut, row, 0, w, dst);
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
                                *d = self.unmix_or_own(&img, x, row, own, unit(m));
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

/// Fixed-point key to 0..=1.
#[inline]
fn unit(k: u32) -> f32 {
    k as f32 * FIXED_TO_UNIT
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
