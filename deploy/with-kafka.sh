#!/usr/bin/env bash
# Runs a command with a local broker up: reuses a running one, or starts one and stops it afterwards.
set -euo pipefail
kafka="$(dirname "$0")/kafka/kafka.sh"
# The integration tests also start private brokers from these jars, even when a broker is already running.
"$kafka" jars
if ! "$kafka" status >/dev/null 2>&1; then
    "$kafka" start
    trap '"$kafka" stop' EXIT
fi
"$@"
