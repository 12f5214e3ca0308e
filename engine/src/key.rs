//! The compiled occlusion key as the compositor sees it: per-pixel LUT lookups on the CPU and
//! the stacked LUTs (one block per region) for the GPU.

use std::sync::atomic::{AtomicU64, Ordering};

use nalgebra::Point2;
use yardline_keying::frame::FrameRef;
use yardline_keying::{AutoPaletteOptions, KeyConfig, Keyer, auto_palette};

use crate::field::FieldModel;
use crate::geometry::Camera;

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

    #[inline]
    fn key_u8(&self, rgb: bool, px: [u8; 3], field_xy: [f64; 2]) -> f32 {
        let luts = self.keyer.luts();
        let i = if self.rects.is_empty() {
            0
        } else {
            self.keyer.lut_index_at(field_xy[0], field_xy[1])
        };
        luts.get(i).or_else(|| luts.first()).map_or(1.0, |l| {
            if rgb {
                l.lookup_rgb8(px[0], px[1], px[2])
            } else {
                l.lookup_u8(px[0], px[1], px[2])
            }
        })
    }

    fn key_u8_run(&self, rgb: bool, px: &[[u8; 3]], field_xy: [f64; 2], out: &mut [f32]) {
        let luts = self.keyer.luts();
        let i = self.keyer.lut_index_at(field_xy[0], field_xy[1]);
        let Some(lut) = luts.get(i).or_else(|| luts.first()) else {
            out.fill(1.0);
            return;
        };
        let pairs = px.iter().zip(out);
        if rgb {
            pairs.for_each(|(p, o)| *o = lut.lookup_rgb8(p[0], p[1], p[2]));
        } else {
            pairs.for_each(|(p, o)| *o = lut.lookup_u8(p[0], p[1], p[2]));
        }
    }

    fn varies_with_position(&self) -> bool {
        !self.rects.is_empty()
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

/// The automatic initial key palette for a frame: grass clusters found inside the field of play
/// as `camera` sees it (one full pass over the frame, a second or so at 1080p).
pub fn auto_key_config(
    frame: FrameRef<'_>,
    camera: &Camera,
    field: &FieldModel,
) -> Result<KeyConfig, String> {
    let outline: Vec<Point2<f64>> = field_polygon(camera, field);
    if outline.len() < 3 {
        return Err("the field of play is not in view".into());
    }
    let inside = |x: u32, y: u32| point_in_polygon(f64::from(x), f64::from(y), &outline);
    auto_palette(frame, inside, &AutoPaletteOptions::default())
        .map(KeyConfig::new)
        .map_err(|e| e.to_string())
}

/// [`auto_key_config`] compiled, or `None` (logged) when it fails.
pub fn auto_key(frame: FrameRef<'_>, camera: &Camera, field: &FieldModel) -> Option<FieldKey> {
    match auto_key_config(frame, camera, field)
        .and_then(|c| FieldKey::compile(&c).map_err(|e| e.to_string()))
    {
        Ok(k) => {
            tracing::info!("automatic key palette built from frame");
            Some(k)
        }
        Err(e) => {
            tracing::warn!("automatic key palette failed: {e}");
            None
        }
    }
}

/// The field of play's outline projected into the image (points behind the camera dropped).
fn field_polygon(camera: &Camera, field: &FieldModel) -> Vec<Point2<f64>> {
    let c = field.outline();
    let mut out = Vec::new();
    for i in 0..4 {
        let (a, b) = (c[i], c[(i + 1) % 4]);
        for k in 0..64 {
            let t = f64::from(k) / 64.0;
            let p = nalgebra::Point3::new(a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, 0.0);
            if let Some(px) = camera.project(&p) {
                out.push(px);
            }
        }
    }
    out
}

fn point_in_polygon(x: f64, y: f64, poly: &[Point2<f64>]) -> bool {
    let mut inside = false;
    let mut j = poly.len() - 1;
    for i in 0..poly.len() {
        let (pi, pj) = (poly[i], poly[j]);
        if (pi.y > y) != (pj.y > y) && x < (pj.x - pi.x) * (y - pi.y) / (pj.y - pi.y) + pi.x {
            inside = !inside;
        }
        j = i;
    }
    inside
}
