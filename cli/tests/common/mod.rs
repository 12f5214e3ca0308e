//! Helpers shared by the command-line tests.

use std::process::{Command, Output};

/// Runs the real `yardline` binary with `args` and waits for it.
pub fn yardline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yardline"))
        .args(args)
        .output()
        .expect("run yardline")
}

/// Exit status, stdout and stderr of a run, for assertion messages.
#[allow(dead_code, reason = "not every test file prints a run")]
pub fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
