//! A sample: a seeded clip of a broadcast camera with exact truth.

use std::io::Write;
use std::path::Path;

use nalgebra::Vector3;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::camera::{HeadAngles, LensCurve, MountPose, PinholeCamera, ZOOM_COUNTS_MAX};
use crate::config::{Rulebook, SampleConfig, Scenario, SceneConfig};
use crate::error::{Result, SampleError};
use crate::field::{FieldPaint, HALF_WIDTH_M, Lighting, MARK_LENGTH_M, TICK_INSET_M, yard_to_x};
use crate::motion::{
    FREED_ANGLE_UNIT_DEG, FREED_POSITION_UNIT_M, FreedD1, Motion, encoder_noise, packet_dropped,
};
use crate::players::{PlayerSpec, spawn};
use crate::records::{
    Click, TrackingRecord, TruthRecord, VenueCamera, VenueEncoder, VenueFile, VenueLens,
    VenueLensPoint, VenueMount, clicks_json,
};
use crate::render::{FrameScene, MASK_FIELD, MASK_PLAYER, render};
use crate::stadium::{Graphics, Surface, burn_score_bug, operator_exclusions};

/// `FreeD` camera id of the sample's camera.
pub const CAMERA_ID: u8 = 1;
/// Head position (field metres): high in the near stands at midfield.
pub const HEAD_POSITION_M: [f64; 3] = [0.0, -55.0, 20.0];
/// Mount yaw of the head (degrees): a real tripod is never perfectly square.
pub const MOUNT_YAW_DEG: f64 = 0.25;
/// Mount pitch (degrees).
pub const MOUNT_PITCH_DEG: f64 = -0.15;
/// Mount roll (degrees).
pub const MOUNT_ROLL_DEG: f64 = 0.1;
/// The focus axis never moves (raw counts).
pub const FOCUS_COUNTS: u32 = 32_768;
/// Number of points written to the venue lens table (sampled exactly from the lens curve).
pub const LENS_TABLE_POINTS: u32 = 121;
/// The file of a sample that holds the operator's exclusions of the graphics burned into its
/// picture (one line in the CLI's `--exclusions` syntax), in scenarios that have them.
pub const EXCLUSIONS_FILE: &str = "exclusions.txt";
/// Click noise of `clicks.json` (pixels, standard deviation on each axis).
pub const CLICK_NOISE_PX: f64 = 0.7;
/// Fewest clicks `clicks.json` is meant to hold: below this, points further along the hash
/// rows and the sideline ticks are added.
pub const MIN_CLICKS: usize = 6;
/// The further points are added, spread out, until `clicks.json` holds this many.
pub const FILL_CLICKS: usize = 8;
/// A click lies at least this share of the image's smaller side inside the image ...
const CLICK_MARGIN_SHARE: f64 = 0.05;
/// ... and at least this many pixels.
const CLICK_MARGIN_MIN_PX: f64 = 4.0;
/// Seed salt of the click noise.
const CLICK_SEED_SALT: u64 = 0x434C_4943_4B53;
/// H.264 bits per pixel per frame of the streamed scenarios' video (`stadium`): about
/// 3.3 Mbit/s at 720p59.94 and 7.5 Mbit/s at 1080p59.94, what a streaming service sends.
pub const STREAM_H264_BITS_PER_PIXEL: f64 = 0.06;
/// `stadium`: brightness in the sun and in the roof's shadow (factors).
const STADIUM_SUN: f64 = 1.25;
/// See [`STADIUM_SUN`].
const STADIUM_SHADE: f64 = 0.42;

/// One rendered frame.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedFrame {
    /// rgb24, row-major, `width * height * 3` bytes.
    pub rgb: Vec<u8>,
    /// gray8, `width * height` bytes: 255 players/officials/ball, 0 field surface (grass and
    /// paint), 128 outside the field of play.
    pub mask: Vec<u8>,
    /// The exact camera of the frame.
    pub truth: TruthRecord,
}

/// A seeded synthetic broadcast clip. Frames can be rendered in any order and in parallel;
/// the same configuration always gives the same bytes.
#[derive(Debug, Clone)]
pub struct Sample {
    cfg: SampleConfig,
    paint: FieldPaint,
    players: Vec<PlayerSpec>,
    motion: Motion,
    mount: MountPose,
    lens: LensCurve,
    lighting: Lighting,
}

impl Sample {
    /// Validates the configuration and sets the scene up.
    pub fn new(cfg: SampleConfig) -> Result<Self> {
        cfg.validate()?;
        let rules = Rulebook::parse(&cfg.field)?;
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let players = spawn(&mut rng, cfg.scenario);
        let first_down_x = yard_to_x(cfg.first_down_yard);
        let duration_s = cfg.pts_ns(cfg.frames) as f64 * 1e-9;
        let (sun, shade, y_range) = match cfg.scenario {
            Scenario::Hard | Scenario::Camouflage => (1.22, 0.45, 4.0),
            Scenario::Stadium => (STADIUM_SUN, STADIUM_SHADE, 4.0),
            _ => (1.0, 0.68, 9.0),
        };
        let angle = rng.random_range(60.0_f64..120.0).to_radians();
        let (nx, ny) = (angle.cos(), angle.sin());
        let yc = rng.random_range(-y_range..y_range);
        let lighting = Lighting {
            sun,
            shade,
            nx,
            ny,
            c: nx * first_down_x + ny * yc,
        };
        Ok(Self {
            motion: Motion::new(cfg.scenario, first_down_x, cfg.seed, duration_s),
            paint: if cfg.scenario == Scenario::Stadium {
                FieldPaint::new(rules).with_graphics(Graphics::new(cfg.first_down_yard))
            } else {
                FieldPaint::new(rules)
            },
            players,
            mount: MountPose {
                position: HEAD_POSITION_M,
                yaw_deg: MOUNT_YAW_DEG,
                pitch_deg: MOUNT_PITCH_DEG,
                roll_deg: MOUNT_ROLL_DEG,
            },
            lens: LensCurve::new(cfg.width, cfg.height),
            lighting,
            cfg,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SampleConfig {
        &self.cfg
    }

    /// Number of frames.
    pub fn frame_count(&self) -> u32 {
        self.cfg.frames
    }

    /// The head mount (as written to `venue.toml`).
    pub fn mount(&self) -> MountPose {
        self.mount
    }

    /// The lens of the sample.
    pub fn lens(&self) -> LensCurve {
        self.lens
    }

    fn check(&self, i: u32) -> Result<()> {
        if i >= self.cfg.frames {
            return Err(SampleError::FrameOutOfRange {
                index: i,
                count: self.cfg.frames,
            });
        }
        Ok(())
    }

    fn time_s(&self, i: u32) -> f64 {
        self.cfg.pts_ns(i) as f64 * 1e-9
    }

    /// The true head angles of frame `i` (degrees).
    pub fn head_angles(&self, i: u32) -> Result<HeadAngles> {
        self.check(i)?;
        Ok(self.motion.at(self.time_s(i), &self.mount, self.lens).truth)
    }

    /// The true zoom position of frame `i` (raw counts, continuous).
    pub fn zoom_counts(&self, i: u32) -> Result<f64> {
        self.check(i)?;
        Ok(self
            .motion
            .at(self.time_s(i), &self.mount, self.lens)
            .zoom_counts)
    }

    /// Whether the program is cut away from the field in frame `i` (the `cut` scenario's
    /// shots of the stands and the sky).
    pub fn cut_away(&self, i: u32) -> Result<bool> {
        self.check(i)?;
        Ok(self.motion.cut_away(self.time_s(i)))
    }

    /// The exact camera of frame `i`.
    pub fn camera(&self, i: u32) -> Result<PinholeCamera> {
        self.check(i)?;
        let st = self.motion.at(self.time_s(i), &self.mount, self.lens);
        Ok(PinholeCamera::from_head(
            &self.mount,
            &st.truth,
            self.lens.intrinsics(st.zoom_counts),
        ))
    }

    /// The truth record of frame `i`.
    pub fn truth(&self, i: u32) -> Result<TruthRecord> {
        let cam = self.camera(i)?;
        Ok(TruthRecord::from_camera(
            i,
            self.cfg.pts_ns(i),
            self.cfg.width,
            self.cfg.height,
            &cam,
        ))
    }

    /// Renders frame `i`.
    pub fn render_frame(&self, i: u32) -> Result<RenderedFrame> {
        let cam = self.camera(i)?;
        let t = self.time_s(i);
        let light = |x: f64, y: f64| self.lighting.at(x, y);
        let centre = self.motion.play_centre(t);
        let mut figures: Vec<_> = self
            .players
            .iter()
            .map(|p| p.figure(t, centre, &cam.centre, light))
            .collect();
        figures.sort_by(|a, b| a.depth.total_cmp(&b.depth));
        let scene = FrameScene {
            cam,
            figures,
            paint: &self.paint,
            lighting: self.lighting,
            seed: self.cfg.seed,
            frame: i,
            width: self.cfg.width as usize,
            height: self.cfg.height as usize,
        };
        let (mut rgb, mut mask) = render(&scene);
        if self.cfg.scenario == Scenario::Stadium {
            burn_score_bug(&mut rgb, &mut mask, scene.width, scene.height);
        }
        Ok(RenderedFrame {
            rgb,
            mask,
            truth: TruthRecord::from_camera(
                i,
                self.cfg.pts_ns(i),
                self.cfg.width,
                self.cfg.height,
                &cam,
            ),
        })
    }

    /// The `FreeD` D1 packet describing frame `i`, or `None` when it is lost on the way.
    pub fn freed_packet(&self, i: u32) -> Result<Option<FreedD1>> {
        self.check(i)?;
        if packet_dropped(self.cfg.seed, i) {
            return Ok(None);
        }
        let st = self.motion.at(self.time_s(i), &self.mount, self.lens);
        let seed = self.cfg.seed;
        let angle = |deg: f64, axis: u64| {
            ((deg + encoder_noise(seed, i, axis)) / FREED_ANGLE_UNIT_DEG).round() as i32
        };
        let pos = |m: f64| (m / FREED_POSITION_UNIT_M).round() as i32;
        Ok(Some(FreedD1 {
            camera_id: CAMERA_ID,
            pan: angle(st.encoder.pan_deg, 0),
            tilt: angle(st.encoder.tilt_deg, 1),
            roll: angle(st.encoder.roll_deg, 2),
            x: pos(self.mount.position[0]),
            y: pos(self.mount.position[1]),
            z: pos(self.mount.position[2]),
            zoom: st.zoom_counts.round().clamp(0.0, ZOOM_COUNTS_MAX) as u32,
            focus: FOCUS_COUNTS,
        }))
    }

    /// The `tracking.jsonl` lines: every packet that arrives, stamped with its arrival time.
    pub fn tracking_records(&self) -> Result<Vec<TrackingRecord>> {
        let delay = self.cfg.tracking_delay_ns();
        let mut out = Vec::with_capacity(self.cfg.frames as usize);
        for i in 0..self.cfg.frames {
            if let Some(p) = self.freed_packet(i)? {
                let freed = hex(&p.encode());
                out.push(TrackingRecord {
                    pts_ns: self.cfg.pts_ns(i) + delay,
                    freed,
                });
            }
        }
        Ok(out)
    }

    /// The venue calibration (`venue.toml`): exact mount and lens table (the `drift`
    /// scenario's error is deliberately absent).
    pub fn venue(&self) -> VenueFile {
        let n = LENS_TABLE_POINTS - 1;
        let points = (0..=n)
            .map(|k| {
                let zoom = (f64::from(k) * ZOOM_COUNTS_MAX / f64::from(n)).round() as u32;
                VenueLensPoint {
                    zoom,
                    intrinsics: self.lens.intrinsics(f64::from(zoom)),
                    nodal_shift_m: 0.0,
                }
            })
            .collect();
        VenueFile {
            version: 1,
            camera: vec![VenueCamera {
                id: CAMERA_ID,
                tracking_delay_ns: self.cfg.tracking_delay_ns(),
                mount: VenueMount {
                    position: self.mount.position,
                    yaw_deg: self.mount.yaw_deg,
                    pitch_deg: self.mount.pitch_deg,
                    roll_deg: self.mount.roll_deg,
                },
                encoder: VenueEncoder {
                    pan_offset_deg: 0.0,
                    tilt_offset_deg: 0.0,
                    roll_offset_deg: 0.0,
                },
                lens: VenueLens {
                    width: self.cfg.width,
                    height: self.cfg.height,
                    zoom_profile: "raw".to_string(),
                    points,
                },
            }],
        }
    }

    /// The scene description (`scene.toml`).
    pub fn scene(&self) -> SceneConfig {
        SceneConfig::from_config(&self.cfg)
    }

    /// The clicks an operator would make on frame 0 to calibrate the camera (`clicks.json`).
    ///
    /// The landmarks are the yard lines' (every 5 yards, goal lines included) crossings with
    /// the rows of hash marks and with the sidelines (the sideline's inner edge) that frame 0
    /// shows: at least 5 % of the image's smaller side (and 4 px) inside the image, on field
    /// surface (mask 0) with no player in the 3x3 pixels round it. When there are fewer than
    /// [`MIN_CLICKS`], points further along the hash rows and the sidelines follow: the
    /// visible ends of the 1-yard hash marks and sideline ticks (both ends of each 2 ft mark,
    /// so that a tight shot of one row of hash marks still gives points off one line), mark
    /// by mark, each time the mark farthest in the image from the points taken, until there
    /// are at least [`FILL_CLICKS`] or none is left (fewer than [`MIN_CLICKS`] are returned
    /// when the frame shows no more). Each image position is the truth camera's projection plus seeded
    /// Gaussian noise of [`CLICK_NOISE_PX`] on each axis; the clicks are in field order
    /// (x, then y).
    pub fn clicks(&self) -> Result<Vec<Click>> {
        let frame = self.render_frame(0)?;
        let cam = self.camera(0)?;
        let (w, h) = (self.cfg.width as usize, self.cfg.height as usize);
        let margin = (CLICK_MARGIN_SHARE * w.min(h) as f64).max(CLICK_MARGIN_MIN_PX);
        let visible = |field: [f64; 3]| -> Option<([f64; 2], [f64; 3])> {
            let [u, v] = cam.project(&Vector3::from(field))?;
            let inside = |p: f64, n: usize| p >= margin && p <= n as f64 - 1.0 - margin;
            if !inside(u, w) || !inside(v, h) {
                return None;
            }
            let (c, r) = (u.round() as usize, v.round() as usize);
            let clear = frame.mask[r * w + c] == MASK_FIELD
                && (r - 1..=r + 1)
                    .all(|rr| (c - 1..=c + 1).all(|cc| frame.mask[rr * w + cc] != MASK_PLAYER));
            clear.then_some(([u, v], field))
        };
        let (hy, hm) = (HALF_WIDTH_M, self.paint.hash_m());
        let mut points: Vec<([f64; 2], [f64; 3])> = (0..=100)
            .step_by(5)
            .flat_map(|yard| [-hy, -hm, hm, hy].map(|y| [yard_to_x(f64::from(yard)), y, 0.0]))
            .filter_map(visible)
            .collect();
        if points.len() < MIN_CLICKS {
            let (tick, mark) = (hy - TICK_INSET_M, MARK_LENGTH_M);
            // Each 1-yard mark's visible ends: [inner, outer] of a hash mark, [sideline, inner]
            // of a tick.
            let ends = [
                [-hm, -hm - mark],
                [hm, hm + mark],
                [-tick, -tick + mark],
                [tick, tick - mark],
            ];
            let mut further: Vec<Vec<_>> = (1..100)
                .filter(|yard| yard % 5 != 0)
                .flat_map(|yard| {
                    let x = yard_to_x(f64::from(yard));
                    ends.map(|e| e.into_iter().filter_map(|y| visible([x, y, 0.0])).collect())
                })
                .filter(|e: &Vec<_>| !e.is_empty())
                .collect();
            let centre = [0.5 * (w as f64 - 1.0), 0.5 * (h as f64 - 1.0)];
            while points.len() < FILL_CLICKS && !further.is_empty() {
                let spread = |p: &[f64; 2]| {
                    let d = |q: &[f64; 2]| (p[0] - q[0]).hypot(p[1] - q[1]);
                    points
                        .iter()
                        .map(|(q, _)| d(q))
                        .reduce(f64::min)
                        .unwrap_or_else(|| -d(&centre))
                };
                let mut best = 0;
                for (k, e) in further.iter().enumerate() {
                    if spread(&e[0].0) > spread(&further[best][0].0) {
                        best = k;
                    }
                }
                points.extend(further.remove(best));
            }
        }
        points.sort_by(|a, b| a.1[0].total_cmp(&b.1[0]).then(a.1[1].total_cmp(&b.1[1])));
        let mut rng = ChaCha8Rng::seed_from_u64(self.cfg.seed ^ CLICK_SEED_SALT);
        let mut noise = || {
            // Box-Muller: 1 - u lies in (0, 1], so its logarithm is finite.
            let (a, b): (f64, f64) = (rng.random(), rng.random());
            CLICK_NOISE_PX * (-2.0 * (1.0 - a).ln()).sqrt() * (std::f64::consts::TAU * b).cos()
        };
        Ok(points
            .into_iter()
            .map(|([u, v], field)| Click {
                image: [u + noise(), v + noise()],
                field,
            })
            .collect())
    }

    /// Writes `truth.jsonl`, `tracking.jsonl`, `venue.toml`, `scene.toml` and `clicks.json`
    /// into `dir` (created if missing), and where the scenario burns graphics into the picture
    /// ([`Scenario::Stadium`]) the operator's exclusions of them, [`EXCLUSIONS_FILE`].
    pub fn write_metadata(&self, dir: &Path) -> Result<()> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| SampleError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let json = |path: &Path| {
            let path = path.to_path_buf();
            move |source| SampleError::Json {
                path,
                line: 0,
                source,
            }
        };
        let truth_path = dir.join("truth.jsonl");
        let mut text = String::new();
        for i in 0..self.cfg.frames {
            text.push_str(&serde_json::to_string(&self.truth(i)?).map_err(json(&truth_path))?);
            text.push('\n');
        }
        write_file(&truth_path, text.as_bytes()).map_err(io(&truth_path))?;
        let tracking_path = dir.join("tracking.jsonl");
        let mut text = String::new();
        for rec in self.tracking_records()? {
            text.push_str(&serde_json::to_string(&rec).map_err(json(&tracking_path))?);
            text.push('\n');
        }
        write_file(&tracking_path, text.as_bytes()).map_err(io(&tracking_path))?;
        let venue_path = dir.join("venue.toml");
        write_file(&venue_path, self.venue().to_toml()?.as_bytes()).map_err(io(&venue_path))?;
        let scene_path = dir.join("scene.toml");
        write_file(&scene_path, self.scene().to_toml()?.as_bytes()).map_err(io(&scene_path))?;
        let clicks_path = dir.join("clicks.json");
        write_file(&clicks_path, clicks_json(&self.clicks()?)?.as_bytes())
            .map_err(io(&clicks_path))?;
        if self.cfg.scenario == Scenario::Stadium {
            let path = dir.join(EXCLUSIONS_FILE);
            write_file(&path, operator_exclusions().as_bytes()).map_err(io(&path))?;
        }
        Ok(())
    }

    /// What covers field point (x, y) (metres) on the field surface: grass, white paint or,
    /// in `stadium`, the purple yard line or the logo.
    pub fn surface_at(&self, x: f64, y: f64) -> Surface {
        self.paint.surface(x, y)
    }

    /// Projects a field point with frame `i`'s exact camera (the generator's own projection).
    pub fn project(&self, i: u32, p: [f64; 3]) -> Result<Option<[f64; 2]>> {
        Ok(self.camera(i)?.project(&Vector3::from(p)))
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)?;
    f.flush()
}

/// Lower-case hex of some bytes.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0F)]));
    }
    s
}
