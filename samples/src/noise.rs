//! Deterministic hashing and value noise (no global state, the same on every thread).

/// Mixes three words into one (`SplitMix64` finaliser over a combined key).
#[inline]
pub(crate) fn hash3(a: u64, b: u64, c: u64) -> u64 {
    let mut z = a
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F))
        .wrapping_add(c.wrapping_mul(0x1656_67B1_9E37_79F9));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A hash as a uniform number in [0, 1).
#[inline]
pub(crate) fn unit(h: u64) -> f64 {
    (h >> 11) as f64 * (1.0 / (1_u64 << 53) as f64)
}

/// Smooth value noise in [-1, 1] at (x, y) in lattice units.
#[inline]
pub(crate) fn value_noise(x: f64, y: f64, seed: u64) -> f64 {
    let (fx, fy) = (fast_floor(x), fast_floor(y));
    let (ix, iy) = (fx as i64, fy as i64);
    let (tx, ty) = (x - fx, y - fy);
    let (sx, sy) = (tx * tx * (3.0 - 2.0 * tx), ty * ty * (3.0 - 2.0 * ty));
    let at = |dx: i64, dy: i64| unit(hash3(seed, (ix + dx) as u64, (iy + dy) as u64));
    let top = at(0, 0) + (at(1, 0) - at(0, 0)) * sx;
    let bottom = at(0, 1) + (at(1, 1) - at(0, 1)) * sx;
    2.0 * (top + (bottom - top) * sy) - 1.0
}

/// `smoothstep(0, 1, t)` with clamping.
#[inline]
pub(crate) fn smoothstep(t: f64) -> f64 {
    let t = t.clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// `floor` for finite values of moderate size, without a libm call.
#[inline]
pub(crate) fn fast_floor(v: f64) -> f64 {
    let t = v as i64 as f64;
    if t > v { t - 1.0 } else { t }
}
