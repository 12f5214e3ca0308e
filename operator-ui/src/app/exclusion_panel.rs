//! Image-space exclusions: parts of the picture the line never covers (a score bug, a
//! network bug, a ticker). The "Exclude rectangle" tool drags a rectangle on the image; the
//! "Exclude polygon" tool clicks corners, "Close polygon" ends it. Each change goes to the
//! engine at once; "Save exclusions" writes them as `[[exclusion]]`s into the key file
//! (with the operator key, or the engine's automatic one when there is none).
//!
//! Coordinates are normalised (`yardline_keying::exclusion`): `(0, 0)` the image's top-left
//! corner, `(1, 1)` its bottom-right; image pixel `px` (centres at integers) is at
//! `(px + 0.5) / size`.

use egui::{Color32, Pos2, Stroke};
use yardline_keying::{Exclusion, ExclusionShape, KeyConfig};

use super::OperatorApp;
use crate::video::Command;

impl OperatorApp {
    /// The exclusions the operator has drawn (sent to the engine as they change).
    pub fn exclusions(&self) -> &[Exclusion] {
        &self.exclusions
    }

    fn normalised(&self, px: [f64; 2]) -> Option<[f64; 2]> {
        let p = self.shown_frame()?;
        Some([
            (px[0] + 0.5) / f64::from(p.width),
            (px[1] + 0.5) / f64::from(p.height),
        ])
    }

    fn to_pixel(&self, uv: [f64; 2]) -> Option<[f64; 2]> {
        let p = self.shown_frame()?;
        Some([
            uv[0] * f64::from(p.width) - 0.5,
            uv[1] * f64::from(p.height) - 0.5,
        ])
    }

    fn set_exclusions(&mut self, list: Vec<Exclusion>) {
        self.exclusions = list;
        self.commands_pending
            .push_back(Command::SetExclusions(self.exclusions.clone()));
    }

    /// Adds the rectangle with image corners `a`, `b` (pixels) as an exclusion.
    pub fn add_exclusion_rect(&mut self, a: [f64; 2], b: [f64; 2]) {
        let (Some(na), Some(nb)) = (self.normalised(a), self.normalised(b)) else {
            self.message = Some("no frame yet".into());
            return;
        };
        let rect = [
            na[0].min(nb[0]),
            na[1].min(nb[1]),
            na[0].max(nb[0]),
            na[1].max(nb[1]),
        ];
        let e = Exclusion::rect(format!("rectangle {}", self.exclusions.len() + 1), rect);
        if let Err(err) = e.validate("exclusion") {
            self.message = Some(format!("drag a rectangle: {err}"));
            return;
        }
        let mut list = self.exclusions.clone();
        list.push(e);
        self.message = Some(format!("{} exclusions", list.len()));
        self.set_exclusions(list);
    }

    /// Adds image point `px` (pixels) to the polygon being drawn.
    pub fn add_polygon_point(&mut self, px: [f64; 2]) {
        if let Some(uv) = self.normalised(px) {
            self.polygon.push(uv);
        }
    }

    /// Ends the polygon being drawn and adds it as an exclusion (at least 3 points).
    pub fn close_polygon(&mut self) {
        let points = std::mem::take(&mut self.polygon);
        let e = Exclusion::polygon(format!("polygon {}", self.exclusions.len() + 1), points);
        if let Err(err) = e.validate("exclusion") {
            self.message = Some(format!("polygon: {err}"));
            return;
        }
        let mut list = self.exclusions.clone();
        list.push(e);
        self.message = Some(format!("{} exclusions", list.len()));
        self.set_exclusions(list);
    }

    /// Writes the exclusions into the key file, with the operator key (or the engine's
    /// automatic key when there is none).
    fn save_exclusions(&mut self) {
        let path = self.settings.key_path.clone();
        let key: Option<KeyConfig> = self.key.clone().or_else(|| {
            self.published
                .key
                .as_ref()
                .and_then(|k| k.config().cloned())
        });
        self.message = Some(match key {
            Some(mut k) => {
                k.exclusions.clone_from(&self.exclusions);
                match k.save(&path) {
                    Ok(()) => {
                        if self.key.is_some() {
                            self.key = Some(k);
                        }
                        format!("{} exclusions saved to {path}", self.exclusions.len())
                    }
                    Err(e) => format!("cannot save exclusions: {e}"),
                }
            }
            None => "no key yet to save the exclusions with".into(),
        });
    }

    /// Outlines the exclusions (orange) and the polygon being drawn (yellow) on the image.
    pub(super) fn draw_exclusions(&self, painter: &egui::Painter) {
        let screen = |uv: [f64; 2]| self.to_pixel(uv).and_then(|px| self.image_to_screen(px));
        let outline = |points: Vec<[f64; 2]>, closed: bool, colour: Color32| {
            let pts: Option<Vec<Pos2>> = points.into_iter().map(screen).collect();
            if let Some(mut pts) = pts {
                if closed && let Some(&first) = pts.first() {
                    pts.push(first);
                }
                painter.add(egui::Shape::line(pts, Stroke::new(1.5, colour)));
            }
        };
        for e in &self.exclusions {
            let points = match &e.shape {
                ExclusionShape::Rect([u0, v0, u1, v1]) => {
                    vec![[*u0, *v0], [*u1, *v0], [*u1, *v1], [*u0, *v1]]
                }
                ExclusionShape::Polygon(p) => p.clone(),
            };
            outline(points, true, Color32::from_rgb(255, 140, 0));
        }
        if !self.polygon.is_empty() {
            outline(self.polygon.clone(), false, Color32::YELLOW);
        }
    }

    pub(super) fn exclusion_panel(&mut self, ui: &mut egui::Ui) {
        ui.heading("Exclusions");
        ui.small(
            "Never drawn over: Exclude rectangle (drag) or Exclude polygon (click corners, \
             then Close polygon).",
        );
        let mut remove = None;
        for (i, e) in self.exclusions.iter().enumerate() {
            ui.horizontal(|ui| {
                ui.label(format!("{}: {e}", e.name));
                if ui.button(format!("Remove exclusion {}", i + 1)).clicked() {
                    remove = Some(i);
                }
            });
        }
        if let Some(i) = remove {
            let mut list = self.exclusions.clone();
            list.remove(i);
            self.set_exclusions(list);
        }
        ui.horizontal(|ui| {
            if ui
                .add_enabled(self.polygon.len() >= 3, egui::Button::new("Close polygon"))
                .clicked()
            {
                self.close_polygon();
            }
            if ui
                .add_enabled(
                    !self.exclusions.is_empty(),
                    egui::Button::new("Clear exclusions"),
                )
                .clicked()
            {
                self.polygon.clear();
                self.set_exclusions(Vec::new());
            }
            if ui.button("Save exclusions").clicked() {
                self.save_exclusions();
            }
        });
    }
}
