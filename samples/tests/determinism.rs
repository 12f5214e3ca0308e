//! Same seed, same bytes; different seed, different bytes; bad input gives errors.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail the test by panicking"
)]
#![allow(clippy::float_cmp, reason = "determinism means bit-identical values")]
#![allow(
    clippy::naive_bytecount,
    reason = "small test images; no extra dependency"
)]

use yardline_samples::{
    MASK_FIELD, MASK_OUTSIDE, MASK_PLAYER, Sample, SampleConfig, SampleError, Scenario,
    SceneConfig, VenueFile, read_tracking_jsonl, read_truth_jsonl,
};

fn small(seed: u64, scenario: Scenario) -> Sample {
    Sample::new(SampleConfig {
        seed,
        frames: 40,
        width: 320,
        height: 180,
        scenario,
        ..SampleConfig::default()
    })
    .unwrap()
}

#[test]
fn same_seed_same_bytes_in_any_order_and_in_parallel() {
    let a = small(7, Scenario::Hard);
    let b = small(7, Scenario::Hard);
    let frames = [39_u32, 0, 17];
    let serial: Vec<_> = frames.iter().map(|&i| a.render_frame(i).unwrap()).collect();
    let parallel: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = frames
            .iter()
            .rev()
            .map(|&i| {
                let b = &b;
                s.spawn(move || b.render_frame(i).unwrap())
            })
            .collect();
        let mut out: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        out.reverse();
        out
    });
    for (x, y) in serial.iter().zip(&parallel) {
        assert_eq!(x.truth, y.truth);
        assert!(x.rgb == y.rgb, "rgb differs for frame {}", x.truth.frame);
        assert!(x.mask == y.mask, "mask differs for frame {}", x.truth.frame);
        assert_eq!(x.rgb.len(), 320 * 180 * 3);
        assert_eq!(x.mask.len(), 320 * 180);
        assert!(
            x.mask
                .iter()
                .all(|&m| m == MASK_FIELD || m == MASK_OUTSIDE || m == MASK_PLAYER)
        );
    }
}

#[test]
fn new_scenarios_are_deterministic_and_seeded() {
    for scenario in [Scenario::Zoom, Scenario::Cut] {
        let (a, b) = (small(7, scenario), small(7, scenario));
        for i in [0_u32, 21, 39] {
            let (x, y) = (a.render_frame(i).unwrap(), b.render_frame(i).unwrap());
            assert_eq!(x.truth, y.truth);
            assert!(x.rgb == y.rgb && x.mask == y.mask, "{scenario} frame {i}");
        }
        assert_eq!(a.clicks().unwrap(), b.clicks().unwrap());
        assert_ne!(a.clicks().unwrap(), small(8, scenario).clicks().unwrap());
    }
}

#[test]
fn different_seed_differs() {
    let a = small(1, Scenario::Default).render_frame(5).unwrap();
    let b = small(2, Scenario::Default).render_frame(5).unwrap();
    assert_ne!(a.truth, b.truth);
    let differing = a.rgb.iter().zip(&b.rgb).filter(|(x, y)| x != y).count();
    assert!(differing > a.rgb.len() / 2, "only {differing} bytes differ");
}

#[test]
fn frames_show_field_players_and_move() {
    let s = small(3, Scenario::Default);
    let f0 = s.render_frame(0).unwrap();
    let f1 = s.render_frame(30).unwrap();
    let field = f0.mask.iter().filter(|&&m| m == MASK_FIELD).count();
    assert!(field > f0.mask.len() / 4, "field covers only {field} px");
    let players: usize = (0..40)
        .step_by(13)
        .map(|i| {
            s.render_frame(i)
                .unwrap()
                .mask
                .iter()
                .filter(|&&m| m == MASK_PLAYER)
                .count()
        })
        .sum();
    assert!(players > 0, "no player visible");
    assert_ne!(
        f0.truth.rotation, f1.truth.rotation,
        "the camera should move"
    );
    let st = small(3, Scenario::Static);
    assert_eq!(
        st.truth(0).unwrap().rotation,
        st.truth(39).unwrap().rotation
    );
    assert_eq!(
        st.truth(0).unwrap().intrinsics.fx,
        st.truth(39).unwrap().intrinsics.fx
    );
}

#[test]
fn metadata_is_deterministic_and_reads_back() {
    let dir = std::env::temp_dir().join(format!("yardline-samples-meta-{}", std::process::id()));
    let (d1, d2) = (dir.join("a"), dir.join("b"));
    let s = small(11, Scenario::Drift);
    s.write_metadata(&d1).unwrap();
    small(11, Scenario::Drift).write_metadata(&d2).unwrap();
    for name in [
        "truth.jsonl",
        "tracking.jsonl",
        "venue.toml",
        "scene.toml",
        "clicks.json",
    ] {
        let a = std::fs::read(d1.join(name)).unwrap();
        let b = std::fs::read(d2.join(name)).unwrap();
        assert!(!a.is_empty(), "{name} is empty");
        assert_eq!(a, b, "{name} differs between runs");
    }
    let truth = read_truth_jsonl(&d1.join("truth.jsonl")).unwrap();
    assert_eq!(truth.len(), 40);
    for (i, t) in truth.iter().enumerate() {
        assert_eq!(*t, s.truth(i as u32).unwrap());
    }
    let tracking = read_tracking_jsonl(&d1.join("tracking.jsonl")).unwrap();
    assert!(tracking.iter().all(|r| r.freed.len() == 58));
    let scene = SceneConfig::load(&d1.join("scene.toml")).unwrap();
    assert_eq!(scene.scenario, Scenario::Drift);
    assert_eq!(scene.seed, 11);
    assert!((scene.fps - 60_000.0 / 1001.0).abs() < 1e-9);
    let venue = VenueFile::load(&d1.join("venue.toml")).unwrap();
    assert_eq!(venue.version, 1);
    let cam = &venue.camera[0];
    assert_eq!(cam.tracking_delay_ns, 33_366_667);
    assert!(cam.lens.points.len() >= 33);
    assert!(
        cam.lens
            .points
            .windows(2)
            .all(|p| p[1].zoom > p[0].zoom && p[1].intrinsics.fx > p[0].intrinsics.fx)
    );
    let text = std::fs::read_to_string(d1.join("venue.toml")).unwrap();
    assert!(
        text.contains("[[camera]]") && text.contains("[[camera.lens.points]]"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let bad = |cfg: SampleConfig| Sample::new(cfg).unwrap_err();
    let d = SampleConfig::default;
    assert!(matches!(
        bad(SampleConfig { width: 0, ..d() }),
        SampleError::InvalidConfig(_)
    ));
    assert!(matches!(
        bad(SampleConfig { fps_den: 0, ..d() }),
        SampleError::InvalidConfig(_)
    ));
    assert!(matches!(
        bad(SampleConfig { frames: 0, ..d() }),
        SampleError::InvalidConfig(_)
    ));
    assert!(matches!(
        bad(SampleConfig {
            first_down_yard: f64::NAN,
            ..d()
        }),
        SampleError::InvalidConfig(_)
    ));
    assert!(matches!(
        bad(SampleConfig {
            field: "soccer".into(),
            ..d()
        }),
        SampleError::UnsupportedField(_)
    ));
    assert!("bogus".parse::<Scenario>().is_err());
    for scenario in Scenario::ALL {
        assert_eq!(scenario.name().parse::<Scenario>().unwrap(), scenario);
    }
    assert_eq!("ZOOM".parse::<Scenario>().unwrap(), Scenario::Zoom);
    assert_eq!("cut".parse::<Scenario>().unwrap(), Scenario::Cut);
    assert_eq!(" Static".parse::<Scenario>().unwrap(), Scenario::Static);
    let s = Sample::new(SampleConfig { frames: 3, ..d() }).unwrap();
    assert!(matches!(
        s.render_frame(3),
        Err(SampleError::FrameOutOfRange { index: 3, count: 3 })
    ));
    let mut t = s.truth(0).unwrap();
    t.rotation[0] = 2.0;
    assert!(t.camera().is_err());
    assert!(t.project([0.0, 0.0, 0.0]).is_none());
}

#[test]
fn large_sizes_render() {
    let s = Sample::new(SampleConfig {
        frames: 2,
        width: 3840,
        height: 2160,
        ..SampleConfig::default()
    })
    .unwrap();
    let f = s.render_frame(1).unwrap();
    assert_eq!(f.rgb.len(), 3840 * 2160 * 3);
    assert_eq!(f.truth.width, 3840);
}
