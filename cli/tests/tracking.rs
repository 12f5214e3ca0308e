//! `yardline tracking decode` and `yardline tracking listen` on the real binary.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::net::UdpSocket;
use std::process::Command;
use std::time::Duration;

use yardline_engine::HeadAngles;
use yardline_engine::tracking::freed::FreedPacket;

fn packet() -> FreedPacket {
    FreedPacket::from_units(
        7,
        HeadAngles {
            pan_deg: -90.0,
            tilt_deg: 12.5,
            roll_deg: -0.25,
        },
        [1000.0, -2000.0, 3000.0],
        2048,
        100,
    )
    .unwrap()
}

#[test]
fn decode_prints_the_packet_as_json() {
    let out = Command::new(env!("CARGO_BIN_EXE_yardline"))
        .args(["tracking", "decode", &packet().to_hex()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["camera_id"], 7);
    assert_eq!(v["pan_deg"], -90.0);
    assert_eq!(v["tilt_deg"], 12.5);
    assert_eq!(v["roll_deg"], -0.25);
    assert_eq!(v["zoom"], 2048);
    assert_eq!(v["checksum_ok"], true);
    // A corrupted checksum byte decodes but says so.
    let mut hex = packet().to_hex();
    let last = if hex.ends_with('0') { "1" } else { "0" };
    hex.replace_range(56..58, &format!("{last}{last}"));
    let out = Command::new(env!("CARGO_BIN_EXE_yardline"))
        .args(["tracking", "decode", &hex])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["checksum_ok"], false);
    // Not a packet: usage error.
    let out = Command::new(env!("CARGO_BIN_EXE_yardline"))
        .args(["tracking", "decode", "zz12"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn listen_counts_packets_from_a_sender() {
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bind = format!("127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_yardline"))
        .args(["tracking", "listen", "--bind", &bind, "--seconds", "2.5"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    let bytes = packet().encode();
    for _ in 0..50 {
        sender.send_to(&bytes, &bind).unwrap();
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("listening for FreeD"), "{text}");
    assert!(text.contains("\"camera_id\":7"), "{text}");
}
