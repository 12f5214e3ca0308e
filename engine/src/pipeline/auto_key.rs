//! The automatic key's job: learning views of the field while no key is loaded or set, on the
//! calling thread (offline) or on a background thread (live), without a frame ever waiting.

use crossbeam_channel::{Receiver, TryRecvError, bounded};
use yardline_frame::{FrameLayout, FrameRef};

use crate::config::AUTO_KEY_RELEARN_FRAMES;
use crate::field::FieldModel;
use crate::geometry::Camera;
use crate::key::{AutoKeyLearner, FieldKey, learn_key};

/// What a background job hands back: the learner (it goes with the job) and the key, if one
/// could be built.
type Learnt = (AutoKeyLearner, Option<FieldKey>);

/// The automatic key's state.
#[derive(Debug)]
pub(super) struct AutoKeyJob {
    /// A key being built off the streaming thread.
    job: Option<Receiver<Learnt>>,
    /// The views learnt so far.
    learner: AutoKeyLearner,
    /// The key in use is the automatic one (no key was loaded or set since).
    is_auto: bool,
    /// Frames since a view was last learnt.
    age: u32,
    /// Learn on the calling thread (offline rendering) instead.
    inline: bool,
}

impl AutoKeyJob {
    pub(super) fn new() -> Self {
        Self {
            job: None,
            learner: AutoKeyLearner::new(),
            is_auto: false,
            age: 0,
            inline: true,
        }
    }

    /// Whether the key should be learnt: no key is in place, or the one in place is automatic.
    pub(super) fn wanted(&self, key: Option<&FieldKey>) -> bool {
        key.is_none() || self.is_auto
    }

    /// A key was loaded or set: the job in flight is abandoned and learning stops.
    pub(super) fn stop(&mut self) {
        self.job = None;
        self.is_auto = false;
    }

    /// Learning starts again from nothing (the key in place was dropped).
    pub(super) fn restart(&mut self) {
        *self = Self {
            inline: self.inline,
            ..Self::new()
        };
    }

    pub(super) fn set_inline(&mut self, inline: bool) {
        self.inline = inline;
    }

    pub(super) fn pending(&self) -> bool {
        self.job.is_some()
    }

    /// Views learnt while the key is automatic (0 otherwise).
    pub(super) fn views(&self) -> usize {
        if self.is_auto {
            self.learner.views()
        } else {
            0
        }
    }

    /// Makes progress on the automatic key; true once a key is in `key`. The first view is
    /// learnt from the first frame with a pose, another every [`AUTO_KEY_RELEARN_FRAMES`]
    /// frames after (or after a failed try); the key in place keys the frames meanwhile.
    pub(super) fn poll(
        &mut self,
        key: &mut Option<FieldKey>,
        frame: FrameRef<'_>,
        camera: &Camera,
        field: &FieldModel,
    ) -> bool {
        self.age = self.age.saturating_add(1);
        if let Some(job) = &self.job {
            match job.try_recv() {
                Ok((learner, learnt)) => {
                    self.job = None;
                    self.learner = learner;
                    self.take(key, learnt);
                }
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => {
                    self.job = None;
                    self.age = 0;
                }
            }
            return key.is_some();
        }
        if key.is_some() && self.age < AUTO_KEY_RELEARN_FRAMES {
            return true;
        }
        if self.inline {
            let learnt = learn_key(&mut self.learner, frame, camera, field);
            self.take(key, learnt);
            return key.is_some();
        }
        self.spawn(frame, camera, field);
        key.is_some()
    }

    /// One copy of the frame, then the palette search runs off the streaming thread. The
    /// learner goes with the job and comes back with it, even from a panic in it.
    fn spawn(&mut self, frame: FrameRef<'_>, camera: &Camera, field: &FieldModel) {
        let layout: FrameLayout = frame.layout.clone();
        let data = frame.data[..layout.size].to_vec();
        let (camera, field) = (*camera, field.clone());
        let mut learner = std::mem::take(&mut self.learner);
        let (tx, rx) = bounded(1);
        let spawned = std::thread::Builder::new()
            .name("yardline-auto-key".into())
            .spawn(move || {
                // Background work: below the frame path, on workers of its own (created here,
                // so they inherit this thread's scheduling) rather than the shared pool.
                crate::sched::background_current_thread();
                let key = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let mut learn = || {
                        FrameRef::new(&layout, &data)
                            .ok()
                            .and_then(|f| learn_key(&mut learner, f, &camera, &field))
                    };
                    match rayon::ThreadPoolBuilder::new()
                        .thread_name(|i| format!("yardline-auto-key-{i}"))
                        .build()
                    {
                        Ok(pool) => pool.install(learn),
                        Err(_) => learn(),
                    }
                }))
                .unwrap_or_else(|_| {
                    tracing::error!("the automatic key job panicked; the key in place stays");
                    None
                });
                tx.send((learner, key)).ok();
            });
        match spawned {
            Ok(_) => self.job = Some(rx),
            Err(e) => {
                tracing::warn!("cannot start the automatic key thread: {e}");
                self.age = 0;
            }
        }
    }

    /// Puts a newly learnt key in place (a failed try keeps the key there is).
    fn take(&mut self, key: &mut Option<FieldKey>, learnt: Option<FieldKey>) {
        self.age = 0;
        if let Some(learnt) = learnt {
            *key = Some(learnt);
            self.is_auto = true;
        }
    }
}
