//! The scorer behind `yardline eval`: compares an output video with its input, black-box,
//! from pixels, against the sample's truth.
//!
//! - **painted**: pixels where the output differs from the input by at least half of the
//!   full-coverage change of the line (an anti-aliased edge pixel covered 30 % is not counted,
//!   one covered 70 % is). The full-coverage change is estimated per frame from the most
//!   changed pixels, as `out = a C + (1 - a) in` (line colour `C`, opacity `a`). Only pixels
//!   nearer (on the ground) to the first-down line than to the line of scrimmage are scored, so
//!   an engine drawing both lines is scored on the first-down line alone.
//! - **truth**: footprint of the first-down strip under the true camera (pixel coverage >= 0.5,
//!   supersampled with the generator's projection) AND mask == 0.
//! - `IoU`, leak (painted on mask 255 / painted), miss (truth not painted / truth), centre error
//!   (RMS perpendicular distance between the painted line's centre per image row and the true
//!   centreline, over the rows where the true strip lies whole inside the frame: a row where
//!   the frame's side cuts the strip shows only part of its width), jitter (standard deviation over frames of each frame's mean signed centre
//!   offset), and with reported cameras the RMS distance between the first-down line projected
//!   with the reported and with the true camera.
//!
//! Per frame, for tracking that must find the field by itself (no encoders, cuts):
//! - **in view**: the frame has truth pixels (the line is visible on field surface); **drawn**:
//!   the frame has painted pixels. `drawn_share` is drawn-and-in-view frames over in-view
//!   frames; `painted_out_of_view_frames` counts frames painted while the line is not in view
//!   (a line where there is none).
//! - `max_frame_centre_px`: the largest per-frame RMS centre error (the per-frame version of
//!   `centre_error_px`) over the frames with at least 3 measured rows, and its frame.
//! - `reacquire_frames`: for each return of the line into view after at least
//!   [`REACQUIRE_GAP_FRAMES`] consecutive frames out of view, the frames from the first in-view
//!   frame to the first frame both in view and drawn (0: drawn at once); `null` for a return
//!   never re-acquired before the line left view again for that long, or before the end.

use nalgebra::Vector3;
use rayon::prelude::*;
use serde::Serialize;

use crate::camera::PinholeCamera;
use crate::config::SceneConfig;
use crate::error::{Result, SampleError};
use crate::field::{HALF_WIDTH_M, yard_to_x};
use crate::records::TruthRecord;
use crate::render::{MASK_FIELD, MASK_PLAYER};

/// Supersampling grid per axis for the truth footprint's edge pixels.
const COVERAGE_GRID: usize = 4;
/// Rows per parallel work item.
const BAND_ROWS: usize = 16;
/// Safety factor on the linearised pixel footprint when deciding a pixel is fully in or out.
const FOOTPRINT_SAFETY: f64 = 1.5;
/// Share of the changed pixels (the most changed) used to estimate the line colour.
const COLOUR_FIT_SHARE: f64 = 0.25;
/// Input spread (levels^2 per channel and pixel) above which the line's opacity is fitted.
const OPACITY_FIT_MIN_VARIANCE: f64 = 36.0;
/// Below this full-coverage change (levels) a pixel counts as painted when it changed at all.
const MIN_LINE_CONTRAST: f64 = 6.0;
/// Painted when the change reaches this fraction of the full-coverage change.
const PAINTED_ALPHA: f64 = 0.5;
/// Rows where the line runs flatter than this (|dv| / length) are not measured for centre.
const MIN_STEEPNESS: f64 = 0.5;
/// Stations along the centreline used to find its image position per row.
const CENTRELINE_STATIONS: usize = 4001;
/// Stations along the centreline for the reported-vs-true camera distance.
const REPORT_STATIONS: usize = 201;
/// A frame needs this many measured rows to give a jitter sample and a per-frame centre error.
const MIN_ROWS_PER_FRAME: usize = 3;
/// A stretch of at least this many consecutive frames without the line in view makes the
/// next in-view frame a return, whose re-acquisition is timed.
pub const REACQUIRE_GAP_FRAMES: u32 = 10;

/// The scores of one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// Frames scored.
    pub frames: u32,
    /// Intersection over union of painted and truth pixels, over all frames (1 when both are
    /// empty).
    pub iou: f64,
    /// Painted pixels on players / officials / ball, as a share of painted pixels.
    pub leak: f64,
    /// Truth pixels not painted, as a share of truth pixels.
    pub miss: f64,
    /// RMS distance (pixels) of the painted centre from the true centreline, per image row;
    /// `None` when no row could be measured.
    pub centre_error_px: Option<f64>,
    /// Image rows that entered the centre error.
    pub centre_rows: u64,
    /// Standard deviation over frames (pixels) of each frame's mean signed centre offset.
    pub jitter_px: Option<f64>,
    /// Frames that entered the jitter.
    pub jitter_frames: u32,
    /// RMS distance (pixels) between the first-down line projected with the reported and the
    /// true camera; `None` without reported cameras.
    pub reported_rms_px: Option<f64>,
    /// Frames with a usable reported camera.
    pub reported_frames: u32,
    /// Frames whose reported camera was unusable (invalid, or the line fell behind it).
    pub reported_invalid_frames: u32,
    /// Lowest per-frame `IoU` over frames with a non-empty union.
    pub worst_frame_iou: Option<f64>,
    /// Painted pixels (all frames).
    pub painted_px: u64,
    /// Truth pixels (all frames).
    pub truth_px: u64,
    /// Pixels both painted and truth.
    pub intersection_px: u64,
    /// Painted pixels on mask 255.
    pub leak_px: u64,
    /// Truth pixels not painted.
    pub missed_px: u64,
    /// Frames where the true first-down line has truth pixels (in view on field surface).
    pub in_view_frames: u32,
    /// Frames where the line is in view and the output has painted pixels of it.
    pub drawn_in_view_frames: u32,
    /// `drawn_in_view_frames / in_view_frames`; `None` when the line is never in view.
    pub drawn_share: Option<f64>,
    /// Largest per-frame RMS centre error (pixels) over frames with at least 3 measured rows;
    /// `None` when no frame had them.
    pub max_frame_centre_px: Option<f64>,
    /// The frame (truth frame index) of `max_frame_centre_px`.
    pub max_frame_centre_frame: Option<u32>,
    /// Frames painted while the true line is not in view (a line where there is none).
    pub painted_out_of_view_frames: u32,
    /// For each return of the line into view after at least 10 frames out of view: frames from
    /// the first in-view frame to the first in-view frame drawn; `None` when never re-acquired.
    pub reacquire_frames: Vec<Option<u32>>,
    /// Largest of the re-acquired returns' `reacquire_frames`; `None` when none was.
    pub max_reacquire_frames: Option<u32>,
    /// Returns in `reacquire_frames` never re-acquired.
    pub unreacquired_returns: u32,
}

/// Accumulates scores frame by frame.
#[derive(Debug, Clone)]
pub struct Scorer {
    first_down_x: f64,
    scrimmage_x: f64,
    half_width_m: f64,
    frames: u32,
    painted: u64,
    truth: u64,
    inter: u64,
    leak: u64,
    missed: u64,
    centre_sq: f64,
    centre_rows: u64,
    frame_offsets: Vec<f64>,
    reported_sq: f64,
    reported_n: u64,
    reported_frames: u32,
    reported_invalid: u32,
    worst_iou: Option<f64>,
    in_view: u32,
    drawn_in_view: u32,
    painted_out_of_view: u32,
    /// Worst per-frame centre error: (RMS pixels, frame).
    worst_centre: Option<(f64, u32)>,
    /// Consecutive frames so far without the line in view.
    out_of_view_run: u32,
    /// The return waiting to be drawn: its first in-view frame (count of frames before it).
    pending_return: Option<u32>,
    reacquire: Vec<Option<u32>>,
}

/// Per-pixel geometry of the true strip.
#[derive(Debug, Clone, Copy, Default)]
struct PixelTruth {
    /// Strip coverage in 0..=1.
    coverage: f32,
    /// Whether the pixel belongs to the first-down line's zone.
    zone: bool,
}

impl Scorer {
    /// A scorer for the lines of `scene`.
    pub fn new(scene: &SceneConfig) -> Result<Self> {
        scene.validate()?;
        Ok(Self {
            first_down_x: yard_to_x(scene.first_down_yard),
            scrimmage_x: yard_to_x(scene.scrimmage_yard),
            half_width_m: 0.5 * scene.line_width_m,
            frames: 0,
            painted: 0,
            truth: 0,
            inter: 0,
            leak: 0,
            missed: 0,
            centre_sq: 0.0,
            centre_rows: 0,
            frame_offsets: Vec::new(),
            reported_sq: 0.0,
            reported_n: 0,
            reported_frames: 0,
            reported_invalid: 0,
            worst_iou: None,
            in_view: 0,
            drawn_in_view: 0,
            painted_out_of_view: 0,
            worst_centre: None,
            out_of_view_run: 0,
            pending_return: None,
            reacquire: Vec::new(),
        })
    }

    /// Per-pixel strip coverage (ray-cast, supersampled near its edges) and zone.
    fn pixel_truth(&self, cam: &PinholeCamera, w: usize, h: usize) -> Vec<PixelTruth> {
        let mut out = vec![PixelTruth::default(); w * h];
        out.par_chunks_mut(BAND_ROWS * w)
            .enumerate()
            .for_each(|(band, chunk)| {
                let r0 = band * BAND_ROWS;
                let rows = chunk.len() / w;
                let grid: Vec<Option<[f64; 2]>> = (r0..=r0 + rows)
                    .flat_map(|r| (0..=w).map(move |c| (r, c)))
                    .map(|(r, c)| cam.ground_hit(c as f64, r as f64))
                    .collect();
                let at = |r: usize, c: usize| grid[(r - r0) * (w + 1) + c];
                for r in r0..r0 + rows {
                    for c in 0..w {
                        chunk[(r - r0) * w + c] =
                            self.pixel(cam, at(r, c), at(r, c + 1), at(r + 1, c), c, r);
                    }
                }
            });
        out
    }

    fn pixel(
        &self,
        cam: &PinholeCamera,
        g: Option<[f64; 2]>,
        gu: Option<[f64; 2]>,
        gv: Option<[f64; 2]>,
        c: usize,
        r: usize,
    ) -> PixelTruth {
        let Some([gx, gy]) = g else {
            return PixelTruth {
                coverage: 0.0,
                zone: true,
            };
        };
        let zone = (gx - self.first_down_x).abs() <= (gx - self.scrimmage_x).abs();
        let (hw, hy) = (self.half_width_m, HALF_WIDTH_M);
        let dx = (gx - self.first_down_x).abs();
        let decided = match (gu, gv) {
            (Some(a), Some(b)) => {
                let ex = 0.5 * FOOTPRINT_SAFETY * ((a[0] - gx).abs() + (b[0] - gx).abs());
                let ey = 0.5 * FOOTPRINT_SAFETY * ((a[1] - gy).abs() + (b[1] - gy).abs());
                if dx + ex <= hw && gy.abs() + ey <= hy {
                    Some(1.0)
                } else if dx - ex >= hw || gy.abs() - ey >= hy {
                    Some(0.0)
                } else {
                    None
                }
            }
            _ => None,
        };
        let coverage = decided.unwrap_or_else(|| {
            let n = COVERAGE_GRID;
            let mut inside = 0_usize;
            for sy in 0..n {
                for sx in 0..n {
                    let du = (sx as f64 + 0.5) / n as f64 - 0.5;
                    let dv = (sy as f64 + 0.5) / n as f64 - 0.5;
                    if let Some([x, y]) = cam.ground_hit(c as f64 + du, r as f64 + dv)
                        && (x - self.first_down_x).abs() <= hw
                        && y.abs() <= hy
                    {
                        inside += 1;
                    }
                }
            }
            inside as f64 / (n * n) as f64
        });
        PixelTruth {
            coverage: coverage as f32,
            zone,
        }
    }

    /// Scores one frame: `input_rgb` and `output_rgb` rgb24, `mask` gray8, all of the truth's
    /// size; `reported` is the engine's camera for the frame, if any.
    pub fn add_frame(
        &mut self,
        input_rgb: &[u8],
        output_rgb: &[u8],
        mask: &[u8],
        truth: &TruthRecord,
        reported: Option<&TruthRecord>,
    ) -> Result<()> {
        let (w, h) = (truth.width as usize, truth.height as usize);
        if w == 0 || h == 0 {
            return Err(SampleError::Mismatch(format!(
                "frame {}: truth image size {w}x{h} is empty",
                truth.frame
            )));
        }
        for (name, len, want) in [
            ("input", input_rgb.len(), w * h * 3),
            ("output", output_rgb.len(), w * h * 3),
            ("mask", mask.len(), w * h),
        ] {
            if len != want {
                return Err(SampleError::Mismatch(format!(
                    "frame {}: {name} has {len} bytes, the {w}x{h} truth needs {want}",
                    truth.frame
                )));
            }
        }
        let cam = truth.camera()?;
        let geo = self.pixel_truth(&cam, w, h);
        let alpha = painted_alpha(input_rgb, output_rgb, &geo);

        let (mut painted, mut tru, mut inter, mut leak, mut missed) =
            (0_u64, 0_u64, 0_u64, 0_u64, 0_u64);
        for i in 0..w * h {
            let p = alpha[i] >= PAINTED_ALPHA as f32;
            let t = geo[i].coverage >= 0.5 && mask[i] == MASK_FIELD;
            painted += u64::from(p);
            tru += u64::from(t);
            inter += u64::from(p && t);
            leak += u64::from(p && mask[i] == MASK_PLAYER);
            missed += u64::from(t && !p);
        }
        let union = painted + tru - inter;
        if union > 0 {
            let iou = inter as f64 / union as f64;
            self.worst_iou = Some(self.worst_iou.map_or(iou, |x: f64| x.min(iou)));
        }
        self.track_view(tru > 0, painted > 0);
        self.frames += 1;
        self.painted += painted;
        self.truth += tru;
        self.inter += inter;
        self.leak += leak;
        self.missed += missed;

        self.score_centre(&cam, &geo, &alpha, mask, w, h, truth.frame);
        if let Some(rep) = reported {
            self.score_reported(&cam, rep, w, h);
        }
        Ok(())
    }

    /// Counts in-view, drawn and painted-out-of-view frames and times re-acquisitions; called
    /// once per frame, in order, before the frame is counted.
    fn track_view(&mut self, in_view: bool, drawn: bool) {
        let k = self.frames;
        if !in_view {
            self.out_of_view_run += 1;
            self.painted_out_of_view += u32::from(drawn);
            return;
        }
        if self.out_of_view_run >= REACQUIRE_GAP_FRAMES {
            if self.pending_return.is_some() {
                self.reacquire.push(None);
            }
            self.pending_return = Some(k);
        }
        self.out_of_view_run = 0;
        self.in_view += 1;
        if drawn {
            self.drawn_in_view += 1;
            if let Some(start) = self.pending_return.take() {
                self.reacquire.push(Some(k - start));
            }
        }
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "one frame's camera, truth, paint and mask, passed as the caller holds them"
    )]
    fn score_centre(
        &mut self,
        cam: &PinholeCamera,
        geo: &[PixelTruth],
        alpha: &[f32],
        mask: &[u8],
        w: usize,
        h: usize,
        frame: u32,
    ) {
        let crossings = centreline_rows(cam, self.first_down_x, w, h);
        let mut offsets = Vec::new();
        for (r, cross) in crossings.iter().enumerate() {
            let Some((u_true, steep)) = *cross else {
                continue;
            };
            if steep < MIN_STEEPNESS {
                continue;
            }
            let row = r * w..(r + 1) * w;
            // The frame's side cuts the strip here: the painted part's centre is not the line's.
            if geo[row.start].coverage > 0.0 || geo[row.end - 1].coverage > 0.0 {
                continue;
            }
            let mut covered = 0_usize;
            let mut occluded = false;
            let (mut sa, mut sc) = (0.0_f64, 0.0_f64);
            for (c, i) in row.enumerate() {
                if geo[i].coverage > 0.0 {
                    covered += 1;
                    occluded |= mask[i] != MASK_FIELD;
                }
                if geo[i].zone && alpha[i] > 0.0 {
                    let a = f64::from(alpha[i].min(1.0));
                    sa += a;
                    sc += a * c as f64;
                }
            }
            if covered == 0 || occluded || sa < 0.5 {
                continue;
            }
            let off = (sc / sa - u_true) * steep;
            offsets.push(off);
        }
        self.centre_sq += offsets.iter().map(|o| o * o).sum::<f64>();
        self.centre_rows += offsets.len() as u64;
        if offsets.len() >= MIN_ROWS_PER_FRAME {
            let n = offsets.len() as f64;
            self.frame_offsets.push(offsets.iter().sum::<f64>() / n);
            let rms = (offsets.iter().map(|o| o * o).sum::<f64>() / n).sqrt();
            if self.worst_centre.is_none_or(|(worst, _)| rms > worst) {
                self.worst_centre = Some((rms, frame));
            }
        }
    }

    fn score_reported(&mut self, cam: &PinholeCamera, rep: &TruthRecord, w: usize, h: usize) {
        let Ok(rc) = rep.camera() else {
            self.reported_invalid += 1;
            return;
        };
        let (mut sq, mut n, mut lost) = (0.0, 0_u64, false);
        for k in 0..REPORT_STATIONS {
            let y = -HALF_WIDTH_M + 2.0 * HALF_WIDTH_M * k as f64 / (REPORT_STATIONS - 1) as f64;
            let p = Vector3::new(self.first_down_x, y, 0.0);
            let Some(t) = cam.project(&p) else { continue };
            if !(t[0] >= -0.5 && t[0] <= w as f64 - 0.5 && t[1] >= -0.5 && t[1] <= h as f64 - 0.5) {
                continue;
            }
            match rc.project(&p) {
                Some(q) => {
                    sq += (q[0] - t[0]).powi(2) + (q[1] - t[1]).powi(2);
                    n += 1;
                }
                None => lost = true,
            }
        }
        if lost {
            self.reported_invalid += 1;
        } else if n > 0 {
            self.reported_sq += sq;
            self.reported_n += n;
            self.reported_frames += 1;
        }
    }

    /// The scores so far.
    pub fn finish(&self) -> EvalReport {
        let ratio = |a: u64, b: u64, empty: f64| if b == 0 { empty } else { a as f64 / b as f64 };
        let union = self.painted + self.truth - self.inter;
        let jitter = (self.frame_offsets.len() >= 2).then(|| {
            let n = self.frame_offsets.len() as f64;
            let mean = self.frame_offsets.iter().sum::<f64>() / n;
            (self
                .frame_offsets
                .iter()
                .map(|o| (o - mean).powi(2))
                .sum::<f64>()
                / n)
                .sqrt()
        });
        let mut reacquire = self.reacquire.clone();
        if self.pending_return.is_some() {
            reacquire.push(None);
        }
        EvalReport {
            frames: self.frames,
            iou: ratio(self.inter, union, 1.0),
            leak: ratio(self.leak, self.painted, 0.0),
            miss: ratio(self.missed, self.truth, 0.0),
            centre_error_px: (self.centre_rows > 0)
                .then(|| (self.centre_sq / self.centre_rows as f64).sqrt()),
            centre_rows: self.centre_rows,
            jitter_px: jitter,
            jitter_frames: self.frame_offsets.len() as u32,
            reported_rms_px: (self.reported_n > 0)
                .then(|| (self.reported_sq / self.reported_n as f64).sqrt()),
            reported_frames: self.reported_frames,
            reported_invalid_frames: self.reported_invalid,
            worst_frame_iou: self.worst_iou,
            painted_px: self.painted,
            truth_px: self.truth,
            intersection_px: self.inter,
            leak_px: self.leak,
            missed_px: self.missed,
            in_view_frames: self.in_view,
            drawn_in_view_frames: self.drawn_in_view,
            drawn_share: (self.in_view > 0)
                .then(|| f64::from(self.drawn_in_view) / f64::from(self.in_view)),
            max_frame_centre_px: self.worst_centre.map(|(e, _)| e),
            max_frame_centre_frame: self.worst_centre.map(|(_, f)| f),
            painted_out_of_view_frames: self.painted_out_of_view,
            max_reacquire_frames: reacquire.iter().flatten().copied().max(),
            unreacquired_returns: reacquire.iter().filter(|r| r.is_none()).count() as u32,
            reacquire_frames: reacquire,
        }
    }
}

/// Per image row: the true centreline's column there and its steepness (|dv| / length), for
/// the first crossing of the row.
fn centreline_rows(cam: &PinholeCamera, x: f64, w: usize, h: usize) -> Vec<Option<(f64, f64)>> {
    let mut rows = vec![None; h];
    let pts: Vec<Option<[f64; 2]>> = (0..CENTRELINE_STATIONS)
        .map(|k| {
            let y =
                -HALF_WIDTH_M + 2.0 * HALF_WIDTH_M * k as f64 / (CENTRELINE_STATIONS - 1) as f64;
            cam.project(&Vector3::new(x, y, 0.0))
        })
        .collect();
    for pair in pts.windows(2) {
        let (Some(a), Some(b)) = (pair[0], pair[1]) else {
            continue;
        };
        let (lo, hi) = (a[1].min(b[1]), a[1].max(b[1]));
        let len = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
        if len == 0.0 || hi < 0.0 || lo > (h - 1) as f64 {
            continue;
        }
        let steep = (b[1] - a[1]).abs() / len;
        let first = lo.max(0.0).ceil() as usize;
        let last = hi.min((h - 1) as f64).floor() as usize;
        for (r, slot) in rows.iter_mut().enumerate().take(last + 1).skip(first) {
            if slot.is_some() || (b[1] - a[1]).abs() < f64::EPSILON {
                continue;
            }
            let t = (r as f64 - a[1]) / (b[1] - a[1]);
            let u = a[0] + t * (b[0] - a[0]);
            if u >= 0.0 && u <= (w - 1) as f64 {
                *slot = Some((u, steep));
            }
        }
    }
    rows
}

/// Per pixel: how much of the line's full-coverage change the output shows (0 unchanged, 1
/// fully painted), for pixels in the first-down zone; 0 elsewhere.
fn painted_alpha(input: &[u8], output: &[u8], geo: &[PixelTruth]) -> Vec<f32> {
    let n = geo.len();
    let delta = |i: usize| -> [f64; 3] {
        std::array::from_fn(|c| f64::from(output[i * 3 + c]) - f64::from(input[i * 3 + c]))
    };
    let changed: Vec<usize> = (0..n)
        .filter(|&i| geo[i].zone && input[i * 3..i * 3 + 3] != output[i * 3..i * 3 + 3])
        .collect();
    let mut alpha = vec![0.0_f32; n];
    if changed.is_empty() {
        return alpha;
    }
    // The most changed pixels are (nearly) fully covered: fit out = b0 + b1 * in there.
    let mut mags: Vec<(f64, usize)> = changed
        .iter()
        .map(|&i| (delta(i).iter().map(|d| d * d).sum::<f64>(), i))
        .collect();
    let keep = ((mags.len() as f64 * COLOUR_FIT_SHARE).ceil() as usize).clamp(1, mags.len());
    let split = mags.len() - keep;
    mags.select_nth_unstable_by(split, |a, b| a.0.total_cmp(&b.0));
    let top = &mags[split..];
    let m = top.len() as f64;
    let mean = |buf: &[u8], c: usize| {
        top.iter()
            .map(|&(_, i)| f64::from(buf[i * 3 + c]))
            .sum::<f64>()
            / m
    };
    let (mi, mo): ([f64; 3], [f64; 3]) = (
        std::array::from_fn(|c| mean(input, c)),
        std::array::from_fn(|c| mean(output, c)),
    );
    let (mut cov, mut var) = (0.0, 0.0);
    for &(_, i) in top {
        for c in 0..3 {
            let di = f64::from(input[i * 3 + c]) - mi[c];
            cov += di * (f64::from(output[i * 3 + c]) - mo[c]);
            var += di * di;
        }
    }
    let b1 = if var > OPACITY_FIT_MIN_VARIANCE * 3.0 * m {
        (cov / var).clamp(0.0, 0.95)
    } else {
        0.0
    };
    let b0: [f64; 3] = std::array::from_fn(|c| mo[c] - b1 * mi[c]);
    for &i in &changed {
        let d = delta(i);
        let full: [f64; 3] =
            std::array::from_fn(|c| b0[c] + (b1 - 1.0) * f64::from(input[i * 3 + c]));
        let ff: f64 = full.iter().map(|f| f * f).sum();
        alpha[i] = if ff < MIN_LINE_CONTRAST * MIN_LINE_CONTRAST {
            1.0
        } else {
            let a: f64 = d.iter().zip(full).map(|(d, f)| d * f).sum::<f64>() / ff;
            a.clamp(0.0, 1.0) as f32
        };
    }
    alpha
}
