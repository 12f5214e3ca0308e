//! `yardline-full`: every command of the `yardline` command line. The `yardline` binary a user
//! runs execs it with the same arguments for everything but `control` and `--version` (see the
//! library's docs: this binary links the engine, OpenCV and GStreamer, which take a while to
//! load).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench_cmd;
mod bench_control;
mod calibrate_cmd;
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

use yardline_cli::control_cmd;
pub use yardline_cli::{EXIT_FAILURE, EXIT_USAGE, UsageError};

/// The exit code for `err`: [`EXIT_USAGE`] when any cause in its chain is a usage error.
fn exit_code(err: &anyhow::Error) -> u8 {
    let usage = yardline_cli::is_usage(err)
        || err.chain().any(|cause| {
            cause
                .downcast_ref::<video::VideoError>()
                .is_some_and(video::VideoError::is_usage)
        });
    if usage { EXIT_USAGE } else { EXIT_FAILURE }
}

#[derive(Debug, Parser)]
#[command(
    name = "yardline",
    version,
    about = yardline_cli::ABOUT
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
    #[command(about = control_cmd::ABOUT)]
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
    yardline_cli::init_logging();
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
