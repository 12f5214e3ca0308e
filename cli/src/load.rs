//! Co-running loads for `yardline bench --load`: what a streaming box runs beside the engine.
//!
//! - `x264`: an H.264 encode (x264, preset medium, as many threads as it wants) of a scrolling
//!   1920x1080 60 fps test pattern through GStreamer, as fast as it goes: the encoder of a
//!   streaming box, which keeps every core busy.
//! - `busy:N`: N threads spinning (`busy` alone: one per core).

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use anyhow::{Context, Result, bail};
use gst::prelude::*;

/// The x264 load's pipeline.
const X264_PIPELINE: &str = "videotestsrc pattern=smpte horizontal-speed=4 is-live=false ! \
     video/x-raw,format=I420,width=1920,height=1080,framerate=60/1 ! \
     x264enc speed-preset=medium ! fakesink sync=false";

/// A co-running load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Load {
    /// Nothing beside the engine.
    None,
    /// An x264 encode of a 1080p60 test pattern.
    X264,
    /// This many spinning threads.
    Busy(usize),
}

impl FromStr for Load {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "none" => Ok(Self::None),
            "x264" => Ok(Self::X264),
            "busy" => Ok(Self::Busy(
                std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            )),
            other => match other.strip_prefix("busy:").map(str::parse::<usize>) {
                Some(Ok(n)) if (1..=256).contains(&n) => Ok(Self::Busy(n)),
                _ => Err(format!(
                    "unknown load {other:?} (expected none, x264, busy or busy:N with N in 1..=256)"
                )),
            },
        }
    }
}

impl std::fmt::Display for Load {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::None => f.write_str("none"),
            Self::X264 => f.write_str("x264 1080p60 encode"),
            Self::Busy(n) => write!(f, "{n} busy thread(s)"),
        }
    }
}

/// A load while it runs; dropping it stops it.
#[derive(Debug)]
pub struct RunningLoad {
    pipeline: Option<gst::Element>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl RunningLoad {
    /// Starts `load` (nothing for [`Load::None`]) from a thread of normal scheduling, so
    /// neither its threads nor the encoder's inherit the caller's real-time priority.
    pub fn start(load: Load) -> Result<Self> {
        std::thread::spawn(move || {
            yardline_engine::sched::demote_current_thread();
            Self::start_here(load)
        })
        .join()
        .map_err(|_| anyhow::anyhow!("the load's starter thread panicked"))?
    }

    fn start_here(load: Load) -> Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut running = Self {
            pipeline: None,
            stop: Arc::clone(&stop),
            threads: Vec::new(),
        };
        match load {
            Load::None => {}
            Load::X264 => {
                gst::init().context("cannot initialise GStreamer")?;
                let pipeline = gst::parse::launch(X264_PIPELINE).context(
                    "cannot build the x264 load (gstreamer1.0-plugins-ugly; see \
                     scripts/install-deps.sh)",
                )?;
                pipeline
                    .set_state(gst::State::Playing)
                    .context("cannot start the x264 load")?;
                running.pipeline = Some(pipeline);
            }
            Load::Busy(n) => {
                for i in 0..n {
                    let stop = Arc::clone(&stop);
                    let t = std::thread::Builder::new()
                        .name(format!("bench-load-{i}"))
                        .spawn(move || {
                            let mut x = 0_u64;
                            while !stop.load(Ordering::Relaxed) {
                                x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005))
                                    .wrapping_add(1);
                            }
                        })
                        .context("cannot start a busy thread")?;
                    running.threads.push(t);
                }
            }
        }
        Ok(running)
    }

    /// Fails when the load stopped by itself (the encoder's pipeline posted an error).
    pub fn check(&self) -> Result<()> {
        let Some(p) = &self.pipeline else {
            return Ok(());
        };
        if let Some(bus) = p.bus()
            && let Some(msg) = bus.pop_filtered(&[gst::MessageType::Error])
            && let gst::MessageView::Error(e) = msg.view()
        {
            bail!("the x264 load failed: {}", e.error());
        }
        Ok(())
    }
}

impl Drop for RunningLoad {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            t.join().ok();
        }
        if let Some(p) = self.pipeline.take() {
            p.set_state(gst::State::Null).ok();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_parse() {
        assert_eq!("none".parse::<Load>(), Ok(Load::None));
        assert_eq!("X264".parse::<Load>(), Ok(Load::X264));
        assert_eq!("busy:3".parse::<Load>(), Ok(Load::Busy(3)));
        assert!(matches!("busy".parse::<Load>(), Ok(Load::Busy(n)) if n >= 1));
        for bad in ["", "busy:0", "busy:x", "ffmpeg", "busy:1000"] {
            assert!(bad.parse::<Load>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn busy_threads_start_and_stop() {
        let load = RunningLoad::start(Load::Busy(2)).expect("busy threads start");
        assert_eq!(load.threads.len(), 2);
        load.check().expect("busy threads never fail");
        drop(load);
    }
}
