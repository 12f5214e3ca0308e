//! Field models: where every painted line and landmark lies, in field metres (DESIGN.md).
//!
//! American football: origin at the centre of the field, +x toward the right goal line, +y
//! toward the far sideline, +z up. Yard position `L` counts from the left goal line:
//! `x = (L - 50) * 0.9144`. Lines are 4 in wide; yard lines, goal lines, hash marks and ticks are
//! centred on their nominal position; sideline and end-line borders lie just outside the field of
//! play (their inner edge on the boundary). Soccer: origin at the centre spot, pitch 105 x 68 m
//! unless configured, lines 0.12 m wide, centred on the nominal boundaries.

use std::fmt;
use std::str::FromStr;

use nalgebra::{Point2, Point3};
use serde::{Deserialize, Serialize};

use crate::geometry::Crown;

/// Metres per yard.
pub const YARD_M: f64 = 0.9144;
/// Metres per foot.
pub const FOOT_M: f64 = 0.3048;
/// Metres per inch.
pub const INCH_M: f64 = 0.0254;
/// Width of a painted football line (4 in).
pub const FOOTBALL_LINE_WIDTH_M: f64 = 4.0 * INCH_M;
/// Half the distance between the sidelines (160 ft / 2).
pub const FOOTBALL_HALF_WIDTH_M: f64 = 80.0 * FOOT_M;
/// Default soccer line width.
pub const SOCCER_LINE_WIDTH_M: f64 = 0.12;
/// Length of a hash mark and of a sideline tick (2 ft).
const HASH_LENGTH_M: f64 = 2.0 * FOOT_M;
/// Gap between the sideline's inner edge and the sideline ticks (4 in).
const TICK_INSET_M: f64 = 4.0 * INCH_M;

/// Which rulebook a field follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    /// NFL (hash marks 18 ft 6 in apart).
    #[default]
    Nfl,
    /// NCAA (hash marks 40 ft apart).
    Ncaa,
    /// High school (hash marks 53 ft 4 in apart).
    Hs,
    /// Association football.
    Soccer,
}

impl FieldKind {
    /// All kinds, in a stable order.
    pub const ALL: [Self; 4] = [Self::Nfl, Self::Ncaa, Self::Hs, Self::Soccer];

    /// Lower-case name used in files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Nfl => "nfl",
            Self::Ncaa => "ncaa",
            Self::Hs => "hs",
            Self::Soccer => "soccer",
        }
    }

    /// True for the American-football kinds.
    pub fn is_football(self) -> bool {
        !matches!(self, Self::Soccer)
    }

    /// Distance from the midline to each row of hash marks (metres); `None` for soccer.
    pub fn hash_offset_m(self) -> Option<f64> {
        match self {
            Self::Nfl => Some(0.5 * (18.0 * FOOT_M + 6.0 * INCH_M)),
            Self::Ncaa => Some(0.5 * 40.0 * FOOT_M),
            Self::Hs => Some(0.5 * (53.0 * FOOT_M + 4.0 * INCH_M)),
            Self::Soccer => None,
        }
    }
}

impl fmt::Display for FieldKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error parsing a field kind or a yard position.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FieldParseError {
    /// Not one of nfl, ncaa, hs, soccer.
    #[error("unknown field kind {0:?} (expected nfl, ncaa, hs or soccer)")]
    UnknownKind(String),
    /// Not a yard position.
    #[error("cannot read yard position {0:?} (expected e.g. \"35\", \"own 35\" or \"opp 20\")")]
    BadYard(String),
    /// A yard position outside 0..=50 after own/opp.
    #[error("yard line {0} is out of range (own/opp take 0..=50)")]
    YardOutOfRange(f64),
}

impl FromStr for FieldKind {
    type Err = FieldParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "nfl" => Ok(Self::Nfl),
            "ncaa" => Ok(Self::Ncaa),
            "hs" | "highschool" | "high-school" => Ok(Self::Hs),
            "soccer" | "football-association" => Ok(Self::Soccer),
            other => Err(FieldParseError::UnknownKind(other.to_string())),
        }
    }
}

/// Field x (metres) of yard position `L` (yards from the left goal line).
#[inline]
pub fn yard_to_x(yard: f64) -> f64 {
    (yard - 50.0) * YARD_M
}

/// Yard position of field x (metres).
#[inline]
pub fn x_to_yard(x: f64) -> f64 {
    x / YARD_M + 50.0
}

/// Parses "35" (absolute, 0..=100 from the left goal line), "own 35" (the left team's half,
/// = 35) or "opp 35" / "opponent 35" (the right half, = 65). "50" is midfield either way.
pub fn parse_yard(s: &str) -> Result<f64, FieldParseError> {
    let t = s.trim().to_ascii_lowercase();
    let bad = || FieldParseError::BadYard(s.to_string());
    let mut words = t.split_whitespace();
    let first = words.next().ok_or_else(bad)?;
    let (side, num) = match first {
        "own" => (Some(false), words.next().ok_or_else(bad)?),
        "opp" | "opponent" | "opponents" => (Some(true), words.next().ok_or_else(bad)?),
        n => (None, n),
    };
    if words.next().is_some() {
        return Err(bad());
    }
    let v: f64 = num.parse().map_err(|_| bad())?;
    if !v.is_finite() {
        return Err(bad());
    }
    match side {
        None if (-10.0..=110.0).contains(&v) => Ok(v),
        None => Err(FieldParseError::YardOutOfRange(v)),
        Some(_) if !(0.0..=50.0).contains(&v) => Err(FieldParseError::YardOutOfRange(v)),
        Some(false) => Ok(v),
        Some(true) => Ok(100.0 - v),
    }
}

/// The "own 35" / "opp 35" / "50" label of a yard position (one decimal where fractional).
pub fn yard_label(yard: f64) -> String {
    let fmt_num = |v: f64| {
        if (v - v.round()).abs() < 1e-9 {
            format!("{}", v.round() as i64)
        } else {
            format!("{v:.1}")
        }
    };
    if (yard - 50.0).abs() < 1e-9 {
        "50".to_string()
    } else if yard < 50.0 {
        format!("own {}", fmt_num(yard))
    } else {
        format!("opp {}", fmt_num(100.0 - yard))
    }
}

/// What a painted line is, for vision (which lines to search) and drawing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// Football yard line (every 5 yd) or soccer halfway line.
    YardLine,
    /// Football goal line or soccer goal line.
    GoalLine,
    /// Football end line.
    EndLine,
    /// Sideline (football) or touchline (soccer).
    Sideline,
    /// Hash mark (2 ft, every yard).
    Hash,
    /// One-yard tick along a sideline.
    Tick,
    /// Soccer box edges (penalty and goal areas).
    Box,
    /// Soccer circles and arcs.
    Circle,
    /// Soccer spots (drawn as tiny circles).
    Spot,
}

/// Geometry of a painted line's centreline on the ground.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Shape {
    /// Straight segment between two ground points (metres).
    Segment {
        /// Start (x, y).
        a: [f64; 2],
        /// End (x, y).
        b: [f64; 2],
    },
    /// Circular arc, counter-clockwise (seen from above) from `start_rad` to `end_rad`.
    Arc {
        /// Centre (x, y).
        centre: [f64; 2],
        /// Radius of the centreline (metres).
        radius: f64,
        /// Start angle (radians, from +x toward +y).
        start_rad: f64,
        /// End angle (radians), greater than `start_rad`.
        end_rad: f64,
    },
}

impl Shape {
    /// Points along the centreline with at most `max_step_m` between neighbours.
    pub fn sample(&self, max_step_m: f64) -> Vec<Point2<f64>> {
        let (len, f): (f64, Box<dyn Fn(f64) -> Point2<f64>>) = match *self {
            Shape::Segment { a, b } => {
                let (a, b) = (Point2::from(a), Point2::from(b));
                ((b - a).norm(), Box::new(move |t| a + (b - a) * t))
            }
            Shape::Arc {
                centre,
                radius,
                start_rad,
                end_rad,
            } => (
                radius * (end_rad - start_rad),
                Box::new(move |t| {
                    let ang = start_rad + (end_rad - start_rad) * t;
                    Point2::new(
                        centre[0] + radius * ang.cos(),
                        centre[1] + radius * ang.sin(),
                    )
                }),
            ),
        };
        let n = ((len / max_step_m.max(1e-6)).ceil() as usize).max(1);
        (0..=n).map(|i| f(i as f64 / n as f64)).collect()
    }
}

/// One painted line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaintedLine {
    /// What it is.
    pub kind: LineKind,
    /// Centreline.
    pub shape: Shape,
    /// Painted width (metres).
    pub width_m: f64,
}

/// A named point surveyors and operators can click (calibration landmarks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Landmark {
    /// Human-readable name, e.g. "own 30 x near sideline".
    pub name: String,
    /// Field position (metres).
    pub position: [f64; 3],
}

/// Everything painted on one field, plus its outline and crown.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldModel {
    /// Rulebook.
    pub kind: FieldKind,
    /// Half the distance between the goal lines (metres).
    pub half_length_m: f64,
    /// Half the distance between the sidelines / touchlines (metres).
    pub half_width_m: f64,
    /// Half length including end zones (football) or equal to `half_length_m` (soccer).
    pub half_length_with_end_zones_m: f64,
    /// Painted lines.
    pub lines: Vec<PaintedLine>,
    /// Football number boxes: corners (x, y) of each number pair's bounding box (6 ft tall).
    pub number_boxes: Vec<[[f64; 2]; 4]>,
    /// Landmarks for registration.
    pub landmarks: Vec<Landmark>,
    /// Surface crown.
    pub crown: Crown,
}

impl FieldModel {
    /// The standard field of a kind (soccer: 105 x 68 m), flat.
    pub fn new(kind: FieldKind) -> Self {
        match kind {
            FieldKind::Soccer => Self::soccer(105.0, 68.0),
            _ => Self::football(kind),
        }
    }

    /// The same field with a parabolic crown of `height_m` at the midline.
    #[must_use]
    pub fn with_crown(mut self, height_m: f64) -> Self {
        self.crown = Crown {
            height_m,
            half_width_m: self.half_width_m,
        };
        self
    }

    /// Surface height at (x, y) (metres).
    pub fn surface_z(&self, _x: f64, y: f64) -> f64 {
        self.crown.height_at(y)
    }

    /// Lines of one kind.
    pub fn lines_of(&self, kind: LineKind) -> impl Iterator<Item = &PaintedLine> {
        self.lines.iter().filter(move |l| l.kind == kind)
    }

    /// Whether ground point (x, y) lies inside the field of play (football: between the
    /// sidelines and end lines, end zones included).
    pub fn contains(&self, x: f64, y: f64) -> bool {
        x.abs() <= self.half_length_with_end_zones_m && y.abs() <= self.half_width_m
    }

    /// Axis-aligned rectangles `[x0, y0, x1, y1]` (metres) covering every painted marking:
    /// each straight line's painted band, each arc in pieces of at most 1 m of centreline, each
    /// number box. They are where the key's paint palette applies.
    pub fn paint_rects(&self) -> Vec<[f64; 4]> {
        let mut out = Vec::new();
        for l in &self.lines {
            let h = 0.5 * l.width_m;
            let points = match l.shape {
                Shape::Segment { a, b } => vec![Point2::from(a), Point2::from(b)],
                Shape::Arc { .. } => l.shape.sample(1.0),
            };
            for pair in points.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                out.push([
                    a.x.min(b.x) - h,
                    a.y.min(b.y) - h,
                    a.x.max(b.x) + h,
                    a.y.max(b.y) + h,
                ]);
            }
        }
        for corners in &self.number_boxes {
            let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
            for c in corners {
                for i in 0..2 {
                    lo[i] = lo[i].min(c[i]);
                    hi[i] = hi[i].max(c[i]);
                }
            }
            out.push([lo[0], lo[1], hi[0], hi[1]]);
        }
        out
    }

    /// Field-of-play outline corners (x, y), counter-clockwise from bottom left.
    pub fn outline(&self) -> [[f64; 2]; 4] {
        let (hx, hy) = (self.half_length_with_end_zones_m, self.half_width_m);
        [[-hx, -hy], [hx, -hy], [hx, hy], [-hx, hy]]
    }

    fn football(kind: FieldKind) -> Self {
        let w = FOOTBALL_LINE_WIDTH_M;
        let hy = FOOTBALL_HALF_WIDTH_M;
        let hx_goal = 50.0 * YARD_M;
        let hx_end = 60.0 * YARD_M;
        let hash = kind.hash_offset_m().unwrap_or(0.0);
        let seg = |kind, a: [f64; 2], b: [f64; 2]| PaintedLine {
            kind,
            shape: Shape::Segment { a, b },
            width_m: w,
        };
        let mut lines = Vec::new();
        // Borders: inner edge on the boundary.
        let (by, bx) = (hy + 0.5 * w, hx_end + 0.5 * w);
        lines.push(seg(LineKind::Sideline, [-bx, -by], [bx, -by]));
        lines.push(seg(LineKind::Sideline, [-bx, by], [bx, by]));
        lines.push(seg(LineKind::EndLine, [-bx, -by], [-bx, by]));
        lines.push(seg(LineKind::EndLine, [bx, -by], [bx, by]));
        for yard in (0..=100).step_by(5) {
            let x = yard_to_x(f64::from(yard));
            let k = if yard == 0 || yard == 100 {
                LineKind::GoalLine
            } else {
                LineKind::YardLine
            };
            lines.push(seg(k, [x, -hy], [x, hy]));
        }
        for yard in 1..100 {
            if yard % 5 == 0 {
                continue;
            }
            let x = yard_to_x(f64::from(yard));
            for s in [-1.0, 1.0] {
                // Hash marks: inner end on the inbounds line, 2 ft long outward.
                lines.push(seg(
                    LineKind::Hash,
                    [x, s * hash],
                    [x, s * (hash + HASH_LENGTH_M)],
                ));
                // Sideline ticks: 4 in inside the sideline, 2 ft long inward.
                let outer = hy - TICK_INSET_M;
                lines.push(seg(
                    LineKind::Tick,
                    [x, s * (outer - HASH_LENGTH_M)],
                    [x, s * outer],
                ));
            }
        }
        // Numbers: 6 ft tall, tops 9 yd from the sideline, centred on each 10-yd line
        // (10..=90), about 2 yd wide per pair of digits.
        let mut number_boxes = Vec::new();
        for yard in (10..=90).step_by(10) {
            let x = yard_to_x(f64::from(yard));
            for s in [-1.0, 1.0] {
                let top = s * (hy - 9.0 * YARD_M);
                let bottom = top - s * 6.0 * FOOT_M;
                let (x0, x1) = (x - YARD_M, x + YARD_M);
                number_boxes.push([[x0, bottom], [x1, bottom], [x1, top], [x0, top]]);
            }
        }
        let mut landmarks = Vec::new();
        for yard in (0..=100).step_by(5) {
            let x = yard_to_x(f64::from(yard));
            let label = yard_label(f64::from(yard));
            for (name, y) in [
                ("near sideline", -hy),
                ("near hash", -hash),
                ("far hash", hash),
                ("far sideline", hy),
            ] {
                landmarks.push(Landmark {
                    name: format!("{label} x {name}"),
                    position: [x, y, 0.0],
                });
            }
        }
        Self {
            kind,
            half_length_m: hx_goal,
            half_width_m: hy,
            half_length_with_end_zones_m: hx_end,
            lines,
            number_boxes,
            landmarks,
            crown: Crown::default(),
        }
    }

    /// A soccer pitch of `length` x `width` metres (IFAB markings).
    pub fn soccer(length: f64, width: f64) -> Self {
        use std::f64::consts::{FRAC_PI_2, PI};
        let w = SOCCER_LINE_WIDTH_M;
        let (hx, hy) = (0.5 * length, 0.5 * width);
        let seg = |kind, a: [f64; 2], b: [f64; 2]| PaintedLine {
            kind,
            shape: Shape::Segment { a, b },
            width_m: w,
        };
        let arc = |kind, centre: [f64; 2], radius: f64, start_rad: f64, end_rad: f64| PaintedLine {
            kind,
            shape: Shape::Arc {
                centre,
                radius,
                start_rad,
                end_rad,
            },
            width_m: w,
        };
        let mut lines = vec![
            seg(LineKind::Sideline, [-hx, -hy], [hx, -hy]),
            seg(LineKind::Sideline, [-hx, hy], [hx, hy]),
            seg(LineKind::GoalLine, [-hx, -hy], [-hx, hy]),
            seg(LineKind::GoalLine, [hx, -hy], [hx, hy]),
            seg(LineKind::YardLine, [0.0, -hy], [0.0, hy]),
            arc(LineKind::Circle, [0.0, 0.0], 9.15, 0.0, 2.0 * PI),
            arc(LineKind::Spot, [0.0, 0.0], 0.11, 0.0, 2.0 * PI),
        ];
        let mut landmarks = vec![Landmark {
            name: "centre spot".into(),
            position: [0.0, 0.0, 0.0],
        }];
        for s in [-1.0_f64, 1.0] {
            let g = s * hx;
            let inward = -s;
            // Penalty area 16.5 m deep, 40.32 m wide; goal area 5.5 m deep, 18.32 m wide.
            for (depth, half) in [(16.5, 20.16), (5.5, 9.16)] {
                let xi = g + inward * depth;
                lines.push(seg(LineKind::Box, [g, -half], [xi, -half]));
                lines.push(seg(LineKind::Box, [g, half], [xi, half]));
                lines.push(seg(LineKind::Box, [xi, -half], [xi, half]));
                for (name, y) in [("near", -half), ("far", half)] {
                    let side = if s < 0.0 { "left" } else { "right" };
                    let area = if depth > 10.0 { "penalty" } else { "goal" };
                    landmarks.push(Landmark {
                        name: format!("{side} {area} area {name} corner"),
                        position: [xi, y, 0.0],
                    });
                }
            }
            let spot = g + inward * 11.0;
            lines.push(arc(LineKind::Spot, [spot, 0.0], 0.11, 0.0, 2.0 * PI));
            // Penalty arc: the part of the 9.15 m circle round the spot outside the area.
            let half_ang = ((16.5_f64 - 11.0) / 9.15).acos();
            let (a0, a1) = if s < 0.0 {
                (-half_ang, half_ang)
            } else {
                (PI - half_ang, PI + half_ang)
            };
            lines.push(arc(LineKind::Circle, [spot, 0.0], 9.15, a0, a1));
            // Corner arcs, radius 1 m, inside the pitch.
            for t in [-1.0_f64, 1.0] {
                let c = [g, t * hy];
                let start = match (s < 0.0, t < 0.0) {
                    (true, true) => 0.0,
                    (false, true) => FRAC_PI_2,
                    (false, false) => PI,
                    (true, false) => 1.5 * PI,
                };
                lines.push(arc(LineKind::Circle, c, 1.0, start, start + FRAC_PI_2));
                landmarks.push(Landmark {
                    name: format!(
                        "{} {} corner",
                        if s < 0.0 { "left" } else { "right" },
                        if t < 0.0 { "near" } else { "far" }
                    ),
                    position: [g, t * hy, 0.0],
                });
            }
        }
        Self {
            kind: FieldKind::Soccer,
            half_length_m: hx,
            half_width_m: hy,
            half_length_with_end_zones_m: hx,
            lines,
            number_boxes: Vec::new(),
            landmarks,
            crown: Crown::default(),
        }
    }

    /// Landmark position by exact name.
    pub fn landmark(&self, name: &str) -> Option<Point3<f64>> {
        self.landmarks
            .iter()
            .find(|l| l.name == name)
            .map(|l| Point3::from(l.position))
    }
}
