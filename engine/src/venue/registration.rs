//! The registration a calibration from clicks was made on: the exact camera of one frame and
//! the frame size it belongs to (`[camera.registration]` in `venue.toml`), the pose vision-only
//! tracking starts from.

use nalgebra::{Matrix3, Rotation3, Vector3};
use serde::{Deserialize, Serialize};

use super::{VenueError, check_finite, invalid};
use crate::geometry::{Camera, Intrinsics};

/// Largest Frobenius norm of `R R^T - I` accepted for a registration's rotation.
pub const REGISTRATION_ROTATION_TOLERANCE: f64 = 1e-6;
/// Largest relative difference of aspect ratio (width / height) between a registration and a
/// video it is used for; beyond it the registration is refused, not stretched.
pub const REGISTRATION_ASPECT_TOLERANCE: f64 = 0.005;

/// Why a registration gives no camera for a video size.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    /// The video has another aspect ratio than the frame the calibration was made on.
    #[error(
        "the calibration was made at {calibrated_width}x{calibrated_height}; this video is \
         {width}x{height} (another aspect ratio): calibrate again at this size"
    )]
    AspectRatio {
        /// Width the calibration was made at (pixels).
        calibrated_width: u32,
        /// Height the calibration was made at (pixels).
        calibrated_height: u32,
        /// The video's width (pixels).
        width: u32,
        /// The video's height (pixels).
        height: u32,
    },
    /// The video size is zero in a dimension.
    #[error("video size {width}x{height} must be positive")]
    BadSize {
        /// The video's width (pixels).
        width: u32,
        /// The video's height (pixels).
        height: u32,
    },
}

/// The camera a calibration from clicks solved on one frame: the exact pose and lens of that
/// frame (what vision-only tracking starts from), with the frame size it belongs to and, when
/// known, where the frame lies in its video.
#[derive(Debug, Clone, PartialEq)]
pub struct Registration {
    /// Frame width the calibration was made at (pixels).
    pub width: u32,
    /// Frame height the calibration was made at (pixels).
    pub height: u32,
    /// Index of that frame in its video (from 0), when it came from a video.
    pub frame: Option<u64>,
    /// Time of that frame in its video (seconds), when it came from a video.
    pub time_s: Option<f64>,
    /// The solved camera, intrinsics in pixels of a `width` x `height` frame (DESIGN.md
    /// camera convention).
    pub camera: Camera,
}

impl Registration {
    /// A registration from its parts, validated as `[camera.registration]` in a venue file is
    /// (positive size, finite numbers, positive focal lengths, a proper rotation); `at` names
    /// it in an error (`"register"` for the control API).
    #[allow(clippy::too_many_arguments, reason = "the fields of one solved camera")]
    pub fn from_parts(
        at: &str,
        width: u32,
        height: u32,
        rotation: [f64; 9],
        translation: [f64; 3],
        intrinsics: Intrinsics,
    ) -> Result<Self, VenueError> {
        let file = RegistrationFile {
            width: i64::from(width),
            height: i64::from(height),
            frame: None,
            time_s: None,
            rotation,
            translation,
            fx: intrinsics.fx,
            fy: intrinsics.fy,
            cx: intrinsics.cx,
            cy: intrinsics.cy,
            k1: intrinsics.k1,
            k2: intrinsics.k2,
        };
        parse_registration(at, &file)
    }

    /// The registered camera for a `width` x `height` video: as stored at the calibration's
    /// own size; at another size with the same aspect ratio (within
    /// [`REGISTRATION_ASPECT_TOLERANCE`]) the focal lengths and principal point are scaled
    /// (pixel centres at integers: `c' = (c + 0.5) * s - 0.5`) and `k1`, `k2` kept (they act on
    /// normalised coordinates); another aspect ratio is refused.
    pub fn camera_for_size(&self, width: u32, height: u32) -> Result<Camera, RegistrationError> {
        if width == 0 || height == 0 {
            return Err(RegistrationError::BadSize { width, height });
        }
        if (width, height) == (self.width, self.height) {
            return Ok(self.camera);
        }
        let sx = f64::from(width) / f64::from(self.width);
        let sy = f64::from(height) / f64::from(self.height);
        if (sx / sy - 1.0).abs() > REGISTRATION_ASPECT_TOLERANCE {
            return Err(RegistrationError::AspectRatio {
                calibrated_width: self.width,
                calibrated_height: self.height,
                width,
                height,
            });
        }
        let k = self.camera.intrinsics;
        Ok(Camera {
            intrinsics: Intrinsics {
                fx: k.fx * sx,
                fy: k.fy * sy,
                cx: (k.cx + 0.5) * sx - 0.5,
                cy: (k.cy + 0.5) * sy - 0.5,
                k1: k.k1,
                k2: k.k2,
            },
            ..self.camera
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RegistrationFile {
    width: i64,
    height: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    frame: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    time_s: Option<f64>,
    rotation: [f64; 9],
    translation: [f64; 3],
    fx: f64,
    fy: f64,
    cx: f64,
    cy: f64,
    k1: f64,
    k2: f64,
}

pub(super) fn parse_registration(
    at: &str,
    r: &RegistrationFile,
) -> Result<Registration, VenueError> {
    let key = |k: &str| format!("{at}.{k}");
    let size = |k: &str, v: i64| {
        u32::try_from(v)
            .ok()
            .filter(|s| *s > 0)
            .ok_or_else(|| invalid(key(k), format!("{v} is not a positive frame size")))
    };
    let width = size("width", r.width)?;
    let height = size("height", r.height)?;
    let frame = r
        .frame
        .map(|f| {
            u64::try_from(f)
                .map_err(|_| invalid(key("frame"), format!("{f} is not a frame index (>= 0)")))
        })
        .transpose()?;
    let time_s = r
        .time_s
        .map(|t| {
            let t = check_finite(key("time_s"), t)?;
            if t < 0.0 {
                Err(invalid(
                    key("time_s"),
                    format!("{t} is before the video starts"),
                ))
            } else {
                Ok(t)
            }
        })
        .transpose()?;
    for (k, v) in r.rotation.iter().enumerate() {
        check_finite(key(&format!("rotation[{k}]")), *v)?;
    }
    let m = Matrix3::from_row_slice(&r.rotation);
    let err = (m * m.transpose() - Matrix3::identity()).norm();
    if err > REGISTRATION_ROTATION_TOLERANCE {
        return Err(invalid(
            key("rotation"),
            format!(
                "not orthonormal (|R R^T - I| = {err:.3e}, at most \
                 {REGISTRATION_ROTATION_TOLERANCE:e})"
            ),
        ));
    }
    if m.determinant() < 0.0 {
        return Err(invalid(
            key("rotation"),
            "a reflection (determinant -1), not a rotation",
        ));
    }
    for (k, v) in r.translation.iter().enumerate() {
        check_finite(key(&format!("translation[{k}]")), *v)?;
    }
    for (k, v) in [("fx", r.fx), ("fy", r.fy)] {
        check_finite(key(k), v)?;
        if v <= 0.0 {
            return Err(invalid(
                key(k),
                format!("{v} is not a positive focal length"),
            ));
        }
    }
    let intrinsics = Intrinsics {
        fx: r.fx,
        fy: r.fy,
        cx: check_finite(key("cx"), r.cx)?,
        cy: check_finite(key("cy"), r.cy)?,
        k1: check_finite(key("k1"), r.k1)?,
        k2: check_finite(key("k2"), r.k2)?,
    };
    Ok(Registration {
        width,
        height,
        frame,
        time_s,
        camera: Camera {
            intrinsics,
            // Checked orthonormal above; kept exactly as written so a file round-trips.
            rotation: Rotation3::from_matrix_unchecked(m),
            translation: Vector3::from(r.translation),
        },
    })
}

pub(super) fn registration_file(r: &Registration) -> Result<RegistrationFile, VenueError> {
    let k = r.camera.intrinsics;
    let t = r.camera.translation;
    let frame = r
        .frame
        .map(|f| {
            i64::try_from(f).map_err(|_| {
                VenueError::Serialize(format!("registration frame {f} does not fit in TOML"))
            })
        })
        .transpose()?;
    Ok(RegistrationFile {
        width: i64::from(r.width),
        height: i64::from(r.height),
        frame,
        time_s: r.time_s,
        rotation: r.camera.rotation_row_major(),
        translation: [t.x, t.y, t.z],
        fx: k.fx,
        fy: k.fy,
        cx: k.cx,
        cy: k.cy,
        k1: k.k1,
        k2: k.k2,
    })
}
