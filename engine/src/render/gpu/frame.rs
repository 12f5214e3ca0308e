//! One frame on the GPU: the strip pieces' vertices and the tiles' key regions, the uploads of
//! the used atlas cells, the region table and the uniforms, the draw, and the readback of the
//! used cells scattered straight into the frame.
//!
//! **Draw levels.** The shader blends each line over the pixel under it, read from a texture,
//! and writes with blending off, so no pixel may be drawn over in the pass that reads it.
//! A tile's first line (level 0) is blended over the gathered tiles themselves; the k-th line
//! drawn in the same tile (level k, lines in their order) in a later pass of its own, over a
//! copy of what the earlier levels drew in that cell. The key always reads the gathered tiles,
//! as the CPU keys every line on the original frame. Most frames have one level; lines whose
//! tiles meet add one per line over one another.

use std::sync::atomic::Ordering;
use std::time::Duration;

use yardline_frame::{FrameLayout, FrameMut};

use super::pipelines::atlas_pass;
use super::resources::{Resources, ensure_buffer, extent};
use super::{AtlasDepth, Globals, GpuCompositor, REGIONS_PER_ROW, VertexGpu};
use crate::render::pieces::cut_to_tile;
use crate::render::tiles::{ATLAS_COLS, ATLAS_WIDTH, CELL, HALO, TILE, TileAtlas, scatter_from};
use crate::render::{
    PixelKey, PreparedLine, RenderError, native_colour, regions_near_lines, tile_regions,
};

/// Longest wait for the GPU before a frame is given up (the frame then passes untouched).
const GPU_TIMEOUT: Duration = Duration::from_secs(2);

impl GpuCompositor {
    /// Geometry: each tile's triangles cut to its interior and placed in its atlas cell (one
    /// draw, no per-tile state), into `scratch_vertices`; per tile, the key regions its covered
    /// pixels can lie in (in precedence order), into `scratch_regions`. Returns the longest
    /// tile list of regions.
    pub(super) fn build_vertices(
        &mut self,
        lines: &[PreparedLine],
        key: &dyn PixelKey,
        layout: &FrameLayout,
    ) -> usize {
        let regions = if key.lut().is_some() {
            key.regions()
        } else {
            &[]
        };
        regions_near_lines(regions, lines, &mut self.scratch_near);
        // The colour as the atlas holds components: its codes over the largest code.
        let max = AtlasDepth::of(layout.format).max_code();
        self.scratch_lines.clear();
        self.scratch_lines.extend(lines.iter().map(|l| {
            let c = native_colour(layout, l.rgb);
            (
                [c[0] / max, c[1] / max, c[2] / max, 1.0],
                [
                    l.mesh.half_width_m as f32,
                    l.mesh.length_m as f32,
                    l.opacity.clamp(0.0, 1.0),
                ],
            )
        }));
        self.scratch_vertices.clear();
        self.scratch_regions.clear();
        for later in &mut self.scratch_later {
            later.clear();
        }
        self.scratch_levels.clear();
        self.scratch_levels.push((0, Vec::new()));
        let mut max_regions = 0;
        for (i, &(tx, ty)) in self.plan.tiles.iter().enumerate() {
            tile_regions(
                regions,
                &self.scratch_near,
                &self.plan,
                i,
                lines,
                &mut self.scratch_tile_regions,
            );
            let first = (self.scratch_regions.len() / 2) as u32;
            for &k in &self.scratch_tile_regions {
                let r = &regions[k as usize];
                self.scratch_regions.push(r.rect.map(|v| v as f32));
                self.scratch_regions.push([r.lut as f32, 0.0, 0.0, 0.0]);
            }
            max_regions = max_regions.max(self.scratch_tile_regions.len());
            let tile_regions = [first, self.scratch_tile_regions.len() as u32];
            let (ox, oy) = TileAtlas::cell_origin(i);
            let shift = [
                f64::from(ox + HALO) - f64::from(tx * TILE),
                f64::from(oy + HALO) - f64::from(ty * TILE),
            ];
            // The tile's triangles come line by line: each new line is a level up.
            let (mut level, mut last_line) = (0, None);
            for &t in &self.plan.tile_triangles[i] {
                let tri = &self.plan.triangles[t as usize];
                let (Some(line), Some(&(colour, strip))) = (
                    lines.get(tri.line as usize),
                    self.scratch_lines.get(tri.line as usize),
                ) else {
                    continue;
                };
                if last_line.is_some_and(|l| l != tri.line) {
                    level += 1;
                }
                if level > 0 && last_line != Some(tri.line) {
                    if self.scratch_later.len() < level {
                        self.scratch_later.resize_with(level, Vec::new);
                    }
                    if self.scratch_levels.len() <= level {
                        self.scratch_levels
                            .resize_with(level + 1, || (0, Vec::new()));
                    }
                    self.scratch_levels[level].1.push(i as u32);
                }
                last_line = Some(tri.line);
                let out = if level == 0 {
                    &mut self.scratch_vertices
                } else {
                    &mut self.scratch_later[level - 1]
                };
                cut_to_tile(tri, (tx, ty, TILE), |v| {
                    out.extend(v.iter().map(|v| VertexGpu {
                        atlas: [
                            (v.pixel[0] + shift[0]) as f32,
                            (v.pixel[1] + shift[1]) as f32,
                        ],
                        depth: v.depth as f32,
                        across: v.across as f32,
                        along: v.along as f32,
                        field: line.field_xy(v.along, v.across).map(|c| c as f32),
                        colour,
                        strip,
                        regions: tile_regions,
                    }));
                });
            }
        }
        // Level after level: each level's vertices end where the next one's start.
        self.scratch_levels[0].0 = self.scratch_vertices.len() as u32;
        for (k, later) in self.scratch_later.iter().enumerate() {
            self.scratch_vertices.extend_from_slice(later);
            if let Some(level) = self.scratch_levels.get_mut(k + 1) {
                level.0 = self.scratch_vertices.len() as u32;
            }
        }
        max_regions
    }

    /// Uploads the frame's vertices, region table, uniforms `globals` and the `n_tiles` used
    /// cells of the atlas of `depth`, draws every tile with pipeline `pipeline` and copies the
    /// drawn cells to the readback buffer.
    pub(super) fn submit(
        &mut self,
        depth: AtlasDepth,
        globals: Globals,
        pipeline: usize,
        n_tiles: usize,
    ) -> Result<wgpu::SubmissionIndex, RenderError> {
        let dev = &self.device;
        let vb = bytemuck::cast_slice::<VertexGpu, u8>(&self.scratch_vertices);
        ensure_buffer(
            dev,
            &mut self.vertices,
            vb.len() as u64,
            wgpu::BufferUsages::VERTEX,
            "vertices",
        );
        let d = depth.index();
        let (Some(res), Some((vbuf, _)), Some((table, _)), Some(bind)) = (
            &self.res[d],
            &self.vertices,
            &self.region_table,
            &self.bind[d],
        ) else {
            return Err(RenderError::Gpu("buffers missing".into()));
        };
        let q = &self.queue;
        if !vb.is_empty() {
            q.write_buffer(vbuf, 0, vb);
        }
        if !self.scratch_regions.is_empty() {
            self.write_region_table(table);
        }
        q.write_buffer(&self.globals, 0, bytemuck::bytes_of(&globals));
        // Only the cells in use move: whole atlas rows, then the used part of the last row.
        let used = used_regions(n_tiles);
        self.write_atlas(res, &used);
        let mut enc = dev.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("composite"),
        });
        for &(y, w, h) in used.iter().flatten() {
            enc.copy_texture_to_texture(at(&res.atlas_src, y), at(&res.atlas_dst, y), extent(w, h));
        }
        let mut start = 0;
        for (level, (end, cells)) in self.scratch_levels.iter().enumerate() {
            if *end <= start {
                continue;
            }
            // A later level blends over what the earlier ones drew in its cells.
            for &cell in cells {
                let (x, y) = TileAtlas::cell_origin(cell as usize);
                enc.copy_texture_to_texture(
                    at_xy(&res.atlas_dst, x, y),
                    at_xy(&res.atlas_under, x, y),
                    extent(CELL, CELL),
                );
            }
            let mut pass = atlas_pass(&mut enc, &res.dst_view);
            pass.set_pipeline(&self.pipelines[pipeline]);
            pass.set_bind_group(0, &bind[usize::from(level > 0)], &[]);
            pass.set_vertex_buffer(0, vbuf.slice(..vb.len() as u64));
            pass.draw(start..*end, 0..1);
            start = *end;
        }
        for &(y, w, h) in used.iter().flatten() {
            enc.copy_texture_to_buffer(
                at(&res.atlas_dst, y),
                wgpu::TexelCopyBufferInfo {
                    buffer: &res.readback,
                    layout: wgpu::TexelCopyBufferLayout {
                        offset: u64::from(y) * TileAtlas::STRIDE as u64,
                        bytes_per_row: Some(TileAtlas::STRIDE as u32),
                        rows_per_image: Some(h),
                    },
                },
                extent(w, h),
            );
        }
        Ok(q.submit([enc.finish()]))
    }

    /// Waits for submission `index` and writes the used cells of the readback buffer of the
    /// atlas of `depth` (`rows` atlas rows) into `frame`.
    pub(super) fn read_back(
        &self,
        depth: AtlasDepth,
        frame: &mut FrameMut<'_>,
        rows: u32,
        index: wgpu::SubmissionIndex,
    ) -> Result<(), RenderError> {
        let Some(res) = &self.res[depth.index()] else {
            return Err(RenderError::Gpu("buffers missing".into()));
        };
        let dev = &self.device;
        let used_bytes = (rows * CELL) as usize * TileAtlas::STRIDE;
        let slice = res.readback.slice(..used_bytes as u64);
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        slice.map_async(wgpu::MapMode::Read, move |r| {
            // The receiver waits right below; a send can only fail if it gave up already.
            tx.send(r).ok();
        });
        dev.poll(wgpu::PollType::Wait {
            submission_index: Some(index),
            timeout: Some(GPU_TIMEOUT),
        })
        .map_err(|e| RenderError::Gpu(format!("poll: {e}")))?;
        match rx.recv_timeout(GPU_TIMEOUT) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(RenderError::Gpu(format!("readback: {e}"))),
            Err(_) => return Err(RenderError::Gpu("readback timed out".into())),
        }
        if self.failed.load(Ordering::SeqCst) {
            res.readback.unmap();
            return Err(RenderError::Gpu("device lost or failed".into()));
        }
        {
            // Straight from the mapped readback into the frame: no intermediate copy.
            let view = slice
                .get_mapped_range()
                .map_err(|e| RenderError::Gpu(format!("map: {e}")))?;
            scatter_from(&view, frame, &self.plan, &self.crew);
        }
        res.readback.unmap();
        Ok(())
    }

    /// Writes `scratch_regions` into the region table texture `table`: whole rows, then the
    /// used part of the last row.
    fn write_region_table(&self, table: &wgpu::Texture) {
        let q = &self.queue;
        let texels = self.scratch_regions.len() as u32;
        let row_texels = 2 * REGIONS_PER_ROW;
        let (full, rest) = (texels / row_texels, texels % row_texels);
        let data = bytemuck::cast_slice::<[f32; 4], u8>(&self.scratch_regions);
        let row_bytes = (row_texels * 16) as usize;
        for (y, w, h) in [(0, row_texels, full), (full, rest, 1)] {
            if w == 0 || h == 0 {
                continue;
            }
            let offset = y as usize * row_bytes;
            q.write_texture(
                at(table, y),
                &data[offset..offset + ((h - 1) * row_texels + w) as usize * 16],
                wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(row_bytes as u32),
                    rows_per_image: Some(h),
                },
                extent(w, h),
            );
        }
    }

    /// Writes the `used` atlas rectangles of the gathered tiles into the source atlas texture.
    fn write_atlas(&self, res: &Resources, used: &[Option<(u32, u32, u32)>; 2]) {
        let q = &self.queue;
        for &(y, w, h) in used.iter().flatten() {
            let offset = y as usize * TileAtlas::STRIDE;
            let len = (h as usize - 1) * TileAtlas::STRIDE + w as usize * 4;
            q.write_texture(
                at(&res.atlas_src, y),
                &self.atlas.data[offset..offset + len],
                wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(TileAtlas::STRIDE as u32),
                    rows_per_image: Some(h),
                },
                extent(w, h),
            );
        }
    }
}

/// The atlas rectangles holding `tiles` cells, as (top row, width, height) in pixels: the full
/// cell rows, then the used part of the last row.
fn used_regions(tiles: usize) -> [Option<(u32, u32, u32)>; 2] {
    let tiles = tiles as u32;
    let (full, rest) = (tiles / ATLAS_COLS, tiles % ATLAS_COLS);
    [
        (full > 0).then_some((0, ATLAS_WIDTH, full * CELL)),
        (rest > 0).then_some((full * CELL, rest * CELL, CELL)),
    ]
}

/// Copy location at atlas row `y`, column 0.
fn at(t: &wgpu::Texture, y: u32) -> wgpu::TexelCopyTextureInfo<'_> {
    at_xy(t, 0, y)
}

/// Copy location at atlas pixel (`x`, `y`).
fn at_xy(t: &wgpu::Texture, x: u32, y: u32) -> wgpu::TexelCopyTextureInfo<'_> {
    wgpu::TexelCopyTextureInfo {
        texture: t,
        mip_level: 0,
        origin: wgpu::Origin3d { x, y, z: 0 },
        aspect: wgpu::TextureAspect::All,
    }
}
