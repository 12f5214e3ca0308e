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

/// Environment variable holding the shared-secret token when none is given explicitly.
pub const TOKEN_ENV: &str = "YARDLINE_CONTROL_TOKEN";

/// The token from [`TOKEN_ENV`], when set and not empty.
pub fn token_from_env() -> Option<String> {
    std::env::var(TOKEN_ENV)
        .ok()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
}
