//! Decoding: `filesrc ! decodebin ! videoconvert ! appsink` on a thread of its own.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use gst::prelude::*;
use gst_video::prelude::*;

use super::{Frame, PixelFormat, VideoError, describe_error, init, make_element, nominal_pts_ns};

/// Decoded frames waiting for the caller: enough to overlap decode with processing.
const FRAME_QUEUE: usize = 4;
/// Frames appsink holds before it blocks the decoder.
const APPSINK_QUEUE: u32 = 2;
/// How long opening may take to produce the first frame.
const OPEN_TIMEOUT_S: u64 = 60;
/// How often the decode thread looks at the bus while no frame arrives.
const POLL_MS: u64 = 50;
/// A container timestamp this close to the nominal frame grid is snapped onto it (ns).
const SNAP_TOLERANCE_NS: i64 = 1_000_000;

/// Decodes a video file into frames of one [`PixelFormat`], in presentation order.
///
/// Decoding runs on its own thread ahead of the caller, bounded by a small queue. Iterate
/// it, or call [`VideoReader::next_frame`]; dropping the reader stops the decoder.
#[derive(Debug)]
pub struct VideoReader {
    path: PathBuf,
    width: u32,
    height: u32,
    fps_num: i32,
    fps_den: i32,
    duration_ns: Option<u64>,
    frames: Option<Receiver<Result<Frame, VideoError>>>,
    thread: Option<JoinHandle<()>>,
    done: bool,
}

impl VideoReader {
    /// Opens `path` and decodes up to its first frame, so the size and frame rate are known.
    pub fn open(path: impl AsRef<Path>, format: PixelFormat) -> Result<Self, VideoError> {
        let path = path.as_ref().to_path_buf();
        if !path.is_file() {
            return Err(VideoError::NotFound { path });
        }
        init()?;
        let open_err = |detail: String| VideoError::Open {
            path: path.clone(),
            detail,
        };

        let pipeline = gst::Pipeline::new();
        let src = gst::ElementFactory::make("filesrc")
            .property("location", path.to_string_lossy().as_ref())
            .build()
            .map_err(|_| VideoError::Gstreamer("element 'filesrc' is not installed".into()))?;
        let decode = make_element("decodebin")?;
        let convert = make_element("videoconvert")?;
        let caps = gst_video::VideoCapsBuilder::new()
            .format(format.gst_format())
            .build();
        let sink = gst_app::AppSink::builder()
            .caps(&caps)
            .sync(false)
            .max_buffers(APPSINK_QUEUE)
            .drop(false)
            .build();
        pipeline
            .add_many([&src, &decode, &convert, sink.upcast_ref()])
            .map_err(|e| VideoError::Gstreamer(e.to_string()))?;
        src.link(&decode)
            .map_err(|e| VideoError::Gstreamer(e.to_string()))?;
        convert
            .link(&sink)
            .map_err(|e| VideoError::Gstreamer(e.to_string()))?;

        // decodebin exposes one pad per stream once it knows them: link the first video one,
        // noting whether it carries alpha (videoconvert leaves alpha 0 when it turns an opaque
        // BGRx into RGBA; the decode thread makes such frames opaque).
        let source_alpha = Arc::new(AtomicBool::new(true));
        let alpha_flag = Arc::clone(&source_alpha);
        let convert_weak = convert.downgrade();
        decode.connect_pad_added(move |_, pad| {
            let Some(convert) = convert_weak.upgrade() else {
                return;
            };
            let is_video = pad
                .current_caps()
                .and_then(|c| c.structure(0).map(|s| s.name().starts_with("video/")))
                .unwrap_or(false);
            let Some(sink_pad) = convert.static_pad("sink") else {
                return;
            };
            if is_video && !sink_pad.is_linked() {
                let has_alpha = pad
                    .current_caps()
                    .and_then(|c| gst_video::VideoInfo::from_caps(&c).ok())
                    .is_none_or(|info| info.format_info().has_alpha());
                alpha_flag.store(has_alpha, Ordering::Relaxed);
                // A failed link surfaces as a not-linked error on the bus.
                pad.link(&sink_pad).ok();
            }
        });
        let convert_weak = convert.downgrade();
        decode.connect_no_more_pads(move |decode| {
            let linked = convert_weak
                .upgrade()
                .and_then(|c| c.static_pad("sink"))
                .is_some_and(|p| p.is_linked());
            if !linked {
                gst::element_error!(
                    decode,
                    gst::StreamError::WrongType,
                    ["the file has no video stream"]
                );
            }
        });

        let bus = pipeline
            .bus()
            .ok_or_else(|| VideoError::Gstreamer("pipeline has no bus".into()))?;
        let shutdown = |pipeline: &gst::Pipeline| {
            // Best effort on a pipeline already being torn down after an error.
            pipeline.set_state(gst::State::Null).ok();
        };

        // Preroll: PAUSED completes once the first frame reached appsink (or on error/EOS).
        if pipeline.set_state(gst::State::Paused).is_err() {
            let detail = super::pop_error(&bus, gst::ClockTime::ZERO)
                .unwrap_or_else(|| "the pipeline did not start".into());
            shutdown(&pipeline);
            return Err(open_err(detail));
        }
        let msg = bus.timed_pop_filtered(
            gst::ClockTime::from_seconds(OPEN_TIMEOUT_S),
            &[gst::MessageType::AsyncDone, gst::MessageType::Error],
        );
        match msg.as_ref().map(|m| m.view()) {
            Some(gst::MessageView::AsyncDone(_)) => {}
            Some(gst::MessageView::Error(err)) => {
                let detail = describe_error(err);
                shutdown(&pipeline);
                return Err(open_err(detail));
            }
            _ => {
                shutdown(&pipeline);
                return Err(open_err(format!(
                    "no frame decoded within {OPEN_TIMEOUT_S} s"
                )));
            }
        }
        let info = sink
            .static_pad("sink")
            .and_then(|p| p.current_caps())
            .and_then(|c| gst_video::VideoInfo::from_caps(&c).ok());
        let Some(info) = info else {
            shutdown(&pipeline);
            return Err(open_err("the video stream has no frames".into()));
        };
        let fps = info.fps();
        let duration_ns = pipeline
            .query_duration::<gst::ClockTime>()
            .map(gst::ClockTime::nseconds);

        if pipeline.set_state(gst::State::Playing).is_err() {
            let detail = super::pop_error(&bus, gst::ClockTime::ZERO)
                .unwrap_or_else(|| "the pipeline did not start".into());
            shutdown(&pipeline);
            return Err(open_err(detail));
        }

        let (tx, rx) = crossbeam_channel::bounded(FRAME_QUEUE);
        let decoder = Decoder {
            path: path.clone(),
            pipeline,
            sink,
            bus,
            format,
            width: info.width(),
            height: info.height(),
            fps_num: fps.numer(),
            fps_den: fps.denom(),
            opaque: format == PixelFormat::Rgba && !source_alpha.load(Ordering::Relaxed),
        };
        let thread = std::thread::Builder::new()
            .name("yardline-decode".into())
            .spawn(move || decoder.run(&tx))
            .map_err(|e| VideoError::Gstreamer(format!("cannot start decode thread: {e}")))?;

        Ok(Self {
            path,
            width: info.width(),
            height: info.height(),
            fps_num: fps.numer(),
            fps_den: fps.denom(),
            duration_ns,
            frames: Some(rx),
            thread: Some(thread),
            done: false,
        })
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Frame width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Frame height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Frame rate numerator (e.g. 60000 for 59.94); 0 when the stream does not say.
    pub fn fps_num(&self) -> i32 {
        self.fps_num
    }

    /// Frame rate denominator (e.g. 1001 for 59.94).
    pub fn fps_den(&self) -> i32 {
        self.fps_den
    }

    /// Frame count estimated from the duration and frame rate (for progress bars; the exact
    /// count is the number of frames read).
    pub fn estimated_frames(&self) -> Option<u64> {
        let period = self.frame_period_ns()?;
        self.duration_ns.map(|d| (d + period / 2) / period)
    }

    /// Duration of one frame (ns), `None` when the stream does not say its rate.
    pub fn frame_period_ns(&self) -> Option<u64> {
        super::frame_period_ns(self.fps_num, self.fps_den)
    }

    /// The next frame, `Ok(None)` at the end of the stream.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, VideoError> {
        if self.done {
            return Ok(None);
        }
        let Some(rx) = &self.frames else {
            return Ok(None);
        };
        match rx.recv() {
            Ok(Ok(frame)) => Ok(Some(frame)),
            Ok(Err(e)) => {
                self.done = true;
                Err(e)
            }
            // The decoder hung up: end of stream.
            Err(_) => {
                self.done = true;
                Ok(None)
            }
        }
    }
}

impl Iterator for VideoReader {
    type Item = Result<Frame, VideoError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_frame().transpose()
    }
}

impl Drop for VideoReader {
    fn drop(&mut self) {
        // Hanging up makes the decode thread's next send fail, and it shuts the pipeline down.
        drop(self.frames.take());
        if let Some(thread) = self.thread.take() {
            // A panicked decode thread has nothing left to clean up.
            thread.join().ok();
        }
    }
}

/// The decode thread's state: pulls samples from appsink, copies them out tight, sends them.
struct Decoder {
    path: PathBuf,
    pipeline: gst::Pipeline,
    sink: gst_app::AppSink,
    bus: gst::Bus,
    format: PixelFormat,
    width: u32,
    height: u32,
    fps_num: i32,
    fps_den: i32,
    /// RGBA requested from a source without alpha: set alpha to 255.
    opaque: bool,
}

impl Decoder {
    fn run(self, tx: &Sender<Result<Frame, VideoError>>) {
        let mut index = 0u64;
        loop {
            if let Some(sample) = self
                .sink
                .try_pull_sample(gst::ClockTime::from_mseconds(POLL_MS))
            {
                let frame = self.copy_frame(&sample, index);
                let failed = frame.is_err();
                if tx.send(frame).is_err() || failed {
                    break;
                }
                index += 1;
                continue;
            }
            if let Some(detail) = super::pop_error(&self.bus, gst::ClockTime::ZERO) {
                // The receiver may be gone already; then nobody needs the error.
                tx.send(Err(self.decode_error(index, detail))).ok();
                break;
            }
            if self.sink.is_eos() {
                break;
            }
        }
        // Best effort: the pipeline is done either way.
        self.pipeline.set_state(gst::State::Null).ok();
    }

    fn decode_error(&self, frames: u64, detail: String) -> VideoError {
        VideoError::Decode {
            path: self.path.clone(),
            frames,
            detail,
        }
    }

    fn copy_frame(&self, sample: &gst::Sample, index: u64) -> Result<Frame, VideoError> {
        let err = |detail: &str| self.decode_error(index, detail.to_string());
        let caps = sample.caps().ok_or_else(|| err("frame without caps"))?;
        let info =
            gst_video::VideoInfo::from_caps(caps).map_err(|_| err("frame with invalid caps"))?;
        if info.width() != self.width || info.height() != self.height {
            return Err(err(&format!(
                "frame size changed from {}x{} to {}x{}",
                self.width,
                self.height,
                info.width(),
                info.height()
            )));
        }
        let buffer = sample
            .buffer()
            .ok_or_else(|| err("sample without buffer"))?;
        let vframe = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer, &info)
            .map_err(|_| err("cannot map frame"))?;
        let plane = vframe.plane_data(0).map_err(|_| err("cannot map plane"))?;
        let src_stride = vframe.plane_stride()[0] as usize;
        let row = self.width as usize * self.format.bytes_per_pixel();
        let rows = self.height as usize;
        let mut data = if src_stride == row {
            plane[..row * rows].to_vec()
        } else {
            let mut data = Vec::with_capacity(row * rows);
            for r in 0..rows {
                data.extend_from_slice(&plane[r * src_stride..r * src_stride + row]);
            }
            data
        };
        if self.opaque {
            for px in data.chunks_exact_mut(4) {
                px[3] = u8::MAX;
            }
        }
        let pts_ns = buffer
            .pts()
            .map_or_else(|| self.nominal(index), |t| self.snap(t.nseconds() as i64));
        Ok(Frame {
            index,
            pts_ns,
            width: self.width,
            height: self.height,
            format: self.format,
            stride: row,
            data,
        })
    }

    fn nominal(&self, index: u64) -> i64 {
        nominal_pts_ns(index, self.fps_num, self.fps_den)
    }

    /// Snaps `pts` onto the nominal frame grid when it is within [`SNAP_TOLERANCE_NS`] of it.
    fn snap(&self, pts: i64) -> i64 {
        if self.fps_num <= 0 || self.fps_den <= 0 || pts < 0 {
            return pts;
        }
        let per_ns = i128::from(self.fps_num);
        let den = i128::from(self.fps_den) * 1_000_000_000;
        let k = ((i128::from(pts) * per_ns + den / 2) / den) as u64;
        let grid = self.nominal(k);
        if (grid - pts).abs() <= SNAP_TOLERANCE_NS {
            grid
        } else {
            pts
        }
    }
}
