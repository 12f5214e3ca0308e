//! Video frames in the 8-bit formats the engine handles, with explicit plane offsets and
//! strides (as `GStreamer` lays them out), so no stage ever converts a whole frame.
//!
//! YUV formats are BT.709 limited range (Y 16..=235, Cb/Cr 16..=240); RGB formats are full range.

use std::fmt;
use std::str::FromStr;

/// Pixel formats (8 bits per component).
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
}

impl PixelFormat {
    /// Every supported format.
    pub const ALL: [Self; 7] = [
        Self::Rgba,
        Self::Bgra,
        Self::Rgbx,
        Self::Bgrx,
        Self::I420,
        Self::Nv12,
        Self::Uyvy,
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
            Self::I420 => 3,
            Self::Nv12 => 2,
            _ => 1,
        }
    }

    /// Tightly packed (bytes per row, rows) of each plane for a size; the first
    /// [`PixelFormat::plane_count`] entries are used, the rest are (0, 0). Chroma planes (index
    /// 1 and 2) hold one row per two frame rows.
    pub fn packed_planes(self, width: usize, height: usize) -> [(usize, usize); 3] {
        let (cw, ch) = (width.div_ceil(2), height.div_ceil(2));
        match self {
            Self::Rgba | Self::Bgra | Self::Rgbx | Self::Bgrx => {
                [(width * 4, height), (0, 0), (0, 0)]
            }
            Self::I420 => [(width, height), (cw, ch), (cw, ch)],
            Self::Nv12 => [(width, height), (cw * 2, ch), (0, 0)],
            Self::Uyvy => [(cw * 4, height), (0, 0), (0, 0)],
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
        Self::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| FrameError::UnknownFormat(s.to_string()))
    }
}

/// Errors describing a frame layout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Format name not supported.
    #[error("unsupported pixel format {0:?} (supported: RGBA, BGRA, RGBx, BGRx, I420, NV12, UYVY)")]
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
        })
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

    /// Limited-range BT.709 YCbCr of pixel (x, y) (RGB formats converted).
    #[inline]
    pub fn ycbcr(&self, x: u32, y: u32) -> [u8; 3] {
        read_ycbcr(self.layout, self.data, x, y)
    }

    /// Limited-range BT.709 YCbCr code values of pixel (x, y) as floats: the bytes of a YUV
    /// format, or `rgb_to_ycbcr709` of an RGB pixel without rounding (what the keyer uses).
    #[inline]
    pub fn ycbcr_f32(&self, x: u32, y: u32) -> [f32; 3] {
        if let Some([iy, icb, icr]) = yuv_indices(self.layout, x, y) {
            [
                f32::from(self.data[iy]),
                f32::from(self.data[icb]),
                f32::from(self.data[icr]),
            ]
        } else {
            let [r, g, b] = read_rgb(self.layout, self.data, x, y);
            rgb_to_ycbcr709(f32::from(r), f32::from(g), f32::from(b))
        }
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

/// Byte index of the luma sample and the two chroma samples of pixel (x, y) in a YUV layout.
#[inline]
pub fn yuv_indices(layout: &FrameLayout, x: u32, y: u32) -> Option<[usize; 3]> {
    let (x, y) = (x as usize, y as usize);
    let p = &layout.planes;
    match layout.format {
        PixelFormat::I420 => Some([
            p[0].offset + y * p[0].stride + x,
            p[1].offset + (y / 2) * p[1].stride + x / 2,
            p[2].offset + (y / 2) * p[2].stride + x / 2,
        ]),
        PixelFormat::Nv12 => {
            let c = p[1].offset + (y / 2) * p[1].stride + (x / 2) * 2;
            Some([p[0].offset + y * p[0].stride + x, c, c + 1])
        }
        PixelFormat::Uyvy => {
            let base = p[0].offset + y * p[0].stride + (x / 2) * 4;
            Some([base + 1 + (x % 2) * 2, base, base + 2])
        }
        _ => None,
    }
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
        let [iy, icb, icr] = yuv_indices(layout, x, y).unwrap_or_default();
        let c = ycbcr709_to_rgb(
            f32::from(data[iy]),
            f32::from(data[icb]),
            f32::from(data[icr]),
        );
        c.map(|v| v.round().clamp(0.0, 255.0) as u8)
    }
}

#[inline]
fn read_ycbcr(layout: &FrameLayout, data: &[u8], x: u32, y: u32) -> [u8; 3] {
    if let Some([iy, icb, icr]) = yuv_indices(layout, x, y) {
        [data[iy], data[icb], data[icr]]
    } else {
        let [r, g, b] = read_rgb(layout, data, x, y);
        rgb_to_ycbcr709(f32::from(r), f32::from(g), f32::from(b))
            .map(|v| v.round().clamp(0.0, 255.0) as u8)
    }
}
