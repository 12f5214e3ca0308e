//! What the two binaries of the `yardline` command line share.
//!
//! `yardline` (`main.rs`) is the binary a user runs. It answers `yardline control ...` and
//! `yardline --version` itself and hands every other command to `yardline-full` (`full.rs`,
//! installed beside it), which links the engine, OpenCV and GStreamer. A process that loads
//! those libraries spends most of its start-up in the dynamic loader (symbol relocations of
//! OpenCV and libstdc++, mapping some 40 libraries); `yardline control`, typed by an operator
//! while the game runs, loads none of them and starts in about a millisecond.

pub mod control_cmd;

use std::path::PathBuf;

/// Exit code for a processing failure.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code for a usage or configuration error.
pub const EXIT_USAGE: u8 = 2;

/// The binary that runs every command but `control` (and `--version`): `yardline` execs it
/// with the same arguments.
pub const FULL_BINARY: &str = "yardline-full";

/// What `yardline --help` says the command line is.
pub const ABOUT: &str = "Virtual first-down line engine: render, sample, evaluate, benchmark";

/// The binary a user runs.
pub const USER_BINARY: &str = "yardline";

/// An error in how the command was called or configured (bad argument, missing input file):
/// exits with [`EXIT_USAGE`]. Anything else that fails exits with [`EXIT_FAILURE`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Whether any cause in `err`'s chain is a [`UsageError`].
pub fn is_usage(err: &anyhow::Error) -> bool {
    err.chain().any(<dyn std::error::Error>::is::<UsageError>)
}

/// The path of `name` (one of the command line's binaries) in the folder of the running
/// binary, where `cargo build` and `cargo install` put them all.
pub fn sibling(name: &str) -> std::io::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    Ok(exe.with_file_name(format!("{name}{}", std::env::consts::EXE_SUFFIX)))
}

/// Logs (`tracing`) on stderr, at the level `RUST_LOG` sets (default `warn`).
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
}
