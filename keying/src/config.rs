//! The key file `key.toml`: palettes, regions and keyer options, versioned and validated.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::KeyError;
use crate::exclusion::Exclusion;
use crate::palette::Palette;

/// Version of `key.toml` this build reads and writes.
pub const KEY_FILE_VERSION: u32 = 1;
/// Default number of LUT nodes per axis: cells of 4 code values. 33 (cells of 8) blurs colours
/// a few code values apart, such as a green kit and the grass in deep shadow, into each other.
pub const DEFAULT_LUT_SIZE: usize = 65;
/// The finer LUT option (nodes per axis; cells of 2 code values, 8 times the memory).
pub const FINE_LUT_SIZE: usize = 129;
/// Fewest LUT nodes per axis.
pub const MIN_LUT_SIZE: usize = 2;
/// Most LUT nodes per axis (129^3 bytes = 2.1 MiB).
pub const MAX_LUT_SIZE: usize = 129;
/// Default neighbourhood radius of the key's min-filter (pixels; 1 = 3x3, 0 = off).
pub const DEFAULT_MIN_FILTER_RADIUS: u32 = 1;
/// Largest min-filter radius accepted (pixels; 8 = 17x17).
pub const MAX_MIN_FILTER_RADIUS: u32 = 8;
/// Default widening of each painted marking where the paint palette applies (metres).
pub const DEFAULT_PAINT_MARGIN_M: f64 = 0.05;
/// Largest paint margin accepted (metres).
pub const MAX_PAINT_MARGIN_M: f64 = 1.0;

/// What the key's neighbourhood (`min_filter_radius`) does at a pixel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgeFilter {
    /// The smallest key in the neighbourhood: a rim round every player stays clear of the
    /// line, and so do thin dark edges (1st & Ten's neighbourhood alpha).
    #[default]
    Min,
    /// Next to a player (a neighbour keyed below [`UNMIX_FOREGROUND_KEY`]), the pixel's colour
    /// is taken as a mixture of that neighbour's colour and the colour of the neighbour keyed
    /// highest, and its key is lowered to the grass's share of the mixture: a kit's edge
    /// blended with the grass keys out by how much kit it holds, while the grass round the
    /// player keeps its key.
    Unmix,
}

impl EdgeFilter {
    /// True for [`EdgeFilter::Min`], the default.
    pub fn is_min(&self) -> bool {
        *self == Self::Min
    }
}

/// [`EdgeFilter::Unmix`] looks at a pixel's colour as a mixture only where a neighbour keys
/// below this (a player's colour, not a soft edge of the grass).
pub const UNMIX_FOREGROUND_KEY: f32 = 0.25;

/// [`EdgeFilter::Unmix`]'s key of a pixel of colour `c` keyed `own` (0..=1), between a
/// neighbour of colour `fg` (a player's) and one of colour `bg` (the grass's), colours in any
/// space linear in RGB (YCbCr code values): `c` projected on the segment from `bg` to `fg`
/// gives the player's share `a` (0..=1), and the key is `min(own, 1 - a)`. Colours closer
/// together than one code value leave `own` as it is.
#[inline]
pub fn unmix_key(own: f32, c: [f32; 3], fg: [f32; 3], bg: [f32; 3]) -> f32 {
    let d = [fg[0] - bg[0], fg[1] - bg[1], fg[2] - bg[2]];
    let len2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
    if len2 < 1.0 {
        return own;
    }
    let along = (c[0] - bg[0]) * d[0] + (c[1] - bg[1]) * d[1] + (c[2] - bg[2]) * d[2];
    let share = (along / len2).clamp(0.0, 1.0);
    own.min(1.0 - share)
}

/// A part of the field with its own palette (a muddy midfield, a painted logo).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// Operator's name for it.
    #[serde(default)]
    pub name: String,
    /// Field rectangle `[x0, y0, x1, y1]` (metres, field frame; x0 < x1, y0 < y1; edges
    /// included).
    pub rect: [f64; 4],
    /// The palette used for pixels whose field position lies in `rect`.
    pub palette: Palette,
}

impl Region {
    /// True when field point (x, y) (metres) lies in the rectangle, edges included.
    pub fn contains(&self, x: f64, y: f64) -> bool {
        let [x0, y0, x1, y1] = self.rect;
        (x0..=x1).contains(&x) && (y0..=y1).contains(&y)
    }
}

/// The palette of the field's painted markings (yard lines, hash marks, borders, numbers). The
/// keyer does not know where the paint lies: the field model places it (each marking's
/// rectangle widened by `margin_m`), so the palette applies on the paint, and white kits
/// elsewhere stay out of the key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaintKey {
    /// Widening of each painted marking on every side (metres, 0..=1).
    #[serde(default = "default_paint_margin")]
    pub margin_m: f64,
    /// Surface, paint and their edge mixtures.
    pub palette: Palette,
}

fn default_paint_margin() -> f64 {
    DEFAULT_PAINT_MARGIN_M
}

/// Everything `key.toml` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// File format version; [`KEY_FILE_VERSION`].
    pub version: u32,
    /// LUT nodes per axis ([`DEFAULT_LUT_SIZE`], or [`FINE_LUT_SIZE`] for finer edges).
    #[serde(default = "default_lut_size")]
    pub lut_size: usize,
    /// Neighbourhood radius of the edge filter (pixels; 1 = 3x3, 0 = off).
    #[serde(default = "default_min_filter_radius")]
    pub min_filter_radius: u32,
    /// What the neighbourhood does: `min` (the default, then left out of the file, which
    /// builds that do not know this key still read) or `unmix`.
    #[serde(default, skip_serializing_if = "EdgeFilter::is_min")]
    pub edge_filter: EdgeFilter,
    /// The default palette (LUT 0), used wherever no region applies.
    pub palette: Palette,
    /// Regions with their own palettes; region `i` compiles to LUT `i + 1`, and the first
    /// region listed that contains a field point wins.
    #[serde(default)]
    pub regions: Vec<Region>,
    /// The palette of the painted markings (compiled to the LUT after the regions'); regions
    /// listed above take precedence over it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paint: Option<PaintKey>,
    /// Parts of the picture never drawn over (`[[exclusion]]` tables, normalised image
    /// coordinates: see [`crate::exclusion`]).
    #[serde(default, rename = "exclusion", skip_serializing_if = "Vec::is_empty")]
    pub exclusions: Vec<Exclusion>,
}

fn default_lut_size() -> usize {
    DEFAULT_LUT_SIZE
}

fn default_min_filter_radius() -> u32 {
    DEFAULT_MIN_FILTER_RADIUS
}

impl Default for KeyConfig {
    fn default() -> Self {
        Self::new(Palette::default())
    }
}

impl KeyConfig {
    /// A key with one palette and the default options.
    pub fn new(palette: Palette) -> Self {
        Self {
            version: KEY_FILE_VERSION,
            lut_size: DEFAULT_LUT_SIZE,
            min_filter_radius: DEFAULT_MIN_FILTER_RADIUS,
            edge_filter: EdgeFilter::Min,
            palette,
            regions: Vec::new(),
            paint: None,
            exclusions: Vec::new(),
        }
    }

    /// Checks every value; the error names the offending key as written in the file.
    pub fn validate(&self) -> Result<(), KeyError> {
        if self.version != KEY_FILE_VERSION {
            return Err(KeyError::UnsupportedVersion {
                found: i64::from(self.version),
                supported: KEY_FILE_VERSION,
            });
        }
        if !(MIN_LUT_SIZE..=MAX_LUT_SIZE).contains(&self.lut_size) {
            return Err(KeyError::Invalid {
                key: "lut_size".into(),
                reason: format!(
                    "{} is outside {MIN_LUT_SIZE}..={MAX_LUT_SIZE}",
                    self.lut_size
                ),
            });
        }
        if self.min_filter_radius > MAX_MIN_FILTER_RADIUS {
            return Err(KeyError::Invalid {
                key: "min_filter_radius".into(),
                reason: format!(
                    "{} is larger than {MAX_MIN_FILTER_RADIUS}",
                    self.min_filter_radius
                ),
            });
        }
        self.palette.validate("palette")?;
        for (i, r) in self.regions.iter().enumerate() {
            let [x0, y0, x1, y1] = r.rect;
            let reason = if r.rect.iter().any(|v| !v.is_finite()) {
                Some(format!("{:?} has a non-finite value", r.rect))
            } else if x0 >= x1 || y0 >= y1 {
                Some(format!("{:?} is empty (need x0 < x1 and y0 < y1)", r.rect))
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(KeyError::Invalid {
                    key: format!("regions[{i}].rect"),
                    reason,
                });
            }
            r.palette.validate(&format!("regions[{i}].palette"))?;
        }
        if let Some(p) = &self.paint {
            if !(0.0..=MAX_PAINT_MARGIN_M).contains(&p.margin_m) {
                return Err(KeyError::Invalid {
                    key: "paint.margin_m".into(),
                    reason: format!("{} is outside 0..={MAX_PAINT_MARGIN_M}", p.margin_m),
                });
            }
            p.palette.validate("paint.palette")?;
        }
        for (i, e) in self.exclusions.iter().enumerate() {
            e.validate(&format!("exclusion[{i}]"))?;
        }
        Ok(())
    }

    /// Parses and validates `key.toml` text. The version is checked before anything else, so
    /// a file from a newer build says so instead of failing on a field it does not know.
    pub fn from_toml_str(text: &str) -> Result<Self, KeyError> {
        let table: toml::Table = toml::from_str(text)?;
        match table.get("version") {
            None => {
                return Err(KeyError::Invalid {
                    key: "version".into(),
                    reason: format!("missing (this build reads version {KEY_FILE_VERSION})"),
                });
            }
            Some(toml::Value::Integer(v)) if *v == i64::from(KEY_FILE_VERSION) => {}
            Some(toml::Value::Integer(v)) => {
                return Err(KeyError::UnsupportedVersion {
                    found: *v,
                    supported: KEY_FILE_VERSION,
                });
            }
            Some(other) => {
                return Err(KeyError::Invalid {
                    key: "version".into(),
                    reason: format!("expected an integer, found {}", other.type_str()),
                });
            }
        }
        let config: Self = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    /// The key as `key.toml` text (validated first, so a bad key is never written).
    pub fn to_toml_string(&self) -> Result<String, KeyError> {
        self.validate()?;
        Ok(toml::to_string(self)?)
    }

    /// Reads and validates a key file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml_str(&text)
    }

    /// Validates and writes a key file.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), KeyError> {
        let path = path.as_ref();
        let text = self.to_toml_string()?;
        std::fs::write(path, text).map_err(|source| KeyError::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}
