//! The image area: the shown frame as program, clean, key matte or split, zoom about the
//! pointer and pan, the field-model wireframe over it, and what clicks on it do (place the
//! line, add key samples, click the wizard's landmarks).

use egui::{Color32, Pos2, Rect, Sense, Stroke, TextureHandle, TextureOptions, Vec2};
use yardline_engine::field::FieldModel;
use yardline_engine::key::FieldKey;
use yardline_frame::{FrameLayout, FrameRef, PixelFormat};
use yardline_keying::SampleKind;

use super::{OperatorApp, Tool};
use crate::overlay::{self, pixel_to_screen, screen_to_pixel};
use crate::settings::ViewMode;
use crate::video::Preview;

/// Zoom limits of the image view (multiples of "fit").
const ZOOM_RANGE: (f32, f32) = (0.25, 16.0);

/// The pictures of the shown frame on the GPU, and the key matte they show.
#[derive(Default)]
pub(super) struct Textures {
    program: Option<TextureHandle>,
    clean: Option<TextureHandle>,
    matte: Option<TextureHandle>,
    /// Key of every pixel of the frame the matte was made from (row-major, 0..=1).
    matte_values: Option<Vec<f32>>,
    matte_key_version: u64,
    matte_stale: bool,
}

impl Textures {
    /// Shows frame `p` (program and clean); its matte is made when a view needs it.
    pub(super) fn show(&mut self, ctx: &egui::Context, p: &Preview) {
        let size = [p.width as usize, p.height as usize];
        for (slot, name, rgba) in [
            (&mut self.program, "program", &p.program),
            (&mut self.clean, "clean", &p.clean),
        ] {
            let image = egui::ColorImage::from_rgba_unmultiplied(size, rgba);
            set_texture(ctx, slot, name, image);
        }
        self.matte_stale = true;
    }
}

/// The key matte of frame `p` under `key` (row-major, 0..=1): what the compositor keys the
/// frame with, each pixel by the palette of its field position under the frame's camera
/// (regions, then the painted markings, then the default palette; [`FieldKey::matte`]). A frame
/// without a camera is keyed with the default palette everywhere.
fn key_matte(key: &FieldKey, p: &Preview, field: &FieldModel) -> Result<Vec<f32>, String> {
    let layout =
        FrameLayout::packed(PixelFormat::Rgba, p.width, p.height).map_err(|e| e.to_string())?;
    let frame = FrameRef::new(&layout, &p.clean).map_err(|e| e.to_string())?;
    match &p.report.camera {
        Some(camera) => key.matte(frame, camera, field),
        None => key.keyer().key_frame(frame),
    }
    .map_err(|e| e.to_string())
}

impl OperatorApp {
    /// Screen position of image pixel `px` in the last drawn frame.
    pub fn image_to_screen(&self, px: [f64; 2]) -> Option<Pos2> {
        let (rect, w, h) = self.image_geometry()?;
        Some(pixel_to_screen(rect, (w, h), px))
    }

    /// Image pixel under screen position `pos` in the last drawn frame.
    pub fn screen_to_image(&self, pos: Pos2) -> Option<[f64; 2]> {
        let (rect, w, h) = self.image_geometry()?;
        Some(screen_to_pixel(rect, (w, h), pos))
    }

    fn image_geometry(&self) -> Option<(Rect, f64, f64)> {
        let rect = self.image_rect?;
        let p = self.shown_frame()?;
        Some((rect, f64::from(p.width), f64::from(p.height)))
    }

    /// The key matte the "Key matte" and "Split" views show (row-major, 0..=1): the shown
    /// frame keyed by the engine's key under the frame's camera ([`FieldKey::matte`]; the
    /// default palette everywhere on a frame without a camera). Made while one of those views
    /// is selected.
    pub fn matte(&self) -> Option<&[f32]> {
        self.textures.matte_values.as_deref()
    }

    /// Remakes the matte when a view shows it and the frame or the engine's key changed.
    pub(super) fn update_matte(&mut self, ctx: &egui::Context) {
        let wanted = matches!(self.settings.view, ViewMode::Matte | ViewMode::Split);
        let key_changed = self.textures.matte_key_version != self.published.key_version;
        if !wanted || !(self.textures.matte_stale || key_changed) {
            return;
        }
        let Some(p) = self.shown_frame() else {
            return;
        };
        let Some(key) = self.published.key.as_ref() else {
            return;
        };
        match key_matte(key, p, &self.field) {
            Ok(matte) => {
                let grey: Vec<u8> = matte
                    .iter()
                    .map(|k| (k.clamp(0.0, 1.0) * 255.0).round() as u8)
                    .collect();
                let image =
                    egui::ColorImage::from_gray([p.width as usize, p.height as usize], &grey);
                set_texture(ctx, &mut self.textures.matte, "matte", image);
                self.textures.matte_values = Some(matte);
            }
            Err(e) => tracing::warn!("key matte: {e}"),
        }
        self.textures.matte_stale = false;
        self.textures.matte_key_version = self.published.key_version;
    }

    /// The image area: the view, zoom and pan, the overlays, and the clicks on the image.
    pub(super) fn image_area(&mut self, ui: &mut egui::Ui) {
        let Some((w, h)) = self.shown_frame().map(|p| (p.width, p.height)) else {
            ui.centered_and_justified(|ui| ui.label("waiting for video…"));
            return;
        };
        let avail = ui.available_rect_before_wrap();
        let (response, painter) = ui.allocate_painter(avail.size(), Sense::click_and_drag());
        let area = response.rect;
        // Zoom about the pointer, pan with the secondary or middle button.
        if let Some(pos) = response.hover_pos() {
            let scroll = ui.input(|i| i.smooth_scroll_delta.y);
            if scroll != 0.0 {
                let old = self.zoom;
                self.zoom = (self.zoom * (scroll / 200.0).exp()).clamp(ZOOM_RANGE.0, ZOOM_RANGE.1);
                let centre = area.center() + self.pan;
                self.pan += (pos - centre) * (1.0 - self.zoom / old);
            }
        }
        if response.dragged_by(egui::PointerButton::Secondary)
            || response.dragged_by(egui::PointerButton::Middle)
        {
            self.pan += response.drag_delta();
        }
        let fit = (area.width() / w as f32).min(area.height() / h as f32);
        let size = Vec2::new(w as f32, h as f32) * fit * self.zoom;
        let rect = Rect::from_center_size(area.center() + self.pan, size);
        self.image_rect = Some(rect);
        let painter = painter.with_clip_rect(area);
        let full = Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));
        let textures = &self.textures;
        let matte = textures.matte.as_ref().or(textures.clean.as_ref());
        let show = |texture: Option<&TextureHandle>, rect: Rect, uv: Rect| {
            if let Some(t) = texture {
                painter.image(t.id(), rect, uv, Color32::WHITE);
            }
        };
        match self.settings.view {
            ViewMode::Program => show(textures.program.as_ref(), rect, full),
            ViewMode::Clean => show(textures.clean.as_ref(), rect, full),
            ViewMode::Matte => show(matte, rect, full),
            ViewMode::Split => {
                // Program on the left half of the image, the matte on the right half.
                let mid = rect.center().x;
                let left = Rect::from_min_max(rect.min, Pos2::new(mid, rect.max.y));
                let right = Rect::from_min_max(Pos2::new(mid, rect.min.y), rect.max);
                show(
                    textures.program.as_ref(),
                    left,
                    Rect::from_min_max(Pos2::ZERO, Pos2::new(0.5, 1.0)),
                );
                show(
                    matte,
                    right,
                    Rect::from_min_max(Pos2::new(0.5, 0.0), full.max),
                );
                painter.vline(mid, rect.y_range(), Stroke::new(1.0, Color32::WHITE));
            }
        }
        if self.settings.wireframe || self.wizard.is_open() {
            self.draw_wireframe(&painter);
        }
        self.draw_exclusions(&painter);
        self.wizard.draw(&painter, |px| self.image_to_screen(px));
        self.handle_image_input(ui, &response, &painter);
    }

    fn draw_wireframe(&self, painter: &egui::Painter) {
        let (Some(p), Some(rect)) = (self.shown_frame(), self.image_rect) else {
            return;
        };
        let camera = self.wizard.camera().or(p.report.camera.as_ref());
        if let Some(camera) = camera {
            paint_wireframe(painter, camera, &self.field, (p.width, p.height), rect);
        }
    }

    fn handle_image_input(
        &mut self,
        ui: &egui::Ui,
        response: &egui::Response,
        painter: &egui::Painter,
    ) {
        let shift = ui.input(|i| i.modifiers.shift);
        if self.wizard.is_open() {
            if response.clicked()
                && let Some(px) = response
                    .interact_pointer_pos()
                    .and_then(|p| self.screen_to_image(p))
            {
                self.wizard.click(px, &self.field);
            }
            return;
        }
        match self.tool {
            Tool::PlaceLine => {
                if response.clicked() {
                    let px = response
                        .interact_pointer_pos()
                        .and_then(|p| self.screen_to_image(p));
                    let camera = self.preview.as_ref().and_then(|p| p.report.camera);
                    match (px, camera) {
                        (Some(px), Some(cam)) => match overlay::yard_at_pixel(&cam, px) {
                            Some(y) => self.set_first_down(y),
                            None => self.message = Some("that point is above the horizon".into()),
                        },
                        _ => self.message = Some("no camera pose on this frame".into()),
                    }
                }
            }
            Tool::KeySamples => {
                let kind = if shift {
                    SampleKind::Exclusion
                } else {
                    SampleKind::Inclusion
                };
                if response.drag_started_by(egui::PointerButton::Primary) {
                    self.drag_start = response
                        .interact_pointer_pos()
                        .and_then(|p| self.screen_to_image(p));
                }
                let now = response
                    .interact_pointer_pos()
                    .and_then(|p| self.screen_to_image(p));
                if let (Some(a), Some(b)) = (self.drag_start, now)
                    && response.dragged_by(egui::PointerButton::Primary)
                    && let (Some(sa), Some(sb)) = (self.image_to_screen(a), self.image_to_screen(b))
                {
                    painter.rect_stroke(
                        Rect::from_two_pos(sa, sb),
                        0.0,
                        Stroke::new(1.0, Color32::YELLOW),
                        egui::StrokeKind::Middle,
                    );
                }
                if response.drag_stopped_by(egui::PointerButton::Primary) {
                    if let (Some(a), Some(b)) = (self.drag_start.take(), now) {
                        self.add_key_sample(a, b, kind);
                    }
                } else if response.clicked()
                    && let Some(px) = now
                {
                    self.add_key_sample(px, px, kind);
                }
            }
            Tool::ExcludeRect => {
                if response.drag_started_by(egui::PointerButton::Primary) {
                    self.drag_start = response
                        .interact_pointer_pos()
                        .and_then(|p| self.screen_to_image(p));
                }
                let now = response
                    .interact_pointer_pos()
                    .and_then(|p| self.screen_to_image(p));
                if let (Some(a), Some(b)) = (self.drag_start, now)
                    && response.dragged_by(egui::PointerButton::Primary)
                    && let (Some(sa), Some(sb)) = (self.image_to_screen(a), self.image_to_screen(b))
                {
                    painter.rect_stroke(
                        Rect::from_two_pos(sa, sb),
                        0.0,
                        Stroke::new(1.0, Color32::from_rgb(255, 140, 0)),
                        egui::StrokeKind::Middle,
                    );
                }
                if response.drag_stopped_by(egui::PointerButton::Primary)
                    && let (Some(a), Some(b)) = (self.drag_start.take(), now)
                {
                    self.add_exclusion_rect(a, b);
                }
            }
            Tool::ExcludePolygon => {
                if response.clicked()
                    && let Some(px) = response
                        .interact_pointer_pos()
                        .and_then(|p| self.screen_to_image(p))
                {
                    self.add_polygon_point(px);
                }
            }
        }
    }
}

/// Paints the painted lines of `field`, seen by `camera`, over an image of `size` pixels shown
/// in screen rectangle `rect`.
pub fn paint_wireframe(
    painter: &egui::Painter,
    camera: &yardline_engine::Camera,
    field: &FieldModel,
    size: (u32, u32),
    rect: Rect,
) {
    let image = (f64::from(size.0), f64::from(size.1));
    let stroke = Stroke::new(1.0, Color32::from_rgb(0, 255, 255));
    for run in overlay::wireframe(camera, field, size.0, size.1) {
        let pts: Vec<Pos2> = run
            .iter()
            .map(|&px| pixel_to_screen(rect, image, px))
            .collect();
        painter.add(egui::Shape::line(pts, stroke));
    }
}

/// Puts `image` in texture `slot` (made, or remade at a new size, as needed), linear filtering.
fn set_texture(
    ctx: &egui::Context,
    slot: &mut Option<TextureHandle>,
    name: &str,
    image: egui::ColorImage,
) {
    let options = TextureOptions::LINEAR;
    match slot {
        Some(t) if t.size() == image.size => t.set(image, options),
        _ => *slot = Some(ctx.load_texture(name, image, options)),
    }
}
