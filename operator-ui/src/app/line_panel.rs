//! The line panel: where the first-down line and the line of scrimmage lie (a yard entry,
//! nudges, the arrow keys), how they look, and hiding both at once.

use egui::Key;
use yardline_engine::field::{parse_yard, yard_label};

use super::{NUDGE_LARGE_YD, NUDGE_SMALL_YD, OperatorApp};

/// Yard positions a line may be placed at (yards; end zones included).
const YARD_RANGE: (f64, f64) = (-10.0, 110.0);

impl OperatorApp {
    /// Sets the first-down line to `yard` (clamped to the field with end zones).
    pub fn set_first_down(&mut self, yard: f64) {
        if !yard.is_finite() {
            return;
        }
        let yard = yard.clamp(YARD_RANGE.0, YARD_RANGE.1);
        self.config.first_down.yard = (yard * 1000.0).round() / 1000.0;
        self.yard_entry = yard_label(self.config.first_down.yard);
        self.config_changed();
    }

    fn nudge(&mut self, yards: f64) {
        self.set_first_down(self.config.first_down.yard + yards);
    }

    fn toggle_hide(&mut self) {
        if let Some((fd, los)) = self.hidden.take() {
            self.config.first_down.enabled = fd;
            self.config.scrimmage.enabled = los;
        } else {
            self.hidden = Some((
                self.config.first_down.enabled,
                self.config.scrimmage.enabled,
            ));
            self.config.first_down.enabled = false;
            self.config.scrimmage.enabled = false;
        }
        self.config_changed();
    }

    /// Left/Right nudge the first down by [`NUDGE_SMALL_YD`] (with Shift [`NUDGE_LARGE_YD`]);
    /// H hides both lines or shows them again. Ignored while a text field has the focus.
    pub(super) fn keyboard(&mut self, ctx: &egui::Context) {
        if ctx.text_edit_focused() {
            return;
        }
        let (left, right, hide, shift) = ctx.input(|i| {
            (
                i.key_pressed(Key::ArrowLeft),
                i.key_pressed(Key::ArrowRight),
                i.key_pressed(Key::H),
                i.modifiers.shift,
            )
        });
        let step = if shift {
            NUDGE_LARGE_YD
        } else {
            NUDGE_SMALL_YD
        };
        if left {
            self.nudge(-step);
        }
        if right {
            self.nudge(step);
        }
        if hide {
            self.toggle_hide();
        }
    }

    pub(super) fn line_panel(&mut self, ui: &mut egui::Ui) {
        ui.heading("Line");
        let mut changed = false;
        changed |= ui
            .checkbox(&mut self.config.first_down.enabled, "First down line")
            .changed();
        changed |= ui
            .checkbox(&mut self.config.scrimmage.enabled, "Line of scrimmage")
            .changed();
        ui.horizontal(|ui| {
            let label = ui.label("First down at");
            let r = ui
                .add(
                    egui::TextEdit::singleline(&mut self.yard_entry)
                        .desired_width(80.0)
                        .hint_text("own 35"),
                )
                .labelled_by(label.id);
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
            if ui.button("Set").clicked() || enter {
                match parse_yard(&self.yard_entry) {
                    Ok(y) => self.set_first_down(y),
                    Err(e) => self.message = Some(e.to_string()),
                }
            }
        });
        ui.label(format!(
            "first down {:.1} yd ({}), scrimmage {:.1} yd",
            self.config.first_down.yard,
            yard_label(self.config.first_down.yard),
            self.config.scrimmage.yard
        ));
        ui.horizontal(|ui| {
            if ui.button("-1 yd").clicked() {
                self.nudge(-NUDGE_LARGE_YD);
            }
            if ui.button("-0.1").clicked() {
                self.nudge(-NUDGE_SMALL_YD);
            }
            if ui.button("+0.1").clicked() {
                self.nudge(NUDGE_SMALL_YD);
            }
            if ui.button("+1 yd").clicked() {
                self.nudge(NUDGE_LARGE_YD);
            }
        });
        ui.horizontal(|ui| {
            let label = ui.label("Scrimmage at");
            changed |= ui
                .add(
                    egui::DragValue::new(&mut self.config.scrimmage.yard)
                        .range(YARD_RANGE.0..=YARD_RANGE.1)
                        .speed(0.1)
                        .suffix(" yd"),
                )
                .labelled_by(label.id)
                .changed();
        });
        ui.horizontal(|ui| {
            let label = ui.label("First down colour");
            changed |= ui
                .color_edit_button_srgb(&mut self.config.first_down.rgb)
                .labelled_by(label.id)
                .changed();
            let label = ui.label("Scrimmage colour");
            changed |= ui
                .color_edit_button_srgb(&mut self.config.scrimmage.rgb)
                .labelled_by(label.id)
                .changed();
        });
        let mut width_cm = self.config.first_down.width_m * 100.0;
        if ui
            .add(egui::Slider::new(&mut width_cm, 5.0..=60.0).text("Line width (cm)"))
            .changed()
        {
            self.config.first_down.width_m = width_cm / 100.0;
            self.config.scrimmage.width_m = width_cm / 100.0;
            changed = true;
        }
        changed |= ui
            .add(egui::Slider::new(&mut self.config.first_down.opacity, 0.0..=1.0).text("Opacity"))
            .changed();
        let hide_label = if self.hidden.is_some() {
            "Show lines (H)"
        } else {
            "Hide lines (H)"
        };
        if ui.button(hide_label).clicked() {
            self.toggle_hide();
        }
        ui.small(
            "Click the field to place the first down; Left/Right 0.1 yd, Shift+Left/Right 1 yd.",
        );
        if changed {
            self.hidden = None;
            self.config_changed();
        }
    }
}
