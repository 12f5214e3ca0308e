//! OpenTrackIO on the real binary: `tracking decode` of files, `tracking record` of a live
//! feed of both protocols, and a render of the built-in sample matched by timecode.

#![allow(
    clippy::unwrap_used,
    clippy::float_cmp,
    clippy::doc_markdown,
    reason = "test code: a failed unwrap is a failed test; decoded values are exact; names of products"
)]

mod common;

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{text, yardline};
use yardline_engine::HeadAngles;
use yardline_engine::tracking::freed::FreedPacket;
use yardline_engine::tracking::opentrackio::{
    self, ENCODING_CBOR, ENCODING_JSON, OpenTrackIoSample, encode_packets,
};
use yardline_engine::tracking::source::{load_jsonl, write_jsonl};
use yardline_engine::tracking::{Packet, Timecode, TrackingSample};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../engine/tests/fixtures/opentrackio")
        .join(name)
}

fn json_of(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", text(out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn decode_reads_opentrackio_json_cbor_and_packets_and_freed_hex() {
    let tmp = tempfile::tempdir().unwrap();
    let json_path = fixture("recommended_static.json");
    let v = json_of(&yardline(&[
        "tracking",
        "decode",
        json_path.to_str().unwrap(),
    ]));
    assert_eq!(v["protocol"], "opentrackio");
    assert_eq!(v["encoding"], "json");
    assert_eq!(
        v["sample_id"],
        "urn:uuid:582cbfff-b9c4-4978-8a5e-45bf519e4a89"
    );
    let r = &v["reading"];
    assert_eq!(r["camera_id"], 1);
    assert_eq!(r["pan_deg"], -180.0);
    assert_eq!(r["tilt_deg"], 90.0);
    assert_eq!(r["roll_deg"], 45.0);
    assert_eq!(r["x_mm"], 1000.0);
    assert_eq!(r["timecode"], "01:02:03:04");
    assert_eq!(r["lens"]["focal_length_mm"], 24.305);
    assert_eq!(r["lens"]["nodal_shift_m"], 0.123);

    // The same sample as CBOR, bare and inside a segmented packet file.
    let sample: OpenTrackIoSample =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let cbor = opentrackio::to_cbor(&sample);
    let cbor_path = tmp.path().join("sample.cbor");
    std::fs::write(&cbor_path, &cbor).unwrap();
    let c = json_of(&yardline(&[
        "tracking",
        "decode",
        cbor_path.to_str().unwrap(),
    ]));
    assert_eq!(
        (c["encoding"].clone(), c["reading"].clone()),
        ("cbor".into(), v["reading"].clone())
    );
    let packets: Vec<u8> = encode_packets(ENCODING_CBOR, 77, &cbor, 256).concat();
    let packet_path = tmp.path().join("sample.otrk");
    std::fs::write(&packet_path, &packets).unwrap();
    let p = json_of(&yardline(&[
        "tracking",
        "decode",
        packet_path.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(p["sequence"], 77);
    assert_eq!(p["reading"], v["reading"]);
    assert_eq!(p["sample"]["lens"]["pinholeFocalLength"], 24.305);
    assert_eq!(p["sample"]["transforms"][0]["id"], "Camera");
    // A packet given as hex.
    let hex = yardline_engine::tracking::freed::to_hex(
        &encode_packets(
            ENCODING_JSON,
            5,
            br#"{"sourceNumber":9,"transforms":[{"translation":{"x":0,"y":0,"z":0},"rotation":{"pan":1.5,"tilt":0,"roll":0}}]}"#,
            4000,
        )[0],
    );
    let h = json_of(&yardline(&["tracking", "decode", &hex]));
    assert_eq!(h["reading"]["camera_id"], 9);
    assert_eq!(h["reading"]["pan_deg"], -1.5);

    // A bad checksum is one clear error.
    let mut bad = packets.clone();
    bad[30] ^= 0x01;
    std::fs::write(&packet_path, &bad).unwrap();
    let out = yardline(&["tracking", "decode", packet_path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("checksum"),
        "{}",
        text(&out)
    );
    // A sample without a transform decodes and says why it gives no reading.
    let bare = tmp.path().join("bare.json");
    std::fs::write(&bare, r#"{"sourceNumber": 1}"#).unwrap();
    let b = json_of(&yardline(&["tracking", "decode", bare.to_str().unwrap()]));
    assert_eq!(b["reading"], serde_json::Value::Null);
    assert_eq!(b["error"], "OpenTrackIO sample has no transforms");
    // FreeD hex in a file still decodes as before.
    let freed = FreedPacket::from_units(
        3,
        HeadAngles {
            pan_deg: 10.0,
            tilt_deg: -2.0,
            roll_deg: 0.0,
        },
        [0.0; 3],
        100,
        0,
    )
    .unwrap();
    let hex_path = tmp.path().join("freed.hex");
    std::fs::write(&hex_path, format!("{}\n", freed.to_hex())).unwrap();
    let f = json_of(&yardline(&[
        "tracking",
        "decode",
        hex_path.to_str().unwrap(),
    ]));
    assert_eq!(
        (f["camera_id"].clone(), f["pan_deg"].clone()),
        (3.into(), 10.0.into())
    );
}

#[test]
fn record_writes_a_live_feed_of_both_protocols_as_tracking_jsonl() {
    let tmp = tempfile::tempdir().unwrap();
    let out_path = tmp.path().join("tracking.jsonl");
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bind = format!("127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_yardline"))
        .args([
            "tracking",
            "record",
            "--udp",
            &bind,
            "--out",
            out_path.to_str().unwrap(),
            "--seconds",
            "2.5",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    let sample: OpenTrackIoSample =
        serde_json::from_str(&std::fs::read_to_string(fixture("complete_dynamic.json")).unwrap())
            .unwrap();
    let mut sent = Vec::new();
    for i in 0..6_u16 {
        let mut s = sample.clone();
        s.transforms.as_mut().unwrap()[2].rotation.pan = f64::from(i);
        let payload = if i % 2 == 0 {
            serde_json::to_vec(&s).unwrap()
        } else {
            opentrackio::to_cbor(&s)
        };
        let enc = if i % 2 == 0 {
            ENCODING_JSON
        } else {
            ENCODING_CBOR
        };
        for d in encode_packets(enc, i, &payload, 500) {
            sender.send_to(&d, &bind).unwrap();
        }
        sent.push(Packet::opentrackio(s).unwrap());
        let f = FreedPacket {
            camera_id: 2,
            pan: i32::from(i) * 1000,
            ..FreedPacket::default()
        };
        sender.send_to(&f.encode(), &bind).unwrap();
        sent.push(Packet::Freed(f));
        // A corrupt packet of each kind is counted, not recorded.
        sender
            .send_to(&[0x4F, 0x54, 0x72, 0x6B, 0, 1, 0, 0], &bind)
            .unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("recorded 12 samples"), "{stdout}");
    assert!(stdout.contains("6 malformed"), "{stdout}");
    let log = load_jsonl(&out_path).unwrap();
    assert_eq!(log.stats.garbage_lines + log.stats.invalid_samples, 0);
    let got: Vec<Packet> = log.samples.iter().map(|s| s.packet.clone()).collect();
    assert_eq!(got, sent);
    // Receive times from the start of the recording, in order.
    assert!(log.samples.windows(2).all(|w| w[0].pts_ns <= w[1].pts_ns));
    assert!(log.samples[0].pts_ns > 0);
}

fn render(dir: &Path, tracking: &Path, out: &Path, timecode: Option<&str>) -> serde_json::Value {
    std::fs::create_dir_all(out).unwrap();
    let mut args = vec![
        "render".to_string(),
        "--input".into(),
        dir.join("video.mkv").to_str().unwrap().into(),
        "--venue".into(),
        dir.join("venue.toml").to_str().unwrap().into(),
        "--tracking".into(),
        tracking.to_str().unwrap().into(),
        "--output".into(),
        out.join("f_%03d.png").to_str().unwrap().into(),
        "--report".into(),
        out.join("report.jsonl").to_str().unwrap().into(),
        "--backend".into(),
        "cpu".into(),
        "--json".into(),
        "--quiet".into(),
    ];
    if let Some(t) = timecode {
        args.extend(["--timecode".into(), t.into()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    json_of(&yardline(&args))
}

fn frames(out: &Path) -> Vec<Vec<u8>> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    names.sort();
    names.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

fn cameras(out: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(out.join("report.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            serde_json::json!([v["rotation"], v["translation"], v["fx"]])
        })
        .collect()
}

#[test]
fn a_timecode_matched_render_of_the_sample_equals_the_arrival_matched_one() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sample");
    let d = dir.to_str().unwrap();
    let out = yardline(&[
        "sample", "--out", d, "--frames", "8", "--size", "640x360", "--quiet",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let start = Timecode::parse("01:00:00;00", (60000, 1001)).unwrap();

    let arrival = tmp.path().join("arrival");
    let a = render(&dir, &dir.join("tracking.jsonl"), &arrival, None);
    assert_eq!(a["tracking_matches"]["arrival"], 8, "{a}");

    // The same head states over OpenTrackIO, matched by timecode: the venue's delay (two
    // frames) is the labels' distance, as it is the arrival times'.
    let otio = tmp.path().join("otio.jsonl");
    yardline_e2e::freed_as_opentrackio(&dir.join("tracking.jsonl"), &otio, &start, 0);
    let by_tc = tmp.path().join("timecode");
    let t = render(&dir, &otio, &by_tc, Some("01:00:00;00"));
    assert_eq!(t["tracking_matches"]["timecode"], 8, "{t}");
    assert_eq!(t["drawn_frames"], 8, "{t}");
    assert_eq!(frames(&by_tc), frames(&arrival));
    assert_eq!(cameras(&by_tc), cameras(&arrival));
    let first: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(by_tc.join("report.jsonl"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(first["tracking_match"], "timecode");

    // Labels one frame off: the match by timecode picks other samples, and the cameras move.
    let shifted = tmp.path().join("shifted.jsonl");
    yardline_e2e::freed_as_opentrackio(&dir.join("tracking.jsonl"), &shifted, &start, 1);
    let off = tmp.path().join("off");
    let o = render(&dir, &shifted, &off, Some("01:00:00;00"));
    assert!(
        o["tracking_matches"]["timecode"].as_u64().unwrap() >= 6,
        "{o}"
    );
    assert_ne!(cameras(&off), cameras(&arrival));
}

#[test]
fn listen_refuses_a_reserved_source_number_and_a_unicast_group() {
    for args in [
        ["--source-number", "0"],
        ["--source-number", "201"],
        ["--multicast", "10.0.0.1"],
    ] {
        let mut all = vec!["tracking", "listen", "--seconds", "1"];
        all.extend(args);
        let out = yardline(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
    }
}

/// Reads report.jsonl's camera numbers per frame.
fn camera_numbers(out: &Path) -> Vec<Vec<f64>> {
    std::fs::read_to_string(out.join("report.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let mut n: Vec<f64> = Vec::new();
            for k in ["rotation", "translation"] {
                n.extend(v[k].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()));
            }
            for k in ["fx", "fy", "cx", "cy", "k1", "k2"] {
                n.push(v[k].as_f64().unwrap());
            }
            n
        })
        .collect()
}

#[test]
fn the_samples_lens_replaces_a_missing_lens_table() {
    use yardline_engine::lens::LensTable;
    use yardline_engine::venue::Venue;

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sample");
    let d = dir.to_str().unwrap();
    let out = yardline(&[
        "sample", "--out", d, "--frames", "6", "--size", "640x360", "--quiet",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let venue = Venue::load(&dir.join("venue.toml")).unwrap();
    let table = venue.cameras[0].lens.clone();
    let (w, h) = (640_u32, 360_u32);
    let sensor_mm = 9.6;
    let px_per_mm = f64::from(w) / sensor_mm;

    // The lens table's state at each packet's zoom, sent as OpenTrackIO lens data.
    let log = load_jsonl(&dir.join("tracking.jsonl")).unwrap();
    let samples: Vec<TrackingSample> = log
        .samples
        .iter()
        .map(|s| {
            let f = s.packet.freed().unwrap();
            let lens = table.at(f64::from(f.zoom), w, h).unwrap();
            let k = lens.intrinsics;
            let focal_mm = k.fx / px_per_mm;
            let json = serde_json::json!({
                "sourceNumber": f.camera_id,
                "lens": {
                    "pinholeFocalLength": focal_mm,
                    "entrancePupilOffset": lens.nodal_shift_m,
                    "projectionOffset": {"x": (k.cx - 319.5) / px_per_mm,
                                         "y": (k.cy - 179.5) / px_per_mm},
                    "distortion": [{"model": "Brown-Conrady U-D",
                                    "radial": [k.k1 / focal_mm.powi(2), k.k2 / focal_mm.powi(4)]}],
                },
                "transforms": [{"translation": {"x": 0.0, "y": 0.0, "z": 0.0},
                    "rotation": {"pan": -f.pan_deg(), "tilt": f.tilt_deg(), "roll": f.roll_deg()}}],
            });
            let sample: OpenTrackIoSample = serde_json::from_value(json).unwrap();
            TrackingSample {
                pts_ns: s.pts_ns,
                packet: Packet::opentrackio(sample).unwrap(),
            }
        })
        .collect();
    let otio = tmp.path().join("otio.jsonl");
    write_jsonl(std::fs::File::create(&otio).unwrap(), &samples).unwrap();
    let mut no_table = venue.clone();
    no_table.cameras[0].lens =
        LensTable::from_tracking(w, h, *table.zoom_profile(), sensor_mm).unwrap();
    let venue2 = tmp.path().join("venue_no_table.toml");
    no_table.save(&venue2).unwrap();
    assert!(
        !std::fs::read_to_string(&venue2).unwrap().contains("points"),
        "the venue has no lens table"
    );

    let with_table = tmp.path().join("table");
    render(&dir, &dir.join("tracking.jsonl"), &with_table, None);
    let from_samples = tmp.path().join("samples");
    std::fs::create_dir_all(&from_samples).unwrap();
    let args: Vec<String> = [
        "render",
        "--input",
        dir.join("video.mkv").to_str().unwrap(),
        "--venue",
        venue2.to_str().unwrap(),
        "--tracking",
        otio.to_str().unwrap(),
        "--output",
        from_samples.join("f_%03d.png").to_str().unwrap(),
        "--report",
        from_samples.join("report.jsonl").to_str().unwrap(),
        "--backend",
        "cpu",
        "--json",
        "--quiet",
    ]
    .map(String::from)
    .to_vec();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let s = json_of(&yardline(&args));
    assert_eq!(s["drawn_frames"], 6, "{s}");
    let (a, b) = (camera_numbers(&with_table), camera_numbers(&from_samples));
    assert_eq!(a.len(), 6);
    for (fa, fb) in a.iter().zip(&b) {
        for (x, y) in fa.iter().zip(fb) {
            assert!((x - y).abs() <= 1e-6 * x.abs().max(1.0), "{fa:?}\n{fb:?}");
        }
    }
}
