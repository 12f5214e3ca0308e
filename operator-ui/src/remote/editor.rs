//! The engine list editor of the remote mode: add, remove and edit engines (name, address,
//! token); "Save engines" validates the list and writes it to the file the app was started
//! with (atomically), and the app then drives the new list.

use super::fleet::EngineEntry;

/// One engine as the operator edits it (text fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    /// The camera's name.
    pub name: String,
    /// `HOST:PORT`.
    pub addr: String,
    /// The token; empty for none.
    pub token: String,
    /// The TSL display address, kept as it was.
    pub tally_address: Option<u8>,
}

/// What the operator asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditorAction {
    /// Nothing yet.
    None,
    /// Save this list.
    Save(Vec<EngineEntry>),
    /// Close without saving.
    Close,
}

/// The editor's state while open.
#[derive(Debug, Clone, Default)]
pub struct ListEditor {
    /// The engines being edited.
    pub rows: Vec<Row>,
    /// Why the last save was refused.
    pub error: Option<String>,
}

impl ListEditor {
    /// An editor over `list`.
    pub fn new(list: &[EngineEntry]) -> Self {
        Self {
            rows: list
                .iter()
                .map(|e| Row {
                    name: e.name.clone(),
                    addr: e.addr.clone(),
                    token: e.token.clone().unwrap_or_default(),
                    tally_address: e.tally_address,
                })
                .collect(),
            error: None,
        }
    }

    /// The list as edited (fields trimmed; an empty token is none).
    pub fn entries(&self) -> Vec<EngineEntry> {
        self.rows
            .iter()
            .map(|r| EngineEntry {
                name: r.name.trim().to_owned(),
                addr: r.addr.trim().to_owned(),
                token: Some(r.token.trim().to_owned()).filter(|t| !t.is_empty()),
                tally_address: r.tally_address,
            })
            .collect()
    }

    /// Draws the editor (one row per engine, numbered from 1).
    pub fn ui(&mut self, ui: &mut egui::Ui) -> EditorAction {
        let mut remove = None;
        egui::Grid::new("engine_list")
            .num_columns(4)
            .show(ui, |ui| {
                for (i, row) in self.rows.iter_mut().enumerate() {
                    let n = i + 1;
                    for (label, text, width) in [
                        (format!("Name {n}"), &mut row.name, 100.0),
                        (format!("Address {n}"), &mut row.addr, 140.0),
                        (format!("Token {n}"), &mut row.token, 120.0),
                    ] {
                        let l = ui.label(label);
                        ui.add(egui::TextEdit::singleline(text).desired_width(width))
                            .labelled_by(l.id);
                    }
                    if ui.button(format!("Remove {n}")).clicked() {
                        remove = Some(i);
                    }
                    ui.end_row();
                }
            });
        if let Some(i) = remove {
            self.rows.remove(i);
        }
        if let Some(e) = &self.error {
            ui.colored_label(egui::Color32::RED, e);
        }
        let mut action = EditorAction::None;
        ui.horizontal(|ui| {
            if ui.button("Add engine").clicked() {
                self.rows.push(Row::default());
            }
            if ui.button("Save engines").clicked() {
                action = EditorAction::Save(self.entries());
            }
            if ui.button("Close editor").clicked() {
                action = EditorAction::Close;
            }
        });
        action
    }
}
