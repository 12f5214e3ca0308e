//! The workers of the engine's CPU passes (the paint view, the CPU compositor's raster and blend
//! passes): the calling (streaming) thread works through each pass itself and helper threads join
//! it as they wake.
//!
//! Three habits of a general pool hurt a pass of a millisecond or two, and more so on a busy
//! machine. The caller blocks until a worker has picked the pass up, so every pass starts with
//! a wake-up; the scheduler puts a thread woken by a busy thread on that busy core whenever it
//! does not see the other cores as idle (an idle virtual CPU reads as "preempted" to a guest
//! kernel), where it waits behind the waker while the other cores stay idle; and a pass ends
//! only once every job handed out has run, so a helper the scheduler has not run yet (beside a
//! video encoder, for a whole time slice) holds the caller although there is nothing left for
//! it to do. Here:
//!
//! - the caller never waits to start: it works the pass from the first item;
//! - work is claimed, not handed out: each thread takes the next item from the pass when it is
//!   ready for one, so a helper that has not started when the items run out takes nothing, and
//!   the caller waits only for helpers still working on an item they took (a helper preempted
//!   mid-pass costs at most the item it holds);
//! - the helpers are kept off the caller's core (their affinity is the caller's cores but its
//!   current one, set again only when the caller moves), so a woken helper lands on a core that
//!   is free;
//! - the helpers ask for real-time scheduling ([`crate::sched`]).
//!
//! A pass allocates nothing.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

/// A crew: the caller plus `helpers` threads of its own. Clones share the threads (one crew
/// serves an engine's passes: the paint view's and the compositor's); the threads stop when
/// the last clone is dropped.
#[derive(Clone, Default)]
pub struct Crew(Arc<Inner>);

#[derive(Default)]
struct Inner {
    /// What the caller and the helpers share.
    shared: Arc<Shared>,
    /// The helper threads.
    threads: Vec<JoinHandle<()>>,
    /// Kernel thread ids of the helpers (filled in as they start).
    #[cfg(target_os = "linux")]
    tids: Arc<Mutex<Vec<nix::unistd::Pid>>>,
    /// The caller's core the helpers were last kept off, with the helper count it was set for.
    #[cfg(target_os = "linux")]
    steered: Mutex<Option<(usize, usize)>>,
}

/// The pass on offer and who is inside it.
#[derive(Default)]
struct Shared {
    /// One pass at a time (clones of a crew may be called from several threads).
    running: Mutex<()>,
    slot: Mutex<Slot>,
    /// Helpers wait here for a pass.
    offered: Condvar,
    /// The caller waits here for the helpers still inside a closed pass.
    left: Condvar,
}

#[derive(Default)]
struct Slot {
    /// Counts passes; a helper joins each pass once.
    pass: u64,
    /// The open pass's work, `None` once the caller has closed it.
    job: Option<Job>,
    /// Helpers running the job.
    inside: usize,
    /// A panic a helper caught in the job, for the caller to raise.
    panic: Option<Box<dyn std::any::Any + Send>>,
    /// The crew is being dropped.
    stop: bool,
}

/// The work of one pass as the helpers see it: the caller's `drain` closure with its lifetime
/// erased (see [`Crew::run`] for why that is sound).
#[derive(Clone, Copy)]
struct Job(*const (dyn Fn() + Sync + 'static));

// SAFETY: a `Job` points at a `Sync` closure, which any thread may call through a shared
// reference; the pointer is only sent, and only dereferenced while the pass it belongs to is
// open or a helper is inside it (see `Crew::run`).
#[allow(
    unsafe_code,
    reason = "the pass's closure is shared with the helpers by pointer"
)]
unsafe impl Send for Job {}

impl std::fmt::Debug for Crew {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crew")
            .field("helpers", &self.helpers())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Crew {
    /// A crew of `threads` in all (the caller included; at least one).
    pub fn new(threads: usize) -> Self {
        let helpers = threads.saturating_sub(1);
        let shared = Arc::new(Shared::default());
        #[cfg(target_os = "linux")]
        let tids: Arc<Mutex<Vec<nix::unistd::Pid>>> = Arc::default();
        let mut spawned = Vec::with_capacity(helpers);
        for i in 0..helpers {
            let shared = Arc::clone(&shared);
            #[cfg(target_os = "linux")]
            let tids = Arc::clone(&tids);
            let thread = std::thread::Builder::new()
                .name(format!("yardline-composite-{i}"))
                .spawn(move || {
                    #[cfg(target_os = "linux")]
                    lock(&tids).push(nix::unistd::gettid());
                    crate::sched::promote_current_thread("compositor helpers");
                    help(&shared);
                });
            match thread {
                Ok(t) => spawned.push(t),
                Err(e) => {
                    tracing::warn!(
                        "cannot start a compositor helper thread ({e}); {} helper(s) work with \
                         the calling thread",
                        spawned.len()
                    );
                    break;
                }
            }
        }
        Self(Arc::new(Inner {
            shared,
            threads: spawned,
            #[cfg(target_os = "linux")]
            tids,
            #[cfg(target_os = "linux")]
            steered: Mutex::default(),
        }))
    }

    /// A crew as large as the global rayon pool (`RAYON_NUM_THREADS`, else the cores).
    pub fn sized_like_rayon() -> Self {
        Self::new(rayon::current_num_threads())
    }

    /// Threads working a pass, the caller included.
    pub fn threads(&self) -> usize {
        self.helpers() + 1
    }

    /// Helper threads.
    fn helpers(&self) -> usize {
        self.0.threads.len()
    }

    /// Runs `work` on every item, in order of claiming, on the caller and the helpers that join
    /// before the items run out; returns when all are done. A panic in `work` (on any thread)
    /// is raised here once every item in progress has finished.
    pub fn run<I, F>(&self, items: I, work: F)
    where
        I: ExactSizeIterator + Send,
        I::Item: Send,
        F: Fn(I::Item) + Sync,
    {
        let wanted = self.helpers().min(items.len().saturating_sub(1));
        if wanted == 0 {
            items.for_each(work);
            return;
        }
        let shared = &*self.0.shared;
        let _one_pass = lock(&shared.running);
        self.steer();
        let queue = Mutex::new(items);
        let drain = || {
            loop {
                let next = lock(&queue).next();
                match next {
                    Some(item) => work(item),
                    None => break,
                }
            }
        };
        // Only the lifetime is erased. The helpers dereference the pointer only between joining
        // the pass (under the slot lock, while `job` is `Some`) and leaving it, and `Closing`
        // (below) takes the job out of the slot and waits until no helper is inside before
        // this function returns or unwinds, so `drain`, `queue` and `work` outlive every use.
        let job: *const (dyn Fn() + Sync + '_) = &drain;
        #[allow(
            unsafe_code,
            clippy::transmute_ptr_to_ptr,
            reason = "a cast cannot erase the closure's lifetime"
        )]
        // SAFETY: the two pointer types differ only in the trait object's lifetime bound; see
        // above for why no use outlives the closure.
        let job = Job(unsafe {
            std::mem::transmute::<*const (dyn Fn() + Sync + '_), *const (dyn Fn() + Sync + 'static)>(
                job,
            )
        });
        {
            let mut slot = lock(&shared.slot);
            slot.pass = slot.pass.wrapping_add(1);
            slot.job = Some(job);
            // A helper's panic in a pass whose caller panicked too was never raised; it belongs
            // to that pass, not this one.
            slot.panic = None;
        }
        for _ in 0..wanted {
            shared.offered.notify_one();
        }
        let closing = Closing(shared);
        drain();
        drop(closing);
        if let Some(panic) = lock(&shared.slot).panic.take() {
            resume_unwind(panic);
        }
    }

    /// Keeps the helpers off the caller's current core (Linux; elsewhere the scheduler decides).
    #[cfg(target_os = "linux")]
    fn steer(&self) {
        use nix::sched::{CpuSet, sched_getaffinity, sched_getcpu, sched_setaffinity};
        use nix::unistd::Pid;
        let Ok(cpu) = sched_getcpu() else {
            return;
        };
        let tids = lock(&self.0.tids);
        let mut steered = lock(&self.0.steered);
        if *steered == Some((cpu, tids.len())) {
            return;
        }
        let Ok(allowed) = sched_getaffinity(Pid::from_raw(0)) else {
            return;
        };
        let others = (0..CpuSet::count())
            .filter(|&c| c != cpu && allowed.is_set(c).unwrap_or(false))
            .count();
        let mut mask = allowed;
        if others > 0 {
            // `cpu` came from the kernel: within the set's range.
            mask.unset(cpu).ok();
        }
        for tid in tids.iter().copied() {
            if let Err(e) = sched_setaffinity(tid, &mask) {
                tracing::debug!("cannot set a compositor helper's affinity: {e}");
            }
        }
        *steered = Some((cpu, tids.len()));
    }

    #[cfg(not(target_os = "linux"))]
    fn steer(&self) {}
}

/// Closes the pass when dropped (also while unwinding from a panic in the caller's share): no
/// helper joins after, and the helpers inside finish the item they hold first.
struct Closing<'a>(&'a Shared);

impl Drop for Closing<'_> {
    fn drop(&mut self) {
        let mut slot = lock(&self.0.slot);
        slot.job = None;
        while slot.inside > 0 {
            slot = self
                .0
                .left
                .wait(slot)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        lock(&self.shared.slot).stop = true;
        self.shared.offered.notify_all();
        for t in self.threads.drain(..) {
            if t.join().is_err() {
                tracing::error!("a compositor helper thread panicked");
            }
        }
    }
}

/// A helper's life: wait for a pass, join it if it is still open, claim items until none are
/// left, leave.
fn help(shared: &Shared) {
    let mut joined = 0_u64;
    loop {
        let job = {
            let mut slot = lock(&shared.slot);
            loop {
                if slot.stop {
                    return;
                }
                #[cfg(test)]
                if tests::HOLD_HELPERS.load(std::sync::atomic::Ordering::SeqCst) {
                    drop(slot);
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    slot = lock(&shared.slot);
                    continue;
                }
                if slot.pass != joined {
                    joined = slot.pass;
                    if let Some(job) = slot.job {
                        slot.inside += 1;
                        break job;
                    }
                }
                slot = shared
                    .offered
                    .wait(slot)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        #[allow(unsafe_code, reason = "the pass's closure, shared by the caller")]
        // SAFETY: this helper is inside the pass (`inside` counts it), so the caller is still in
        // `Crew::run`, waiting in `Closing` at the latest, and the closure is alive.
        let drain = unsafe { &*job.0 };
        let outcome = catch_unwind(AssertUnwindSafe(drain));
        let mut slot = lock(&shared.slot);
        if let Err(panic) = outcome {
            slot.panic.get_or_insert(panic);
        }
        slot.inside -= 1;
        if slot.inside == 0 {
            shared.left.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        reason = "test code: a failed unwrap is a failed test"
    )]

    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    /// Holds every helper back from joining passes (a helper the scheduler has not run).
    pub(super) static HOLD_HELPERS: AtomicBool = AtomicBool::new(false);

    fn on_helper() -> bool {
        std::thread::current()
            .name()
            .is_some_and(|n| n.starts_with("yardline-composite-"))
    }

    #[test]
    fn every_item_is_worked_once_by_any_crew_size() {
        for threads in [1, 2, 3, 8] {
            let crew = Crew::new(threads);
            assert_eq!(crew.threads(), threads);
            for n in [0, 1, 2, 5, 100] {
                let mut out = vec![0_usize; n];
                let calls = AtomicUsize::new(0);
                crew.run(out.iter_mut().enumerate(), |(i, o)| {
                    *o += i + 1;
                    calls.fetch_add(1, Ordering::Relaxed);
                });
                assert_eq!(calls.load(Ordering::Relaxed), n);
                assert!(out.iter().enumerate().all(|(i, &o)| o == i + 1), "{out:?}");
            }
        }
    }

    #[test]
    fn helpers_share_the_work_and_stay_off_the_callers_core() {
        let crew = Crew::new(2);
        for _ in 0..2 {
            let helped = AtomicUsize::new(0);
            crew.run(0..4, |_| {
                if on_helper() {
                    helped.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                // The caller's item lasts until a helper has taken one (or 5 s).
                let t = Instant::now();
                while helped.load(Ordering::Relaxed) == 0 && t.elapsed() < Duration::from_secs(5) {
                    std::hint::spin_loop();
                }
            });
            assert!(helped.load(Ordering::Relaxed) > 0, "the helper did no work");
        }
        #[cfg(target_os = "linux")]
        {
            use nix::sched::{CpuSet, sched_getaffinity};
            use nix::unistd::Pid;
            let (steered, helpers) = crew
                .0
                .steered
                .lock()
                .unwrap()
                .expect("the helpers were steered");
            assert_eq!(helpers, 1);
            let tid = crew.0.tids.lock().unwrap()[0];
            let mask = sched_getaffinity(tid).unwrap();
            let allowed = sched_getaffinity(Pid::from_raw(0)).unwrap();
            let others = (0..CpuSet::count())
                .filter(|&c| c != steered && allowed.is_set(c).unwrap())
                .count();
            assert_eq!(mask.is_set(steered).unwrap(), others == 0);
        }
    }

    /// A helper the scheduler has not run when a pass starts (held back here by the test
    /// hook) takes nothing from it: the caller works the whole pass and returns without it.
    #[test]
    fn the_caller_does_not_wait_for_a_helper_that_has_not_started() {
        let crew = Crew::new(2);
        // Let the helper start and go to sleep first.
        std::thread::sleep(Duration::from_millis(50));
        HOLD_HELPERS.store(true, Ordering::SeqCst);
        let worked = AtomicUsize::new(0);
        let on_helpers = AtomicUsize::new(0);
        let t = Instant::now();
        crew.run(0..16, |_| {
            worked.fetch_add(1, Ordering::Relaxed);
            if on_helper() {
                on_helpers.fetch_add(1, Ordering::Relaxed);
            }
        });
        let took = t.elapsed();
        HOLD_HELPERS.store(false, Ordering::SeqCst);
        assert_eq!(worked.load(Ordering::Relaxed), 16);
        assert_eq!(on_helpers.load(Ordering::Relaxed), 0);
        assert!(took < Duration::from_millis(500), "the pass took {took:?}");
        // Released, the helper finds the pass closed and joins the next one.
        let calls = AtomicUsize::new(0);
        crew.run(0..10, |_| {
            calls.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(calls.load(Ordering::Relaxed), 10);
    }

    /// When the caller and a helper both panic in one pass, the caller's panic is raised and
    /// the helper's is dropped with its pass: the next pass runs clean.
    #[test]
    fn a_pass_where_everyone_panics_leaves_the_next_one_clean() {
        let crew = Crew::new(2);
        for _ in 0..5 {
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                crew.run(0..64, |_| {
                    std::thread::sleep(Duration::from_millis(1));
                    panic!("every item fails");
                });
            }));
            assert!(outcome.is_err());
            let calls = AtomicUsize::new(0);
            crew.run(0..10, |_| {
                calls.fetch_add(1, Ordering::Relaxed);
            });
            assert_eq!(calls.load(Ordering::Relaxed), 10);
        }
    }

    #[test]
    fn a_panic_in_a_helper_reaches_the_caller_after_the_pass() {
        let crew = Crew::new(2);
        let finished = AtomicUsize::new(0);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            crew.run(0..64, |i| {
                assert!(!(on_helper() && i % 2 == 0), "helper fault");
                std::thread::sleep(Duration::from_micros(200));
                finished.fetch_add(1, Ordering::Relaxed);
            });
        }));
        // Either the helper joined and panicked (raised here), or the caller did everything.
        if outcome.is_err() {
            assert!(finished.load(Ordering::Relaxed) < 64);
        } else {
            assert_eq!(finished.load(Ordering::Relaxed), 64);
        }
        // The crew still works after.
        let calls = AtomicUsize::new(0);
        crew.run(0..10, |_| {
            calls.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(calls.load(Ordering::Relaxed), 10);
    }
}
