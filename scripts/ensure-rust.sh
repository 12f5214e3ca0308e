#!/usr/bin/env bash
# Makes sure a Rust toolchain with rustfmt and clippy is on PATH (rustup when missing).
set -euo pipefail
if [ -f "$HOME/.cargo/env" ]; then
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "ensure-rust: cargo not found; installing the stable toolchain with rustup" >&2
  if command -v rustup >/dev/null 2>&1; then
    rustup toolchain install stable --profile minimal -c rustfmt -c clippy
  else
    echo "ensure-rust: neither cargo nor rustup is installed; install Rust from https://rustup.rs" >&2
    exit 2
  fi
fi
for c in rustfmt clippy; do
  if ! cargo "${c/rustfmt/fmt}" --version >/dev/null 2>&1; then
    rustup component add "$c" >/dev/null 2>&1 || true
  fi
done
