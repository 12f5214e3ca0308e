//! How the broadcast camera moves, and what its `FreeD` head reports.
//!
//! Every scenario but `zoom` aims near the first-down line with a gentle wander and a slow
//! zoom breathing; `zoom` follows the crowd's centre with deep, fast pushes (see
//! [`Scenario::Zoom`]); `cut` is `default` interrupted by cut-aways from the field (see
//! [`Scenario::Cut`]). The head state is a pure function of time, so frames can be made in any
//! order.

use std::f64::consts::TAU;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::camera::{HeadAngles, LensCurve, MountPose, ZOOM_COUNTS_MAX};
use crate::config::Scenario;
use crate::field::YARD_M;
use crate::noise::{hash3, smoothstep, unit};

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
/// Centre of play across the field (y, metres) in every scenario but `zoom`: where the camera
/// mostly looks and the players roam round.
pub(crate) const PLAY_CENTRE_Y_M: f64 = -3.0;

/// `zoom`: narrowest view across the field at the aim point at the tightest of a push (yards);
/// each push's tightest view lies between this and [`ZOOM_TIGHT_MAX_YD`].
pub const ZOOM_TIGHT_MIN_YD: f64 = 6.0;
/// `zoom`: widest tightest view of a push (yards).
pub const ZOOM_TIGHT_MAX_YD: f64 = 10.0;
/// `zoom`: narrowest wide view between pushes (yards across at the aim point).
const ZOOM_WIDE_MIN_YD: f64 = 28.0;
/// `zoom`: widest wide view between pushes (yards across at the aim point).
const ZOOM_WIDE_MAX_YD: f64 = 44.0;
/// `zoom`: one cycle of wide hold, push in, tight hold, pull out (seconds).
pub const ZOOM_CYCLE_S: f64 = 6.5;
/// `zoom`: the cycle's phases as shares of [`ZOOM_CYCLE_S`]: the push in starts, the tight
/// hold starts, the pull out starts, the wide hold starts.
const ZOOM_PHASES: [f64; 4] = [0.2, 0.32, 0.72, 0.88];
/// `zoom`: where in the cycle the clip opens (share of the cycle, within the wide hold).
const ZOOM_START_PHASE: [f64; 2] = [-0.1, 0.15];
/// `zoom`: the camera aims where the play's centre was this long ago (seconds).
const ZOOM_AIM_LAG_S: f64 = 0.3;
/// `zoom`: centre of the crowd across the field (y, metres), about which it drifts.
const CROWD_CENTRE_Y_M: f64 = -4.5;

/// `cut`: the first cut-away starts in this window (seconds into the clip).
pub const CUT_FIRST_S: [f64; 2] = [2.0, 3.0];
/// `cut`: how long a cut-away lasts (seconds).
pub const CUT_AWAY_S: [f64; 2] = [1.0, 3.0];
/// `cut`: the clip ends on at least this much of the field after its last cut-away (seconds).
pub const CUT_LAST_FIELD_S: f64 = 1.0;
/// `cut`: time from the start of one cut-away to the start of the next (seconds).
pub const CUT_INTERVAL_S: [f64; 2] = [4.0, 6.0];
/// `cut`: a return moves the aim along the field by this much (yards, either way) from where
/// the continuous motion would have been.
pub const CUT_SHIFT_YD: [f64; 2] = [1.0, 4.0];
/// `cut`: a return scales the focal length by a factor in this range (never within 10 % of 1).
pub const CUT_FOCAL_SCALE: [f64; 2] = [0.75, 1.35];
/// `cut`: smallest focal change of a return (factor, or its inverse).
const CUT_MIN_FOCAL_CHANGE: f64 = 1.1;
/// `cut`: the returns' shifts add up to at most this (yards) away from the continuous motion.
const CUT_MAX_TOTAL_SHIFT_YD: f64 = 6.0;
/// `cut`: the returns' focal factors multiply up to at most this far from 1 (factor).
const CUT_MAX_TOTAL_FOCAL: f64 = 1.6;
/// `cut`: head pan of a cut-away shot (degrees, either way of straight across the field).
const CUT_AWAY_PAN_DEG: f64 = 30.0;
/// `cut`: slow pan of a cut-away shot (degrees per second, either way).
const CUT_AWAY_PAN_RATE_DEG_S: f64 = 1.5;
/// `cut`: zoom of a cut-away shot (share of the zoom range).
const CUT_AWAY_ZOOM: [f64; 2] = [0.5, 0.85];
/// `cut`: elevation a cut-away shot aims at (degrees): the far stands, from the head, span
/// about 13 degrees below the horizon (their foot, across the field) to 4 above (their top).
const CUT_AWAY_AIM_DEG: [f64; 2] = [-4.0, 2.0];
/// `cut`: no pixel ray of a cut-away points further down than this (degrees; the shot is
/// tilted up where needed). From the head a ray meets the ground round the field only when it
/// points more than 10.6 degrees down (the farthest edge of that ground, toward a far corner,
/// lies 107 m off and 20 m below); up to that it passes over it to the stands or the sky.
const CUT_AWAY_LOWEST_RAY_DEG: f64 = -9.0;
/// Seed salt of the cut schedule.
const CUT_SEED_SALT: u64 = 0x4355_5453;

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

/// One cut-away of the `cut` scenario and the framing the program comes back to.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cut {
    /// The cut-away starts (seconds).
    start_s: f64,
    /// Back on the field (seconds).
    end_s: f64,
    /// Head pan of the cut-away shot at its start (degrees).
    away_pan_deg: f64,
    /// Pan rate of the cut-away shot (degrees per second).
    away_pan_rate: f64,
    /// Zoom of the cut-away shot (share of the zoom range).
    away_zoom: f64,
    /// Elevation the cut-away shot aims at (degrees).
    away_aim_deg: f64,
    /// From the return on: aim shift along the field from the continuous motion (metres).
    shift_m: f64,
    /// From the return on: factor on the continuous motion's focal length.
    focal_scale: f64,
}

/// A seeded camera trajectory.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Motion {
    scenario: Scenario,
    first_down_x: f64,
    phase: [f64; 8],
    /// The `cut` scenario's cut-aways, in time order (empty otherwise).
    cuts: Vec<Cut>,
}

/// What the program shows at one instant of the `cut` scenario.
enum Shot<'a> {
    /// The field camera, moved and zoomed from the continuous motion by a return's offsets.
    Field { shift_m: f64, focal_scale: f64 },
    /// A cut-away.
    Away(&'a Cut),
}

impl Motion {
    /// The trajectory of a clip of `duration_s` seconds.
    pub(crate) fn new(scenario: Scenario, first_down_x: f64, seed: u64, duration_s: f64) -> Self {
        let phase = std::array::from_fn(|i| TAU * unit(hash3(seed, 0x4D4F_5449_4F4E, i as u64)));
        let cuts = if scenario == Scenario::Cut {
            cut_schedule(seed, duration_s)
        } else {
            Vec::new()
        };
        Self {
            scenario,
            first_down_x,
            phase,
            cuts,
        }
    }

    /// Zoom position in 0..=1 at time `t` (s) of the scenarios that breathe slowly.
    fn zoom(&self, t: f64) -> f64 {
        let p = &self.phase;
        let u = match self.scenario {
            Scenario::Default
            | Scenario::Drift
            | Scenario::Cut
            | Scenario::Zoom
            | Scenario::Stadium => {
                0.28 + 0.22 * (TAU * t / 13.0 + p[0]).sin() + 0.08 * (TAU * t / 4.7 + p[1]).sin()
            }
            Scenario::Hard | Scenario::Camouflage => {
                0.48 + 0.42 * (TAU * t / 8.0 + p[0]).sin() + 0.05 * (TAU * t / 3.1 + p[1]).sin()
            }
            Scenario::Static => 0.1 + 0.3 * p[0] / TAU,
        };
        u.clamp(0.0, 0.95)
    }

    /// `zoom`: the view's width across the field at the aim point at time `t` (yards).
    fn zoom_span_yd(&self, t: f64) -> f64 {
        let p = &self.phase;
        // The clip opens in the wide hold (a push starts 0.3 to 2 s in).
        let start = ZOOM_START_PHASE[0] + (ZOOM_START_PHASE[1] - ZOOM_START_PHASE[0]) * p[0] / TAU;
        let ph = (t / ZOOM_CYCLE_S + start).rem_euclid(1.0);
        let [push, tight, pull, wide] = ZOOM_PHASES;
        let w = if ph < push {
            1.0
        } else if ph < tight {
            1.0 - smoothstep((ph - push) / (tight - push))
        } else if ph < pull {
            0.0
        } else if ph < wide {
            smoothstep((ph - pull) / (wide - pull))
        } else {
            1.0
        };
        let mid = |[lo, hi]: [f64; 2], period: f64, phase: f64| {
            0.5 * (lo + hi) + 0.5 * (hi - lo) * (TAU * t / period + phase).sin()
        };
        let narrow = mid([ZOOM_TIGHT_MIN_YD, ZOOM_TIGHT_MAX_YD], 17.0, p[1]);
        let broad = mid([ZOOM_WIDE_MIN_YD, ZOOM_WIDE_MAX_YD], 23.0, p[5]);
        (narrow.ln() + w * (broad.ln() - narrow.ln())).exp()
    }

    /// Where play is at time `t` (field metres): the crowd's centre in `zoom`, the first-down
    /// line at the centre of play otherwise.
    pub(crate) fn play_centre(&self, t: f64) -> [f64; 2] {
        let p = &self.phase;
        if self.scenario == Scenario::Zoom {
            [
                self.first_down_x
                    + 2.0 * (TAU * t / 7.3 + p[2]).sin()
                    + 0.8 * (TAU * t / 2.9 + p[3]).sin(),
                CROWD_CENTRE_Y_M + 2.5 * (TAU * t / 10.1 + p[4]).sin(),
            ]
        } else {
            [self.first_down_x, PLAY_CENTRE_Y_M]
        }
    }

    /// What the program shows at time `t`.
    fn shot(&self, t: f64) -> Shot<'_> {
        let mut shot = Shot::Field {
            shift_m: 0.0,
            focal_scale: 1.0,
        };
        for c in &self.cuts {
            if t < c.start_s {
                break;
            }
            shot = if t < c.end_s {
                Shot::Away(c)
            } else {
                Shot::Field {
                    shift_m: c.shift_m,
                    focal_scale: c.focal_scale,
                }
            };
        }
        shot
    }

    /// Whether the program is cut away from the field at time `t` (s).
    pub(crate) fn cut_away(&self, t: f64) -> bool {
        matches!(self.shot(t), Shot::Away(_))
    }

    /// The head state at time `t` (s).
    pub(crate) fn at(&self, t: f64, mount: &MountPose, lens: LensCurve) -> HeadState {
        let (shift_m, focal_scale) = match self.shot(t) {
            Shot::Away(c) => return away(c, t, mount, lens),
            Shot::Field {
                shift_m,
                focal_scale,
            } => (shift_m, focal_scale),
        };
        let p = &self.phase;
        let [mx, my, mz] = mount.position;
        let (aim, zoom_counts) = if self.scenario == Scenario::Zoom {
            let aim = self.play_centre(t - ZOOM_AIM_LAG_S);
            let range = ((aim[0] - mx).powi(2) + (aim[1] - my).powi(2) + mz * mz).sqrt();
            let half_tan = 0.5 * self.zoom_span_yd(t) * YARD_M / range;
            let fx = 0.5 * f64::from(lens.width) / half_tan;
            (aim, lens.zoom_for_focal(fx))
        } else {
            let mut zoom_counts = self.zoom(t) * ZOOM_COUNTS_MAX;
            if (focal_scale - 1.0).abs() > f64::EPSILON {
                let fx = lens.intrinsics(zoom_counts).fx * focal_scale;
                zoom_counts = lens.zoom_for_focal(fx);
            }
            let fx = lens.intrinsics(zoom_counts).fx;
            let half_tan = 0.5 * f64::from(lens.width) / fx;
            let range = ((self.first_down_x - mx).powi(2) + my * my + mz * mz).sqrt();
            let half_view_m = range * half_tan;
            let t_eff = if self.scenario == Scenario::Static {
                0.0
            } else {
                t
            };
            let pan_period = if self.scenario.is_hard() { 5.0 } else { 9.0 };
            let tx = self.first_down_x
                + shift_m
                + AIM_WANDER * half_view_m * (TAU * t_eff / pan_period + p[2]).sin();
            let ty = PLAY_CENTRE_Y_M + 5.0 * (TAU * t_eff / 11.0 + p[3]).sin();
            ([tx, ty], zoom_counts)
        };
        let (dx, dy) = (aim[0] - mx, aim[1] - my);
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

/// The head of a cut-away shot: aimed at the cut's elevation, or higher where needed so that
/// no pixel's ray points further down than [`CUT_AWAY_LOWEST_RAY_DEG`], hence no ray meets
/// the ground of the field or round it.
fn away(c: &Cut, t: f64, mount: &MountPose, lens: LensCurve) -> HeadState {
    let zoom_counts = c.away_zoom * ZOOM_COUNTS_MAX;
    let k = lens.intrinsics(zoom_counts);
    let (w, h) = (f64::from(lens.width), f64::from(lens.height));
    // Widest angle of any pixel's ray from the optical axis (at a corner of the image).
    let widest = [
        (-0.5, -0.5),
        (w - 0.5, -0.5),
        (-0.5, h - 0.5),
        (w - 0.5, h - 0.5),
    ]
    .into_iter()
    .map(|(u, v)| {
        let (x, y) = k.undistort((u - k.cx) / k.fx, (v - k.cy) / k.fy);
        (x * x + y * y).sqrt().atan().to_degrees()
    })
    .fold(0.0, f64::max);
    // The mount's own pitch and roll tilt the axis by at most their sum.
    let lowest = CUT_AWAY_LOWEST_RAY_DEG + widest + mount.pitch_deg.abs() + mount.roll_deg.abs();
    let tilt = c.away_aim_deg.max(lowest);
    let truth = HeadAngles {
        pan_deg: c.away_pan_deg + c.away_pan_rate * (t - c.start_s),
        tilt_deg: tilt,
        roll_deg: 0.0,
    };
    HeadState {
        truth,
        encoder: truth,
        zoom_counts,
    }
}

/// The `cut` scenario's cut-aways over a clip of `duration_s` seconds.
fn cut_schedule(seed: u64, duration_s: f64) -> Vec<Cut> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ CUT_SEED_SALT);
    let range = |rng: &mut ChaCha8Rng, [lo, hi]: [f64; 2]| rng.random_range(lo..hi);
    let mut cuts = Vec::new();
    let (mut shift_m, mut focal_scale) = (0.0_f64, 1.0_f64);
    let mut start_s = range(&mut rng, CUT_FIRST_S);
    // Every cut-away comes back to the field at least CUT_LAST_FIELD_S before the clip ends
    // (shortened down to the shortest cut-away; one that cannot is left out).
    loop {
        let room = duration_s - CUT_LAST_FIELD_S - start_s;
        if room < CUT_AWAY_S[0] {
            break;
        }
        let len = range(&mut rng, CUT_AWAY_S).min(room);
        let away_pan_deg = range(&mut rng, [-CUT_AWAY_PAN_DEG, CUT_AWAY_PAN_DEG]);
        let away_pan_rate = range(
            &mut rng,
            [-CUT_AWAY_PAN_RATE_DEG_S, CUT_AWAY_PAN_RATE_DEG_S],
        );
        let away_zoom = range(&mut rng, CUT_AWAY_ZOOM);
        let away_aim_deg = range(&mut rng, CUT_AWAY_AIM_DEG);
        // Another framing: shift along the field, either way, kept near the continuous motion.
        let mut shift = range(&mut rng, CUT_SHIFT_YD) * YARD_M;
        if rng.random_bool(0.5) {
            shift = -shift;
        }
        if (shift_m + shift).abs() > CUT_MAX_TOTAL_SHIFT_YD * YARD_M {
            shift = -shift;
        }
        shift_m += shift;
        // ... and a zoom change of at least 10 % either way.
        let [lo, hi] = CUT_FOCAL_SCALE;
        let mut scale = if rng.random_bool(0.5) {
            range(&mut rng, [CUT_MIN_FOCAL_CHANGE, hi])
        } else {
            range(&mut rng, [lo, 1.0 / CUT_MIN_FOCAL_CHANGE])
        };
        let total = focal_scale * scale;
        if !(1.0 / CUT_MAX_TOTAL_FOCAL..=CUT_MAX_TOTAL_FOCAL).contains(&total) {
            scale = (1.0 / scale).clamp(lo, hi);
        }
        focal_scale *= scale;
        cuts.push(Cut {
            start_s,
            end_s: start_s + len,
            away_pan_deg,
            away_pan_rate,
            away_zoom,
            away_aim_deg,
            shift_m,
            focal_scale,
        });
        start_s += range(&mut rng, CUT_INTERVAL_S);
    }
    cuts
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
