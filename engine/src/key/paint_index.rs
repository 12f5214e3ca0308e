//! Painted rectangles binned by field x, for a point lookup per pixel.

pub(super) fn contains(r: &[f64; 4], p: [f64; 2]) -> bool {
    p[0] >= r[0] && p[0] <= r[2] && p[1] >= r[1] && p[1] <= r[3]
}

/// Painted rectangles binned by field x, for a point lookup per pixel.
pub(super) struct PaintIndex {
    rects: Vec<[f64; 4]>,
    x0: f64,
    bins: Vec<Vec<u32>>,
}

impl PaintIndex {
    /// Bin width along x (metres).
    const BIN_M: f64 = 1.0;

    pub(super) fn new(rects: Vec<[f64; 4]>) -> Self {
        let x0 = rects.iter().map(|r| r[0]).fold(f64::INFINITY, f64::min);
        let x1 = rects.iter().map(|r| r[2]).fold(f64::NEG_INFINITY, f64::max);
        let n = if x1 >= x0 {
            ((x1 - x0) / Self::BIN_M) as usize + 1
        } else {
            0
        };
        let mut bins = vec![Vec::new(); n];
        for (i, r) in rects.iter().enumerate() {
            let a = ((r[0] - x0) / Self::BIN_M) as usize;
            let b = (((r[2] - x0) / Self::BIN_M) as usize).min(n.saturating_sub(1));
            for bin in &mut bins[a..=b] {
                bin.push(i as u32);
            }
        }
        Self { rects, x0, bins }
    }

    /// Whether `p` lies within `d` metres of a marking (the bin holding `p` and its neighbours
    /// are searched, so `d` must not exceed the bin width).
    pub(super) fn near(&self, p: [f64; 2], d: f64) -> bool {
        let t = (p[0] - self.x0) / Self::BIN_M;
        if t.is_nan() || t < -1.0 {
            return false;
        }
        let b = t.max(0.0) as usize;
        (b.saturating_sub(1)..=b + 1)
            .filter_map(|i| self.bins.get(i))
            .flatten()
            .map(|&i| &self.rects[i as usize])
            .any(|r| p[0] >= r[0] - d && p[0] <= r[2] + d && p[1] >= r[1] - d && p[1] <= r[3] + d)
    }

    /// Index of the first rectangle containing `p`.
    pub(super) fn find_index(&self, p: [f64; 2]) -> Option<usize> {
        let t = (p[0] - self.x0) / Self::BIN_M;
        if t.is_nan() || t < 0.0 {
            return None;
        }
        self.bins
            .get(t as usize)?
            .iter()
            .map(|&i| i as usize)
            .find(|&i| contains(&self.rects[i], p))
    }

    pub(super) fn find(&self, p: [f64; 2]) -> Option<&[f64; 4]> {
        self.find_index(p).map(|i| &self.rects[i])
    }
}
