//! The element's side of the control plane (`control`, `control-token`): how a remote change
//! becomes a property change, and the previews of a mapped frame. What the streaming thread
//! shares with the server is the engine's `ControlHub` (`yardline_engine::control`).
//!
//! The streaming thread never waits on the server: it reads two atomics per frame to know
//! whether a preview is due, hands thumbnails and the last frame's status over with
//! `try_lock` (skipped when the server is reading) and picks up changed settings through the
//! element's settings generation, at the next frame boundary, like any property change; the
//! key and a re-registration are staged in the hub and applied there too.

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_video::prelude::*;
use yardline_control::Change;
use yardline_control::preview::Thumbnail;
use yardline_control::protocol::Status;
use yardline_control::server::Target;
use yardline_engine::control::ControlHub;
use yardline_frame::{
    FrameLayout, PixelFormat, Sample, SampleStorage, code_scale, read_sample, ycbcr709_to_rgb,
    yuv_samples,
};

use super::frame::pixel_format;
use super::settings::{Pose, Settings, argb, rgb_of};

/// Every plain settable value of `s`, as changes.
pub fn current(s: &Settings) -> [Change; 10] {
    let pose = match s.pose_mode {
        Pose::Auto => "auto",
        Pose::Sensor => "sensor",
        Pose::Vision => "vision",
        Pose::Fused => "fused",
    };
    [
        Change::FirstDown(s.first_down),
        Change::Scrimmage(s.scrimmage),
        Change::ShowFirstDown(s.show_first_down),
        Change::ShowScrimmage(s.show_scrimmage),
        Change::LineWidth(s.line_width),
        Change::FirstDownColor(rgb_of(s.first_down_color)),
        Change::ScrimmageColor(rgb_of(s.scrimmage_color)),
        Change::Opacity(s.opacity),
        Change::PoseMode(pose),
        Change::CleanPlate(s.clean_plate),
    ]
}

/// The property a plain change sets and its value; `None` for a change to the engine itself
/// (the key, a re-registration), which the hub stages.
pub fn property(change: &Change) -> Option<(&'static str, glib::Value)> {
    let value = match change {
        Change::FirstDown(v) | Change::Scrimmage(v) | Change::LineWidth(v) | Change::Opacity(v) => {
            v.to_value()
        }
        Change::ShowFirstDown(v) | Change::ShowScrimmage(v) | Change::CleanPlate(v) => v.to_value(),
        Change::FirstDownColor(c) | Change::ScrimmageColor(c) => argb(*c).to_value(),
        Change::PoseMode(m) => match *m {
            "sensor" => Pose::Sensor,
            "vision" => Pose::Vision,
            "fused" => Pose::Fused,
            _ => Pose::Auto,
        }
        .to_value(),
        Change::Key(_) | Change::Register(_) => return None,
    };
    Some((change.key(), value))
}

/// The element as the server's [`Target`]; holds it weakly (the element owns the server).
#[derive(Debug)]
pub struct ElementTarget {
    /// The element.
    pub element: glib::WeakRef<super::Yardline>,
}

impl Target for ElementTarget {
    fn apply(&self, change: &Change) -> Result<(), String> {
        let element = self
            .element
            .upgrade()
            .ok_or_else(|| "the element is gone".to_owned())?;
        let hub: &ControlHub = &element.imp().hub;
        if hub.stage(change).map_err(|e| e.to_string())? {
            return Ok(());
        }
        let Some((name, value)) = property(change) else {
            return Err(format!("{}: not settable on this engine", change.key()));
        };
        // The property's own range, as GObject checks it for a property set.
        if let (Some(pspec), Ok(v)) = (element.find_property(name), value.get::<f64>())
            && let Some(d) = pspec.downcast_ref::<glib::ParamSpecDouble>()
            && !(d.minimum()..=d.maximum()).contains(&v)
        {
            return Err(format!(
                "{name}: {v} outside {}..={}",
                d.minimum(),
                d.maximum()
            ));
        }
        element.imp().try_update(name, &value)
    }

    fn status(&self) -> Status {
        match self.element.upgrade() {
            Some(e) => e.imp().control_status(e.name().to_string()),
            None => ControlHub::idle_status(),
        }
    }

    fn key_matte(&self, clean: &Thumbnail) -> Option<Thumbnail> {
        self.element.upgrade()?.imp().hub.key_matte(clean)
    }
}

/// A preview thumbnail of a mapped frame; `None` for a format it cannot read.
pub fn thumbnail(frame: &gst_video::VideoFrameRef<&mut gst::BufferRef>) -> Option<Thumbnail> {
    let format = pixel_format(frame.format())?;
    if let Some(o) = format.rgb_offsets() {
        let p0 = frame.plane_data(0).ok()?;
        let s0 = usize::try_from(frame.plane_stride()[0]).ok()?;
        let get = |i: usize| p0.get(i).copied().unwrap_or(0);
        return Thumbnail::sample(frame.width(), frame.height(), |x, y| {
            let i = y as usize * s0 + x as usize * 4;
            [get(i + o[0]), get(i + o[1]), get(i + o[2])]
        });
    }
    yuv_thumbnail(frame, format)
}

/// A full-size still of a mapped frame: its planes copied end to end now, converted to RGB
/// by the server; `None` for a format it cannot read.
pub fn still(
    frame: &gst_video::VideoFrameRef<&mut gst::BufferRef>,
) -> Option<yardline_control::preview::StillFn> {
    let format = pixel_format(frame.format())?;
    let n = format.plane_count();
    let (mut offsets, mut strides) = ([0_usize; 3], [0_usize; 3]);
    let mut data = Vec::new();
    for i in 0..n {
        offsets[i] = data.len();
        strides[i] = usize::try_from(frame.plane_stride()[i]).ok()?;
        data.extend_from_slice(frame.plane_data(i as u32).ok()?);
    }
    let layout = FrameLayout::with_planes(
        format,
        frame.width(),
        frame.height(),
        &offsets[..n],
        &strides[..n],
        data.len(),
    )
    .ok()?;
    Some(yardline_engine::control::still(layout, data))
}

/// The thumbnail of a YUV frame (8 or 10 bits): each sample found through the frame crate's
/// layout of the planes laid end to end, read from its own plane.
fn yuv_thumbnail(
    frame: &gst_video::VideoFrameRef<&mut gst::BufferRef>,
    format: PixelFormat,
) -> Option<Thumbnail> {
    let n = format.plane_count();
    let mut planes: [&[u8]; 3] = [&[]; 3];
    let (mut offsets, mut strides) = ([0_usize; 3], [0_usize; 3]);
    let mut total = 0;
    for i in 0..n {
        planes[i] = frame.plane_data(i as u32).ok()?;
        offsets[i] = total;
        strides[i] = usize::try_from(frame.plane_stride()[i]).ok()?;
        total += planes[i].len();
    }
    let layout = FrameLayout::with_planes(
        format,
        frame.width(),
        frame.height(),
        &offsets[..n],
        &strides[..n],
        total,
    )
    .ok()?;
    let storage = format.sample_storage();
    let read = |s: Sample| -> f32 {
        let i = (0..n).rev().find(|&i| offsets[i] <= s.byte).unwrap_or(0);
        let local = Sample {
            byte: s.byte - offsets[i],
            shift: s.shift,
        };
        let width = match storage {
            SampleStorage::U8 => 1,
            SampleStorage::U16 => 2,
            SampleStorage::U32 => 4,
        };
        if local.byte + width > planes[i].len() {
            return 0.0;
        }
        f32::from(read_sample(storage, planes[i], local)) * code_scale(format)
    };
    Thumbnail::sample(frame.width(), frame.height(), |x, y| {
        yuv_samples(&layout, x, y).map_or([0; 3], |[sy, scb, scr]| {
            let [r, g, b] = ycbcr709_to_rgb(read(sy), read(scb), read(scr));
            [r, g, b].map(|v| v.round().clamp(0.0, 255.0) as u8)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gst_app::AppSink;

    /// One frame of `videotestsrc`'s solid colour `argb` in `format`, `width` x 36.
    fn solid(format: &str, width: u32, argb: u32) -> gst::Buffer {
        // The element takes YUV as BT.709 (a frame this small defaults to BT.601).
        let colorimetry = if format == "RGBA" {
            ""
        } else {
            ",colorimetry=bt709"
        };
        let pipeline = gst::parse::launch(&format!(
            "videotestsrc num-buffers=1 pattern=solid-color foreground-color={argb} ! \
             video/x-raw,format={format},width={width},height=36{colorimetry} ! appsink name=out"
        ))
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
        let sink = pipeline
            .by_name("out")
            .unwrap()
            .downcast::<AppSink>()
            .unwrap();
        pipeline.set_state(gst::State::Playing).unwrap();
        let sample = sink.pull_sample().unwrap();
        pipeline.set_state(gst::State::Null).unwrap();
        let info = gst_video::VideoInfo::from_caps(sample.caps().unwrap()).unwrap();
        assert_eq!(info.format().to_str(), format);
        sample.buffer_owned().unwrap()
    }

    fn thumb(format: &str, width: u32, argb: u32) -> Thumbnail {
        let mut buffer = solid(format, width, argb);
        let info =
            gst_video::VideoInfo::builder(gst_video::VideoFormat::from_string(format), width, 36)
                .build()
                .unwrap();
        let buffer = buffer.make_mut();
        let frame = gst_video::VideoFrameRef::from_buffer_ref_writable(buffer, &info).unwrap();
        thumbnail(&frame).unwrap()
    }

    #[test]
    fn yuv_frames_preview_as_the_rgb_frame_of_the_same_colour() {
        gst::init().unwrap();
        // Odd widths: v210's six-pixel groups and the halved chroma end mid-row.
        for argb in [0xff20_c040_u32, 0xffe0_3010] {
            let reference = thumb("RGBA", 70, argb);
            let first = [reference.rgb[0], reference.rgb[1], reference.rgb[2]];
            assert!(
                first[1].abs_diff(first[0]) > 60,
                "the colour is not grey: {first:?}"
            );
            for format in [
                "I420",
                "NV12",
                "UYVY",
                "v210",
                "P010_10LE",
                "I420_10LE",
                "I422_10LE",
            ] {
                let t = thumb(format, 70, argb);
                assert_eq!((t.width, t.height), (reference.width, reference.height));
                let worst = t
                    .rgb
                    .iter()
                    .zip(&reference.rgb)
                    .map(|(a, b)| a.abs_diff(*b))
                    .max()
                    .unwrap();
                assert!(worst <= 4, "{format} {argb:#x}: {worst} levels off RGBA");
            }
        }
    }
}
