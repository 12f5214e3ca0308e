//! The encoder model of a pan/tilt head (the angles FreeD reports).
//!
//! Head frame: axes parallel to the field frame before the mount rotation (X right = field
//! +x, Y forward = field +y, Z up). With every angle zero the camera looks along +Y, image
//! right along +X and image down along -Z.
//!
//! - **pan** (degrees): positive turns the view to the right (clockwise seen from above);
//! - **tilt** (degrees): positive raises the view;
//! - **roll** (degrees): positive turns the camera clockwise as seen from behind it.
//!
//! Camera-to-field rotation: `M * Rz(-pan) * Rx(tilt) * Ry(roll) * B`, where `B` maps camera
//! axes to head axes (x->X, y->-Z, z->Y) and `M = Rz(-yaw) * Rx(pitch) * Ry(roll)` is the
//! mount orientation with the same sign rules. The optical centre sits `nodal_shift_m`
//! metres along the optical axis from the head's rotation centre.

use nalgebra::{Matrix3, Point3, Rotation3, Vector3};
use serde::{Deserialize, Serialize};

use crate::geometry::{Camera, Intrinsics};

/// Pan, tilt and roll of a head in degrees (see the module docs for signs).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct HeadAngles {
    /// Pan (degrees, positive to the right).
    pub pan_deg: f64,
    /// Tilt (degrees, positive up).
    pub tilt_deg: f64,
    /// Roll (degrees, positive clockwise seen from behind).
    pub roll_deg: f64,
}

/// Where and how a head is mounted in the field frame.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Mount {
    /// Rotation centre of the head (field metres).
    pub position: [f64; 3],
    /// Mount yaw (degrees, positive to the right).
    pub yaw_deg: f64,
    /// Mount pitch (degrees, positive up).
    pub pitch_deg: f64,
    /// Mount roll (degrees, positive clockwise seen from behind).
    pub roll_deg: f64,
}

/// Camera-axes to head-axes base change (x->X, y->-Z, z->Y).
fn base() -> Rotation3<f64> {
    Rotation3::from_matrix_unchecked(Matrix3::new(
        1.0, 0.0, 0.0, //
        0.0, 0.0, 1.0, //
        0.0, -1.0, 0.0,
    ))
}

/// `Rz(-yaw) * Rx(pitch) * Ry(roll)` with angles in degrees.
fn ypr(yaw_deg: f64, pitch_deg: f64, roll_deg: f64) -> Rotation3<f64> {
    Rotation3::from_axis_angle(&Vector3::z_axis(), -yaw_deg.to_radians())
        * Rotation3::from_axis_angle(&Vector3::x_axis(), pitch_deg.to_radians())
        * Rotation3::from_axis_angle(&Vector3::y_axis(), roll_deg.to_radians())
}

impl Mount {
    /// Mount rotation `M` (head axes to field axes).
    pub fn rotation(&self) -> Rotation3<f64> {
        ypr(self.yaw_deg, self.pitch_deg, self.roll_deg)
    }
}

/// Camera-to-field rotation for a head on `mount` at `angles`.
pub fn camera_to_field(mount: &Mount, angles: &HeadAngles) -> Rotation3<f64> {
    mount.rotation() * ypr(angles.pan_deg, angles.tilt_deg, angles.roll_deg) * base()
}

/// The camera of a head on `mount` at `angles`, with the given lens state.
pub fn head_camera(
    mount: &Mount,
    angles: &HeadAngles,
    intrinsics: Intrinsics,
    nodal_shift_m: f64,
) -> Camera {
    let c2f = camera_to_field(mount, angles);
    let centre = Point3::from(mount.position) + c2f * Vector3::new(0.0, 0.0, nodal_shift_m);
    Camera::from_centre(intrinsics, c2f, centre)
}

/// Inverse of [`camera_to_field`] for a level, unrotated mount: the head angles (degrees) that
/// give a camera-to-field rotation. Valid away from tilt = +-90 degrees.
pub fn angles_from_rotation(mount: &Mount, cam_to_field: &Rotation3<f64>) -> HeadAngles {
    // H = Rz(-pan) Rx(tilt) Ry(roll) = M^T * C * B^T.
    let h = (mount.rotation().inverse() * cam_to_field * base().inverse()).into_inner();
    // Forward axis (column 1) = (sin pan cos tilt, cos pan cos tilt, sin tilt).
    let tilt = h[(2, 1)].clamp(-1.0, 1.0).asin();
    let pan = h[(0, 1)].atan2(h[(1, 1)]);
    // Row 2 = (-cos tilt sin roll, sin tilt, cos tilt cos roll).
    let roll = (-h[(2, 0)]).atan2(h[(2, 2)]);
    HeadAngles {
        pan_deg: pan.to_degrees(),
        tilt_deg: tilt.to_degrees(),
        roll_deg: roll.to_degrees(),
    }
}
