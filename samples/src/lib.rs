//! # yardline-samples
//!
//! Synthetic broadcast footage with exact camera truth (generator under construction).
