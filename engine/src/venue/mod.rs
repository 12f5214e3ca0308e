//! Venue calibration file (`venue.toml`): per camera the FreeD id, tracking delay, head mount,
//! encoder offsets, zoom lens table and, optionally, the registration the calibration was made
//! on (the exact camera of one frame, to start vision-only tracking from); and the sensor pose
//! built from them.
//!
//! ```toml
//! version = 1
//!
//! [[camera]]
//! id = 1                       # FreeD camera id (0..=255) or OpenTrackIO source number
//! tracking_delay_ns = 33366667 # how long after a frame's pts its FreeD packet arrives (ns)
//!
//! [camera.mount]               # head rotation centre and orientation (head.rs convention)
//! position = [0.0, -55.0, 20.0]
//! yaw_deg = 0.0
//! pitch_deg = 0.0
//! roll_deg = 0.0
//!
//! [camera.encoder]             # added to the decoded FreeD angles (optional, default 0)
//! pan_offset_deg = 0.0
//! tilt_offset_deg = 0.0
//! roll_offset_deg = 0.0
//!
//! [camera.lens]
//! width = 1920                 # image size the table's pixel values are for
//! height = 1080
//! zoom_profile = "raw"         # raw | panasonic | sony | mosys | stype | ncam, or a table
//!                              # { vendor = "custom", zoom_min, zoom_max, focus_min, focus_max }
//!
//! [[camera.lens.points]]       # sorted by zoom; >= 2 points; fx strictly increasing
//! zoom = 0
//! fx = 1662.8
//! fy = 1662.8
//! cx = 959.5
//! cy = 539.5
//! k1 = -0.12
//! k2 = 0.01
//! nodal_shift_m = 0.0
//!
//! # A camera whose OpenTrackIO samples carry the lens (focal length, distortion, entrance
//! # pupil) may have no points and give instead the active sensor width, which spans the
//! # image width: `sensor_width_mm = 9.59` (mm). Points and sensor_width_mm exclude each other.
//!
//! [camera.registration]        # optional: the camera a calibration from clicks solved
//! width = 1920                 # frame size it was made at (pixels)
//! height = 1080
//! frame = 0                    # optional: frame index in the video it was made on
//! time_s = 0.0                 # optional: time of that frame in the video (seconds)
//! rotation = [1.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 1.0, 0.0]  # R, row-major (DESIGN.md camera)
//! translation = [0.0, 20.0, 55.0]                            # t (metres)
//! fx = 1662.8                  # intrinsics at width x height (pixels; k1, k2 unitless)
//! fy = 1662.8
//! cx = 959.5
//! cy = 539.5
//! k1 = -0.12
//! k2 = 0.01
//! ```
//!
//! Unknown keys inside a camera are an error (a misspelt key must not silently become 0). A
//! registration's rotation must be a rotation (orthonormal within
//! [`REGISTRATION_ROTATION_TOLERANCE`], determinant +1); it is kept exactly as written.

#![allow(
    clippy::doc_markdown,
    reason = "FreeD and SciPy are product names, not code identifiers"
)]

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::geometry::Camera;
use crate::head::{HeadAngles, Mount, head_camera};
use crate::lens::{LensError, LensPoint, LensTable};
use crate::tracking::SensorReading;
use crate::tracking::freed::{CountRange, U24_MAX, ZoomProfile, ZoomVendor};
use crate::tracking::sync::SyncConfig;

mod registration;

pub use registration::{
    REGISTRATION_ASPECT_TOLERANCE, REGISTRATION_ROTATION_TOLERANCE, Registration, RegistrationError,
};
use registration::{RegistrationFile, parse_registration, registration_file};

/// The venue file format version this code reads and writes.
pub const VENUE_VERSION: i64 = 1;
/// Largest accepted tracking delay (ns): ten seconds is a misconfiguration, not a delay.
pub const MAX_TRACKING_DELAY_NS: i64 = 10_000_000_000;
/// Largest accepted encoder offset magnitude (degrees).
pub const MAX_ENCODER_OFFSET_DEG: f64 = 360.0;
/// Largest accepted pan magnitude after offsets (degrees); FreeD itself carries +-256.
pub const MAX_ABS_PAN_DEG: f64 = 720.0;
/// Largest accepted tilt magnitude after offsets (degrees).
pub const MAX_ABS_TILT_DEG: f64 = 180.0;
/// Largest accepted roll magnitude after offsets (degrees).
pub const MAX_ABS_ROLL_DEG: f64 = 180.0;
/// Zoom counts beyond the lens table's range by more than this share of the range are refused.
pub const ZOOM_RANGE_MARGIN: f64 = 0.05;
/// Errors loading, validating or saving a venue file.
#[derive(Debug, thiserror::Error)]
pub enum VenueError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Not valid TOML, or a key has the wrong type or is missing (the message names it).
    #[error("venue file is not valid: {0}")]
    Parse(String),
    /// A value is out of range; `key` is its path, e.g. `camera[0].lens.points[1].fx`.
    #[error("venue file: {key}: {reason}")]
    Invalid {
        /// Path of the offending key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The venue could not be written as TOML.
    #[error("cannot write venue as TOML: {0}")]
    Serialize(String),
}

pub(super) fn invalid(key: impl Into<String>, reason: impl Into<String>) -> VenueError {
    VenueError::Invalid {
        key: key.into(),
        reason: reason.into(),
    }
}

/// Why no sensor camera could be built for a reading.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PoseError {
    /// The reading is for another FreeD camera id.
    #[error("reading is for camera id {got}, calibration is for {expected}")]
    CameraMismatch {
        /// The calibration's id.
        expected: u8,
        /// The reading's id.
        got: u8,
    },
    /// A value is NaN, infinite or absurd.
    #[error("sensor {field} = {value} is not usable")]
    BadValue {
        /// Which value (`pan_deg`, `tilt_deg`, `roll_deg`, `zoom`).
        field: &'static str,
        /// The value.
        value: f64,
    },
    /// The lens table cannot answer (bad image size).
    #[error("lens: {0}")]
    Lens(#[from] LensError),
    /// The resulting camera is not finite.
    #[error("sensor camera is not finite")]
    NonFinite,
    /// The venue has no lens table and the reading carries no lens data.
    #[error("the venue has no lens table for camera {0} and the reading carries no lens data")]
    NoLens(u8),
}

/// Offsets added to the decoded FreeD angles before use.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EncoderOffsets {
    /// Added to pan (degrees).
    pub pan_offset_deg: f64,
    /// Added to tilt (degrees).
    pub tilt_offset_deg: f64,
    /// Added to roll (degrees).
    pub roll_offset_deg: f64,
}

/// One camera's calibration: everything between a FreeD reading and a [`Camera`].
#[derive(Debug, Clone, PartialEq)]
pub struct CameraCalibration {
    /// FreeD camera id (0..=255) or OpenTrackIO source number (1..=200).
    pub id: u8,
    /// How long after a frame's pts its FreeD packet arrives (ns).
    pub tracking_delay_ns: i64,
    /// Head rotation centre (field metres) and mount orientation (degrees).
    pub mount: Mount,
    /// Encoder offsets (degrees).
    pub encoder: EncoderOffsets,
    /// Zoom lens table.
    pub lens: LensTable,
    /// The camera a calibration from clicks solved on one frame, when there was one.
    pub registration: Option<Registration>,
}

/// A venue: the calibration of every tracked camera.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Venue {
    /// Cameras, in file order; ids are unique.
    pub cameras: Vec<CameraCalibration>,
}

// ---- file structs (serde) -------------------------------------------------------------------

#[derive(Debug, Serialize, Deserialize)]
struct VenueFile {
    version: i64,
    #[serde(default)]
    camera: Vec<CameraFile>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CameraFile {
    id: i64,
    tracking_delay_ns: i64,
    mount: MountFile,
    #[serde(default)]
    encoder: EncoderOffsets,
    lens: LensFile,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    registration: Option<RegistrationFile>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MountFile {
    position: [f64; 3],
    #[serde(default)]
    yaw_deg: f64,
    #[serde(default)]
    pitch_deg: f64,
    #[serde(default)]
    roll_deg: f64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LensFile {
    width: i64,
    height: i64,
    #[serde(default)]
    zoom_profile: ZoomProfileFile,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    points: Vec<LensPoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sensor_width_mm: Option<f64>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum ZoomProfileFile {
    Name(String),
    Ranges(ZoomRangesFile),
}

impl Default for ZoomProfileFile {
    fn default() -> Self {
        Self::Name(ZoomVendor::Raw.name().into())
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ZoomRangesFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vendor: Option<String>,
    zoom_min: i64,
    zoom_max: i64,
    focus_min: i64,
    focus_max: i64,
}

fn count(key: String, v: i64) -> Result<u32, VenueError> {
    u32::try_from(v)
        .ok()
        .filter(|c| *c <= U24_MAX)
        .ok_or_else(|| invalid(key, format!("{v} is outside 0..=16777215 counts")))
}

fn parse_profile(key: &str, f: &ZoomProfileFile) -> Result<ZoomProfile, VenueError> {
    let vendor_of = |name: &str| {
        ZoomVendor::parse(name).ok_or_else(|| {
            invalid(
                key,
                format!(
                    "unknown zoom profile {name:?} (expected raw, panasonic, sony, mosys, stype, \
                     ncam or a table with zoom_min, zoom_max, focus_min, focus_max)"
                ),
            )
        })
    };
    match f {
        ZoomProfileFile::Name(name) => Ok(ZoomProfile::preset(vendor_of(name)?)),
        ZoomProfileFile::Ranges(r) => {
            let vendor = match &r.vendor {
                Some(v) => vendor_of(v)?,
                None => ZoomVendor::Custom,
            };
            let p = ZoomProfile {
                vendor,
                zoom: CountRange {
                    min: count(format!("{key}.zoom_min"), r.zoom_min)?,
                    max: count(format!("{key}.zoom_max"), r.zoom_max)?,
                },
                focus: CountRange {
                    min: count(format!("{key}.focus_min"), r.focus_min)?,
                    max: count(format!("{key}.focus_max"), r.focus_max)?,
                },
            };
            if p.is_valid() {
                Ok(p)
            } else {
                Err(invalid(key, "each range needs min < max"))
            }
        }
    }
}

pub(super) fn check_finite(key: String, v: f64) -> Result<f64, VenueError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(invalid(key, format!("{v} is not a finite number")))
    }
}

fn parse_camera(i: usize, c: CameraFile) -> Result<CameraCalibration, VenueError> {
    let at = |k: &str| format!("camera[{i}].{k}");
    let id = u8::try_from(c.id)
        .map_err(|_| invalid(at("id"), format!("{} is outside 0..=255", c.id)))?;
    if !(0..=MAX_TRACKING_DELAY_NS).contains(&c.tracking_delay_ns) {
        return Err(invalid(
            at("tracking_delay_ns"),
            format!(
                "{} is outside 0..={MAX_TRACKING_DELAY_NS} ns",
                c.tracking_delay_ns
            ),
        ));
    }
    for (k, v) in c.mount.position.iter().enumerate() {
        check_finite(at(&format!("mount.position[{k}]")), *v)?;
    }
    let mount = Mount {
        position: c.mount.position,
        yaw_deg: check_finite(at("mount.yaw_deg"), c.mount.yaw_deg)?,
        pitch_deg: check_finite(at("mount.pitch_deg"), c.mount.pitch_deg)?,
        roll_deg: check_finite(at("mount.roll_deg"), c.mount.roll_deg)?,
    };
    let e = c.encoder;
    for (k, v) in [
        ("encoder.pan_offset_deg", e.pan_offset_deg),
        ("encoder.tilt_offset_deg", e.tilt_offset_deg),
        ("encoder.roll_offset_deg", e.roll_offset_deg),
    ] {
        check_finite(at(k), v)?;
        if v.abs() > MAX_ENCODER_OFFSET_DEG {
            return Err(invalid(
                at(k),
                format!("{v} exceeds +-{MAX_ENCODER_OFFSET_DEG} degrees"),
            ));
        }
    }
    let size = |k: &str, v: i64| {
        u32::try_from(v)
            .ok()
            .filter(|s| *s > 0)
            .ok_or_else(|| invalid(at(k), format!("{v} is not a positive image size")))
    };
    let width = size("lens.width", c.lens.width)?;
    let height = size("lens.height", c.lens.height)?;
    let profile = parse_profile(&at("lens.zoom_profile"), &c.lens.zoom_profile)?;
    let lens = match c.lens.sensor_width_mm {
        None => LensTable::new(width, height, profile, c.lens.points),
        Some(_) if !c.lens.points.is_empty() => {
            return Err(invalid(
                at("lens.sensor_width_mm"),
                "give either lens points (a lens table) or sensor_width_mm (the lens from the tracking data), not both",
            ));
        }
        Some(w) => LensTable::from_tracking(width, height, profile, w),
    }
    .map_err(|e| invalid(at(&format!("lens.{}", e.key)), e.reason))?;
    let registration = c
        .registration
        .as_ref()
        .map(|r| parse_registration(&at("registration"), r))
        .transpose()?;
    Ok(CameraCalibration {
        id,
        tracking_delay_ns: c.tracking_delay_ns,
        mount,
        encoder: e,
        lens,
        registration,
    })
}

fn profile_file(p: &ZoomProfile) -> ZoomProfileFile {
    if p.is_preset() && p.vendor != ZoomVendor::Custom {
        ZoomProfileFile::Name(p.vendor.name().into())
    } else {
        ZoomProfileFile::Ranges(ZoomRangesFile {
            vendor: (p.vendor != ZoomVendor::Custom).then(|| p.vendor.name().into()),
            zoom_min: i64::from(p.zoom.min),
            zoom_max: i64::from(p.zoom.max),
            focus_min: i64::from(p.focus.min),
            focus_max: i64::from(p.focus.max),
        })
    }
}

impl Venue {
    /// Parses and validates a venue file's text.
    pub fn from_toml_str(text: &str) -> Result<Self, VenueError> {
        let file: VenueFile = toml::from_str(text).map_err(|e| VenueError::Parse(e.to_string()))?;
        if file.version != VENUE_VERSION {
            return Err(invalid(
                "version",
                format!(
                    "unsupported version {} (this build reads {VENUE_VERSION})",
                    file.version
                ),
            ));
        }
        if file.camera.is_empty() {
            return Err(invalid("camera", "the venue has no [[camera]]"));
        }
        let mut cameras = Vec::with_capacity(file.camera.len());
        for (i, c) in file.camera.into_iter().enumerate() {
            let cam = parse_camera(i, c)?;
            if let Some(j) = cameras
                .iter()
                .position(|o: &CameraCalibration| o.id == cam.id)
            {
                return Err(invalid(
                    format!("camera[{i}].id"),
                    format!("id {} is already used by camera[{j}]", cam.id),
                ));
            }
            cameras.push(cam);
        }
        Ok(Self { cameras })
    }

    /// Reads and validates a venue file.
    pub fn load(path: &Path) -> Result<Self, VenueError> {
        let text = std::fs::read_to_string(path).map_err(|source| VenueError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml_str(&text).map_err(|e| match e {
            VenueError::Parse(m) => VenueError::Parse(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// The venue as TOML text in the file format; validates first (a venue built in code can
    /// hold values the loader would refuse).
    pub fn to_toml_string(&self) -> Result<String, VenueError> {
        let file = VenueFile {
            version: VENUE_VERSION,
            camera: self
                .cameras
                .iter()
                .map(|c| {
                    Ok(CameraFile {
                        id: i64::from(c.id),
                        tracking_delay_ns: c.tracking_delay_ns,
                        mount: MountFile {
                            position: c.mount.position,
                            yaw_deg: c.mount.yaw_deg,
                            pitch_deg: c.mount.pitch_deg,
                            roll_deg: c.mount.roll_deg,
                        },
                        encoder: c.encoder,
                        lens: LensFile {
                            width: i64::from(c.lens.width()),
                            height: i64::from(c.lens.height()),
                            zoom_profile: profile_file(c.lens.zoom_profile()),
                            points: c.lens.points().to_vec(),
                            sensor_width_mm: c.lens.sensor_width_mm(),
                        },
                        registration: c.registration.as_ref().map(registration_file).transpose()?,
                    })
                })
                .collect::<Result<_, VenueError>>()?,
        };
        let text = toml::to_string(&file).map_err(|e| VenueError::Serialize(e.to_string()))?;
        // Round-trip through the loader so a saved file always loads.
        Self::from_toml_str(&text)?;
        Ok(text)
    }

    /// Writes the venue file.
    pub fn save(&self, path: &Path) -> Result<(), VenueError> {
        let text = self.to_toml_string()?;
        std::fs::write(path, text).map_err(|source| VenueError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The calibration of FreeD camera `id`.
    pub fn camera(&self, id: u8) -> Option<&CameraCalibration> {
        self.cameras.iter().find(|c| c.id == id)
    }
}

fn check_angle(field: &'static str, value: f64, limit: f64) -> Result<f64, PoseError> {
    if value.is_finite() && value.abs() <= limit {
        Ok(value)
    } else {
        Err(PoseError::BadValue { field, value })
    }
}

impl CameraCalibration {
    /// Head angles (degrees) for a reading: the reported angles plus the encoder offsets.
    pub fn head_angles(&self, reading: &SensorReading) -> HeadAngles {
        HeadAngles {
            pan_deg: reading.angles.pan_deg + self.encoder.pan_offset_deg,
            tilt_deg: reading.angles.tilt_deg + self.encoder.tilt_offset_deg,
            roll_deg: reading.angles.roll_deg + self.encoder.roll_offset_deg,
        }
    }

    /// Sync settings for this camera: its id and delay, one packet per frame of
    /// `frame_period_ns`.
    pub fn sync_config(&self, frame_period_ns: f64) -> SyncConfig {
        let mut c = SyncConfig::for_frame_period(frame_period_ns, self.tracking_delay_ns);
        c.camera_id = Some(self.id);
        c
    }

    /// The sensor camera for a reading and a `width` x `height` video: encoder angles plus
    /// offsets, the lens table at the reading's zoom (scaled to the video size), and
    /// [`head_camera`] on the venue mount; a venue camera without a lens table takes the
    /// reading's own lens ([`LensTable::from_sample`]). The packet's x/y/z are not used (fixed heads: the
    /// mount gives the position). NaN or absurd values are an error, never a camera.
    pub fn camera_for(
        &self,
        reading: &SensorReading,
        width: u32,
        height: u32,
    ) -> Result<Camera, PoseError> {
        if reading.camera_id != self.id {
            return Err(PoseError::CameraMismatch {
                expected: self.id,
                got: reading.camera_id,
            });
        }
        let a = self.head_angles(reading);
        let angles = HeadAngles {
            pan_deg: check_angle("pan_deg", a.pan_deg, MAX_ABS_PAN_DEG)?,
            tilt_deg: check_angle("tilt_deg", a.tilt_deg, MAX_ABS_TILT_DEG)?,
            roll_deg: check_angle("roll_deg", a.roll_deg, MAX_ABS_ROLL_DEG)?,
        };
        if self.lens.is_from_tracking() {
            let sample = reading.lens.as_ref().ok_or(PoseError::NoLens(self.id))?;
            let lens = self.lens.from_sample(sample, width, height)?;
            return finite_camera(head_camera(
                &self.mount,
                &angles,
                lens.intrinsics,
                lens.nodal_shift_m,
            ));
        }
        if !(reading.zoom.is_finite() && (0.0..=f64::from(U24_MAX)).contains(&reading.zoom)) {
            return Err(PoseError::BadValue {
                field: "zoom",
                value: reading.zoom,
            });
        }
        // Counts far outside the calibrated range are a fault, not the end of the table.
        let (lo, hi) = self.lens.zoom_range();
        let margin = ZOOM_RANGE_MARGIN * (hi - lo).max(1.0);
        if reading.zoom < lo - margin || reading.zoom > hi + margin {
            return Err(PoseError::BadValue {
                field: "zoom",
                value: reading.zoom,
            });
        }
        let lens = self.lens.at(reading.zoom, width, height)?;
        finite_camera(head_camera(
            &self.mount,
            &angles,
            lens.intrinsics,
            lens.nodal_shift_m,
        ))
    }
}

fn finite_camera(cam: Camera) -> Result<Camera, PoseError> {
    let finite = cam.translation.iter().all(|v| v.is_finite())
        && cam.rotation.matrix().iter().all(|v| v.is_finite());
    if finite {
        Ok(cam)
    } else {
        Err(PoseError::NonFinite)
    }
}
