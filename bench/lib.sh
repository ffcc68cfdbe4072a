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

# Starts daemon $2 of kind $1 in dir $3 (its sockets, root and state inside), extra flags after, and waits
# until `ctr version` answers; as bench/startup.sh, the socket file first, then ctr without pause. Uses the
# script's $containerd, $berthd, $ctr and die, and records the pid in pid_of under the name.
start_daemon() {
  local kind=$1 name=$2 dir=$3 sock=$3/d.sock started_at
  shift 3
  mkdir -p "$dir"
  case $kind in
    containerd)
      # An empty v2 config keeps containerd's shipped defaults (and ignores /etc/containerd/config.toml).
      echo 'version = 2' >"$dir/containerd.toml"
      "$containerd" --config "$dir/containerd.toml" --root "$dir/root" --state "$dir/state" --address "$sock" "$@" \
        >"$dir/stdout.log" 2>"$dir/stderr.log" &
      ;;
    berthd)
      printf 'plugin-dirs = []\nttrpc { address = "%s" }\n%s\n' "$sock.ttrpc" "${BERTHD_CONFIG:-}" >"$dir/berthd.conf"
      # bin/berthd execs java, so $! is the JVM itself.
      "$berthd" --config "$dir/berthd.conf" --root "$dir/root" --state "$dir/state" --address "$sock" "$@" \
        >"$dir/stdout.log" 2>"$dir/stderr.log" &
      ;;
  esac
  pid_of[$name]=$!
  started_at=$(now_ms)
  until [[ -S $sock ]] && "$ctr" --address "$sock" version >/dev/null 2>&1; do
    [[ -S $sock ]] || sleep 0.01
    kill -0 "${pid_of[$name]}" 2>/dev/null || die "$name exited before serving"
    (($(now_ms) - started_at < 120000)) || die "$name did not answer within 120 s"
  done
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
