//! Deliberate faults armed in the engine for reliability tests (see [`crate::faults`]).
//! Nothing in the product arms one.

use crate::report::Stage;

/// A deliberate fault for the next frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InjectedFault {
    /// The given stage panics on the next frame.
    PanicIn(Stage),
    /// The GPU device is lost before the next composite (no effect on the CPU compositor).
    DeviceLoss,
}

/// The faults armed for the next frame.
#[derive(Debug, Clone, Default)]
pub(super) struct Armed(Vec<InjectedFault>);

impl Armed {
    pub(super) fn arm(&mut self, fault: InjectedFault) {
        self.0.push(fault);
    }

    /// Disarms `fault`; true when it was armed.
    pub(super) fn take(&mut self, fault: InjectedFault) -> bool {
        match self.0.iter().position(|f| *f == fault) {
            Some(i) => {
                self.0.swap_remove(i);
                true
            }
            None => false,
        }
    }

    /// Panics when a panic was armed for `stage`.
    pub(super) fn panic_in(&mut self, stage: Stage) {
        let armed = self.take(InjectedFault::PanicIn(stage));
        assert!(!armed, "injected fault in the {stage:?} stage");
    }
}
