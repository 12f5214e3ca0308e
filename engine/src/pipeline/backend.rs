//! The compositor in use: which backend it is, and the CPU compositor a failed GPU falls back
//! to.

use yardline_frame::{FillKeyMut, FrameMut, FrameRef};

use crate::config::{BackendChoice, EngineError};
use crate::render::crew::Crew;
use crate::render::{
    AdapterChoice, CompositeStats, Compositor, CpuCompositor, GpuCompositor, PixelKey, PreparedLine,
};
use crate::report::FrameFault;

/// The backend a compositor runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActiveBackend {
    /// The CPU compositor.
    Cpu,
    /// A wgpu device.
    Gpu,
}

impl ActiveBackend {
    /// "cpu" or "gpu", as reports name it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Cpu => "cpu",
            Self::Gpu => "gpu",
        }
    }

    /// What takes over when this backend fails: the CPU for a GPU, nothing for the CPU.
    pub fn fallback(self) -> Option<Self> {
        match self {
            Self::Gpu => Some(Self::Cpu),
            Self::Cpu => None,
        }
    }
}

/// The compositor in use.
pub(super) struct ActiveCompositor {
    compositor: Box<dyn Compositor>,
    backend: ActiveBackend,
    crew: Crew,
    /// The CPU compositor beside a GPU one, made on first use: it draws fill and key (whatever
    /// the backend) and the frames keyed with the clean plate, which the GPU compositor does
    /// not sample.
    beside: Option<CpuCompositor>,
}

impl std::fmt::Debug for ActiveCompositor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActiveCompositor")
            .field("backend", &self.backend)
            .field("compositor", &self.compositor.describe())
            .finish_non_exhaustive()
    }
}

impl ActiveCompositor {
    /// Opens the compositor `choice` asks for; `Auto` takes a hardware GPU when there is one,
    /// else the CPU.
    pub(super) fn open(choice: BackendChoice, crew: &Crew) -> Result<Self, EngineError> {
        let gpu = |adapter| -> Result<Self, EngineError> {
            let g = GpuCompositor::new(adapter)?.with_crew(crew.clone());
            tracing::info!("compositor: GPU on {}", g.adapter());
            Ok(Self::new(Box::new(g), ActiveBackend::Gpu, crew))
        };
        match choice {
            BackendChoice::Cpu => Ok(Self::cpu(crew)),
            BackendChoice::Gpu => gpu(AdapterChoice::Any),
            BackendChoice::Auto => gpu(AdapterChoice::HardwareOnly).or_else(|e| {
                tracing::info!("compositor: CPU (no hardware GPU: {e})");
                Ok(Self::cpu(crew))
            }),
        }
    }

    fn new(compositor: Box<dyn Compositor>, backend: ActiveBackend, crew: &Crew) -> Self {
        Self {
            compositor,
            backend,
            crew: crew.clone(),
            beside: None,
        }
    }

    fn cpu(crew: &Crew) -> Self {
        Self::new(
            Box::new(CpuCompositor::with_crew(crew.clone())),
            ActiveBackend::Cpu,
            crew,
        )
    }

    pub(super) fn backend(&self) -> ActiveBackend {
        self.backend
    }

    pub(super) fn describe(&self) -> String {
        self.compositor.describe()
    }

    pub(super) fn simulate_device_loss(&mut self) {
        self.compositor.simulate_device_loss();
    }

    /// Draws `lines` alone into the fill-and-key frame `out` (see
    /// [`CpuCompositor::fill_key`]): always on the CPU, so the alpha is the CPU program's.
    pub(super) fn fill_key(
        &mut self,
        frame: FrameRef<'_>,
        lines: &[PreparedLine],
        key: &dyn PixelKey,
        out: &mut FillKeyMut<'_>,
    ) -> Result<CompositeStats, FrameFault> {
        self.beside()
            .fill_key(frame, lines, key, out)
            .map_err(|e| FrameFault::Compositor(e.to_string()))
    }

    fn beside(&mut self) -> &mut CpuCompositor {
        let crew = &self.crew;
        self.beside
            .get_or_insert_with(|| CpuCompositor::with_crew(crew.clone()))
    }

    /// The backend that draws a program frame keyed with `key`: the CPU for a key with a clean
    /// plate, else this compositor's.
    pub(super) fn draws(&self, key: &dyn PixelKey) -> ActiveBackend {
        if key.plate().is_some() {
            ActiveBackend::Cpu
        } else {
            self.backend
        }
    }

    /// Composites `lines` into `frame`. When the backend fails and has a fallback, the
    /// fallback takes over for good and redraws the same frame; `fell_back` is then set.
    pub(super) fn composite(
        &mut self,
        frame: &mut FrameMut<'_>,
        lines: &[PreparedLine],
        key: &dyn PixelKey,
        fell_back: &mut bool,
    ) -> Result<CompositeStats, FrameFault> {
        if self.backend == ActiveBackend::Gpu && key.plate().is_some() {
            return self
                .beside()
                .composite(frame, lines, key)
                .map_err(|e| FrameFault::Compositor(e.to_string()));
        }
        match self.compositor.composite(frame, lines, key) {
            Ok(s) => Ok(s),
            Err(e) => match self.backend.fallback() {
                Some(ActiveBackend::Cpu) => {
                    tracing::error!("GPU compositor failed ({e}); switching to the CPU compositor");
                    *fell_back = true;
                    *self = Self::cpu(&self.crew);
                    self.compositor
                        .composite(frame, lines, key)
                        .map_err(|e| FrameFault::CpuFallback(e.to_string()))
                }
                Some(ActiveBackend::Gpu) | None => Err(FrameFault::Compositor(e.to_string())),
            },
        }
    }
}
