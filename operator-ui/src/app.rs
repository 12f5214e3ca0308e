//! The operator app: the image with its tools, and the side panels (line, key, calibration,
//! health). Panels are small functions of `&mut Ui` over [`OperatorApp`].

use std::collections::VecDeque;

use egui::{Color32, Key, Pos2, Rect, Sense, Stroke, TextureHandle, TextureOptions, Vec2};
use yardline_engine::EngineConfig;
use yardline_engine::field::{FieldModel, parse_yard, yard_label};
use yardline_engine::pose::PoseSource;
use yardline_frame::{FrameLayout, FrameRef, PixelFormat};
use yardline_keying::PixelRect;
use yardline_keying::{
    AutoPaletteOptions, EdgeFilter, KeyConfig, Palette, SampleKind, auto_palette,
};

use crate::calib::Wizard;
use crate::overlay;
use crate::settings::{LineStyle, Settings, ViewMode};
use crate::video::{Command, Preview, Published, VideoThread};

/// Small nudge of the first-down line (yards; arrow keys).
pub const NUDGE_SMALL_YD: f64 = 0.1;
/// Large nudge of the first-down line (yards; Shift + arrow keys).
pub const NUDGE_LARGE_YD: f64 = 1.0;
/// Side of the square sampled around a single key click (pixels).
pub const CLICK_SAMPLE_SIZE: u32 = 5;
/// Frame times kept for the plot (frames).
const PLOT_FRAMES: usize = 600;
/// Zoom limits of the image view (multiples of "fit").
const ZOOM_RANGE: (f32, f32) = (0.25, 16.0);
/// Yard positions a line may be placed at (yards; end zones included).
const YARD_RANGE: (f64, f64) = (-10.0, 110.0);

/// What a primary click on the image does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// Click places the first-down line at the clicked yard.
    PlaceLine,
    /// Click/drag adds an inclusion sample; with Shift an exclusion sample.
    KeySamples,
}

/// The operator app.
pub struct OperatorApp {
    video: VideoThread,
    /// Settings the operator asked for (sent to the engine on change).
    config: EngineConfig,
    config_pending: bool,
    key: Option<KeyConfig>,
    key_pending: bool,
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
    message: Option<String>,
    wizard: Wizard,
    freeze: Option<Preview>,
}

#[derive(Default)]
struct Textures {
    program: Option<TextureHandle>,
    clean: Option<TextureHandle>,
    matte: Option<TextureHandle>,
    matte_key_version: u64,
    matte_stale: bool,
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

    /// Screen position of image pixel `px` in the last drawn frame.
    pub fn image_to_screen(&self, px: [f64; 2]) -> Option<Pos2> {
        let (rect, w, h) = self.image_geometry()?;
        Some(Pos2::new(
            rect.min.x + ((px[0] + 0.5) / w) as f32 * rect.width(),
            rect.min.y + ((px[1] + 0.5) / h) as f32 * rect.height(),
        ))
    }

    /// Image pixel under screen position `pos` in the last drawn frame.
    pub fn screen_to_image(&self, pos: Pos2) -> Option<[f64; 2]> {
        let (rect, w, h) = self.image_geometry()?;
        Some([
            f64::from((pos.x - rect.min.x) / rect.width()) * w - 0.5,
            f64::from((pos.y - rect.min.y) / rect.height()) * h - 0.5,
        ])
    }

    fn image_geometry(&self) -> Option<(Rect, f64, f64)> {
        let rect = self.image_rect?;
        let p = self.shown_frame()?;
        Some((rect, f64::from(p.width), f64::from(p.height)))
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
    }

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

    fn sync_style_settings(&mut self) {
        self.settings.first_down = LineStyle::of(&self.config.first_down);
        self.settings.scrimmage = LineStyle::of(&self.config.scrimmage);
    }

    // ---- keying -----------------------------------------------------------------------------

    fn set_key(&mut self, key: KeyConfig) {
        self.key = Some(key);
        self.key_pending = true;
    }

    /// An automatic palette from the shown frame's field area (its current pose).
    fn auto_palette_now(&self) -> Result<Palette, String> {
        let p = self.shown_frame().ok_or("no frame yet")?;
        let camera = p
            .report
            .camera
            .as_ref()
            .ok_or("no camera pose on this frame")?;
        let outline = overlay::field_outline(camera, &self.field);
        let layout =
            FrameLayout::packed(PixelFormat::Rgba, p.width, p.height).map_err(|e| e.to_string())?;
        let frame = FrameRef::new(&layout, &p.clean).map_err(|e| e.to_string())?;
        let opts = AutoPaletteOptions {
            tolerance: self.tolerance,
            softness: self.softness,
            ..AutoPaletteOptions::default()
        };
        auto_palette(
            frame,
            |x, y| overlay::inside_polygon(f64::from(x), f64::from(y), &outline),
            &opts,
        )
        .map_err(|e| e.to_string())
    }

    fn run_auto_palette(&mut self) {
        match self.auto_palette_now() {
            Ok(palette) => {
                let mut key = self.key.clone().unwrap_or_else(|| KeyConfig {
                    edge_filter: self.edge,
                    ..KeyConfig::default()
                });
                key.palette = palette;
                self.message = Some(format!(
                    "automatic palette: {} samples",
                    key.palette.samples.len()
                ));
                self.set_key(key);
            }
            Err(e) => self.message = Some(format!("auto palette: {e}")),
        }
    }

    /// Adds a key sample from image rectangle corners `a`, `b` (pixels) of the shown frame.
    pub fn add_key_sample(&mut self, a: [f64; 2], b: [f64; 2], kind: SampleKind) {
        let result = self.sample_rect(a, b, kind);
        match result {
            Ok(key) => {
                self.message = Some(format!(
                    "{} sample added ({} in palette)",
                    match kind {
                        SampleKind::Inclusion => "inclusion",
                        SampleKind::Exclusion => "exclusion",
                    },
                    key.palette.samples.len()
                ));
                self.set_key(key);
            }
            Err(e) => self.message = Some(format!("key sample: {e}")),
        }
    }

    fn sample_rect(&self, a: [f64; 2], b: [f64; 2], kind: SampleKind) -> Result<KeyConfig, String> {
        let p = self.shown_frame().ok_or("no frame yet")?;
        let (w, h) = (i64::from(p.width), i64::from(p.height));
        let half = i64::from(CLICK_SAMPLE_SIZE / 2);
        let (mut x0, mut x1) = (a[0].min(b[0]).round() as i64, a[0].max(b[0]).round() as i64);
        let (mut y0, mut y1) = (a[1].min(b[1]).round() as i64, a[1].max(b[1]).round() as i64);
        if x1 - x0 < 2 * half || y1 - y0 < 2 * half {
            let (cx, cy) = (i64::midpoint(x0, x1), i64::midpoint(y0, y1));
            (x0, x1, y0, y1) = (cx - half, cx + half, cy - half, cy + half);
        }
        let (x0, y0) = (x0.clamp(0, w - 1), y0.clamp(0, h - 1));
        let (x1, y1) = (x1.clamp(0, w - 1), y1.clamp(0, h - 1));
        let rect = PixelRect {
            x: u32::try_from(x0).map_err(|e| e.to_string())?,
            y: u32::try_from(y0).map_err(|e| e.to_string())?,
            width: u32::try_from(x1 - x0 + 1).map_err(|e| e.to_string())?,
            height: u32::try_from(y1 - y0 + 1).map_err(|e| e.to_string())?,
        };
        let mut key = match &self.key {
            Some(k) => k.clone(),
            // The first sample refines the automatic palette rather than replacing it.
            None => KeyConfig {
                edge_filter: self.edge,
                ..KeyConfig::new(self.auto_palette_now().unwrap_or_default())
            },
        };
        let layout =
            FrameLayout::packed(PixelFormat::Rgba, p.width, p.height).map_err(|e| e.to_string())?;
        let frame = FrameRef::new(&layout, &p.clean).map_err(|e| e.to_string())?;
        let tolerance = match kind {
            SampleKind::Inclusion => self.tolerance,
            SampleKind::Exclusion => yardline_keying::DEFAULT_EXCLUSION_TOLERANCE,
        };
        key.palette
            .add_from_region(kind, frame, rect, tolerance)
            .map_err(|e| e.to_string())?;
        Ok(key)
    }

    fn undo_sample(&mut self) {
        if let Some(mut key) = self.key.clone()
            && key.palette.remove_last().is_some()
        {
            self.message = Some(format!("{} samples left", key.palette.samples.len()));
            self.set_key(key);
        }
    }

    fn set_tolerance_all(&mut self) {
        if let Some(mut key) = self.key.clone() {
            for s in key
                .palette
                .samples
                .iter_mut()
                .filter(|s| s.kind == SampleKind::Inclusion)
            {
                s.tolerance = self.tolerance;
            }
            key.palette.softness = self.softness;
            self.set_key(key);
        }
    }

    /// Gives the operator key the panel's edge filter (keys made later take it too).
    fn set_edge_filter(&mut self) {
        match self.key.clone() {
            Some(mut key) => {
                key.edge_filter = self.edge;
                self.set_key(key);
            }
            None => {
                self.message = Some(
                    "the edge filter applies to the next key made here (sample or auto)".into(),
                );
            }
        }
    }

    fn save_key(&mut self) {
        let path = self.settings.key_path.clone();
        self.message = Some(match &self.key {
            Some(k) => match k.save(&path) {
                Ok(()) => format!("key saved to {path}"),
                Err(e) => format!("cannot save key: {e}"),
            },
            None => "no operator key to save (the automatic palette is in use)".into(),
        });
    }

    fn load_key(&mut self) {
        let path = self.settings.key_path.clone();
        match KeyConfig::load(&path) {
            Ok(k) => {
                self.tolerance = k
                    .palette
                    .samples
                    .first()
                    .map_or(self.tolerance, |s| s.tolerance);
                self.softness = k.palette.softness;
                self.edge = k.edge_filter;
                self.message = Some(format!("key loaded from {path}"));
                self.set_key(k);
            }
            Err(e) => self.message = Some(format!("cannot load key: {e}")),
        }
    }

    // ---- frame intake -----------------------------------------------------------------------

    fn intake(&mut self, ctx: &egui::Context) {
        self.published = self.video.published();
        let Some(p) = self.video.latest_preview() else {
            return;
        };
        let size = [p.width as usize, p.height as usize];
        let opts = TextureOptions::LINEAR;
        let frozen = self.wizard.frozen().is_some() || self.freeze.is_some();
        if !frozen {
            set_texture(
                ctx,
                &mut self.textures.program,
                "program",
                egui::ColorImage::from_rgba_unmultiplied(size, &p.program),
                opts,
            );
            set_texture(
                ctx,
                &mut self.textures.clean,
                "clean",
                egui::ColorImage::from_rgba_unmultiplied(size, &p.clean),
                opts,
            );
            self.textures.matte_stale = true;
        }
        let t = &p.report.timings;
        self.times.push_back([p.report.frame as f64, t.total]);
        while self.times.len() > PLOT_FRAMES {
            self.times.pop_front();
        }
        self.preview = Some(p);
    }

    fn update_matte(&mut self, ctx: &egui::Context) {
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
        let Ok(layout) = FrameLayout::packed(PixelFormat::Rgba, p.width, p.height) else {
            return;
        };
        let Ok(frame) = FrameRef::new(&layout, &p.clean) else {
            return;
        };
        match key.keyer().key_frame(frame) {
            Ok(matte) => {
                let grey: Vec<u8> = matte
                    .iter()
                    .map(|k| (k.clamp(0.0, 1.0) * 255.0).round() as u8)
                    .collect();
                let image =
                    egui::ColorImage::from_gray([p.width as usize, p.height as usize], &grey);
                set_texture(
                    ctx,
                    &mut self.textures.matte,
                    "matte",
                    image,
                    TextureOptions::LINEAR,
                );
            }
            Err(e) => tracing::warn!("key matte: {e}"),
        }
        self.textures.matte_stale = false;
        self.textures.matte_key_version = self.published.key_version;
    }

    // ---- keyboard ---------------------------------------------------------------------------

    fn keyboard(&mut self, ctx: &egui::Context) {
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

    fn line_panel(&mut self, ui: &mut egui::Ui) {
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

    fn key_panel(&mut self, ui: &mut egui::Ui) {
        ui.heading("Key");
        let samples = self
            .key
            .as_ref()
            .map(|k| (k.palette.inclusion().count(), k.palette.exclusion().count()));
        ui.label(match samples {
            Some((i, e)) => format!("operator palette: {i} inclusion, {e} exclusion samples"),
            None if self.published.key.is_some() => "automatic palette".to_string(),
            None => "no key yet".to_string(),
        });
        ui.small("Key tool: click/drag to add field colour, Shift+click/drag for players.");
        let mut changed = ui
            .add(egui::Slider::new(&mut self.tolerance, 0.5..=10.0).text("Tolerance"))
            .changed();
        changed |= ui
            .add(egui::Slider::new(&mut self.softness, 0.0..=5.0).text("Softness"))
            .changed();
        if changed {
            self.set_tolerance_all();
        }
        ui.horizontal(|ui| {
            let before = self.edge;
            ui.label("Edges:");
            ui.radio_value(&mut self.edge, EdgeFilter::Unmix, "Unmix edges")
                .on_hover_text(
                    "Key a player's edge by its share of kit; the grass beside keeps the line",
                );
            ui.radio_value(&mut self.edge, EdgeFilter::Min, "Min-filter")
                .on_hover_text("Key out a rim round every player (and thin dark edges)");
            if self.edge != before {
                self.set_edge_filter();
            }
        });
        ui.horizontal(|ui| {
            if ui.button("Auto palette").clicked() {
                self.run_auto_palette();
            }
            if ui
                .add_enabled(self.key.is_some(), egui::Button::new("Undo sample"))
                .clicked()
            {
                self.undo_sample();
            }
        });
        ui.horizontal(|ui| {
            let label = ui.label("Key file");
            ui.text_edit_singleline(&mut self.settings.key_path)
                .labelled_by(label.id);
        });
        ui.horizontal(|ui| {
            if ui.button("Save key").clicked() {
                self.save_key();
            }
            if ui.button("Load key").clicked() {
                self.load_key();
            }
        });
    }

    fn health_panel(&mut self, ui: &mut egui::Ui) {
        ui.heading("Health");
        let p = &self.published;
        let report = self.preview.as_ref().map(|p| &p.report);
        let source = report.map_or(PoseSource::None, |r| r.source);
        let colour = source_colour(source);
        ui.horizontal(|ui| {
            ui.label("Pose");
            let (rect, _) = ui.allocate_exact_size(Vec2::splat(12.0), Sense::hover());
            ui.painter().circle_filled(rect.center(), 5.0, colour);
            ui.colored_label(colour, source.as_str());
        });
        let residual = report
            .and_then(|r| r.residual_px)
            .map_or_else(|| "-".into(), |r| format!("{r:.2} px"));
        egui::Grid::new("health_grid")
            .num_columns(2)
            .show(ui, |ui| {
                ui.label("Residual");
                ui.label(residual);
                ui.end_row();
                ui.label("Tracking packets/s");
                ui.label(format!("{:.1}", p.packets_per_second));
                ui.end_row();
                ui.label("Checksum failures");
                ui.label(p.checksum_failures.to_string());
                ui.end_row();
                ui.label("Frames");
                ui.label(p.frames.to_string());
                ui.end_row();
                ui.label("Passed through untouched");
                ui.label(format!(
                    "{} ({} faults)",
                    p.stats.frames.saturating_sub(p.stats.drawn),
                    p.stats.faults
                ));
                ui.end_row();
                ui.label("Frame time");
                ui.label(
                    report.map_or_else(|| "-".into(), |r| format!("{:.2} ms", r.timings.total)),
                );
                ui.end_row();
                ui.label("Compositor");
                ui.label(p.backend.clone());
                ui.end_row();
                ui.label("Preview drops");
                ui.label(p.preview_drops.to_string());
                ui.end_row();
            });
        let budget_ms = self.config.frame_period_ns as f64 / 1e6;
        let points: Vec<[f64; 2]> = self.times.iter().copied().collect();
        egui_plot::Plot::new("frame_times")
            .height(120.0)
            .include_y(0.0)
            .include_y(budget_ms * 1.1)
            .allow_scroll(false)
            .allow_drag(false)
            .allow_zoom(false)
            .y_axis_label("ms")
            .show(ui, |plot| {
                plot.line(egui_plot::Line::new("frame time (ms)", points));
                plot.hline(
                    egui_plot::HLine::new("frame budget", budget_ms)
                        .color(Color32::from_rgb(220, 60, 60)),
                );
            });
        if let Some(e) = &p.error {
            ui.colored_label(Color32::from_rgb(230, 80, 80), e);
        }
        if p.ended {
            ui.label("source ended");
        }
    }

    // ---- image ------------------------------------------------------------------------------

    fn image_area(&mut self, ui: &mut egui::Ui) {
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
        let uv = Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));
        let textures = &self.textures;
        let tex = |t: &Option<TextureHandle>| t.as_ref().map(TextureHandle::id);
        match self.settings.view {
            ViewMode::Program => {
                if let Some(id) = tex(&textures.program) {
                    painter.image(id, rect, uv, Color32::WHITE);
                }
            }
            ViewMode::Clean => {
                if let Some(id) = tex(&textures.clean) {
                    painter.image(id, rect, uv, Color32::WHITE);
                }
            }
            ViewMode::Matte => {
                if let Some(id) = tex(&textures.matte).or(tex(&textures.clean)) {
                    painter.image(id, rect, uv, Color32::WHITE);
                }
            }
            ViewMode::Split => {
                let mid = rect.center().x;
                let (left, right) = (
                    Rect::from_min_max(rect.min, Pos2::new(mid, rect.max.y)),
                    Rect::from_min_max(Pos2::new(mid, rect.min.y), rect.max),
                );
                let (luv, ruv) = (
                    Rect::from_min_max(Pos2::ZERO, Pos2::new(0.5, 1.0)),
                    Rect::from_min_max(Pos2::new(0.5, 0.0), Pos2::new(1.0, 1.0)),
                );
                if let Some(id) = tex(&textures.program) {
                    painter.image(id, left, luv, Color32::WHITE);
                }
                if let Some(id) = tex(&textures.matte).or(tex(&textures.clean)) {
                    painter.image(id, right, ruv, Color32::WHITE);
                }
                painter.vline(mid, rect.y_range(), Stroke::new(1.0, Color32::WHITE));
            }
        }
        if self.settings.wireframe || self.wizard.is_open() {
            self.draw_wireframe(&painter);
        }
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
        }
    }

    fn wizard_panel(&mut self, ui: &mut egui::Ui) {
        let frame = self.freeze.clone().or_else(|| self.preview.clone());
        let delay = self.published.tracking_delay_ns;
        self.wizard
            .panel(ui, &self.field, frame, &mut self.settings.venue_path, delay);
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
    let (w, h) = (f64::from(size.0), f64::from(size.1));
    let to_screen = |px: [f64; 2]| {
        Pos2::new(
            rect.min.x + ((px[0] + 0.5) / w) as f32 * rect.width(),
            rect.min.y + ((px[1] + 0.5) / h) as f32 * rect.height(),
        )
    };
    let stroke = Stroke::new(1.0, Color32::from_rgb(0, 255, 255));
    for run in overlay::wireframe(camera, field, size.0, size.1) {
        let pts: Vec<Pos2> = run.iter().map(|&px| to_screen(px)).collect();
        painter.add(egui::Shape::line(pts, stroke));
    }
}

fn source_colour(source: PoseSource) -> Color32 {
    match source {
        PoseSource::Sensor => Color32::from_rgb(60, 200, 90),
        PoseSource::Fused => Color32::from_rgb(80, 170, 255),
        PoseSource::Vision => Color32::from_rgb(240, 200, 40),
        PoseSource::Hold => Color32::from_rgb(255, 140, 0),
        PoseSource::None => Color32::from_rgb(230, 60, 60),
    }
}

fn set_texture(
    ctx: &egui::Context,
    slot: &mut Option<TextureHandle>,
    name: &str,
    image: egui::ColorImage,
    options: TextureOptions,
) {
    match slot {
        Some(t) if t.size() == image.size => t.set(image, options),
        _ => *slot = Some(ctx.load_texture(name, image, options)),
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
