//! # yardline-shaders
//!
//! The WGSL shaders of yardline, kept as `.wgsl` files and embedded at build time. Every shader
//! is parsed and validated by naga in `tests/naga.rs`, so a broken shader fails CI instead of a
//! broadcast. Uniform structs are mirrored in Rust next to their users with a "keep in sync"
//! note and a size/offset test.

/// The compositor's tile pass: analytic strip coverage, key LUT with neighbourhood minimum,
/// blend colour. Entry points `vs_main`, `fs_main`.
pub const COMPOSITE_WGSL: &str = include_str!("../wgsl/composite.wgsl");

/// Every shader as (file name, source), for validation and tooling.
pub const ALL: &[(&str, &str)] = &[("composite.wgsl", COMPOSITE_WGSL)];
