//! yardline-control: the control plane of a live yardline engine.
//!
//! Every live engine (the `yardline` element with `control=ADDR:PORT`, the CLI's live render)
//! serves the same small HTTP + WebSocket API with JSON messages, so that one operator app
//! drives the engines of every camera. See the README for the endpoints.
//!
//! - [`protocol`]: the messages, shared by server and client; [`protocol::parse_set`] is the
//!   request parser (fuzzed in `fuzz/`).
//! - [`preview`]: the low-rate thumbnails the video thread hands to the server.
//! - `server` (feature `server`): the axum server on its own tokio runtime thread, token check,
//!   rate limit; the engine plugs in through [`server::Target`].
//! - `client` (feature `client`): a blocking client for the CLI and the operator app.
//!
//! Threads: the video thread never waits on the control plane. A change is validated and
//! stored on the server's thread (the engine's settings snapshot, swapped under a short
//! lock) and applied by the video thread at its next frame boundary; status and previews
//! flow the other way through `try_lock`ed slots the video thread skips when busy.

pub mod preview;
pub mod protocol;

#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "server")]
pub mod server;

pub use protocol::{Change, Health, PreviewKind, ProtocolError, Status};

use std::sync::Arc;

/// What a front end runs on the server's threads as they start: the engine's scheduling
/// (`sched::promote_control_thread` on the server's own thread, so a change is taken in at once
/// beside a video encoder; `sched::demote_current_thread` on the threads that encode stills,
/// which would otherwise inherit the server thread's real-time policy).
#[derive(Clone, Default)]
pub struct ThreadSetup {
    /// Runs first on the server's thread.
    pub server: Option<Arc<dyn Fn() + Send + Sync>>,
    /// Runs first on each thread the server starts for blocking work (encoding a still).
    pub worker: Option<Arc<dyn Fn() + Send + Sync>>,
}

impl std::fmt::Debug for ThreadSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadSetup")
            .field("server", &self.server.is_some())
            .field("worker", &self.worker.is_some())
            .finish()
    }
}

/// Environment variable holding the shared-secret token when none is given explicitly.
pub const TOKEN_ENV: &str = "YARDLINE_CONTROL_TOKEN";

/// The token from [`TOKEN_ENV`], when set and not empty.
pub fn token_from_env() -> Option<String> {
    std::env::var(TOKEN_ENV)
        .ok()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
}
