//! What the src pad carries for each `output`: the sink caps themselves for the program, the
//! fill-and-key formats for fill and key (`BGRA` or `ARGB` for 8-bit input, `AYUV64` for
//! 10-bit input), and the checks that refuse any other pairing with a message naming what
//! works.

use gst_video::VideoFormat;
use yardline_frame::{FillKeyFormat, PixelFormat};

use super::frame::{FORMATS, pixel_format};
use super::settings::Output;

/// The fill-and-key formats the src pad can carry, with the engine's names for them.
pub const FILL_KEY_FORMATS: [(VideoFormat, FillKeyFormat); 3] = [
    (VideoFormat::Bgra, FillKeyFormat::Bgra),
    (VideoFormat::Argb, FillKeyFormat::Argb),
    (VideoFormat::Ayuv64, FillKeyFormat::Ayuv64),
];

/// The engine's name for a GStreamer fill-and-key format.
pub fn fill_key_format(f: VideoFormat) -> Option<FillKeyFormat> {
    FILL_KEY_FORMATS
        .iter()
        .find(|(g, _)| *g == f)
        .map(|(_, k)| *k)
}

/// Every format the src pad may carry: the sink formats, then the fill-and-key ones.
pub fn src_formats() -> Vec<VideoFormat> {
    let mut out: Vec<VideoFormat> = FORMATS.iter().map(|(g, _)| *g).collect();
    for (g, _) in FILL_KEY_FORMATS {
        if !out.contains(&g) {
            out.push(g);
        }
    }
    out
}

/// What fill and key takes and gives, for messages.
pub const FILL_KEY_RULE: &str = "output=fill-key emits BGRA or ARGB for 8-bit input (RGBA, \
     BGRA, RGBx, BGRx, I420, NV12, UYVY) and AYUV64 for 10-bit input (v210, P010_10LE, \
     I420_10LE, I422_10LE), of the input's size and rate";

/// What the program takes and gives, for messages.
pub const PROGRAM_RULE: &str = "output=program draws in place: the src caps are the sink caps \
     (set output=fill-key for an alpha-carrying frame)";

/// The formats named by a caps structure's `format` field (a string or a list); `None` when it
/// has none (any format).
fn formats_of(s: &gst::StructureRef) -> Option<Vec<VideoFormat>> {
    if let Ok(f) = s.get::<&str>("format") {
        return Some(vec![VideoFormat::from_string(f)]);
    }
    let list = s.get::<gst::List>("format").ok()?;
    Some(
        list.iter()
            .filter_map(|v| v.get::<&str>().ok())
            .map(VideoFormat::from_string)
            .collect(),
    )
}

/// The caps on the other pad for `caps` on the `direction` pad, for fill and key: sink
/// formats to the fill-and-key formats that carry them (src side), or fill-and-key formats to
/// the sink formats they carry (sink side). Size, rate and the rest pass through; an RGB fill
/// drops the input's colorimetry and chroma siting (`AYUV64` keeps the colorimetry: its fill is
/// in the input's YUV).
pub fn fill_key_transform(direction: gst::PadDirection, caps: &gst::Caps) -> gst::Caps {
    if caps.is_any() {
        return caps.clone();
    }
    let mut out = gst::Caps::new_empty();
    for (s, features) in caps.iter_with_features() {
        let given = formats_of(s);
        let mut formats: Vec<&'static str> = Vec::new();
        let mut yuv_fill_only = true;
        let mut push = |name: &'static str| {
            if !formats.contains(&name) {
                formats.push(name);
            }
        };
        if direction == gst::PadDirection::Sink {
            // Sink caps in: the fill-and-key formats for each input format.
            let inputs: Vec<PixelFormat> = match &given {
                Some(g) => g.iter().filter_map(|f| pixel_format(*f)).collect(),
                None => FORMATS.iter().map(|(_, p)| *p).collect(),
            };
            for p in inputs {
                for k in FillKeyFormat::for_input(p) {
                    yuv_fill_only &= k.is_yuv();
                    push(k.name());
                }
            }
        } else {
            // Src caps in: the input formats each fill-and-key format carries.
            let fills: Vec<FillKeyFormat> = match &given {
                Some(g) => g.iter().filter_map(|f| fill_key_format(*f)).collect(),
                None => FillKeyFormat::ALL.to_vec(),
            };
            for (g, p) in FORMATS {
                if fills
                    .iter()
                    .any(|k| FillKeyFormat::for_input(p).contains(k))
                {
                    push(g.to_str().as_str());
                }
            }
            yuv_fill_only = false;
        }
        if formats.is_empty() {
            continue;
        }
        let mut s = s.to_owned();
        if formats.len() == 1 {
            s.set("format", formats[0]);
        } else {
            s.set("format", gst::List::new(formats));
        }
        s.remove_field("chroma-site");
        if !yuv_fill_only {
            s.remove_field("colorimetry");
        }
        out.get_mut()
            .expect("a new caps")
            .append_structure_full(s, Some(features.to_owned()));
    }
    out
}

/// Checks a negotiated pairing of sink and src caps for `output`; the error says what works.
pub fn check(
    output: Output,
    input: &gst_video::VideoInfo,
    src: &gst_video::VideoInfo,
) -> Result<(), String> {
    let Some(p) = pixel_format(input.format()) else {
        return Err(format!(
            "unsupported input format {}",
            input.format().to_str()
        ));
    };
    if (input.width(), input.height()) != (src.width(), src.height()) {
        return Err(format!(
            "src {}x{} differs from sink {}x{}: yardline does not scale",
            src.width(),
            src.height(),
            input.width(),
            input.height()
        ));
    }
    match output {
        Output::Program if src.format() != input.format() => Err(format!(
            "output=program draws in place: src {} must be the sink's {} (set output=fill-key \
             for an alpha-carrying frame)",
            src.format().to_str(),
            input.format().to_str()
        )),
        Output::FillKey
            if !fill_key_format(src.format())
                .is_some_and(|k| FillKeyFormat::for_input(p).contains(&k)) =>
        {
            Err(format!(
                "{FILL_KEY_RULE}: not {} from {}",
                src.format().to_str(),
                input.format().to_str()
            ))
        }
        _ => Ok(()),
    }
}
