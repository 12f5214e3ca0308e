//! Shared set-up of the element tests: GStreamer with the plugin registered in-process, small
//! synthetic samples with exact truth, and the CLI render's engine loop as the reference.

#![allow(
    dead_code,
    reason = "each test binary uses its own subset of these helpers"
)]

use std::path::{Path, PathBuf};
use std::sync::Once;

use gst::prelude::*;
use yardline_engine::tracking::TrackingFeed;
use yardline_engine::venue::Venue;
use yardline_engine::{BackendChoice, Engine, EngineConfig};
use yardline_frame::{FrameLayout, FrameMut, PixelFormat};
use yardline_samples::{RenderedFrame, Sample, SampleConfig, SceneConfig, Scorer};

/// Initialises GStreamer and registers the plugin from this crate's rlib (once).
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        gst::init().expect("GStreamer initialises");
        gstyardline::plugin_register_static().expect("the plugin registers");
    });
}

/// A live configuration change: before frame `.0`, apply `.1`.
pub type ConfigChange<'a> = (usize, &'a dyn Fn(&mut EngineConfig));

/// A sample written to a temporary folder, its frames rendered in memory.
pub struct TestSample {
    /// Keeps the folder alive.
    pub tmp: tempfile::TempDir,
    /// The sample folder (truth.jsonl, tracking.jsonl, venue.toml, scene.toml).
    pub dir: PathBuf,
    /// The generator.
    pub sample: Sample,
    /// Every frame (rgb24, mask, truth).
    pub frames: Vec<RenderedFrame>,
}

impl TestSample {
    /// `frames` frames of 640x360 at 59.94 from the default scenario.
    pub fn new(frames: u32, first_down: f64) -> Self {
        Self::with_size(frames, first_down, 640, 360)
    }

    /// `frames` frames of `width` x `height` at 59.94 from the default scenario.
    pub fn with_size(frames: u32, first_down: f64, width: u32, height: u32) -> Self {
        let cfg = SampleConfig {
            frames,
            width,
            height,
            first_down_yard: first_down,
            ..SampleConfig::default()
        };
        let sample = Sample::new(cfg).expect("valid sample config");
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("sample");
        sample.write_metadata(&dir).expect("sample metadata");
        let frames = (0..frames)
            .map(|i| sample.render_frame(i).expect("frame renders"))
            .collect();
        Self {
            tmp,
            dir,
            sample,
            frames,
        }
    }

    /// Width, height.
    pub fn size(&self) -> (u32, u32) {
        let c = self.sample.config();
        (c.width, c.height)
    }

    /// Presentation time of frame `i` (ns).
    pub fn pts(&self, i: usize) -> i64 {
        self.sample.config().pts_ns(i as u32)
    }

    /// Frame period (ns), as the element derives it from the caps.
    pub fn period_ns(&self) -> i64 {
        let c = self.sample.config();
        (1e9 * f64::from(c.fps_den) / f64::from(c.fps_num)).round() as i64
    }

    /// Caps of the sample's frames in `format`.
    pub fn caps(&self, format: &str) -> String {
        let (w, h) = self.size();
        let c = self.sample.config();
        format!(
            "video/x-raw,format={format},width={w},height={h},framerate={}/{}",
            c.fps_num, c.fps_den
        )
    }

    /// Every frame as RGBA (opaque).
    pub fn rgba_frames(&self) -> Vec<Vec<u8>> {
        self.frames.iter().map(|f| rgba(&f.rgb)).collect()
    }

    /// The venue file.
    pub fn venue_path(&self) -> PathBuf {
        self.dir.join("venue.toml")
    }

    /// The tracking file as a `file://` URI.
    pub fn tracking_uri(&self) -> String {
        gst::glib::filename_to_uri(self.dir.join("tracking.jsonl"), None)
            .expect("absolute path")
            .to_string()
    }

    /// The scene description.
    pub fn scene(&self) -> SceneConfig {
        SceneConfig::load(&self.dir.join("scene.toml")).expect("scene.toml")
    }

    /// A `yardline` element configured as `yardline render --sample DIR --backend cpu` is, with
    /// no frame budget (a render never skips a frame; tests must not depend on speed).
    pub fn element(&self) -> gst::Element {
        let scene = self.scene();
        gst::ElementFactory::make("yardline")
            .property("venue", self.venue_path().to_str().expect("utf-8 path"))
            .property("tracking", self.tracking_uri())
            .property("first-down", scene.first_down_yard)
            .property("scrimmage", scene.scrimmage_yard)
            .property("line-width", scene.line_width_m)
            .property_from_str("field", &scene.field)
            .property_from_str("backend", "cpu")
            .property("budget", -1_i64)
            .build()
            .expect("yardline element")
    }

    /// The engine configuration `yardline render --sample DIR --backend cpu` uses.
    pub fn cli_config(&self) -> EngineConfig {
        let scene = self.scene();
        let mut config = EngineConfig::default();
        config.first_down.yard = scene.first_down_yard;
        config.first_down.width_m = scene.line_width_m;
        config.scrimmage.yard = scene.scrimmage_yard;
        config.scrimmage.width_m = scene.line_width_m;
        config.field = scene.field.parse().expect("field kind");
        config.frame_period_ns = self.period_ns();
        config.backend = BackendChoice::Cpu;
        config.first_down.fade_ms = 0.0;
        config.scrimmage.fade_ms = 0.0;
        config
    }

    /// What the CLI render does to `frames` (RGBA): its tracking feed and `Engine::process`
    /// per frame. `change` runs on the configuration before frame `at` (a live property change).
    pub fn reference(&self, frames: &[Vec<u8>], change: Option<ConfigChange<'_>>) -> Vec<Vec<u8>> {
        let venue = Venue::load(&self.venue_path()).expect("venue.toml");
        let mut engine = Engine::new(self.cli_config(), Some(&venue), None).expect("engine");
        let mut feed =
            TrackingFeed::open_file(&self.dir.join("tracking.jsonl")).expect("tracking.jsonl");
        let (w, h) = self.size();
        let layout = FrameLayout::packed(PixelFormat::Rgba, w, h).expect("layout");
        let mut out = Vec::new();
        for (i, frame) in frames.iter().enumerate() {
            if let Some((at, f)) = &change
                && *at == i
            {
                let mut c = engine.config().clone();
                f(&mut c);
                engine.set_config(c).expect("valid change");
            }
            let pts = self.pts(i);
            engine.take_tracking(&mut feed, pts, false);
            let mut data = frame.clone();
            let mut fm = FrameMut::new(&layout, &mut data).expect("frame");
            let report = engine.process(&mut fm, pts);
            assert!(
                report.fault.is_none(),
                "reference fault: {:?}",
                report.fault
            );
            out.push(data);
        }
        out
    }

    /// Scores output frames (rgb24) against the truth.
    pub fn score(&self, outputs: &[Vec<u8>]) -> yardline_samples::EvalReport {
        let inputs: Vec<&[u8]> = self.frames.iter().map(|f| &f.rgb[..]).collect();
        self.score_against(&inputs, outputs)
    }

    /// Scores output frames (rgb24) against the truth, each compared with its own input frame
    /// (rgb24; e.g. the sample's frame through the same conversions without the line).
    pub fn score_against(
        &self,
        inputs: &[&[u8]],
        outputs: &[Vec<u8>],
    ) -> yardline_samples::EvalReport {
        assert_eq!(outputs.len(), self.frames.len(), "one output per frame");
        assert_eq!(inputs.len(), self.frames.len(), "one input per frame");
        let mut scorer = Scorer::new(&self.sample.scene()).expect("scorer");
        for ((f, input), out) in self.frames.iter().zip(inputs).zip(outputs) {
            scorer
                .add_frame(input, out, &f.mask, &f.truth, None)
                .expect("frame scores");
        }
        scorer.finish()
    }
}

/// rgb24 -> RGBA with an opaque alpha.
pub fn rgba(rgb: &[u8]) -> Vec<u8> {
    rgb.chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect()
}

/// RGBA -> rgb24.
pub fn rgb(rgba: &[u8]) -> Vec<u8> {
    rgba.chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect()
}

/// A buffer holding `data` stamped at `pts_ns`.
pub fn buffer(data: Vec<u8>, pts_ns: i64, period_ns: i64) -> gst::Buffer {
    let mut b = gst::Buffer::from_mut_slice(data);
    {
        let b = b.get_mut().expect("fresh buffer is writable");
        b.set_pts(gst::ClockTime::from_nseconds(pts_ns as u64));
        b.set_duration(gst::ClockTime::from_nseconds(period_ns as u64));
    }
    b
}

/// The bytes of a buffer.
pub fn bytes(b: &gst::Buffer) -> Vec<u8> {
    b.map_readable()
        .expect("readable buffer")
        .as_slice()
        .to_vec()
}

/// The element's `stats` property parsed back into a structure.
pub fn stats(element: &gst::Element) -> gst::Structure {
    let s: String = element.property("stats");
    s.parse().expect("stats is a structure")
}

/// Number of bytes that differ.
pub fn differing(a: &[u8], b: &[u8]) -> usize {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).filter(|(x, y)| x != y).count()
}

/// Path of a file under the sample folder.
pub fn under(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}
