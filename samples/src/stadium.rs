//! The `stadium` scenario's field graphics and burned-in score bug.
//!
//! - A purple yard line: the 5-yard line nearest the first-down line is painted purple (the
//!   team colour) instead of white.
//! - A team logo centred on the first-down line at midfield width: a purple disc with a gold
//!   ring and a white chevron, [`LOGO_RADIUS_M`] in radius (inside the NFL rows of hash marks).
//!   It is painted over the lines it crosses.
//! - Mown-stripe grass: the 5-yard mowing bands much stronger than the other scenarios', with
//!   streaky blade noise along the mowing direction on top.
//! - The score bug: an opaque bar over the lower field, at [`SCORE_BUG_RECT`] in normalised
//!   image coordinates, burned into the picture after the sensor noise (so the H.264 pass
//!   sees it like the rest) and 255 in the mask.
//!
//! Paint colours are the players' kit colours: [`PURPLE`] is both the purple team's jersey and
//! the paint of the logo and the coloured yard line.

use crate::field::{self, HALF_WIDTH_M, PAINT_WIDTH_M, Rect, YARD_M, yard_to_x};
use crate::noise::{smoothstep, value_noise};
use crate::render::MASK_PLAYER;

/// The team purple: the purple kit's jersey and the painted graphics (0..255, before light).
pub(crate) const PURPLE: [f64; 3] = [84.0, 40.0, 130.0];
/// The team gold: the purple kit's pants and the logo's ring (0..255, before light).
pub(crate) const GOLD: [f64; 3] = [206.0, 164.0, 52.0];
/// The logo's chevron (0..255, before light).
const LOGO_WHITE: [f64; 3] = [222.0, 222.0, 214.0];
/// Radius of the team logo (metres): 5 m across, between the NFL rows of hash marks.
pub const LOGO_RADIUS_M: f64 = 2.5;
/// Width of the logo's gold ring (metres).
const LOGO_RING_M: f64 = 0.3;
/// Half width of the logo's chevron strokes (metres).
const CHEVRON_HALF_M: f64 = 0.28;
/// The chevron's polyline in logo coordinates (metres; +y toward the far sideline).
const CHEVRON: [[f64; 2]; 3] = [[-1.3, 0.6], [0.0, -0.8], [1.3, 0.6]];
/// Amplitude of the mowing bands (share of the grass brightness, either way).
const STRIPE_AMPLITUDE: f64 = 0.15;
/// Half width of the soft transition between mowing bands (metres).
const STRIPE_SOFT_M: f64 = 0.12;
/// Amplitude of the blade streaks (share of the grass brightness).
const BLADE_AMPLITUDE: f64 = 0.06;

/// The score bug in normalised image coordinates `[x0, y0, x1, y1]`: (0, 0) is the top-left
/// corner of the image, (1, 1) its bottom-right corner. A pixel belongs to it when its centre
/// `((c + 0.5) / width, (r + 0.5) / height)` lies in `[x0, x1) x [y0, y1)`.
pub const SCORE_BUG_RECT: [f64; 4] = [0.22, 0.845, 0.78, 0.925];

/// The rectangle an operator draws round the score bug to exclude it (normalised image
/// coordinates, as [`SCORE_BUG_RECT`]): a few pixels wider than the bug on every side.
pub const OPERATOR_SCORE_BUG_RECT: [f64; 4] = [0.215, 0.84, 0.785, 0.93];

/// The operator's exclusions of a scenario's burned-in graphics, as the CLI's `--exclusions`
/// and the element's `exclusions` property spell them (`rect:u0,v0,u1,v1`).
pub(crate) fn operator_exclusions() -> String {
    let [u0, v0, u1, v1] = OPERATOR_SCORE_BUG_RECT;
    format!("rect:{u0},{v0},{u1},{v1}\n")
}

/// The score bug's pixels at a frame size: `[c0, r0, c1, r1]`, the first column and row in it
/// and the first ones past it.
pub fn score_bug_pixels(width: u32, height: u32) -> [u32; 4] {
    let [x0, y0, x1, y1] = SCORE_BUG_RECT;
    // Centre (c + 0.5) / n >= t  <=>  c >= t n - 0.5.
    let first = |t: f64, n: u32| ((t * f64::from(n) - 0.5).ceil().max(0.0) as u32).min(n);
    [
        first(x0, width),
        first(y0, height),
        first(x1, width),
        first(y1, height),
    ]
}

/// What covers a point of the field surface (for tests and tools; the renderer asks
/// the graphics for their colour).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// Grass.
    Grass,
    /// White paint (lines, hash marks, borders).
    WhitePaint,
    /// The purple yard line.
    ColouredLine,
    /// The team logo.
    Logo,
}

/// The field graphics of `stadium`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Graphics {
    /// Centre of the purple yard line (field x, metres).
    line_x: f64,
    /// Centre of the logo (field metres).
    logo: [f64; 2],
}

impl Graphics {
    /// The graphics for a first-down line at `first_down_yard`.
    pub(crate) fn new(first_down_yard: f64) -> Self {
        let line_yard = ((first_down_yard / 5.0).round() * 5.0).clamp(0.0, 100.0);
        Self {
            line_x: yard_to_x(line_yard),
            logo: [yard_to_x(first_down_yard), 0.0],
        }
    }

    /// Signed distances (metres, negative inside) to the logo's disc, to the inner edge of its
    /// ring and to its chevron, at field point (x, y).
    fn logo_distances(&self, x: f64, y: f64) -> [f64; 3] {
        let (lx, ly) = (x - self.logo[0], y - self.logo[1]);
        let r = lx.hypot(ly);
        let chevron = CHEVRON
            .windows(2)
            .map(|s| segment_distance([lx, ly], s[0], s[1]))
            .fold(f64::INFINITY, f64::min);
        [
            r - LOGO_RADIUS_M,
            r - (LOGO_RADIUS_M - LOGO_RING_M),
            chevron - CHEVRON_HALF_M,
        ]
    }

    /// What covers field point (x, y), given whether the field's lines paint it.
    pub(crate) fn surface(&self, x: f64, y: f64, painted: bool) -> Surface {
        let [disc, ..] = self.logo_distances(x, y);
        if disc <= 0.0 {
            return Surface::Logo;
        }
        if !painted {
            Surface::Grass
        } else if (x - self.line_x).abs() <= 0.5 * PAINT_WIDTH_M && y.abs() <= HALF_WIDTH_M {
            Surface::ColouredLine
        } else {
            Surface::WhitePaint
        }
    }

    /// The colour (0..255, before light) of field point (x, y): the logo, the purple line,
    /// white paint or the mown grass.
    pub(crate) fn colour(&self, x: f64, y: f64, painted: bool, seed: u64) -> [f64; 3] {
        let [disc, inner, chevron] = self.logo_distances(x, y);
        if disc <= 0.0 {
            let base = if inner > 0.0 {
                GOLD
            } else if chevron <= 0.0 {
                LOGO_WHITE
            } else {
                PURPLE
            };
            return paint_texture(base, x, y, seed);
        }
        if !painted {
            return grass(x, y, seed);
        }
        if (x - self.line_x).abs() <= 0.5 * PAINT_WIDTH_M && y.abs() <= HALF_WIDTH_M {
            paint_texture(PURPLE, x, y, seed)
        } else {
            field::paint(x, y, seed)
        }
    }

    /// Whether an edge of the logo may pass through the ground box `b` (the distances are
    /// 1-Lipschitz, so an edge lies within the box's half diagonal of its centre's distance).
    pub(crate) fn edge_in_box(&self, b: &Rect) -> bool {
        let (cx, cy) = (0.5 * (b.x0 + b.x1), 0.5 * (b.y0 + b.y1));
        let half_diag = 0.5 * (b.x1 - b.x0).hypot(b.y1 - b.y0);
        self.logo_distances(cx, cy)
            .iter()
            .any(|d| d.abs() <= half_diag)
    }
}

/// Distance from `p` to the segment `a`-`b`.
fn segment_distance(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (ax, ay) = (p[0] - a[0], p[1] - a[1]);
    let (bx, by) = (b[0] - a[0], b[1] - a[1]);
    let t = ((ax * bx + ay * by) / (bx * bx + by * by)).clamp(0.0, 1.0);
    (ax - bx * t).hypot(ay - by * t)
}

/// A painted colour, slightly uneven as paint on grass is.
fn paint_texture(base: [f64; 3], x: f64, y: f64, seed: u64) -> [f64; 3] {
    let n = 1.0 + 0.03 * value_noise(x / 0.5, y / 0.5, seed ^ 0x77);
    base.map(|v| v * n)
}

/// Mown-stripe grass (0..255, before light): strong 5-yard bands with sharp edges, the
/// other scenarios' patchy noise, and blade streaks along the mowing direction.
fn grass(x: f64, y: f64, seed: u64) -> [f64; 3] {
    let band_m = 5.0 * YARD_M;
    let band = (x / band_m + 0.5).floor();
    let light = if (band as i64).rem_euclid(2) == 0 {
        1.0
    } else {
        -1.0
    };
    let within = x / band_m + 0.5 - band;
    let edge_m = within.min(1.0 - within) * band_m;
    let stripe = STRIPE_AMPLITUDE * light * smoothstep(edge_m / STRIPE_SOFT_M);
    let patches = 0.05 * value_noise(x / 9.0, y / 9.0, seed ^ 0x11)
        + 0.035 * value_noise(x / 2.3, y / 2.3, seed ^ 0x22);
    let blades = BLADE_AMPLITUDE
        * (0.6 * value_noise(x / 0.03, y / 0.4, seed ^ 0x88)
            + 0.4 * value_noise(x / 0.011, y / 0.09, seed ^ 0x99));
    let k = 1.0 + stripe + patches + blades;
    [60.0 * k, 120.0 * k, 48.0 * (1.0 + 0.6 * (patches + blades))]
}

/// Burns the score bug into a frame (rgb24 and its mask, `width` x `height`): opaque, 255 in
/// the mask.
pub(crate) fn burn_score_bug(rgb: &mut [u8], mask: &mut [u8], width: usize, height: usize) {
    let [c0, r0, c1, r1] = score_bug_pixels(width as u32, height as u32).map(|v| v as usize);
    let (bw, bh) = ((c1 - c0).max(1) as f64, (r1 - r0).max(1) as f64);
    for r in r0..r1 {
        for c in c0..c1 {
            let u = (c - c0) as f64 / bw;
            let v = (r - r0) as f64 / bh;
            let colour = score_bug_colour(u, v);
            let i = r * width + c;
            rgb[3 * i..3 * i + 3].copy_from_slice(&colour);
            mask[i] = MASK_PLAYER;
        }
    }
}

/// The score bug's colour at (u, v) in 0..1 across it: a navy bar holding the two teams'
/// blocks (purple and light blue) with their scores, the clock and a gold down-and-distance.
fn score_bug_colour(u: f64, v: f64) -> [u8; 3] {
    const NAVY: [u8; 3] = [18, 22, 44];
    const WHITE: [u8; 3] = [240, 240, 236];
    const TEAM_A: [u8; 3] = [84, 40, 130];
    const TEAM_B: [u8; 3] = [150, 195, 235];
    const YELLOW: [u8; 3] = [232, 182, 40];
    // Text: vertical strokes of glyph-like blocks in the middle rows.
    let text = |a: f64, b: f64, glyphs: f64| {
        let t = (u - a) / (b - a);
        (0.0..1.0).contains(&t) && (0.28..0.72).contains(&v) && (t * glyphs).fract() < 0.62
    };
    let block = |a: f64, b: f64| (a..b).contains(&u) && (0.1..0.9).contains(&v);
    // Team names, scores, then the quarter and the clock.
    let texts = [
        (0.04, 0.16, 3.0),
        (0.22, 0.27, 2.0),
        (0.36, 0.48, 3.0),
        (0.53, 0.58, 2.0),
        (0.63, 0.78, 5.0),
    ];
    if texts.iter().any(|&(a, b, g)| text(a, b, g)) {
        WHITE
    } else if block(0.02, 0.19) {
        TEAM_A
    } else if block(0.34, 0.51) {
        TEAM_B
    } else if block(0.82, 0.98) {
        if text(0.84, 0.96, 4.0) { NAVY } else { YELLOW }
    } else {
        NAVY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_bug_pixels_follow_the_normalised_rectangle() {
        let [c0, r0, c1, r1] = score_bug_pixels(1280, 720);
        let inside = |c: u32, r: u32| {
            let (x, y) = ((f64::from(c) + 0.5) / 1280.0, (f64::from(r) + 0.5) / 720.0);
            (SCORE_BUG_RECT[0]..SCORE_BUG_RECT[2]).contains(&x)
                && (SCORE_BUG_RECT[1]..SCORE_BUG_RECT[3]).contains(&y)
        };
        assert!(inside(c0, r0) && inside(c1 - 1, r1 - 1));
        assert!(!inside(c0 - 1, r0) && !inside(c0, r0 - 1));
        assert!(!inside(c1, r0) && !inside(c0, r1));
    }

    #[test]
    fn logo_and_purple_line_lie_on_the_first_down_line() {
        let g = Graphics::new(35.0);
        let x = yard_to_x(35.0);
        assert_eq!(g.surface(x, 0.0, false), Surface::Logo);
        assert_eq!(g.surface(x, -10.0, true), Surface::ColouredLine);
        assert_eq!(g.surface(x + 0.5, -10.0, false), Surface::Grass);
        let (got, want) = (g.colour(x, 1.0, false, 3), paint_texture(PURPLE, x, 1.0, 3));
        assert!(got.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-9));
    }
}
