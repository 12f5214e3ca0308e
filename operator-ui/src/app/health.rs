//! The health panel: the pose source and its residual, the tracking rate and checksum
//! failures, frame counts, the frame time against the frame budget (with a plot of recent
//! frames), the compositor in use, and the last error.

use egui::{Color32, Sense, Vec2};
use yardline_engine::pose::PoseSource;

use super::OperatorApp;

impl OperatorApp {
    /// The health panel, from the shown preview's report and what the video thread published.
    pub(super) fn health_panel(&mut self, ui: &mut egui::Ui) {
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
        let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
        let rows = [
            (
                "Residual",
                or_dash(
                    report
                        .and_then(|r| r.residual_px)
                        .map(|r| format!("{r:.2} px")),
                ),
            ),
            ("Tracking packets/s", format!("{:.1}", p.packets_per_second)),
            ("Checksum failures", p.checksum_failures.to_string()),
            ("Frames", p.stats.frames.to_string()),
            (
                "Passed through untouched",
                format!(
                    "{} ({} faults)",
                    p.stats.frames.saturating_sub(p.stats.drawn),
                    p.stats.faults
                ),
            ),
            (
                "Frame time",
                or_dash(report.map(|r| format!("{:.2} ms", r.timings.total))),
            ),
            ("Compositor", p.backend.clone()),
            ("Preview drops", p.preview_drops.to_string()),
        ];
        egui::Grid::new("health_grid")
            .num_columns(2)
            .show(ui, |ui| {
                for (name, value) in rows {
                    ui.label(name);
                    ui.label(value);
                    ui.end_row();
                }
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
}

/// Colour of a pose source in the health panel (green sensor, blue fused, yellow vision,
/// orange hold, red none).
fn source_colour(source: PoseSource) -> Color32 {
    match source {
        PoseSource::Sensor => Color32::from_rgb(60, 200, 90),
        PoseSource::Fused => Color32::from_rgb(80, 170, 255),
        PoseSource::Vision => Color32::from_rgb(240, 200, 40),
        PoseSource::Hold => Color32::from_rgb(255, 140, 0),
        PoseSource::None => Color32::from_rgb(230, 60, 60),
    }
}
