//! A mapped GStreamer video frame handed to the engine: packed formats in place, planar ones
//! through one reused contiguous copy (the engine wants one buffer with plane offsets) that is
//! written back only when the line was drawn.

use gst_video::VideoFormat;
use gst_video::prelude::*;
use yardline_engine::{Engine, FrameReport};
use yardline_frame::{
    Colorimetry, FillKeyMut, FrameLayout, FrameMut, FrameRef, PixelFormat, YuvMatrix, YuvRange,
};

/// Formats the element handles, with the engine's names for them (8-bit first: the order is the
/// caps' preference).
pub const FORMATS: [(VideoFormat, PixelFormat); 11] = [
    (VideoFormat::Rgba, PixelFormat::Rgba),
    (VideoFormat::Bgra, PixelFormat::Bgra),
    (VideoFormat::Rgbx, PixelFormat::Rgbx),
    (VideoFormat::Bgrx, PixelFormat::Bgrx),
    (VideoFormat::I420, PixelFormat::I420),
    (VideoFormat::Nv12, PixelFormat::Nv12),
    (VideoFormat::Uyvy, PixelFormat::Uyvy),
    (VideoFormat::V210, PixelFormat::V210),
    (VideoFormat::P01010le, PixelFormat::P010),
    (VideoFormat::I42010le, PixelFormat::I420_10),
    (VideoFormat::I42210le, PixelFormat::I422_10),
];

/// The caps names of [`FORMATS`], comma-separated (for messages).
pub fn format_names() -> String {
    FORMATS
        .iter()
        .map(|(g, _)| g.to_str().as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The engine's name for a GStreamer format the element handles.
pub fn pixel_format(f: VideoFormat) -> Option<PixelFormat> {
    FORMATS.iter().find(|(g, _)| *g == f).map(|(_, p)| *p)
}

/// The engine's colorimetry of a YUV stream's caps: BT.601, BT.709 or BT.2020 matrix, limited
/// or full range. A matrix the engine does not know (SMPTE 240M, FCC, unknown) is taken as
/// BT.709, an unknown range as limited (`None` then says what was assumed).
pub fn colorimetry(info: &gst_video::VideoInfo) -> (Colorimetry, Option<String>) {
    let c = info.colorimetry();
    let mut assumed = Vec::new();
    let matrix = match c.matrix() {
        gst_video::VideoColorMatrix::Bt601 => YuvMatrix::Bt601,
        gst_video::VideoColorMatrix::Bt709 => YuvMatrix::Bt709,
        gst_video::VideoColorMatrix::Bt2020 => YuvMatrix::Bt2020,
        other => {
            assumed.push(format!("matrix {other:?} taken as BT.709"));
            YuvMatrix::Bt709
        }
    };
    let range = match c.range() {
        gst_video::VideoColorRange::Range0_255 => YuvRange::Full,
        gst_video::VideoColorRange::Range16_235 => YuvRange::Limited,
        other => {
            assumed.push(format!("range {other:?} taken as limited"));
            YuvRange::Limited
        }
    };
    let note = (!assumed.is_empty()).then(|| assumed.join(", "));
    (Colorimetry { matrix, range }, note)
}

/// Why a mapped frame cannot be handed to the engine (it is passed through).
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// Not one of [`FORMATS`].
    #[error("format {0:?}")]
    Format(VideoFormat),
    /// A plane cannot be read or written.
    #[error("{0}")]
    Plane(#[from] gst::glib::BoolError),
    /// The planes do not make a frame of the caps' size.
    #[error("{0}")]
    Layout(#[from] yardline_frame::FrameError),
}

/// The frames of one transform: the frame drawn in place (program), or the input and the
/// fill-and-key frame written from it.
pub enum Frames<'a, 'b, 'c> {
    /// The program: the frame itself.
    Program(&'a mut gst_video::VideoFrameRef<&'b mut gst::BufferRef>),
    /// Fill and key: the input and the output.
    FillKey(
        &'a gst_video::VideoFrameRef<&'b gst::BufferRef>,
        &'a mut gst_video::VideoFrameRef<&'c mut gst::BufferRef>,
    ),
}

impl Frames<'_, '_, '_> {
    /// The input buffer (timestamps, timecode).
    pub fn input_buffer(&self) -> &gst::BufferRef {
        match self {
            Frames::Program(f) => f.buffer(),
            Frames::FillKey(f, _) => f.buffer(),
        }
    }

    /// The input frame's size (pixels).
    pub fn size(&self) -> (u32, u32) {
        match self {
            Frames::Program(f) => (f.width(), f.height()),
            Frames::FillKey(f, _) => (f.width(), f.height()),
        }
    }

    /// Makes the output what a frame the engine does not handle becomes: the program as it
    /// is, the fill-and-key frame transparent.
    pub fn pass_through(&mut self) {
        if let Frames::FillKey(_, out) = self
            && let Ok(mut fk) = fill_key_mut(out)
        {
            fk.clear();
        }
    }
}

/// The fill-and-key view of a mapped src frame.
fn fill_key_mut<'a>(
    out: &'a mut gst_video::VideoFrameRef<&mut gst::BufferRef>,
) -> Result<FillKeyMut<'a>, FrameError> {
    let format =
        super::caps::fill_key_format(out.format()).ok_or(FrameError::Format(out.format()))?;
    let (width, height) = (out.width(), out.height());
    let stride = usize::try_from(out.plane_stride()[0]).unwrap_or(0);
    let data = out.plane_data_mut(0)?;
    Ok(FillKeyMut::new(format, width, height, stride, data)?)
}

/// Runs the engine for `frames` at `pts_ns` (the input's YUV codes in `colorimetry`): the
/// program in place, or fill and key into the output; `scratch` is the contiguous copy of
/// planar frames, kept between frames.
pub fn run(
    engine: &mut Engine,
    scratch: &mut Vec<u8>,
    frames: &mut Frames<'_, '_, '_>,
    colorimetry: Colorimetry,
    pts_ns: i64,
) -> Result<FrameReport, FrameError> {
    match frames {
        Frames::Program(frame) => process(engine, scratch, frame, colorimetry, pts_ns),
        Frames::FillKey(input, out) => {
            let format = pixel_format(input.format()).ok_or(FrameError::Format(input.format()))?;
            let (width, height) = (input.width(), input.height());
            let n = format.plane_count();
            let mut strides = [0_usize; 3];
            for (i, s) in strides.iter_mut().enumerate().take(n) {
                *s = usize::try_from(input.plane_stride()[i]).unwrap_or(0);
            }
            let strides = &strides[..n];
            let mut fk = fill_key_mut(out)?;
            if n == 1 {
                let data = input.plane_data(0)?;
                let layout =
                    FrameLayout::with_planes(format, width, height, &[0], strides, data.len())?
                        .with_colorimetry(colorimetry);
                let frame = FrameRef::new(&layout, data)?;
                return Ok(engine.process_fill_key(frame, &mut fk, pts_ns));
            }
            let mut offsets = [0_usize; 3];
            scratch.clear();
            for (i, o) in offsets.iter_mut().enumerate().take(n) {
                *o = scratch.len();
                scratch.extend_from_slice(input.plane_data(i as u32)?);
            }
            let layout = FrameLayout::with_planes(
                format,
                width,
                height,
                &offsets[..n],
                strides,
                scratch.len(),
            )?
            .with_colorimetry(colorimetry);
            let frame = FrameRef::new(&layout, scratch)?;
            Ok(engine.process_fill_key(frame, &mut fk, pts_ns))
        }
    }
}

/// Runs the engine on a mapped frame at `pts_ns`, its YUV codes in `colorimetry`; `scratch` is
/// the contiguous copy of planar frames, kept between frames.
fn process(
    engine: &mut Engine,
    scratch: &mut Vec<u8>,
    frame: &mut gst_video::VideoFrameRef<&mut gst::BufferRef>,
    colorimetry: Colorimetry,
    pts_ns: i64,
) -> Result<FrameReport, FrameError> {
    let format = pixel_format(frame.format()).ok_or(FrameError::Format(frame.format()))?;
    let (width, height) = (frame.width(), frame.height());
    let n = format.plane_count();
    let mut strides = [0_usize; 3];
    for (i, s) in strides.iter_mut().enumerate().take(n) {
        *s = usize::try_from(frame.plane_stride()[i]).unwrap_or(0);
    }
    let strides = &strides[..n];
    if n == 1 {
        let data = frame.plane_data_mut(0)?;
        let layout = FrameLayout::with_planes(format, width, height, &[0], strides, data.len())?
            .with_colorimetry(colorimetry);
        let mut fm = FrameMut::new(&layout, data)?;
        return Ok(engine.process(&mut fm, pts_ns));
    }
    let mut offsets = [0_usize; 3];
    scratch.clear();
    for (i, o) in offsets.iter_mut().enumerate().take(n) {
        *o = scratch.len();
        scratch.extend_from_slice(frame.plane_data(i as u32)?);
    }
    let offsets = &offsets[..n];
    let layout = FrameLayout::with_planes(format, width, height, offsets, strides, scratch.len())?
        .with_colorimetry(colorimetry);
    let report = {
        let mut fm = FrameMut::new(&layout, scratch)?;
        engine.process(&mut fm, pts_ns)
    };
    if report.drawn {
        for (i, &off) in offsets.iter().enumerate() {
            let plane = frame.plane_data_mut(i as u32)?;
            let len = plane.len();
            plane.copy_from_slice(&scratch[off..off + len]);
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_has_one_engine_name() {
        for (g, p) in FORMATS {
            assert_eq!(pixel_format(g), Some(p));
            // GStreamer's caps name is the engine's name.
            assert_eq!(g.to_str(), p.name());
        }
        assert_eq!(pixel_format(VideoFormat::Yuy2), None);
    }
}
