//! # yardline-keying
//!
//! The occlusion key that puts players over the line: key = 1 on field surface (grass, paint,
//! mud, snow), 0 on players, officials and the ball. Operators (or [`auto_palette`]) build
//! **palettes** of colour samples; a palette compiles to a **3D key LUT** ([`KeyLut`]) so that
//! the per-pixel key is one trilinear lookup on the CPU ([`Keyer`]) and, on the GPU, one
//! bilinear sample of a (Y, Cb) slice and a mix along Cr.
//!
//! ```text
//! Palette (samples) --model()--> KeyModel (direct evaluation, the reference)
//!         \--KeyConfig { palette, regions, lut_size, min_filter_radius, edge_filter } (key.toml)
//!                 --Keyer::compile--> Keyer { luts: [KeyLut], regions, edge filter }
//!                         key_at / key_pixels (the line's pixels) / key_frame (matte)
//! ```
//!
//! ## Conventions
//!
//! - **Colour space**: BT.709 YCbCr, **limited range**, in 8-bit code values (Y 16..=235,
//!   Cb/Cr 16..=240 nominal, 0..=255 accepted): the raw bytes of an I420/NV12/UYVY frame. RGB
//!   frames are full range and converted per pixel with [`yardline_frame::rgb_to_ycbcr709`] (unrounded
//!   floats) before the lookup; no frame is ever converted as a whole. This is the key space:
//!   a YUV frame of another colorimetry (its layout's `colorimetry`: BT.601 or BT.2020, full
//!   range) is keyed with the LUT re-indexed for its own codes ([`KeyLut::for_colorimetry`],
//!   once per call of [`LutKeyer::key_frame`] or [`LutKeyer::key_pixels`]), and its colours
//!   for palettes are read in the key space ([`yardline_frame::FrameRef::ycbcr_f32`]).
//! - **Samples** are ellipsoids: `mean` (Y, Cb, Cr code values), `covariance` (code values
//!   squared, symmetric positive definite), `tolerance` (Mahalanobis radius, standard
//!   deviations). A palette's `softness` is the width of the soft edge beyond each tolerance
//!   (Mahalanobis units): membership is 1 within the tolerance, falls with a smoothstep to 0 at
//!   tolerance + softness.
//! - **Key** of a colour = max inclusion membership x (1 - max exclusion membership), in
//!   0..=1. An exclusion sample forces 0 within its tolerance: exclusion always wins.
//! - **LUT layout** (x = Y, y = Cb, z = Cr; the engine's GPU compositor repacks it into 2-D
//!   RGBA8 slices): `data[iy + n * (icb + n * icr)]`, alpha 0..=255, node `i` of each axis at code value
//!   `255 * i / (n - 1)`; n = 65 by default (cells of 4 code values: colours a few code values
//!   apart, such as a green kit and the grass in deep shadow, stay apart), 33 when memory is
//!   short. Lookups are trilinear:
//!   [`KeyLut::lookup`] in f32 (the reference); the keyer's YUV path uses exact integer weights
//!   (byte inputs fall on multiples of 1/255 of a cell), its RGB path the same BT.709 matrix in
//!   fixed point (three per-channel table reads and two additions give all three positions)
//!   with each position rounded to 1/255 of a cell (at most `0.5 / (n - 1)` code values).
//! - **Min-filter**: the key of a pixel is the minimum over its `(2r + 1)^2` neighbourhood
//!   (r = `min_filter_radius`, pixels; default 1 = 3x3, 0 = off), clipped at the frame's edges,
//!   so the line does not bleed into thin dark edges (1st & Ten's neighbourhood alpha).
//!   With `edge_filter = "unmix"` the neighbourhood instead unmixes edges: a pixel next to a
//!   player (a neighbour keyed below [`UNMIX_FOREGROUND_KEY`]) keys at most the grass's share
//!   of its colour, as a mixture of that neighbour's colour and the highest-keyed neighbour's
//!   ([`unmix_key`]); elsewhere its own key stands.
//! - **Pixels**: (x, y) with (0, 0) the top-left pixel; mattes are row-major `width * height`
//!   f32. Pixels outside the frame key to 0 (nothing is drawn there).
//! - **Regions**: field rectangles `[x0, y0, x1, y1]` in metres in the field frame (DESIGN.md:
//!   origin at the centre of the field, +x toward the right goal line, +y toward the far
//!   sideline), edges included. Region `i` compiles to LUT `i + 1`, LUT 0 is the default
//!   palette, the first region listed containing a point wins ([`Keyer::lut_index_at`]).
//! - **Paint**: an optional paint palette ([`PaintKey`], LUT after the regions') applies on the
//!   field's painted markings, each widened by its margin; the field model (not this crate)
//!   says where they lie, and regions take precedence over it.
//! - **Key file** `key.toml`: `version = 1`, serde, validated on load; errors name the key
//!   (`palette.samples[2].covariance: not positive definite`).
//! - Chroma of subsampled formats is taken from the pixel's own chroma site (no
//!   interpolation), as [`yardline_frame::yuv_samples`] defines it;
//!   10-bit frames are keyed at their own precision ([`KeyLut::lookup_u10`]).

mod auto;
mod config;
mod error;
pub mod exclusion;
mod keyer;
mod linalg;
mod lut;
mod palette;
mod stats;

pub use auto::{
    AutoPaletteOptions, auto_paint_palette, auto_paint_palette_from_points, auto_palette,
    auto_palette_from_mask, auto_palette_from_points, field_points,
};
pub use config::{
    DEFAULT_LUT_SIZE, DEFAULT_MIN_FILTER_RADIUS, DEFAULT_PAINT_MARGIN_M, EdgeFilter, FINE_LUT_SIZE,
    KEY_FILE_VERSION, KeyConfig, MAX_LUT_SIZE, MAX_MIN_FILTER_RADIUS, MAX_PAINT_MARGIN_M,
    MIN_LUT_SIZE, PaintKey, Region, UNMIX_FOREGROUND_KEY, unmix_key,
};
pub use error::KeyError;
pub use exclusion::{Exclusion, ExclusionShape, format_exclusions, parse_exclusions};
pub use keyer::{Keyer, LutKeyer};
pub use lut::{KeyLut, node_code_value};
pub use palette::{
    DEFAULT_EXCLUSION_TOLERANCE, DEFAULT_INCLUSION_TOLERANCE, DEFAULT_SOFTNESS, KeyModel,
    MAX_TOLERANCE, MIN_SAMPLE_PIXELS, MIN_SAMPLE_SIGMA, Palette, PixelRect, Sample, SampleKind,
};
