//! 3x3 symmetric-matrix helpers for colour covariances (f64).

#![allow(
    clippy::needless_range_loop,
    reason = "index loops follow the matrix formulas they implement"
)]

/// A 3x3 matrix, row-major.
pub(crate) type Mat3 = [[f64; 3]; 3];

/// Relative asymmetry accepted before a covariance is called non-symmetric.
const SYMMETRY_TOLERANCE: f64 = 1e-6;

/// Cholesky factor `L` (lower triangular, `L Lᵀ = m`) of a symmetric positive-definite matrix;
/// `None` when `m` is not positive definite (or not finite).
pub(crate) fn cholesky(m: &Mat3) -> Option<Mat3> {
    let mut l = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..=i {
            let mut sum = m[i][j];
            for k in 0..j {
                sum -= l[i][k] * l[j][k];
            }
            if i == j {
                // `is_finite` also rejects NaN.
                if sum <= 0.0 || !sum.is_finite() {
                    return None;
                }
                l[i][i] = sum.sqrt();
            } else {
                l[i][j] = sum / l[j][j];
            }
        }
    }
    Some(l)
}

/// True when `m[i][j]` and `m[j][i]` agree to a relative tolerance.
pub(crate) fn is_symmetric(m: &Mat3) -> bool {
    let scale = m
        .iter()
        .flatten()
        .fold(0.0_f64, |a, v| a.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    (0..3).all(|i| (0..3).all(|j| (m[i][j] - m[j][i]).abs() <= SYMMETRY_TOLERANCE * scale))
}

/// Inverse of a symmetric positive-definite matrix (through its Cholesky factor); `None` when
/// it is not positive definite.
pub(crate) fn inverse_spd(m: &Mat3) -> Option<Mat3> {
    let l = cholesky(m)?;
    // Invert the lower-triangular factor, then m⁻¹ = L⁻ᵀ L⁻¹.
    let mut li = [[0.0; 3]; 3];
    for i in 0..3 {
        li[i][i] = 1.0 / l[i][i];
        for j in 0..i {
            let mut sum = 0.0;
            for k in j..i {
                sum -= l[i][k] * li[k][j];
            }
            li[i][j] = sum / l[i][i];
        }
    }
    let mut inv = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            inv[i][j] = (0..3).map(|k| li[k][i] * li[k][j]).sum();
        }
    }
    Some(inv)
}

/// `dᵀ m d`.
#[inline]
pub(crate) fn quad_form(m: &Mat3, d: [f64; 3]) -> f64 {
    let [a, b, c] = d;
    m[0][0] * a * a
        + m[1][1] * b * b
        + m[2][2] * c * c
        + 2.0 * (m[0][1] * a * b + m[0][2] * a * c + m[1][2] * b * c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_times_matrix_is_identity() {
        let m = [[40.0, 3.0, -2.0], [3.0, 9.0, 1.5], [-2.0, 1.5, 6.0]];
        let inv = inverse_spd(&m).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|k| m[i][k] * inv[k][j]).sum();
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((v - want).abs() < 1e-12, "({i},{j}) = {v}");
            }
        }
    }

    #[test]
    fn indefinite_and_nan_matrices_have_no_cholesky() {
        assert!(cholesky(&[[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]]).is_none());
        assert!(cholesky(&[[f64::NAN, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]).is_none());
        assert!(cholesky(&[[0.0; 3]; 3]).is_none());
    }

    #[test]
    fn symmetry_check() {
        assert!(is_symmetric(&[
            [2.0, 1.0, 0.0],
            [1.0, 2.0, 0.0],
            [0.0, 0.0, 1.0]
        ]));
        assert!(!is_symmetric(&[
            [2.0, 1.0, 0.0],
            [0.5, 2.0, 0.0],
            [0.0, 0.0, 1.0]
        ]));
    }
}
