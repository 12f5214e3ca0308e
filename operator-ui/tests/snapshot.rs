//! A snapshot rendered through wgpu (lavapipe on CI): a test-sample frame with the field-model
//! wireframe the app draws over it, from the generator's exact camera. The wireframe must sit
//! on the painted lines; the snapshot guards the drawing against regressions.

mod common;

use egui::{Color32, ColorImage, Pos2, Rect, TextureOptions, Vec2};
use egui_kittest::Harness;
use yardline_engine::field::{FieldKind, FieldModel};
use yardline_engine::geometry::Camera;
use yardline_operator::app::paint_wireframe;

#[test]
fn wireframe_over_a_sample_frame() {
    let frame = common::sample().render_frame(0).expect("render frame 0");
    let t = frame.truth;
    let camera = Camera::from_record(t.rotation, t.translation, t.intrinsics.to_array())
        .expect("truth camera");
    let rgba: Vec<u8> = frame
        .rgb
        .chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect();
    let field = FieldModel::new(FieldKind::Nfl);
    let (w, h) = (t.width, t.height);
    let mut texture = None;
    let mut harness = Harness::builder()
        .with_size([w as f32, h as f32])
        .wgpu()
        .build_ui(move |ui| {
            let tex = texture.get_or_insert_with(|| {
                ui.ctx().load_texture(
                    "frame",
                    ColorImage::from_rgba_unmultiplied([w as usize, h as usize], &rgba),
                    TextureOptions::LINEAR,
                )
            });
            let rect = Rect::from_min_size(Pos2::ZERO, Vec2::new(w as f32, h as f32));
            let uv = Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));
            ui.painter().image(tex.id(), rect, uv, Color32::WHITE);
            paint_wireframe(ui.painter(), &camera, &field, (w, h), rect);
        });
    harness.run();
    harness.snapshot("wireframe_static_frame0");
}
