#!/usr/bin/env bash
# All tests: installs what is missing, then runs every test of the workspace (nextest when
# available, else cargo test) and the doc build.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash "$ROOT/scripts/install-deps.sh"
bash "$ROOT/scripts/ensure-rust.sh"
cd "$ROOT"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
  cargo test --workspace --locked --doc
else
  cargo test --workspace --locked --no-fail-fast
fi
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked
