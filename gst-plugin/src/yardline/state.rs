//! Everything that exists between `start` and `stop`: the engine with the venue, key and
//! tracking feed it runs with, the frame budget, and the element's counters; the live swaps of
//! venue, key, camera and tracking source; one frame's step.
//!
//! A swap takes the changed settings whole (the caller stores the change once the swap
//! succeeded); a refused swap leaves the state as it was.

use std::sync::Arc;
use std::time::Instant;

use gst::prelude::*;
use yardline_engine::control::ControlHub;
use yardline_engine::tracking::source::ReceiveClock;
use yardline_engine::tracking::{Timecode, TrackingFeed, TrackingSpec};
use yardline_engine::venue::Venue;
use yardline_engine::{Engine, EngineError, FrameReport};
use yardline_frame::Colorimetry;
use yardline_keying::{Exclusion, KeyConfig, KeyError};

use super::frame;
use super::load::{self, LoadError};
use super::messages::{self, ElementCounters, FrameOutcome, TimingRing};
use super::settings::Settings;
use super::tracking::{self, TrackingUriError};
use crate::debug::CAT;

/// Why the state cannot start, or a swap was refused.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// A file cannot be loaded or the tracking source opened.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The `tracking` value is not a tracking URI.
    #[error(transparent)]
    TrackingUri(#[from] TrackingUriError),
    /// Tracking without a venue: there is no lens table or head mount to use it with.
    #[error("tracking {uri:?} needs a venue file (lens table and head mount)")]
    TrackingNeedsVenue {
        /// The `tracking` value.
        uri: String,
    },
    /// The engine refused the settings.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// An exclusion is malformed.
    #[error(transparent)]
    Exclusions(#[from] KeyError),
    /// The engine could not be rebuilt for a change of `what`.
    #[error("{what}: {source}")]
    Rebuild {
        /// What changed (a property name, or the flush).
        what: String,
        /// Why.
        #[source]
        source: EngineError,
    },
}

impl StateError {
    /// The GStreamer error this is at start.
    pub fn resource_error(&self) -> gst::ResourceError {
        match self {
            Self::Load(e) => e.resource_error(),
            _ => gst::ResourceError::Settings,
        }
    }
}

/// Everything that exists between `start` and `stop`.
#[derive(Debug)]
pub struct State {
    /// Built at start, rebuilt when the frame rate, venue, camera or tracking source changes.
    engine: Engine,
    /// The loaded venue.
    venue: Option<Arc<Venue>>,
    /// The loaded key file.
    key: Option<Arc<KeyConfig>>,
    /// Where tracking comes from (none, a recording or UDP).
    tracking: TrackingFeed,
    /// Frame period of the negotiated caps (ns).
    frame_period_ns: i64,
    /// Settings generation the engine runs with.
    applied: u64,
    /// Processing budget per frame (ns); `None` = unlimited.
    budget_ns: Option<i64>,
    /// The element's own counters.
    counters: ElementCounters,
    /// The element's time per frame.
    timings: TimingRing,
    /// The previous frame overran the budget: pass the next one through.
    skip_next: bool,
    /// Contiguous copy of planar frames, kept between frames.
    scratch: Vec<u8>,
    /// The colorimetry of the negotiated caps' YUV codes.
    colorimetry: Colorimetry,
    /// Timestamp of the previous frame (ns), for a buffer without one.
    last_pts: Option<i64>,
}

impl State {
    /// Loads what `settings` names, opens the tracking source (`clock` stamps UDP packets) and
    /// builds the engine; `generation` is the settings generation this is.
    pub fn start(
        settings: &Settings,
        generation: u64,
        clock: ReceiveClock,
    ) -> Result<Self, StateError> {
        let venue = venue_of(settings)?;
        let key = match &settings.keying {
            Some(p) => Some(Arc::new(load::key(p)?.0)),
            None => None,
        };
        let tracking = match settings.tracking.as_deref() {
            None => TrackingFeed::none(),
            Some(uri) => {
                let spec = tracking::parse(uri)?;
                if venue.is_none() {
                    return Err(StateError::TrackingNeedsVenue { uri: uri.into() });
                }
                load::tracking(&spec, clock)?
            }
        };
        let period = settings.engine_config(0).frame_period_ns;
        let mut engine = Engine::new(
            settings.engine_config(period),
            venue.as_deref(),
            key.as_deref(),
        )?;
        engine.set_exclusions(exclusions_of(settings, key.as_deref()))?;
        Ok(Self {
            engine,
            venue,
            key,
            tracking,
            frame_period_ns: period,
            applied: generation,
            budget_ns: settings.budget_ns(period),
            counters: ElementCounters::default(),
            timings: TimingRing::default(),
            skip_next: false,
            scratch: Vec::new(),
            colorimetry: Colorimetry::BT709_LIMITED,
            last_pts: None,
        })
    }

    /// Rebuilds the engine with `venue`, `key` and `settings` (for a change of `what`).
    fn rebuild(
        &mut self,
        what: &str,
        settings: &Settings,
        venue: Option<Arc<Venue>>,
        key: Option<Arc<KeyConfig>>,
        generation: u64,
    ) -> Result<(), StateError> {
        self.engine = Engine::new(
            settings.engine_config(self.frame_period_ns),
            venue.as_deref(),
            key.as_deref(),
        )
        .map_err(|source| StateError::Rebuild {
            what: what.into(),
            source,
        })?;
        self.engine
            .set_exclusions(exclusions_of(settings, key.as_deref()))?;
        self.venue = venue;
        self.key = key;
        self.budget_ns = settings.budget_ns(self.frame_period_ns);
        self.applied = generation;
        Ok(())
    }

    /// Rebuilds the engine with the venue, key and settings it has.
    fn rebuild_as_is(
        &mut self,
        what: &str,
        settings: &Settings,
        generation: u64,
    ) -> Result<(), StateError> {
        let (venue, key) = (self.venue.clone(), self.key.clone());
        self.rebuild(what, settings, venue, key, generation)
    }

    /// Runs with the venue `settings` names (none: no venue, refused while tracking).
    pub fn swap_venue(&mut self, settings: &Settings, generation: u64) -> Result<(), StateError> {
        let venue = venue_of(settings)?;
        if venue.is_none() && self.tracking.is_some() {
            return Err(StateError::TrackingNeedsVenue {
                uri: settings.tracking.clone().unwrap_or_default(),
            });
        }
        let key = self.key.clone();
        self.rebuild("venue", settings, venue, key, generation)
    }

    /// Runs with the key file `settings` names; none goes back to the automatic palette (a
    /// fresh engine builds one).
    pub fn swap_key(&mut self, settings: &Settings, generation: u64) -> Result<(), StateError> {
        let Some(path) = &settings.keying else {
            let venue = self.venue.clone();
            return self.rebuild("keying", settings, venue, None, generation);
        };
        let (config, key) = load::key(path)?;
        self.engine
            .set_exclusions(exclusions_of(settings, Some(&config)))?;
        self.engine.set_key(key);
        self.key = Some(Arc::new(config));
        Ok(())
    }

    /// Draws nowhere in the `exclusions` property's shapes (and the key file's).
    pub fn swap_exclusions(
        &mut self,
        settings: &Settings,
        _generation: u64,
    ) -> Result<(), StateError> {
        self.engine
            .set_exclusions(exclusions_of(settings, self.key.as_deref()))?;
        Ok(())
    }

    /// Follows the camera `settings` names.
    pub fn swap_camera(&mut self, settings: &Settings, generation: u64) -> Result<(), StateError> {
        let what = format!("camera-id {}", settings.camera_id);
        self.rebuild_as_is(&what, settings, generation)
    }

    /// Takes tracking from `spec` (`clock` stamps UDP packets). Samples of the old source mean
    /// nothing to the new one, so the engine starts afresh; when that fails (a
    /// [`StateError::Rebuild`]) the new source is in place all the same.
    pub fn swap_tracking(
        &mut self,
        spec: &TrackingSpec,
        settings: &Settings,
        generation: u64,
        clock: ReceiveClock,
    ) -> Result<(), StateError> {
        if *spec != TrackingSpec::None && self.venue.is_none() {
            return Err(StateError::TrackingNeedsVenue {
                uri: settings.tracking.clone().unwrap_or_default(),
            });
        }
        self.tracking = load::tracking(spec, clock)?;
        self.rebuild_as_is("tracking", settings, generation)
    }

    /// After a flush: a fresh engine (its tracking sync and pose filter knew the old timeline)
    /// and a recording fed again from its start.
    pub fn restart(&mut self, settings: &Settings, generation: u64) -> Result<(), StateError> {
        self.tracking.rewind(0);
        self.last_pts = None;
        self.skip_next = false;
        self.rebuild_as_is("after flush", settings, generation)
    }

    /// The colorimetry of the negotiated caps (YUV codes: matrix and range).
    pub fn set_colorimetry(&mut self, c: Colorimetry) {
        self.colorimetry = c;
    }

    /// Rebuilds the engine for video of `frame_period_ns` when that is a new period.
    pub fn set_frame_period(
        &mut self,
        settings: &Settings,
        frame_period_ns: i64,
        generation: u64,
    ) -> Result<(), EngineError> {
        if frame_period_ns == self.frame_period_ns {
            return Ok(());
        }
        let mut engine = Engine::new(
            settings.engine_config(frame_period_ns),
            self.venue.as_deref(),
            self.key.as_deref(),
        )?;
        engine
            .set_exclusions(exclusions_of(settings, self.key.as_deref()))
            .map_err(|e| EngineError::Config(e.to_string()))?;
        self.engine = engine;
        self.frame_period_ns = frame_period_ns;
        self.budget_ns = settings.budget_ns(frame_period_ns);
        self.applied = generation;
        Ok(())
    }

    /// Applies changed plain settings (generation `generation`) to the running engine.
    pub fn apply(&mut self, settings: &Settings, generation: u64) -> Result<(), EngineError> {
        self.applied = generation;
        self.budget_ns = settings.budget_ns(self.frame_period_ns);
        self.engine
            .set_config(settings.engine_config(self.frame_period_ns))
    }

    /// The compositor the engine draws with.
    pub fn backend(&self) -> String {
        self.engine.backend()
    }

    /// Frame period of the negotiated caps (ns).
    pub fn frame_period_ns(&self) -> i64 {
        self.frame_period_ns
    }

    /// True when the engine runs with settings generation `generation`.
    pub fn is_current(&self, generation: u64) -> bool {
        self.applied == generation
    }

    /// Applies the key and re-registration staged in the control hub before a `width` x
    /// `height` frame; a key that lands is kept through rebuilds of the engine.
    /// Returns whether a key landed (its exclusions are then to be applied with the
    /// property's: [`State::swap_exclusions`]).
    pub fn apply_control(&mut self, hub: &ControlHub, width: u32, height: u32) -> bool {
        if let Some(key) = hub.apply_staged(&mut self.engine, width, height) {
            self.key = key.map(Arc::new);
            true
        } else {
            false
        }
    }

    /// Hands the control hub the key in use, for matte previews.
    pub fn share_key(&self, hub: &ControlHub) {
        hub.share_key(&self.engine);
    }

    /// True while following live (UDP) tracking.
    pub fn is_live(&self) -> bool {
        self.tracking.is_live()
    }

    /// Counts a buffer seen.
    pub fn count_frame(&mut self) {
        self.counters.frames += 1;
    }

    /// Counts a panic caught around the engine.
    pub fn count_panic(&mut self) {
        self.counters.panics += 1;
    }

    /// Latency the element adds (ns): the tracking delay while following live tracking.
    pub fn latency_ns(&self) -> u64 {
        if self.tracking.is_live() {
            self.engine.tracking_delay_ns().unsigned_abs()
        } else {
            0
        }
    }

    /// The frame's timestamp (ns): the buffer's, else one period after the previous frame's.
    pub fn frame_pts(&mut self, pts: Option<gst::ClockTime>) -> i64 {
        let period = self.frame_period_ns;
        let pts = pts.map_or_else(|| self.last_pts.map_or(0, |p| p + period), ns);
        self.last_pts = Some(pts);
        pts
    }

    /// The next frame's timecode (from its `GstVideoTimeCodeMeta`), for the engine's match
    /// of tracking samples by timecode.
    pub fn set_frame_timecode(&mut self, timecode: Option<Timecode>) {
        self.engine.set_frame_timecode(timecode);
    }

    /// Hands the engine the tracking the frame at `frame_time_ns` (on the feed's clock) holds;
    /// `wait` lets a live feed wait for the frame's packet.
    pub fn take_tracking(&mut self, frame_time_ns: i64, wait: bool) {
        let fed = self
            .engine
            .take_tracking(&mut self.tracking, frame_time_ns, wait);
        if fed.wait_expired {
            self.counters.tracking_waits_expired += 1;
        }
    }

    /// The budget rule and the engine on one frame at `frame_time_ns`: after a frame that
    /// overran the budget this one passes through untouched. `started` is when the element
    /// took the frame; `obj` is the element, for the log.
    pub fn run_frame(
        &mut self,
        frame: &mut frame::Frames<'_, '_, '_>,
        frame_time_ns: i64,
        started: Instant,
        obj: &impl IsA<gst::Object>,
    ) -> FrameOutcome {
        let skipped = std::mem::take(&mut self.skip_next);
        let report = if skipped {
            self.counters.budget_skips += 1;
            frame.pass_through();
            gst::debug!(
                CAT,
                obj = obj,
                "previous frame overran the budget: pass-through"
            );
            None
        } else {
            self.run_engine(frame, frame_time_ns, obj)
        };
        let element_ms = started.elapsed().as_secs_f64() * 1e3;
        self.timings.push(element_ms);
        FrameOutcome {
            report,
            skipped,
            element_ms,
        }
    }

    /// The engine on one frame, timed against the budget; `None` when the frame could not be
    /// handed to it.
    fn run_engine(
        &mut self,
        frame: &mut frame::Frames<'_, '_, '_>,
        frame_time_ns: i64,
        obj: &impl IsA<gst::Object>,
    ) -> Option<FrameReport> {
        let processing = Instant::now();
        // Under a budget no frame may wait the second or so the automatic key takes.
        self.engine.set_auto_key_inline(self.budget_ns.is_none());
        let report = match frame::run(
            &mut self.engine,
            &mut self.scratch,
            frame,
            self.colorimetry,
            frame_time_ns,
        ) {
            Ok(r) => Some(r),
            Err(e) => {
                frame.pass_through();
                self.counters.layout_errors += 1;
                gst::warning!(CAT, obj = obj, "frame passed through: {e}");
                None
            }
        };
        if let Some(r) = report.as_ref().and_then(|r| r.fault.as_ref()) {
            gst::debug!(CAT, obj = obj, "engine fault, frame untouched: {r}");
        }
        let took = processing.elapsed();
        if let Some(budget) = self.budget_ns
            && i64::try_from(took.as_nanos()).unwrap_or(i64::MAX) > budget
        {
            self.counters.over_budget += 1;
            self.skip_next = true;
            gst::debug!(
                CAT,
                obj = obj,
                "frame took {took:?}, over the {budget} ns budget"
            );
        }
        report
    }

    /// The `stats` value.
    pub fn stats(&self) -> gst::Structure {
        messages::running_stats(
            &self.engine,
            &self.tracking,
            self.counters,
            &self.timings,
            self.frame_period_ns,
        )
    }
}

/// The venue `settings` names, loaded.
fn venue_of(settings: &Settings) -> Result<Option<Arc<Venue>>, LoadError> {
    Ok(settings
        .venue
        .as_deref()
        .map(load::venue)
        .transpose()?
        .map(Arc::new))
}

/// A clock time in ns (saturating).
pub fn ns(t: gst::ClockTime) -> i64 {
    i64::try_from(t.nseconds()).unwrap_or(i64::MAX)
}

/// The exclusions in force: the key file's, then the `exclusions` property's.
fn exclusions_of(settings: &Settings, key: Option<&KeyConfig>) -> Vec<Exclusion> {
    key.map(|k| k.exclusions.as_slice())
        .unwrap_or_default()
        .iter()
        .chain(&settings.exclusions)
        .cloned()
        .collect()
}
