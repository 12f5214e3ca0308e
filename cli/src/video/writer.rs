//! Encoding: `appsrc ! videoconvert ! <encoder> ! <muxer> ! filesink`, or PNG files.

use std::io::BufWriter;
use std::path::{Path, PathBuf};

use gst::prelude::*;
use image::ImageEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};

use super::{PixelFormat, VideoError, frame_period_ns, init, make_element, mkv, pop_error};

/// Frames appsrc queues before `write` waits for the encoder.
const APPSRC_QUEUE: u64 = 4;
/// How long `write` waits on the bus per turn while the encoder catches up.
const BACKPRESSURE_POLL_MS: u64 = 2;
/// How long `finish` waits for the encoder to drain and the file to be closed.
const FINISH_TIMEOUT_S: u64 = 600;
/// H.264 bits per pixel per frame: ~12 Mbit/s at 1080p59.94, a broadcast contribution rate.
const H264_BITS_PER_PIXEL: f64 = 0.1;
/// H.264 bitrate bounds (kbit/s).
const H264_MIN_KBPS: f64 = 500.0;
const H264_MAX_KBPS: f64 = 80_000.0;
/// H.264 keyframe interval (seconds).
const H264_KEYFRAME_S: f64 = 2.0;

/// How `.mp4` outputs are encoded (H.264).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct H264Settings {
    /// Bits per pixel per frame: the bitrate scales with pixels per second.
    pub bits_per_pixel: f64,
    /// Encoder threads; 0 lets the encoder choose. One thread gives the same bytes on every
    /// run (x264's frame threads under a bitrate target do not).
    pub threads: u32,
}

impl Default for H264Settings {
    /// A broadcast contribution rate (~12 Mbit/s at 1080p59.94), threads as the encoder likes.
    fn default() -> Self {
        Self {
            bits_per_pixel: H264_BITS_PER_PIXEL,
            threads: 0,
        }
    }
}

/// The output kinds, chosen by the file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutputKind {
    /// `.mkv`: FFV1 lossless in Matroska.
    Ffv1Mkv,
    /// `.mp4`: H.264 in MP4.
    H264Mp4,
    /// A `.png` name with one `%d` / `%0Nd` placeholder.
    PngSequence,
}

impl OutputKind {
    fn of(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "mkv" => Some(Self::Ffv1Mkv),
            "mp4" => Some(Self::H264Mp4),
            "png" if PngPattern::parse(path).is_some() => Some(Self::PngSequence),
            _ => None,
        }
    }
}

/// Writes frames to a video file or image sequence chosen by the output name:
/// `.mkv` -> FFV1 lossless (RGB, or gray for [`PixelFormat::Gray8`]), `.mp4` -> H.264,
/// `name_%05d.png` -> one PNG per frame, numbered from 0.
///
/// Frames are tight rows of the format given at creation. Call [`VideoWriter::finish`] at the
/// end: it drains the encoder, closes the file and reports any late error.
#[derive(Debug)]
pub struct VideoWriter {
    path: PathBuf,
    stream: Stream,
    kind: OutputKind,
    frames: u64,
    sink: Sink,
}

/// What the frames are: size, rate and pixel format.
#[derive(Debug, Clone, Copy)]
struct Stream {
    width: u32,
    height: u32,
    fps_num: i32,
    fps_den: i32,
    format: PixelFormat,
    /// RGBA frames keep their alpha (FFV1 stores BGRA; PNG keeps it anyway).
    alpha: bool,
}

#[derive(Debug)]
enum Sink {
    Gst(GstSink),
    Png(PngPattern),
}

#[derive(Debug)]
struct GstSink {
    pipeline: gst::Pipeline,
    src: gst_app::AppSrc,
    bus: gst::Bus,
    period_ns: Option<u64>,
    /// GStreamer's row layout when it differs from tight rows (rows padded to 4 bytes, e.g.
    /// RGB or GRAY8 at an odd width): (tight row bytes, padded stride, rows).
    padding: Option<(usize, usize, usize)>,
}

impl VideoWriter {
    /// Creates the output for frames of `width` x `height` in `format` at `fps_num / fps_den`.
    pub fn create(
        path: impl AsRef<Path>,
        width: u32,
        height: u32,
        fps_num: i32,
        fps_den: i32,
        format: PixelFormat,
    ) -> Result<Self, VideoError> {
        Self::create_stream(
            path,
            width,
            height,
            (fps_num, fps_den),
            format,
            false,
            H264Settings::default(),
        )
    }

    /// Creates the output for RGBA frames whose alpha matters (fill and key): `.mkv` stores
    /// FFV1 `BGRA`, a PNG pattern RGBA PNGs; `.mp4` (H.264, no alpha) is refused.
    pub fn create_with_alpha(
        path: impl AsRef<Path>,
        width: u32,
        height: u32,
        fps_num: i32,
        fps_den: i32,
    ) -> Result<Self, VideoError> {
        let kind = OutputKind::of(path.as_ref());
        if kind == Some(OutputKind::H264Mp4) {
            return Err(VideoError::Create {
                path: path.as_ref().to_path_buf(),
                detail: "H.264 has no alpha: write fill and key to .mkv (FFV1 BGRA) or a PNG \
                         pattern"
                    .into(),
            });
        }
        Self::create_stream(
            path,
            width,
            height,
            (fps_num, fps_den),
            PixelFormat::Rgba,
            true,
            H264Settings::default(),
        )
    }

    /// As [`VideoWriter::create`], with the H.264 settings of an `.mp4` output (other outputs
    /// ignore them); the frame rate is `(numerator, denominator)`.
    pub fn create_with(
        path: impl AsRef<Path>,
        width: u32,
        height: u32,
        fps: (i32, i32),
        format: PixelFormat,
        h264: H264Settings,
    ) -> Result<Self, VideoError> {
        Self::create_stream(path, width, height, fps, format, false, h264)
    }

    fn create_stream(
        path: impl AsRef<Path>,
        width: u32,
        height: u32,
        (fps_num, fps_den): (i32, i32),
        format: PixelFormat,
        alpha: bool,
        h264: H264Settings,
    ) -> Result<Self, VideoError> {
        let path = path.as_ref().to_path_buf();
        let kind = OutputKind::of(&path)
            .ok_or_else(|| VideoError::UnsupportedOutput { path: path.clone() })?;
        let create_err = |detail: String| VideoError::Create {
            path: path.clone(),
            detail,
        };
        if width == 0 || height == 0 {
            return Err(create_err(format!("invalid frame size {width}x{height}")));
        }
        if fps_num <= 0 || fps_den <= 0 {
            return Err(create_err(format!(
                "invalid frame rate {fps_num}/{fps_den}"
            )));
        }
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if !parent.is_dir() {
            return Err(create_err(format!(
                "directory {} does not exist",
                parent.display()
            )));
        }
        let stream = Stream {
            width,
            height,
            fps_num,
            fps_den,
            format,
            alpha,
        };
        let sink = match kind {
            OutputKind::PngSequence => Sink::Png(
                PngPattern::parse(&path)
                    .ok_or_else(|| VideoError::UnsupportedOutput { path: path.clone() })?,
            ),
            OutputKind::H264Mp4 if !width.is_multiple_of(2) || !height.is_multiple_of(2) => {
                return Err(create_err(format!(
                    "H.264 needs an even width and height, got {width}x{height}"
                )));
            }
            OutputKind::Ffv1Mkv | OutputKind::H264Mp4 => {
                Sink::Gst(GstSink::start(&path, kind, stream, h264)?)
            }
        };
        Ok(Self {
            path,
            stream,
            kind,
            frames: 0,
            sink,
        })
    }

    /// Writes one frame (tight rows) with its presentation time (ns). A `Vec<u8>` moves into
    /// the encoder without a copy.
    pub fn write<T>(&mut self, data: T, pts_ns: i64) -> Result<(), VideoError>
    where
        T: AsRef<[u8]> + Send + 'static,
    {
        let Stream {
            width,
            height,
            format,
            ..
        } = self.stream;
        let expected = format.frame_bytes(width, height);
        let got = data.as_ref().len();
        if got != expected {
            return Err(VideoError::FrameSize {
                path: self.path.clone(),
                frame: self.frames,
                got,
                expected,
            });
        }
        let encode_err = |detail: String| VideoError::Encode {
            path: self.path.clone(),
            frames: self.frames,
            detail,
        };
        match &self.sink {
            Sink::Png(pattern) => {
                let file = pattern.file(self.frames);
                write_png(&file, data.as_ref(), width, height, format)
                    .map_err(|e| encode_err(format!("{}: {e}", file.display())))?;
            }
            Sink::Gst(sink) => sink.push(data, pts_ns).map_err(encode_err)?,
        }
        self.frames += 1;
        Ok(())
    }

    /// Ends the stream, waits until the file is complete and returns the frames written.
    pub fn finish(mut self) -> Result<u64, VideoError> {
        let frames = self.frames;
        let encode_err = |detail: String| VideoError::Encode {
            path: self.path.clone(),
            frames,
            detail,
        };
        if let Sink::Gst(sink) = &mut self.sink {
            sink.finish().map_err(encode_err)?;
        }
        if self.kind == OutputKind::Ffv1Mkv {
            mkv::pin_uids(&self.path, self.stream_seed())
                .map_err(|e| encode_err(format!("cannot finalise the Matroska header: {e}")))?;
        }
        Ok(frames)
    }

    /// A seed for the container's UIDs from what defines the stream (name, size, rate,
    /// format, length), so the same frames always give the same file (FNV-1a).
    fn stream_seed(&self) -> u64 {
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut bytes = name.into_bytes();
        for v in [
            u64::from(self.stream.width),
            u64::from(self.stream.height),
            self.stream.fps_num as u64,
            self.stream.fps_den as u64,
            self.stream.format.bytes_per_pixel() as u64,
            self.frames,
        ] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        bytes.iter().fold(0xCBF2_9CE4_8422_2325, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
        })
    }
}

impl GstSink {
    fn start(
        path: &Path,
        kind: OutputKind,
        stream: Stream,
        h264: H264Settings,
    ) -> Result<Self, VideoError> {
        let Stream {
            width,
            height,
            fps_num,
            fps_den,
            format,
            alpha,
        } = stream;
        init()?;
        let gst_err = |e: &dyn std::fmt::Display| VideoError::Gstreamer(e.to_string());
        let caps = gst_video::VideoCapsBuilder::new()
            .format(format.gst_format())
            .width(width as i32)
            .height(height as i32)
            .framerate(gst::Fraction::new(fps_num, fps_den))
            .build();
        let src = gst_app::AppSrc::builder()
            .caps(&caps)
            .format(gst::Format::Time)
            .is_live(false)
            .block(false)
            .max_buffers(APPSRC_QUEUE)
            .build();
        let convert = make_element("videoconvert")?;
        // What the encoder is fed: FFV1 keeps RGB as BGRx (lossless; BGRA when the alpha
        // matters) and gray as gray.
        let encoder_format = match (kind, format) {
            (OutputKind::Ffv1Mkv, PixelFormat::Gray8) => gst_video::VideoFormat::Gray8,
            (OutputKind::Ffv1Mkv, PixelFormat::Rgba) if alpha => gst_video::VideoFormat::Bgra,
            (OutputKind::Ffv1Mkv, _) => gst_video::VideoFormat::Bgrx,
            _ => gst_video::VideoFormat::I420,
        };
        let filter = gst::ElementFactory::make("capsfilter")
            .property(
                "caps",
                gst_video::VideoCapsBuilder::new()
                    .format(encoder_format)
                    .build(),
            )
            .build()
            .map_err(|e| gst_err(&e))?;
        let mut chain: Vec<gst::Element> = vec![src.clone().upcast(), convert, filter];
        match kind {
            OutputKind::Ffv1Mkv => {
                chain.push(make_element("avenc_ffv1")?);
                let mux = make_element("matroskamux")?;
                // A fixed date (the Matroska epoch) instead of the wall clock: same frames,
                // same file.
                let epoch = gst::glib::DateTime::from_utc(2001, 1, 1, 0, 0, 0.0)
                    .map_err(|e| gst_err(&e))?;
                mux.set_property("creation-time", &epoch);
                chain.push(mux);
            }
            OutputKind::H264Mp4 => {
                chain.push(h264_encoder(stream, h264)?);
                chain.push(make_element("h264parse")?);
                chain.push(make_element("mp4mux")?);
            }
            OutputKind::PngSequence => unreachable!("PNG sequences are written without GStreamer"),
        }
        let filesink = gst::ElementFactory::make("filesink")
            .property("location", path.to_string_lossy().as_ref())
            .build()
            .map_err(|e| gst_err(&e))?;
        chain.push(filesink);

        let pipeline = gst::Pipeline::new();
        pipeline.add_many(&chain).map_err(|e| gst_err(&e))?;
        if kind == OutputKind::Ffv1Mkv {
            // Linking requests matroskamux's pad, which draws the TrackUID.
            mkv::seed_track_uids();
        }
        gst::Element::link_many(&chain).map_err(|e| gst_err(&e))?;
        let bus = pipeline
            .bus()
            .ok_or_else(|| VideoError::Gstreamer("pipeline has no bus".into()))?;
        if pipeline.set_state(gst::State::Playing).is_err() {
            let detail = pop_error(&bus, gst::ClockTime::ZERO)
                .unwrap_or_else(|| "the encoder did not start".into());
            // Best effort: the pipeline never ran.
            pipeline.set_state(gst::State::Null).ok();
            return Err(VideoError::Create {
                path: path.to_path_buf(),
                detail,
            });
        }
        let layout = gst_video::VideoInfo::builder(format.gst_format(), width, height)
            .build()
            .map_err(|e| gst_err(&e))?;
        let tight = width as usize * format.bytes_per_pixel();
        let stride = layout.stride()[0] as usize;
        Ok(Self {
            pipeline,
            src,
            bus,
            period_ns: frame_period_ns(fps_num, fps_den),
            padding: (stride != tight).then_some((tight, stride, height as usize)),
        })
    }

    fn push<T>(&self, data: T, pts_ns: i64) -> Result<(), String>
    where
        T: AsRef<[u8]> + Send + 'static,
    {
        if pts_ns < 0 {
            return Err(format!("negative timestamp {pts_ns} ns"));
        }
        // Backpressure: wait for the encoder while its queue is full, watching for errors.
        while self.src.current_level_buffers() >= APPSRC_QUEUE {
            if let Some(detail) = pop_error(
                &self.bus,
                gst::ClockTime::from_mseconds(BACKPRESSURE_POLL_MS),
            ) {
                return Err(detail);
            }
        }
        if let Some(detail) = pop_error(&self.bus, gst::ClockTime::ZERO) {
            return Err(detail);
        }
        let mut buffer = match self.padding {
            None => gst::Buffer::from_slice(data),
            Some((tight, stride, rows)) => {
                let mut padded = vec![0u8; stride * rows];
                for (dst, src) in padded
                    .chunks_exact_mut(stride)
                    .zip(data.as_ref().chunks_exact(tight))
                {
                    dst[..tight].copy_from_slice(src);
                }
                gst::Buffer::from_mut_slice(padded)
            }
        };
        {
            let buffer = buffer
                .get_mut()
                .ok_or_else(|| "new buffer is not writable".to_string())?;
            buffer.set_pts(gst::ClockTime::from_nseconds(pts_ns as u64));
            buffer.set_duration(self.period_ns.map(gst::ClockTime::from_nseconds));
        }
        self.src.push_buffer(buffer).map_err(|flow| {
            pop_error(&self.bus, gst::ClockTime::from_mseconds(100))
                .unwrap_or_else(|| format!("the encoder stopped ({flow:?})"))
        })?;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), String> {
        let result = self
            .src
            .end_of_stream()
            .map_err(|flow| {
                pop_error(&self.bus, gst::ClockTime::from_mseconds(100))
                    .unwrap_or_else(|| format!("the encoder stopped ({flow:?})"))
            })
            .and_then(|_| {
                let msg = self.bus.timed_pop_filtered(
                    gst::ClockTime::from_seconds(FINISH_TIMEOUT_S),
                    &[gst::MessageType::Eos, gst::MessageType::Error],
                );
                match msg.as_ref().map(|m| m.view()) {
                    Some(gst::MessageView::Eos(_)) => Ok(()),
                    Some(gst::MessageView::Error(err)) => Err(super::describe_error(err)),
                    _ => Err(format!(
                        "the encoder did not finish within {FINISH_TIMEOUT_S} s"
                    )),
                }
            });
        self.pipeline
            .set_state(gst::State::Null)
            .map_err(|e| format!("cannot close the pipeline: {e}"))?;
        result
    }
}

impl Drop for GstSink {
    fn drop(&mut self) {
        // A writer dropped without `finish` (an error elsewhere) just stops; the file is partial.
        self.pipeline.set_state(gst::State::Null).ok();
    }
}

/// The best H.264 encoder installed: x264enc, else openh264enc, at a bitrate that scales with
/// pixels per second.
fn h264_encoder(stream: Stream, settings: H264Settings) -> Result<gst::Element, VideoError> {
    let fps = f64::from(stream.fps_num) / f64::from(stream.fps_den);
    let pixels = f64::from(stream.width) * f64::from(stream.height);
    let kbps = (pixels * fps * settings.bits_per_pixel / 1000.0)
        .clamp(H264_MIN_KBPS, H264_MAX_KBPS)
        .round() as u32;
    let keyframes = (fps * H264_KEYFRAME_S).round().max(1.0) as u32;
    if let Ok(enc) = gst::ElementFactory::make("x264enc")
        .property("bitrate", kbps)
        .property("key-int-max", keyframes)
        .property_from_str("speed-preset", "veryfast")
        .property("threads", settings.threads)
        .build()
    {
        return Ok(enc);
    }
    if let Ok(enc) = gst::ElementFactory::make("openh264enc")
        .property("bitrate", kbps * 1000)
        .property_from_str("rate-control", "bitrate")
        .property("gop-size", keyframes)
        .build()
    {
        return Ok(enc);
    }
    Err(VideoError::Gstreamer(
        "no H.264 encoder installed (x264enc from gstreamer1.0-plugins-ugly, or openh264enc)"
            .into(),
    ))
}

/// A PNG sequence name: the text before and after one `%d` / `%0Nd` placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PngPattern {
    dir: PathBuf,
    prefix: String,
    suffix: String,
    width: usize,
}

impl PngPattern {
    fn parse(path: &Path) -> Option<Self> {
        let name = path.file_name()?.to_str()?;
        let start = name.find('%')?;
        let rest = &name[start + 1..];
        let end = rest.find('d')?;
        let spec = &rest[..end];
        let width = if spec.is_empty() {
            0
        } else if spec.starts_with('0') && spec.bytes().all(|b| b.is_ascii_digit()) {
            spec.parse().ok()?
        } else {
            return None;
        };
        let suffix = &rest[end + 1..];
        if suffix.contains('%') {
            return None;
        }
        Some(Self {
            dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
            prefix: name[..start].to_string(),
            suffix: suffix.to_string(),
            width,
        })
    }

    fn file(&self, index: u64) -> PathBuf {
        self.dir.join(format!(
            "{}{index:0width$}{}",
            self.prefix,
            self.suffix,
            width = self.width
        ))
    }
}

fn write_png(
    file: &Path,
    data: &[u8],
    width: u32,
    height: u32,
    format: PixelFormat,
) -> Result<(), String> {
    let out = std::fs::File::create(file).map_err(|e| e.to_string())?;
    let encoder = PngEncoder::new_with_quality(
        BufWriter::new(out),
        CompressionType::Fast,
        FilterType::Adaptive,
    );
    let color = match format {
        PixelFormat::Rgb => image::ExtendedColorType::Rgb8,
        PixelFormat::Rgba => image::ExtendedColorType::Rgba8,
        PixelFormat::Gray8 => image::ExtendedColorType::L8,
    };
    encoder
        .write_image(data, width, height, color)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_patterns() {
        let p = PngPattern::parse(Path::new("dir/out_%05d.png")).expect("pattern");
        assert_eq!(p.file(7), Path::new("dir/out_00007.png"));
        let p = PngPattern::parse(Path::new("f%d.png")).expect("pattern");
        assert_eq!(p.file(12), Path::new("f12.png"));
        assert!(PngPattern::parse(Path::new("out.png")).is_none());
        assert!(PngPattern::parse(Path::new("out_%s.png")).is_none());
        assert!(PngPattern::parse(Path::new("out_%5d.png")).is_none());
        assert!(PngPattern::parse(Path::new("%d_%d.png")).is_none());
        assert_eq!(
            OutputKind::of(Path::new("a.MKV")),
            Some(OutputKind::Ffv1Mkv)
        );
        assert_eq!(
            OutputKind::of(Path::new("a.mp4")),
            Some(OutputKind::H264Mp4)
        );
        assert_eq!(OutputKind::of(Path::new("a.png")), None);
        assert_eq!(OutputKind::of(Path::new("a.avi")), None);
    }
}
