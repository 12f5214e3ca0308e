//! The operator app: the image with its tools, and the side panels (line, key, calibration,
//! health). Panels are small functions of `&mut Ui` over [`OperatorApp`].
//!
//! - this file: the app's state, the frame intake, the engine commands, the top bar and the
//!   layout of one UI pass;
//! - `views`: the image area (program / clean / key matte / split, zoom and pan, the field
//!   wireframe) and what clicks on it do;
//! - `line_panel`: placing and styling the lines, the arrow-key nudges;
//! - `key_panel`: key samples, the automatic palette, `key.toml`;
//! - `health`: the health panel.

mod exclusion_panel;
mod health;
mod key_panel;
mod line_panel;
mod views;

use std::collections::VecDeque;

use egui::{Rect, Vec2};
use yardline_engine::EngineConfig;
use yardline_engine::field::{FieldModel, yard_label};
use yardline_keying::{EdgeFilter, Exclusion, KeyConfig};

use crate::calib::{Outcome, PanelInputs, Purpose, Wizard};
use crate::settings::{LineStyle, Settings, ViewMode};
use crate::video::{Command, Preview, Published, VideoThread};

pub use health::{TrackingView, tracking_view};
use views::Textures;
pub use views::paint_wireframe;

/// Small nudge of the first-down line (yards; arrow keys).
pub const NUDGE_SMALL_YD: f64 = 0.1;
/// Large nudge of the first-down line (yards; Shift + arrow keys).
pub const NUDGE_LARGE_YD: f64 = 1.0;
/// Side of the square sampled around a single key click (pixels).
pub const CLICK_SAMPLE_SIZE: u32 = 5;
/// Frame times kept for the plot (frames).
const PLOT_FRAMES: usize = 600;

/// What a primary click on the image does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// Click places the first-down line at the clicked yard.
    PlaceLine,
    /// Click/drag adds an inclusion sample; with Shift an exclusion sample.
    KeySamples,
    /// Drag adds an image-space exclusion rectangle (never drawn over).
    ExcludeRect,
    /// Clicks add the corners of an image-space exclusion polygon ("Close polygon" ends it).
    ExcludePolygon,
}

/// The operator app.
pub struct OperatorApp {
    video: VideoThread,
    /// Settings the operator asked for (sent to the engine on change).
    config: EngineConfig,
    config_pending: bool,
    key: Option<KeyConfig>,
    key_pending: bool,
    /// Venue and registration commands not sent yet (the queue was full), in order.
    commands_pending: VecDeque<Command>,
    settings: Settings,
    preview: Option<Preview>,
    published: Published,
    textures: Textures,
    zoom: f32,
    pan: Vec2,
    image_rect: Option<Rect>,
    tool: Tool,
    hidden: Option<(bool, bool)>,
    yard_entry: String,
    tolerance: f64,
    softness: f64,
    /// The edge filter of the operator key (and of the keys the panel makes).
    edge: EdgeFilter,
    field: FieldModel,
    times: VecDeque<[f64; 2]>,
    drag_start: Option<[f64; 2]>,
    /// Image-space exclusions (normalised image coordinates), sent to the engine on change.
    exclusions: Vec<Exclusion>,
    /// Corners of the exclusion polygon being drawn (normalised).
    polygon: Vec<[f64; 2]>,
    message: Option<String>,
    wizard: Wizard,
    freeze: Option<Preview>,
}

impl std::fmt::Debug for OperatorApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorApp")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl OperatorApp {
    /// The app over a running video thread; `config` and `key` are what the engine started
    /// with, `storage` holds the persisted settings.
    pub fn new(
        video: VideoThread,
        mut config: EngineConfig,
        key: Option<KeyConfig>,
        storage: Option<&dyn eframe::Storage>,
    ) -> Self {
        let settings = Settings::load(storage);
        let stored = storage.is_some_and(|s| s.get_string(eframe::APP_KEY).is_some());
        if stored {
            settings.first_down.apply(&mut config.first_down);
            settings.scrimmage.apply(&mut config.scrimmage);
        }
        let field = FieldModel::new(config.field);
        let palette = key.as_ref().map(|k| k.palette.clone()).unwrap_or_default();
        let exclusions = key
            .as_ref()
            .map(|k| k.exclusions.clone())
            .unwrap_or_default();
        // Without a key file, keys made here unmix edges as the automatic key does.
        let edge = key.as_ref().map_or(EdgeFilter::Unmix, |k| k.edge_filter);
        let tolerance = palette
            .samples
            .first()
            .map_or(yardline_keying::DEFAULT_INCLUSION_TOLERANCE, |s| {
                s.tolerance
            });
        Self {
            video,
            yard_entry: yard_label(config.first_down.yard),
            config,
            config_pending: stored,
            key,
            key_pending: false,
            commands_pending: VecDeque::new(),
            settings,
            preview: None,
            published: Published::default(),
            textures: Textures::default(),
            zoom: 1.0,
            pan: Vec2::ZERO,
            image_rect: None,
            tool: Tool::PlaceLine,
            hidden: None,
            tolerance,
            softness: palette.softness,
            edge,
            field,
            times: VecDeque::with_capacity(PLOT_FRAMES),
            drag_start: None,
            exclusions,
            polygon: Vec::new(),
            message: None,
            wizard: Wizard::default(),
            freeze: None,
        }
    }

    // ---- accessors (tests, embedding) -------------------------------------------------------

    /// The settings the operator asked for.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The engine's settings as the video thread last reported them.
    pub fn engine_config(&self) -> Option<&EngineConfig> {
        self.published.config.as_ref()
    }

    /// What the video thread last published.
    pub fn published(&self) -> &Published {
        &self.published
    }

    /// The operator's key palette, if one was loaded or edited.
    pub fn key_config(&self) -> Option<&KeyConfig> {
        self.key.as_ref()
    }

    /// The frame on screen.
    pub fn preview(&self) -> Option<&Preview> {
        self.preview.as_ref()
    }

    /// The persisted settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The calibration wizard.
    pub fn wizard(&self) -> &Wizard {
        &self.wizard
    }

    /// Current click tool.
    pub fn tool(&self) -> Tool {
        self.tool
    }

    /// The frame the image area shows: the live one, or a frozen one (the wizard's, or the
    /// operator's "Freeze frame").
    pub fn shown_frame(&self) -> Option<&Preview> {
        self.wizard
            .frozen()
            .or(self.freeze.as_ref())
            .or(self.preview.as_ref())
    }

    // ---- engine control ---------------------------------------------------------------------

    fn config_changed(&mut self) {
        self.config_pending = true;
    }

    fn flush_pending(&mut self) {
        if self.config_pending
            && self
                .video
                .send(Command::SetConfig(Box::new(self.config.clone())))
        {
            self.config_pending = false;
        }
        if self.key_pending {
            let cmd = Command::SetKey(self.key.clone().map(Box::new));
            if self.video.send(cmd) {
                self.key_pending = false;
            }
        }
        while let Some(cmd) = self.commands_pending.pop_front() {
            if let Err(cmd) = self.video.try_send(cmd) {
                self.commands_pending.push_front(cmd);
                break;
            }
        }
    }

    /// Hands what the wizard finished to the engine: a saved calibration rebuilds the engine
    /// with its venue; an applied registration becomes the running engine's starting pose.
    fn wizard_outcome(&mut self, outcome: Outcome) {
        let (command, message) = match outcome {
            Outcome::Calibrated(venue) => (
                Command::SetVenue(venue),
                "calibration saved: the engine runs with the new venue",
            ),
            Outcome::Registered { camera, venue } => (
                Command::SetReference { camera, venue },
                "re-registered: tracking starts again from the new camera",
            ),
        };
        self.message = Some(message.into());
        self.commands_pending.push_back(command);
    }

    /// Opens the calibration wizard on the frame on screen to re-register the camera there.
    pub(super) fn start_registration(&mut self) {
        let frame = self.shown_frame().cloned();
        self.wizard.start(frame, Purpose::Register);
    }

    fn sync_style_settings(&mut self) {
        self.settings.first_down = LineStyle::of(&self.config.first_down);
        self.settings.scrimmage = LineStyle::of(&self.config.scrimmage);
    }

    // ---- frame intake -----------------------------------------------------------------------

    fn intake(&mut self, ctx: &egui::Context) {
        self.published = self.video.published();
        let Some(p) = self.video.latest_preview() else {
            return;
        };
        let frozen = self.wizard.frozen().is_some() || self.freeze.is_some();
        if !frozen {
            self.textures.show(ctx, &p);
        }
        let t = &p.report.timings;
        self.times.push_back([p.report.frame as f64, t.total]);
        while self.times.len() > PLOT_FRAMES {
            self.times.pop_front();
        }
        self.preview = Some(p);
    }

    // ---- panels -----------------------------------------------------------------------------

    fn top_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.label("View:");
            for (mode, label) in ViewMode::ALL {
                ui.selectable_value(&mut self.settings.view, mode, label);
            }
            ui.separator();
            ui.checkbox(&mut self.settings.wireframe, "Field wireframe");
            ui.separator();
            ui.label("Tool:");
            ui.selectable_value(&mut self.tool, Tool::PlaceLine, "Place line");
            ui.selectable_value(&mut self.tool, Tool::KeySamples, "Key samples");
            ui.selectable_value(&mut self.tool, Tool::ExcludeRect, "Exclude rectangle");
            ui.selectable_value(&mut self.tool, Tool::ExcludePolygon, "Exclude polygon");
            ui.separator();
            let mut frozen = self.freeze.is_some();
            if ui.checkbox(&mut frozen, "Freeze frame").changed() {
                self.freeze = if frozen { self.preview.clone() } else { None };
            }
            if ui.button("Fit").clicked() {
                self.zoom = 1.0;
                self.pan = Vec2::ZERO;
            }
            ui.label(format!("zoom {:.0} %", self.zoom * 100.0));
        });
    }

    fn wizard_panel(&mut self, ui: &mut egui::Ui) {
        let frame = self.freeze.clone().or_else(|| self.preview.clone());
        let inputs = PanelInputs {
            field: &self.field,
            venue: self.published.venue.as_deref(),
            camera_id: self.config.camera_id,
            tracking_delay_ns: self.published.tracking_delay_ns,
        };
        let outcome = self
            .wizard
            .panel(ui, &inputs, frame, &mut self.settings.venue_path);
        if let Some(o) = outcome {
            self.wizard_outcome(o);
        }
    }
}

impl eframe::App for OperatorApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.intake(&ctx);
        self.keyboard(&ctx);
        self.update_matte(&ctx);
        egui::Panel::top("top_bar").show(ui, |ui| self.top_bar(ui));
        egui::Panel::bottom("status_bar").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.label(self.message.as_deref().unwrap_or("ready"));
            });
        });
        egui::Panel::right("controls")
            .resizable(true)
            .default_size(340.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    // While calibrating, the wizard has the panel to itself (and health).
                    if !self.wizard.is_open() {
                        self.line_panel(ui);
                        ui.separator();
                        self.key_panel(ui);
                        ui.separator();
                        self.exclusion_panel(ui);
                        ui.separator();
                    }
                    self.wizard_panel(ui);
                    ui.separator();
                    self.health_panel(ui);
                });
            });
        egui::CentralPanel::default().show(ui, |ui| self.image_area(ui));
        self.sync_style_settings();
        self.flush_pending();
        ctx.request_repaint_after(std::time::Duration::from_millis(100));
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        self.settings.save(storage);
    }
}
