//! The fault-injection harness of the engine, driven through the element: FreeD over UDP
//! with loss, bursts, corrupt, short, duplicated, reordered and late packets, absurd and
//! non-finite readings and sudden jumps; frames of another size mid-stream; unreadable venue
//! and keying files set while playing. Every buffer must come out, in order, with its
//! timestamps, and each must be either untouched or carry the line where the truth has it.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use common::{TestSample, buffer, bytes, init, rgb, stats};
use gst::prelude::*;
use gst_check::Harness;
use yardline_engine::faults::{Delivery, FaultInjector, FaultKind, FaultMix, datagram};
use yardline_engine::venue::Venue;
use yardline_keying::KeyConfig;
use yardline_samples::Scorer;

/// Longest a test waits for the listener thread to take in a datagram sent on loopback.
const RECEIVE_WAIT: Duration = Duration::from_secs(10);
/// Largest RMS distance (px) of a drawn line's centre from the truth that counts as correct.
const TOLERANCE_PX: f64 = 3.0;

/// What one output frame turned out to be.
#[derive(Debug, PartialEq)]
enum Outcome {
    Untouched,
    Correct,
    Wrong(String),
}

/// Untouched, or drawn within [`TOLERANCE_PX`] of the truth (per-frame score).
fn classify(s: &TestSample, i: usize, input: &[u8], output_rgba: &[u8]) -> Outcome {
    if input == output_rgba {
        return Outcome::Untouched;
    }
    let f = &s.frames[i];
    let mut scorer = Scorer::new(&s.sample.scene()).unwrap();
    scorer
        .add_frame(&f.rgb, &rgb(output_rgba), &f.mask, &f.truth, None)
        .unwrap();
    let r = scorer.finish();
    match r.centre_error_px {
        Some(e) if e <= TOLERANCE_PX && r.leak < 0.05 => Outcome::Correct,
        Some(e) => Outcome::Wrong(format!("centre {e:.2} px, leak {:.3}", r.leak)),
        None => Outcome::Wrong(format!("modified, no line measured: {r:?}")),
    }
}

/// Sends `datagrams` (receive time, bytes), advancing the harness clock to each receive time,
/// and waits until the listener has counted them.
fn deliver(
    h: &mut Harness,
    element: &gst::Element,
    socket: &UdpSocket,
    to: SocketAddr,
    now: &mut u64,
    mut datagrams: Vec<(i64, Vec<u8>)>,
) {
    datagrams.sort_by_key(|d| d.0);
    let before = stats(element).get::<u64>("udp-packets").unwrap();
    for (k, (at, d)) in datagrams.iter().enumerate() {
        // A packet delivered after a newer one is stamped when it arrives.
        *now = (*now).max(u64::try_from(*at).unwrap());
        h.set_time(gst::ClockTime::from_nseconds(*now)).unwrap();
        socket.send_to(d, to).unwrap();
        let want = before + 1 + k as u64;
        let start = Instant::now();
        while stats(element).get::<u64>("udp-packets").unwrap() < want {
            assert!(start.elapsed() < RECEIVE_WAIT, "datagram not received");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

#[test]
fn every_frame_comes_out_on_its_timestamp_untouched_or_correct_under_every_fault() {
    init();
    let frames = 150;
    let full = TestSample::new(frames, 35.0);
    let half = TestSample::with_size(frames, 35.0, 320, 180);
    let element = full.element();
    element.set_property("tracking", "udp://127.0.0.1:0");
    let mut h = Harness::with_element(&element, Some("sink"), Some("src"));
    h.use_testclock();
    h.set_src_caps_str(&full.caps("RGBA"));
    let port = u16::try_from(stats(&element).get::<u32>("udp-port").unwrap()).unwrap();
    let to = SocketAddr::from(([127, 0, 0, 1], port));
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();

    // Every fault the element can meet from outside, each often (engine-only faults, a
    // forced device loss and an injected panic, are the engine soak's; a 2 s burst would leave
    // most of this short run to the hold).
    let kinds: Vec<FaultKind> = FaultKind::ALL
        .into_iter()
        .filter(|k| {
            !matches!(
                k,
                FaultKind::Burst | FaultKind::DeviceLoss | FaultKind::Panic
            )
        })
        .collect();
    let mut mix = FaultMix::only(&kinds);
    mix.dropout = 0.3;
    mix.resize = 0.03;
    mix.bad_key_update = 0.03;
    mix.bad_venue_update = 0.03;
    let period = full.period_ns();
    let mut injector = FaultInjector::new(mix, 7, period).unwrap();
    let delay = full.sample.config().tracking_delay_ns();
    let venue_text = std::fs::read_to_string(full.venue_path()).unwrap();
    let key_text = KeyConfig::default().to_toml_string().unwrap();
    let spoilt = full.tmp.path().join("spoilt.toml");

    let full_frames = full.rgba_frames();
    let half_frames = half.rgba_frames();
    let mut now = 0_u64;
    let mut small = false;
    let (mut untouched, mut correct, mut refused) = (0, 0, 0);
    let mut wrong = Vec::new();
    for i in 0..frames as usize {
        let clean = full
            .sample
            .freed_packet(i as u32)
            .unwrap()
            .map(|p| datagram(full.pts(i) + delay, &p.encode()))
            .into_iter()
            .collect();
        let datagrams = injector
            .tracking(i as u64, clean)
            .into_iter()
            .filter_map(|d| match d {
                Delivery::Datagram(d) => Some((d.pts_ns, d.bytes)),
                Delivery::Reading(..) => None,
            })
            .collect();
        deliver(&mut h, &element, &socket, to, &mut now, datagrams);

        let ff = injector.frame(i as u64);
        for (bad, good, property) in [
            (ff.bad_venue_update, &venue_text, "venue"),
            (ff.bad_key_update, &key_text, "keying"),
        ] {
            if !bad {
                continue;
            }
            let text = injector.spoil(good);
            let readable = match property {
                "venue" => Venue::from_toml_str(&text).is_ok(),
                _ => KeyConfig::from_toml_str(&text).is_ok(),
            };
            // Only a file the loader refuses is the fault under test; a spoilt text that
            // stays valid would be a real configuration change.
            if !readable {
                std::fs::write(&spoilt, text).unwrap();
                element.set_property(property, spoilt.to_str().unwrap());
                refused += 1;
            }
        }
        // Another size for this frame: new caps before it, the full size back after.
        let (s, input) = if ff.resize {
            (&half, &half_frames[i])
        } else {
            (&full, &full_frames[i])
        };
        if ff.resize != small {
            h.set_src_caps_str(&s.caps("RGBA"));
            small = ff.resize;
        }
        let pts = full.pts(i);
        h.push(buffer(input.clone(), pts, period)).unwrap();
        let out = h.pull().unwrap();
        assert_eq!(
            out.pts(),
            Some(gst::ClockTime::from_nseconds(pts as u64)),
            "frame {i} out of order"
        );
        assert_eq!(
            out.duration(),
            Some(gst::ClockTime::from_nseconds(period as u64))
        );
        match classify(s, i, input, &bytes(&out)) {
            Outcome::Untouched => untouched += 1,
            Outcome::Correct => correct += 1,
            Outcome::Wrong(why) => wrong.push(format!("frame {i}: {why}")),
        }
    }
    let st = stats(&element);
    let counts = injector.counts();
    eprintln!(
        "correct {correct} untouched {untouched} wrong {} refused updates {refused}; faults \
         {counts:?}; {st}",
        wrong.len()
    );
    assert!(wrong.is_empty(), "wrong frames: {wrong:#?}");
    assert_eq!(h.buffers_in_queue(), 0, "no extra buffers");
    assert_eq!(st.get::<u64>("frames").unwrap(), u64::from(frames));
    assert_eq!(st.get::<u64>("panics").unwrap(), 0);
    // The faults happened and the line still came through on most frames.
    for kind in ["dropout", "late", "jump", "resize", "corrupt"] {
        assert!(counts[kind] > 0, "no {kind} fault injected: {counts:?}");
    }
    assert!(refused > 0, "no unreadable update offered");
    assert!(
        correct >= frames as usize / 2,
        "only {correct} of {frames} frames drawn correctly: {st}"
    );
    assert!(st.get::<u64>("udp-malformed").unwrap() > 0);
}
