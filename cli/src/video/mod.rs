//! Video files in and out, through GStreamer.
//!
//! - [`VideoReader`] decodes any file GStreamer plays (`filesrc ! decodebin ! videoconvert !
//!   appsink`) into tightly packed frames of one [`PixelFormat`], on its own thread, feeding a
//!   bounded channel so decoding overlaps whatever the caller does with the frames.
//! - [`VideoWriter`] encodes frames by the output's extension: `.mkv` is FFV1 lossless in
//!   Matroska (RGB stored as `BGRx`, so `ffmpeg -i X -pix_fmt rgb24` gives the exact pixels back;
//!   GRAY8 stored as gray), `.mp4` is H.264, and a `.png` pattern such as `out_%05d.png` is an
//!   image sequence numbered from frame 0.
//!
//! Conventions: times are nanoseconds (`pts_ns`, as in DESIGN.md); frame bytes are tight rows
//! (`stride == width * bytes_per_pixel`), top row first.

use std::path::PathBuf;

mod mkv;
mod reader;
mod writer;

pub use reader::VideoReader;
pub use writer::{H264Settings, VideoWriter};

/// Pixel layout of the frames a reader yields or a writer accepts. 8 bits per channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    /// Red, green, blue: 3 bytes per pixel.
    Rgb,
    /// Red, green, blue, alpha: 4 bytes per pixel.
    Rgba,
    /// One luma/grey byte per pixel (masks).
    Gray8,
}

impl PixelFormat {
    /// Bytes per pixel.
    pub const fn bytes_per_pixel(self) -> usize {
        match self {
            Self::Rgb => 3,
            Self::Rgba => 4,
            Self::Gray8 => 1,
        }
    }

    /// Bytes in one tightly packed frame of `width` x `height`.
    pub const fn frame_bytes(self, width: u32, height: u32) -> usize {
        width as usize * height as usize * self.bytes_per_pixel()
    }

    fn gst_format(self) -> gst_video::VideoFormat {
        match self {
            Self::Rgb => gst_video::VideoFormat::Rgb,
            Self::Rgba => gst_video::VideoFormat::Rgba,
            Self::Gray8 => gst_video::VideoFormat::Gray8,
        }
    }
}

/// One decoded frame.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    /// Position in the stream, from 0.
    pub index: u64,
    /// Presentation time (ns). Container timestamps that round the nominal frame grid (Matroska
    /// stores milliseconds) are snapped back to it: frame `i` of a 59.94 fps file reads as
    /// `round(i * 1_001_000_000 / 60)`.
    pub pts_ns: i64,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Pixel layout of `data`.
    pub format: PixelFormat,
    /// Bytes per row of `data`; always `width * bytes_per_pixel` (rows are copied out tight).
    pub stride: usize,
    /// The pixels, top row first.
    pub data: Vec<u8>,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame")
            .field("index", &self.index)
            .field("pts_ns", &self.pts_ns)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("format", &self.format)
            .field("stride", &self.stride)
            .field("data_len", &self.data.len())
            .finish()
    }
}

/// What can go wrong reading or writing video. [`VideoError::is_usage`] tells errors in what the
/// user asked for (exit 2) from failures while processing (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    /// The input file does not exist or is not a regular file.
    #[error("{}: no such video file", path.display())]
    NotFound { path: PathBuf },
    /// The input could not be opened as a video (not a video, unknown codec, no video stream).
    #[error("{}: cannot read as video: {detail}", path.display())]
    Open { path: PathBuf, detail: String },
    /// Decoding failed part-way through the stream.
    #[error("{}: decode error after frame {frames}: {detail}", path.display())]
    Decode {
        path: PathBuf,
        frames: u64,
        detail: String,
    },
    /// The output name has no supported form.
    #[error(
        "{}: unsupported output: expected .mkv (FFV1 lossless), .mp4 (H.264) or a .png pattern such as out_%05d.png",
        path.display()
    )]
    UnsupportedOutput { path: PathBuf },
    /// The output could not be set up (bad size, unwritable path).
    #[error("{}: cannot write: {detail}", path.display())]
    Create { path: PathBuf, detail: String },
    /// Encoding or writing failed part-way through.
    #[error("{}: encode error after frame {frames}: {detail}", path.display())]
    Encode {
        path: PathBuf,
        frames: u64,
        detail: String,
    },
    /// A frame handed to the writer has the wrong number of bytes.
    #[error("{}: frame {frame} has {got} bytes, expected {expected}", path.display())]
    FrameSize {
        path: PathBuf,
        frame: u64,
        got: usize,
        expected: usize,
    },
    /// GStreamer itself or one of its elements is missing.
    #[error("GStreamer: {0}")]
    Gstreamer(String),
}

impl VideoError {
    /// True when the error lies in the request (missing input, not a video, bad output name or
    /// path), false when processing failed.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Self::NotFound { .. }
                | Self::Open { .. }
                | Self::UnsupportedOutput { .. }
                | Self::Create { .. }
        )
    }
}

fn init() -> Result<(), VideoError> {
    gst::init().map_err(|e| VideoError::Gstreamer(format!("cannot initialise: {e}")))
}

fn make_element(factory: &str) -> Result<gst::Element, VideoError> {
    gst::ElementFactory::make(factory).build().map_err(|_| {
        VideoError::Gstreamer(format!(
            "element '{factory}' is not installed (see scripts/install-deps.sh)"
        ))
    })
}

/// The text of a bus error message: the error, and GStreamer's debug detail when it adds
/// something.
fn describe_error(err: &gst::message::Error) -> String {
    let mut text = err.error().to_string();
    if let Some(debug) = err.debug() {
        // The debug string's last line is the human part; the rest is source locations.
        if let Some(line) = debug.lines().last().filter(|l| !l.trim().is_empty()) {
            let line = line.trim();
            if !text.contains(line) {
                text.push_str(" (");
                text.push_str(line);
                text.push(')');
            }
        }
    }
    text
}

/// Pops the first error waiting on `bus`, if any, waiting at most `timeout`.
fn pop_error(bus: &gst::Bus, timeout: gst::ClockTime) -> Option<String> {
    bus.timed_pop_filtered(timeout, &[gst::MessageType::Error])
        .and_then(|msg| match msg.view() {
            gst::MessageView::Error(err) => Some(describe_error(err)),
            _ => None,
        })
}

/// Presentation time of frame `index` at `fps_num / fps_den` (ns, rounded to nearest).
pub fn nominal_pts_ns(index: u64, fps_num: i32, fps_den: i32) -> i64 {
    if fps_num <= 0 || fps_den <= 0 {
        return 0;
    }
    let num = i128::from(index) * i128::from(fps_den) * 1_000_000_000;
    let den = i128::from(fps_num);
    ((num + den / 2) / den) as i64
}

/// Duration of one frame at `fps_num / fps_den` (ns), or `None` for an unknown rate.
fn frame_period_ns(fps_num: i32, fps_den: i32) -> Option<u64> {
    (fps_num > 0 && fps_den > 0).then(|| {
        let num = u128::from(fps_den as u32) * 1_000_000_000;
        let den = u128::from(fps_num as u32);
        ((num + den / 2) / den) as u64
    })
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn nominal_pts_follows_design_formula() {
        // DESIGN.md: frame i of 59.94 fps has pts_ns = round(i * 1_001_000_000 / 60).
        for i in [0u64, 1, 2, 3, 59, 60, 1000, 123_457] {
            let expected = ((i as f64) * 1_001_000_000.0 / 60.0).round() as i64;
            assert_eq!(nominal_pts_ns(i, 60_000, 1001), expected, "frame {i}");
        }
        assert_eq!(nominal_pts_ns(25, 25, 1), 1_000_000_000);
        assert_eq!(frame_period_ns(60_000, 1001), Some(16_683_333));
        assert_eq!(frame_period_ns(0, 1), None);
    }
}
