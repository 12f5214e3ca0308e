//! The operator app driven through its widgets (by accessibility label) with `egui_kittest`, on
//! a real sample played through GStreamer into the real engine.

mod common;

use common::{
    click_at, click_landmarks, harness, sample, shown_index, step_until, type_into, wait_for_video,
};
use egui::{Key, Modifiers};
use egui_kittest::kittest::Queryable;
use yardline_frame::{FrameLayout, FrameRef, PixelFormat};
use yardline_keying::{EdgeFilter, KeyConfig, Palette, Sample as ColourSample, SampleKind};
use yardline_operator::app::{NUDGE_LARGE_YD, NUDGE_SMALL_YD};

#[test]
fn toggling_the_first_down_line_changes_the_engine_config() {
    let mut h = harness(None);
    wait_for_video(&mut h);
    step_until(&mut h, "the engine config", |a| a.engine_config().is_some());
    assert!(
        h.state()
            .engine_config()
            .is_some_and(|c| c.first_down.enabled)
    );

    h.get_by_label("First down line").click();
    step_until(&mut h, "the line to be disabled in the engine", |a| {
        a.engine_config().is_some_and(|c| !c.first_down.enabled)
    });
    assert!(!h.state().config().first_down.enabled);

    h.get_by_label("Line of scrimmage").click();
    h.get_by_label("First down line").click();
    step_until(&mut h, "both lines enabled in the engine", |a| {
        a.engine_config()
            .is_some_and(|c| c.first_down.enabled && c.scrimmage.enabled)
    });
}

#[test]
fn nudge_keys_move_the_line_by_the_right_yards() {
    let mut h = harness(None);
    wait_for_video(&mut h);
    let y0 = h.state().config().first_down.yard;
    let scene_yard = sample().scene().first_down_yard;
    assert!(
        (y0 - scene_yard).abs() < 1e-9,
        "the sample's first down {scene_yard}, got {y0}"
    );

    h.key_press(Key::ArrowRight);
    h.step();
    let want = y0 + NUDGE_SMALL_YD;
    step_until(&mut h, "a 0.1 yd nudge in the engine", |a| {
        a.engine_config()
            .is_some_and(|c| (c.first_down.yard - want).abs() < 1e-9)
    });

    h.key_press_modifiers(Modifiers::SHIFT, Key::ArrowRight);
    h.step();
    let want = y0 + NUDGE_SMALL_YD + NUDGE_LARGE_YD;
    step_until(&mut h, "a 1 yd nudge in the engine", |a| {
        a.engine_config()
            .is_some_and(|c| (c.first_down.yard - want).abs() < 1e-9)
    });

    h.key_press_modifiers(Modifiers::SHIFT, Key::ArrowLeft);
    h.key_press(Key::ArrowLeft);
    h.key_press(Key::ArrowLeft);
    h.step();
    let want = y0 - NUDGE_SMALL_YD;
    step_until(&mut h, "the nudges back in the engine", |a| {
        a.engine_config()
            .is_some_and(|c| (c.first_down.yard - want).abs() < 1e-9)
    });
    assert!((h.state().config().first_down.yard - want).abs() < 1e-9);
}

/// A palette of one inclusion sample: `mean` (Y, Cb, Cr) with per-channel `variance`.
fn one_sample_palette(label: &str, mean: [f64; 3], variance: [f64; 3], tolerance: f64) -> Palette {
    let mut palette = Palette::new();
    palette
        .push(ColourSample {
            kind: SampleKind::Inclusion,
            label: label.into(),
            mean,
            covariance: [
                [variance[0], 0.0, 0.0],
                [0.0, variance[1], 0.0],
                [0.0, 0.0, variance[2]],
            ],
            tolerance,
        })
        .expect("a valid colour sample");
    palette
}

/// Key of colour (Y, Cb, Cr) in the engine's current key (LUT 0).
fn engine_key_of(app: &yardline_operator::OperatorApp, ycbcr: [f32; 3]) -> Option<f32> {
    let key = app.published().key.as_ref()?;
    let lut = key.keyer().luts().first()?;
    Some(lut.lookup(ycbcr[0], ycbcr[1], ycbcr[2]))
}

#[test]
fn an_exclusion_sample_changes_the_key_of_that_colour() {
    // A deliberately broad palette: every colour keys as field, players included.
    let palette = one_sample_palette("everything", [128.0; 3], [3600.0; 3], 6.0);
    let mut h = harness(Some(KeyConfig::new(palette)));
    wait_for_video(&mut h);
    h.get_by_label("Freeze frame").click();
    h.get_by_label("Key samples").click();
    h.step();

    // A 5x5 block of player pixels in the frozen frame (the generator's mask says where).
    let (frame_index, width, height, clean) = {
        let p = h.state().shown_frame().expect("frozen frame");
        let fps = sample().config().fps();
        let index = (p.source_pts_ns as f64 * fps / 1e9).round() as u32;
        (index, p.width, p.height, p.clean.clone())
    };
    let truth = sample()
        .render_frame(frame_index)
        .expect("render truth frame");
    let rgb_at = |x: u32, y: u32| {
        let i = (y * width + x) as usize;
        [clean[4 * i], clean[4 * i + 1], clean[4 * i + 2]]
    };
    let t_rgb = |x: u32, y: u32| {
        let i = (y * width + x) as usize;
        [truth.rgb[3 * i], truth.rgb[3 * i + 1], truth.rgb[3 * i + 2]]
    };
    assert_eq!(
        rgb_at(100, 100),
        t_rgb(100, 100),
        "the shown frame is frame {frame_index}"
    );
    let player = |x: u32, y: u32| truth.mask[(y * width + x) as usize] == 255;
    let (px, py) = (2..height - 2)
        .flat_map(|y| (2..width - 2).map(move |x| (x, y)))
        .find(|&(x, y)| (x - 2..=x + 2).all(|i| (y - 2..=y + 2).all(|j| player(i, j))))
        .expect("a 5x5 block of player pixels in the frame");
    let grass = (2..height - 2)
        .flat_map(|y| (2..width - 2).map(move |x| (x, y)))
        .find(|&(x, y)| truth.mask[(y * width + x) as usize] == 0)
        .expect("a grass pixel");
    let layout = FrameLayout::packed(PixelFormat::Rgba, width, height).unwrap();
    let frame = FrameRef::new(&layout, &clean).unwrap();
    // The colour of the sampled block: its mean (Y, Cb, Cr).
    let mut player_colour = [0.0_f32; 3];
    for j in py - 2..=py + 2 {
        for i in px - 2..=px + 2 {
            let c = frame.ycbcr_f32(i, j);
            for k in 0..3 {
                player_colour[k] += c[k] / 25.0;
            }
        }
    }
    let grass_colour = frame.ycbcr_f32(grass.0, grass.1);

    step_until(&mut h, "the operator key in the engine", |a| {
        engine_key_of(a, player_colour).is_some()
    });
    let before = engine_key_of(h.state(), player_colour).unwrap();
    assert!(
        before > 0.9,
        "the broad palette keys the player as field ({before})"
    );
    let version = h.state().published().key_version;

    let pos = h
        .state()
        .image_to_screen([f64::from(px), f64::from(py)])
        .expect("image on screen");
    click_at(&mut h, pos, Modifiers::SHIFT);
    let key = h.state().key_config().expect("operator key").clone();
    assert_eq!(
        key.palette.exclusion().count(),
        1,
        "one exclusion sample added"
    );
    step_until(&mut h, "the new key in the engine", |a| {
        a.published().key_version > version
    });
    // The palette itself (the direct model, the reference) now keys that colour to 0...
    let model = key.palette.model().expect("palette model");
    let c = player_colour.map(f64::from);
    let direct = model.key(c[0], c[1], c[2]);
    assert!(
        direct < 1e-6,
        "the palette excludes the player's colour ({direct})"
    );
    // ...and the engine's compiled key drops there (the LUT's trilinear cells blur an exclusion
    // a few code values wide, so it is lower, not exactly 0).
    let after = engine_key_of(h.state(), player_colour).unwrap();
    assert!(
        after < before - 0.3,
        "the engine keys the player's colour lower ({before} -> {after})"
    );
    let grass_key = engine_key_of(h.state(), grass_colour).unwrap();
    assert!(grass_key > 0.9, "grass still keys as field ({grass_key})");

    h.get_by_label("Undo sample").click();
    step_until(&mut h, "the undo in the engine", |a| {
        engine_key_of(a, player_colour).is_some_and(|k| k > 0.9)
    });
}

#[test]
fn the_edge_filter_chosen_reaches_the_engine() {
    let palette = one_sample_palette("grass", [110.0, 105.0, 105.0], [100.0, 25.0, 25.0], 3.5);
    let mut h = harness(Some(KeyConfig::new(palette)));
    wait_for_video(&mut h);
    let edge = |a: &yardline_operator::OperatorApp| {
        a.published().key.as_ref().map(|k| k.keyer().edge_filter())
    };
    step_until(&mut h, "the operator key in the engine", |a| {
        edge(a) == Some(EdgeFilter::Min)
    });
    h.get_by_label("Unmix edges").click();
    step_until(&mut h, "unmixing in the engine", |a| {
        edge(a) == Some(EdgeFilter::Unmix)
    });
    let key = h.state().key_config().expect("operator key");
    assert_eq!(key.edge_filter, EdgeFilter::Unmix);
    assert!(
        key.to_toml_string()
            .unwrap()
            .contains("edge_filter = \"unmix\""),
        "the key file keeps it"
    );
    h.get_by_label("Min-filter").click();
    step_until(&mut h, "the min-filter in the engine", |a| {
        edge(a) == Some(EdgeFilter::Min)
    });
}

#[test]
fn placing_the_line_by_clicking_the_field() {
    let mut h = harness(None);
    wait_for_video(&mut h);
    step_until(&mut h, "a camera pose", |a| {
        a.preview().is_some_and(|p| p.report.camera.is_some())
    });
    h.get_by_label("Freeze frame").click();
    h.step();
    // Where yard 42 crosses the field's midline, by the generator's own camera.
    let s = sample();
    let p = h.state().shown_frame().unwrap();
    let index = (p.source_pts_ns as f64 * s.config().fps() / 1e9).round() as u32;
    let target = 42.0;
    let px = s
        .project(index, [(target - 50.0) * 0.9144, 0.0, 0.0])
        .unwrap()
        .expect("yard 42 in view");
    let pos = h.state().image_to_screen(px).unwrap();
    click_at(&mut h, pos, Modifiers::NONE);
    let yard = h.state().config().first_down.yard;
    // Half a pixel of click rounding is well under 0.2 yd at this distance.
    assert!(
        (yard - target).abs() < 0.2,
        "placed at {yard}, wanted {target}"
    );
    step_until(&mut h, "the engine to draw there", |a| {
        a.engine_config()
            .is_some_and(|c| (c.first_down.yard - yard).abs() < 1e-9)
    });
}

#[test]
fn the_calibration_wizard_solves_a_venue_from_scripted_clicks() {
    use yardline_engine::tracking::{SensorReading, load_jsonl};
    use yardline_engine::venue::Venue;

    let mut h = harness(None);
    wait_for_video(&mut h);
    h.get_by_label("Calibrate camera").click();
    // One pass handles the click, the next draws the wizard.
    h.step();
    h.step();
    let s = sample();
    let (index, width, height, pts) = {
        let p = h.state().shown_frame().expect("frozen frame");
        (shown_index(h.state()), p.width, p.height, p.source_pts_ns)
    };
    assert!(h.state().wizard().is_open());

    // Click the landmarks the generator's exact camera puts well inside the frame.
    let clicked = click_landmarks(&mut h, 10);
    assert!(clicked >= 6, "only {clicked} landmarks in view");
    assert_eq!(h.state().wizard().points().len(), clicked);

    h.get_by_label("Solve").click();
    h.step();
    let w = h.state().wizard();
    let sol = w
        .solution()
        .unwrap_or_else(|| panic!("no solution: {:?}", w.message()));
    assert!(sol.rms_px < 1.0, "RMS {} px", sol.rms_px);
    assert!(sol.outliers.is_empty(), "outliers {:?}", sol.outliers);
    assert!(
        sol.residuals_px.iter().all(|r| *r < 1.0),
        "residuals {:?}",
        sol.residuals_px
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("venue.toml");
    type_into(&mut h, "Venue file", path.to_str().unwrap());
    h.get_by_label("Save venue").click();
    h.step();
    let venue = Venue::load(&path)
        .unwrap_or_else(|e| panic!("{e}; wizard says {:?}", h.state().wizard().message()));
    assert_eq!(venue.cameras.len(), 1);

    // The saved venue, driven by the frame's own FreeD packet, puts every clicked landmark
    // within a pixel of where the generator drew it.
    let log = load_jsonl(&common::sample_dir().join("tracking.jsonl")).unwrap();
    let delay = venue.cameras[0].tracking_delay_ns;
    let packet = log
        .samples
        .iter()
        .min_by_key(|t| (t.pts_ns - (pts + delay)).unsigned_abs())
        .expect("a tracking packet");
    let camera = venue.cameras[0]
        .camera_for(&SensorReading::from(&packet.packet), width, height)
        .expect("venue camera");
    for p in h.state().wizard().points() {
        let truth = s.project(index, p.field).unwrap().unwrap();
        let got = camera
            .project(&nalgebra::Point3::from(p.field))
            .expect("in front of the camera");
        let err = ((got.x - truth[0]).powi(2) + (got.y - truth[1]).powi(2)).sqrt();
        assert!(err < 1.0, "{}: venue camera is {err:.2} px off", p.name);
    }
}

#[test]
fn the_key_matte_view_shows_the_key_the_program_is_keyed_with() {
    use yardline_engine::field::{FieldKind, FieldModel};
    use yardline_keying::Region;

    // The default palette keys every colour as field; a region covering the whole field keys
    // nothing (its one sample is a magenta no frame holds). On air the region applies to every
    // pixel on the field, so the matte must be dark there, not the default palette's white.
    let mut key = KeyConfig::new(one_sample_palette(
        "everything",
        [128.0; 3],
        [3600.0; 3],
        6.0,
    ));
    key.regions.push(Region {
        name: "whole field".into(),
        rect: [-70.0, -40.0, 70.0, 40.0],
        palette: one_sample_palette("magenta", [105.0, 202.0, 222.0], [25.0; 3], 3.0),
    });
    let mut h = harness(Some(key));
    wait_for_video(&mut h);
    step_until(&mut h, "a camera pose and the operator key", |a| {
        a.preview().is_some_and(|p| p.report.camera.is_some()) && a.published().key.is_some()
    });
    h.get_by_label("Freeze frame").click();
    h.step();
    h.get_by_label("Key matte").click();
    step_until(&mut h, "the matte", |a| a.matte().is_some());

    let app = h.state();
    let p = app.shown_frame().expect("frozen frame");
    let camera = p.report.camera.expect("the frozen frame has a camera");
    let key = app.published().key.as_ref().expect("the engine's key");
    let layout = FrameLayout::packed(PixelFormat::Rgba, p.width, p.height).unwrap();
    let frame = FrameRef::new(&layout, &p.clean).unwrap();
    let on_air = key
        .matte(frame, &camera, &FieldModel::new(FieldKind::Nfl))
        .unwrap();
    let shown = app.matte().unwrap();
    assert!(shown == on_air.as_slice(), "the view shows the key on air");

    // The default palette alone (what the view would show without the camera) differs on
    // most of the frame: the check above tells the two apart.
    let default_only = key.keyer().key_frame(frame).unwrap();
    let differ = default_only
        .iter()
        .zip(&on_air)
        .filter(|(a, b)| (*a - *b).abs() > 0.5)
        .count();
    assert!(
        differ > on_air.len() / 4,
        "only {differ} of {} pixels differ from the default palette's matte",
        on_air.len()
    );
}

/// A primary-button drag from screen position `a` to `b`.
fn drag(
    h: &mut egui_kittest::Harness<'static, yardline_operator::OperatorApp>,
    a: egui::Pos2,
    b: egui::Pos2,
) {
    let button = |pos, pressed| egui::Event::PointerButton {
        pos,
        button: egui::PointerButton::Primary,
        pressed,
        modifiers: Modifiers::NONE,
    };
    h.event(egui::Event::PointerMoved(a));
    h.step();
    h.event(button(a, true));
    h.step();
    for k in 1..=6 {
        h.event(egui::Event::PointerMoved(a + (b - a) * (k as f32 / 6.0)));
        h.step();
    }
    h.event(button(b, false));
    h.step();
    h.step();
}

#[test]
fn the_exclusion_rectangle_tool_keeps_the_line_off_it_live_and_saves_it() {
    let mut h = harness(None);
    wait_for_video(&mut h);
    step_until(&mut h, "the line on the program", |a| {
        common::first_down_pixels_changed(a).0 > 3
    });
    h.get_by_label("Exclude rectangle").click();
    h.step();
    // The lower half of the image, dragged on screen.
    let (w, hgt) = {
        let p = h.state().preview().expect("a frame");
        (f64::from(p.width), f64::from(p.height))
    };
    let a = h
        .state()
        .image_to_screen([0.0, 0.5 * hgt])
        .expect("image on screen");
    let b = h
        .state()
        .image_to_screen([w - 1.0, hgt - 1.0])
        .expect("image on screen");
    drag(&mut h, a, b);
    assert_eq!(h.state().exclusions().len(), 1, "one exclusion drawn");
    let excl = h.state().exclusions()[0].clone();
    step_until(&mut h, "the exclusion in the engine", |a| {
        a.published().exclusions == [excl.clone()]
    });
    // The frames the engine draws from now on: nothing changed inside, the line outside.
    let mut checked = 0;
    let mut last = None;
    let start = std::time::Instant::now();
    while checked < 3 {
        h.step();
        assert!(start.elapsed().as_secs() < 60, "no new frames");
        let Some(p) = h.state().preview() else {
            continue;
        };
        if last == Some(p.report.frame) {
            continue;
        }
        last = Some(p.report.frame);
        if p.report.frame <= 2 {
            continue;
        }
        let (pw, ph) = (p.width as usize, p.height as usize);
        let (mut inside_changed, mut outside_changed, mut inside) = (0, 0, 0);
        for i in 0..pw * ph {
            let u = ((i % pw) as f64 + 0.5) / pw as f64;
            let v = ((i / pw) as f64 + 0.5) / ph as f64;
            let changed = p.program[4 * i..4 * i + 3] != p.clean[4 * i..4 * i + 3];
            if excl.contains(u, v) {
                inside += 1;
                inside_changed += usize::from(changed);
            } else {
                outside_changed += usize::from(changed);
            }
        }
        if checked == 0 && inside_changed > 0 {
            // A frame drawn before the exclusion reached the engine, still in the queue.
            continue;
        }
        assert!(inside > pw * ph / 3, "the rectangle holds {inside} pixels");
        assert_eq!(
            inside_changed, 0,
            "frame {}: pixels changed inside the exclusion",
            p.report.frame
        );
        assert!(
            outside_changed > 20,
            "frame {}: the line is gone outside too",
            p.report.frame
        );
        checked += 1;
    }

    // Saved into the key file as [[exclusion]].
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("key.toml");
    type_into(&mut h, "Key file", path.to_str().expect("utf-8 path"));
    h.get_by_label("Save exclusions").click();
    h.step();
    let saved = KeyConfig::load(&path).expect("the key file saved");
    assert_eq!(saved.exclusions, [excl]);
    h.get_by_label("Remove exclusion 1").click();
    h.step();
    assert!(h.state().exclusions().is_empty());
}

#[test]
fn the_clean_plate_switch_reaches_the_engine() {
    let mut h = harness(None);
    wait_for_video(&mut h);
    let plate =
        |a: &yardline_operator::OperatorApp| a.published().config.as_ref().map(|c| c.clean_plate);
    step_until(&mut h, "the engine's settings", |a| plate(a) == Some(false));
    h.get_by_label("Clean plate").click();
    step_until(&mut h, "the plate on in the engine", |a| {
        plate(a) == Some(true)
    });
    h.get_by_label("Clean plate").click();
    step_until(&mut h, "the plate off again", |a| plate(a) == Some(false));
}
