//! Image-space helpers on top of the engine's camera: where a click lands on the field, the
//! field model as a wireframe, and the field's outline for the automatic palette.
//!
//! Pixel coordinates follow DESIGN.md: pixel centres at integers, (0, 0) the top-left pixel.

use nalgebra::{Point2, Point3};
use yardline_engine::field::{FieldModel, x_to_yard};
use yardline_engine::geometry::Camera;

/// Screen position of image pixel `px` of an image of `size` pixels shown in screen rectangle
/// `rect` (the image's outer pixel edges on the rectangle's edges).
pub fn pixel_to_screen(rect: egui::Rect, size: (f64, f64), px: [f64; 2]) -> egui::Pos2 {
    egui::Pos2::new(
        rect.min.x + ((px[0] + 0.5) / size.0) as f32 * rect.width(),
        rect.min.y + ((px[1] + 0.5) / size.1) as f32 * rect.height(),
    )
}

/// Image pixel under screen position `pos`, the inverse of [`pixel_to_screen`].
pub fn screen_to_pixel(rect: egui::Rect, size: (f64, f64), pos: egui::Pos2) -> [f64; 2] {
    [
        f64::from((pos.x - rect.min.x) / rect.width()) * size.0 - 0.5,
        f64::from((pos.y - rect.min.y) / rect.height()) * size.1 - 0.5,
    ]
}

/// Sampling step along painted lines for the wireframe (metres).
const WIREFRAME_STEP_M: f64 = 1.0;
/// Points projected per side of the field outline.
const OUTLINE_STEPS: u32 = 64;
/// Projections further than this many image sizes outside the frame are cut (they bend wildly
/// under distortion and are not visible anyway).
const FAR_OUTSIDE: f64 = 1.0;

/// The yard position (yards from the left goal line) under image pixel `px`, through the
/// ground plane of `camera`; `None` above the horizon.
pub fn yard_at_pixel(camera: &Camera, px: [f64; 2]) -> Option<f64> {
    let p = camera.unproject_to_ground(Point2::new(px[0], px[1]))?;
    let yard = x_to_yard(p.x);
    yard.is_finite().then_some(yard)
}

/// The painted lines of `field` as image polylines (pixels), for a frame of `width` x `height`.
pub fn wireframe(
    camera: &Camera,
    field: &FieldModel,
    width: u32,
    height: u32,
) -> Vec<Vec<[f64; 2]>> {
    let (w, h) = (f64::from(width), f64::from(height));
    let visible = |p: &Point2<f64>| {
        p.x > -FAR_OUTSIDE * w
            && p.x < (1.0 + FAR_OUTSIDE) * w
            && p.y > -FAR_OUTSIDE * h
            && p.y < (1.0 + FAR_OUTSIDE) * h
    };
    let mut out = Vec::new();
    for line in &field.lines {
        let mut run: Vec<[f64; 2]> = Vec::new();
        for g in line.shape.sample(WIREFRAME_STEP_M) {
            let z = field.surface_z(g.x, g.y);
            if let Some(p) = camera.project(&Point3::new(g.x, g.y, z)).filter(visible) {
                run.push([p.x, p.y]);
            } else {
                if run.len() > 1 {
                    out.push(std::mem::take(&mut run));
                }
                run.clear();
            }
        }
        if run.len() > 1 {
            out.push(run);
        }
    }
    out
}

/// The field of play's outline projected into the image (points behind the camera dropped).
pub fn field_outline(camera: &Camera, field: &FieldModel) -> Vec<[f64; 2]> {
    let c = field.outline();
    let mut out = Vec::new();
    for i in 0..4 {
        let (a, b) = (c[i], c[(i + 1) % 4]);
        for k in 0..OUTLINE_STEPS {
            let t = f64::from(k) / f64::from(OUTLINE_STEPS);
            let p = Point3::new(a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, 0.0);
            if let Some(px) = camera.project(&p) {
                out.push([px.x, px.y]);
            }
        }
    }
    out
}

/// Even-odd point-in-polygon test.
pub fn inside_polygon(x: f64, y: f64, poly: &[[f64; 2]]) -> bool {
    if poly.len() < 3 {
        return false;
    }
    let mut inside = false;
    let mut j = poly.len() - 1;
    for i in 0..poly.len() {
        let (pi, pj) = (poly[i], poly[j]);
        if (pi[1] > y) != (pj[1] > y) && x < (pj[0] - pi[0]) * (y - pi[1]) / (pj[1] - pi[1]) + pi[0]
        {
            inside = !inside;
        }
        j = i;
    }
    inside
}
