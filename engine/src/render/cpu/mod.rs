//! The CPU compositor: same coverage formula and key as the GPU, but no atlas. Each touched
//! tile rasterises its strip triangles row span by row span (tiles in parallel on the calling
//! thread and its [`Crew`]), keys only the covered pixels (and, for the edge filter, their
//! neighbours) straight from the frame, and records an alpha per covered pixel; then the
//! covered spans are blended into the frame in place. Nothing outside the strip's footprint is
//! read or written.
//!
//! This module holds the [`CpuCompositor`], its per-tile scratch and the passes' order;
//! `coverage` rasterises a tile's triangles into covered spans, `key` multiplies their alpha by
//! the filtered key, `blend` blends them into RGB and YUV frames and `bands` hands out each row
//! of tiles with the frame rows it covers.

mod bands;
mod blend;
mod coverage;
mod key;

use yardline_frame::{FillKeyFormat, FillKeyMut, FrameMut, FrameRef};

use super::crew::Crew;
use super::raster::TriangleSetup;
use super::tiles::{CELL, HALO, TILE, TilePlan};
use super::{
    CompositeStats, Compositor, KeyRegion, PixelKey, PreparedLine, RenderError, native_colour,
    regions_near_lines,
};
use bands::{TileRows, YuvTileRows};
use blend::{RgbBlend, blend_yuv_tile};

/// Pixels of a tile.
const TILE_PX: usize = (TILE * TILE) as usize;
/// Pixels of a tile with its halo (the raw keys).
const CELL_PX: usize = (CELL * CELL) as usize;

/// Composites on the CPU. Keeps its tile plan and per-tile scratch between frames (no
/// per-frame allocation once warm).
#[derive(Debug, Default)]
pub struct CpuCompositor {
    plan: TilePlan,
    scratch: Vec<TileScratch>,
    colours: Vec<[f32; 3]>,
    setups: Vec<Option<TriangleSetup>>,
    /// The key regions near the lines this frame (indices into the key's regions, in order).
    near: Vec<u32>,
    /// The threads that work each pass (started on the first frame).
    crew: Option<Crew>,
}

/// Per-tile working memory, reused across frames.
#[derive(Debug, Default, Clone)]
struct TileScratch {
    /// Raw key per pixel of the tile and its halo, one `CELL_PX` block per palette in `used`,
    /// valid where the covered pixels' neighbourhoods reach.
    raw: Vec<f32>,
    /// `raw` min-filtered along rows.
    hmin: Vec<f32>,
    /// Alpha per tile pixel, one `TILE_PX` block per line; zero outside `spans`.
    alpha: Vec<f32>,
    /// Field offsets (along, across) of each covered pixel, laid out as `alpha` (written only
    /// when the key has a clean plate).
    offs: Vec<[f32; 2]>,
    /// Palette of each covered pixel, laid out as `alpha` (written only when regions are near;
    /// an index into `used` once the key is applied).
    luts: Vec<u32>,
    /// Palettes used by the tile's covered pixels this frame.
    used: Vec<u32>,
    /// Per line and tile row: the covered columns `[lo, hi)` (empty when `lo >= hi`).
    spans: Vec<[u16; 2]>,
    /// Per palette in `used` and cell row: the cell columns whose row minimum is read.
    need: Vec<u128>,
    /// The key regions the tile's covered pixels can lie in (indices into the key's regions).
    near: Vec<u32>,
    /// Per 2x2 block of the tile: the palette found for it on triangle `stamp` (see
    /// `coverage::block_lut`), so a block is looked up once per triangle.
    blocks: Vec<(u32, u32)>,
    /// Stamp of the triangle being rasterised (counts up, never 0).
    stamp: u32,
    /// Triangles rasterised this frame.
    triangles: usize,
}

/// 2x2 pixel blocks per tile.
const BLOCKS: usize = (TILE as usize / 2) * (TILE as usize / 2);

/// An empty column span.
const NO_SPAN: [u16; 2] = [TILE as u16, 0];

impl TileScratch {
    fn prepare(&mut self, lines: usize) {
        if self.raw.len() < CELL_PX {
            self.raw.resize(CELL_PX, 0.0);
            self.hmin.resize(CELL_PX, 0.0);
        }
        if self.alpha.len() < lines * TILE_PX {
            self.alpha.resize(lines * TILE_PX, 0.0);
            self.luts.resize(lines * TILE_PX, 0);
            self.offs.resize(lines * TILE_PX, [0.0; 2]);
        }
        self.used.clear();
        if self.blocks.len() < BLOCKS {
            self.blocks.resize(BLOCKS, (0, 0));
        }
        if self.spans.len() < lines * TILE as usize {
            self.spans.resize(lines * TILE as usize, NO_SPAN);
        }
        self.triangles = 0;
    }
}

impl CpuCompositor {
    /// A new compositor (its crew as large as the global rayon pool, started on the first
    /// frame).
    pub fn new() -> Self {
        Self::default()
    }

    /// Pass 1: plans the tiles and records, per line, the alpha (coverage x key x opacity) of
    /// every covered pixel of `frame` in the tiles' scratch, and the lines' colours in the
    /// frame's codes. Returns the number of tiles (0: nothing to draw).
    fn alphas(&mut self, frame: FrameRef<'_>, lines: &[PreparedLine], key: &dyn PixelKey) -> usize {
        let layout = frame.layout;
        self.plan.build(layout.width, layout.height, lines);
        let n_tiles = self.plan.tiles.len();
        if n_tiles == 0 {
            return 0;
        }
        if self.scratch.len() < n_tiles {
            self.scratch.resize_with(n_tiles, TileScratch::default);
        }
        // Per-frame tables live in reused buffers: no allocation once warm.
        self.colours.clear();
        self.colours
            .extend(lines.iter().map(|l| native_colour(layout, l.rgb)));
        self.setups.clear();
        self.setups
            .extend(self.plan.triangles.iter().map(TriangleSetup::new));
        let radius = key.min_filter_radius().min(HALO);
        let regions = key.regions();
        regions_near_lines(regions, lines, &mut self.near);
        let ctx = Raster {
            regions,
            near: &self.near,
            plan: &self.plan,
            setups: &self.setups,
            lines,
            key,
            radius,
            frame,
        };
        let crew = self.crew.get_or_insert_with(Crew::sized_like_rayon);
        crew.run(
            self.scratch[..n_tiles].iter_mut().enumerate(),
            |(cell, scratch)| ctx.raster_tile(cell, scratch),
        );
        n_tiles
    }

    /// Draws `lines` alone into the fill-and-key frame `out` (same size as `frame`, cleared to
    /// transparent by the caller): per pixel the alpha the program blend of
    /// [`Compositor::composite`] would use on `frame` (coverage x key x opacity, from the same
    /// pass), with the line colour as fill; lines over one another combine as the program
    /// draws them (`over`, in order). `frame` is not changed.
    pub fn fill_key(
        &mut self,
        frame: FrameRef<'_>,
        lines: &[PreparedLine],
        key: &dyn PixelKey,
        out: &mut FillKeyMut<'_>,
    ) -> Result<CompositeStats, RenderError> {
        let layout = frame.layout;
        if (out.width, out.height) != (layout.width, layout.height)
            || !FillKeyFormat::for_input(layout.format).contains(&out.format)
        {
            return Err(RenderError::Frame(yardline_frame::FrameError::BadPlane {
                plane: 0,
                reason: format!(
                    "fill and key {} {}x{} for {} {}x{} input",
                    out.format, out.width, out.height, layout.format, layout.width, layout.height
                ),
            }));
        }
        let n_tiles = self.alphas(frame, lines, key);
        if n_tiles == 0 {
            return Ok(CompositeStats::default());
        }
        // The fill: the line colour as configured (RGB outputs) or in the input's YUV codes at
        // 10 bits (AYUV64 from 10-bit input).
        let fills: Vec<[f32; 3]> = if out.format.is_yuv() {
            let scale = 4.0 * yardline_frame::code_scale(layout.format);
            self.colours.iter().map(|c| c.map(|v| v * scale)).collect()
        } else {
            lines.iter().map(|l| l.rgb.map(f32::from)).collect()
        };
        let scratch = &mut self.scratch[..n_tiles];
        let triangles = scratch.iter().map(|s| s.triangles).sum();
        blend::fill_key_tiles(&self.plan.tiles, scratch, &fills, out);
        Ok(CompositeStats {
            tiles: n_tiles,
            triangles,
        })
    }

    /// A new compositor working its passes with `crew`.
    pub fn with_crew(crew: Crew) -> Self {
        Self {
            crew: Some(crew),
            ..Self::default()
        }
    }
}

impl Compositor for CpuCompositor {
    fn describe(&self) -> String {
        let threads = self
            .crew
            .as_ref()
            .map_or_else(rayon::current_num_threads, Crew::threads);
        format!("cpu ({threads} threads)")
    }

    fn composite(
        &mut self,
        frame: &mut FrameMut<'_>,
        lines: &[PreparedLine],
        key: &dyn PixelKey,
    ) -> Result<CompositeStats, RenderError> {
        let layout = frame.layout;
        let format = layout.format;
        // 1. Coverage x key x opacity of every covered pixel, from the original frame.
        let n_tiles = self.alphas(frame.as_ref(), lines, key);
        if n_tiles == 0 {
            return Ok(CompositeStats::default());
        }
        let crew = self.crew.get_or_insert_with(Crew::sized_like_rayon);
        // 2. Blend the covered spans, the lines in order (RGB line by line; YUV pixel by pixel,
        // every line over it, then each chroma site's mean), tile by tile, rows of tiles in
        // parallel (each holds its own rows of every plane).
        let scratch = &mut self.scratch[..n_tiles];
        let triangles = scratch.iter().map(|s| s.triangles).sum();
        if let Some(offs) = format.rgb_offsets() {
            let rgb = RgbBlend {
                stride: layout.planes[0].stride,
                offsets: offs,
                colours: &self.colours,
            };
            let rows = TileRows::new(frame, &self.plan.tiles, scratch);
            crew.run(rows, |(band, row0, tiles, scratch)| {
                rgb.blend(band, row0, tiles, scratch);
            });
        } else {
            let rows = YuvTileRows::new(frame, &self.plan.tiles, scratch);
            let colours = &self.colours;
            crew.run(rows, |(mut band, tiles, scratch)| {
                for (&origin, scratch) in tiles.iter().zip(scratch) {
                    blend_yuv_tile(layout, &mut band, scratch, origin, colours);
                }
            });
        }
        Ok(CompositeStats {
            tiles: n_tiles,
            triangles,
        })
    }
}

/// What the coverage and key passes of a tile read.
struct Raster<'a> {
    /// The key's regions.
    regions: &'a [KeyRegion],
    /// Those near the lines (indices into `regions`, in order); empty: palette 0 everywhere.
    near: &'a [u32],
    plan: &'a TilePlan,
    setups: &'a [Option<TriangleSetup>],
    lines: &'a [PreparedLine],
    key: &'a dyn PixelKey,
    radius: u32,
    frame: FrameRef<'a>,
}
