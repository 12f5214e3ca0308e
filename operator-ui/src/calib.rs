//! The calibration wizard: freeze a frame, pick landmarks of the field model and click them in
//! the image, solve the camera with the calibration crate, check the per-point residuals and
//! the wireframe, then either
//! - save the venue ([`Purpose::Calibrate`]): the app runs the engine with it, or
//! - apply a re-registration ([`Purpose::Register`]): the solved camera becomes the running
//!   engine's starting pose for vision-only tracking and the venue file is saved with it as
//!   the registration, or
//! - re-register a remote engine ([`Purpose::Remote`], on a still the engine sent): the solved
//!   camera goes back to it with the control API's `register` ([`Wizard::register_camera`]).
//!
//! Solving runs on the UI thread when the operator presses "Solve"; the video thread only
//! receives the result.

use std::path::Path;

use egui::{Color32, Pos2, Stroke};
use nalgebra::Point3;
use yardline_calibration::venue::{camera_calibration, registration};
use yardline_calibration::{Correspondence, LandmarkSolution, solve_landmarks};
use yardline_control::protocol::RegisterCamera;
use yardline_engine::field::FieldModel;
use yardline_engine::geometry::Camera;
use yardline_engine::tracking::SensorReading;
use yardline_engine::venue::Venue;

use crate::video::Preview;

/// Fewest clicked landmarks the solver is asked to work with.
pub const MIN_POINTS: usize = yardline_calibration::landmarks::MIN_POINTS;
/// Tallest the list of clicked points grows before it scrolls (points).
const POINTS_MAX_HEIGHT: f32 = 220.0;
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

/// What the wizard is open for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Purpose {
    /// Calibrate the camera: the solution is saved as the venue and the engine runs with it.
    #[default]
    Calibrate,
    /// Re-register on the current frame: the solution becomes vision-only tracking's starting
    /// pose and the venue's registration.
    Register,
    /// Re-register a remote engine on a full-size still of its input: the solution is sent
    /// to it (`register`); the remote app shows the still and the landmark panel.
    Remote,
}

/// What the operator finished in the wizard, for the app to hand to the engine.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A calibration was saved to the venue file: the engine is to run with this venue.
    Calibrated(Box<Venue>),
    /// A re-registration was applied: the engine is to track from `camera`, and `venue`
    /// (the venue with it as the registration, saved to the venue file when it could be
    /// written) is the one the engine runs with from now on.
    Registered {
        /// The solved camera, in pixels of the frozen frame.
        camera: Box<Camera>,
        /// The venue with the new registration.
        venue: Box<Venue>,
    },
}

/// What the wizard's panel works with besides its own state.
#[derive(Debug, Clone, Copy)]
pub struct PanelInputs<'a> {
    /// The field model whose landmarks are clicked.
    pub field: &'a FieldModel,
    /// The venue the engine runs with (a re-registration keeps all of it but the
    /// registration).
    pub venue: Option<&'a Venue>,
    /// The FreeD camera the engine follows (`None`: the venue's first).
    pub camera_id: Option<u8>,
    /// Tracking delay written into a new venue (ns).
    pub tracking_delay_ns: i64,
}

/// Wizard state.
#[derive(Debug, Clone, Default)]
pub struct Wizard {
    open: bool,
    purpose: Purpose,
    frozen: Option<Preview>,
    /// Size of the frame clicked on (pixels): the frozen frame's or the remote still's.
    size: Option<(u32, u32)>,
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

    /// What the wizard is (or was last) open for.
    pub fn purpose(&self) -> Purpose {
        self.purpose
    }

    /// Opens the wizard on `frame` (frozen while it is open) for `purpose`.
    pub fn start(&mut self, frame: Option<Preview>, purpose: Purpose) {
        *self = Self {
            open: true,
            purpose,
            size: frame.as_ref().map(|f| (f.width, f.height)),
            frozen: frame,
            selected: Some(0),
            ..Self::default()
        };
    }

    /// Opens the wizard on a remote engine's still of `size` (pixels) ([`Purpose::Remote`]):
    /// the caller shows the still and hands over the clicks on it.
    pub fn start_on_still(&mut self, size: (u32, u32)) {
        *self = Self {
            open: true,
            purpose: Purpose::Remote,
            size: Some(size),
            selected: Some(0),
            ..Self::default()
        };
    }

    /// The solved camera as the control API's `register` sends it (intrinsics in pixels of
    /// the frame clicked on).
    pub fn register_camera(&self) -> Option<RegisterCamera> {
        let (s, (width, height)) = (self.solution.as_ref()?, self.size?);
        let c = &s.camera;
        let t = c.translation;
        Some(RegisterCamera {
            width,
            height,
            rotation: c.rotation_row_major(),
            translation: [t.x, t.y, t.z],
            fx: c.intrinsics.fx,
            fy: c.intrinsics.fy,
            cx: c.intrinsics.cx,
            cy: c.intrinsics.cy,
            k1: c.intrinsics.k1,
            k2: c.intrinsics.k2,
        })
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
        let Some(size) = self.size else {
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
        match solve_points(&self.points, size) {
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

    /// Saves the solved camera as a venue file; the venue saved, for the engine.
    pub fn save_venue(&mut self, path: &Path, tracking_delay_ns: i64) -> Option<Venue> {
        let (Some(s), Some(frame)) = (self.solution.as_ref(), self.frozen.as_ref()) else {
            self.message = Some("solve first".into());
            return None;
        };
        match save_venue_file(s, frame, tracking_delay_ns, path) {
            Ok(venue) => {
                self.message = Some(format!(
                    "venue saved to {}; the engine runs with it",
                    path.display()
                ));
                Some(venue)
            }
            Err(e) => {
                self.message = Some(format!("cannot save venue: {e}"));
                None
            }
        }
    }

    /// Applies a re-registration: the solved camera for the engine, and `inputs.venue` with
    /// it as the registration saved to `path`. Closes the wizard. `None` (with the reason in
    /// [`Self::message`]) when nothing is solved or the venue cannot hold the registration.
    pub fn apply_registration(&mut self, path: &Path, inputs: &PanelInputs<'_>) -> Option<Outcome> {
        let (Some(s), Some(frame)) = (self.solution.as_ref(), self.frozen.as_ref()) else {
            self.message = Some("solve first".into());
            return None;
        };
        let camera = s.camera;
        let venue = match registered_venue(
            inputs.venue,
            inputs.camera_id,
            &camera,
            (frame.width, frame.height),
            frame.reading.as_ref(),
            inputs.tracking_delay_ns,
        ) {
            Ok(v) => v,
            Err(e) => {
                self.message = Some(format!("cannot register: {e}"));
                return None;
            }
        };
        // The engine tracks from the new camera whether or not the file can be written.
        self.message = Some(match venue.save(path) {
            Ok(()) => format!("registration applied; venue saved to {}", path.display()),
            Err(e) => format!("registration applied; cannot save venue: {e}"),
        });
        self.open = false;
        Some(Outcome::Registered {
            camera: Box::new(camera),
            venue: Box::new(venue),
        })
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

    /// The wizard's part of the side panel. `frame` is the frame "Calibrate camera" freezes;
    /// what the operator finished (a saved venue, an applied registration) is returned for
    /// the engine.
    pub fn panel(
        &mut self,
        ui: &mut egui::Ui,
        inputs: &PanelInputs<'_>,
        frame: Option<Preview>,
        venue_path: &mut String,
    ) -> Option<Outcome> {
        ui.heading("Calibration");
        if !self.open {
            if ui.button("Calibrate camera").clicked() {
                self.start(frame, Purpose::Calibrate);
            }
            if let Some(m) = &self.message {
                ui.label(m);
            }
            return None;
        }
        match self.purpose {
            Purpose::Calibrate => ui.small(
                "The frame is frozen. Pick a landmark, click it in the image; repeat. \
                 Solve, then save the venue: the engine runs with it.",
            ),
            Purpose::Register => ui.small(
                "Re-registering on this frame. Pick a landmark, click it in the image; repeat. \
                 Solve, then apply: tracking starts again from this camera and the venue file \
                 keeps it as the registration.",
            ),
            Purpose::Remote => ui.small(
                "Re-registering a remote engine on its still. Pick a landmark, click it in the \
                 still; repeat. Solve, then send: the engine's tracking starts again from this \
                 camera.",
            ),
        };
        self.clicks_panel(ui, inputs.field);
        ui.horizontal(|ui| {
            let label = ui.label("Venue file");
            ui.text_edit_singleline(venue_path).labelled_by(label.id);
        });
        let mut outcome = None;
        ui.horizontal(|ui| {
            let solved = self.solution.is_some();
            let path = Path::new(venue_path.as_str());
            match self.purpose {
                Purpose::Calibrate => {
                    if ui
                        .add_enabled(solved, egui::Button::new("Save venue"))
                        .clicked()
                    {
                        outcome = self
                            .save_venue(path, inputs.tracking_delay_ns)
                            .map(|v| Outcome::Calibrated(Box::new(v)));
                    }
                }
                Purpose::Register => {
                    if ui
                        .add_enabled(solved, egui::Button::new("Apply registration"))
                        .clicked()
                    {
                        outcome = self.apply_registration(path, inputs);
                    }
                }
                // The remote app sends the camera itself.
                Purpose::Remote => {}
            }
            if ui.button("Close calibration").clicked() {
                self.open = false;
            }
        });
        if let Some(m) = &self.message {
            ui.label(m);
        }
        outcome
    }

    /// The clicking part of the panel: the landmarks of `field` to pick from, the points
    /// clicked with their residuals once solved, "Remove last point" and "Solve".
    pub fn clicks_panel(&mut self, ui: &mut egui::Ui, field: &FieldModel) {
        self.landmark_list(ui, field);
        self.points_grid(ui);
        ui.horizontal(|ui| {
            if ui.button("Remove last point").clicked() {
                self.points.pop();
                self.solution = None;
            }
            if ui.button("Solve").clicked() {
                self.solve();
            }
        });
    }

    /// The landmarks of the field model, filtered by name; a click selects one.
    fn landmark_list(&mut self, ui: &mut egui::Ui, field: &FieldModel) {
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
    }

    /// The clicked points with their residuals once solved.
    fn points_grid(&self, ui: &mut egui::Ui) {
        egui::ScrollArea::vertical()
            .id_salt("calib_points_scroll")
            .max_height(POINTS_MAX_HEIGHT)
            .show(ui, |ui| self.points_rows(ui));
    }

    fn points_rows(&self, ui: &mut egui::Ui) {
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

/// Writes the venue file of a solved camera and returns the venue: with the frame's FreeD
/// reading the head mount is solved so that tracking drives the camera; without one it is a
/// fixed camera. Either way the solved camera is its registration.
fn save_venue_file(
    solved: &LandmarkSolution,
    frame: &Preview,
    tracking_delay_ns: i64,
    path: &Path,
) -> Result<Venue, String> {
    let cal = camera_calibration(
        &solved.camera,
        (frame.width, frame.height),
        frame.reading.as_ref(),
        DEFAULT_CAMERA_ID,
        tracking_delay_ns,
    )
    .map_err(|e| e.to_string())?;
    let venue = Venue { cameras: vec![cal] };
    venue.save(path).map_err(|e| e.to_string())?;
    Ok(venue)
}

/// The venue after a re-registration on a frame of `size`: `base` with the registration of
/// the camera the engine follows (`camera_id`, else the first) replaced by `camera`, all else
/// kept; with no venue, that of a fixed camera as "Save venue" writes it (the head mount from
/// `reading` when the frame has one). Checked as the engine's loader checks it.
pub fn registered_venue(
    base: Option<&Venue>,
    camera_id: Option<u8>,
    camera: &Camera,
    size: (u32, u32),
    reading: Option<&SensorReading>,
    tracking_delay_ns: i64,
) -> Result<Venue, String> {
    let venue = if let Some(v) = base {
        let mut venue = v.clone();
        let cal = match camera_id {
            Some(id) => venue.cameras.iter_mut().find(|c| c.id == id),
            None => venue.cameras.first_mut(),
        }
        .ok_or_else(|| match camera_id {
            Some(id) => format!("the venue has no camera {id}"),
            None => "the venue has no cameras".to_string(),
        })?;
        cal.registration = Some(registration(camera, size));
        venue
    } else {
        let cal = camera_calibration(camera, size, reading, DEFAULT_CAMERA_ID, tracking_delay_ns)
            .map_err(|e| e.to_string())?;
        Venue { cameras: vec![cal] }
    };
    venue.to_toml_string().map_err(|e| e.to_string())?;
    Ok(venue)
}

#[cfg(test)]
mod tests {
    use nalgebra::{Matrix3, Point3, Rotation3, Vector3};
    use yardline_engine::Intrinsics;

    use super::*;

    const SIZE: (u32, u32) = (640, 360);

    /// A camera on the near side at `x` (metres), `tilt` radians down, looking along +y.
    fn camera(x: f64, tilt: f64) -> Camera {
        let xc = Vector3::x();
        let zc = Vector3::new(0.0, tilt.cos(), -tilt.sin());
        let yc = zc.cross(&xc);
        let cam_to_field = Rotation3::from_matrix(&Matrix3::from_columns(&[xc, yc, zc]));
        Camera::from_centre(
            Intrinsics::from_hfov(SIZE.0, SIZE.1, 0.6),
            cam_to_field,
            Point3::new(x, -60.0, 20.0),
        )
    }

    fn registered(v: &Venue, id: u8) -> Camera {
        v.camera(id)
            .and_then(|c| c.registration.as_ref())
            .expect("a registration")
            .camera
    }

    #[test]
    fn a_registration_without_a_venue_makes_a_fixed_camera_that_loads() {
        let cam = camera(0.0, 0.3);
        let venue = registered_venue(None, None, &cam, SIZE, None, 0).expect("a venue");
        assert_eq!(venue.cameras.len(), 1);
        let reg = venue.cameras[0]
            .registration
            .as_ref()
            .expect("registration");
        assert_eq!((reg.width, reg.height), SIZE);
        let text = venue.to_toml_string().expect("valid");
        let back = Venue::from_toml_str(&text).expect("loads");
        let got = registered(&back, DEFAULT_CAMERA_ID);
        assert!((got.translation - cam.translation).norm() < 1e-6);
        assert!((got.rotation.matrix() - cam.rotation.matrix()).norm() < 1e-9);
    }

    #[test]
    fn a_registration_replaces_only_the_followed_cameras_registration() {
        let mut first = camera_calibration(&camera(0.0, 0.3), SIZE, None, 1, 0).unwrap();
        first.id = 1;
        let mut second = camera_calibration(&camera(-20.0, 0.25), SIZE, None, 2, 0).unwrap();
        second.id = 2;
        let base = Venue {
            cameras: vec![first.clone(), second.clone()],
        };
        let new = camera(5.0, 0.35);
        let venue = registered_venue(Some(&base), Some(2), &new, SIZE, None, 0).unwrap();
        assert_eq!(venue.cameras[0], first, "the other camera is untouched");
        let cal = venue.camera(2).unwrap();
        assert_eq!(cal.mount, second.mount, "the mount is kept");
        assert_eq!(cal.lens, second.lens, "the lens table is kept");
        let got = registered(&venue, 2);
        assert!((got.translation - new.translation).norm() < 1e-9);
        assert!(
            (got.translation - second.registration.as_ref().unwrap().camera.translation).norm()
                > 1.0
        );

        // Without an id, the venue's first camera (the one the engine follows).
        let venue = registered_venue(Some(&base), None, &new, SIZE, None, 0).unwrap();
        assert!((registered(&venue, 1).translation - new.translation).norm() < 1e-9);
        assert_eq!(venue.cameras[1], second);
    }

    #[test]
    fn a_registration_for_a_camera_the_venue_lacks_is_refused() {
        let base = Venue {
            cameras: vec![camera_calibration(&camera(0.0, 0.3), SIZE, None, 1, 0).unwrap()],
        };
        let err = registered_venue(Some(&base), Some(7), &camera(0.0, 0.3), SIZE, None, 0)
            .expect_err("no camera 7");
        assert!(err.contains('7'), "{err}");
        let empty = Venue { cameras: vec![] };
        assert!(registered_venue(Some(&empty), None, &camera(0.0, 0.3), SIZE, None, 0).is_err());
    }
}
