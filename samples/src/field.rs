//! The generator's own painted field (independent of the engine's field model), grass,
//! lighting and the stadium around the field.
//!
//! Field frame: metres, origin at the centre, +x toward the right goal line, +y toward the far
//! sideline, +z up; yard position `L` -> `x = (L - 50) * 0.9144`. Lines are 4 in wide; yard,
//! goal lines, hash marks and ticks are centred on their nominal position; sideline and end-line
//! borders have their inner edge on the boundary.

use crate::config::Rulebook;
use crate::noise::{hash3, smoothstep, unit, value_noise};
use crate::stadium::{Graphics, Surface};

/// Metres per yard.
pub const YARD_M: f64 = 0.9144;
/// Metres per foot.
pub const FOOT_M: f64 = 0.3048;
/// Metres per inch.
pub const INCH_M: f64 = 0.0254;
/// Painted line width (4 in, metres).
pub const PAINT_WIDTH_M: f64 = 4.0 * INCH_M;
/// Half the distance between the sidelines (metres).
pub const HALF_WIDTH_M: f64 = 80.0 * FOOT_M;
/// Half the distance between the end lines (metres).
pub const HALF_LENGTH_END_M: f64 = 60.0 * YARD_M;
/// Hash mark and sideline tick length (2 ft, metres).
pub(crate) const MARK_LENGTH_M: f64 = 2.0 * FOOT_M;
/// Gap between the sideline and the ticks (4 in, metres).
pub(crate) const TICK_INSET_M: f64 = 4.0 * INCH_M;
/// Half extent of the flat ground around the field (x, metres); stands rise beyond it.
pub const APRON_HALF_X_M: f64 = 64.0;
/// Half extent of the flat ground around the field (y, metres).
pub const APRON_HALF_Y_M: f64 = 31.0;
/// Slope of the stands (rise per metre).
const STANDS_SLOPE: f64 = 0.7;
/// Height of the top of the stands (metres); sky above.
const STANDS_TOP_M: f64 = 28.0;
/// Width of a mowing band (5 yd, metres); bands are centred on the yard lines.
const MOW_BAND_M: f64 = 5.0 * YARD_M;
/// Half width of the soft transition between mowing bands (metres).
const MOW_SOFT_M: f64 = 0.25;
/// Half width of the shadow's penumbra (metres).
const PENUMBRA_M: f64 = 0.4;

/// Yard position -> field x (metres).
#[inline]
pub fn yard_to_x(yard: f64) -> f64 {
    (yard - 50.0) * YARD_M
}

/// An axis-aligned painted rectangle on the ground (metres).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rect {
    pub x0: f64,
    pub x1: f64,
    pub y0: f64,
    pub y1: f64,
}

impl Rect {
    #[inline]
    fn contains(&self, x: f64, y: f64) -> bool {
        x >= self.x0 && x <= self.x1 && y >= self.y0 && y <= self.y1
    }
    /// Whether a box overlaps this rectangle without lying entirely inside it.
    #[inline]
    fn edge_in(&self, b: &Rect) -> bool {
        let overlaps = b.x1 >= self.x0 && b.x0 <= self.x1 && b.y1 >= self.y0 && b.y0 <= self.y1;
        let inside = b.x0 >= self.x0 && b.x1 <= self.x1 && b.y0 >= self.y0 && b.y1 <= self.y1;
        overlaps && !inside
    }
}

/// The painted lines of a football field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldPaint {
    hash_m: f64,
    borders: [Rect; 4],
    /// The `stadium` scenario's graphics and mown grass, if any.
    graphics: Option<Graphics>,
}

impl FieldPaint {
    pub(crate) fn new(rules: Rulebook) -> Self {
        let hash_m = match rules {
            Rulebook::Nfl => 0.5 * (18.0 * FOOT_M + 6.0 * INCH_M),
            Rulebook::Ncaa => 0.5 * 40.0 * FOOT_M,
            Rulebook::Hs => 0.5 * (53.0 * FOOT_M + 4.0 * INCH_M),
        };
        let (hx, hy, w) = (HALF_LENGTH_END_M, HALF_WIDTH_M, PAINT_WIDTH_M);
        let borders = [
            Rect {
                x0: -hx - w,
                x1: hx + w,
                y0: -hy - w,
                y1: -hy,
            },
            Rect {
                x0: -hx - w,
                x1: hx + w,
                y0: hy,
                y1: hy + w,
            },
            Rect {
                x0: -hx - w,
                x1: -hx,
                y0: -hy - w,
                y1: hy + w,
            },
            Rect {
                x0: hx,
                x1: hx + w,
                y0: -hy - w,
                y1: hy + w,
            },
        ];
        Self {
            hash_m,
            borders,
            graphics: None,
        }
    }

    /// The same lines with the `stadium` scenario's graphics and mown grass.
    pub(crate) fn with_graphics(self, graphics: Graphics) -> Self {
        Self {
            graphics: Some(graphics),
            ..self
        }
    }

    /// The colour (0..255, before light) of field-surface point (x, y): paint or grass.
    #[inline]
    pub(crate) fn colour(&self, x: f64, y: f64, seed: u64) -> [f64; 3] {
        let painted = self.painted(x, y);
        match &self.graphics {
            Some(g) => g.colour(x, y, painted, seed),
            None if painted => paint(x, y, seed),
            None => grass(x, y, seed),
        }
    }

    /// What covers field-surface point (x, y).
    pub(crate) fn surface(&self, x: f64, y: f64) -> Surface {
        let painted = self.painted(x, y);
        match &self.graphics {
            Some(g) => g.surface(x, y, painted),
            None if painted => Surface::WhitePaint,
            None => Surface::Grass,
        }
    }

    /// Distance from the midline to each row of hash marks (metres).
    pub(crate) fn hash_m(&self) -> f64 {
        self.hash_m
    }

    /// Calls `f` with every painted rectangle that may overlap `x0..=x1` (and possibly more).
    #[inline]
    fn for_each_near(&self, x0: f64, x1: f64, mut f: impl FnMut(&Rect) -> bool) -> bool {
        for b in &self.borders {
            if f(b) {
                return true;
            }
        }
        let half = 0.5 * PAINT_WIDTH_M;
        let lo = ((x0 - half) / YARD_M + 50.0).floor().max(0.0) as i64;
        let hi = ((x1 + half) / YARD_M + 50.0).ceil().min(100.0) as i64;
        let (hy, hm) = (HALF_WIDTH_M, self.hash_m);
        let tick_out = hy - TICK_INSET_M;
        for yard in lo..=hi {
            let x = yard_to_x(yard as f64);
            let (xa, xb) = (x - half, x + half);
            if yard % 5 == 0 {
                if f(&Rect {
                    x0: xa,
                    x1: xb,
                    y0: -hy,
                    y1: hy,
                }) {
                    return true;
                }
            } else {
                for r in [
                    Rect {
                        x0: xa,
                        x1: xb,
                        y0: hm,
                        y1: hm + MARK_LENGTH_M,
                    },
                    Rect {
                        x0: xa,
                        x1: xb,
                        y0: -hm - MARK_LENGTH_M,
                        y1: -hm,
                    },
                    Rect {
                        x0: xa,
                        x1: xb,
                        y0: tick_out - MARK_LENGTH_M,
                        y1: tick_out,
                    },
                    Rect {
                        x0: xa,
                        x1: xb,
                        y0: -tick_out,
                        y1: -tick_out + MARK_LENGTH_M,
                    },
                ] {
                    if f(&r) {
                        return true;
                    }
                }
            }
        }
        false
    }

    /// Whether ground point (x, y) is painted white.
    #[inline]
    pub(crate) fn painted(&self, x: f64, y: f64) -> bool {
        self.for_each_near(x, x, |r| r.contains(x, y))
    }

    /// Whether a paint edge may pass through the ground box `b`.
    #[inline]
    pub(crate) fn edge_in_box(&self, b: &Rect) -> bool {
        self.graphics.is_some_and(|g| g.edge_in_box(b))
            || self.for_each_near(b.x0, b.x1, |r| r.edge_in(b))
    }
}

/// Whether ground point (x, y) is field surface (inside the outer edge of the borders).
#[inline]
pub(crate) fn on_field_surface(x: f64, y: f64) -> bool {
    x.abs() <= HALF_LENGTH_END_M + PAINT_WIDTH_M && y.abs() <= HALF_WIDTH_M + PAINT_WIDTH_M
}

/// Whether ground point (x, y) is on the flat ground round the field.
#[inline]
pub(crate) fn on_apron(x: f64, y: f64) -> bool {
    x.abs() <= APRON_HALF_X_M && y.abs() <= APRON_HALF_Y_M
}

/// Sunlight and the shadow of the stadium roof.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Lighting {
    /// Brightness in the sun (factor).
    pub sun: f64,
    /// Brightness in the shadow (factor).
    pub shade: f64,
    /// Shadow edge: points with `nx*x + ny*y > c` are in shadow.
    pub nx: f64,
    /// See `nx`.
    pub ny: f64,
    /// See `nx` (metres).
    pub c: f64,
}

impl Lighting {
    /// Brightness factor at a ground point (soft penumbra), with a gentle gradient.
    #[inline]
    pub(crate) fn at(&self, x: f64, y: f64) -> f64 {
        let d = self.nx * x + self.ny * y - self.c;
        let shadow = smoothstep(0.5 + 0.5 * d / PENUMBRA_M);
        let gradient = 1.0 + 0.07 * (x / 55.0) - 0.05 * (y / 25.0);
        (self.sun + (self.shade - self.sun) * shadow) * gradient
    }
}

/// Grass colour (0..255 floats) at a ground point, before lighting.
#[inline]
pub(crate) fn grass(x: f64, y: f64, seed: u64) -> [f64; 3] {
    // Mowing bands centred on the yard lines, soft edges midway between them.
    let band = (x / MOW_BAND_M + 0.5).floor();
    let light = if (band as i64).rem_euclid(2) == 0 {
        1.0
    } else {
        -1.0
    };
    let within = x / MOW_BAND_M + 0.5 - band;
    let edge_m = within.min(1.0 - within) * MOW_BAND_M;
    let soft = smoothstep(edge_m / MOW_SOFT_M);
    let stripe = 0.08 * light * soft;
    let n = 0.05 * value_noise(x / 9.0, y / 9.0, seed ^ 0x11)
        + 0.035 * value_noise(x / 2.3, y / 2.3, seed ^ 0x22)
        + 0.02 * value_noise(x / 0.6, y / 0.6, seed ^ 0x33);
    let k = 1.0 + stripe + n;
    [62.0 * k, 118.0 * k, 50.0 * (1.0 + 0.6 * n)]
}

/// White paint colour (0..255 floats) before lighting; slightly uneven.
#[inline]
pub(crate) fn paint(x: f64, y: f64, seed: u64) -> [f64; 3] {
    let n = 0.02 * value_noise(x / 0.7, y / 0.7, seed ^ 0x44);
    [214.0 * (1.0 + n), 218.0 * (1.0 + n), 210.0 * (1.0 + n)]
}

/// Ground outside the field surface (turf of the team areas, darker).
#[inline]
pub(crate) fn apron(x: f64, y: f64, seed: u64) -> [f64; 3] {
    let n = 0.06 * value_noise(x / 3.0, y / 3.0, seed ^ 0x55);
    [48.0 * (1.0 + n), 82.0 * (1.0 + n), 52.0 * (1.0 + n)]
}

/// What a ray meets beyond the apron: the stands or the sky (colour 0..255).
pub(crate) fn stands_or_sky(
    c: &nalgebra::Vector3<f64>,
    d: &nalgebra::Vector3<f64>,
    seed: u64,
) -> [f64; 3] {
    let mut best: Option<(f64, f64, f64)> = None; // (s, along, height)
    let (ax, ay, k) = (APRON_HALF_X_M, APRON_HALF_Y_M, STANDS_SLOPE);
    // Planes z = k * (n . p - a) for the four sides, n the outward normal.
    for (nx, ny, a) in [
        (0.0, 1.0, ay),
        (0.0, -1.0, ay),
        (1.0, 0.0, ax),
        (-1.0, 0.0, ax),
    ] {
        let denom = d.z - k * (nx * d.x + ny * d.y);
        if denom.abs() < 1e-12 {
            continue;
        }
        let s = (k * (nx * c.x + ny * c.y - a) - c.z) / denom;
        if s <= 0.0 || !s.is_finite() {
            continue;
        }
        let p = c + d * s;
        if nx * p.x + ny * p.y < a || p.z > STANDS_TOP_M || p.z < 0.0 {
            continue;
        }
        let along = if nx == 0.0 { p.x } else { p.y };
        if best.is_none_or(|b| s < b.0) {
            best = Some((s, along, p.z));
        }
    }
    if let Some((_, along, z)) = best {
        let row = (z / 0.45).floor();
        let seat = (along / 0.5).floor();
        let h = hash3(seed ^ 0x66, row as u64, seat as u64);
        let palette = [
            [170.0, 40.0, 45.0],
            [230.0, 225.0, 215.0],
            [40.0, 50.0, 110.0],
            [200.0, 160.0, 60.0],
            [70.0, 70.0, 75.0],
            [150.0, 120.0, 100.0],
        ];
        let base = palette[(h % palette.len() as u64) as usize];
        let aisle = if (along / 12.0).rem_euclid(1.0) < 0.06 {
            0.5
        } else {
            1.0
        };
        let shade = (0.55 + 0.45 * unit(h >> 7)) * aisle;
        base.map(|v| v * shade)
    } else {
        let up = (d.z / d.norm()).clamp(0.0, 1.0);
        [150.0 - 60.0 * up, 180.0 - 40.0 * up, 215.0 - 10.0 * up]
    }
}
