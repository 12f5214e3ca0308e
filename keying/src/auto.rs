//! Automatic initial palette: k-means in YCbCr over the pixels inside the projected field.

use crate::error::KeyError;
use crate::palette::{
    DEFAULT_INCLUSION_TOLERANCE, DEFAULT_SOFTNESS, MIN_SAMPLE_PIXELS, Palette, Sample, SampleKind,
};
use yardline_frame::FrameRef;

/// Seed of the k-means++ seeding (fixed, so the same frame always gives the same palette).
const KMEANS_SEED: u64 = 0x5eed_f1e1_d000_0001;
/// Lloyd iterations at most.
const KMEANS_MAX_ITERATIONS: usize = 60;
/// A pixel counts as keyed by the surface clusters at this key.
const KEYED_THRESHOLD: f64 = 0.5;
/// A mixture or a brighter surface counts as already in the palette when keyed at least this:
/// a colour keyed just above [`KEYED_THRESHOLD`] between two samples keys lower once the LUT's
/// trilinear interpolation averages the dip round it, and the light varies about it.
const COVERED_KEY: f64 = 0.99;
/// Two surface clusters are the same surface in different light when their colours, as
/// offsets from black, point this close to the same way (cosine).
const SAME_LIGHT_COSINE: f64 = 0.98;
/// Light gains of the brightest surface cluster that [`auto_palette`] adds as samples.
const HEADROOM_GAINS: [f64; 2] = [1.08, 1.16];
/// Light gains of the darkest surface cluster that [`auto_palette`] adds as samples.
const FOOTROOM_GAINS: [f64; 2] = [0.92, 0.85];
/// Rounds of the search for paint among the pixels the palette leaves unkeyed (a paint
/// colour that shared a cluster with players in one round stands apart in the next).
const RESIDUAL_ROUNDS: usize = 2;
/// Fewest field pixels to estimate a palette from.
const MIN_FIELD_PIXELS: usize = 256;

/// Knobs of [`auto_palette`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AutoPaletteOptions {
    /// k-means clusters over all sampled field pixels (count); the large ones become surface
    /// samples (grass in sun, in shadow, mowing stripes).
    pub surface_clusters: usize,
    /// k-means clusters over the sampled pixels the surface samples leave unkeyed (count);
    /// paint-like ones become paint samples.
    pub residual_clusters: usize,
    /// Field pixels sampled at most (count; an even grid over the mask).
    pub max_pixels: usize,
    /// Share of the sampled field pixels a cluster needs to be taken as surface (0..=1).
    pub min_surface_fraction: f64,
    /// Share of the sampled field pixels a paint cluster needs (0..=1).
    pub min_paint_fraction: f64,
    /// A paint cluster is at least this much brighter than the darkest surface cluster
    /// (luma code values).
    pub paint_luma_margin: f64,
    /// A paint cluster's chroma lies at most this far from neutral (128, 128) (code values).
    pub paint_max_chroma: f64,
    /// Tolerance of every sample made (Mahalanobis radius, standard deviations).
    pub tolerance: f64,
    /// Softness of the palette (Mahalanobis units).
    pub softness: f64,
    /// Look for paint among the pixels the surface leaves unkeyed and add it to the palette
    /// (off when the paint has a palette of its own, [`auto_paint_palette`]).
    pub find_paint: bool,
    /// Share of the pixels on the paint a cluster needs to be taken as paint by
    /// [`auto_paint_palette`] (0..=1; players standing on the paint are smaller clusters).
    pub min_share_on_paint: f64,
}

impl Default for AutoPaletteOptions {
    fn default() -> Self {
        Self {
            surface_clusters: 6,
            residual_clusters: 5,
            max_pixels: 60_000,
            min_surface_fraction: 0.04,
            min_paint_fraction: 0.002,
            paint_luma_margin: 30.0,
            paint_max_chroma: 24.0,
            tolerance: DEFAULT_INCLUSION_TOLERANCE,
            softness: DEFAULT_SOFTNESS,
            find_paint: true,
            min_share_on_paint: 0.03,
        }
    }
}

/// Mixing ratios of the edge samples between each surface and each paint colour.
const EDGE_MIXES: [f64; 3] = [0.25, 0.5, 0.75];

/// Mixing ratios (luma, chroma) of the edge samples whose luma and chroma mix the surface and
/// the paint in different shares: a pixel's own luma with the chroma of a subsampled site it
/// shares with its neighbours (4:2:2, 4:2:0), at a painted marking's edge. Only the shares a
/// site can give: the pixel's own share is one of the (at most four) pixels its chroma is the
/// mean of, so a pixel partly on the paint never shows chroma all grass or all paint (a grey
/// or a light green between grass and paint stays out).
const SPLIT_MIXES: [(f64, f64); 12] = [
    (0.0, 0.25),
    (0.0, 0.5),
    (0.0, 0.75),
    (0.25, 0.5),
    (0.25, 0.75),
    (0.5, 0.25),
    (0.5, 0.75),
    (0.75, 0.25),
    (0.75, 0.5),
    (1.0, 0.25),
    (1.0, 0.5),
    (1.0, 0.75),
];

/// [`auto_palette`] with the field given as one bool per pixel (row-major, true = field).
pub fn auto_palette_from_mask(
    frame: FrameRef<'_>,
    mask: &[bool],
    options: &AutoPaletteOptions,
) -> Result<Palette, KeyError> {
    let w = frame.width() as usize;
    let expected = w * frame.height() as usize;
    if mask.len() != expected {
        return Err(KeyError::MaskSize {
            found: mask.len(),
            expected,
        });
    }
    auto_palette(frame, |x, y| mask[y as usize * w + x as usize], options)
}

/// An initial inclusion palette from a frame and the field's extent (`is_field(x, y)`, e.g.
/// inside the projected field polygon): k-means (deterministic k-means++ seeding) in YCbCr over
/// an even sample of the field pixels; clusters holding at least `min_surface_fraction` of
/// them become surface samples (sun and shadow grass land in separate clusters because their
/// luma differs by far more than their spread), and surface clusters in the same light-scaled
/// chromaticity get their 1/4, 1/2, 3/4 mixtures (a shadow's soft edge) where those are not
/// keyed yet. A second k-means over the pixels those samples
/// leave unkeyed finds paint: clusters brighter than the darkest surface by
/// `paint_luma_margin`, near-neutral in chroma and holding at least `min_paint_fraction`.
/// Players inside the field are small clusters and are left out; uniforms that look like paint
/// need an exclusion sample. Every sample is estimated with robust statistics.
pub fn auto_palette(
    frame: FrameRef<'_>,
    is_field: impl Fn(u32, u32) -> bool,
    options: &AutoPaletteOptions,
) -> Result<Palette, KeyError> {
    check_options(options)?;
    frame.layout.check_buffer(frame.data.len())?;
    let points = sample_field(frame, &is_field, options.max_pixels);
    auto_palette_from_points(&points, options)
}

/// The colours (Y, Cb, Cr code values) of an even grid of the pixels `pick(x, y)` selects, at
/// most about `max_pixels` of them: what [`auto_palette`] and [`auto_paint_palette`] learn
/// from. The grid's column phase shifts from row to row so it does not alias with stripes.
/// Points of several frames pooled give [`auto_palette_from_points`] more than one view.
pub fn field_points(
    frame: FrameRef<'_>,
    pick: impl Fn(u32, u32) -> bool,
    max_pixels: usize,
) -> Result<Vec<[f64; 3]>, KeyError> {
    frame.layout.check_buffer(frame.data.len())?;
    Ok(sample_field(frame, &pick, max_pixels))
}

/// [`auto_palette`] from field colours already sampled ([`field_points`], maybe of several
/// frames).
pub fn auto_palette_from_points(
    points: &[[f64; 3]],
    options: &AutoPaletteOptions,
) -> Result<Palette, KeyError> {
    check_options(options)?;
    if points.len() < MIN_FIELD_PIXELS {
        return Err(KeyError::TooFewPixels {
            what: "automatic palette (field pixels)",
            found: points.len(),
            needed: MIN_FIELD_PIXELS,
        });
    }
    let n = points.len() as f64;
    let mut palette = Palette {
        softness: options.softness,
        samples: Vec::new(),
    };

    let clusters = kmeans(points, options.surface_clusters);
    let mut surface: Vec<Sample> = Vec::new();
    for members in clusters {
        if members.len() as f64 >= options.min_surface_fraction * n
            && members.len() >= MIN_SAMPLE_PIXELS
        {
            surface.push(Sample::from_pixels(
                SampleKind::Inclusion,
                "surface",
                &members,
                options.tolerance,
            )?);
        }
    }
    surface.sort_by(|a, b| a.mean[0].total_cmp(&b.mean[0]));
    let darkest = surface.first().map_or(0.0, |s| s.mean[0]);
    for s in &mut surface {
        s.label = format!("surface Y={:.0}", s.mean[0]);
    }
    palette.samples.extend(surface);
    add_penumbra(&mut palette, darkest, options)?;
    add_headroom(&mut palette, darkest, options)?;
    add_footroom(&mut palette, darkest, options)?;
    if !options.find_paint {
        palette.validate("palette")?;
        return Ok(palette);
    }

    let min_paint = (options.min_paint_fraction * n).max(MIN_SAMPLE_PIXELS as f64);
    for _ in 0..RESIDUAL_ROUNDS {
        let model = palette.model()?;
        let residual: Vec<[f64; 3]> = points
            .iter()
            .copied()
            .filter(|p| model.key(p[0], p[1], p[2]) < KEYED_THRESHOLD)
            .collect();
        if (residual.len() as f64) < min_paint {
            break;
        }
        let mut extra = Vec::new();
        for members in kmeans(&residual, options.residual_clusters) {
            if (members.len() as f64) < min_paint {
                continue;
            }
            let s = Sample::from_pixels(SampleKind::Inclusion, "", &members, options.tolerance)?;
            if members.len() as f64 >= options.min_surface_fraction * n {
                extra.push(Sample {
                    label: format!("surface Y={:.0}", s.mean[0]),
                    ..s
                });
            } else if paint_like(&s, darkest, options) {
                extra.push(Sample {
                    label: format!("paint Y={:.0}", s.mean[0]),
                    ..s
                });
            }
        }
        if extra.is_empty() {
            break;
        }
        extra.sort_by(|a, b| a.mean[0].total_cmp(&b.mean[0]));
        palette.samples.extend(extra);
    }
    palette.validate("palette")?;
    Ok(palette)
}

/// The palette of the painted markings ([`crate::PaintKey`]) from a frame: the inclusion
/// samples of `surface` (the grass the paint lies on), paint found by k-means over the pixels
/// `on_paint(x, y)` selects (well inside the markings as the camera sees them: clusters with
/// at least `min_share_on_paint` of those pixels, brighter than the darkest surface by
/// `paint_luma_margin` and near-neutral in chroma), and for each surface and paint pair the
/// colours of their mixtures at 1/4, 1/2 and 3/4 (the anti-aliased edge of a painted line,
/// which neither colour keys on its own), also with luma and chroma mixed in different shares
/// (subsampled chroma at the edge). Every sample made is an inclusion.
pub fn auto_paint_palette(
    frame: FrameRef<'_>,
    surface: &Palette,
    on_paint: impl Fn(u32, u32) -> bool,
    options: &AutoPaletteOptions,
) -> Result<Palette, KeyError> {
    frame.layout.check_buffer(frame.data.len())?;
    let points = sample_field(frame, &on_paint, options.max_pixels);
    auto_paint_palette_from_points(surface, &points, options)
}

/// [`auto_paint_palette`] from the colours of pixels on the paint already sampled
/// ([`field_points`], maybe of several frames).
pub fn auto_paint_palette_from_points(
    surface: &Palette,
    points: &[[f64; 3]],
    options: &AutoPaletteOptions,
) -> Result<Palette, KeyError> {
    check_options(options)?;
    surface.validate("surface")?;
    let grass: Vec<Sample> = surface.inclusion().cloned().collect();
    if grass.is_empty() {
        return Err(KeyError::Invalid {
            key: "surface".into(),
            reason: "has no inclusion sample".into(),
        });
    }
    if points.len() < MIN_SAMPLE_PIXELS {
        return Err(KeyError::TooFewPixels {
            what: "automatic paint palette (pixels on the paint)",
            found: points.len(),
            needed: MIN_SAMPLE_PIXELS,
        });
    }
    let darkest = grass
        .iter()
        .map(|s| s.mean[0])
        .fold(f64::INFINITY, f64::min);
    let min_members =
        (options.min_share_on_paint * points.len() as f64).max(MIN_SAMPLE_PIXELS as f64);
    let mut paint = Vec::new();
    for members in kmeans(points, options.residual_clusters) {
        if (members.len() as f64) < min_members {
            continue;
        }
        let s = Sample::from_pixels(SampleKind::Inclusion, "", &members, options.tolerance)?;
        if paint_like(&s, darkest, options) {
            paint.push(Sample {
                label: format!("paint Y={:.0}", s.mean[0]),
                ..s
            });
        }
    }
    if paint.is_empty() {
        return Err(KeyError::Invalid {
            key: "paint".into(),
            reason: "no paint-like colour on the painted markings".into(),
        });
    }
    paint.sort_by(|a, b| a.mean[0].total_cmp(&b.mean[0]));
    if let Some(clipped) = paint.last().and_then(clipped_paint) {
        paint.push(clipped);
    }
    let mut palette = Palette {
        softness: options.softness,
        samples: grass.clone(),
    };
    for p in &paint {
        for g in &grass {
            palette
                .samples
                .extend(EDGE_MIXES.iter().map(|&t| mixture(g, p, t)));
            palette.samples.extend(
                SPLIT_MIXES
                    .iter()
                    .map(|&(t_luma, t_chroma)| split_mixture(g, p, t_luma, t_chroma)),
            );
        }
    }
    palette.samples.extend(paint);
    palette.validate("paint palette")?;
    Ok(palette)
}

/// The brightest paint in more light than the frame showed, where that would clip: white
/// (Y 235, neutral) with the paint's spread, as a sunlit marking comes out of the camera.
fn clipped_paint(paint: &Sample) -> Option<Sample> {
    let gain = HEADROOM_GAINS[HEADROOM_GAINS.len() - 1];
    let y = BLACK[0] + (paint.mean[0] - BLACK[0]) * gain;
    (y > WHITE[0] && paint.mean[0] < WHITE[0] - 1.0).then(|| Sample {
        label: format!("paint clipped Y={:.0}", WHITE[0]),
        mean: WHITE,
        ..paint.clone()
    })
}

/// Adds, between each pair of surface clusters of neighbouring luma that differ only in light
/// (grass in sun and in shadow: the same chromaticity, `(Y - 16, Cb - 128, Cr - 128)` scaled;
/// paint-like clusters left out), their mixtures at 1/4, 1/2 and 3/4 that the palette does not
/// key yet: the grass in a shadow's soft edge, which lies between the two.
fn add_penumbra(
    palette: &mut Palette,
    darkest: f64,
    options: &AutoPaletteOptions,
) -> Result<(), KeyError> {
    let lit: Vec<Sample> = palette
        .samples
        .iter()
        .filter(|s| !paint_like(s, darkest, options))
        .cloned()
        .collect();
    let model = palette.model()?;
    for pair in lit.windows(2) {
        let [a, b] = [&pair[0], &pair[1]].map(|s| offset_from_black(&s.mean));
        let dot = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
        let norm = |v: [f64; 3]| (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
        if dot < SAME_LIGHT_COSINE * norm(a) * norm(b) {
            continue;
        }
        for &t in &EDGE_MIXES {
            let m = mixture(&pair[0], &pair[1], t);
            if model.key(m.mean[0], m.mean[1], m.mean[2]) < COVERED_KEY {
                palette.samples.push(Sample {
                    label: format!("surface penumbra {:.0}% Y={:.0}", 100.0 * t, m.mean[0]),
                    ..m
                });
            }
        }
    }
    Ok(())
}

/// Adds the brightest surface cluster (paint-like ones left out) in more light than the frame
/// showed, its colour's offset from black scaled by each of [`HEADROOM_GAINS`], where the
/// palette does not key it fully yet: the same grass on the sunlit end of the field or when a
/// cloud passes, which a palette made from one frame would otherwise key out.
fn add_headroom(
    palette: &mut Palette,
    darkest: f64,
    options: &AutoPaletteOptions,
) -> Result<(), KeyError> {
    add_in_other_light(palette, darkest, options, &HEADROOM_GAINS, "brighter")
}

/// Adds the darkest surface cluster in less light than the frame showed (gains
/// [`FOOTROOM_GAINS`]) where the palette does not key it fully yet: the deepest shadow, darker
/// at the far end of the field than where the frame sampled it.
fn add_footroom(
    palette: &mut Palette,
    darkest: f64,
    options: &AutoPaletteOptions,
) -> Result<(), KeyError> {
    add_in_other_light(palette, darkest, options, &FOOTROOM_GAINS, "darker")
}

/// Adds the brightest (`gains` above 1) or darkest (below 1) surface cluster, paint-like ones
/// left out, with its offset from black scaled by each gain (its spread with it), labelled
/// `what`, where that colour is within code values and not keyed fully yet.
fn add_in_other_light(
    palette: &mut Palette,
    darkest: f64,
    options: &AutoPaletteOptions,
    gains: &[f64],
    what: &str,
) -> Result<(), KeyError> {
    let surfaces = palette
        .samples
        .iter()
        .filter(|s| s.kind == SampleKind::Inclusion && !paint_like(s, darkest, options));
    let by_luma = |a: &&Sample, b: &&Sample| a.mean[0].total_cmp(&b.mean[0]);
    let brighter = gains.first().is_some_and(|&g| g > 1.0);
    let Some(base) = (if brighter {
        surfaces.max_by(by_luma)
    } else {
        surfaces.min_by(by_luma)
    })
    .cloned() else {
        return Ok(());
    };
    let model = palette.model()?;
    let offset = offset_from_black(&base.mean);
    for &gain in gains {
        let mean: [f64; 3] = std::array::from_fn(|i| BLACK[i] + offset[i] * gain);
        if mean[0] > WHITE[0] || model.key(mean[0], mean[1], mean[2]) >= COVERED_KEY {
            continue;
        }
        let covariance = base.covariance.map(|row| row.map(|v| v * gain * gain));
        palette.samples.push(Sample {
            label: format!("surface {what} x{gain:.2} Y={:.0}", mean[0]),
            mean,
            covariance,
            ..base.clone()
        });
    }
    Ok(())
}

/// Black in limited-range YCbCr code values: light scales a surface's colour about it.
const BLACK: [f64; 3] = [16.0, 128.0, 128.0];
/// White in limited-range YCbCr code values: where bright paint clips.
const WHITE: [f64; 3] = [235.0, 128.0, 128.0];

/// A colour's offset from [`BLACK`] (its direction is the surface's chromaticity).
fn offset_from_black(c: &[f64; 3]) -> [f64; 3] {
    std::array::from_fn(|i| c[i] - BLACK[i])
}

/// Whether a cluster looks like paint: brighter than the darkest surface by
/// `paint_luma_margin` and within `paint_max_chroma` of neutral.
fn paint_like(s: &Sample, darkest_surface: f64, options: &AutoPaletteOptions) -> bool {
    let [_, cb, cr] = offset_from_black(&s.mean);
    let chroma = cb.hypot(cr);
    s.mean[0] >= darkest_surface + options.paint_luma_margin && chroma <= options.paint_max_chroma
}

/// The colours of `a` and `b` mixed `1 - t : t` (a pixel straddling both): the blended mean,
/// the blended spread, plus spread along the a-b segment so neighbouring mixtures overlap.
fn mixture(a: &Sample, b: &Sample, t: f64) -> Sample {
    let mean: [f64; 3] = std::array::from_fn(|i| a.mean[i] + (b.mean[i] - a.mean[i]) * t);
    let d: [f64; 3] = std::array::from_fn(|i| b.mean[i] - a.mean[i]);
    let len = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
    // Half the gap to the next mixture, reached at the tolerance radius.
    let along = 0.5 * 0.25 * len / a.tolerance.max(1.0);
    let (wa, wb) = ((1.0 - t) * (1.0 - t), t * t);
    let covariance = std::array::from_fn(|r| {
        std::array::from_fn(|c| {
            let dd = if len > 0.0 {
                d[r] * d[c] / (len * len)
            } else {
                0.0
            };
            wa * a.covariance[r][c] + wb * b.covariance[r][c] + along * along * dd
        })
    });
    Sample {
        kind: SampleKind::Inclusion,
        label: format!("edge {:.0}% Y={:.0}", 100.0 * t, mean[0]),
        mean,
        covariance,
        tolerance: a.tolerance,
    }
}

/// [`mixture`] with the luma mixed `1 - t_luma : t_luma` and the chroma `1 - t_chroma :
/// t_chroma`.
fn split_mixture(a: &Sample, b: &Sample, t_luma: f64, t_chroma: f64) -> Sample {
    let mut s = mixture(a, b, 0.5 * (t_luma + t_chroma));
    s.mean[0] = a.mean[0] + (b.mean[0] - a.mean[0]) * t_luma;
    for i in 1..3 {
        s.mean[i] = a.mean[i] + (b.mean[i] - a.mean[i]) * t_chroma;
    }
    s.label = format!(
        "edge {:.0}% luma {:.0}% chroma Y={:.0}",
        100.0 * t_luma,
        100.0 * t_chroma,
        s.mean[0]
    );
    s
}

fn check_options(o: &AutoPaletteOptions) -> Result<(), KeyError> {
    let bad = |key: &str, reason: String| {
        Err(KeyError::Invalid {
            key: format!("auto_palette.{key}"),
            reason,
        })
    };
    if o.surface_clusters == 0 {
        return bad("surface_clusters", "must be at least 1".into());
    }
    if o.max_pixels < MIN_FIELD_PIXELS {
        return bad(
            "max_pixels",
            format!("{} is below {MIN_FIELD_PIXELS}", o.max_pixels),
        );
    }
    for (key, v) in [
        ("min_surface_fraction", o.min_surface_fraction),
        ("min_paint_fraction", o.min_paint_fraction),
        ("min_share_on_paint", o.min_share_on_paint),
    ] {
        if !(0.0..=1.0).contains(&v) {
            return bad(key, format!("{v} is outside 0..=1"));
        }
    }
    for (key, v) in [
        ("paint_luma_margin", o.paint_luma_margin),
        ("paint_max_chroma", o.paint_max_chroma),
        ("tolerance", o.tolerance),
        ("softness", o.softness),
    ] {
        if !v.is_finite() || v < 0.0 {
            return bad(key, format!("{v} must be finite and >= 0"));
        }
    }
    Ok(())
}

/// YCbCr of an even grid of field pixels, at most about `max_pixels` of them. The grid's
/// column phase shifts from row to row so it does not alias with vertical stripes.
fn sample_field(
    frame: FrameRef<'_>,
    is_field: &impl Fn(u32, u32) -> bool,
    max_pixels: usize,
) -> Vec<[f64; 3]> {
    let (w, h) = (frame.width(), frame.height());
    let mut count = 0_usize;
    for y in 0..h {
        for x in 0..w {
            count += usize::from(is_field(x, y));
        }
    }
    let step = ((count as f64 / max_pixels as f64).sqrt().ceil() as u32).max(1);
    let mut points = Vec::with_capacity(count / (step * step) as usize + 1);
    for (row_index, y) in (0..h).step_by(step as usize).enumerate() {
        let phase = (row_index as u32 * 7) % step;
        for x in (phase..w).step_by(step as usize) {
            if is_field(x, y) {
                points.push(frame.ycbcr_f32(x, y).map(f64::from));
            }
        }
    }
    points
}

/// `SplitMix64`: a tiny deterministic generator for the seeding.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1_u64 << 53) as f64
    }
}

fn dist2(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)
}

fn nearest(centres: &[[f64; 3]], p: &[f64; 3]) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (i, c) in centres.iter().enumerate() {
        let d = dist2(c, p);
        if d < best.1 {
            best = (i, d);
        }
    }
    best
}

/// k-means (Lloyd) with k-means++ seeding from a fixed seed; returns each cluster's members
/// (clusters that end empty are dropped).
fn kmeans(points: &[[f64; 3]], k: usize) -> Vec<Vec<[f64; 3]>> {
    let k = k.min(points.len());
    if k == 0 {
        return Vec::new();
    }
    let mut rng = SplitMix64(KMEANS_SEED);
    let mut centres = vec![points[(rng.next() % points.len() as u64) as usize]];
    let mut d2: Vec<f64> = points.iter().map(|p| dist2(p, &centres[0])).collect();
    while centres.len() < k {
        let total: f64 = d2.iter().sum();
        if total <= 0.0 {
            break;
        }
        let mut target = rng.unit() * total;
        let mut pick = points.len() - 1;
        for (i, &d) in d2.iter().enumerate() {
            target -= d;
            if target < 0.0 {
                pick = i;
                break;
            }
        }
        let c = points[pick];
        centres.push(c);
        for (d, p) in d2.iter_mut().zip(points) {
            *d = d.min(dist2(p, &c));
        }
    }
    let mut labels = vec![usize::MAX; points.len()];
    for _ in 0..KMEANS_MAX_ITERATIONS {
        let mut changed = false;
        for (l, p) in labels.iter_mut().zip(points) {
            let (i, _) = nearest(&centres, p);
            if *l != i {
                *l = i;
                changed = true;
            }
        }
        if !changed {
            break;
        }
        let mut sums = vec![[0.0; 3]; centres.len()];
        let mut counts = vec![0_usize; centres.len()];
        for (&l, p) in labels.iter().zip(points) {
            counts[l] += 1;
            for c in 0..3 {
                sums[l][c] += p[c];
            }
        }
        for ((c, s), &m) in centres.iter_mut().zip(&sums).zip(&counts) {
            if m > 0 {
                *c = s.map(|v| v / m as f64);
            }
        }
    }
    let mut members = vec![Vec::new(); centres.len()];
    for (&l, p) in labels.iter().zip(points) {
        members[l].push(*p);
    }
    members.retain(|m| !m.is_empty());
    members
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kmeans_separates_two_blobs_deterministically() {
        let mut pts = Vec::new();
        for i in 0..200 {
            let j = f64::from(i % 5);
            pts.push([50.0 + j, 100.0 + j * 0.5, 110.0]);
            pts.push([150.0 - j, 90.0, 100.0 + j * 0.5]);
        }
        let a = kmeans(&pts, 2);
        let b = kmeans(&pts, 2);
        assert_eq!(a, b);
        assert_eq!(a.len(), 2);
        assert!(a.iter().all(|m| m.len() == 200));
        assert!(a.iter().all(|m| {
            let bright = m[0][0] > 100.0;
            m.iter().all(|p| (p[0] > 100.0) == bright)
        }));
    }
}
