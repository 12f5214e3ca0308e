//! The built-in sample: a short synthetic broadcast clip (yardline-samples, seed 1, the default
//! scenario) generated once into a cache folder and looped, so the app shows a line at first
//! launch without any input.

use std::path::{Path, PathBuf};

use gst::prelude::*;
use yardline_samples::{Sample, SampleConfig, Scenario};

use crate::error::UiError;

/// Frames of the built-in sample (1.5 s at 59.94 fps, looped; generated in seconds).
pub const BUILTIN_FRAMES: u32 = 90;
/// Picture size of the built-in sample.
pub const BUILTIN_SIZE: (u32, u32) = (640, 360);
/// File written last: its presence means the folder is complete.
const COMPLETE_MARKER: &str = ".complete";

/// Sample configuration of the built-in sample.
pub fn builtin_config() -> SampleConfig {
    SampleConfig {
        seed: 1,
        frames: BUILTIN_FRAMES,
        width: BUILTIN_SIZE.0,
        height: BUILTIN_SIZE.1,
        fps_num: 60_000,
        fps_den: 1001,
        scenario: Scenario::Default,
        ..SampleConfig::default()
    }
}

/// The default cache folder: `$XDG_CACHE_HOME/yardline` or `~/.cache/yardline`.
pub fn default_cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("yardline")
}

/// The built-in sample folder under `cache_dir`, generated when missing or incomplete.
pub fn ensure_builtin_sample(cache_dir: &Path) -> Result<PathBuf, UiError> {
    let cfg = builtin_config();
    let dir = cache_dir.join(format!(
        "builtin-sample-{}x{}-{}f-seed{}",
        cfg.width, cfg.height, cfg.frames, cfg.seed
    ));
    if dir.join(COMPLETE_MARKER).is_file() {
        return Ok(dir);
    }
    tracing::info!("generating the built-in sample into {}", dir.display());
    write_sample(cfg, &dir)?;
    Ok(dir)
}

/// Writes a sample folder (`video.mkv` FFV1 RGB plus the metadata files) as `dir`. The folder
/// is written under a staging name beside `dir` and renamed into place when complete, so
/// processes generating the same sample at once never read each other's half-written files:
/// the first rename wins and the others keep its folder.
pub fn write_sample(cfg: SampleConfig, dir: &Path) -> Result<(), UiError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |e: std::io::Error| UiError::Io {
            path: path.clone(),
            source: e,
        }
    };
    let name = dir
        .file_name()
        .map_or_else(|| "sample".into(), |n| n.to_string_lossy().into_owned());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let staging = dir.with_file_name(format!(".{name}.{}-{nanos}.partial", std::process::id()));
    std::fs::create_dir_all(&staging).map_err(io(&staging))?;
    let written = write_sample_files(cfg, &staging);
    let placed = written.and_then(|()| {
        if dir.join(COMPLETE_MARKER).is_file() {
            return Ok(());
        }
        if dir.exists() {
            // An incomplete folder from an interrupted run.
            std::fs::remove_dir_all(dir).map_err(io(dir))?;
        }
        match std::fs::rename(&staging, dir) {
            Ok(()) => Ok(()),
            // Another process placed its copy first.
            Err(_) if dir.join(COMPLETE_MARKER).is_file() => Ok(()),
            Err(e) => Err(io(dir)(e)),
        }
    });
    if staging.exists() {
        std::fs::remove_dir_all(&staging).ok();
    }
    placed
}

/// Writes the sample's files into the existing folder `dir`, the completion marker last.
fn write_sample_files(cfg: SampleConfig, dir: &Path) -> Result<(), UiError> {
    let io = |e: std::io::Error| UiError::Io {
        path: dir.to_path_buf(),
        source: e,
    };
    let sample = Sample::new(cfg).map_err(|e| UiError::Sample(e.to_string()))?;
    sample
        .write_metadata(dir)
        .map_err(|e| UiError::Sample(e.to_string()))?;
    let cfg = sample.config().clone();
    let video = dir.join("video.mkv");
    let mut writer = MkvWriter::create(&video, cfg.width, cfg.height, cfg.fps_num, cfg.fps_den)?;
    // Frames render in parallel batches (one per core) and are written in order.
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let batch = u32::try_from(threads).unwrap_or(1).max(1);
    let mut first = 0;
    while first < cfg.frames {
        let last = (first + batch).min(cfg.frames);
        let rendered: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = (first..last)
                .map(|i| {
                    let sample = &sample;
                    scope.spawn(move || sample.render_frame(i))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .map_err(|_| UiError::Sample("a render thread panicked".into()))?
                        .map_err(|e| UiError::Sample(e.to_string()))
                })
                .collect()
        });
        for (i, frame) in (first..).zip(rendered) {
            writer.push(frame?.rgb, cfg.pts_ns(i))?;
        }
        first = last;
    }
    writer.finish()?;
    std::fs::write(dir.join(COMPLETE_MARKER), b"").map_err(io)?;
    Ok(())
}

/// `appsrc ! videoconvert ! video/x-raw,format=BGRx ! avenc_ffv1 ! matroskamux ! filesink`:
/// lossless RGB Matroska.
struct MkvWriter {
    pipeline: gst::Pipeline,
    src: gst_app::AppSrc,
    path: PathBuf,
}

impl MkvWriter {
    fn create(path: &Path, width: u32, height: u32, num: u32, den: u32) -> Result<Self, UiError> {
        crate::video::init_gstreamer()?;
        let gst_err = |detail: String| UiError::Pipeline {
            description: format!("writing {}", path.display()),
            detail,
        };
        let fps = gst::Fraction::new(
            i32::try_from(num).map_err(|e| gst_err(e.to_string()))?,
            i32::try_from(den).map_err(|e| gst_err(e.to_string()))?,
        );
        let caps = gst_video::VideoCapsBuilder::new()
            .format(gst_video::VideoFormat::Rgb)
            .width(i32::try_from(width).map_err(|e| gst_err(e.to_string()))?)
            .height(i32::try_from(height).map_err(|e| gst_err(e.to_string()))?)
            .framerate(fps)
            .build();
        let src = gst_app::AppSrc::builder()
            .caps(&caps)
            .format(gst::Format::Time)
            .block(true)
            .max_bytes(u64::from(width) * u64::from(height) * 3 * 4)
            .build();
        let pipeline = gst::Pipeline::new();
        let make = |name: &str| {
            gst::ElementFactory::make(name)
                .build()
                .map_err(|_| gst_err(format!("GStreamer element '{name}' is not installed")))
        };
        let convert = make("videoconvert")?;
        // FFV1 keeps RGB losslessly when fed BGRx.
        let filter = gst::ElementFactory::make("capsfilter")
            .property(
                "caps",
                gst_video::VideoCapsBuilder::new()
                    .format(gst_video::VideoFormat::Bgrx)
                    .build(),
            )
            .build()
            .map_err(|_| gst_err("GStreamer element 'capsfilter' is not installed".into()))?;
        let enc = make("avenc_ffv1")?;
        let mux = make("matroskamux")?;
        let sink = gst::ElementFactory::make("filesink")
            .property("location", path.to_string_lossy().as_ref())
            .build()
            .map_err(|_| gst_err("GStreamer element 'filesink' is not installed".into()))?;
        pipeline
            .add_many([src.upcast_ref(), &convert, &filter, &enc, &mux, &sink])
            .map_err(|e| gst_err(e.to_string()))?;
        gst::Element::link_many([src.upcast_ref(), &convert, &filter, &enc, &mux, &sink])
            .map_err(|e| gst_err(e.to_string()))?;
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|e| gst_err(e.to_string()))?;
        Ok(Self {
            pipeline,
            src,
            path: path.to_path_buf(),
        })
    }

    fn push(&mut self, rgb: Vec<u8>, pts_ns: i64) -> Result<(), UiError> {
        let mut buffer = gst::Buffer::from_mut_slice(rgb);
        if let Some(b) = buffer.get_mut() {
            b.set_pts(gst::ClockTime::from_nseconds(pts_ns.max(0).unsigned_abs()));
        }
        self.src
            .push_buffer(buffer)
            .map_err(|e| UiError::Pipeline {
                description: format!("writing {}", self.path.display()),
                detail: format!("{e:?}"),
            })?;
        Ok(())
    }

    fn finish(self) -> Result<(), UiError> {
        let err = |detail: String| UiError::Pipeline {
            description: format!("writing {}", self.path.display()),
            detail,
        };
        self.src
            .end_of_stream()
            .map_err(|e| err(format!("{e:?}")))?;
        let bus = self
            .pipeline
            .bus()
            .ok_or_else(|| err("pipeline has no bus".into()))?;
        let msg = bus.timed_pop_filtered(
            gst::ClockTime::from_seconds(60),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        );
        let result = match msg.as_ref().map(|m| m.view()) {
            Some(gst::MessageView::Eos(_)) => Ok(()),
            Some(gst::MessageView::Error(e)) => Err(err(e.error().to_string())),
            _ => Err(err("the encoder did not finish within 60 s".into())),
        };
        self.pipeline
            .set_state(gst::State::Null)
            .map_err(|e| err(e.to_string()))?;
        result
    }
}
