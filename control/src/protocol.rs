//! The messages: what a client may change ([`Change`], parsed and type-checked by
//! [`parse_set`]), what an engine says about itself ([`Status`]) and the replies.
//!
//! A set request is one JSON object `{"key": "<setting>", "value": <value>}`; the keys are the
//! element's property names ([`KEYS`]). The parser checks the key and the value's type and
//! form; the engine then validates the value as it validates a property (ranges), and a
//! refused value changes nothing.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Largest request body accepted (bytes): room for a `key.toml` with many regions.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// Every key a set request may name, with the form of its value.
pub const KEYS: [(&str, &str); 12] = [
    ("first-down", "yards from the left goal line (number)"),
    ("scrimmage", "yards from the left goal line (number)"),
    (
        "show-first-down",
        "true or false (the line fades in or out)",
    ),
    ("show-scrimmage", "true or false (the line fades in or out)"),
    ("line-width", "metres (number)"),
    ("first-down-color", "\"#RRGGBB\" or 0xRRGGBB as a number"),
    ("scrimmage-color", "\"#RRGGBB\" or 0xRRGGBB as a number"),
    ("opacity", "0..=1 (number)"),
    ("pose-mode", "\"auto\", \"sensor\", \"vision\" or \"fused\""),
    (
        "clean-plate",
        "true or false (the field-space clean plate beside the colour key)",
    ),
    (
        "key",
        "the text of a key.toml, or \"auto\" / null for the automatic key",
    ),
    (
        "register",
        "a solved camera {width, height, rotation[9], translation[3], fx, fy, cx, cy, k1, k2}",
    ),
];

/// A solved camera sent with `register`: the pose and lens of one frame in the DESIGN.md
/// camera convention (`X_cam = R X_field + t`), intrinsics in pixels of a `width` x `height`
/// frame (the form of a `truth.jsonl` line). The engine scales it to its video's size when
/// the aspect ratio matches, and refuses it otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterCamera {
    /// Width of the frame the camera was solved on (pixels).
    pub width: u32,
    /// Height of that frame (pixels).
    pub height: u32,
    /// `R`, row-major: rotation from the field frame to the camera frame.
    pub rotation: [f64; 9],
    /// `t` (metres).
    pub translation: [f64; 3],
    /// Focal length in x (pixels).
    pub fx: f64,
    /// Focal length in y (pixels).
    pub fy: f64,
    /// Principal point x (pixels, pixel centres at integers).
    pub cx: f64,
    /// Principal point y (pixels).
    pub cy: f64,
    /// First radial distortion coefficient.
    pub k1: f64,
    /// Second radial distortion coefficient.
    pub k2: f64,
}

impl RegisterCamera {
    /// Checks what the form alone tells: a positive frame size, finite numbers, positive
    /// focal lengths. The engine checks the rotation and the frame size.
    pub fn check(&self) -> Result<(), &'static str> {
        if self.width == 0 || self.height == 0 {
            return Err("width and height must be positive");
        }
        let numbers = self
            .rotation
            .iter()
            .chain(&self.translation)
            .chain([&self.fx, &self.fy, &self.cx, &self.cy, &self.k1, &self.k2]);
        if !numbers.into_iter().all(|v| v.is_finite()) {
            return Err("every number must be finite");
        }
        if self.fx <= 0.0 || self.fy <= 0.0 {
            return Err("fx and fy must be positive focal lengths (pixels)");
        }
        Ok(())
    }
}

/// A stable 64-bit hash of a key file's text (FNV-1a), as `/v1/status` shows the key in force:
/// a client that sent a key can tell it landed.
pub fn key_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The pose mode names a client may set.
pub const POSE_MODES: [&str; 4] = ["auto", "sensor", "vision", "fused"];

/// One change an operator makes, type-checked.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// First-down position (yards from the left goal line).
    FirstDown(f64),
    /// Line-of-scrimmage position (yards from the left goal line).
    Scrimmage(f64),
    /// First-down line shown (fades).
    ShowFirstDown(bool),
    /// Line of scrimmage shown (fades).
    ShowScrimmage(bool),
    /// Width of both lines (metres).
    LineWidth(f64),
    /// First-down colour (sRGB bytes).
    FirstDownColor([u8; 3]),
    /// Scrimmage colour (sRGB bytes).
    ScrimmageColor([u8; 3]),
    /// Opacity of both lines (0..=1).
    Opacity(f64),
    /// Pose mode, one of [`POSE_MODES`].
    PoseMode(&'static str),
    /// The field-space clean plate beside the colour key (on or off).
    CleanPlate(bool),
    /// The key: the text of a `key.toml`; `None` returns to the automatic key.
    Key(Option<String>),
    /// Re-register: vision-only tracking restarts from this camera.
    Register(Box<RegisterCamera>),
}

impl Change {
    /// The key (property name) this change sets.
    pub fn key(&self) -> &'static str {
        match self {
            Self::FirstDown(_) => "first-down",
            Self::Scrimmage(_) => "scrimmage",
            Self::ShowFirstDown(_) => "show-first-down",
            Self::ShowScrimmage(_) => "show-scrimmage",
            Self::LineWidth(_) => "line-width",
            Self::FirstDownColor(_) => "first-down-color",
            Self::ScrimmageColor(_) => "scrimmage-color",
            Self::Opacity(_) => "opacity",
            Self::PoseMode(_) => "pose-mode",
            Self::CleanPlate(_) => "clean-plate",
            Self::Key(_) => "key",
            Self::Register(_) => "register",
        }
    }

    /// The value as JSON, in the form a reply or a status shows it.
    pub fn value(&self) -> serde_json::Value {
        match self {
            Self::FirstDown(v) | Self::Scrimmage(v) | Self::LineWidth(v) | Self::Opacity(v) => {
                serde_json::json!(v)
            }
            Self::ShowFirstDown(v) | Self::ShowScrimmage(v) | Self::CleanPlate(v) => {
                serde_json::json!(v)
            }
            Self::FirstDownColor(c) | Self::ScrimmageColor(c) => {
                serde_json::json!(format!("#{:02X}{:02X}{:02X}", c[0], c[1], c[2]))
            }
            Self::PoseMode(m) => serde_json::json!(m),
            Self::Key(None) => serde_json::json!("auto"),
            Self::Key(Some(text)) => serde_json::json!(text),
            Self::Register(c) => serde_json::to_value(c).unwrap_or_default(),
        }
    }

    /// Type-checks `value` for `key`.
    pub fn from_key_value(key: &str, value: &serde_json::Value) -> Result<Self, ProtocolError> {
        let number = || number(key, value);
        let flag = || {
            value
                .as_bool()
                .ok_or_else(|| ProtocolError::value(key, "expected true or false"))
        };
        Ok(match key {
            "first-down" => Self::FirstDown(number()?),
            "scrimmage" => Self::Scrimmage(number()?),
            "show-first-down" => Self::ShowFirstDown(flag()?),
            "show-scrimmage" => Self::ShowScrimmage(flag()?),
            "line-width" => Self::LineWidth(number()?),
            "first-down-color" => Self::FirstDownColor(colour(key, value)?),
            "scrimmage-color" => Self::ScrimmageColor(colour(key, value)?),
            "opacity" => Self::Opacity(number()?),
            "clean-plate" => Self::CleanPlate(flag()?),
            "pose-mode" => {
                let name = value.as_str().map(|s| s.trim().to_ascii_lowercase());
                let mode = POSE_MODES
                    .iter()
                    .find(|m| name.as_deref() == Some(**m))
                    .ok_or_else(|| {
                        ProtocolError::value(
                            key,
                            "expected \"auto\", \"sensor\", \"vision\" or \"fused\"",
                        )
                    })?;
                Self::PoseMode(mode)
            }
            "key" => match value {
                serde_json::Value::Null => Self::Key(None),
                serde_json::Value::String(s) if s.trim().eq_ignore_ascii_case("auto") => {
                    Self::Key(None)
                }
                serde_json::Value::String(s) => Self::Key(Some(s.clone())),
                _ => {
                    return Err(ProtocolError::value(
                        key,
                        "expected the text of a key.toml, \"auto\" or null",
                    ));
                }
            },
            "register" => {
                let camera: RegisterCamera =
                    serde::Deserialize::deserialize(value).map_err(|e| {
                        ProtocolError::Register(e.to_string().chars().take(160).collect())
                    })?;
                camera
                    .check()
                    .map_err(|why| ProtocolError::value(key, why))?;
                Self::Register(Box::new(camera))
            }
            other => return Err(ProtocolError::UnknownKey(truncated(other))),
        })
    }

    /// Parses a command-line value for `key`: JSON where it parses as JSON (`45`, `true`,
    /// `"#FF0000"`), else the text as a JSON string (`#FF0000`, `vision`).
    pub fn from_cli(key: &str, value: &str) -> Result<Self, ProtocolError> {
        let json = serde_json::from_str(value)
            .unwrap_or_else(|_| serde_json::Value::String(value.to_owned()));
        Self::from_key_value(key, &json)
    }
}

fn number(key: &str, value: &serde_json::Value) -> Result<f64, ProtocolError> {
    value
        .as_f64()
        .filter(|v| v.is_finite())
        .ok_or_else(|| ProtocolError::value(key, "expected a finite number"))
}

fn colour(key: &str, value: &serde_json::Value) -> Result<[u8; 3], ProtocolError> {
    let bad = || ProtocolError::value(key, "expected \"#RRGGBB\" or a number 0..=0xFFFFFF");
    let packed = match value {
        serde_json::Value::Number(n) => n.as_u64().filter(|v| *v <= 0xFF_FFFF).ok_or_else(bad)?,
        serde_json::Value::String(s) => {
            let hex = s.trim();
            let hex = hex
                .strip_prefix('#')
                .or_else(|| hex.strip_prefix("0x"))
                .ok_or_else(bad)?;
            if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad());
            }
            u64::from_str_radix(hex, 16).map_err(|_| bad())?
        }
        _ => return Err(bad()),
    };
    Ok([(packed >> 16) as u8, (packed >> 8) as u8, packed as u8])
}

/// At most 64 characters of a client's text, for an error message.
fn truncated(s: &str) -> String {
    s.chars().take(64).collect()
}

/// A set request as sent: `{"key": ..., "value": ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetRequest {
    /// The setting's key, one of [`KEYS`].
    pub key: String,
    /// Its new value (the form [`KEYS`] gives).
    pub value: serde_json::Value,
}

impl From<&Change> for SetRequest {
    fn from(c: &Change) -> Self {
        Self {
            key: c.key().to_owned(),
            value: c.value(),
        }
    }
}

/// Parses and type-checks a set request body.
pub fn parse_set(body: &[u8]) -> Result<Change, ProtocolError> {
    if body.len() > MAX_REQUEST_BYTES {
        return Err(ProtocolError::TooLarge(body.len()));
    }
    let req: SetRequest =
        serde_json::from_slice(body).map_err(|e| ProtocolError::Json(e.to_string()))?;
    Change::from_key_value(&req.key, &req.value)
}

/// Why a request was refused before it reached the engine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The body is larger than [`MAX_REQUEST_BYTES`] (bytes).
    #[error("request of {0} bytes is larger than {MAX_REQUEST_BYTES}")]
    TooLarge(usize),
    /// Not a `{"key": ..., "value": ...}` JSON object.
    #[error("malformed request: {0}")]
    Json(String),
    /// A key that names no setting.
    #[error("unknown key {0:?}")]
    UnknownKey(String),
    /// A `register` value that is not a camera object.
    #[error("register: {0}")]
    Register(String),
    /// A value of the wrong type or form for its key.
    #[error("{key}: {why}")]
    Value {
        /// The key.
        key: String,
        /// What was expected.
        why: &'static str,
    },
}

impl ProtocolError {
    fn value(key: &str, why: &'static str) -> Self {
        Self::Value {
            key: key.to_owned(),
            why,
        }
    }
}

/// What the engine answers to an accepted change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetReply {
    /// The key set.
    pub key: String,
    /// The value now in force (applied at the next frame boundary).
    pub value: serde_json::Value,
}

/// The body of every refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReply {
    /// What was wrong, for the operator.
    pub error: String,
}

/// Which picture a preview shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PreviewKind {
    /// The output, graphics drawn.
    #[default]
    Program,
    /// The input, before the graphics.
    Clean,
    /// The engine's key of the input: each pixel of the clean picture keyed with the key's
    /// default palette (white: field surface, where a line is drawn; black: players and
    /// everything else), computed on the server's thread.
    Matte,
}

impl PreviewKind {
    /// Every kind.
    pub const ALL: [Self; 3] = [Self::Program, Self::Clean, Self::Matte];

    /// The query value naming it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Program => "program",
            Self::Clean => "clean",
            Self::Matte => "matte",
        }
    }
}

impl fmt::Display for PreviewKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for PreviewKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| format!("unknown preview {s:?} (expected program, clean or matte)"))
    }
}

/// Overall health of an engine, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Health {
    /// Not processing frames (stopped, or no frame yet).
    Idle,
    /// The last frame had a fault (passed through or held).
    Fault,
    /// No usable camera pose on the last frame: nothing drawn.
    NoPose,
    /// A pose on the last frame, lines drawn where enabled.
    Ok,
}

/// Per-stage times of the last frame (ms).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Timings {
    /// Tracking sync (ms).
    pub sync: f64,
    /// Pose and vision (ms).
    pub pose: f64,
    /// Tessellation (ms).
    pub graphics: f64,
    /// Key + composite (ms).
    pub composite: f64,
    /// Whole engine (ms).
    pub engine: f64,
    /// Whole element or front end, control hook included (ms).
    pub element: f64,
    /// The control hook's preview captures on this frame, in the video thread's CPU time (ms).
    pub control: f64,
}

/// The last frame an engine processed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FrameStatus {
    /// Frame counter of the engine (frames since start).
    pub frame: u64,
    /// Presentation time (ns).
    pub pts_ns: i64,
    /// Pose source: sensor, vision, fused, hold or none.
    pub source: Cow<'static, str>,
    /// How many of the frame's lines agree with the pose (0..=1).
    pub confidence: f64,
    /// Vision residual (pixels); `None` when not measured.
    pub residual_px: Option<f64>,
    /// Tracking state.
    pub state: Cow<'static, str>,
    /// Why there is no camera, when there is none.
    pub reason: Option<Cow<'static, str>>,
    /// Lines were drawn.
    pub drawn: bool,
    /// The frame was passed through untouched (budget skip or caught panic).
    pub skipped: bool,
    /// Compositor in use.
    pub backend: Cow<'static, str>,
    /// Fault, when the frame had one.
    pub fault: Option<String>,
    /// Stage times (ms).
    pub timings_ms: Timings,
}

/// What `get status` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// The engine's name (element name or front end).
    pub name: String,
    /// Overall health.
    pub health: Health,
    /// Frames processed since start (count).
    pub frames: u64,
    /// Frames with lines drawn since start (count).
    pub drawn: u64,
    /// Faults since start (count).
    pub faults: u64,
    /// Every settable key with the value in force.
    pub settings: BTreeMap<String, serde_json::Value>,
    /// The last frame; `None` before the first.
    pub last_frame: Option<FrameStatus>,
    /// Mean cost of the control hook on the video thread per frame since start: status
    /// hand-over and preview captures, in the video thread's CPU time (ms).
    pub control_ms_per_frame: f64,
    /// Control requests refused by the rate limit since start (count).
    pub rate_limited: u64,
    /// The key in force, as of the last frame boundary.
    #[serde(default)]
    pub key: KeyInForce,
    /// Re-registrations (`register`) applied at a frame boundary since start (count).
    #[serde(default)]
    pub registrations: u64,
    /// The rulebook of the engine's field (`nfl`, `ncaa`, `hs`, `soccer`, as in the venue
    /// file), as of the last frame boundary; `None` before the first frame.
    #[serde(default)]
    pub field: Option<String>,
}

/// Where the key in force comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeySource {
    /// The automatic key, learnt from the video.
    #[default]
    Auto,
    /// A key file the engine was started with (the element's `keying`, the render's
    /// `--keying`).
    File,
    /// A key an operator sent with `key`.
    Operator,
}

/// The key in force.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct KeyInForce {
    /// Where it comes from.
    pub source: KeySource,
    /// [`key_hash`] of the text of an operator's key.
    pub hash: Option<String>,
    /// Keys applied through the API since start (count): it grows when a sent key (or a
    /// return to the automatic key) lands at a frame boundary.
    pub generation: u64,
}

impl Status {
    /// The health a last frame shows.
    pub fn health_of(last: Option<&FrameStatus>) -> Health {
        match last {
            None => Health::Idle,
            Some(f) if f.fault.is_some() || f.skipped => Health::Fault,
            Some(f) if f.source == "none" => Health::NoPose,
            Some(_) => Health::Ok,
        }
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp, reason = "exact values are the assertion")]
mod tests {
    use super::*;

    #[test]
    fn set_requests_parse_and_type_check() {
        assert_eq!(
            parse_set(br#"{"key":"first-down","value":45}"#),
            Ok(Change::FirstDown(45.0))
        );
        assert_eq!(
            parse_set(br##"{"key":"first-down-color","value":"#ff0000"}"##),
            Ok(Change::FirstDownColor([255, 0, 0]))
        );
        assert_eq!(
            parse_set(br#"{"key":"scrimmage-color","value":255}"#),
            Ok(Change::ScrimmageColor([0, 0, 255]))
        );
        assert_eq!(
            parse_set(br#"{"key":"pose-mode","value":"Vision"}"#),
            Ok(Change::PoseMode("vision"))
        );
        assert!(matches!(
            parse_set(br#"{"key":"first-down","value":"45"}"#),
            Err(ProtocolError::Value { .. })
        ));
        assert!(matches!(
            parse_set(br#"{"key":"nope","value":1}"#),
            Err(ProtocolError::UnknownKey(_))
        ));
        assert!(matches!(
            parse_set(br#"{"key":"opacity","value":1,"x":2}"#),
            Err(ProtocolError::Json(_))
        ));
        assert!(matches!(parse_set(b"\xff"), Err(ProtocolError::Json(_))));
        assert!(matches!(
            parse_set(&vec![b' '; MAX_REQUEST_BYTES + 1]),
            Err(ProtocolError::TooLarge(_))
        ));
        assert!(matches!(
            parse_set(br##"{"key":"first-down-color","value":"#12345G"}"##),
            Err(ProtocolError::Value { .. })
        ));
    }

    #[test]
    fn key_and_register_values_are_type_checked() {
        assert_eq!(
            parse_set(br#"{"key":"key","value":null}"#),
            Ok(Change::Key(None))
        );
        assert_eq!(
            parse_set(br#"{"key":"key","value":" Auto "}"#),
            Ok(Change::Key(None))
        );
        assert!(matches!(
            parse_set(br#"{"key":"key","value":3}"#),
            Err(ProtocolError::Value { .. })
        ));
        let camera = r#"{"width":640,"height":360,"rotation":[1,0,0,0,1,0,0,0,1],
            "translation":[0,0,10],"fx":500,"fy":500,"cx":319.5,"cy":179.5,"k1":0,"k2":0}"#;
        let body = format!(r#"{{"key":"register","value":{camera}}}"#);
        assert!(matches!(
            parse_set(body.as_bytes()),
            Ok(Change::Register(_))
        ));
        let zero = body.replace(r#""fx":500"#, r#""fx":0"#);
        assert!(matches!(
            parse_set(zero.as_bytes()),
            Err(ProtocolError::Value { .. })
        ));
        let extra = body.replace(r#""k2":0"#, r#""k2":0,"k3":1"#);
        assert!(matches!(
            parse_set(extra.as_bytes()),
            Err(ProtocolError::Register(_))
        ));
        // Found by the fuzzer: a long decimal must parse exactly to survive the round trip.
        let long = parse_set(br#"{"key":"first-down","value":228880888888883.22220}"#);
        let again = long
            .as_ref()
            .map(|c| serde_json::to_vec(&SetRequest::from(c)).unwrap_or_default());
        assert_eq!(again.map(|b| parse_set(&b)), Ok(long.clone()));
        assert_eq!(key_hash("version = 1\n"), key_hash("version = 1\n"));
        assert_ne!(key_hash("version = 1\n"), key_hash("version = 2\n"));
    }

    #[test]
    fn cli_values_read_as_json_or_text() {
        assert_eq!(
            Change::from_cli("first-down", "45"),
            Ok(Change::FirstDown(45.0))
        );
        assert_eq!(
            Change::from_cli("show-scrimmage", "true"),
            Ok(Change::ShowScrimmage(true))
        );
        assert_eq!(
            Change::from_cli("first-down-color", "#00FF7f"),
            Ok(Change::FirstDownColor([0, 255, 127]))
        );
        assert_eq!(
            Change::from_cli("pose-mode", "fused"),
            Ok(Change::PoseMode("fused"))
        );
        assert!(Change::from_cli("opacity", "half").is_err());
    }

    #[test]
    fn every_key_round_trips_through_its_reply_form() {
        for c in [
            Change::FirstDown(45.5),
            Change::Scrimmage(20.0),
            Change::ShowFirstDown(false),
            Change::ShowScrimmage(true),
            Change::LineWidth(0.2),
            Change::FirstDownColor([1, 2, 3]),
            Change::ScrimmageColor([250, 0, 9]),
            Change::Opacity(0.5),
            Change::PoseMode("sensor"),
            Change::CleanPlate(true),
            Change::Key(None),
            Change::Key(Some("version = 1\n".into())),
            Change::Register(Box::new(RegisterCamera {
                width: 1920,
                height: 1080,
                rotation: [1.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 1.0, 0.0],
                translation: [0.5, 12.25, 60.0],
                fx: 2000.5,
                fy: 2000.5,
                cx: 959.5,
                cy: 539.5,
                k1: -0.01,
                k2: 0.002,
            })),
        ] {
            assert!(KEYS.iter().any(|(k, _)| *k == c.key()));
            let body = serde_json::to_vec(&SetRequest::from(&c)).unwrap_or_default();
            assert_eq!(parse_set(&body), Ok(c));
        }
    }
}
