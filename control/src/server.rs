//! The control server: axum on a single-threaded tokio runtime of its own, one per engine.
//!
//! Every request passes, in this order: the concurrency cap ([`MAX_IN_FLIGHT`], else 503),
//! the per-peer rate limit ([`RateLimit`], else 429), the token (when one is set, compared in
//! constant time, else 401), then its handler. Endpoints:
//!
//! - `POST /v1/set` `{"key": K, "value": V}` -> 200 [`SetReply`] | 400 [`ErrorReply`]
//! - `GET /v1/status` -> 200 [`Status`]
//! - `GET /v1/preview?kind=program|clean|matte` -> 200 `image/jpeg` | 503 when no frame comes
//! - `GET /v1/preview?kind=clean&width=full` -> 200 `image/png`: the input at full size (for
//!   a registration), at most one capture per [`STILL_INTERVAL`]
//! - `GET /v1/ws` (WebSocket): the server sends `{"status": Status}` every `interval_ms`
//!   (query, default 500, at least 100); a text message `{"key": K, "value": V}` is a set,
//!   answered `{"set": SetReply}` or `{"error": "..."}`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use tokio::sync::{Semaphore, watch};

use crate::preview::{PREVIEW_INTERVAL, PreviewSlot, STILL_INTERVAL, Thumbnail};
use crate::protocol::{
    Change, ErrorReply, MAX_REQUEST_BYTES, PreviewKind, SetReply, Status, parse_set,
};

/// Requests served at once; more get 503 at once.
pub const MAX_IN_FLIGHT: usize = 64;
/// JPEG quality of the previews (0..=100).
pub const JPEG_QUALITY: u8 = 75;
/// Longest a preview request waits for a fresh capture.
pub const PREVIEW_WAIT: Duration = Duration::from_secs(2);
/// A capture younger than this answers a preview request at once.
pub const PREVIEW_FRESH: Duration = Duration::from_millis(600);

/// The engine side of the control plane.
pub trait Target: Send + Sync + 'static {
    /// Validates `change` as the engine validates a property and stores it for the next frame
    /// boundary; an error (a message for the operator) changes nothing.
    fn apply(&self, change: &Change) -> Result<(), String>;
    /// The engine's status now.
    fn status(&self) -> Status;
    /// The matte preview of a clean thumbnail: the engine's key of each pixel (white: field
    /// surface, black: the rest). `None` while the engine has no key (the default).
    fn key_matte(&self, _clean: &Thumbnail) -> Option<Thumbnail> {
        None
    }
}

/// The per-peer token bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Requests (and WebSocket messages) refilled per second, per peer address.
    pub per_second: f64,
    /// Bucket size: requests a peer may send at once (count).
    pub burst: f64,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            per_second: 50.0,
            burst: 100.0,
        }
    }
}

/// Errors starting a server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The address does not parse or resolve.
    #[error("control address {0:?}: expected ADDR:PORT or PORT")]
    Address(String),
    /// The address cannot be bound.
    #[error("control address {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The runtime or its thread cannot start.
    #[error("control server: {0}")]
    Runtime(std::io::Error),
}

/// Resolves a control address: `ADDR:PORT`, or a bare `PORT` / `:PORT` on loopback.
pub fn resolve(addr: &str) -> Result<SocketAddr, ServerError> {
    let a = addr.trim();
    let port = a.strip_prefix(':').unwrap_or(a);
    if let Ok(port) = port.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    a.to_socket_addrs()
        .ok()
        .and_then(|mut it| it.next())
        .ok_or_else(|| ServerError::Address(addr.to_owned()))
}

pub use crate::ThreadSetup;

/// A running server; dropping it stops it (open connections are closed).
#[derive(Debug)]
pub struct ControlServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    target: Arc<dyn Target>,
    preview: Arc<PreviewSlot>,
    /// The token's bytes; `None`: no token required.
    token: Option<Vec<u8>>,
    rate: RateLimit,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
    in_flight: Semaphore,
    rate_limited: AtomicU64,
    /// The last JPEG made: capture number, kind, bytes.
    jpeg: Mutex<Option<(u64, PreviewKind, Bytes)>>,
    /// The last full-size still made: when, and its PNG.
    still: Mutex<Option<(Instant, Bytes)>>,
    shutdown: watch::Receiver<bool>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .field("rate", &self.rate)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl ControlServer {
    /// Binds `addr` (see [`resolve`]) and serves `target` on a thread of its own. `token`:
    /// the shared secret every request must carry as `Authorization: Bearer <token>`.
    pub fn start(
        addr: &str,
        token: Option<&str>,
        rate: RateLimit,
        target: Arc<dyn Target>,
        preview: Arc<PreviewSlot>,
    ) -> Result<Self, ServerError> {
        Self::start_with(addr, token, rate, target, preview, ThreadSetup::default())
    }

    /// [`ControlServer::start`], running `setup` on the server's threads as they start.
    pub fn start_with(
        addr: &str,
        token: Option<&str>,
        rate: RateLimit,
        target: Arc<dyn Target>,
        preview: Arc<PreviewSlot>,
        setup: ThreadSetup,
    ) -> Result<Self, ServerError> {
        let wanted = resolve(addr)?;
        let listener = TcpListener::bind(wanted).map_err(|source| ServerError::Bind {
            addr: wanted,
            source,
        })?;
        listener
            .set_nonblocking(true)
            .map_err(ServerError::Runtime)?;
        let bound = listener.local_addr().map_err(ServerError::Runtime)?;
        let (tx, rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            target,
            preview,
            token: token
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(|t| t.as_bytes().to_vec()),
            rate,
            buckets: Mutex::new(HashMap::new()),
            in_flight: Semaphore::new(MAX_IN_FLIGHT),
            rate_limited: AtomicU64::new(0),
            jpeg: Mutex::new(None),
            still: Mutex::new(None),
            shutdown: rx.clone(),
        });
        let mut builder = tokio::runtime::Builder::new_current_thread();
        builder.enable_io().enable_time();
        if let Some(worker) = setup.worker {
            builder.on_thread_start(move || worker());
        }
        let runtime = builder.build().map_err(ServerError::Runtime)?;
        let app = router(Arc::clone(&shared));
        let on_server = setup.server;
        let thread = std::thread::Builder::new()
            .name(format!("yardline-control {bound}"))
            .spawn(move || {
                if let Some(f) = on_server {
                    f();
                }
                serve(&runtime, listener, app, rx);
            })
            .map_err(ServerError::Runtime)?;
        if !bound.ip().is_loopback() && token.is_none_or(|t| t.trim().is_empty()) {
            tracing::warn!(
                "control server on {bound} without a token: anyone on the network can change the graphics"
            );
        }
        tracing::info!("control server on {bound}");
        Ok(Self {
            addr: bound,
            shared,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// The address bound (the port chosen when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Requests refused by the rate limit so far (count).
    pub fn rate_limited(&self) -> u64 {
        self.shared.rate_limited.load(Ordering::Relaxed)
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            // The receiver lives in the thread; a send error means it has ended already.
            tx.send_replace(true);
        }
        // The server's own thread may hold the last reference to its engine (a request in
        // flight when the engine went away): it ends by itself, unjoined.
        if let Some(t) = self.thread.take()
            && t.thread().id() != std::thread::current().id()
            && t.join().is_err()
        {
            tracing::error!("control server thread panicked");
        }
    }
}

fn serve(
    runtime: &tokio::runtime::Runtime,
    listener: TcpListener,
    app: Router,
    mut stop: watch::Receiver<bool>,
) {
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(l) => l,
            Err(e) => return tracing::error!("control server: {e}"),
        };
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        tokio::select! {
            r = axum::serve(listener, service) => {
                if let Err(e) = r {
                    tracing::error!("control server: {e}");
                }
            }
            _ = stop.wait_for(|s| *s) => {}
        }
    });
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/set", post(set))
        .route("/v1/status", get(status))
        .route("/v1/preview", get(preview))
        .route("/v1/ws", get(websocket))
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), guard))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(shared)
}

fn refuse(code: StatusCode, error: impl Into<String>) -> Response {
    (
        code,
        axum::Json(ErrorReply {
            error: error.into(),
        }),
    )
        .into_response()
}

impl Shared {
    /// Takes one token from `peer`'s bucket; false when it is empty.
    fn admit(&self, peer: IpAddr) -> bool {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() > 4096 {
            let rate = self.rate;
            buckets.retain(|_, b| {
                now.duration_since(b.at).as_secs_f64() * rate.per_second < rate.burst
            });
        }
        let b = buckets.entry(peer).or_insert(Bucket {
            tokens: self.rate.burst,
            at: now,
        });
        let refill = now.duration_since(b.at).as_secs_f64() * self.rate.per_second;
        b.tokens = (b.tokens + refill).min(self.rate.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            self.rate_limited.fetch_add(1, Ordering::Relaxed);
            false
        }
    }

    /// True when no token is required or `headers` carry the right one (constant time).
    fn authorised(&self, headers: &HeaderMap) -> bool {
        let Some(expected) = &self.token else {
            return true;
        };
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
            .unwrap_or_default();
        bool::from(given.ct_eq(expected.as_slice()))
    }

    fn apply(&self, body: &[u8]) -> Result<SetReply, String> {
        let change = parse_set(body).map_err(|e| e.to_string())?;
        self.target.apply(&change)?;
        Ok(SetReply {
            key: change.key().to_owned(),
            value: change.value(),
        })
    }

    fn status(&self) -> Status {
        let mut s = self.target.status();
        s.rate_limited = self.rate_limited.load(Ordering::Relaxed);
        s
    }
}

async fn guard(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    let Ok(_permit) = shared.in_flight.try_acquire() else {
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "too many requests at once");
    };
    if !shared.admit(peer.ip()) {
        return refuse(StatusCode::TOO_MANY_REQUESTS, "rate limit: slow down");
    }
    if !shared.authorised(req.headers()) {
        return refuse(StatusCode::UNAUTHORIZED, "missing or wrong control token");
    }
    next.run(req).await
}

async fn set(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match shared.apply(&body) {
        Ok(reply) => axum::Json(reply).into_response(),
        Err(e) => refuse(StatusCode::BAD_REQUEST, e),
    }
}

async fn status(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(shared.status()).into_response()
}

#[derive(Debug, Deserialize)]
struct PreviewQuery {
    kind: Option<String>,
    width: Option<String>,
}

async fn preview(State(shared): State<Arc<Shared>>, Query(q): Query<PreviewQuery>) -> Response {
    let kind = match q.kind.as_deref().map(str::parse::<PreviewKind>).transpose() {
        Ok(k) => k.unwrap_or_default(),
        Err(e) => return refuse(StatusCode::BAD_REQUEST, e),
    };
    match q.width.as_deref().map(str::trim) {
        None | Some("" | "preview") => {}
        Some("full") if kind == PreviewKind::Clean => return still(&shared).await,
        Some("full") => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "width=full is a still of the input: kind=clean",
            );
        }
        Some(w) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!(
                    "unknown width {:?} (expected full)",
                    w.chars().take(16).collect::<String>()
                ),
            );
        }
    }
    shared.preview.ask(kind);
    let asked = Instant::now();
    let capture = loop {
        let fresh = shared.preview.latest().filter(|c| {
            c.taken.elapsed() < PREVIEW_FRESH && (kind == PreviewKind::Program || c.clean.is_some())
        });
        if let Some(c) = fresh {
            break c;
        }
        if asked.elapsed() > PREVIEW_WAIT {
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "no frame to preview: the engine is not playing",
            );
        }
        tokio::time::sleep(PREVIEW_INTERVAL / 10).await;
    };
    let cached = shared
        .jpeg
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
        .filter(|(seq, k, _)| *seq == capture.seq && *k == kind);
    let jpeg = if let Some((_, _, bytes)) = cached {
        bytes
    } else {
        let picture = match kind {
            PreviewKind::Program => Some((*capture.program).clone()),
            PreviewKind::Clean => capture.clean.as_deref().cloned(),
            PreviewKind::Matte => capture
                .clean
                .as_deref()
                .and_then(|c| shared.target.key_matte(c)),
        };
        let Some(picture) = picture else {
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "no such picture yet (a matte needs the engine's key)",
            );
        };
        match encode_jpeg(&picture) {
            Ok(bytes) => {
                let bytes = Bytes::from(bytes);
                *shared.jpeg.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some((capture.seq, kind, bytes.clone()));
                bytes
            }
            Err(e) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        }
    };
    ([(header::CONTENT_TYPE, "image/jpeg")], jpeg).into_response()
}

/// A full-size still of the input as PNG: the last one while younger than
/// [`STILL_INTERVAL`], else a new capture converted and encoded on a blocking thread.
async fn still(shared: &Arc<Shared>) -> Response {
    let png = |bytes: Bytes| ([(header::CONTENT_TYPE, "image/png")], bytes).into_response();
    let cached = shared
        .still
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
        .filter(|(at, _)| at.elapsed() < STILL_INTERVAL);
    if let Some((_, bytes)) = cached {
        return png(bytes);
    }
    let seq = shared.preview.ask_still();
    let asked = Instant::now();
    let convert = loop {
        if let Some(f) = shared.preview.take_still(seq) {
            break f;
        }
        if asked.elapsed() > PREVIEW_WAIT {
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "no frame to capture: the engine is not playing",
            );
        }
        tokio::time::sleep(PREVIEW_INTERVAL / 25).await;
    };
    let encoded = tokio::task::spawn_blocking(move || convert().map(|t| encode_png(&t))).await;
    match encoded {
        Ok(Some(Ok(bytes))) => {
            let bytes = Bytes::from(bytes);
            *shared.still.lock().unwrap_or_else(PoisonError::into_inner) =
                Some((Instant::now(), bytes.clone()));
            png(bytes)
        }
        Ok(Some(Err(e))) => refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Ok(None) => refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "the frame could not be read",
        ),
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// A picture as a PNG file (lossless: a registration clicks on its pixels).
pub fn encode_png(t: &Thumbnail) -> Result<Vec<u8>, image::ImageError> {
    let mut out = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut out),
        &t.rgb,
        t.width,
        t.height,
        image::ExtendedColorType::Rgb8,
    )?;
    Ok(out)
}

/// A thumbnail as a JPEG file.
pub fn encode_jpeg(t: &Thumbnail) -> Result<Vec<u8>, image::ImageError> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY).encode(
        &t.rgb,
        t.width,
        t.height,
        image::ExtendedColorType::Rgb8,
    )?;
    Ok(out)
}

#[derive(Debug, Deserialize)]
struct WsQuery {
    interval_ms: Option<u64>,
}

/// A message the server sends on the WebSocket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Event {
    /// The engine's status, every interval.
    Status(Box<Status>),
    /// A set message was accepted.
    Set(SetReply),
    /// A set message was refused (why).
    Error(String),
}

async fn websocket(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<WsQuery>,
    ws: WebSocketUpgrade,
) -> Response {
    let every = Duration::from_millis(q.interval_ms.unwrap_or(500).max(100));
    ws.max_message_size(MAX_REQUEST_BYTES)
        .on_upgrade(move |socket| stream(shared, peer.ip(), socket, every))
}

async fn stream(shared: Arc<Shared>, peer: IpAddr, mut socket: WebSocket, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stop = shared.shutdown.clone();
    loop {
        let event = tokio::select! {
            _ = tick.tick() => Event::Status(Box::new(shared.status())),
            msg = socket.recv() => match msg {
                Some(Ok(Message::Text(text))) => {
                    if shared.admit(peer) {
                        match shared.apply(text.as_bytes()) {
                            Ok(r) => Event::Set(r),
                            Err(e) => Event::Error(e),
                        }
                    } else {
                        Event::Error("rate limit: slow down".into())
                    }
                }
                Some(Ok(Message::Binary(_))) => Event::Error("expected a text message".into()),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return,
            },
            _ = stop.wait_for(|s| *s) => return,
        };
        let text = match serde_json::to_string(&event) {
            Ok(t) => t,
            Err(e) => return tracing::error!("control event: {e}"),
        };
        if socket.send(Message::Text(text.into())).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_port_binds_loopback() {
        let lo = |port| SocketAddr::from(([127, 0, 0, 1], port));
        assert_eq!(resolve("7070").ok(), Some(lo(7070)));
        assert_eq!(resolve(":0").ok(), Some(lo(0)));
        assert_eq!(
            resolve("0.0.0.0:80").ok(),
            Some(SocketAddr::from(([0, 0, 0, 0], 80)))
        );
        assert!(resolve("[::1]:9").is_ok_and(|a| a.ip().is_loopback()));
        assert!(matches!(resolve("nowhere"), Err(ServerError::Address(_))));
        assert!(matches!(
            resolve("1.2.3.4:99999"),
            Err(ServerError::Address(_))
        ));
    }
}
