//! The generator's own camera model, written from DESIGN.md and independent of the engine:
//! pan/tilt head, lens curve, pinhole projection with radial distortion, and pixel rays.
//!
//! `X_cam = R * X_field + t`; camera x right, y down, z forward; `x' = X/Z`, `y' = Y/Z`,
//! `d = 1 + k1 r^2 + k2 r^4`, `u = fx x' d + cx`, `v = fy y' d + cy`; pixel centres at integers.

use nalgebra::{Matrix3, Vector3};
use serde::{Deserialize, Serialize};

use crate::error::{Result, SampleError};

/// Points nearer than this along the optical axis (metres) do not project.
pub const MIN_DEPTH_M: f64 = 1e-3;
/// Largest raw `FreeD` zoom count of the simulated lens (wide end is 0).
pub const ZOOM_COUNTS_MAX: f64 = 60_000.0;
/// Horizontal field of view at the wide end (degrees).
pub const HFOV_WIDE_DEG: f64 = 60.0;
/// Horizontal field of view at the tight end (degrees).
pub const HFOV_TIGHT_DEG: f64 = 4.0;
/// Radial distortion k1 at the wide end (barrel); it fades to 0 at the tight end.
pub const K1_WIDE: f64 = -0.12;
/// Radial distortion k2 at the wide end.
pub const K2_WIDE: f64 = 0.01;
/// Share of the log-focal-length travel that is quadratic in zoom counts (the rest linear):
/// the lens curve is exponential-ish but not exactly exponential in counts.
const LENS_QUADRATIC_SHARE: f64 = 0.35;
/// Newton iterations to invert the radial distortion (converges in 4 for this lens).
const UNDISTORT_ITERATIONS: usize = 8;
/// Newton stops once a step is below this (normalised radius).
const UNDISTORT_TOLERANCE: f64 = 1e-14;
/// Tolerance on a rotation matrix's orthonormality (Frobenius norm of `R R^T - I`).
const ROTATION_TOLERANCE: f64 = 1e-6;

/// Pinhole intrinsics with two-term radial distortion.
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
    /// Radial distortion on normalised r^2 (unitless).
    pub k1: f64,
    /// Radial distortion on normalised r^4 (unitless).
    pub k2: f64,
}

impl Intrinsics {
    /// `[fx, fy, cx, cy, k1, k2]`, the order of the camera fields in `truth.jsonl`.
    #[inline]
    pub const fn to_array(&self) -> [f64; 6] {
        [self.fx, self.fy, self.cx, self.cy, self.k1, self.k2]
    }

    /// Radial factor `d(r2) = 1 + k1 r2 + k2 r2^2`.
    #[inline]
    pub fn factor(&self, r2: f64) -> f64 {
        1.0 + self.k1 * r2 + self.k2 * r2 * r2
    }

    /// Whether the distorted radius still grows with the undistorted one at `r2`
    /// (beyond that the polynomial folds back and means nothing).
    #[inline]
    pub fn monotone_at(&self, r2: f64) -> bool {
        1.0 + 3.0 * self.k1 * r2 + 5.0 * self.k2 * r2 * r2 > 0.0
    }

    /// Distorted normalised coordinates -> undistorted, by Newton's method on the radius.
    #[inline]
    pub fn undistort(&self, xd: f64, yd: f64) -> (f64, f64) {
        let rd = (xd * xd + yd * yd).sqrt();
        if rd == 0.0 {
            return (xd, yd);
        }
        let mut r = rd / self.factor(rd * rd).max(0.5);
        for _ in 0..UNDISTORT_ITERATIONS {
            let s = r * r;
            let f = r * self.factor(s) - rd;
            let df = 1.0 + 3.0 * self.k1 * s + 5.0 * self.k2 * s * s;
            if df <= 0.0 {
                break;
            }
            let step = f / df;
            r -= step;
            if step.abs() < UNDISTORT_TOLERANCE {
                break;
            }
        }
        let k = r / rd;
        (xd * k, yd * k)
    }

    fn is_valid(&self) -> bool {
        [self.fx, self.fy, self.cx, self.cy, self.k1, self.k2]
            .iter()
            .all(|v| v.is_finite())
            && self.fx > 0.0
            && self.fy > 0.0
    }
}

/// Where and how the head is mounted (field frame).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MountPose {
    /// Rotation centre of the head (field metres).
    pub position: [f64; 3],
    /// Mount yaw (degrees, positive to the right).
    pub yaw_deg: f64,
    /// Mount pitch (degrees, positive up).
    pub pitch_deg: f64,
    /// Mount roll (degrees, positive clockwise seen from behind).
    pub roll_deg: f64,
}

/// Head angles as `FreeD` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct HeadAngles {
    /// Pan (degrees, positive to the right, clockwise seen from above).
    pub pan_deg: f64,
    /// Tilt (degrees, positive up).
    pub tilt_deg: f64,
    /// Roll (degrees, positive clockwise seen from behind).
    pub roll_deg: f64,
}

fn rot_x(a: f64) -> Matrix3<f64> {
    let (s, c) = a.sin_cos();
    Matrix3::new(1.0, 0.0, 0.0, 0.0, c, -s, 0.0, s, c)
}

fn rot_y(a: f64) -> Matrix3<f64> {
    let (s, c) = a.sin_cos();
    Matrix3::new(c, 0.0, s, 0.0, 1.0, 0.0, -s, 0.0, c)
}

fn rot_z(a: f64) -> Matrix3<f64> {
    let (s, c) = a.sin_cos();
    Matrix3::new(c, -s, 0.0, s, c, 0.0, 0.0, 0.0, 1.0)
}

/// `Rz(-yaw) * Rx(pitch) * Ry(roll)` (degrees).
fn yaw_pitch_roll(yaw_deg: f64, pitch_deg: f64, roll_deg: f64) -> Matrix3<f64> {
    rot_z(-yaw_deg.to_radians()) * rot_x(pitch_deg.to_radians()) * rot_y(roll_deg.to_radians())
}

/// Camera-to-field rotation of a head: `M * Rz(-pan) * Rx(tilt) * Ry(roll) * B`.
pub fn camera_to_field(mount: &MountPose, angles: &HeadAngles) -> Matrix3<f64> {
    // Columns: camera x -> field +x, camera y -> field -z, camera z -> field +y.
    let base = Matrix3::new(1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, -1.0, 0.0);
    yaw_pitch_roll(mount.yaw_deg, mount.pitch_deg, mount.roll_deg)
        * yaw_pitch_roll(angles.pan_deg, angles.tilt_deg, angles.roll_deg)
        * base
}

/// The simulated zoom lens: raw zoom counts -> intrinsics at a given image size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LensCurve {
    /// Image width (pixels).
    pub width: u32,
    /// Image height (pixels).
    pub height: u32,
}

impl LensCurve {
    /// The lens for a `width` x `height` image.
    pub fn new(width: u32, height: u32) -> Self {
        Self { width, height }
    }

    /// Intrinsics at `zoom_counts` (0 = wide, [`ZOOM_COUNTS_MAX`] = tight; clamped).
    pub fn intrinsics(&self, zoom_counts: f64) -> Intrinsics {
        let u = (zoom_counts / ZOOM_COUNTS_MAX).clamp(0.0, 1.0);
        let half_w = 0.5 * f64::from(self.width);
        let f_wide = half_w / (0.5 * HFOV_WIDE_DEG).to_radians().tan();
        let f_tight = half_w / (0.5 * HFOV_TIGHT_DEG).to_radians().tan();
        let g = (1.0 - LENS_QUADRATIC_SHARE) * u + LENS_QUADRATIC_SHARE * u * u;
        let f = f_wide * (f_tight / f_wide).powf(g);
        let fade = (1.0 - u) * (1.0 - u);
        Intrinsics {
            fx: f,
            fy: f,
            cx: 0.5 * f64::from(self.width) - 0.5,
            cy: 0.5 * f64::from(self.height) - 0.5,
            k1: K1_WIDE * fade,
            k2: K2_WIDE * fade,
        }
    }

    /// The zoom position (raw counts) whose focal length is `fx` pixels: the inverse of
    /// [`Self::intrinsics`], clamped to the lens's range (`0..=ZOOM_COUNTS_MAX`).
    pub fn zoom_for_focal(&self, fx: f64) -> f64 {
        let half_w = 0.5 * f64::from(self.width);
        let f_wide = half_w / (0.5 * HFOV_WIDE_DEG).to_radians().tan();
        let f_tight = half_w / (0.5 * HFOV_TIGHT_DEG).to_radians().tan();
        if !fx.is_finite() || fx <= f_wide {
            return 0.0;
        }
        let g = ((fx / f_wide).ln() / (f_tight / f_wide).ln()).clamp(0.0, 1.0);
        let (q, l) = (LENS_QUADRATIC_SHARE, 1.0 - LENS_QUADRATIC_SHARE);
        let u = (-l + (l * l + 4.0 * q * g).sqrt()) / (2.0 * q);
        u.clamp(0.0, 1.0) * ZOOM_COUNTS_MAX
    }
}

/// A calibrated pinhole camera (field -> camera rigid transform plus intrinsics).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PinholeCamera {
    /// `R`: field -> camera rotation.
    pub rotation: Matrix3<f64>,
    /// `t` (metres) in `X_cam = R X_field + t`.
    pub translation: Vector3<f64>,
    /// Optical centre in the field frame (metres).
    pub centre: Vector3<f64>,
    /// Lens state.
    pub intrinsics: Intrinsics,
}

impl PinholeCamera {
    /// The camera of a head on `mount` at `angles` (nodal shift 0: the optical centre is the
    /// head's rotation centre).
    pub fn from_head(mount: &MountPose, angles: &HeadAngles, intrinsics: Intrinsics) -> Self {
        let c2f = camera_to_field(mount, angles);
        let rotation = c2f.transpose();
        let centre = Vector3::from(mount.position);
        Self {
            rotation,
            translation: -(rotation * centre),
            centre,
            intrinsics,
        }
    }

    /// A camera from a row-major `R`, `t` and intrinsics; checks it is a proper rotation.
    pub fn from_parts(
        rotation: [f64; 9],
        translation: [f64; 3],
        intrinsics: Intrinsics,
    ) -> Result<Self> {
        let r = Matrix3::from_row_slice(&rotation);
        let t = Vector3::from(translation);
        if !r.iter().chain(t.iter()).all(|v| v.is_finite()) || !intrinsics.is_valid() {
            return Err(SampleError::InvalidCamera(
                "non-finite rotation, translation or intrinsics, or a non-positive focal length"
                    .into(),
            ));
        }
        let err = (r * r.transpose() - Matrix3::identity()).norm();
        if err > ROTATION_TOLERANCE || r.determinant() <= 0.0 {
            return Err(SampleError::InvalidCamera(format!(
                "rotation is not orthonormal (|R R^T - I| = {err:.2e}) or is a reflection"
            )));
        }
        Ok(Self {
            rotation: r,
            translation: t,
            centre: -(r.transpose() * t),
            intrinsics,
        })
    }

    /// `R` as nine numbers, row-major.
    pub fn rotation_row_major(&self) -> [f64; 9] {
        let m = &self.rotation;
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

    /// Field point (metres) -> pixel; `None` behind the camera or where the lens folds back.
    #[inline]
    pub fn project(&self, p: &Vector3<f64>) -> Option<[f64; 2]> {
        let c = self.rotation * p + self.translation;
        if c.z.is_nan() || c.z < MIN_DEPTH_M {
            return None;
        }
        let (x, y) = (c.x / c.z, c.y / c.z);
        let r2 = x * x + y * y;
        let k = &self.intrinsics;
        if !k.monotone_at(r2) {
            return None;
        }
        let d = k.factor(r2);
        Some([k.fx * x * d + k.cx, k.fy * y * d + k.cy])
    }

    /// Direction (field frame, not normalised) of the ray through pixel (u, v).
    #[inline]
    pub fn ray(&self, u: f64, v: f64) -> Vector3<f64> {
        let k = &self.intrinsics;
        let (x, y) = k.undistort((u - k.cx) / k.fx, (v - k.cy) / k.fy);
        self.rotation.transpose() * Vector3::new(x, y, 1.0)
    }

    /// Where the ray through pixel (u, v) meets the ground `z = 0` (field x, y), if in front.
    #[inline]
    pub fn ground_hit(&self, u: f64, v: f64) -> Option<[f64; 2]> {
        let d = self.ray(u, v);
        ground_of_ray(&self.centre, &d)
    }
}

/// Where a ray from `c` along `d` meets `z = 0`, if it does in front of `c`.
#[inline]
pub(crate) fn ground_of_ray(c: &Vector3<f64>, d: &Vector3<f64>) -> Option<[f64; 2]> {
    if d.z >= 0.0 {
        return None;
    }
    let s = -c.z / d.z;
    (s > 0.0 && s.is_finite()).then(|| [c.x + s * d.x, c.y + s * d.y])
}
