//! The engines the remote mode drives: two threads per engine, each on its own connection and
//! reconnecting by itself: a poller (status and a thumbnail twice a second, full-size stills
//! when asked) and a sender of the operator's changes, so that a change never waits behind a
//! thumbnail or a still the engine is still capturing.
//!
//! The UI thread never waits on the network: it reads each engine's last view under a short
//! lock and hands changes and still requests over through bounded queues per engine (a full
//! queue is reported, never waited on).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use serde::{Deserialize, Serialize};
use yardline_control::client::Client;
use yardline_control::{Change, PreviewKind, Status};

use crate::error::UiError;

/// How often a poller reads status and a thumbnail.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Changes queued per engine at most.
pub const COMMAND_QUEUE: usize = 16;
/// Still requests queued per engine at most.
const STILL_QUEUE: usize = 2;
/// Longest a thread waits for work before it looks at its stop flag.
const STOP_CHECK: Duration = Duration::from_millis(50);

/// One engine in the saved list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineEntry {
    /// The camera's name as the operator knows it.
    pub name: String,
    /// The engine's control address (`HOST:PORT`).
    pub addr: String,
    /// Its control token, when it requires one.
    #[serde(default)]
    pub token: Option<String>,
    /// Its TSL UMD display address (0..=126); default: its place in the list.
    #[serde(default)]
    pub tally_address: Option<u8>,
}

/// Reads the saved list of engines (a JSON array of [`EngineEntry`]), validated
/// ([`validate_list`]).
pub fn load_list(path: &Path) -> Result<Vec<EngineEntry>, UiError> {
    let text = std::fs::read_to_string(path).map_err(|source| UiError::Io {
        path: path.to_owned(),
        source,
    })?;
    let list: Vec<EngineEntry> = serde_json::from_str(&text)
        .map_err(|e| UiError::Config(format!("engine list {}: {e}", path.display())))?;
    validate_list(&list)
        .map_err(|e| UiError::Config(format!("engine list {}: {e}", path.display())))?;
    Ok(list)
}

/// Checks a list of engines: every name given and different, every address `HOST:PORT` with
/// a port 1..=65535, tokens without spaces, tally addresses 0..=126. The error names the
/// engine (its place in the list, from 1).
pub fn validate_list(list: &[EngineEntry]) -> Result<(), String> {
    for (i, e) in list.iter().enumerate() {
        let at = format!("engine {}", i + 1);
        if e.name.trim().is_empty() {
            return Err(format!("{at}: the name is empty"));
        }
        if list[..i].iter().any(|o| o.name.trim() == e.name.trim()) {
            return Err(format!("{at}: the name {:?} is taken", e.name.trim()));
        }
        let addr = e.addr.trim().trim_start_matches("http://");
        let port = addr
            .rsplit_once(':')
            .filter(|(host, _)| !host.is_empty() && !host.contains(char::is_whitespace))
            .and_then(|(_, port)| port.parse::<u16>().ok())
            .filter(|p| *p > 0);
        if port.is_none() {
            return Err(format!(
                "{at} ({}): address {:?} is not HOST:PORT",
                e.name.trim(),
                e.addr
            ));
        }
        if e.token
            .as_deref()
            .is_some_and(|t| t.chars().any(char::is_whitespace))
        {
            return Err(format!("{at} ({}): the token has spaces", e.name.trim()));
        }
        if e.tally_address.is_some_and(|a| a > 126) {
            return Err(format!("{at} ({}): tally address over 126", e.name.trim()));
        }
    }
    Ok(())
}

/// Writes the list of engines (pretty JSON), validated first, atomically: to a temporary
/// file beside it, then renamed over it, so a crash never leaves half a list.
pub fn save_list(path: &Path, list: &[EngineEntry]) -> Result<(), UiError> {
    validate_list(list).map_err(UiError::Config)?;
    let text = serde_json::to_string_pretty(list)
        .map_err(|e| UiError::Config(format!("engine list: {e}")))?;
    let io = |source| UiError::Io {
        path: path.to_owned(),
        source,
    };
    let name = path
        .file_name()
        .ok_or_else(|| UiError::Config(format!("{}: not a file name", path.display())))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        std::io::Write::write_all(&mut f, text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        // The temporary file is all that may be left; the list itself is untouched.
        std::fs::remove_file(&tmp).ok();
        io(e)
    })
}

/// A thumbnail as the poller decoded it.
#[derive(Debug, Clone)]
pub struct Picture {
    /// Number of pictures received so far (count); a new one means a new texture.
    pub seq: u64,
    /// Width (pixels).
    pub width: usize,
    /// Height (pixels).
    pub height: usize,
    /// RGB bytes, row after row.
    pub rgb: Vec<u8>,
}

/// A full-size still of an engine's input (to register the camera on).
#[derive(Debug, Clone)]
pub struct Still {
    /// Number of stills received from this engine so far (count); a new one is a new still.
    pub seq: u64,
    /// Width (pixels): the video's own.
    pub width: u32,
    /// Height (pixels).
    pub height: u32,
    /// RGBA bytes, row after row.
    pub rgba: Vec<u8>,
}

/// How the engine answered one change.
#[derive(Debug, Clone, PartialEq)]
pub struct SetAnswer {
    /// Number of changes sent to this engine so far (count), this one included.
    pub seq: u64,
    /// The key of the change (`first-down`, `key`, `register`, ...).
    pub key: String,
    /// The engine's reply (the value in force, as JSON text) or why it was refused.
    pub reply: Result<String, String>,
}

/// What the app knows of one engine.
#[derive(Debug, Clone, Default)]
pub struct EngineView {
    /// The last status read.
    pub status: Option<Status>,
    /// The last thumbnail (shared: the UI copies the view every pass).
    pub picture: Option<Arc<Picture>>,
    /// The last poll was answered.
    pub connected: bool,
    /// The last error (connection or refusal), for the operator.
    pub error: Option<String>,
    /// When the engine last answered.
    pub last_answer: Option<Instant>,
    /// Changes the engine accepted (count).
    pub accepted: u64,
    /// The answer to the last change sent.
    pub last_set: Option<SetAnswer>,
    /// The last full-size still received.
    pub still: Option<Arc<Still>>,
    /// Still requests answered, with a still or an error (count).
    pub still_answers: u64,
    /// Why the last still request failed (`None` when it brought a still).
    pub still_error: Option<String>,
}

/// One engine, its poller and its sender of changes.
#[derive(Debug)]
pub struct Remote {
    /// The saved entry.
    pub entry: EngineEntry,
    view: Arc<Mutex<EngineView>>,
    changes: Sender<Change>,
    stills: Sender<()>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Remote {
    /// Starts polling `entry`'s engine.
    pub fn start(entry: EngineEntry) -> Self {
        let view = Arc::new(Mutex::new(EngineView::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (changes, changes_rx) = bounded(COMMAND_QUEUE);
        let (stills, stills_rx) = bounded(STILL_QUEUE);
        let spawn = |name: String, run: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name)
                .spawn(run)
                .map_err(|e| tracing::error!("remote {}: no thread: {e}", entry.name))
                .ok()
        };
        let poller = {
            let client = Client::new(&entry.addr, entry.token.as_deref());
            let (view, stop) = (Arc::clone(&view), Arc::clone(&stop));
            spawn(
                format!("remote {}", entry.name),
                Box::new(move || poll(&client, &stills_rx, &view, &stop)),
            )
        };
        let sender = {
            let client = Client::new(&entry.addr, entry.token.as_deref());
            let (view, stop) = (Arc::clone(&view), Arc::clone(&stop));
            spawn(
                format!("remote {} set", entry.name),
                Box::new(move || send_changes(&client, &changes_rx, &view, &stop)),
            )
        };
        Self {
            entry,
            view,
            changes,
            stills,
            stop,
            threads: poller.into_iter().chain(sender).collect(),
        }
    }

    /// The engine's last view.
    pub fn view(&self) -> EngineView {
        self.view
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Queues a change; an error when the queue is full (the engine is not keeping up).
    pub fn send(&self, change: Change) -> Result<(), String> {
        self.changes.try_send(change).map_err(|e| match e {
            TrySendError::Full(_) => format!("{}: too many changes queued", self.entry.name),
            TrySendError::Disconnected(_) => format!("{}: sender stopped", self.entry.name),
        })
    }

    /// Asks for a full-size still of the engine's input; it arrives in [`EngineView::still`]
    /// (or the reason in [`EngineView::error`]).
    pub fn request_still(&self) -> Result<(), String> {
        self.stills.try_send(()).map_err(|e| match e {
            TrySendError::Full(()) => format!("{}: a still is already on its way", self.entry.name),
            TrySendError::Disconnected(()) => format!("{}: poller stopped", self.entry.name),
        })
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        for t in self.threads.drain(..) {
            if t.join().is_err() {
                tracing::error!("a remote thread of {} panicked", self.entry.name);
            }
        }
    }
}

/// Applies `f` to the shared view.
fn update(view: &Mutex<EngineView>, f: impl FnOnce(&mut EngineView)) {
    f(&mut view.lock().unwrap_or_else(PoisonError::into_inner));
}

/// The sender: each change as soon as it comes, on its own connection.
fn send_changes(
    client: &Client,
    changes: &Receiver<Change>,
    view: &Mutex<EngineView>,
    stop: &AtomicBool,
) {
    let mut sets = 0;
    while !stop.load(Ordering::Acquire) {
        let Ok(change) = changes.recv_timeout(STOP_CHECK) else {
            continue;
        };
        sets += 1;
        let answer = SetAnswer {
            seq: sets,
            key: change.key().to_owned(),
            reply: client
                .set(&change)
                .map(|r| r.value.to_string())
                .map_err(|e| e.to_string()),
        };
        update(view, |v| {
            match &answer.reply {
                Ok(_) => {
                    v.accepted += 1;
                    v.error = None;
                }
                Err(e) => v.error = Some(e.clone()),
            }
            v.last_set = Some(answer);
        });
    }
}

/// The poller: status and thumbnail on the poll clock, a still when asked.
fn poll(client: &Client, stills: &Receiver<()>, view: &Mutex<EngineView>, stop: &AtomicBool) {
    let update = |f: &mut dyn FnMut(&mut EngineView)| update(view, f);
    let mut seq = 0;
    let mut stills_taken = 0;
    let mut next_poll = Instant::now();
    while !stop.load(Ordering::Acquire) {
        // A still as soon as it is asked for; status and picture on the poll clock.
        let wait = next_poll
            .saturating_duration_since(Instant::now())
            .min(STOP_CHECK);
        if stills.recv_timeout(wait).is_ok() {
            match fetch_still(client, stills_taken + 1) {
                Ok(still) => {
                    stills_taken += 1;
                    let still = Arc::new(still);
                    update(&mut |v| {
                        v.still = Some(Arc::clone(&still));
                        v.still_answers += 1;
                        v.still_error = None;
                        v.error = None;
                    });
                }
                Err(e) => update(&mut |v| {
                    v.still_answers += 1;
                    v.still_error = Some(e.clone());
                    v.error = Some(format!("still: {e}"));
                }),
            }
            continue;
        }
        if Instant::now() < next_poll {
            continue;
        }
        next_poll = Instant::now() + POLL_INTERVAL;
        match client.status() {
            Ok(status) => update(&mut |v| {
                v.status = Some(status.clone());
                v.connected = true;
                v.last_answer = Some(Instant::now());
            }),
            Err(e) => {
                update(&mut |v| {
                    v.connected = false;
                    v.error = Some(e.to_string());
                });
                continue;
            }
        }
        let picture = client
            .preview(PreviewKind::Program)
            .ok()
            .and_then(|jpeg| image::load_from_memory(&jpeg).ok())
            .map(|img| img.to_rgb8());
        if let Some(img) = picture {
            seq += 1;
            let picture = Arc::new(Picture {
                seq,
                width: img.width() as usize,
                height: img.height() as usize,
                rgb: img.into_raw(),
            });
            update(&mut |v| v.picture = Some(picture.clone()));
        }
    }
}

/// A full-size still from `client`, decoded to RGBA.
fn fetch_still(client: &Client, seq: u64) -> Result<Still, String> {
    let png = client.still().map_err(|e| e.to_string())?;
    let image = image::load_from_memory(&png)
        .map_err(|e| format!("not a picture: {e}"))?
        .to_rgba8();
    Ok(Still {
        seq,
        width: image.width(),
        height: image.height(),
        rgba: image.into_raw(),
    })
}

/// Every engine of a production.
#[derive(Debug, Default)]
pub struct Fleet {
    /// The engines, in the saved list's order.
    pub engines: Vec<Remote>,
}

impl Fleet {
    /// Starts polling every engine of `list`.
    pub fn start(list: Vec<EngineEntry>) -> Self {
        Self {
            engines: list.into_iter().map(Remote::start).collect(),
        }
    }

    /// Sends one change to every engine; the names of those whose queue was full.
    pub fn send_all(&self, change: &Change) -> Vec<String> {
        self.engines
            .iter()
            .filter_map(|r| r.send(change.clone()).err())
            .collect()
    }

    /// The saved list.
    pub fn entries(&self) -> Vec<EngineEntry> {
        self.engines.iter().map(|r| r.entry.clone()).collect()
    }
}
