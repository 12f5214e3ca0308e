//! What the element costs in a pipeline: `videotestsrc num-buffers=N ! 1920x1080 RGBA ! yardline
//! ! fakesink` against the same pipeline without it, and the element's own per-frame times.
//!
//! ```text
//! cargo run --release -p gst-plugin-yardline --example overhead [-- FRAMES]
//! ```
//!
//! Three runs: no element; the element without a venue (vision only: nothing to lock on, so
//! nothing drawn); the element with the venue and recorded tracking of a synthetic 1080p sample
//! over a grass-green test picture (the line drawn on every frame).

use std::time::Instant;

use gst::prelude::*;
use yardline_samples::{Sample, SampleConfig};

const WIDTH: u32 = 1920;
const HEIGHT: u32 = 1080;
/// Grass green as `0xAARRGGBB`.
const GRASS: u32 = 0xFF2E_7D32;

fn run(description: &str) -> Result<(f64, Option<String>), Box<dyn std::error::Error>> {
    let pipeline = gst::parse::launch(description)?
        .downcast::<gst::Pipeline>()
        .map_err(|_| "not a pipeline")?;
    let bus = pipeline.bus().ok_or("no bus")?;
    let start = Instant::now();
    pipeline.set_state(gst::State::Playing)?;
    for msg in bus.iter_timed(gst::ClockTime::NONE) {
        match msg.view() {
            gst::MessageView::Eos(_) => break,
            gst::MessageView::Error(e) => {
                pipeline.set_state(gst::State::Null)?;
                return Err(format!("{}: {:?}", e.error(), e.debug()).into());
            }
            _ => {}
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let stats = pipeline.by_name("y").map(|e| e.property::<String>("stats"));
    pipeline.set_state(gst::State::Null)?;
    Ok((secs, stats))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let frames: u32 = match std::env::args().nth(1) {
        Some(a) => a.parse()?,
        None => 600,
    };
    gst::init()?;
    gstyardline::plugin_register_static()?;

    let tmp = tempfile::tempdir()?;
    let sample = Sample::new(SampleConfig {
        frames,
        width: WIDTH,
        height: HEIGHT,
        ..SampleConfig::default()
    })?;
    sample.write_metadata(tmp.path())?;
    let venue = tmp.path().join("venue.toml");
    let tracking = gst::glib::filename_to_uri(tmp.path().join("tracking.jsonl"), None)?;

    let source = format!(
        "videotestsrc num-buffers={frames} pattern=solid-color foreground-color={GRASS} ! \
         video/x-raw,format=RGBA,width={WIDTH},height={HEIGHT},framerate=60000/1001"
    );
    let runs = [
        (
            "without the element",
            format!("{source} ! fakesink sync=false"),
        ),
        (
            "yardline, no venue (vision only, nothing drawn)",
            format!("{source} ! yardline name=y ! fakesink sync=false"),
        ),
        (
            "yardline, venue + tracking (line drawn)",
            format!(
                "{source} ! yardline name=y venue=\"{}\" tracking=\"{tracking}\" \
                 first-down=35 ! fakesink sync=false",
                venue.display()
            ),
        ),
    ];
    let mut baseline = None;
    for (name, description) in runs {
        let (secs, stats) = run(&description)?;
        let per_frame_ms = secs * 1e3 / f64::from(frames);
        let base = *baseline.get_or_insert(per_frame_ms);
        println!(
            "{name}: {secs:.2} s for {frames} frames, {per_frame_ms:.3} ms/frame \
             (+{:.3} ms/frame over no element)",
            per_frame_ms - base
        );
        if let Some(s) = stats {
            println!("  {s}");
        }
    }
    Ok(())
}
