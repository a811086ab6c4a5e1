#!/usr/bin/env bash
# Sets up the package, then starts a simulated PLC and Node-RED (http://127.0.0.1:1880) with the
# example flow inspecting real bottle images. Options are passed on to dist/tools/demo.js:
#   --images DIR   replay your own images (DIR/top_view, DIR/side_view_juice, and DIR/teach/...)
#   --port N       Node-RED's port (default 1880)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node dist/tools/demo.js "$@"
