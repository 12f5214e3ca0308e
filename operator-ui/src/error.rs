//! Errors of the operator app's library.

use std::path::PathBuf;

/// What can go wrong setting up the app's inputs.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A bad setting or input file (usage/configuration error).
    #[error("{0}")]
    Config(String),
    /// The sample generator failed.
    #[error("built-in sample: {0}")]
    Sample(String),
    /// A GStreamer pipeline could not be built or run.
    #[error("GStreamer pipeline {description:?}: {detail}")]
    Pipeline {
        /// The pipeline (or what it was for).
        description: String,
        /// What went wrong.
        detail: String,
    },
}

impl UiError {
    /// True for usage and configuration errors (exit code 2), false for processing failures.
    pub fn is_usage(&self) -> bool {
        matches!(self, Self::Config(_) | Self::Io { .. })
    }
}
