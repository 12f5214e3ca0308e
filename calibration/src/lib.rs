//! Venue calibration for yardline: solve cameras from clicked landmarks (OpenCV PnP), register
//! pan/tilt heads from FreeD samples, and fit lens tables from zoom sweeps.
