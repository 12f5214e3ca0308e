//! The built-in scene that `yardline bench` and `yardline soak` play in a loop: the default
//! sample's first [`SCENE_FRAMES`] frames, with the sample's venue and FreeD packets.

use anyhow::Result;
use yardline_engine::venue::Venue;
use yardline_samples::{Sample, SampleConfig, Scenario};

use crate::UsageError;

/// Distinct frames generated for the loop.
pub const SCENE_FRAMES: u32 = 24;

/// The scene's sample at `width` x `height` (a size the generator refuses is a usage error).
pub fn scene_sample(width: u32, height: u32) -> Result<Sample> {
    Sample::new(SampleConfig {
        frames: SCENE_FRAMES,
        width,
        height,
        scenario: Scenario::Default,
        ..SampleConfig::default()
    })
    .map_err(|e| UsageError(e.to_string()).into())
}

/// The scene's sample with what the engine takes besides the pictures.
pub struct LoopScene {
    /// The sample.
    pub sample: Sample,
    /// Frame period (ns).
    pub period_ns: i64,
    /// How long after a frame's pts its FreeD packet arrives (ns).
    pub delay_ns: i64,
    /// The sample's `venue.toml` text.
    pub venue_text: String,
    /// That venue as the engine reads it.
    pub venue: Venue,
    /// The FreeD packet of each scene frame (`None` where the sample loses it).
    pub packets: Vec<Option<[u8; 29]>>,
}

impl LoopScene {
    /// The scene at `width` x `height`.
    pub fn new(width: u32, height: u32) -> Result<Self> {
        let sample = scene_sample(width, height)?;
        let venue_text = sample.venue().to_toml()?;
        Ok(Self {
            period_ns: sample.config().pts_ns(1),
            delay_ns: sample.config().tracking_delay_ns(),
            venue: Venue::from_toml_str(&venue_text)?,
            packets: (0..SCENE_FRAMES)
                .map(|i| -> Result<Option<[u8; 29]>> {
                    Ok(sample.freed_packet(i)?.map(|p| p.encode()))
                })
                .collect::<Result<_>>()?,
            venue_text,
            sample,
        })
    }
}
