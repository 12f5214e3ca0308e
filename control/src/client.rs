//! A blocking client of the control API, for the CLI and the operator app.

use std::time::Duration;

use crate::protocol::{Change, ErrorReply, PreviewKind, SetReply, SetRequest, Status};

/// Longest a request may take, connection included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No answer: connection refused, timeout, broken connection.
    #[error("{addr}: {why}")]
    Transport {
        /// The engine's address.
        addr: String,
        /// What went wrong.
        why: String,
    },
    /// The engine refused the request (HTTP status and its message).
    #[error("refused ({status}): {message}")]
    Refused {
        /// HTTP status code.
        status: u16,
        /// The engine's message.
        message: String,
    },
    /// The answer is not what the API promises.
    #[error("unexpected answer: {0}")]
    Decode(String),
}

/// A connection to one engine's control API.
#[derive(Debug, Clone)]
pub struct Client {
    addr: String,
    base: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl Client {
    /// A client of the engine at `addr` (`HOST:PORT`, or `http://HOST:PORT`), sending `token`
    /// when given.
    pub fn new(addr: &str, token: Option<&str>) -> Self {
        let addr = addr.trim().trim_end_matches('/');
        let base = if addr.starts_with("http://") {
            addr.to_owned()
        } else {
            format!("http://{addr}")
        };
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(REQUEST_TIMEOUT))
            .http_status_as_error(false)
            .build()
            .into();
        Self {
            addr: addr.to_owned(),
            base,
            token: token.map(str::to_owned).filter(|t| !t.is_empty()),
            agent,
        }
    }

    /// The engine's address as given.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    fn transport(&self, e: &ureq::Error) -> ClientError {
        ClientError::Transport {
            addr: self.addr.clone(),
            why: e.to_string(),
        }
    }

    fn auth<B>(&self, req: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.token {
            Some(t) => req.header("Authorization", format!("Bearer {t}")),
            None => req,
        }
    }

    /// Reads a response: the body of a 200, else a [`ClientError::Refused`].
    fn body(
        &self,
        resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Vec<u8>, ClientError> {
        let mut resp = resp.map_err(|e| self.transport(&e))?;
        let status = resp.status().as_u16();
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(16 * 1024 * 1024)
            .read_to_vec()
            .map_err(|e| self.transport(&e))?;
        if status == 200 {
            return Ok(bytes);
        }
        let message = serde_json::from_slice::<ErrorReply>(&bytes).map_or_else(
            |_| String::from_utf8_lossy(&bytes).into_owned(),
            |e| e.error,
        );
        Err(ClientError::Refused { status, message })
    }

    /// Sends a set request as it is (any key, any JSON value): the engine validates it.
    pub fn set_json(&self, key: &str, value: serde_json::Value) -> Result<SetReply, ClientError> {
        let body = serde_json::to_vec(&SetRequest {
            key: key.to_owned(),
            value,
        })
        .map_err(|e| ClientError::Decode(e.to_string()))?;
        self.set_raw(&body)
    }

    /// Sends `body` as a set request.
    pub fn set_raw(&self, body: &[u8]) -> Result<SetReply, ClientError> {
        let req = self
            .auth(self.agent.post(format!("{}/v1/set", self.base)))
            .content_type("application/json");
        let bytes = self.body(req.send(body))?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode(e.to_string()))
    }

    /// Sets one value.
    pub fn set(&self, change: &Change) -> Result<SetReply, ClientError> {
        self.set_json(change.key(), change.value())
    }

    /// The engine's status.
    pub fn status(&self) -> Result<Status, ClientError> {
        let req = self.auth(self.agent.get(format!("{}/v1/status", self.base)));
        let bytes = self.body(req.call())?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode(e.to_string()))
    }

    /// A preview picture (JPEG bytes).
    pub fn preview(&self, kind: PreviewKind) -> Result<Vec<u8>, ClientError> {
        let req = self.auth(self.agent.get(format!(
            "{}/v1/preview?kind={}",
            self.base,
            kind.as_str()
        )));
        let bytes = self.body(req.call())?;
        if bytes.starts_with(&[0xFF, 0xD8]) {
            Ok(bytes)
        } else {
            Err(ClientError::Decode("the preview is not a JPEG".into()))
        }
    }

    /// A full-size still of the engine's input (PNG bytes), for a registration.
    pub fn still(&self) -> Result<Vec<u8>, ClientError> {
        let req = self.auth(
            self.agent
                .get(format!("{}/v1/preview?kind=clean&width=full", self.base)),
        );
        let bytes = self.body(req.call())?;
        if bytes.starts_with(b"\x89PNG") {
            Ok(bytes)
        } else {
            Err(ClientError::Decode("the still is not a PNG".into()))
        }
    }
}

/// A persistent WebSocket connection to one engine (`/v1/ws`): sets without a new connection
/// (or process) each, the engine's status streamed meanwhile.
pub struct WsClient {
    addr: String,
    socket: tungstenite::WebSocket<std::net::TcpStream>,
}

impl std::fmt::Debug for WsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsClient")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl WsClient {
    /// Connects to the engine at `addr` (`HOST:PORT`), sending `token` when given; the engine
    /// streams its status every `interval_ms` (at least 100).
    pub fn connect(addr: &str, token: Option<&str>, interval_ms: u64) -> Result<Self, ClientError> {
        let addr = addr
            .trim()
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let transport = |why: String| ClientError::Transport {
            addr: addr.clone(),
            why,
        };
        let url = format!("ws://{addr}/v1/ws?interval_ms={interval_ms}");
        let mut req = tungstenite::client::IntoClientRequest::into_client_request(url.as_str())
            .map_err(|e| transport(e.to_string()))?;
        if let Some(t) = token.filter(|t| !t.is_empty()) {
            let value = format!("Bearer {t}")
                .parse()
                .map_err(|_| transport("the token is not a header value".into()))?;
            req.headers_mut().insert("Authorization", value);
        }
        let stream = std::net::TcpStream::connect(&addr).map_err(|e| transport(e.to_string()))?;
        stream
            .set_read_timeout(Some(REQUEST_TIMEOUT))
            .map_err(|e| transport(e.to_string()))?;
        stream
            .set_nodelay(true)
            .map_err(|e| transport(e.to_string()))?;
        let (socket, _) = tungstenite::client(req, stream).map_err(|e| match e {
            tungstenite::HandshakeError::Failure(tungstenite::Error::Http(r)) => {
                ClientError::Refused {
                    status: r.status().as_u16(),
                    message: "WebSocket upgrade refused".into(),
                }
            }
            other => transport(other.to_string()),
        })?;
        Ok(Self { addr, socket })
    }

    /// Sets one value and waits for the engine's answer (status messages meanwhile skipped).
    pub fn set(&mut self, change: &Change) -> Result<SetReply, ClientError> {
        let text = serde_json::to_string(&SetRequest::from(change))
            .map_err(|e| ClientError::Decode(e.to_string()))?;
        let transport = |e: tungstenite::Error| ClientError::Transport {
            addr: self.addr.clone(),
            why: e.to_string(),
        };
        self.socket
            .send(tungstenite::Message::text(text))
            .map_err(transport)?;
        loop {
            let msg = self.socket.read().map_err(|e| ClientError::Transport {
                addr: self.addr.clone(),
                why: e.to_string(),
            })?;
            let tungstenite::Message::Text(t) = msg else {
                continue;
            };
            let event: serde_json::Value =
                serde_json::from_str(&t).map_err(|e| ClientError::Decode(e.to_string()))?;
            if let Some(reply) = event.get("set") {
                return serde_json::from_value(reply.clone())
                    .map_err(|e| ClientError::Decode(e.to_string()));
            }
            if let Some(error) = event.get("error") {
                return Err(ClientError::Refused {
                    status: 400,
                    message: error.as_str().unwrap_or_default().to_owned(),
                });
            }
        }
    }
}
