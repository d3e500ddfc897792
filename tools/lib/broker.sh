# A private mosquitto on a free loopback port, for the scripts that run the agent against a broker
# of their own (tools/demo, tools/soak, tools/measure/measure-agent, tools/measure/measure-push). Sourced.
#
#   start_broker DIR [ADDRESS]   writes DIR/mosquitto.conf, starts mosquitto with its log in
#                      DIR/mosquitto.log, and sets broker_port, broker_pid and
#                      broker=(--host 127.0.0.1 --port PORT), the flags the elutq commands take;
#                      with ADDRESS it listens on that address too, on the same port
#   restart_broker DIR starts it again from DIR/mosquitto.conf (same port) after it was stopped or killed
#   stop_broker        stops it; does nothing if it was never started
#   free_port          prints a TCP port nothing listens on now on 127.0.0.1

broker_pid=""

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_broker() {
  local dir=$1 address=${2-}
  broker_port=$(free_port)
  {
    printf 'user %s\nlistener %s 127.0.0.1\n' "$(id -un)" "$broker_port"
    [ -z "$address" ] || printf 'listener %s %s\n' "$broker_port" "$address"
    printf 'allow_anonymous true\npersistence false\n'
  } > "$dir/mosquitto.conf"
  restart_broker "$dir"
  broker=(--host 127.0.0.1 --port "$broker_port")
}

restart_broker() {
  /usr/sbin/mosquitto -c "$1/mosquitto.conf" 2>> "$1/mosquitto.log" &
  broker_pid=$!
}

stop_broker() {
  if [ -n "$broker_pid" ]; then
    kill "$broker_pid" 2>/dev/null || true
    wait "$broker_pid" 2>/dev/null || true
  fi
}
