#!/usr/bin/env bash
# Installs the Debian 12 packages yardline builds and tests against, only those missing.
# Idempotent: a machine that has everything installs nothing.
set -euo pipefail

PACKAGES=(
  build-essential pkg-config clang libclang-dev
  libopencv-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  mesa-vulkan-drivers libvulkan1 vulkan-tools
  libxkbcommon-x11-0 libx11-xcb1 libxcursor1 libxrandr2 libxi6
  xvfb xauth x11-apps imagemagick ffmpeg
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} system packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
