//! Loading what the element's file properties name: the venue, the key and the tracking
//! source, with one error type whose messages name the file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use yardline_engine::key::FieldKey;
use yardline_engine::tracking::source::{ReceiveClock, SourceError};
use yardline_engine::tracking::{FeedError, TrackingFeed, TrackingSpec};
use yardline_engine::venue::{Venue, VenueError};
use yardline_keying::{KeyConfig, KeyError};

/// Why a venue, key or tracking source cannot be loaded; every message names the file (or
/// address).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The venue file does not exist.
    #[error("venue file {} not found", .0.display())]
    VenueNotFound(PathBuf),
    /// The venue file exists but is unusable.
    #[error("venue file {}: {source}", path.display())]
    Venue {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: VenueError,
    },
    /// The key file does not exist.
    #[error("key file {} not found", .0.display())]
    KeyNotFound(PathBuf),
    /// The key file exists but is unusable (unreadable, invalid, or its key does not compile).
    #[error("key file {}: {source}", path.display())]
    Key {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: KeyError,
    },
    /// The tracking file cannot be read.
    #[error("tracking file {}: {source}", path.display())]
    TrackingFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: SourceError,
    },
    /// The UDP listener cannot start.
    #[error("tracking udp://{addr}: {source}")]
    TrackingUdp {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: SourceError,
    },
}

impl From<FeedError> for LoadError {
    fn from(e: FeedError) -> Self {
        match e {
            FeedError::File { path, source } => Self::TrackingFile { path, source },
            FeedError::Udp { addr, source } => Self::TrackingUdp { addr, source },
        }
    }
}

impl LoadError {
    /// The GStreamer error this is at start: not found, bad settings, or a source that cannot
    /// be opened.
    pub fn resource_error(&self) -> gst::ResourceError {
        match self {
            Self::VenueNotFound(_) | Self::KeyNotFound(_) => gst::ResourceError::NotFound,
            Self::Venue { .. } | Self::Key { .. } => gst::ResourceError::Settings,
            Self::TrackingFile { .. } | Self::TrackingUdp { .. } => gst::ResourceError::OpenRead,
        }
    }
}

/// Loads and validates a venue file.
pub fn venue(path: &Path) -> Result<Venue, LoadError> {
    if !path.is_file() {
        return Err(LoadError::VenueNotFound(path.to_path_buf()));
    }
    Venue::load(path).map_err(|source| LoadError::Venue {
        path: path.to_path_buf(),
        source,
    })
}

/// Loads a key file and compiles its key.
pub fn key(path: &Path) -> Result<(KeyConfig, FieldKey), LoadError> {
    if !path.is_file() {
        return Err(LoadError::KeyNotFound(path.to_path_buf()));
    }
    let invalid = |source| LoadError::Key {
        path: path.to_path_buf(),
        source,
    };
    let config = KeyConfig::load(path).map_err(invalid)?;
    let key = FieldKey::compile(&config).map_err(invalid)?;
    Ok((config, key))
}

/// Opens a tracking source: a recording is read whole now; `clock` stamps UDP packets.
pub fn tracking(spec: &TrackingSpec, clock: ReceiveClock) -> Result<TrackingFeed, LoadError> {
    Ok(TrackingFeed::open(spec, clock)?)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn missing_files_are_named() {
        let e = venue(Path::new("/nonexistent/venue.toml")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "venue file /nonexistent/venue.toml not found"
        );
        assert_eq!(e.resource_error(), gst::ResourceError::NotFound);
        let e = key(Path::new("/nonexistent/key.toml")).unwrap_err();
        assert_eq!(e.to_string(), "key file /nonexistent/key.toml not found");
        let spec = TrackingSpec::File(PathBuf::from("/nonexistent/tracking.jsonl"));
        let e = tracking(&spec, Arc::new(|| 0)).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/tracking.jsonl"), "{e}");
        assert_eq!(e.resource_error(), gst::ResourceError::OpenRead);
    }

    #[test]
    fn a_bad_file_is_named_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("venue.toml");
        std::fs::write(&path, "not toml [").unwrap();
        let e = venue(&path).unwrap_err();
        assert!(
            e.to_string()
                .starts_with(&format!("venue file {}: ", path.display())),
            "{e}"
        );
        assert_eq!(e.resource_error(), gst::ResourceError::Settings);
    }
}
