//! Camera tracking input: FreeD D1 packets and OpenTrackIO samples, their sources (UDP, `tracking.jsonl`) and
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
pub mod opentrackio;
pub mod source;
pub mod sync;
pub mod timecode;

pub use feed::{Fed, FeedError, TrackingFeed, TrackingSpec, horizon_ns};
pub use freed::{Decoded, FreedError, FreedPacket, FreedReport, ZoomProfile, ZoomVendor};
pub use opentrackio::{OpenTrackIoError, OpenTrackIoSample, SampleLens};
pub use source::{
    JsonlStats, SourceError, TrackingLog, UdpSource, UdpSourceConfig, UdpStats, load_jsonl,
    read_jsonl,
};
pub use sync::{SyncConfig, SyncKind, SyncMiss, SyncStats, SyncedState, TrackingSync};
pub use timecode::{Timecode, TimecodeError};

use serde::{Deserialize, Serialize};

use crate::head::HeadAngles;

/// One received tracking packet (FreeD or OpenTrackIO) with its receive time.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackingSample {
    /// Receive time on the video clock (ns): the pts of the frame it describes plus the
    /// tracking delay.
    pub pts_ns: i64,
    /// The packet (checksum already verified by the source).
    pub packet: Packet,
}

/// A decoded packet of either protocol.
#[derive(Debug, Clone, PartialEq)]
pub enum Packet {
    /// A FreeD D1 packet.
    Freed(FreedPacket),
    /// An OpenTrackIO sample with the reading it gives (checked when it was built).
    OpenTrackIo(Box<OpenTrackIoPacket>),
}

/// An OpenTrackIO sample that gives a reading.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenTrackIoPacket {
    /// The sample as received.
    pub sample: OpenTrackIoSample,
    /// The reading it gives ([`OpenTrackIoSample::reading`]).
    pub reading: SensorReading,
}

impl From<&Packet> for SensorReading {
    fn from(p: &Packet) -> Self {
        p.reading()
    }
}

impl From<FreedPacket> for Packet {
    fn from(p: FreedPacket) -> Self {
        Self::Freed(p)
    }
}

impl PartialEq<FreedPacket> for Packet {
    fn eq(&self, other: &FreedPacket) -> bool {
        matches!(self, Self::Freed(p) if p == other)
    }
}

impl Packet {
    /// An OpenTrackIO packet, when the sample gives a reading (a sample missing the transform,
    /// with a reserved source number or a non-finite value is an error).
    pub fn opentrackio(sample: OpenTrackIoSample) -> Result<Self, OpenTrackIoError> {
        let reading = sample.reading()?;
        Ok(Self::OpenTrackIo(Box::new(OpenTrackIoPacket {
            sample,
            reading,
        })))
    }

    /// The FreeD packet, when it is one.
    pub fn freed(&self) -> Option<&FreedPacket> {
        match self {
            Self::Freed(p) => Some(p),
            Self::OpenTrackIo(_) => None,
        }
    }

    /// The reading the packet gives.
    pub fn reading(&self) -> SensorReading {
        match self {
            Self::Freed(p) => SensorReading::from(p),
            Self::OpenTrackIo(o) => o.reading,
        }
    }

    /// The protocol's name: `freed` or `opentrackio`.
    pub fn protocol(&self) -> &'static str {
        match self {
            Self::Freed(_) => "freed",
            Self::OpenTrackIo(_) => "opentrackio",
        }
    }
}

impl TrackingSample {
    /// A FreeD sample.
    pub fn freed(pts_ns: i64, packet: FreedPacket) -> Self {
        Self {
            pts_ns,
            packet: Packet::Freed(packet),
        }
    }
}

/// Encoder state of one head at one instant, in engineering units: what the sensor pose
/// needs. Built from a packet or interpolated by [`TrackingSync`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SensorReading {
    /// FreeD camera id (0..=255) or OpenTrackIO source number (1..=200).
    pub camera_id: u8,
    /// Head angles (degrees) as reported, before encoder offsets.
    pub angles: HeadAngles,
    /// Head position reported in the packet (millimetres; most heads send zeros).
    pub position_mm: [f64; 3],
    /// Zoom (raw lens counts).
    pub zoom: f64,
    /// Focus (raw lens counts).
    pub focus: f64,
    /// Lens state sent with the reading (OpenTrackIO; FreeD sends none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lens: Option<SampleLens>,
    /// Timecode of the reading (OpenTrackIO; FreeD has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timecode: Option<Timecode>,
}

impl From<&FreedPacket> for SensorReading {
    fn from(p: &FreedPacket) -> Self {
        Self {
            camera_id: p.camera_id,
            angles: p.angles(),
            position_mm: p.position_mm(),
            zoom: f64::from(p.zoom),
            focus: f64::from(p.focus),
            lens: None,
            timecode: None,
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
            && self.lens.is_none_or(|l| {
                [l.focal_length_mm, l.k1, l.k2, l.nodal_shift_m]
                    .iter()
                    .all(|v| v.is_finite())
            })
    }
}
