#!/usr/bin/env bash
# Sets up the package, then starts a simulated PLC (opc.tcp://127.0.0.1:4840) and Node-RED
# (http://127.0.0.1:1880) with the example flow inspecting real bottle images. If either port is
# taken (a Node-RED or an OPC UA server already running on a plant PC), pick others. Options are
# passed on to dist/tools/demo.js:
#   --images DIR    replay your own images (DIR/top_view, DIR/side_view_juice, and DIR/teach/...)
#   --port N        Node-RED's port (default 1880)
#   --plc-port N    the simulated PLC's port (default 4840); the flow's endpoint follows it
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node dist/tools/demo.js "$@"
