//! One picture to work on, for the commands that look at a single frame (`calibrate`,
//! `register`): an image file (PNG or JPEG, told apart by their content) or one frame of a
//! video, decoded through [`VideoReader`].
//!
//! A video frame is picked by its index (`--frame N`, from 0) or by a time (`--at SECONDS`: the
//! frame whose presentation time is nearest); the first frame by default. Times are the
//! stream's presentation times.

use std::path::{Path, PathBuf};

use image::{ImageFormat, RgbImage};

use crate::UsageError;
use crate::video::{Frame, PixelFormat, VideoReader};

/// Nanoseconds per second.
const NS_PER_S: f64 = 1e9;
/// Largest `--at` accepted (seconds): a day; beyond it the nanosecond count overflows long
/// before any video ends.
const MAX_AT_S: f64 = 86_400.0;

/// Where the picture comes from: `--image F`, or `--video F` with `--frame N` or `--at S`.
#[derive(Debug, Clone, clap::Args)]
pub struct StillArgs {
    /// The picture as an image file (PNG or JPEG).
    #[arg(long, value_name = "IMG", conflicts_with = "video")]
    pub image: Option<PathBuf>,
    /// The picture as a frame of this video (any file GStreamer plays); --frame or --at picks
    /// it, the first frame by default.
    #[arg(long, value_name = "VIDEO")]
    pub video: Option<PathBuf>,
    /// Index of the frame in --video (from 0).
    #[arg(long, value_name = "N", requires = "video", conflicts_with = "at")]
    pub frame: Option<u64>,
    /// Time in --video (seconds): the frame nearest that time.
    #[arg(long, value_name = "SECONDS", requires = "video")]
    pub at: Option<f64>,
}

/// A picture and where it lies in its video.
#[derive(Debug, Clone)]
pub struct Still {
    /// The pixels.
    pub rgb: RgbImage,
    /// The file it was read from.
    pub path: PathBuf,
    /// Index of the frame in its video (from 0); `None` for an image file.
    pub frame: Option<u64>,
    /// Presentation time of the frame in its video (seconds); `None` for an image file.
    pub time_s: Option<f64>,
}

/// Which frame of a video.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Target {
    /// The frame with this index.
    Index(u64),
    /// The frame nearest this time (ns); `at_s` as asked, for messages.
    Time { ns: i64, at_s: f64 },
}

impl StillArgs {
    /// Reads the picture; `command` names the command in the message when neither --image nor
    /// --video is given.
    pub fn load(&self, command: &str) -> anyhow::Result<Still> {
        match (&self.image, &self.video) {
            (Some(path), None) => Ok(Still {
                rgb: read_image(path)?,
                path: path.clone(),
                frame: None,
                time_s: None,
            }),
            (None, Some(path)) => read_video_frame(path, self.target()?),
            (None, None) => Err(UsageError(format!(
                "{command} needs a picture: --image IMG (PNG or JPEG) or --video VIDEO"
            ))
            .into()),
            (Some(_), Some(_)) => {
                Err(UsageError("give either --image or --video, not both".into()).into())
            }
        }
    }

    fn target(&self) -> Result<Target, UsageError> {
        match (self.frame, self.at) {
            (Some(_), Some(_)) => Err(UsageError("give either --frame or --at, not both".into())),
            (Some(n), None) => Ok(Target::Index(n)),
            (None, Some(at_s)) => {
                if !(at_s.is_finite() && (0.0..=MAX_AT_S).contains(&at_s)) {
                    return Err(UsageError(format!(
                        "--at {at_s}: expected a time in seconds from 0 to {MAX_AT_S}"
                    )));
                }
                Ok(Target::Time {
                    ns: (at_s * NS_PER_S).round() as i64,
                    at_s,
                })
            }
            (None, None) => Ok(Target::Index(0)),
        }
    }
}

/// Reads a PNG or JPEG file as RGB; the format is told by the content, so a misnamed file
/// still reads and anything else is refused by name.
pub fn read_image(path: &Path) -> Result<RgbImage, UsageError> {
    let fail = |m: String| UsageError(format!("{}: cannot read image: {m}", path.display()));
    let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let format = match image::guess_format(&bytes) {
        Ok(f @ (ImageFormat::Png | ImageFormat::Jpeg)) => f,
        Ok(other) => {
            return Err(fail(format!(
                "{} images are not supported (expected PNG or JPEG)",
                other.extensions_str().first().map_or("such", |e| e)
            )));
        }
        Err(_) => return Err(fail("not a PNG or JPEG image".into())),
    };
    let name = if format == ImageFormat::Png {
        "PNG"
    } else {
        "JPEG"
    };
    Ok(image::load_from_memory_with_format(&bytes, format)
        .map_err(|e| fail(format!("broken {name} file: {e}")))?
        .to_rgb8())
}

/// True when `pts_ns` is the frame `target` asks for, frames being `period_ns` apart (when the
/// stream says): the index, or the first frame whose time is at most half a period before the
/// target time (the nearest one; a tie goes to the later frame).
fn is_target(target: Target, index: u64, pts_ns: i64, period_ns: Option<u64>) -> bool {
    match target {
        Target::Index(n) => index == n,
        Target::Time { ns, .. } => {
            let half_span = i128::from(period_ns.unwrap_or(0));
            2 * i128::from(pts_ns) >= 2 * i128::from(ns) - half_span
        }
    }
}

/// Decodes `path` up to the frame `target` asks for.
fn read_video_frame(path: &Path, target: Target) -> anyhow::Result<Still> {
    let mut reader = VideoReader::open(path, PixelFormat::Rgb)?;
    let period_ns = reader.frame_period_ns();
    let mut last: Option<Frame> = None;
    let mut count = 0_u64;
    while let Some(frame) = reader.next_frame()? {
        count += 1;
        if is_target(target, frame.index, frame.pts_ns, period_ns) {
            return still_of(path, frame);
        }
        last = Some(frame);
    }
    let Some(last) = last else {
        return Err(UsageError(format!("{}: the video has no frames", path.display())).into());
    };
    let end_ns = last
        .pts_ns
        .saturating_add(period_ns.map_or(0, |p| p as i64));
    if let Target::Time { ns, .. } = target
        && ns < end_ns
    {
        // Within the last frame's time on screen.
        return still_of(path, last);
    }
    let asked = match target {
        Target::Index(n) => format!("--frame {n}"),
        Target::Time { at_s, .. } => format!("--at {at_s} s"),
    };
    Err(UsageError(format!(
        "{asked} is beyond the end of {}: it holds {count} frames ({:.3} s)",
        path.display(),
        end_ns as f64 / NS_PER_S
    ))
    .into())
}

fn still_of(path: &Path, frame: Frame) -> anyhow::Result<Still> {
    let (w, h) = (frame.width, frame.height);
    let rgb = RgbImage::from_raw(w, h, frame.data).ok_or_else(|| {
        anyhow::anyhow!(
            "{}: frame {} is not {w}x{h} RGB",
            path.display(),
            frame.index
        )
    })?;
    Ok(Still {
        rgb,
        path: path.to_path_buf(),
        frame: Some(frame.index),
        time_s: Some(frame.pts_ns as f64 / NS_PER_S),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 59.94 fps: frame `i` at `round(i * 1_001_000_000 / 60)` ns.
    const PERIOD_NS: u64 = 16_683_333;

    fn pts(i: u64) -> i64 {
        ((i as f64) * 1_001_000_000.0 / 60.0).round() as i64
    }

    fn first_match(target: Target) -> Option<u64> {
        (0..100).find(|&i| is_target(target, i, pts(i), Some(PERIOD_NS)))
    }

    fn at(s: f64) -> Target {
        Target::Time {
            ns: (s * NS_PER_S).round() as i64,
            at_s: s,
        }
    }

    #[test]
    fn a_time_picks_the_nearest_frame() {
        assert_eq!(first_match(at(0.0)), Some(0));
        // Frame 30 is at 0.5005 s: a time rounded to milliseconds still finds it.
        assert_eq!(first_match(at(0.5005)), Some(30));
        assert_eq!(first_match(at(0.500)), Some(30));
        assert_eq!(first_match(at(0.492)), Some(29));
        assert_eq!(first_match(at(0.493)), Some(30));
        assert_eq!(first_match(Target::Index(17)), Some(17));
        // Without a frame rate, the first frame at or after the time.
        assert!(!is_target(at(0.5), 29, pts(29), None));
        assert!(is_target(at(0.5), 30, pts(30), None));
    }

    #[test]
    fn bad_times_are_usage_errors() {
        for bad in [-0.1, f64::NAN, f64::INFINITY, 1e9] {
            let args = StillArgs {
                image: None,
                video: Some(PathBuf::from("v.mkv")),
                frame: None,
                at: Some(bad),
            };
            let err = args.target().expect_err("refused");
            assert!(err.0.contains("--at"), "{err}");
        }
    }

    #[test]
    fn images_are_read_by_their_content() {
        let dir = tempfile::tempdir().expect("tempdir");
        let img = RgbImage::from_fn(32, 16, |x, y| {
            image::Rgb([(x * 8) as u8, (y * 16) as u8, 90])
        });
        // A JPEG named .png and a PNG named .jpg both read.
        let jpeg_named_png = dir.path().join("frame.png");
        img.save_with_format(&jpeg_named_png, ImageFormat::Jpeg)
            .expect("jpeg");
        let png_named_jpg = dir.path().join("frame.jpg");
        img.save_with_format(&png_named_jpg, ImageFormat::Png)
            .expect("png");
        let from_jpeg = read_image(&jpeg_named_png).expect("jpeg reads");
        assert_eq!(from_jpeg.dimensions(), (32, 16));
        // Lossy, but close.
        let worst = from_jpeg
            .as_raw()
            .iter()
            .zip(img.as_raw())
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .expect("pixels");
        assert!(worst < 40, "{worst}");
        assert_eq!(read_image(&png_named_jpg).expect("png reads"), img);
        // Anything else says what is expected.
        let text = dir.path().join("notes.png");
        std::fs::write(&text, "not a picture").expect("write");
        let err = read_image(&text).expect_err("refused").to_string();
        assert!(
            err.contains("PNG or JPEG") && err.contains("notes.png"),
            "{err}"
        );
        let gif = dir.path().join("anim.gif");
        std::fs::write(&gif, b"GIF89a\x01\x00\x01\x00\x00\x00\x00;").expect("write");
        let err = read_image(&gif).expect_err("refused").to_string();
        assert!(err.contains("gif") && err.contains("PNG or JPEG"), "{err}");
        // A JPEG cut short says so.
        let cut = dir.path().join("cut.jpg");
        let bytes = std::fs::read(&jpeg_named_png).expect("read");
        std::fs::write(&cut, &bytes[..bytes.len() / 3]).expect("write");
        let err = read_image(&cut).expect_err("refused").to_string();
        assert!(err.contains("broken JPEG file"), "{err}");
    }
}
