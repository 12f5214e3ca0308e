//! `yardline`: the command-line front end of the yardline engine.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench_cmd;
mod bench_control;
mod calibrate_cmd;
mod control_cmd;
mod demo;
mod eval_cmd;
mod live;
mod load;
mod register_cmd;
mod render_cmd;
mod sample_cmd;
mod scene;
mod soak_cmd;
mod still;
mod tracking_cmd;
mod video;

/// Exit code for a processing failure.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code for a usage or configuration error.
pub const EXIT_USAGE: u8 = 2;

/// An error in how the command was called or configured (bad argument, missing input file):
/// exits with [`EXIT_USAGE`]. Anything else that fails exits with [`EXIT_FAILURE`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The exit code for `err`: [`EXIT_USAGE`] when any cause in its chain is a usage error.
fn exit_code(err: &anyhow::Error) -> u8 {
    let usage = err.chain().any(|cause| {
        cause.is::<UsageError>()
            || cause
                .downcast_ref::<video::VideoError>()
                .is_some_and(video::VideoError::is_usage)
    });
    if usage { EXIT_USAGE } else { EXIT_FAILURE }
}

#[derive(Debug, Parser)]
#[command(
    name = "yardline",
    version,
    about = "Virtual first-down line engine: render, sample, evaluate, benchmark"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate the built-in sample and render it with the first-down line (video + contact sheet).
    Demo(demo::DemoArgs),
    /// Generate a synthetic broadcast sample with exact camera truth.
    Sample(sample_cmd::SampleArgs),
    /// Score a rendered output against a sample's truth.
    Eval(eval_cmd::EvalArgs),
    /// Draw the lines into a video with the engine (files in, files out).
    Render(render_cmd::RenderArgs),
    /// Time the whole engine per stage on a built-in moving-camera scene.
    Bench(bench_cmd::BenchArgs),
    /// FreeD tools: decode a packet, listen on UDP.
    Tracking(tracking_cmd::TrackingArgs),
    /// Refine a field-to-image homography from the painted lines of an image or video frame.
    Register(register_cmd::RegisterArgs),
    /// Calibrate a camera from clicked landmarks on an image or video frame (venue.toml), or a
    /// zoom lens from a sweep.
    Calibrate(calibrate_cmd::CalibrateArgs),
    /// Run the engine for many frames with every fault mixed in, checking each frame.
    Soak(soak_cmd::SoakArgs),
    /// Drive a live engine through its control API (set a value, read status, save a preview).
    Control(control_cmd::ControlArgs),
}

fn main() -> ExitCode {
    // SAFETY: the first statement of `main`: no other thread exists yet.
    #[allow(
        unsafe_code,
        reason = "an environment variable set before any thread exists"
    )]
    unsafe {
        yardline_engine::render::gpu::quiet_vulkan_device_select();
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Sample(args) => sample_cmd::run(&args),
        Command::Eval(args) => eval_cmd::run(&args),
        Command::Render(args) => render_cmd::run(&args),
        Command::Bench(args) => bench_cmd::run(&args),
        Command::Tracking(args) => tracking_cmd::run(&args),
        Command::Register(args) => register_cmd::run(&args),
        Command::Calibrate(args) => calibrate_cmd::run(&args),
        Command::Soak(args) => soak_cmd::run(&args),
        Command::Control(args) => control_cmd::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit_code(&e))
        }
    }
}
