//! Pinhole camera with two-term radial distortion, exactly in the DESIGN.md convention.
//!
//! `X_cam = R * X_field + t`; camera frame x right, y down, z forward. Normalised
//! `x' = X/Z, y' = Y/Z`, `r2 = x'^2 + y'^2`, `d = 1 + k1*r2 + k2*r2^2`, pixel
//! `u = fx*x'*d + cx`, `v = fy*y'*d + cy`. Pixel centres are at integer coordinates.

use nalgebra::{Matrix3, Point2, Point3, Rotation3, Vector2, Vector3};
use serde::{Deserialize, Serialize};

/// Points closer to the camera plane than this (metres along the optical axis) do not project.
pub const MIN_DEPTH_M: f64 = 1e-3;

/// Newton iterations for [`Intrinsics::undistort`]; it converges in well under ten.
const UNDISTORT_MAX_ITER: usize = 60;

/// Camera intrinsics: focal lengths, principal point and radial distortion.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Intrinsics {
    /// Focal length in x (pixels).
    pub fx: f64,
    /// Focal length in y (pixels).
    pub fy: f64,
    /// Principal point x (pixels, pixel centres at integers).
    pub cx: f64,
    /// Principal point y (pixels).
    pub cy: f64,
    /// First radial distortion coefficient (unitless, on normalised r^2).
    pub k1: f64,
    /// Second radial distortion coefficient (unitless, on normalised r^4).
    pub k2: f64,
}

impl Intrinsics {
    /// Intrinsics for a `width` x `height` image with the given horizontal field of view
    /// (radians), square pixels, principal point at the image centre and no distortion.
    pub fn from_hfov(width: u32, height: u32, hfov_rad: f64) -> Self {
        let fx = 0.5 * f64::from(width) / (0.5 * hfov_rad).tan();
        Self {
            fx,
            fy: fx,
            cx: 0.5 * f64::from(width) - 0.5,
            cy: 0.5 * f64::from(height) - 0.5,
            k1: 0.0,
            k2: 0.0,
        }
    }

    /// True when every value is finite and the focal lengths are positive.
    pub fn is_valid(&self) -> bool {
        [self.fx, self.fy, self.cx, self.cy, self.k1, self.k2]
            .iter()
            .all(|v| v.is_finite())
            && self.fx > 0.0
            && self.fy > 0.0
    }

    /// Radial factor `d = 1 + k1*r2 + k2*r2^2`.
    #[inline]
    pub fn distortion_factor(&self, r2: f64) -> f64 {
        1.0 + self.k1 * r2 + self.k2 * r2 * r2
    }

    /// Largest normalised `r2` up to which the distorted radius `r*d(r)` still grows with `r`
    /// (beyond it the lens model folds back and is meaningless). Infinite when it never folds.
    pub fn max_valid_r2(&self) -> f64 {
        // d/dr (r + k1 r^3 + k2 r^5) = 1 + 3 k1 s + 5 k2 s^2 with s = r^2.
        let (a, b) = (5.0 * self.k2, 3.0 * self.k1);
        let mut best = f64::INFINITY;
        if a.abs() < 1e-300 {
            if b < 0.0 {
                best = -1.0 / b;
            }
        } else {
            let disc = b * b - 4.0 * a;
            if disc >= 0.0 {
                let sq = disc.sqrt();
                for s in [(-b - sq) / (2.0 * a), (-b + sq) / (2.0 * a)] {
                    if s > 0.0 && s < best {
                        best = s;
                    }
                }
            }
        }
        best
    }

    /// Normalised (undistorted) image coordinates -> pixel, applying the radial distortion.
    #[inline]
    pub fn distort(&self, n: Point2<f64>) -> Point2<f64> {
        let d = self.distortion_factor(n.coords.norm_squared());
        Point2::new(self.fx * n.x * d + self.cx, self.fy * n.y * d + self.cy)
    }

    /// Pixel -> normalised (undistorted) image coordinates, inverting the radial distortion by
    /// safeguarded Newton iteration. `None` when the pixel lies beyond the lens model's valid
    /// radius (no undistorted point maps there).
    pub fn undistort(&self, px: Point2<f64>) -> Option<Point2<f64>> {
        let pd = Vector2::new((px.x - self.cx) / self.fx, (px.y - self.cy) / self.fy);
        let rd = pd.norm();
        if !rd.is_finite() {
            return None;
        }
        if rd == 0.0 || (self.k1 == 0.0 && self.k2 == 0.0) {
            return Some(Point2::from(pd));
        }
        let f = |r: f64| r * self.distortion_factor(r * r);
        let df = |r: f64| {
            let s = r * r;
            1.0 + 3.0 * self.k1 * s + 5.0 * self.k2 * s * s
        };
        let r_max2 = self.max_valid_r2();
        let mut hi = if r_max2.is_finite() {
            let r_max = r_max2.sqrt();
            if f(r_max) < rd {
                return None;
            }
            r_max
        } else {
            let mut h = rd.max(1e-12);
            while f(h) < rd {
                h *= 2.0;
                if !h.is_finite() {
                    return None;
                }
            }
            h
        };
        let mut lo = 0.0_f64;
        let mut r = rd.min(hi);
        for _ in 0..UNDISTORT_MAX_ITER {
            let e = f(r) - rd;
            if e > 0.0 {
                hi = r;
            } else {
                lo = r;
            }
            let slope = df(r);
            let mut next = if slope > 0.0 { r - e / slope } else { f64::NAN };
            if !(next > lo && next < hi) {
                next = 0.5 * (lo + hi);
            }
            if (next - r).abs() <= 1e-16 * r.max(1e-300) {
                r = next;
                break;
            }
            r = next;
        }
        Some(Point2::from(pd * (r / rd)))
    }

    /// The 3x3 matrix `K` (no distortion).
    pub fn matrix(&self) -> Matrix3<f64> {
        Matrix3::new(self.fx, 0.0, self.cx, 0.0, self.fy, self.cy, 0.0, 0.0, 1.0)
    }
}

/// A calibrated camera: intrinsics plus the field-to-camera rigid transform.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Camera {
    /// Lens and sensor model.
    pub intrinsics: Intrinsics,
    /// `R`: rotation from field frame to camera frame.
    pub rotation: Rotation3<f64>,
    /// `t`: translation (metres) in `X_cam = R * X_field + t`.
    pub translation: Vector3<f64>,
}

impl Camera {
    /// Camera at `centre` (field metres) with camera-to-field rotation `cam_to_field`.
    pub fn from_centre(
        intrinsics: Intrinsics,
        cam_to_field: Rotation3<f64>,
        centre: Point3<f64>,
    ) -> Self {
        let rotation = cam_to_field.inverse();
        let translation = -(rotation * centre.coords);
        Self {
            intrinsics,
            rotation,
            translation,
        }
    }

    /// Camera centre in field coordinates (metres).
    pub fn centre(&self) -> Point3<f64> {
        Point3::from(-(self.rotation.inverse() * self.translation))
    }

    /// Field point -> camera frame.
    #[inline]
    pub fn to_camera(&self, p: &Point3<f64>) -> Vector3<f64> {
        self.rotation * p.coords + self.translation
    }

    /// Field point -> normalised undistorted coordinates; `None` behind (or on) the camera plane.
    #[inline]
    pub fn project_normalized(&self, p: &Point3<f64>) -> Option<Point2<f64>> {
        let c = self.to_camera(p);
        if c.z.is_nan() || c.z < MIN_DEPTH_M {
            return None;
        }
        Some(Point2::new(c.x / c.z, c.y / c.z))
    }

    /// Field point -> pixel. `None` behind the camera or beyond the lens model's valid radius.
    #[inline]
    pub fn project(&self, p: &Point3<f64>) -> Option<Point2<f64>> {
        let n = self.project_normalized(p)?;
        if n.coords.norm_squared() > self.intrinsics.max_valid_r2() {
            return None;
        }
        let px = self.intrinsics.distort(n);
        (px.x.is_finite() && px.y.is_finite()).then_some(px)
    }

    /// Unit direction (field frame) of the ray through a pixel.
    pub fn pixel_ray(&self, px: Point2<f64>) -> Option<Vector3<f64>> {
        let n = self.intrinsics.undistort(px)?;
        let d = self.rotation.inverse() * Vector3::new(n.x, n.y, 1.0);
        Some(d.normalize())
    }

    /// Intersection of a pixel's ray with the horizontal plane `z = height` (metres);
    /// `None` when the ray is parallel to it or meets it behind the camera.
    pub fn unproject_to_plane(&self, px: Point2<f64>, height: f64) -> Option<Point3<f64>> {
        let dir = self.pixel_ray(px)?;
        let c = self.centre();
        if dir.z.abs() < 1e-12 {
            return None;
        }
        let s = (height - c.z) / dir.z;
        if s <= 0.0 || !s.is_finite() {
            return None;
        }
        Some(c + dir * s)
    }

    /// Intersection of a pixel's ray with the ground plane `z = 0`.
    pub fn unproject_to_ground(&self, px: Point2<f64>) -> Option<Point3<f64>> {
        self.unproject_to_plane(px, 0.0)
    }

    /// Intersection of a pixel's ray with a crowned field surface `z = crown(y)`, solved by
    /// fixed-point iteration from the flat-ground hit (the crown's slope is tiny).
    pub fn unproject_to_surface(&self, px: Point2<f64>, crown: &Crown) -> Option<Point3<f64>> {
        let mut p = self.unproject_to_ground(px)?;
        if crown.height_m == 0.0 {
            return Some(p);
        }
        for _ in 0..20 {
            let z = crown.height_at(p.y);
            let next = self.unproject_to_plane(px, z)?;
            let done = (next - p).norm() < 1e-9;
            p = next;
            if done {
                break;
            }
        }
        Some(p)
    }

    /// Rotation `R` as nine numbers, row-major (the truth/report file layout).
    pub fn rotation_row_major(&self) -> [f64; 9] {
        let m = self.rotation.matrix();
        [
            m[(0, 0)],
            m[(0, 1)],
            m[(0, 2)],
            m[(1, 0)],
            m[(1, 1)],
            m[(1, 2)],
            m[(2, 0)],
            m[(2, 1)],
            m[(2, 2)],
        ]
    }

    /// Camera from the camera fields of a truth/report record (DESIGN.md): `rotation`, the
    /// row-major `R`; `translation`, `t`; `intrinsics`, `[fx, fy, cx, cy, k1, k2]`. The matrix
    /// is re-orthonormalised; `None` when `R` or `t` is not finite or `R` is not close to a
    /// rotation.
    pub fn from_record(
        rotation: [f64; 9],
        translation: [f64; 3],
        intrinsics: [f64; 6],
    ) -> Option<Self> {
        let m = Matrix3::from_row_slice(&rotation);
        if !m.iter().all(|v| v.is_finite()) || !translation.iter().all(|v| v.is_finite()) {
            return None;
        }
        let err = (m * m.transpose() - Matrix3::identity()).norm();
        if err > 1e-6 || m.determinant() < 0.0 {
            return None;
        }
        let [fx, fy, cx, cy, k1, k2] = intrinsics;
        Some(Self {
            intrinsics: Intrinsics {
                fx,
                fy,
                cx,
                cy,
                k1,
                k2,
            },
            rotation: Rotation3::from_matrix(&m),
            translation: Vector3::from(translation),
        })
    }
}

/// Optional field crown: a parabolic height profile across the field, highest at the midline
/// (`y = 0`) and zero at (and beyond) the sidelines.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Crown {
    /// Height at the midline (metres); 0 for a flat field.
    pub height_m: f64,
    /// Distance from the midline to where the height reaches zero (metres).
    pub half_width_m: f64,
}

impl Crown {
    /// Surface height (metres) at field `y`.
    #[inline]
    pub fn height_at(&self, y: f64) -> f64 {
        if self.height_m == 0.0 || self.half_width_m <= 0.0 {
            return 0.0;
        }
        let q = y / self.half_width_m;
        (self.height_m * (1.0 - q * q)).max(0.0)
    }
}
