//! The remote mode sends a camera its own key file (`egui_kittest` against a live `yardline`
//! element fed by `videotestsrc`, its control server on loopback): the key lands at the
//! element's next frame boundary and its status shows it; a bad file is refused on the card.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use gst::prelude::*;
use yardline_control::protocol::{KeySource, key_hash};
use yardline_operator::remote::{EngineEntry, RemoteApp, tally_map};

mod common;
use common::{step_until, type_into};

const KEY: &str = "version = 1
[palette]
softness = 1.0
[[palette.samples]]
kind = \"inclusion\"
mean = [105.0, 202.0, 222.0]
covariance = [[9.0, 0.0, 0.0], [0.0, 9.0, 0.0], [0.0, 0.0, 9.0]]
tolerance = 2.0
";

#[test]
fn a_camera_gets_its_own_key_file() {
    gst::init().unwrap();
    gstyardline::plugin_register_static().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let pipeline = gst::parse::launch(&format!(
        "videotestsrc is-live=true ! video/x-raw,format=RGBA,width=320,height=180,\
         framerate=30/1 ! yardline backend=cpu control=127.0.0.1:{port} control-token=k1 ! \
         fakesink sync=false"
    ))
    .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (good, bad) = (tmp.path().join("key.toml"), tmp.path().join("bad.toml"));
    std::fs::write(&good, KEY).unwrap();
    std::fs::write(&bad, "version = 1\npalette = [\n").unwrap();
    let list = vec![EngineEntry {
        name: "CAM 1".into(),
        addr: format!("127.0.0.1:{port}"),
        token: Some("k1".into()),
        tally_address: None,
    }];
    let mut h = Harness::builder()
        .with_size([1000.0, 700.0])
        .build_eframe(move |_cc| RemoteApp::new(list, None, tally_map()));
    let status = |a: &RemoteApp| a.fleet().engines[0].view().status;
    step_until(&mut h, "the camera playing", |a| {
        status(a).is_some_and(|s| s.frames > 0)
    });
    assert_eq!(status(h.state()).unwrap().key.source, KeySource::Auto);

    type_into(&mut h, "Key file: CAM 1", good.to_str().unwrap());
    h.get_by_label("Send key: CAM 1").click();
    let hash = key_hash(KEY);
    step_until(&mut h, "the key in force", |a| {
        status(a).is_some_and(|s| {
            s.key.source == KeySource::Operator && s.key.hash.as_deref() == Some(hash.as_str())
        })
    });

    type_into(&mut h, "Key file: CAM 1", bad.to_str().unwrap());
    h.get_by_label("Send key: CAM 1").click();
    step_until(&mut h, "the bad key refused", |a| {
        a.fleet().engines[0]
            .view()
            .error
            .is_some_and(|e| e.contains("key") && e.contains("line"))
    });
    // Still the good key.
    assert_eq!(
        status(h.state()).unwrap().key.hash.as_deref(),
        Some(hash.as_str())
    );
    pipeline.set_state(gst::State::Null).unwrap();
}
