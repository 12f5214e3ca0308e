//! The element's settings (its properties) and how they map onto the engine's configuration.

use std::path::PathBuf;

use gst::glib;
use gst::prelude::*;
use yardline_engine::FieldKind;
use yardline_engine::graphics::DEFAULT_LINE_WIDTH_M;
use yardline_engine::pose::PoseMode;
use yardline_engine::{
    BackendChoice, DEFAULT_FIRST_DOWN_RGB, DEFAULT_SCRIMMAGE_RGB, EngineConfig,
    FRAME_PERIOD_5994_NS, OutputMode,
};
use yardline_keying::Exclusion;

/// Default first-down position (yards from the left goal line).
pub const DEFAULT_FIRST_DOWN: f64 = 35.0;
/// Default line-of-scrimmage position (yards from the left goal line).
pub const DEFAULT_SCRIMMAGE: f64 = 25.0;
/// Default: the first-down line is shown.
pub const DEFAULT_SHOW_FIRST_DOWN: bool = true;
/// Default: the line of scrimmage is hidden.
pub const DEFAULT_SHOW_SCRIMMAGE: bool = false;
/// Default line opacity (0..=1).
pub const DEFAULT_OPACITY: f64 = 1.0;
/// Default tracking delay: -1 takes the venue's (ns).
pub const DEFAULT_TRACKING_DELAY: i64 = -1;
/// Default FreeD camera id: -1 follows the venue's first camera.
pub const DEFAULT_CAMERA_ID: i32 = -1;
/// Default frame budget: 0 = one frame period of the caps.
pub const DEFAULT_BUDGET: i64 = 0;
/// Default: no per-frame bus messages.
pub const DEFAULT_POST_MESSAGES: bool = false;
/// Default of `realtime`: the streaming thread's priority is the application's.
pub const DEFAULT_REALTIME: bool = false;

/// Packs sRGB bytes as `0xAARRGGBB` with an opaque alpha byte.
pub const fn argb(rgb: [u8; 3]) -> u32 {
    0xFF00_0000 | (rgb[0] as u32) << 16 | (rgb[1] as u32) << 8 | rgb[2] as u32
}

/// The RGB bytes of a `0xAARRGGBB` colour (alpha ignored).
pub const fn rgb_of(argb: u32) -> [u8; 3] {
    [(argb >> 16) as u8, (argb >> 8) as u8, argb as u8]
}

/// Default first-down colour (`0xAARRGGBB`).
pub const DEFAULT_FIRST_DOWN_COLOR: u32 = argb(DEFAULT_FIRST_DOWN_RGB);
/// Default line-of-scrimmage colour (`0xAARRGGBB`).
pub const DEFAULT_SCRIMMAGE_COLOR: u32 = argb(DEFAULT_SCRIMMAGE_RGB);

/// Declares a `GObject` enum for a property and its conversion into the engine's enum of the
/// same variant names.
macro_rules! property_enum {
    (
        $(#[$meta:meta])*
        $name:ident as $gtype:tt => $engine:ty {
            $( $(#[$variant_meta:meta])* $variant:ident = $value:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, glib::Enum)]
        #[repr(u32)]
        #[enum_type(name = $gtype)]
        pub enum $name {
            $( $(#[$variant_meta])* $variant = $value, )+
        }

        impl From<$name> for $engine {
            fn from(v: $name) -> Self {
                match v {
                    $( $name::$variant => Self::$variant, )+
                }
            }
        }
    };
}

property_enum! {
    /// Field rulebook, as a `GObject` enum.
    Field as "GstYardlineField" => FieldKind {
        /// NFL.
        #[default]
        #[enum_value(name = "NFL field (hash marks 18 ft 6 in apart)", nick = "nfl")]
        Nfl = 0,
        /// NCAA.
        #[enum_value(name = "NCAA field (hash marks 40 ft apart)", nick = "ncaa")]
        Ncaa = 1,
        /// High school.
        #[enum_value(name = "High-school field (hash marks 53 ft 4 in apart)", nick = "hs")]
        Hs = 2,
        /// Soccer pitch.
        #[enum_value(name = "Soccer pitch (105 x 68 m)", nick = "soccer")]
        Soccer = 3,
    }
}

property_enum! {
    /// Pose mode, as a `GObject` enum.
    Pose as "GstYardlinePoseMode" => PoseMode {
        /// Fused with sensors, vision-only without.
        #[default]
        #[enum_value(
            name = "Auto: sensor refined by vision, vision-only without tracking",
            nick = "auto"
        )]
        Auto = 0,
        /// Sensor camera only.
        #[enum_value(name = "Sensor: the tracked head's camera only", nick = "sensor")]
        Sensor = 1,
        /// Vision tracking only.
        #[enum_value(name = "Vision: painted-line tracking only", nick = "vision")]
        Vision = 2,
        /// Sensor refined by vision.
        #[enum_value(name = "Fused: sensor camera refined by vision", nick = "fused")]
        Fused = 3,
    }
}

property_enum! {
    /// The `output` property (what the src pad carries), as a `GObject` enum.
    Output as "GstYardlineOutput" => OutputMode {
        /// The video with the lines drawn in, in the sink pad's format.
        #[default]
        #[enum_value(
            name = "Program: the video with the lines drawn in (in place, caps unchanged)",
            nick = "program"
        )]
        Program = 0,
        /// The lines alone with their alpha.
        #[enum_value(
            name = "Fill and key: the lines alone with their alpha (BGRA/ARGB for 8-bit \
                    input, AYUV64 for 10-bit input) for an external keyer",
            nick = "fill-key"
        )]
        FillKey = 1,
    }
}

property_enum! {
    /// The `backend` property (which compositor draws the line), as a `GObject` enum.
    BackendProperty as "GstYardlineBackend" => BackendChoice {
        /// A hardware GPU when present, else the CPU.
        #[default]
        #[enum_value(
            name = "Auto: a hardware GPU when present, else the CPU",
            nick = "auto"
        )]
        Auto = 0,
        /// The CPU compositor.
        #[enum_value(name = "CPU compositor", nick = "cpu")]
        Cpu = 1,
        /// A wgpu device, software adapters included.
        #[enum_value(
            name = "GPU compositor (wgpu, software adapters included)",
            nick = "gpu"
        )]
        Gpu = 2,
    }
}

/// Every property value.
#[allow(
    clippy::struct_excessive_bools,
    reason = "one field per boolean property of the element"
)]
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Venue calibration file.
    pub venue: Option<PathBuf>,
    /// Key palette file.
    pub keying: Option<PathBuf>,
    /// Image-space exclusions of the `exclusions` property (the key file's apply too).
    pub exclusions: Vec<Exclusion>,
    /// Field rulebook.
    pub field: Field,
    /// First-down position (yards).
    pub first_down: f64,
    /// Line-of-scrimmage position (yards).
    pub scrimmage: f64,
    /// First-down line shown.
    pub show_first_down: bool,
    /// Line of scrimmage shown.
    pub show_scrimmage: bool,
    /// Line width (metres).
    pub line_width: f64,
    /// First-down colour (`0xAARRGGBB`, alpha ignored).
    pub first_down_color: u32,
    /// Scrimmage colour (`0xAARRGGBB`, alpha ignored).
    pub scrimmage_color: u32,
    /// Opacity of both lines (0..=1).
    pub opacity: f64,
    /// Tracking source as given.
    pub tracking: Option<String>,
    /// Tracking delay override (ns); negative = the venue's.
    pub tracking_delay: i64,
    /// FreeD camera id; negative = the venue's first camera.
    pub camera_id: i32,
    /// Pose mode.
    pub pose_mode: Pose,
    /// Key with the field-space clean plate beside the colour key.
    pub clean_plate: bool,
    /// Compositor backend.
    pub backend: BackendProperty,
    /// What the src pad carries (a change while playing renegotiates, or is refused when
    /// downstream cannot take it).
    pub output: Output,
    /// Post a `yardline-frame` element message per frame.
    pub post_messages: bool,
    /// Promote the streaming thread that draws to real-time scheduling.
    pub realtime: bool,
    /// Processing budget per frame (ns): 0 = one frame period, negative = unlimited.
    pub budget: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            venue: None,
            keying: None,
            exclusions: Vec::new(),
            field: Field::Nfl,
            first_down: DEFAULT_FIRST_DOWN,
            scrimmage: DEFAULT_SCRIMMAGE,
            show_first_down: DEFAULT_SHOW_FIRST_DOWN,
            show_scrimmage: DEFAULT_SHOW_SCRIMMAGE,
            line_width: DEFAULT_LINE_WIDTH_M,
            first_down_color: DEFAULT_FIRST_DOWN_COLOR,
            scrimmage_color: DEFAULT_SCRIMMAGE_COLOR,
            opacity: DEFAULT_OPACITY,
            tracking: None,
            tracking_delay: DEFAULT_TRACKING_DELAY,
            camera_id: DEFAULT_CAMERA_ID,
            pose_mode: Pose::Auto,
            clean_plate: false,
            backend: BackendProperty::Auto,
            output: Output::Program,
            post_messages: DEFAULT_POST_MESSAGES,
            realtime: DEFAULT_REALTIME,
            budget: DEFAULT_BUDGET,
        }
    }
}

impl Settings {
    /// The engine configuration these settings describe, for video of `frame_period_ns`
    /// (non-positive: 59.94 Hz).
    pub fn engine_config(&self, frame_period_ns: i64) -> EngineConfig {
        let mut c = EngineConfig {
            field: self.field.into(),
            backend: self.backend.into(),
            pose_mode: self.pose_mode.into(),
            camera_id: u8::try_from(self.camera_id).ok(),
            tracking_delay_ns: (self.tracking_delay >= 0).then_some(self.tracking_delay),
            frame_period_ns: if frame_period_ns > 0 {
                frame_period_ns
            } else {
                FRAME_PERIOD_5994_NS
            },
            ..EngineConfig::default()
        };
        let opacity = self.opacity as f32;
        c.set_lines(self.first_down, self.scrimmage, self.line_width);
        c.first_down.enabled = self.show_first_down;
        c.first_down.rgb = rgb_of(self.first_down_color);
        c.first_down.opacity = opacity;
        c.scrimmage.enabled = self.show_scrimmage;
        c.scrimmage.rgb = rgb_of(self.scrimmage_color);
        c.scrimmage.opacity = opacity;
        c.clean_plate = self.clean_plate;
        c
    }

    /// The processing budget per frame for video of `frame_period_ns` (ns); `None` when
    /// unlimited.
    pub fn budget_ns(&self, frame_period_ns: i64) -> Option<i64> {
        match self.budget {
            b if b < 0 => None,
            0 => Some(frame_period_ns),
            b => Some(b),
        }
    }
}

/// A property value of another type than the property's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("wrong value type: {0}")]
pub struct WrongType(pub String);

/// Reads and writes the settings a property sets directly, by property name: the plain ones,
/// which the next frame applies (the file, tracking and camera properties swap what they name
/// at once instead).
macro_rules! plain_properties {
    ($($name:literal => $field:ident,)+) => {
        impl Settings {
            /// Sets the plain property `name` from `value`; `None` when `name` is not one, an
            /// error when `value` has another type.
            pub fn set_plain(
                &mut self,
                name: &str,
                value: &glib::Value,
            ) -> Option<Result<(), WrongType>> {
                let set = match name {
                    $($name => value
                        .get()
                        .map(|v| self.$field = v)
                        .map_err(|e| WrongType(e.to_string())),)+
                    _ => return None,
                };
                Some(set)
            }

            /// The value of the plain property `name`; `None` when `name` is not one.
            pub fn plain(&self, name: &str) -> Option<glib::Value> {
                match name {
                    $($name => Some(self.$field.to_value()),)+
                    _ => None,
                }
            }
        }
    };
}

plain_properties! {
    "field" => field,
    "first-down" => first_down,
    "scrimmage" => scrimmage,
    "show-first-down" => show_first_down,
    "show-scrimmage" => show_scrimmage,
    "line-width" => line_width,
    "first-down-color" => first_down_color,
    "scrimmage-color" => scrimmage_color,
    "opacity" => opacity,
    "tracking-delay" => tracking_delay,
    "pose-mode" => pose_mode,
    "clean-plate" => clean_plate,
    "backend" => backend,
    "budget" => budget,
}

#[cfg(test)]
#[allow(clippy::float_cmp, reason = "exact values are the assertion")]
mod tests {
    use super::*;

    #[test]
    fn colours_round_trip() {
        assert_eq!(DEFAULT_FIRST_DOWN_COLOR, 0xFFFF_D700);
        assert_eq!(rgb_of(DEFAULT_FIRST_DOWN_COLOR), DEFAULT_FIRST_DOWN_RGB);
        assert_eq!(rgb_of(0x0012_3456), [0x12, 0x34, 0x56]);
    }

    #[test]
    fn defaults_match_the_engine() {
        let c = Settings::default().engine_config(0);
        let d = EngineConfig::default();
        assert_eq!(c.first_down.yard, d.first_down.yard);
        assert_eq!(c.first_down.rgb, d.first_down.rgb);
        assert_eq!(c.scrimmage.rgb, d.scrimmage.rgb);
        assert_eq!(c.frame_period_ns, d.frame_period_ns);
        assert!(c.validate().is_ok());
        let s = Settings {
            line_width: f64::NAN,
            ..Settings::default()
        };
        assert!(s.engine_config(0).validate().is_err());
    }

    #[test]
    fn plain_properties_round_trip_by_name() {
        let mut s = Settings::default();
        assert_eq!(
            s.set_plain("first-down", &36.5_f64.to_value()),
            Some(Ok(()))
        );
        assert_eq!(s.first_down, 36.5);
        assert_eq!(
            s.set_plain("backend", &BackendProperty::Cpu.to_value()),
            Some(Ok(()))
        );
        assert_eq!(s.backend, BackendProperty::Cpu);
        assert_eq!(
            s.plain("budget").and_then(|v| v.get::<i64>().ok()),
            Some(DEFAULT_BUDGET)
        );
        assert!(matches!(
            s.set_plain("opacity", &true.to_value()),
            Some(Err(_))
        ));
        assert_eq!(s.set_plain("venue", &"v.toml".to_value()), None);
        assert!(s.plain("venue").is_none());
    }
}
