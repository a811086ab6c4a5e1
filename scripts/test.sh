#!/usr/bin/env bash
# Sets up the package, then runs every test. Peers the tests need (the OPC UA server playing the
# PLC) are started by the tests themselves on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm test
