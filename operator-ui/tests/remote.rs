//! The remote mode driven through its widgets (`egui_kittest`) against ten live `yardline`
//! elements in this process (appsrc paced at 59.94 fps, control servers on loopback): every
//! camera's health and thumbnail show, one "first down at" moves the line in every output,
//! the tally follows a manual toggle and TSL UMD v3.1 over UDP, and a camera that goes away
//! comes back by itself with its last settings.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use gst::prelude::*;
use yardline_engine::tracking::TrackingFeed;
use yardline_engine::venue::Venue;
use yardline_engine::{BackendChoice, Engine, EngineConfig};
use yardline_frame::{FrameLayout, FrameMut, PixelFormat};
use yardline_operator::remote::{EngineEntry, RemoteApp, TslListener, tally_map};
use yardline_samples::{Sample, SampleConfig};

mod common;
use common::{step_until, type_into};

const CAMERAS: usize = 10;
const FRAMES: u32 = 360;

struct Camera {
    pipeline: gst::Pipeline,
    element: gst::Element,
    outputs: Arc<Mutex<Vec<Vec<u8>>>>,
    addr: String,
}

fn camera(dir: &std::path::Path, c: &SampleConfig, token: &str) -> (Camera, gst_app::AppSrc) {
    let caps = format!(
        "video/x-raw,format=RGBA,width={},height={},framerate={}/{}",
        c.width, c.height, c.fps_num, c.fps_den
    );
    let tracking = gst::glib::filename_to_uri(dir.join("tracking.jsonl"), None).unwrap();
    // A fixed free port, so that the camera comes back on the same address after a restart.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let pipeline = gst::parse::launch(&format!(
        "appsrc name=src is-live=true format=time caps=\"{caps}\" ! yardline name=y \
         venue=\"{}\" tracking=\"{tracking}\" first-down=35 line-width={} backend=cpu budget=-1 \
         control=127.0.0.1:{port} control-token={token} ! appsink name=sink sync=false",
        dir.join("venue.toml").display(),
        c.line_width_m,
    ))
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let src = pipeline
        .by_name("src")
        .unwrap()
        .downcast::<gst_app::AppSrc>()
        .unwrap();
    let sink = pipeline
        .by_name("sink")
        .unwrap()
        .downcast::<gst_app::AppSink>()
        .unwrap();
    let outputs: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let out = Arc::clone(&outputs);
    sink.set_callbacks(
        gst_app::AppSinkCallbacks::builder()
            .new_sample(move |sink| {
                let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                let buffer = sample.buffer().ok_or(gst::FlowError::Error)?;
                let map = buffer.map_readable().map_err(|_| gst::FlowError::Error)?;
                out.lock().unwrap().push(map.to_vec());
                Ok(gst::FlowSuccess::Ok)
            })
            .build(),
    );
    pipeline.set_state(gst::State::Playing).unwrap();
    let element = pipeline.by_name("y").unwrap();
    let cam = Camera {
        pipeline,
        element,
        outputs,
        addr: format!("127.0.0.1:{port}"),
    };
    (cam, src)
}

/// The frames the CLI render of the sample draws with the first down at `yard`.
fn reference(
    dir: &std::path::Path,
    frames: &[Vec<u8>],
    c: &SampleConfig,
    yard: f64,
) -> Vec<Vec<u8>> {
    let venue = Venue::load(&dir.join("venue.toml")).unwrap();
    let mut config = EngineConfig {
        backend: BackendChoice::Cpu,
        ..EngineConfig::default()
    };
    config.first_down.yard = yard;
    config.first_down.width_m = c.line_width_m;
    config.frame_period_ns = (1e9 * f64::from(c.fps_den) / f64::from(c.fps_num)).round() as i64;
    let mut engine = Engine::new(config, Some(&venue), None).unwrap();
    let mut feed = TrackingFeed::open_file(&dir.join("tracking.jsonl")).unwrap();
    let layout = FrameLayout::packed(PixelFormat::Rgba, c.width, c.height).unwrap();
    frames
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let pts = c.pts_ns(i as u32);
            engine.take_tracking(&mut feed, pts, false);
            let mut data = f.clone();
            let mut fm = FrameMut::new(&layout, &mut data).unwrap();
            engine.process(&mut fm, pts);
            data
        })
        .collect()
}

fn differing(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).filter(|(x, y)| x != y).count()
}

#[test]
#[allow(clippy::too_many_lines, reason = "one session, step by step")]
fn the_remote_mode_drives_every_camera() {
    gst::init().unwrap();
    gstyardline::plugin_register_static().unwrap();
    let cfg = SampleConfig {
        frames: FRAMES,
        width: 320,
        height: 180,
        first_down_yard: 35.0,
        ..SampleConfig::default()
    };
    let sample = Sample::new(cfg).unwrap();
    let c = sample.config().clone();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sample");
    sample.write_metadata(&dir).unwrap();
    let frames: Vec<Vec<u8>> = (0..FRAMES)
        .map(|i| {
            let f = sample.render_frame(i).unwrap();
            f.rgb
                .chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect()
        })
        .collect();
    let at35 = reference(&dir, &frames, &c, 35.0);
    let at45 = reference(&dir, &frames, &c, 45.0);

    let (cameras, srcs): (Vec<Camera>, Vec<gst_app::AppSrc>) = (0..CAMERAS)
        .map(|k| camera(&dir, &c, &format!("token-{k}")))
        .unzip();
    let period = Duration::from_nanos(16_683_333);
    let started = Instant::now();
    let feeders: Vec<_> = srcs
        .into_iter()
        .map(|src| {
            let frames = frames.clone();
            let c = c.clone();
            std::thread::spawn(move || {
                for (i, f) in frames.into_iter().enumerate() {
                    let due = started + period * i as u32;
                    std::thread::sleep(due.saturating_duration_since(Instant::now()));
                    let mut b = gst::Buffer::from_mut_slice(f);
                    b.get_mut()
                        .unwrap()
                        .set_pts(gst::ClockTime::from_nseconds(c.pts_ns(i as u32) as u64));
                    src.push_buffer(b).unwrap();
                }
                src.end_of_stream().unwrap();
            })
        })
        .collect();

    let list: Vec<EngineEntry> = cameras
        .iter()
        .enumerate()
        .map(|(k, cam)| EngineEntry {
            name: format!("CAM {}", k + 1),
            addr: cam.addr.clone(),
            token: Some(format!("token-{k}")),
            tally_address: None,
        })
        .collect();
    let tally = tally_map();
    let listener = TslListener::start("127.0.0.1:0".parse().unwrap(), Arc::clone(&tally)).unwrap();
    let tsl_addr = listener.local_addr();
    let mut h = Harness::builder()
        .with_size([1280.0, 800.0])
        .with_max_steps(10_000)
        .build_eframe(move |_cc| RemoteApp::new(list, Some(listener), tally));

    step_until(&mut h, "every camera's health and thumbnail", |a| {
        a.fleet().engines.iter().all(|r| {
            let v = r.view();
            v.connected && v.picture.is_some() && v.status.as_ref().is_some_and(|s| s.frames > 0)
        })
    });
    for k in 1..=CAMERAS {
        h.get_by_label(&format!("On air: CAM {k}"));
    }
    assert!(
        h.query_all_by_label("ok").next().is_some(),
        "a healthy camera shows ok"
    );

    // One first down for every camera.
    type_into(&mut h, "First down at", "45");
    h.get_by_label("Send to all cameras").click();
    step_until(&mut h, "every engine at 45", |a| {
        a.fleet().engines.iter().all(|r| {
            r.view()
                .status
                .is_some_and(|s| s.settings["first-down"] == serde_json::json!(45.0))
        })
    });
    assert!((h.state().first_down() - 45.0).abs() < 1e-9);
    for cam in &cameras {
        assert!((cam.element.property::<f64>("first-down") - 45.0).abs() < 1e-9);
    }

    // Tally: a manual toggle, then TSL UMD v3.1 for display address 2 (CAM 3).
    h.get_by_label("On air: CAM 2").click();
    h.step();
    assert!(h.state().on_air(1));
    assert!(!h.state().on_air(0));
    let mut msg = [b' '; 18];
    msg[0] = 0x80 + 2;
    msg[1] = 0b0011_0001;
    msg[2..7].copy_from_slice(b"CAM 3");
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.send_to(&msg, tsl_addr).unwrap();
    step_until(&mut h, "CAM 3 on air by TSL", |a| a.on_air(2));

    // CAM 1 goes away and comes back on the same address: the app reconnects by itself, and
    // the engine kept its settings while nobody was connected.
    for f in feeders {
        f.join().unwrap();
    }
    for cam in &cameras {
        let bus = cam.pipeline.bus().unwrap();
        let msg = bus.timed_pop_filtered(
            gst::ClockTime::from_seconds(60),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        );
        assert_eq!(msg.map(|m| m.type_()), Some(gst::MessageType::Eos));
    }
    for (k, cam) in cameras.iter().enumerate() {
        let out = cam.outputs.lock().unwrap();
        assert_eq!(out.len(), frames.len(), "camera {k}: every frame came out");
        let first45 = (0..out.len())
            .find(|&i| differing(&out[i], &at45[i]) == 0 && differing(&out[i], &at35[i]) > 0)
            .unwrap_or_else(|| panic!("camera {k}: no frame at 45"));
        for i in 0..first45 {
            assert_eq!(differing(&out[i], &at35[i]), 0, "camera {k} frame {i}");
        }
        for i in first45..out.len() {
            assert_eq!(differing(&out[i], &at45[i]), 0, "camera {k} frame {i}");
        }
    }
    cameras[0].pipeline.set_state(gst::State::Null).unwrap();
    step_until(&mut h, "CAM 1 offline", |a| {
        !a.fleet().engines[0].view().connected
    });
    assert!(h.query_all_by_label_contains("offline").next().is_some());
    cameras[0].pipeline.set_state(gst::State::Paused).unwrap();
    step_until(&mut h, "CAM 1 back", |a| {
        a.fleet().engines[0].view().connected
    });
    assert!((cameras[0].element.property::<f64>("first-down") - 45.0).abs() < 1e-9);
    for cam in &cameras {
        cam.pipeline.set_state(gst::State::Null).unwrap();
    }
}

#[test]
fn a_change_never_waits_behind_a_capture_the_engine_cannot_make() {
    gst::init().unwrap();
    gstyardline::plugin_register_static().unwrap();
    let cfg = SampleConfig {
        frames: 2,
        width: 320,
        height: 180,
        ..SampleConfig::default()
    };
    let sample = Sample::new(cfg).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sample");
    sample.write_metadata(&dir).unwrap();
    // A playing engine that has had no frame yet: a thumbnail or still request waits for one
    // (up to the server's preview wait), a change is answered at once.
    let (cam, _src) = camera(&dir, sample.config(), "token");
    let remote = yardline_operator::remote::Remote::start(EngineEntry {
        name: "CAM 1".into(),
        addr: cam.addr.clone(),
        token: Some("token".into()),
        tally_address: None,
    });
    let until = |what: &str, done: &dyn Fn(&yardline_operator::remote::EngineView) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let v = remote.view();
            if done(&v) {
                return v;
            }
            assert!(Instant::now() < deadline, "never: {what}: {v:?}");
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    until("connected", &|v| v.connected);
    remote.request_still().unwrap();
    remote
        .send(yardline_control::Change::FirstDown(45.0))
        .unwrap();
    let answered = until("the change answered", &|v| v.last_set.is_some());
    assert_eq!(
        answered.last_set.unwrap().reply,
        Ok("45.0".to_owned()),
        "the change was refused"
    );
    assert_eq!(
        answered.still_answers, 0,
        "the change waited for the still request before it"
    );
    assert!((cam.element.property::<f64>("first-down") - 45.0).abs() < 1e-9);
    // The still request is answered in its turn: no frame to capture.
    let v = until("the still answered", &|v| v.still_answers == 1);
    assert!(
        v.still_error
            .as_deref()
            .is_some_and(|e| e.contains("not playing")),
        "{:?}",
        v.still_error
    );
    cam.pipeline.set_state(gst::State::Null).unwrap();
}
