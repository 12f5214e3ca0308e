//! The GPU's buffers and textures, kept across frames and only grown: per atlas depth the atlas
//! textures and their readback buffer, the key LUT texture (uploaded when the key changes), the
//! region table, the uniforms and the bind groups over them (two per atlas depth: see
//! [`Resources`]).

use crate::render::tiles::{ATLAS_WIDTH, CELL, TileAtlas};
use crate::render::{PixelKey, RenderError};

use super::{AtlasDepth, Globals, GpuCompositor, REGIONS_PER_ROW};

/// Fallback key LUT edge when the key has none (a constant "field" key).
const CONSTANT_LUT_SIZE: u32 = 2;

/// The atlas textures of one depth for `rows` rows of cells, their views and the readback
/// buffer: the gathered tiles (`atlas_src`, what the key reads and the first line drawn in a
/// tile is blended over), the copy drawn into (`atlas_dst`) and, for a tile where a later line
/// overlaps an earlier one, a copy of what the earlier lines drew (`atlas_under`).
pub(super) struct Resources {
    rows: u32,
    pub(super) atlas_src: wgpu::Texture,
    pub(super) atlas_dst: wgpu::Texture,
    pub(super) atlas_under: wgpu::Texture,
    src_view: wgpu::TextureView,
    pub(super) dst_view: wgpu::TextureView,
    under_view: wgpu::TextureView,
    pub(super) readback: wgpu::Buffer,
}

/// The key LUTs as a 2-D texture of (Y, Cb) slices, one per palette and Cr node, laid out row
/// by row in a square-ish grid of `columns` slices per row: texel (iy, icb) of the slice of
/// palette p and node icr holds the node values at icr (red) and icr + 1 (green; icr itself on
/// the last node), so one bilinear sample gives the (Y, Cb) interpolation on both sides of a
/// Cr cell.
pub(super) struct LutTexture {
    texture: wgpu::Texture,
    generation: u64,
    /// Nodes per axis.
    size: u32,
    /// Slices (palettes x nodes).
    layers: u32,
    columns: u32,
    /// Texture size (texels).
    extent: [u32; 2],
}

impl GpuCompositor {
    /// Makes sure the atlas textures of `depth` and their readback buffer hold `rows` rows of
    /// cells (growing by powers of two).
    pub(super) fn ensure_resources(&mut self, depth: AtlasDepth, rows: u32) {
        let d = depth.index();
        if self.res[d].as_ref().is_some_and(|r| r.rows >= rows) {
            return;
        }
        let rows = rows.next_power_of_two();
        let size = self::extent(ATLAS_WIDTH, rows * CELL);
        let tex = |label, usage| {
            self.device.create_texture(&wgpu::TextureDescriptor {
                label: Some(label),
                size,
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: depth.texture_format(),
                usage,
                view_formats: &[],
            })
        };
        let atlas_src = tex(
            "atlas src",
            wgpu::TextureUsages::TEXTURE_BINDING
                | wgpu::TextureUsages::COPY_DST
                | wgpu::TextureUsages::COPY_SRC,
        );
        let atlas_dst = tex(
            "atlas dst",
            wgpu::TextureUsages::RENDER_ATTACHMENT
                | wgpu::TextureUsages::COPY_DST
                | wgpu::TextureUsages::COPY_SRC,
        );
        let atlas_under = tex(
            "atlas under",
            wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
        );
        let readback = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("atlas readback"),
            size: u64::from(rows * CELL) * TileAtlas::STRIDE as u64,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let src_view = atlas_src.create_view(&wgpu::TextureViewDescriptor::default());
        let dst_view = atlas_dst.create_view(&wgpu::TextureViewDescriptor::default());
        let under_view = atlas_under.create_view(&wgpu::TextureViewDescriptor::default());
        self.res[d] = Some(Resources {
            rows,
            atlas_src,
            atlas_dst,
            atlas_under,
            src_view,
            dst_view,
            under_view,
            readback,
        });
        self.bind[d] = None;
    }

    /// Uploads `key`'s LUTs (a constant "field" key when it has none), unless the texture holds
    /// them already.
    pub(super) fn upload_lut(&mut self, key: &dyn PixelKey) -> Result<(), RenderError> {
        match key.lut() {
            Some(l) => self.upload_lut_data(l.size as u32, l.data, l.generation),
            None => self.upload_lut_data(CONSTANT_LUT_SIZE, &[255u8; 8], 0),
        }
    }

    /// Uploads `data` (`size^3` node values per palette, see [`crate::render::LutView`]) unless the
    /// texture holds that generation already.
    pub(super) fn upload_lut_data(
        &mut self,
        size: u32,
        data: &[u8],
        generation: u64,
    ) -> Result<(), RenderError> {
        let layers = (data.len() / (size * size) as usize) as u32;
        if self
            .lut
            .as_ref()
            .is_some_and(|l| l.generation == generation && l.size == size && l.layers == layers)
        {
            return Ok(());
        }
        // A square-ish grid of slices keeps both sides within the device's limit.
        let max = self.device.limits().max_texture_dimension_2d;
        let columns = (f64::from(layers.max(1)).sqrt().ceil() as u32).max(1);
        let extent = [columns * size, layers.div_ceil(columns) * size];
        if extent[0].max(extent[1]) > max {
            return Err(RenderError::Gpu(format!(
                "key LUTs of {layers} slices of {size}x{size} need a {}x{} texture, the \
                 device allows {max}",
                extent[0], extent[1]
            )));
        }
        let n = size as usize;
        let width = extent[0] as usize;
        self.scratch_lut.clear();
        self.scratch_lut.resize(width * extent[1] as usize * 4, 0);
        for layer in 0..layers as usize {
            // The next Cr node of the same palette (the node itself on the last one).
            let next = if (layer + 1) % n == 0 {
                layer
            } else {
                layer + 1
            };
            let (col, row) = (layer % columns as usize, layer / columns as usize);
            for icb in 0..n {
                let at = |l: usize| &data[(l * n + icb) * n..][..n];
                let texels = (row * n + icb) * width + col * n;
                let dst = &mut self.scratch_lut[texels * 4..(texels + n) * 4];
                for ((t, &lo), &hi) in dst.chunks_exact_mut(4).zip(at(layer)).zip(at(next)) {
                    t.copy_from_slice(&[lo, hi, 0, 255]);
                }
            }
        }
        let texture_extent = self::extent(extent[0], extent[1]);
        let texture = self.device.create_texture(&wgpu::TextureDescriptor {
            label: Some("key lut"),
            size: texture_extent,
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::Rgba8Unorm,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        self.queue.write_texture(
            wgpu::TexelCopyTextureInfo {
                texture: &texture,
                mip_level: 0,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            },
            &self.scratch_lut,
            wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(extent[0] * 4),
                rows_per_image: Some(extent[1]),
            },
            texture_extent,
        );
        self.lut = Some(LutTexture {
            texture,
            generation,
            size,
            layers,
            columns,
            extent,
        });
        self.bind = [None, None];
        Ok(())
    }

    /// The uniforms for the current atlas of `depth` and key LUT textures.
    pub(super) fn globals_now(&self, depth: AtlasDepth) -> Globals {
        let lut = self.lut.as_ref();
        Globals {
            atlas_size: [
                ATLAS_WIDTH as f32,
                self.res[depth.index()]
                    .as_ref()
                    .map_or(1, |r| r.rows * CELL) as f32,
            ],
            lut_texel: lut.map_or([1.0; 2], |l| l.extent.map(|e| 1.0 / e as f32)),
            lut_size: lut.map_or(2.0, |l| l.size as f32),
            lut_columns: lut.map_or(1, |l| l.columns),
        }
    }

    /// Makes the bind groups over the atlas of `depth` and the current buffers and textures,
    /// unless they are in place: the first blends over the gathered tiles, the second over
    /// `atlas_under` (a later draw level, see `frame.rs`).
    pub(super) fn ensure_bind_group(&mut self, depth: AtlasDepth) -> Result<(), RenderError> {
        let d = depth.index();
        if self.bind[d].is_some() {
            return Ok(());
        }
        let (Some(res), Some((table, _)), Some(lut)) =
            (&self.res[d], &self.region_table, &self.lut)
        else {
            return Err(RenderError::Gpu("textures missing".into()));
        };
        let lut_view = lut
            .texture
            .create_view(&wgpu::TextureViewDescriptor::default());
        let table_view = table.create_view(&wgpu::TextureViewDescriptor::default());
        let group = |under: &wgpu::TextureView| {
            let entries = [
                (2, &res.src_view),
                (3, &lut_view),
                (5, &table_view),
                (6, under),
            ]
            .map(|(binding, v)| wgpu::BindGroupEntry {
                binding,
                resource: wgpu::BindingResource::TextureView(v),
            });
            let fixed = [
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: self.globals.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 4,
                    resource: wgpu::BindingResource::Sampler(&self.sampler),
                },
            ];
            self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("composite"),
                layout: &self.layout,
                entries: &[fixed.as_slice(), entries.as_slice()].concat(),
            })
        };
        self.bind[d] = Some([group(&res.src_view), group(&res.under_view)]);
        Ok(())
    }

    /// Makes sure the region table texture has rows for `scratch_regions` (growing by powers
    /// of two; at least one row, as a binding).
    pub(super) fn ensure_region_table(&mut self) {
        let rows = (self.scratch_regions.len() as u32)
            .div_ceil(2 * REGIONS_PER_ROW)
            .max(1)
            .next_power_of_two();
        if self.region_table.as_ref().is_some_and(|(_, r)| *r >= rows) {
            return;
        }
        let texture = self.device.create_texture(&wgpu::TextureDescriptor {
            label: Some("key regions"),
            size: extent(2 * REGIONS_PER_ROW, rows),
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::Rgba32Float,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        self.region_table = Some((texture, rows));
        self.bind = [None, None];
    }
}

/// Makes sure `slot` holds a buffer of at least `bytes` (growing by powers of two).
pub(super) fn ensure_buffer(
    device: &wgpu::Device,
    slot: &mut Option<(wgpu::Buffer, u64)>,
    bytes: u64,
    usage: wgpu::BufferUsages,
    label: &str,
) -> bool {
    let bytes = bytes.max(16);
    if slot.as_ref().is_some_and(|(_, cap)| *cap >= bytes) {
        return false;
    }
    let cap = bytes.next_power_of_two();
    let buffer = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: cap,
        usage: usage | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    *slot = Some((buffer, cap));
    true
}

/// A 2D copy extent.
pub(super) fn extent(width: u32, height: u32) -> wgpu::Extent3d {
    wgpu::Extent3d {
        width,
        height,
        depth_or_array_layers: 1,
    }
}
