//! `yardline sample --scenario stadium`, run as the real binary: the stored video is the
//! lossless render passed through H.264, the masks and truth are exact, the purple yard line
//! and the logo lie under the first-down line as field surface, the score bug is 255 in the
//! masks, and the light kits stand partly in shade.

use std::path::Path;
use std::process::Command;

mod common;

use common::{text, yardline};
use yardline_samples::{
    MASK_FIELD, MASK_PLAYER, Sample, SampleConfig, Scenario, Surface, score_bug_pixels,
};

const W: u32 = 320;
const H: u32 = 180;
const FRAMES: u32 = 6;
const SEED: u64 = 23;

fn make(dir: &Path) {
    let out = yardline(&[
        "sample",
        "--scenario",
        "stadium",
        "--out",
        dir.to_str().expect("utf-8 path"),
        "--seed",
        &SEED.to_string(),
        "--frames",
        &FRAMES.to_string(),
        "--size",
        &format!("{W}x{H}"),
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

/// Every frame of a stored video as raw pixels (`pix`: rgb24 or gray), decoded by ffmpeg.
fn frames(path: &Path, pix: &str, bytes_per_pixel: usize) -> Vec<Vec<u8>> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "rawvideo", "-pix_fmt", pix, "-"])
        .output()
        .expect("run ffmpeg");
    assert!(out.status.success(), "{}", text(&out));
    let size = (W * H) as usize * bytes_per_pixel;
    assert_eq!(
        out.stdout.len(),
        size * FRAMES as usize,
        "{}",
        path.display()
    );
    out.stdout.chunks(size).map(<[u8]>::to_vec).collect()
}

fn sample() -> Sample {
    Sample::new(SampleConfig {
        seed: SEED,
        frames: FRAMES,
        width: W,
        height: H,
        scenario: Scenario::Stadium,
        ..SampleConfig::default()
    })
    .expect("sample")
}

#[test]
fn stadium_sample_is_h264_video_over_exact_masks_with_paint_under_the_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("stadium");
    make(&dir);
    assert!(
        !dir.join("video.h264.mp4").exists(),
        "the H.264 pass left its file behind"
    );
    let video = frames(&dir.join("video.mkv"), "rgb24", 3);
    let masks = frames(&dir.join("masks.mkv"), "gray", 1);
    let s = sample();
    let [c0, r0, c1, r1] = score_bug_pixels(W, H);
    assert!(
        c1 > c0 + 10 && r1 > r0 + 3,
        "score bug {c0}..{c1} x {r0}..{r1}"
    );

    let (mut sq, mut n) = (0.0_f64, 0_u64);
    let (mut shade_light, mut sun_light) = (0_u32, 0_u32);
    for i in 0..FRAMES {
        let k = i as usize;
        let lossless = s.render_frame(i).expect("render");
        // Masks stay exact; the score bug is 255.
        assert!(
            masks[k] == lossless.mask,
            "frame {i}: the mask is not exact"
        );
        for r in r0..r1 {
            for c in c0..c1 {
                assert_eq!(
                    masks[k][(r * W + c) as usize],
                    MASK_PLAYER,
                    "frame {i}: score bug pixel ({c}, {r}) is not 255"
                );
            }
        }
        // The video is the lossless picture with a lossy codec's error on it.
        for (a, b) in video[k].iter().zip(&lossless.rgb) {
            let d = f64::from(*a) - f64::from(*b);
            sq += d * d;
            n += 1;
        }
        // Light kits (white, light blue: neutral or bluish, never green) in the sun and in the
        // roof's shade, outside the score bug.
        for (p, (&m, px)) in lossless.mask.iter().zip(lossless.rgb.chunks(3)).enumerate() {
            let (c, r) = ((p as u32) % W, (p as u32) / W);
            let in_bug = (c0..c1).contains(&c) && (r0..r1).contains(&r);
            let [red, green, blue] = [px[0], px[1], px[2]].map(f64::from);
            let light_kit = blue >= green - 12.0 && red >= 0.6 * blue && green >= 0.75 * blue;
            if m != MASK_PLAYER || in_bug || !light_kit {
                continue;
            }
            let top = red.max(green).max(blue);
            if (55.0..150.0).contains(&top) {
                shade_light += 1;
            } else if top >= 200.0 {
                sun_light += 1;
            }
        }
    }
    let psnr = 10.0 * (255.0_f64 * 255.0 / (sq / n as f64)).log10();
    assert!(
        (26.0..52.0).contains(&psnr),
        "PSNR of the stored video against the lossless render {psnr:.1} dB is not an H.264 stream's"
    );
    assert!(
        shade_light >= 20 && sun_light >= 20,
        "light kit pixels: {shade_light} in shade, {sun_light} in the sun"
    );

    // The purple yard line and the logo lie under the first-down line, on field surface.
    let fd = (s.config().first_down_yard - 50.0) * 0.9144;
    let (mut logo, mut line) = (0_u32, 0_u32);
    for i in 0..FRAMES {
        for step in 0..=960 {
            let y = -24.0 + 0.05 * f64::from(step);
            let surface = s.surface_at(fd, y);
            let Some([u, v]) = s.project(i, [fd, y, 0.0]).expect("project") else {
                continue;
            };
            let (c, r) = (u.round(), v.round());
            if c < 0.0 || r < 0.0 || c >= f64::from(W) || r >= f64::from(H) {
                continue;
            }
            let field = masks[i as usize][(r as u32 * W + c as u32) as usize] == MASK_FIELD;
            match surface {
                Surface::Logo if field => logo += 1,
                Surface::ColouredLine if field => line += 1,
                _ => {}
            }
        }
    }
    assert!(
        logo >= 20 && line >= 20,
        "field surface under the first-down line: {logo} logo points, {line} purple line points"
    );
}

#[test]
fn stadium_sample_is_deterministic_and_refuses_odd_sizes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    make(&a);
    make(&b);
    for name in ["video.mkv", "masks.mkv", "truth.jsonl"] {
        let read = |d: &Path| std::fs::read(d.join(name)).expect(name);
        assert!(read(&a) == read(&b), "{name} differs between two runs");
    }
    let out = yardline(&[
        "sample",
        "--scenario",
        "stadium",
        "--out",
        tmp.path().join("odd").to_str().expect("utf-8 path"),
        "--size",
        "321x180",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("even width and height"), "{err}");
}

/// The sample holds the operator's rectangle round the score bug (`exclusions.txt`), a little
/// wider than the bug, and `render --sample` applies it: nothing inside it is drawn over, where
/// without the file the line crosses its rim. A malformed file is refused naming it.
#[test]
fn render_of_a_stadium_sample_applies_the_operators_exclusion() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("stadium");
    make(&dir);
    let file = dir.join(yardline_samples::EXCLUSIONS_FILE);
    let shapes = std::fs::read_to_string(&file).expect("exclusions.txt");
    let [x0, y0, x1, y1] = yardline_samples::OPERATOR_SCORE_BUG_RECT;
    assert_eq!(shapes.trim(), format!("rect:{x0},{y0},{x1},{y1}"));
    let out_path = tmp.path().join("out.mkv");
    let render = || {
        yardline(&[
            "render",
            "--sample",
            dir.to_str().expect("utf-8 path"),
            "--backend",
            "cpu",
            "--output",
            out_path.to_str().expect("utf-8 path"),
            "--quiet",
        ])
    };
    // Pixels changed inside the operator's rectangle (centres inside it) and outside it.
    let changed = || {
        let input = frames(&dir.join("video.mkv"), "rgb24", 3);
        let output = frames(&out_path, "rgb24", 3);
        let first = |t: f64, n: u32| (t * f64::from(n) - 0.5).ceil() as u32;
        let (c0, r0, c1, r1) = (first(x0, W), first(y0, H), first(x1, W), first(y1, H));
        let (mut inside, mut outside) = (0_u32, 0_u32);
        for (a, b) in input.iter().zip(&output) {
            for r in 0..H {
                for c in 0..W {
                    let i = ((r * W + c) * 3) as usize;
                    let changed = u32::from(a[i..i + 3] != b[i..i + 3]);
                    if (c0..c1).contains(&c) && (r0..r1).contains(&r) {
                        inside += changed;
                    } else {
                        outside += changed;
                    }
                }
            }
        }
        (inside, outside)
    };
    let out = render();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (inside, outside) = changed();
    assert_eq!(
        inside, 0,
        "pixels inside the operator's exclusion drawn over"
    );
    assert!(
        outside > 100,
        "the line is drawn elsewhere: {outside} pixels"
    );

    std::fs::remove_file(&file).expect("remove");
    let out = render();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (inside, _) = changed();
    assert!(
        inside > 0,
        "without the file the line crosses the rim of the rectangle"
    );

    std::fs::write(&file, "rect:0.2,0.8\n").expect("write");
    let out = render();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("exclusions.txt"), "{err}");
}
