//! The remote mode: the app drives the engines of every camera (elements with
//! `control=ADDR:PORT`) instead of playing a file itself.
//!
//! - `fleet`: the saved list of engines (address + token), and per engine a poller and a
//!   sender of changes;
//! - `tally`: which camera is on air (TSL UMD v3.1 over UDP, or a manual toggle);
//! - `editor`: the engine list editor (add, remove, edit; saved to the list's file);
//! - `register`: re-registering an engine on a full-size still of its input (the
//!   calibration wizard's clicks, the solved camera sent with `register`);
//! - this file: [`RemoteApp`], one "first down at" for every camera, and a card per camera
//!   (name, health, pose, thumbnail, on-air highlight).

pub mod editor;
pub mod fleet;
pub mod register;
pub mod tally;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use yardline_control::{Change, Health};
use yardline_engine::field::parse_yard;

pub use editor::{EditorAction, ListEditor};
pub use fleet::{
    EngineEntry, EngineView, Fleet, Remote, SetAnswer, Still, load_list, save_list, validate_list,
};
pub use register::{RegistrationAction, RemoteRegistration};
pub use tally::{TallyMap, TslListener, parse_tsl_v31};

/// Width of a camera's thumbnail on screen (points).
pub const THUMBNAIL_WIDTH: f32 = 240.0;

/// The operator app in remote mode.
pub struct RemoteApp {
    fleet: Fleet,
    /// The first down last sent to every camera (yards from the left goal line).
    first_down: f64,
    /// What the operator typed (yards, or "own 35" / "opp 20").
    first_down_entry: String,
    /// The programme tally per TSL display address (from the listener and manual toggles).
    tally: TallyMap,
    _listener: Option<TslListener>,
    textures: BTreeMap<usize, (u64, egui::TextureHandle)>,
    message: Option<String>,
    /// The engine list's file, where the editor saves.
    list_path: Option<PathBuf>,
    /// The engine list editor, while open.
    editor: Option<ListEditor>,
    /// The key file typed on each camera's card.
    key_files: BTreeMap<usize, String>,
    /// A still asked for a re-registration: the engine, its still answers and the number of
    /// its last still then.
    still_wanted: Option<(usize, u64, u64)>,
    /// The re-registration window, while open.
    registration: Option<RemoteRegistration>,
}

impl std::fmt::Debug for RemoteApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteApp")
            .field("fleet", &self.fleet)
            .field("first_down", &self.first_down)
            .finish_non_exhaustive()
    }
}

impl RemoteApp {
    /// The app over `list`, with a TSL UMD listener when given.
    pub fn new(list: Vec<EngineEntry>, listener: Option<TslListener>, tally: TallyMap) -> Self {
        Self {
            fleet: Fleet::start(list),
            first_down: 35.0,
            first_down_entry: String::new(),
            tally,
            _listener: listener,
            textures: BTreeMap::new(),
            message: None,
            list_path: None,
            editor: None,
            key_files: BTreeMap::new(),
            still_wanted: None,
            registration: None,
        }
    }

    /// The re-registration window's state, while open.
    pub fn registration(&self) -> Option<&RemoteRegistration> {
        self.registration.as_ref()
    }

    /// Asks camera `i`'s engine for a full-size still; the re-registration window opens on
    /// it when it comes.
    fn request_still(&mut self, i: usize) {
        let remote = &self.fleet.engines[i];
        let view = remote.view();
        let last = view.still.as_ref().map_or(0, |s| s.seq);
        self.message = Some(match remote.request_still() {
            Ok(()) => {
                self.still_wanted = Some((i, view.still_answers, last));
                format!("{}: fetching a full-size still", remote.entry.name)
            }
            Err(e) => e,
        });
    }

    /// Opens the re-registration window once the still asked for came (or says why not),
    /// takes the engine's answer to a registration sent, and hands over what the operator did
    /// in the window.
    fn registration_window(&mut self, ctx: &egui::Context) {
        if let Some((i, answers, last)) = self.still_wanted {
            let view = self.fleet.engines[i].view();
            if view.still_answers > answers {
                self.still_wanted = None;
                let name = self.fleet.engines[i].entry.name.clone();
                if let Some(still) = view.still.filter(|s| s.seq > last) {
                    self.message = Some(format!(
                        "{name}: still {}x{}: click the landmarks",
                        still.width, still.height
                    ));
                    // The engine's own field (its status says which), NFL when it has not
                    // said yet.
                    let field = view
                        .status
                        .as_ref()
                        .and_then(|s| s.field.as_deref())
                        .and_then(|f| f.parse().ok());
                    self.registration = Some(RemoteRegistration::new(i, name, still, field));
                } else {
                    let why = view.still_error.unwrap_or_else(|| "no still".into());
                    self.message = Some(format!("{name}: still: {why}"));
                }
            }
        }
        let Some(reg) = self.registration.as_mut() else {
            return;
        };
        let remote = &self.fleet.engines[reg.engine];
        let view = remote.view();
        if let Some(text) = reg.take_answer(&view) {
            self.message = Some(text);
        }
        match reg.window(ctx, &view) {
            RegistrationAction::None => {}
            RegistrationAction::Close => self.registration = None,
            RegistrationAction::Send(camera) => {
                reg.sent(view.last_set.as_ref());
                self.message = Some(match remote.send(Change::Register(camera)) {
                    Ok(()) => format!("{}: registration sent", reg.name),
                    Err(e) => e,
                });
            }
        }
    }

    /// Sends the key file typed on camera `i`'s card to its engine (the engine validates it
    /// and applies it at its next frame boundary; a refusal shows on the card).
    fn send_key(&mut self, i: usize) {
        let name = self.fleet.engines[i].entry.name.clone();
        let path = self.key_files.get(&i).map_or("", |p| p.trim()).to_owned();
        let change = if path.eq_ignore_ascii_case("auto") {
            Ok(Change::Key(None))
        } else {
            std::fs::read_to_string(&path)
                .map(|text| Change::Key(Some(text)))
                .map_err(|e| format!("{name}: key file {path:?}: {e}"))
        };
        self.message = Some(match change.and_then(|c| self.fleet.engines[i].send(c)) {
            Ok(()) => format!("{name}: key sent"),
            Err(e) => e,
        });
    }

    /// The app saves its edited engine list to `path` (the list it was started with).
    #[must_use]
    pub fn with_list_path(mut self, path: PathBuf) -> Self {
        self.list_path = Some(path);
        self
    }

    /// Saves an edited list and drives it from now on; a refused list changes nothing.
    fn save_engines(&mut self, list: Vec<EngineEntry>) {
        let Some(path) = self.list_path.clone() else {
            return;
        };
        match save_list(&path, &list) {
            Ok(()) => {
                self.fleet = Fleet::start(list);
                self.textures.clear();
                self.still_wanted = None;
                self.registration = None;
                self.editor = None;
                self.message = Some(format!("engines saved to {}", path.display()));
            }
            Err(e) => {
                let why = format!("engines not saved: {e}");
                if let Some(ed) = self.editor.as_mut() {
                    ed.error = Some(why.clone());
                }
                self.message = Some(why);
            }
        }
    }

    fn editor_window(&mut self, ctx: &egui::Context) {
        let Some(editor) = self.editor.as_mut() else {
            return;
        };
        let mut action = EditorAction::None;
        egui::Window::new("Engines")
            .collapsible(false)
            .show(ctx, |ui| action = editor.ui(ui));
        match action {
            EditorAction::None => {}
            EditorAction::Close => self.editor = None,
            EditorAction::Save(list) => self.save_engines(list),
        }
    }

    /// The engines.
    pub fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    /// The TSL display address of engine `i`.
    fn tally_address(&self, i: usize) -> u8 {
        self.fleet.engines[i]
            .entry
            .tally_address
            .unwrap_or(i.min(126) as u8)
    }

    /// Engine `i` is on air.
    pub fn on_air(&self, i: usize) -> bool {
        let address = self.tally_address(i);
        self.tally
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&address)
            .copied()
            .unwrap_or(false)
    }

    /// The first down last sent to every camera (yards).
    pub fn first_down(&self) -> f64 {
        self.first_down
    }

    /// The last message for the operator.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    fn toggle_on_air(&mut self, i: usize) {
        let address = self.tally_address(i);
        let mut map = self.tally.lock().unwrap_or_else(PoisonError::into_inner);
        let now = !map.get(&address).copied().unwrap_or(false);
        if now {
            // One camera on air at a time by hand.
            map.values_mut().for_each(|v| *v = false);
        }
        map.insert(address, now);
    }

    fn top_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let label = ui.label("First down at");
            let r = ui
                .add(
                    egui::TextEdit::singleline(&mut self.first_down_entry)
                        .desired_width(80.0)
                        .hint_text("own 35"),
                )
                .labelled_by(label.id);
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui.button("Send to all cameras").clicked() || enter {
                self.send_first_down();
            }
            if self.list_path.is_some()
                && self.editor.is_none()
                && ui.button("Edit engines").clicked()
            {
                self.editor = Some(ListEditor::new(&self.fleet.entries()));
            }
        });
    }

    /// Sends the entered first down to every camera.
    fn send_first_down(&mut self) {
        match parse_yard(&self.first_down_entry) {
            Ok(yard) => {
                self.first_down = yard;
                let full = self.fleet.send_all(&Change::FirstDown(yard));
                self.message = Some(if full.is_empty() {
                    format!("first down {yard:.1} sent to every camera")
                } else {
                    full.join("; ")
                });
            }
            Err(e) => self.message = Some(e.to_string()),
        }
    }

    fn card(&mut self, ui: &mut egui::Ui, i: usize, view: &EngineView) {
        let on_air = self.on_air(i);
        let name = self.fleet.engines[i].entry.name.clone();
        let stroke = if on_air {
            egui::Stroke::new(4.0, egui::Color32::RED)
        } else {
            egui::Stroke::new(1.0, egui::Color32::GRAY)
        };
        egui::Frame::group(ui.style())
            .stroke(stroke)
            .show(ui, |ui| {
                ui.vertical(|ui| {
                    ui.horizontal(|ui| {
                        ui.strong(&name);
                        if ui
                            .selectable_label(on_air, format!("On air: {name}"))
                            .clicked()
                        {
                            self.toggle_on_air(i);
                        }
                    });
                    let (text, colour) = health_text(view);
                    ui.colored_label(colour, text);
                    if let Some(f) = view.status.as_ref().and_then(|s| s.last_frame.as_ref()) {
                        ui.label(format!(
                            "{} conf {:.2} engine {:.1} ms",
                            f.source, f.confidence, f.timings_ms.engine
                        ));
                    }
                    if let Some(yd) = view
                        .status
                        .as_ref()
                        .and_then(|s| s.settings.get("first-down"))
                        .and_then(serde_json::Value::as_f64)
                    {
                        ui.label(format!("first down {yd:.1}"));
                    }
                    if let Some(s) = &view.status {
                        let hash = s.key.hash.as_deref().unwrap_or("");
                        ui.label(format!("key {:?} {hash}", s.key.source).to_lowercase());
                    }
                    ui.horizontal(|ui| {
                        let l = ui.label(format!("Key file: {name}"));
                        let path = self.key_files.entry(i).or_default();
                        ui.add(egui::TextEdit::singleline(path).desired_width(120.0))
                            .labelled_by(l.id);
                        if ui.button(format!("Send key: {name}")).clicked() {
                            self.send_key(i);
                        }
                    });
                    if let Some(s) = &view.status
                        && s.registrations > 0
                    {
                        ui.label(format!("re-registrations {}", s.registrations));
                    }
                    if ui.button(format!("Re-register: {name}")).clicked() {
                        self.request_still(i);
                    }
                    if let Some(e) = view.error.as_deref().filter(|_| view.connected) {
                        ui.colored_label(egui::Color32::RED, e);
                    }
                    if let Some(p) = &view.picture {
                        let stale = self.textures.get(&i).is_none_or(|(seq, _)| *seq != p.seq);
                        if stale {
                            let image = egui::ColorImage::from_rgb([p.width, p.height], &p.rgb);
                            let tex = ui.ctx().load_texture(
                                format!("camera {i}"),
                                image,
                                egui::TextureOptions::LINEAR,
                            );
                            self.textures.insert(i, (p.seq, tex));
                        }
                        if let Some((_, tex)) = self.textures.get(&i) {
                            let h = THUMBNAIL_WIDTH * p.height as f32 / p.width.max(1) as f32;
                            ui.image((tex.id(), egui::vec2(THUMBNAIL_WIDTH, h)));
                        }
                    }
                });
            });
    }
}

fn health_text(view: &EngineView) -> (String, egui::Color32) {
    if !view.connected {
        let why = view.error.as_deref().unwrap_or("connecting");
        return (format!("offline: {why}"), egui::Color32::GRAY);
    }
    match view.status.as_ref().map(|s| s.health) {
        Some(Health::Ok) => ("ok".into(), egui::Color32::GREEN),
        Some(Health::NoPose) => ("no pose".into(), egui::Color32::YELLOW),
        Some(Health::Fault) => ("fault".into(), egui::Color32::RED),
        Some(Health::Idle) | None => ("idle".into(), egui::Color32::GRAY),
    }
}

impl eframe::App for RemoteApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::Panel::top("remote_top").show(ui, |ui| self.top_bar(ui));
        egui::Panel::bottom("remote_status").show(ui, |ui| {
            ui.label(self.message.as_deref().unwrap_or("ready"));
        });
        egui::CentralPanel::default().show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    for i in 0..self.fleet.engines.len() {
                        let view = self.fleet.engines[i].view();
                        self.card(ui, i, &view);
                    }
                });
            });
        });
        self.editor_window(ui.ctx());
        self.registration_window(ui.ctx());
        // The pollers update on their own clock: look again soon.
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(100));
    }
}

/// A fresh tally map.
pub fn tally_map() -> TallyMap {
    Arc::new(Mutex::new(BTreeMap::new()))
}
