//! Re-registering a remote engine: a full-size still of its input (the control API's
//! `GET /v1/preview?kind=clean&width=full`), the calibration wizard's landmark clicks on it
//! (`yardline_calibration::solve_landmarks`), and the solved camera sent back with `register`
//! (the engine's vision-only tracking starts again from it at its next frame boundary). The
//! window shows the engine's answer, or why it refused, and the registrations it applied.

use std::sync::Arc;

use egui::{Color32, Pos2, Rect, Sense, Vec2};
use yardline_control::protocol::RegisterCamera;
use yardline_engine::field::{FieldKind, FieldModel};

use super::fleet::{EngineView, SetAnswer, Still};
use crate::calib::Wizard;
use crate::overlay::{pixel_to_screen, screen_to_pixel};

/// Widest the still is shown (points); a smaller still is shown at its own size.
pub const STILL_MAX_WIDTH: f32 = 800.0;

/// What the operator did in the window this pass.
#[derive(Debug, Clone, PartialEq)]
pub enum RegistrationAction {
    /// Nothing to hand over.
    None,
    /// Send this camera to the engine.
    Send(Box<RegisterCamera>),
    /// Close the window.
    Close,
}

/// The re-registration of one remote engine, while its window is open.
pub struct RemoteRegistration {
    /// The engine's place in the list.
    pub engine: usize,
    /// The engine's name.
    pub name: String,
    still: Arc<Still>,
    texture: Option<egui::TextureHandle>,
    wizard: Wizard,
    field: FieldModel,
    /// The engine's field kind, when its status said.
    engine_field: Option<FieldKind>,
    /// Where the still was drawn on the last pass (screen).
    rect: Option<Rect>,
    /// The engine's last answer when the camera was sent (its `seq`, 0 for none): the answer
    /// to the camera is the next one for `register`.
    sent_after: Option<u64>,
    /// The engine's answer to the camera, once in.
    answer: Option<Result<String, String>>,
}

impl std::fmt::Debug for RemoteRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteRegistration")
            .field("engine", &self.engine)
            .field("name", &self.name)
            .field("still", &(self.still.width, self.still.height))
            .field("answer", &self.answer)
            .finish_non_exhaustive()
    }
}

impl RemoteRegistration {
    /// Opens on engine `engine`'s `still`, on the engine's field kind when known (`field`,
    /// from its status), else NFL.
    pub fn new(engine: usize, name: String, still: Arc<Still>, field: Option<FieldKind>) -> Self {
        let mut wizard = Wizard::default();
        wizard.start_on_still((still.width, still.height));
        Self {
            engine,
            name,
            still,
            texture: None,
            wizard,
            field: FieldModel::new(field.unwrap_or_default()),
            engine_field: field,
            rect: None,
            sent_after: None,
            answer: None,
        }
    }

    /// The field the landmarks are clicked on.
    pub fn field(&self) -> FieldKind {
        self.field.kind
    }

    /// The wizard (clicked points, solution, its message).
    pub fn wizard(&self) -> &Wizard {
        &self.wizard
    }

    /// The still's size (pixels).
    pub fn still_size(&self) -> (u32, u32) {
        (self.still.width, self.still.height)
    }

    /// Screen position of still pixel `px` as last drawn.
    pub fn still_to_screen(&self, px: [f64; 2]) -> Option<Pos2> {
        Some(pixel_to_screen(self.rect?, self.size_f64(), px))
    }

    /// The engine's answer to the camera sent: the value it accepted (JSON text), or why it
    /// refused.
    pub fn answer(&self) -> Option<&Result<String, String>> {
        self.answer.as_ref()
    }

    /// The camera went out: its answer is the engine's next answer to `register` after
    /// `last` (the `seq` of the engine's last answer when it was sent).
    pub fn sent(&mut self, last: Option<&SetAnswer>) {
        self.sent_after = Some(last.map_or(0, |a| a.seq));
        self.answer = None;
    }

    /// Takes the engine's answer from its view once it is in; the text for the operator then.
    pub fn take_answer(&mut self, view: &EngineView) -> Option<String> {
        let after = self.sent_after?;
        let a = view
            .last_set
            .as_ref()
            .filter(|a| a.seq > after && a.key == "register")?;
        self.sent_after = None;
        self.answer = Some(a.reply.clone());
        let (w, h) = self.still_size();
        Some(match &a.reply {
            Ok(_) => format!(
                "{}: registration accepted (a camera solved on its {w}x{h} still); tracking \
                 starts again from it at the next frame",
                self.name
            ),
            Err(e) => format!("{}: registration refused: {e}", self.name),
        })
    }

    fn size_f64(&self) -> (f64, f64) {
        (f64::from(self.still.width), f64::from(self.still.height))
    }

    /// The window: the still with the clicks (and, once solved, the field wireframe), the
    /// landmark panel, "Send registration: NAME", the answer and the engine's registrations.
    pub fn window(&mut self, ctx: &egui::Context, view: &EngineView) -> RegistrationAction {
        let mut action = RegistrationAction::None;
        egui::Window::new(format!("Re-register {}", self.name))
            .collapsible(false)
            .default_pos(Pos2::new(20.0, 40.0))
            .show(ctx, |ui| {
                ui.horizontal_top(|ui| {
                    self.still_view(ui);
                    ui.vertical(|ui| {
                        ui.set_max_width(340.0);
                        action = self.side_panel(ui, view);
                    });
                });
            });
        action
    }

    fn still_view(&mut self, ui: &mut egui::Ui) {
        let texture = self
            .texture
            .get_or_insert_with(|| {
                let image = egui::ColorImage::from_rgba_unmultiplied(
                    [self.still.width as usize, self.still.height as usize],
                    &self.still.rgba,
                );
                ui.ctx().load_texture(
                    format!("still {}", self.name),
                    image,
                    egui::TextureOptions::LINEAR,
                )
            })
            .id();
        let (w, h) = self.size_f64();
        let width = (w as f32).min(STILL_MAX_WIDTH);
        let size = Vec2::new(width, width * (h / w) as f32);
        let (rect, response) = ui.allocate_exact_size(size, Sense::click());
        let uv = Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));
        let painter = ui.painter_at(rect);
        painter.image(texture, rect, uv, Color32::WHITE);
        self.rect = Some(rect);
        if let Some(camera) = self.wizard.camera() {
            crate::app::paint_wireframe(&painter, camera, &self.field, self.still_size(), rect);
        }
        self.wizard
            .draw(&painter, |px| Some(pixel_to_screen(rect, (w, h), px)));
        if response.clicked()
            && let Some(pos) = response.interact_pointer_pos()
        {
            let px = screen_to_pixel(rect, (w, h), pos);
            self.wizard.click(px, &self.field);
        }
    }

    fn side_panel(&mut self, ui: &mut egui::Ui, view: &EngineView) -> RegistrationAction {
        let mut action = RegistrationAction::None;
        ui.small(
            "Pick a landmark, click it in the still; repeat (at least four). Solve, check the \
             residuals and the wireframe, then send: the engine tracks from this camera.",
        );
        ui.horizontal(|ui| {
            ui.label("Field");
            let before = self.field.kind;
            let mut kind = before;
            egui::ComboBox::from_id_salt("remote_register_field")
                .selected_text(kind.name())
                .show_ui(ui, |ui| {
                    for k in FieldKind::ALL {
                        ui.selectable_value(&mut kind, k, k.name());
                    }
                });
            if kind != before {
                self.field = FieldModel::new(kind);
                self.wizard.start_on_still(self.still_size());
            }
            match self.engine_field {
                Some(k) if k == kind => {
                    ui.small("(the engine's)");
                }
                Some(k) => {
                    ui.colored_label(
                        egui::Color32::from_rgb(230, 160, 40),
                        format!("the engine's venue is {}", k.name()),
                    );
                }
                None => {
                    ui.small("(the engine has not said)");
                }
            }
        });
        self.wizard.clicks_panel(ui, &self.field);
        if let Some(m) = self.wizard.message() {
            ui.label(m);
        }
        ui.horizontal(|ui| {
            let camera = self.wizard.register_camera();
            let send = egui::Button::new(format!("Send registration: {}", self.name));
            if ui.add_enabled(camera.is_some(), send).clicked()
                && let Some(c) = camera
            {
                action = RegistrationAction::Send(Box::new(c));
            }
            if ui.button("Close re-registration").clicked() {
                action = RegistrationAction::Close;
            }
        });
        match &self.answer {
            Some(Ok(_)) => {
                ui.colored_label(Color32::GREEN, "accepted by the engine");
            }
            Some(Err(e)) => {
                ui.colored_label(Color32::RED, format!("refused: {e}"));
            }
            None if self.sent_after.is_some() => {
                ui.label("sent; waiting for the engine");
            }
            None => {}
        }
        if let Some(s) = &view.status {
            let state = s
                .last_frame
                .as_ref()
                .map(|f| format!("{} {}", f.source, f.state))
                .unwrap_or_default();
            ui.label(format!(
                "engine: registrations applied {}, drawn {}, {state}",
                s.registrations, s.drawn
            ));
        }
        action
    }
}
