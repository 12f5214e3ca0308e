//! Lens table from a zoom sweep: per-frame focal lengths and `k1`/`k2` (from the head
//! registration of the sweep's frames, [`crate::head`]) fitted as smooth monotonic functions
//! of the FreeD zoom counts, then sampled into the engine's PCHIP [`LensTable`].
//!
//! - `ln fx` is fitted by a least-squares polynomial in the normalised zoom (degree up to
//!   [`MAX_DEGREE`]); when that is not strictly increasing over the sweep, the per-frame values
//!   are made monotone by isotonic regression (pool-adjacent-violators) instead.
//! - `k1` and `k2` are fitted by quadratics weighted by how many pixels they move at the image
//!   corner (tight frames barely see distortion), then made monotone in the direction of their
//!   overall trend, on the table points.
//! - The principal point is the image centre, `fy = fx`, the nodal shift 0.

use yardline_engine::geometry::Intrinsics;
use yardline_engine::lens::{LensPoint, LensTable};
use yardline_engine::tracking::freed::{ZoomProfile, ZoomVendor};

use crate::error::CalibrationError;

/// Highest polynomial degree of the `ln fx` fit.
pub const MAX_DEGREE: usize = 3;
/// Fewest distinct zoom positions for a table (count).
pub const MIN_SWEEP_ZOOMS: usize = 3;
/// Points of the written table (count).
pub const TABLE_POINTS: usize = 21;

/// One frame of a sweep: its zoom counts and solved lens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LensSample {
    /// FreeD zoom (raw counts).
    pub zoom: f64,
    /// The solved lens (pixels at the sweep's image size).
    pub intrinsics: Intrinsics,
}

/// Weighted least-squares polynomial (coefficients, lowest first) of `y` on `x`.
fn polyfit(x: &[f64], y: &[f64], w: &[f64], degree: usize) -> Option<Vec<f64>> {
    let n = degree + 1;
    let a = nalgebra::DMatrix::from_fn(x.len(), n, |i, j| x[i].powi(j as i32) * w[i].sqrt());
    let b = nalgebra::DVector::from_fn(y.len(), |i, _| y[i] * w[i].sqrt());
    let svd = a.svd(true, true);
    let c = svd.solve(&b, 1e-12).ok()?;
    Some(c.iter().copied().collect())
}

fn polyval(c: &[f64], x: f64) -> f64 {
    c.iter().rev().fold(0.0, |acc, v| acc * x + v)
}

/// Weighted isotonic (non-decreasing) regression by pool-adjacent-violators.
pub fn isotonic_increasing(y: &[f64], w: &[f64]) -> Vec<f64> {
    let mut blocks: Vec<(f64, f64, usize)> = Vec::new(); // (mean, weight, count)
    for (&v, &wi) in y.iter().zip(w) {
        blocks.push((v, wi.max(1e-300), 1));
        while blocks.len() > 1 {
            let (m2, w2, n2) = blocks[blocks.len() - 1];
            let (m1, w1, n1) = blocks[blocks.len() - 2];
            if m1 <= m2 {
                break;
            }
            blocks.truncate(blocks.len() - 2);
            blocks.push(((m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, n1 + n2));
        }
    }
    blocks
        .into_iter()
        .flat_map(|(m, _, n)| std::iter::repeat_n(m, n))
        .collect()
}

/// Monotone in the direction of the overall trend (first to last value).
fn monotone_like_trend(v: &[f64]) -> Vec<f64> {
    let w = vec![1.0; v.len()];
    if v.last() >= v.first() {
        isotonic_increasing(v, &w)
    } else {
        let neg: Vec<f64> = v.iter().map(|x| -x).collect();
        isotonic_increasing(&neg, &w).iter().map(|x| -x).collect()
    }
}

/// Fits the lens table of a `width` x `height` camera from a sweep.
pub fn fit_lens_table(
    samples: &[LensSample],
    width: u32,
    height: u32,
) -> Result<LensTable, CalibrationError> {
    let mut s: Vec<LensSample> = samples.to_vec();
    if s.iter()
        .any(|p| !p.zoom.is_finite() || !p.intrinsics.is_valid())
    {
        return Err(CalibrationError::Input(
            "a sweep frame has a non-finite zoom or lens".into(),
        ));
    }
    s.sort_by(|a, b| a.zoom.total_cmp(&b.zoom));
    let mut zooms: Vec<f64> = s.iter().map(|p| p.zoom).collect();
    zooms.dedup();
    if zooms.len() < MIN_SWEEP_ZOOMS {
        return Err(CalibrationError::Input(format!(
            "a zoom sweep needs at least {MIN_SWEEP_ZOOMS} distinct zoom positions, has {}",
            zooms.len()
        )));
    }
    let (z0, z1) = (zooms[0], zooms[zooms.len() - 1]);
    let u: Vec<f64> = s.iter().map(|p| (p.zoom - z0) / (z1 - z0)).collect();
    let lf: Vec<f64> = s.iter().map(|p| p.intrinsics.fx.ln()).collect();
    let ones = vec![1.0; s.len()];
    let degree = MAX_DEGREE.min(zooms.len() - 1);
    let table_u: Vec<f64> = (0..TABLE_POINTS)
        .map(|i| i as f64 / (TABLE_POINTS - 1) as f64)
        .collect();
    let poly = polyfit(&u, &lf, &ones, degree)
        .ok_or_else(|| CalibrationError::Solve("focal length fit failed".into()))?;
    let dense: Vec<f64> = (0..=400)
        .map(|i| polyval(&poly, f64::from(i) / 400.0))
        .collect();
    let increasing = dense.windows(2).all(|w| w[1] > w[0]);
    // Table zooms and ln fx.
    let (tz, tlf): (Vec<f64>, Vec<f64>) = if increasing {
        (
            table_u.iter().map(|t| z0 + t * (z1 - z0)).collect(),
            table_u.iter().map(|t| polyval(&poly, *t)).collect(),
        )
    } else {
        tracing::warn!("the focal length fit is not monotone; using isotonic regression");
        // Average repeated zooms, then pool violators; keep strictly increasing values.
        let iso = isotonic_increasing(&lf, &ones);
        let mut z = Vec::new();
        let mut v: Vec<f64> = Vec::new();
        for (p, f) in s.iter().zip(iso) {
            if v.last().is_none_or(|l| f > *l + 1e-9) && z.last().is_none_or(|l| p.zoom > *l) {
                z.push(p.zoom);
                v.push(f);
            }
        }
        (z, v)
    };
    if tz.len() < 2 {
        return Err(CalibrationError::Solve(
            "the focal length does not grow over the sweep".into(),
        ));
    }
    let (w, h) = (f64::from(width), f64::from(height));
    let half_diag = 0.5 * (w * w + h * h).sqrt();
    let r_of = |fx: f64| half_diag / fx;
    let w1: Vec<f64> = s
        .iter()
        .map(|p| (p.intrinsics.fx * r_of(p.intrinsics.fx).powi(3)).powi(2))
        .collect();
    let w2: Vec<f64> = s
        .iter()
        .map(|p| (p.intrinsics.fx * r_of(p.intrinsics.fx).powi(5)).powi(2))
        .collect();
    let kd = 2.min(zooms.len() - 1);
    let k1p = polyfit(
        &u,
        &s.iter().map(|p| p.intrinsics.k1).collect::<Vec<_>>(),
        &w1,
        kd,
    )
    .ok_or_else(|| CalibrationError::Solve("k1 fit failed".into()))?;
    let k2p = polyfit(
        &u,
        &s.iter().map(|p| p.intrinsics.k2).collect::<Vec<_>>(),
        &w2,
        kd,
    )
    .ok_or_else(|| CalibrationError::Solve("k2 fit failed".into()))?;
    let tu: Vec<f64> = tz.iter().map(|z| (z - z0) / (z1 - z0)).collect();
    let k1 = monotone_like_trend(&tu.iter().map(|t| polyval(&k1p, *t)).collect::<Vec<_>>());
    let k2 = monotone_like_trend(&tu.iter().map(|t| polyval(&k2p, *t)).collect::<Vec<_>>());
    let (cx, cy) = (0.5 * w - 0.5, 0.5 * h - 0.5);
    let points: Vec<LensPoint> = tz
        .iter()
        .zip(&tlf)
        .enumerate()
        .map(|(i, (z, l))| LensPoint {
            zoom: *z,
            intrinsics: Intrinsics {
                fx: l.exp(),
                fy: l.exp(),
                cx,
                cy,
                k1: k1[i],
                k2: k2[i],
            },
            nodal_shift_m: 0.0,
        })
        .collect();
    Ok(LensTable::new(
        width,
        height,
        ZoomProfile::preset(ZoomVendor::Raw),
        points,
    )?)
}
