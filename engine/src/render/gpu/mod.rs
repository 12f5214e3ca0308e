//! The GPU compositor (wgpu, headless): uploads only the touched tiles into an atlas texture,
//! draws every tile's strip pieces (see [`super::pieces`]) in one call with
//! `shaders/wgsl/composite.wgsl`, reads the atlas back and writes the tiles into the frame.
//! Buffers and textures persist across frames and only grow. 8-bit frames use an RGBA8 atlas,
//! 10-bit frames one of packed 10-bit codes (`AtlasDepth`): each is keyed and blended at its
//! own precision.
//!
//! This module holds the [`GpuCompositor`], the data layouts the shader shares and the order
//! of a frame's steps; `pipelines` makes the pipeline variants and draws each once at start-up,
//! `resources` keeps the buffers and textures (atlas, key LUTs, region table, bind group) and
//! `frame` builds a frame's vertices, uploads, draws and reads back.

mod frame;
mod pipelines;
mod resources;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytemuck::{Pod, Zeroable};
use yardline_frame::FrameMut;

use super::crew::Crew;
use super::tiles::{TileAtlas, TilePlan, atlas_rows};
use super::{CompositeStats, Compositor, PixelKey, PreparedLine, RenderError};
use resources::{LutTexture, Resources};

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

/// The component depth of a tile atlas, by the frame's: which texture format the atlas (and the
/// pipelines drawing into it) use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AtlasDepth {
    /// RGBA8 (`Rgba8Unorm`): the 8-bit formats' components.
    Eight,
    /// 10-bit Y, Cb, Cr packed in one word a pixel (Y in bits 0..10, Cb in 10..20, Cr in
    /// 20..30, the top two bits kept; the bits `Rgb10a2Unorm` would hold), the word's four
    /// bytes held as an `Rgba8Unorm` texel (R the lowest): the 10-bit formats' codes, unpacked,
    /// keyed and blended at their own precision and packed back, rounded to 10-bit codes, by
    /// the shader. A CPU rasteriser fetches and writes RGBA8 texels on its fastest path, far
    /// faster than a packed 10-bit or a 32-bit integer texel.
    Ten,
}

impl AtlasDepth {
    /// Both depths, in the order of [`AtlasDepth::index`].
    pub(crate) const ALL: [Self; 2] = [Self::Eight, Self::Ten];

    /// The atlas depth of frames of `format`.
    pub(crate) fn of(format: yardline_frame::PixelFormat) -> Self {
        if format.bit_depth() == 10 {
            Self::Ten
        } else {
            Self::Eight
        }
    }

    /// Index in per-depth arrays.
    pub(crate) fn index(self) -> usize {
        match self {
            Self::Eight => 0,
            Self::Ten => 1,
        }
    }

    /// The atlas texture's format.
    pub(crate) fn texture_format(self) -> wgpu::TextureFormat {
        match self {
            Self::Eight | Self::Ten => wgpu::TextureFormat::Rgba8Unorm,
        }
    }

    /// The largest code of a component (the vertices carry the line colour as
    /// `code / max_code`, as an RGBA8 atlas holds its components).
    pub(crate) fn max_code(self) -> f32 {
        match self {
            Self::Eight => 255.0,
            Self::Ten => 1023.0,
        }
    }
}

/// Which adapter to run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdapterChoice {
    /// Only a hardware GPU (discrete, integrated or virtual).
    HardwareOnly,
    /// Any adapter, software rasterisers (lavapipe, llvmpipe) included.
    Any,
}

/// Composites on a wgpu device.
pub struct GpuCompositor {
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    /// One pipeline per region slot count (`pipelines::REGION_SLOTS`), key filter
    /// (`pipelines::filter_variant`) and colour model (`pipelines::ColourModel`), in that
    /// nesting order (see [`GpuCompositor::pipeline_index`]).
    pipelines: Vec<wgpu::RenderPipeline>,
    layout: wgpu::BindGroupLayout,
    sampler: wgpu::Sampler,
    globals: wgpu::Buffer,
    /// The atlases, per [`AtlasDepth::index`].
    res: [Option<Resources>; 2],
    vertices: Option<(wgpu::Buffer, u64)>,
    /// Region table texture and its rows.
    region_table: Option<(wgpu::Texture, u32)>,
    lut: Option<LutTexture>,
    /// Bind groups over the current buffers and textures, per atlas depth: the first blends
    /// over the gathered tiles, the second over the copy of a later draw level; rebuilt when
    /// one of them is replaced.
    bind: [Option<[wgpu::BindGroup; 2]>; 2],
    plan: TilePlan,
    atlas: TileAtlas,
    /// Shares out the atlas copies (gather and scatter) on the CPU.
    crew: Crew,
    /// The frame's vertices, draw level after draw level (see `frame.rs`).
    scratch_vertices: Vec<VertexGpu>,
    /// Vertices of draw levels after the first, per level (level 1 first), while building.
    scratch_later: Vec<Vec<VertexGpu>>,
    /// Per draw level: the end of its vertices in `scratch_vertices` and, after the first,
    /// the atlas cells (tile indices) it draws in.
    scratch_levels: Vec<(u32, Vec<u32>)>,
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

/// Switches off Mesa's device-select Vulkan layer (`NODEVICE_SELECT=1`) unless the
/// environment says otherwise. The layer asks Wayland and X11 for the desktop's GPU when a
/// Vulkan instance is made, and on a headless machine it prints `error: XDG_RUNTIME_DIR is
/// invalid or not set in the environment.` to stderr, which reads as a failure; the
/// compositor picks its adapter itself, so the layer has nothing to do here.
///
/// # Safety
/// It sets an environment variable: call it before any other thread exists (first thing in
/// `main`), as [`std::env::set_var`] requires.
#[allow(unsafe_code, reason = "std::env::set_var, before any thread exists")]
pub unsafe fn quiet_vulkan_device_select() {
    if std::env::var_os("NODEVICE_SELECT").is_none() {
        // SAFETY: the caller guarantees no other thread exists yet.
        unsafe { std::env::set_var("NODEVICE_SELECT", "1") };
    }
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
        let (layout, pipelines) = pipelines::composite_pipelines(&device);
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
            res: [None, None],
            vertices: None,
            region_table: None,
            lut: None,
            bind: [None, None],
            plan: TilePlan::default(),
            atlas: TileAtlas::default(),
            crew: Crew::default(),
            scratch_vertices: Vec::new(),
            scratch_later: Vec::new(),
            scratch_levels: Vec::new(),
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
}

impl Compositor for GpuCompositor {
    fn describe(&self) -> String {
        format!("gpu ({})", self.adapter())
    }

    fn simulate_device_loss(&self) {
        GpuCompositor::simulate_device_loss(self);
    }

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
        let depth = AtlasDepth::of(format);
        self.plan.build(layout.width, layout.height, lines);
        let n_tiles = self.plan.tiles.len();
        if n_tiles == 0 {
            return Ok(CompositeStats::default());
        }
        self.atlas.gather(&frame.as_ref(), &self.plan, &self.crew);
        let rows = atlas_rows(n_tiles);
        self.ensure_resources(depth, rows);
        self.upload_lut(key)?;
        let max_regions = self.build_vertices(lines, key, layout);
        self.ensure_region_table();
        let globals = self.globals_now(depth);
        let pipeline = Self::pipeline_index(
            max_regions,
            key.min_filter_radius(),
            key.edge_filter(),
            pipelines::ColourModel::of(format),
        );
        self.ensure_bind_group(depth)?;
        let index = self.submit(depth, globals, pipeline, n_tiles)?;
        self.read_back(depth, frame, rows, index)?;
        Ok(CompositeStats {
            tiles: n_tiles,
            triangles: self.scratch_vertices.len() / 3,
        })
    }
}
