//! The key panel: key samples clicked on the image (inclusion, Shift = exclusion, undo), the
//! automatic palette from the field area under the current pose, tolerance, softness and edge
//! filter, and loading and saving `key.toml`.

use yardline_frame::{FrameLayout, FrameRef, PixelFormat};
use yardline_keying::{
    AutoPaletteOptions, EdgeFilter, KeyConfig, Palette, PixelRect, SampleKind, auto_palette,
};

use super::{CLICK_SAMPLE_SIZE, OperatorApp};
use crate::overlay;

impl OperatorApp {
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

    pub(super) fn key_panel(&mut self, ui: &mut egui::Ui) {
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
        if ui
            .checkbox(&mut self.config.clean_plate, "Clean plate")
            .on_hover_text(
                "Learn the empty field under each line and key against it beside the colour \
                 key: kits of any colour stay over the line, painted logos and coloured lines \
                 take it (composited on the CPU)",
            )
            .changed()
        {
            self.config_changed();
        }
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
}
