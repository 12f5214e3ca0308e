//! Reading a frame's keys: a validated frame split by pixel format ([`Source`]) and the
//! fixed-point key lookups of a row span, two pixels at a time (a chroma site's pair, or two
//! RGB pixels).

use yardline_frame::{FrameRef, PixelFormat, Plane, read_sample, yuv_samples};

use crate::error::KeyError;
use crate::lut::KeyLut;

/// A validated frame, split by format so inner loops do not branch on it.
#[derive(Clone, Copy)]
pub(super) enum Source<'a> {
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
    /// A 10-bit YUV format, read sample by sample at its own precision.
    Yuv10 {
        frame: FrameRef<'a>,
    },
}

/// A validated frame as the keyer reads it: its bytes split by format, the frame itself (for
/// the colours that edge unmixing mixes) and its size (pixels).
#[derive(Clone, Copy)]
pub(super) struct Image<'a> {
    pub(super) frame: FrameRef<'a>,
    pub(super) src: Source<'a>,
    pub(super) w: usize,
    pub(super) h: usize,
}

impl<'a> Image<'a> {
    /// Checks the frame's buffer against its layout.
    pub(super) fn new(frame: FrameRef<'a>) -> Result<Self, KeyError> {
        Ok(Self {
            frame,
            src: Source::new(frame)?,
            w: frame.width() as usize,
            h: frame.height() as usize,
        })
    }
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
            PixelFormat::V210 | PixelFormat::P010 | PixelFormat::I420_10 | PixelFormat::I422_10 => {
                Source::Yuv10 { frame }
            }
        })
    }

    /// Fixed-point keys (0..=`FIXED_ONE`) of pixels `x0..x1` of row `row` into `out`
    /// (`x1 - x0` values). The caller keeps the span inside the frame.
    pub(super) fn key_span(&self, lut: &KeyLut, row: usize, x0: usize, x1: usize, out: &mut [u32]) {
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
            Source::Yuv10 { frame } => {
                let storage = frame.layout.format.sample_storage();
                for (x, o) in (x0..x1).zip(out.iter_mut()) {
                    let Some(s) = yuv_samples(frame.layout, x as u32, row as u32) else {
                        continue;
                    };
                    let [y, cb, cr] = s.map(|s| read_sample(storage, frame.data, s));
                    *o = lut.lookup_site10(y, lut.chroma_site10(cb, cr));
                }
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
