//! `yardline render --realtime --control`: a render paced like a live source serves the control
//! API; `yardline control ... set first-down 45` mid-render moves the line from the next
//! frame boundary on, and `set key @key.toml` swaps the key the same way. The frames are
//! compared with plain renders of the same sample (the same binary) at 35, at 45 and with the
//! key from the start.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{text, yardline};
use yardline_control::client::Client;
use yardline_control::protocol::{KeySource, key_hash};

const TOKEN: &str = "live-token";
const FRAMES: usize = 150;

/// A key of magenta alone: nothing on the field keys, no line is drawn.
const MAGENTA_KEY: &str = "version = 1
[palette]
softness = 1.0
[[palette.samples]]
kind = \"inclusion\"
mean = [105.0, 202.0, 222.0]
covariance = [[9.0, 0.0, 0.0], [0.0, 9.0, 0.0], [0.0, 0.0, 9.0]]
tolerance = 2.0
";

/// The RGBA frames of a PNG sequence `dir/prefix_%05d.png`.
fn frames(dir: &Path, prefix: &str) -> Vec<Vec<u8>> {
    (0..FRAMES)
        .map(|i| {
            let p = dir.join(format!("{prefix}_{i:05}.png"));
            image::open(&p)
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
                .to_rgba8()
                .into_raw()
        })
        .collect()
}

fn render(sample: &str, dir: &Path, prefix: &str, extra: &[&str]) -> Vec<Vec<u8>> {
    let out = dir.join(format!("{prefix}_%05d.png"));
    let args = [
        &[
            "render",
            "--sample",
            sample,
            "--backend",
            "cpu",
            "--quiet",
            "--output",
            out.to_str().unwrap(),
        ][..],
        extra,
    ]
    .concat();
    let run = yardline(&args);
    assert!(run.status.success(), "{}", text(&run));
    frames(dir, prefix)
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a == b
}

/// Name (as the kernel cuts it to 15 bytes), policy (0 `SCHED_OTHER`, 1 `SCHED_FIFO`),
/// real-time priority and nice level of every thread of process `pid`.
fn threads(pid: u32) -> Vec<(String, i32, i32, i32)> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .filter_map(|t| {
            let stat = std::fs::read_to_string(t.ok()?.path().join("stat")).ok()?;
            let name = stat[stat.find('(')? + 1..stat.rfind(')')?].to_owned();
            let f: Vec<i32> = stat[stat.rfind(')')? + 1..]
                .split_whitespace()
                .map(|v| v.parse().unwrap_or(0))
                .collect();
            // Fields 19 (nice), 40 (rt_priority), 41 (policy), counted from 1.
            Some((name, f[38], f[37], f[16]))
        })
        .collect()
}

/// The control server's thread runs real-time below the frame path where this machine lets a
/// process have it (else at the best nice level it may take), and the thread that encodes a
/// still runs at normal scheduling.
fn server_threads_are_scheduled(pid: u32, client: &Client) {
    use yardline_engine::sched::{Scheduling, promote_control_thread};
    // What a thread of this user may have is what the render's server thread asked for.
    let allowed = std::thread::spawn(promote_control_thread).join().unwrap();
    client.still().unwrap();
    let all = threads(pid);
    let server = all
        .iter()
        .find(|t| t.0.starts_with("yardline-contro"))
        .unwrap_or_else(|| panic!("no control server thread in {all:?}"));
    match allowed {
        Scheduling::Realtime(p) => assert_eq!((server.1, server.2), (1, i32::from(p)), "{all:?}"),
        Scheduling::Nice(n) => assert_eq!((server.1, server.3), (0, n), "{all:?}"),
        Scheduling::Unchanged => return,
    }
    let workers: Vec<_> = all.iter().filter(|t| t.0.starts_with("tokio-")).collect();
    assert!(!workers.is_empty(), "no still encoder thread in {all:?}");
    for w in workers {
        assert_eq!((w.1, w.3), (0, 0), "a still encoder at {w:?}");
    }
}

#[test]
#[allow(clippy::too_many_lines, reason = "one live session, step by step")]
fn a_realtime_render_is_driven_live_through_the_control_api() {
    let tmp = tempfile::tempdir().unwrap();
    let sample = tmp.path().join("sample");
    let s = sample.to_str().unwrap();
    let made = yardline(&[
        "sample",
        "--out",
        s,
        "--frames",
        &FRAMES.to_string(),
        "--size",
        "640x360",
        "--first-down",
        "35",
        "--quiet",
    ]);
    assert!(made.status.success(), "{}", text(&made));
    let key = tmp.path().join("magenta.toml");
    std::fs::write(&key, MAGENTA_KEY).unwrap();
    let at35 = render(s, tmp.path(), "at35", &[]);
    let at45 = render(s, tmp.path(), "at45", &["--first-down", "45"]);
    let keyed = render(s, tmp.path(), "keyed", &["--keying", key.to_str().unwrap()]);
    assert!(!same(&at35[60], &at45[60]), "the line moves");

    let out = tmp.path().join("live_%05d.png");
    let mut child = Command::new(env!("CARGO_BIN_EXE_yardline"))
        .args([
            "render",
            "--sample",
            s,
            "--backend",
            "cpu",
            "--quiet",
            "--realtime",
            "--control",
            "127.0.0.1:0",
            "--control-token",
            TOKEN,
            "--output",
            out.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let addr = loop {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "no control address"
        );
        if let Some(a) = line.trim().strip_prefix("control: listening on ") {
            break a.to_owned();
        }
    };
    let client = Client::new(&addr, Some(TOKEN));
    let frames_now = || client.status().unwrap().frames as usize;
    let wait_for = |n: usize| {
        let start = Instant::now();
        while frames_now() < n {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the render stalled"
            );
            std::thread::sleep(Duration::from_millis(30));
        }
    };

    wait_for(40);
    server_threads_are_scheduled(child.id(), &client);
    let before_first_down = frames_now();
    let set = yardline(&[
        "control",
        &addr,
        "--token",
        TOKEN,
        "set",
        "first-down",
        "45",
    ]);
    assert!(set.status.success(), "{}", text(&set));
    let after_first_down = frames_now();

    wait_for(100);
    let before_key = frames_now();
    let key_arg = format!("@{}", key.display());
    let set = yardline(&["control", &addr, "--token", TOKEN, "set", "key", &key_arg]);
    assert!(set.status.success(), "{}", text(&set));
    let after_key = frames_now();
    wait_for(after_key + 2);
    let status = client.status().unwrap();
    assert_eq!(status.settings["first-down"], serde_json::json!(45.0));
    let bad = yardline(&[
        "control",
        &addr,
        "--token",
        TOKEN,
        "set",
        "key",
        "@/nonexistent",
    ]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));

    let done = child.wait_with_output().unwrap();
    assert!(done.status.success(), "{}", text(&done));
    let live = frames(tmp.path(), "live");

    // Frames before the command are at 35, from the landing frame on at 45, then keyed.
    let moved = (0..FRAMES)
        .find(|&i| !same(&live[i], &at35[i]))
        .expect("the line moved");
    let keyed_from = (moved..FRAMES)
        .find(|&i| !same(&live[i], &at45[i]))
        .expect("the key changed");
    for i in moved..keyed_from {
        assert!(same(&live[i], &at45[i]), "frame {i} is not at 45");
    }
    for i in keyed_from..FRAMES {
        assert!(same(&live[i], &keyed[i]), "frame {i} is not keyed");
    }
    // The frame boundary rule: the change lands on a frame that started after it was
    // accepted, and no later than the first frame that started after the reply (`after`
    // frames had finished then; frame `after` may have been in flight).
    assert!(
        (before_first_down..=after_first_down + 1).contains(&moved),
        "first down landed on frame {moved}, asked between frames {before_first_down} and \
         {after_first_down}"
    );
    assert!(
        (before_key..=after_key + 1).contains(&keyed_from),
        "key landed on frame {keyed_from}, asked between frames {before_key} and {after_key}"
    );
    assert_eq!(status.key.source, KeySource::Operator);
    assert_eq!(
        status.key.hash.as_deref(),
        Some(key_hash(MAGENTA_KEY).as_str())
    );
}
