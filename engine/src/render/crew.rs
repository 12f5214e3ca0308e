//! The workers of the engine's CPU passes (the paint view, the CPU compositor's raster and blend
//! passes): the calling (streaming) thread works through each pass itself and helper threads join
//! it as they wake.
//!
//! Two habits of a general pool hurt a pass of a millisecond or two. The caller blocks until a
//! worker has picked the pass up, so every pass starts with a wake-up; and the scheduler puts a
//! thread woken by a busy thread on that busy core whenever it does not see the other cores as
//! idle (an idle virtual CPU reads as "preempted" to a guest kernel), where it waits behind the
//! waker for a millisecond or more while the other cores stay idle. Here the caller never waits
//! to start, and the helpers are kept off the caller's core (their affinity is the caller's
//! cores but its current one, set again only when the caller moves), so a woken helper lands on
//! a core that is free. A pass costs one small heap job per helper it wakes (the pool's scope);
//! nothing else is allocated.

use std::sync::{Arc, Mutex, PoisonError};

/// A crew: the caller plus `helpers` threads of a private pool. Clones share the threads (one
/// crew serves an engine's passes: the paint view's and the compositor's).
#[derive(Clone, Default)]
pub struct Crew(Arc<Inner>);

#[derive(Default)]
struct Inner {
    /// The helpers' pool; `None` when the caller works alone.
    pool: Option<rayon::ThreadPool>,
    /// Kernel thread ids of the helpers (filled in as they start).
    #[cfg(target_os = "linux")]
    tids: Arc<Mutex<Vec<nix::unistd::Pid>>>,
    /// The caller's core the helpers were last kept off, with the helper count it was set for.
    #[cfg(target_os = "linux")]
    steered: Mutex<Option<(usize, usize)>>,
}

impl std::fmt::Debug for Crew {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crew")
            .field("helpers", &self.helpers())
            .finish_non_exhaustive()
    }
}

impl Crew {
    /// A crew of `threads` in all (the caller included; at least one).
    pub fn new(threads: usize) -> Self {
        let helpers = threads.saturating_sub(1);
        if helpers == 0 {
            return Self::default();
        }
        #[cfg(target_os = "linux")]
        let tids: Arc<Mutex<Vec<nix::unistd::Pid>>> = Arc::default();
        let builder = rayon::ThreadPoolBuilder::new()
            .num_threads(helpers)
            .thread_name(|i| format!("yardline-composite-{i}"));
        #[cfg(target_os = "linux")]
        let builder = {
            let tids = Arc::clone(&tids);
            builder.start_handler(move |_| {
                tids.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(nix::unistd::gettid());
            })
        };
        match builder.build() {
            Ok(pool) => Self(Arc::new(Inner {
                pool: Some(pool),
                #[cfg(target_os = "linux")]
                tids,
                #[cfg(target_os = "linux")]
                steered: Mutex::default(),
            })),
            Err(e) => {
                tracing::warn!(
                    "cannot start compositor helper threads ({e}); compositing on the calling thread alone"
                );
                Self::default()
            }
        }
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
        self.0
            .pool
            .as_ref()
            .map_or(0, rayon::ThreadPool::current_num_threads)
    }

    /// Runs `work` on every item, in order of hand-out, on the caller and up to one helper per
    /// further item; returns when all are done.
    pub fn run<I, F>(&self, items: I, work: F)
    where
        I: ExactSizeIterator + Send,
        I::Item: Send,
        F: Fn(I::Item) + Sync,
    {
        let wanted = self.helpers().min(items.len().saturating_sub(1));
        if wanted > 0 {
            self.steer();
        }
        let Some(pool) = self.0.pool.as_ref().filter(|_| wanted > 0) else {
            items.for_each(work);
            return;
        };
        let queue = Mutex::new(items);
        let drain = || {
            loop {
                let next = queue.lock().unwrap_or_else(PoisonError::into_inner).next();
                match next {
                    Some(item) => work(item),
                    None => break,
                }
            }
        };
        pool.in_place_scope(|scope| {
            for _ in 0..wanted {
                scope.spawn(|_| drain());
            }
            drain();
        });
    }

    /// Keeps the helpers off the caller's current core (Linux; elsewhere the scheduler decides).
    #[cfg(target_os = "linux")]
    fn steer(&self) {
        use nix::sched::{CpuSet, sched_getaffinity, sched_getcpu, sched_setaffinity};
        use nix::unistd::Pid;
        let Ok(cpu) = sched_getcpu() else {
            return;
        };
        let tids = self.0.tids.lock().unwrap_or_else(PoisonError::into_inner);
        let mut steered = self
            .0
            .steered
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

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
            let on_helper = AtomicUsize::new(0);
            crew.run(0..4, |_| {
                if rayon::current_thread_index().is_some() {
                    on_helper.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                // The caller's item lasts until a helper has taken one (or 5 s).
                let t = std::time::Instant::now();
                while on_helper.load(Ordering::Relaxed) == 0
                    && t.elapsed() < std::time::Duration::from_secs(5)
                {
                    std::hint::spin_loop();
                }
            });
            assert!(
                on_helper.load(Ordering::Relaxed) > 0,
                "the helper did no work"
            );
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
}
