//! The automatic key goes on learning while it is automatic: a new view of the field every
//! `AUTO_KEY_RELEARN_FRAMES` frames (at most `AUTO_KEY_VIEWS` kept), and not once a key is set.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use yardline_engine::key::AUTO_KEY_VIEWS;
use yardline_engine::tracking::TrackingSample;
use yardline_engine::tracking::freed::{FreedPacket, decode_checked};
use yardline_engine::venue::Venue;
use yardline_engine::{AUTO_KEY_RELEARN_FRAMES, BackendChoice, Engine, EngineConfig};
use yardline_frame::{FrameLayout, FrameMut, PixelFormat};
use yardline_samples::{Sample, SampleConfig};

#[test]
fn the_automatic_key_learns_a_view_every_period_until_a_key_is_set() {
    let frames = AUTO_KEY_RELEARN_FRAMES * (AUTO_KEY_VIEWS as u32 + 1) + 2;
    let cfg = SampleConfig {
        frames,
        width: 320,
        height: 180,
        ..SampleConfig::default()
    };
    let (period, delay) = (cfg.pts_ns(1), cfg.tracking_delay_ns());
    let sample = Sample::new(cfg).unwrap();
    let dir = std::env::temp_dir().join(format!("yardline-auto-key-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    sample.write_metadata(&dir).unwrap();
    let venue = Venue::load(&dir.join("venue.toml")).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let config = EngineConfig {
        backend: BackendChoice::Cpu,
        ..EngineConfig::default()
    };
    let mut engine = Engine::new(config, Some(&venue), None).unwrap();
    let layout = FrameLayout::packed(PixelFormat::Rgbx, 320, 180).unwrap();
    let packet = |i: u32| -> Option<FreedPacket> {
        let p = sample.freed_packet(i).unwrap()?;
        Some(decode_checked(&p.encode()).unwrap())
    };
    let mut views = Vec::new();
    for i in 0..frames {
        for m in [i, i + 1, i + 2].into_iter().filter(|&m| m < frames) {
            if let Some(p) = packet(m).filter(|_| m == i + 2 || i == 0) {
                engine.push_tracking(&TrackingSample {
                    pts_ns: i64::from(m) * period + delay,
                    packet: p.into(),
                });
            }
        }
        let rgb = sample.render_frame(i).unwrap().rgb;
        let mut data: Vec<u8> = rgb
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect();
        let mut frame = FrameMut::new(&layout, &mut data).unwrap();
        let report = engine.process(&mut frame, i64::from(i) * period);
        assert!(report.fault.is_none(), "frame {i}: {:?}", report.fault);
        views.push(engine.auto_key_views());
    }
    // Frame 0 learns the first view, then one more each period, up to the cap.
    let want = |i: u32| ((i / AUTO_KEY_RELEARN_FRAMES) as usize + 1).min(AUTO_KEY_VIEWS);
    for (i, &v) in (0..frames).zip(&views) {
        assert_eq!(v, want(i), "frame {i}");
    }
    assert!(engine.key().is_some());
    // A key set by hand stops the learning.
    engine.set_key(engine.key().cloned().unwrap());
    assert_eq!(engine.auto_key_views(), 0);
}
