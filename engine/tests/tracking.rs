//! FreeD codec, tracking sources and frame sync.

#![allow(
    clippy::float_cmp,
    clippy::unwrap_used,
    clippy::doc_markdown,
    reason = "decoded values are exact by construction; test helpers may unwrap; FreeD is a name"
)]

use std::io::Cursor;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use yardline_engine::head::HeadAngles;
use yardline_engine::tracking::freed::{
    self, FreedError, FreedPacket, I24_MAX, I24_MIN, PACKET_LEN, U24_MAX, ZoomProfile, ZoomVendor,
};
use yardline_engine::tracking::source::{UdpSource, UdpSourceConfig, UdpStats, read_jsonl};
use yardline_engine::tracking::sync::{
    FRAME_PERIOD_5994_NS, SyncConfig, SyncKind, SyncMiss, TrackingSync,
};
use yardline_engine::tracking::{SensorReading, TrackingSample};

/// pts of frame `i` at 59.94 (DESIGN.md).
fn pts(i: i64) -> i64 {
    (i as f64 * 1_001_000_000.0 / 60.0).round() as i64
}

/// Checksum written independently of the codec: (0x40 - sum of bytes 0..=27) mod 256.
fn reference_checksum(b: &[u8]) -> u8 {
    let sum: i32 = b[..28].iter().map(|v| i32::from(*v)).sum();
    (0x40 - sum).rem_euclid(256) as u8
}

fn random_packet(rng: &mut ChaCha8Rng) -> FreedPacket {
    FreedPacket {
        camera_id: rng.random(),
        pan: rng.random_range(I24_MIN..=I24_MAX),
        tilt: rng.random_range(I24_MIN..=I24_MAX),
        roll: rng.random_range(I24_MIN..=I24_MAX),
        x: rng.random_range(I24_MIN..=I24_MAX),
        y: rng.random_range(I24_MIN..=I24_MAX),
        z: rng.random_range(I24_MIN..=I24_MAX),
        zoom: rng.random_range(0..=U24_MAX),
        focus: rng.random_range(0..=U24_MAX),
        spare: rng.random(),
    }
}

fn packet_with(camera_id: u8, pan_deg: f64, tilt_deg: f64, zoom: u32) -> FreedPacket {
    FreedPacket::from_units(
        camera_id,
        HeadAngles {
            pan_deg,
            tilt_deg,
            roll_deg: 0.0,
        },
        [0.0; 3],
        zoom,
        0,
    )
    .unwrap()
}

// ---- codec ----------------------------------------------------------------------------------

#[test]
fn freed_round_trip_is_bit_exact() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    for _ in 0..2000 {
        let p = random_packet(&mut rng);
        let bytes = p.encode();
        assert_eq!(bytes[0], 0xD1);
        assert_eq!(bytes[28], reference_checksum(&bytes));
        let d = freed::decode(&bytes).unwrap();
        assert!(d.checksum_ok);
        assert_eq!(d.packet, p);
        assert_eq!(freed::decode_checked(&bytes).unwrap(), p);
        let hex = p.to_hex();
        assert_eq!(hex.len(), 58);
        assert_eq!(freed::decode_hex(&hex).unwrap().packet, p);
        assert_eq!(freed::decode_hex(&hex.to_uppercase()).unwrap().packet, p);
    }
}

#[test]
fn from_units_round_trips_to_the_count() {
    let angles = HeadAngles {
        pan_deg: -123.456,
        tilt_deg: 12.5,
        roll_deg: -0.01,
    };
    let p = FreedPacket::from_units(9, angles, [-1234.5, 0.25, 99_999.0], 0x12_3456, 7).unwrap();
    let q = freed::decode_checked(&p.encode()).unwrap();
    let a = q.angles();
    assert!((a.pan_deg - angles.pan_deg).abs() <= 0.5 / 32768.0);
    assert!((a.tilt_deg - 12.5).abs() < 1e-12);
    assert!((a.roll_deg - angles.roll_deg).abs() <= 0.5 / 32768.0);
    assert_eq!(q.position_mm(), [-1234.5, 0.25, 99_999.0]);
    assert_eq!((q.zoom, q.focus, q.camera_id), (0x12_3456, 7, 9));
    // Out of 24-bit range or not finite: an error, not a wrapped value.
    let big = HeadAngles {
        pan_deg: 300.0,
        ..angles
    };
    assert!(matches!(
        FreedPacket::from_units(1, big, [0.0; 3], 0, 0),
        Err(FreedError::OutOfRange {
            field: "pan_deg",
            ..
        })
    ));
    let nan = HeadAngles {
        tilt_deg: f64::NAN,
        ..angles
    };
    assert!(FreedPacket::from_units(1, nan, [0.0; 3], 0, 0).is_err());
    assert!(FreedPacket::from_units(1, angles, [0.0; 3], U24_MAX + 1, 0).is_err());
}

#[test]
fn checksum_failure_is_rejected() {
    let bytes = packet_with(3, 10.0, -5.0, 100).encode();
    for i in 0..PACKET_LEN {
        if i == 0 {
            continue; // changing the type byte is a different error
        }
        let mut bad = bytes;
        bad[i] ^= 0x01;
        let d = freed::decode(&bad).unwrap();
        assert!(!d.checksum_ok, "byte {i} flipped still passes");
        assert!(matches!(
            freed::decode_checked(&bad),
            Err(FreedError::Checksum { .. })
        ));
        assert!(!d.report().checksum_ok);
    }
    assert_eq!(freed::decode(&bytes[..28]), Err(FreedError::Length(28)));
    let mut wrong_type = bytes;
    wrong_type[0] = 0xD2;
    assert_eq!(
        freed::decode(&wrong_type),
        Err(FreedError::MessageType(0xD2))
    );
    assert!(matches!(freed::parse_hex("d1"), Err(FreedError::Hex(_))));
    let mut hex = packet_with(3, 0.0, 0.0, 0).to_hex();
    hex.replace_range(10..11, "g");
    assert!(matches!(freed::parse_hex(&hex), Err(FreedError::Hex(_))));
}

#[test]
fn published_style_packet_decodes_to_exact_values() {
    // Hand-built: camera 1, pan -90 deg = -2949120 = 0xD30000 (two's complement 24-bit),
    // tilt +45 deg = 1474560 = 0x168000, roll -1 count = 0xFFFFFF, x = -1 mm = -64 = 0xFFFFC0,
    // y = +1 mm = 0x000040, z = 25 mm = 1600 = 0x000640, zoom 0x000800, focus 0x000400.
    let mut b: Vec<u8> = vec![
        0xD1, 0x01, 0xD3, 0x00, 0x00, 0x16, 0x80, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xC0, 0x00,
        0x00, 0x40, 0x00, 0x06, 0x40, 0x00, 0x08, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00,
    ];
    b.push(reference_checksum(&b));
    assert_eq!(b[28], 0xB8);
    let d = freed::decode(&b).unwrap();
    assert!(d.checksum_ok);
    let r = d.report();
    assert_eq!(r.camera_id, 1);
    assert_eq!(r.pan_deg, -90.0);
    assert_eq!(r.tilt_deg, 45.0);
    assert_eq!(r.roll_deg, -1.0 / 32768.0);
    assert_eq!((r.x_mm, r.y_mm, r.z_mm), (-1.0, 1.0, 25.0));
    assert_eq!((r.zoom, r.focus), (0x800, 0x400));
    assert_eq!(d.packet.pan, -2_949_120);
    // The same packet in its hex form, and re-encoded byte for byte.
    let hex = "d101d30000168000ffffffffffc00000400006400008000004000000b8";
    assert_eq!(freed::decode_hex(hex).unwrap(), d);
    assert_eq!(d.packet.encode().to_vec(), b);
    // Extremes of the signed range.
    let mut e = b.clone();
    e[2..5].copy_from_slice(&[0x80, 0x00, 0x00]);
    e[5..8].copy_from_slice(&[0x7F, 0xFF, 0xFF]);
    e[28] = reference_checksum(&e);
    let p = freed::decode_checked(&e).unwrap();
    assert_eq!(p.pan, -8_388_608);
    assert_eq!(p.pan_deg(), -256.0);
    assert_eq!(p.tilt, 8_388_607);
}

#[test]
fn decode_report_serialises_with_the_cli_fields() {
    let d =
        freed::decode_hex("d101d30000168000ffffffffffc00000400006400008000004000000b8").unwrap();
    let v = serde_json::to_value(d.report()).unwrap();
    let obj = v.as_object().unwrap();
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "camera_id",
            "checksum_ok",
            "focus",
            "pan_deg",
            "roll_deg",
            "tilt_deg",
            "x_mm",
            "y_mm",
            "z_mm",
            "zoom"
        ]
    );
    assert_eq!(v["pan_deg"], -90.0);
    assert_eq!(v["zoom"], 2048);
    assert_eq!(v["checksum_ok"], true);
}

#[test]
fn zoom_profiles_normalise_counts() {
    let raw = ZoomProfile::default();
    assert_eq!(raw.vendor, ZoomVendor::Raw);
    assert_eq!(raw.normalise_zoom(0.0), 0.0);
    assert_eq!(raw.normalise_zoom(f64::from(U24_MAX)), 1.0);
    let pana = ZoomProfile::preset(ZoomVendor::Panasonic);
    assert_eq!(pana.normalise_zoom(f64::from(0x555)), 0.0);
    assert_eq!(pana.normalise_zoom(f64::from(0xFFF)), 1.0);
    assert!((pana.normalise_zoom(f64::from(0x555 + 0xFFF) / 2.0) - 0.5).abs() < 1e-12);
    // Clamped outside the range; NaN gives 0, not NaN.
    assert_eq!(pana.normalise_zoom(0.0), 0.0);
    assert_eq!(pana.normalise_focus(1e9), 1.0);
    assert_eq!(pana.normalise_zoom(f64::NAN), 0.0);
    for v in ZoomVendor::ALL {
        assert!(ZoomProfile::preset(v).is_valid(), "{v:?}");
        assert_eq!(ZoomVendor::parse(v.name()), Some(v));
    }
    assert_eq!(ZoomVendor::parse("Mo-Sys"), Some(ZoomVendor::Mosys));
    assert_eq!(ZoomVendor::parse("canon"), None);
}

// ---- tracking.jsonl ---------------------------------------------------------------------------

#[test]
fn jsonl_garbage_lines_are_counted_not_fatal() {
    let good1 = TrackingSample {
        pts_ns: 1000,
        packet: packet_with(1, 1.0, 2.0, 3).into(),
    };
    let good2 = TrackingSample {
        pts_ns: 2000,
        packet: packet_with(1, 4.0, 5.0, 6).into(),
    };
    let mut bad_sum = good1.packet.freed().unwrap().encode();
    bad_sum[28] ^= 0xFF;
    let mut wrong_type = good1.packet.freed().unwrap().encode();
    wrong_type[0] = 0xD0;
    let text = format!(
        "{}\n\
         not json at all\n\
         \n\
         {{}}\n\
         {{\"pts_ns\": 5, \"freed\": \"zz\"}}\n\
         {{\"pts_ns\": 6, \"freed\": \"{}\"}}\n\
         {{\"pts_ns\": 7, \"freed\": \"{}\"}}\n\
         {{\"pts_ns\": \"soon\", \"freed\": \"{}\"}}\n\
         {}",
        good1.to_jsonl(),
        freed::to_hex(&bad_sum),
        freed::to_hex(&wrong_type),
        good1.packet.freed().unwrap().to_hex(),
        good2.to_jsonl(),
    );
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(b"\n\xff\xfe invalid utf-8\n");
    let log = read_jsonl(Cursor::new(bytes)).unwrap();
    assert_eq!(log.samples, vec![good1, good2]);
    assert_eq!(log.stats.samples, 2);
    assert_eq!(log.stats.checksum_failures, 1);
    assert_eq!(log.stats.garbage_lines, 6);
    assert_eq!(log.stats.lines, 9);
}

#[test]
fn jsonl_write_then_read_round_trips() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let samples: Vec<TrackingSample> = (0..50)
        .map(|i| TrackingSample {
            pts_ns: pts(i) + 33_366_667,
            packet: random_packet(&mut rng).into(),
        })
        .collect();
    let mut buf = Vec::new();
    yardline_engine::tracking::source::write_jsonl(&mut buf, &samples).unwrap();
    let log = read_jsonl(Cursor::new(buf)).unwrap();
    assert_eq!(log.samples, samples);
    assert_eq!(log.stats.garbage_lines, 0);
}

#[test]
fn jsonl_missing_file_is_an_error() {
    let err =
        yardline_engine::tracking::load_jsonl(std::path::Path::new("/nonexistent/tracking.jsonl"))
            .unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/tracking.jsonl"),
        "{err}"
    );
}

// ---- sync -------------------------------------------------------------------------------------

const TWO_FRAMES_NS: i64 = 33_366_667;

/// Packets for frames 0..n: pan = frame index mod 200 (deg), zoom = 100 * index; each arrives at
/// pts + `arrival_delay_ns` + jitter.
fn feed(sync: &mut TrackingSync, n: i64, arrival_delay_ns: i64, jitter: Option<(u64, f64)>) {
    let mut rng = jitter.map(|(seed, _)| ChaCha8Rng::seed_from_u64(seed));
    for i in 0..n {
        let j = match (&mut rng, jitter) {
            (Some(r), Some((_, amp))) => (r.random_range(-amp..=amp) * FRAME_PERIOD_5994_NS) as i64,
            _ => 0,
        };
        let p = packet_with(1, (i % 200) as f64, 0.0, (100 * i) as u32);
        sync.push(pts(i) + arrival_delay_ns + j, &p);
    }
}

#[test]
fn sync_with_two_frame_delay_picks_the_right_sample() {
    let mut sync = TrackingSync::new(SyncConfig::for_frame_period(
        FRAME_PERIOD_5994_NS,
        TWO_FRAMES_NS,
    ));
    feed(&mut sync, 100, TWO_FRAMES_NS, None);
    for i in 0..100 {
        let s = sync.state_at(pts(i)).unwrap();
        assert_eq!(s.kind, SyncKind::Exact, "frame {i}");
        assert_eq!(s.reading.angles.pan_deg, i as f64, "frame {i}");
        assert_eq!(s.reading.zoom, (100 * i) as f64);
        assert_eq!(s.target_ns, pts(i) + TWO_FRAMES_NS);
    }
    // Without the delay the sync would have served frame i with the packet of frame i - 2.
    let mut no_delay = TrackingSync::new(SyncConfig::for_frame_period(FRAME_PERIOD_5994_NS, 0));
    feed(&mut no_delay, 100, TWO_FRAMES_NS, None);
    assert_eq!(
        no_delay.state_at(pts(50)).unwrap().reading.angles.pan_deg,
        48.0
    );
    assert_eq!(sync.stats().exact, 100);
}

#[test]
fn sync_interpolates_between_samples() {
    // Packets arrive two frames late; the sync looks two and a half frames ahead, halfway
    // between two packets.
    let half = FRAME_PERIOD_5994_NS as i64 / 2;
    let mut sync = TrackingSync::new(SyncConfig::for_frame_period(
        FRAME_PERIOD_5994_NS,
        TWO_FRAMES_NS + half,
    ));
    feed(&mut sync, 60, TWO_FRAMES_NS, None);
    for i in 1..50 {
        let s = sync.state_at(pts(i)).unwrap();
        assert_eq!(s.kind, SyncKind::Interpolated, "frame {i}");
        assert!(
            (s.reading.angles.pan_deg - (i as f64 + 0.5)).abs() < 1e-3,
            "frame {i}: {}",
            s.reading.angles.pan_deg
        );
        assert!((s.reading.zoom - (100.0 * i as f64 + 50.0)).abs() < 0.1);
    }
}

#[test]
fn sync_tolerates_arrival_jitter() {
    let mut sync = TrackingSync::new(SyncConfig::for_frame_period(
        FRAME_PERIOD_5994_NS,
        TWO_FRAMES_NS,
    ));
    // Up to +-0.4 frame of arrival jitter, one packet per frame.
    feed(&mut sync, 120, TWO_FRAMES_NS, Some((11, 0.4)));
    for i in 5..115 {
        let s = sync.state_at(pts(i)).unwrap();
        assert_eq!(s.reading.angles.pan_deg, i as f64, "frame {i}: {s:?}");
    }
    assert_eq!(sync.stats().resyncs, 0);
    assert!((sync.period_estimate_ns() - FRAME_PERIOD_5994_NS).abs() < 0.01 * FRAME_PERIOD_5994_NS);
}

#[test]
fn sync_counts_late_and_missing() {
    let cfg = SyncConfig::for_frame_period(FRAME_PERIOD_5994_NS, TWO_FRAMES_NS);
    let mut sync = TrackingSync::new(cfg);
    assert_eq!(sync.state_at(0), Err(SyncMiss::NoSamples));
    feed(&mut sync, 10, TWO_FRAMES_NS, None);
    // Frame 10's packet has not arrived; within half a frame the newest is held.
    let near = sync
        .state_at(pts(9) + (0.4 * FRAME_PERIOD_5994_NS) as i64)
        .unwrap();
    assert_eq!(near.kind, SyncKind::Held);
    assert_eq!(near.reading.angles.pan_deg, 9.0);
    assert!(matches!(sync.state_at(pts(10)), Err(SyncMiss::Late { .. })));
    assert!(matches!(sync.state_at(pts(12)), Err(SyncMiss::Late { .. })));
    let st = sync.stats();
    assert_eq!((st.held, st.late, st.missing), (1, 2, 1));

    // A gap of six lost packets is not bridged; the packets on either side still serve.
    let mut gap = TrackingSync::new(cfg);
    for i in (0..10).chain(16..30) {
        gap.push(pts(i) + TWO_FRAMES_NS, &packet_with(1, i as f64, 0.0, 0));
    }
    assert!(matches!(gap.state_at(pts(12)), Err(SyncMiss::Gap { .. })));
    assert_eq!(gap.state_at(pts(9)).unwrap().reading.angles.pan_deg, 9.0);
    assert_eq!(gap.state_at(pts(20)).unwrap().reading.angles.pan_deg, 20.0);
    assert_eq!(gap.stats().missing, 1);
}

#[test]
fn sync_memory_is_bounded() {
    let mut cfg = SyncConfig::for_frame_period(FRAME_PERIOD_5994_NS, TWO_FRAMES_NS);
    cfg.capacity = 16;
    let mut sync = TrackingSync::new(cfg);
    feed(&mut sync, 1000, TWO_FRAMES_NS, None);
    assert_eq!(sync.len(), 16);
    let last = sync.state_at(pts(999)).unwrap();
    assert_eq!(last.reading.angles.pan_deg, 199.0);
    assert_eq!(last.reading.zoom, 99_900.0);
    assert!(matches!(
        sync.state_at(pts(900)),
        Err(SyncMiss::TooOld { .. })
    ));
    assert_eq!(sync.stats().pushed, 1000);
}

#[test]
fn sync_filters_camera_and_bad_input() {
    let mut cfg = SyncConfig::for_frame_period(FRAME_PERIOD_5994_NS, 0);
    cfg.camera_id = Some(2);
    let mut sync = TrackingSync::new(cfg);
    sync.push(pts(0), &packet_with(1, 5.0, 0.0, 0));
    sync.push(pts(0), &packet_with(2, 7.0, 0.0, 0));
    sync.push(pts(0) - 10, &packet_with(2, 8.0, 0.0, 0));
    let mut nan = SensorReading::from(packet_with(2, 0.0, 0.0, 0));
    nan.angles.pan_deg = f64::NAN;
    sync.push_reading(pts(1), nan);
    let st = sync.stats();
    assert_eq!(
        (st.pushed, st.other_camera, st.out_of_order, st.invalid),
        (1, 1, 1, 1)
    );
    assert_eq!(sync.state_at(pts(0)).unwrap().reading.angles.pan_deg, 7.0);
    // An unusable configuration falls back to defaults instead of failing.
    let mut bad = SyncConfig::for_frame_period(FRAME_PERIOD_5994_NS, 5);
    bad.packet_period_ns = f64::NAN;
    let s = TrackingSync::new(bad);
    assert!(s.config().is_valid());
    assert_eq!(s.config().tracking_delay_ns, 5);
}

#[test]
fn sync_interpolates_pan_across_the_wrap() {
    let mut sync = TrackingSync::new(SyncConfig::for_frame_period(FRAME_PERIOD_5994_NS, 0));
    sync.push(pts(0), &packet_with(1, 179.0, 0.0, 0));
    sync.push(pts(1), &packet_with(1, -179.0, 0.0, 0));
    let s = sync.state_at(i64::midpoint(pts(0), pts(1))).unwrap();
    assert_eq!(s.kind, SyncKind::Interpolated);
    let pan = s.reading.angles.pan_deg;
    assert!((pan.rem_euclid(360.0) - 180.0).abs() < 1e-6, "{pan}");
}

// ---- UDP ----------------------------------------------------------------------------------------

fn local(port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)
}

fn wait_for(src: &UdpSource, done: impl Fn(&UdpStats) -> bool) -> UdpStats {
    let t0 = Instant::now();
    loop {
        let s = src.stats();
        if done(&s) || t0.elapsed() > Duration::from_secs(5) {
            return s;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn udp_listener_receives_and_drops_bad_datagrams() {
    let src = UdpSource::start(UdpSourceConfig {
        bind: local(0),
        ..UdpSourceConfig::default()
    })
    .unwrap();
    let to = src.local_addr();
    assert_eq!(to.ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
    let tx = UdpSocket::bind(local(0)).unwrap();
    let p = packet_with(4, -90.0, 45.0, 0x800);
    tx.send_to(&p.encode(), to).unwrap();
    let got = src
        .recv_timeout(Duration::from_secs(5))
        .expect("packet received");
    assert_eq!(got.packet, p);
    assert!(got.pts_ns >= 0);

    let mut bad_sum = p.encode();
    bad_sum[5] ^= 0x10;
    tx.send_to(&bad_sum, to).unwrap();
    tx.send_to(&[0xD1_u8; 200], to).unwrap(); // over the 64-byte cap
    tx.send_to(&p.encode()[..20], to).unwrap(); // short
    // Each datagram is counted on arrival, then by its outcome: wait for the outcomes.
    let stats = wait_for(&src, |s| {
        s.accepted + s.checksum_failures + s.oversize + s.malformed >= 4
    });
    assert_eq!(stats.packets, 4);
    assert_eq!(stats.accepted, 1);
    assert_eq!(stats.checksum_failures, 1);
    assert_eq!(stats.oversize, 1);
    assert_eq!(stats.malformed, 1);
    assert!(src.try_recv().is_none(), "a bad datagram reached the queue");
}

#[test]
fn udp_listener_rejects_senders_outside_the_allow_list() {
    let allowed: IpAddr = "127.0.0.2".parse().unwrap();
    let src = UdpSource::start(UdpSourceConfig {
        bind: local(0),
        allow: vec![allowed],
        ..UdpSourceConfig::default()
    })
    .unwrap();
    let to = src.local_addr();
    let p = packet_with(1, 1.0, 2.0, 3);
    let stranger = UdpSocket::bind(local(0)).unwrap();
    stranger.send_to(&p.encode(), to).unwrap();
    let friend = UdpSocket::bind(SocketAddr::new(allowed, 0)).unwrap();
    let q = packet_with(1, 5.0, 6.0, 7);
    friend.send_to(&q.encode(), to).unwrap();
    // Either may arrive first; each is counted on arrival, then by its outcome.
    let stats = wait_for(&src, |s| s.rejected_senders + s.accepted >= 2);
    assert_eq!(stats.packets, 2);
    assert_eq!(stats.rejected_senders, 1);
    assert_eq!(stats.accepted, 1);
    assert_eq!(src.try_recv().map(|s| s.packet), Some(q.into()));
    assert!(src.try_recv().is_none());
}

#[test]
fn udp_full_queue_drops_the_oldest_and_counts() {
    let src = UdpSource::start(UdpSourceConfig {
        bind: local(0),
        queue_capacity: 2,
        ..UdpSourceConfig::default()
    })
    .unwrap();
    let tx = UdpSocket::bind(local(0)).unwrap();
    for i in 0..10 {
        tx.send_to(
            &packet_with(1, f64::from(i), 0.0, 0).encode(),
            src.local_addr(),
        )
        .unwrap();
    }
    let stats = wait_for(&src, |s| s.accepted >= 10);
    assert_eq!(stats.accepted, 10);
    assert_eq!(stats.queue_drops, 8);
    let mut got = Vec::new();
    src.drain_into(&mut got);
    let pans: Vec<f64> = got
        .iter()
        .map(|s| s.packet.freed().unwrap().pan_deg())
        .collect();
    assert_eq!(pans, [8.0, 9.0]);
}

#[test]
fn udp_reports_rate_and_shuts_down_promptly() {
    let src = UdpSource::start(UdpSourceConfig {
        bind: local(0),
        ..UdpSourceConfig::default()
    })
    .unwrap();
    let tx = UdpSocket::bind(local(0)).unwrap();
    for i in 0..20 {
        tx.send_to(
            &packet_with(1, f64::from(i), 0.0, 0).encode(),
            src.local_addr(),
        )
        .unwrap();
    }
    let stats = wait_for(&src, |s| s.packets_per_second > 0.0);
    assert!(
        stats.packets_per_second > 10.0 && stats.packets_per_second <= 20.0,
        "{stats:?}"
    );
    let t0 = Instant::now();
    drop(src);
    assert!(t0.elapsed() < Duration::from_secs(1));
    // Bad configuration is an error, not a panic.
    let bad = UdpSource::start(UdpSourceConfig {
        bind: local(0),
        max_packet_bytes: 10,
        ..UdpSourceConfig::default()
    });
    assert!(bad.is_err());
}
