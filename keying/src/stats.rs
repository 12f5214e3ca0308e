//! Robust colour statistics: a median centre and a covariance with outliers rejected.

use crate::linalg::{Mat3, inverse_spd, quad_form};

/// Squared Mahalanobis distance beyond which a pixel is an outlier: the 97.5 % quantile of
/// the chi-square distribution with 3 degrees of freedom.
pub(crate) const OUTLIER_CHI2: f64 = 9.348_403_604_496_148;

/// Covariance of a 3D normal truncated at [`OUTLIER_CHI2`] is this much smaller than the full
/// one: `P(chi2_3 <= c) / P(chi2_5 <= c)` at `c = OUTLIER_CHI2`.
const TRUNCATION_CONSISTENCY: f64 = 1.078_478_718_355_326;

/// MAD to standard deviation for a normal distribution.
const MAD_TO_SIGMA: f64 = 1.482_6;

/// Rounds of outlier rejection at most (they stop as soon as the inlier set is stable).
const MAX_ROBUST_ITERATIONS: usize = 12;

/// Robust centre and covariance of a set of colours.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RobustStats {
    /// Component-wise median of the inliers (code values).
    pub centre: [f64; 3],
    /// Covariance of the inliers, corrected for the truncation (code values squared), with
    /// `floor_sigma^2` added on the diagonal.
    pub covariance: Mat3,
    /// Pixels kept as inliers.
    pub inliers: usize,
}

/// Component-wise median (sorts a copy of each channel).
fn median3(points: &[[f64; 3]], scratch: &mut Vec<f64>) -> [f64; 3] {
    let mut out = [0.0; 3];
    for (c, o) in out.iter_mut().enumerate() {
        scratch.clear();
        scratch.extend(points.iter().map(|p| p[c]));
        *o = median(scratch);
    }
    out
}

/// Median of a slice (reorders it); 0 for an empty slice.
fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    *m
}

/// Covariance of points about their mean.
fn covariance(points: &[[f64; 3]]) -> Mat3 {
    let n = points.len() as f64;
    let mut mean = [0.0; 3];
    for p in points {
        for c in 0..3 {
            mean[c] += p[c];
        }
    }
    mean = mean.map(|v| v / n);
    let mut cov = [[0.0; 3]; 3];
    for p in points {
        let d = [p[0] - mean[0], p[1] - mean[1], p[2] - mean[2]];
        for i in 0..3 {
            for j in 0..3 {
                cov[i][j] += d[i] * d[j];
            }
        }
    }
    let denom = (n - 1.0).max(1.0);
    cov.map(|row| row.map(|v| v / denom))
}

fn add_floor(mut cov: Mat3, floor_sigma: f64) -> Mat3 {
    for (i, row) in cov.iter_mut().enumerate() {
        row[i] += floor_sigma * floor_sigma;
    }
    cov
}

/// Median centre and covariance with outlier rejection: start from the median and the
/// per-channel MAD, then repeatedly keep the pixels within [`OUTLIER_CHI2`] (squared
/// Mahalanobis distance) and re-estimate median and covariance from them until the inlier set
/// stops changing. `floor_sigma` (code values) is added in quadrature on every axis so a
/// flat-coloured region still gives a positive-definite covariance. `points` must not be empty.
pub(crate) fn robust_stats(points: &[[f64; 3]], floor_sigma: f64) -> RobustStats {
    let mut scratch = Vec::with_capacity(points.len());
    let mut centre = median3(points, &mut scratch);
    let mut cov = [[0.0; 3]; 3];
    for (c, row) in cov.iter_mut().enumerate() {
        scratch.clear();
        scratch.extend(points.iter().map(|p| (p[c] - centre[c]).abs()));
        let sigma = MAD_TO_SIGMA * median(&mut scratch);
        row[c] = sigma * sigma;
    }
    let mut cov = add_floor(cov, floor_sigma);
    let mut inliers: Vec<[f64; 3]> = Vec::with_capacity(points.len());
    let mut previous = usize::MAX;
    for _ in 0..MAX_ROBUST_ITERATIONS {
        let Some(inv) = inverse_spd(&cov) else {
            break;
        };
        inliers.clear();
        inliers.extend(points.iter().copied().filter(|p| {
            let d = [p[0] - centre[0], p[1] - centre[1], p[2] - centre[2]];
            quad_form(&inv, d) <= OUTLIER_CHI2
        }));
        if inliers.len() < 2 {
            break;
        }
        centre = median3(&inliers, &mut scratch);
        let raw = covariance(&inliers).map(|row| row.map(|v| v * TRUNCATION_CONSISTENCY));
        cov = add_floor(raw, floor_sigma);
        if inliers.len() == previous {
            break;
        }
        previous = inliers.len();
    }
    RobustStats {
        centre,
        covariance: cov,
        inliers: if previous == usize::MAX {
            points.len()
        } else {
            inliers.len()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outliers_do_not_move_the_centre_or_inflate_the_covariance() {
        // 900 points on a small lattice around (100, 110, 120), 100 far outliers.
        let mut pts = Vec::new();
        for i in 0..900 {
            let a = f64::from(i % 10) - 4.5;
            let b = f64::from((i / 10) % 10) - 4.5;
            let c = f64::from(i / 100) - 4.0;
            pts.push([100.0 + 2.0 * a, 110.0 + b, 120.0 + c]);
        }
        for i in 0..100 {
            pts.push([230.0, 40.0 + f64::from(i % 7), 200.0]);
        }
        let s = robust_stats(&pts, 0.0);
        assert!((s.centre[0] - 100.0).abs() <= 1.0, "{:?}", s.centre);
        assert!((s.centre[1] - 110.0).abs() <= 1.0, "{:?}", s.centre);
        assert!((s.centre[2] - 120.0).abs() <= 1.0, "{:?}", s.centre);
        // The clean cloud has variances about 33, 8.25 and 6.7; outliers would add thousands.
        assert!(s.covariance[0][0] < 60.0, "{:?}", s.covariance);
        assert!(s.covariance[1][1] < 20.0, "{:?}", s.covariance);
        assert!(s.inliers <= 900, "{}", s.inliers);
    }

    #[test]
    fn flat_region_gets_the_floor() {
        let pts = vec![[50.0, 60.0, 70.0]; 64];
        let s = robust_stats(&pts, 2.0);
        assert!(
            s.centre
                .iter()
                .zip([50.0, 60.0, 70.0])
                .all(|(a, b)| (a - b).abs() < 1e-12)
        );
        assert!((s.covariance[0][0] - 4.0).abs() < 1e-9);
        assert!(inverse_spd(&s.covariance).is_some());
    }
}
