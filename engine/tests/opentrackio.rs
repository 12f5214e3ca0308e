//! OpenTrackIO: the packet header and checksum, segments, JSON and CBOR samples (the camdkit
//! example values), the mapping onto the engine's head angles, timecode, the recording form and
//! the UDP listener (unicast and multicast).

#![allow(
    clippy::float_cmp,
    clippy::unwrap_used,
    clippy::doc_markdown,
    reason = "decoded values are exact by construction; test helpers may unwrap; names of products"
)]

use std::io::Cursor;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

use yardline_engine::head::HeadAngles;
use yardline_engine::tracking::freed::FreedPacket;
use yardline_engine::tracking::opentrackio::{
    self, ENCODING_CBOR, ENCODING_JSON, HEADER_LEN, OpenTrackIoError, OpenTrackIoSample,
    Reassembler, decode_payload, encode_packets, parse_packet,
};
use yardline_engine::tracking::source::{UdpSource, UdpSourceConfig, UdpStats, read_jsonl};
use yardline_engine::tracking::{Packet, Timecode, TrackingSample};
use yardline_engine::venue::Venue;

const COMPLETE: &str = include_str!("fixtures/opentrackio/complete_dynamic.json");
const RECOMMENDED_STATIC: &str = include_str!("fixtures/opentrackio/recommended_static.json");

/// Fletcher-16 exactly as the specification's reference C code writes it.
fn reference_fletcher(data: &[u8]) -> u16 {
    let (mut sum1, mut sum2) = (0_u8, 0_u8);
    for &b in data {
        sum1 = sum1.wrapping_add(b);
        sum2 = sum2.wrapping_add(sum1);
    }
    (u16::from(sum2) << 8) | u16::from(sum1)
}

/// One datagram built by hand from the header table of the specification.
fn hand_packet(encoding: u8, seq: u16, offset: u32, last: bool, payload: &[u8]) -> Vec<u8> {
    let mut h = b"OTrk".to_vec();
    h.push(0x5A); // reserved: ignored
    h.push(encoding);
    h.extend_from_slice(&seq.to_be_bytes());
    h.extend_from_slice(&offset.to_be_bytes());
    let len = u16::try_from(payload.len()).unwrap() | if last { 0x8000 } else { 0 };
    h.extend_from_slice(&len.to_be_bytes());
    let mut covered = h.clone();
    covered.extend_from_slice(payload);
    h.extend_from_slice(&reference_fletcher(&covered).to_be_bytes());
    h.extend_from_slice(payload);
    h
}

/// CBOR of a JSON document, written generically (not through the engine's sample type).
fn cbor_of(json: &str) -> Vec<u8> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let mut out = Vec::new();
    ciborium::ser::into_writer(&v, &mut out).unwrap();
    out
}

fn assert_complete_example(s: &OpenTrackIoSample) {
    let p = s.protocol.as_ref().unwrap();
    assert_eq!(
        (p.name.as_str(), p.version.as_slice()),
        ("OpenTrackIO", &[1, 0, 0][..])
    );
    assert_eq!(
        s.sample_id.as_deref(),
        Some("urn:uuid:8c6a8ab9-c4e1-40a7-bbee-253abe8ceb5f")
    );
    assert_eq!(
        s.source_id.as_deref(),
        Some("urn:uuid:ae8429c6-7fc3-4526-8e72-a2c255e05975")
    );
    assert_eq!(s.source_number, Some(1));
    assert_eq!(s.related_sample_ids.as_ref().unwrap().len(), 2);
    let t = s.timing.as_ref().unwrap();
    assert_eq!(t.mode.as_deref(), Some("internal"));
    assert_eq!(t.sequence_number, Some(0));
    let rate = t.sample_rate.unwrap();
    assert_eq!((rate.num, rate.denom), (24000, 1001));
    let ts = t.sample_timestamp.unwrap();
    assert_eq!((ts.seconds, ts.nanoseconds), (1_718_806_554, 500_000_000));
    let rec = t.recorded_timestamp.unwrap();
    assert_eq!((rec.seconds, rec.nanoseconds), (1_718_806_000, 500_000_000));
    let tc = t.timecode.unwrap();
    assert_eq!((tc.hours, tc.minutes, tc.seconds, tc.frames), (1, 2, 3, 4));
    assert_eq!((tc.frame_rate.num, tc.frame_rate.denom), (24000, 1001));
    let l = s.lens.as_ref().unwrap();
    assert_eq!(l.pinhole_focal_length, Some(24.305));
    assert_eq!(l.entrance_pupil_offset, Some(0.123));
    assert_eq!((l.f_stop, l.t_stop), (Some(4.0), Some(4.1)));
    assert_eq!(l.focus_distance, Some(10.0));
    let e = l.encoders.unwrap();
    assert_eq!((e.focus, e.iris, e.zoom), (Some(0.1), Some(0.2), Some(0.3)));
    let r = l.raw_encoders.unwrap();
    assert_eq!(
        (r.focus, r.iris, r.zoom),
        (Some(1000), Some(2000), Some(3000))
    );
    let off = l.projection_offset.unwrap();
    assert_eq!((off.x, off.y), (0.1, 0.2));
    let doff = l.distortion_offset.unwrap();
    assert_eq!((doff.x, doff.y), (1.0, 2.0));
    let d = l.distortion.as_ref().unwrap();
    assert_eq!(d.len(), 2);
    assert_eq!(d[0].model.as_deref(), Some("Brown-Conrady U-D"));
    assert_eq!(d[0].radial, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_eq!(d[0].tangential.as_deref(), Some(&[1.0, 2.0][..]));
    assert_eq!((d[0].overscan, d[1].overscan), (Some(3.0), Some(2.0)));
    assert_eq!(d[1].model, None);
    let tr = s.transforms.as_ref().unwrap();
    let ids: Vec<_> = tr.iter().map(|t| t.id.as_deref().unwrap()).collect();
    assert_eq!(ids, ["Dolly", "Crane Arm", "Camera"]);
    for t in tr {
        assert_eq!(
            (t.translation.x, t.translation.y, t.translation.z),
            (1.0, 2.0, 3.0)
        );
        assert_eq!(
            (t.rotation.pan, t.rotation.tilt, t.rotation.roll),
            (180.0, 90.0, 45.0)
        );
    }
    assert_eq!(tr[0].scale, None);
    let sc = tr[2].scale.unwrap();
    assert_eq!((sc.x, sc.y, sc.z), (1.0, 2.0, 3.0));
}

#[test]
fn camdkit_complete_example_decodes_to_its_values_from_json_and_cbor() {
    let json = decode_payload(ENCODING_JSON, COMPLETE.as_bytes()).unwrap();
    assert_complete_example(&json);
    let cbor = decode_payload(ENCODING_CBOR, &cbor_of(COMPLETE)).unwrap();
    assert_complete_example(&cbor);
    assert_eq!(json, cbor);
    // Through the header, as a datagram.
    let packet = hand_packet(ENCODING_CBOR, 7, 0, true, &cbor_of(COMPLETE));
    assert_eq!(opentrackio::decode_datagram(&packet).unwrap(), json);
}

#[test]
fn camdkit_recommended_static_example_gives_its_reading() {
    let s = decode_payload(ENCODING_JSON, RECOMMENDED_STATIC.as_bytes()).unwrap();
    let r = s.reading().unwrap();
    assert_eq!(r.camera_id, 1);
    // One transform: pan negated (OpenTrackIO pans left), tilt and roll kept.
    assert_eq!(
        r.angles,
        HeadAngles {
            pan_deg: -180.0,
            tilt_deg: 90.0,
            roll_deg: 45.0
        }
    );
    assert_eq!(r.position_mm, [1000.0, 2000.0, 3000.0]);
    // No raw encoders: the normalised ones over FreeD's 24-bit range.
    assert_eq!(r.zoom, 0.3 * f64::from(0xFF_FFFF_u32));
    assert_eq!(r.focus, 0.1 * f64::from(0xFF_FFFF_u32));
    let lens = r.lens.unwrap();
    assert_eq!(lens.focal_length_mm, 24.305);
    assert_eq!(lens.nodal_shift_m, 0.123);
    assert_eq!(lens.sensor_width_mm, Some(36.0));
    assert_eq!(lens.projection_offset_mm, [0.1, 0.2]);
    // Default model D-U, inverted to fourth order on the normalised radius.
    let f2 = 24.305_f64 * 24.305;
    assert_eq!(lens.k1, -f2);
    assert_eq!(lens.k2, 3.0 * f2 * f2 - 2.0 * f2 * f2);
    let tc = r.timecode.unwrap();
    assert_eq!(tc.to_string(), "01:02:03:04");
    assert_eq!(tc.frame_number(), ((3600 + 2 * 60 + 3) * 24 + 4));
}

#[test]
fn header_checksum_encoding_and_length_are_checked() {
    let payload = RECOMMENDED_STATIC.as_bytes();
    let good = hand_packet(ENCODING_JSON, 0xBEEF, 0, true, payload);
    let (h, body) = parse_packet(&good).unwrap();
    assert_eq!((h.encoding, h.sequence, h.segment_offset), (1, 0xBEEF, 0));
    assert!(h.last_segment);
    assert_eq!(usize::from(h.payload_len), payload.len());
    assert_eq!(body, payload);
    // The engine's encoder writes the same bytes (but for the reserved byte).
    let mut ours = encode_packets(ENCODING_JSON, 0xBEEF, payload, 60_000).remove(0);
    ours[4] = 0x5A;
    let sum = reference_fletcher(&[&ours[..14], &ours[16..]].concat());
    ours[14..16].copy_from_slice(&sum.to_be_bytes());
    assert_eq!(ours, good);

    for i in [0, 5, 7, 13, 14, 15, 16, good.len() - 1] {
        let mut bad = good.clone();
        bad[i] ^= 0x04;
        assert!(
            opentrackio::decode_datagram(&bad).is_err(),
            "flipping byte {i} went unnoticed"
        );
    }
    let mut bad = good.clone();
    bad[20] ^= 0x01;
    assert!(matches!(
        parse_packet(&bad),
        Err(OpenTrackIoError::Checksum { .. })
    ));
    let unknown = hand_packet(0x03, 1, 0, true, payload);
    assert_eq!(parse_packet(&unknown), Err(OpenTrackIoError::Encoding(3)));
    assert!(matches!(
        parse_packet(&good[..good.len() - 1]),
        Err(OpenTrackIoError::Truncated { .. })
    ));
    assert!(matches!(
        parse_packet(&good[..10]),
        Err(OpenTrackIoError::Truncated { .. })
    ));
    let mut magic = good.clone();
    magic[1] = b'X';
    assert_eq!(parse_packet(&magic), Err(OpenTrackIoError::Magic));
}

#[test]
fn segments_reassemble_and_an_incomplete_payload_is_dropped() {
    let payload = cbor_of(COMPLETE);
    let segs: Vec<Vec<u8>> = payload
        .chunks(300)
        .enumerate()
        .scan(0_u32, |off, (i, c)| {
            let p = hand_packet(ENCODING_CBOR, 9, *off, (i + 1) * 300 >= payload.len(), c);
            *off += u32::try_from(c.len()).unwrap();
            Some(p)
        })
        .collect();
    assert!(segs.len() >= 3, "{} segments", segs.len());
    assert_eq!(
        encode_packets(ENCODING_CBOR, 9, &payload, 300).len(),
        segs.len()
    );

    let mut r = Reassembler::new();
    for s in &segs[..segs.len() - 1] {
        assert_eq!(r.push(s).unwrap(), None);
    }
    let (enc, whole) = r.push(segs.last().unwrap()).unwrap().unwrap();
    assert_eq!((enc, &whole), (ENCODING_CBOR, &payload));
    assert_complete_example(&decode_payload(enc, &whole).unwrap());
    assert_eq!(r.incomplete_dropped(), 0);

    // Every datagram sent twice: each is taken once, the payload comes through once.
    let mut r = Reassembler::new();
    let mut whole = 0;
    for s in &segs {
        for _ in 0..2 {
            whole += usize::from(r.push(s).unwrap().is_some());
        }
    }
    assert_eq!(
        (whole, r.duplicates(), r.incomplete_dropped()),
        (1, segs.len() as u64, 0)
    );

    // A lost middle segment: the payload is dropped whole, then the next one comes through.
    let mut r = Reassembler::new();
    assert_eq!(r.push(&segs[0]).unwrap(), None);
    assert!(matches!(
        r.push(&segs[2]),
        Err(OpenTrackIoError::Segment { .. })
    ));
    assert_eq!(r.incomplete_dropped(), 1);
    let single = hand_packet(ENCODING_JSON, 10, 0, true, RECOMMENDED_STATIC.as_bytes());
    assert!(r.push(&single).unwrap().is_some());
    // A new sequence before the last segment drops the partial payload.
    let mut r = Reassembler::new();
    r.push(&segs[0]).unwrap();
    assert!(r.push(&single).unwrap().is_some());
    assert_eq!(r.incomplete_dropped(), 1);
    // A whole payload under the same sequence number also ends the partial one.
    let mut r = Reassembler::new();
    r.push(&segs[0]).unwrap();
    let same_seq = hand_packet(ENCODING_JSON, 9, 0, true, RECOMMENDED_STATIC.as_bytes());
    assert!(r.push(&same_seq).unwrap().is_some());
    assert_eq!(r.incomplete_dropped(), 1);
    assert_eq!(
        r.push(&segs[1]).map(|_| ()),
        Err(OpenTrackIoError::Segment {
            sequence: 9,
            offset: 300,
            expected: 0,
        })
    );
    // One segment alone is not a sample.
    assert!(matches!(
        opentrackio::decode_datagram(&segs[0]),
        Err(OpenTrackIoError::Incomplete(9))
    ));
}

fn sample_with(pan: f64, tilt: f64, roll: f64) -> OpenTrackIoSample {
    let json = format!(
        r#"{{"sourceNumber": 1, "lens": {{"rawEncoders": {{"zoom": 400000, "focus": 7}}}},
            "transforms": [{{"translation": {{"x": 0, "y": 0, "z": 0}},
                             "rotation": {{"pan": {pan}, "tilt": {tilt}, "roll": {roll}}}}}]}}"#
    );
    serde_json::from_str(&json).unwrap()
}

const VENUE: &str = r#"
version = 1
[[camera]]
id = 1
tracking_delay_ns = 0
[camera.mount]
position = [0.0, -55.0, 20.0]
yaw_deg = 3.0
pitch_deg = -1.0
roll_deg = 0.5
[camera.lens]
width = 1920
height = 1080
zoom_profile = "raw"
[[camera.lens.points]]
zoom = 0
fx = 1662.8
fy = 1662.8
cx = 959.5
cy = 539.5
k1 = -0.12
k2 = 0.01
nodal_shift_m = 0.0
[[camera.lens.points]]
zoom = 1000000
fx = 20000.0
fy = 20001.0
cx = 961.0
cy = 541.0
k1 = 0.0
k2 = 0.0
nodal_shift_m = 0.3
"#;

#[test]
fn an_opentrackio_sample_and_the_equivalent_freed_packet_give_the_same_camera() {
    let venue = Venue::from_toml_str(VENUE).unwrap();
    let cal = venue.camera(1).unwrap();
    for (pan, tilt, roll) in [(0.0, 0.0, 0.0), (25.0, -12.5, 1.5), (-140.0, 30.0, -4.0)] {
        let otio = sample_with(pan, tilt, roll).reading().unwrap();
        // FreeD pans right: the same view has the opposite pan.
        let freed = FreedPacket::from_units(
            1,
            HeadAngles {
                pan_deg: -pan,
                tilt_deg: tilt,
                roll_deg: roll,
            },
            [0.0; 3],
            400_000,
            7,
        )
        .unwrap();
        let a = cal.camera_for(&otio, 1920, 1080).unwrap();
        let b = cal
            .camera_for(&Packet::from(freed).reading(), 1920, 1080)
            .unwrap();
        let (ra, rb) = (a.rotation.matrix(), b.rotation.matrix());
        for i in 0..9 {
            assert!((ra[i] - rb[i]).abs() < 1e-6, "pan {pan}: {ra} vs {rb}");
        }
        for i in 0..3 {
            assert!((a.translation[i] - b.translation[i]).abs() < 1e-6);
        }
    }
    // Positive OpenTrackIO pan turns the view to the left: the optical axis gains -x.
    let left = cal
        .camera_for(&sample_with(20.0, 0.0, 0.0).reading().unwrap(), 1920, 1080)
        .unwrap();
    let axis = left.rotation.inverse() * nalgebra::Vector3::z();
    assert!(axis.x < -0.25, "optical axis {axis}");
}

#[test]
fn a_transform_chain_is_composed_parent_first() {
    let json = r#"{"sourceNumber": 3, "transforms": [
        {"translation": {"x": 1.0, "y": 0.0, "z": 2.0}, "rotation": {"pan": 90.0, "tilt": 0.0, "roll": 0.0}},
        {"translation": {"x": 0.0, "y": 1.0, "z": 0.0}, "rotation": {"pan": 10.0, "tilt": 20.0, "roll": 0.0}}]}"#;
    let s: OpenTrackIoSample = serde_json::from_str(json).unwrap();
    let r = s.reading().unwrap();
    assert_eq!(r.camera_id, 3);
    assert!((r.angles.pan_deg + 100.0).abs() < 1e-9, "{:?}", r.angles);
    assert!((r.angles.tilt_deg - 20.0).abs() < 1e-9);
    assert!(r.angles.roll_deg.abs() < 1e-9);
    // The child's +y in the parent turned 90 degrees left is -x.
    let want = [0.0, 0.0, 2000.0];
    for (g, w) in r.position_mm.iter().zip(want) {
        assert!((g - w).abs() < 1e-9, "{:?}", r.position_mm);
    }
}

#[test]
fn a_sample_missing_the_transform_or_with_a_reserved_source_gives_no_reading() {
    let none: OpenTrackIoSample = serde_json::from_str(r#"{"sourceNumber": 1}"#).unwrap();
    assert_eq!(none.reading(), Err(OpenTrackIoError::Missing("transforms")));
    let empty: OpenTrackIoSample =
        serde_json::from_str(r#"{"sourceNumber": 1, "transforms": []}"#).unwrap();
    assert!(Packet::opentrackio(empty).is_err());
    for n in [0, 201, 255, 1000] {
        let mut s = sample_with(0.0, 0.0, 0.0);
        s.source_number = Some(n);
        assert_eq!(s.reading(), Err(OpenTrackIoError::SourceNumber(n)));
    }
    let mut s = sample_with(0.0, 0.0, 0.0);
    s.transforms.as_mut().unwrap()[0].rotation.tilt = f64::NAN;
    assert!(matches!(
        s.reading(),
        Err(OpenTrackIoError::BadValue { .. })
    ));
    // Not a sample at all.
    assert!(matches!(
        decode_payload(ENCODING_JSON, b"[1, 2]"),
        Err(OpenTrackIoError::Payload { .. })
    ));
    assert!(matches!(
        decode_payload(ENCODING_CBOR, &[0xFF, 0x00]),
        Err(OpenTrackIoError::Payload { .. })
    ));
}

#[test]
fn timecode_counts_frames_with_and_without_drop_frame() {
    let ndf = Timecode::new([1, 0, 0, 0], (25, 1), false).unwrap();
    assert_eq!(ndf.frame_number(), 90_000);
    // 29.97 drop frame: 00:01:00;02 follows 00:00:59;29.
    let a = Timecode::new([0, 0, 59, 29], (30000, 1001), true).unwrap();
    let b = Timecode::new([0, 1, 0, 2], (30000, 1001), true).unwrap();
    assert_eq!(a.frames_until(&b), 1);
    assert_eq!(a.add_frames(1), b);
    assert!(Timecode::new([0, 1, 0, 1], (30000, 1001), true).is_err());
    // 00:10:00;00 exists (every tenth minute keeps its labels); one hour is 107892 frames.
    assert!(Timecode::new([0, 10, 0, 0], (30000, 1001), true).is_ok());
    assert_eq!(
        Timecode::new([1, 0, 0, 0], (30000, 1001), true)
            .unwrap()
            .frame_number(),
        107_892
    );
    // Every label of a day round-trips at 59.94 drop frame.
    let start = Timecode::new([0, 0, 0, 0], (60000, 1001), true).unwrap();
    let day = start.frames_per_day();
    for n in (0..day).step_by(997) {
        assert_eq!(start.with_frame_number(n).frame_number(), n);
    }
    // Frame i of a 59.94 stream at DESIGN.md's pts.
    let pts = |i: i64| (i as f64 * 1_001_000_000.0 / 60.0).round() as i64;
    for i in [0, 1, 59, 60, 1799, 36_000] {
        assert_eq!(start.at_pts(pts(i)).frame_number(), i as u64);
    }
    assert!(Timecode::new([24, 0, 0, 0], (25, 1), false).is_err());
    assert!(Timecode::new([0, 0, 0, 25], (25, 1), false).is_err());
    assert!(Timecode::new([0, 0, 0, 0], (25, 1), true).is_err());
    assert!(Timecode::new([0, 0, 0, 0], (0, 1), false).is_err());
}

#[test]
fn tracking_jsonl_carries_opentrackio_samples() {
    let s: OpenTrackIoSample = serde_json::from_str(RECOMMENDED_STATIC).unwrap();
    let sample = TrackingSample {
        pts_ns: 16_683_333,
        packet: Packet::opentrackio(s.clone()).unwrap(),
    };
    let freed = TrackingSample::freed(33_366_667, FreedPacket::default());
    let text = format!(
        "{}\n{}\n{}\n{}\n",
        sample.to_jsonl(),
        freed.to_jsonl(),
        r#"{"pts_ns": 5, "opentrackio": {"sourceNumber": 1}}"#,
        r#"{"pts_ns": 6, "opentrackio": {"sourceNumber": 1}, "freed": "00"}"#,
    );
    let log = read_jsonl(Cursor::new(text)).unwrap();
    assert_eq!(log.samples.len(), 2);
    assert_eq!(log.samples[0], sample);
    assert_eq!(log.samples[1], freed);
    assert_eq!(log.stats.invalid_samples, 1);
    assert_eq!(log.stats.garbage_lines, 1);
    match &log.samples[0].packet {
        Packet::OpenTrackIo(o) => assert_eq!(o.sample, s),
        Packet::Freed(_) => panic!("read back as FreeD"),
    }
}

fn wait_for(src: &UdpSource, done: impl Fn(&UdpStats) -> bool) -> UdpStats {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let s = src.stats();
        if done(&s) || Instant::now() > deadline {
            return s;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn the_udp_listener_takes_both_protocols_and_counts_every_bad_packet() {
    let src = UdpSource::start(UdpSourceConfig {
        bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        ..UdpSourceConfig::default()
    })
    .unwrap();
    let to = src.local_addr();
    let tx = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let json = RECOMMENDED_STATIC.as_bytes();
    let cbor = cbor_of(COMPLETE);
    let freed = FreedPacket::default();

    // Sent twice (a repeated multicast message): taken once.
    for _ in 0..2 {
        tx.send_to(&hand_packet(ENCODING_JSON, 1, 0, true, json), to)
            .unwrap();
    }
    for seg in encode_packets(ENCODING_CBOR, 2, &cbor, 400) {
        tx.send_to(&seg, to).unwrap();
    }
    tx.send_to(&freed.encode(), to).unwrap();
    let mut bad_sum = hand_packet(ENCODING_JSON, 3, 0, true, json);
    bad_sum[40] ^= 0x20;
    tx.send_to(&bad_sum, to).unwrap();
    tx.send_to(&hand_packet(0x07, 4, 0, true, json), to)
        .unwrap();
    let no_transform = br#"{"sourceNumber": 1}"#;
    tx.send_to(&hand_packet(ENCODING_JSON, 5, 0, true, no_transform), to)
        .unwrap();
    // A truncated segmented payload: first segment, then a new sequence.
    let segs = encode_packets(ENCODING_JSON, 6, json, 200);
    tx.send_to(&segs[0], to).unwrap();
    tx.send_to(&hand_packet(ENCODING_JSON, 7, 0, true, json), to)
        .unwrap();
    let sent = 2 + encode_packets(ENCODING_CBOR, 2, &cbor, 400).len() as u64 + 6;

    // Each datagram is counted on arrival, then by its outcome: the last one sent is the
    // fourth accepted.
    let stats = wait_for(&src, |s| s.packets >= sent && s.accepted >= 4);
    assert_eq!(stats.packets, sent, "{stats:?}");
    assert_eq!(stats.accepted, 4, "{stats:?}");
    assert_eq!(stats.checksum_failures, 1, "{stats:?}");
    assert_eq!(stats.malformed, 1, "{stats:?}");
    assert_eq!(stats.invalid_samples, 1, "{stats:?}");
    assert_eq!(stats.incomplete_payloads, 1, "{stats:?}");
    assert_eq!(stats.duplicates, 1, "{stats:?}");
    let got: Vec<TrackingSample> = std::iter::from_fn(|| src.try_recv()).collect();
    let kinds: Vec<_> = got.iter().map(|s| s.packet.protocol()).collect();
    assert_eq!(
        kinds,
        ["opentrackio", "opentrackio", "freed", "opentrackio"]
    );
    match &got[1].packet {
        Packet::OpenTrackIo(o) => assert_complete_example(&o.sample),
        Packet::Freed(_) => unreachable!(),
    }
}

#[test]
fn the_udp_listener_joins_the_opentrackio_multicast_group() {
    let group = opentrackio::multicast_group(7);
    assert_eq!(group, Ipv4Addr::new(239, 135, 1, 7));
    let src = UdpSource::start(UdpSourceConfig {
        bind: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
        multicast: Some(group),
        multicast_interface: Ipv4Addr::LOCALHOST,
        ..UdpSourceConfig::default()
    })
    .unwrap();
    let port = src.local_addr().port();
    let tx = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).unwrap();
    tx.set_multicast_if_v4(&Ipv4Addr::LOCALHOST).unwrap();
    tx.set_multicast_loop_v4(true).unwrap();
    let packet = hand_packet(ENCODING_JSON, 1, 0, true, RECOMMENDED_STATIC.as_bytes());
    tx.send_to(&packet, &SocketAddrV4::new(group, port).into())
        .unwrap();
    let got = src
        .recv_timeout(Duration::from_secs(5))
        .expect("multicast sample");
    assert_eq!(got.packet.reading().camera_id, 1);
    assert_eq!(HEADER_LEN, 16);
}

#[test]
fn a_venue_without_a_lens_table_takes_the_samples_lens() {
    let text = VENUE
        .split("[[camera.lens.points]]")
        .next()
        .unwrap()
        .replace(
            "zoom_profile = \"raw\"",
            "zoom_profile = \"raw\"\nsensor_width_mm = 9.6",
        );
    let venue = Venue::from_toml_str(&text).unwrap();
    let cal = venue.camera(1).unwrap();
    assert!(cal.lens.is_from_tracking());
    // Saved and loaded again, it stays a camera without a table.
    let again = Venue::from_toml_str(&venue.to_toml_string().unwrap()).unwrap();
    assert_eq!(again, venue);

    let json = r#"{"sourceNumber": 1,
        "lens": {"pinholeFocalLength": 12.0, "entrancePupilOffset": 0.25,
                 "projectionOffset": {"x": 0.048, "y": -0.024},
                 "distortion": [{"model": "Brown-Conrady U-D", "radial": [-0.001, 0.00002]}]},
        "transforms": [{"translation": {"x": 0, "y": 0, "z": 0},
                        "rotation": {"pan": -10.0, "tilt": -5.0, "roll": 0.0}}]}"#;
    let s: OpenTrackIoSample = serde_json::from_str(json).unwrap();
    let r = s.reading().unwrap();
    let cam = cal.camera_for(&r, 1920, 1080).unwrap();
    let k = cam.intrinsics;
    // 12 mm on a 9.6 mm sensor 1920 px wide: 2400 px; offsets at 200 px/mm.
    assert!(
        (k.fx - 2400.0).abs() < 1e-9 && (k.fy - 2400.0).abs() < 1e-9,
        "{k:?}"
    );
    assert!((k.cx - (959.5 + 9.6)).abs() < 1e-9, "{k:?}");
    assert!((k.cy - (539.5 - 4.8)).abs() < 1e-9, "{k:?}");
    assert!((k.k1 - (-0.001 * 144.0)).abs() < 1e-12, "{k:?}");
    assert!((k.k2 - 0.00002 * 144.0 * 144.0).abs() < 1e-12, "{k:?}");
    // The entrance pupil is the nodal shift: the centre sits 0.25 m along the optical axis.
    let centre = cam.centre();
    let axis = cam.rotation.inverse() * nalgebra::Vector3::z();
    let mount = nalgebra::Vector3::new(0.0, -55.0, 20.0);
    assert!(((centre.coords - mount) - axis * 0.25).norm() < 1e-9);

    // A reading without lens data gives no camera here, with a clear reason.
    let bare = sample_with(0.0, 0.0, 0.0).reading().unwrap();
    assert_eq!(
        cal.camera_for(&bare, 1920, 1080).unwrap_err().to_string(),
        "the venue has no lens table for camera 1 and the reading carries no lens data"
    );
    // Points and a sensor width together are refused.
    let both = VENUE.replace(
        "zoom_profile = \"raw\"",
        "zoom_profile = \"raw\"\nsensor_width_mm = 9.6",
    );
    assert!(Venue::from_toml_str(&both).is_err());
}

/// A 4.8 mm lens on a 9.6 mm sensor, 1920x1080: 960 px focal length, the image edge at a
/// normalised radius of 1 (a wide broadcast zoom at its widest).
const WIDE_F_MM: f64 = 4.8;

/// A sample of the wide lens with a `Brown-Conrady U-D` model given on normalised
/// coordinates (`radial` k1.., `tangential` p1, p2), sent in OpenTrackIO's millimetre terms.
fn wide_lens_sample(radial: &[f64], tangential: [f64; 2]) -> OpenTrackIoSample {
    let f = WIDE_F_MM;
    let radial_mm: Vec<f64> = radial
        .iter()
        .enumerate()
        .map(|(i, k)| k / f.powi(2 * (i as i32 + 1)))
        .collect();
    let json = serde_json::json!({
        "sourceNumber": 1,
        "lens": {"pinholeFocalLength": f,
                 "distortion": [{"model": "Brown-Conrady U-D", "radial": radial_mm,
                                 "tangential": [tangential[0] / f, tangential[1] / f]}]},
        "transforms": [{"translation": {"x": 0, "y": 0, "z": 0},
                        "rotation": {"pan": -10.0, "tilt": -5.0, "roll": 0.0}}]
    });
    serde_json::from_value(json).unwrap()
}

/// Largest distance (px) over a grid of the 1920x1080 image between where `k` (the engine's
/// camera) and the full model put an undistorted point.
fn worst_px(k: &yardline_engine::Intrinsics, full: &opentrackio::FullDistortion) -> f64 {
    let mut worst = 0.0_f64;
    for j in 0..=18 {
        for i in 0..=32 {
            let (u, v) = (f64::from(i) * 60.0 - 960.0, f64::from(j) * 60.0 - 540.0);
            let n = nalgebra::Point2::new(u / k.fx, v / k.fy);
            let engine = k.distort(n);
            let [x, y] = full.apply([n.x, n.y]);
            let want = nalgebra::Point2::new(k.fx * x + k.cx, k.fy * y + k.cy);
            worst = worst.max((engine - want).norm());
        }
    }
    worst
}

#[test]
fn a_third_radial_and_tangential_terms_are_fitted_over_the_image_not_dropped() {
    let text = VENUE
        .split("[[camera.lens.points]]")
        .next()
        .unwrap()
        .replace(
            "zoom_profile = \"raw\"",
            "zoom_profile = \"raw\"\nsensor_width_mm = 9.6",
        );
    let venue = Venue::from_toml_str(&text).unwrap();
    let cal = venue.camera(1).unwrap();
    // A wide zoom's distortion: barrel with a sixth-order term and a slightly tilted element.
    let s = wide_lens_sample(&[-0.08, 0.012, -0.001], [5e-5, -2.5e-5]);
    let r = s.reading().unwrap();
    let lens = r.lens.unwrap();
    let full = lens.full_distortion.expect("the whole model is kept");
    assert!(!full.distorted_to_undistorted);
    for (got, want) in full
        .radial
        .iter()
        .zip([-0.08, 0.012, -0.001, 0.0, 0.0, 0.0])
    {
        assert!((got - want).abs() < 1e-12, "{full:?}");
    }
    assert!(
        (full.tangential[0] - 5e-5).abs() < 1e-15 && (full.tangential[1] + 2.5e-5).abs() < 1e-15
    );
    let before = opentrackio_poor_fits();
    let k = cal.camera_for(&r, 1920, 1080).unwrap().intrinsics;
    assert!((k.fx - 960.0).abs() < 1e-9, "{k:?}");
    // The fit, not the first two terms as sent: it follows the whole model far closer.
    let dropped = yardline_engine::Intrinsics {
        k1: -0.08,
        k2: 0.012,
        ..k
    };
    let (fitted_px, dropped_px) = (worst_px(&k, &full), worst_px(&dropped, &full));
    println!("worst over the image: fitted {fitted_px:.3} px, terms dropped {dropped_px:.3} px");
    assert!(dropped_px > 2.0, "dropping the terms costs {dropped_px} px");
    assert!(fitted_px < 0.5, "the fit is {fitted_px} px off");
    assert!(k.k1 != -0.08 && k.k2 != 0.012, "{k:?}");
    assert_eq!(opentrackio_poor_fits(), before, "a good fit is not counted");

    // A strongly decentred lens: no two radial terms follow it within half a pixel, and the
    // fit says so (counted, and logged).
    let s = wide_lens_sample(&[-0.08, 0.012], [3e-3, 0.0]);
    let r = s.reading().unwrap();
    let full = r.lens.unwrap().full_distortion.unwrap();
    let k = cal.camera_for(&r, 1920, 1080).unwrap().intrinsics;
    let fitted_px = worst_px(&k, &full);
    assert!(fitted_px > 0.5, "{fitted_px}");
    assert!(opentrackio_poor_fits() > before, "a poor fit is counted");
    // The same numbers through the fit directly: its residual is what the camera shows.
    let fit = full.fit_two_term(960.0, [960.0, 540.0]).unwrap();
    assert!(
        (fit.max_residual_px - fitted_px).abs() < 0.05 * fitted_px,
        "{fit:?} {fitted_px}"
    );
    assert!(fit.max_residual_px > opentrackio::FIT_TOLERANCE_PX);
}

/// The engine's count of poor distortion fits.
fn opentrackio_poor_fits() -> u64 {
    yardline_engine::lens::poor_distortion_fits()
}
