#!/usr/bin/env bash
# Installs what the package needs on Debian 12 (system libraries, then npm packages) and builds it.
# Safe to run again: it installs only what is missing and rebuilds.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages: OpenCV for the native addon, Aravis for the GigE Vision line simulator.
packages=(pkg-config libopencv-dev libaravis-dev aravis-tools iproute2)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing system packages: ${missing[*]}" >&2
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "setup: run as root or install sudo to install ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

major=$(node -p 'process.versions.node.split(".")[0]')
if ((major < 20)); then
  echo "setup: Node.js 20 or later is needed, this is $(node --version)" >&2
  exit 1
fi

make -s -C sim

# npm ci runs the native build (node-gyp) and the TypeScript build (prepare).
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
else
  npx --no-install node-gyp rebuild >/dev/null && npm run --silent build
fi
