//! From solved cameras to the engine's venue calibration (`venue.toml`, written with the
//! engine's own [`Venue`] types).
//!
//! One solved camera with the FreeD reading of its frame fixes the head position (the camera
//! centre; nodal shift 0) and the mount orientation `M = C * H(angles)^T` (see
//! [`yardline_engine::head`]); the encoder offsets stay 0 (one frame cannot tell them from the
//! mount) and the lens table holds that one lens state for every zoom. Without a reading the
//! head angles are taken as 0: the mount is the camera's orientation. Several frames over the
//! pan/tilt range ([`crate::head`]) and a zoom sweep ([`crate::lens`]) give the full calibration.
//!
//! A calibration from one frame also records that frame's solved camera exactly, as the
//! camera's [`Registration`] (with the frame size; the caller adds the frame index and time
//! when the frame came from a video): vision-only tracking starts from it.

use nalgebra::Rotation3;
use yardline_engine::geometry::{Camera, Intrinsics};
use yardline_engine::head::{HeadAngles, Mount, angles_from_rotation, camera_to_field};
use yardline_engine::lens::{LensPoint, LensTable};
use yardline_engine::tracking::SensorReading;
use yardline_engine::tracking::freed::{U24_MAX, ZoomProfile, ZoomVendor};
use yardline_engine::venue::{CameraCalibration, EncoderOffsets, Registration, Venue};

use crate::error::CalibrationError;

/// The fixed-lens table's focal length grows by this across the whole zoom range (pixels): the
/// engine's table needs a strictly increasing focal length; this step is far below anything
/// visible.
pub const FIXED_LENS_FX_STEP_PX: f64 = 1e-6;

/// Mount yaw, pitch and roll (degrees) of a head-to-field rotation `M = Rz(-yaw) Rx(pitch)
/// Ry(roll)` (the [`yardline_engine::head`] convention), as a [`Mount`] at `position`.
pub fn mount_from_rotation(m: &Rotation3<f64>, position: [f64; 3]) -> Mount {
    // camera_to_field(level mount, angles) = Rz(-pan) Rx(tilt) Ry(roll) B, so the angles of
    // M * B are M's yaw, pitch and roll.
    let b = camera_to_field(&Mount::default(), &HeadAngles::default());
    let a = angles_from_rotation(&Mount::default(), &(m * b));
    Mount {
        position,
        yaw_deg: a.pan_deg,
        pitch_deg: a.tilt_deg,
        roll_deg: a.roll_deg,
    }
}

/// Head-to-field mount rotation `M` for a camera-to-field rotation seen at head `angles`.
pub fn mount_rotation(cam_to_field: &Rotation3<f64>, angles: &HeadAngles) -> Rotation3<f64> {
    cam_to_field * camera_to_field(&Mount::default(), angles).inverse()
}

/// A lens table that gives the same intrinsics at every zoom (a fixed lens, or a zoom lens
/// calibrated at one zoom position only), for a `width` x `height` image.
pub fn fixed_lens_table(
    k: &Intrinsics,
    width: u32,
    height: u32,
) -> Result<LensTable, CalibrationError> {
    let point = |zoom: f64, fx_add: f64| LensPoint {
        zoom,
        intrinsics: Intrinsics {
            fx: k.fx + fx_add,
            fy: k.fy + fx_add,
            ..*k
        },
        nodal_shift_m: 0.0,
    };
    Ok(LensTable::new(
        width,
        height,
        ZoomProfile::preset(ZoomVendor::Raw),
        vec![
            point(0.0, 0.0),
            point(f64::from(U24_MAX), FIXED_LENS_FX_STEP_PX),
        ],
    )?)
}

/// The registration of a camera solved on a `width` x `height` frame: the camera as it is, no
/// frame index or time.
pub fn registration(camera: &Camera, image_size: (u32, u32)) -> Registration {
    Registration {
        width: image_size.0,
        height: image_size.1,
        frame: None,
        time_s: None,
        camera: *camera,
    }
}

/// The venue calibration of one solved camera (see the module docs): FreeD id and angles from
/// `reading` when given (else `id` and level head angles), `tracking_delay_ns` as given, the
/// camera's intrinsics as a fixed-lens table for a `width` x `height` image, and the camera
/// itself as the registration.
pub fn camera_calibration(
    camera: &Camera,
    image_size: (u32, u32),
    reading: Option<&SensorReading>,
    id: u8,
    tracking_delay_ns: i64,
) -> Result<CameraCalibration, CalibrationError> {
    let angles = reading.map(|r| r.angles).unwrap_or_default();
    if ![angles.pan_deg, angles.tilt_deg, angles.roll_deg]
        .iter()
        .all(|v| v.is_finite())
    {
        return Err(CalibrationError::Input(
            "the FreeD reading's angles are not finite".into(),
        ));
    }
    let c2f = camera.rotation.inverse();
    let m = mount_rotation(&c2f, &angles);
    let centre = camera.centre();
    let mount = mount_from_rotation(&m, [centre.x, centre.y, centre.z]);
    let lens = fixed_lens_table(&camera.intrinsics, image_size.0, image_size.1)?;
    let cal = CameraCalibration {
        id: reading.map_or(id, |r| r.camera_id),
        tracking_delay_ns,
        mount,
        encoder: EncoderOffsets::default(),
        lens,
        registration: Some(registration(camera, image_size)),
    };
    // Validate exactly as the engine's loader does, so the file written always loads.
    Venue {
        cameras: vec![cal.clone()],
    }
    .to_toml_string()?;
    Ok(cal)
}

/// `base` with its head position and mount re-solved from one camera and the FreeD reading of
/// its frame, and that camera as the registration; the id, delay, encoder offsets and lens
/// table stay as they are.
pub fn update_mount(
    base: &CameraCalibration,
    camera: &Camera,
    reading: &SensorReading,
    image_size: (u32, u32),
) -> Result<CameraCalibration, CalibrationError> {
    let angles = base.head_angles(reading);
    let lens = base.lens.at(reading.zoom, image_size.0, image_size.1)?;
    let c2f = camera.rotation.inverse();
    let m = mount_rotation(&c2f, &angles);
    let position = camera.centre() - c2f * nalgebra::Vector3::new(0.0, 0.0, lens.nodal_shift_m);
    let cal = CameraCalibration {
        mount: mount_from_rotation(&m, [position.x, position.y, position.z]),
        registration: Some(registration(camera, image_size)),
        ..base.clone()
    };
    Venue {
        cameras: vec![cal.clone()],
    }
    .to_toml_string()?;
    Ok(cal)
}
