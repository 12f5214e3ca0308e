//! Head registration: the head position, mount orientation and encoder offsets from several
//! registered frames (clicked landmarks) with the FreeD reading of each frame, by nonlinear
//! least squares (Levenberg-Marquardt) on the click reprojection errors of all frames at once.
//!
//! Each frame's camera is `head_camera(mount, reading angles + offsets, lens_i)`
//! ([`yardline_engine::head`], nodal shift 0). A frame's lens is either known (e.g. from a lens
//! table) or solved with the head: its focal length, and `k1`/`k2` on request (a zoom sweep).
//!
//! Gauge: a pan encoder offset cannot be told from the mount's yaw (both turn the head about
//! its vertical axis before anything else), so the pan offset is 0 and the mount yaw carries
//! it. The tilt and roll offsets are solved; they are only told apart from the mount's pitch
//! and roll when the frames span a range of pan angles, and a weak prior
//! ([`HeadOptions::offset_prior_deg`]) keeps them near 0 where they are not.

use nalgebra::{DVector, Matrix3, Point3, Rotation3};
use yardline_engine::geometry::Intrinsics;
use yardline_engine::head::{HeadAngles, Mount, head_camera};
use yardline_engine::tracking::SensorReading;
use yardline_engine::venue::EncoderOffsets;

use crate::error::CalibrationError;
use crate::landmarks::{Correspondence, rms, solve_landmarks};
use crate::lm::{self, LmOptions};
use crate::venue::{mount_from_rotation, mount_rotation};

/// Fewest frames for a head registration (count).
pub const MIN_HEAD_FRAMES: usize = 3;
/// Residual of a point that does not project (pixels).
const LOST_PX: f64 = 100.0;

/// One registered frame: clicked landmarks and the FreeD reading of the frame.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisteredFrame {
    /// Clicked points (>= 4).
    pub points: Vec<Correspondence>,
    /// The FreeD reading of the frame (angles before offsets, zoom counts).
    pub reading: SensorReading,
    /// The lens when known; `None` solves it with the head.
    pub intrinsics: Option<Intrinsics>,
}

/// Settings of the head registration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeadOptions {
    /// Solve `k1` of frames whose lens is not known.
    pub estimate_k1: bool,
    /// Solve `k2` of frames whose lens is not known.
    pub estimate_k2: bool,
    /// Prior standard deviation of the tilt and roll encoder offsets (degrees).
    pub offset_prior_deg: f64,
    /// Prior standard deviation of a solved `k1` around 0 (unitless): keeps it put at tight
    /// zoom, where the image does not see it.
    pub k1_prior: f64,
    /// The same for `k2`.
    pub k2_prior: f64,
}

impl Default for HeadOptions {
    fn default() -> Self {
        Self {
            estimate_k1: true,
            estimate_k2: true,
            offset_prior_deg: 1.0,
            k1_prior: 0.5,
            k2_prior: 0.2,
        }
    }
}

/// The solved head.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadSolution {
    /// Head rotation centre (field metres) and mount orientation (degrees).
    pub mount: Mount,
    /// Encoder offsets (degrees; pan is 0, see the module docs).
    pub encoder: EncoderOffsets,
    /// The lens of each frame (as given, or solved).
    pub intrinsics: Vec<Intrinsics>,
    /// Per frame, per point residual (pixels).
    pub residuals_px: Vec<Vec<f64>>,
    /// RMS over all points used (pixels).
    pub rms_px: f64,
    /// Per frame, the indices of the points left out as outliers by the frame's own solve.
    pub outliers: Vec<Vec<usize>>,
}

/// Per-frame parameter layout.
struct Layout {
    /// Start index of each frame's lens parameters (`None`: lens known).
    offset: Vec<Option<usize>>,
    per_frame: usize,
    len: usize,
}

const HEAD_PARAMS: usize = 8;

fn frame_error(i: usize, e: &CalibrationError) -> CalibrationError {
    if e.is_input_error() {
        CalibrationError::Input(format!("frame {i}: {e}"))
    } else {
        CalibrationError::Solve(format!("frame {i}: {e}"))
    }
}

/// Registers the head from `frames` of a `width` x `height` camera.
pub fn solve_head(
    frames: &[RegisteredFrame],
    image_size: (u32, u32),
    opts: &HeadOptions,
) -> Result<HeadSolution, CalibrationError> {
    if frames.len() < MIN_HEAD_FRAMES {
        return Err(CalibrationError::Input(format!(
            "head registration needs at least {MIN_HEAD_FRAMES} frames, has {}",
            frames.len()
        )));
    }
    let id = frames[0].reading.camera_id;
    for (i, f) in frames.iter().enumerate() {
        if f.reading.camera_id != id {
            return Err(CalibrationError::Input(format!(
                "frame {i}: FreeD camera id {} (frame 0 has {id})",
                f.reading.camera_id
            )));
        }
        if !f.reading.is_finite() {
            return Err(CalibrationError::Input(format!(
                "frame {i}: the FreeD reading is not finite"
            )));
        }
    }
    // Each frame on its own first: a start for everything.
    let mut sols = Vec::with_capacity(frames.len());
    for (i, f) in frames.iter().enumerate() {
        let s = solve_landmarks(&f.points, image_size, f.intrinsics.as_ref())
            .map_err(|e| frame_error(i, &e))?;
        sols.push(s);
    }
    // Position: wide frames see it best (weights 1 / fx^2).
    let (mut wsum, mut pos) = (0.0, nalgebra::Vector3::zeros());
    let mut msum = Matrix3::zeros();
    for (f, s) in frames.iter().zip(&sols) {
        let w = 1.0 / s.camera.intrinsics.fx.powi(2);
        wsum += w;
        pos += s.camera.centre().coords * w;
        let m = mount_rotation(&s.camera.rotation.inverse(), &f.reading.angles);
        msum += m.matrix();
    }
    let pos = pos / wsum;
    let m0 = Rotation3::from_matrix(&msum);
    let mount0 = mount_from_rotation(&m0, [pos.x, pos.y, pos.z]);
    let per_frame = 1 + usize::from(opts.estimate_k1) + usize::from(opts.estimate_k2);
    let mut offset = Vec::with_capacity(frames.len());
    let mut len = HEAD_PARAMS;
    for f in frames {
        if f.intrinsics.is_some() {
            offset.push(None);
        } else {
            offset.push(Some(len));
            len += per_frame;
        }
    }
    let layout = Layout {
        offset,
        per_frame,
        len,
    };
    let mut x0 = DVector::zeros(layout.len);
    x0[0] = mount0.position[0];
    x0[1] = mount0.position[1];
    x0[2] = mount0.position[2];
    x0[3] = mount0.yaw_deg;
    x0[4] = mount0.pitch_deg;
    x0[5] = mount0.roll_deg;
    let base_k: Vec<Intrinsics> = frames
        .iter()
        .zip(&sols)
        .map(|(f, s)| f.intrinsics.unwrap_or(s.camera.intrinsics))
        .collect();
    for (i, o) in layout.offset.iter().enumerate() {
        if let Some(o) = o {
            let mut j = o + 1;
            if opts.estimate_k1 {
                x0[j] = base_k[i].k1;
                j += 1;
            }
            if opts.estimate_k2 {
                x0[j] = base_k[i].k2;
            }
        }
    }
    let used: Vec<Vec<usize>> = sols
        .iter()
        .map(|s| {
            (0..s.residuals_px.len())
                .filter(|i| !s.outliers.contains(i))
                .collect()
        })
        .collect();
    let unpack = |p: &[f64]| -> (Mount, EncoderOffsets, Vec<Intrinsics>) {
        let mount = Mount {
            position: [p[0], p[1], p[2]],
            yaw_deg: p[3],
            pitch_deg: p[4],
            roll_deg: p[5],
        };
        let enc = EncoderOffsets {
            pan_offset_deg: 0.0,
            tilt_offset_deg: p[6],
            roll_offset_deg: p[7],
        };
        let ks = base_k
            .iter()
            .zip(&layout.offset)
            .map(|(k, o)| match o {
                None => *k,
                Some(o) => {
                    let s = p[*o].exp();
                    let mut j = o + 1;
                    let mut out = Intrinsics {
                        fx: k.fx * s,
                        fy: k.fy * s,
                        ..*k
                    };
                    if opts.estimate_k1 {
                        out.k1 = p[j];
                        j += 1;
                    }
                    if opts.estimate_k2 {
                        out.k2 = p[j];
                    }
                    out
                }
            })
            .collect();
        (mount, enc, ks)
    };
    let angles_of = |r: &SensorReading, e: &EncoderOffsets| HeadAngles {
        pan_deg: r.angles.pan_deg + e.pan_offset_deg,
        tilt_deg: r.angles.tilt_deg + e.tilt_offset_deg,
        roll_deg: r.angles.roll_deg + e.roll_offset_deg,
    };
    let f = |p: &DVector<f64>| -> Option<DVector<f64>> {
        let (mount, enc, ks) = unpack(p.as_slice());
        let mut out = Vec::new();
        for ((fr, k), u) in frames.iter().zip(&ks).zip(&used) {
            let cam = head_camera(&mount, &angles_of(&fr.reading, &enc), *k, 0.0);
            for &i in u {
                let c = fr.points[i];
                let (du, dv) = cam
                    .project(&Point3::from(c.field))
                    .map_or((LOST_PX, LOST_PX), |q| (q.x - c.image[0], q.y - c.image[1]));
                out.push(du);
                out.push(dv);
            }
        }
        out.push(p[6] / opts.offset_prior_deg);
        out.push(p[7] / opts.offset_prior_deg);
        for o in layout.offset.iter().flatten() {
            let mut j = o + 1;
            if opts.estimate_k1 {
                out.push(p[j] / opts.k1_prior);
                j += 1;
            }
            if opts.estimate_k2 {
                out.push(p[j] / opts.k2_prior);
            }
        }
        Some(DVector::from_vec(out))
    };
    let mut steps = vec![1e-4, 1e-4, 1e-4, 1e-5, 1e-5, 1e-5, 1e-5, 1e-5];
    for _ in frames.iter().filter(|f| f.intrinsics.is_none()) {
        steps.push(1e-7);
        steps.extend(std::iter::repeat_n(1e-6, layout.per_frame - 1));
    }
    let opts_lm = LmOptions {
        max_iterations: 200,
        ..LmOptions::default()
    };
    let res = lm::solve(f, x0, &steps, &opts_lm)
        .ok_or_else(|| CalibrationError::Solve("head registration diverged".into()))?;
    let (mount, encoder, intrinsics) = unpack(res.x.as_slice());
    if intrinsics.iter().any(|k| !k.is_valid()) {
        return Err(CalibrationError::Solve(
            "head registration gave an invalid lens".into(),
        ));
    }
    let mut residuals_px = Vec::with_capacity(frames.len());
    let mut all = Vec::new();
    for ((fr, k), u) in frames.iter().zip(&intrinsics).zip(&used) {
        let cam = head_camera(&mount, &angles_of(&fr.reading, &encoder), *k, 0.0);
        let r = crate::landmarks::residuals(&cam, &fr.points);
        all.extend(u.iter().map(|&i| r[i]));
        residuals_px.push(r);
    }
    Ok(HeadSolution {
        mount,
        encoder,
        intrinsics,
        residuals_px,
        rms_px: rms(&all),
        outliers: sols.into_iter().map(|s| s.outliers).collect(),
    })
}
