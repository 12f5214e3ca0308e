//! Tracking inputs of the element: a live FreeD UDP listener or a recorded `tracking.jsonl`,
//! each on its own thread feeding a bounded queue that the streaming thread drains.

use std::fs::File;
use std::io::BufReader;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};
use yardline_engine::tracking::TrackingSample;
use yardline_engine::tracking::source::{
    JsonlStats, ReceiveClock, UdpSource, UdpSourceConfig, UdpStats, read_jsonl,
};

/// Capacity of the queue between the file reader thread and the streaming thread (samples).
const FILE_QUEUE_CAPACITY: usize = 256;
/// Longest the streaming thread waits for the file reader to hand over the next sample.
const FILE_WAIT: Duration = Duration::from_secs(10);

/// Where tracking comes from, as given in the `tracking` property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackingUri {
    /// `udp://ADDR:PORT`: live FreeD D1 packets.
    Udp(SocketAddr),
    /// `file:///path/tracking.jsonl`: recorded packets with their receive times.
    File(PathBuf),
}

/// Errors in a `tracking` value or opening its source.
#[derive(Debug, thiserror::Error)]
pub enum TrackingError {
    /// Not a `udp://ADDR:PORT` or `file:///path` URI.
    #[error("tracking URI {0:?}: expected udp://ADDR:PORT or file:///path/tracking.jsonl")]
    BadUri(String),
    /// The address part does not resolve.
    #[error("tracking URI {uri:?}: cannot resolve {addr:?}")]
    BadAddress {
        /// The whole URI.
        uri: String,
        /// The address part.
        addr: String,
    },
    /// The tracking file cannot be opened.
    #[error("tracking file {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The UDP listener cannot start.
    #[error("tracking {0}")]
    Udp(#[from] yardline_engine::tracking::source::SourceError),
}

impl TrackingUri {
    /// Parses `udp://ADDR:PORT` (IPv4, `[IPv6]` or a host name) or a `file://` URI.
    pub fn parse(uri: &str) -> Result<Self, TrackingError> {
        let t = uri.trim();
        if let Some(addr) = t.strip_prefix("udp://") {
            let addr = addr.trim_end_matches('/');
            let resolved = addr
                .to_socket_addrs()
                .ok()
                .and_then(|mut a| a.next())
                .ok_or_else(|| TrackingError::BadAddress {
                    uri: uri.to_string(),
                    addr: addr.to_string(),
                })?;
            return Ok(Self::Udp(resolved));
        }
        if t.starts_with("file:") {
            let (path, _host) = gst::glib::filename_from_uri(t)
                .map_err(|_| TrackingError::BadUri(uri.to_string()))?;
            return Ok(Self::File(path));
        }
        Err(TrackingError::BadUri(uri.to_string()))
    }
}

/// Counters of the file reader.
#[derive(Debug, Default)]
struct FileShared {
    stats: JsonlStats,
    error: Option<String>,
}

/// A recorded `tracking.jsonl`, read on its own thread and handed over in receive-time order.
pub struct FileTracking {
    path: PathBuf,
    rx: Receiver<TrackingSample>,
    next: Option<TrackingSample>,
    ended: bool,
    shared: Arc<Mutex<FileShared>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for FileTracking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileTracking")
            .field("path", &self.path)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl FileTracking {
    /// Opens the file (the error names it) and starts the reader thread.
    pub fn open(path: &Path) -> Result<Self, TrackingError> {
        let file = File::open(path).map_err(|source| TrackingError::File {
            path: path.to_path_buf(),
            source,
        })?;
        let (tx, rx) = crossbeam_channel::bounded(FILE_QUEUE_CAPACITY);
        let shared = Arc::new(Mutex::new(FileShared::default()));
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("yardline-tracking-file".into())
            .spawn(move || {
                let log = read_jsonl(BufReader::new(file));
                let mut samples = match log {
                    Ok(log) => {
                        lock(&thread_shared).stats = log.stats;
                        log.samples
                    }
                    Err(e) => {
                        lock(&thread_shared).error = Some(e.to_string());
                        return;
                    }
                };
                // Receive-time order, as the CLI render feeds them (stable for equal times).
                samples.sort_by_key(|s| s.pts_ns);
                for s in samples {
                    if tx.send(s).is_err() {
                        break;
                    }
                }
            })
            .map_err(|source| TrackingError::File {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Self {
            path: path.to_path_buf(),
            rx,
            next: None,
            ended: false,
            shared,
            thread: Some(thread),
        })
    }

    /// Hands every sample received up to `until_ns` (inclusive) to `push`, in order; waits for
    /// the reader thread only while it is still reading.
    pub fn feed_until(&mut self, until_ns: i64, mut push: impl FnMut(&TrackingSample)) {
        loop {
            if self.next.is_none() && !self.ended {
                match self.rx.recv_timeout(FILE_WAIT) {
                    Ok(s) => self.next = Some(s),
                    Err(RecvTimeoutError::Disconnected) => self.ended = true,
                    Err(RecvTimeoutError::Timeout) => return,
                }
            }
            match self.next {
                Some(s) if s.pts_ns <= until_ns => {
                    push(&s);
                    self.next = None;
                }
                _ => return,
            }
        }
    }

    /// Read counters so far, and the read error if the file could not be read.
    pub fn stats(&self) -> (JsonlStats, Option<String>) {
        let s = lock(&self.shared);
        (s.stats, s.error.clone())
    }
}

impl Drop for FileTracking {
    fn drop(&mut self) {
        // Hanging up ends the reader's next send; it then exits.
        let (_tx, rx) = crossbeam_channel::bounded(1);
        drop(std::mem::replace(&mut self.rx, rx));
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            gst::error!(crate::yardline::CAT, "tracking file reader thread panicked");
        }
    }
}

/// An open tracking input.
#[derive(Debug)]
pub enum Tracking {
    /// Live FreeD over UDP (receive times on the element's running time).
    Udp(UdpSource),
    /// A recorded file (receive times on the video's timestamps).
    File(FileTracking),
}

impl Tracking {
    /// Opens the source named by `uri`; `clock` stamps UDP packets (running time, ns).
    pub fn open(uri: &TrackingUri, clock: ReceiveClock) -> Result<Self, TrackingError> {
        match uri {
            TrackingUri::Udp(addr) => {
                let config = UdpSourceConfig {
                    bind: *addr,
                    ..UdpSourceConfig::default()
                };
                Ok(Self::Udp(UdpSource::start_with_clock(config, clock)?))
            }
            TrackingUri::File(path) => Ok(Self::File(FileTracking::open(path)?)),
        }
    }

    /// "udp" or "file".
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Udp(_) => "udp",
            Self::File(_) => "file",
        }
    }

    /// UDP counters, for a UDP source.
    pub fn udp_stats(&self) -> Option<UdpStats> {
        match self {
            Self::Udp(u) => Some(u.stats()),
            Self::File(_) => None,
        }
    }
}

/// Moves every queued UDP sample to `push` without blocking; returns the newest receive time.
pub fn drain_udp(source: &UdpSource, mut push: impl FnMut(&TrackingSample)) -> Option<i64> {
    let mut newest = None;
    while let Some(s) = source.try_recv() {
        push(&s);
        newest = Some(newest.map_or(s.pts_ns, |n: i64| n.max(s.pts_ns)));
    }
    newest
}

/// Waits until `deadline` for one more UDP sample.
pub fn wait_udp(source: &UdpSource, deadline: Instant) -> Option<TrackingSample> {
    source.receiver().recv_deadline(deadline).ok()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_udp_and_file_uris() {
        assert_eq!(
            TrackingUri::parse("udp://127.0.0.1:40000").unwrap(),
            TrackingUri::Udp("127.0.0.1:40000".parse().unwrap())
        );
        assert_eq!(
            TrackingUri::parse("udp://[::1]:5000").unwrap(),
            TrackingUri::Udp("[::1]:5000".parse().unwrap())
        );
        assert_eq!(
            TrackingUri::parse("file:///tmp/a%20b/tracking.jsonl").unwrap(),
            TrackingUri::File(PathBuf::from("/tmp/a b/tracking.jsonl"))
        );
        for bad in [
            "",
            "udp://",
            "udp://127.0.0.1",
            "http://x/y",
            "/tmp/t.jsonl",
        ] {
            assert!(TrackingUri::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn missing_file_names_the_file() {
        let e = FileTracking::open(Path::new("/nonexistent/tracking.jsonl")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/tracking.jsonl"), "{e}");
    }
}
