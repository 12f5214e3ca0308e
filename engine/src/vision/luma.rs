//! Fast luma reads from any supported frame format, without converting the frame.

use yardline_frame::{FrameRef, PixelFormat, code_scale};

/// BT.709 luma weight of red.
const LUMA_R: f32 = 0.2126;
/// BT.709 luma weight of green.
const LUMA_G: f32 = 0.7152;
/// BT.709 luma weight of blue.
const LUMA_B: f32 = 0.0722;

/// Read-only luma access to a frame: the Y plane of YUV formats (10-bit codes on the 8-bit
/// scale, `code / 4`), a weighted sum of RGB formats.
#[derive(Debug, Clone, Copy)]
pub struct LumaView<'a> {
    frame: FrameRef<'a>,
    /// Byte offsets of R, G, B within a 4-byte pixel (RGB family only).
    rgb: Option<[usize; 3]>,
    /// Offset (bytes) of the first luma sample and its step (bytes) between columns (YUV).
    y_plane: (usize, usize, usize),
    /// The frame is a 10-bit one: luma read sample by sample.
    ten: bool,
}

impl<'a> LumaView<'a> {
    /// A luma view of `frame`.
    pub fn new(frame: FrameRef<'a>) -> Self {
        let layout = frame.layout;
        let rgb = layout.format.rgb_offsets();
        let p = layout.planes[0];
        let y_plane = match layout.format {
            PixelFormat::I420 | PixelFormat::Nv12 => (p.offset, p.stride, 1),
            // UYVY: U Y0 V Y1; luma at byte 1 of each 2-byte step.
            PixelFormat::Uyvy => (p.offset + 1, p.stride, 2),
            _ => (p.offset, p.stride, 4),
        };
        Self {
            frame,
            rgb,
            y_plane,
            ten: layout.format.bit_depth() == 10,
        }
    }

    /// Width (pixels).
    #[inline]
    pub fn width(&self) -> u32 {
        self.frame.layout.width
    }

    /// Height (pixels).
    #[inline]
    pub fn height(&self) -> u32 {
        self.frame.layout.height
    }

    /// Luma (code values) of pixel (x, y); `x`, `y` must lie inside the frame.
    #[inline]
    pub fn at(&self, x: u32, y: u32) -> f32 {
        if self.ten {
            return self.at_reference(x, y);
        }
        let data = self.frame.data;
        let (offset, stride, step) = self.y_plane;
        let i = offset + y as usize * stride + x as usize * step;
        match self.rgb {
            Some([r, g, b]) => {
                LUMA_R * f32::from(data[i + r])
                    + LUMA_G * f32::from(data[i + g])
                    + LUMA_B * f32::from(data[i + b])
            }
            None => f32::from(data[i]),
        }
    }

    /// Luma interpolated bilinearly at (x, y) (pixel centres at integers); (x, y) and the
    /// pixel right of and below it must lie inside the frame.
    #[inline]
    pub fn bilinear(&self, x: f64, y: f64) -> f32 {
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = ((x - x0) as f32, (y - y0) as f32);
        let (xi, yi) = (x0 as u32, y0 as u32);
        let a = self.at(xi, yi);
        let b = self.at(xi + 1, yi);
        let c = self.at(xi, yi + 1);
        let d = self.at(xi + 1, yi + 1);
        (a * (1.0 - fx) + b * fx) * (1.0 - fy) + (c * (1.0 - fx) + d * fx) * fy
    }

    /// Luma through the frame's own accessor (slow path, used to check the fast one).
    pub fn at_reference(&self, x: u32, y: u32) -> f32 {
        if let Some([code, _, _]) = self.frame.codes(x, y) {
            f32::from(code) * code_scale(self.frame.layout.format)
        } else {
            let [r, g, b] = self.frame.rgb(x, y);
            LUMA_R * f32::from(r) + LUMA_G * f32::from(g) + LUMA_B * f32::from(b)
        }
    }
}
