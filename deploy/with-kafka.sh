#!/usr/bin/env bash
# Runs a command with a local broker up: reuses a running one, or starts one and stops it afterwards.
set -euo pipefail
kafka="$(dirname "$0")/kafka/kafka.sh"
if ! "$kafka" status >/dev/null 2>&1; then
    "$kafka" start
    trap '"$kafka" stop' EXIT
fi
"$@"
