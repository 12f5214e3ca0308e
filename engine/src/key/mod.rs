//! The occlusion key as the engine uses it, by job:
//! - [`FieldKey`] (here): a compiled key ready for either compositor, its regions placed on
//!   the field, and its matte; [`FrameKey`] (here): that key with one frame's regions and
//!   plate;
//! - `paint_view`: [`PaintView`] narrows the paint palette each frame to the paint actually
//!   seen, giving the [`FrameKey`] the compositor keys with;
//! - `auto`: [`AutoKeyLearner`] learns the automatic key from views of the field;
//! - `plate`: [`CleanPlate`], the field-space clean plate under each drawn line (a
//!   [`FrameKey`] carries it to the compositors, [`FrameKey::with_plate`]).

mod auto;
mod paint_index;
mod paint_view;
mod plate;

use std::sync::atomic::{AtomicU64, Ordering};

use nalgebra::Point2;
use rayon::prelude::*;
use yardline_frame::{Colorimetry, FrameLayout, FrameRef};
use yardline_keying::{EdgeFilter, KeyConfig, KeyLut, Keyer};

use crate::field::FieldModel;
use crate::geometry::Camera;
use crate::render::{HALO, KeyRegion, LutView, PixelKey};

pub use auto::{AUTO_KEY_VIEWS, AutoKeyError, AutoKeyLearner, auto_key_config, learn_key};
use paint_index::PaintIndex;
pub use paint_view::PaintView;
pub use plate::{
    CELL_ACROSS_M, CELL_ALONG_M, CleanPlate, MATCH_SIGMAS, MAX_PLATES, PLATE_MARGIN_M, PlateTexel,
    REGION_JOIN_CODES, REGION_MIN_ALONG_M, SIGMA_FLOOR, SIGMA_TRUSTED, WARM_FRAMES, blend_match,
    cell_index, plate_match,
};

static GENERATION: AtomicU64 = AtomicU64::new(1);

/// A compiled key ready for either compositor.
///
/// Its palettes and LUTs speak the key space (BT.709 limited range). For YUV frames of another
/// colorimetry, [`FieldKey::set_frame_space`] re-indexes the LUTs once for the frames' own codes
/// ([`KeyLut::for_colorimetry`]): the compositors' byte and 10-bit lookups and the GPU's LUT
/// then key those codes with no conversion per pixel, while [`PixelKey::key`] (colours in the
/// key space, as `FrameRef::ycbcr_f32` gives them) keeps the key-space LUTs.
#[derive(Debug, Clone)]
pub struct FieldKey {
    keyer: Keyer,
    config: Option<KeyConfig>,
    stacked: Vec<u8>,
    regions: Vec<KeyRegion>,
    generation: u64,
    /// The LUTs re-indexed for the codes of the frames in hand, when those are not in the key
    /// space.
    native: Option<NativeLuts>,
}

/// The key's LUTs re-indexed for the codes of one colorimetry and depth.
#[derive(Debug, Clone)]
struct NativeLuts {
    colorimetry: Colorimetry,
    bits: u32,
    luts: Vec<KeyLut>,
    stacked: Vec<u8>,
    generation: u64,
}

impl FieldKey {
    /// Wraps a compiled keyer. The min-filter radius is limited to the compositor's halo. The
    /// paint palette, if any, applies nowhere until [`FieldKey::on_field`] places it.
    pub fn new(mut keyer: Keyer) -> Self {
        if keyer.min_filter_radius() > HALO {
            tracing::warn!(
                "key min-filter radius {} limited to {HALO} pixels",
                keyer.min_filter_radius()
            );
            // HALO is within the keyer's accepted range, so this cannot fail.
            keyer.set_min_filter_radius(HALO).ok();
        }
        let stacked = keyer
            .luts()
            .iter()
            .flat_map(|l| l.data.iter().copied())
            .collect();
        let regions = keyer
            .regions()
            .iter()
            .enumerate()
            .map(|(i, r)| KeyRegion {
                rect: r.rect,
                lut: i as u32 + 1,
            })
            .collect();
        Self {
            keyer,
            config: None,
            stacked,
            regions,
            generation: GENERATION.fetch_add(1, Ordering::Relaxed),
            native: None,
        }
    }

    /// Makes the compositor lookups ([`PixelKey::key_u8_run`] of YUV pixels,
    /// [`PixelKey::key_u10_run`], [`PixelKey::lut`]) key the codes of frames laid out as
    /// `layout`: its colorimetry and depth (RGB frames and BT.709 limited range: the key's own
    /// LUTs). Re-indexes the LUTs when they change (a few milliseconds per palette), else does
    /// nothing.
    pub fn set_frame_space(&mut self, layout: &FrameLayout) {
        let colorimetry = layout.yuv_colorimetry();
        let bits = layout.format.bit_depth();
        if colorimetry.is_key_space() {
            self.native = None;
            return;
        }
        if self
            .native
            .as_ref()
            .is_some_and(|n| n.colorimetry == colorimetry && n.bits == bits)
        {
            return;
        }
        let luts: Vec<KeyLut> = self
            .keyer
            .luts()
            .iter()
            .map(|l| l.for_colorimetry(colorimetry, bits))
            .collect();
        let stacked = luts.iter().flat_map(|l| l.data.iter().copied()).collect();
        tracing::debug!("key LUTs re-indexed for {colorimetry} at {bits} bits");
        self.native = Some(NativeLuts {
            colorimetry,
            bits,
            luts,
            stacked,
            generation: GENERATION.fetch_add(1, Ordering::Relaxed),
        });
    }

    /// The LUTs the compositor lookups index with the frame's own codes.
    fn frame_luts(&self) -> &[KeyLut] {
        self.native
            .as_ref()
            .map_or_else(|| self.keyer.luts(), |n| n.luts.as_slice())
    }

    /// Compiles a key configuration (kept, see [`FieldKey::config`]).
    pub fn compile(config: &KeyConfig) -> Result<Self, yardline_keying::KeyError> {
        let mut key = Self::new(Keyer::compile(config)?);
        key.config = Some(config.clone());
        Ok(key)
    }

    /// The same key with its paint palette placed on `field`'s painted markings (each widened
    /// by the palette's margin), after the key's own regions. A key without a paint palette
    /// is returned as is.
    #[must_use]
    pub fn on_field(mut self, field: &FieldModel) -> Self {
        let Some((lut, margin)) = self.keyer.paint() else {
            return self;
        };
        let own = self.keyer.regions().len();
        self.regions.truncate(own);
        self.regions
            .extend(field.paint_rects().into_iter().map(|r| KeyRegion {
                rect: [r[0] - margin, r[1] - margin, r[2] + margin, r[3] + margin],
                lut: lut as u32,
            }));
        self
    }

    /// The underlying keyer (matte previews, sampling).
    pub fn keyer(&self) -> &Keyer {
        &self.keyer
    }

    /// The key of every pixel of `frame` (row-major, 0..=1), as the compositor keys a covered
    /// pixel: with the palette of the pixel's field position under `camera` (the regions in
    /// order, then the painted markings; pixels whose ray misses the ground take the default)
    /// and the min-filter over its neighbourhood with that palette. The paint applies where
    /// [`PaintView::update_all`] sees it. For mattes and key accuracy.
    pub fn matte(
        &self,
        frame: FrameRef<'_>,
        camera: &Camera,
        field: &FieldModel,
    ) -> Result<Vec<f32>, yardline_keying::KeyError> {
        let (w, h) = (frame.width() as usize, frame.height() as usize);
        let mut view = PaintView::new();
        let regions = view.update_all(self, frame, camera, field).regions;
        let index = PaintIndex::new(regions.iter().map(|r| r.rect).collect());
        let lut_of: Vec<u32> = (0..w * h)
            .into_par_iter()
            .map(|i| {
                let px = Point2::new((i % w) as f64, (i / w) as f64);
                camera
                    .unproject_to_surface(px, &field.crown)
                    .and_then(|p| index.find_index([p.x, p.y]))
                    .map_or(0, |r| regions[r].lut)
            })
            .collect();
        let mut used: Vec<u32> = vec![0];
        for &l in &lut_of {
            if !used.contains(&l) {
                used.push(l);
            }
        }
        let mut out = self.keyer.with_lut(0)?.key_frame(frame)?;
        for &l in &used[1..] {
            let m = self.keyer.with_lut(l as usize)?.key_frame(frame)?;
            for ((o, &v), &pl) in out.iter_mut().zip(&m).zip(&lut_of) {
                if pl == l {
                    *o = v;
                }
            }
        }
        Ok(out)
    }

    /// The configuration the key was compiled from (what `key.toml` would hold), when it was
    /// compiled from one.
    pub fn config(&self) -> Option<&KeyConfig> {
        self.config.as_ref()
    }
}

impl PixelKey for FieldKey {
    #[inline]
    fn key(&self, ycbcr: [f32; 3], lut: usize) -> f32 {
        let luts = self.keyer.luts();
        luts.get(lut)
            .or_else(|| luts.first())
            .map_or(1.0, |l| l.lookup(ycbcr[0], ycbcr[1], ycbcr[2]))
    }

    fn key_u8_run(&self, rgb: bool, px: &[[u8; 3]], lut: usize, out: &mut [f32]) {
        // RGB pixels are converted to the key space; YUV codes index the frame's LUTs.
        let luts = if rgb {
            self.keyer.luts()
        } else {
            self.frame_luts()
        };
        let Some(lut) = luts.get(lut).or_else(|| luts.first()) else {
            out.fill(1.0);
            return;
        };
        if rgb {
            lut.lookup_rgb8_run(px, out);
        } else {
            let pairs = px.iter().zip(out);
            pairs.for_each(|(p, o)| *o = lut.lookup_u8(p[0], p[1], p[2]));
        }
    }

    fn key_u10_run(&self, px: &[[u16; 3]], lut: usize, out: &mut [f32]) {
        let luts = self.frame_luts();
        match luts.get(lut).or_else(|| luts.first()) {
            Some(lut) => lut.lookup_u10_run(px, out),
            None => out.fill(1.0),
        }
    }

    fn regions(&self) -> &[KeyRegion] {
        &self.regions
    }

    fn min_filter_radius(&self) -> u32 {
        self.keyer.min_filter_radius()
    }

    fn edge_filter(&self) -> EdgeFilter {
        self.keyer.edge_filter()
    }

    fn lut(&self) -> Option<LutView<'_>> {
        let size = self.keyer.luts().first()?.size;
        Some(match &self.native {
            Some(n) => LutView {
                size,
                data: &n.stacked,
                generation: n.generation,
            },
            None => LutView {
                size,
                data: &self.stacked,
                generation: self.generation,
            },
        })
    }
}

/// A key with its regions for one frame ([`PaintView::update`]), and the clean plate beside it
/// when the plate is on ([`FrameKey::with_plate`]).
#[derive(Debug, Clone, Copy)]
pub struct FrameKey<'a> {
    key: &'a FieldKey,
    regions: &'a [KeyRegion],
    plate: Option<&'a CleanPlate>,
}

impl<'a> FrameKey<'a> {
    /// This key with `plate`, updated for this frame, beside it: the compositors combine each
    /// covered pixel's key with it ([`PixelKey::plate`]).
    #[must_use]
    pub fn with_plate(self, plate: &'a CleanPlate) -> Self {
        Self {
            plate: Some(plate),
            ..self
        }
    }
}

impl PixelKey for FrameKey<'_> {
    #[inline]
    fn key(&self, ycbcr: [f32; 3], lut: usize) -> f32 {
        self.key.key(ycbcr, lut)
    }
    fn key_u8_run(&self, rgb: bool, px: &[[u8; 3]], lut: usize, out: &mut [f32]) {
        self.key.key_u8_run(rgb, px, lut, out);
    }
    fn key_u10_run(&self, px: &[[u16; 3]], lut: usize, out: &mut [f32]) {
        self.key.key_u10_run(px, lut, out);
    }
    fn regions(&self) -> &[KeyRegion] {
        self.regions
    }
    fn min_filter_radius(&self) -> u32 {
        self.key.min_filter_radius()
    }

    fn edge_filter(&self) -> EdgeFilter {
        self.key.edge_filter()
    }

    fn lut(&self) -> Option<LutView<'_>> {
        self.key.lut()
    }

    fn plate(&self) -> Option<&CleanPlate> {
        self.plate
    }
}
