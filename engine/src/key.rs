//! The compiled occlusion key as the compositor sees it: per-pixel LUT lookups on the CPU and
//! the stacked LUTs (one block per region) for the GPU.

use std::sync::atomic::{AtomicU64, Ordering};

use yardline_keying::{KeyConfig, Keyer};

use crate::render::{HALO, KeyModel, LutView};

static GENERATION: AtomicU64 = AtomicU64::new(1);

/// A compiled key ready for either compositor.
#[derive(Debug, Clone)]
pub struct FieldKey {
    keyer: Keyer,
    stacked: Vec<u8>,
    rects: Vec<[f64; 4]>,
    generation: u64,
}

impl FieldKey {
    /// Wraps a compiled keyer. The min-filter radius is limited to the compositor's halo.
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
        let rects = keyer.regions().iter().map(|r| r.rect).collect();
        Self {
            keyer,
            stacked,
            rects,
            generation: GENERATION.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// Compiles a key configuration.
    pub fn compile(config: &KeyConfig) -> Result<Self, yardline_keying::KeyError> {
        Ok(Self::new(Keyer::compile(config)?))
    }

    /// The underlying keyer (matte previews, sampling).
    pub fn keyer(&self) -> &Keyer {
        &self.keyer
    }
}

impl KeyModel for FieldKey {
    #[inline]
    fn key(&self, ycbcr: [f32; 3], field_xy: [f64; 2]) -> f32 {
        let luts = self.keyer.luts();
        let i = self.keyer.lut_index_at(field_xy[0], field_xy[1]);
        luts.get(i)
            .or_else(|| luts.first())
            .map_or(1.0, |l| l.lookup(ycbcr[0], ycbcr[1], ycbcr[2]))
    }

    fn min_filter_radius(&self) -> u32 {
        self.keyer.min_filter_radius()
    }

    fn lut(&self) -> Option<LutView<'_>> {
        let size = self.keyer.luts().first()?.size;
        Some(LutView {
            size,
            data: &self.stacked,
            regions: &self.rects,
            generation: self.generation,
        })
    }
}
