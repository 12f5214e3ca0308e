//! Ray-casting renderer: every pixel's ray meets players, the painted field, the ground round
//! it, the stands or the sky. One centre ray per pixel; pixels near any edge (paint, player
//! outline, field boundary) are supersampled on a regular grid.

use nalgebra::{Matrix3, Vector3};
use rayon::prelude::*;

use crate::camera::PinholeCamera;
use crate::field::{self, FieldPaint, Lighting, Rect};
use crate::noise::{hash3, unit};
use crate::players::Figure;

/// Supersampling grid per axis for edge pixels (N x N samples).
pub const SUPERSAMPLE: usize = 4;
/// Rows per parallel work item.
const BAND_ROWS: usize = 8;
/// Side of a screen tile used to bin players (pixels).
const TILE_PX: usize = 32;
/// Padding of a player's screen box (pixels).
const BOX_PAD_PX: f64 = 3.0;
/// A centre ray this close to a player's outline (pixels) makes the pixel supersampled.
const PLAYER_EDGE_PX: f64 = 2.0;
/// Sensor noise amplitude (levels, uniform in +-this per channel).
const SENSOR_NOISE_LEVELS: f64 = 1.5;
/// Mask value: player, official or ball.
pub const MASK_PLAYER: u8 = 255;
/// Mask value: field surface (grass and paint).
pub const MASK_FIELD: u8 = 0;
/// Mask value: outside the field of play.
pub const MASK_OUTSIDE: u8 = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Player,
    Field,
    Apron,
    Outside,
}

#[derive(Debug, Clone, Copy)]
struct Hit {
    colour: [f64; 3],
    class: Class,
    ground: [f64; 2],
    player_edge: bool,
}

/// Everything needed to render one frame.
#[derive(Debug)]
pub(crate) struct FrameScene<'a> {
    pub cam: PinholeCamera,
    pub figures: Vec<Figure>,
    pub paint: &'a FieldPaint,
    pub lighting: Lighting,
    pub seed: u64,
    pub frame: u32,
    pub width: usize,
    pub height: usize,
}

struct Prepared<'a> {
    scene: &'a FrameScene<'a>,
    c2f: Matrix3<f64>,
    tiles: Vec<Vec<u16>>,
    tiles_x: usize,
}

impl Prepared<'_> {
    fn tile(&self, col: usize, row: usize) -> &[u16] {
        &self.tiles[(row / TILE_PX) * self.tiles_x + col / TILE_PX]
    }

    #[inline]
    fn sample(&self, u: f64, v: f64, tile: &[u16]) -> Hit {
        let sc = self.scene;
        let k = &sc.cam.intrinsics;
        let (xu, yu) = k.undistort((u - k.cx) / k.fx, (v - k.cy) / k.fy);
        let d = self.c2f * Vector3::new(xu, yu, 1.0);
        let c = &sc.cam.centre;
        let mut best: Option<(f64, [f64; 3])> = None;
        let mut player_edge = false;
        for &i in tile {
            let f = &sc.figures[usize::from(i)];
            let margin_m = PLAYER_EDGE_PX * f.depth / k.fx;
            if let Some(h) = f.hit(c, &d, margin_m) {
                if h.sdf_m.abs() * k.fx < PLAYER_EDGE_PX * h.s {
                    player_edge = true;
                }
                if let Some(col) = h.colour
                    && best.is_none_or(|b| h.s < b.0)
                {
                    best = Some((h.s, col));
                }
            }
        }
        if let Some((_, colour)) = best {
            return Hit {
                colour,
                class: Class::Player,
                ground: [f64::NAN; 2],
                player_edge,
            };
        }
        if let Some([x, y]) = crate::camera::ground_of_ray(c, &d)
            && field::on_apron(x, y)
        {
            {
                let light = sc.lighting.at(x, y);
                let (base, class) = if field::on_field_surface(x, y) {
                    (sc.paint.colour(x, y, sc.seed), Class::Field)
                } else {
                    (field::apron(x, y, sc.seed), Class::Apron)
                };
                return Hit {
                    colour: base.map(|v| v * light),
                    class,
                    ground: [x, y],
                    player_edge,
                };
            }
        }
        Hit {
            colour: field::stands_or_sky(c, &d, sc.seed),
            class: Class::Outside,
            ground: [f64::NAN; 2],
            player_edge,
        }
    }

    fn needs_supersampling(&self, rows: &[Hit], band_r0: usize, r: usize, col: usize) -> bool {
        let (w, h) = (self.scene.width, self.scene.height);
        let centre = &rows[(r - band_r0) * w + col];
        if centre.player_edge {
            return true;
        }
        let ground = matches!(centre.class, Class::Field | Class::Apron);
        let mut b = Rect {
            x0: centre.ground[0],
            x1: centre.ground[0],
            y0: centre.ground[1],
            y1: centre.ground[1],
        };
        for nr in r.saturating_sub(1)..=(r + 1).min(h - 1) {
            for nc in col.saturating_sub(1)..=(col + 1).min(w - 1) {
                let n = &rows[(nr - band_r0) * w + nc];
                if n.class != centre.class || n.player_edge {
                    return true;
                }
                if ground {
                    b.x0 = b.x0.min(n.ground[0]);
                    b.x1 = b.x1.max(n.ground[0]);
                    b.y0 = b.y0.min(n.ground[1]);
                    b.y1 = b.y1.max(n.ground[1]);
                }
            }
        }
        ground && self.scene.paint.edge_in_box(&b)
    }
}

/// Renders a frame: rgb24 (w*h*3) and gray8 mask (w*h).
pub(crate) fn render(scene: &FrameScene<'_>) -> (Vec<u8>, Vec<u8>) {
    let (w, h) = (scene.width, scene.height);
    let tiles_x = w.div_ceil(TILE_PX);
    let tiles_y = h.div_ceil(TILE_PX);
    let mut tiles = vec![Vec::new(); tiles_x * tiles_y];
    for (i, f) in scene.figures.iter().enumerate() {
        let mut lo = [f64::INFINITY; 2];
        let mut hi = [f64::NEG_INFINITY; 2];
        let mut all = true;
        for p in f.outline_points() {
            match scene.cam.project(&p) {
                Some([u, v]) => {
                    lo = [lo[0].min(u), lo[1].min(v)];
                    hi = [hi[0].max(u), hi[1].max(v)];
                }
                None => all = false,
            }
        }
        if !all {
            continue;
        }
        let (wf, hf) = (w as f64, h as f64);
        if hi[0] < -BOX_PAD_PX
            || hi[1] < -BOX_PAD_PX
            || lo[0] > wf + BOX_PAD_PX
            || lo[1] > hf + BOX_PAD_PX
        {
            continue;
        }
        let c0 = ((lo[0] - BOX_PAD_PX).max(0.0) as usize) / TILE_PX;
        let c1 = ((hi[0] + BOX_PAD_PX).clamp(0.0, wf - 1.0) as usize) / TILE_PX;
        let r0 = ((lo[1] - BOX_PAD_PX).max(0.0) as usize) / TILE_PX;
        let r1 = ((hi[1] + BOX_PAD_PX).clamp(0.0, hf - 1.0) as usize) / TILE_PX;
        for tr in r0..=r1.min(tiles_y - 1) {
            for tc in c0..=c1.min(tiles_x - 1) {
                tiles[tr * tiles_x + tc].push(i as u16);
            }
        }
    }
    let prep = Prepared {
        scene,
        c2f: scene.cam.rotation.transpose(),
        tiles,
        tiles_x,
    };
    let mut rgb = vec![0_u8; w * h * 3];
    let mut mask = vec![0_u8; w * h];
    rgb.par_chunks_mut(BAND_ROWS * w * 3)
        .zip(mask.par_chunks_mut(BAND_ROWS * w))
        .enumerate()
        .for_each(|(band, (rgb_band, mask_band))| {
            render_band(&prep, band * BAND_ROWS, rgb_band, mask_band);
        });
    (rgb, mask)
}

fn render_band(prep: &Prepared<'_>, r0: usize, rgb: &mut [u8], mask: &mut [u8]) {
    let sc = prep.scene;
    let (w, h) = (sc.width, sc.height);
    let r1 = (r0 + BAND_ROWS).min(h);
    let (pr0, pr1) = (r0.saturating_sub(1), (r1 + 1).min(h));
    let mut centres = Vec::with_capacity((pr1 - pr0) * w);
    for r in pr0..pr1 {
        for col in 0..w {
            centres.push(prep.sample(col as f64, r as f64, prep.tile(col, r)));
        }
    }
    let n = SUPERSAMPLE;
    let inv = 1.0 / (n * n) as f64;
    for r in r0..r1 {
        for col in 0..w {
            let (colour, m) = if prep.needs_supersampling(&centres, pr0, r, col) {
                let tile = prep.tile(col, r);
                let mut acc = [0.0; 3];
                let (mut players, mut fields) = (0_usize, 0_usize);
                for sy in 0..n {
                    for sx in 0..n {
                        let du = (sx as f64 + 0.5) / n as f64 - 0.5;
                        let dv = (sy as f64 + 0.5) / n as f64 - 0.5;
                        let hit = prep.sample(col as f64 + du, r as f64 + dv, tile);
                        for (a, v) in acc.iter_mut().zip(hit.colour) {
                            *a += v;
                        }
                        match hit.class {
                            Class::Player => players += 1,
                            Class::Field => fields += 1,
                            Class::Apron | Class::Outside => {}
                        }
                    }
                }
                let others = n * n - players - fields;
                let m = if 2 * players >= n * n {
                    MASK_PLAYER
                } else if fields >= others {
                    MASK_FIELD
                } else {
                    MASK_OUTSIDE
                };
                (acc.map(|v| v * inv), m)
            } else {
                let hit = &centres[(r - pr0) * w + col];
                let m = match hit.class {
                    Class::Player => MASK_PLAYER,
                    Class::Field => MASK_FIELD,
                    Class::Apron | Class::Outside => MASK_OUTSIDE,
                };
                (hit.colour, m)
            };
            let idx = r * w + col;
            let local = (r - r0) * w + col;
            mask[local] = m;
            for (ch, v) in colour.iter().enumerate() {
                let noise = SENSOR_NOISE_LEVELS
                    * (2.0
                        * unit(hash3(
                            sc.seed ^ 0x5345_4E53,
                            u64::from(sc.frame),
                            (idx * 3 + ch) as u64,
                        ))
                        - 1.0);
                rgb[local * 3 + ch] = (v + noise).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
}
