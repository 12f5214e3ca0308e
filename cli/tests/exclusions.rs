//! Image-space exclusions through `key.toml`, run as the real binary on a real sample: a
//! rectangle excluded leaves every pixel inside it as it came in and every pixel outside as
//! the render without it drew, with the CPU and the GPU (lavapipe) compositors; a malformed
//! exclusion is one clear error naming the file and line.

use std::path::Path;
use std::process::Command;

mod common;

use common::{text, yardline};

const W: usize = 320;
const H: usize = 180;
const FRAMES: usize = 6;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn frames(path: &Path) -> Vec<Vec<u8>> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .expect("run ffmpeg");
    assert!(out.status.success(), "{}", text(&out));
    let size = W * H * 3;
    assert_eq!(out.stdout.len(), size * FRAMES, "{}", path.display());
    out.stdout.chunks(size).map(<[u8]>::to_vec).collect()
}

fn render(dir: &Path, key: &Path, backend: &str, out: &Path) {
    let run = yardline(&[
        "render",
        "--sample",
        s(dir),
        "--keying",
        s(key),
        "--backend",
        backend,
        "--output",
        s(out),
        "--quiet",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
}

#[test]
fn an_excluded_rectangle_is_never_drawn_over_and_nothing_else_changes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("sample");
    let run = yardline(&[
        "sample",
        "--out",
        s(&dir),
        "--seed",
        "31",
        "--frames",
        &FRAMES.to_string(),
        "--size",
        &format!("{W}x{H}"),
        "--quiet",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    // The automatic key, saved, then used as a key file with and without the exclusion.
    let key = tmp.path().join("key.toml");
    let auto = tmp.path().join("auto.mkv");
    let run = yardline(&[
        "render",
        "--sample",
        s(&dir),
        "--save-key",
        s(&key),
        "--output",
        s(&auto),
        "--quiet",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    let plain = tmp.path().join("plain.mkv");
    render(&dir, &key, "cpu", &plain);
    let input = frames(&dir.join("video.mkv"));
    let drawn = frames(&plain);

    // A band across the image through the middle of the rows the line covers in frame 0.
    let changed_rows: Vec<usize> = (0..H)
        .filter(|&r| (0..W * 3).any(|i| input[0][r * W * 3 + i] != drawn[0][r * W * 3 + i]))
        .collect();
    assert!(
        changed_rows.len() > 20,
        "the line covers {} rows",
        changed_rows.len()
    );
    let (ra, rb) = (
        changed_rows[changed_rows.len() * 2 / 5],
        changed_rows[changed_rows.len() * 3 / 5],
    );
    let rect = [0.1, ra as f64 / H as f64, 0.9, rb as f64 / H as f64];
    let inside = |p: usize| {
        let (c, r) = (p % W, p / W);
        let (u, v) = ((c as f64 + 0.5) / W as f64, (r as f64 + 0.5) / H as f64);
        (rect[0]..rect[2]).contains(&u) && (rect[1]..rect[3]).contains(&v)
    };
    let excluded_key = tmp.path().join("excluded.toml");
    let text = format!(
        "{}\n[[exclusion]]\nname = \"band\"\nrect = [{}, {}, {}, {}]\n",
        std::fs::read_to_string(&key).expect("key"),
        rect[0],
        rect[1],
        rect[2],
        rect[3]
    );
    std::fs::write(&excluded_key, text).expect("write key");

    for backend in ["cpu", "gpu"] {
        let out = tmp.path().join(format!("excluded-{backend}.mkv"));
        render(&dir, &excluded_key, backend, &out);
        let excluded = frames(&out);
        if backend == "cpu" {
            // The same shape given on the command line instead of in the key file.
            let flag = tmp.path().join("flag.mkv");
            let shape = format!("rect:{},{},{},{}", rect[0], rect[1], rect[2], rect[3]);
            let run = yardline(&[
                "render",
                "--sample",
                s(&dir),
                "--keying",
                s(&key),
                "--exclusions",
                &shape,
                "--backend",
                "cpu",
                "--output",
                s(&flag),
                "--quiet",
            ]);
            assert_eq!(run.status.code(), Some(0), "{}", common::text(&run));
            assert!(
                frames(&flag) == excluded,
                "--exclusions draws otherwise than the key file's exclusion"
            );
        }
        let reference = if backend == "cpu" {
            drawn.clone()
        } else {
            let gpu_plain = tmp.path().join("plain-gpu.mkv");
            render(&dir, &key, "gpu", &gpu_plain);
            frames(&gpu_plain)
        };
        let mut would_draw = 0;
        for k in 0..FRAMES {
            for p in 0..W * H {
                let px = |f: &[u8]| [f[3 * p], f[3 * p + 1], f[3 * p + 2]];
                if inside(p) {
                    assert_eq!(
                        px(&excluded[k]),
                        px(&input[k]),
                        "{backend}: frame {k} pixel ({}, {}) inside the exclusion changed",
                        p % W,
                        p / W
                    );
                    would_draw += usize::from(px(&reference[k]) != px(&input[k]));
                } else {
                    assert_eq!(
                        px(&excluded[k]),
                        px(&reference[k]),
                        "{backend}: frame {k} pixel ({}, {}) outside the exclusion differs",
                        p % W,
                        p / W
                    );
                }
            }
        }
        assert!(
            would_draw > 50,
            "{backend}: the line crosses only {would_draw} excluded pixels"
        );
    }

    // A malformed exclusion: one error naming the file and the line.
    let bad = tmp.path().join("bad.toml");
    let mut text = std::fs::read_to_string(&key).expect("key");
    let line = text.lines().count() + 2;
    text.push_str("\n[[exclusion]]\npolygon = [[0.1, 0.1], [0.2, 0.2]]\n");
    std::fs::write(&bad, text).expect("write key");
    let run = yardline(&[
        "render",
        "--sample",
        s(&dir),
        "--keying",
        s(&bad),
        "--output",
        s(&tmp.path().join("bad.mkv")),
        "--quiet",
    ]);
    assert_eq!(run.status.code(), Some(2), "{}", common::text(&run));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("bad.toml") && err.contains("at least 3 points") && err.contains("line"),
        "{err}"
    );
    assert!(
        err.contains(&format!("line {line}")) || err.contains(&format!("line {}", line + 1)),
        "expected line {line}: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}
