//! Articulated players, officials and the ball: flat figures standing upright on the field,
//! turned to face the camera, built from capsules (torso, pads, arms, legs, helmet).

use std::f64::consts::TAU;

use nalgebra::Vector3;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::config::Scenario;
use crate::stadium::{GOLD, PURPLE};

/// Fewest players on the field.
pub const MIN_PLAYERS: usize = 10;
/// Most players on the field.
pub const MAX_PLAYERS: usize = 22;
/// Players roam within this distance (x, metres) of the first-down line.
const ROAM_X_M: f64 = 10.0;
/// Players stay within this distance (y, metres) of the centre of play.
const ROAM_Y_M: f64 = 12.0;
/// `zoom`: the crowd's players stay within this distance (x, metres) of its centre.
const CROWD_X_M: f64 = 4.0;
/// `zoom`: the crowd's players stay within this distance (y, metres) of its centre.
const CROWD_Y_M: f64 = 3.0;
/// `zoom`: the crowd's players jostle at this share of the roaming players' speed.
const CROWD_SPEED: f64 = 0.3;
/// Nominal player height (metres) the figure's proportions are drawn for.
const NOMINAL_HEIGHT_M: f64 = 1.85;
/// Half width of a figure's local bounding box (metres, before scaling).
const BOX_HALF_WIDTH: f64 = 0.75;
/// Height of a figure's local bounding box (metres, before scaling).
const BOX_HEIGHT: f64 = 2.0;
/// Width of an official's shirt stripes (metres).
const STRIPE_M: f64 = 0.06;

/// Colours of one kit (0..255).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Kit {
    jersey: [f64; 3],
    pants: [f64; 3],
    socks: [f64; 3],
    helmet: [f64; 3],
    shoes: [f64; 3],
    striped: bool,
}

const WHITE_TEAM: Kit = Kit {
    jersey: [236.0, 236.0, 232.0],
    pants: [225.0, 222.0, 210.0],
    socks: [30.0, 40.0, 110.0],
    helmet: [30.0, 40.0, 110.0],
    shoes: [25.0, 25.0, 28.0],
    striped: false,
};
const DARK_TEAM: Kit = Kit {
    jersey: [120.0, 22.0, 30.0],
    pants: [200.0, 170.0, 80.0],
    socks: [120.0, 22.0, 30.0],
    helmet: [200.0, 170.0, 80.0],
    shoes: [230.0, 230.0, 230.0],
    striped: false,
};
/// A kit green as close to the grass as team colours come: the grass's luma, a little bluer
/// and less red: about 6 chroma code values (BT.709) from the grass in the hard scenario's
/// shadow, 13 to 16 in its light.
const GREEN_TEAM: Kit = Kit {
    jersey: [40.0, 112.0, 64.0],
    pants: [36.0, 100.0, 58.0],
    socks: [232.0, 232.0, 228.0],
    helmet: [32.0, 88.0, 52.0],
    shoes: [232.0, 232.0, 232.0],
    striped: false,
};
/// The grass's own colour (`field::grass` before its noise): 1.5 chroma code values from the
/// grass in shadow, 3 to 4 in the light, within the grass's spread and the sensor noise.
const GRASS_TEAM: Kit = Kit {
    jersey: [66.0, 118.0, 58.0],
    pants: [58.0, 104.0, 52.0],
    helmet: [52.0, 96.0, 48.0],
    ..GREEN_TEAM
};
/// `stadium`: a light-blue kit (light blue jersey, white pants and socks).
const LIGHT_BLUE_TEAM: Kit = Kit {
    jersey: [150.0, 195.0, 235.0],
    pants: [232.0, 232.0, 228.0],
    socks: [232.0, 232.0, 228.0],
    helmet: [150.0, 195.0, 235.0],
    shoes: [25.0, 25.0, 28.0],
    striped: false,
};
/// `stadium`: the purple team, in the colours of the painted field graphics (purple jersey
/// and socks, gold pants and helmet: the logo's purple and gold).
const PURPLE_TEAM: Kit = Kit {
    jersey: PURPLE,
    pants: GOLD,
    socks: PURPLE,
    helmet: PURPLE,
    shoes: [232.0, 232.0, 232.0],
    striped: false,
};
const OFFICIAL: Kit = Kit {
    jersey: [235.0, 235.0, 235.0],
    pants: [230.0, 230.0, 226.0],
    socks: [20.0, 20.0, 20.0],
    helmet: [240.0, 240.0, 240.0],
    shoes: [20.0, 20.0, 20.0],
    striped: true,
};

/// One person on the field and how they move.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlayerSpec {
    kit: Kit,
    skin: [f64; 3],
    /// Start offset from the centre of play (x, metres).
    x0: f64,
    /// Start offset from the centre of play (y, metres).
    y0: f64,
    /// How far the person strays from the centre of play (x, y, metres).
    roam: [f64; 2],
    /// Velocity (m/s).
    vx: f64,
    /// Velocity (m/s).
    vy: f64,
    /// Stride phase at t = 0 (radians).
    phase0: f64,
    /// Height scale (unitless, 1 = 1.85 m).
    scale: f64,
    carries_ball: bool,
}

/// Maps an unbounded coordinate into `-range..=range` by reflection (a triangle wave).
fn reflect(v: f64, range: f64) -> (f64, f64) {
    let period = 4.0 * range;
    let p = (v + range).rem_euclid(period);
    if p <= 2.0 * range {
        (p - range, 1.0)
    } else {
        (3.0 * range - p, -1.0)
    }
}

/// Draws the people of a sample: roaming round the first-down line, or in `zoom` all of
/// them bunched into a crowd.
pub(crate) fn spawn(rng: &mut ChaCha8Rng, scenario: Scenario) -> Vec<PlayerSpec> {
    let crowd = scenario == Scenario::Zoom;
    let mut count = rng.random_range(MIN_PLAYERS..=MAX_PLAYERS);
    if crowd {
        count = MAX_PLAYERS;
    }
    let officials = rng.random_range(1..=2_usize);
    let second = match scenario {
        Scenario::Hard => GREEN_TEAM,
        Scenario::Camouflage => GRASS_TEAM,
        _ => DARK_TEAM,
    };
    let mut out = Vec::with_capacity(count + officials);
    let skins = [
        [224.0, 180.0, 150.0],
        [170.0, 120.0, 90.0],
        [110.0, 72.0, 50.0],
        [80.0, 52.0, 38.0],
    ];
    for i in 0..count + officials {
        let mut kit = if i >= count {
            OFFICIAL
        } else if scenario == Scenario::Stadium {
            // The light team wears white and light blue (two kits of one team), the other
            // purple.
            match i % 4 {
                0 => WHITE_TEAM,
                2 => LIGHT_BLUE_TEAM,
                _ => PURPLE_TEAM,
            }
        } else if i % 2 == 0 {
            WHITE_TEAM
        } else {
            second
        };
        if scenario.is_hard() && i < count {
            kit.socks = [232.0, 232.0, 228.0];
        }
        let speed = rng.random_range(1.5..6.5);
        let dir = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
        let mut p = PlayerSpec {
            kit,
            skin: skins[rng.random_range(0..skins.len())],
            x0: rng.random_range(-ROAM_X_M..ROAM_X_M),
            y0: rng.random_range(-ROAM_Y_M..ROAM_Y_M),
            roam: [ROAM_X_M, ROAM_Y_M],
            vx: dir * speed,
            vy: rng.random_range(-1.5..1.5),
            phase0: rng.random_range(0.0..TAU),
            scale: rng.random_range(0.95..1.07),
            carries_ball: i == 0,
        };
        if crowd {
            p.x0 *= CROWD_X_M / ROAM_X_M;
            p.y0 *= CROWD_Y_M / ROAM_Y_M;
            p.roam = [CROWD_X_M, CROWD_Y_M];
            p.vx *= CROWD_SPEED;
            p.vy *= CROWD_SPEED;
        }
        out.push(p);
    }
    out
}

/// A capsule (segment with radius) in a figure's plane, with its colour.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Capsule {
    a: [f64; 2],
    b: [f64; 2],
    r: f64,
    colour: [f64; 3],
    striped: bool,
    /// Bounding box (u0, u1, h0, h1) including the radius.
    bounds: [f64; 4],
}

impl Capsule {
    fn new(a: [f64; 2], b: [f64; 2], r: f64, colour: [f64; 3]) -> Self {
        Self {
            a,
            b,
            r,
            colour,
            striped: false,
            bounds: [
                a[0].min(b[0]) - r,
                a[0].max(b[0]) + r,
                a[1].min(b[1]) - r,
                a[1].max(b[1]) + r,
            ],
        }
    }

    /// A lower bound of the distance from `p` to the capsule (0 inside its bounding box).
    #[inline]
    fn lower_bound(&self, p: [f64; 2]) -> f64 {
        let [u0, u1, h0, h1] = self.bounds;
        let dx = (u0 - p[0]).max(p[0] - u1).max(0.0);
        let dy = (h0 - p[1]).max(p[1] - h1).max(0.0);
        dx.max(dy)
    }

    #[inline]
    fn sdf(&self, p: [f64; 2]) -> f64 {
        let (ax, ay) = (p[0] - self.a[0], p[1] - self.a[1]);
        let (bx, by) = (self.b[0] - self.a[0], self.b[1] - self.a[1]);
        let bb = bx * bx + by * by;
        let t = if bb > 0.0 {
            ((ax * bx + ay * by) / bb).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let (dx, dy) = (ax - bx * t, ay - by * t);
        (dx * dx + dy * dy).sqrt() - self.r
    }
}

/// A person at one instant, ready to be ray-cast.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Figure {
    /// Ground position (field metres).
    pos: [f64; 2],
    /// Horizontal unit vector toward the camera.
    normal: [f64; 2],
    /// Horizontal unit vector to the right as the camera sees the figure.
    right: [f64; 2],
    /// +1 facing right, -1 facing left (mirrors the local drawing).
    facing: f64,
    /// Height scale.
    scale: f64,
    shapes: Vec<Capsule>,
    /// Brightness factor at the figure's feet.
    light: f64,
    /// Distance from the camera centre (metres).
    pub depth: f64,
}

/// Result of casting a ray at a figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FigureHit {
    /// Ray parameter (camera depth in metres, the ray has unit camera-z).
    pub s: f64,
    /// Colour when the ray hits the figure.
    pub colour: Option<[f64; 3]>,
    /// Signed distance to the figure's outline in its plane (metres, negative inside).
    pub sdf_m: f64,
}

impl PlayerSpec {
    /// The figure at time `t` (s) round the centre of play `centre` (field metres) for a
    /// camera at `cam`.
    pub(crate) fn figure(
        &self,
        t: f64,
        centre: [f64; 2],
        cam: &Vector3<f64>,
        light: impl Fn(f64, f64) -> f64,
    ) -> Figure {
        let (dx, sx) = reflect(self.x0 + self.vx * t, self.roam[0]);
        let (dy, _) = reflect(self.y0 + self.vy * t, self.roam[1]);
        let x = centre[0] + dx;
        let y = centre[1] + dy;
        let (nx, ny) = (cam.x - x, cam.y - y);
        let nn = (nx * nx + ny * ny).sqrt().max(1e-9);
        let normal = [nx / nn, ny / nn];
        // right = z x normal.
        let right = [-normal[1], normal[0]];
        let vel_x = self.vx * sx;
        let facing = if vel_x * right[0] >= 0.0 { 1.0 } else { -1.0 };
        let speed = (self.vx * self.vx + self.vy * self.vy).sqrt();
        let phase = self.phase0 + TAU * (0.9 + 0.12 * speed) * t;
        let depth = ((cam.x - x).powi(2) + (cam.y - y).powi(2) + cam.z * cam.z).sqrt();
        Figure {
            pos: [x, y],
            normal,
            right,
            facing,
            scale: self.scale * NOMINAL_HEIGHT_M / 1.85,
            shapes: self.shapes(phase),
            light: light(x, y),
            depth,
        }
    }

    /// The capsules at stride phase `phase`, front-most first (local metres, facing +u).
    fn shapes(&self, phase: f64) -> Vec<Capsule> {
        let s = self.scale;
        let k = &self.kit;
        let cap = |a: [f64; 2], b: [f64; 2], r: f64, colour: [f64; 3]| {
            Capsule::new([a[0] * s, a[1] * s], [b[0] * s, b[1] * s], r * s, colour)
        };
        let hip = [0.0, 0.95];
        let leg = |ph: f64| -> [Capsule; 3] {
            let swing = 0.55 * ph.sin();
            let bend = 0.35 + 0.45 * (0.5 - 0.5 * ph.cos());
            let knee = [hip[0] + 0.46 * swing.sin(), hip[1] - 0.46 * swing.cos()];
            let shin = swing - bend;
            let ankle = [
                knee[0] + 0.44 * shin.sin(),
                (knee[1] - 0.44 * shin.cos()).max(0.06),
            ];
            let toe = [ankle[0] + 0.2, ankle[1] - 0.03];
            [
                cap(ankle, toe, 0.05, k.shoes),
                cap(knee, ankle, 0.056, k.socks),
                cap(hip, knee, 0.085, k.pants),
            ]
        };
        let arm = |ph: f64, colour_sleeve: [f64; 3]| -> [Capsule; 2] {
            let sh = [0.02, 1.40];
            let a = -0.6 * ph.sin();
            let elbow = [sh[0] + 0.3 * a.sin(), sh[1] - 0.3 * a.cos()];
            let fa = a + 1.1;
            let hand = [elbow[0] + 0.27 * fa.sin(), elbow[1] - 0.27 * fa.cos()];
            [
                cap(elbow, hand, 0.048, self.skin),
                cap(sh, elbow, 0.062, colour_sleeve),
            ]
        };
        let mut v = Vec::with_capacity(20);
        v.extend(arm(phase, k.jersey));
        if self.carries_ball {
            v.push(cap([0.2, 1.12], [0.34, 1.15], 0.075, [120.0, 62.0, 35.0]));
        }
        v.push(cap(
            [0.13, 1.63],
            [0.15, 1.72],
            0.025,
            [150.0, 150.0, 150.0],
        ));
        v.push(cap([0.02, 1.69], [0.04, 1.71], 0.125, k.helmet));
        let mut pads = cap([-0.1, 1.42], [0.1, 1.42], 0.13, k.jersey);
        pads.striped = k.striped;
        let mut torso = cap([0.0, 1.05], [0.02, 1.38], 0.19, k.jersey);
        torso.striped = k.striped;
        v.push(pads);
        v.push(torso);
        v.push(cap([-0.03, 0.96], [0.05, 0.96], 0.14, k.pants));
        v.extend(leg(phase));
        v.extend(leg(phase + std::f64::consts::PI));
        v.extend(arm(phase + std::f64::consts::PI, k.jersey));
        v
    }
}

impl Figure {
    /// Local bounding box corners (world metres: along `right`, up) for screen bounds.
    pub(crate) fn outline_points(&self) -> Vec<Vector3<f64>> {
        let (hw, h) = (BOX_HALF_WIDTH * self.scale, BOX_HEIGHT * self.scale);
        let mut pts = Vec::with_capacity(9);
        for (a, z) in [
            (-hw, 0.0),
            (0.0, 0.0),
            (hw, 0.0),
            (-hw, 0.5 * h),
            (hw, 0.5 * h),
            (-hw, h),
            (0.0, h),
            (hw, h),
        ] {
            pts.push(Vector3::new(
                self.pos[0] + a * self.right[0],
                self.pos[1] + a * self.right[1],
                z,
            ));
        }
        pts
    }

    /// Casts the ray `c + s d` at the figure.
    #[inline]
    pub(crate) fn hit(
        &self,
        c: &Vector3<f64>,
        d: &Vector3<f64>,
        margin_m: f64,
    ) -> Option<FigureHit> {
        let denom = self.normal[0] * d.x + self.normal[1] * d.y;
        if denom >= -1e-12 {
            return None;
        }
        let s =
            (self.normal[0] * (self.pos[0] - c.x) + self.normal[1] * (self.pos[1] - c.y)) / denom;
        if s <= 0.0 {
            return None;
        }
        let qx = c.x + s * d.x - self.pos[0];
        let qy = c.y + s * d.y - self.pos[1];
        let h = c.z + s * d.z;
        let across = qx * self.right[0] + qy * self.right[1];
        let u = across * self.facing;
        let (hw, bh) = (BOX_HALF_WIDTH * self.scale, BOX_HEIGHT * self.scale);
        let outside = (u.abs() - hw).max(-h).max(h - bh);
        if outside > margin_m {
            return Some(FigureHit {
                s,
                colour: None,
                sdf_m: outside,
            });
        }
        let mut sdf = f64::INFINITY;
        let mut colour = None;
        for cap in &self.shapes {
            let lb = cap.lower_bound([u, h]);
            if lb > margin_m {
                sdf = sdf.min(lb);
                continue;
            }
            let dist = cap.sdf([u, h]);
            if dist < 0.0 && colour.is_none() {
                let mut col = cap.colour;
                if cap.striped && (across / STRIPE_M).floor().rem_euclid(2.0) < 1.0 {
                    col = [22.0, 22.0, 22.0];
                }
                let shade = self.light * (0.8 + 0.2 * (h / bh).clamp(0.0, 1.0));
                colour = Some(col.map(|v| v * shade));
            }
            sdf = sdf.min(dist);
        }
        Some(FigureHit {
            s,
            colour,
            sdf_m: sdf,
        })
    }
}
