//! Scheduling of the frame path's threads.
//!
//! A frame's work fits its period many times over on an idle machine; beside a video encoder
//! it waits on the scheduler instead. The frame path's threads (the crew's helpers, and the
//! calling thread where a front end owns it) therefore ask for real-time scheduling
//! (`SCHED_FIFO` at [`REALTIME_PRIORITY`]) when the process may have it (root, `CAP_SYS_NICE`,
//! an `RLIMIT_RTPRIO` of at least that priority, as rtkit or a systemd unit grant), else for
//! the lowest nice level the process may take (`RLIMIT_NICE`, `CAP_SYS_NICE`). What was
//! obtained is logged once per process, with how to grant more. `YARDLINE_REALTIME=0` in the
//! environment leaves every thread as it is.
//!
//! The control server's thread (an operator's change to the next frame) asks for `SCHED_FIFO`
//! too, at [`CONTROL_PRIORITY`]: below the frame path, above a video encoder beside it.
//!
//! Real-time threads here never spin: they block on a lock or a condition variable between
//! passes, and the kernel's real-time throttling (`kernel.sched_rt_runtime_us`) still leaves
//! other tasks a share of every core.

use std::sync::atomic::{AtomicBool, Ordering};

use thread_priority::{
    RealtimeThreadSchedulePolicy, ThreadPriority, ThreadPriorityValue, ThreadSchedulePolicy,
    set_thread_priority_and_policy, thread_native_id,
};

/// The `SCHED_FIFO` priority asked for (1..=99): above every normal task and the default
/// normal priority of other real-time helpers, below audio servers' (which run near 88).
pub const REALTIME_PRIORITY: u8 = 20;

/// The `SCHED_FIFO` priority of the control server's thread: below the frame path's
/// [`REALTIME_PRIORITY`], so a request never delays a frame, and above every normal task, so
/// a change is taken in at once beside a video encoder (measured with `yardline bench
/// --command-to-screen --load x264`: RELIABILITY.md, section 6).
pub const CONTROL_PRIORITY: u8 = 10;

/// Environment variable that, set to `0`, `off` or `false`, leaves threads unpromoted.
pub const REALTIME_ENV: &str = "YARDLINE_REALTIME";

/// What a thread obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheduling {
    /// `SCHED_FIFO` at this priority.
    Realtime(u8),
    /// Normal scheduling at this nice level (-20 most favoured .. 19).
    Nice(i32),
    /// Left as it was (promotion turned off).
    Unchanged,
}

impl Scheduling {
    /// True for real-time scheduling.
    pub fn is_realtime(self) -> bool {
        matches!(self, Self::Realtime(_))
    }
}

impl std::fmt::Display for Scheduling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Realtime(p) => write!(f, "real-time (SCHED_FIFO, priority {p})"),
            Self::Nice(n) => write!(f, "normal scheduling at nice {n}"),
            Self::Unchanged => write!(f, "unchanged ({REALTIME_ENV}=0)"),
        }
    }
}

/// Whether promotion is turned off in the environment.
fn turned_off() -> bool {
    std::env::var(REALTIME_ENV).is_ok_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "0" | "off" | "false" | "no"
        )
    })
}

/// Asks real-time scheduling for the calling thread, else the lowest nice level allowed;
/// logs the outcome once per process (`what` names the thread in the log line).
pub fn promote_current_thread(what: &str) -> Scheduling {
    if turned_off() {
        return Scheduling::Unchanged;
    }
    let got = realtime(REALTIME_PRIORITY).unwrap_or_else(best_nice);
    report_once(what, got);
    got
}

/// Asks real-time scheduling at [`CONTROL_PRIORITY`] for the calling thread (the control
/// server's, which only parses requests and hands values over: encoding a still runs on
/// threads it demotes), else the lowest nice level allowed.
pub fn promote_control_thread() -> Scheduling {
    if turned_off() {
        return Scheduling::Unchanged;
    }
    let got = realtime(CONTROL_PRIORITY).unwrap_or_else(best_nice);
    tracing::debug!("control server thread: {got}");
    got
}

/// Returns the calling thread to normal scheduling at nice 0 (a thread started from a
/// real-time one inherits its policy): for background work such as a benchmark's load.
/// Threads it starts after inherit normal scheduling.
pub fn demote_current_thread() {
    // 48 of the cross-platform scale is nice 0 under `SCHED_OTHER` (the scale's 0..=99 maps
    // onto nice 19..=-20); the tests below hold it.
    set_normal(48);
}

/// Nice level of background work that shares the machine with the frame path (the automatic
/// key's palette search): it yields to normal-priority threads such as a streaming thread the
/// application did not promote, yet still progresses on a busy machine.
pub const BACKGROUND_NICE: i32 = 10;

/// Puts the calling thread at normal scheduling and [`BACKGROUND_NICE`]; threads it starts
/// after inherit both.
pub fn background_current_thread() {
    // 22 of the cross-platform scale is nice 10.
    set_normal(22);
}

/// Normal scheduling at `scale` of the cross-platform priority scale (unless turned off).
fn set_normal(scale: u8) {
    if turned_off() {
        return;
    }
    let Ok(value) = ThreadPriorityValue::try_from(scale) else {
        return;
    };
    let normal = ThreadSchedulePolicy::Normal(thread_priority::NormalThreadSchedulePolicy::Other);
    if let Err(e) = set_thread_priority_and_policy(
        thread_native_id(),
        ThreadPriority::Crossplatform(value),
        normal,
    ) {
        tracing::debug!("cannot set a thread's normal scheduling: {e:?}");
    }
}

fn realtime(priority: u8) -> Option<Scheduling> {
    let value = ThreadPriorityValue::try_from(priority).ok()?;
    set_thread_priority_and_policy(
        thread_native_id(),
        ThreadPriority::Crossplatform(value),
        ThreadSchedulePolicy::Realtime(RealtimeThreadSchedulePolicy::Fifo),
    )
    .ok()
    .map(|()| Scheduling::Realtime(priority))
}

/// The most favoured nice level the thread may take: tries from the top of the
/// cross-platform scale (nice -20) down to nice 0, then reads back what the thread has.
fn best_nice() -> Scheduling {
    let normal = ThreadSchedulePolicy::Normal(thread_priority::NormalThreadSchedulePolicy::Other);
    for p in (49..=99_u8).rev() {
        let Ok(value) = ThreadPriorityValue::try_from(p) else {
            continue;
        };
        let set = set_thread_priority_and_policy(
            thread_native_id(),
            ThreadPriority::Crossplatform(value),
            normal,
        );
        if set.is_ok() {
            break;
        }
    }
    Scheduling::Nice(current_nice().unwrap_or(0))
}

/// CPU time the calling thread has used (Linux: `CLOCK_THREAD_CPUTIME_ID`); `None` elsewhere.
/// The difference across a call is that call's own cost, whatever else the machine ran.
pub fn thread_cpu_time() -> Option<std::time::Duration> {
    #[cfg(target_os = "linux")]
    {
        nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID)
            .ok()
            .map(std::time::Duration::from)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// The calling thread's CPU time since `before` (a [`thread_cpu_time`] reading), in ms; 0
/// when the clock is not there.
pub fn thread_cpu_ms_since(before: Option<std::time::Duration>) -> f64 {
    before
        .zip(thread_cpu_time())
        .map_or(0.0, |(a, b)| b.saturating_sub(a).as_secs_f64() * 1e3)
}

/// The calling thread's nice level, from `/proc/thread-self/stat` (field 19).
pub fn current_nice() -> Option<i32> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(16)?.parse().ok()
}

static REPORTED_RT: AtomicBool = AtomicBool::new(false);
static REPORTED_NICE: AtomicBool = AtomicBool::new(false);

fn report_once(what: &str, got: Scheduling) {
    match got {
        Scheduling::Realtime(_) => {
            if !REPORTED_RT.swap(true, Ordering::Relaxed) {
                tracing::info!("frame path threads ({what}): {got}");
            }
        }
        Scheduling::Nice(_) => {
            if !REPORTED_NICE.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    "frame path threads ({what}): {got}: no permission for real-time \
                     scheduling, so a busy machine can delay frames; grant it with \
                     `setcap cap_sys_nice+ep` on the binary, `LimitRTPRIO={REALTIME_PRIORITY}` \
                     in its systemd unit, an rtprio limit in /etc/security/limits.conf, or \
                     `--cap-add SYS_NICE` for a container (see RELIABILITY.md)"
                );
            }
        }
        Scheduling::Unchanged => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_is_promoted_as_far_as_it_may_be() {
        // Run on a thread of its own, so the test harness's threads keep their scheduling.
        let got = std::thread::spawn(|| (promote_current_thread("test"), current_nice()))
            .join()
            .expect("the promoted thread ran");
        match got {
            (Scheduling::Realtime(p), _) => assert_eq!(p, REALTIME_PRIORITY),
            (Scheduling::Nice(n), Some(read)) => {
                assert_eq!(n, read);
                assert!((-20..=0).contains(&n), "nice {n}");
            }
            (Scheduling::Unchanged, _) => assert!(turned_off()),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn the_control_thread_runs_below_the_frame_path() {
        let got = std::thread::spawn(|| {
            (
                promote_control_thread(),
                current_policy(),
                current_rt_priority(),
            )
        })
        .join()
        .expect("the promoted thread ran");
        match got {
            (Scheduling::Realtime(p), policy, read) => {
                assert_eq!(p, CONTROL_PRIORITY);
                assert_eq!(policy, Some(1), "SCHED_FIFO");
                assert_eq!(read, Some(i32::from(CONTROL_PRIORITY)));
                const { assert!(CONTROL_PRIORITY < REALTIME_PRIORITY) };
            }
            (Scheduling::Nice(n), policy, _) => {
                assert_eq!(policy, Some(0), "SCHED_OTHER");
                assert!((-20..=0).contains(&n), "nice {n}");
            }
            (Scheduling::Unchanged, ..) => assert!(turned_off()),
        }
    }

    #[test]
    fn thread_cpu_time_counts_this_threads_work_only() {
        let before = thread_cpu_time().expect("thread CPU clock");
        let t = std::time::Instant::now();
        while t.elapsed() < std::time::Duration::from_millis(30) {
            std::hint::spin_loop();
        }
        let spun = thread_cpu_time()
            .expect("thread CPU clock")
            .saturating_sub(before);
        assert!(spun >= std::time::Duration::from_millis(5), "{spun:?}");
        let before = thread_cpu_time().expect("thread CPU clock");
        std::thread::sleep(std::time::Duration::from_millis(30));
        let slept = thread_cpu_time()
            .expect("thread CPU clock")
            .saturating_sub(before);
        assert!(slept < std::time::Duration::from_millis(10), "{slept:?}");
    }

    #[test]
    fn a_demoted_thread_runs_normally_and_so_do_its_children() {
        let nice = std::thread::spawn(|| {
            promote_current_thread("test");
            demote_current_thread();
            std::thread::spawn(|| (current_policy(), current_nice()))
                .join()
                .expect("the child ran")
        })
        .join()
        .expect("the demoted thread ran");
        assert_eq!(nice.0, Some(0), "SCHED_OTHER");
        if !turned_off() {
            assert_eq!(nice.1, Some(0));
        }
    }

    #[test]
    fn background_threads_run_at_the_background_nice_level() {
        let (policy, nice) = std::thread::spawn(|| {
            promote_current_thread("test");
            background_current_thread();
            std::thread::spawn(|| (current_policy(), current_nice()))
                .join()
                .expect("the child ran")
        })
        .join()
        .expect("the background thread ran");
        assert_eq!(policy, Some(0), "SCHED_OTHER");
        if !turned_off() {
            assert_eq!(nice, Some(BACKGROUND_NICE));
        }
    }

    /// The calling thread's policy number (0 = `SCHED_OTHER`, 1 = `SCHED_FIFO`), from
    /// `/proc/thread-self/stat` (field 41).
    fn current_policy() -> Option<i32> {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
        let rest = &stat[stat.rfind(')')? + 1..];
        rest.split_whitespace().nth(38)?.parse().ok()
    }

    /// The calling thread's real-time priority (0 under `SCHED_OTHER`), from
    /// `/proc/thread-self/stat` (field 40).
    fn current_rt_priority() -> Option<i32> {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
        let rest = &stat[stat.rfind(')')? + 1..];
        rest.split_whitespace().nth(37)?.parse().ok()
    }

    #[test]
    fn the_nice_level_is_read_from_proc() {
        let n = current_nice().expect("/proc/thread-self/stat readable");
        assert!((-20..=19).contains(&n), "nice {n}");
    }
}
