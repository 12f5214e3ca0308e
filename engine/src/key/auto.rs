//! The automatic key: colours learnt from views of the field of play (off the paint, on the
//! paint, anywhere on the field), pooled over the last views, and the key built from them.

use nalgebra::Point2;
use rayon::prelude::*;
use yardline_frame::FrameRef;
use yardline_keying::{
    AutoPaletteOptions, DEFAULT_PAINT_MARGIN_M, EdgeFilter, KeyConfig, KeyError, PaintKey,
    auto_paint_palette_from_points, auto_palette_from_points, field_points,
};

use super::FieldKey;
use super::paint_index::{PaintIndex, contains};
use crate::field::FieldModel;
use crate::geometry::Camera;

/// How far inside a painted marking (in pixels of its footprint) a pixel must lie to sample the
/// paint's colour: the pixel's corners all on the paint.
const PAINT_SAMPLE_INSET_PX: f64 = 0.5;
/// Pixels whose centre lies within this of a painted marking (metres) stay out of the surface
/// samples (the paint's blended edges).
const PAINT_NEAR_M: f64 = 0.1;

/// Why the automatic key could not learn a view or build a key.
#[derive(Debug, thiserror::Error)]
pub enum AutoKeyError {
    /// The field of play is not in the picture.
    #[error("the field of play is not in view")]
    FieldNotInView,
    /// Nothing learnt yet to build a key from.
    #[error("no view of the field learnt yet")]
    NoViews,
    /// Sampling or building a palette failed.
    #[error(transparent)]
    Palette(#[from] KeyError),
}

/// Views an [`AutoKeyLearner`] keeps (the oldest is dropped for a new one).
pub const AUTO_KEY_VIEWS: usize = 4;

/// What the automatic key learns from one view of the field: colours sampled off the paint,
/// well on the paint, and anywhere on the field (for a key without a paint palette).
#[derive(Debug, Clone)]
struct ViewColours {
    surface: Vec<[f64; 3]>,
    paint: Vec<[f64; 3]>,
    field: Vec<[f64; 3]>,
    /// The area of the field of play in view (square metres): what the view weighs in the pool.
    area_m2: f64,
}

/// Spacing of the grid of pixels over which a view's ground area is summed (pixels).
const AREA_GRID_PX: u32 = 8;

/// The automatic key learnt from the last [`AUTO_KEY_VIEWS`] views of the field: each view
/// gives an even sample of its field colours, and the palettes are found over all of them
/// pooled, each view weighing the area of the field it shows. A first view that shows only
/// grass in the sun is then not the whole story once the camera has shown the shade and the
/// wide field, and a tight shot into a crowd, where kits fill half the picture, weighs the few
/// square metres it shows: the kits do not become field colours. (A camera that stays tight
/// for all the views kept weighs crowded views alone again.)
#[derive(Debug, Clone, Default)]
pub struct AutoKeyLearner {
    views: std::collections::VecDeque<ViewColours>,
}

impl AutoKeyLearner {
    /// A learner that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Views learnt (at most [`AUTO_KEY_VIEWS`]).
    pub fn views(&self) -> usize {
        self.views.len()
    }

    /// Forgets the view learnt last (one whose key could not be built).
    pub fn forget_last(&mut self) {
        self.views.pop_back();
    }

    /// Learns the colours of the field of play as `camera` sees it in `frame`: off the paint
    /// (pixels whose centre lies more than `PAINT_NEAR_M` from any painted marking), well on
    /// the paint (the whole pixel on one marking) and anywhere inside the field. One pass over
    /// the frame, most of a second at 1080p. Fails (learning nothing) when the field of play
    /// is not in view.
    pub fn learn(
        &mut self,
        frame: FrameRef<'_>,
        camera: &Camera,
        field: &FieldModel,
    ) -> Result<(), AutoKeyError> {
        let outline: Vec<Point2<f64>> = field_polygon(camera, field);
        if outline.len() < 3 {
            return Err(AutoKeyError::FieldNotInView);
        }
        let (w, h) = (frame.width(), frame.height());
        let inside = polygon_mask(w, h, &outline);
        let paint = PaintIndex::new(field.paint_rects());
        let ground = |x: f64, y: f64| {
            camera
                .unproject_to_surface(Point2::new(x, y), &field.crown)
                .map(|p| [p.x, p.y])
        };
        // Per pixel: 0 off the paint, 1 near a marking (its centre within the marking widened
        // by PAINT_NEAR_M), 2 with its whole footprint on one marking.
        let paint_class: Vec<u8> = inside
            .par_iter()
            .enumerate()
            .map(|(i, &inside)| {
                if !inside {
                    return 0;
                }
                let (x, y) = ((i % w as usize) as f64, (i / w as usize) as f64);
                let Some(centre) = ground(x, y) else {
                    return 0;
                };
                let Some(rect) = paint.find(centre) else {
                    return u8::from(paint.near(centre, PAINT_NEAR_M));
                };
                let d = PAINT_SAMPLE_INSET_PX;
                let whole = [(-d, -d), (d, -d), (-d, d), (d, d)]
                    .iter()
                    .all(|&(dx, dy)| ground(x + dx, y + dy).is_some_and(|p| contains(rect, p)));
                if whole { 2 } else { 1 }
            })
            .collect();
        let max = AutoPaletteOptions::default().max_pixels;
        let pick = |class: Option<u8>| {
            let (inside, paint_class) = (&inside, &paint_class);
            move |x: u32, y: u32| {
                let i = y as usize * w as usize + x as usize;
                inside[i] && class.is_none_or(|c| paint_class[i] == c)
            }
        };
        let points = |class| field_points(frame, pick(class), max);
        let view = ViewColours {
            surface: points(Some(0))?,
            paint: points(Some(2))?,
            field: points(None)?,
            area_m2: ground_area(&inside, w, h, &ground),
        };
        if self.views.len() == AUTO_KEY_VIEWS {
            self.views.pop_front();
        }
        self.views.push_back(view);
        Ok(())
    }

    /// The key from every view learnt: the grass clusters off the paint as the default
    /// palette, and, where painted markings were seen, a paint palette (grass, the paint's
    /// colours and their edge mixtures) that applies on the markings only. Without paint seen,
    /// paint-like clusters go into the default palette. The neighbourhood unmixes edges
    /// ([`EdgeFilter::Unmix`]): a kit's edge blended with the grass keys by its share of kit,
    /// and no rim round the players is cut from the line.
    pub fn config(&self) -> Result<KeyConfig, AutoKeyError> {
        if self.views.is_empty() {
            return Err(AutoKeyError::NoViews);
        }
        let options = AutoPaletteOptions {
            find_paint: false,
            ..AutoPaletteOptions::default()
        };
        // One view gives all its points; several give a number each by the area of field
        // they show, evenly spaced.
        let total_m2: f64 = self
            .views
            .iter()
            .map(|v| v.area_m2)
            .filter(|a| a.is_finite())
            .sum();
        let pooled = |part: fn(&ViewColours) -> &Vec<[f64; 3]>| {
            let n = self.views.len();
            let mut out = Vec::new();
            for v in &self.views {
                let p = part(v);
                let share = if total_m2 > 0.0 && v.area_m2.is_finite() {
                    v.area_m2 / total_m2
                } else {
                    1.0 / n as f64
                };
                let take = ((options.max_pixels as f64 * share).ceil() as usize).min(p.len());
                if n == 1 || p.len() <= take {
                    out.extend_from_slice(p);
                } else {
                    out.extend((0..take).map(|k| p[k * p.len() / take]));
                }
            }
            out
        };
        let surface = auto_palette_from_points(&pooled(|v| &v.surface), &options)?;
        let mut config =
            match auto_paint_palette_from_points(&surface, &pooled(|v| &v.paint), &options) {
                Ok(palette) => {
                    let mut config = KeyConfig::new(surface);
                    config.paint = Some(PaintKey {
                        margin_m: DEFAULT_PAINT_MARGIN_M,
                        palette,
                    });
                    config
                }
                Err(e) => {
                    tracing::info!(
                        "no paint palette ({e}); paint-like colours join the default palette"
                    );
                    auto_palette_from_points(&pooled(|v| &v.field), &AutoPaletteOptions::default())
                        .map(KeyConfig::new)?
                }
            };
        config.edge_filter = EdgeFilter::Unmix;
        Ok(config)
    }
}

/// The automatic initial key for a frame, from the field of play as `camera` sees it: an
/// [`AutoKeyLearner`] that has learnt this one view. Most of a second at 1080p.
pub fn auto_key_config(
    frame: FrameRef<'_>,
    camera: &Camera,
    field: &FieldModel,
) -> Result<KeyConfig, AutoKeyError> {
    let mut learner = AutoKeyLearner::new();
    learner.learn(frame, camera, field)?;
    learner.config()
}

/// `learner` taught the view of `frame` under `camera`, and its key compiled and placed on
/// `field`; `None` (logged) when either fails, the learner then as it was.
pub fn learn_key(
    learner: &mut AutoKeyLearner,
    frame: FrameRef<'_>,
    camera: &Camera,
    field: &FieldModel,
) -> Option<FieldKey> {
    let built = learner.learn(frame, camera, field).and_then(|()| {
        let key = learner
            .config()
            .and_then(|c| FieldKey::compile(&c).map_err(AutoKeyError::from));
        if key.is_err() {
            learner.forget_last();
        }
        key
    });
    match built {
        Ok(k) => {
            tracing::info!(
                "automatic key palette built from {} view(s) of the field",
                learner.views()
            );
            Some(k.on_field(field))
        }
        Err(e) => {
            tracing::warn!("automatic key palette failed: {e}");
            None
        }
    }
}

/// The field of play's outline projected into the image (points behind the camera dropped).
fn field_polygon(camera: &Camera, field: &FieldModel) -> Vec<Point2<f64>> {
    let c = field.outline();
    let mut out = Vec::new();
    for i in 0..4 {
        let (a, b) = (c[i], c[(i + 1) % 4]);
        for k in 0..64 {
            let t = f64::from(k) / 64.0;
            let p = nalgebra::Point3::new(a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, 0.0);
            if let Some(px) = camera.project(&p) {
                out.push(px);
            }
        }
    }
    out
}

/// The ground area (square metres) of the pixels `inside` marks, summed over a grid of
/// [`AREA_GRID_PX`] cells: each inside grid pixel counts the parallelogram its cell's edges
/// span on the ground (`ground`: a pixel's field position).
fn ground_area(
    inside: &[bool],
    width: u32,
    height: u32,
    ground: &(impl Fn(f64, f64) -> Option<[f64; 2]> + Sync),
) -> f64 {
    let step = AREA_GRID_PX;
    let d = f64::from(step);
    (0..height / step)
        .into_par_iter()
        .map(|gy| {
            let y = gy * step;
            let mut sum = 0.0;
            for gx in 0..width / step {
                let x = gx * step;
                if !inside[y as usize * width as usize + x as usize] {
                    continue;
                }
                let (fx, fy) = (f64::from(x), f64::from(y));
                if let (Some(p), Some(a), Some(b)) =
                    (ground(fx, fy), ground(fx + d, fy), ground(fx, fy + d))
                {
                    let (u, v) = ([a[0] - p[0], a[1] - p[1]], [b[0] - p[0], b[1] - p[1]]);
                    sum += (u[0] * v[1] - u[1] * v[0]).abs();
                }
            }
            sum
        })
        .sum()
}

/// Row-major `width * height` mask of the pixel centres inside `poly` (even-odd rule), filled
/// row by row from the edge crossings.
fn polygon_mask(width: u32, height: u32, poly: &[Point2<f64>]) -> Vec<bool> {
    let (w, h) = (width as usize, height as usize);
    let mut mask = vec![false; w * h];
    let mut xs = Vec::new();
    for (row, out) in mask.chunks_exact_mut(w.max(1)).enumerate().take(h) {
        let y = row as f64;
        xs.clear();
        let mut j = poly.len() - 1;
        for i in 0..poly.len() {
            let (pi, pj) = (poly[i], poly[j]);
            if (pi.y > y) != (pj.y > y) {
                xs.push((pj.x - pi.x) * (y - pi.y) / (pj.y - pi.y) + pi.x);
            }
            j = i;
        }
        xs.sort_by(f64::total_cmp);
        for pair in xs.chunks_exact(2) {
            // Pixels x with pair[0] <= x < pair[1] (x < crossing toggles, as in the point test).
            let a = pair[0].ceil().max(0.0);
            let b = pair[1].ceil().min(w as f64);
            if a < b {
                out[a as usize..b as usize].fill(true);
            }
        }
    }
    mask
}
