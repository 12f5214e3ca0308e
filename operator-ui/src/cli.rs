//! Command-line flags of `yardline-operator` and how they become the video thread's inputs.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use yardline_engine::BackendChoice;
use yardline_engine::EngineConfig;
use yardline_engine::field::parse_yard;
use yardline_engine::venue::Venue;
use yardline_keying::KeyConfig;

use crate::error::UiError;
use crate::sample_cache;
use crate::video::{TrackingSpec, VideoSetup, VideoSpec, sample_setup};

/// Which renderer draws the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum RendererChoice {
    /// wgpu first, OpenGL (glow) when wgpu cannot start.
    #[default]
    Auto,
    /// wgpu only.
    Wgpu,
    /// OpenGL (glow) only.
    Glow,
}

/// yardline operator: place the first-down line, key, calibrate and watch health.
///
/// With no source flag it plays the built-in sample (generated on first launch into the cache
/// folder) in a loop.
#[derive(Debug, Clone, Parser)]
#[command(name = "yardline-operator", version)]
pub struct Args {
    /// A `gst-launch` style source description, e.g. "v4l2src device=/dev/video0"; the app
    /// appends the conversion and its appsink.
    #[arg(long, value_name = "PIPELINE", conflicts_with_all = ["input", "sample", "test_pattern"])]
    pub source: Option<String>,
    /// A video file (any container/codec GStreamer plays), looped.
    #[arg(long, value_name = "VIDEO", conflicts_with_all = ["sample", "test_pattern"])]
    pub input: Option<PathBuf>,
    /// A sample folder (video.mkv, tracking.jsonl, venue.toml, scene.toml), looped.
    #[arg(long, value_name = "DIR", conflicts_with = "test_pattern")]
    pub sample: Option<PathBuf>,
    /// SMPTE bars from `videotestsrc` (no field: for checking the window and the pipeline).
    #[arg(long)]
    pub test_pattern: bool,
    /// FreeD packets from a tracking.jsonl file.
    #[arg(long, value_name = "FILE", conflicts_with = "udp")]
    pub tracking: Option<PathBuf>,
    /// FreeD packets over UDP on this address (e.g. 0.0.0.0:40000).
    #[arg(long, value_name = "ADDR")]
    pub udp: Option<SocketAddr>,
    /// Venue calibration (venue.toml).
    #[arg(long, value_name = "FILE")]
    pub venue: Option<PathBuf>,
    /// Key palette (key.toml); without it an automatic palette is built from the first frame.
    #[arg(long, value_name = "FILE")]
    pub keying: Option<PathBuf>,
    /// First-down line position ("35", "own 35", "opp 20").
    #[arg(long, value_name = "YARD", value_parser = parse_yard_arg)]
    pub first_down: Option<f64>,
    /// Compositor backend: auto (hardware GPU if present, else CPU), cpu or gpu.
    #[arg(long, default_value = "auto", value_parser = parse_backend)]
    pub backend: BackendChoice,
    /// Window renderer.
    #[arg(long, value_enum, default_value_t = RendererChoice::Auto)]
    pub renderer: RendererChoice,
    /// Folder for the built-in sample (default: `$XDG_CACHE_HOME/yardline`).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Window size in points, `WIDTHxHEIGHT`.
    #[arg(long, value_name = "WxH", default_value = "1280x800", value_parser = parse_size)]
    pub window: (u32, u32),
    /// Start with settings defaults and do not save settings on exit.
    #[arg(long)]
    pub no_persist: bool,
    /// Remote mode: drive the engines (elements with `control=ADDR:PORT`) listed in this JSON
    /// file, `[{"name": "CAM 1", "addr": "HOST:PORT", "token": "T", "tally_address": 0}]`,
    /// instead of playing video here.
    #[arg(long, value_name = "ENGINES.json", conflicts_with_all = ["source", "input", "sample", "test_pattern"])]
    pub remote: Option<PathBuf>,
    /// Remote mode: listen for TSL UMD v3.1 tally on this UDP address (e.g. 0.0.0.0:8900).
    #[arg(long, value_name = "ADDR", requires = "remote")]
    pub tsl: Option<SocketAddr>,
}

fn parse_yard_arg(s: &str) -> Result<f64, String> {
    parse_yard(s).map_err(|e| e.to_string())
}

fn parse_backend(s: &str) -> Result<BackendChoice, String> {
    s.parse()
        .map_err(|e: yardline_engine::EngineError| e.to_string())
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("{s:?} is not WIDTHxHEIGHT (e.g. 1280x800)");
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    let w: u32 = w.trim().parse().map_err(|_| bad())?;
    let h: u32 = h.trim().parse().map_err(|_| bad())?;
    if w == 0 || h == 0 {
        return Err(bad());
    }
    Ok((w, h))
}

impl Args {
    /// The video thread's inputs. Generates the built-in sample when no source is given.
    pub fn video_setup(&self) -> Result<VideoSetup, UiError> {
        let config = EngineConfig {
            backend: self.backend,
            ..EngineConfig::default()
        };
        let mut setup = if let Some(dir) = &self.sample {
            sample_setup(dir, config)?
        } else if let Some(path) = &self.input {
            plain(VideoSpec::File(path.clone()), config)
        } else if let Some(desc) = &self.source {
            plain(VideoSpec::Launch(desc.clone()), config)
        } else if self.test_pattern {
            plain(VideoSpec::TestPattern, config)
        } else {
            let cache = self
                .cache_dir
                .clone()
                .unwrap_or_else(sample_cache::default_cache_dir);
            let dir = sample_cache::ensure_builtin_sample(&cache)?;
            sample_setup(&dir, config)?
        };
        if let Some(path) = &self.tracking {
            setup.tracking = TrackingSpec::File(path.clone());
        }
        if let Some(addr) = self.udp {
            setup.tracking = TrackingSpec::Udp(addr);
        }
        if let Some(path) = &self.venue {
            setup.venue = Some(
                Venue::load(path)
                    .map_err(|e| UiError::Config(format!("{}: {e}", path.display())))?,
            );
        }
        if let Some(path) = &self.keying {
            setup.key = Some(
                KeyConfig::load(path)
                    .map_err(|e| UiError::Config(format!("{}: {e}", path.display())))?,
            );
        }
        if let Some(y) = self.first_down {
            setup.config.first_down.yard = y;
        }
        setup
            .config
            .validate()
            .map_err(|e| UiError::Config(e.to_string()))?;
        Ok(setup)
    }
}

fn plain(video: VideoSpec, config: EngineConfig) -> VideoSetup {
    VideoSetup {
        video,
        tracking: TrackingSpec::None,
        venue: None,
        config,
        key: None,
    }
}
