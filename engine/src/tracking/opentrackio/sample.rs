//! The OpenTrackIO sample (JSON or CBOR payload) as far as yardline reads it, and the
//! [`SensorReading`] it gives.
//!
//! Field names and units follow the OpenTrackIO schema (camelCase keys; metres, degrees,
//! millimetres for focal length and sensor size); every field is optional on the wire and
//! unknown fields are ignored. What the engine needs is checked by [`OpenTrackIoSample::reading`].

use nalgebra::{Rotation3, Vector3};
use serde::{Deserialize, Serialize};

use super::OpenTrackIoError;
use super::fit::{FullDistortion, MAX_RADIAL};
use crate::head::HeadAngles;
use crate::tracking::SensorReading;
use crate::tracking::freed::U24_MAX;
use crate::tracking::timecode::Timecode;

/// Largest OpenTrackIO source number; 0 and 201..=255 are reserved and dropped.
pub const MAX_SOURCE_NUMBER: u32 = 200;
/// Most transforms composed for one sample (a longer chain is refused).
pub const MAX_TRANSFORMS: usize = 16;

/// A rational number (`num / denom`), as OpenTrackIO writes rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rational {
    /// Numerator (count).
    pub num: u32,
    /// Denominator (count, >= 1).
    pub denom: u32,
}

/// `timing.timecode`: SMPTE timecode of the sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimecodeField {
    /// Hours (0..=23).
    pub hours: u8,
    /// Minutes (0..=59).
    pub minutes: u8,
    /// Seconds (0..=59).
    pub seconds: u8,
    /// Frames (0..=119).
    pub frames: u8,
    /// Timecode rate (frames per second as a rational).
    pub frame_rate: Rational,
    /// Sub-frame (field) index (count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_frame: Option<u32>,
    /// Drop-frame counting (NTSC rates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_frame: Option<bool>,
}

/// A PTP timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timestamp {
    /// Seconds since the PTP epoch (s).
    pub seconds: u64,
    /// Nanoseconds within the second (ns).
    pub nanoseconds: u32,
}

/// `timing`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Timing {
    /// `internal` or `external`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Sample rate (samples per second as a rational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<Rational>,
    /// PTP time of the capture instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_timestamp: Option<Timestamp>,
    /// PTP time of the recording instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_timestamp: Option<Timestamp>,
    /// Sample counter (count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<u64>,
    /// SMPTE timecode of the sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timecode: Option<TimecodeField>,
}

/// One `lens.distortion` entry.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Distortion {
    /// Model name; absent means `Brown-Conrady D-U`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Radial coefficients k1.. on the radius in millimetres on the sensor (1/mm^2, 1/mm^4, ...).
    pub radial: Vec<f64>,
    /// Tangential coefficients p1, p2 (1/mm); the engine's camera has none: a sample with them
    /// gets its two radial terms fitted over the image ([`FullDistortion`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tangential: Option<Vec<f64>>,
    /// Overscan factor (unitless).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overscan: Option<f64>,
}

/// An `{x, y}` pair.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Xy {
    /// x (unit of the field using it).
    pub x: f64,
    /// y (unit of the field using it).
    pub y: f64,
}

/// An `{x, y, z}` triple.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Xyz {
    /// x (unit of the field using it).
    pub x: f64,
    /// y (unit of the field using it).
    pub y: f64,
    /// z (unit of the field using it).
    pub z: f64,
}

/// Normalised lens encoders.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Encoders {
    /// Focus (0 = infinity .. 1 = closest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub focus: Option<f64>,
    /// Iris (0 = open .. 1 = closed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iris: Option<f64>,
    /// Zoom (0 = wide .. 1 = tele).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoom: Option<f64>,
}

/// Raw lens encoders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RawEncoders {
    /// Focus (raw counts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub focus: Option<u64>,
    /// Iris (raw counts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iris: Option<u64>,
    /// Zoom (raw counts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoom: Option<u64>,
}

/// `lens`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lens {
    /// Distortion models; the first one is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distortion: Option<Vec<Distortion>>,
    /// Centre of distortion offset (mm).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distortion_offset: Option<Xy>,
    /// Normalised encoders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoders: Option<Encoders>,
    /// Entrance pupil offset from the image plane, positive toward the object (m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrance_pupil_offset: Option<f64>,
    /// f-number (unitless).
    #[serde(default, rename = "fStop", skip_serializing_if = "Option::is_none")]
    pub f_stop: Option<f64>,
    /// T-number (unitless).
    #[serde(default, rename = "tStop", skip_serializing_if = "Option::is_none")]
    pub t_stop: Option<f64>,
    /// Pinhole focal length (mm).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinhole_focal_length: Option<f64>,
    /// Focal length of schema versions before `pinholeFocalLength` (mm).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub focal_length: Option<f64>,
    /// Focus distance (m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub focus_distance: Option<f64>,
    /// Centre of projection offset (mm).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projection_offset: Option<Xy>,
    /// Raw encoders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_encoders: Option<RawEncoders>,
}

/// Pan, tilt and roll as OpenTrackIO writes them (degrees, see the module docs of
/// [`crate::tracking::opentrackio`] for the signs).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Rotation {
    /// Pan about +Z (degrees).
    pub pan: f64,
    /// Tilt about +X (degrees).
    pub tilt: f64,
    /// Roll about +Y (degrees).
    pub roll: f64,
}

/// One entry of `transforms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transform {
    /// Position relative to the parent (metres).
    pub translation: Xyz,
    /// Orientation relative to the parent (degrees).
    pub rotation: Rotation,
    /// Scale (unitless); not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<Xyz>,
    /// Name, e.g. `Camera`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// `protocol`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Protocol {
    /// `OpenTrackIO`.
    pub name: String,
    /// Version numbers (major, minor, patch).
    pub version: Vec<u32>,
}

/// Width and height of the active sensor area (mm).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SensorSize {
    /// Width (mm).
    pub width: f64,
    /// Height (mm).
    pub height: f64,
}

/// `static.camera`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StaticCamera {
    /// Active sensor area (mm).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_sensor_physical_dimensions: Option<SensorSize>,
    /// Camera label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// `static`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Static {
    /// Camera description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camera: Option<StaticCamera>,
}

/// An OpenTrackIO sample: the fields yardline reads.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenTrackIoSample {
    /// Protocol name and version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// URN of this sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_id: Option<String>,
    /// URN of the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    /// Source number (1..=200): the engine's camera id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_number: Option<u32>,
    /// URNs of related samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related_sample_ids: Option<Vec<String>>,
    /// Timing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
    /// Lens state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lens: Option<Lens>,
    /// Transform chain, parent first; the last is the camera sensor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transforms: Option<Vec<Transform>>,
    /// Static data (sent now and then).
    #[serde(default, rename = "static", skip_serializing_if = "Option::is_none")]
    pub static_data: Option<Static>,
}

/// Lens state a sample carries, in the engine's terms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SampleLens {
    /// Pinhole focal length (mm).
    pub focal_length_mm: f64,
    /// First radial coefficient on the normalised radius (unitless, DESIGN.md camera).
    pub k1: f64,
    /// Second radial coefficient on the normalised radius (unitless).
    pub k2: f64,
    /// Optical centre ahead of the head's rotation centre along the optical axis (m): the
    /// entrance pupil offset.
    pub nodal_shift_m: f64,
    /// Projection centre offset on the sensor (mm, x right, y up as OpenTrackIO writes it).
    pub projection_offset_mm: [f64; 2],
    /// Active sensor width when the sample carries static camera data (mm).
    pub sensor_width_mm: Option<f64>,
    /// The whole distortion model when it holds terms `k1`, `k2` cannot (a third or later
    /// radial term, a tangential one): the camera then takes the two radial terms fitted to
    /// it over the image (`LensTable::from_sample`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_distortion: Option<FullDistortion>,
}

fn finite(field: &'static str, v: f64) -> Result<f64, OpenTrackIoError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(OpenTrackIoError::BadValue { field, value: v })
    }
}

/// OpenTrackIO rotation (intrinsic Z-X-Y, right-handed) as a matrix: `Rz(pan) Rx(tilt) Ry(roll)`.
fn rotation(r: &Rotation) -> Rotation3<f64> {
    Rotation3::from_axis_angle(&Vector3::z_axis(), r.pan.to_radians())
        * Rotation3::from_axis_angle(&Vector3::x_axis(), r.tilt.to_radians())
        * Rotation3::from_axis_angle(&Vector3::y_axis(), r.roll.to_radians())
}

/// Brown-Conrady radial coefficients (on the radius in mm) to the engine's (normalised radius).
/// `U-D` maps undistorted to distorted like the engine; `D-U` (the default) is inverted to
/// fourth order (`k1 = -d1`, `k2 = 3 d1^2 - d2`).
fn engine_radial(d: &Distortion, focal_mm: f64) -> Result<(f64, f64), OpenTrackIoError> {
    let r1 = finite(
        "lens.distortion.radial",
        d.radial.first().copied().unwrap_or(0.0),
    )?;
    let r2 = finite(
        "lens.distortion.radial",
        d.radial.get(1).copied().unwrap_or(0.0),
    )?;
    // r_mm = F r: a coefficient on r_mm^2n is F^2n times the one on r^2n.
    let f2 = focal_mm * focal_mm;
    let (a1, a2) = (r1 * f2, r2 * f2 * f2);
    match d.model.as_deref().unwrap_or("Brown-Conrady D-U") {
        "Brown-Conrady U-D" => Ok((a1, a2)),
        "Brown-Conrady D-U" => Ok((-a1, 3.0 * a1 * a1 - a2)),
        other => Err(OpenTrackIoError::DistortionModel(other.to_owned())),
    }
}

/// The whole model of `d` in the engine's normalised terms (the n-th radial coefficient times
/// `F^2n`, tangential ones times `F`, F the pinhole focal length in mm), when it holds terms
/// the engine's two radial ones cannot: a radial term past the second or a tangential one.
fn full_distortion(
    d: &Distortion,
    focal_mm: f64,
) -> Result<Option<FullDistortion>, OpenTrackIoError> {
    let tangential = d.tangential.as_deref().unwrap_or_default();
    let beyond = d.radial.iter().skip(2).any(|k| *k != 0.0) || tangential.iter().any(|p| *p != 0.0);
    if !beyond {
        return Ok(None);
    }
    let distorted_to_undistorted = match d.model.as_deref().unwrap_or("Brown-Conrady D-U") {
        "Brown-Conrady U-D" => false,
        "Brown-Conrady D-U" => true,
        other => return Err(OpenTrackIoError::DistortionModel(other.to_owned())),
    };
    let f2 = focal_mm * focal_mm;
    let mut radial = [0.0; MAX_RADIAL];
    let mut scale = 1.0;
    for (k, &v) in radial.iter_mut().zip(&d.radial) {
        scale *= f2;
        *k = finite("lens.distortion.radial", v)? * scale;
    }
    let mut p = [0.0; 2];
    for (p, &v) in p.iter_mut().zip(tangential) {
        *p = finite("lens.distortion.tangential", v)? * focal_mm;
    }
    Ok(Some(FullDistortion {
        distorted_to_undistorted,
        radial,
        tangential: p,
    }))
}

impl OpenTrackIoSample {
    /// The sample's timecode, when it carries a valid one.
    pub fn timecode(&self) -> Result<Option<Timecode>, OpenTrackIoError> {
        let Some(tc) = self.timing.as_ref().and_then(|t| t.timecode) else {
            return Ok(None);
        };
        Timecode::new(
            [tc.hours, tc.minutes, tc.seconds, tc.frames],
            (tc.frame_rate.num, tc.frame_rate.denom),
            tc.drop_frame.unwrap_or(false),
        )
        .map(Some)
        .map_err(|e| OpenTrackIoError::Timecode(e.to_string()))
    }

    /// The camera's pose in the stage frame: the transforms composed parent first
    /// (camera-to-stage rotation, position in metres).
    pub fn camera_pose(&self) -> Result<(Rotation3<f64>, [f64; 3]), OpenTrackIoError> {
        let transforms = match self.transforms.as_deref() {
            None | Some([]) => return Err(OpenTrackIoError::Missing("transforms")),
            Some(t) if t.len() > MAX_TRANSFORMS => {
                return Err(OpenTrackIoError::TooManyTransforms(t.len()));
            }
            Some(t) => t,
        };
        let mut rot = Rotation3::identity();
        let mut pos = Vector3::zeros();
        for t in transforms {
            for (field, v) in [
                ("transforms.rotation.pan", t.rotation.pan),
                ("transforms.rotation.tilt", t.rotation.tilt),
                ("transforms.rotation.roll", t.rotation.roll),
                ("transforms.translation.x", t.translation.x),
                ("transforms.translation.y", t.translation.y),
                ("transforms.translation.z", t.translation.z),
            ] {
                finite(field, v)?;
            }
            pos += rot * Vector3::new(t.translation.x, t.translation.y, t.translation.z);
            rot *= rotation(&t.rotation);
        }
        Ok((rot, [pos.x, pos.y, pos.z]))
    }

    /// The head angles in the engine's FreeD convention ([`crate::head`]): pan is negated
    /// (OpenTrackIO turns positive to the left), tilt and roll keep their signs. One transform
    /// maps exactly; a chain is composed and its angles extracted (valid away from tilt = +-90).
    pub fn head_angles(&self) -> Result<HeadAngles, OpenTrackIoError> {
        if let Some([t]) = self.transforms.as_deref() {
            self.camera_pose()?;
            return Ok(HeadAngles {
                pan_deg: -t.rotation.pan,
                tilt_deg: t.rotation.tilt,
                roll_deg: t.rotation.roll,
            });
        }
        let (rot, _) = self.camera_pose()?;
        let h = rot.into_inner();
        // H = Rz(-pan) Rx(tilt) Ry(roll) in the engine's signs; see head::angles_from_rotation.
        let tilt = h[(2, 1)].clamp(-1.0, 1.0).asin();
        let pan = h[(0, 1)].atan2(h[(1, 1)]);
        let roll = (-h[(2, 0)]).atan2(h[(2, 2)]);
        Ok(HeadAngles {
            pan_deg: pan.to_degrees(),
            tilt_deg: tilt.to_degrees(),
            roll_deg: roll.to_degrees(),
        })
    }

    /// The lens state in the engine's terms, when the sample carries a focal length.
    pub fn sample_lens(&self) -> Result<Option<SampleLens>, OpenTrackIoError> {
        let Some(lens) = self.lens.as_ref() else {
            return Ok(None);
        };
        let Some(focal) = lens.pinhole_focal_length.or(lens.focal_length) else {
            return Ok(None);
        };
        let focal_length_mm = finite("lens.pinholeFocalLength", focal)?;
        if focal_length_mm <= 0.0 {
            return Err(OpenTrackIoError::BadValue {
                field: "lens.pinholeFocalLength",
                value: focal_length_mm,
            });
        }
        let distortion = lens.distortion.as_deref().and_then(<[_]>::first);
        let (k1, k2) = match distortion {
            Some(d) => engine_radial(d, focal_length_mm)?,
            None => (0.0, 0.0),
        };
        let full_distortion = match distortion {
            Some(d) => full_distortion(d, focal_length_mm)?,
            None => None,
        };
        let nodal_shift_m = finite(
            "lens.entrancePupilOffset",
            lens.entrance_pupil_offset.unwrap_or(0.0),
        )?;
        let off = lens.projection_offset.unwrap_or(Xy { x: 0.0, y: 0.0 });
        let sensor_width_mm = self
            .static_data
            .as_ref()
            .and_then(|s| s.camera.as_ref())
            .and_then(|c| c.active_sensor_physical_dimensions)
            .map(|d| finite("static.camera.activeSensorPhysicalDimensions", d.width))
            .transpose()?
            .filter(|w| *w > 0.0);
        Ok(Some(SampleLens {
            focal_length_mm,
            k1: finite("lens.distortion.radial", k1)?,
            k2: finite("lens.distortion.radial", k2)?,
            nodal_shift_m,
            projection_offset_mm: [
                finite("lens.projectionOffset", off.x)?,
                finite("lens.projectionOffset", off.y)?,
            ],
            sensor_width_mm,
            full_distortion,
        }))
    }

    /// The engine's reading: camera id = source number, angles in the FreeD convention,
    /// position in millimetres, zoom and focus as raw encoder counts when sent, else the
    /// normalised encoders scaled to FreeD's 24-bit count range (0 when neither is sent),
    /// lens state and timecode when present. A sample without transforms, with a reserved
    /// source number or with a non-finite value is an error.
    pub fn reading(&self) -> Result<SensorReading, OpenTrackIoError> {
        let source = self
            .source_number
            .ok_or(OpenTrackIoError::Missing("sourceNumber"))?;
        let camera_id = u8::try_from(source)
            .ok()
            .filter(|n| (1..=MAX_SOURCE_NUMBER).contains(&u32::from(*n)))
            .ok_or(OpenTrackIoError::SourceNumber(source))?;
        let angles = self.head_angles()?;
        let (_, pos) = self.camera_pose()?;
        let lens = self.lens.as_ref();
        let count = |raw: Option<u64>, norm: Option<f64>, field: &'static str| {
            #[allow(
                clippy::cast_precision_loss,
                reason = "encoder counts are far below 2^53"
            )]
            let v = match (raw, norm) {
                (Some(r), _) => r as f64,
                (None, Some(n)) => finite(field, n)? * f64::from(U24_MAX),
                (None, None) => 0.0,
            };
            Ok::<f64, OpenTrackIoError>(v)
        };
        let raw = lens.and_then(|l| l.raw_encoders).unwrap_or_default();
        let enc = lens.and_then(|l| l.encoders).unwrap_or_default();
        Ok(SensorReading {
            camera_id,
            angles,
            position_mm: pos.map(|v| v * 1000.0),
            zoom: count(raw.zoom, enc.zoom, "lens.encoders.zoom")?,
            focus: count(raw.focus, enc.focus, "lens.encoders.focus")?,
            lens: self.sample_lens()?,
            timecode: self.timecode()?,
        })
    }
}
