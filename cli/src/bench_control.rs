//! `yardline bench --command-to-screen TRIES`: the time from an operator's change to the first
//! frame drawn with it, on a live engine: the bench scene paced at its frame period (59.94)
//! through the render's live mode (`--realtime --control`: the same `ControlHub` and control
//! server as the element), a change sent TRIES times each way:
//!
//! - `cli`: `yardline control ADDR set first-down Y`, a new process each time (what an operator
//!   types): process start, HTTP request, the frame boundary, the frame;
//! - `ws`: a set message on one persistent WebSocket (what the operator app could keep open).
//!
//! A try ends when a frame drawn with the new yard leaves the engine (`Engine::process`
//! returned). Tries start at spread phases of the frame period. Each try is also split where
//! the control server accepted the change (on its thread): the way there (the client, its
//! process start for `cli`, the request, the server) and the way on to the frame (the wait for
//! the next frame boundary, the frame).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use yardline_control::Change;
use yardline_control::client::WsClient;
use yardline_engine::report::Percentiles;
use yardline_engine::tracking::TrackingSample;
use yardline_engine::tracking::freed::decode_checked;
use yardline_engine::{Engine, EngineConfig};
use yardline_frame::FrameMut;

use crate::bench_cmd::{BenchArgs, Scene};
use crate::live::{LastAccepted, Live};
use crate::scene::SCENE_FRAMES;

/// Longest a try waits for its frame.
const TRY_TIMEOUT: Duration = Duration::from_secs(5);

/// Command-to-screen times of one way of sending (ms, and in frame periods at p50/p99).
#[derive(Debug, Clone, Serialize)]
pub struct ToScreen {
    /// How the change was sent: `cli` or `ws`.
    pub via: String,
    /// Tries (count).
    pub tries: usize,
    /// From the send to the first frame drawn with the change (ms).
    pub ms: Percentiles,
    /// From the send to the control server accepting the change (ms).
    pub to_server_ms: Percentiles,
    /// From the server accepting the change to the first frame drawn with it (ms).
    pub to_frame_ms: Percentiles,
    /// p50 in frame periods.
    pub p50_periods: f64,
    /// p99 in frame periods.
    pub p99_periods: f64,
}

/// Runs `tries` tries each way on `scene`.
pub fn measure(args: &BenchArgs, scene: &Scene, tries: u32) -> Result<Vec<ToScreen>> {
    if tries == 0 {
        bail!("--command-to-screen needs at least 1 try");
    }
    let looped = &scene.looped;
    let period_ns = looped.period_ns;
    let mut config = EngineConfig {
        backend: args.backend,
        ..EngineConfig::default()
    };
    config.first_down.yard = 35.0;
    config.first_down.fade_ms = 0.0;
    config.frame_period_ns = period_ns;
    let mut engine = Engine::new(config.clone(), Some(&looped.venue), None)?;
    engine.set_auto_key_inline(false);
    let mut live = Live::start(
        Some("127.0.0.1:0"),
        None,
        &config,
        false,
        Some(Instant::now()),
    )?;
    let addr = live
        .control_addr()
        .context("the control server did not start")?
        .to_string();
    let accepted = live
        .last_accepted()
        .context("the control server did not start")?;
    let (drawn_tx, drawn_rx) = crossbeam_channel::bounded::<(Instant, f64)>(64);
    let stop = Arc::new(AtomicBool::new(false));
    std::thread::scope(|scope| -> Result<Vec<ToScreen>> {
        let stop_engine = Arc::clone(&stop);
        let engine_thread = scope.spawn(move || -> Result<()> {
            yardline_engine::sched::promote_current_thread("bench engine thread");
            let (layout, frames, packets) = (&scene.layout, &scene.frames, &looped.packets);
            let mut buf = vec![0u8; layout.size];
            let mut last_yard = f64::NAN;
            let mut n = 0_u32;
            while !stop_engine.load(Ordering::Acquire) {
                let k = (n % SCENE_FRAMES) as usize;
                let pts = i64::from(n) * period_ns;
                if k == 0 {
                    engine.pose_mut().reset();
                }
                for ahead in 0..=2u32 {
                    let m = n + ahead;
                    if let Some(bytes) = packets[(m % SCENE_FRAMES) as usize]
                        && (ahead == 2 || n == 0)
                    {
                        engine.push_tracking(&TrackingSample::freed(
                            i64::from(m) * period_ns + looped.delay_ns,
                            decode_checked(&bytes)?,
                        ));
                    }
                }
                buf.copy_from_slice(&frames[k]);
                let hook = live.before(&mut engine, layout, &buf, pts);
                let report = engine.process(&mut FrameMut::new(layout, &mut buf)?, pts);
                let done = Instant::now();
                live.after(hook, &engine, layout, &buf, &report);
                let yard = engine.config().first_down.yard;
                if report.drawn && yard.to_bits() != last_yard.to_bits() {
                    last_yard = yard;
                    // A full channel only loses a report nobody waits for.
                    drawn_tx.try_send((done, yard)).ok();
                }
                n += 1;
            }
            Ok(())
        });
        let outcome = drive(&addr, period_ns, tries, &drawn_rx, &accepted);
        stop.store(true, Ordering::Release);
        engine_thread
            .join()
            .map_err(|_| anyhow::anyhow!("the engine thread panicked"))??;
        outcome
    })
}

/// Sends the tries each way and collects their times.
fn drive(
    addr: &str,
    period_ns: i64,
    tries: u32,
    drawn: &crossbeam_channel::Receiver<(Instant, f64)>,
    accepted: &LastAccepted,
) -> Result<Vec<ToScreen>> {
    let period = Duration::from_nanos(period_ns.unsigned_abs());
    // The engine's first frames (the automatic key is built in the background).
    wait_for(drawn, 35.0, Duration::from_secs(30)).context("no frame drawn at 35")?;
    // The binary an operator runs (beside this `yardline-full`).
    let exe = yardline_cli::sibling(yardline_cli::USER_BINARY).context("the yardline binary")?;
    let mut ws = WsClient::connect(addr, None, 1000)?;
    let mut out = Vec::new();
    for via in ["cli", "ws"] {
        let mut ms = Vec::with_capacity(tries as usize);
        let (mut to_server, mut to_frame) = (Vec::new(), Vec::new());
        for t in 0..tries {
            let yard = if t % 2 == 0 { 45.0 } else { 35.0 };
            // Spread the sends over the frame period.
            std::thread::sleep(period * 3 + period * (t % 7) / 7);
            while drawn.try_recv().is_ok() {}
            let sent = Instant::now();
            if via == "cli" {
                let run = std::process::Command::new(&exe)
                    .args(["control", addr, "set", "first-down", &yard.to_string()])
                    .output()
                    .context("running yardline control")?;
                if !run.status.success() {
                    bail!(
                        "yardline control failed: {}",
                        String::from_utf8_lossy(&run.stderr)
                    );
                }
            } else {
                ws.set(&Change::FirstDown(yard))?;
            }
            let at = wait_for(drawn, yard, TRY_TIMEOUT)
                .with_context(|| format!("no frame drawn at {yard}"))?;
            ms.push(at.duration_since(sent).as_secs_f64() * 1e3);
            if let Some(took) = accepted.get().filter(|t| *t >= sent && *t <= at) {
                to_server.push(took.duration_since(sent).as_secs_f64() * 1e3);
                to_frame.push(at.duration_since(took).as_secs_f64() * 1e3);
            }
        }
        let p = Percentiles::of(&mut ms);
        let period_ms = period.as_secs_f64() * 1e3;
        out.push(ToScreen {
            via: via.to_owned(),
            tries: ms.len(),
            ms: p,
            to_server_ms: Percentiles::of(&mut to_server),
            to_frame_ms: Percentiles::of(&mut to_frame),
            p50_periods: p.p50 / period_ms,
            p99_periods: p.p99 / period_ms,
        });
    }
    Ok(out)
}

/// When the first frame drawn at `yard` left the engine.
fn wait_for(
    drawn: &crossbeam_channel::Receiver<(Instant, f64)>,
    yard: f64,
    timeout: Duration,
) -> Result<Instant> {
    let until = Instant::now() + timeout;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match drawn.recv_timeout(left) {
            Ok((at, y)) if (y - yard).abs() < 1e-9 => return Ok(at),
            Ok(_) => {}
            Err(_) => bail!("timed out"),
        }
    }
}
