//! CPU rasterisation of strip triangles with analytic field-space coverage. The GPU shader
//! (`shaders/wgsl/composite.wgsl`) implements the same formula; keep the two in step.

use super::tiles::Triangle;

/// Box-filtered 1-D coverage of a pixel by a band: `s` is the pixel centre's distance from the
/// band centre and `half` the band's half width, both in pixels.
#[inline]
pub fn box_coverage(s: f64, half: f64) -> f64 {
    ((s + 0.5).min(half) - (s - 0.5).max(-half)).clamp(0.0, 1.0)
}

/// Per-triangle setup for perspective-correct interpolation of the strip offsets.
#[derive(Debug, Clone, Copy)]
pub struct TriangleSetup {
    /// Edge functions `e_i(x, y) = a*x + b*y + c`, positive inside, normalised by the area.
    edges: [[f64; 3]; 3],
    /// Whether each edge is a top or left edge (fill rule).
    top_left: [bool; 3],
    /// Per edge, where it crosses a row: `x = m * y + k` as `[m, k]`, and which side is inside
    /// (`1`: right of the crossing, `-1`: left, `0`: the edge is horizontal).
    crossing: [[f64; 3]; 3],
    /// Affine `1/depth`: [dx, dy, c].
    q: [f64; 3],
    /// Affine `across/depth`.
    a: [f64; 3],
    /// Affine `along/depth`.
    b: [f64; 3],
    /// Bounding box of pixel centres (inclusive, unclamped).
    pub bbox: [f64; 4],
    /// Upper bounds over the triangle of the across and along gradient lengths (metres per
    /// pixel; infinite when unknown): where the pixel's box lies inside the band even at the
    /// bound, its coverage is exactly 1 without computing the gradient.
    g_max: [f64; 2],
}

impl TriangleSetup {
    /// Sets up a triangle; `None` when degenerate.
    pub fn new(t: &Triangle) -> Option<Self> {
        let [p0, p1, p2] = t.p;
        let area = (p1[0] - p0[0]) * (p2[1] - p0[1]) - (p1[1] - p0[1]) * (p2[0] - p0[0]);
        if !area.is_finite() || area.abs() < 1e-12 {
            return None;
        }
        let sign = area.signum();
        // Edge i is opposite vertex i: from p[i+1] to p[i+2].
        let mut edges = [[0.0; 3]; 3];
        let mut top_left = [false; 3];
        for i in 0..3 {
            let a = t.p[(i + 1) % 3];
            let b = t.p[(i + 2) % 3];
            // e(x, y) = (b.x - a.x) * (y - a.y) - (b.y - a.y) * (x - a.x), scaled to barycentric.
            let ex = -(b[1] - a[1]) / area;
            let ey = (b[0] - a[0]) / area;
            let ec = -(ex * a[0] + ey * a[1]);
            edges[i] = [ex, ey, ec];
            // Edge direction in a consistently oriented (clockwise on screen, y down) triangle.
            let (dx, dy) = ((b[0] - a[0]) * sign, (b[1] - a[1]) * sign);
            top_left[i] = (dy == 0.0 && dx > 0.0) || dy < 0.0;
        }
        let crossing = edges.map(|[ex, ey, ec]| {
            if ex == 0.0 {
                [0.0, 0.0, 0.0]
            } else {
                [-ey / ex, -ec / ex, ex.signum()]
            }
        });
        let affine = |vals: [f64; 3]| {
            let mut r = [0.0; 3];
            for i in 0..3 {
                for k in 0..3 {
                    r[k] += edges[i][k] * vals[i];
                }
            }
            r
        };
        let inv = t.depth.map(|d| 1.0 / d);
        let q = affine(inv);
        let a = affine([
            t.across[0] * inv[0],
            t.across[1] * inv[1],
            t.across[2] * inv[2],
        ]);
        let b = affine([
            t.along[0] * inv[0],
            t.along[1] * inv[1],
            t.along[2] * inv[2],
        ]);
        let xs = t.p.map(|p| p[0]);
        let ys = t.p.map(|p| p[1]);
        let bbox = [
            xs.iter().copied().fold(f64::INFINITY, f64::min).ceil(),
            ys.iter().copied().fold(f64::INFINITY, f64::min).ceil(),
            xs.iter().copied().fold(f64::NEG_INFINITY, f64::max).floor(),
            ys.iter().copied().fold(f64::NEG_INFINITY, f64::max).floor(),
        ];
        // |grad v| = |n_v - v * grad q| / q with v a perspective-correct mix of the vertex
        // values and q (affine, 1/depth) no smaller than its smallest vertex value.
        let q_min = inv.iter().copied().fold(f64::INFINITY, f64::min);
        let q_len = q[0].hypot(q[1]);
        let bound = |n: &[f64; 3], vals: [f64; 3]| {
            let v_max = vals.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
            let g = (n[0].hypot(n[1]) + v_max * q_len) / q_min;
            if q_min > 0.0 && g.is_finite() {
                g
            } else {
                f64::INFINITY
            }
        };
        let g_max = [bound(&a, t.across), bound(&b, t.along)];
        Some(Self {
            edges,
            top_left,
            crossing,
            q,
            a,
            b,
            bbox,
            g_max,
        })
    }

    /// Whether the pixel centre (x, y) belongs to this triangle (top-left fill rule).
    #[inline]
    pub fn contains(&self, x: f64, y: f64) -> bool {
        (0..3).all(|i| {
            let e = self.edges[i][0] * x + self.edges[i][1] * y + self.edges[i][2];
            e > 0.0 || (e == 0.0 && self.top_left[i])
        })
    }

    /// Pixel-centre columns of row `y` within [`x0`, `x1`] (whole numbers) that may lie inside
    /// the triangle: the edges' crossings of the row, widened by a pixel or two each side
    /// (callers still test with [`TriangleSetup::contains`] for the exact fill rule). `None`
    /// when empty. No division per row, and truncation instead of `floor`/`ceil` (library calls
    /// on baseline x86-64).
    #[inline]
    pub fn row_span(&self, y: f64, x0: f64, x1: f64) -> Option<(f64, f64)> {
        // trunc(v) - 2 <= floor(v) - 1 and trunc(v) + 2 >= ceil(v) + 1 (`as` saturates).
        let trunc = |v: f64| v as i64 as f64;
        let (mut lo, mut hi) = (x0, x1);
        for (&[m, k, side], e) in self.crossing.iter().zip(&self.edges) {
            if side > 0.0 {
                lo = lo.max(trunc(m * y + k) - 2.0);
            } else if side < 0.0 {
                hi = hi.min(trunc(m * y + k) + 2.0);
            } else if e[1] * y + e[2] < 0.0 {
                return None;
            }
        }
        (lo <= hi).then_some((lo, hi))
    }

    /// [`strip_coverage`] at pixel centre (x, y) with the offsets of [`TriangleSetup::offsets`],
    /// computed lazily: the along-strip terms only where the across coverage is not zero.
    /// Returns the coverage and the (across, along) offsets.
    #[inline]
    pub fn coverage(&self, x: f64, y: f64, half_width_m: f64, length_m: f64) -> (f64, [f64; 2]) {
        let d = self.q[0] * x + self.q[1] * y + self.q[2];
        let inv = 1.0 / d;
        let grad = |n: &[f64; 3], v: f64| {
            let gx = (n[0] - v * self.q[0]) * inv;
            let gy = (n[1] - v * self.q[1]) * inv;
            (gx * gx + gy * gy).sqrt().max(1e-12)
        };
        let av = (self.a[0] * x + self.a[1] * y + self.a[2]) * inv;
        let across = if av.abs() + 0.5 * self.g_max[0] <= half_width_m {
            1.0
        } else {
            let r = 1.0 / grad(&self.a, av);
            box_coverage(av.abs() * r, half_width_m * r)
        };
        if across <= 0.0 {
            return (0.0, [av, 0.0]);
        }
        let bv = (self.b[0] * x + self.b[1] * y + self.b[2]) * inv;
        let half_len = 0.5 * length_m;
        let along = if (bv - half_len).abs() + 0.5 * self.g_max[1] <= half_len {
            1.0
        } else {
            let r = 1.0 / grad(&self.b, bv);
            box_coverage((bv - half_len).abs() * r, half_len * r)
        };
        (across * along, [av, bv])
    }

    /// Interpolated (across, along) offsets (metres) at (x, y).
    #[inline]
    pub fn field_offsets(&self, x: f64, y: f64) -> [f64; 2] {
        let inv = 1.0 / (self.q[0] * x + self.q[1] * y + self.q[2]);
        [
            (self.a[0] * x + self.a[1] * y + self.a[2]) * inv,
            (self.b[0] * x + self.b[1] * y + self.b[2]) * inv,
        ]
    }

    /// Interpolated (across, along) offsets (metres) at (x, y) and the lengths of their
    /// screen-space gradients (metres per pixel).
    #[inline]
    pub fn offsets(&self, x: f64, y: f64) -> ([f64; 2], [f64; 2]) {
        let d = self.q[0] * x + self.q[1] * y + self.q[2];
        let na = self.a[0] * x + self.a[1] * y + self.a[2];
        let nb = self.b[0] * x + self.b[1] * y + self.b[2];
        let inv = 1.0 / d;
        let (av, bv) = (na * inv, nb * inv);
        let grad = |n: &[f64; 3], v: f64| {
            let gx = (n[0] - v * self.q[0]) * inv;
            let gy = (n[1] - v * self.q[1]) * inv;
            (gx * gx + gy * gy).sqrt()
        };
        ([av, bv], [grad(&self.a, av), grad(&self.b, bv)])
    }
}

/// Coverage of a pixel by a strip of half width `half_width_m` and length `length_m`, from its
/// interpolated offsets and their gradients.
#[inline]
pub fn strip_coverage(
    offsets: [f64; 2],
    gradients: [f64; 2],
    half_width_m: f64,
    length_m: f64,
) -> f64 {
    let g_across = gradients[0].max(1e-12);
    let g_along = gradients[1].max(1e-12);
    let across = box_coverage(offsets[0].abs() / g_across, half_width_m / g_across);
    if across <= 0.0 {
        return 0.0;
    }
    let half_len = 0.5 * length_m;
    let along = box_coverage((offsets[1] - half_len).abs() / g_along, half_len / g_along);
    across * along
}
