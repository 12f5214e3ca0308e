//! The composite pipelines: the bind group layout, one pipeline per variant (region slots, key
//! filter, colour model with its atlas depth; pipeline constants of `composite.wgsl`), all made
//! at start-up and each drawn once there, and the render pass over the atlas.

use std::time::Duration;

use yardline_frame::PixelFormat;
use yardline_keying::EdgeFilter;

use super::resources::ensure_buffer;
use super::{AtlasDepth, GpuCompositor, VERTEX_ATTRIBUTES, VertexGpu};
use crate::render::tiles::HALO;
use crate::render::{MAX_TILE_REGIONS, RenderError};

/// How long start-up waits for the warm-up draws (shader compiles on a CPU rasteriser, maybe
/// beside other work).
const WARM_UP_TIMEOUT: Duration = Duration::from_secs(60);

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

/// What the atlas holds: the colour model of its components and their depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ColourModel {
    /// 8-bit Y, Cb, Cr.
    Ycbcr,
    /// 8-bit R, G, B.
    Rgb,
    /// 10-bit Y, Cb, Cr.
    Ycbcr10,
}

impl ColourModel {
    /// Every model, in the order of their pipelines (see [`GpuCompositor::pipeline_index`]).
    const ALL: [Self; 3] = [Self::Ycbcr, Self::Rgb, Self::Ycbcr10];

    /// The model of frames of `format`.
    pub(super) fn of(format: PixelFormat) -> Self {
        match (format.is_rgb(), AtlasDepth::of(format)) {
            (true, _) => Self::Rgb,
            (false, AtlasDepth::Eight) => Self::Ycbcr,
            (false, AtlasDepth::Ten) => Self::Ycbcr10,
        }
    }

    /// The depth of the atlas its pipelines draw into.
    pub(super) fn depth(self) -> AtlasDepth {
        match self {
            Self::Ycbcr | Self::Rgb => AtlasDepth::Eight,
            Self::Ycbcr10 => AtlasDepth::Ten,
        }
    }

    /// The shader's `CODE_SCALE`: an atlas component's value (`code / max_code`) to the 8-bit
    /// code scale the key LUT is indexed on (a 10-bit code `c` reads as `c / 4`, as the CPU
    /// keys it).
    fn code_scale(self) -> f64 {
        match self.depth() {
            AtlasDepth::Eight => 255.0,
            AtlasDepth::Ten => 1023.0 / 4.0,
        }
    }
}

/// The bind group layout of `composite.wgsl` and one pipeline per region slot count
/// ([`REGION_SLOTS`]), key filter ([`filter_variant`]) and colour model ([`ColourModel`]), in
/// that nesting order (see [`GpuCompositor::pipeline_index`]).
pub(super) fn composite_pipelines(
    device: &wgpu::Device,
) -> (wgpu::BindGroupLayout, Vec<wgpu::RenderPipeline>) {
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("composite.wgsl"),
        source: wgpu::ShaderSource::Wgsl(yardline_shaders::COMPOSITE_WGSL.into()),
    });
    let float_texture = |binding, filterable| wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::FRAGMENT,
        ty: wgpu::BindingType::Texture {
            sample_type: wgpu::TextureSampleType::Float { filterable },
            view_dimension: wgpu::TextureViewDimension::D2,
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
            float_texture(2, false),
            float_texture(3, true),
            wgpu::BindGroupLayoutEntry {
                binding: 4,
                visibility: wgpu::ShaderStages::FRAGMENT,
                ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
                count: None,
            },
            // The region table: read per vertex only.
            wgpu::BindGroupLayoutEntry {
                visibility: wgpu::ShaderStages::VERTEX,
                ..float_texture(5, false)
            },
            // What a line is blended over (the gathered tiles, or the earlier lines' draw).
            float_texture(6, false),
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
        .flat_map(|(slots, filter)| ColourModel::ALL.map(|model| (slots, filter, model)))
        .map(|(slots, filter, model)| {
            let (radius, unmix) = filter_variant(filter);
            let constants = [
                ("KEY_RADIUS", f64::from(radius)),
                ("UNMIX", f64::from(u8::from(unmix))),
                (
                    "UNMIX_FOREGROUND_KEY",
                    f64::from(yardline_keying::UNMIX_FOREGROUND_KEY),
                ),
                ("IS_RGB", f64::from(u8::from(model == ColourModel::Rgb))),
                ("CODE_SCALE", model.code_scale()),
                (
                    "PACKED",
                    f64::from(u8::from(model.depth() == AtlasDepth::Ten)),
                ),
                ("MAX_TILE_REGIONS", slots as f64),
            ];
            composite_pipeline(device, &pipeline_layout, &module, &constants, model.depth())
        })
        .collect();
    (layout, pipelines)
}

impl GpuCompositor {
    /// Draws a small triangle with every pipeline over textures of the kinds a frame uses (each
    /// into an atlas of its depth), so that a driver compiling shader variants at their first
    /// draw (llvmpipe does: about 10 ms each) does it here, not in the frame that first needs a
    /// pipeline.
    pub(super) fn warm_up(&mut self) -> Result<(), RenderError> {
        const LUT_SIZE: u32 = 33;
        let n = LUT_SIZE as usize;
        self.upload_lut_data(LUT_SIZE, &vec![255; n * n * n], 0)?;
        self.ensure_region_table();
        for depth in AtlasDepth::ALL {
            self.ensure_resources(depth, 1);
            self.ensure_bind_group(depth)?;
        }
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
        let Some((vbuf, _)) = &self.vertices else {
            return Err(RenderError::Gpu("buffers missing".into()));
        };
        self.queue.write_buffer(vbuf, 0, bytes);
        let mut index = None;
        for depth in AtlasDepth::ALL {
            let d = depth.index();
            let (Some(res), Some(bind)) = (&self.res[d], &self.bind[d]) else {
                return Err(RenderError::Gpu("buffers missing".into()));
            };
            self.queue.write_buffer(
                &self.globals,
                0,
                bytemuck::bytes_of(&self.globals_now(depth)),
            );
            let mut enc = self
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("warm-up"),
                });
            {
                let mut pass = atlas_pass(&mut enc, &res.dst_view);
                pass.set_bind_group(0, &bind[0], &[]);
                pass.set_vertex_buffer(0, vbuf.slice(..bytes.len() as u64));
                let models = ColourModel::ALL.iter().cycle();
                for (pipeline, model) in self.pipelines.iter().zip(models) {
                    if model.depth() == depth {
                        pass.set_pipeline(pipeline);
                        pass.draw(0..3, 0..1);
                    }
                }
            }
            index = Some(self.queue.submit([enc.finish()]));
        }
        self.device
            .poll(wgpu::PollType::Wait {
                submission_index: index,
                timeout: Some(WARM_UP_TIMEOUT),
            })
            .map_err(|e| RenderError::Gpu(format!("warm-up: {e}")))?;
        // The first frame uploads its own key.
        self.lut = None;
        self.bind = [None, None];
        Ok(())
    }

    /// Index in `pipelines` of the pipeline for frames whose tiles list at most `regions` key
    /// regions, with key filter radius `radius` (at most [`HALO`]) and kind `edge` (unmixing
    /// at radius 0 is no filter) on an atlas of colour model `model`.
    pub(super) fn pipeline_index(
        regions: usize,
        radius: u32,
        edge: EdgeFilter,
        model: ColourModel,
    ) -> usize {
        let slots = REGION_SLOTS
            .iter()
            .position(|&s| s >= regions)
            .unwrap_or(REGION_SLOTS.len() - 1);
        let radius = radius.min(HALO);
        let filter = match edge {
            EdgeFilter::Unmix if radius > 0 => HALO + radius,
            _ => radius,
        } as usize;
        let model = ColourModel::ALL
            .iter()
            .position(|&m| m == model)
            .unwrap_or_default();
        (slots * FILTERS + filter) * ColourModel::ALL.len() + model
    }
}

/// A render pass drawing over the atlas `view` (its contents kept).
pub(super) fn atlas_pass<'e>(
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

/// The composite pipeline with the shader's pipeline constants set to `constants`, drawing into
/// an atlas of `depth` (`fs_main` into RGBA8, `fs_packed` into packed 10-bit codes).
fn composite_pipeline(
    device: &wgpu::Device,
    layout: &wgpu::PipelineLayout,
    module: &wgpu::ShaderModule,
    constants: &[(&str, f64)],
    depth: AtlasDepth,
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
            entry_point: Some(match depth {
                AtlasDepth::Eight => "fs_main",
                AtlasDepth::Ten => "fs_packed",
            }),
            compilation_options: options,
            // The shader blends (over `under`): blending off, every component written, so
            // a CPU rasteriser writes the packed texel without reading it back.
            targets: &[Some(wgpu::ColorTargetState {
                format: depth.texture_format(),
                blend: None,
                write_mask: wgpu::ColorWrites::ALL,
            })],
        }),
        multiview_mask: None,
        cache: None,
    })
}

#[cfg(test)]
mod tests {
    use yardline_frame::PixelFormat;
    use yardline_keying::EdgeFilter;

    use super::{ColourModel, FILTERS, REGION_SLOTS};
    use crate::render::HALO;
    use crate::render::gpu::{AtlasDepth, GpuCompositor};

    /// Every variant a frame can ask for has its own pipeline, each made (and warmed) once.
    #[test]
    fn every_variant_has_one_pipeline() {
        let count = REGION_SLOTS.len() * FILTERS * ColourModel::ALL.len();
        let mut seen = vec![false; count];
        for regions in REGION_SLOTS {
            for radius in 0..=HALO {
                for edge in [EdgeFilter::Min, EdgeFilter::Unmix] {
                    if edge == EdgeFilter::Unmix && radius == 0 {
                        continue;
                    }
                    for model in ColourModel::ALL {
                        let i = GpuCompositor::pipeline_index(regions, radius, edge, model);
                        assert!(!std::mem::replace(&mut seen[i], true), "{i} twice");
                    }
                }
            }
        }
        assert!(seen.iter().all(|&s| s), "a pipeline no frame uses");
    }

    /// Each format's colour model draws into an atlas of the format's depth.
    #[test]
    fn every_format_draws_into_an_atlas_of_its_depth() {
        for format in PixelFormat::ALL {
            let model = ColourModel::of(format);
            assert_eq!(model.depth(), AtlasDepth::of(format), "{format}");
            assert_eq!(model == ColourModel::Rgb, format.is_rgb(), "{format}");
        }
    }
}
