//! Operator settings kept between runs (eframe storage, key [`eframe::APP_KEY`]).

use serde::{Deserialize, Serialize};
use yardline_engine::EngineConfig;
use yardline_engine::YardLine;

/// What the image area shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ViewMode {
    /// The frame with the line (what goes to air).
    #[default]
    Program,
    /// The frame as it came in.
    Clean,
    /// The occlusion key as grey (white = line may draw, black = player).
    Matte,
    /// Program on the left half, key matte on the right.
    Split,
}

impl ViewMode {
    /// All modes with their labels, in display order.
    pub const ALL: [(Self, &'static str); 4] = [
        (Self::Program, "Program"),
        (Self::Clean, "Clean"),
        (Self::Matte, "Key matte"),
        (Self::Split, "Split"),
    ];
}

/// Look of one line (its position is not kept: it changes every down).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LineStyle {
    /// Shown.
    pub enabled: bool,
    /// Colour (sRGB).
    pub rgb: [u8; 3],
    /// Painted width (metres).
    pub width_m: f64,
    /// Opacity 0..=1.
    pub opacity: f32,
}

impl LineStyle {
    /// The style of an engine line.
    pub fn of(line: &YardLine) -> Self {
        Self {
            enabled: line.enabled,
            rgb: line.rgb,
            width_m: line.width_m,
            opacity: line.opacity,
        }
    }

    /// Applies the style to an engine line.
    pub fn apply(&self, line: &mut YardLine) {
        line.enabled = self.enabled;
        line.rgb = self.rgb;
        line.width_m = self.width_m;
        line.opacity = self.opacity;
    }
}

/// Everything persisted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Image view.
    pub view: ViewMode,
    /// Field model wireframe over the image.
    pub wireframe: bool,
    /// First-down line look.
    pub first_down: LineStyle,
    /// Line of scrimmage look.
    pub scrimmage: LineStyle,
    /// Where the key palette is saved and loaded.
    pub key_path: String,
    /// Where the calibration wizard saves the venue.
    pub venue_path: String,
}

impl Default for Settings {
    fn default() -> Self {
        let c = EngineConfig::default();
        Self {
            view: ViewMode::Program,
            wireframe: false,
            first_down: LineStyle::of(&c.first_down),
            scrimmage: LineStyle::of(&c.scrimmage),
            key_path: "key.toml".into(),
            venue_path: "venue.toml".into(),
        }
    }
}

impl Settings {
    /// Settings from eframe storage (defaults when absent or unreadable).
    pub fn load(storage: Option<&dyn eframe::Storage>) -> Self {
        storage
            .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
            .unwrap_or_default()
    }

    /// Writes the settings into eframe storage.
    pub fn save(&self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, self);
    }
}
