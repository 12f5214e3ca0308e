//! `yardline-operator`: the operator desktop app.

use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

use clap::Parser;
use yardline_operator::OperatorApp;
use yardline_operator::cli::{Args, RendererChoice};
use yardline_operator::video::VideoThread;

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
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(e)) => {
            eprintln!("yardline-operator: {e:#}");
            ExitCode::from(2)
        }
        Err(Failure::Processing(e)) => {
            eprintln!("yardline-operator: {e:#}");
            ExitCode::from(1)
        }
    }
}

enum Failure {
    Usage(anyhow::Error),
    Processing(anyhow::Error),
}

/// The remote mode: the engines of `list`, no video of its own.
fn run_remote(args: &Args, list: &std::path::Path) -> Result<(), Failure> {
    let engines =
        yardline_operator::remote::load_list(list).map_err(|e| Failure::Usage(e.into()))?;
    let tally = yardline_operator::remote::tally_map();
    let list_path = list.to_path_buf();
    let listener = args
        .tsl
        .map(|addr| yardline_operator::remote::TslListener::start(addr, Arc::clone(&tally)))
        .transpose()
        .map_err(|e| Failure::Usage(anyhow::anyhow!("TSL listener: {e}")))?;
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("yardline operator (remote)")
            .with_inner_size([args.window.0 as f32, args.window.1 as f32]),
        ..eframe::NativeOptions::default()
    };
    eframe::run_native(
        "yardline-operator-remote",
        options,
        Box::new(move |_cc| {
            Ok(Box::new(
                yardline_operator::remote::RemoteApp::new(engines, listener, tally)
                    .with_list_path(list_path),
            ))
        }),
    )
    .map_err(|e| Failure::Processing(anyhow::anyhow!("the window: {e}")))
}

fn run(args: &Args) -> Result<(), Failure> {
    let classify = |e: yardline_operator::UiError| {
        if e.is_usage() {
            Failure::Usage(e.into())
        } else {
            Failure::Processing(e.into())
        }
    };
    if let Some(list) = &args.remote {
        return run_remote(args, list);
    }
    let setup = args.video_setup().map_err(classify)?;
    let renderers: &[eframe::Renderer] = match args.renderer {
        RendererChoice::Auto => &[eframe::Renderer::Wgpu, eframe::Renderer::Glow],
        RendererChoice::Wgpu => &[eframe::Renderer::Wgpu],
        RendererChoice::Glow => &[eframe::Renderer::Glow],
    };
    let mut last_error = None;
    for &renderer in renderers {
        // Each attempt gets a fresh video thread: a failed window drops its app.
        let ctx_slot: Arc<OnceLock<egui::Context>> = Arc::new(OnceLock::new());
        let notify_slot = Arc::clone(&ctx_slot);
        let video = VideoThread::start(
            setup.clone(),
            Box::new(move || {
                if let Some(ctx) = notify_slot.get() {
                    ctx.request_repaint();
                }
            }),
        )
        .map_err(classify)?;
        let (config, key) = (setup.config.clone(), setup.key.clone());
        let no_persist = args.no_persist;
        let options = eframe::NativeOptions {
            renderer,
            viewport: egui::ViewportBuilder::default()
                .with_title("yardline operator")
                .with_inner_size([args.window.0 as f32, args.window.1 as f32]),
            persist_window: !no_persist,
            ..eframe::NativeOptions::default()
        };
        tracing::info!("opening the window with the {renderer} renderer");
        let result = eframe::run_native(
            "yardline-operator",
            options,
            Box::new(move |cc| {
                // The slot is set once, by the first (and only) creation of this attempt.
                ctx_slot.set(cc.egui_ctx.clone()).ok();
                let storage = if no_persist { None } else { cc.storage };
                Ok(Box::new(OperatorApp::new(video, config, key, storage)))
            }),
        );
        match result {
            Ok(()) => return Ok(()),
            Err(e) => {
                tracing::warn!("the {renderer} renderer failed: {e}");
                last_error = Some(e);
            }
        }
    }
    Err(Failure::Processing(anyhow::anyhow!(
        "no renderer could open the window: {}",
        last_error.map_or_else(|| "unknown error".into(), |e| e.to_string())
    )))
}
