# Helpers the benchmark scripts share; sourced, not run. A script that uses stop_daemon declares
# `declare -A pid_of=()` and records each daemon's pid there by name.

now_ms() {
  local ns
  ns=$(date +%s%N)
  echo $((ns / 1000000))
}

median() {
  printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
}

# Stops daemon $1 (SIGTERM, then SIGKILL after 10 s) and forgets its pid; only pids this script started.
stop_daemon() {
  local name=$1 pid=${pid_of[$1]:-}
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "pid_of[$name]"
}

# Overlay mounts a daemon left (an interrupted unpack) would keep its directory from being removed.
unmount_under() {
  local mounts
  mounts=$(awk -v dir="$1/" 'index($5, dir) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
  [[ -z $mounts ]] || xargs -r -n 1 umount -l <<<"$mounts" 2>/dev/null || true
}
