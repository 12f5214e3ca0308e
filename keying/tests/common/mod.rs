//! Test helpers: frames in every format from an RGB picture, and a synthetic football scene with
//! exact ground truth (grass with mowing stripes, texture and a hard sun/shadow split, white
//! paint lines, players in white, navy and a green-ish jersey).

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]
#![allow(dead_code, reason = "each test file uses a different subset")]

use yardline_frame::{
    FrameLayout, PixelFormat, rgb_index, rgb_to_ycbcr709, write_sample, ycbcr709_to_rgb,
    yuv_samples,
};

/// An owned frame.
pub struct OwnedFrame {
    pub layout: FrameLayout,
    pub data: Vec<u8>,
}

impl OwnedFrame {
    pub fn as_ref(&self) -> yardline_frame::FrameRef<'_> {
        yardline_frame::FrameRef::new(&self.layout, &self.data).unwrap()
    }
}

/// A layout with every row padded by `pad` bytes and `gap` bytes between planes, so stride and
/// offset handling is exercised.
pub fn padded_layout(format: PixelFormat, w: u32, h: u32, pad: usize, gap: usize) -> FrameLayout {
    let packed = FrameLayout::packed(format, w, h).unwrap();
    let (cw, ch) = (w.div_ceil(2) as usize, h.div_ceil(2) as usize);
    let rows = match format {
        PixelFormat::I420 | PixelFormat::I420_10 => vec![h as usize, ch, ch],
        PixelFormat::I422_10 => vec![h as usize; 3],
        PixelFormat::Nv12 | PixelFormat::P010 => vec![h as usize, ch],
        _ => vec![h as usize],
    };
    let mut offsets = Vec::new();
    let mut strides = Vec::new();
    let mut offset = gap;
    for (i, r) in rows.iter().enumerate() {
        let stride = packed.planes[i].stride + pad;
        offsets.push(offset);
        strides.push(stride);
        offset += stride * r + gap;
    }
    let _ = cw;
    FrameLayout::with_planes(format, w, h, &offsets, &strides, offset).unwrap()
}

/// An RGB-family frame from full-range RGB pixels (row-major `[r, g, b]`).
pub fn rgb_frame(format: PixelFormat, w: u32, h: u32, rgb: &[[u8; 3]], pad: usize) -> OwnedFrame {
    let layout = padded_layout(format, w, h, pad, 16);
    let mut data = vec![0x5a_u8; layout.size];
    let o = format.rgb_offsets().unwrap();
    for y in 0..h {
        for x in 0..w {
            let i = rgb_index(&layout, x, y);
            let p = rgb[(y * w + x) as usize];
            data[i + o[0]] = p[0];
            data[i + o[1]] = p[1];
            data[i + o[2]] = p[2];
            data[i + 3] = 0xff;
        }
    }
    OwnedFrame { layout, data }
}

/// A YUV frame from per-pixel limited-range YCbCr bytes; chroma of each site is the rounded
/// mean of the pixels sharing it. A 10-bit format holds four times the bytes' values (the same
/// colour).
pub fn yuv_frame(format: PixelFormat, w: u32, h: u32, ycbcr: &[[u8; 3]], pad: usize) -> OwnedFrame {
    let layout = padded_layout(format, w, h, pad, 16);
    let storage = format.sample_storage();
    let scale = if format.bit_depth() == 10 { 4 } else { 1 };
    let mut data = vec![0xa5_u8; layout.size];
    let (sxs, sys) = format.chroma_step();
    for y in 0..h {
        for x in 0..w {
            let [iy, _, _] = yuv_samples(&layout, x, y).unwrap();
            let v = u16::from(ycbcr[(y * w + x) as usize][0]) * scale;
            write_sample(storage, &mut data, iy, v);
        }
    }
    for sy in 0..h.div_ceil(sys) {
        for sx in 0..w.div_ceil(sxs) {
            let (mut cb, mut cr, mut n) = (0_u32, 0_u32, 0_u32);
            for y in sys * sy..(sys * sy + sys).min(h) {
                for x in sxs * sx..(sxs * sx + sxs).min(w) {
                    let p = ycbcr[(y * w + x) as usize];
                    cb += u32::from(p[1]);
                    cr += u32::from(p[2]);
                    n += 1;
                }
            }
            let [_, icb, icr] = yuv_samples(&layout, sxs * sx, sys * sy).unwrap();
            let mean = |v: u32| ((v + n / 2) / n) as u16 * scale;
            write_sample(storage, &mut data, icb, mean(cb));
            write_sample(storage, &mut data, icr, mean(cr));
        }
    }
    OwnedFrame { layout, data }
}

/// Rounded limited-range YCbCr bytes of a full-range RGB pixel.
pub fn to_ycbcr_bytes(p: [u8; 3]) -> [u8; 3] {
    rgb_to_ycbcr709(f32::from(p[0]), f32::from(p[1]), f32::from(p[2]))
        .map(|v| v.round().clamp(0.0, 255.0) as u8)
}

/// Rounded full-range RGB of limited-range YCbCr bytes.
pub fn to_rgb_bytes(p: [u8; 3]) -> [u8; 3] {
    ycbcr709_to_rgb(f32::from(p[0]), f32::from(p[1]), f32::from(p[2]))
        .map(|v| v.round().clamp(0.0, 255.0) as u8)
}

/// A frame in any format from an RGB picture (YUV formats via rounded BT.709 conversion and
/// chroma averaging).
pub fn frame_from_rgb(
    format: PixelFormat,
    w: u32,
    h: u32,
    rgb: &[[u8; 3]],
    pad: usize,
) -> OwnedFrame {
    if format.is_rgb() {
        rgb_frame(format, w, h, rgb, pad)
    } else {
        let ycc: Vec<[u8; 3]> = rgb.iter().map(|&p| to_ycbcr_bytes(p)).collect();
        yuv_frame(format, w, h, &ycc, pad)
    }
}

/// Deterministic hash of integers to [0, 1).
pub fn hash01(a: u32, b: u32, c: u32) -> f64 {
    let mut z = u64::from(a)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .wrapping_add(u64::from(b).wrapping_mul(0xc2b2_ae3d_27d4_eb4f))
        .wrapping_add(u64::from(c).wrapping_mul(0x1656_67b1_9e37_79f9));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1_u64 << 53) as f64
}

/// Approximately normal noise (sum of 4 uniforms, unit variance).
pub fn noise(a: u32, b: u32, c: u32) -> f64 {
    let s: f64 = (0..4).map(|k| hash01(a, b, c * 4 + k)).sum();
    (s - 2.0) * (3.0_f64).sqrt()
}

/// Jersey colours of the synthetic players.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jersey {
    White,
    Navy,
    Green,
}

impl Jersey {
    pub const ALL: [Self; 3] = [Self::White, Self::Navy, Self::Green];

    /// Full-range RGB in sunlight.
    pub fn rgb(self) -> [f64; 3] {
        match self {
            Self::White => [238.0, 240.0, 246.0],
            Self::Navy => [28.0, 36.0, 78.0],
            Self::Green => [24.0, 112.0, 88.0],
        }
    }
}

/// One synthetic player: torso, head and legs around a centre (pixels).
#[derive(Debug, Clone, Copy)]
pub struct Player {
    pub x: f64,
    pub y: f64,
    pub jersey: Jersey,
}

impl Player {
    /// True when pixel centre (px, py) is on the player; also returns the horizontal position
    /// across the torso (-1..1) for shading.
    pub fn hit(&self, px: f64, py: f64) -> Option<f64> {
        let (dx, dy) = (px - self.x, py - self.y);
        // Torso: ellipse 14 x 22 half-axes.
        if (dx / 14.0).powi(2) + (dy / 22.0).powi(2) <= 1.0 {
            return Some(dx / 14.0);
        }
        // Head (helmet): circle radius 8 above the torso.
        if dx.powi(2) + (dy + 29.0).powi(2) <= 64.0 {
            return Some(dx / 8.0);
        }
        // Legs: two 6-pixel-wide bars below the torso.
        if (18.0..44.0).contains(&dy) && ((-10.0..-3.0).contains(&dx) || (3.0..10.0).contains(&dx))
        {
            return Some(if dx < 0.0 {
                (dx + 6.5) / 3.5
            } else {
                (dx - 6.5) / 3.5
            });
        }
        None
    }

    /// A rectangle across the torso (x, y, width, height) for an exclusion sample: the
    /// operator drags over the jersey's full width to take in its shading.
    pub fn torso_rect(&self) -> (u32, u32, u32, u32) {
        ((self.x - 12.0) as u32, (self.y - 12.0) as u32, 24, 24)
    }
}

/// What a synthetic pixel is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    Grass,
    Paint,
    Player(Jersey),
}

/// A synthetic broadcast-like frame with its truth.
pub struct Scene {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<[u8; 3]>,
    pub truth: Vec<Truth>,
    pub players: Vec<Player>,
    pub in_shadow: Vec<bool>,
}

impl Scene {
    /// True for field surface (grass or paint).
    pub fn is_field_surface(&self, i: usize) -> bool {
        matches!(self.truth[i], Truth::Grass | Truth::Paint)
    }
}

/// The shadow of the stand: everything above a diagonal, hard edge.
fn shadowed(x: f64, y: f64, w: f64, h: f64) -> bool {
    y < 0.42 * h + 0.35 * (x - 0.5 * w)
}

/// Renders the scene. `seed` varies the noise only.
pub fn football_scene(width: u32, height: u32, seed: u32) -> Scene {
    let (w, h) = (f64::from(width), f64::from(height));
    // Players spread over sun and shadow; the image is about 30 m of field wide.
    let spots = [
        (0.10, 0.30, Jersey::White),
        (0.22, 0.62, Jersey::Navy),
        (0.30, 0.20, Jersey::Green),
        (0.38, 0.75, Jersey::White),
        (0.46, 0.40, Jersey::Navy),
        (0.52, 0.58, Jersey::Green),
        (0.60, 0.25, Jersey::White),
        (0.66, 0.80, Jersey::Navy),
        (0.74, 0.45, Jersey::Green),
        (0.82, 0.68, Jersey::White),
        (0.88, 0.30, Jersey::Navy),
        (0.93, 0.85, Jersey::Green),
    ];
    let players: Vec<Player> = spots
        .iter()
        .map(|&(fx, fy, jersey)| Player {
            x: (fx * w).round() + 0.5,
            y: (fy * h).round() + 0.5,
            jersey,
        })
        .collect();
    let grass_sun = [72.0, 134.0, 52.0];
    let paint = [226.0, 230.0, 214.0];
    // Shadow: skylight only, darker and bluer.
    let shadow_tint = [0.42, 0.47, 0.60];
    let mut rgb = Vec::with_capacity((width * height) as usize);
    let mut truth = Vec::with_capacity((width * height) as usize);
    let mut in_shadow = Vec::with_capacity((width * height) as usize);
    for py in 0..height {
        for px in 0..width {
            let (x, y) = (f64::from(px) + 0.5, f64::from(py) + 0.5);
            let shade = shadowed(x, y, w, h);
            let light = |c: [f64; 3]| {
                if shade {
                    [
                        c[0] * shadow_tint[0],
                        c[1] * shadow_tint[1],
                        c[2] * shadow_tint[2],
                    ]
                } else {
                    c
                }
            };
            let luma_noise = noise(px, py, seed * 8);
            let (colour, t) = if let Some((p, across)) =
                players.iter().find_map(|p| p.hit(x, y).map(|a| (p, a)))
            {
                // Cylindrical shading across the body and fabric folds.
                let fold = 0.04 * (y * 0.9 + p.x).sin();
                let s = 1.0 - 0.18 * across * across + fold;
                let base = p.jersey.rgb().map(|c| c * s);
                (light(base), Truth::Player(p.jersey))
            } else {
                // Mowing stripes, slanted, 70 px wide; light stripes slightly yellower.
                let stripe = ((x + 0.35 * y) / 70.0).floor() as i64 % 2 == 0;
                let stripe_gain = if stripe {
                    [1.06, 1.05, 0.98]
                } else {
                    [0.90, 0.90, 0.94]
                };
                // Large, soft patches of worn or lush grass.
                let patch = 1.0
                    + 0.05 * (x / 61.0).sin() * (y / 43.0).cos()
                    + 0.03 * ((x + 2.0 * y) / 97.0).sin();
                // Blade texture: multiplicative luma noise.
                let texture = 1.0 + 0.07 * noise(px, py, seed * 8 + 1);
                let mut g = [0.0; 3];
                for c in 0..3 {
                    g[c] = grass_sun[c] * stripe_gain[c] * patch * texture;
                }
                // Yard lines every 120 px (6 px wide, slanted) and a sideline band.
                let line_x = (x - 0.18 * y).rem_euclid(120.0);
                let on_line =
                    (57.0..63.0).contains(&line_x) || (0.90 * h..0.90 * h + 7.0).contains(&y);
                if on_line {
                    // Paint lets a little grass through.
                    let mut c = [0.0; 3];
                    for k in 0..3 {
                        c[k] = 0.88 * paint[k] * (1.0 + 0.03 * noise(px, py, seed * 8 + 2))
                            + 0.12 * g[k];
                    }
                    (light(c), Truth::Paint)
                } else {
                    (light(g), Truth::Grass)
                }
            };
            // Camera noise: luma-correlated plus a little per channel.
            let mut out = [0_u8; 3];
            for c in 0..3 {
                let v = colour[c] + 2.5 * luma_noise + 1.5 * noise(px, py, seed * 8 + 3 + c as u32);
                out[c] = v.round().clamp(0.0, 255.0) as u8;
            }
            rgb.push(out);
            truth.push(t);
            in_shadow.push(shade);
        }
    }
    Scene {
        width,
        height,
        rgb,
        truth,
        players,
        in_shadow,
    }
}
