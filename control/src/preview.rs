//! Low-rate preview pictures handed from the video thread to the control server.
//!
//! The video thread asks [`PreviewSlot::due`] once per frame (two atomic loads). Only while a
//! client asked for a preview lately ([`PREVIEW_INTEREST`]) and at most once per
//! [`PREVIEW_INTERVAL`] does it sample a small thumbnail ([`Thumbnail::sample`], nearest
//! pixel, [`PREVIEW_WIDTH`] wide) and offer it with `try_lock`: a slot the server is reading
//! is skipped, never waited for. JPEG encoding happens on the server's thread.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::protocol::PreviewKind;

/// Width of a preview (pixels); narrower frames keep their own width.
pub const PREVIEW_WIDTH: u32 = 320;
/// Shortest time between two captures on the video thread (4 per second at most).
pub const PREVIEW_INTERVAL: Duration = Duration::from_millis(250);
/// How long after a client's request the video thread keeps capturing.
pub const PREVIEW_INTEREST: Duration = Duration::from_secs(3);
/// A full-size still younger than this answers a still request again (one capture per
/// second at most, whatever the clients ask).
pub const STILL_INTERVAL: Duration = Duration::from_secs(1);

/// A full-size still as the video thread hands it over: the frame's bytes, copied, and the
/// conversion to RGB, which runs on the server's thread.
pub type StillFn = Box<dyn FnOnce() -> Option<Thumbnail> + Send>;

/// A small RGB picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    /// Width (pixels).
    pub width: u32,
    /// Height (pixels).
    pub height: u32,
    /// Packed RGB bytes, row after row (`width * height * 3` bytes).
    pub rgb: Vec<u8>,
}

impl Thumbnail {
    /// Samples a `width` x `height` frame down to [`PREVIEW_WIDTH`] (nearest pixel centre);
    /// `pixel(x, y)` gives the frame's sRGB at a pixel. `None` for an empty frame.
    pub fn sample(width: u32, height: u32, pixel: impl Fn(u32, u32) -> [u8; 3]) -> Option<Self> {
        Self::sample_to(width, height, PREVIEW_WIDTH, pixel)
    }

    /// [`Thumbnail::sample`] to `out_width` pixels wide (the frame's own width for a
    /// full-size picture).
    pub fn sample_to(
        width: u32,
        height: u32,
        out_width: u32,
        pixel: impl Fn(u32, u32) -> [u8; 3],
    ) -> Option<Self> {
        if width == 0 || height == 0 || out_width == 0 {
            return None;
        }
        let tw = width.min(out_width);
        let th = ((u64::from(height) * u64::from(tw)).div_ceil(u64::from(width)) as u32).max(1);
        let mut rgb = Vec::with_capacity((tw * th * 3) as usize);
        for j in 0..th {
            let y = ((2 * u64::from(j) + 1) * u64::from(height) / (2 * u64::from(th))) as u32;
            for i in 0..tw {
                let x = ((2 * u64::from(i) + 1) * u64::from(width) / (2 * u64::from(tw))) as u32;
                rgb.extend_from_slice(&pixel(x.min(width - 1), y.min(height - 1)));
            }
        }
        Some(Self {
            width: tw,
            height: th,
            rgb,
        })
    }
}

/// What one capture holds.
#[derive(Debug, Clone)]
pub struct Capture {
    /// Capture number (1, 2, ...).
    pub seq: u64,
    /// When it was taken.
    pub taken: Instant,
    /// The output.
    pub program: Arc<Thumbnail>,
    /// The input, when a clean or matte preview was asked for.
    pub clean: Option<Arc<Thumbnail>>,
}

/// What the video thread should capture on this frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// Also capture the input before drawing.
    pub clean: bool,
}

/// The meeting point of the video thread and the server for previews.
pub struct PreviewSlot {
    epoch: Instant,
    /// When a client last asked (ms since `epoch`, +1; 0 = never).
    asked_ms: AtomicU64,
    /// A clean or matte preview was asked for lately.
    wants_clean: AtomicBool,
    /// When the last capture was taken (ms since `epoch`, +1; 0 = never).
    taken_ms: AtomicU64,
    /// Captures so far (count).
    seq: AtomicU64,
    latest: Mutex<Option<Capture>>,
    /// A client waits for a full-size still.
    still_asked: AtomicBool,
    /// The last still handed over: its number and the conversion (taken by the server).
    still: Mutex<Option<(u64, StillFn)>>,
    /// Stills handed over (count).
    still_seq: AtomicU64,
}

impl std::fmt::Debug for PreviewSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreviewSlot")
            .field("seq", &self.seq)
            .field("still_seq", &self.still_seq)
            .finish_non_exhaustive()
    }
}

impl Default for PreviewSlot {
    fn default() -> Self {
        Self {
            epoch: Instant::now(),
            asked_ms: AtomicU64::new(0),
            wants_clean: AtomicBool::new(false),
            taken_ms: AtomicU64::new(0),
            seq: AtomicU64::new(0),
            latest: Mutex::new(None),
            still_asked: AtomicBool::new(false),
            still: Mutex::new(None),
            still_seq: AtomicU64::new(0),
        }
    }
}

impl PreviewSlot {
    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64 + 1
    }

    /// A client wants a preview of `kind`: the video thread captures for a while.
    pub fn ask(&self, kind: PreviewKind) {
        if kind != PreviewKind::Program {
            self.wants_clean.store(true, Ordering::Release);
        }
        self.asked_ms.store(self.now_ms(), Ordering::Release);
    }

    /// Video thread, once per frame: whether to capture this frame.
    pub fn due(&self) -> Option<Due> {
        let asked = self.asked_ms.load(Ordering::Acquire);
        if asked == 0 {
            return None;
        }
        let now = self.now_ms();
        if now.saturating_sub(asked) > PREVIEW_INTEREST.as_millis() as u64 {
            self.wants_clean.store(false, Ordering::Release);
            return None;
        }
        let taken = self.taken_ms.load(Ordering::Acquire);
        if taken != 0 && now.saturating_sub(taken) < PREVIEW_INTERVAL.as_millis() as u64 {
            return None;
        }
        Some(Due {
            clean: self.wants_clean.load(Ordering::Acquire),
        })
    }

    /// Video thread: hands over a capture; skipped (not waited for) while the server reads.
    pub fn offer(&self, program: Thumbnail, clean: Option<Thumbnail>) {
        self.taken_ms.store(self.now_ms(), Ordering::Release);
        if let Ok(mut slot) = self.latest.try_lock() {
            let seq = self.seq.fetch_add(1, Ordering::AcqRel) + 1;
            *slot = Some(Capture {
                seq,
                taken: Instant::now(),
                program: Arc::new(program),
                clean: clean.map(Arc::new),
            });
        }
    }

    /// Server: a client wants a full-size still of the input; returns the number the next
    /// still will have.
    pub fn ask_still(&self) -> u64 {
        self.still_asked.store(true, Ordering::Release);
        self.still_seq.load(Ordering::Acquire) + 1
    }

    /// Video thread, once per frame (one atomic load): whether to hand over a still of this
    /// frame's input.
    pub fn still_due(&self) -> bool {
        self.still_asked.load(Ordering::Acquire)
    }

    /// Video thread: hands over a still (its bytes copied, converted later by the server).
    pub fn offer_still(&self, still: StillFn) {
        if let Ok(mut slot) = self.still.try_lock() {
            let seq = self.still_seq.fetch_add(1, Ordering::AcqRel) + 1;
            *slot = Some((seq, still));
            self.still_asked.store(false, Ordering::Release);
        }
    }

    /// Server: the still numbered `seq` or later, when it was handed over (taken: the next
    /// request asks for another).
    pub fn take_still(&self, seq: u64) -> Option<StillFn> {
        let mut slot = self.still.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.as_ref().is_some_and(|(s, _)| *s >= seq) {
            slot.take().map(|(_, f)| f)
        } else {
            None
        }
    }

    /// Server: the latest capture, when there is one.
    pub fn latest(&self) -> Option<Capture> {
        self.latest
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnails_sample_pixel_centres() {
        let t = Thumbnail::sample(640, 360, |x, y| [(x / 4) as u8, (y / 4) as u8, 7])
            .unwrap_or_else(|| panic!("a thumbnail"));
        assert_eq!((t.width, t.height), (320, 180));
        assert_eq!(t.rgb.len(), 320 * 180 * 3);
        // Thumbnail pixel (10, 20) is frame pixel (21, 41).
        let at = (20 * 320 + 10) * 3;
        assert_eq!(&t.rgb[at..at + 3], &[5, 10, 7]);
        let small = Thumbnail::sample(3, 2, |_, _| [1, 2, 3]).unwrap_or_else(|| panic!());
        assert_eq!((small.width, small.height), (3, 2));
        assert!(Thumbnail::sample(0, 2, |_, _| [0; 3]).is_none());
    }

    #[test]
    fn captures_happen_only_when_asked_and_at_a_capped_rate() {
        let slot = PreviewSlot::default();
        assert_eq!(slot.due(), None, "nobody asked");
        slot.ask(PreviewKind::Program);
        assert_eq!(slot.due(), Some(Due { clean: false }));
        let t = Thumbnail::sample(4, 4, |_, _| [9; 3]).unwrap_or_else(|| panic!());
        slot.offer(t.clone(), None);
        assert_eq!(slot.due(), None, "within the interval");
        slot.ask(PreviewKind::Matte);
        std::thread::sleep(PREVIEW_INTERVAL + Duration::from_millis(20));
        assert_eq!(slot.due(), Some(Due { clean: true }));
        slot.offer(t.clone(), Some(t.clone()));
        let c = slot.latest().unwrap_or_else(|| panic!("a capture"));
        assert_eq!(c.seq, 2);
        assert!(c.clean.is_some());
    }
}
