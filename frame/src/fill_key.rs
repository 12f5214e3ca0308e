//! The fill-and-key output: the line alone with its alpha, for an external keyer.

use std::fmt;
use std::str::FromStr;

use crate::{FrameError, PixelFormat, check_size};

/// The alpha-carrying formats of a fill-and-key output (the line alone, for an external keyer):
/// straight (not premultiplied) alpha, one plane, no padding between pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FillKeyFormat {
    /// B, G, R, A bytes (`GStreamer`'s `BGRA`): the fill as full-range RGB, 8-bit alpha.
    Bgra,
    /// A, R, G, B bytes (`ARGB`, what `DeckLink` keyers take).
    Argb,
    /// A, Y, U, V as little-endian 16-bit words (`AYUV64`): the fill in the input's YUV
    /// colorimetry, a 10-bit code `c` stored as `c * 65535 / 1023` (`c << 6 | c >> 4` for a
    /// whole code, as `GStreamer` widens 10-bit samples), alpha over 0..=65535.
    Ayuv64,
}

impl FillKeyFormat {
    /// Every fill-and-key format.
    pub const ALL: [Self; 3] = [Self::Bgra, Self::Argb, Self::Ayuv64];

    /// The format's name in `GStreamer` caps.
    pub fn name(self) -> &'static str {
        match self {
            Self::Bgra => "BGRA",
            Self::Argb => "ARGB",
            Self::Ayuv64 => "AYUV64",
        }
    }

    /// Bytes per pixel.
    pub fn bytes_per_pixel(self) -> usize {
        match self {
            Self::Bgra | Self::Argb => 4,
            Self::Ayuv64 => 8,
        }
    }

    /// The fill-and-key formats for input in `input`: `BGRA` or `ARGB` for 8-bit input,
    /// `AYUV64` for 10-bit input (its alpha and fill keep the 10-bit precision).
    pub fn for_input(input: PixelFormat) -> &'static [Self] {
        if input.bit_depth() == 10 {
            &[Self::Ayuv64]
        } else {
            &[Self::Bgra, Self::Argb]
        }
    }

    /// True when the fill is YUV (in the input's colorimetry), false for RGB.
    pub fn is_yuv(self) -> bool {
        self == Self::Ayuv64
    }
}

impl fmt::Display for FillKeyFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FillKeyFormat {
    type Err = FrameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::format_by_name(Self::ALL, Self::name, s)
    }
}

/// A fill-and-key frame being written: one plane of [`FillKeyFormat`] pixels.
#[derive(Debug)]
pub struct FillKeyMut<'a> {
    /// Pixel format.
    pub format: FillKeyFormat,
    /// Width (pixels).
    pub width: u32,
    /// Height (pixels).
    pub height: u32,
    /// Bytes from one row to the next.
    pub stride: usize,
    /// The pixels, top row first.
    pub data: &'a mut [u8],
}

impl<'a> FillKeyMut<'a> {
    /// A fill-and-key frame over `data`; errors when the size is out of range, the stride is
    /// shorter than a row or the buffer shorter than the rows.
    pub fn new(
        format: FillKeyFormat,
        width: u32,
        height: u32,
        stride: usize,
        data: &'a mut [u8],
    ) -> Result<Self, FrameError> {
        check_size(width, height)?;
        let row = width as usize * format.bytes_per_pixel();
        if stride < row {
            return Err(FrameError::BadPlane {
                plane: 0,
                reason: format!("stride {stride} < row size {row}"),
            });
        }
        let need = stride * (height as usize - 1) + row;
        if data.len() < need {
            return Err(FrameError::BadPlane {
                plane: 0,
                reason: format!("buffer holds {} bytes, {format} needs {need}", data.len()),
            });
        }
        Ok(Self {
            format,
            width,
            height,
            stride,
            data,
        })
    }

    /// A transparent pixel: alpha 0, fill black (RGB 0, or Y at black and neutral chroma in
    /// limited range for `AYUV64`); the first [`FillKeyFormat::bytes_per_pixel`] bytes.
    fn blank(&self) -> [u8; 8] {
        match self.format {
            FillKeyFormat::Bgra | FillKeyFormat::Argb => [0; 8],
            // A 0, Y 64, U 512, V 512 (10-bit codes, widened).
            FillKeyFormat::Ayuv64 => {
                let [y0, y1] = widen_10(64.0).to_le_bytes();
                let [c0, c1] = widen_10(512.0).to_le_bytes();
                [0, 0, y0, y1, c0, c1, c0, c1]
            }
        }
    }

    /// Makes every pixel transparent (see `blank`).
    pub fn clear(&mut self) {
        let row = self.width as usize * self.format.bytes_per_pixel();
        let blank = self.blank();
        let bpp = self.format.bytes_per_pixel();
        for r in 0..self.height as usize {
            let start = r * self.stride;
            for px in self.data[start..start + row].chunks_exact_mut(bpp) {
                px.copy_from_slice(&blank[..bpp]);
            }
        }
    }

    /// Writes pixel (x, y): the fill `colour` (R, G, B 0..=255 for the RGB formats; Y, Cb, Cr
    /// 10-bit codes 0..=1023 for `AYUV64`) with straight alpha `alpha` (0..=1); an alpha that
    /// rounds to 0 writes a transparent pixel (as [`FillKeyMut::clear`]). The pixel must lie
    /// inside the frame.
    #[inline]
    pub fn put(&mut self, x: u32, y: u32, colour: [f32; 3], alpha: f32) {
        let bpp = self.format.bytes_per_pixel();
        let i = y as usize * self.stride + x as usize * bpp;
        let byte = |v: f32| (v.clamp(0.0, 255.0) + 0.5) as u8;
        let zero = match self.format {
            FillKeyFormat::Bgra | FillKeyFormat::Argb => byte(alpha * 255.0) == 0,
            FillKeyFormat::Ayuv64 => alpha.clamp(0.0, 1.0) * 65535.0 < 0.5,
        };
        if zero {
            let blank = self.blank();
            self.data[i..i + bpp].copy_from_slice(&blank[..bpp]);
            return;
        }
        let px = &mut self.data[i..i + bpp];
        match self.format {
            FillKeyFormat::Bgra => {
                px.copy_from_slice(&[
                    byte(colour[2]),
                    byte(colour[1]),
                    byte(colour[0]),
                    byte(alpha * 255.0),
                ]);
            }
            FillKeyFormat::Argb => {
                px.copy_from_slice(&[
                    byte(alpha * 255.0),
                    byte(colour[0]),
                    byte(colour[1]),
                    byte(colour[2]),
                ]);
            }
            FillKeyFormat::Ayuv64 => {
                let a = (alpha.clamp(0.0, 1.0) * 65535.0 + 0.5) as u16;
                let words = [
                    a,
                    widen_10(colour[0]),
                    widen_10(colour[1]),
                    widen_10(colour[2]),
                ];
                for (d, w) in px.chunks_exact_mut(2).zip(words) {
                    d.copy_from_slice(&w.to_le_bytes());
                }
            }
        }
    }
}

/// A 10-bit code (unrounded) on the 16-bit scale of `AYUV64`: `c * 65535 / 1023`, rounded.
#[inline]
fn widen_10(code: f32) -> u16 {
    (code.clamp(0.0, 1023.0) * (65535.0 / 1023.0) + 0.5) as u16
}
