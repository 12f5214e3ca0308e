//! `yardline render`'s live mode: `--control` serves the control API while rendering (the
//! same API and the same `ControlHub` as the element), `--realtime` paces frames at the
//! video's rate like a live source, `--udp` takes live tracking. Changes land at the next
//! frame boundary on the engine thread.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Result;
use yardline_control::Change;
use yardline_control::preview::Thumbnail;
use yardline_control::protocol::Status;
use yardline_control::server::{ControlServer, RateLimit, Target};
use yardline_engine::control::{ControlHub, apply_to_config, settings_of, thumbnail};
use yardline_engine::{Engine, EngineConfig, FrameReport};
use yardline_frame::{FrameLayout, FrameRef};

use crate::UsageError;

/// When the control server last accepted a change (on its thread), for
/// `bench --command-to-screen` to tell the way to the server from the way to the frame.
#[derive(Debug, Default)]
pub struct LastAccepted(Mutex<Option<Instant>>);

impl LastAccepted {
    /// The instant of the last accepted change.
    pub fn get(&self) -> Option<Instant> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
    }
}

/// The render as the control server's target: the configuration the next frame takes.
struct RenderTarget {
    hub: Arc<ControlHub>,
    config: Mutex<EngineConfig>,
    /// Bumped by every accepted plain change.
    generation: AtomicU64,
    accepted: Arc<LastAccepted>,
}

impl Target for RenderTarget {
    fn apply(&self, change: &Change) -> Result<(), String> {
        if self.hub.stage(change).map_err(|e| e.to_string())? {
            self.accepted.now();
            return Ok(());
        }
        let mut config = self.config.lock().unwrap_or_else(PoisonError::into_inner);
        apply_to_config(&mut config, change)?;
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.accepted.now();
        Ok(())
    }

    fn status(&self) -> Status {
        let config = self
            .config
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        self.hub.status("render".into(), &settings_of(&config))
    }

    fn key_matte(&self, clean: &Thumbnail) -> Option<Thumbnail> {
        self.hub.key_matte(clean)
    }
}

/// The live side of a render, driven from the engine thread.
pub struct Live {
    target: Option<Arc<RenderTarget>>,
    server: Option<ControlServer>,
    /// The configuration generation the engine runs with.
    applied: u64,
    /// `--realtime`: the render's start, and the first frame's pts once seen.
    pace: Option<(Instant, Option<i64>)>,
}

/// What [`Live::before`] captured for [`Live::after`].
pub struct FrameHook {
    started: Instant,
    cpu: Option<Duration>,
    clean: Option<Thumbnail>,
    due: bool,
    pre_ms: f64,
}

impl Live {
    /// Starts the control server on `control` (token: `token`, else
    /// `$YARDLINE_CONTROL_TOKEN`) for an engine starting with `config` and a key file or not;
    /// `realtime` paces frames from `epoch` on (the first frame is due at `epoch`).
    pub fn start(
        control: Option<&str>,
        token: Option<&str>,
        config: &EngineConfig,
        key_file: bool,
        realtime: Option<Instant>,
    ) -> Result<Self> {
        let mut live = Self {
            target: None,
            server: None,
            applied: 0,
            pace: realtime.map(|epoch| (epoch, None)),
        };
        if let Some(addr) = control {
            let token = token
                .map(ToOwned::to_owned)
                .or_else(yardline_control::token_from_env);
            let hub = Arc::new(ControlHub::with_key_file(key_file));
            let target = Arc::new(RenderTarget {
                hub: Arc::clone(&hub),
                config: Mutex::new(config.clone()),
                generation: AtomicU64::new(0),
                accepted: Arc::default(),
            });
            let server = ControlServer::start_with(
                addr,
                token.as_deref(),
                RateLimit::default(),
                Arc::clone(&target) as Arc<dyn Target>,
                Arc::clone(&hub.preview),
                yardline_engine::control::server_threads(),
            )
            .map_err(|e| UsageError(format!("--control: {e}")))?;
            hub.active.store(true, Ordering::Release);
            // Scripts and tests read the bound address (a port 0 picks one) from stderr.
            eprintln!("control: listening on {}", server.local_addr());
            live.target = Some(target);
            live.server = Some(server);
        }
        Ok(live)
    }

    /// Engine thread, before the frame at `pts_ns`: waits for its time under `--realtime`,
    /// applies the changes accepted since the last frame, and takes the clean thumbnail a
    /// preview wants.
    pub fn before(
        &mut self,
        engine: &mut Engine,
        layout: &FrameLayout,
        data: &[u8],
        pts_ns: i64,
    ) -> FrameHook {
        if let Some((t0, first)) = &mut self.pace {
            let (t0, pts0) = (*t0, *first.get_or_insert(pts_ns));
            let due = t0 + Duration::from_nanos(u64::try_from(pts_ns - pts0).unwrap_or(0));
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        let started = Instant::now();
        let Some(target) = &self.target else {
            return FrameHook {
                started,
                cpu: None,
                clean: None,
                due: false,
                pre_ms: 0.0,
            };
        };
        let cpu = yardline_engine::sched::thread_cpu_time();
        let generation = target.generation.load(Ordering::Acquire);
        if generation != self.applied {
            let config = target
                .config
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            if let Err(e) = engine.set_config(config) {
                tracing::warn!("control change not applied: {e}");
            }
            self.applied = generation;
        }
        let hub = &target.hub;
        // A key that lands is the engine's own from now on: nothing to keep here.
        let _landed = hub.apply_staged(engine, layout.width, layout.height);
        if hub.preview.still_due() {
            hub.preview.offer_still(yardline_engine::control::still(
                layout.clone(),
                data.to_vec(),
            ));
        }
        let due = hub.preview.due();
        let clean = due
            .filter(|d| d.clean)
            .and_then(|_| FrameRef::new(layout, data).ok())
            .and_then(|f| thumbnail(&f));
        FrameHook {
            started,
            cpu,
            clean,
            due: due.is_some(),
            pre_ms: yardline_engine::sched::thread_cpu_ms_since(cpu),
        }
    }

    /// Engine thread, after the frame: hands over the program thumbnail a preview wants and
    /// records the frame for the status.
    pub fn after(
        &self,
        hook: FrameHook,
        engine: &Engine,
        layout: &FrameLayout,
        data: &[u8],
        report: &FrameReport,
    ) {
        let Some(target) = &self.target else {
            return;
        };
        let hub = &target.hub;
        let front_end_ms = hook.started.elapsed().as_secs_f64() * 1e3;
        let cpu = yardline_engine::sched::thread_cpu_time();
        if hook.due {
            if hook.clean.is_some() {
                hub.share_key(engine);
            }
            if let Some(program) = FrameRef::new(layout, data).ok().and_then(|f| thumbnail(&f)) {
                hub.preview.offer(program, hook.clean);
            }
        }
        let cost_ms = hook.pre_ms
            + hook
                .cpu
                .map_or(0.0, |_| yardline_engine::sched::thread_cpu_ms_since(cpu));
        hub.record(Some(report), false, report.pts_ns, front_end_ms, cost_ms);
        hub.add_cost(cost_ms);
    }

    /// When the control server last accepted a change, while one runs.
    pub fn last_accepted(&self) -> Option<Arc<LastAccepted>> {
        self.target.as_ref().map(|t| Arc::clone(&t.accepted))
    }

    /// The control server's address, while one runs.
    pub fn control_addr(&self) -> Option<std::net::SocketAddr> {
        self.server.as_ref().map(ControlServer::local_addr)
    }
}
