//! Turning field-space line graphics into [`PreparedLine`]s for one camera.

use crate::geometry::{Camera, Crown};
use crate::graphics::{GroundStrip, TessellationOptions, tessellate};

use super::PreparedLine;

/// Tessellates `strip` for `cam` and packages it with its look.
pub fn prepare_line(
    cam: &Camera,
    strip: &GroundStrip,
    crown: &Crown,
    width: u32,
    height: u32,
    rgb: [u8; 3],
    opacity: f32,
) -> PreparedLine {
    let mesh = tessellate(cam, strip, crown, &TessellationOptions::new(width, height));
    let d = strip.b - strip.a;
    let n = d.norm();
    let direction = if n > 0.0 {
        [d.x / n, d.y / n]
    } else {
        [1.0, 0.0]
    };
    PreparedLine {
        mesh,
        rgb,
        opacity,
        origin: [strip.a.x, strip.a.y],
        direction,
    }
}
