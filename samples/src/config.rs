//! What to generate ([`SampleConfig`]) and the scene description written next to it
//! ([`SceneConfig`], `scene.toml`).

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Result, SampleError};

/// Default first-down line position (yards from the left goal line).
pub const DEFAULT_FIRST_DOWN_YARD: f64 = 35.0;
/// Default line of scrimmage (yards from the left goal line).
pub const DEFAULT_SCRIMMAGE_YARD: f64 = 25.0;
/// Default width of the virtual line the engine is expected to draw (metres).
pub const DEFAULT_LINE_WIDTH_M: f64 = 0.2;
/// Default delay of the `FreeD` stream behind the video (frames).
pub const DEFAULT_TRACKING_DELAY_FRAMES: u32 = 2;
/// Smallest image side the generator accepts (pixels).
pub const MIN_SIDE_PX: u32 = 16;
/// Largest image side the generator accepts (pixels).
pub const MAX_SIDE_PX: u32 = 8192;
/// Most frames one sample may hold.
pub const MAX_FRAMES: u32 = 1_000_000;
/// Largest tracking delay accepted (frames).
pub const MAX_TRACKING_DELAY_FRAMES: u32 = 120;
/// Widest virtual line accepted (metres).
pub const MAX_LINE_WIDTH_M: f64 = 2.0;
/// Highest frame rate accepted (frames per second).
pub const MAX_FPS: f64 = 1000.0;
/// Lowest frame rate accepted (frames per second).
pub const MIN_FPS: f64 = 1.0;

/// Camera behaviour and difficulty of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scenario {
    /// A game camera following play: pans, tilts, zoom pushes.
    #[default]
    Default,
    /// As default, plus a green uniform close to the grass, white socks and a bright
    /// sun/shadow split, with faster, wider zoom pushes.
    Hard,
    /// As default, but the truth camera's pan/tilt drift away from the `FreeD` angles (up to
    /// 0.1 degree), which the venue calibration does not know.
    Drift,
    /// A locked-off camera (for jitter).
    Static,
    /// As hard, but the green team wears the grass's own colour (within the grass's spread
    /// and the sensor noise in shadow): beyond what any colour key can tell apart, kept to
    /// measure how the key behaves there.
    Camouflage,
    /// Tight shots into a crowd: as default, but every player (all 22, and the officials)
    /// jostles in a scrum a few metres across round the first-down area, the scrum drifts,
    /// and the camera aims where it was 0.3 s before. The zoom runs a 6.5 s cycle of wide
    /// hold (28 to 44 yards across at the aim point), a push of under a second, a tight hold
    /// of 2.6 s at 6 to 10 yards across (then only one or two yard lines and one row of hash
    /// marks are in view, many of them behind players) and a pull back out; the clip opens
    /// in the wide hold.
    Zoom,
    /// The program cuts away from the field and back: as default, but from 2 to 3 s into the
    /// clip, and then every 4 to 6 s (seeded), the camera shows for 1 to 3 s a shot with no
    /// field in it: the far stands (aimed 4 degrees below the horizon to 2 above, tilted
    /// higher where needed so that no pixel's ray points more than 9 degrees down and every
    /// ray passes over the ground round the field to the stands or the sky), slowly panning;
    /// every mask pixel is 128 and the first-down line is out of view. The last cut-away
    /// ends at least 1 s before the clip does (shortened down to 1 s, or left out). Each return shows another framing: the aim moves 1 to
    /// 4 yards along the field either way, and the focal length is scaled by 0.75 to 0.9 or
    /// 1.1 to 1.35, from where the continuous motion would have been (the shifts add up to at
    /// most 6 yards, the factors to at most 1.6 either way); the motion then continues
    /// smoothly from there. Truth and `FreeD` follow the head through every frame, cut-aways
    /// included (the head really points there).
    Cut,
    /// A stadium as a real broadcast shows it, for occlusion on real grass: the camera of
    /// `default` over mown-stripe grass (strong light and dark bands, fine blade noise), a
    /// roof shadow across the field (sun 1.25, shade 0.42) that leaves some players in
    /// shade; one team in light kits (white, and light blue), the other in purple, the very
    /// colour of the painted field graphics: the yard line nearest the first-down line (the
    /// 5-yard line at the first-down yard rounded to 5; the first-down line lies on it at
    /// the default 35) is painted purple instead of white, and a team logo (a purple disc
    /// with a gold ring and a white chevron, 5 m across, between the rows of NFL hash marks)
    /// is painted centred on the first-down line at midfield width. Paint is field surface
    /// (mask 0), so the truth counts the first-down line as drawn over the logo and the
    /// purple line. A burned-in score bug (an opaque bar over the lower field, at the
    /// normalised rectangle [`crate::SCORE_BUG_RECT`]) is 255 in the masks, so paint on it
    /// counts as leak. The video is meant to pass through H.264 at streaming quality
    /// ([`crate::STREAM_H264_BITS_PER_PIXEL`]) before it is stored (`yardline sample` does
    /// it; [`crate::Sample::render_frame`] gives the lossless picture); masks and truth stay
    /// exact.
    Stadium,
}

impl Scenario {
    /// All scenarios, in a stable order.
    pub const ALL: [Self; 8] = [
        Self::Default,
        Self::Hard,
        Self::Drift,
        Self::Static,
        Self::Camouflage,
        Self::Zoom,
        Self::Cut,
        Self::Stadium,
    ];

    /// Lower-case name used in files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Hard => "hard",
            Self::Drift => "drift",
            Self::Static => "static",
            Self::Camouflage => "camouflage",
            Self::Zoom => "zoom",
            Self::Cut => "cut",
            Self::Stadium => "stadium",
        }
    }

    /// Whether the scenario has the hard one's light, zoom and pans.
    pub fn is_hard(self) -> bool {
        matches!(self, Self::Hard | Self::Camouflage)
    }

    /// Whether the scenario's video passes through H.264 at streaming quality before it is
    /// stored (`stadium`).
    pub fn streamed(self) -> bool {
        self == Self::Stadium
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scenario {
    type Err = SampleError;
    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|sc| sc.name() == t)
            .ok_or_else(|| SampleError::UnknownScenario(s.to_string()))
    }
}

/// The football rulebooks the generator paints (they differ in the hash-mark spacing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rulebook {
    Nfl,
    Ncaa,
    Hs,
}

impl Rulebook {
    pub(crate) fn parse(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "nfl" => Ok(Self::Nfl),
            "ncaa" => Ok(Self::Ncaa),
            "hs" => Ok(Self::Hs),
            _ => Err(SampleError::UnsupportedField(s.to_string())),
        }
    }
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleConfig {
    /// Random seed: the same seed gives the same bytes.
    pub seed: u64,
    /// Number of frames.
    pub frames: u32,
    /// Image width (pixels).
    pub width: u32,
    /// Image height (pixels).
    pub height: u32,
    /// Frame rate numerator (frames per `fps_den` seconds; 59.94 = 60000/1001).
    pub fps_num: u32,
    /// Frame rate denominator (seconds).
    pub fps_den: u32,
    /// Camera behaviour and difficulty.
    pub scenario: Scenario,
    /// First-down line (yards from the left goal line, 0..=100).
    pub first_down_yard: f64,
    /// Line of scrimmage (yards from the left goal line, 0..=100).
    pub scrimmage_yard: f64,
    /// Width of the virtual line the engine should draw (metres).
    pub line_width_m: f64,
    /// Field kind: "nfl", "ncaa" or "hs".
    pub field: String,
    /// How many frames the `FreeD` packet of a frame arrives after the frame (frames).
    pub tracking_delay_frames: u32,
}

impl Default for SampleConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            frames: 60,
            width: 640,
            height: 360,
            fps_num: 60_000,
            fps_den: 1001,
            scenario: Scenario::Default,
            first_down_yard: DEFAULT_FIRST_DOWN_YARD,
            scrimmage_yard: DEFAULT_SCRIMMAGE_YARD,
            line_width_m: DEFAULT_LINE_WIDTH_M,
            field: "nfl".to_string(),
            tracking_delay_frames: DEFAULT_TRACKING_DELAY_FRAMES,
        }
    }
}

impl SampleConfig {
    /// Frames per second as a float.
    pub fn fps(&self) -> f64 {
        f64::from(self.fps_num) / f64::from(self.fps_den)
    }

    /// Checks every value; the error says which one is wrong.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(SampleError::InvalidConfig(m));
        for (name, v) in [("width", self.width), ("height", self.height)] {
            if !(MIN_SIDE_PX..=MAX_SIDE_PX).contains(&v) {
                return bad(format!(
                    "{name} {v} px is outside {MIN_SIDE_PX}..={MAX_SIDE_PX}"
                ));
            }
        }
        if self.frames == 0 || self.frames > MAX_FRAMES {
            return bad(format!(
                "frames {} is outside 1..={MAX_FRAMES}",
                self.frames
            ));
        }
        if self.fps_num == 0 || self.fps_den == 0 {
            return bad(format!(
                "frame rate {}/{} needs a positive numerator and denominator",
                self.fps_num, self.fps_den
            ));
        }
        let fps = self.fps();
        if !(MIN_FPS..=MAX_FPS).contains(&fps) {
            return bad(format!("frame rate {fps} is outside {MIN_FPS}..={MAX_FPS}"));
        }
        for (name, v) in [
            ("first_down_yard", self.first_down_yard),
            ("scrimmage_yard", self.scrimmage_yard),
        ] {
            if !v.is_finite() || !(0.0..=100.0).contains(&v) {
                return bad(format!("{name} {v} is outside 0..=100 yards"));
            }
        }
        if !self.line_width_m.is_finite()
            || self.line_width_m <= 0.0
            || self.line_width_m > MAX_LINE_WIDTH_M
        {
            return bad(format!(
                "line_width_m {} is outside (0, {MAX_LINE_WIDTH_M}] metres",
                self.line_width_m
            ));
        }
        if self.tracking_delay_frames > MAX_TRACKING_DELAY_FRAMES {
            return bad(format!(
                "tracking_delay_frames {} exceeds {MAX_TRACKING_DELAY_FRAMES}",
                self.tracking_delay_frames
            ));
        }
        Rulebook::parse(&self.field)?;
        Ok(())
    }

    /// Presentation time of frame `i` (ns): `round(i * 1e9 * fps_den / fps_num)`.
    pub fn pts_ns(&self, i: u32) -> i64 {
        frame_time_ns(u64::from(i), self.fps_num, self.fps_den)
    }

    /// The constant `FreeD` delay behind the video (ns).
    pub fn tracking_delay_ns(&self) -> i64 {
        frame_time_ns(
            u64::from(self.tracking_delay_frames),
            self.fps_num,
            self.fps_den,
        )
    }
}

/// `round(frames * 1e9 * den / num)` in exact integer arithmetic.
fn frame_time_ns(frames: u64, num: u32, den: u32) -> i64 {
    let num = u128::from(num.max(1));
    let n = u128::from(frames) * 1_000_000_000 * u128::from(den);
    ((n + num / 2) / num) as i64
}

/// `scene.toml`: what the sample shows, for the renderer and the scorer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SceneConfig {
    /// First-down line (yards from the left goal line).
    pub first_down_yard: f64,
    /// Line of scrimmage (yards from the left goal line).
    pub scrimmage_yard: f64,
    /// Width of the virtual line to draw (metres).
    pub line_width_m: f64,
    /// Frame rate (frames per second).
    pub fps: f64,
    /// Field kind: nfl, ncaa or hs.
    pub field: String,
    /// Seed the sample was generated with.
    #[serde(default)]
    pub seed: u64,
    /// Scenario the sample was generated with.
    #[serde(default)]
    pub scenario: Scenario,
    /// Frame rate numerator (exact rate = `fps_num / fps_den`).
    #[serde(default)]
    pub fps_num: Option<u32>,
    /// Frame rate denominator.
    #[serde(default)]
    pub fps_den: Option<u32>,
    /// Number of frames.
    #[serde(default)]
    pub frames: Option<u32>,
    /// Image width (pixels).
    #[serde(default)]
    pub width: Option<u32>,
    /// Image height (pixels).
    #[serde(default)]
    pub height: Option<u32>,
}

impl SceneConfig {
    /// The scene of a sample configuration.
    pub fn from_config(cfg: &SampleConfig) -> Self {
        Self {
            first_down_yard: cfg.first_down_yard,
            scrimmage_yard: cfg.scrimmage_yard,
            line_width_m: cfg.line_width_m,
            fps: cfg.fps(),
            field: cfg.field.trim().to_ascii_lowercase(),
            seed: cfg.seed,
            scenario: cfg.scenario,
            fps_num: Some(cfg.fps_num),
            fps_den: Some(cfg.fps_den),
            frames: Some(cfg.frames),
            width: Some(cfg.width),
            height: Some(cfg.height),
        }
    }

    /// Frame period (ns): from the exact rate `fps_num / fps_den` when given, else from `fps`;
    /// `None` when neither gives a positive finite period.
    pub fn frame_period_ns(&self) -> Option<i64> {
        let period_s = match (self.fps_num, self.fps_den) {
            (Some(num), Some(den)) if num > 0 && den > 0 => f64::from(den) / f64::from(num),
            _ => 1.0 / self.fps,
        };
        (period_s.is_finite() && period_s > 0.0).then(|| (1e9 * period_s).round() as i64)
    }

    /// Checks the values the scorer relies on.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(SampleError::InvalidConfig(m));
        for (name, v) in [
            ("first_down_yard", self.first_down_yard),
            ("scrimmage_yard", self.scrimmage_yard),
        ] {
            if !v.is_finite() || !(0.0..=100.0).contains(&v) {
                return bad(format!("scene {name} {v} is outside 0..=100 yards"));
            }
        }
        if !self.line_width_m.is_finite()
            || self.line_width_m <= 0.0
            || self.line_width_m > MAX_LINE_WIDTH_M
        {
            return bad(format!(
                "scene line_width_m {} is outside (0, {MAX_LINE_WIDTH_M}]",
                self.line_width_m
            ));
        }
        if !self.fps.is_finite() || self.fps <= 0.0 {
            return bad(format!("scene fps {} is not positive", self.fps));
        }
        Ok(())
    }

    /// Reads and validates `scene.toml`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| SampleError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let scene: Self = toml::from_str(&text).map_err(|source| SampleError::TomlRead {
            path: path.to_path_buf(),
            source,
        })?;
        scene.validate()?;
        Ok(scene)
    }

    /// The TOML text of this scene.
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(self).map_err(|source| SampleError::TomlWrite {
            what: "scene.toml",
            source,
        })
    }
}
