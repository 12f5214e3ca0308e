//! Brown-Conrady distortion with more terms than the engine's camera holds (a third or later
//! radial term, tangential terms), and the best two-term radial model of it over the image.
//!
//! The engine's camera (DESIGN.md) has two radial terms, undistorted to distorted:
//! `x_d = x (1 + k1 r^2 + k2 r^4)` on normalised coordinates. A sample's full model is sampled
//! on a grid of image points and `k1`, `k2` are the linear least-squares fit of the engine's
//! model to it (in pixels); what the fit cannot follow is its residual, reported so that a
//! front end can tell when the drawn line may sit off the painted one by more than
//! [`FIT_TOLERANCE_PX`].

use nalgebra::{Matrix2, Vector2};
use serde::{Deserialize, Serialize};

/// A fit whose largest residual over the image exceeds this is logged and counted (pixels).
pub const FIT_TOLERANCE_PX: f64 = 0.5;

/// Grid points across the image width and height the fit samples.
const GRID: [usize; 2] = [33, 19];

/// Most radial terms read from a sample (OpenTrackIO sends up to six).
pub const MAX_RADIAL: usize = 6;

/// A Brown-Conrady model on normalised coordinates (OpenCV's form): radial
/// `1 + k1 r^2 + k2 r^4 + ... + k6 r^12`, tangential `2 p1 x y + p2 (r^2 + 2 x^2)` in x and
/// `p1 (r^2 + 2 y^2) + 2 p2 x y` in y.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FullDistortion {
    /// `Brown-Conrady D-U`: the model maps distorted to undistorted coordinates (else, `U-D`,
    /// undistorted to distorted as the engine's).
    pub distorted_to_undistorted: bool,
    /// Radial coefficients k1..k6 on the normalised radius (unitless; unsent terms 0).
    pub radial: [f64; MAX_RADIAL],
    /// Tangential coefficients p1, p2 on normalised coordinates (unitless).
    pub tangential: [f64; 2],
}

/// The engine's two radial terms fitted to a [`FullDistortion`] over an image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwoTermFit {
    /// First radial coefficient (unitless).
    pub k1: f64,
    /// Second radial coefficient (unitless).
    pub k2: f64,
    /// Largest distance over the grid between where the full model and the fitted one put an
    /// image point (pixels).
    pub max_residual_px: f64,
}

impl FullDistortion {
    /// The model applied to normalised point `p`.
    pub fn apply(&self, [x, y]: [f64; 2]) -> [f64; 2] {
        let r2 = x * x + y * y;
        let mut radial = 1.0;
        let mut rn = 1.0;
        for k in self.radial {
            rn *= r2;
            radial += k * rn;
        }
        let [p1, p2] = self.tangential;
        [
            x * radial + 2.0 * p1 * x * y + p2 * (r2 + 2.0 * x * x),
            y * radial + p1 * (r2 + 2.0 * y * y) + 2.0 * p2 * x * y,
        ]
    }

    /// The best two-term radial model (least squares, in pixels) over an image whose points
    /// lie within `half_px` (half width, half height, pixels) of the principal point, with
    /// focal length `f_px` (pixels). `None` for a degenerate image or focal length.
    pub fn fit_two_term(&self, f_px: f64, half_px: [f64; 2]) -> Option<TwoTermFit> {
        if !(f_px.is_finite() && f_px > 0.0 && half_px.iter().all(|h| h.is_finite() && *h > 0.0)) {
            return None;
        }
        // Pairs (undistorted, distorted) over the image: the grid is the distorted image for
        // a D-U model, the undistorted one for U-D.
        let pairs = grid(half_px).map(|[u, v]| {
            let p = [u / f_px, v / f_px];
            if self.distorted_to_undistorted {
                (self.apply(p), p)
            } else {
                (p, self.apply(p))
            }
        });
        // x_d - x_u = k1 x_u r^2 + k2 x_u r^4, the same in y: linear in (k1, k2).
        let mut ata = Matrix2::zeros();
        let mut atb = Vector2::zeros();
        for ([x, y], [xd, yd]) in pairs.clone() {
            let r2 = x * x + y * y;
            for (c, d) in [(x, xd - x), (y, yd - y)] {
                let row = Vector2::new(c * r2, c * r2 * r2);
                ata += row * row.transpose();
                atb += row * d;
            }
        }
        let k = ata.lu().solve(&atb)?;
        let (k1, k2) = (k[0], k[1]);
        let max_residual_px = pairs
            .map(|([x, y], [xd, yd])| {
                let r2 = x * x + y * y;
                let s = 1.0 + k1 * r2 + k2 * r2 * r2;
                f_px * (x * s - xd).hypot(y * s - yd)
            })
            .fold(0.0, f64::max);
        (k1.is_finite() && k2.is_finite()).then_some(TwoTermFit {
            k1,
            k2,
            max_residual_px,
        })
    }
}

/// The fit's grid: image points (pixels from the principal point) spanning +-`half_px`.
fn grid(half_px: [f64; 2]) -> impl Iterator<Item = [f64; 2]> + Clone {
    let at = |i: usize, n: usize, half: f64| half * (2.0 * i as f64 / (n - 1) as f64 - 1.0);
    (0..GRID[1]).flat_map(move |j| {
        (0..GRID[0]).map(move |i| [at(i, GRID[0], half_px[0]), at(j, GRID[1], half_px[1])])
    })
}

#[cfg(test)]
mod tests {
    use super::FullDistortion;

    /// A model the engine holds exactly is fitted back exactly, either direction's grid.
    #[test]
    fn two_radial_terms_fit_back_exactly() {
        let d = FullDistortion {
            distorted_to_undistorted: false,
            radial: [-0.12, 0.03, 0.0, 0.0, 0.0, 0.0],
            tangential: [0.0; 2],
        };
        let fit = d.fit_two_term(1400.0, [960.0, 540.0]).unwrap();
        assert!(
            (fit.k1 + 0.12).abs() < 1e-12 && (fit.k2 - 0.03).abs() < 1e-12,
            "{fit:?}"
        );
        assert!(fit.max_residual_px < 1e-9, "{fit:?}");
        assert!(d.fit_two_term(0.0, [960.0, 540.0]).is_none());
        assert!(d.fit_two_term(f64::NAN, [960.0, 540.0]).is_none());
    }
}
