//! A loopback flood of FreeD datagrams (random bytes, over-size datagrams and valid packets
//! mixed) at about 100k packets/s while the engine draws frames from the same listener: every
//! frame comes out, the queue never grows past its capacity, and the counters add up.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use yardline_engine::tracking::source::{UdpSource, UdpSourceConfig};
use yardline_engine::venue::Venue;
use yardline_engine::{BackendChoice, Engine, EngineConfig, FrameFault};
use yardline_frame::{FrameLayout, FrameMut, PixelFormat};
use yardline_samples::{Sample, SampleConfig};

/// Datagrams in the flood (bounded in count) and its target rate.
const FLOOD_PACKETS: u64 = 200_000;
const FLOOD_RATE_PER_S: f64 = 100_000.0;
const QUEUE: usize = 64;

#[test]
fn flood_of_mixed_datagrams_costs_no_frame_and_no_unbounded_memory() {
    let cfg = SampleConfig {
        frames: 8,
        width: 320,
        height: 180,
        ..SampleConfig::default()
    };
    let sample = Sample::new(cfg.clone()).unwrap();
    let dir = std::env::temp_dir().join(format!("yardline-flood-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    sample.write_metadata(&dir).unwrap();
    let venue = Venue::load(&dir.join("venue.toml")).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let valid: Vec<[u8; 29]> = (0..cfg.frames)
        .filter_map(|i| sample.freed_packet(i).unwrap().map(|p| p.encode()))
        .collect();
    let frame = sample.render_frame(0).unwrap();
    let layout = FrameLayout::packed(PixelFormat::Rgbx, cfg.width, cfg.height).unwrap();
    let rgbx: Vec<u8> = frame
        .rgb
        .chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect();

    let src = UdpSource::start(UdpSourceConfig {
        bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
        allow: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
        queue_capacity: QUEUE,
        ..UdpSourceConfig::default()
    })
    .unwrap();
    let target = src.local_addr();

    let done = Arc::new(AtomicBool::new(false));
    let sender = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let sock = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
            let mut rng = ChaCha8Rng::seed_from_u64(99);
            let start = Instant::now();
            let (mut sent_valid, mut sent_oversize) = (0u64, 0u64);
            for n in 0..FLOOD_PACKETS {
                let bytes: Vec<u8> = match n % 4 {
                    0 => valid[(n / 4) as usize % valid.len()].to_vec(),
                    1 => {
                        sent_oversize += 1;
                        vec![0xD1; rng.random_range(65..1400)]
                    }
                    _ => {
                        let len = rng.random_range(0..64);
                        (0..len).map(|_| rng.random()).collect()
                    }
                };
                if n % 4 == 0 {
                    sent_valid += 1;
                }
                // Errors (a full socket buffer) are part of a flood; the listener must cope.
                sock.send_to(&bytes, target).ok();
                // Pace to the target rate, bounded in time.
                let due = Duration::from_secs_f64(n as f64 / FLOOD_RATE_PER_S);
                if let Some(wait) = due.checked_sub(start.elapsed())
                    && wait > Duration::from_micros(200)
                {
                    std::thread::sleep(wait);
                }
            }
            done.store(true, Ordering::Release);
            (sent_valid, sent_oversize, start.elapsed())
        })
    };

    // The engine keeps drawing frames from whatever the listener queued, as an element does.
    let config = EngineConfig {
        backend: BackendChoice::Cpu,
        ..EngineConfig::default()
    };
    let mut engine = Engine::new(config, Some(&venue), None).unwrap();
    let mut buf = rgbx.clone();
    let mut samples = Vec::new();
    let mut frames = 0u64;
    let mut max_queued = 0usize;
    while !done.load(Ordering::Acquire) || frames < 30 {
        max_queued = max_queued.max(src.receiver().len());
        samples.clear();
        src.drain_into(&mut samples);
        for s in &samples {
            engine.push_tracking(s);
        }
        buf.copy_from_slice(&rgbx);
        let mut f = FrameMut::new(&layout, &mut buf).unwrap();
        let report = engine.process(&mut f, frames as i64 * cfg.pts_ns(1));
        assert_eq!(report.frame, frames, "frames come out in order, none lost");
        assert!(!matches!(report.fault, Some(FrameFault::Panic(_))));
        frames += 1;
        std::thread::sleep(Duration::from_millis(2));
    }
    let (sent_valid, sent_oversize, took) = sender.join().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let stats = src.stats();
    eprintln!(
        "flood: {FLOOD_PACKETS} datagrams in {:.2} s ({:.0}/s), {frames} frames, listener {stats:?}, \
         deepest queue {max_queued}",
        took.as_secs_f64(),
        FLOOD_PACKETS as f64 / took.as_secs_f64()
    );
    assert_eq!(engine.stats().frames, frames);
    assert_eq!(engine.stats().panics, 0);
    assert!(max_queued <= QUEUE, "queue {max_queued} > capacity {QUEUE}");
    // Everything the listener read is accounted for, exactly once.
    assert_eq!(
        stats.packets,
        stats.accepted
            + stats.checksum_failures
            + stats.malformed
            + stats.oversize
            + stats.rejected_senders,
        "{stats:?}"
    );
    assert!(stats.packets > 0 && stats.packets <= FLOOD_PACKETS);
    assert!(stats.accepted <= sent_valid, "{stats:?}");
    assert!(
        stats.oversize > 0 && stats.oversize <= sent_oversize,
        "{stats:?}"
    );
    assert!(stats.malformed + stats.checksum_failures > 0, "{stats:?}");
    assert!(
        stats.accepted > 0,
        "valid packets still get through: {stats:?}"
    );
}

#[test]
fn listener_binds_loopback_unless_told_otherwise() {
    let cfg = UdpSourceConfig::default();
    assert!(cfg.bind.ip().is_loopback(), "{:?}", cfg.bind);
    assert!(
        cfg.max_packet_bytes < 1500,
        "datagram cap {}",
        cfg.max_packet_bytes
    );
}
