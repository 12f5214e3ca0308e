//! The scorer rates a perfect overlay (drawn here from the truth, anti-aliased) near 1 and a
//! 2-px-shifted one clearly worse, and counts in-view, drawn and wrongly painted frames and
//! re-acquisitions over a clip with cut-aways.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail the test by panicking"
)]

use yardline_samples::{
    EvalReport, MASK_PLAYER, RenderedFrame, Sample, SampleConfig, SampleError, Scenario, Scorer,
    TruthRecord,
};

const HALF_FIELD_WIDTH_M: f64 = 24.384;
const STATIONS: usize = 2000;
const SUB_ROWS: usize = 8;
const YELLOW: [f64; 3] = [255.0, 220.0, 0.0];
const BLUE: [f64; 3] = [30.0, 60.0, 255.0];

fn yard_x(yard: f64) -> f64 {
    (yard - 50.0) * 0.9144
}

/// Anti-aliased coverage of a ground strip (x +- half width, sideline to sideline), drawn by
/// scan-converting its projected outline, moved `shift_px` along the line's image normal.
fn strip_coverage(t: &TruthRecord, x: f64, half_w: f64, shift_px: f64) -> Vec<f64> {
    let (w, h) = (t.width as usize, t.height as usize);
    let y_at = |k: usize| {
        -HALF_FIELD_WIDTH_M + 2.0 * HALF_FIELD_WIDTH_M * k as f64 / (STATIONS - 1) as f64
    };
    let centre: Vec<[f64; 2]> = (0..STATIONS)
        .map(|k| t.project([x, y_at(k), 0.0]).unwrap())
        .collect();
    let normal = |k: usize| {
        let (a, b) = (
            centre[k.saturating_sub(1)],
            centre[(k + 1).min(STATIONS - 1)],
        );
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let n = (dx * dx + dy * dy).sqrt();
        let (nx, ny) = (dy / n, -dx / n);
        if nx < 0.0 { [-nx, -ny] } else { [nx, ny] }
    };
    let edge = |dx: f64| -> Vec<[f64; 2]> {
        (0..STATIONS)
            .map(|k| {
                let p = t.project([x + dx, y_at(k), 0.0]).unwrap();
                let n = normal(k);
                [p[0] + shift_px * n[0], p[1] + shift_px * n[1]]
            })
            .collect()
    };
    let mut poly = edge(-half_w);
    poly.extend(edge(half_w).into_iter().rev());
    let mut cov = vec![0.0; w * h];
    for r in 0..h {
        for j in 0..SUB_ROWS {
            let ys = r as f64 + (j as f64 + 0.5) / SUB_ROWS as f64 - 0.5;
            let mut xs: Vec<f64> = Vec::new();
            for i in 0..poly.len() {
                let (a, b) = (poly[i], poly[(i + 1) % poly.len()]);
                if (a[1] <= ys) != (b[1] <= ys) {
                    xs.push(a[0] + (ys - a[1]) / (b[1] - a[1]) * (b[0] - a[0]));
                }
            }
            xs.sort_by(f64::total_cmp);
            for span in xs.chunks_exact(2) {
                let (xa, xb) = (span[0].max(-0.5), span[1].min(w as f64 - 0.5));
                if xb <= xa {
                    continue;
                }
                for c in (xa + 0.5).floor() as usize..=((xb + 0.5).floor() as usize).min(w - 1) {
                    let lo = xa.max(c as f64 - 0.5);
                    let hi = xb.min(c as f64 + 0.5);
                    if hi > lo {
                        cov[r * w + c] += (hi - lo) / SUB_ROWS as f64;
                    }
                }
            }
        }
    }
    cov
}

/// Blends a line into the frame like a perfect keyer would (never over players).
fn draw(out: &mut [u8], frame: &RenderedFrame, cov: &[f64], colour: [f64; 3], opacity: f64) {
    for (i, &c) in cov.iter().enumerate() {
        let a = if frame.mask[i] == MASK_PLAYER {
            0.0
        } else {
            c.min(1.0) * opacity
        };
        for ch in 0..3 {
            let v = f64::from(out[i * 3 + ch]);
            out[i * 3 + ch] = (v + a * (colour[ch] - v)).round().clamp(0.0, 255.0) as u8;
        }
    }
}

struct Case {
    shift_px: f64,
    opacity: f64,
    scrimmage: bool,
    reported: Option<fn(&TruthRecord) -> TruthRecord>,
}

fn score(sample: &Sample, frames: &[RenderedFrame], case: &Case) -> EvalReport {
    let scene = sample.scene();
    let mut scorer = Scorer::new(&scene).unwrap();
    for f in frames {
        let mut out = f.rgb.clone();
        let hw = 0.5 * scene.line_width_m;
        if case.scrimmage {
            let cov = strip_coverage(&f.truth, yard_x(scene.scrimmage_yard), hw, 0.0);
            draw(&mut out, f, &cov, BLUE, case.opacity);
        }
        let cov = strip_coverage(&f.truth, yard_x(scene.first_down_yard), hw, case.shift_px);
        draw(&mut out, f, &cov, YELLOW, case.opacity);
        let rep = case.reported.map(|g| g(&f.truth));
        scorer
            .add_frame(&f.rgb, &out, &f.mask, &f.truth, rep.as_ref())
            .unwrap();
    }
    scorer.finish()
}

fn setup() -> (Sample, Vec<RenderedFrame>) {
    let s = Sample::new(SampleConfig {
        frames: 60,
        ..SampleConfig::default()
    })
    .unwrap();
    let frames = [0, 29, 59]
        .iter()
        .map(|&i| s.render_frame(i).unwrap())
        .collect();
    (s, frames)
}

#[test]
fn perfect_overlay_scores_near_one_and_shifted_clearly_worse() {
    let (s, frames) = setup();
    let base = Case {
        shift_px: 0.0,
        opacity: 1.0,
        scrimmage: false,
        reported: Some(|t| *t),
    };
    let perfect = score(&s, &frames, &base);
    println!("perfect: {perfect:?}");
    assert_eq!(perfect.frames, 3);
    assert!(perfect.truth_px > 500, "{perfect:?}");
    assert!(perfect.iou >= 0.97, "{perfect:?}");
    assert!(perfect.leak == 0.0 && perfect.miss <= 0.03, "{perfect:?}");
    let centre = perfect.centre_error_px.unwrap();
    assert!(centre <= 0.25, "{perfect:?}");
    assert_eq!(perfect.reported_rms_px, Some(0.0));

    // An engine that also draws the line of scrimmage, semi-transparent: same scores.
    let both = score(
        &s,
        &frames,
        &Case {
            opacity: 0.8,
            scrimmage: true,
            ..base
        },
    );
    println!("both lines, 80 %: {both:?}");
    assert!(both.iou >= 0.97 && both.leak == 0.0, "{both:?}");
    assert!(both.centre_error_px.unwrap() <= 0.25, "{both:?}");

    let shifted = score(
        &s,
        &frames,
        &Case {
            shift_px: 2.0,
            ..base
        },
    );
    println!("shifted: {shifted:?}");
    assert!(shifted.iou < perfect.iou - 0.15, "{shifted:?}");
    let err = shifted.centre_error_px.unwrap();
    assert!((1.7..=2.3).contains(&err), "{shifted:?}");
}

/// A tight shot whose line leaves the frame by its side: in the rows where the side cuts the
/// strip only part of its width is painted, and the centre is not scored there (a perfect
/// overlay's worst frame stays near zero instead of half the strip's width in pixels).
#[test]
fn a_strip_the_frame_cuts_is_not_scored_off_centre() {
    let s = Sample::new(SampleConfig {
        seed: 5,
        frames: 150,
        width: 1280,
        height: 720,
        scenario: Scenario::Zoom,
        ..SampleConfig::default()
    })
    .unwrap();
    let frame = s.render_frame(82).unwrap();
    let scene = s.scene();
    let hw = 0.5 * scene.line_width_m;
    let cov = strip_coverage(&frame.truth, yard_x(scene.first_down_yard), hw, 0.0);
    let (w, h) = (frame.truth.width as usize, frame.truth.height as usize);
    let cut_rows = (0..h)
        .filter(|r| cov[r * w] > 0.0 || cov[r * w + w - 1] > 0.0)
        .count();
    assert!(
        cut_rows >= 20,
        "the frame's side cuts the strip in {cut_rows} rows"
    );
    let r = score(
        &s,
        std::slice::from_ref(&frame),
        &Case {
            shift_px: 0.0,
            opacity: 1.0,
            scrimmage: false,
            reported: None,
        },
    );
    println!("{r:?}");
    assert!(r.iou >= 0.97, "{r:?}");
    assert!(r.centre_rows >= 100, "{r:?}");
    assert!(r.max_frame_centre_px.unwrap() <= 0.25, "{r:?}");
}

#[test]
fn reported_camera_error_is_measured() {
    let (s, frames) = setup();
    let tilted = |t: &TruthRecord| {
        // Turn the camera 0.01 degree about its own x axis: R' = Rx(a) R, t' = Rx(a) t.
        let a = 0.01_f64.to_radians();
        let (sn, cs) = a.sin_cos();
        let rx = [[1.0, 0.0, 0.0], [0.0, cs, -sn], [0.0, sn, cs]];
        let mut out = *t;
        for (i, row) in rx.iter().enumerate() {
            for j in 0..3 {
                out.rotation[i * 3 + j] = (0..3).map(|k| row[k] * t.rotation[k * 3 + j]).sum();
            }
            out.translation[i] = (0..3).map(|k| row[k] * t.translation[k]).sum();
        }
        out
    };
    let r = score(
        &s,
        &frames,
        &Case {
            shift_px: 0.0,
            opacity: 1.0,
            scrimmage: false,
            reported: Some(tilted),
        },
    );
    // 0.01 degree is fy * tan(0.01 deg) pixels at the image centre.
    let expect = frames[0].truth.intrinsics.fy * 0.01_f64.to_radians().tan();
    let got = r.reported_rms_px.unwrap();
    assert_eq!(r.reported_frames, 3);
    assert!(
        got > 0.5 * expect && got < 2.0 * expect,
        "{got} vs about {expect}"
    );
}

#[test]
fn mismatched_inputs_are_errors() {
    let (s, frames) = setup();
    let mut scorer = Scorer::new(&s.scene()).unwrap();
    let f = &frames[0];
    let short = &f.rgb[..f.rgb.len() - 3];
    assert!(matches!(
        scorer.add_frame(&f.rgb, short, &f.mask, &f.truth, None),
        Err(SampleError::Mismatch(_))
    ));
    assert!(matches!(
        scorer.add_frame(&f.rgb, &f.rgb, &f.mask[1..], &f.truth, None),
        Err(SampleError::Mismatch(_))
    ));
    let mut bad = f.truth;
    bad.intrinsics.fx = -1.0;
    assert!(
        scorer
            .add_frame(&f.rgb, &f.rgb, &f.mask, &bad, None)
            .is_err()
    );
    let untouched = {
        let mut sc = Scorer::new(&s.scene()).unwrap();
        sc.add_frame(&f.rgb, &f.rgb, &f.mask, &f.truth, None)
            .unwrap();
        sc.finish()
    };
    assert_eq!(untouched.painted_px, 0);
    assert!(
        (untouched.miss - 1.0).abs() < 1e-12 && untouched.iou.abs() < 1e-12,
        "{untouched:?}"
    );
}

/// A `cut` clip at 15 fps (cut-aways of 15 to 45 frames), its frames, whether each is cut
/// away, and the true line's coverage on the others.
fn cut_clip() -> (Sample, Vec<RenderedFrame>, Vec<bool>, Vec<Vec<f64>>) {
    let s = Sample::new(SampleConfig {
        scenario: Scenario::Cut,
        frames: 210,
        width: 320,
        height: 180,
        fps_num: 15,
        fps_den: 1,
        line_width_m: 0.4,
        ..SampleConfig::default()
    })
    .unwrap();
    let scene = s.scene();
    let away: Vec<bool> = (0..s.frame_count())
        .map(|i| s.cut_away(i).unwrap())
        .collect();
    let frames: Vec<RenderedFrame> = (0..s.frame_count())
        .map(|i| s.render_frame(i).unwrap())
        .collect();
    let cover = frames
        .iter()
        .zip(&away)
        .map(|(f, &a)| {
            if a {
                Vec::new()
            } else {
                let x = yard_x(scene.first_down_yard);
                strip_coverage(&f.truth, x, 0.5 * scene.line_width_m, 0.0)
            }
        })
        .collect();
    (s, frames, away, cover)
}

/// Scores the clip with the line drawn where `paint(k)` says (cut-away frames: a block of
/// colour where `wrong(k)` says).
fn score_clip(
    sample: &Sample,
    frames: &[RenderedFrame],
    cover: &[Vec<f64>],
    paint: impl Fn(usize) -> bool,
    wrong: impl Fn(usize) -> bool,
    shifted: Option<usize>,
) -> EvalReport {
    let mut scorer = Scorer::new(&sample.scene()).unwrap();
    let x = yard_x(sample.scene().first_down_yard);
    let hw = 0.5 * sample.scene().line_width_m;
    for (k, f) in frames.iter().enumerate() {
        let mut out = f.rgb.clone();
        if shifted == Some(k) {
            draw(
                &mut out,
                f,
                &strip_coverage(&f.truth, x, hw, 3.0),
                YELLOW,
                1.0,
            );
        } else if paint(k) && !cover[k].is_empty() {
            draw(&mut out, f, &cover[k], YELLOW, 1.0);
        }
        if wrong(k) {
            let w = f.truth.width as usize;
            let mut block = vec![0.0; f.mask.len()];
            block[60 * w..70 * w].fill(1.0);
            draw(&mut out, f, &block, YELLOW, 1.0);
        }
        scorer
            .add_frame(&f.rgb, &out, &f.mask, &f.truth, None)
            .unwrap();
    }
    scorer.finish()
}

#[test]
fn view_figures_of_a_clip_with_cut_aways() {
    let (s, frames, away, cover) = cut_clip();
    let n = frames.len();
    let starts: Vec<usize> = (1..n).filter(|&k| away[k] && !away[k - 1]).collect();
    let returns: Vec<usize> = (1..n).filter(|&k| !away[k] && away[k - 1]).collect();
    let on_field = away.iter().filter(|&&a| !a).count() as u32;
    assert!(
        !returns.is_empty() && starts.len() >= returns.len(),
        "{away:?}"
    );
    assert!(
        returns
            .iter()
            .zip(&starts)
            .all(|(r, s)| r - s >= 15 && r - s <= 46),
        "{starts:?} {returns:?}"
    );

    // Drawn on every field frame, one of them 3 px off; a block painted on the first two
    // frames of every cut-away (a line held over from the field).
    let worst = returns[0] + 5;
    let r = score_clip(
        &s,
        &frames,
        &cover,
        |_| true,
        |k| starts.iter().any(|&s| k == s || k == s + 1),
        Some(worst),
    );
    println!("on time: {r:?}");
    assert_eq!(r.frames, n as u32);
    assert_eq!(r.in_view_frames, on_field);
    assert_eq!(r.drawn_in_view_frames, on_field);
    assert_eq!(r.drawn_share, Some(1.0));
    assert_eq!(r.painted_out_of_view_frames, 2 * starts.len() as u32);
    assert_eq!(r.reacquire_frames, vec![Some(0); returns.len()]);
    assert_eq!(r.max_reacquire_frames, Some(0));
    assert_eq!(r.unreacquired_returns, 0);
    let centre = r.max_frame_centre_px.unwrap();
    assert!((2.5..=3.5).contains(&centre), "{r:?}");
    assert_eq!(r.max_frame_centre_frame, Some(worst as u32));
    assert!(r.centre_error_px.unwrap() < 1.0, "{r:?}");

    // Drawn 3 frames late after each return but the last, never after the last; nothing on
    // the cut-aways.
    let last = *returns.last().unwrap();
    let late = |k: usize| k < last && !returns.iter().any(|&r| (r..r + 3).contains(&k));
    let r = score_clip(&s, &frames, &cover, late, |_| false, None);
    println!("late: {r:?}");
    let mut expect = vec![Some(3); returns.len() - 1];
    expect.push(None);
    assert_eq!(r.reacquire_frames, expect);
    assert_eq!(r.unreacquired_returns, 1);
    assert_eq!(
        r.max_reacquire_frames,
        (returns.len() > 1).then_some(3),
        "{r:?}"
    );
    assert_eq!(r.painted_out_of_view_frames, 0);
    assert_eq!(r.in_view_frames, on_field);
    let drawn = (0..n).filter(|&k| !away[k] && late(k)).count() as u32;
    assert_eq!(r.drawn_in_view_frames, drawn);
    let share = r.drawn_share.unwrap();
    assert!((share - f64::from(drawn) / f64::from(on_field)).abs() < 1e-12);
    assert!(share < 0.9, "{r:?}");

    // Nothing painted: nothing drawn, no returns re-acquired, no frame measured.
    let r = score_clip(&s, &frames, &cover, |_| false, |_| false, None);
    assert_eq!(r.drawn_in_view_frames, 0);
    assert_eq!(r.drawn_share, Some(0.0));
    assert_eq!(r.reacquire_frames, vec![None; returns.len()]);
    assert_eq!(r.max_reacquire_frames, None);
    assert_eq!(r.max_frame_centre_px, None);
    assert_eq!(r.max_frame_centre_frame, None);
}

#[test]
fn view_figures_serialise_under_their_names() {
    let (s, frames) = setup();
    let mut scorer = Scorer::new(&s.scene()).unwrap();
    for f in &frames {
        scorer
            .add_frame(&f.rgb, &f.rgb, &f.mask, &f.truth, None)
            .unwrap();
    }
    let json = serde_json::to_value(scorer.finish()).unwrap();
    assert_eq!(json["in_view_frames"], 3);
    assert_eq!(json["drawn_in_view_frames"], 0);
    assert_eq!(json["drawn_share"], 0.0);
    assert!(json["max_frame_centre_px"].is_null());
    assert!(json["max_frame_centre_frame"].is_null());
    assert_eq!(json["painted_out_of_view_frames"], 0);
    assert_eq!(json["reacquire_frames"], serde_json::json!([]));
    assert!(json["max_reacquire_frames"].is_null());
    assert_eq!(json["unreacquired_returns"], 0);
}
