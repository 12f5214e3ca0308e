//! Helpers shared by the command-line tests.

use std::process::{Command, Output};

/// Runs the real `yardline` binary with `args` and waits for it.
pub fn yardline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yardline"))
        .args(args)
        .output()
        .expect("run yardline")
}
