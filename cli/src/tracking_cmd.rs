//! `yardline tracking decode HEX` and `yardline tracking listen`: FreeD tools for set-up.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::{Args, Subcommand};
use yardline_engine::tracking::freed::decode_hex;
use yardline_engine::tracking::source::{UdpSource, UdpSourceConfig};

use crate::UsageError;

/// Arguments of `yardline tracking`.
#[derive(Debug, Args, Clone)]
pub struct TrackingArgs {
    #[command(subcommand)]
    command: TrackingCommand,
}

#[derive(Debug, Subcommand, Clone)]
enum TrackingCommand {
    /// Decode one FreeD D1 packet given as 58 hex characters and print it as JSON.
    Decode {
        /// The packet, 29 bytes as hex.
        hex: String,
    },
    /// Listen for FreeD packets on UDP and print packets/s, checksum failures and the last decode.
    Listen {
        /// Address to bind (loopback by default).
        #[arg(long, default_value = "127.0.0.1:40000")]
        bind: SocketAddr,
        /// Accept packets only from these senders (repeatable); all when none is given.
        #[arg(long = "allow", value_name = "IP")]
        allow: Vec<IpAddr>,
        /// Stop after this many seconds (runs until interrupted when absent).
        #[arg(long, value_name = "S")]
        seconds: Option<f64>,
    },
}

/// Runs a tracking subcommand.
pub fn run(args: &TrackingArgs) -> Result<()> {
    match &args.command {
        TrackingCommand::Decode { hex } => {
            let decoded = decode_hex(hex).map_err(|e| UsageError(format!("{hex:?}: {e}")))?;
            println!("{}", serde_json::to_string(&decoded.report())?);
            Ok(())
        }
        TrackingCommand::Listen {
            bind,
            allow,
            seconds,
        } => listen(*bind, allow.clone(), *seconds),
    }
}

fn listen(bind: SocketAddr, allow: Vec<IpAddr>, seconds: Option<f64>) -> Result<()> {
    if seconds.is_some_and(|s| !(s.is_finite() && s > 0.0)) {
        return Err(UsageError("--seconds must be a positive number".into()).into());
    }
    let source = UdpSource::start(UdpSourceConfig {
        bind,
        allow,
        ..UdpSourceConfig::default()
    })
    .map_err(|e| UsageError(format!("cannot listen on {bind}: {e}")))?;
    println!("listening for FreeD on {}", source.local_addr());
    let start = Instant::now();
    let mut last = None;
    let mut next_print = Duration::from_secs(1);
    loop {
        if let Some(s) = source.recv_timeout(Duration::from_millis(100)) {
            last = Some(s.packet);
        }
        let elapsed = start.elapsed();
        if elapsed >= next_print {
            next_print += Duration::from_secs(1);
            let st = source.stats();
            let last_json = last.map_or_else(
                || "none".to_string(),
                |p| serde_json::to_string(&p.report(true)).unwrap_or_default(),
            );
            println!(
                "{:.1} packets/s, {} accepted, {} checksum failures, {} malformed, {} rejected senders; last: {last_json}",
                st.packets_per_second,
                st.accepted,
                st.checksum_failures,
                st.malformed,
                st.rejected_senders
            );
        }
        if seconds.is_some_and(|s| elapsed.as_secs_f64() >= s) {
            return Ok(());
        }
    }
}
