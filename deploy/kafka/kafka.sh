#!/usr/bin/env bash
# Local single-node Apache Kafka 4.x broker (KRaft mode, no ZooKeeper, no
# Docker) for development and tests of inbox-router.
#
# Needs Java 17+ and Maven (jars come from Maven Central on first start).
#
# Usage: deploy/kafka/kafka.sh start|stop|status|topics NAME...|clean
#
# Environment:
#   KAFKA_HOME             where jars, data and the pid file live
#                          (default: <repo>/.kafka)
#   KAFKA_PORT             client (PLAINTEXT) port       (default: 9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller port         (default: 9093)
#   KAFKA_TOPIC_PARTITIONS partitions for `topics`       (default: 4)
#   KAFKA_START_TIMEOUT    seconds `start` waits         (default: 60)
#   KAFKA_HEAP_OPTS        broker JVM heap (default: -Xms256m -Xmx512m)
#   JAVA_HOME              optional; otherwise `java` from PATH
#   KAFKA_LIBS_DIR         jars of another KAFKA_HOME, used as they are, so that a
#                          second broker needs no download (default: $KAFKA_HOME/libs)
#   KAFKA_EXTRA_PROPERTIES file appended to the rendered server.properties (same
#                          placeholders; a key it repeats overrides the template's)
#   KAFKA_ADD_SCRAM        SCRAM users created when the storage is first formatted,
#                          one 'SCRAM-SHA-512=[name=USER,password=PASSWORD]' per line
#   KAFKA_CLIENT_CONFIG    client properties for the tools (--command-config), when
#                          the listener on KAFKA_PORT is not PLAINTEXT
#
# Layout under $KAFKA_HOME:
#   libs/                  flat classpath resolved from pom.xml (kept by `clean`)
#   kafka.pid              pid of the running broker
#   data/cluster.id        KRaft cluster id, generated once
#   data/server.properties rendered from server.properties on each start
#   data/kraft-logs/       topic data + KRaft metadata log (log.dirs)
#   data/logs/server.log   broker log (INFO); data/logs/kafka.out: stdout/stderr
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd -- "$SCRIPT_DIR/../.." && pwd -P)"

KAFKA_HOME="${KAFKA_HOME:-$REPO_ROOT/.kafka}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_TOPIC_PARTITIONS="${KAFKA_TOPIC_PARTITIONS:-4}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-60}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"

KAFKA_LIBS_DIR="${KAFKA_LIBS_DIR:-}"
KAFKA_EXTRA_PROPERTIES="${KAFKA_EXTRA_PROPERTIES:-}"
KAFKA_ADD_SCRAM="${KAFKA_ADD_SCRAM:-}"
KAFKA_CLIENT_CONFIG="${KAFKA_CLIENT_CONFIG:-}"

LIBS_DIR="${KAFKA_LIBS_DIR:-$KAFKA_HOME/libs}"
PID_FILE="$KAFKA_HOME/kafka.pid"
DATA_DIR="$KAFKA_HOME/data"
LOG_DIR="$DATA_DIR/logs"
PROPS_FILE="$DATA_DIR/server.properties"
CLUSTER_ID_FILE="$DATA_DIR/cluster.id"
BOOTSTRAP="127.0.0.1:$KAFKA_PORT"
# How the tools reach the broker: its client security too, when it has some.
TOOL_CONNECTION=(--bootstrap-server "$BOOTSTRAP")
[[ -z "$KAFKA_CLIENT_CONFIG" ]] || TOOL_CONNECTION+=(--command-config "$KAFKA_CLIENT_CONFIG")

POM="$SCRIPT_DIR/pom.xml"
PROPS_TEMPLATE="$SCRIPT_DIR/server.properties"
BROKER_LOG4J="$SCRIPT_DIR/log4j2.xml"
TOOLS_LOG4J="$SCRIPT_DIR/tools-log4j2.xml"

if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
  JAVA="$JAVA_HOME/bin/java"
else
  JAVA="java"
fi

log() { printf 'kafka.sh: %s\n' "$*" || true; }  # a closed stdout must not stop a start or a stop half-way
die() { printf 'kafka.sh: error: %s\n' "$*" >&2; exit 1; }

usage() {
  cat >&2 <<EOF
usage: $(basename "$0") start|stop|status|jars|topics NAME...|clean

  start          start the broker (idempotent) and wait until it is ready
  stop           stop the broker started by 'start' (idempotent)
  status         exit 0 and print 'running' if the broker answers, else exit 1
  jars           download the broker's jars if they are missing (start does it too)
  topics NAME..  create each topic if missing ($KAFKA_TOPIC_PARTITIONS partitions, replication 1)
  clean          stop, then delete $DATA_DIR (downloaded jars are kept)
EOF
  exit 2
}

require_java() {
  command -v "$JAVA" >/dev/null 2>&1 || die "java not found (Java 17+ is required)"
  local ver
  ver="$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
  [[ "${ver%%.*}" =~ ^[0-9]+$ ]] || die "cannot determine the Java version of $JAVA"
  (( ${ver%%.*} >= 17 )) || die "Java 17+ is required by Kafka 4.x, found $ver"
}

# Kafka wire-protocol probe, no JVM needed: send ApiVersions v0 with
# correlation id 0x4b41 and expect it back in the response header.
# The probe speaks PLAINTEXT: behind TLS or SASL (KAFKA_CLIENT_CONFIG) it only
# checks that the port is open, and `start` then waits for the tools to answer.
broker_answers() {
  if [[ -n "$KAFKA_CLIENT_CONFIG" ]]; then
    port_open "$KAFKA_PORT"
    return
  fi
  local reply
  reply="$(
    exec 2>/dev/null
    exec 3<>"/dev/tcp/127.0.0.1/$KAFKA_PORT" || exit 1
    printf '\x00\x00\x00\x0a\x00\x12\x00\x00\x00\x00\x4b\x41\xff\xff' >&3
    timeout 3 head -c 8 <&3 | od -An -tx1 | tr -d ' \n'
  )" || true
  [[ "${#reply}" -eq 16 && "${reply:8:8}" == "00004b41" ]]
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Pid from the pid file if that process is alive and is our broker.
running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(tr -cd '0-9' <"$PID_FILE")"
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r "/proc/$pid/cmdline" ]]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'kafka\.Kafka' || return 1
  fi
  printf '%s\n' "$pid"
}

run_tool() {
  # Short-lived JVM for the CLI tools: C1 only and serial GC start faster.
  "$JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$TOOLS_LOG4J" \
    -cp "$LIBS_DIR/*" "$@" </dev/null
}

pom_stamp() {
  sha256sum "$POM" | cut -d' ' -f1
}

ensure_libs() {
  if [[ -n "$KAFKA_LIBS_DIR" ]]; then
    # Borrowed jars are never re-resolved: another broker may be running on them.
    ls "$LIBS_DIR"/kafka_2.13-*.jar >/dev/null 2>&1 || die "no Kafka jars in KAFKA_LIBS_DIR=$LIBS_DIR"
    return 0
  fi
  local stamp_file="$LIBS_DIR/.resolved" want
  want="$(pom_stamp)"
  if [[ -f "$stamp_file" && "$(cat "$stamp_file")" == "$want" ]]; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found: Maven is needed to download the Kafka jars"
  log "resolving Kafka jars with Maven into $LIBS_DIR (first run downloads ~45 MB)"
  local tmp="$KAFKA_HOME/libs.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$KAFKA_HOME"
  local mvn_log="$KAFKA_HOME/maven.log"
  if ! mvn -q -B -Dstyle.color=never -f "$POM" \
      dependency:copy-dependencies -DoutputDirectory="$tmp" \
      </dev/null >"$mvn_log" 2>&1; then
    tail -n 30 "$mvn_log" >&2
    rm -rf "$tmp"
    die "Maven could not resolve $POM (full output: $mvn_log)"
  fi
  ls "$tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || { rm -rf "$tmp"; die "no kafka_2.13 jar was resolved"; }
  printf '%s\n' "$want" >"$tmp/.resolved"
  rm -rf "$LIBS_DIR"
  mv "$tmp" "$LIBS_DIR"
  local jar
  for jar in "$LIBS_DIR"/kafka_2.13-*.jar; do
    log "jars ready: ${jar##*/}"
  done
}

render_props() {
  mkdir -p "$DATA_DIR" "$LOG_DIR"
  local tmp="$PROPS_FILE.tmp.$$" data_esc sources=("$PROPS_TEMPLATE")
  if [[ -n "$KAFKA_EXTRA_PROPERTIES" ]]; then
    [[ -r "$KAFKA_EXTRA_PROPERTIES" ]] || die "cannot read KAFKA_EXTRA_PROPERTIES=$KAFKA_EXTRA_PROPERTIES"
    sources+=("$KAFKA_EXTRA_PROPERTIES")
  fi
  data_esc="$(printf '%s' "$DATA_DIR" | sed 's/[\\&|]/\\&/g')"
  # The template may lack a final newline; awk ends every line so the extra file starts on its own.
  awk 1 "${sources[@]}" | sed -e "s|\${KAFKA_PORT}|$KAFKA_PORT|g" \
      -e "s|\${KAFKA_CONTROLLER_PORT}|$KAFKA_CONTROLLER_PORT|g" \
      -e "s|\${KAFKA_DATA_DIR}|$data_esc|g" >"$tmp"
  mv "$tmp" "$PROPS_FILE"
}

ensure_formatted() {
  if [[ -f "$DATA_DIR/kraft-logs/meta.properties" ]]; then
    return 0
  fi
  if [[ ! -s "$CLUSTER_ID_FILE" ]]; then
    run_tool kafka.tools.StorageTool random-uuid | tr -d '[:space:]' >"$CLUSTER_ID_FILE.tmp"
    [[ -s "$CLUSTER_ID_FILE.tmp" ]] || die "StorageTool random-uuid printed nothing"
    mv "$CLUSTER_ID_FILE.tmp" "$CLUSTER_ID_FILE"
  fi
  local cid spec scram=()
  cid="$(cat "$CLUSTER_ID_FILE")"
  while IFS= read -r spec; do
    [[ -z "$spec" ]] || scram+=(--add-scram "$spec")
  done <<<"$KAFKA_ADD_SCRAM"
  log "formatting storage (cluster id $cid)"
  run_tool kafka.tools.StorageTool format --standalone --ignore-formatted \
    -t "$cid" -c "$PROPS_FILE" "${scram[@]}" >"$LOG_DIR/format.out" 2>&1 || {
      cat "$LOG_DIR/format.out" >&2
      die "storage format failed"
    }
}

# Size of server.log before this start, so that a failure shows only the
# lines written by this attempt.
SERVER_LOG_OFFSET=0

show_log_tail() {
  if [[ -s "$LOG_DIR/kafka.out" ]]; then
    printf -- '----- last lines of %s -----\n' "$LOG_DIR/kafka.out" >&2
    tail -n 40 "$LOG_DIR/kafka.out" >&2
  fi
  local size=0
  [[ -f "$LOG_DIR/server.log" ]] && size="$(stat -c %s "$LOG_DIR/server.log")"
  if (( size > SERVER_LOG_OFFSET )); then
    printf -- '----- last lines of %s -----\n' "$LOG_DIR/server.log" >&2
    tail -c "+$(( SERVER_LOG_OFFSET + 1 ))" "$LOG_DIR/server.log" | tail -n 40 >&2
  elif (( size < SERVER_LOG_OFFSET )) && [[ -s "$LOG_DIR/server.log" ]]; then
    # Rolled over meanwhile: everything in it is new.
    printf -- '----- last lines of %s -----\n' "$LOG_DIR/server.log" >&2
    tail -n 40 "$LOG_DIR/server.log" >&2
  fi
}

topics_list() {
  run_tool org.apache.kafka.tools.TopicCommand "${TOOL_CONNECTION[@]}" --list
}

cmd_status() {
  if broker_answers; then
    echo "running"
    return 0
  fi
  echo "not running"
  return 1
}

cmd_start() {
  local pid
  if broker_answers; then
    if pid="$(running_pid)"; then
      log "kafka already running on $BOOTSTRAP (pid $pid)"
    else
      log "a Kafka broker already answers on $BOOTSTRAP (not started by this script)"
    fi
    return 0
  fi
  if pid="$(running_pid)"; then
    # Started earlier and still booting: just wait for it below.
    log "kafka process $pid exists but does not answer yet; waiting"
  else
    rm -f "$PID_FILE"
    port_open "$KAFKA_PORT" && die "port $KAFKA_PORT is in use by something that is not Kafka"
    port_open "$KAFKA_CONTROLLER_PORT" && die "controller port $KAFKA_CONTROLLER_PORT is already in use"

    require_java
    ensure_libs
    render_props
    ensure_formatted

    : >"$LOG_DIR/kafka.out"
    if [[ -f "$LOG_DIR/server.log" ]]; then
      SERVER_LOG_OFFSET="$(stat -c %s "$LOG_DIR/server.log")"
    fi
    # setsid + nohup: the broker survives the caller (make, CI, a closed
    # terminal); the inner shell writes its own pid, then execs java.
    # SC2086: KAFKA_HEAP_OPTS is split into words on purpose.
    # SC2016: $$ and "$@" expand in the inner shell, not here.
    # shellcheck disable=SC2086,SC2016
    setsid nohup bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
      "$JAVA" $KAFKA_HEAP_OPTS \
      -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
      -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
      -Djava.awt.headless=true \
      -Dkafka.logs.dir="$LOG_DIR" \
      -Dlog4j2.configurationFile="$BROKER_LOG4J" \
      -cp "$LIBS_DIR/*" kafka.Kafka "$PROPS_FILE" \
      </dev/null >>"$LOG_DIR/kafka.out" 2>&1 &
    local i
    for i in 1 2 3 4 5 6 7 8 9 10; do
      [[ -s "$PID_FILE" ]] && break
      sleep 0.1
    done
    pid="$(tr -cd '0-9' <"$PID_FILE" 2>/dev/null || true)"
    [[ -n "$pid" ]] || die "could not start the broker"
    log "started kafka.Kafka (pid $pid), waiting up to ${KAFKA_START_TIMEOUT}s"
  fi

  local deadline=$(( SECONDS + KAFKA_START_TIMEOUT ))
  while (( SECONDS < deadline )); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE"
      log "the broker exited during startup" >&2
      show_log_tail
      exit 1
    fi
    if broker_answers && topics_list >/dev/null 2>"$LOG_DIR/readiness.err"; then
      echo "kafka ready on $BOOTSTRAP"
      return 0
    fi
    sleep 1
  done
  log "the broker is not ready after ${KAFKA_START_TIMEOUT}s; it is left running (pid $pid): '$0 stop' ends it" >&2
  [[ -s "$LOG_DIR/readiness.err" ]] && tail -n 5 "$LOG_DIR/readiness.err" >&2
  show_log_tail
  exit 1
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    if [[ -f "$PID_FILE" ]]; then
      rm -f "$PID_FILE"
      log "kafka not running (removed stale pid file)"
    else
      log "kafka not running"
    fi
    return 0
  fi
  log "stopping kafka (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for (( i = 0; i < 200; i++ )); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "still alive after 20s, sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    for (( i = 0; i < 50; i++ )); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  rm -f "$PID_FILE"
  log "kafka stopped"
}

cmd_topics() {
  (( $# > 0 )) || die "usage: $(basename "$0") topics NAME..."
  broker_answers || die "no broker answers on $BOOTSTRAP (run: $0 start)"
  [[ -f "$LIBS_DIR/.resolved" ]] || die "jars missing in $LIBS_DIR (run: $0 start)"
  local existing name
  existing="$(topics_list)"
  for name in "$@"; do
    if grep -qxF -- "$name" <<<"$existing"; then
      log "topic $name exists"
      continue
    fi
    run_tool org.apache.kafka.tools.TopicCommand "${TOOL_CONNECTION[@]}" \
      --create --if-not-exists --topic "$name" \
      --partitions "$KAFKA_TOPIC_PARTITIONS" --replication-factor 1 >/dev/null
    log "topic $name created ($KAFKA_TOPIC_PARTITIONS partitions)"
  done
}

cmd_clean() {
  cmd_stop
  if [[ -d "$DATA_DIR" ]]; then
    rm -rf "$DATA_DIR"
    log "deleted $DATA_DIR"
  else
    log "nothing to delete"
  fi
}

check_ports() {
  local p
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    if ! [[ "$p" =~ ^[0-9]+$ ]] || (( p < 1 || p > 65535 )); then
      die "invalid port: $p"
    fi
  done
  [[ "$KAFKA_PORT" != "$KAFKA_CONTROLLER_PORT" ]] \
    || die "KAFKA_PORT and KAFKA_CONTROLLER_PORT must differ (both $KAFKA_PORT)"
}

main() {
  (( $# > 0 )) || usage
  check_ports
  local cmd="$1"
  shift
  case "$cmd" in
    start)  cmd_start ;;
    stop)   cmd_stop ;;
    status) cmd_status ;;
    jars)   ensure_libs ;;
    topics) cmd_topics "$@" ;;
    clean)  cmd_clean ;;
    -h|--help|help) usage ;;
    *) usage ;;
  esac
}

main "$@"
