//! `yardline-operator`: the operator desktop app.

fn main() {}
