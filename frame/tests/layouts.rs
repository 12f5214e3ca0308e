//! Frame layouts, pixel reads and the BT.709 conversions.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use yardline_frame::{
    Colorimetry, FrameError, FrameLayout, FrameRef, MAX_DIMENSION, PixelFormat, Sample, YuvMatrix,
    YuvRange, read_sample, rgb_index, rgb_to_ycbcr709, write_sample, ycbcr709_to_rgb, yuv_indices,
    yuv_samples,
};

/// Every colorimetry the frames can carry.
fn colorimetries() -> Vec<Colorimetry> {
    let mut out = Vec::new();
    for matrix in [YuvMatrix::Bt601, YuvMatrix::Bt709, YuvMatrix::Bt2020] {
        for range in [YuvRange::Limited, YuvRange::Full] {
            out.push(Colorimetry { matrix, range });
        }
    }
    out
}

#[test]
#[allow(
    clippy::float_cmp,
    reason = "BT.709 limited range is the same function, bit for bit"
)]
fn colorimetries_convert_as_their_standards_say() {
    // BT.709 limited range is the key space's own conversion, bit for bit.
    let c = Colorimetry::BT709_LIMITED;
    assert_eq!(
        c.rgb_to_ycbcr(8, [10.0, 200.0, 30.0]),
        rgb_to_ycbcr709(10.0, 200.0, 30.0)
    );
    assert_eq!(Colorimetry::default(), c);
    // Black, white and red in each: Y of red is Kr, Cr of red the top of the chroma range.
    for (m, kr) in [
        (YuvMatrix::Bt601, 0.299),
        (YuvMatrix::Bt709, 0.2126),
        (YuvMatrix::Bt2020, 0.2627),
    ] {
        let lim = Colorimetry {
            matrix: m,
            range: YuvRange::Limited,
        };
        let full = Colorimetry {
            matrix: m,
            range: YuvRange::Full,
        };
        let close = |a: [f32; 3], b: [f32; 3]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-3);
        assert!(close(lim.rgb_to_ycbcr(8, [0.0; 3]), [16.0, 128.0, 128.0]));
        assert!(close(
            lim.rgb_to_ycbcr(10, [255.0; 3]),
            [235.0, 128.0, 128.0]
        ));
        assert!(close(
            full.rgb_to_ycbcr(8, [255.0; 3]),
            [255.0, 128.0, 128.0]
        ));
        // Full range at 10 bits spans 1023 codes: white is code 1023, i.e. 255.75.
        assert!(close(
            full.rgb_to_ycbcr(10, [255.0; 3]),
            [255.75, 128.0, 128.0]
        ));
        let red = lim.rgb_to_ycbcr(8, [255.0, 0.0, 0.0]);
        assert!(
            (red[0] - (16.0 + 219.0 * kr)).abs() < 1e-3,
            "{m:?}: {red:?}"
        );
        assert!((red[2] - 240.0).abs() < 1e-3, "{m:?}: {red:?}");
    }
    // Every colorimetry inverts itself, and maps to the key space as through RGB.
    for c in colorimetries() {
        for bits in [8, 10] {
            for rgb in [
                [0.0, 0.0, 0.0],
                [255.0, 215.0, 0.0],
                [30.0, 120.0, 40.0],
                [255.0; 3],
            ] {
                let ycc = c.rgb_to_ycbcr(bits, rgb);
                let back = c.ycbcr_to_rgb(bits, ycc);
                for (a, b) in back.iter().zip(rgb) {
                    assert!(
                        (a - b).abs() < 1e-3,
                        "{c} at {bits} bits: {rgb:?} -> {back:?}"
                    );
                }
                let key = c.to_key_space(bits, ycc);
                let want = rgb_to_ycbcr709(rgb[0], rgb[1], rgb[2]);
                for (a, b) in key.iter().zip(want) {
                    assert!((a - b).abs() < 1e-3, "{c}: {key:?} vs {want:?}");
                }
            }
        }
    }
}

#[test]
fn frames_read_rgb_and_the_key_space_through_their_colorimetry() {
    let bt2020_full = Colorimetry {
        matrix: YuvMatrix::Bt2020,
        range: YuvRange::Full,
    };
    let rgb = [200.0, 150.0, 20.0];
    for format in [PixelFormat::I420, PixelFormat::V210, PixelFormat::P010] {
        let layout = FrameLayout::packed(format, 6, 2)
            .unwrap()
            .with_colorimetry(bt2020_full);
        let bits = format.bit_depth();
        let codes = bt2020_full
            .rgb_to_ycbcr(bits, rgb)
            .map(|v| (v / yardline_frame::code_scale(format)).round() as u16);
        let mut data = vec![0_u8; layout.size];
        for y in 0..2 {
            for x in 0..6 {
                let s = yuv_samples(&layout, x, y).unwrap();
                for (s, c) in s.into_iter().zip(codes) {
                    write_sample(format.sample_storage(), &mut data, s, c);
                }
            }
        }
        let f = FrameRef::new(&layout, &data).unwrap();
        assert_eq!(
            f.codes(1, 1),
            Some(codes),
            "{format}: the frame's own codes"
        );
        let got = f.rgb(3, 1).map(f32::from);
        for (g, w) in got.iter().zip(rgb) {
            assert!((g - w).abs() <= 1.0, "{format}: RGB {got:?}, wrote {rgb:?}");
        }
        let key = f.ycbcr_f32(3, 1);
        let want = rgb_to_ycbcr709(rgb[0], rgb[1], rgb[2]);
        for (g, w) in key.iter().zip(want) {
            assert!(
                (g - w).abs() <= 0.6,
                "{format}: key space {key:?}, want {want:?}"
            );
        }
        // An RGB layout's colorimetry is the key space whatever is set.
        let rgba = FrameLayout::packed(PixelFormat::Rgba, 2, 2)
            .unwrap()
            .with_colorimetry(bt2020_full);
        assert!(rgba.yuv_colorimetry().is_key_space());
        assert_eq!(layout.yuv_colorimetry(), bt2020_full);
    }
}

#[test]
fn packed_sizes_and_plane_offsets() {
    let l = FrameLayout::packed(PixelFormat::I420, 1920, 1080).unwrap();
    assert_eq!(l.size, 1920 * 1080 * 3 / 2);
    assert_eq!(l.planes[1].offset, 1920 * 1080);
    assert_eq!(l.planes[2].offset, 1920 * 1080 + 960 * 540);
    assert_eq!(l.planes[1].stride, 960);
    let l = FrameLayout::packed(PixelFormat::Nv12, 5, 3).unwrap();
    assert_eq!(l.planes[1].stride, 6);
    assert_eq!(l.size, 15 + 6 * 2);
    let l = FrameLayout::packed(PixelFormat::Uyvy, 5, 3).unwrap();
    assert_eq!(l.planes[0].stride, 12);
    assert_eq!(l.size, 36);
    let l = FrameLayout::packed(PixelFormat::Bgrx, 7, 2).unwrap();
    assert_eq!(l.size, 56);
    for f in PixelFormat::ALL {
        assert_eq!(f.name().parse::<PixelFormat>().unwrap(), f);
        assert_eq!(
            f.to_string().to_lowercase().parse::<PixelFormat>().unwrap(),
            f
        );
        let l = FrameLayout::packed(f, 33, 17).unwrap();
        l.check_buffer(l.size).unwrap();
        assert!(l.check_buffer(l.size - 1).is_err());
    }
    assert!(matches!(
        "YUY2".parse::<PixelFormat>(),
        Err(FrameError::UnknownFormat(_))
    ));
}

#[test]
fn bad_sizes_and_planes_are_errors() {
    assert!(matches!(
        FrameLayout::packed(PixelFormat::Rgba, 0, 10),
        Err(FrameError::BadSize(0, 10))
    ));
    assert!(FrameLayout::packed(PixelFormat::Rgba, MAX_DIMENSION + 1, 10).is_err());
    // Too few planes, short stride, buffer too small.
    assert!(FrameLayout::with_planes(PixelFormat::I420, 8, 8, &[0, 64], &[8, 4], 96).is_err());
    assert!(
        FrameLayout::with_planes(PixelFormat::I420, 8, 8, &[0, 64, 80], &[8, 3, 4], 96).is_err()
    );
    assert!(
        FrameLayout::with_planes(PixelFormat::I420, 8, 8, &[0, 64, 80], &[8, 4, 4], 95).is_err()
    );
    FrameLayout::with_planes(PixelFormat::I420, 8, 8, &[0, 64, 80], &[8, 4, 4], 96).unwrap();
    // Absurd offsets and strides overflow: an error, not a panic or a wrapped size.
    assert!(
        FrameLayout::with_planes(
            PixelFormat::Rgba,
            8,
            8,
            &[usize::MAX - 4],
            &[32],
            usize::MAX
        )
        .is_err()
    );
    assert!(
        FrameLayout::with_planes(PixelFormat::Rgba, 8, 8, &[0], &[usize::MAX / 2], usize::MAX)
            .is_err()
    );
    // A layout edited by hand after construction is caught when a view is made.
    let mut l = FrameLayout::packed(PixelFormat::Nv12, 16, 16).unwrap();
    let data = vec![0_u8; l.size];
    l.planes[1].offset += 8;
    assert!(FrameRef::new(&l, &data).is_err());
}

#[test]
fn padded_planes_are_read_at_their_offsets() {
    // I420 8x4 with 4 bytes of row padding and gaps between planes.
    let (w, h) = (8_u32, 4_u32);
    let offsets = [10, 10 + 12 * 4 + 3, 10 + 12 * 4 + 3 + 8 * 2 + 5];
    let strides = [12, 8, 8];
    let size = offsets[2] + 8 * 2;
    let l = FrameLayout::with_planes(PixelFormat::I420, w, h, &offsets, &strides, size).unwrap();
    let mut data = vec![0_u8; size];
    for y in 0..h as usize {
        for x in 0..w as usize {
            data[offsets[0] + y * 12 + x] = (16 + 10 * y + x) as u8;
        }
    }
    for y in 0..2 {
        for x in 0..4 {
            data[offsets[1] + y * 8 + x] = (100 + 10 * y + x) as u8;
            data[offsets[2] + y * 8 + x] = (150 + 10 * y + x) as u8;
        }
    }
    let f = FrameRef::new(&l, &data).unwrap();
    assert_eq!(f.ycbcr(5, 3), [16 + 30 + 5, 100 + 10 + 2, 150 + 10 + 2]);
    assert_eq!(f.ycbcr(0, 0), [16, 100, 150]);
    assert_eq!(yuv_indices(&l, 5, 3).unwrap()[0], offsets[0] + 3 * 12 + 5);
    assert!(yuv_indices(&FrameLayout::packed(PixelFormat::Rgba, 2, 2).unwrap(), 0, 0).is_none());
}

#[test]
fn uyvy_and_nv12_sites() {
    let l = FrameLayout::packed(PixelFormat::Uyvy, 4, 1).unwrap();
    let data = [10, 20, 30, 40, 50, 60, 70, 80];
    let f = FrameRef::new(&l, &data).unwrap();
    assert_eq!(f.ycbcr(0, 0), [20, 10, 30]);
    assert_eq!(f.ycbcr(1, 0), [40, 10, 30]);
    assert_eq!(f.ycbcr(3, 0), [80, 50, 70]);
    let l = FrameLayout::packed(PixelFormat::Nv12, 2, 2).unwrap();
    let data = [1, 2, 3, 4, 200, 210];
    let f = FrameRef::new(&l, &data).unwrap();
    assert_eq!(f.ycbcr(1, 1), [4, 200, 210]);
}

#[test]
fn rgb_byte_orders() {
    for (format, bytes) in [
        (PixelFormat::Rgba, [10, 20, 30, 255]),
        (PixelFormat::Rgbx, [10, 20, 30, 0]),
        (PixelFormat::Bgra, [30, 20, 10, 255]),
        (PixelFormat::Bgrx, [30, 20, 10, 0]),
    ] {
        let l = FrameLayout::packed(format, 1, 1).unwrap();
        let f = FrameRef::new(&l, &bytes).unwrap();
        assert_eq!(f.rgb(0, 0), [10, 20, 30], "{format}");
        assert_eq!(rgb_index(&l, 0, 0), 0);
        let want = rgb_to_ycbcr709(10.0, 20.0, 30.0);
        let got = f.ycbcr_f32(0, 0);
        assert!(
            got.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-6),
            "{format}"
        );
        assert_eq!(f.ycbcr(0, 0), want.map(|v| v.round() as u8), "{format}");
    }
}

#[test]
fn bt709_reference_values_and_round_trip() {
    // Black, white and the primaries in limited range (ITU-R BT.709 / BT.1886 code values).
    let cases = [
        ([0.0, 0.0, 0.0], [16.0, 128.0, 128.0]),
        ([255.0, 255.0, 255.0], [235.0, 128.0, 128.0]),
        ([255.0, 0.0, 0.0], [63.0, 102.0, 240.0]),
        ([0.0, 255.0, 0.0], [173.0, 42.0, 26.0]),
        ([0.0, 0.0, 255.0], [32.0, 240.0, 118.0]),
    ];
    for (rgb, ycc) in cases {
        let got = rgb_to_ycbcr709(rgb[0], rgb[1], rgb[2]);
        for c in 0..3 {
            assert!(
                (got[c] - ycc[c]).abs() < 0.6,
                "{rgb:?} -> {got:?}, want {ycc:?}"
            );
        }
    }
    for r in (0..=255).step_by(15) {
        for g in (0..=255).step_by(17) {
            for b in (0..=255).step_by(19) {
                let [y, cb, cr] = rgb_to_ycbcr709(r as f32, g as f32, b as f32);
                let back = ycbcr709_to_rgb(y, cb, cr);
                for (a, w) in back.iter().zip([r, g, b]) {
                    assert!((a - w as f32).abs() < 1e-3, "({r},{g},{b}) -> {back:?}");
                }
            }
        }
    }
}

#[test]
fn ten_bit_layouts_as_gstreamer_sizes_them() {
    // Sizes GStreamer's video info gives for these formats at 1920x1080 (tightly packed rows).
    let l = FrameLayout::packed(PixelFormat::V210, 1920, 1080).unwrap();
    assert_eq!(l.planes[0].stride, 5120);
    assert_eq!(l.size, 5120 * 1080);
    let l = FrameLayout::packed(PixelFormat::V210, 1280, 720).unwrap();
    assert_eq!(l.planes[0].stride, 3456);
    let l = FrameLayout::packed(PixelFormat::P010, 1920, 1080).unwrap();
    assert_eq!(l.planes[1].offset, 3840 * 1080);
    assert_eq!(l.planes[1].stride, 3840);
    assert_eq!(l.size, 3840 * 1080 * 3 / 2);
    let l = FrameLayout::packed(PixelFormat::I420_10, 1920, 1080).unwrap();
    assert_eq!(l.size, 3840 * 1080 + 2 * 1920 * 540);
    let l = FrameLayout::packed(PixelFormat::I422_10, 1920, 1080).unwrap();
    assert_eq!(l.planes[2].offset, 3840 * 1080 + 1920 * 1080);
    assert_eq!(l.size, 3840 * 1080 * 2);
    for f in [
        PixelFormat::V210,
        PixelFormat::P010,
        PixelFormat::I420_10,
        PixelFormat::I422_10,
    ] {
        assert_eq!(f.bit_depth(), 10);
        // The 8-bit byte indices do not apply to them.
        let l = FrameLayout::packed(f, 12, 4).unwrap();
        assert!(yuv_indices(&l, 0, 0).is_none());
        assert!(yuv_samples(&l, 0, 0).is_some());
    }
    assert!(
        "YUY2"
            .parse::<PixelFormat>()
            .unwrap_err()
            .to_string()
            .contains("v210, P010_10LE, I420_10LE, I422_10LE")
    );
}

/// Packs three 10-bit samples into a v210 word.
fn word(a: u32, b: u32, c: u32) -> [u8; 4] {
    (a | b << 10 | c << 20).to_le_bytes()
}

#[test]
fn v210_samples_are_read_from_their_words() {
    // One block of six pixels: Cb0 Y0 Cr0 | Y1 Cb1 Y2 | Cr1 Y3 Cb2 | Y4 Cr2 Y5, then a second
    // block holding pixel 6 (its own chroma site).
    let l = FrameLayout::packed(PixelFormat::V210, 7, 1).unwrap();
    assert_eq!(l.planes[0].stride, 128);
    let mut data = vec![0_u8; l.size];
    let (y, cb, cr) = (
        [100, 201, 302, 403, 504, 605, 706],
        [513, 514, 515, 516],
        [601, 602, 603, 604],
    );
    for (k, w) in [
        word(cb[0], y[0], cr[0]),
        word(y[1], cb[1], y[2]),
        word(cr[1], y[3], cb[2]),
        word(y[4], cr[2], y[5]),
        word(cb[3], y[6], cr[3]),
    ]
    .iter()
    .enumerate()
    {
        data[4 * k..4 * k + 4].copy_from_slice(w);
    }
    let f = FrameRef::new(&l, &data).unwrap();
    for (x, &luma) in y.iter().enumerate() {
        let site = x / 2;
        let want = [luma, cb[site], cr[site]].map(|v| v as u16);
        assert_eq!(f.codes(x as u32, 0).unwrap(), want, "pixel {x}");
        // Exactly a quarter of each code (no rounding).
        let exact = f.ycbcr_f32(x as u32, 0).map(f32::to_bits);
        assert_eq!(
            exact,
            want.map(|v| (f32::from(v) / 4.0).to_bits()),
            "pixel {x}"
        );
    }
    // Writing one sample leaves the word's other two alone.
    let s = yuv_samples(&l, 3, 0).unwrap();
    write_sample(PixelFormat::V210.sample_storage(), &mut data, s[0], 1000);
    let f = FrameRef::new(&l, &data).unwrap();
    assert_eq!(f.codes(3, 0).unwrap(), [1000, 514, 602]);
    assert_eq!(f.codes(4, 0).unwrap(), [504, 515, 603]);
}

#[test]
fn sixteen_bit_samples_sit_where_gstreamer_puts_them() {
    // P010: the code in the high 10 bits; I420_10LE/I422_10LE: in the low 10 bits.
    let (w, h) = (4_u32, 4_u32);
    for format in [
        PixelFormat::P010,
        PixelFormat::I420_10,
        PixelFormat::I422_10,
    ] {
        let l = FrameLayout::packed(format, w, h).unwrap();
        let storage = format.sample_storage();
        let mut data = vec![0_u8; l.size];
        for y in 0..h {
            for x in 0..w {
                let [sy, scb, scr] = yuv_samples(&l, x, y).unwrap();
                write_sample(storage, &mut data, sy, (64 + 10 * y + x) as u16);
                write_sample(storage, &mut data, scb, (500 + y) as u16);
                write_sample(storage, &mut data, scr, (900 + x / 2) as u16);
            }
        }
        let f = FrameRef::new(&l, &data).unwrap();
        let (_, sub) = format.chroma_step();
        for y in 0..h {
            for x in 0..w {
                // The last write to a shared site wins: its last row.
                let site_row = (y / sub) * sub + sub - 1;
                assert_eq!(
                    f.codes(x, y).unwrap(),
                    [
                        (64 + 10 * y + x) as u16,
                        (500 + site_row) as u16,
                        (900 + x / 2) as u16
                    ],
                    "{format} ({x},{y})"
                );
            }
        }
        // Pixel (1, 2): luma at row 2, column 1 of 16-bit samples.
        let raw = u16::from_le_bytes([data[2 * 8 + 2], data[2 * 8 + 3]]);
        let code = 64 + 20 + 1;
        if format == PixelFormat::P010 {
            assert_eq!(raw, code << 6);
        } else {
            assert_eq!(raw, code);
        }
        assert_eq!(
            read_sample(
                storage,
                &data,
                Sample {
                    byte: 2 * 8 + 2,
                    shift: if format == PixelFormat::P010 { 6 } else { 0 }
                }
            ),
            code
        );
    }
}
