#!/usr/bin/env bash
# `make run`: a local broker, the worker, a careful lane, and the sample archives fed to them. Ctrl-C stops
# what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
kafka=deploy/kafka/kafka.sh
bin=.venv/bin
web_port="${INBOX_WEB_PORT:-6066}"
careful_port=$((web_port + 1))
worker_pid=""
careful_pid=""

stop_all() {
    local status=$1
    trap - EXIT INT TERM
    # After Ctrl-C a pipe we write to (`make run | tee log`) may be gone; the clean-up must still finish.
    trap '' PIPE
    for pid in "$worker_pid" "$careful_pid"; do
        if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    if [[ "${started_kafka:-0}" == 1 ]]; then "$kafka" stop || true; fi
    exit "$status"
}
trap 'stop_all $?' EXIT
trap 'stop_all 0' INT TERM  # Ctrl-C is how the demo ends, not a failure

started_kafka=0
if ! "$kafka" status >/dev/null 2>&1; then
    "$kafka" start
    started_kafka=1
fi
"$kafka" topics "${INBOX_INPUT_TOPIC:-mentions}" "${INBOX_DECISIONS_TOPIC:-routing.decisions}" \
    "${INBOX_DEAD_LETTER_TOPIC:-mentions.dead-letter}"

# wait_serving NAME PID PORT: until its /metrics answers.
wait_serving() {
    for _ in $(seq 120); do
        if curl -fs "http://127.0.0.1:$3/metrics" >/dev/null 2>&1; then return 0; fi
        kill -0 "$2" 2>/dev/null || { echo "the $1 exited during start-up" >&2; exit 1; }
        sleep 0.5
    done
}
# The config's careful_below sends the labels the fast model is unsure of to the careful lane, started beside it.
"$bin/inbox-router" worker &
worker_pid=$!
wait_serving worker "$worker_pid" "$web_port"
INBOX_WEB_PORT="$careful_port" "$bin/inbox-router" careful &
careful_pid=$!
wait_serving "careful lane" "$careful_pid" "$careful_port"

"$bin/python" -m router.demo deploy/samples/mentions.jsonl
# A brewing crisis, in time order as live traffic arrives: the worker's detector opens an incident.
# (Its incident is opened once: a later run shows the events of the first, as routing.incidents keeps them.)
"$bin/python" -m router.demo deploy/samples/crisis.jsonl --in-order --incidents
cat <<MSG

The worker and the careful lane keep running. Publish more mentions (one JSON object per
record) to the topic '${INBOX_INPUT_TOPIC:-mentions}' on 127.0.0.1:${KAFKA_PORT:-9092}; metrics are on
http://127.0.0.1:${web_port}/metrics and http://127.0.0.1:${careful_port}/metrics.
Ctrl-C stops them and the broker it started.
MSG
wait -n "$worker_pid" "$careful_pid"
