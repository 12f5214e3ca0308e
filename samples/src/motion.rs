//! How the broadcast camera moves, and what its `FreeD` head reports.

use std::f64::consts::TAU;

use crate::camera::{HeadAngles, LensCurve, MountPose, ZOOM_COUNTS_MAX};
use crate::config::Scenario;
use crate::noise::{hash3, unit};

/// Largest pan/tilt error of the `drift` scenario (degrees).
pub const DRIFT_MAX_DEG: f64 = 0.1;
/// Time over which the drift error grows to its maximum (seconds).
pub const DRIFT_RAMP_S: f64 = 2.0;
/// Encoder noise bound on each angle (degrees, uniform in +-this).
pub const ENCODER_NOISE_DEG: f64 = 0.0002;
/// Share of `FreeD` packets lost on the way.
pub const PACKET_DROP_RATE: f64 = 0.01;
/// Fraction of the half view width the aim point wanders from the first-down line.
const AIM_WANDER: f64 = 0.3;

/// The head's state at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct HeadState {
    /// The angles the camera really has (truth).
    pub truth: HeadAngles,
    /// The angles the encoders measure (before noise and quantisation).
    pub encoder: HeadAngles,
    /// Zoom position (raw counts, continuous).
    pub zoom_counts: f64,
}

/// A seeded camera trajectory.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Motion {
    scenario: Scenario,
    first_down_x: f64,
    phase: [f64; 5],
}

impl Motion {
    pub(crate) fn new(scenario: Scenario, first_down_x: f64, seed: u64) -> Self {
        let phase = std::array::from_fn(|i| TAU * unit(hash3(seed, 0x4D4F_5449_4F4E, i as u64)));
        Self {
            scenario,
            first_down_x,
            phase,
        }
    }

    /// Zoom position in 0..=1 at time `t` (s).
    fn zoom(&self, t: f64) -> f64 {
        let p = &self.phase;
        let u = match self.scenario {
            Scenario::Default | Scenario::Drift => {
                0.28 + 0.22 * (TAU * t / 13.0 + p[0]).sin() + 0.08 * (TAU * t / 4.7 + p[1]).sin()
            }
            Scenario::Hard | Scenario::Camouflage => {
                0.48 + 0.42 * (TAU * t / 8.0 + p[0]).sin() + 0.05 * (TAU * t / 3.1 + p[1]).sin()
            }
            Scenario::Static => 0.1 + 0.3 * p[0] / TAU,
        };
        u.clamp(0.0, 0.95)
    }

    /// The head state at time `t` (s).
    pub(crate) fn at(&self, t: f64, mount: &MountPose, lens: LensCurve) -> HeadState {
        let p = &self.phase;
        let u = self.zoom(t);
        let zoom_counts = u * ZOOM_COUNTS_MAX;
        let fx = lens.intrinsics(zoom_counts).fx;
        let half_tan = 0.5 * f64::from(lens.width) / fx;
        let [mx, my, mz] = mount.position;
        let range = ((self.first_down_x - mx).powi(2) + my * my + mz * mz).sqrt();
        let half_view_m = range * half_tan;
        let t_eff = if self.scenario == Scenario::Static {
            0.0
        } else {
            t
        };
        let pan_period = if self.scenario.is_hard() { 5.0 } else { 9.0 };
        let tx =
            self.first_down_x + AIM_WANDER * half_view_m * (TAU * t_eff / pan_period + p[2]).sin();
        let ty = -3.0 + 5.0 * (TAU * t_eff / 11.0 + p[3]).sin();
        let (dx, dy) = (tx - mx, ty - my);
        let pan = dx.atan2(dy).to_degrees() - mount.yaw_deg;
        let tilt = (-mz).atan2((dx * dx + dy * dy).sqrt()).to_degrees() - mount.pitch_deg;
        let truth = HeadAngles {
            pan_deg: pan,
            tilt_deg: tilt,
            roll_deg: 0.0,
        };
        let mut encoder = truth;
        if self.scenario == Scenario::Drift {
            let g = (t / DRIFT_RAMP_S).clamp(0.0, 1.0);
            encoder.pan_deg -= DRIFT_MAX_DEG * g;
            encoder.tilt_deg += 0.8 * DRIFT_MAX_DEG * g;
        }
        HeadState {
            truth,
            encoder,
            zoom_counts,
        }
    }
}

/// Length of a `FreeD` D1 packet (bytes).
pub const FREED_D1_LEN: usize = 29;
/// `FreeD` angle unit (degrees per count).
pub const FREED_ANGLE_UNIT_DEG: f64 = 1.0 / 32768.0;
/// `FreeD` position unit (metres per count: 1/64 mm).
pub const FREED_POSITION_UNIT_M: f64 = 1.0 / 64_000.0;

/// Fields of a `FreeD` D1 packet, in their raw integer units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FreedD1 {
    /// Camera id.
    pub camera_id: u8,
    /// Pan (1/32768 degree).
    pub pan: i32,
    /// Tilt (1/32768 degree).
    pub tilt: i32,
    /// Roll (1/32768 degree).
    pub roll: i32,
    /// Position x (1/64 mm).
    pub x: i32,
    /// Position y (1/64 mm).
    pub y: i32,
    /// Position z (1/64 mm).
    pub z: i32,
    /// Zoom (raw lens counts).
    pub zoom: u32,
    /// Focus (raw lens counts).
    pub focus: u32,
}

impl FreedD1 {
    /// The 29 packet bytes: big-endian 24-bit fields, two spare bytes, checksum
    /// `(0x40 - sum of bytes 0..=27) mod 256`. Values beyond 24 bits are clamped.
    pub fn encode(&self) -> [u8; FREED_D1_LEN] {
        const MAX_S: i32 = (1 << 23) - 1;
        const MIN_S: i32 = -(1 << 23);
        let mut b = [0_u8; FREED_D1_LEN];
        b[0] = 0xD1;
        b[1] = self.camera_id;
        let put = |b: &mut [u8; FREED_D1_LEN], at: usize, v: u32| {
            b[at] = (v >> 16) as u8;
            b[at + 1] = (v >> 8) as u8;
            b[at + 2] = v as u8;
        };
        for (i, v) in [self.pan, self.tilt, self.roll, self.x, self.y, self.z]
            .into_iter()
            .enumerate()
        {
            put(
                &mut b,
                2 + 3 * i,
                (v.clamp(MIN_S, MAX_S) as u32) & 0x00FF_FFFF,
            );
        }
        put(&mut b, 20, self.zoom.min(0x00FF_FFFF));
        put(&mut b, 23, self.focus.min(0x00FF_FFFF));
        let sum = b[..28].iter().fold(0_u8, |a, &x| a.wrapping_add(x));
        b[28] = 0x40_u8.wrapping_sub(sum);
        b
    }
}

/// Bounded encoder noise (degrees) for one axis of one frame.
pub(crate) fn encoder_noise(seed: u64, frame: u32, axis: u64) -> f64 {
    ENCODER_NOISE_DEG * (2.0 * unit(hash3(seed ^ 0x004E_4F49_5345, u64::from(frame), axis)) - 1.0)
}

/// Whether the packet of a frame is lost.
pub(crate) fn packet_dropped(seed: u64, frame: u32) -> bool {
    unit(hash3(seed ^ 0x4452_4F50, u64::from(frame), 7)) < PACKET_DROP_RATE
}
