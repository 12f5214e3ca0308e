//! Colour palettes: inclusion (field surface) and exclusion (players, ball) samples, each an
//! ellipsoid in BT.709 limited-range YCbCr, and their direct evaluation as a key.

use serde::{Deserialize, Serialize};

use crate::error::KeyError;
use crate::linalg::{Mat3, cholesky, inverse_spd, is_symmetric, quad_form};
use crate::stats::robust_stats;
use yardline_frame::FrameRef;

/// Default tolerance of an inclusion sample (Mahalanobis radius, standard deviations): holds
/// about 99 % of a normal colour cloud.
pub const DEFAULT_INCLUSION_TOLERANCE: f64 = 3.5;
/// Default tolerance of an exclusion sample (Mahalanobis radius, standard deviations).
pub const DEFAULT_EXCLUSION_TOLERANCE: f64 = 3.0;
/// Default width of the soft edge beyond each sample's tolerance (Mahalanobis units).
pub const DEFAULT_SOFTNESS: f64 = 1.0;
/// Standard deviation added in quadrature on every axis of a sampled colour (code values):
/// about the noise of 8-bit video, and a quarter of a 33-node LUT's node spacing (half of the
/// default 65-node one's), so no ellipsoid is too thin for the LUT to hold. Larger values merge
/// white jerseys with paint in shadow; smaller ones leave holes between the nodes of a 33-node
/// LUT.
pub const MIN_SAMPLE_SIGMA: f64 = 2.0;
/// Fewest pixels a sample is estimated from.
pub const MIN_SAMPLE_PIXELS: usize = 16;
/// Largest accepted tolerance or softness (Mahalanobis units); anything larger keys the whole
/// colour space and is a typo.
pub const MAX_TOLERANCE: f64 = 100.0;

/// Which palette a sample belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SampleKind {
    /// Field surface: grass (sun, shadow, worn), paint, mud, snow. Keys to 1.
    Inclusion,
    /// Not field: uniforms, skin, ball, gloves. Keys to 0 and always wins within its tolerance.
    Exclusion,
}

/// One colour sample: an ellipsoid in BT.709 limited-range YCbCr code values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sample {
    /// Inclusion or exclusion.
    pub kind: SampleKind,
    /// Operator's name for it ("grass sun", "home jersey"); free text, may be empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
    /// Centre (Y, Cb, Cr), code values 0..=255 (limited range: Y 16..=235, Cb/Cr 16..=240).
    pub mean: [f64; 3],
    /// Covariance of (Y, Cb, Cr), code values squared; symmetric positive definite.
    pub covariance: [[f64; 3]; 3],
    /// Mahalanobis radius inside which the sample holds fully (standard deviations, >= 0).
    pub tolerance: f64,
}

impl Sample {
    /// A sample estimated from colours (Y, Cb, Cr code values) with robust statistics: the
    /// component-wise median as centre and the covariance of the inliers, outliers beyond the
    /// 97.5 % chi-square radius rejected iteratively; [`MIN_SAMPLE_SIGMA`] is added in
    /// quadrature on each axis.
    pub fn from_pixels(
        kind: SampleKind,
        label: impl Into<String>,
        pixels: &[[f64; 3]],
        tolerance: f64,
    ) -> Result<Self, KeyError> {
        if pixels.len() < MIN_SAMPLE_PIXELS {
            return Err(KeyError::TooFewPixels {
                what: "colour sample",
                found: pixels.len(),
                needed: MIN_SAMPLE_PIXELS,
            });
        }
        if let Some(i) = pixels.iter().position(|p| p.iter().any(|v| !v.is_finite())) {
            return Err(KeyError::Invalid {
                key: format!("pixels[{i}]"),
                reason: "not finite".into(),
            });
        }
        let stats = robust_stats(pixels, MIN_SAMPLE_SIGMA);
        let sample = Self {
            kind,
            label: label.into(),
            mean: stats.centre,
            covariance: stats.covariance,
            tolerance,
        };
        sample.validate("sample")?;
        Ok(sample)
    }

    /// Checks the sample; errors name the offending value under `key` (e.g.
    /// `palette.samples[3]`).
    pub fn validate(&self, key: &str) -> Result<(), KeyError> {
        let invalid = |field: &str, reason: String| KeyError::Invalid {
            key: format!("{key}.{field}"),
            reason,
        };
        if let Some(v) = self.mean.iter().find(|v| !v.is_finite()) {
            return Err(invalid("mean", format!("{v} is not finite")));
        }
        if let Some(v) = self.mean.iter().find(|v| !(0.0..=255.0).contains(*v)) {
            return Err(invalid("mean", format!("{v} is outside 0..=255")));
        }
        if let Some(v) = self.covariance.iter().flatten().find(|v| !v.is_finite()) {
            return Err(invalid("covariance", format!("{v} is not finite")));
        }
        if !is_symmetric(&self.covariance) {
            return Err(invalid("covariance", "not symmetric".into()));
        }
        if cholesky(&self.covariance).is_none() {
            return Err(invalid("covariance", "not positive definite".into()));
        }
        check_radius(self.tolerance).map_err(|reason| invalid("tolerance", reason))
    }

    /// The sample ready for evaluation; `None` when the covariance is not positive definite.
    fn ellipsoid(&self) -> Option<Ellipsoid> {
        Some(Ellipsoid {
            mean: self.mean,
            inverse: inverse_spd(&self.covariance)?,
            tolerance: self.tolerance,
        })
    }
}

/// Tolerance and softness rule: finite, >= 0, <= [`MAX_TOLERANCE`].
fn check_radius(v: f64) -> Result<(), String> {
    if !v.is_finite() {
        Err(format!("{v} is not finite"))
    } else if v < 0.0 {
        Err(format!("{v} is negative"))
    } else if v > MAX_TOLERANCE {
        Err(format!("{v} is larger than {MAX_TOLERANCE}"))
    } else {
        Ok(())
    }
}

/// A pixel rectangle of a frame (for sampling).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelRect {
    /// Left column (pixels).
    pub x: u32,
    /// Top row (pixels).
    pub y: u32,
    /// Width (pixels).
    pub width: u32,
    /// Height (pixels).
    pub height: u32,
}

/// Inclusion and exclusion samples and the soft-edge width they share. Samples are kept in the
/// order they were added, so [`Palette::remove_last`] undoes the last click.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Palette {
    /// Width of the soft edge beyond each sample's tolerance (Mahalanobis units, >= 0; 0 is a
    /// hard edge).
    #[serde(default = "default_softness")]
    pub softness: f64,
    /// Samples in the order they were added.
    #[serde(default)]
    pub samples: Vec<Sample>,
}

fn default_softness() -> f64 {
    DEFAULT_SOFTNESS
}

impl Default for Palette {
    fn default() -> Self {
        Self {
            softness: DEFAULT_SOFTNESS,
            samples: Vec::new(),
        }
    }
}

impl Palette {
    /// Empty palette with the default softness.
    pub fn new() -> Self {
        Self::default()
    }

    /// Inclusion samples, in order.
    pub fn inclusion(&self) -> impl Iterator<Item = &Sample> {
        self.samples
            .iter()
            .filter(|s| s.kind == SampleKind::Inclusion)
    }

    /// Exclusion samples, in order.
    pub fn exclusion(&self) -> impl Iterator<Item = &Sample> {
        self.samples
            .iter()
            .filter(|s| s.kind == SampleKind::Exclusion)
    }

    /// Appends a sample after validating it.
    pub fn push(&mut self, sample: Sample) -> Result<(), KeyError> {
        sample.validate(&format!("samples[{}]", self.samples.len()))?;
        self.samples.push(sample);
        Ok(())
    }

    /// Estimates a sample from a rectangle of `frame` (robust median and covariance, see
    /// [`Sample::from_pixels`]) and appends it. Returns the new sample.
    pub fn add_from_region(
        &mut self,
        kind: SampleKind,
        frame: FrameRef<'_>,
        rect: PixelRect,
        tolerance: f64,
    ) -> Result<&Sample, KeyError> {
        let pixels = region_pixels(frame, rect)?;
        let label = match kind {
            SampleKind::Inclusion => "inclusion",
            SampleKind::Exclusion => "exclusion",
        };
        let label = format!(
            "{label} {},{} {}x{}",
            rect.x, rect.y, rect.width, rect.height
        );
        let sample = Sample::from_pixels(kind, label, &pixels, tolerance)?;
        self.samples.push(sample);
        Ok(&self.samples[self.samples.len() - 1])
    }

    /// [`Palette::add_from_region`] for an inclusion sample with the default tolerance.
    pub fn add_inclusion_from_region(
        &mut self,
        frame: FrameRef<'_>,
        rect: PixelRect,
    ) -> Result<&Sample, KeyError> {
        self.add_from_region(
            SampleKind::Inclusion,
            frame,
            rect,
            DEFAULT_INCLUSION_TOLERANCE,
        )
    }

    /// [`Palette::add_from_region`] for an exclusion sample with the default tolerance.
    pub fn add_exclusion_from_region(
        &mut self,
        frame: FrameRef<'_>,
        rect: PixelRect,
    ) -> Result<&Sample, KeyError> {
        self.add_from_region(
            SampleKind::Exclusion,
            frame,
            rect,
            DEFAULT_EXCLUSION_TOLERANCE,
        )
    }

    /// Removes and returns the most recently added sample (inclusion or exclusion).
    pub fn remove_last(&mut self) -> Option<Sample> {
        self.samples.pop()
    }

    /// Sets the tolerance (Mahalanobis radius) of sample `index`.
    pub fn set_tolerance(&mut self, index: usize, tolerance: f64) -> Result<(), KeyError> {
        let key = format!("samples[{index}].tolerance");
        check_radius(tolerance).map_err(|reason| KeyError::Invalid {
            key: key.clone(),
            reason,
        })?;
        let count = self.samples.len();
        let sample = self.samples.get_mut(index).ok_or(KeyError::Invalid {
            key,
            reason: format!("no such sample (the palette has {count})"),
        })?;
        sample.tolerance = tolerance;
        Ok(())
    }

    /// Sets the soft-edge width (Mahalanobis units).
    pub fn set_softness(&mut self, softness: f64) -> Result<(), KeyError> {
        check_radius(softness).map_err(|reason| KeyError::Invalid {
            key: "softness".into(),
            reason,
        })?;
        self.softness = softness;
        Ok(())
    }

    /// Checks every value; errors name it under `key` (e.g. `palette`).
    pub fn validate(&self, key: &str) -> Result<(), KeyError> {
        check_radius(self.softness).map_err(|reason| KeyError::Invalid {
            key: format!("{key}.softness"),
            reason,
        })?;
        for (i, s) in self.samples.iter().enumerate() {
            s.validate(&format!("{key}.samples[{i}]"))?;
        }
        Ok(())
    }

    /// The palette ready for evaluation (inverse covariances computed); validates first.
    pub fn model(&self) -> Result<KeyModel, KeyError> {
        self.validate("palette")?;
        let mut model = KeyModel {
            softness: self.softness,
            inclusion: Vec::new(),
            exclusion: Vec::new(),
        };
        for (i, s) in self.samples.iter().enumerate() {
            let e = s.ellipsoid().ok_or_else(|| KeyError::Invalid {
                key: format!("palette.samples[{i}].covariance"),
                reason: "not positive definite".into(),
            })?;
            match s.kind {
                SampleKind::Inclusion => model.inclusion.push(e),
                SampleKind::Exclusion => model.exclusion.push(e),
            }
        }
        Ok(model)
    }
}

/// YCbCr code values of every pixel of a rectangle.
pub(crate) fn region_pixels(
    frame: FrameRef<'_>,
    rect: PixelRect,
) -> Result<Vec<[f64; 3]>, KeyError> {
    frame.layout.check_buffer(frame.data.len())?;
    let (w, h) = (frame.width(), frame.height());
    let fits = rect.width > 0
        && rect.height > 0
        && rect.x.checked_add(rect.width).is_some_and(|e| e <= w)
        && rect.y.checked_add(rect.height).is_some_and(|e| e <= h);
    if !fits {
        return Err(KeyError::BadRegion {
            x: rect.x,
            y: rect.y,
            width: rect.width,
            height: rect.height,
            frame_width: w,
            frame_height: h,
        });
    }
    let mut out = Vec::with_capacity(rect.width as usize * rect.height as usize);
    for y in rect.y..rect.y + rect.height {
        for x in rect.x..rect.x + rect.width {
            out.push(frame.ycbcr_f32(x, y).map(f64::from));
        }
    }
    Ok(out)
}

#[derive(Debug, Clone)]
struct Ellipsoid {
    mean: [f64; 3],
    inverse: Mat3,
    tolerance: f64,
}

/// A validated palette ready for direct evaluation: the reference the LUT is compiled from.
#[derive(Debug, Clone)]
pub struct KeyModel {
    softness: f64,
    inclusion: Vec<Ellipsoid>,
    exclusion: Vec<Ellipsoid>,
}

/// Membership of a colour at squared Mahalanobis distance `d2` in a sample: 1 within the
/// tolerance, falling to 0 over the soft edge with a smoothstep, 0 beyond.
#[inline]
fn membership(d2: f64, tolerance: f64, softness: f64) -> f64 {
    if d2 <= tolerance * tolerance {
        return 1.0;
    }
    let outer = tolerance + softness;
    if d2 >= outer * outer {
        return 0.0;
    }
    let t = (d2.sqrt() - tolerance) / softness;
    1.0 - t * t * (3.0 - 2.0 * t)
}

impl KeyModel {
    /// The key of a colour (Y, Cb, Cr code values): the strongest inclusion membership times
    /// one minus the strongest exclusion membership, in 0..=1. So an exclusion sample forces 0
    /// within its tolerance whatever the inclusion palette says, and an empty inclusion palette
    /// keys nothing. Non-finite input keys to 0.
    pub fn key(&self, y: f64, cb: f64, cr: f64) -> f64 {
        if !(y.is_finite() && cb.is_finite() && cr.is_finite()) {
            return 0.0;
        }
        let strongest = |set: &[Ellipsoid]| {
            let mut best = 0.0_f64;
            for e in set {
                let d = [y - e.mean[0], cb - e.mean[1], cr - e.mean[2]];
                best = best.max(membership(
                    quad_form(&e.inverse, d),
                    e.tolerance,
                    self.softness,
                ));
                if best >= 1.0 {
                    break;
                }
            }
            best
        };
        let exclusion = strongest(&self.exclusion);
        if exclusion >= 1.0 {
            return 0.0;
        }
        strongest(&self.inclusion) * (1.0 - exclusion)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sphere(kind: SampleKind, mean: [f64; 3], sigma: f64, tolerance: f64) -> Sample {
        let v = sigma * sigma;
        Sample {
            kind,
            label: String::new(),
            mean,
            covariance: [[v, 0.0, 0.0], [0.0, v, 0.0], [0.0, 0.0, v]],
            tolerance,
        }
    }

    /// A palette of one inclusion sphere: mean (100, 110, 120), sd 4, tolerance 3.
    fn one_inclusion() -> Palette {
        let mut p = Palette::new();
        p.push(sphere(
            SampleKind::Inclusion,
            [100.0, 110.0, 120.0],
            4.0,
            3.0,
        ))
        .unwrap();
        p
    }

    #[test]
    fn membership_is_one_inside_zero_outside_and_half_mid_edge() {
        assert!((membership(0.0, 2.0, 1.0) - 1.0).abs() < 1e-12);
        assert!((membership(4.0, 2.0, 1.0) - 1.0).abs() < 1e-12);
        assert!((membership(2.5 * 2.5, 2.0, 1.0) - 0.5).abs() < 1e-12);
        assert!(membership(9.0, 2.0, 1.0).abs() < 1e-12);
        // Hard edge.
        assert!((membership(4.0, 2.0, 0.0) - 1.0).abs() < 1e-12);
        assert!(membership(4.01, 2.0, 0.0).abs() < 1e-12);
    }

    #[test]
    fn key_inside_and_outside_an_inclusion_sample() {
        let m = one_inclusion().model().unwrap();
        assert!((m.key(100.0, 110.0, 120.0) - 1.0).abs() < 1e-12);
        assert!((m.key(111.0, 110.0, 120.0) - 1.0).abs() < 1e-12);
        assert!(m.key(117.0, 110.0, 120.0) < 1e-12);
        assert!(m.key(f64::NAN, 110.0, 120.0) < 1e-12);
    }

    #[test]
    fn set_tolerance_rejects_bad_values_and_unknown_samples() {
        let mut p = one_inclusion();
        assert!(p.set_tolerance(0, 4.0).is_ok());
        assert!((p.samples[0].tolerance - 4.0).abs() < 1e-12);
        assert!(p.set_tolerance(0, -1.0).is_err());
        assert!(p.set_tolerance(0, f64::NAN).is_err());
        assert!(p.set_tolerance(1, 2.0).is_err());
        assert!(p.set_softness(-0.5).is_err());
        assert!(p.set_softness(0.0).is_ok());
    }
}
