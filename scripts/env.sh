#!/usr/bin/env bash
# Shared environment for the project's scripts: toolchain, target directory outside the clone.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
if [ -f "$HOME/.cargo/env" ]; then
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi
# Builds are cached outside the clone so fresh clones on the same machine build incrementally.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/yardline-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# CI builds from a clean clone each time: incremental caches only cost disk there.
if [ "${CI:-}" = "true" ]; then
  export CARGO_INCREMENTAL=0
fi
