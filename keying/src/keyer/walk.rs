//! The per-pixel path: one pixel's filtered key by walking its neighbourhood (single pixels and
//! scattered pixel sets), and [`EdgeFilter::Unmix`] for a pixel beside a player.

use super::source::Image;
use super::{LutKeyer, unit};
use crate::config::{EdgeFilter, MAX_MIN_FILTER_RADIUS, UNMIX_FOREGROUND_KEY, unmix_key};

impl LutKeyer<'_> {
    /// The filtered key (0..=1) of in-frame pixel (x, y) by walking its neighbourhood.
    pub(super) fn filtered_key(&self, img: &Image<'_>, x: usize, y: usize) -> f32 {
        let min = unit(self.key_neighbourhood(img, x, y));
        if self.edge == EdgeFilter::Min || self.radius == 0 || x >= img.w || y >= img.h {
            return min;
        }
        let mut own = [0_u32; 1];
        img.src.key_span(self.lut, y, x, x + 1, &mut own);
        self.unmix_or_own(img, x, y, own[0], min)
    }

    /// [`EdgeFilter::Unmix`] at in-frame pixel (x, y) of fixed-point key `own` whose
    /// neighbourhood's smallest key is `min` (0..=1, its own included): its own key unless a
    /// neighbour keys below [`UNMIX_FOREGROUND_KEY`] while it does not, then [`unmix_key`]
    /// between the colours of the lowest- and the highest-keyed neighbours (the first met in
    /// row order on a tie). Only pixels beside a player go further.
    #[inline]
    pub(super) fn unmix_or_own(
        &self,
        img: &Image<'_>,
        x: usize,
        y: usize,
        own: u32,
        min: f32,
    ) -> f32 {
        let own_key = unit(own);
        if own_key < UNMIX_FOREGROUND_KEY || min >= UNMIX_FOREGROUND_KEY {
            return own_key;
        }
        self.unmixed(img, x, y, own_key)
    }

    /// [`unmix_key`] at in-frame pixel (x, y) of key `own_key` (0..=1) beside a player.
    #[cold]
    #[inline(never)]
    fn unmixed(&self, img: &Image<'_>, x: usize, y: usize, own_key: f32) -> f32 {
        let (mut lo, mut lo_at) = (u32::MAX, (x, y));
        let (mut hi, mut hi_at) = (0_u32, (x, y));
        let mut any = false;
        self.neighbourhood_rows(img, x, y, |yy, xa, keys| {
            for (xx, &k) in (xa..).zip(keys) {
                if (xx, yy) == (x, y) {
                    continue;
                }
                if k < lo {
                    (lo, lo_at) = (k, (xx, yy));
                }
                if !any || k > hi {
                    (hi, hi_at) = (k, (xx, yy));
                }
                any = true;
            }
        });
        let colour = |(px, py): (usize, usize)| img.frame.ycbcr_f32(px as u32, py as u32);
        unmix_key(own_key, colour((x, y)), colour(lo_at), colour(hi_at))
    }

    /// Neighbourhood-minimum fixed-point key of one pixel by walking its neighbourhood (0
    /// outside the frame).
    fn key_neighbourhood(&self, img: &Image<'_>, x: usize, y: usize) -> u32 {
        if x >= img.w || y >= img.h {
            return 0;
        }
        let mut best = u32::MAX;
        self.neighbourhood_rows(img, x, y, |_, _, keys| {
            best = keys.iter().fold(best, |m, &k| m.min(k));
        });
        best
    }

    /// Calls `visit(yy, xa, keys)` for each row `yy` of the `(2r + 1)^2` neighbourhood of
    /// in-frame pixel (x, y), clipped at the frame's edges, with the fixed-point keys of the
    /// neighbourhood's columns in that row, the first at column `xa`.
    #[inline]
    fn neighbourhood_rows(
        &self,
        img: &Image<'_>,
        x: usize,
        y: usize,
        mut visit: impl FnMut(usize, usize, &[u32]),
    ) {
        let r = self.radius as usize;
        let (xa, xb) = (x.saturating_sub(r), (x + r + 1).min(img.w));
        let mut row = [0_u32; 2 * MAX_MIN_FILTER_RADIUS as usize + 1];
        for yy in y.saturating_sub(r)..(y + r + 1).min(img.h) {
            let keys = &mut row[..xb - xa];
            img.src.key_span(self.lut, yy, xa, xb, keys);
            visit(yy, xa, keys);
        }
    }
}
