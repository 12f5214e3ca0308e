//! The compositor: draws the keyed, anti-aliased field-space lines into a frame, in place.
//!
//! Both implementations work only on the [`TILE`]-pixel square tiles a line's mesh touches. The
//! CPU compositor ([`cpu`]) rasterises the triangles row span by row span straight from the
//! frame, keys only the covered pixels (and their edge filter neighbours) and blends the covered
//! spans in place. The GPU compositor (`gpu`) gathers the touched tiles (with a [`HALO`]-pixel
//! border for the key's neighbourhood filter) into a tile atlas in the frame's own colour space
//! (8-bit components, or a 10-bit frame's codes), shades it and writes the tiles back. Both key
//! and blend a 10-bit frame at 10 bits. No stage converts or copies the whole frame.
//!
//! Per pixel: `alpha = coverage * key * opacity`, `out = in + (colour - in) * alpha`, where
//! coverage is the box-filtered overlap of the pixel with the strip computed in field space
//! (perspective-correct `across`/`along` offsets and their screen-space gradients), and key is
//! the minimum over the (2r+1)^2 neighbourhood of the key LUT of the original pixels (with edge
//! unmixing, the pixel's own, lowered beside a player: [`yardline_keying::unmix_key`]).

pub mod cpu;
pub mod crew;
pub mod gpu;
pub mod pieces;
pub mod prepare;
pub mod raster;
pub mod tiles;

use yardline_frame::{FrameError, FrameLayout, FrameMut, PixelFormat, rgb_to_ycbcr709};
use yardline_keying::EdgeFilter;

use crate::graphics::StripMesh;
use crate::key::CleanPlate;

pub use cpu::CpuCompositor;
pub use gpu::{AdapterChoice, GpuCompositor};
pub use prepare::prepare_line;
use tiles::TilePlan;
pub use tiles::{HALO, TILE};

/// A line ready to draw on this frame: its mesh for the current camera and its look.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedLine {
    /// Tessellated, projected strip.
    pub mesh: StripMesh,
    /// Colour as full-range sRGB 8-bit components.
    pub rgb: [u8; 3],
    /// Opacity 0..=1 (fades included).
    pub opacity: f32,
    /// Field position (x, y metres) of the strip start and its unit direction, to locate key
    /// regions by field position.
    pub origin: [f64; 2],
    /// Unit direction of the strip centreline (x, y).
    pub direction: [f64; 2],
}

impl PreparedLine {
    /// Field (x, y) of a point at `along`, `across` on this strip.
    #[inline]
    pub fn field_xy(&self, along: f64, across: f64) -> [f64; 2] {
        let [dx, dy] = self.direction;
        [
            self.origin[0] + dx * along - dy * across,
            self.origin[1] + dy * along + dx * across,
        ]
    }
}

/// A field rectangle `[x0, y0, x1, y1]` (metres, edges included) whose pixels take their key
/// from palette `lut` of the key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeyRegion {
    /// The rectangle.
    pub rect: [f64; 4],
    /// Which palette (LUT) applies inside it (0 is the default palette).
    pub lut: u32,
}

impl KeyRegion {
    /// True when field point (x, y) lies in the rectangle.
    #[inline]
    pub fn contains(&self, x: f64, y: f64) -> bool {
        let [x0, y0, x1, y1] = self.rect;
        x >= x0 && x <= x1 && y >= y0 && y <= y1
    }

    /// True when the rectangle meets field box `b` (`[x0, y0, x1, y1]`, edges included).
    #[inline]
    pub fn meets(&self, b: [f64; 4]) -> bool {
        let [x0, y0, x1, y1] = self.rect;
        x0 <= b[2] && x1 >= b[0] && y0 <= b[3] && y1 >= b[1]
    }
}

/// How far past a strip's edges (metres) a region still counts as near it: the coverage's
/// anti-aliased fringe is about a pixel, which is well under this on any field shot.
const REGION_MARGIN_M: f64 = 0.3;

/// Field bounding box `[x0, y0, x1, y1]` of a line's strip widened by 0.3 m (a pixel's fringe
/// on any field shot).
pub fn strip_box(l: &PreparedLine) -> [f64; 4] {
    let hw = l.mesh.half_width_m + REGION_MARGIN_M;
    let [dx, dy] = l.direction;
    let [ox, oy] = l.origin;
    let (ex, ey) = (ox + dx * l.mesh.length_m, oy + dy * l.mesh.length_m);
    let (px, py) = (dy.abs() * hw, dx.abs() * hw);
    let (dmx, dmy) = (dx.abs() * REGION_MARGIN_M, dy.abs() * REGION_MARGIN_M);
    [
        ox.min(ex) - px - dmx,
        oy.min(ey) - py - dmy,
        ox.max(ex) + px + dmx,
        oy.max(ey) + py + dmy,
    ]
}

/// Indices of the regions whose rectangles come within 0.3 m of one of `lines`' strips, into
/// `out` (cleared first), in order, once each. Only these can hold a covered pixel.
pub fn regions_near_lines(regions: &[KeyRegion], lines: &[PreparedLine], out: &mut Vec<u32>) {
    out.clear();
    for b in lines.iter().map(strip_box) {
        out.extend((0..regions.len() as u32).filter(|&i| regions[i as usize].meets(b)));
    }
    out.sort_unstable();
    out.dedup();
}

/// Most key regions one tile looks at (the GPU tests them unrolled); further ones that the
/// tile's strip meets are dropped, those first in precedence kept.
pub const MAX_TILE_REGIONS: usize = 8;

/// The regions among `near` (indices into `regions`, in order) whose palette a covered pixel of
/// tile `cell` of `plan` can take, into `out` (cleared first) in the same order, at most
/// [`MAX_TILE_REGIONS`]: those meeting the field bounding box of the tile's triangles, widened
/// by one and a half pixels' field size (a covered pixel's palette is looked up at the centres
/// of its 2x2 block, up to a diagonal pixel step outside its triangle) and 1 cm for rounding.
/// The first of them containing a point answers as the first of `near` would, for every such
/// point of the tile.
pub fn tile_regions(
    regions: &[KeyRegion],
    near: &[u32],
    plan: &TilePlan,
    cell: usize,
    lines: &[PreparedLine],
    out: &mut Vec<u32>,
) {
    const ROUNDING_M: f64 = 0.01;
    out.clear();
    if near.is_empty() {
        return;
    }
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    // Largest field length of a pixel step along any triangle edge (metres).
    let mut pixel_m: f64 = 0.0;
    let triangles = plan.tile_triangles.get(cell).map_or(&[][..], Vec::as_slice);
    for tri in triangles
        .iter()
        .filter_map(|&t| plan.triangles.get(t as usize))
    {
        let Some(line) = lines.get(tri.line as usize) else {
            continue;
        };
        let field = [0, 1, 2].map(|k| line.field_xy(tri.along[k], tri.across[k]));
        for (k, &[x, y]) in field.iter().enumerate() {
            b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
            let (n, p, q) = (field[(k + 1) % 3], tri.p[k], tri.p[(k + 1) % 3]);
            let pixels = (q[0] - p[0]).hypot(q[1] - p[1]);
            if pixels > 1e-6 {
                pixel_m = pixel_m.max((n[0] - x).hypot(n[1] - y) / pixels);
            }
        }
    }
    let widen = ROUNDING_M + 1.5 * pixel_m;
    let b = [b[0] - widen, b[1] - widen, b[2] + widen, b[3] + widen];
    out.extend(
        near.iter()
            .copied()
            .filter(|&i| regions[i as usize].meets(b))
            .take(MAX_TILE_REGIONS),
    );
}

/// The occlusion key the compositor asks per original pixel. A key has one or more palettes
/// (LUTs): 0 everywhere, unless a region says otherwise for a field position.
pub trait PixelKey: Sync {
    /// Key (0 = not field surface, 1 = field surface) of a colour given as limited-range BT.709
    /// Y, Cb, Cr code values, with palette `lut`.
    fn key(&self, ycbcr: [f32; 3], lut: usize) -> f32;
    /// [`PixelKey::key`] of a run of 8-bit pixels in the frame's own components: R, G, B (full
    /// range) when `rgb`, else limited-range Y, Cb, Cr; into `out`. The default converts and
    /// calls `key`; a LUT key answers from the bytes directly.
    fn key_u8_run(&self, rgb: bool, px: &[[u8; 3]], lut: usize, out: &mut [f32]) {
        for (p, o) in px.iter().zip(out) {
            let ycbcr = if rgb {
                rgb_to_ycbcr709(f32::from(p[0]), f32::from(p[1]), f32::from(p[2]))
            } else {
                p.map(f32::from)
            };
            *o = self.key(ycbcr, lut);
        }
    }
    /// [`PixelKey::key`] of a run of 10-bit limited-range Y, Cb, Cr codes (0..=1023) into
    /// `out`. The default converts to the 8-bit scale (`code / 4`, exact) and calls `key`; a
    /// LUT key indexes its LUT with the codes directly.
    fn key_u10_run(&self, px: &[[u16; 3]], lut: usize, out: &mut [f32]) {
        for (p, o) in px.iter().zip(out) {
            *o = self.key(p.map(|v| f32::from(v) * 0.25), lut);
        }
    }
    /// Field rectangles with their palettes, in precedence order: a covered pixel takes the
    /// palette of the first containing the field position of any pixel centre of its 2x2 block
    /// (even x and y at the top-left; none: palette 0; at most [`MAX_TILE_REGIONS`] looked at
    /// per tile). A pixel's whole neighbourhood (the edge filter) is keyed with the palette of
    /// the covered pixel.
    fn regions(&self) -> &[KeyRegion] {
        &[]
    }
    /// Radius of the neighbourhood edge filter (0 = off); at most [`HALO`].
    fn min_filter_radius(&self) -> u32;
    /// What the neighbourhood does: its minimum (the default) or edge unmixing.
    fn edge_filter(&self) -> EdgeFilter {
        EdgeFilter::Min
    }
    /// The key as a LUT for the GPU, when it is one. A key without a LUT runs on the CPU only
    /// (the GPU then treats every pixel as field surface).
    fn lut(&self) -> Option<LutView<'_>> {
        None
    }
    /// The field-space clean plate of this frame's lines, when the key has one: a covered
    /// pixel's key is then [`CleanPlate::combine`] of its colour key.
    fn plate(&self) -> Option<&CleanPlate> {
        None
    }
}

/// The key LUTs as the GPU compositor takes them: node values over x = Y, y = Cb, z = Cr
/// (limited-range BT.709 code values, node `i` at `255 * i / (size - 1)`), one block of
/// `size` z-layers per palette (LUT index order).
#[derive(Debug, Clone, Copy)]
pub struct LutView<'a> {
    /// Nodes per axis.
    pub size: usize,
    /// `size^3 * palettes` alpha bytes, index `y + size * (cb + size * cr)` per block.
    pub data: &'a [u8],
    /// Changes whenever the LUT contents change (the GPU re-uploads then).
    pub generation: u64,
}

/// A key that treats every pixel as field surface (no occlusion).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoKey;

impl PixelKey for NoKey {
    fn key(&self, _ycbcr: [f32; 3], _lut: usize) -> f32 {
        1.0
    }
    fn min_filter_radius(&self) -> u32 {
        0
    }
}

/// Native (frame colour space) components of an atlas pixel converted to Y, Cb, Cr.
#[inline]
pub fn native_to_ycbcr(format: PixelFormat, px: [u8; 3]) -> [f32; 3] {
    if format.is_rgb() {
        rgb_to_ycbcr709(f32::from(px[0]), f32::from(px[1]), f32::from(px[2]))
    } else {
        px.map(f32::from)
    }
}

/// A line colour in the frame's colour space and codes (RGB as is, YUV formats converted once
/// per frame with the layout's colorimetry; 10-bit codes for the 10-bit formats, unrounded).
pub fn native_colour(layout: &FrameLayout, rgb: [u8; 3]) -> [f32; 3] {
    let format = layout.format;
    if format.is_rgb() {
        rgb.map(f32::from)
    } else {
        let c = layout
            .colorimetry
            .rgb_to_ycbcr(format.bit_depth(), rgb.map(f32::from));
        c.map(|v| v / yardline_frame::code_scale(format))
    }
}

/// What one composite call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CompositeStats {
    /// Tiles gathered, shaded and written back.
    pub tiles: usize,
    /// Triangles rasterised (summed over tiles).
    pub triangles: usize,
}

/// Errors of the compositor.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The frame does not match its layout.
    #[error("frame: {0}")]
    Frame(#[from] FrameError),
    /// The GPU failed (device lost, out of memory, mapping failed).
    #[error("GPU: {0}")]
    Gpu(String),
}

/// Draws prepared lines into a frame in place.
pub trait Compositor: Send {
    /// Short description: backend and adapter.
    fn describe(&self) -> String;
    /// Composites every line into `frame`; on error the frame is left untouched.
    fn composite(
        &mut self,
        frame: &mut FrameMut<'_>,
        lines: &[PreparedLine],
        key: &dyn PixelKey,
    ) -> Result<CompositeStats, RenderError>;
    /// Makes the device fail as a driver reset would (fault injection); compositors without a
    /// device ignore it.
    fn simulate_device_loss(&self) {}
}
