//! A small dense Levenberg-Marquardt least-squares solver (nalgebra) with a finite-difference
//! Jacobian, for the calibration problems (tens of parameters, hundreds of residuals).

use nalgebra::{DMatrix, DVector};

/// Settings of one solve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LmOptions {
    /// Iterations at most (count).
    pub max_iterations: usize,
    /// Stop when the relative cost decrease of an accepted step is below this.
    pub tolerance: f64,
}

impl Default for LmOptions {
    fn default() -> Self {
        Self {
            max_iterations: 100,
            tolerance: 1e-12,
        }
    }
}

/// The solution: parameters, final cost (sum of squared residuals) and `J^T J` at it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LmResult {
    pub x: DVector<f64>,
    pub cost: f64,
    pub normal: DMatrix<f64>,
}

/// Central-difference Jacobian of `f` at `x`, with per-parameter steps.
fn jacobian(
    f: &impl Fn(&DVector<f64>) -> Option<DVector<f64>>,
    x: &DVector<f64>,
    steps: &[f64],
    m: usize,
) -> Option<DMatrix<f64>> {
    let mut j = DMatrix::zeros(m, x.len());
    for k in 0..x.len() {
        let mut xp = x.clone();
        let mut xm = x.clone();
        xp[k] += steps[k];
        xm[k] -= steps[k];
        let (rp, rm) = (f(&xp)?, f(&xm)?);
        if rp.len() != m || rm.len() != m {
            return None;
        }
        j.set_column(k, &((rp - rm) / (2.0 * steps[k])));
    }
    Some(j)
}

/// Minimises `|f(x)|^2` from `x0`. `steps` are the finite-difference steps per parameter (in
/// its units, small against its expected error). `None` when `f` fails at the start.
pub(crate) fn solve(
    f: impl Fn(&DVector<f64>) -> Option<DVector<f64>>,
    x0: DVector<f64>,
    steps: &[f64],
    opts: &LmOptions,
) -> Option<LmResult> {
    let mut x = x0;
    let mut r = f(&x)?;
    let m = r.len();
    let mut cost = r.norm_squared();
    let mut lambda = 1e-3;
    let mut j = jacobian(&f, &x, steps, m)?;
    for _ in 0..opts.max_iterations {
        let jtj = j.transpose() * &j;
        let g = j.transpose() * &r;
        let mut accepted = false;
        for _ in 0..12 {
            let mut a = jtj.clone();
            for k in 0..a.nrows() {
                a[(k, k)] += lambda * jtj[(k, k)].max(1e-12);
            }
            let Some(dx) = a.cholesky().map(|c| c.solve(&(-&g))) else {
                lambda *= 10.0;
                continue;
            };
            let xn = &x + &dx;
            if let Some(rn) = f(&xn).filter(|rn| rn.len() == m) {
                let cn = rn.norm_squared();
                if cn.is_finite() && cn < cost {
                    let rel = (cost - cn) / cost.max(1e-300);
                    x = xn;
                    r = rn;
                    cost = cn;
                    lambda = (lambda * 0.3).max(1e-12);
                    accepted = true;
                    if rel < opts.tolerance {
                        let normal =
                            jacobian(&f, &x, steps, m).map_or(jtj, |jn| jn.transpose() * jn);
                        return Some(LmResult { x, cost, normal });
                    }
                    break;
                }
            }
            lambda *= 10.0;
        }
        if !accepted {
            break;
        }
        j = jacobian(&f, &x, steps, m)?;
    }
    let normal = j.transpose() * &j;
    Some(LmResult { x, cost, normal })
}
