//! The calibration wizard: freeze a frame, pick landmarks of the field model and click them in
//! the image, solve the camera with the calibration crate, check the per-point residuals and
//! the wireframe, save the venue.

use std::path::Path;

use egui::{Color32, Pos2, Stroke};
use nalgebra::Point3;
use yardline_calibration::venue::camera_calibration;
use yardline_calibration::{Correspondence, LandmarkSolution, solve_landmarks};
use yardline_engine::field::FieldModel;
use yardline_engine::geometry::Camera;
use yardline_engine::venue::Venue;

use crate::video::Preview;

/// Fewest clicked landmarks the solver is asked to work with.
pub const MIN_POINTS: usize = yardline_calibration::landmarks::MIN_POINTS;
/// FreeD camera id written when the frame has no FreeD reading.
pub const DEFAULT_CAMERA_ID: u8 = 1;

/// One clicked landmark.
#[derive(Debug, Clone, PartialEq)]
pub struct Clicked {
    /// Landmark name (field model).
    pub name: String,
    /// Field position (metres).
    pub field: [f64; 3],
    /// Clicked image position (pixels).
    pub image: [f64; 2],
}

/// Wizard state.
#[derive(Debug, Clone, Default)]
pub struct Wizard {
    open: bool,
    frozen: Option<Preview>,
    selected: Option<usize>,
    points: Vec<Clicked>,
    solution: Option<LandmarkSolution>,
    message: Option<String>,
    filter: String,
}

impl Wizard {
    /// Whether the wizard is open (the image is frozen and clicks place landmarks).
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// The frozen frame while open.
    pub fn frozen(&self) -> Option<&Preview> {
        self.frozen.as_ref().filter(|_| self.open)
    }

    /// Clicked landmarks, in click order.
    pub fn points(&self) -> &[Clicked] {
        &self.points
    }

    /// The last solution.
    pub fn solution(&self) -> Option<&LandmarkSolution> {
        self.solution.as_ref()
    }

    /// The solved camera while open (drawn as the wireframe).
    pub fn camera(&self) -> Option<&Camera> {
        self.solution
            .as_ref()
            .map(|s| &s.camera)
            .filter(|_| self.open)
    }

    /// Last message (solver or save outcome).
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    fn start(&mut self, frame: Option<Preview>) {
        *self = Self {
            open: true,
            frozen: frame,
            selected: Some(0),
            ..Self::default()
        };
    }

    /// A click at image pixel `px`: places the selected landmark and selects the next one not
    /// placed yet.
    pub fn click(&mut self, px: [f64; 2], field: &FieldModel) {
        let Some(i) = self.selected else {
            self.message = Some("pick a landmark from the list first".into());
            return;
        };
        let Some(lm) = field.landmarks.get(i) else {
            return;
        };
        let point = Clicked {
            name: lm.name.clone(),
            field: lm.position,
            image: px,
        };
        match self.points.iter_mut().find(|p| p.name == lm.name) {
            Some(p) => *p = point,
            None => self.points.push(point),
        }
        self.solution = None;
        let n = field.landmarks.len();
        self.selected = (1..=n).map(|k| (i + k) % n).find(|&j| {
            !self
                .points
                .iter()
                .any(|p| p.name == field.landmarks[j].name)
        });
    }

    /// Solves the camera from the clicked points on the frozen frame.
    pub fn solve(&mut self) {
        let Some(frame) = self.frozen.as_ref() else {
            self.message = Some("no frame".into());
            return;
        };
        if self.points.len() < MIN_POINTS {
            self.message = Some(format!(
                "click at least {MIN_POINTS} landmarks ({} so far)",
                self.points.len()
            ));
            return;
        }
        match solve_points(&self.points, (frame.width, frame.height)) {
            Ok(s) => {
                self.message = Some(format!("solved: RMS {:.2} px", s.rms_px));
                self.solution = Some(s);
            }
            Err(e) => {
                self.message = Some(format!("solve failed: {e}"));
                self.solution = None;
            }
        }
    }

    /// Saves the solved camera as a venue file.
    pub fn save_venue(&mut self, path: &Path, tracking_delay_ns: i64) {
        let (Some(s), Some(frame)) = (self.solution.as_ref(), self.frozen.as_ref()) else {
            self.message = Some("solve first".into());
            return;
        };
        self.message = Some(match save_venue_file(s, frame, tracking_delay_ns, path) {
            Ok(()) => format!("venue saved to {}", path.display()),
            Err(e) => format!("cannot save venue: {e}"),
        });
    }

    /// Markers for the clicked points and, once solved, where the solution puts them.
    pub fn draw(&self, painter: &egui::Painter, to_screen: impl Fn([f64; 2]) -> Option<Pos2>) {
        if !self.open {
            return;
        }
        let click = Stroke::new(2.0, Color32::from_rgb(255, 60, 200));
        for p in &self.points {
            if let Some(s) = to_screen(p.image) {
                painter.circle_stroke(s, 5.0, click);
                painter.text(
                    s + egui::vec2(6.0, -6.0),
                    egui::Align2::LEFT_BOTTOM,
                    &p.name,
                    egui::FontId::proportional(11.0),
                    Color32::WHITE,
                );
            }
        }
        if let Some(sol) = &self.solution {
            let cross = Stroke::new(1.5, Color32::from_rgb(0, 255, 120));
            for p in &self.points {
                let Some(px) = sol.camera.project(&Point3::from(p.field)) else {
                    continue;
                };
                if let Some(s) = to_screen([px.x, px.y]) {
                    painter
                        .line_segment([s + egui::vec2(-4.0, 0.0), s + egui::vec2(4.0, 0.0)], cross);
                    painter
                        .line_segment([s + egui::vec2(0.0, -4.0), s + egui::vec2(0.0, 4.0)], cross);
                }
            }
        }
    }

    /// The wizard's part of the side panel.
    pub fn panel(
        &mut self,
        ui: &mut egui::Ui,
        field: &FieldModel,
        frame: Option<Preview>,
        venue_path: &mut String,
        tracking_delay_ns: i64,
    ) {
        ui.heading("Calibration");
        if !self.open {
            if ui.button("Calibrate camera").clicked() {
                self.start(frame);
            }
            return;
        }
        ui.small("The frame is frozen. Pick a landmark, click it in the image; repeat.");
        ui.horizontal(|ui| {
            let label = ui.label("Landmark filter");
            ui.text_edit_singleline(&mut self.filter)
                .labelled_by(label.id);
        });
        let filter = self.filter.trim().to_lowercase();
        egui::ScrollArea::vertical()
            .id_salt("landmarks")
            .max_height(160.0)
            .show(ui, |ui| {
                for (i, lm) in field.landmarks.iter().enumerate() {
                    if !filter.is_empty() && !lm.name.to_lowercase().contains(&filter) {
                        continue;
                    }
                    let done = self.points.iter().any(|p| p.name == lm.name);
                    let label = if done {
                        format!("{} (placed)", lm.name)
                    } else {
                        lm.name.clone()
                    };
                    if ui
                        .selectable_label(self.selected == Some(i), label)
                        .clicked()
                    {
                        self.selected = Some(i);
                    }
                }
            });
        egui::Grid::new("calib_points")
            .num_columns(3)
            .show(ui, |ui| {
                ui.strong("landmark");
                ui.strong("pixel");
                ui.strong("residual");
                ui.end_row();
                for (i, p) in self.points.iter().enumerate() {
                    ui.label(&p.name);
                    ui.label(format!("{:.1}, {:.1}", p.image[0], p.image[1]));
                    let r = self
                        .solution
                        .as_ref()
                        .and_then(|s| s.residuals_px.get(i).map(|r| (*r, s.outliers.contains(&i))));
                    ui.label(match r {
                        Some((r, true)) => format!("{r:.2} px (outlier)"),
                        Some((r, false)) => format!("{r:.2} px"),
                        None => "-".into(),
                    });
                    ui.end_row();
                }
            });
        ui.horizontal(|ui| {
            if ui.button("Remove last point").clicked() {
                self.points.pop();
                self.solution = None;
            }
            if ui.button("Solve").clicked() {
                self.solve();
            }
        });
        ui.horizontal(|ui| {
            let label = ui.label("Venue file");
            ui.text_edit_singleline(venue_path).labelled_by(label.id);
        });
        ui.horizontal(|ui| {
            if ui
                .add_enabled(self.solution.is_some(), egui::Button::new("Save venue"))
                .clicked()
            {
                self.save_venue(Path::new(venue_path.as_str()), tracking_delay_ns);
            }
            if ui.button("Close calibration").clicked() {
                self.open = false;
            }
        });
        if let Some(m) = &self.message {
            ui.label(m);
        }
    }
}

/// Solves the camera from clicked points (pixels) on a frame of `size` with the calibration
/// crate (focal length and distortion estimated, principal point at the centre).
fn solve_points(points: &[Clicked], size: (u32, u32)) -> Result<LandmarkSolution, String> {
    let corr: Vec<Correspondence> = points
        .iter()
        .map(|p| Correspondence {
            image: p.image,
            field: p.field,
        })
        .collect();
    solve_landmarks(&corr, size, None).map_err(|e| e.to_string())
}

/// Writes the venue file of a solved camera: with the frame's FreeD reading the head mount is
/// solved so that tracking drives the camera; without one it is a fixed camera.
fn save_venue_file(
    solved: &LandmarkSolution,
    frame: &Preview,
    tracking_delay_ns: i64,
    path: &Path,
) -> Result<(), String> {
    let cal = camera_calibration(
        &solved.camera,
        (frame.width, frame.height),
        frame.reading.as_ref(),
        DEFAULT_CAMERA_ID,
        tracking_delay_ns,
    )
    .map_err(|e| e.to_string())?;
    Venue { cameras: vec![cal] }
        .save(path)
        .map_err(|e| e.to_string())
}
