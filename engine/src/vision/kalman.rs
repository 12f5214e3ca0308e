//! Kalman filter on a camera correction (constant velocity, or one that dies away), one
//! independent position/velocity filter per parameter, tuned in pixels so one setting serves
//! every zoom.

use super::solve::Correction;

/// How much the filter trusts motion versus measurements.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KalmanTuning {
    /// Standard deviation of the change of velocity from one frame to the next (process
    /// noise; pixels per frame squared).
    pub accel_px: f64,
    /// Smallest measurement standard deviation assumed (pixels): the solve's own estimate is
    /// optimistic because neighbouring measurements share errors.
    pub min_measurement_px: f64,
    /// Measurement standard deviation (pixels) used for the first update after a reset.
    pub initial_px: f64,
    /// Share of the velocity kept from one frame to the next (0..=1; 1: constant velocity).
    /// Below 1, a motion the lines stop seeing (a tilt and a zoom that cancel on parallel
    /// lines) dies away instead of carrying the camera on.
    pub velocity_keep: f64,
}

impl KalmanTuning {
    /// Fused tracking: the sensor already follows the camera; the correction changes slowly.
    pub const FUSED: Self = Self {
        accel_px: 0.01,
        min_measurement_px: 0.08,
        initial_px: 50.0,
        velocity_keep: 1.0,
    };
    /// Vision-only tracking: the correction is the whole camera motion.
    pub const VISION: Self = Self {
        accel_px: 0.6,
        min_measurement_px: 0.08,
        initial_px: 50.0,
        velocity_keep: 0.9,
    };
}

/// Parameters from this index on (the lens distortion `k1`) follow the zoom, not time: they
/// are filtered without a velocity (a random walk). A velocity would carry a trend seen while
/// zooming in on into a tight shot where the lines no longer see the distortion at all.
const STILL_FROM: usize = Correction::K1;

/// One parameter's state: value, velocity (per frame) and their covariance.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Axis {
    x: f64,
    v: f64,
    p00: f64,
    p01: f64,
    p11: f64,
}

/// Filter over the parameters of a [`Correction`]: each with a velocity that is kept or dies
/// away ([`KalmanTuning::velocity_keep`]), the still ones (`k1`) a random walk.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrectionFilter {
    tuning: KalmanTuning,
    axes: [Axis; Correction::MAX_DIM],
    started: bool,
}

impl CorrectionFilter {
    /// An empty filter (the first update sets the state).
    pub fn new(tuning: KalmanTuning) -> Self {
        Self {
            tuning,
            axes: [Axis::default(); Correction::MAX_DIM],
            started: false,
        }
    }

    /// Forgets everything (a cut).
    pub fn reset(&mut self) {
        self.axes = [Axis::default(); Correction::MAX_DIM];
        self.started = false;
    }

    /// True once a measurement has been taken since the last reset.
    pub fn is_started(&self) -> bool {
        self.started
    }

    /// The current estimate.
    pub fn value(&self) -> Correction {
        Correction::from_slice(&self.axes.map(|a| a.x))
    }

    /// The current velocity (parameter units per frame).
    pub fn velocity(&self) -> Correction {
        Correction::from_slice(&self.axes.map(|a| a.v))
    }

    /// Advances one frame and returns the prediction. `px_per_unit` converts the pixel tuning
    /// into parameter units ([`Correction::pixels_per_unit`]).
    pub fn predict(&mut self, px_per_unit: &[f64; Correction::MAX_DIM]) -> Correction {
        if self.started {
            for (k, (a, ppu)) in self.axes.iter_mut().zip(px_per_unit).enumerate() {
                let q = (self.tuning.accel_px / ppu.max(1e-12)).powi(2);
                if k >= STILL_FROM {
                    a.p00 += q;
                    continue;
                }
                let f = self.tuning.velocity_keep;
                a.x += a.v;
                a.v *= f;
                let p00 = a.p00 + 2.0 * a.p01 + a.p11 + 0.25 * q;
                let p01 = f * (a.p01 + a.p11) + 0.5 * q;
                let p11 = f * f * a.p11 + q;
                (a.p00, a.p01, a.p11) = (p00, p01, p11);
            }
        }
        self.value()
    }

    /// Variance of each parameter's value as it stands (parameter units squared): after
    /// [`CorrectionFilter::predict`], how well the motion alone knows this frame's correction.
    /// `None` before the first measurement.
    pub fn variance(&self) -> Option<[f64; Correction::MAX_DIM]> {
        self.started.then(|| self.axes.map(|a| a.p00))
    }

    /// Takes a measurement of the correction with per-parameter standard deviations
    /// `sigma` (parameter units) and returns the filtered value.
    pub fn update(
        &mut self,
        meas: &Correction,
        sigma: &[f64],
        px_per_unit: &[f64; Correction::MAX_DIM],
    ) -> Correction {
        let z = meas.to_array();
        for (k, (a, ppu)) in self.axes.iter_mut().zip(px_per_unit).enumerate() {
            let floor = self.tuning.min_measurement_px / ppu.max(1e-12);
            let s = sigma.get(k).copied().unwrap_or(floor).max(floor);
            if !self.started {
                let init = self.tuning.initial_px / ppu.max(1e-12);
                *a = Axis {
                    x: z[k],
                    v: 0.0,
                    p00: s * s,
                    p01: 0.0,
                    p11: init * init,
                };
                continue;
            }
            let r = s * s;
            let innov = z[k] - a.x;
            if k >= STILL_FROM {
                let k0 = a.p00 / (a.p00 + r);
                a.x += k0 * innov;
                a.p00 *= 1.0 - k0;
                continue;
            }
            let sden = a.p00 + r;
            let (k0, k1) = (a.p00 / sden, a.p01 / sden);
            a.x += k0 * innov;
            a.v += k1 * innov;
            let p00 = (1.0 - k0) * a.p00;
            let p01 = (1.0 - k0) * a.p01;
            let p11 = a.p11 - k1 * a.p01;
            (a.p00, a.p01, a.p11) = (p00, p01, p11);
        }
        self.started = true;
        self.value()
    }

    /// Sets the velocity (parameter units per frame), keeping its uncertainty: a track taken up
    /// again in the middle of a motion starts with that motion.
    pub fn seed_velocity(&mut self, velocity: &Correction) {
        for (a, v) in self
            .axes
            .iter_mut()
            .zip(velocity.to_array())
            .take(STILL_FROM)
        {
            a.v = v;
        }
    }

    /// Stops the motion (velocity 0), keeping the value: used while nothing is measured.
    pub fn stop(&mut self) {
        for a in &mut self.axes {
            a.v = 0.0;
        }
    }

    /// Moves the origin to the current value (the caller folded it into its base camera):
    /// the value becomes 0, velocity and covariance stay.
    pub fn rebase(&mut self) {
        for a in &mut self.axes {
            a.x = 0.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::Vector3;

    use super::*;

    #[test]
    fn the_lens_term_carries_no_trend_where_the_rotation_does() {
        let ppu = Correction::pixels_per_unit(2000.0, 700.0);
        let mut f = CorrectionFilter::new(KalmanTuning::VISION);
        let sigma = [1e-5; Correction::MAX_DIM];
        for k in 0..20 {
            let z = Correction {
                rotation: Vector3::new(0.0, 1e-3 * f64::from(k), 0.0),
                log_scale: 0.0,
                k1: 0.002 * f64::from(k),
            };
            f.predict(&ppu);
            f.update(&z, &sigma, &ppu);
        }
        let last = f.value();
        // Nothing measured for ten frames (the lines hidden, or no longer seeing the lens).
        let mut ahead = last;
        for _ in 0..10 {
            ahead = f.predict(&ppu);
        }
        assert!(
            (ahead.k1 - last.k1).abs() < 1e-9,
            "k1 {} -> {}",
            last.k1,
            ahead.k1
        );
        let moved = ahead.rotation.y - last.rotation.y;
        // The pan goes on, dying away: less than ten frames at full speed, more than one.
        assert!(moved > 1.5e-3 && moved < 9e-3, "pan moved {moved}");
    }
}
