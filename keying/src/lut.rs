//! The compiled 3D key LUT.

use std::fmt;

use rayon::prelude::*;

use crate::config::{MAX_LUT_SIZE, MIN_LUT_SIZE};
use crate::error::KeyError;
use crate::palette::KeyModel;

/// Largest value of the fixed-point trilinear result: 255 (alpha) times 255^3 (weights).
const FIXED_ONE: u32 = 255 * 255 * 255 * 255;
/// Scale from the fixed-point result to 0..=1.
const FIXED_TO_UNIT: f32 = 1.0 / FIXED_ONE as f32;

/// Where a byte code value falls on one LUT axis: index of the lower node (already multiplied
/// by the axis stride) and the weight of the upper node in 1/255 units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct AxisStep {
    offset: u32,
    weight: u32,
}

/// A palette compiled to a 3D table of alpha values over BT.709 limited-range YCbCr.
///
/// Layout (shared with the GPU, which uploads `data` as an `R8Unorm` 3D texture with
/// x = Y, y = Cb, z = Cr): `data[iy + n * (icb + n * icr)]` is the alpha (0..=255) at the
/// node whose Y, Cb and Cr code values are `255 * i / (n - 1)` for i = iy, icb, icr.
/// Lookups interpolate trilinearly between the 8 surrounding nodes.
///
/// Treat the public fields as read-only: lookups never panic, but a LUT whose `data` was
/// changed to the wrong length keys to 0.
#[derive(Clone, PartialEq)]
pub struct KeyLut {
    /// Nodes per axis (n).
    pub size: usize,
    /// n^3 alpha values (0 = not field, 255 = field), Y fastest, then Cb, then Cr.
    pub data: Vec<u8>,
    /// Per byte code value: lower node and weight on the Y, Cb and Cr axes.
    steps: Box<[[AxisStep; 3]; 256]>,
}

impl fmt::Debug for KeyLut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyLut")
            .field("size", &self.size)
            .field("bytes", &self.data.len())
            .finish_non_exhaustive()
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
        let mut steps = Box::new([[AxisStep::default(); 3]; 256]);
        for (b, step) in steps.iter_mut().enumerate() {
            let pos = b as u32 * (n - 1);
            let lower = (pos / 255).min(n - 2);
            let weight = pos - lower * 255;
            *step = [
                AxisStep {
                    offset: lower,
                    weight,
                },
                AxisStep {
                    offset: lower * n,
                    weight,
                },
                AxisStep {
                    offset: lower * n * n,
                    weight,
                },
            ];
        }
        Ok(Self { size, data, steps })
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

    /// [`KeyLut::lookup_u8`] in fixed point: 0..=255^4.
    #[inline]
    pub(crate) fn lookup_fixed(&self, y: u8, cb: u8, cr: u8) -> u32 {
        let sy = self.steps[y as usize][0];
        let scb = self.steps[cb as usize][1];
        let scr = self.steps[cr as usize][2];
        let base = (sy.offset + scb.offset + scr.offset) as usize;
        let n = self.size;
        let (s1, sn) = (n, n * n);
        let Some(d) = self.data.get(base..=base + sn + s1 + 1) else {
            return 0;
        };
        let v = |o: usize| u32::from(d[o]);
        let (wy, wcb, wcr) = (sy.weight, scb.weight, scr.weight);
        let lerp = |a: u32, b: u32, w: u32| a * (255 - w) + b * w;
        let c00 = lerp(v(0), v(1), wy);
        let c10 = lerp(v(s1), v(s1 + 1), wy);
        let c01 = lerp(v(sn), v(sn + 1), wy);
        let c11 = lerp(v(sn + s1), v(sn + s1 + 1), wy);
        let c0 = lerp(c00, c10, wcb);
        let c1 = lerp(c01, c11, wcb);
        lerp(c0, c1, wcr)
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

    #[test]
    fn byte_and_float_lookups_agree_on_every_axis_step() {
        // A LUT whose value is a hash of the node index: any layout or weight error shows.
        for n in [2, 33, 65] {
            let data = (0..n * n * n)
                .map(|i| ((i * 2_654_435_761_usize) >> 7) as u8)
                .collect();
            let lut = KeyLut::from_data(n, data).unwrap();
            for b in 0..=255_u8 {
                let (c1, c2) = (b.wrapping_mul(7), b.wrapping_mul(13));
                let a = lut.lookup_u8(b, c1, c2);
                let f = lut.lookup(f32::from(b), f32::from(c1), f32::from(c2));
                assert!((a - f).abs() < 1e-4, "n={n} b={b}: {a} vs {f}");
            }
        }
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
