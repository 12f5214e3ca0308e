//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while generating a sample or scoring an output.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    /// A configuration value is out of range or inconsistent.
    #[error("invalid sample configuration: {0}")]
    InvalidConfig(String),
    /// Not one of the known scenarios.
    #[error(
        "unknown scenario {0:?} (expected default, hard, drift, static, camouflage, zoom or cut)"
    )]
    UnknownScenario(String),
    /// Not a field kind the generator can paint.
    #[error("unsupported field {0:?} (the generator paints nfl, ncaa or hs fields)")]
    UnsupportedField(String),
    /// A frame index at or beyond the sample's frame count.
    #[error("frame {index} is out of range (the sample has {count} frames)")]
    FrameOutOfRange {
        /// Requested frame index.
        index: u32,
        /// Number of frames in the sample.
        count: u32,
    },
    /// A camera record that is not a valid camera (non-finite values, not a rotation, ...).
    #[error("invalid camera: {0}")]
    InvalidCamera(String),
    /// Two inputs that must agree do not (buffer sizes, image sizes, frame numbers).
    #[error("input mismatch: {0}")]
    Mismatch(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A JSON line could not be read or written.
    #[error("{path}:{line}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line number (0 when writing).
        line: usize,
        /// The underlying error.
        source: serde_json::Error,
    },
    /// A TOML file could not be parsed.
    #[error("{path}: {source}")]
    TomlRead {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: toml::de::Error,
    },
    /// A TOML document could not be written.
    #[error("cannot serialise {what} as TOML: {source}")]
    TomlWrite {
        /// Which document.
        what: &'static str,
        /// The underlying error.
        source: toml::ser::Error,
    },
}

/// Result alias of this crate.
pub type Result<T, E = SampleError> = std::result::Result<T, E>;
