//! Tracking into the engine: samples from a [`TrackingFeed`] or pushed one at a time, gated
//! on arrival, into the tracking sync.

use crate::tracking::sync::{SyncStats, TrackingSync};
use crate::tracking::{Fed, SensorReading, TrackingFeed, TrackingSample};

use super::Engine;
use super::gate::Gate;

impl Engine {
    /// Tracking sync counters, when tracking is configured.
    pub fn sync_stats(&self) -> Option<SyncStats> {
        self.sync.as_ref().map(TrackingSync::stats)
    }

    /// Tracking delay the engine imposes (ns): what a live element must report as latency.
    pub fn tracking_delay_ns(&self) -> i64 {
        self.sync
            .as_ref()
            .map_or(0, |s| s.config().tracking_delay_ns.max(0))
    }

    /// Hands this engine the samples of `feed` the frame at `frame_time_ns` (on the feed's
    /// clock) holds, with this engine's tracking delay and frame period
    /// ([`crate::tracking::horizon_ns`]); `wait` lets a live feed wait for the frame's packet.
    pub fn take_tracking(
        &mut self,
        feed: &mut TrackingFeed,
        frame_time_ns: i64,
        wait: bool,
    ) -> Fed {
        let (delay, period) = (self.tracking_delay_ns(), self.config.frame_period_ns);
        feed.feed(frame_time_ns, delay, period, wait, |s| {
            self.push_tracking(s);
        })
    }

    /// Feeds one received tracking packet.
    pub fn push_tracking(&mut self, sample: &TrackingSample) {
        self.push_reading(sample.pts_ns, sample.packet.reading());
    }

    /// Feeds one encoder reading from a source other than FreeD (receive time in ns on the
    /// video clock). Non-finite readings are refused and counted by the sync; a reading of this
    /// engine's camera that jumps faster than a head can slew is dropped (a glitch) unless the
    /// following readings confirm the new position, so the sync never holds or interpolates a
    /// glitch into several frames.
    pub fn push_reading(&mut self, pts_ns: i64, reading: SensorReading) {
        let ours = self
            .calibration
            .as_ref()
            .is_some_and(|c| c.id == reading.camera_id);
        if ours && reading.is_finite() {
            let a = reading.angles;
            let gate = self.sample_slew.check(
                pts_ns,
                [a.pan_deg, a.tilt_deg, a.roll_deg],
                self.config.frame_period_ns,
            );
            if gate == Gate::Reject {
                self.stats.jump_samples_rejected += 1;
                return;
            }
        }
        if let Some(sync) = self.sync.as_mut() {
            sync.push_reading(pts_ns, reading);
        }
    }
}
