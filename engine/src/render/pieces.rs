//! Cuts a line's strip triangles into convex pieces for the GPU compositor: each piece lies
//! inside one tile's interior and inside one palette's part of the field (the first key region
//! containing it, else the default palette, as [`super::lut_at`] decides per pixel). The GPU
//! then draws every tile in one call and reads the palette as a flat attribute instead of
//! searching the regions per pixel, and the four pixels of a 2x2 quad always share a palette.
//!
//! Clipping works on vertices in homogeneous form: pixel position times depth, depth and the
//! field offsets are all affine along an edge of the projected triangle, exactly as the
//! rasteriser's perspective-correct interpolation (w = depth) assumes, so a cut vertex carries
//! the attributes the rasteriser would have interpolated there.

use super::tiles::Triangle;
use super::{KeyRegion, PreparedLine};

/// A vertex of a piece, in frame pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PieceVertex {
    /// Frame pixel position.
    pub pixel: [f64; 2],
    /// Depth along the optical axis (metres).
    pub depth: f64,
    /// Across-strip offset (metres).
    pub across: f64,
    /// Along-strip offset (metres).
    pub along: f64,
}

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

    fn vertex(&self) -> PieceVertex {
        PieceVertex {
            pixel: [self.q[0] / self.depth, self.q[1] / self.depth],
            depth: self.depth,
            across: self.across,
            along: self.along,
        }
    }
}

/// Most vertices of a piece: a triangle cut by the four tile edges and four region edges.
const MAX_VERTICES: usize = 3 + 8;

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

    /// The part where the affine function `g` is >= 0 (> 0 when `strict`; a pixel centre
    /// exactly on a region edge belongs to the region, as in [`KeyRegion::contains`]).
    fn clip(&self, g: impl Fn(&Hv) -> f64, strict: bool) -> Self {
        let inside = |x: f64| if strict { x > 0.0 } else { x >= 0.0 };
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

/// Reusable cutter: scratch lists only grow.
#[derive(Debug, Default)]
pub struct Cutter {
    rest: Vec<Polygon>,
    next: Vec<Polygon>,
}

impl Cutter {
    /// Cuts `tri` (of `line`) to tile (`tx`, `ty`)'s interior (pixel centres `tx * tile ..
    /// tx * tile + tile - 1`) and splits it by the regions `order` picks from `regions` (in
    /// precedence order): calls `emit` with each piece's triangles (a fan) and its palette.
    pub fn cut(
        &mut self,
        tri: &Triangle,
        line: &PreparedLine,
        tile: (u32, u32, u32),
        regions: &[KeyRegion],
        order: &[u32],
        mut emit: impl FnMut([PieceVertex; 3], u32),
    ) {
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
        if !(0..3).all(|k| tri.depth[k] > 0.0 && tri.depth[k].is_finite()) {
            return;
        }
        // Tile interior: pixel x within [x0, x1] <=> q.x - x0 * depth >= 0 (depth > 0).
        let x0 = f64::from(tx * size) - 0.5;
        let y0 = f64::from(ty * size) - 0.5;
        let (x1, y1) = (x0 + f64::from(size), y0 + f64::from(size));
        poly = poly.clip(|v| v.q[0] - x0 * v.depth, false);
        poly = poly.clip(|v| x1 * v.depth - v.q[0], false);
        poly = poly.clip(|v| v.q[1] - y0 * v.depth, false);
        poly = poly.clip(|v| y1 * v.depth - v.q[1], false);
        if poly.is_empty() {
            return;
        }
        let fx = |v: &Hv| line.field_xy(v.along, v.across)[0];
        let fy = |v: &Hv| line.field_xy(v.along, v.across)[1];
        self.rest.clear();
        self.rest.push(poly);
        for region in order.iter().filter_map(|&k| regions.get(k as usize)) {
            let [rx0, ry0, rx1, ry1] = region.rect;
            self.next.clear();
            for p in &self.rest {
                // Outside the rectangle: four convex parts (left, right, below, above).
                let left = p.clip(|v| rx0 - fx(v), true);
                let cur = p.clip(|v| fx(v) - rx0, false);
                let right = cur.clip(|v| fx(v) - rx1, true);
                let cur = cur.clip(|v| rx1 - fx(v), false);
                let below = cur.clip(|v| ry0 - fy(v), true);
                let cur = cur.clip(|v| fy(v) - ry0, false);
                let above = cur.clip(|v| fy(v) - ry1, true);
                let inside = cur.clip(|v| ry1 - fy(v), false);
                fan(&inside, region.lut, &mut emit);
                self.next.extend(
                    [left, right, below, above]
                        .into_iter()
                        .filter(|q| !q.is_empty()),
                );
            }
            std::mem::swap(&mut self.rest, &mut self.next);
        }
        for p in &self.rest {
            fan(p, 0, &mut emit);
        }
    }
}

/// Emits a convex polygon as a triangle fan.
fn fan(p: &Polygon, lut: u32, emit: &mut impl FnMut([PieceVertex; 3], u32)) {
    if p.is_empty() {
        return;
    }
    let vs = p.vertices();
    let first = vs[0].vertex();
    for k in 1..vs.len() - 1 {
        emit([first, vs[k].vertex(), vs[k + 1].vertex()], lut);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;
    use crate::graphics::StripMesh;
    use crate::render::lut_at;

    fn line(origin: [f64; 2], angle: f64) -> PreparedLine {
        PreparedLine {
            mesh: StripMesh::default(),
            rgb: [255, 215, 0],
            opacity: 1.0,
            origin,
            direction: [angle.cos(), angle.sin()],
        }
    }

    /// Barycentric weights of pixel `p` in screen triangle `a, b, c`.
    fn barycentric(p: [f64; 2], t: [[f64; 2]; 3]) -> [f64; 3] {
        let [a, b, c] = t;
        let det = (b[1] - c[1]) * (a[0] - c[0]) + (c[0] - b[0]) * (a[1] - c[1]);
        let w0 = ((b[1] - c[1]) * (p[0] - c[0]) + (c[0] - b[0]) * (p[1] - c[1])) / det;
        let w1 = ((c[1] - a[1]) * (p[0] - c[0]) + (a[0] - c[0]) * (p[1] - c[1])) / det;
        [w0, w1, 1.0 - w0 - w1]
    }

    /// Perspective-correct (across, along) at pixel `p` of a triangle of vertices.
    fn attributes(p: [f64; 2], v: &[PieceVertex; 3]) -> [f64; 2] {
        let w = barycentric(p, v.map(|v| v.pixel));
        let inv: f64 = (0..3).map(|k| w[k] / v[k].depth).sum();
        let across: f64 = (0..3).map(|k| w[k] * v[k].across / v[k].depth).sum();
        let along: f64 = (0..3).map(|k| w[k] * v[k].along / v[k].depth).sum();
        [across / inv, along / inv]
    }

    fn inside(w: [f64; 3]) -> bool {
        w.iter().all(|&x| x > 1e-9)
    }

    /// Every pixel centre of the triangle inside the tile lies in exactly one piece, with the
    /// palette `lut_at` gives its field position and the attributes the whole triangle
    /// interpolates there; no piece reaches outside the tile.
    #[test]
    fn pieces_partition_the_triangle_by_tile_and_palette() {
        let l = line([10.0, 20.0], 0.3);
        let tri = Triangle {
            line: 0,
            p: [[3.2, 5.1], [150.7, 40.3], [20.4, 170.9]],
            depth: [20.0, 35.0, 60.0],
            across: [-1.0, 0.8, -0.6],
            along: [0.0, 4.0, 9.0],
        };
        let all = [
            KeyRegion {
                rect: [10.0, 21.0, 13.0, 23.5],
                lut: 2,
            },
            KeyRegion {
                rect: [12.0, 20.0, 16.0, 30.0],
                lut: 1,
            },
            KeyRegion {
                rect: [-5.0, 19.8, 12.5, 40.0],
                lut: 3,
            },
        ];
        let near = [0u32, 1, 2];
        let mut cutter = Cutter::default();
        let mut seen = [0usize; 4];
        for (tx, ty) in [(0, 0), (1, 0), (0, 1), (1, 1), (2, 2)] {
            let mut pieces = Vec::new();
            cutter.cut(&tri, &l, (tx, ty, 64), &all, &near, |v, lut| {
                pieces.push((v, lut));
            });
            for (v, _) in &pieces {
                for p in v.iter().map(|v| v.pixel) {
                    assert!(p[0] >= f64::from(tx * 64) - 0.5 - 1e-9, "{p:?}");
                    assert!(p[0] <= f64::from(tx * 64 + 64) - 0.5 + 1e-9, "{p:?}");
                    assert!(p[1] >= f64::from(ty * 64) - 0.5 - 1e-9, "{p:?}");
                    assert!(p[1] <= f64::from(ty * 64 + 64) - 0.5 + 1e-9, "{p:?}");
                }
            }
            for y in ty * 64..ty * 64 + 64 {
                for x in tx * 64..tx * 64 + 64 {
                    let p = [f64::from(x), f64::from(y)];
                    let whole = barycentric(p, tri.p);
                    let hits: Vec<_> = pieces
                        .iter()
                        .filter(|(v, _)| inside(barycentric(p, v.map(|v| v.pixel))))
                        .collect();
                    if !inside(whole) {
                        assert!(hits.is_empty(), "({x}, {y}) outside the triangle");
                        continue;
                    }
                    let [across, along] = attributes(
                        p,
                        &[0, 1, 2].map(|k| PieceVertex {
                            pixel: tri.p[k],
                            depth: tri.depth[k],
                            across: tri.across[k],
                            along: tri.along[k],
                        }),
                    );
                    let expect = lut_at(&all, &near, l.field_xy(along, across));
                    // A centre on a cut edge can fall in two pieces or none by rounding; skip
                    // those (measure zero).
                    if hits.len() != 1 {
                        let on_edge = pieces.iter().any(|(v, _)| {
                            barycentric(p, v.map(|v| v.pixel))
                                .iter()
                                .any(|w| w.abs() < 1e-6)
                        });
                        assert!(on_edge, "({x}, {y}): {} pieces", hits.len());
                        continue;
                    }
                    let (v, lut) = hits[0];
                    assert_eq!(*lut, expect, "({x}, {y})");
                    let [a2, l2] = attributes(p, v);
                    assert!((a2 - across).abs() < 1e-9 && (l2 - along).abs() < 1e-9);
                    seen[*lut as usize] += 1;
                }
            }
        }
        assert!(
            seen.iter().all(|&n| n > 50),
            "every palette has pixels: {seen:?}"
        );
    }

    #[test]
    fn a_triangle_outside_the_tile_has_no_pieces() {
        let l = line([0.0, 0.0], 0.0);
        let tri = Triangle {
            line: 0,
            p: [[200.0, 200.0], [260.0, 210.0], [230.0, 250.0]],
            depth: [10.0; 3],
            across: [0.0; 3],
            along: [0.0; 3],
        };
        let mut n = 0;
        Cutter::default().cut(&tri, &l, (0, 0, 64), &[], &[], |_, _| n += 1);
        assert_eq!(n, 0);
        Cutter::default().cut(&tri, &l, (3, 3, 64), &[], &[], |_, _| n += 1);
        assert!(n > 0);
    }
}
