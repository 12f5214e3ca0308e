//! The health panel: the pose source, what tracking is doing (its state, the confidence, and
//! why there is no camera when there is none) with the "Re-register on this frame" button, the
//! residual, the tracking rate and checksum failures, frame counts, the frame time against
//! the frame budget (with a plot of recent frames), the compositor in use, and the last error.

use egui::{Color32, Sense, Vec2};
use yardline_engine::FrameReport;
use yardline_engine::pose::{NoPose, PoseSource, TrackState};

use super::OperatorApp;

/// Grey of a value not known yet (no frame).
const UNKNOWN_COLOUR: Color32 = Color32::from_rgb(150, 150, 150);

/// What the health panel says of tracking on one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackingView {
    /// The state's name ("tracking", "holding", "searching", "lost"), "-" before any frame.
    pub state: &'static str,
    /// Its colour: green tracking, orange holding, yellow searching, red lost.
    pub colour: Color32,
    /// How well the frame's painted lines agree with the camera drawn (0..1).
    pub confidence: Option<f64>,
    /// Why the frame has no camera (the engine's name of the reason and what it means to the
    /// operator); `None` when it has one.
    pub reason: Option<(&'static str, &'static str)>,
}

/// The tracking view of the frame whose report is `report` (`None`: no frame yet).
pub fn tracking_view(report: Option<&FrameReport>) -> TrackingView {
    let Some(r) = report else {
        return TrackingView {
            state: "-",
            colour: UNKNOWN_COLOUR,
            confidence: None,
            reason: None,
        };
    };
    TrackingView {
        state: r.state.as_str(),
        colour: state_colour(r.state),
        confidence: Some(r.confidence.clamp(0.0, 1.0)),
        reason: r
            .reason
            .filter(|_| r.camera.is_none())
            .map(|why| (why.as_str(), reason_text(why))),
    }
}

/// Colour of a tracking state.
fn state_colour(state: TrackState) -> Color32 {
    match state {
        TrackState::Tracking => Color32::from_rgb(60, 200, 90),
        TrackState::Holding => Color32::from_rgb(255, 140, 0),
        TrackState::Searching => Color32::from_rgb(240, 200, 40),
        TrackState::Lost => Color32::from_rgb(230, 60, 60),
    }
}

/// What a reason for no camera means to the operator.
fn reason_text(why: NoPose) -> &'static str {
    match why {
        NoPose::NoStart => "no pose to start from: calibrate the camera or re-register",
        NoPose::NoSensor => "no tracking data for this frame",
        NoPose::NoFit => "the painted lines fit no pose near the last good one",
        NoPose::Contradicted => "the painted lines contradict the held camera",
        NoPose::Unchecked => "no painted lines to check the held camera against",
        NoPose::Uncertain => "tracking, but too few painted lines agree to draw",
    }
}

impl OperatorApp {
    /// The health panel, from the shown preview's report and what the video thread published.
    pub(super) fn health_panel(&mut self, ui: &mut egui::Ui) {
        ui.heading("Health");
        let report = self.preview.as_ref().map(|p| &p.report);
        let source = report.map_or(PoseSource::None, |r| r.source);
        let colour = source_colour(source);
        ui.horizontal(|ui| {
            ui.label("Pose");
            let (rect, _) = ui.allocate_exact_size(Vec2::splat(12.0), Sense::hover());
            ui.painter().circle_filled(rect.center(), 5.0, colour);
            ui.colored_label(colour, source.as_str());
        });
        let view = tracking_view(report);
        ui.horizontal(|ui| {
            ui.label("Tracking");
            let (rect, _) = ui.allocate_exact_size(Vec2::splat(12.0), Sense::hover());
            ui.painter().circle_filled(rect.center(), 5.0, view.colour);
            ui.colored_label(view.colour, view.state);
        });
        if let Some((name, text)) = view.reason {
            ui.colored_label(view.colour, format!("{name}: {text}"));
        }
        let can_register = !self.wizard.is_open() && self.shown_frame().is_some();
        if ui
            .add_enabled(can_register, egui::Button::new("Re-register on this frame"))
            .on_hover_text(
                "Click landmarks on the frame on screen: tracking starts again from the camera \
                 solved there, and the venue file keeps it as the registration.",
            )
            .clicked()
        {
            self.start_registration();
        }
        let p = &self.published;
        let report = self.preview.as_ref().map(|p| &p.report);
        let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
        let rows = [
            (
                "Confidence",
                or_dash(view.confidence.map(|c| format!("{c:.2}"))),
            ),
            (
                "Residual",
                or_dash(
                    report
                        .and_then(|r| r.residual_px)
                        .map(|r| format!("{r:.2} px")),
                ),
            ),
            (
                "Tracking matched by",
                or_dash(
                    report
                        .and_then(|r| r.tracking_match)
                        .map(|m| m.as_str().to_owned()),
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

#[cfg(test)]
mod tests {
    use nalgebra::{Point3, Rotation3};
    use yardline_engine::{Camera, Intrinsics, StageTimings};

    use super::*;

    fn report(
        state: TrackState,
        camera: bool,
        confidence: f64,
        reason: Option<NoPose>,
    ) -> FrameReport {
        let camera = camera.then(|| {
            Camera::from_centre(
                Intrinsics::from_hfov(640, 360, 0.6),
                Rotation3::identity(),
                Point3::new(0.0, -60.0, 20.0),
            )
        });
        FrameReport {
            frame: 3,
            pts_ns: 50_050_000,
            width: 640,
            height: 360,
            camera,
            source: if camera.is_some() {
                PoseSource::Vision
            } else {
                PoseSource::None
            },
            residual_px: None,
            inliers: 0,
            confidence,
            state,
            reason,
            timings: StageTimings::default(),
            drawn: camera.is_some(),
            backend: "cpu",
            fault: None,
            tracking_match: None,
        }
    }

    #[test]
    fn each_state_has_its_name_and_colour() {
        let cases = [
            (TrackState::Tracking, true, "tracking"),
            (TrackState::Holding, true, "holding"),
            (TrackState::Searching, false, "searching"),
            (TrackState::Lost, false, "lost"),
        ];
        let mut colours = Vec::new();
        for (state, camera, name) in cases {
            let v = tracking_view(Some(&report(state, camera, 0.5, None)));
            assert_eq!(v.state, name);
            assert!(
                !colours.contains(&v.colour),
                "{name} has a colour of its own"
            );
            assert_ne!(v.colour, UNKNOWN_COLOUR);
            colours.push(v.colour);
        }
        let green = tracking_view(Some(&report(TrackState::Tracking, true, 1.0, None))).colour;
        assert!(
            green.g() > green.r() && green.g() > green.b(),
            "tracking is green"
        );
        let red = tracking_view(Some(&report(TrackState::Lost, false, 0.0, None))).colour;
        assert!(red.r() > red.g() && red.r() > red.b(), "lost is red");
    }

    #[test]
    fn the_reason_shows_only_without_a_camera() {
        let searching = tracking_view(Some(&report(
            TrackState::Searching,
            false,
            0.0,
            Some(NoPose::NoFit),
        )));
        assert_eq!(searching.state, "searching");
        assert_eq!(searching.reason.map(|r| r.0), Some("no-fit"));
        assert_eq!(searching.confidence, Some(0.0));

        let lost = tracking_view(Some(&report(
            TrackState::Lost,
            false,
            0.0,
            Some(NoPose::NoStart),
        )));
        assert_eq!(lost.state, "lost");
        let (name, text) = lost.reason.expect("a reason");
        assert_eq!(name, "no-start");
        assert!(text.contains("calibrate"), "{text}");

        // A held camera is drawn: no reason is shown even when the engine kept one.
        let holding = tracking_view(Some(&report(
            TrackState::Holding,
            true,
            0.4,
            Some(NoPose::NoFit),
        )));
        assert_eq!(holding.reason, None);
        assert_eq!(holding.confidence, Some(0.4));

        let tracking = tracking_view(Some(&report(TrackState::Tracking, true, 0.93, None)));
        assert_eq!(tracking.reason, None);
        assert_eq!(tracking.confidence, Some(0.93));
    }

    #[test]
    fn every_reason_has_its_own_text() {
        let all = [
            NoPose::NoStart,
            NoPose::NoSensor,
            NoPose::NoFit,
            NoPose::Contradicted,
            NoPose::Unchecked,
            NoPose::Uncertain,
        ];
        let texts: Vec<&str> = all.iter().map(|w| reason_text(*w)).collect();
        for (i, t) in texts.iter().enumerate() {
            assert!(!t.is_empty());
            assert!(!texts[..i].contains(t), "{t} is given twice");
        }
    }

    #[test]
    fn no_frame_shows_a_grey_dash() {
        let v = tracking_view(None);
        assert_eq!(v.state, "-");
        assert_eq!(v.colour, UNKNOWN_COLOUR);
        assert_eq!(v.confidence, None);
        assert_eq!(v.reason, None);
    }
}
