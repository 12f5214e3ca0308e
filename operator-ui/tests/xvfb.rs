//! The real `yardline-operator` binary in a real X server (Xvfb), on the built-in sample:
//! screenshots of the root window (`ImageMagick` `import`) until the first-down line's yellow is
//! on screen. The last screenshot is kept under `$CARGO_TARGET_DIR/artefacts/`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use yardline_engine::DEFAULT_FIRST_DOWN_RGB;

/// Screen of the virtual X server.
const SCREEN: (u32, u32) = (1280, 800);
/// The image area lies left of the control panel; the panel's colour swatch of the same
/// yellow must not count.
const IMAGE_AREA_MAX_X: u32 = 880;
/// Pixels of the line's yellow needed to call the line visible.
const MIN_YELLOW_PIXELS: usize = 150;
/// Longest the test waits for the line (a failure bound: first launch builds the window and
/// the pipeline on a loaded CI machine).
const DEADLINE: Duration = Duration::from_secs(180);

fn artefact_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_TARGET_TMPDIR")).join(".."),
        PathBuf::from,
    );
    target.join("artefacts").join("operator-ui")
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// RGB bytes of a PNG (`ImageMagick` `convert`).
fn rgb_of(png: &Path) -> Vec<u8> {
    let out = Command::new("convert")
        .arg(png)
        .args(["-depth", "8", "rgb:-"])
        .output()
        .expect("run convert");
    assert!(
        out.status.success(),
        "convert failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn is_line_yellow(p: &[u8]) -> bool {
    let [r, g, b] = DEFAULT_FIRST_DOWN_RGB.map(i32::from);
    let d = |a: u8, b: i32| (i32::from(a) - b).abs();
    d(p[0], r) <= 40 && d(p[1], g) <= 40 && d(p[2], b) <= 60
}

struct Analysis {
    yellow: usize,
    distinct: usize,
}

fn analyse(rgb: &[u8]) -> Analysis {
    let (w, h) = SCREEN;
    assert_eq!(rgb.len(), (w * h * 3) as usize, "screenshot size");
    let mut yellow = 0;
    let mut seen = std::collections::HashSet::new();
    for y in 0..h {
        for x in 0..w {
            let i = ((y * w + x) * 3) as usize;
            let p = &rgb[i..i + 3];
            seen.insert([p[0] >> 3, p[1] >> 3, p[2] >> 3]);
            if x < IMAGE_AREA_MAX_X && is_line_yellow(p) {
                yellow += 1;
            }
        }
    }
    Analysis {
        yellow,
        distinct: seen.len(),
    }
}

#[test]
fn the_real_app_shows_the_line_on_the_builtin_sample_under_xvfb() {
    for tool in ["xvfb-run", "import", "convert"] {
        assert!(
            have(tool),
            "{tool} is not installed (scripts/install-deps.sh installs it)"
        );
    }
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    // First launch generates the built-in sample; do it here so the window opens at once.
    yardline_operator::sample_cache::ensure_builtin_sample(&cache).expect("built-in sample");
    let shots = work.path().join("shots");
    std::fs::create_dir_all(&shots).unwrap();
    let stop = work.path().join("stop");
    let log = work.path().join("app.log");
    let script = work.path().join("run.sh");
    std::fs::write(
        &script,
        r#"#!/bin/sh
# $1 binary, $2 cache dir, $3 screenshot dir, $4 stop file, $5 log
"$1" --cache-dir "$2" --no-persist --window 1280x800 >"$5" 2>&1 &
app=$!
i=0
while [ ! -e "$4" ] && kill -0 "$app" 2>/dev/null; do
  sleep 1
  i=$((i + 1))
  import -window root "png:$3/shot-$i.png.part" 2>/dev/null && mv "$3/shot-$i.png.part" "$3/shot-$i.png"
done
kill "$app" 2>/dev/null
wait "$app"
echo "app exit $?" >>"$5"
"#,
    )
    .unwrap();
    let home = work.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut child = Command::new("xvfb-run")
        .args([
            "-a",
            "-s",
            &format!("-screen 0 {}x{}x24", SCREEN.0, SCREEN.1),
        ])
        .arg("sh")
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_yardline-operator"))
        .arg(&cache)
        .arg(&shots)
        .arg(&stop)
        .arg(&log)
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env_remove("WAYLAND_DISPLAY")
        .spawn()
        .expect("start xvfb-run");

    let start = Instant::now();
    let mut best: Option<(PathBuf, Analysis)> = None;
    let mut seen = 0;
    while start.elapsed() < DEADLINE {
        std::thread::sleep(Duration::from_millis(500));
        let next = shots.join(format!("shot-{}.png", seen + 1));
        if !next.is_file() {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            continue;
        }
        seen += 1;
        let a = analyse(&rgb_of(&next));
        let done = a.yellow >= MIN_YELLOW_PIXELS && a.distinct > 200;
        if best.as_ref().is_none_or(|(_, b)| a.yellow >= b.yellow) {
            best = Some((next, a));
        }
        if done {
            break;
        }
    }
    std::fs::write(&stop, b"").unwrap();
    let status = child.wait().expect("xvfb-run");
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();

    let (shot, a) = best.unwrap_or_else(|| panic!("no screenshot taken; app log:\n{log_text}"));
    let dir = artefact_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let kept = dir.join("xvfb-builtin-sample.png");
    std::fs::copy(&shot, &kept).unwrap();
    eprintln!(
        "screenshot kept at {} ({} yellow pixels, {} colours); xvfb-run {status}",
        kept.display(),
        a.yellow,
        a.distinct
    );
    assert!(
        a.distinct > 200,
        "the screen is blank ({} colours); app log:\n{log_text}",
        a.distinct
    );
    assert!(
        a.yellow >= MIN_YELLOW_PIXELS,
        "the line's yellow covers only {} pixels of the image area (see {}); app log:\n{log_text}",
        a.yellow,
        kept.display()
    );
}
