//! Camera tracking input: FreeD D1 packets, their sources (UDP, `tracking.jsonl`) and
//! matching them to video frames.
//!
//! ## Conventions
//! - **Time**: nanoseconds on the video clock. A sample's `pts_ns` is its receive time; the
//!   packet describing the frame with pts `p` arrives at `p + tracking_delay_ns`.
//! - **Angles**: degrees, FreeD/[`crate::head`] signs (pan right, tilt up, roll clockwise seen
//!   from behind), as reported by the head, before the venue's encoder offsets.
//! - **Zoom / focus**: raw FreeD lens counts (`f64` once interpolated).
//!
//! Flow: a [`feed::TrackingFeed`] (a recording read by [`source::read_jsonl`], a live
//! [`source::UdpSource`], or none) hands each frame the [`TrackingSample`]s it holds (one
//! horizon rule for every front end); [`sync::TrackingSync`] turns them into a [`SensorReading`] per frame;
//! [`crate::venue::CameraCalibration::camera_for`] turns that into a [`crate::Camera`].

#![allow(
    clippy::doc_markdown,
    reason = "FreeD and SciPy are product names, not code identifiers"
)]

pub mod feed;
pub mod freed;
pub mod source;
pub mod sync;

pub use feed::{Fed, FeedError, TrackingFeed, TrackingSpec, horizon_ns};
pub use freed::{Decoded, FreedError, FreedPacket, FreedReport, ZoomProfile, ZoomVendor};
pub use source::{
    JsonlStats, SourceError, TrackingLog, UdpSource, UdpSourceConfig, UdpStats, load_jsonl,
    read_jsonl,
};
pub use sync::{SyncConfig, SyncKind, SyncMiss, SyncStats, SyncedState, TrackingSync};

use serde::{Deserialize, Serialize};

use crate::head::HeadAngles;

/// One received FreeD packet with its receive time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackingSample {
    /// Receive time on the video clock (ns): the pts of the frame it describes plus the
    /// tracking delay.
    pub pts_ns: i64,
    /// The packet (checksum already verified by the source).
    pub packet: FreedPacket,
}

/// Encoder state of one head at one instant, in engineering units: what the sensor pose
/// needs. Built from a packet or interpolated by [`TrackingSync`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SensorReading {
    /// FreeD camera id (0..=255).
    pub camera_id: u8,
    /// Head angles (degrees) as reported, before encoder offsets.
    pub angles: HeadAngles,
    /// Head position reported in the packet (millimetres; most heads send zeros).
    pub position_mm: [f64; 3],
    /// Zoom (raw lens counts).
    pub zoom: f64,
    /// Focus (raw lens counts).
    pub focus: f64,
}

impl From<&FreedPacket> for SensorReading {
    fn from(p: &FreedPacket) -> Self {
        Self {
            camera_id: p.camera_id,
            angles: p.angles(),
            position_mm: p.position_mm(),
            zoom: f64::from(p.zoom),
            focus: f64::from(p.focus),
        }
    }
}

impl From<FreedPacket> for SensorReading {
    fn from(p: FreedPacket) -> Self {
        Self::from(&p)
    }
}

impl SensorReading {
    /// True when every number is finite.
    pub fn is_finite(&self) -> bool {
        [
            self.angles.pan_deg,
            self.angles.tilt_deg,
            self.angles.roll_deg,
            self.position_mm[0],
            self.position_mm[1],
            self.position_mm[2],
            self.zoom,
            self.focus,
        ]
        .iter()
        .all(|v| v.is_finite())
    }
}
