//! The remote mode re-registers a camera on its engine (`egui_kittest` against a live
//! `yardline` element in this process: appsrc paced at 59.94 fps with a generated static-camera
//! sample, no tracking, so the engine can only track by vision from a registration): the card's
//! "Re-register" fetches the engine's full-size still, the operator clicks the sample's
//! landmarks (the clicks `clicks.json` holds) on it, solves, sends; the engine answers, applies
//! the registration and draws the line by vision from then on: its status says so and its
//! program thumbnail turns yellow where the generator's camera puts the line. An engine that
//! does not answer says so on the status line.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use gst::prelude::*;
use yardline_control::Health;
use yardline_control::Status;
use yardline_engine::field::{FieldKind, FieldModel};
use yardline_operator::remote::fleet::Picture;
use yardline_operator::remote::{EngineEntry, RemoteApp, tally_map};
use yardline_samples::{Sample, SampleConfig, Scenario};

mod common;
use common::{click_at, step_until, type_into};

const TOKEN: &str = "reg-token";
/// Yellowness ([`line_yellowness`]) over which a thumbnail pixel shows the line.
const YELLOW: f64 = 50.0;
/// Frames of the sample, played in a loop.
const FRAMES: u32 = 12;

fn status(app: &RemoteApp) -> Option<Status> {
    app.fleet().engines[0].view().status
}

fn picture(app: &RemoteApp) -> Option<Arc<Picture>> {
    app.fleet().engines[0].view().picture
}

/// How yellow (the line's colour) each point of the first-down line is (every metre from
/// sideline to sideline, where the generator's static camera puts it) in the engine's program
/// thumbnail: the mean of red and green above blue (grass and white paint stay low).
fn line_yellowness(sample: &Sample, p: &Picture) -> Vec<f64> {
    let c = sample.config();
    let x = (sample.scene().first_down_yard - 50.0) * 0.9144;
    (-24..=24)
        .filter_map(|ym| sample.project(0, [x, f64::from(ym), 0.0]).unwrap())
        .filter_map(|[u, v]| {
            // The thumbnail samples the nearest pixel centre.
            let tu = ((u + 0.5) * p.width as f64 / f64::from(c.width) - 0.5).round();
            let tv = ((v + 0.5) * p.height as f64 / f64::from(c.height) - 0.5).round();
            let inside = tu >= 0.0 && tv >= 0.0 && tu < p.width as f64 && tv < p.height as f64;
            inside.then(|| {
                let i = 3 * (tv as usize * p.width + tu as usize);
                let [r, g, b] = [p.rgb[i], p.rgb[i + 1], p.rgb[i + 2]].map(f64::from);
                0.5 * (r + g) - b
            })
        })
        .collect()
}

#[test]
#[allow(clippy::too_many_lines, reason = "one live session, step by step")]
fn a_remote_camera_is_re_registered_on_its_still() {
    gst::init().unwrap();
    gstyardline::plugin_register_static().unwrap();
    let sample = Sample::new(SampleConfig {
        seed: 7,
        frames: FRAMES,
        width: 640,
        height: 360,
        scenario: Scenario::Static,
        ..SampleConfig::default()
    })
    .unwrap();
    let c = sample.config().clone();
    let scene = sample.scene();
    let tmp = tempfile::tempdir().unwrap();
    sample.write_metadata(tmp.path()).unwrap();
    let frames: Vec<Vec<u8>> = (0..FRAMES)
        .map(|i| {
            let f = sample.render_frame(i).unwrap();
            f.rgb
                .chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect()
        })
        .collect();
    let caps = format!(
        "video/x-raw,format=RGBA,width={},height={},framerate={}/{}",
        c.width, c.height, c.fps_num, c.fps_den
    );
    // No tracking: without a registration the engine has no camera and draws nothing.
    let pipeline = gst::parse::launch(&format!(
        "appsrc name=src is-live=true format=time caps=\"{caps}\" ! \
         yardline venue=\"{}\" field={} first-down={} line-width={} backend=cpu budget=-1 \
         control=127.0.0.1:0 control-token={TOKEN} name=y ! fakesink sync=false",
        tmp.path().join("venue.toml").display(),
        scene.field,
        scene.first_down_yard,
        scene.line_width_m,
    ))
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let src = pipeline
        .by_name("src")
        .unwrap()
        .downcast::<gst_app::AppSrc>()
        .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let addr = pipeline
        .by_name("y")
        .unwrap()
        .property::<Option<String>>("control-address")
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let feeder = {
        let stop = Arc::clone(&stop);
        let period = Duration::from_nanos(c.pts_ns(1).unsigned_abs());
        std::thread::spawn(move || {
            let started = Instant::now();
            let mut n = 0_u32;
            while !stop.load(Ordering::Acquire) {
                let due = started + period * n;
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
                let mut b = gst::Buffer::from_slice(frames[(n % FRAMES) as usize].clone());
                let bm = b.get_mut().unwrap();
                bm.set_pts(gst::ClockTime::from_nseconds(
                    n as u64 * period.as_nanos() as u64,
                ));
                bm.set_duration(gst::ClockTime::from_nseconds(period.as_nanos() as u64));
                if src.push_buffer(b).is_err() {
                    break;
                }
                n += 1;
            }
        })
    };
    // A second camera whose engine is not there: nothing listens on its port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let list = vec![
        EngineEntry {
            name: "CAM 1".into(),
            addr: addr.clone(),
            token: Some(TOKEN.into()),
            tally_address: None,
        },
        EngineEntry {
            name: "CAM 2".into(),
            addr: format!("127.0.0.1:{closed_port}"),
            token: None,
            tally_address: None,
        },
    ];
    let mut h = Harness::builder()
        .with_size([1400.0, 950.0])
        .with_max_steps(10_000)
        .build_eframe(move |_cc| RemoteApp::new(list, None, tally_map()));
    step_until(&mut h, "the camera playing", |a| {
        status(a).is_some_and(|s| s.frames > 10) && picture(a).is_some()
    });
    let unregistered = picture(h.state()).unwrap();
    let before = status(h.state()).unwrap();
    assert_eq!(before.registrations, 0);
    assert_eq!(before.drawn, 0, "a line drawn without a camera");
    assert_eq!(before.health, Health::NoPose);

    // The camera that does not answer: no still, and the status line says why.
    h.get_by_label("Re-register: CAM 2").click();
    step_until(&mut h, "CAM 2's still refused", |a| {
        a.message().is_some_and(|m| m.starts_with("CAM 2: still:"))
    });
    assert!(h.state().registration().is_none());

    h.get_by_label("Re-register: CAM 1").click();
    step_until(&mut h, "CAM 1's still", |a| a.registration().is_some());
    assert_eq!(
        h.state().registration().unwrap().still_size(),
        (c.width, c.height)
    );
    // The window opens on the engine's own field.
    assert_eq!(status(h.state()).unwrap().field.as_deref(), Some("nfl"));
    assert_eq!(h.state().registration().unwrap().field(), FieldKind::Nfl);
    // Nothing to send before a solve: the button does nothing.
    h.get_by_label("Send registration: CAM 1").click();
    h.step();
    assert!(
        h.state()
            .message()
            .is_some_and(|m| m.starts_with("CAM 1: still 640x360")),
        "{:?}",
        h.state().message()
    );

    // The clicks an operator makes on frame 0 (`clicks.json`), on the still: the camera is
    // static, so every frame shows them where frame 0 does.
    let field = FieldModel::new(FieldKind::Nfl);
    let mut clicked = 0;
    for click in sample.clicks().unwrap() {
        let Some(lm) = field
            .landmarks
            .iter()
            .find(|l| (0..3).all(|k| (l.position[k] - click.field[k]).abs() < 1e-6))
        else {
            continue;
        };
        type_into(&mut h, "Landmark filter", &lm.name);
        h.get_by_label(&lm.name).click();
        h.step();
        let pos = h
            .state()
            .registration()
            .unwrap()
            .still_to_screen(click.image)
            .unwrap();
        click_at(&mut h, pos, egui::Modifiers::NONE);
        clicked += 1;
    }
    assert!(clicked >= 6, "{clicked} landmarks clicked");
    assert_eq!(
        h.state().registration().unwrap().wizard().points().len(),
        clicked
    );
    h.get_by_label("Solve").click();
    h.step();
    let solution = h
        .state()
        .registration()
        .unwrap()
        .wizard()
        .solution()
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "not solved: {:?}",
                h.state().registration().unwrap().wizard().message()
            )
        });
    assert!(solution.rms_px < 2.0, "RMS {} px", solution.rms_px);

    h.get_by_label("Send registration: CAM 1").click();
    step_until(&mut h, "the engine's answer", |a| {
        a.registration().unwrap().answer().is_some()
    });
    assert!(
        matches!(h.state().registration().unwrap().answer(), Some(Ok(_))),
        "{:?}",
        h.state().registration().unwrap().answer()
    );
    assert!(
        h.state()
            .message()
            .is_some_and(|m| m.contains("CAM 1: registration accepted")),
        "{:?}",
        h.state().message()
    );
    // Applied at a frame boundary; from then on the engine tracks by vision and draws.
    step_until(&mut h, "tracking from the registration", |a| {
        status(a).is_some_and(|s| {
            s.registrations == 1
                && s.drawn >= 10
                && s.last_frame
                    .as_ref()
                    .is_some_and(|f| f.source == "vision" && f.state == "tracking")
        })
    });
    let after = status(h.state()).unwrap();
    assert_eq!(after.health, Health::Ok);
    // The line is in the program: where the generator's camera puts it the thumbnail turned
    // yellow (players crossing it and the far end, thinner than a thumbnail pixel, aside).
    let seq = picture(h.state()).unwrap().seq;
    step_until(&mut h, "a thumbnail of the tracked output", |a| {
        picture(a).is_some_and(|p| p.seq > seq + 1)
    });
    let (before, now) = (
        line_yellowness(&sample, &unregistered),
        line_yellowness(&sample, &picture(h.state()).unwrap()),
    );
    assert!(
        before.len() >= 20,
        "{} points of the line in view",
        before.len()
    );
    let yellow = |v: &[f64]| v.iter().filter(|y| **y > YELLOW).count();
    assert!(
        yellow(&before) * 10 <= before.len() && yellow(&now) * 2 >= now.len(),
        "yellow points of the line: {} then {} of {}: before {before:?} now {now:?}",
        yellow(&before),
        yellow(&now),
        now.len()
    );
    h.get_by_label("re-registrations 1");
    h.get_by_label("Close re-registration").click();
    h.step();
    assert!(h.state().registration().is_none());

    stop.store(true, Ordering::Release);
    feeder.join().unwrap();
    pipeline.set_state(gst::State::Null).unwrap();
}
