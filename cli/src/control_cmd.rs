//! `yardline control ADDR`: drive a live engine (an element with `control=ADDR:PORT`) through
//! its control API: set one value, read its status, save a preview.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use yardline_control::client::{Client, ClientError};
use yardline_control::protocol::KEYS;
use yardline_control::{Change, PreviewKind, Status};

use crate::UsageError;

/// What `yardline --help` says of `control`.
pub const ABOUT: &str =
    "Drive a live engine through its control API (set a value, read status, save a preview)";

/// Arguments of `yardline control`.
#[derive(Debug, Args, Clone)]
pub struct ControlArgs {
    /// The engine's control address (HOST:PORT).
    pub addr: String,
    /// Shared-secret token (default: `$YARDLINE_CONTROL_TOKEN`).
    #[arg(long, value_name = "T")]
    pub token: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub action: Action,
}

/// One control action.
#[derive(Debug, Subcommand, Clone)]
pub enum Action {
    /// Set one value; it applies at the engine's next frame boundary. KEY is a property name:
    /// first-down, scrimmage, show-first-down, show-scrimmage, line-width, first-down-color,
    /// scrimmage-color, opacity, pose-mode, clean-plate; or key (a key.toml, or auto) or register (a solved
    /// camera as JSON: width, height, rotation, translation, fx, fy, cx, cy, k1, k2).
    Set {
        /// The setting.
        key: String,
        /// Its value (45, true, "#FF0000", vision, auto); @FILE reads it from a file
        /// (`set key @key.toml`, `set register @camera.json`).
        value: String,
    },
    /// Read the engine's state.
    Get {
        /// What to read.
        #[command(subcommand)]
        what: GetWhat,
    },
    /// Save a preview picture (JPEG).
    Preview {
        /// Where to write it.
        #[arg(long, value_name = "FILE.jpg")]
        out: PathBuf,
        /// Which picture: program, clean or matte.
        #[arg(long, default_value = "program")]
        kind: PreviewKind,
    },
    /// Save a full-size still of the input (PNG, the clean picture at the video's own size),
    /// e.g. to register the camera on it (`yardline calibrate --image`) and send the solved
    /// camera back with `set register @camera.json`.
    Still {
        /// Where to write it.
        #[arg(long, value_name = "FILE.png")]
        out: PathBuf,
    },
}

/// What `get` reads.
#[derive(Debug, Subcommand, Clone)]
pub enum GetWhat {
    /// Health, pose, timings and the settings in force.
    Status {
        /// Print the status as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `yardline control`.
pub fn run(args: &ControlArgs) -> Result<()> {
    let token = args.token.clone().or_else(yardline_control::token_from_env);
    let client = Client::new(&args.addr, token.as_deref());
    match &args.action {
        Action::Set { key, value } => {
            let value = match value.strip_prefix('@') {
                Some(path) => {
                    std::fs::read_to_string(path).map_err(|e| UsageError(format!("{path}: {e}")))?
                }
                None => value.clone(),
            };
            // A key file is text, whatever it looks like; every other value reads as JSON.
            let change = if key == "key" {
                Change::from_key_value(key, &serde_json::Value::String(value))
            } else {
                Change::from_cli(key, &value)
            };
            let change = change.map_err(|e| {
                let keys: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
                UsageError(format!("{e} (keys: {})", keys.join(", ")))
            })?;
            let reply = client.set(&change).map_err(refused)?;
            match &change {
                Change::Key(Some(text)) => println!(
                    "key = {} bytes of key.toml (hash {})",
                    text.len(),
                    yardline_control::protocol::key_hash(text)
                ),
                Change::Register(c) => println!(
                    "register = camera of a {}x{} frame (fx {:.1} px)",
                    c.width, c.height, c.fx
                ),
                _ => println!("{} = {}", reply.key, reply.value),
            }
        }
        Action::Get {
            what: GetWhat::Status { json },
        } => {
            let status = client.status().map_err(refused)?;
            if *json {
                println!("{}", serde_json::to_string(&status)?);
            } else {
                print_status(&status);
            }
        }
        Action::Preview { out, kind } => {
            let jpeg = client.preview(*kind).map_err(refused)?;
            std::fs::write(out, &jpeg).with_context(|| format!("writing {}", out.display()))?;
            println!("{} ({} bytes, {kind})", out.display(), jpeg.len());
        }
        Action::Still { out } => {
            let png = client.still().map_err(refused)?;
            std::fs::write(out, &png).with_context(|| format!("writing {}", out.display()))?;
            println!(
                "{} ({} bytes, full-size clean still)",
                out.display(),
                png.len()
            );
        }
    }
    Ok(())
}

/// A refusal of a bad request is a usage error (exit 2); no answer is a failure (exit 1).
fn refused(e: ClientError) -> anyhow::Error {
    match e {
        ClientError::Refused { status, .. } if (400..500).contains(&status) => {
            UsageError(e.to_string()).into()
        }
        e => e.into(),
    }
}

fn print_status(s: &Status) {
    println!("{}: {:?}", s.name, s.health);
    println!(
        "frames {}  drawn {}  faults {}  rate-limited {}",
        s.frames, s.drawn, s.faults, s.rate_limited
    );
    if let Some(f) = &s.last_frame {
        let residual = f
            .residual_px
            .map_or_else(|| "-".to_owned(), |r| format!("{r:.2} px"));
        println!(
            "last frame {}: source {} confidence {:.2} residual {residual} state {}{}",
            f.frame,
            f.source,
            f.confidence,
            f.state,
            f.reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        );
        let t = &f.timings_ms;
        println!(
            "times (ms): sync {:.2} pose {:.2} graphics {:.2} composite {:.2} engine {:.2} \
             element {:.2} control {:.3}  backend {}",
            t.sync, t.pose, t.graphics, t.composite, t.engine, t.element, t.control, f.backend
        );
        if let Some(fault) = &f.fault {
            println!("fault: {fault}");
        }
    }
    let hash = s.key.hash.as_deref().unwrap_or("-");
    println!(
        "key: {:?} (hash {hash}, {} sent)  re-registrations: {}  field: {}",
        s.key.source,
        s.key.generation,
        s.registrations,
        s.field.as_deref().unwrap_or("-")
    );
    for (k, v) in &s.settings {
        println!("  {k} = {v}");
    }
}
