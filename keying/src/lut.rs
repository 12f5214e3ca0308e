//! The compiled 3D key LUT.

use std::fmt;

use rayon::prelude::*;

use crate::config::{MAX_LUT_SIZE, MIN_LUT_SIZE};
use crate::error::KeyError;
use crate::palette::KeyModel;
use yardline_frame::{Colorimetry, rgb_to_ycbcr709};

/// Largest value of the fixed-point trilinear result: 255 (alpha) times 255^3 (weights).
pub(crate) const FIXED_ONE: u32 = 255 * 255 * 255 * 255;
/// Scale from the fixed-point result to 0..=1.
pub(crate) const FIXED_TO_UNIT: f32 = 1.0 / FIXED_ONE as f32;

/// Mask of the even bytes of a u64 (four 16-bit lanes).
const EVEN_BYTES: u64 = 0x00ff_00ff_00ff_00ff;
/// Mask of the even 16-bit lanes of a u64 (two 32-bit lanes).
const EVEN_HALVES: u64 = 0x0000_ffff_0000_ffff;

/// A palette compiled to a 3D table of alpha values over BT.709 limited-range YCbCr.
///
/// Layout (x = Y, y = Cb, z = Cr; the engine's GPU compositor repacks it into 2-D RGBA8
/// slices): `data[iy + n * (icb + n * icr)]` is the alpha (0..=255) at the
/// node whose Y, Cb and Cr code values are `255 * i / (n - 1)` for i = iy, icb, icr.
/// Lookups interpolate trilinearly between the 8 surrounding nodes.
///
/// Treat the public fields as read-only: lookups never panic, but a LUT whose `data` was
/// changed after construction is not seen by the fast paths, which read a private copy.
#[derive(Clone, PartialEq)]
pub struct KeyLut {
    /// Nodes per axis (n).
    pub size: usize,
    /// n^3 alpha values (0 = not field, 255 = field), Y fastest, then Cb, then Cr.
    pub data: Vec<u8>,
    /// Per byte code value and axis: `lower node offset << 8 | upper weight` (weight in 1/255
    /// units; offset already multiplied by the axis stride 1, n or n^2).
    steps: Box<[[u32; 256]; 3]>,
    /// As `steps`, per 10-bit code value (position `code / 4` on the byte scale; codes above
    /// 1020 clamp to the top node).
    steps10: Box<[[u32; 1024]; 3]>,
    /// Per cell (indexed like `data` by its lower corner): its 8 corner values packed in a u64,
    /// byte `dcb + 2 * dcr + 4 * dy` = corner (iy + dy, icb + dcb, icr + dcr). One load per
    /// lookup.
    cells: Vec<u64>,
    /// BT.709 RGB to LUT position as three table reads and two additions: per channel (R, G,
    /// B) and byte value, that channel's share of the Y, Cb and Cr positions (lanes 0..3; lane
    /// 3 is 0), see `rgb_position_tables`.
    rgb: Box<RgbTables>,
}

/// Per channel (R, G, B) and byte value: the shares of the Y, Cb and Cr positions, and a 0.
type RgbTables = [[[u32; 4]; 256]; 3];

/// Fractional bits of the fixed-point RGB to LUT position conversion.
const RGB_FRACTION_BITS: u32 = 12;

impl fmt::Debug for KeyLut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyLut")
            .field("size", &self.size)
            .field("bytes", &self.data.len())
            .finish_non_exhaustive()
    }
}

/// The Cb/Cr part of a byte lookup: cell offset and upper weights (1/255 units).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChromaSite {
    offset: u32,
    wcb: u32,
    wcr: u32,
}

impl ChromaSite {
    /// The site of a Cb step and a Cr step (each `cell offset << 8 | weight`, as the step tables hold them).
    #[allow(
        clippy::inline_always,
        reason = "per-pixel kernel of the keyer's inner loops, left out of line otherwise"
    )]
    #[inline(always)]
    fn of(scb: u32, scr: u32) -> Self {
        Self {
            offset: (scb >> 8) + (scr >> 8),
            wcb: scb & 0xff,
            wcr: scr & 0xff,
        }
    }
}

/// Code value of node `i` of an `n`-node axis.
#[inline]
pub fn node_code_value(i: usize, n: usize) -> f64 {
    255.0 * i as f64 / (n - 1) as f64
}

impl KeyLut {
    /// Evaluates `model` at every node (in parallel) and rounds to 0..=255.
    pub fn build(model: &KeyModel, size: usize) -> Result<Self, KeyError> {
        check_size(size)?;
        let n = size;
        let mut data = vec![0_u8; n * n * n];
        data.par_chunks_mut(n * n)
            .enumerate()
            .for_each(|(icr, plane)| {
                let cr = node_code_value(icr, n);
                for icb in 0..n {
                    let cb = node_code_value(icb, n);
                    for iy in 0..n {
                        let key = model.key(node_code_value(iy, n), cb, cr);
                        plane[iy + n * icb] = (key * 255.0).round().clamp(0.0, 255.0) as u8;
                    }
                }
            });
        Self::from_data(size, data)
    }

    /// A LUT from its node values (e.g. read back from a file); `data` must hold `size^3`
    /// values in the layout above.
    pub fn from_data(size: usize, data: Vec<u8>) -> Result<Self, KeyError> {
        check_size(size)?;
        if data.len() != size * size * size {
            return Err(KeyError::Invalid {
                key: "lut.data".into(),
                reason: format!(
                    "{} values, a {size}^3 LUT needs {}",
                    data.len(),
                    size.pow(3)
                ),
            });
        }
        let n = size as u32;
        let mut steps = Box::new([[0_u32; 256]; 3]);
        for b in 0..256_u32 {
            let pos = b * (n - 1);
            let lower = (pos / 255).min(n - 2);
            let weight = pos - lower * 255;
            for (axis, stride) in [1, n, n * n].into_iter().enumerate() {
                steps[axis][b as usize] = (lower * stride) << 8 | weight;
            }
        }
        let mut steps10 = Box::new([[0_u32; 1024]; 3]);
        for c in 0..1024_u32 {
            // Position in 1/1020 of a cell; the upper weight rounded to 1/255 of a cell (exact
            // when 4 divides n - 1, as for the 65- and 129-node LUTs).
            let pos = c.min(1020) * (n - 1);
            let lower = (pos / 1020).min(n - 2);
            let weight = ((pos - lower * 1020) * 255 + 510) / 1020;
            for (axis, stride) in [1, n, n * n].into_iter().enumerate() {
                steps10[axis][c as usize] = (lower * stride) << 8 | weight;
            }
        }
        let cells = pack_cells(size, &data);
        let rgb = rgb_position_tables(size);
        Ok(Self {
            size,
            data,
            steps,
            steps10,
            cells,
            rgb,
        })
    }

    /// Key of a colour given as YCbCr code values (0..=255, e.g. `rgb_to_ycbcr709` of an RGB
    /// pixel), trilinear between nodes, in 0..=1. Values outside 0..=255 clamp to the edge;
    /// NaN counts as 0.
    #[inline]
    pub fn lookup(&self, y: f32, cb: f32, cr: f32) -> f32 {
        let n = self.size;
        if n < MIN_LUT_SIZE {
            return 0.0;
        }
        let last = (n - 1) as f32;
        let scale = last / 255.0;
        let axis = |v: f32| {
            // `max` first: it maps NaN to 0.
            let p = (v * scale).max(0.0).min(last);
            let i = (p as usize).min(n - 2);
            (i, p - i as f32)
        };
        let (iy, fy) = axis(y);
        let (icb, fcb) = axis(cb);
        let (icr, fcr) = axis(cr);
        let base = iy + n * (icb + n * icr);
        let at = |o: usize| f32::from(self.data.get(base + o).copied().unwrap_or(0));
        let lerp = |a: f32, b: f32, t: f32| a + (b - a) * t;
        let (s1, sn) = (n, n * n);
        let c00 = lerp(at(0), at(1), fy);
        let c10 = lerp(at(s1), at(s1 + 1), fy);
        let c01 = lerp(at(sn), at(sn + 1), fy);
        let c11 = lerp(at(sn + s1), at(sn + s1 + 1), fy);
        let c0 = lerp(c00, c10, fcb);
        let c1 = lerp(c01, c11, fcb);
        lerp(c0, c1, fcr) * (1.0 / 255.0)
    }

    /// Key of a colour given as the Y, Cb, Cr bytes of a YUV frame, in 0..=1. Exact integer
    /// trilinear interpolation (node weights are multiples of 1/255 at byte inputs), equal to
    /// [`KeyLut::lookup`] on the same values up to float rounding.
    #[inline]
    pub fn lookup_u8(&self, y: u8, cb: u8, cr: u8) -> f32 {
        self.lookup_fixed(y, cb, cr) as f32 * FIXED_TO_UNIT
    }

    /// Key of a full-range RGB pixel (bytes), in 0..=1: the BT.709 conversion of
    /// `rgb_to_ycbcr709` in fixed point, each LUT position rounded to 1/255 of a lattice cell
    /// (within `0.5 / (n - 1)` code values of [`KeyLut::lookup`] on the converted colour).
    #[inline]
    pub fn lookup_rgb8(&self, r: u8, g: u8, b: u8) -> f32 {
        self.lookup_fixed_rgb(r, g, b) as f32 * FIXED_TO_UNIT
    }

    /// [`KeyLut::lookup_rgb8`] of a run of pixels into `out` (as many as the shorter of the
    /// two holds), two at a time (see `KeyLut::lookup_rgb_pair`).
    pub fn lookup_rgb8_run(&self, px: &[[u8; 3]], out: &mut [f32]) {
        let len = px.len().min(out.len());
        let (px, out) = (&px[..len], &mut out[..len]);
        let mut pairs = out.chunks_exact_mut(2);
        for (o, p) in pairs.by_ref().zip(px.chunks_exact(2)) {
            let [k0, k1] = self.lookup_rgb_pair(p[0], p[1]);
            o[0] = k0 as f32 * FIXED_TO_UNIT;
            o[1] = k1 as f32 * FIXED_TO_UNIT;
        }
        if let ([o], Some(&[r, g, b])) = (pairs.into_remainder(), px.last()) {
            *o = self.lookup_rgb8(r, g, b);
        }
    }

    /// [`KeyLut::lookup_u8`] in fixed point: 0..=[`FIXED_ONE`].
    #[allow(
        clippy::inline_always,
        reason = "per-pixel kernel of the keyer's inner loops, left out of line otherwise"
    )]
    #[inline(always)]
    pub(crate) fn lookup_fixed(&self, y: u8, cb: u8, cr: u8) -> u32 {
        self.lookup_site(y, self.chroma_site(cb, cr))
    }

    /// The chroma part of a byte lookup, shared by the pixels of one chroma site.
    #[allow(
        clippy::inline_always,
        reason = "per-pixel kernel of the keyer's inner loops, left out of line otherwise"
    )]
    #[inline(always)]
    pub(crate) fn chroma_site(&self, cb: u8, cr: u8) -> ChromaSite {
        ChromaSite::of(self.steps[1][cb as usize], self.steps[2][cr as usize])
    }

    /// Fixed-point key of luma byte `y` at a chroma site.
    #[allow(
        clippy::inline_always,
        reason = "per-pixel kernel of the keyer's inner loops, left out of line otherwise"
    )]
    #[inline(always)]
    pub(crate) fn lookup_site(&self, y: u8, site: ChromaSite) -> u32 {
        self.key_at(self.steps[0][y as usize], site)
    }

    /// Fixed-point key at luma step `sy` (cell index << 8 | weight) and a chroma site.
    #[allow(
        clippy::inline_always,
        reason = "per-pixel kernel of the keyer's inner loops, left out of line otherwise"
    )]
    #[inline(always)]
    fn key_at(&self, sy: u32, site: ChromaSite) -> u32 {
        trilinear(
            self.cell((sy >> 8) + site.offset),
            sy & 0xff,
            site.wcb,
            site.wcr,
        )
    }

    /// Fixed-point keys of the two pixels of a chroma site (lumas `y0`, `y1`): equal to two
    /// [`KeyLut::lookup_site`] calls. With SSE2 (every x86-64) both cells are interpolated together in SSE2
    /// lanes (see `trilinear_pair`).
    #[allow(
        clippy::inline_always,
        reason = "per-pixel kernel of the keyer's inner loops, left out of line otherwise"
    )]
    #[inline(always)]
    pub(crate) fn lookup_pair(&self, y0: u8, y1: u8, site: ChromaSite) -> [u32; 2] {
        let (s0, s1) = (self.steps[0][y0 as usize], self.steps[0][y1 as usize]);
        let cell = |s: u32| self.cell((s >> 8) + site.offset);
        trilinear_pair(
            [cell(s0), cell(s1)],
            [s0 & 0xff, s1 & 0xff],
            [site.wcb; 2],
            [site.wcr; 2],
        )
    }

    /// Key of a colour given as the 10-bit Y, Cb, Cr codes of a 10-bit YUV frame (0..=1023), in
    /// 0..=1: the LUT indexed at the codes' own precision (position `code / 4` on the byte
    /// scale, its weights in 1/255 of a lattice cell; exact for 65- and 129-node LUTs),
    /// trilinear in fixed point, equal to [`KeyLut::lookup`] of `code / 4` up to float rounding.
    #[inline]
    pub fn lookup_u10(&self, y: u16, cb: u16, cr: u16) -> f32 {
        self.lookup_site10(y, self.chroma_site10(cb, cr)) as f32 * FIXED_TO_UNIT
    }

    /// [`KeyLut::lookup_u10`] of a run of (Y, Cb, Cr) codes into `out` (as many as the shorter
    /// of the two holds).
    pub fn lookup_u10_run(&self, px: &[[u16; 3]], out: &mut [f32]) {
        for (p, o) in px.iter().zip(out) {
            *o = self.lookup_site10(p[0], self.chroma_site10(p[1], p[2])) as f32 * FIXED_TO_UNIT;
        }
    }

    /// The chroma part of a 10-bit lookup (codes 0..=1023; higher bits ignored).
    #[allow(
        clippy::inline_always,
        reason = "per-pixel kernel of the keyer's inner loops, left out of line otherwise"
    )]
    #[inline(always)]
    pub(crate) fn chroma_site10(&self, cb: u16, cr: u16) -> ChromaSite {
        ChromaSite::of(
            self.steps10[1][usize::from(cb & 1023)],
            self.steps10[2][usize::from(cr & 1023)],
        )
    }

    /// Fixed-point key of 10-bit luma code `y` at a chroma site.
    #[allow(
        clippy::inline_always,
        reason = "per-pixel kernel of the keyer's inner loops, left out of line otherwise"
    )]
    #[inline(always)]
    pub(crate) fn lookup_site10(&self, y: u16, site: ChromaSite) -> u32 {
        self.key_at(self.steps10[0][usize::from(y & 1023)], site)
    }

    /// Fixed-point key (0..=[`FIXED_ONE`]) of a full-range RGB pixel: BT.709 YCbCr as
    /// `rgb_to_ycbcr709` computes it, in fixed point, each position rounded to 1/255 of a
    /// lattice cell (at most `0.5 / (n - 1)` code values): the fast path for RGB frames.
    #[allow(
        clippy::inline_always,
        reason = "per-pixel kernel of the keyer's inner loops, left out of line otherwise"
    )]
    #[inline(always)]
    pub(crate) fn lookup_fixed_rgb(&self, r: u8, g: u8, b: u8) -> u32 {
        let (q, w) = self.rgb_cell(r, g, b);
        trilinear(q, w[0], w[1], w[2])
    }

    /// [`KeyLut::lookup_fixed_rgb`] of two pixels (R, G, B bytes each), converted and
    /// interpolated together (see `KeyLut::rgb_pair_sse2`).
    #[allow(
        clippy::inline_always,
        reason = "per-pixel kernel of the keyer's inner loops, left out of line otherwise"
    )]
    #[inline(always)]
    pub(crate) fn lookup_rgb_pair(&self, p0: [u8; 3], p1: [u8; 3]) -> [u32; 2] {
        #[cfg(target_feature = "sse2")]
        {
            self.rgb_pair_sse2(p0, p1)
        }
        #[cfg(not(target_feature = "sse2"))]
        {
            [p0, p1].map(|[r, g, b]| self.lookup_fixed_rgb(r, g, b))
        }
    }

    /// [`KeyLut::lookup_rgb_pair`] in SSE2 lanes from the table reads on: both pixels'
    /// positions as 16-bit lanes (below 2^15), the lower nodes by a multiply-high division by
    /// 255 (exact below 2^16), the weights as the remainders, the cell indices by one
    /// `pmaddwd` with the axis strides (at most 128 * 16,641), and the weight vectors of
    /// `trilinear_pair_sse2` by unpacking, without going through scalar registers.
    #[cfg(target_feature = "sse2")]
    #[allow(
        clippy::inline_always,
        reason = "per-pixel kernel of the keyer's inner loops, left out of line otherwise"
    )]
    #[inline(always)]
    fn rgb_pair_sse2(&self, p0: [u8; 3], p1: [u8; 3]) -> [u32; 2] {
        use safe_arch::{
            add_i32_m128i, get_i32_from_m128i_s, m128i, mul_i16_horizontal_add_m128i,
            mul_i16_keep_low_m128i, mul_u16_keep_high_m128i, pack_i32_to_i16_m128i,
            set_splat_i16_m128i, shr_imm_u16_m128i, shr_imm_u32_m128i, shuffle_ai_f32_all_m128i,
            sub_i16_m128i, unpack_high_i16_m128i, unpack_high_i32_m128i, unpack_low_i16_m128i,
            unpack_low_i32_m128i, zeroed_m128i,
        };
        const SHIFT: i32 = RGB_FRACTION_BITS as i32;
        let t = &*self.rgb;
        let sum = |[r, g, b]: [u8; 3]| {
            let at = |c: usize, v: u8| m128i::from(t[c][v as usize]);
            shr_imm_u32_m128i::<SHIFT>(add_i32_m128i(add_i32_m128i(at(0, r), at(1, g)), at(2, b)))
        };
        // 16-bit lanes: Y, Cb, Cr, 0 of pixel 0, then of pixel 1.
        let position = pack_i32_to_i16_m128i(sum(p0), sum(p1));
        let lower = shr_imm_u16_m128i::<7>(mul_u16_keep_high_m128i(
            position,
            set_splat_i16_m128i(0x8081_u16 as i16),
        ));
        let weight = sub_i16_m128i(
            position,
            mul_i16_keep_low_m128i(lower, set_splat_i16_m128i(255)),
        );
        let n = self.size as i16;
        let strides = m128i::from([1, n, n * n, 0, 1, n, n * n, 0]);
        // 32-bit lanes: iy + n icb, n^2 icr of pixel 0, then of pixel 1; summed in lanes 0, 2.
        let index = mul_i16_horizontal_add_m128i(lower, strides);
        let index = add_i32_m128i(index, shuffle_ai_f32_all_m128i::<0b10_11_00_01>(index));
        let i0 = get_i32_from_m128i_s(index) as u32;
        let i1 = get_i32_from_m128i_s(shuffle_ai_f32_all_m128i::<0b10>(index)) as u32;
        // Weight pairs (255 - w, w) in 32-bit lanes: Y, Cb, Cr, - of each pixel.
        let complement = sub_i16_m128i(set_splat_i16_m128i(255), weight);
        let pairs0 = unpack_low_i16_m128i(complement, weight);
        let pairs1 = unpack_high_i16_m128i(complement, weight);
        // [Y0, Y1, Cb0, Cb1] and [Cr0, Cr1, -, -] pairs.
        let low = unpack_low_i32_m128i(pairs0, pairs1);
        let high = unpack_high_i32_m128i(pairs0, pairs1);
        trilinear_pair_sse2(
            [self.cell(i0), self.cell(i1)],
            [
                shuffle_ai_f32_all_m128i::<0b10_10_10_10>(low),
                shuffle_ai_f32_all_m128i::<0b11_11_11_11>(low),
            ],
            shuffle_ai_f32_all_m128i::<0b01_01_00_00>(high),
            unpack_low_i16_m128i(low, zeroed_m128i()),
        )
    }

    /// The cell of an RGB pixel's rounded LUT position (see [`KeyLut::lookup_fixed_rgb`]) and
    /// its upper weights along Y, Cb and Cr (1/255 units).
    #[allow(
        clippy::inline_always,
        reason = "per-pixel kernel of the keyer's inner loops, left out of line otherwise"
    )]
    #[inline(always)]
    fn rgb_cell(&self, r: u8, g: u8, b: u8) -> (u64, [u32; 3]) {
        let n = self.size as u32;
        let t = &*self.rgb;
        let (r, g, b) = (t[0][r as usize], t[1][g as usize], t[2][b as usize]);
        // Every position lies inside the lattice (BT.709 of full-range RGB spans code values
        // 16..=240), so the lower node is at most n - 2 without a clamp.
        let position = |axis: usize| {
            let p = (r[axis] + g[axis] + b[axis]) >> RGB_FRACTION_BITS;
            let lower = p / 255;
            (lower, p - lower * 255)
        };
        let (iy, wy) = position(0);
        let (icb, wcb) = position(1);
        let (icr, wcr) = position(2);
        (self.cell(iy + n * (icb + n * icr)), [wy, wcb, wcr])
    }

    /// The packed corners of the cell whose lower corner has index `index` (0 past the end:
    /// lookups never panic).
    #[allow(
        clippy::inline_always,
        reason = "per-pixel kernel of the keyer's inner loops, left out of line otherwise"
    )]
    #[inline(always)]
    fn cell(&self, index: u32) -> u64 {
        self.cells.get(index as usize).copied().unwrap_or(0)
    }

    /// This LUT re-indexed for the codes of YUV frames in colorimetry `c` at `bits` per
    /// component: node `i` of each axis still at code value `255 * i / (n - 1)` (8-bit
    /// scale), now holding this LUT's key ([`KeyLut::lookup`], trilinear) of the key-space
    /// colour those codes stand for ([`Colorimetry::to_key_space`]). The byte and 10-bit
    /// lookups of the result then key such a frame's own codes, with no conversion per pixel.
    /// A clone for BT.709 limited range.
    #[must_use]
    pub fn for_colorimetry(&self, c: Colorimetry, bits: u32) -> Self {
        if c.is_key_space() {
            return self.clone();
        }
        let n = self.size;
        let mut data = vec![0_u8; n * n * n];
        data.par_chunks_mut(n * n)
            .enumerate()
            .for_each(|(icr, plane)| {
                let cr = node_code_value(icr, n) as f32;
                for icb in 0..n {
                    let cb = node_code_value(icb, n) as f32;
                    for iy in 0..n {
                        let y = node_code_value(iy, n) as f32;
                        let [ky, kcb, kcr] = c.to_key_space(bits, [y, cb, cr]);
                        let key = self.lookup(ky, kcb, kcr);
                        plane[iy + n * icb] = (key * 255.0).round().clamp(0.0, 255.0) as u8;
                    }
                }
            });
        // The size is this LUT's, already checked.
        Self::from_data(n, data).unwrap_or_else(|_| self.clone())
    }

    /// The node value at (iy, icb, icr), 0..=255; `None` past the edge.
    pub fn node(&self, iy: usize, icb: usize, icr: usize) -> Option<u8> {
        let n = self.size;
        if iy >= n || icb >= n || icr >= n {
            return None;
        }
        self.data.get(iy + n * (icb + n * icr)).copied()
    }
}

/// Trilinear interpolation of the 8 corner bytes of a cell packed in `q` (see
/// `KeyLut::cells`), weights of the upper corners in 1/255 units, in fixed point
/// (0..=[`FIXED_ONE`]). Interpolates 4 pairs along Cb in 16-bit lanes, then 2 pairs along Cr
/// in 32-bit lanes, then along Y; no lane can carry into the next (255 * 255 < 2^16,
/// 255^3 < 2^32). Exact, so the order of the axes does not change the result.
#[allow(
    clippy::inline_always,
    reason = "per-pixel kernel of the keyer's inner loops, left out of line otherwise"
)]
#[inline(always)]
fn trilinear(q: u64, wy: u32, wcb: u32, wcr: u32) -> u32 {
    let (wy, wcb, wcr) = (u64::from(wy), u64::from(wcb), u64::from(wcr));
    // 16-bit lanes (dcr, dy) = (0, 0), (1, 0), (0, 1), (1, 1).
    let cb0 = q & EVEN_BYTES;
    let cb1 = (q >> 8) & EVEN_BYTES;
    let along_cb = cb0 * (255 - wcb) + cb1 * wcb;
    // 32-bit lanes dy = 0, 1.
    let cr0 = along_cb & EVEN_HALVES;
    let cr1 = (along_cb >> 16) & EVEN_HALVES;
    let along_cr = cr0 * (255 - wcr) + cr1 * wcr;
    ((along_cr & 0xffff_ffff) * (255 - wy) + (along_cr >> 32) * wy) as u32
}

/// [`trilinear`] of two cells (e.g. the two pixels of a chroma site), in SSE2 lanes; the
/// same exact integers. Along Cb: the 8 corners of both cells as
/// 16-bit lanes, `pmaddwd` with (255 - wcb, wcb) pairs gives 4 products per cell (at most
/// 255 * 255). Along Cr: those biased by -32768 fit signed 16-bit lanes, a second `pmaddwd`
/// with (255 - wcr, wcr) pairs, the bias (times 255) added back, gives 2 values per cell (at
/// most 255^3). Along Y: 32 x 32 -> 64-bit products (`pmuludq`) with each cell's own weight.
#[cfg(target_feature = "sse2")]
#[allow(
    clippy::inline_always,
    reason = "per-pixel kernel of the keyer's inner loops, left out of line otherwise"
)]
#[inline(always)]
fn trilinear_pair(q: [u64; 2], wy: [u32; 2], wcb: [u32; 2], wcr: [u32; 2]) -> [u32; 2] {
    use safe_arch::{m128i, set_splat_i32_m128i};
    // Weight pairs (255 - w, w) as the two 16-bit halves of a 32-bit lane.
    let pair = |w: u32| (w << 16) | (255 - w);
    let (cr0, cr1) = (pair(wcr[0]), pair(wcr[1]));
    trilinear_pair_sse2(
        q,
        wcb.map(|w| set_splat_i32_m128i(pair(w) as i32)),
        m128i::from([cr0, cr0, cr1, cr1]),
        m128i::from([255 - wy[0], wy[0], 255 - wy[1], wy[1]]),
    )
}

/// The SSE2 lanes of [`trilinear_pair`], given its weights as vectors: per cell, its Cb weight
/// pair `(255 - w) | w << 16` in every 32-bit lane; the Cr pairs of cell 0 (twice), then of
/// cell 1 (twice); the Y weights `255 - wy0, wy0, 255 - wy1, wy1` in 32-bit lanes.
#[cfg(target_feature = "sse2")]
#[allow(
    clippy::inline_always,
    reason = "per-pixel kernel of the keyer's inner loops, left out of line otherwise"
)]
#[inline(always)]
fn trilinear_pair_sse2(
    q: [u64; 2],
    cb: [safe_arch::m128i; 2],
    cr: safe_arch::m128i,
    w_y: safe_arch::m128i,
) -> [u32; 2] {
    use safe_arch::{
        add_i32_m128i, add_i64_m128i, get_i64_from_m128i_s, m128i, mul_i16_horizontal_add_m128i,
        mul_widen_u32_odd_m128i, pack_i32_to_i16_m128i, set_splat_i32_m128i, shr_imm_u64_m128i,
        shuffle_ai_f32_all_m128i, sub_i32_m128i, unpack_high_i8_m128i, unpack_low_i8_m128i,
        zeroed_m128i,
    };
    const BIAS: i32 = 32_768;
    let corners = m128i::from(q);
    let bias = set_splat_i32_m128i(BIAS);
    // Lanes (dcr, dy) = (0, 0), (1, 0), (0, 1), (1, 1) of each cell, less the bias.
    let along_cb =
        |bytes: m128i, w: m128i| sub_i32_m128i(mul_i16_horizontal_add_m128i(bytes, w), bias);
    let cb0 = along_cb(unpack_low_i8_m128i(corners, zeroed_m128i()), cb[0]);
    let cb1 = along_cb(unpack_high_i8_m128i(corners, zeroed_m128i()), cb[1]);
    // Lanes dy = 0, 1 of cell 0, then of cell 1.
    let along_cr = add_i32_m128i(
        mul_i16_horizontal_add_m128i(pack_i32_to_i16_m128i(cb0, cb1), cr),
        set_splat_i32_m128i(BIAS * 255),
    );
    let along_y = add_i64_m128i(
        mul_widen_u32_odd_m128i(along_cr, w_y),
        mul_widen_u32_odd_m128i(
            shr_imm_u64_m128i::<32>(along_cr),
            shr_imm_u64_m128i::<32>(w_y),
        ),
    );
    // Both 32-bit results into the low half (`pshufd`), out through one 64-bit move.
    let both = get_i64_from_m128i_s(shuffle_ai_f32_all_m128i::<0b10_00>(along_y)) as u64;
    [both as u32, (both >> 32) as u32]
}

/// [`trilinear`] of two cells.
#[cfg(not(target_feature = "sse2"))]
#[inline]
fn trilinear_pair(q: [u64; 2], wy: [u32; 2], wcb: [u32; 2], wcr: [u32; 2]) -> [u32; 2] {
    [
        trilinear(q[0], wy[0], wcb[0], wcr[0]),
        trilinear(q[1], wy[1], wcb[1], wcr[1]),
    ]
}

/// The per-cell corner table of `KeyLut::cells` (cells on the upper faces, never read, hold 0).
fn pack_cells(n: usize, data: &[u8]) -> Vec<u64> {
    let mut cells = vec![0_u64; n * n * n];
    for icr in 0..n - 1 {
        for icb in 0..n - 1 {
            for iy in 0..n - 1 {
                let mut q = 0_u64;
                for corner in 0..8 {
                    let (dcb, dcr, dy) = (corner & 1, (corner >> 1) & 1, corner >> 2);
                    let v = data[(iy + dy) + n * ((icb + dcb) + n * (icr + dcr))];
                    q |= u64::from(v) << (8 * corner);
                }
                cells[iy + n * (icb + n * icr)] = q;
            }
        }
    }
    cells
}

/// The per-channel tables of `KeyLut::rgb`. The affine map of `rgb_to_ycbcr709` (read
/// off the function itself, so there is one matrix), scaled to LUT positions in 1/255 cell
/// units times 2^[`RGB_FRACTION_BITS`], is split by channel: entry `v` of channel `c` holds,
/// per axis, `coefficient * v` rounded, lifted by the channel's smallest share over 0..=255 so
/// no share is ever negative. The R table also carries the origin, less those lifts, plus half
/// a unit, so the sum of the three entries is each axis' position (rounded to nearest when
/// shifted right by the fraction bits).
fn rgb_position_tables(n: usize) -> Box<RgbTables> {
    let f = |r: f32, g: f32, b: f32| rgb_to_ycbcr709(r, g, b).map(f64::from);
    let origin = f(0.0, 0.0, 0.0);
    let columns = [f(255.0, 0.0, 0.0), f(0.0, 255.0, 0.0), f(0.0, 0.0, 255.0)];
    let scale = (n - 1) as f64 * f64::from(1_u32 << RGB_FRACTION_BITS);
    let mut tables = Box::new([[[0_u32; 4]; 256]; 3]);
    for axis in 0..3 {
        let slope = columns.map(|c| (c[axis] - origin[axis]) / 255.0 * scale);
        // A channel's smallest share is at 0 or at 255.
        let lift = slope.map(|s| (-s * 255.0).max(0.0).round());
        let base = (origin[axis] * scale - lift.iter().sum::<f64>()
            + f64::from(1_u32 << (RGB_FRACTION_BITS - 1)))
        .round();
        for (channel, table) in tables.iter_mut().enumerate() {
            for (v, entry) in table.iter_mut().enumerate() {
                let mut share = (slope[channel] * v as f64).round() + lift[channel];
                if channel == 0 {
                    share += base;
                }
                entry[axis] = share.max(0.0) as u32;
            }
        }
    }
    tables
}

fn check_size(size: usize) -> Result<(), KeyError> {
    if (MIN_LUT_SIZE..=MAX_LUT_SIZE).contains(&size) {
        Ok(())
    } else {
        Err(KeyError::Invalid {
            key: "lut_size".into(),
            reason: format!("{size} is outside {MIN_LUT_SIZE}..={MAX_LUT_SIZE}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A LUT whose node values are a hash of the node index (shifted right by `shift`): any
    /// layout or weight error shows.
    fn hashed_lut(n: usize, shift: u32) -> KeyLut {
        let data = (0..n * n * n)
            .map(|i| ((i * 2_654_435_761_usize) >> shift) as u8)
            .collect();
        KeyLut::from_data(n, data).unwrap()
    }

    #[test]
    fn byte_and_float_lookups_agree_on_every_axis_step() {
        for n in [2, 33, 65] {
            let lut = hashed_lut(n, 7);
            for b in 0..=255_u8 {
                let (c1, c2) = (b.wrapping_mul(7), b.wrapping_mul(13));
                let a = lut.lookup_u8(b, c1, c2);
                let f = lut.lookup(f32::from(b), f32::from(c1), f32::from(c2));
                assert!((a - f).abs() < 1e-4, "n={n} b={b}: {a} vs {f}");
            }
        }
    }

    #[test]
    fn rgb_fast_path_is_the_exact_lookup_at_the_rounded_position() {
        for n in [2, 33, 65, 129] {
            let lut = hashed_lut(n, 9);
            let step = (n - 1) as f32;
            let snap = |c: f32| (c * step).round() / step;
            let mut worst = 0.0_f32;
            for i in 0..20_000_u32 {
                let [r, g, b] = [i * 37, i * 101 + 7, i * 211 + 3].map(|v| (v % 256) as u8);
                let fast = lut.lookup_fixed_rgb(r, g, b) as f32 * FIXED_TO_UNIT;
                let [y, cb, cr] = rgb_to_ycbcr709(f32::from(r), f32::from(g), f32::from(b));
                let exact = lut.lookup(snap(y), snap(cb), snap(cr));
                // Equal except where the float position lies within 1/2048 of a unit of a
                // rounding tie.
                worst = worst.max((fast - exact).abs());
                assert!(
                    (fast - exact).abs() <= 1.0 / 255.0,
                    "n={n} ({r},{g},{b}): {fast} vs {exact}"
                );
            }
            assert!(worst < 0.5, "n={n}");
        }
    }

    #[test]
    fn rgb_positions_stay_inside_the_lattice_and_16_bit_lanes() {
        // Shares are never negative (entries are unsigned), so every position is at most the
        // sum of the three channels' largest shares: that must fit a signed 16-bit lane once
        // shifted (the SSE2 pair packs them with signed saturation) and leave the lower node
        // at most n - 2.
        for n in [2, 3, 33, 65, MAX_LUT_SIZE] {
            let tables = rgb_position_tables(n);
            assert!(tables.iter().flatten().all(|e| e[3] == 0), "n={n}");
            for axis in 0..3 {
                let largest: u64 = tables
                    .iter()
                    .map(|t| t.iter().map(|e| u64::from(e[axis])).max().unwrap_or(0))
                    .sum();
                assert!(
                    u32::try_from(largest).is_ok(),
                    "n={n} axis {axis}: {largest}"
                );
                let position = largest >> RGB_FRACTION_BITS;
                assert!(position < 1 << 15, "n={n} axis {axis}: {position}");
                assert!(
                    position < 255 * (n as u64 - 1),
                    "n={n} axis {axis}: {position}"
                );
            }
        }
    }

    #[test]
    fn pair_lookups_equal_two_single_ones() {
        // Every luma pair on a grid of chroma sites, on node values that use the whole byte
        // range (extreme corners included: all 0, all 255, alternating).
        for n in [2, 33, 65] {
            for lut in [
                hashed_lut(n, 7),
                KeyLut::from_data(n, vec![255; n * n * n]).unwrap(),
                KeyLut::from_data(n, (0..n * n * n).map(|i| (i % 2 * 255) as u8).collect())
                    .unwrap(),
            ] {
                for (cb, cr) in [(0, 0), (255, 255), (0, 255), (17, 203), (128, 129), (91, 5)] {
                    let site = lut.chroma_site(cb, cr);
                    for y0 in 0..=255_u8 {
                        for y1 in [0, 1, 127, 254, 255, y0.wrapping_mul(31)] {
                            assert_eq!(
                                lut.lookup_pair(y0, y1, site),
                                [lut.lookup_site(y0, site), lut.lookup_site(y1, site)],
                                "n={n} y=({y0},{y1}) cb={cb} cr={cr}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn rgb_pair_lookups_equal_two_single_ones() {
        for n in [2, 33, 65] {
            let lut = hashed_lut(n, 5);
            for i in 0..40_000_u32 {
                let p0 = [i * 37, i * 101 + 7, i * 211 + 3].map(|v| (v % 256) as u8);
                let p1 = [i * 13 + 5, i * 59, i * 7 + 200].map(|v| (v % 256) as u8);
                assert_eq!(
                    lut.lookup_rgb_pair(p0, p1),
                    [p0, p1].map(|[r, g, b]| lut.lookup_fixed_rgb(r, g, b)),
                    "n={n} {p0:?} {p1:?}"
                );
            }
        }
    }

    #[test]
    fn rgb_runs_equal_single_lookups() {
        let lut = hashed_lut(33, 5);
        let px: Vec<[u8; 3]> = (0..101_u32)
            .map(|i| [i * 37, i * 101 + 7, i * 211 + 3].map(|v| (v % 256) as u8))
            .collect();
        for len in [0, 1, 2, 7, 100, 101] {
            let mut out = vec![-1.0; len];
            lut.lookup_rgb8_run(&px[..len], &mut out);
            for (o, &[r, g, b]) in out.iter().zip(&px) {
                assert_eq!(o.to_bits(), lut.lookup_rgb8(r, g, b).to_bits(), "len {len}");
            }
        }
        // The shorter of the two decides.
        let mut out = vec![-1.0; 3];
        lut.lookup_rgb8_run(&px[..2], &mut out);
        assert_eq!(out[2].to_bits(), (-1.0_f32).to_bits());
    }

    #[test]
    fn wrong_length_or_size_is_rejected() {
        assert!(KeyLut::from_data(33, vec![0; 10]).is_err());
        assert!(KeyLut::from_data(1, vec![0; 1]).is_err());
        assert!(KeyLut::from_data(MAX_LUT_SIZE + 1, Vec::new()).is_err());
    }

    #[test]
    fn nan_and_out_of_range_inputs_clamp() {
        let lut = KeyLut::from_data(2, vec![255; 8]).unwrap();
        assert!((lut.lookup(f32::NAN, -40.0, 900.0) - 1.0).abs() < 1e-6);
    }
}
