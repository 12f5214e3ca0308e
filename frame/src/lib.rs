//! Video frames in the 8-bit and 10-bit formats the engine handles, with explicit plane offsets
//! and strides (as `GStreamer` lays them out), so no stage ever converts a whole frame.
//!
//! A YUV frame's codes follow its layout's [`Colorimetry`]: the BT.601, BT.709 or BT.2020
//! matrix, limited or full range (BT.709 limited range unless the front end says otherwise:
//! Y 16..=235, Cb/Cr 16..=240 at 8 bits; four times that at 10 bits: Y 64..=940, Cb/Cr
//! 64..=960). RGB formats are full range. Float code values ([`FrameRef::ycbcr_f32`], the
//! conversions) are on the 8-bit scale whatever the depth: a 10-bit code `c` reads as `c / 4`,
//! exactly.
//!
//! The **key space** every palette and key LUT speaks is BT.709 limited range: what
//! [`FrameRef::ycbcr_f32`] returns for every frame (a frame of another colorimetry mapped
//! through R'G'B', [`Colorimetry::to_key_space`]), while [`FrameRef::codes`] gives the frame's
//! own codes.

use std::fmt;
use std::str::FromStr;

mod fill_key;
pub use fill_key::{FillKeyFormat, FillKeyMut};

/// Pixel formats (8 bits per component, or 10 for the `*_10LE` formats and v210).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PixelFormat {
    /// R, G, B, A bytes.
    Rgba,
    /// B, G, R, A bytes.
    Bgra,
    /// R, G, B, padding bytes.
    Rgbx,
    /// B, G, R, padding bytes.
    Bgrx,
    /// Planar Y, U (Cb), V (Cr); chroma halved in both directions.
    I420,
    /// Planar Y, interleaved Cb/Cr; chroma halved in both directions.
    Nv12,
    /// Packed U Y0 V Y1 per two pixels.
    Uyvy,
    /// 10-bit 4:2:2 packed as SDI carries it: six pixels in four little-endian 32-bit words
    /// (three 10-bit samples each, bits 0, 10 and 20: Cb0 Y0 Cr0, Y1 Cb1 Y2, Cr1 Y3 Cb2,
    /// Y4 Cr2 Y5); rows padded to 48 pixels (128 bytes).
    V210,
    /// 10-bit 4:2:0: a plane of 16-bit little-endian Y, one of interleaved Cb/Cr; each sample in
    /// the high 10 bits (`GStreamer`'s `P010_10LE`).
    P010,
    /// 10-bit planar 4:2:0: Y, U (Cb), V (Cr) planes of 16-bit little-endian samples in the low
    /// 10 bits (`I420_10LE`).
    I420_10,
    /// 10-bit planar 4:2:2: as [`PixelFormat::I420_10`] with chroma halved only across
    /// (`I422_10LE`).
    I422_10,
}

/// How a YUV format stores one sample (see [`Sample`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleStorage {
    /// One byte, the 8-bit code.
    U8,
    /// A little-endian 16-bit word, the 10-bit code at bit [`Sample::shift`].
    U16,
    /// A little-endian 32-bit word (v210), the 10-bit code at bit [`Sample::shift`].
    U32,
}

/// Where one component sample of a YUV pixel lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sample {
    /// Byte index (in the frame's buffer) of the byte or word holding the sample.
    pub byte: usize,
    /// Bit (within the word) of the code's lowest bit (0 for 8-bit formats).
    pub shift: u32,
}

impl PixelFormat {
    /// Every supported format.
    pub const ALL: [Self; 11] = [
        Self::Rgba,
        Self::Bgra,
        Self::Rgbx,
        Self::Bgrx,
        Self::I420,
        Self::Nv12,
        Self::Uyvy,
        Self::V210,
        Self::P010,
        Self::I420_10,
        Self::I422_10,
    ];

    /// The format's name in `GStreamer` caps.
    pub fn name(self) -> &'static str {
        match self {
            Self::Rgba => "RGBA",
            Self::Bgra => "BGRA",
            Self::Rgbx => "RGBx",
            Self::Bgrx => "BGRx",
            Self::I420 => "I420",
            Self::Nv12 => "NV12",
            Self::Uyvy => "UYVY",
            Self::V210 => "v210",
            Self::P010 => "P010_10LE",
            Self::I420_10 => "I420_10LE",
            Self::I422_10 => "I422_10LE",
        }
    }

    /// Bits per component: 8, or 10 for v210 and the `*_10LE` formats.
    pub fn bit_depth(self) -> u32 {
        match self {
            Self::V210 | Self::P010 | Self::I420_10 | Self::I422_10 => 10,
            _ => 8,
        }
    }

    /// How a YUV sample is stored ([`SampleStorage::U8`] for the RGB family, which has none).
    pub fn sample_storage(self) -> SampleStorage {
        match self {
            Self::V210 => SampleStorage::U32,
            Self::P010 | Self::I420_10 | Self::I422_10 => SampleStorage::U16,
            _ => SampleStorage::U8,
        }
    }

    /// Pixels per chroma site across and down: (2, 2) for 4:2:0, (2, 1) for 4:2:2, (1, 1) for
    /// RGB.
    pub fn chroma_step(self) -> (u32, u32) {
        match self {
            Self::I420 | Self::Nv12 | Self::P010 | Self::I420_10 => (2, 2),
            Self::Uyvy | Self::V210 | Self::I422_10 => (2, 1),
            _ => (1, 1),
        }
    }

    /// True for the 4-byte RGB family.
    pub fn is_rgb(self) -> bool {
        matches!(self, Self::Rgba | Self::Bgra | Self::Rgbx | Self::Bgrx)
    }

    /// Byte offsets of R, G, B within a pixel for the RGB family.
    pub fn rgb_offsets(self) -> Option<[usize; 3]> {
        match self {
            Self::Rgba | Self::Rgbx => Some([0, 1, 2]),
            Self::Bgra | Self::Bgrx => Some([2, 1, 0]),
            _ => None,
        }
    }

    /// Number of planes.
    pub fn plane_count(self) -> usize {
        match self {
            Self::I420 | Self::I420_10 | Self::I422_10 => 3,
            Self::Nv12 | Self::P010 => 2,
            _ => 1,
        }
    }

    /// Tightly packed (bytes per row, rows) of each plane for a size; the first
    /// [`PixelFormat::plane_count`] entries are used, the rest are (0, 0). Chroma planes (index
    /// 1 and 2) hold one row per [`PixelFormat::chroma_step`] frame rows.
    pub fn packed_planes(self, width: usize, height: usize) -> [(usize, usize); 3] {
        let (cw, ch) = (width.div_ceil(2), height.div_ceil(2));
        match self {
            Self::Rgba | Self::Bgra | Self::Rgbx | Self::Bgrx => {
                [(width * 4, height), (0, 0), (0, 0)]
            }
            Self::I420 => [(width, height), (cw, ch), (cw, ch)],
            Self::Nv12 => [(width, height), (cw * 2, ch), (0, 0)],
            Self::Uyvy => [(cw * 4, height), (0, 0), (0, 0)],
            Self::V210 => [(width.div_ceil(48) * 128, height), (0, 0), (0, 0)],
            Self::P010 => [(width * 2, height), (cw * 4, ch), (0, 0)],
            Self::I420_10 => [(width * 2, height), (cw * 2, ch), (cw * 2, ch)],
            Self::I422_10 => [(width * 2, height), (cw * 2, height), (cw * 2, height)],
        }
    }
}

impl fmt::Display for PixelFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PixelFormat {
    type Err = FrameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        format_by_name(Self::ALL, Self::name, s)
    }
}

/// The format of `all` whose name is `s` (any case, surrounding blanks ignored).
pub(crate) fn format_by_name<F: Copy, const N: usize>(
    all: [F; N],
    name: fn(F) -> &'static str,
    s: &str,
) -> Result<F, FrameError> {
    all.into_iter()
        .find(|&f| name(f).eq_ignore_ascii_case(s.trim()))
        .ok_or_else(|| FrameError::UnknownFormat(s.to_string()))
}

/// Errors describing a frame layout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Format name not supported.
    #[error(
        "unsupported pixel format {0:?} (supported: RGBA, BGRA, RGBx, BGRx, I420, NV12, UYVY, \
         v210, P010_10LE, I420_10LE, I422_10LE)"
    )]
    UnknownFormat(String),
    /// Zero or absurd size.
    #[error("invalid frame size {0}x{1}")]
    BadSize(u32, u32),
    /// Plane description does not fit the buffer or format.
    #[error("plane {plane} does not fit: {reason}")]
    BadPlane {
        /// Plane index.
        plane: usize,
        /// What is wrong.
        reason: String,
    },
}

/// Offset and stride of one plane (bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Plane {
    /// Byte offset of the plane's first row in the buffer.
    pub offset: usize,
    /// Bytes from one row to the next.
    pub stride: usize,
}

/// The matrix from R'G'B' to a YUV frame's YCbCr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum YuvMatrix {
    /// ITU-R BT.601 (SD): Kr 0.299, Kb 0.114.
    Bt601,
    /// ITU-R BT.709 (HD): Kr 0.2126, Kb 0.0722.
    #[default]
    Bt709,
    /// ITU-R BT.2020 non-constant luminance (UHD): Kr 0.2627, Kb 0.0593.
    Bt2020,
}

/// The code range of a YUV frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum YuvRange {
    /// Y 16..=235, Cb/Cr 16..=240 (x4 at 10 bits): broadcast video.
    #[default]
    Limited,
    /// Y and Cb/Cr over every code, chroma centred at 128 (512 at 10 bits), as `GStreamer`'s
    /// `0_255` range: an 8-bit scale of 255, a 10-bit one of 1023.
    Full,
}

/// How a YUV frame's codes relate to R'G'B': the matrix and the range. Primaries and transfer
/// are not converted (as `videoconvert` does not by default): R'G'B' passes as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Colorimetry {
    /// The matrix.
    pub matrix: YuvMatrix,
    /// The range.
    pub range: YuvRange,
}

impl Colorimetry {
    /// BT.709 limited range: the key space, and what a YUV frame is taken as unless told.
    pub const BT709_LIMITED: Self = Self {
        matrix: YuvMatrix::Bt709,
        range: YuvRange::Limited,
    };

    /// True for [`Colorimetry::BT709_LIMITED`], whose codes are the key space's own.
    #[inline]
    pub fn is_key_space(self) -> bool {
        self == Self::BT709_LIMITED
    }

    /// (Kr, Kb) of the matrix.
    fn kr_kb(self) -> (f32, f32) {
        match self.matrix {
            YuvMatrix::Bt601 => (0.299, 0.114),
            YuvMatrix::Bt709 => (0.2126, 0.0722),
            YuvMatrix::Bt2020 => (0.2627, 0.0593),
        }
    }

    /// Offsets and scales of Y and of Cb/Cr on the 8-bit code scale for a depth: limited
    /// range 16 + 219 y and 128 + 224 c at every depth; full range 255 (8 bits) or 1023 / 4
    /// (10 bits) times y, chroma about 128.
    fn range_of(self, bits: u32) -> (f32, f32, f32) {
        match self.range {
            YuvRange::Limited => (16.0, 219.0, 224.0),
            YuvRange::Full => {
                let s = if bits == 10 { 1023.0 / 4.0 } else { 255.0 };
                (0.0, s, s)
            }
        }
    }

    /// YCbCr code values (8-bit scale, unrounded, unclamped) of full-range R'G'B' (0..=255)
    /// in a frame of `bits` per component. BT.709 limited range is exactly
    /// [`rgb_to_ycbcr709`].
    #[inline]
    pub fn rgb_to_ycbcr(self, bits: u32, [r, g, b]: [f32; 3]) -> [f32; 3] {
        if self.is_key_space() {
            return rgb_to_ycbcr709(r, g, b);
        }
        let (kr, kb) = self.kr_kb();
        let (oy, sy, sc) = self.range_of(bits);
        let y = (kr * r + (1.0 - kr - kb) * g + kb * b) / 255.0;
        let cb = (b / 255.0 - y) / (2.0 * (1.0 - kb));
        let cr = (r / 255.0 - y) / (2.0 * (1.0 - kr));
        [oy + sy * y, 128.0 + sc * cb, 128.0 + sc * cr]
    }

    /// Full-range R'G'B' (0..=255, unclamped) of YCbCr code values (8-bit scale) of a frame
    /// of `bits` per component: the inverse of [`Colorimetry::rgb_to_ycbcr`].
    #[inline]
    pub fn ycbcr_to_rgb(self, bits: u32, [y, cb, cr]: [f32; 3]) -> [f32; 3] {
        if self.is_key_space() {
            return ycbcr709_to_rgb(y, cb, cr);
        }
        let (kr, kb) = self.kr_kb();
        let (oy, sy, sc) = self.range_of(bits);
        let yf = (y - oy) / sy;
        let pb = (cb - 128.0) / sc;
        let pr = (cr - 128.0) / sc;
        let r = yf + 2.0 * (1.0 - kr) * pr;
        let b = yf + 2.0 * (1.0 - kb) * pb;
        let g = (yf - kr * r - kb * b) / (1.0 - kr - kb);
        [r * 255.0, g * 255.0, b * 255.0]
    }

    /// The key space's (BT.709 limited range) code values of the same R'G'B' as YCbCr code
    /// values `ycbcr` (8-bit scale) of this colorimetry at `bits` per component; the identity
    /// for [`Colorimetry::BT709_LIMITED`].
    #[inline]
    pub fn to_key_space(self, bits: u32, ycbcr: [f32; 3]) -> [f32; 3] {
        if self.is_key_space() {
            return ycbcr;
        }
        let [r, g, b] = self.ycbcr_to_rgb(bits, ycbcr);
        rgb_to_ycbcr709(r, g, b)
    }
}

impl fmt::Display for Colorimetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = match self.matrix {
            YuvMatrix::Bt601 => "BT.601",
            YuvMatrix::Bt709 => "BT.709",
            YuvMatrix::Bt2020 => "BT.2020",
        };
        let r = match self.range {
            YuvRange::Limited => "limited",
            YuvRange::Full => "full",
        };
        write!(f, "{m} {r} range")
    }
}

/// Where each plane of a frame lies in its buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameLayout {
    /// Pixel format.
    pub format: PixelFormat,
    /// Width (pixels).
    pub width: u32,
    /// Height (pixels).
    pub height: u32,
    /// Planes, `format.plane_count()` of them.
    pub planes: [Plane; 3],
    /// Bytes the buffer must hold at least.
    pub size: usize,
    /// How a YUV format's codes relate to R'G'B' (ignored by the RGB formats); BT.709 limited
    /// range unless set ([`FrameLayout::with_colorimetry`]).
    pub colorimetry: Colorimetry,
}

/// Largest accepted width or height (8K plus headroom).
pub const MAX_DIMENSION: u32 = 16_384;

impl FrameLayout {
    /// Tightly packed layout (no row padding), planes one after another.
    pub fn packed(format: PixelFormat, width: u32, height: u32) -> Result<Self, FrameError> {
        check_size(width, height)?;
        let mut planes = [Plane::default(); 3];
        let mut offset = 0;
        for (i, (stride, rows)) in format
            .packed_planes(width as usize, height as usize)
            .into_iter()
            .take(format.plane_count())
            .enumerate()
        {
            planes[i] = Plane { offset, stride };
            offset += stride * rows;
        }
        Ok(Self {
            format,
            width,
            height,
            planes,
            size: offset,
            colorimetry: Colorimetry::BT709_LIMITED,
        })
    }

    /// Layout with explicit plane offsets and strides (e.g. from `GStreamer`'s video info),
    /// checked against the format's minimum row sizes and the buffer size.
    pub fn with_planes(
        format: PixelFormat,
        width: u32,
        height: u32,
        offsets: &[usize],
        strides: &[usize],
        buffer_size: usize,
    ) -> Result<Self, FrameError> {
        check_size(width, height)?;
        let count = format.plane_count();
        if offsets.len() < count || strides.len() < count {
            return Err(FrameError::BadPlane {
                plane: offsets.len().min(strides.len()),
                reason: format!("{format} needs {count} planes"),
            });
        }
        let mut planes = [Plane::default(); 3];
        for (i, plane) in planes.iter_mut().enumerate().take(count) {
            *plane = Plane {
                offset: offsets[i],
                stride: strides[i],
            };
        }
        let size = planes_end(format, width, height, &planes)?;
        if size > buffer_size {
            return Err(FrameError::BadPlane {
                plane: 0,
                reason: format!("planes end at byte {size}, buffer holds {buffer_size}"),
            });
        }
        Ok(Self {
            format,
            width,
            height,
            planes,
            size,
            colorimetry: Colorimetry::BT709_LIMITED,
        })
    }

    /// The same layout with its YUV codes in colorimetry `c`.
    #[must_use]
    pub fn with_colorimetry(mut self, c: Colorimetry) -> Self {
        self.colorimetry = c;
        self
    }

    /// The colorimetry of the frame's codes: its own for the YUV formats, BT.709 limited
    /// range (the key space, which RGB pixels are converted to) for the RGB family.
    #[inline]
    pub fn yuv_colorimetry(&self) -> Colorimetry {
        if self.format.is_rgb() {
            Colorimetry::BT709_LIMITED
        } else {
            self.colorimetry
        }
    }

    /// Checks that this layout is self-consistent (size within limits, strides at least one
    /// row, no arithmetic overflow) and that a buffer of `len` bytes holds every plane, so that
    /// every in-frame pixel access stays inside the buffer.
    pub fn check_buffer(&self, len: usize) -> Result<(), FrameError> {
        check_size(self.width, self.height)?;
        let end = planes_end(self.format, self.width, self.height, &self.planes)?;
        if len < end || len < self.size {
            return Err(FrameError::BadPlane {
                plane: 0,
                reason: format!(
                    "buffer holds {len} bytes, layout needs {}",
                    end.max(self.size)
                ),
            });
        }
        Ok(())
    }

    /// True when pixel (x, y) lies inside the frame.
    #[inline]
    pub fn contains(&self, x: u32, y: u32) -> bool {
        x < self.width && y < self.height
    }
}

/// One past the last byte any plane of the layout touches; errors on a stride shorter than a
/// row or on arithmetic overflow.
fn planes_end(
    format: PixelFormat,
    width: u32,
    height: u32,
    planes: &[Plane; 3],
) -> Result<usize, FrameError> {
    let mut size = 0;
    for (i, (min_stride, rows)) in format
        .packed_planes(width as usize, height as usize)
        .into_iter()
        .take(format.plane_count())
        .enumerate()
    {
        let Plane { offset, stride } = planes[i];
        if stride < min_stride {
            return Err(FrameError::BadPlane {
                plane: i,
                reason: format!("stride {stride} < row size {min_stride}"),
            });
        }
        let end = stride
            .checked_mul(rows - 1)
            .and_then(|v| v.checked_add(offset))
            .and_then(|v| v.checked_add(min_stride))
            .ok_or_else(|| FrameError::BadPlane {
                plane: i,
                reason: format!("offset {offset} + stride {stride} x {rows} rows overflows"),
            })?;
        size = size.max(end);
    }
    Ok(size)
}

fn check_size(width: u32, height: u32) -> Result<(), FrameError> {
    if width == 0 || height == 0 || width > MAX_DIMENSION || height > MAX_DIMENSION {
        return Err(FrameError::BadSize(width, height));
    }
    Ok(())
}

/// BT.709 limited-range YCbCr from full-range RGB (all 0..=255 code values; not rounded or
/// clamped, so the keyer sees the exact colour).
#[inline]
pub fn rgb_to_ycbcr709(r: f32, g: f32, b: f32) -> [f32; 3] {
    let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    let cb = (b - y) / 1.8556;
    let cr = (r - y) / 1.5748;
    [
        16.0 + y * (219.0 / 255.0),
        128.0 + cb * (224.0 / 255.0),
        128.0 + cr * (224.0 / 255.0),
    ]
}

/// Full-range RGB (0..=255, unclamped) from BT.709 limited-range YCbCr code values.
#[inline]
pub fn ycbcr709_to_rgb(y: f32, cb: f32, cr: f32) -> [f32; 3] {
    let yf = (y - 16.0) * (255.0 / 219.0);
    let pb = (cb - 128.0) * (255.0 / 224.0);
    let pr = (cr - 128.0) * (255.0 / 224.0);
    let r = yf + 1.5748 * pr;
    let b = yf + 1.8556 * pb;
    let g = (yf - 0.2126 * r - 0.0722 * b) / 0.7152;
    [r, g, b]
}

/// Read-only view of a frame.
///
/// Build it with [`FrameRef::new`], which checks the layout against the buffer; the pixel
/// accessors then never read outside the buffer for in-frame coordinates. Coordinates must lie
/// inside the frame ([`FrameLayout::contains`]): outside it they may read a neighbouring row's
/// bytes or panic like slice indexing.
#[derive(Debug, Clone, Copy)]
pub struct FrameRef<'a> {
    /// Layout.
    pub layout: &'a FrameLayout,
    /// Buffer (at least `layout.size` bytes).
    pub data: &'a [u8],
}

/// Mutable view of a frame.
#[derive(Debug)]
pub struct FrameMut<'a> {
    /// Layout.
    pub layout: &'a FrameLayout,
    /// Buffer (at least `layout.size` bytes).
    pub data: &'a mut [u8],
}

impl<'a> FrameRef<'a> {
    /// View over a buffer; errors when it is shorter than the layout needs.
    pub fn new(layout: &'a FrameLayout, data: &'a [u8]) -> Result<Self, FrameError> {
        check_len(layout, data.len())?;
        Ok(Self { layout, data })
    }

    /// Full-range RGB of pixel (x, y) (YUV formats converted, chroma from its site).
    #[inline]
    pub fn rgb(&self, x: u32, y: u32) -> [u8; 3] {
        read_rgb(self.layout, self.data, x, y)
    }

    /// The frame's own YCbCr of pixel (x, y) as bytes, in its colorimetry (10-bit codes
    /// rounded to the 8-bit scale); an RGB pixel converted to BT.709 limited range (the
    /// components the GPU compositor's atlas holds).
    #[inline]
    pub fn ycbcr(&self, x: u32, y: u32) -> [u8; 3] {
        read_ycbcr(self.layout, self.data, x, y)
    }

    /// The key space's YCbCr (BT.709 limited range) code values of pixel (x, y) as floats on
    /// the 8-bit scale: the samples of a BT.709 limited-range YUV frame (a 10-bit code divided
    /// by 4, exactly), [`Colorimetry::to_key_space`] of those of another colorimetry, or
    /// `rgb_to_ycbcr709` of an RGB pixel without rounding (what the keyer uses).
    #[inline]
    pub fn ycbcr_f32(&self, x: u32, y: u32) -> [f32; 3] {
        if let Some(c) = read_codes(self.layout, self.data, x, y) {
            let format = self.layout.format;
            let scale = code_scale(format);
            let v = c.map(|v| f32::from(v) * scale);
            self.layout.colorimetry.to_key_space(format.bit_depth(), v)
        } else {
            let [r, g, b] = read_rgb(self.layout, self.data, x, y);
            rgb_to_ycbcr709(f32::from(r), f32::from(g), f32::from(b))
        }
    }

    /// The Y, Cb, Cr codes of pixel (x, y) at the format's own depth (0..=1023 for the 10-bit
    /// formats); `None` for the RGB family.
    #[inline]
    pub fn codes(&self, x: u32, y: u32) -> Option<[u16; 3]> {
        read_codes(self.layout, self.data, x, y)
    }

    /// Width (pixels).
    #[inline]
    pub fn width(&self) -> u32 {
        self.layout.width
    }

    /// Height (pixels).
    #[inline]
    pub fn height(&self) -> u32 {
        self.layout.height
    }
}

impl<'a> FrameMut<'a> {
    /// Mutable view over a buffer; errors when it is shorter than the layout needs.
    pub fn new(layout: &'a FrameLayout, data: &'a mut [u8]) -> Result<Self, FrameError> {
        check_len(layout, data.len())?;
        Ok(Self { layout, data })
    }

    /// Read-only view of the same frame.
    pub fn as_ref(&self) -> FrameRef<'_> {
        FrameRef {
            layout: self.layout,
            data: self.data,
        }
    }
}

fn check_len(layout: &FrameLayout, len: usize) -> Result<(), FrameError> {
    layout.check_buffer(len)
}

/// Byte index of the luma sample and the two chroma samples of pixel (x, y) in an 8-bit YUV
/// layout (`None` for the RGB family and the 10-bit formats: see [`yuv_samples`]).
#[inline]
pub fn yuv_indices(layout: &FrameLayout, x: u32, y: u32) -> Option<[usize; 3]> {
    if layout.format.bit_depth() != 8 {
        return None;
    }
    yuv_samples(layout, x, y).map(|s| s.map(|s| s.byte))
}

/// Where the luma sample and the two chroma samples (its own chroma site) of pixel (x, y) of a
/// YUV layout lie; `None` for the RGB family. Read and write them with [`read_sample`] and
/// [`write_sample`] and the format's [`PixelFormat::sample_storage`].
#[inline]
pub fn yuv_samples(layout: &FrameLayout, x: u32, y: u32) -> Option<[Sample; 3]> {
    let (x, y) = (x as usize, y as usize);
    let p = &layout.planes;
    let at = |byte: usize| Sample { byte, shift: 0 };
    let row = |plane: usize, r: usize| p[plane].offset + r * p[plane].stride;
    Some(match layout.format {
        PixelFormat::I420 => [
            at(row(0, y) + x),
            at(row(1, y / 2) + x / 2),
            at(row(2, y / 2) + x / 2),
        ],
        PixelFormat::Nv12 => {
            let c = row(1, y / 2) + (x / 2) * 2;
            [at(row(0, y) + x), at(c), at(c + 1)]
        }
        PixelFormat::Uyvy => {
            let base = row(0, y) + (x / 2) * 4;
            [at(base + 1 + (x % 2) * 2), at(base), at(base + 2)]
        }
        PixelFormat::I420_10 => [
            at(row(0, y) + 2 * x),
            at(row(1, y / 2) + 2 * (x / 2)),
            at(row(2, y / 2) + 2 * (x / 2)),
        ],
        PixelFormat::I422_10 => [
            at(row(0, y) + 2 * x),
            at(row(1, y) + 2 * (x / 2)),
            at(row(2, y) + 2 * (x / 2)),
        ],
        PixelFormat::P010 => {
            let c = row(1, y / 2) + (x / 2) * 4;
            let hi = |byte: usize| Sample { byte, shift: 6 };
            [hi(row(0, y) + 2 * x), hi(c), hi(c + 2)]
        }
        PixelFormat::V210 => {
            // (word, bit) of each sample of a six-pixel block.
            const Y: [(usize, u32); 6] = [(0, 10), (1, 0), (1, 20), (2, 10), (3, 0), (3, 20)];
            const CB: [(usize, u32); 3] = [(0, 0), (1, 10), (2, 20)];
            const CR: [(usize, u32); 3] = [(0, 20), (2, 0), (3, 10)];
            let base = row(0, y) + (x / 6) * 16;
            let (i, site) = (x % 6, (x % 6) / 2);
            let word = |(w, shift): (usize, u32)| Sample {
                byte: base + 4 * w,
                shift,
            };
            [word(Y[i]), word(CB[site]), word(CR[site])]
        }
        _ => return None,
    })
}

/// Mask of a 10-bit code.
const CODE_10: u32 = 0x3ff;

/// The code of sample `s` (0..=255 for [`SampleStorage::U8`], else 0..=1023). The sample must
/// lie inside `data` (as [`yuv_samples`] of an in-frame pixel of a checked frame does).
#[inline]
pub fn read_sample(storage: SampleStorage, data: &[u8], s: Sample) -> u16 {
    let b = s.byte;
    match storage {
        SampleStorage::U8 => u16::from(data[b]),
        SampleStorage::U16 => {
            ((u32::from(u16::from_le_bytes([data[b], data[b + 1]])) >> s.shift) & CODE_10) as u16
        }
        SampleStorage::U32 => {
            let w = u32::from_le_bytes([data[b], data[b + 1], data[b + 2], data[b + 3]]);
            ((w >> s.shift) & CODE_10) as u16
        }
    }
}

/// Writes `code` (clamped to the storage's range) into sample `s`, leaving the word's other
/// samples as they were; a P010 sample's low 6 bits become 0.
#[inline]
pub fn write_sample(storage: SampleStorage, data: &mut [u8], s: Sample, code: u16) {
    let b = s.byte;
    match storage {
        SampleStorage::U8 => data[b] = code.min(255) as u8,
        SampleStorage::U16 => {
            let v = (u32::from(code.min(1023)) << s.shift) as u16;
            data[b..b + 2].copy_from_slice(&v.to_le_bytes());
        }
        SampleStorage::U32 => {
            let w = u32::from_le_bytes([data[b], data[b + 1], data[b + 2], data[b + 3]]);
            let w = (w & !(CODE_10 << s.shift)) | (u32::from(code.min(1023)) << s.shift);
            data[b..b + 4].copy_from_slice(&w.to_le_bytes());
        }
    }
}

/// The 8-bit-scale value of one code of `format` (1 at 8 bits, 1/4 at 10).
#[inline]
pub fn code_scale(format: PixelFormat) -> f32 {
    if format.bit_depth() == 10 { 0.25 } else { 1.0 }
}

/// The Y, Cb, Cr codes of pixel (x, y) of a YUV layout at its own depth.
#[inline]
fn read_codes(layout: &FrameLayout, data: &[u8], x: u32, y: u32) -> Option<[u16; 3]> {
    let storage = layout.format.sample_storage();
    yuv_samples(layout, x, y).map(|s| s.map(|s| read_sample(storage, data, s)))
}

/// Byte index of the first byte of pixel (x, y) in an RGB-family layout.
#[inline]
pub fn rgb_index(layout: &FrameLayout, x: u32, y: u32) -> usize {
    layout.planes[0].offset + y as usize * layout.planes[0].stride + x as usize * 4
}

#[inline]
fn read_rgb(layout: &FrameLayout, data: &[u8], x: u32, y: u32) -> [u8; 3] {
    if let Some(o) = layout.format.rgb_offsets() {
        let i = rgb_index(layout, x, y);
        [data[i + o[0]], data[i + o[1]], data[i + o[2]]]
    } else {
        let scale = code_scale(layout.format);
        let c = read_codes(layout, data, x, y)
            .unwrap_or_default()
            .map(|v| f32::from(v) * scale);
        layout
            .colorimetry
            .ycbcr_to_rgb(layout.format.bit_depth(), c)
            .map(|v| v.round().clamp(0.0, 255.0) as u8)
    }
}

#[inline]
fn read_ycbcr(layout: &FrameLayout, data: &[u8], x: u32, y: u32) -> [u8; 3] {
    if let Some(c) = read_codes(layout, data, x, y) {
        if layout.format.bit_depth() == 8 {
            return c.map(|v| v as u8);
        }
        c.map(|v| (f32::from(v) * 0.25).round().clamp(0.0, 255.0) as u8)
    } else {
        let [r, g, b] = read_rgb(layout, data, x, y);
        rgb_to_ycbcr709(f32::from(r), f32::from(g), f32::from(b))
            .map(|v| v.round().clamp(0.0, 255.0) as u8)
    }
}
