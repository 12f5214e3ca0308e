//! Cuts a line's strip triangles to a tile's interior for the GPU compositor, which then draws
//! every tile in one call (no scissor or state per tile).
//!
//! Clipping works on vertices in homogeneous form: pixel position times depth, depth and the
//! field offsets are all affine along an edge of the projected triangle, exactly as the
//! rasteriser's perspective-correct interpolation (w = depth) assumes, so a cut vertex carries
//! the attributes the rasteriser would have interpolated there.

use nalgebra::Point2;

use super::tiles::Triangle;
use crate::graphics::StripVertex;

/// Homogeneous vertex: every component is affine along a triangle edge.
#[derive(Debug, Clone, Copy)]
struct Hv {
    /// Pixel position times depth.
    q: [f64; 2],
    depth: f64,
    across: f64,
    along: f64,
}

impl Hv {
    fn lerp(&self, o: &Self, t: f64) -> Self {
        let l = |a: f64, b: f64| a + (b - a) * t;
        Self {
            q: [l(self.q[0], o.q[0]), l(self.q[1], o.q[1])],
            depth: l(self.depth, o.depth),
            across: l(self.across, o.across),
            along: l(self.along, o.along),
        }
    }

    fn vertex(&self) -> StripVertex {
        StripVertex {
            pixel: Point2::new(self.q[0] / self.depth, self.q[1] / self.depth),
            depth: self.depth,
            across: self.across,
            along: self.along,
        }
    }
}

/// Most vertices of a piece: a triangle cut by the four tile edges.
const MAX_VERTICES: usize = 3 + 4;

/// A convex polygon of homogeneous vertices.
#[derive(Debug, Clone, Copy)]
struct Polygon {
    v: [Hv; MAX_VERTICES],
    n: usize,
}

impl Polygon {
    fn vertices(&self) -> &[Hv] {
        &self.v[..self.n]
    }

    /// The part where the affine function `g` is >= 0.
    fn clip(&self, g: impl Fn(&Hv) -> f64) -> Self {
        let inside = |x: f64| x >= 0.0;
        let mut out = Self { v: self.v, n: 0 };
        let vs = self.vertices();
        for (k, a) in vs.iter().enumerate() {
            let b = &vs[(k + 1) % vs.len()];
            let (ga, gb) = (g(a), g(b));
            if inside(ga) && out.n < MAX_VERTICES {
                out.v[out.n] = *a;
                out.n += 1;
            }
            if inside(ga) != inside(gb) && out.n < MAX_VERTICES {
                out.v[out.n] = a.lerp(b, ga / (ga - gb));
                out.n += 1;
            }
        }
        out
    }

    fn is_empty(&self) -> bool {
        self.n < 3
    }
}

/// Cuts `tri` to tile (`tx`, `ty`, `size`)'s interior (pixel centres `tx * size ..
/// tx * size + size - 1`, same in y): calls `emit` with each triangle of the piece (a fan).
pub fn cut_to_tile(tri: &Triangle, tile: (u32, u32, u32), mut emit: impl FnMut([StripVertex; 3])) {
    if !(0..3).all(|k| tri.depth[k] > 0.0 && tri.depth[k].is_finite()) {
        return;
    }
    let (tx, ty, size) = tile;
    let hv = |k: usize| Hv {
        q: [tri.p[k][0] * tri.depth[k], tri.p[k][1] * tri.depth[k]],
        depth: tri.depth[k],
        across: tri.across[k],
        along: tri.along[k],
    };
    let mut poly = Polygon {
        v: [hv(0); MAX_VERTICES],
        n: 3,
    };
    poly.v[1] = hv(1);
    poly.v[2] = hv(2);
    // Pixel x within [x0, x1] <=> q.x - x0 * depth >= 0 (depth > 0).
    let x0 = f64::from(tx * size) - 0.5;
    let y0 = f64::from(ty * size) - 0.5;
    let (x1, y1) = (x0 + f64::from(size), y0 + f64::from(size));
    poly = poly.clip(|v| v.q[0] - x0 * v.depth);
    poly = poly.clip(|v| x1 * v.depth - v.q[0]);
    poly = poly.clip(|v| v.q[1] - y0 * v.depth);
    poly = poly.clip(|v| y1 * v.depth - v.q[1]);
    fan(&poly, &mut emit);
}

/// Emits a convex polygon as a triangle fan.
fn fan(p: &Polygon, emit: &mut impl FnMut([StripVertex; 3])) {
    if p.is_empty() {
        return;
    }
    let vs = p.vertices();
    let first = vs[0].vertex();
    for k in 1..vs.len() - 1 {
        emit([first, vs[k].vertex(), vs[k + 1].vertex()]);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;

    /// Barycentric weights of pixel `p` in screen triangle `t`.
    fn barycentric(p: [f64; 2], t: [[f64; 2]; 3]) -> [f64; 3] {
        let [a, b, c] = t;
        let det = (b[1] - c[1]) * (a[0] - c[0]) + (c[0] - b[0]) * (a[1] - c[1]);
        let w0 = ((b[1] - c[1]) * (p[0] - c[0]) + (c[0] - b[0]) * (p[1] - c[1])) / det;
        let w1 = ((c[1] - a[1]) * (p[0] - c[0]) + (a[0] - c[0]) * (p[1] - c[1])) / det;
        [w0, w1, 1.0 - w0 - w1]
    }

    /// Perspective-correct (across, along) at pixel `p` of a triangle of vertices.
    fn attributes(p: [f64; 2], v: &[StripVertex; 3]) -> [f64; 2] {
        let w = barycentric(p, pixels(v));
        let inv: f64 = (0..3).map(|k| w[k] / v[k].depth).sum();
        let across: f64 = (0..3).map(|k| w[k] * v[k].across / v[k].depth).sum();
        let along: f64 = (0..3).map(|k| w[k] * v[k].along / v[k].depth).sum();
        [across / inv, along / inv]
    }

    fn pixels(v: &[StripVertex; 3]) -> [[f64; 2]; 3] {
        v.map(|v| [v.pixel.x, v.pixel.y])
    }

    fn inside(w: [f64; 3]) -> bool {
        w.iter().all(|&x| x > 1e-9)
    }

    /// Every pixel centre of the triangle inside the tile lies in exactly one piece triangle,
    /// which interpolates there the attributes the whole triangle does; nothing reaches outside
    /// the tile.
    #[test]
    fn pieces_partition_the_triangle_by_tile() {
        let tri = Triangle {
            line: 0,
            p: [[3.2, 5.1], [150.7, 40.3], [20.4, 170.9]],
            depth: [20.0, 35.0, 60.0],
            across: [-1.0, 0.8, -0.6],
            along: [0.0, 4.0, 9.0],
        };
        let whole = [0, 1, 2].map(|k| StripVertex {
            pixel: Point2::new(tri.p[k][0], tri.p[k][1]),
            depth: tri.depth[k],
            across: tri.across[k],
            along: tri.along[k],
        });
        let mut covered = 0;
        for (tx, ty) in [(0, 0), (1, 0), (0, 1), (1, 1), (2, 2)] {
            let mut pieces = Vec::new();
            cut_to_tile(&tri, (tx, ty, 64), |v| pieces.push(v));
            for p in pieces.iter().flatten().map(|v| [v.pixel.x, v.pixel.y]) {
                assert!(p[0] >= f64::from(tx * 64) - 0.5 - 1e-9, "{p:?}");
                assert!(p[0] <= f64::from(tx * 64 + 64) - 0.5 + 1e-9, "{p:?}");
                assert!(p[1] >= f64::from(ty * 64) - 0.5 - 1e-9, "{p:?}");
                assert!(p[1] <= f64::from(ty * 64 + 64) - 0.5 + 1e-9, "{p:?}");
            }
            for y in ty * 64..ty * 64 + 64 {
                for x in tx * 64..tx * 64 + 64 {
                    let p = [f64::from(x), f64::from(y)];
                    let hits: Vec<_> = pieces
                        .iter()
                        .filter(|v| inside(barycentric(p, pixels(v))))
                        .collect();
                    if !inside(barycentric(p, tri.p)) {
                        assert!(hits.is_empty(), "({x}, {y}) outside the triangle");
                        continue;
                    }
                    if hits.len() != 1 {
                        // A centre on a fan diagonal falls in two pieces or none by rounding.
                        let on_edge = pieces
                            .iter()
                            .any(|v| barycentric(p, pixels(v)).iter().any(|w| w.abs() < 1e-6));
                        assert!(on_edge, "({x}, {y}): {} pieces", hits.len());
                        continue;
                    }
                    let [a, l] = attributes(p, hits[0]);
                    let [a0, l0] = attributes(p, &whole);
                    assert!((a - a0).abs() < 1e-9 && (l - l0).abs() < 1e-9, "({x}, {y})");
                    covered += 1;
                }
            }
        }
        assert!(covered > 5000, "{covered} pixels checked");
    }

    #[test]
    fn a_triangle_outside_the_tile_has_no_pieces() {
        let tri = Triangle {
            line: 0,
            p: [[200.0, 200.0], [260.0, 210.0], [230.0, 250.0]],
            depth: [10.0; 3],
            across: [0.0; 3],
            along: [0.0; 3],
        };
        let mut n = 0;
        cut_to_tile(&tri, (0, 0, 64), |_| n += 1);
        assert_eq!(n, 0);
        cut_to_tile(&tri, (3, 3, 64), |_| n += 1);
        assert!(n > 0);
    }
}
