//! `yardline`: the command line of the yardline engine.
//!
//! This binary answers `yardline control ...` (and `--version`) itself and execs
//! `yardline-full`, installed beside it, for every other command with the same arguments, so
//! that an operator's `yardline control ADDR set first-down 45` does not load the engine's
//! libraries (see the library's docs).

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use yardline_cli::{EXIT_FAILURE, EXIT_USAGE, FULL_BINARY, USER_BINARY, control_cmd};

/// The commands this binary runs itself; `yardline-full` has them all (`yardline --help`).
#[derive(Debug, Parser)]
#[command(name = "yardline", version, about = yardline_cli::ABOUT)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(about = control_cmd::ABOUT)]
    Control(control_cmd::ControlArgs),
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    match args.get(1).and_then(|a| a.to_str()) {
        Some("control" | "--version" | "-V") => control(),
        _ => full(args.get(1..).unwrap_or_default()),
    }
}

/// `yardline control ...` and `yardline --version`, without the engine.
fn control() -> ExitCode {
    yardline_cli::init_logging();
    let Command::Control(args) = Cli::parse().command;
    match control_cmd::run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(if yardline_cli::is_usage(&e) {
                EXIT_USAGE
            } else {
                EXIT_FAILURE
            })
        }
    }
}

/// Every other command: `yardline-full` with the same arguments, in this process (exec), so
/// that its output, exit code and signals are the command's own; its messages name the
/// program `yardline`, as its argument 0 says.
fn full(args: &[OsString]) -> ExitCode {
    let path = match yardline_cli::sibling(FULL_BINARY) {
        Ok(path) => path,
        Err(e) => {
            eprintln!("error: where is {USER_BINARY}? {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let mut command = std::process::Command::new(&path);
    command.args(args);
    let failure = run_in_place(&mut command);
    eprintln!(
        "error: cannot run {}: {failure} (the engine's commands run in {FULL_BINARY}, built \
         and installed beside {USER_BINARY}: cargo build -p yardline-cli, cargo install \
         --path cli)",
        path.display()
    );
    ExitCode::from(EXIT_FAILURE)
}

/// Replaces this process with `command` (named `yardline` in its argument 0); returns only
/// when that fails.
#[cfg(unix)]
fn run_in_place(command: &mut std::process::Command) -> std::io::Error {
    use std::os::unix::process::CommandExt;
    command.arg0(USER_BINARY).exec()
}

/// Runs `command` to its end and exits with its code (no exec outside Unix).
#[cfg(not(unix))]
fn run_in_place(command: &mut std::process::Command) -> std::io::Error {
    match command.status() {
        Ok(status) => std::process::exit(status.code().unwrap_or(i32::from(EXIT_FAILURE))),
        Err(e) => e,
    }
}
