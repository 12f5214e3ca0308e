//! Zoom lens table: intrinsics and nodal shift as functions of the FreeD zoom counts.
//!
//! Each parameter (fx, fy, cx, cy, k1, k2, nodal shift) is interpolated in zoom counts by
//! PCHIP (piecewise cubic Hermite with Fritsch–Carlson slopes, as SciPy's
//! `PchipInterpolator`): it passes through every table point, is C1, and never overshoots: a
//! parameter that is monotone between two points stays monotone and within their values.
//! Outside the table the end values hold (clamped). The table's pixel values are for a
//! `width` x `height` image and are scaled to other sizes by `s = new / old` per axis:
//! `fx * s`, `(cx + 0.5) * s - 0.5`.

#![allow(
    clippy::doc_markdown,
    reason = "FreeD and SciPy are product names, not code identifiers"
)]

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::geometry::Intrinsics;
use crate::tracking::SampleLens;
use crate::tracking::freed::{U24_MAX, ZoomProfile};
use crate::tracking::opentrackio::{FIT_TOLERANCE_PX, FullDistortion};

/// Fewest points a lens table may have.
pub const MIN_LENS_POINTS: usize = 2;
/// Number of interpolated parameters per point.
const CHANNELS: usize = 7;

/// A lens table is unusable, or a query cannot be answered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{key}: {reason}")]
pub struct LensError {
    /// The offending key, relative to the lens table (`points[2].fx`, `width`, ...).
    pub key: String,
    /// What is wrong with it.
    pub reason: String,
}

fn lens_err(key: impl Into<String>, reason: impl Into<String>) -> LensError {
    LensError {
        key: key.into(),
        reason: reason.into(),
    }
}

/// One calibrated zoom position. In `venue.toml` it is a `[[camera.lens.points]]` row with
/// the flat keys `zoom`, `fx`, `fy`, `cx`, `cy`, `k1`, `k2`, `nodal_shift_m`; any other key is an
/// error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(from = "LensPointRow", into = "LensPointRow")]
pub struct LensPoint {
    /// Zoom position (raw FreeD zoom counts).
    pub zoom: f64,
    /// Focal lengths and principal point (pixels, at the table's image size) and radial
    /// distortion.
    pub intrinsics: Intrinsics,
    /// Optical centre offset along the optical axis from the head's rotation centre
    /// (metres, + forward).
    pub nodal_shift_m: f64,
}

impl LensPoint {
    fn channels(&self) -> [f64; CHANNELS] {
        let k = &self.intrinsics;
        [k.fx, k.fy, k.cx, k.cy, k.k1, k.k2, self.nodal_shift_m]
    }
}

/// A [`LensPoint`] as its `venue.toml` row: flat keys, unknown keys refused (the error names
/// the key and where it stands).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LensPointRow {
    zoom: f64,
    fx: f64,
    fy: f64,
    cx: f64,
    cy: f64,
    k1: f64,
    k2: f64,
    nodal_shift_m: f64,
}

impl From<LensPointRow> for LensPoint {
    fn from(r: LensPointRow) -> Self {
        Self {
            zoom: r.zoom,
            intrinsics: Intrinsics {
                fx: r.fx,
                fy: r.fy,
                cx: r.cx,
                cy: r.cy,
                k1: r.k1,
                k2: r.k2,
            },
            nodal_shift_m: r.nodal_shift_m,
        }
    }
}

impl From<LensPoint> for LensPointRow {
    fn from(p: LensPoint) -> Self {
        let k = p.intrinsics;
        Self {
            zoom: p.zoom,
            fx: k.fx,
            fy: k.fy,
            cx: k.cx,
            cy: k.cy,
            k1: k.k1,
            k2: k.k2,
            nodal_shift_m: p.nodal_shift_m,
        }
    }
}

/// Lens state at one zoom position, for one image size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LensState {
    /// Intrinsics (pixels, at the requested image size).
    pub intrinsics: Intrinsics,
    /// Optical centre offset along the optical axis (metres, + forward).
    pub nodal_shift_m: f64,
}

/// A validated zoom lens table with precomputed PCHIP slopes.
#[derive(Debug, Clone, PartialEq)]
pub struct LensTable {
    width: u32,
    height: u32,
    zoom_profile: ZoomProfile,
    points: Vec<LensPoint>,
    /// PCHIP slope of each channel at each point (channel units per zoom count).
    slopes: Vec<[f64; CHANNELS]>,
    /// Active sensor width of a camera whose lens comes from its tracking data, with no
    /// points (mm).
    sensor_width_mm: Option<f64>,
}

/// Tracking lenses whose two-term fit missed their full distortion model by more than
/// [`FIT_TOLERANCE_PX`] somewhere in the image, since the process started.
static POOR_DISTORTION_FITS: AtomicU64 = AtomicU64::new(0);

/// How many tracking lenses' two-term distortion fits missed their full model by more than
/// [`FIT_TOLERANCE_PX`] somewhere in the image (process-wide, since start).
pub fn poor_distortion_fits() -> u64 {
    POOR_DISTORTION_FITS.load(Ordering::Relaxed)
}

/// The engine's k1, k2 fitted to a tracking lens's full model `full` over a `width` x `height`
/// image of focal length `f_px`; a fit off by more than [`FIT_TOLERANCE_PX`] is counted, and
/// logged on the first and then every power-of-two count.
fn fitted_radial(
    full: &FullDistortion,
    f_px: f64,
    width: u32,
    height: u32,
) -> Result<(f64, f64), LensError> {
    let half = [f64::from(width) / 2.0, f64::from(height) / 2.0];
    let fit = full
        .fit_two_term(f_px, half)
        .ok_or_else(|| lens_err("tracking", format!("cannot fit k1, k2 to {full:?}")))?;
    if fit.max_residual_px > FIT_TOLERANCE_PX {
        let n = POOR_DISTORTION_FITS.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_power_of_two() {
            tracing::warn!(
                "the tracking lens's distortion {full:?} is {:.2} px from the best two-term                  model (k1 {:.5}, k2 {:.5}) at worst over {width}x{height} ({n} such fits)",
                fit.max_residual_px,
                fit.k1,
                fit.k2
            );
        }
    }
    Ok((fit.k1, fit.k2))
}

/// Slope at an end point (SciPy's shape-preserving three-point formula).
fn end_slope(h0: f64, h1: f64, m0: f64, m1: f64) -> f64 {
    let d = ((2.0 * h0 + h1) * m0 - h0 * m1) / (h0 + h1);
    if m0 == 0.0 || d * m0 <= 0.0 {
        0.0
    } else if m0 * m1 < 0.0 && d.abs() > 3.0 * m0.abs() {
        3.0 * m0
    } else {
        d
    }
}

/// PCHIP slopes for strictly increasing `x` (at least two points).
pub fn pchip_slopes(x: &[f64], y: &[f64]) -> Vec<f64> {
    let n = x.len().min(y.len());
    if n < 2 {
        return vec![0.0; n];
    }
    let h: Vec<f64> = (0..n - 1).map(|k| x[k + 1] - x[k]).collect();
    let m: Vec<f64> = (0..n - 1).map(|k| (y[k + 1] - y[k]) / h[k]).collect();
    if n == 2 {
        return vec![m[0]; 2];
    }
    let mut d = vec![0.0; n];
    for k in 1..n - 1 {
        if m[k - 1] * m[k] > 0.0 {
            let w1 = 2.0 * h[k] + h[k - 1];
            let w2 = h[k] + 2.0 * h[k - 1];
            d[k] = (w1 + w2) / (w1 / m[k - 1] + w2 / m[k]);
        }
    }
    d[0] = end_slope(h[0], h[1], m[0], m[1]);
    d[n - 1] = end_slope(h[n - 2], h[n - 3], m[n - 2], m[n - 3]);
    d
}

/// Cubic Hermite on one interval: values `y0`, `y1`, slopes `d0`, `d1`, width `h`, `t` in 0..=1.
#[inline]
fn hermite(y0: f64, y1: f64, d0: f64, d1: f64, h: f64, t: f64) -> f64 {
    let t2 = t * t;
    let t3 = t2 * t;
    (2.0 * t3 - 3.0 * t2 + 1.0) * y0
        + (t3 - 2.0 * t2 + t) * h * d0
        + (-2.0 * t3 + 3.0 * t2) * y1
        + (t3 - t2) * h * d1
}

/// Evaluates a PCHIP (from [`pchip_slopes`]) at `xq`, clamped to the end values outside.
pub fn pchip_eval(x: &[f64], y: &[f64], d: &[f64], xq: f64) -> f64 {
    let n = x.len().min(y.len()).min(d.len());
    if n == 0 {
        return f64::NAN;
    }
    if n == 1 || xq <= x[0] {
        return y[0];
    }
    if xq >= x[n - 1] {
        return y[n - 1];
    }
    let k = x[..n]
        .partition_point(|v| *v <= xq)
        .saturating_sub(1)
        .min(n - 2);
    let h = x[k + 1] - x[k];
    hermite(y[k], y[k + 1], d[k], d[k + 1], h, (xq - x[k]) / h)
}

impl LensTable {
    /// Validates and builds a table: `width`, `height` > 0; at least two points; every value
    /// finite; zoom strictly increasing within 0..=2^24-1; fx, fy > 0; fx strictly increasing
    /// with zoom; a valid zoom profile.
    pub fn new(
        width: u32,
        height: u32,
        zoom_profile: ZoomProfile,
        points: Vec<LensPoint>,
    ) -> Result<Self, LensError> {
        if width == 0 {
            return Err(lens_err("width", "must be > 0"));
        }
        if height == 0 {
            return Err(lens_err("height", "must be > 0"));
        }
        if !zoom_profile.is_valid() {
            return Err(lens_err(
                "zoom_profile",
                "ranges must have min < max <= 16777215",
            ));
        }
        if points.len() < MIN_LENS_POINTS {
            return Err(lens_err(
                "points",
                format!(
                    "needs at least {MIN_LENS_POINTS} points, has {}",
                    points.len()
                ),
            ));
        }
        for (i, p) in points.iter().enumerate() {
            let k = &p.intrinsics;
            let named = [
                ("zoom", p.zoom),
                ("fx", k.fx),
                ("fy", k.fy),
                ("cx", k.cx),
                ("cy", k.cy),
                ("k1", k.k1),
                ("k2", k.k2),
                ("nodal_shift_m", p.nodal_shift_m),
            ];
            for (name, v) in named {
                if !v.is_finite() {
                    return Err(lens_err(format!("points[{i}].{name}"), "must be finite"));
                }
            }
            if p.zoom < 0.0 || p.zoom > f64::from(U24_MAX) {
                return Err(lens_err(
                    format!("points[{i}].zoom"),
                    format!("{} is outside 0..=16777215 counts", p.zoom),
                ));
            }
            if k.fx <= 0.0 {
                return Err(lens_err(format!("points[{i}].fx"), "must be > 0"));
            }
            if k.fy <= 0.0 {
                return Err(lens_err(format!("points[{i}].fy"), "must be > 0"));
            }
            if i > 0 {
                let q = &points[i - 1];
                if p.zoom <= q.zoom {
                    return Err(lens_err(
                        format!("points[{i}].zoom"),
                        format!(
                            "points must be sorted by strictly increasing zoom ({} after {})",
                            p.zoom, q.zoom
                        ),
                    ));
                }
                if k.fx <= q.intrinsics.fx {
                    return Err(lens_err(
                        format!("points[{i}].fx"),
                        format!(
                            "fx must increase with zoom ({} after {})",
                            k.fx, q.intrinsics.fx
                        ),
                    ));
                }
            }
        }
        let x: Vec<f64> = points.iter().map(|p| p.zoom).collect();
        let mut slopes = vec![[0.0; CHANNELS]; points.len()];
        for c in 0..CHANNELS {
            let y: Vec<f64> = points.iter().map(|p| p.channels()[c]).collect();
            for (s, d) in slopes.iter_mut().zip(pchip_slopes(&x, &y)) {
                s[c] = d;
            }
        }
        Ok(Self {
            width,
            height,
            zoom_profile,
            points,
            slopes,
            sensor_width_mm: None,
        })
    }

    /// No table: the lens comes from each tracking reading ([`SampleLens`], OpenTrackIO),
    /// its focal length in millimetres turned into pixels by the active sensor width
    /// `sensor_width_mm` (> 0, finite), which spans the image width.
    pub fn from_tracking(
        width: u32,
        height: u32,
        zoom_profile: ZoomProfile,
        sensor_width_mm: f64,
    ) -> Result<Self, LensError> {
        if !(sensor_width_mm.is_finite() && sensor_width_mm > 0.0) {
            return Err(lens_err("sensor_width_mm", "must be finite and > 0"));
        }
        if width == 0 || height == 0 {
            return Err(lens_err("width", "must be > 0"));
        }
        Ok(Self {
            width,
            height,
            zoom_profile,
            points: Vec::new(),
            slopes: Vec::new(),
            sensor_width_mm: Some(sensor_width_mm),
        })
    }

    /// The active sensor width when the lens comes from the tracking data (mm).
    pub fn sensor_width_mm(&self) -> Option<f64> {
        self.sensor_width_mm
    }

    /// True when the camera has no table and takes its lens from the tracking data.
    pub fn is_from_tracking(&self) -> bool {
        self.sensor_width_mm.is_some()
    }

    /// Lens state from a reading's own lens data for a `width` x `height` image: `fx = fy =
    /// F / sensor width * width`, the principal point at the image centre (`(w - 1) / 2`)
    /// moved by the projection offset (mm on the sensor, x right, y down), k1 and k2 as sent,
    /// the entrance pupil offset as the nodal shift.
    pub fn from_sample(
        &self,
        lens: &SampleLens,
        width: u32,
        height: u32,
    ) -> Result<LensState, LensError> {
        let sensor = self
            .sensor_width_mm
            .ok_or_else(|| lens_err("sensor_width_mm", "the venue gives no sensor width"))?;
        if width == 0 || height == 0 {
            return Err(lens_err(
                "size",
                format!("image size {width}x{height} must be positive"),
            ));
        }
        let px_per_mm = f64::from(width) / sensor;
        let f = lens.focal_length_mm * px_per_mm;
        let (k1, k2) = match lens.full_distortion {
            Some(full) => fitted_radial(&full, f, width, height)?,
            None => (lens.k1, lens.k2),
        };
        let intrinsics = Intrinsics {
            fx: f,
            fy: f,
            cx: 0.5 * (f64::from(width) - 1.0) + lens.projection_offset_mm[0] * px_per_mm,
            cy: 0.5 * (f64::from(height) - 1.0) + lens.projection_offset_mm[1] * px_per_mm,
            k1,
            k2,
        };
        if !intrinsics.is_valid() || !lens.nodal_shift_m.is_finite() {
            return Err(lens_err(
                "tracking",
                format!("the reading's lens {lens:?} is not usable"),
            ));
        }
        Ok(LensState {
            intrinsics,
            nodal_shift_m: lens.nodal_shift_m,
        })
    }

    /// Image width the table's pixel values are given for (pixels).
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Image height the table's pixel values are given for (pixels).
    pub fn height(&self) -> u32 {
        self.height
    }

    /// How FreeD zoom/focus counts are read.
    pub fn zoom_profile(&self) -> &ZoomProfile {
        &self.zoom_profile
    }

    /// The table points, sorted by zoom.
    pub fn points(&self) -> &[LensPoint] {
        &self.points
    }

    /// Zoom range covered by the table (raw counts); queries outside are clamped.
    pub fn zoom_range(&self) -> (f64, f64) {
        let first = self.points.first().map_or(0.0, |p| p.zoom);
        let last = self.points.last().map_or(0.0, |p| p.zoom);
        (first, last)
    }

    /// Parameters at `zoom` (raw counts) at the table's own image size, clamped at the ends.
    fn channels_at(&self, zoom: f64) -> [f64; CHANNELS] {
        let n = self.points.len();
        let (lo, hi) = self.zoom_range();
        let z = zoom.clamp(lo, hi);
        let k = self
            .points
            .partition_point(|p| p.zoom <= z)
            .saturating_sub(1)
            .min(n.saturating_sub(2));
        let (a, b) = (&self.points[k], &self.points[k + 1]);
        let (ya, yb) = (a.channels(), b.channels());
        let h = b.zoom - a.zoom;
        let t = ((z - a.zoom) / h).clamp(0.0, 1.0);
        let mut out = [0.0; CHANNELS];
        for c in 0..CHANNELS {
            out[c] = hermite(ya[c], yb[c], self.slopes[k][c], self.slopes[k + 1][c], h, t);
        }
        out
    }

    /// Lens state at `zoom` (raw counts; clamped to the table) for a `width` x `height` image.
    pub fn at(&self, zoom: f64, width: u32, height: u32) -> Result<LensState, LensError> {
        if self.points.len() < MIN_LENS_POINTS {
            return Err(lens_err(
                "points",
                "no lens table: this camera's lens comes from its tracking data",
            ));
        }
        if !zoom.is_finite() {
            return Err(lens_err("zoom", format!("{zoom} is not finite")));
        }
        if width == 0 || height == 0 {
            return Err(lens_err(
                "size",
                format!("image size {width}x{height} must be positive"),
            ));
        }
        let [fx, fy, cx, cy, k1, k2, nodal_shift_m] = self.channels_at(zoom);
        let sx = f64::from(width) / f64::from(self.width);
        let sy = f64::from(height) / f64::from(self.height);
        let intrinsics = Intrinsics {
            fx: fx * sx,
            fy: fy * sy,
            cx: (cx + 0.5) * sx - 0.5,
            cy: (cy + 0.5) * sy - 0.5,
            k1,
            k2,
        };
        if !intrinsics.is_valid() || !nodal_shift_m.is_finite() {
            return Err(lens_err(
                "zoom",
                format!("interpolated lens at {zoom} counts is invalid"),
            ));
        }
        Ok(LensState {
            intrinsics,
            nodal_shift_m,
        })
    }
}
