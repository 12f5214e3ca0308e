//! Round trips through real GStreamer pipelines and real files, checked against ffmpeg/ffprobe.

use std::path::Path;
use std::process::Command;

use gst::prelude::*;

use super::*;

const FRAMES: u64 = 10;
const FPS: (i32, i32) = (60_000, 1001);

/// A deterministic pattern that differs in every byte position and frame: gradients plus a
/// hashed component so every channel value 0..=255 occurs.
fn pattern(width: u32, height: u32, format: PixelFormat, frame: u64) -> Vec<u8> {
    let bpp = format.bytes_per_pixel();
    let mut data = Vec::with_capacity(format.frame_bytes(width, height));
    for y in 0..height as u64 {
        for x in 0..width as u64 {
            for c in 0..bpp as u64 {
                let h = (x * 7 + y * 13 + c * 101 + frame * 29)
                    .wrapping_mul(0x9E37_79B9)
                    .rotate_right(11);
                data.push((h ^ (x + y * 3 + frame)) as u8);
            }
        }
    }
    data
}

fn write_frames(path: &Path, width: u32, height: u32, format: PixelFormat) -> Vec<Vec<u8>> {
    let mut writer =
        VideoWriter::create(path, width, height, FPS.0, FPS.1, format).expect("create writer");
    let frames: Vec<Vec<u8>> = (0..FRAMES)
        .map(|i| pattern(width, height, format, i))
        .collect();
    for (i, f) in frames.iter().enumerate() {
        writer
            .write(f.clone(), nominal_pts_ns(i as u64, FPS.0, FPS.1))
            .expect("write frame");
    }
    assert_eq!(writer.finish().expect("finish"), FRAMES);
    frames
}

fn read_all(path: &Path, format: PixelFormat) -> (VideoReader, Vec<Frame>) {
    let mut reader = VideoReader::open(path, format).expect("open reader");
    let mut frames = Vec::new();
    while let Some(f) = reader.next_frame().expect("decode") {
        frames.push(f);
    }
    (reader, frames)
}

fn ffmpeg_raw(path: &Path, pix_fmt: &str) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "rawvideo", "-pix_fmt", pix_fmt, "-"])
        .output()
        .expect("run ffmpeg");
    assert!(
        out.status.success(),
        "ffmpeg: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn ffprobe_frames(path: &Path) -> (u64, String) {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=nb_read_frames,codec_name",
            "-of",
            "default=nw=1",
        ])
        .arg(path)
        .output()
        .expect("run ffprobe");
    assert!(
        out.status.success(),
        "ffprobe: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_default()
            .to_string()
    };
    let frames = field("nb_read_frames=").parse().expect("frame count");
    (frames, field("codec_name="))
}

#[test]
fn ffv1_rgb_round_trip_is_exact() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("rgb.mkv");
    // 161 is odd on purpose: GStreamer pads RGB rows to 4 bytes, the reader must unpad.
    let (w, h) = (161, 91);
    let written = write_frames(&path, w, h, PixelFormat::Rgb);

    let (reader, frames) = read_all(&path, PixelFormat::Rgb);
    assert_eq!((reader.width(), reader.height()), (w, h));
    assert_eq!((reader.fps_num(), reader.fps_den()), FPS);
    assert_eq!(frames.len() as u64, FRAMES);
    for (i, (f, want)) in frames.iter().zip(&written).enumerate() {
        assert_eq!(f.index, i as u64);
        assert_eq!(f.stride, w as usize * 3);
        assert_eq!(
            f.pts_ns,
            nominal_pts_ns(i as u64, FPS.0, FPS.1),
            "pts of frame {i}"
        );
        assert!(f.data == *want, "frame {i} differs after the round trip");
    }

    let raw = ffmpeg_raw(&path, "rgb24");
    assert!(
        raw == written.concat(),
        "ffmpeg does not decode the exact pixels"
    );
    assert_eq!(ffprobe_frames(&path), (FRAMES, "ffv1".to_string()));
}

#[test]
fn ffv1_gray_masks_round_trip_is_exact() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("masks.mkv");
    let (w, h) = (97, 33);
    let written = write_frames(&path, w, h, PixelFormat::Gray8);
    let (_, frames) = read_all(&path, PixelFormat::Gray8);
    let read: Vec<Vec<u8>> = frames.into_iter().map(|f| f.data).collect();
    assert!(read == written, "gray frames differ after the round trip");
    assert!(ffmpeg_raw(&path, "gray") == written.concat());
}

#[test]
fn rgba_input_reads_back_as_rgb() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("rgba.mkv");
    let written = write_frames(&path, 64, 36, PixelFormat::Rgba);
    let (_, frames) = read_all(&path, PixelFormat::Rgb);
    for (f, rgba) in frames.iter().zip(&written) {
        let rgb: Vec<u8> = rgba
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        assert!(f.data == rgb);
    }
    // The same file read as RGBA comes back opaque.
    let (_, frames) = read_all(&path, PixelFormat::Rgba);
    assert!(frames[0].data.chunks_exact(4).all(|p| p[3] == 255));
}

#[test]
fn mp4_is_playable_h264() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("out.mp4");
    let (w, h) = (320, 180);
    write_frames(&path, w, h, PixelFormat::Rgb);
    assert_eq!(ffprobe_frames(&path), (FRAMES, "h264".to_string()));
    // And our own reader decodes it.
    let (reader, frames) = read_all(&path, PixelFormat::Rgb);
    assert_eq!((reader.width(), reader.height()), (w, h));
    assert_eq!(frames.len() as u64, FRAMES);
}

#[test]
fn png_pattern_writes_one_file_per_frame() {
    let dir = tempfile::tempdir().expect("tempdir");
    let written = write_frames(&dir.path().join("out_%05d.png"), 40, 30, PixelFormat::Rgb);
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let expected: Vec<String> = (0..FRAMES).map(|i| format!("out_{i:05}.png")).collect();
    assert_eq!(names, expected);
    let img = image::open(dir.path().join("out_00003.png"))
        .expect("decode png")
        .into_rgb8();
    assert!(img.as_raw() == &written[3]);
}

#[test]
fn errors_are_specific() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = VideoReader::open(dir.path().join("nope.mkv"), PixelFormat::Rgb).unwrap_err();
    assert!(matches!(missing, VideoError::NotFound { .. }), "{missing}");
    assert!(missing.is_usage());

    let text = dir.path().join("notes.mkv");
    std::fs::write(&text, "this is not a video\n".repeat(100)).expect("write");
    let not_video = VideoReader::open(&text, PixelFormat::Rgb).unwrap_err();
    assert!(matches!(not_video, VideoError::Open { .. }), "{not_video}");

    let no_dir = dir.path().join("no/such/dir/out.mkv");
    let e = VideoWriter::create(&no_dir, 16, 16, 30, 1, PixelFormat::Rgb).unwrap_err();
    assert!(matches!(e, VideoError::Create { .. }), "{e}");
    assert!(e.to_string().contains("does not exist"), "{e}");

    let e = VideoWriter::create(dir.path().join("out.avi"), 16, 16, 30, 1, PixelFormat::Rgb)
        .unwrap_err();
    assert!(matches!(e, VideoError::UnsupportedOutput { .. }), "{e}");

    let e = VideoWriter::create(dir.path().join("odd.mp4"), 15, 16, 30, 1, PixelFormat::Rgb)
        .unwrap_err();
    assert!(e.to_string().contains("even"), "{e}");

    let mut w = VideoWriter::create(dir.path().join("x.mkv"), 16, 16, 30, 1, PixelFormat::Rgb)
        .expect("create");
    let e = w.write(vec![0u8; 10], 0).unwrap_err();
    assert!(
        matches!(
            e,
            VideoError::FrameSize {
                expected: 768,
                got: 10,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn truncated_file_reports_a_decode_or_open_error_not_a_hang() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("full.mkv");
    write_frames(&path, 64, 36, PixelFormat::Rgb);
    let bytes = std::fs::read(&path).expect("read");
    // Keep the header and most of the first frames; damage the rest.
    let cut = dir.path().join("cut.mkv");
    let mut damaged = bytes[..bytes.len() / 2].to_vec();
    damaged.extend(std::iter::repeat_n(0xA5u8, bytes.len() / 2));
    std::fs::write(&cut, damaged).expect("write");
    let mut frames = 0;
    let result = VideoReader::open(&cut, PixelFormat::Rgb).and_then(|mut r| {
        while r.next_frame()?.is_some() {
            frames += 1;
        }
        Ok(())
    });
    // GStreamer may skip a damaged tail or stop with an error; either way it ends, with fewer
    // than all frames and never a panic.
    assert!(
        frames < FRAMES,
        "read {frames} frames from a damaged file, result {result:?}"
    );
}

#[test]
fn same_frames_give_the_same_mkv_bytes() {
    let (a, b) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    for format in [PixelFormat::Rgb, PixelFormat::Gray8] {
        let pa = a.path().join("v.mkv");
        let pb = b.path().join("v.mkv");
        write_frames(&pa, 48, 32, format);
        write_frames(&pb, 48, 32, format);
        let (ba, bb) = (
            std::fs::read(&pa).expect("a"),
            std::fs::read(&pb).expect("b"),
        );
        assert!(ba == bb, "{format:?}: two writes of the same frames differ");
        // The pinned header still decodes to the same pixels.
        assert!(
            ffmpeg_raw(
                &pa,
                if format == PixelFormat::Rgb {
                    "rgb24"
                } else {
                    "gray"
                }
            ) == (0..FRAMES)
                .flat_map(|i| pattern(48, 32, format, i))
                .collect::<Vec<u8>>()
        );
    }
}

#[test]
fn matroskamux_draws_its_track_uid_from_the_fixed_seed_in_all_eight_bytes() {
    init().expect("gstreamer");
    let draws = |n: usize| {
        mkv::seed_track_uids();
        (0..n)
            .map(|_| gst::glib::random_int())
            .collect::<Vec<u32>>()
    };
    let seeded = draws(3);
    // The UID's high half is the first draw: all 8 bytes are written.
    assert_ne!(
        seeded[0] >> 24,
        0,
        "the seed gives a UID shorter than 8 bytes"
    );
    // A real matroskamux takes its TrackUID (two draws) from the seeded generator when its pad
    // is requested.
    mkv::seed_track_uids();
    let mux = make_element("matroskamux").expect("matroskamux");
    let pad = mux.request_pad_simple("video_%u").expect("video pad");
    assert_eq!(gst::glib::random_int(), seeded[2]);
    mux.release_request_pad(&pad);
    assert_eq!(draws(3), seeded, "the seed is not fixed");
}
