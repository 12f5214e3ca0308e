#!/usr/bin/env bash
# Main job on the built-in sample: installs what is missing, builds, runs `yardline demo`.
# Extra arguments go to `yardline demo` (e.g. --output out.png).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash "$ROOT/scripts/install-deps.sh"
bash "$ROOT/scripts/ensure-rust.sh"
cd "$ROOT"
cargo build --release --locked -p yardline-cli
"$CARGO_TARGET_DIR/release/yardline" demo "$@"
