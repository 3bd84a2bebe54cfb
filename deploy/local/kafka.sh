#!/usr/bin/env bash
# A single-node Apache Kafka (KRaft) on 127.0.0.1, built from Maven Central jars.
# Usage: deploy/local/kafka.sh start|stop|status
# Settings (env): KAFKA_PORT (19092), KAFKA_CONTROLLER_PORT (19093),
#                 LEAKWATCH_STATE_DIR (<repo>/.local), KAFKA_HEAP (512m),
#                 KAFKA_START_TIMEOUT_S (60: how long start waits for the broker to answer).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
STATE="${LEAKWATCH_STATE_DIR:-$ROOT/.local}"
PORT="${KAFKA_PORT:-19092}"
CPORT="${KAFKA_CONTROLLER_PORT:-19093}"
LIBS="${KAFKA_LIBS_DIR:-$ROOT/.local/kafka-libs}"  # shared by every state folder
DATA="$STATE/kafka-data"
PIDFILE="$STATE/kafka.pid"
LOG="$STATE/kafka.log"
CONF="$STATE/kafka-server.properties"

fetch_jars() {
  # Resolve kafka_2.13 and its runtime dependencies once; later starts reuse the folder.
  if [ -f "$LIBS/.complete" ]; then return; fi
  echo "kafka: resolving jars from Maven Central into $LIBS" >&2
  rm -rf "$LIBS"
  mvn -q -B -f "$HERE/kafka/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$LIBS" -DincludeScope=runtime >&2
  touch "$LIBS/.complete"
}

write_config() {
  cat > "$CONF" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA
num.partitions=4
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# leakwatch creates every topic itself (partition counts must match for Faust tables).
auto.create.topics.enable=false
PROPS
}

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

answers() {
  # The broker answers when its port accepts connections and it logged its start.
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && grep -q "Kafka Server started\|\[KafkaRaftServer nodeId=1\] Kafka Server started" "$LOG" 2>/dev/null
}

start() {
  mkdir -p "$STATE"
  if running; then echo "kafka: already running (pid $(cat "$PIDFILE"))"; return; fi
  fetch_jars
  write_config
  local java_cmd=(java -Xmx"${KAFKA_HEAP:-512m}" -Xms128m -XX:+UseG1GC
                  -Dlog4j2.configurationFile="$HERE/kafka/log4j2.yaml" -cp "$LIBS/*")
  if [ ! -f "$DATA/meta.properties" ]; then
    local cluster_id
    cluster_id="$("${java_cmd[@]}" kafka.tools.StorageTool random-uuid)"
    "${java_cmd[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$CONF" >/dev/null
  fi
  : > "$LOG"
  setsid "${java_cmd[@]}" kafka.Kafka "$CONF" >>"$LOG" 2>&1 < /dev/null &
  echo $! > "$PIDFILE"
  local limit="${KAFKA_START_TIMEOUT_S:-60}"
  for _ in $(seq 1 $((limit * 2))); do
    if answers; then echo "kafka: up on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"))"; return; fi
    if ! running; then echo "kafka: exited during start-up; see $LOG" >&2; tail -20 "$LOG" >&2; exit 1; fi
    sleep 0.5
  done
  echo "kafka: did not answer within $limit s; see $LOG" >&2
  stop
  exit 1
}

stop() {
  if ! running; then rm -f "$PIDFILE"; echo "kafka: not running"; return; fi
  local pid; pid="$(cat "$PIDFILE")"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; echo "kafka: stopped"; return; }
    sleep 0.5
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
  echo "kafka: killed after 30 s"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running; then echo "kafka: running (pid $(cat "$PIDFILE"))"; else echo "kafka: stopped"; exit 1; fi ;;
  reset) stop; rm -rf "$DATA"; echo "kafka: data removed" ;;
  *) echo "usage: $0 start|stop|status|reset" >&2; exit 2 ;;
esac
