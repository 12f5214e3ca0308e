//! Live FreeD over UDP on 127.0.0.1: a sender at the frame rate against a playing pipeline,
//! and malformed datagrams mixed into the stream.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use common::{TestSample, buffer, bytes, differing, init, rgb, stats};
use gst::prelude::*;
use gst_check::Harness;

/// Longest a test waits for the listener thread to take in a datagram sent on loopback.
const RECEIVE_WAIT: Duration = Duration::from_secs(10);

fn udp_port(element: &gst::Element) -> u16 {
    let port = stats(element).get::<u32>("udp-port").unwrap();
    u16::try_from(port).unwrap()
}

/// The sample's FreeD packet for frame `i`, if it was not lost on the way.
fn packet(s: &TestSample, i: usize) -> Option<[u8; 29]> {
    s.sample.freed_packet(i as u32).unwrap().map(|p| p.encode())
}

#[test]
fn udp_tracking_at_the_frame_rate_lands_the_line_within_half_a_pixel() {
    init();
    let s = TestSample::new(30, 35.0);
    let element = s.element();
    element.set_property("tracking", "udp://127.0.0.1:0");
    let pipeline = gst::Pipeline::new();
    let src = gst_app::AppSrc::builder()
        .caps(&s.caps("RGBA").parse::<gst::Caps>().unwrap())
        .format(gst::Format::Time)
        .max_bytes(0)
        .build();
    let sink = gst_app::AppSink::builder().sync(false).build();
    sink.set_async(false);
    pipeline
        .add_many([src.upcast_ref(), &element, sink.upcast_ref()])
        .unwrap();
    gst::Element::link_many([src.upcast_ref(), &element, sink.upcast_ref()]).unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let (change, state, _) = pipeline.state(gst::ClockTime::from_seconds(10));
    change.unwrap();
    assert_eq!(state, gst::State::Playing);

    // A genlocked head: packet i leaves when the running time reaches frame i's pts plus the
    // tracking delay.
    let to = SocketAddr::from(([127, 0, 0, 1], udp_port(&element)));
    let clock = pipeline.clock().unwrap();
    let base = pipeline.base_time().unwrap();
    let delay = s.sample.config().tracking_delay_ns();
    let schedule: Vec<(i64, Option<[u8; 29]>)> = (0..s.frames.len())
        .map(|i| (s.pts(i) + delay, packet(&s, i)))
        .collect();
    let sender = std::thread::spawn(move || {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        for (at, p) in schedule {
            let id = clock.new_single_shot_id(base + gst::ClockTime::from_nseconds(at as u64));
            // Already past (the test thread was descheduled): send at once.
            match id.wait().0 {
                Ok(_) | Err(gst::ClockError::Early) => {}
                Err(e) => panic!("clock wait failed: {e:?}"),
            }
            if let Some(p) = p {
                socket.send_to(&p, to).unwrap();
            }
        }
    });

    for (i, f) in s.rgba_frames().into_iter().enumerate() {
        src.push_buffer(buffer(f, s.pts(i), s.period_ns())).unwrap();
    }
    src.end_of_stream().unwrap();
    let mut outputs = Vec::new();
    while let Some(sample) = sink.try_pull_sample(gst::ClockTime::from_seconds(30)) {
        outputs.push(rgb(&bytes(&sample.buffer_owned().unwrap())));
    }
    sender.join().unwrap();
    let st = stats(&element);
    pipeline.set_state(gst::State::Null).unwrap();

    assert_eq!(outputs.len(), s.frames.len());
    let drawn = st.get::<u64>("drawn").unwrap();
    assert!(
        drawn + 2 >= s.frames.len() as u64,
        "only {drawn} frames drawn: {st}"
    );
    let score = s.score(&outputs);
    let centre = score.centre_error_px.unwrap();
    assert!(centre <= 0.5, "centre error {centre} px: {score:?} {st}");
    // The recorded-tracking render of the same frames (what `yardline render` draws) sets
    // the bar for coverage: live tracking must not lose paint against it beyond what the
    // automatic key palette (built from the first frame's slightly different pose) moves.
    let reference: Vec<Vec<u8>> = s
        .reference(&s.rgba_frames(), None)
        .iter()
        .map(|f| rgb(f))
        .collect();
    let ref_score = s.score(&reference);
    assert!(
        score.iou >= ref_score.iou - 0.05,
        "IoU {} vs {} with recorded tracking: {score:?}",
        score.iou,
        ref_score.iou
    );
    assert!(st.get::<u64>("udp-accepted").unwrap() > 0);
}

/// Sends `datagrams` to the element and waits until its listener has counted them all.
fn send_and_wait(
    element: &gst::Element,
    socket: &UdpSocket,
    to: SocketAddr,
    datagrams: &[Vec<u8>],
) {
    let before = stats(element).get::<u64>("udp-packets").unwrap();
    for d in datagrams {
        socket.send_to(d, to).unwrap();
    }
    let want = before + datagrams.len() as u64;
    let start = Instant::now();
    while stats(element).get::<u64>("udp-packets").unwrap() < want {
        assert!(start.elapsed() < RECEIVE_WAIT, "datagrams not received");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Runs the sample through the element on the harness clock; `garbage` adds malformed
/// datagrams around every packet.
fn run_udp(s: &TestSample, garbage: bool) -> (Vec<Vec<u8>>, gst::Structure) {
    let element = s.element();
    element.set_property("tracking", "udp://127.0.0.1:0");
    let mut h = Harness::with_element(&element, Some("sink"), Some("src"));
    h.use_testclock();
    h.set_src_caps_str(&s.caps("RGBA"));
    let to = SocketAddr::from(([127, 0, 0, 1], udp_port(&element)));
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let delay = s.sample.config().tracking_delay_ns();
    let frames = s.rgba_frames();
    let mut out = Vec::new();
    for (i, f) in frames.into_iter().enumerate() {
        // The packet arrives at the frame's pts plus the delay on the element's clock.
        h.set_time(gst::ClockTime::from_nseconds((s.pts(i) + delay) as u64))
            .unwrap();
        let mut datagrams = Vec::new();
        let good = packet(s, i);
        if garbage {
            let mut bad_sum = good.unwrap_or([0xD1; 29]);
            bad_sum[5] ^= 0x40;
            let mut wrong_type = good.unwrap_or([0; 29]);
            wrong_type[0] = 0xD2;
            datagrams.extend([
                bad_sum.to_vec(),
                wrong_type.to_vec(),
                vec![0xD1; 10],
                vec![0xD1; 200],
                (0..29_u8)
                    .map(|k| k.wrapping_mul(37).wrapping_add(i as u8))
                    .collect(),
            ]);
        }
        if let Some(p) = good {
            datagrams.push(p.to_vec());
        }
        if garbage {
            datagrams.push(vec![0xFF; 29]);
        }
        send_and_wait(&element, &socket, to, &datagrams);
        h.push(buffer(f, s.pts(i), s.period_ns())).unwrap();
        out.push(bytes(&h.pull().unwrap()));
    }
    (out, stats(&element))
}

#[test]
fn malformed_udp_packets_do_not_disturb_frames() {
    init();
    let s = TestSample::new(12, 35.0);
    let (clean, clean_stats) = run_udp(&s, false);
    let (noisy, noisy_stats) = run_udp(&s, true);
    let inputs = s.rgba_frames();
    for i in 0..inputs.len() {
        assert!(
            differing(&clean[i], &inputs[i]) > 500,
            "frame {i} not drawn"
        );
        assert_eq!(differing(&noisy[i], &clean[i]), 0, "frame {i} disturbed");
    }
    let accepted = clean_stats.get::<u64>("udp-accepted").unwrap();
    assert_eq!(noisy_stats.get::<u64>("udp-accepted").unwrap(), accepted);
    assert_eq!(clean_stats.get::<u64>("udp-malformed").unwrap(), 0);
    let frames = inputs.len() as u64;
    assert!(noisy_stats.get::<u64>("udp-checksum-failures").unwrap() >= frames);
    assert!(noisy_stats.get::<u64>("udp-malformed").unwrap() >= 2 * frames);
    assert!(noisy_stats.get::<u64>("udp-oversize").unwrap() >= frames);
    assert_eq!(noisy_stats.get::<u64>("faults").unwrap(), 0);
}
