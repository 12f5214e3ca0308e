//! The tile atlas of a 10-bit frame (v210, `P010_10LE`, `I420_10LE`, `I422_10LE`): each atlas
//! pixel is one little-endian 32-bit word holding the pixel's 10-bit codes, Y in bits 0..10,
//! Cb in bits 10..20 and Cr in bits 20..30 (chroma repeated over its site), and 3 in the top two
//! bits (an `Rgb10a2Unorm` texel with R = Y, G = Cb, B = Cr and alpha 1; the GPU's atlas holds
//! each word's four bytes as an RGBA8 texel, the shader unpacks them). Gathered straight
//! from the frame's samples and scattered straight back into them: nothing passes through 8
//! bits.

use yardline_frame::{FrameRef, PixelFormat};

use super::{HALO, TILE, TileAtlas, TilePlan, YuvShare};

/// Mask of a 10-bit code.
const CODE: u32 = 0x3ff;

/// The atlas word of 10-bit codes `y`, `cb`, `cr` (alpha bits set).
#[inline]
fn pack(y: u32, cb: u32, cr: u32) -> u32 {
    (y & CODE) | (cb & CODE) << 10 | (cr & CODE) << 20 | 3 << 30
}

/// Component `c` (0 = Y, 1 = Cb, 2 = Cr) of the atlas word at byte `at` of `data`.
#[inline]
fn component(data: &[u8], at: usize, c: usize) -> u32 {
    let w = u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]);
    (w >> (10 * c)) & CODE
}

/// The little-endian 16-bit word at byte `i` of `data`.
#[inline]
fn word16(data: &[u8], i: usize) -> u32 {
    u32::from(u16::from_le_bytes([data[i], data[i + 1]]))
}

/// The four little-endian 32-bit words of the v210 group at byte `i` of `data`.
#[inline]
fn v210_words(data: &[u8], i: usize) -> [u32; 4] {
    std::array::from_fn(|k| {
        let b = i + 4 * k;
        u32::from_le_bytes([data[b], data[b + 1], data[b + 2], data[b + 3]])
    })
}

/// (word, bit) of the Y samples of a v210 group's six pixels, and of its three Cb and Cr
/// samples (see [`PixelFormat::V210`]).
const V210_Y: [(usize, u32); 6] = [(0, 10), (1, 0), (1, 20), (2, 10), (3, 0), (3, 20)];
const V210_CB: [(usize, u32); 3] = [(0, 0), (1, 10), (2, 20)];
const V210_CR: [(usize, u32); 3] = [(0, 20), (2, 0), (3, 10)];

/// Where the samples of row `y` of a 16-bit-sample layout (P010, I420/I422 10LE) lie: the
/// first luma byte, the first Cb and Cr bytes of its chroma row, the bytes from one chroma site
/// to the next, and the bit of a code's lowest bit.
struct Row16 {
    luma: usize,
    cb: usize,
    cr: usize,
    site: usize,
    shift: u32,
}

impl Row16 {
    fn of(format: PixelFormat, planes: &[yardline_frame::Plane; 3], y: usize) -> Option<Self> {
        let cy = y / format.chroma_step().1 as usize;
        let row = |p: usize, r: usize| planes[p].offset + r * planes[p].stride;
        Some(match format {
            PixelFormat::P010 => Self {
                luma: row(0, y),
                cb: row(1, cy),
                cr: row(1, cy) + 2,
                site: 4,
                shift: 6,
            },
            PixelFormat::I420_10 | PixelFormat::I422_10 => Self {
                luma: row(0, y),
                cb: row(1, cy),
                cr: row(2, cy),
                site: 2,
                shift: 0,
            },
            _ => return None,
        })
    }
}

/// Reads `out.len() / 4` pixels of row `fy` of a 10-bit frame from column `fx0` on into atlas
/// words; rows and columns past the border repeat the edge. Leaves `out` alone for any other
/// format.
pub(super) fn read_row(frame: &FrameRef<'_>, fx0: i64, fy: i64, out: &mut [u8]) {
    let layout = frame.layout;
    let (w, h) = (i64::from(layout.width), i64::from(layout.height));
    let y = fy.clamp(0, h - 1) as usize;
    let n = (out.len() / 4) as i64;
    let (a, b) = (fx0.clamp(0, w - 1), (fx0 + n).clamp(1, w));
    if a >= b {
        return;
    }
    let data = frame.data;
    let first = (a - fx0) as usize;
    let interior = &mut out[first * 4..(b - fx0) as usize * 4];
    let (a, b) = (a as usize, b as usize);
    if layout.format == PixelFormat::V210 {
        let base = layout.planes[0].offset + y * layout.planes[0].stride;
        for g in a / 6..b.div_ceil(6) {
            let wd = v210_words(data, base + 16 * g);
            let s = |(k, bit): (usize, u32)| wd[k] >> bit;
            for i in 0..6 {
                let x = 6 * g + i;
                if (a..b).contains(&x) {
                    let px = pack(s(V210_Y[i]), s(V210_CB[i / 2]), s(V210_CR[i / 2]));
                    let o = (x - a) * 4;
                    interior[o..o + 4].copy_from_slice(&px.to_le_bytes());
                }
            }
        }
    } else if let Some(r) = Row16::of(layout.format, &layout.planes, y) {
        let luma = &data[r.luma + 2 * a..r.luma + 2 * b];
        for ((o, l), x) in interior
            .chunks_exact_mut(4)
            .zip(luma.chunks_exact(2))
            .zip(a..)
        {
            let c = (x / 2) * r.site;
            let px = pack(
                u32::from(u16::from_le_bytes([l[0], l[1]])) >> r.shift,
                word16(data, r.cb + c) >> r.shift,
                word16(data, r.cr + c) >> r.shift,
            );
            o.copy_from_slice(&px.to_le_bytes());
        }
    } else {
        return;
    }
    // Past the border: the edge pixels repeated.
    let left = [
        out[first * 4],
        out[first * 4 + 1],
        out[first * 4 + 2],
        out[first * 4 + 3],
    ];
    let last = (b as i64 - fx0) as usize * 4 - 4;
    let right = [out[last], out[last + 1], out[last + 2], out[last + 3]];
    for px in out[..first * 4].chunks_exact_mut(4) {
        px.copy_from_slice(&left);
    }
    for px in out[last + 4..].chunks_exact_mut(4) {
        px.copy_from_slice(&right);
    }
}

/// Whether `share` is one of a 10-bit frame's scatter (see [`write_share`]).
pub(super) fn is_ten_bit(share: YuvShare) -> bool {
    matches!(
        share,
        YuvShare::Luma10 | YuvShare::Chroma10(_) | YuvShare::V210(_)
    )
}

/// Writes `share` of every planned tile of a 10-bit `format` frame of size (`w`, `h`) from the
/// atlas `data` into `dst`: a plane (rows from 0) or, for [`YuvShare::V210`], the band of rows
/// of its tile row. Chroma takes the mean of the pixels sharing its site, rounded (exactly the
/// blend with their mean alpha, as the CPU compositor writes it).
pub(super) fn write_share(
    data: &[u8],
    plan: &TilePlan,
    (format, w, h): (PixelFormat, u32, u32),
    share: YuvShare,
    dst: &mut [u8],
    stride: usize,
) {
    let sy = format.chroma_step().1;
    let (shift, site) = match format {
        PixelFormat::P010 => (6, 4),
        _ => (0, 2),
    };
    for (i, &(tx, ty)) in plan.tiles.iter().enumerate() {
        if matches!(share, YuvShare::V210(band) if band != ty) {
            continue;
        }
        let (ox, oy) = TileAtlas::cell_origin(i);
        let (x0, y0) = (tx * TILE, ty * TILE);
        let (x1, y1) = ((x0 + TILE).min(w), (y0 + TILE).min(h));
        let at = |fx: u32, fy: u32| {
            (oy + HALO + fy - y0) as usize * TileAtlas::STRIDE + (ox + HALO + fx - x0) as usize * 4
        };
        // Mean of component `c` over the pixels of the chroma site at (fx, fy), `sy` rows.
        let mean = |fx: u32, fy: u32, c: usize| {
            let (mut sum, mut n) = (0u32, 0u32);
            for yy in fy..(fy + sy).min(h) {
                for xx in fx..(fx + 2).min(w) {
                    sum += component(data, at(xx, yy), c);
                    n += 1;
                }
            }
            (sum + n / 2) / n
        };
        match share {
            YuvShare::Luma10 => {
                for fy in y0..y1 {
                    let row = &mut dst[fy as usize * stride + 2 * x0 as usize..];
                    let src = &data[at(x0, fy)..][..(x1 - x0) as usize * 4];
                    for (d, s) in row.chunks_exact_mut(2).zip(src.chunks_exact(4)) {
                        let code = (u32::from_le_bytes([s[0], s[1], s[2], s[3]]) & CODE) << shift;
                        d.copy_from_slice(&(code as u16).to_le_bytes());
                    }
                }
            }
            YuvShare::Chroma10(c) => {
                // One component, or both interleaved (P010: Cb, then Cr two bytes on).
                let comps: &[(usize, usize)] = if c == 0 { &[(1, 0), (2, 2)] } else { &[(c, 0)] };
                // Whole sites from one or two atlas rows at once, two pixels of each; a site
                // cut by the frame's right edge through `mean`.
                let whole = ((x1 - x0) / 2) as usize;
                for fy in (y0..y1).step_by(sy as usize) {
                    let row = &mut dst[(fy / sy) as usize * stride + (x0 / 2) as usize * site..];
                    // Two rows per site (4:2:0), but one at the frame's odd bottom row.
                    let two = sy == 2 && fy + 1 < h;
                    let a = &data[at(x0, fy)..][..whole * 8];
                    let b = &data[at(x0, if two { fy + 1 } else { fy })..][..whole * 8];
                    let n = if two { 4 } else { 2 };
                    for (k, (pa, pb)) in a.chunks_exact(8).zip(b.chunks_exact(8)).enumerate() {
                        let (p, q) = (pair(pa), pair(pb));
                        for &(c, offset) in comps {
                            let at = |w: u32| (w >> (10 * c)) & CODE;
                            let mut sum = at(p[0]) + at(p[1]);
                            if two {
                                sum += at(q[0]) + at(q[1]);
                            }
                            let code = ((sum + n / 2) / n) << shift;
                            let d = k * site + offset;
                            row[d..d + 2].copy_from_slice(&(code as u16).to_le_bytes());
                        }
                    }
                    if (x1 - x0) % 2 == 1 {
                        for &(c, offset) in comps {
                            let code = mean(x1 - 1, fy, c) << shift;
                            let d = whole * site + offset;
                            row[d..d + 2].copy_from_slice(&(code as u16).to_le_bytes());
                        }
                    }
                }
            }
            YuvShare::V210(_) => {
                for fy in y0..y1 {
                    let row = &mut dst[(fy - y0) as usize * stride..];
                    write_v210_row(row, x0, x1, |x| at(x, fy), |x, c| mean(x, fy, c), data);
                }
            }
            _ => return,
        }
    }
}

/// Writes pixels `x0..x1` (`x0` even) of one v210 row `row` from the atlas words at
/// `at(x)` of `data`, chroma site means from `mean(x, c)`; the groups' samples outside the range
/// are kept. Groups wholly inside are packed straight from six atlas words.
fn write_v210_row(
    row: &mut [u8],
    x0: u32,
    x1: u32,
    at: impl Fn(u32) -> usize,
    mean: impl Fn(u32, usize) -> u32,
    data: &[u8],
) {
    for g in x0 / 6..x1.div_ceil(6) {
        let byte = 16 * g as usize;
        let old = v210_words(row, byte);
        let wd = if 6 * g >= x0 && 6 * g + 6 <= x1 {
            let src = &data[at(6 * g)..][..24];
            let [p0, p1] = pair(&src[..8]);
            let [p2, p3] = pair(&src[8..16]);
            let [p4, p5] = pair(&src[16..]);
            let y = |w: u32| w & CODE;
            // Chroma of a site: the mean of its two pixels' component `c`, rounded.
            let m = |a: u32, b: u32, c: u32| {
                (((a >> (10 * c)) & CODE) + ((b >> (10 * c)) & CODE)).div_ceil(2)
            };
            let packed = [
                m(p0, p1, 1) | y(p0) << 10 | m(p0, p1, 2) << 20,
                y(p1) | m(p2, p3, 1) << 10 | y(p2) << 20,
                m(p2, p3, 2) | y(p3) << 10 | m(p4, p5, 1) << 20,
                y(p4) | m(p4, p5, 2) << 10 | y(p5) << 20,
            ];
            // The words' top two bits (unused) as they were.
            std::array::from_fn(|k| packed[k] | (old[k] & !(u32::MAX >> 2)))
        } else {
            let mut wd = old;
            let mut put = |(k, bit): (usize, u32), code: u32| {
                wd[k] = (wd[k] & !(CODE << bit)) | (code & CODE) << bit;
            };
            for i in 0..6 {
                let x = 6 * g + i;
                if !(x0..x1).contains(&x) {
                    continue;
                }
                put(V210_Y[i as usize], component(data, at(x), 0));
                if i % 2 == 0 {
                    let site = (i / 2) as usize;
                    // A whole site (or one cut by the frame's right edge) from two atlas pixels.
                    let (cb, cr) = if x + 1 < x1 {
                        let (p, q) = (at(x), at(x + 1));
                        let m = |c| (component(data, p, c) + component(data, q, c)).div_ceil(2);
                        (m(1), m(2))
                    } else {
                        (mean(x, 1), mean(x, 2))
                    };
                    put(V210_CB[site], cb);
                    put(V210_CR[site], cr);
                }
            }
            wd
        };
        for (k, v) in wd.iter().enumerate() {
            row[byte + 4 * k..byte + 4 * k + 4].copy_from_slice(&v.to_le_bytes());
        }
    }
}

/// The two little-endian 32-bit words of an 8-byte chunk.
#[inline]
fn pair(b: &[u8]) -> [u32; 2] {
    [
        u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
    ]
}
