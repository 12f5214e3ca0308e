//! The GPU compositor (wgpu, headless): uploads only the touched tiles into an atlas texture,
//! draws every tile's strip pieces (see [`super::pieces`]) in one call with
//! `shaders/wgsl/composite.wgsl`, reads the atlas back and writes the tiles into the frame.
//! Buffers and textures persist across frames and only grow.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytemuck::{Pod, Zeroable};
use yardline_keying::EdgeFilter;
use yardline_frame::FrameMut;

use super::crew::Crew;
use super::pieces::cut_to_tile;
use super::tiles::{
    ATLAS_COLS, ATLAS_WIDTH, CELL, HALO, TILE, TileAtlas, TilePlan, atlas_rows, scatter_from,
};
use super::{
    CompositeStats, Compositor, PixelKey, MAX_TILE_REGIONS, PreparedLine, RenderError,
    native_colour, regions_near_lines, tile_regions,
};

/// Longest wait for the GPU before a frame is given up (the frame then passes untouched).
const GPU_TIMEOUT: Duration = Duration::from_secs(2);
/// How long start-up waits for the warm-up draws (shader compiles on a CPU rasteriser, maybe
/// beside other work).
const WARM_UP_TIMEOUT: Duration = Duration::from_secs(60);
/// Fallback key LUT edge when the key has none (a constant "field" key).
const CONSTANT_LUT_SIZE: u32 = 2;

/// Uniforms. Keep in sync with `Globals` in composite.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct Globals {
    /// Atlas size (pixels).
    pub atlas_size: [f32; 2],
    /// One over the key LUT texture's size (texels).
    pub lut_texel: [f32; 2],
    /// Key LUT edge (nodes per axis).
    pub lut_size: f32,
    /// Cr slices per row of the key LUT texture.
    pub lut_columns: u32,
}

/// Key filter variants per region slot count and colour model: the neighbourhood minimum at
/// radius 0..=HALO, then edge unmixing at radius 1..=HALO. A pipeline constant: with the
/// unmixing code in the shader behind a uniform switch, the minimum's pipelines ran about 40 %
/// slower on a CPU rasteriser.
const FILTERS: usize = 2 * HALO as usize + 1;

/// The key filter of variant `filter` (0..FILTERS): radius, and whether it unmixes.
fn filter_variant(filter: usize) -> (u32, bool) {
    let f = filter as u32;
    if f <= HALO {
        (f, false)
    } else {
        (f - HALO, true)
    }
}

/// Region slots a pipeline tests per pixel (the shader's `MAX_TILE_REGIONS`): each frame uses
/// the smallest that holds every tile's list, as each slot costs every pixel a comparison and
/// its vertices an interpolated position.
const REGION_SLOTS: [usize; 4] = [0, 2, 4, MAX_TILE_REGIONS];

/// Regions per row of the region table texture (two texels each). Keep in sync with
/// `REGIONS_PER_ROW` in composite.wgsl.
pub const REGIONS_PER_ROW: u32 = 256;

/// One vertex of a strip piece (see [`super::pieces`]).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct VertexGpu {
    /// Atlas pixel position.
    pub atlas: [f32; 2],
    /// Depth along the optical axis (metres).
    pub depth: f32,
    /// Across-strip offset (metres).
    pub across: f32,
    /// Along-strip offset (metres).
    pub along: f32,
    /// Field position (x, y metres).
    pub field: [f32; 2],
    /// The line's colour in the frame's colour space (0..1), alpha unused.
    pub colour: [f32; 4],
    /// The line's half painted width (metres), painted length (metres) and opacity (0..1).
    pub strip: [f32; 3],
    /// The tile's key regions: first entry of the region table and count.
    pub regions: [u32; 2],
}

/// The vertex buffer's attributes: [`VertexGpu`]'s fields at locations 0..=7.
pub const VERTEX_ATTRIBUTES: [wgpu::VertexAttribute; 8] = wgpu::vertex_attr_array![
    0 => Float32x2, 1 => Float32, 2 => Float32, 3 => Float32, 4 => Float32x2, 5 => Float32x4,
    6 => Float32x3, 7 => Uint32x2
];

/// Which adapter to run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdapterChoice {
    /// Only a hardware GPU (discrete, integrated or virtual).
    HardwareOnly,
    /// Any adapter, software rasterisers (lavapipe, llvmpipe) included.
    Any,
}

struct Resources {
    rows: u32,
    atlas_src: wgpu::Texture,
    atlas_dst: wgpu::Texture,
    src_view: wgpu::TextureView,
    dst_view: wgpu::TextureView,
    readback: wgpu::Buffer,
}

/// The key LUTs as a 2-D texture of (Y, Cb) slices, one per palette and Cr node, laid out row
/// by row in a square-ish grid of `columns` slices per row: texel (iy, icb) of the slice of
/// palette p and node icr holds the node values at icr (red) and icr + 1 (green; icr itself on
/// the last node), so one bilinear sample gives the (Y, Cb) interpolation on both sides of a
/// Cr cell.
struct LutTexture {
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

/// Composites on a wgpu device.
pub struct GpuCompositor {
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    /// One pipeline per region slot count ([`REGION_SLOTS`]), key filter ([`filter_variant`])
    /// and colour model, in that nesting order (see [`GpuCompositor::pipeline_index`]).
    pipelines: Vec<wgpu::RenderPipeline>,
    layout: wgpu::BindGroupLayout,
    sampler: wgpu::Sampler,
    globals: wgpu::Buffer,
    res: Option<Resources>,
    vertices: Option<(wgpu::Buffer, u64)>,
    /// Region table texture and its rows.
    region_table: Option<(wgpu::Texture, u32)>,
    lut: Option<LutTexture>,
    /// Bind group over the current buffers and textures; rebuilt when one of them is replaced.
    bind: Option<wgpu::BindGroup>,
    plan: TilePlan,
    atlas: TileAtlas,
    /// Shares out the atlas copies (gather and scatter) on the CPU.
    crew: Crew,
    scratch_vertices: Vec<VertexGpu>,
    /// Per line: its colour and (half width, length, opacity) as the vertices carry them.
    scratch_lines: Vec<([f32; 4], [f32; 3])>,
    /// Region table texels (RGBA f32), row-major.
    scratch_regions: Vec<[f32; 4]>,
    /// Key LUT texels (RGBA8), row-major, while uploading a new key.
    scratch_lut: Vec<u8>,
    scratch_tile_regions: Vec<u32>,
    scratch_near: Vec<u32>,
    failed: Arc<AtomicBool>,
}

impl std::fmt::Debug for GpuCompositor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuCompositor")
            .field("adapter", &self.info.name)
            .field("backend", &self.info.backend)
            .finish_non_exhaustive()
    }
}

impl GpuCompositor {
    /// Opens a headless device. `None`-like errors say why no adapter fits.
    pub fn new(choice: AdapterChoice) -> Result<Self, RenderError> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            force_fallback_adapter: false,
            compatible_surface: None,
            ..Default::default()
        }))
        .map_err(|e| RenderError::Gpu(format!("no adapter: {e}")))?;
        let info = adapter.get_info();
        if choice == AdapterChoice::HardwareOnly
            && matches!(
                info.device_type,
                wgpu::DeviceType::Cpu | wgpu::DeviceType::Other
            )
        {
            return Err(RenderError::Gpu(format!(
                "only a software adapter is present ({}, {:?})",
                info.name, info.backend
            )));
        }
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("yardline compositor"),
            required_features: wgpu::Features::empty(),
            required_limits: wgpu::Limits::downlevel_defaults().using_resolution(adapter.limits()),
            ..Default::default()
        }))
        .map_err(|e| RenderError::Gpu(format!("cannot open {}: {e}", info.name)))?;
        let failed = Arc::new(AtomicBool::new(false));
        {
            let failed = failed.clone();
            device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
                tracing::error!("GPU error: {e}");
                failed.store(true, Ordering::SeqCst);
            }));
        }
        {
            let failed = failed.clone();
            device.set_device_lost_callback(move |reason, msg| {
                tracing::error!("GPU device lost ({reason:?}): {msg}");
                failed.store(true, Ordering::SeqCst);
            });
        }
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("composite.wgsl"),
            source: wgpu::ShaderSource::Wgsl(yardline_shaders::COMPOSITE_WGSL.into()),
        });
        let float_texture = |binding, view_dimension, filterable| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::FRAGMENT,
            ty: wgpu::BindingType::Texture {
                sample_type: wgpu::TextureSampleType::Float { filterable },
                view_dimension,
                multisampled: false,
            },
            count: None,
        };
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("composite"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
                float_texture(2, wgpu::TextureViewDimension::D2, false),
                float_texture(3, wgpu::TextureViewDimension::D2, true),
                wgpu::BindGroupLayoutEntry {
                    binding: 4,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
                    count: None,
                },
                // The region table: read per vertex only.
                wgpu::BindGroupLayoutEntry {
                    visibility: wgpu::ShaderStages::VERTEX,
                    ..float_texture(5, wgpu::TextureViewDimension::D2, false)
                },
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("composite"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        // Every variant up front: a change of filter, format or regions on air must not stall a
        // frame on a shader compile.
        let pipelines = REGION_SLOTS
            .iter()
            .flat_map(|&slots| (0..FILTERS).map(move |filter| (slots, filter)))
            .flat_map(|(slots, filter)| [false, true].map(|rgb| (slots, filter, rgb)))
            .map(|(slots, filter, rgb)| {
                let (radius, unmix) = filter_variant(filter);
                let constants = [
                    ("KEY_RADIUS", f64::from(radius)),
                    ("UNMIX", f64::from(u8::from(unmix))),
                    (
                        "UNMIX_FOREGROUND_KEY",
                        f64::from(yardline_keying::UNMIX_FOREGROUND_KEY),
                    ),
                    ("IS_RGB", f64::from(u8::from(rgb))),
                    ("MAX_TILE_REGIONS", slots as f64),
                ];
                composite_pipeline(&device, &pipeline_layout, &module, &constants)
            })
            .collect();
        let sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("key lut"),
            address_mode_u: wgpu::AddressMode::ClampToEdge,
            address_mode_v: wgpu::AddressMode::ClampToEdge,
            address_mode_w: wgpu::AddressMode::ClampToEdge,
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            ..Default::default()
        });
        let globals = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("globals"),
            size: std::mem::size_of::<Globals>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        tracing::info!(
            "GPU compositor on {} ({:?}, {:?})",
            info.name,
            info.backend,
            info.device_type
        );
        let mut compositor = Self {
            device,
            queue,
            info,
            pipelines,
            layout,
            sampler,
            globals,
            res: None,
            vertices: None,
            region_table: None,
            lut: None,
            bind: None,
            plan: TilePlan::default(),
            atlas: TileAtlas::default(),
            crew: Crew::default(),
            scratch_vertices: Vec::new(),
            scratch_lines: Vec::new(),
            scratch_regions: Vec::new(),
            scratch_lut: Vec::new(),
            scratch_tile_regions: Vec::new(),
            scratch_near: Vec::new(),
            failed,
        };
        compositor.warm_up()?;
        Ok(compositor)
    }

    /// Draws a small triangle with every pipeline over textures of the kinds a frame uses, so
    /// that a driver compiling shader variants at their first draw (llvmpipe does: about 10 ms
    /// each) does it here, not in the frame that first needs a pipeline.
    fn warm_up(&mut self) -> Result<(), RenderError> {
        const LUT_SIZE: u32 = 33;
        self.ensure_resources(1);
        let n = LUT_SIZE as usize;
        self.upload_lut_data(LUT_SIZE, &vec![255; n * n * n], 0)?;
        self.ensure_region_table();
        self.ensure_bind_group()?;
        let corner = |dx: f32, dy: f32| VertexGpu {
            atlas: [HALO as f32 + dx, HALO as f32 + dy],
            depth: 1.0,
            across: 0.0,
            along: 0.0,
            field: [0.0; 2],
            colour: [0.0; 4],
            strip: [0.0; 3],
            regions: [0, 0],
        };
        let triangle = [corner(0.0, 0.0), corner(4.0, 0.0), corner(0.0, 4.0)];
        let bytes = bytemuck::cast_slice::<VertexGpu, u8>(&triangle);
        ensure_buffer(
            &self.device,
            &mut self.vertices,
            bytes.len() as u64,
            wgpu::BufferUsages::VERTEX,
            "vertices",
        );
        let (Some(res), Some((vbuf, _)), Some(bind)) = (&self.res, &self.vertices, &self.bind)
        else {
            return Err(RenderError::Gpu("buffers missing".into()));
        };
        self.queue.write_buffer(vbuf, 0, bytes);
        self.queue
            .write_buffer(&self.globals, 0, bytemuck::bytes_of(&self.globals_now()));
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("warm-up"),
            });
        {
            let mut pass = atlas_pass(&mut enc, &res.dst_view);
            pass.set_bind_group(0, bind, &[]);
            pass.set_vertex_buffer(0, vbuf.slice(..bytes.len() as u64));
            for pipeline in &self.pipelines {
                pass.set_pipeline(pipeline);
                pass.draw(0..3, 0..1);
            }
        }
        let index = self.queue.submit([enc.finish()]);
        self.device
            .poll(wgpu::PollType::Wait {
                submission_index: Some(index),
                timeout: Some(WARM_UP_TIMEOUT),
            })
            .map_err(|e| RenderError::Gpu(format!("warm-up: {e}")))?;
        // The first frame uploads its own key.
        self.lut = None;
        self.bind = None;
        Ok(())
    }

    /// Shares the atlas copies out over `crew` (by default the calling thread does them).
    #[must_use]
    pub fn with_crew(mut self, crew: Crew) -> Self {
        self.crew = crew;
        self
    }

    /// Adapter name and backend.
    pub fn adapter(&self) -> String {
        format!("{} ({:?})", self.info.name, self.info.backend)
    }

    /// Destroys the device, as a driver reset would: the next composite fails and callers fall
    /// back to the CPU. For fault-injection tests.
    pub fn simulate_device_loss(&self) {
        self.device.destroy();
        self.failed.store(true, Ordering::SeqCst);
    }

    fn ensure_resources(&mut self, rows: u32) {
        if self.res.as_ref().is_some_and(|r| r.rows >= rows) {
            return;
        }
        let rows = rows.next_power_of_two();
        let size = wgpu::Extent3d {
            width: ATLAS_WIDTH,
            height: rows * CELL,
            depth_or_array_layers: 1,
        };
        let tex = |label, usage| {
            self.device.create_texture(&wgpu::TextureDescriptor {
                label: Some(label),
                size,
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: wgpu::TextureFormat::Rgba8Unorm,
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
        let readback = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("atlas readback"),
            size: u64::from(rows * CELL) * TileAtlas::STRIDE as u64,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let src_view = atlas_src.create_view(&wgpu::TextureViewDescriptor::default());
        let dst_view = atlas_dst.create_view(&wgpu::TextureViewDescriptor::default());
        self.res = Some(Resources {
            rows,
            atlas_src,
            atlas_dst,
            src_view,
            dst_view,
            readback,
        });
        self.bind = None;
    }

    fn upload_lut(&mut self, key: &dyn PixelKey) -> Result<(), RenderError> {
        match key.lut() {
            Some(l) => self.upload_lut_data(l.size as u32, l.data, l.generation),
            None => self.upload_lut_data(CONSTANT_LUT_SIZE, &[255u8; 8], 0),
        }
    }

    /// Uploads `data` (`size^3` node values per palette, see [`super::LutView`]) unless the
    /// texture holds that generation already.
    fn upload_lut_data(
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
        let texture_extent = wgpu::Extent3d {
            width: extent[0],
            height: extent[1],
            depth_or_array_layers: 1,
        };
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
        self.bind = None;
        Ok(())
    }
}

impl GpuCompositor {
    /// Index in `pipelines` of the pipeline for frames whose tiles list at most `regions` key
    /// regions, with key filter radius `radius` (at most [`HALO`]) and kind `edge` (unmixing
    /// at radius 0 is no filter) on an RGB (else YCbCr) atlas.
    fn pipeline_index(regions: usize, radius: u32, edge: EdgeFilter, rgb: bool) -> usize {
        let slots = REGION_SLOTS
            .iter()
            .position(|&s| s >= regions)
            .unwrap_or(REGION_SLOTS.len() - 1);
        let radius = radius.min(HALO);
        let filter = match edge {
            EdgeFilter::Unmix if radius > 0 => HALO + radius,
            _ => radius,
        } as usize;
        (slots * FILTERS + filter) * 2 + usize::from(rgb)
    }

    /// The uniforms for the current atlas and key LUT textures.
    fn globals_now(&self) -> Globals {
        let lut = self.lut.as_ref();
        Globals {
            atlas_size: [
                ATLAS_WIDTH as f32,
                self.res.as_ref().map_or(1, |r| r.rows * CELL) as f32,
            ],
            lut_texel: lut.map_or([1.0; 2], |l| l.extent.map(|e| 1.0 / e as f32)),
            lut_size: lut.map_or(2.0, |l| l.size as f32),
            lut_columns: lut.map_or(1, |l| l.columns),
        }
    }

    /// Makes the bind group over the current buffers and textures, unless it is in place.
    fn ensure_bind_group(&mut self) -> Result<(), RenderError> {
        if self.bind.is_some() {
            return Ok(());
        }
        let (Some(res), Some((table, _)), Some(lut)) = (&self.res, &self.region_table, &self.lut)
        else {
            return Err(RenderError::Gpu("textures missing".into()));
        };
        let lut_view = lut
            .texture
            .create_view(&wgpu::TextureViewDescriptor::default());
        let table_view = table.create_view(&wgpu::TextureViewDescriptor::default());
        let view = |v| wgpu::BindingResource::TextureView(v);
        self.bind = Some(self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("composite"),
            layout: &self.layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: self.globals.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: view(&res.src_view),
                },
                wgpu::BindGroupEntry {
                    binding: 3,
                    resource: view(&lut_view),
                },
                wgpu::BindGroupEntry {
                    binding: 4,
                    resource: wgpu::BindingResource::Sampler(&self.sampler),
                },
                wgpu::BindGroupEntry {
                    binding: 5,
                    resource: view(&table_view),
                },
            ],
        }));
        Ok(())
    }

    /// Makes sure the region table texture has rows for `scratch_regions` (growing by powers
    /// of two; at least one row, as a binding).
    fn ensure_region_table(&mut self) {
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
        self.bind = None;
    }
}

/// A render pass drawing over the atlas `view` (its contents kept).
fn atlas_pass<'e>(
    enc: &'e mut wgpu::CommandEncoder,
    view: &wgpu::TextureView,
) -> wgpu::RenderPass<'e> {
    enc.begin_render_pass(&wgpu::RenderPassDescriptor {
        label: Some("composite"),
        color_attachments: &[Some(wgpu::RenderPassColorAttachment {
            view,
            depth_slice: None,
            resolve_target: None,
            ops: wgpu::Operations {
                load: wgpu::LoadOp::Load,
                store: wgpu::StoreOp::Store,
            },
        })],
        depth_stencil_attachment: None,
        timestamp_writes: None,
        occlusion_query_set: None,
        multiview_mask: None,
    })
}

/// The composite pipeline with the shader's pipeline constants set to `constants`.
fn composite_pipeline(
    device: &wgpu::Device,
    layout: &wgpu::PipelineLayout,
    module: &wgpu::ShaderModule,
    constants: &[(&str, f64)],
) -> wgpu::RenderPipeline {
    let options = wgpu::PipelineCompilationOptions {
        constants,
        ..Default::default()
    };
    device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some("composite"),
        layout: Some(layout),
        vertex: wgpu::VertexState {
            module,
            entry_point: Some("vs_main"),
            compilation_options: options.clone(),
            buffers: &[Some(wgpu::VertexBufferLayout {
                array_stride: std::mem::size_of::<VertexGpu>() as u64,
                step_mode: wgpu::VertexStepMode::Vertex,
                attributes: &VERTEX_ATTRIBUTES,
            })],
        },
        primitive: wgpu::PrimitiveState {
            topology: wgpu::PrimitiveTopology::TriangleList,
            cull_mode: None,
            ..Default::default()
        },
        depth_stencil: None,
        multisample: wgpu::MultisampleState::default(),
        fragment: Some(wgpu::FragmentState {
            module,
            entry_point: Some("fs_main"),
            compilation_options: options,
            targets: &[Some(wgpu::ColorTargetState {
                format: wgpu::TextureFormat::Rgba8Unorm,
                blend: Some(wgpu::BlendState {
                    color: wgpu::BlendComponent {
                        src_factor: wgpu::BlendFactor::SrcAlpha,
                        dst_factor: wgpu::BlendFactor::OneMinusSrcAlpha,
                        operation: wgpu::BlendOperation::Add,
                    },
                    alpha: wgpu::BlendComponent {
                        src_factor: wgpu::BlendFactor::Zero,
                        dst_factor: wgpu::BlendFactor::One,
                        operation: wgpu::BlendOperation::Add,
                    },
                }),
                write_mask: wgpu::ColorWrites::ALL,
            })],
        }),
        multiview_mask: None,
        cache: None,
    })
}

/// Makes sure `slot` holds a buffer of at least `bytes` (growing by powers of two).
fn ensure_buffer(
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

impl Compositor for GpuCompositor {
    fn describe(&self) -> String {
        format!("gpu ({})", self.adapter())
    }

    fn simulate_device_loss(&self) {
        GpuCompositor::simulate_device_loss(self);
    }

    #[allow(clippy::too_many_lines, reason = "one linear sequence of GPU commands")]
    fn composite(
        &mut self,
        frame: &mut FrameMut<'_>,
        lines: &[PreparedLine],
        key: &dyn PixelKey,
    ) -> Result<CompositeStats, RenderError> {
        if self.failed.load(Ordering::SeqCst) {
            return Err(RenderError::Gpu("device lost or failed".into()));
        }
        let layout = frame.layout;
        let format = layout.format;
        self.plan.build(layout.width, layout.height, lines);
        let n_tiles = self.plan.tiles.len();
        if n_tiles == 0 {
            return Ok(CompositeStats::default());
        }
        self.atlas.gather(&frame.as_ref(), &self.plan, &self.crew);
        let rows = atlas_rows(n_tiles);
        self.ensure_resources(rows);
        self.upload_lut(key)?;

        // Geometry: each tile's triangles cut to its interior and placed in its atlas cell
        // (one draw, no per-tile state); per tile, the key regions its covered pixels can lie in
        // (in precedence order).
        let regions = if key.lut().is_some() {
            key.regions()
        } else {
            &[]
        };
        regions_near_lines(regions, lines, &mut self.scratch_near);
        self.scratch_lines.clear();
        self.scratch_lines.extend(lines.iter().map(|l| {
            let c = native_colour(format, l.rgb);
            (
                [c[0] / 255.0, c[1] / 255.0, c[2] / 255.0, 1.0],
                [
                    l.mesh.half_width_m as f32,
                    l.mesh.length_m as f32,
                    l.opacity.clamp(0.0, 1.0),
                ],
            )
        }));
        self.scratch_vertices.clear();
        self.scratch_regions.clear();
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
            for &t in &self.plan.tile_triangles[i] {
                let tri = &self.plan.triangles[t as usize];
                let (Some(line), Some(&(colour, strip))) = (
                    lines.get(tri.line as usize),
                    self.scratch_lines.get(tri.line as usize),
                ) else {
                    continue;
                };
                let out = &mut self.scratch_vertices;
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
        self.ensure_region_table();
        let globals = self.globals_now();
        let pipeline = Self::pipeline_index(
            max_regions,
            key.min_filter_radius(),
            key.edge_filter(),
            format.is_rgb(),
        );
        self.ensure_bind_group()?;
        let dev = &self.device;
        let vb = bytemuck::cast_slice::<VertexGpu, u8>(&self.scratch_vertices);
        ensure_buffer(
            dev,
            &mut self.vertices,
            vb.len() as u64,
            wgpu::BufferUsages::VERTEX,
            "vertices",
        );
        let (Some(res), Some((vbuf, _)), Some((table, _)), Some(bind)) =
            (&self.res, &self.vertices, &self.region_table, &self.bind)
        else {
            return Err(RenderError::Gpu("buffers missing".into()));
        };
        let q = &self.queue;
        if !vb.is_empty() {
            q.write_buffer(vbuf, 0, vb);
        }
        if !self.scratch_regions.is_empty() {
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
        q.write_buffer(&self.globals, 0, bytemuck::bytes_of(&globals));
        // Only the cells in use move: whole atlas rows, then the used part of the last row.
        let used = used_regions(n_tiles);
        for &(y, w, h) in used.iter().flatten() {
            let offset = y as usize * TileAtlas::STRIDE;
            let len = (h as usize - 1) * TileAtlas::STRIDE + w as usize * 4;
            q.write_texture(
                wgpu::TexelCopyTextureInfo {
                    texture: &res.atlas_src,
                    mip_level: 0,
                    origin: wgpu::Origin3d { x: 0, y, z: 0 },
                    aspect: wgpu::TextureAspect::All,
                },
                &self.atlas.data[offset..offset + len],
                wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(TileAtlas::STRIDE as u32),
                    rows_per_image: Some(h),
                },
                extent(w, h),
            );
        }
        let mut enc = dev.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("composite"),
        });
        for &(y, w, h) in used.iter().flatten() {
            enc.copy_texture_to_texture(at(&res.atlas_src, y), at(&res.atlas_dst, y), extent(w, h));
        }
        let vertex_count = self.scratch_vertices.len() as u32;
        if vertex_count > 0 {
            let mut pass = atlas_pass(&mut enc, &res.dst_view);
            pass.set_pipeline(&self.pipelines[pipeline]);
            pass.set_bind_group(0, bind, &[]);
            pass.set_vertex_buffer(0, vbuf.slice(..vb.len() as u64));
            pass.draw(0..vertex_count, 0..1);
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
        let index = q.submit([enc.finish()]);
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
        Ok(CompositeStats {
            tiles: n_tiles,
            triangles: self.scratch_vertices.len() / 3,
        })
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
    wgpu::TexelCopyTextureInfo {
        texture: t,
        mip_level: 0,
        origin: wgpu::Origin3d { x: 0, y, z: 0 },
        aspect: wgpu::TextureAspect::All,
    }
}

/// A 2D copy extent.
fn extent(width: u32, height: u32) -> wgpu::Extent3d {
    wgpu::Extent3d {
        width,
        height,
        depth_or_array_layers: 1,
    }
}
