//! Image-space exclusions: parts of the picture never drawn over (a burned-in score bug, a
//! network bug, a ticker, a region the operator draws).
//!
//! ## Coordinates
//!
//! Normalised image coordinates, so that an exclusion survives a change of frame size:
//! `(0, 0)` is the top-left corner of the image and `(1, 1)` its bottom-right corner (`u`
//! across, `v` down). A pixel `(c, r)` of a `w` x `h` frame is excluded when its centre
//! `((c + 0.5) / w, (r + 0.5) / h)` lies in the shape: in a rectangle `[u0, v0, u1, v1]`
//! when `u0 <= u < u1` and `v0 <= v < v1`, in a polygon by the even-odd rule. The edge is
//! hard (a pixel is drawn or not; the engine rounds it outward to the frame format's
//! smallest self-contained block of pixels). Coordinates outside `0..=1` are allowed: the
//! shape is clipped to the frame.
//!
//! ## In `key.toml`
//!
//! ```toml
//! [[exclusion]]
//! name = "score bug"
//! rect = [0.22, 0.845, 0.78, 0.925]
//!
//! [[exclusion]]
//! name = "network bug"
//! polygon = [[0.86, 0.04], [0.97, 0.04], [0.97, 0.11], [0.86, 0.11]]
//! ```
//!
//! Each holds exactly one of `rect` (`u0 < u1`, `v0 < v1`) and `polygon` (at least 3
//! points); every value finite. A malformed one fails the whole file with the TOML error's
//! line and column.
//!
//! ## As text (the element's `exclusions` property)
//!
//! Shapes separated by `;`, each `rect:u0,v0,u1,v1` or `polygon:u,v,u,v,u,v[,...]`:
//! `rect:0.22,0.845,0.78,0.925;polygon:0.86,0.04,0.97,0.04,0.97,0.11`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::KeyError;

/// Fewest points of a polygon.
pub const MIN_POLYGON_POINTS: usize = 3;
/// Most points of a polygon.
pub const MAX_POLYGON_POINTS: usize = 256;

/// The outline of an exclusion, in normalised image coordinates (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub enum ExclusionShape {
    /// `[u0, v0, u1, v1]`: `u0 <= u < u1`, `v0 <= v < v1`.
    Rect([f64; 4]),
    /// Corner points `[u, v]` in order (either winding), at least [`MIN_POLYGON_POINTS`];
    /// inside by the even-odd rule.
    Polygon(Vec<[f64; 2]>),
}

/// One part of the picture never drawn over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ExclusionFields", into = "ExclusionFields")]
pub struct Exclusion {
    /// Operator's name for it (may be empty).
    pub name: String,
    /// Its outline.
    pub shape: ExclusionShape,
}

/// `key.toml`'s form of an [`Exclusion`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExclusionFields {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rect: Option<[f64; 4]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    polygon: Option<Vec<[f64; 2]>>,
}

impl TryFrom<ExclusionFields> for Exclusion {
    type Error = String;
    fn try_from(f: ExclusionFields) -> Result<Self, String> {
        let shape = match (f.rect, f.polygon) {
            (Some(r), None) => ExclusionShape::Rect(r),
            (None, Some(p)) => ExclusionShape::Polygon(p),
            (Some(_), Some(_)) => {
                return Err("an exclusion holds either `rect` or `polygon`, not both".into());
            }
            (None, None) => return Err("an exclusion needs a `rect` or a `polygon`".into()),
        };
        let e = Self {
            name: f.name,
            shape,
        };
        e.check()?;
        Ok(e)
    }
}

impl From<Exclusion> for ExclusionFields {
    fn from(e: Exclusion) -> Self {
        let (rect, polygon) = match e.shape {
            ExclusionShape::Rect(r) => (Some(r), None),
            ExclusionShape::Polygon(p) => (None, Some(p)),
        };
        Self {
            name: e.name,
            rect,
            polygon,
        }
    }
}

impl Exclusion {
    /// A rectangle `[u0, v0, u1, v1]` (normalised).
    pub fn rect(name: impl Into<String>, rect: [f64; 4]) -> Self {
        Self {
            name: name.into(),
            shape: ExclusionShape::Rect(rect),
        }
    }

    /// A polygon of normalised points.
    pub fn polygon(name: impl Into<String>, points: Vec<[f64; 2]>) -> Self {
        Self {
            name: name.into(),
            shape: ExclusionShape::Polygon(points),
        }
    }

    /// What is wrong with the shape, if anything.
    fn check(&self) -> Result<(), String> {
        match &self.shape {
            ExclusionShape::Rect(r) => {
                if r.iter().any(|v| !v.is_finite()) {
                    return Err(format!("rect {r:?} has a value that is not finite"));
                }
                if r[0] >= r[2] || r[1] >= r[3] {
                    return Err(format!("rect {r:?} is empty (need u0 < u1 and v0 < v1)"));
                }
            }
            ExclusionShape::Polygon(p) => {
                if p.len() < MIN_POLYGON_POINTS {
                    return Err(format!(
                        "a polygon needs at least {MIN_POLYGON_POINTS} points, got {}",
                        p.len()
                    ));
                }
                if p.len() > MAX_POLYGON_POINTS {
                    return Err(format!(
                        "a polygon holds at most {MAX_POLYGON_POINTS} points, got {}",
                        p.len()
                    ));
                }
                if let Some(q) = p.iter().find(|q| q.iter().any(|v| !v.is_finite())) {
                    return Err(format!("polygon point {q:?} is not finite"));
                }
            }
        }
        Ok(())
    }

    /// Checks the shape; the error names it as `key` (e.g. `exclusion[2]`).
    pub fn validate(&self, key: &str) -> Result<(), KeyError> {
        self.check().map_err(|reason| KeyError::Invalid {
            key: key.to_string(),
            reason,
        })
    }

    /// Whether normalised point (u, v) lies inside (rectangle: half-open; polygon: even-odd).
    pub fn contains(&self, u: f64, v: f64) -> bool {
        match &self.shape {
            ExclusionShape::Rect([u0, v0, u1, v1]) => {
                (*u0..*u1).contains(&u) && (*v0..*v1).contains(&v)
            }
            ExclusionShape::Polygon(p) => {
                let mut inside = false;
                let mut j = p.len() - 1;
                for i in 0..p.len() {
                    let ([ui, vi], [uj, vj]) = (p[i], p[j]);
                    if (vi > v) != (vj > v) && u < (uj - ui) * (v - vi) / (vj - vi) + ui {
                        inside = !inside;
                    }
                    j = i;
                }
                inside
            }
        }
    }

    /// The normalised bounding box `[u0, v0, u1, v1]`.
    pub fn bounds(&self) -> [f64; 4] {
        match &self.shape {
            ExclusionShape::Rect(r) => *r,
            ExclusionShape::Polygon(p) => p.iter().fold(
                [
                    f64::INFINITY,
                    f64::INFINITY,
                    f64::NEG_INFINITY,
                    f64::NEG_INFINITY,
                ],
                |b, q| {
                    [
                        b[0].min(q[0]),
                        b[1].min(q[1]),
                        b[2].max(q[0]),
                        b[3].max(q[1]),
                    ]
                },
            ),
        }
    }
}

impl fmt::Display for Exclusion {
    /// The text form (`rect:u0,v0,u1,v1` or `polygon:u,v,...`); the name is not written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.shape {
            ExclusionShape::Rect([a, b, c, d]) => write!(f, "rect:{a},{b},{c},{d}"),
            ExclusionShape::Polygon(p) => {
                f.write_str("polygon:")?;
                for (i, [u, v]) in p.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{u},{v}")?;
                }
                Ok(())
            }
        }
    }
}

impl FromStr for Exclusion {
    type Err = KeyError;

    /// Parses `rect:u0,v0,u1,v1` or `polygon:u,v,u,v,u,v[,...]`.
    fn from_str(s: &str) -> Result<Self, KeyError> {
        let bad = |reason: String| KeyError::Invalid {
            key: format!("exclusion `{}`", s.trim()),
            reason,
        };
        let (kind, values) = s
            .trim()
            .split_once(':')
            .ok_or_else(|| bad("expected `rect:u0,v0,u1,v1` or `polygon:u,v,u,v,u,v`".into()))?;
        let numbers = values
            .split(',')
            .map(|v| {
                v.trim()
                    .parse::<f64>()
                    .map_err(|_| bad(format!("`{}` is not a number", v.trim())))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let shape = match kind.trim().to_ascii_lowercase().as_str() {
            "rect" => {
                let r: [f64; 4] = numbers
                    .as_slice()
                    .try_into()
                    .map_err(|_| bad(format!("a rect takes 4 numbers, got {}", numbers.len())))?;
                ExclusionShape::Rect(r)
            }
            "polygon" | "poly" => {
                if numbers.len() % 2 != 0 {
                    return Err(bad(format!(
                        "a polygon takes pairs of numbers, got {}",
                        numbers.len()
                    )));
                }
                ExclusionShape::Polygon(numbers.chunks(2).map(|c| [c[0], c[1]]).collect())
            }
            other => return Err(bad(format!("unknown shape `{other}` (rect or polygon)"))),
        };
        let e = Self {
            name: String::new(),
            shape,
        };
        e.check().map_err(bad)?;
        Ok(e)
    }
}

/// Parses a `;`-separated list of exclusions (the element property's text; empty text: none).
pub fn parse_exclusions(text: &str) -> Result<Vec<Exclusion>, KeyError> {
    text.split(';')
        .filter(|s| !s.trim().is_empty())
        .map(str::parse)
        .collect()
}

/// The text form of a list of exclusions (what [`parse_exclusions`] reads).
pub fn format_exclusions(list: &[Exclusion]) -> String {
    list.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(";")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_and_bad_text_says_why() {
        let list = parse_exclusions("rect:0.2,0.8,0.7,0.9; polygon:0,0,0.1,0,0.1,0.1").unwrap();
        assert_eq!(list.len(), 2);
        assert!(list[0].contains(0.5, 0.85) && !list[0].contains(0.5, 0.9));
        assert!(list[1].contains(0.09, 0.01) && !list[1].contains(0.01, 0.09));
        assert_eq!(parse_exclusions(&format_exclusions(&list)).unwrap(), list);
        assert!(parse_exclusions("").unwrap().is_empty());
        for (text, why) in [
            ("rect:0,0,1", "4 numbers"),
            ("rect:0.5,0,0.2,1", "empty"),
            ("polygon:0,0,1,1", "at least 3 points"),
            ("polygon:0,0,1,1,NaN,0", "not finite"),
            ("circle:0,0,1", "unknown shape"),
            ("rect 0 0 1 1", "expected"),
            ("rect:0,0,x,1", "not a number"),
        ] {
            let err = parse_exclusions(text).unwrap_err().to_string();
            assert!(err.contains(why), "{text}: {err}");
        }
    }
}
