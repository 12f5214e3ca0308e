//! The control API of a playing element, over loopback HTTP and WebSocket: remote changes
//! land on the next frame exactly as a property change does; a wrong or missing token, a bad
//! value or a flood of requests changes nothing and costs no frame; status and previews show
//! what the element does.

#![allow(
    clippy::unwrap_used,
    clippy::float_cmp,
    reason = "test code: a failed unwrap is a failed test; exact values are the assertion"
)]

mod common;

use common::{TestSample, buffer, bytes, differing, init};
use gst::prelude::*;
use gst_check::Harness;
use yardline_control::client::{Client, ClientError};
use yardline_control::{Change, Health, PreviewKind};

const TOKEN: &str = "s3cret-token";

/// A playing element with its control server on a free loopback port, and a client with
/// the right token.
fn controlled(s: &TestSample) -> (gst::Element, Harness, Client) {
    let element = s.element();
    element.set_property("control", "127.0.0.1:0");
    element.set_property("control-token", TOKEN);
    let mut h = Harness::with_element(&element, Some("sink"), Some("src"));
    h.set_src_caps_str(&s.caps("RGBA"));
    let addr: String = element
        .property::<Option<String>>("control-address")
        .expect("the control server runs while playing");
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    let client = Client::new(&addr, Some(TOKEN));
    (element, h, client)
}

/// Pushes frames `range` and returns the outputs.
fn push(
    h: &mut Harness,
    s: &TestSample,
    frames: &[Vec<u8>],
    range: std::ops::Range<usize>,
) -> Vec<Vec<u8>> {
    range
        .map(|i| {
            h.push(buffer(frames[i].clone(), s.pts(i), s.period_ns()))
                .unwrap();
            bytes(&h.pull().unwrap())
        })
        .collect()
}

fn refused_with(r: Result<impl std::fmt::Debug, ClientError>, status: u16) -> String {
    match r {
        Err(ClientError::Refused {
            status: got,
            message,
        }) => {
            assert_eq!(got, status, "{message}");
            message
        }
        other => panic!("expected a {status} refusal, got {other:?}"),
    }
}

#[test]
fn a_remote_first_down_moves_the_line_on_the_next_frame() {
    init();
    let s = TestSample::new(14, 35.0);
    let frames = s.rgba_frames();
    let (element, mut h, client) = controlled(&s);
    let mut out = push(&mut h, &s, &frames, 0..6);
    let reply = client.set(&Change::FirstDown(45.0)).unwrap();
    assert_eq!(reply.key, "first-down");
    assert_eq!(reply.value, serde_json::json!(45.0));
    let reply = client.set(&Change::FirstDownColor([0, 255, 0])).unwrap();
    assert_eq!(reply.value, serde_json::json!("#00FF00"));
    assert_eq!(element.property::<f64>("first-down"), 45.0);
    out.extend(push(&mut h, &s, &frames, 6..14));
    let change = |c: &mut yardline_engine::EngineConfig| {
        c.first_down.yard = 45.0;
        c.first_down.rgb = [0, 255, 0];
    };
    let reference = s.reference(&frames, Some((6, &change)));
    let unchanged = s.reference(&frames, None);
    for (i, (o, r)) in out.iter().zip(&reference).enumerate() {
        assert_eq!(differing(o, r), 0, "frame {i} differs from the render");
    }
    for i in 6..frames.len() {
        assert!(
            differing(&out[i], &unchanged[i]) > 500,
            "frame {i}: the line did not move"
        );
    }
    let status = client.status().unwrap();
    assert_eq!(status.settings["first-down"], serde_json::json!(45.0));
    assert_eq!(
        status.settings["first-down-color"],
        serde_json::json!("#00FF00")
    );
    assert_eq!(status.frames, 14);
    assert_eq!(status.drawn, 14);
    assert_eq!(status.health, Health::Ok);
    let last = status.last_frame.unwrap();
    assert!(last.drawn);
    assert!(
        ["sensor", "fused"].contains(&last.source.as_ref()),
        "{}",
        last.source
    );
    assert_eq!(last.pts_ns, s.pts(13));
    assert!(last.timings_ms.engine > 0.0 && last.timings_ms.element >= last.timings_ms.engine);
    // The clean plate, switched over the API as the property is.
    assert_eq!(status.settings["clean-plate"], serde_json::json!(false));
    let reply = client.set(&Change::CleanPlate(true)).unwrap();
    assert_eq!(reply.value, serde_json::json!(true));
    assert!(element.property::<bool>("clean-plate"));
    let m = refused_with(
        client.set_json("clean-plate", serde_json::json!("yes")),
        400,
    );
    assert!(m.contains("clean-plate"), "{m}");
    // The field's rulebook, as the engine has it (the re-registration window reads it).
    assert_eq!(status.field.as_deref(), Some("nfl"));
    element.set_property_from_str("field", "ncaa");
    push(&mut h, &s, &frames, 0..1);
    assert_eq!(client.status().unwrap().field.as_deref(), Some("ncaa"));
}

#[test]
fn a_wrong_or_missing_token_or_a_bad_value_is_refused_and_changes_nothing() {
    init();
    let s = TestSample::new(10, 35.0);
    let frames = s.rgba_frames();
    let (element, mut h, client) = controlled(&s);
    let addr = client.addr().to_owned();
    let mut out = push(&mut h, &s, &frames, 0..4);
    let wrong = Client::new(&addr, Some("s3cret-tokeN"));
    let missing = Client::new(&addr, None);
    let longer = Client::new(&addr, Some("s3cret-token-and-more"));
    for c in [&wrong, &missing, &longer] {
        refused_with(c.set(&Change::FirstDown(45.0)), 401);
        refused_with(c.status(), 401);
        refused_with(c.preview(PreviewKind::Program), 401);
    }
    let bad = [
        client.set_json("first-down", serde_json::json!(500)),
        client.set_json("first-down", serde_json::json!("45")),
        client.set_json("line-width", serde_json::json!(0.0)),
        client.set_json("opacity", serde_json::json!(-0.5)),
        client.set_json("pose-mode", serde_json::json!("magic")),
        client.set_json("venue", serde_json::json!("/etc/passwd")),
        client.set_raw(b"{\"key\": \"first-down\""),
        client.set_raw(b"\x00\xff garbage"),
    ];
    let messages: Vec<String> = bad.into_iter().map(|r| refused_with(r, 400)).collect();
    assert!(messages[0].contains("first-down"), "{}", messages[0]);
    assert!(messages[5].contains("unknown key"), "{}", messages[5]);
    assert_eq!(element.property::<f64>("first-down"), 35.0);
    assert_eq!(element.property::<f64>("opacity"), 1.0);
    out.extend(push(&mut h, &s, &frames, 4..10));
    let unchanged = s.reference(&frames, None);
    for (i, (o, r)) in out.iter().zip(&unchanged).enumerate() {
        assert_eq!(differing(o, r), 0, "frame {i} changed");
    }
    let status = client.status().unwrap();
    assert_eq!(status.settings["first-down"], serde_json::json!(35.0));
    assert_eq!(status.frames, 10);
}

#[test]
fn previews_show_program_clean_and_matte() {
    init();
    let s = TestSample::new(40, 35.0);
    let frames = s.rgba_frames();
    let (_element, mut h, client) = controlled(&s);
    push(&mut h, &s, &frames, 0..2);
    // Frames keep coming on this thread while the client waits for its captures, at about
    // the real rate.
    let asker = std::thread::spawn(move || {
        let previews = PreviewKind::ALL.map(|k| (k, client.preview(k).unwrap()));
        let stills = [client.still().unwrap(), client.still().unwrap()];
        (previews, stills)
    });
    let mut i = 2;
    while !asker.is_finished() && i < frames.len() {
        push(&mut h, &s, &frames, i..i + 1);
        std::thread::sleep(std::time::Duration::from_millis(16));
        i += 1;
        if i == frames.len() {
            i = 2;
        }
    }
    let (pictures, stills) = asker.join().unwrap();
    // The full-size still is one input frame, exactly (PNG); asked again within a second,
    // the same capture.
    assert_eq!(stills[0], stills[1]);
    let still = image::load_from_memory(&stills[0]).unwrap().to_rgb8();
    assert_eq!(still.dimensions(), s.size());
    assert!(
        s.frames.iter().any(|f| f.rgb == still.as_raw().as_slice()),
        "the still is none of the input frames"
    );
    let decode = |jpeg: &[u8]| image::load_from_memory(jpeg).unwrap().to_rgb8();
    let program = decode(&pictures[0].1);
    let clean = decode(&pictures[1].1);
    let matte = decode(&pictures[2].1);
    for p in [&program, &clean, &matte] {
        assert_eq!(p.dimensions(), (320, 180));
    }
    // The matte is the engine's key of the clean picture: white on the grass, black on the
    // players; a pixel is white where the clean picture is green.
    let lit = matte.pixels().filter(|p| p[0] > 200).count();
    let dark = matte.pixels().filter(|p| p[0] < 24).count();
    assert!(lit > 320 * 180 * 6 / 10, "{lit} matte pixels lit");
    assert!(dark > 100, "{dark} matte pixels dark");
    let green_lit = matte
        .pixels()
        .zip(clean.pixels())
        .filter(|(_, c)| {
            i32::from(c[1]) > i32::from(c[0]) + 30 && i32::from(c[1]) > i32::from(c[2]) + 30
        })
        .map(|(m, _)| u32::from(m[0] > 200))
        .collect::<Vec<_>>();
    let share = f64::from(green_lit.iter().sum::<u32>()) / green_lit.len().max(1) as f64;
    assert!(
        green_lit.len() > 1000 && share > 0.9,
        "{share} of {} green pixels lit",
        green_lit.len()
    );
    let brighter_red = program
        .pixels()
        .zip(clean.pixels())
        .filter(|(p, c)| i32::from(p[0]) - i32::from(c[0]) > 60)
        .count();
    assert!(
        brighter_red > 100,
        "program shows the line over clean: {brighter_red}"
    );
}

#[test]
fn a_flood_of_requests_is_rate_limited_without_costing_a_frame() {
    init();
    let s = TestSample::new(30, 35.0);
    let frames = s.rgba_frames();
    let (element, mut h, client) = controlled(&s);
    let flood = std::thread::spawn(move || {
        let mut limited = 0;
        for _ in 0..400 {
            match client.status() {
                Ok(_) => {}
                Err(ClientError::Refused { status: 429, .. }) => limited += 1,
                Err(e) => panic!("{e}"),
            }
        }
        (limited, client)
    });
    let out = push(&mut h, &s, &frames, 0..30);
    let (limited, client) = flood.join().unwrap();
    assert!(limited > 0, "400 requests at once were all served");
    let reference = s.reference(&frames, None);
    for (i, (o, r)) in out.iter().zip(&reference).enumerate() {
        assert_eq!(differing(o, r), 0, "frame {i}");
    }
    // The bucket refills: the client is served again.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let status = client.status().unwrap();
    assert_eq!(status.frames, 30);
    assert!(
        status.rate_limited >= limited,
        "{} refused",
        status.rate_limited
    );
    assert_eq!(element.property::<f64>("first-down"), 35.0);
}

#[test]
fn the_websocket_streams_status_and_takes_changes() {
    init();
    let s = TestSample::new(6, 35.0);
    let frames = s.rgba_frames();
    let (element, mut h, client) = controlled(&s);
    push(&mut h, &s, &frames, 0..3);
    let url = format!("ws://{}/v1/ws?interval_ms=100", client.addr());
    let mut req =
        tungstenite::client::IntoClientRequest::into_client_request(url.as_str()).unwrap();
    req.headers_mut()
        .insert("Authorization", format!("Bearer {TOKEN}").parse().unwrap());
    let stream = std::net::TcpStream::connect(client.addr()).unwrap();
    let (mut ws, _) = tungstenite::client(req, stream).unwrap();
    let next = |ws: &mut tungstenite::WebSocket<std::net::TcpStream>| -> serde_json::Value {
        loop {
            if let tungstenite::Message::Text(t) = ws.read().unwrap() {
                return serde_json::from_str(&t).unwrap();
            }
        }
    };
    let first = next(&mut ws);
    assert_eq!(first["status"]["frames"], serde_json::json!(3));
    ws.send(tungstenite::Message::text(
        r#"{"key":"show-scrimmage","value":true}"#,
    ))
    .unwrap();
    ws.send(tungstenite::Message::text(
        r#"{"key":"scrimmage","value":"x"}"#,
    ))
    .unwrap();
    let mut replies = Vec::new();
    while replies.len() < 2 {
        let e = next(&mut ws);
        if e.get("status").is_none() {
            replies.push(e);
        }
    }
    assert_eq!(replies[0]["set"]["key"], "show-scrimmage");
    assert!(replies[1]["error"].as_str().unwrap().contains("scrimmage"));
    assert!(element.property::<bool>("show-scrimmage"));
    push(&mut h, &s, &frames, 3..6);
    let later = loop {
        let e = next(&mut ws);
        if e["status"]["frames"] == serde_json::json!(6) {
            break e;
        }
    };
    assert_eq!(
        later["status"]["settings"]["show-scrimmage"],
        serde_json::json!(true)
    );
    // Without the token the upgrade is refused.
    let plain = std::net::TcpStream::connect(client.addr()).unwrap();
    assert!(tungstenite::client(url.as_str(), plain).is_err());
}

/// A key whose only colour is `ycbcr` (an inclusion ellipsoid of a few code values).
fn key_text(samples: Vec<yardline_keying::Sample>) -> String {
    let mut palette = yardline_keying::Palette::new();
    for s in samples {
        palette.push(s).unwrap();
    }
    yardline_keying::KeyConfig::new(palette)
        .to_toml_string()
        .unwrap()
}

/// An inclusion sample of the colours of `frame` where the mask says field surface.
fn grass_sample(frame: &yardline_samples::RenderedFrame) -> yardline_keying::Sample {
    let pixels: Vec<[f64; 3]> = frame
        .rgb
        .chunks_exact(3)
        .zip(&frame.mask)
        .filter(|(_, m)| **m == 0)
        .step_by(7)
        .map(|(p, _)| {
            yardline_frame::rgb_to_ycbcr709(f32::from(p[0]), f32::from(p[1]), f32::from(p[2]))
                .map(f64::from)
        })
        .collect();
    yardline_keying::Sample::from_pixels(
        yardline_keying::SampleKind::Inclusion,
        "grass",
        &pixels,
        3.0,
    )
    .unwrap()
}

#[test]
fn a_key_sent_over_the_api_lands_at_the_next_frame_and_auto_returns() {
    init();
    // Off the painted yard lines, so the line lies on grass.
    let s = TestSample::new(16, 37.0);
    let frames = s.rgba_frames();
    let (_element, mut h, client) = controlled(&s);
    let out = push(&mut h, &s, &frames, 0..3);
    assert!(
        differing(&out[2], &frames[2]) > 500,
        "the automatic key draws"
    );
    assert_eq!(
        client.status().unwrap().key.source,
        yardline_control::protocol::KeySource::Auto
    );
    // A key of magenta alone: the grass keys to 0, nothing is drawn over it.
    let magenta = yardline_keying::Sample {
        kind: yardline_keying::SampleKind::Inclusion,
        label: "magenta".into(),
        mean: [105.0, 202.0, 222.0],
        covariance: [[9.0, 0.0, 0.0], [0.0, 9.0, 0.0], [0.0, 0.0, 9.0]],
        tolerance: 2.0,
    };
    let text = key_text(vec![magenta]);
    let reply = client.set(&Change::Key(Some(text.clone()))).unwrap();
    assert_eq!(reply.key, "key");
    let out = push(&mut h, &s, &frames, 3..7);
    for (i, o) in out.iter().enumerate() {
        assert_eq!(differing(o, &frames[3 + i]), 0, "frame {}: drawn", 3 + i);
    }
    let status = client.status().unwrap();
    assert_eq!(
        status.key.source,
        yardline_control::protocol::KeySource::Operator
    );
    assert_eq!(
        status.key.hash.as_deref(),
        Some(yardline_control::protocol::key_hash(&text).as_str())
    );
    assert_eq!(status.key.generation, 1);
    // A key of the grass: the line is back.
    let grass = key_text(vec![grass_sample(&s.frames[0])]);
    client.set_json("key", serde_json::json!(grass)).unwrap();
    let out = push(&mut h, &s, &frames, 7..10);
    for (i, o) in out.iter().enumerate() {
        assert!(
            differing(o, &frames[7 + i]) > 500,
            "frame {}: no line",
            7 + i
        );
    }
    // A bad key is refused with the line it is on, and changes nothing.
    let bad = format!("{grass}\nlut_size = \"many\"\n");
    let message = refused_with(client.set_json("key", serde_json::json!(bad)), 400);
    assert!(
        message.contains("key") && message.contains("line"),
        "{message}"
    );
    let message = refused_with(client.set_json("key", serde_json::json!(12)), 400);
    assert!(message.contains("key"), "{message}");
    let status = client.status().unwrap();
    assert_eq!(status.key.generation, 2);
    assert_eq!(
        status.key.hash.as_deref(),
        Some(yardline_control::protocol::key_hash(&grass).as_str())
    );
    // Back to the automatic key.
    client.set_json("key", serde_json::json!("auto")).unwrap();
    let out = push(&mut h, &s, &frames, 10..16);
    assert!(
        differing(&out[5], &frames[15]) > 500,
        "the automatic key draws"
    );
    let status = client.status().unwrap();
    assert_eq!(
        status.key.source,
        yardline_control::protocol::KeySource::Auto
    );
    assert_eq!((status.key.generation, status.key.hash), (3, None));
}

/// The truth camera of `frame`, at `scale` times the sample's size.
fn register_camera(
    s: &TestSample,
    frame: usize,
    scale: f64,
) -> yardline_control::protocol::RegisterCamera {
    let t = &s.frames[frame].truth;
    let [fx, fy, cx, cy, k1, k2] = t.intrinsics.to_array();
    let (w, h) = s.size();
    yardline_control::protocol::RegisterCamera {
        width: (f64::from(w) * scale).round() as u32,
        height: (f64::from(h) * scale).round() as u32,
        rotation: t.rotation,
        translation: t.translation,
        fx: fx * scale,
        fy: fy * scale,
        cx: (cx + 0.5) * scale - 0.5,
        cy: (cy + 0.5) * scale - 0.5,
        k1,
        k2,
    }
}

#[test]
fn a_registration_sent_over_the_api_starts_vision_tracking_at_the_next_frame() {
    init();
    let s = TestSample::new(14, 35.0);
    let frames = s.rgba_frames();
    let element = s.element();
    element.set_property("tracking", None::<String>);
    element.set_property("control", "127.0.0.1:0");
    element.set_property("control-token", TOKEN);
    let mut h = Harness::with_element(&element, Some("sink"), Some("src"));
    h.set_src_caps_str(&s.caps("RGBA"));
    let addr: String = element
        .property::<Option<String>>("control-address")
        .unwrap();
    let client = Client::new(&addr, Some(TOKEN));
    let out = push(&mut h, &s, &frames, 0..4);
    for (i, o) in out.iter().enumerate() {
        assert_eq!(
            differing(o, &frames[i]),
            0,
            "frame {i}: drawn without a pose"
        );
    }
    assert_eq!(client.status().unwrap().health, Health::NoPose);
    // Refused: a negative focal length, a rotation that is none, another aspect ratio.
    let mut bad = register_camera(&s, 4, 1.0);
    bad.fx = -bad.fx;
    let m = refused_with(client.set(&Change::Register(Box::new(bad))), 400);
    assert!(m.contains("fx"), "{m}");
    let mut bad = register_camera(&s, 4, 1.0);
    bad.rotation[0] *= 2.0;
    let m = refused_with(client.set(&Change::Register(Box::new(bad))), 400);
    assert!(m.contains("rotation"), "{m}");
    let mut bad = register_camera(&s, 4, 1.0);
    bad.height += bad.height / 3;
    let m = refused_with(client.set(&Change::Register(Box::new(bad))), 400);
    assert!(m.contains("aspect ratio"), "{m}");
    let m = refused_with(
        client.set_json("register", serde_json::json!({"fx": 1})),
        400,
    );
    assert!(m.contains("register"), "{m}");
    let out = push(&mut h, &s, &frames, 4..5);
    assert_eq!(
        differing(&out[0], &frames[4]),
        0,
        "a refused camera changed something"
    );
    // The truth camera of frame 5, solved on a frame twice the size: scaled to the video.
    client
        .set(&Change::Register(Box::new(register_camera(&s, 5, 2.0))))
        .unwrap();
    let out = push(&mut h, &s, &frames, 5..14);
    for (i, o) in out.iter().enumerate() {
        assert!(
            differing(o, &frames[5 + i]) > 500,
            "frame {}: no line",
            5 + i
        );
    }
    let mut scorer = yardline_samples::Scorer::new(&s.sample.scene()).unwrap();
    for (i, o) in out.iter().enumerate() {
        let f = &s.frames[5 + i];
        scorer
            .add_frame(&f.rgb, &common::rgb(o), &f.mask, &f.truth, None)
            .unwrap();
    }
    let report = scorer.finish();
    assert!(
        report.drawn_share == Some(1.0) && report.centre_error_px.is_some_and(|c| c <= 0.5),
        "{report:?}"
    );
    let status = client.status().unwrap();
    assert_eq!(status.registrations, 1);
    assert_eq!(status.health, Health::Ok);
    assert_eq!(status.last_frame.unwrap().source, "vision");
}
