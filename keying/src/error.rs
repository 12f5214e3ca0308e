//! The crate's error type.

use std::path::PathBuf;

use yardline_frame::FrameError;

/// Everything that can go wrong while building, loading or applying a key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A value in a palette or key file is out of range; `key` names it the way the file does
    /// (for example `palette.samples[2].covariance`).
    #[error("invalid key setting `{key}`: {reason}")]
    Invalid {
        /// Dotted path of the offending value, as written in `key.toml`.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The file's `version` is not one this build reads.
    #[error("unsupported key file version {found} (this build reads version {supported})")]
    UnsupportedVersion {
        /// Version found in the file.
        found: i64,
        /// Version this build reads and writes.
        supported: u32,
    },
    /// The TOML text could not be parsed (syntax, wrong type, unknown key).
    #[error("key file is not valid: {0}")]
    Parse(#[from] toml::de::Error),
    /// The key could not be written as TOML.
    #[error("cannot write key file: {0}")]
    Serialize(#[from] toml::ser::Error),
    /// Reading or writing a key file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The frame's layout or buffer is unusable.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// A pixel list and its output slice differ in length.
    #[error("{coords} pixel coordinates but an output of {out} values")]
    LengthMismatch {
        /// Number of coordinates.
        coords: usize,
        /// Length of the output slice.
        out: usize,
    },
    /// A LUT index past the compiled key's list.
    #[error("LUT index {index} out of range (the key has {count} LUTs)")]
    NoSuchLut {
        /// Requested index.
        index: usize,
        /// Number of LUTs compiled.
        count: usize,
    },
    /// A sampling rectangle that is empty or leaves the frame.
    #[error(
        "sampling region {x},{y} {width}x{height} is empty or leaves the {frame_width}x{frame_height} frame"
    )]
    BadRegion {
        /// Left column (pixels).
        x: u32,
        /// Top row (pixels).
        y: u32,
        /// Width (pixels).
        width: u32,
        /// Height (pixels).
        height: u32,
        /// Frame width (pixels).
        frame_width: u32,
        /// Frame height (pixels).
        frame_height: u32,
    },
    /// Too few pixels to estimate a colour sample or a palette.
    #[error("{what}: {found} pixels, need at least {needed}")]
    TooFewPixels {
        /// What was being estimated.
        what: &'static str,
        /// Pixels available.
        found: usize,
        /// Pixels required.
        needed: usize,
    },
    /// A mask whose length does not match the frame.
    #[error("field mask holds {found} values, the frame has {expected} pixels")]
    MaskSize {
        /// Mask length.
        found: usize,
        /// Width x height of the frame.
        expected: usize,
    },
}
