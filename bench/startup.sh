#!/usr/bin/env bash
# Cold start and idle memory of berthd next to containerd, measured in the same run on the same
# machine so that the ratio means something even where the absolute figures do not.
#
#   cold start: from exec to the first `ctr --address A version` that succeeds (median of N runs)
#   idle RSS:   VmRSS of the daemon 3 s after it first answered
#
# Usage: bench/startup.sh [-n RUNS]
# Environment: BERTHD (default: bin/berthd of this repository), CONTAINERD, CTR (default: from PATH),
# BERTHD_CONFIG (lines added to berthd's config).
# Needs root (containerd does) and a built berthd distribution.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

runs=5
while getopts "n:h" opt; do
  case $opt in
    n) runs=$OPTARG ;;
    *) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "runs must be a positive number, got '$runs'" >&2; exit 2; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
berthd=${BERTHD:-$repo/bin/berthd}
containerd=${CONTAINERD:-$(command -v containerd || true)}
ctr=${CTR:-$(command -v ctr || true)}
for tool in "$berthd" "$containerd" "$ctr"; do
  [[ -n $tool && -x $tool ]] || { echo "missing executable: '${tool}' (containerd and ctr: Debian package containerd)" >&2; exit 1; }
done
[[ $(id -u) -eq 0 ]] || { echo "containerd needs root" >&2; exit 1; }

work=$(mktemp -d /tmp/berth-bench-XXXXXX)
daemon_pid=""

stop_daemon() {
  [[ -n $daemon_pid ]] || return 0
  kill -TERM "$daemon_pid" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$daemon_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$daemon_pid" 2>/dev/null || true
  wait "$daemon_pid" 2>/dev/null || true
  daemon_pid=""
}

cleanup() {
  stop_daemon
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts one daemon of kind $1 in run dir $2 and waits until it answers; sets daemon_pid,
# started_at (epoch ms of the exec) and elapsed_ms (from exec to the first successful `ctr version`).
start_timed() {
  local kind=$1 dir=$2 sock=$2/d.sock
  mkdir -p "$dir"
  started_at=$(now_ms)
  case $kind in
    containerd)
      "$containerd" --config "$work/containerd.toml" --root "$dir/root" --state "$dir/state" --address "$sock" \
        >"$dir/stdout.log" 2>"$dir/stderr.log" &
      ;;
    berthd)
      # With its built-ins only (no plugin dir) and its own ttrpc socket.
      printf 'plugin-dirs = []\nttrpc { address = "%s" }\n%s\n' "$sock.ttrpc" "${BERTHD_CONFIG:-}" >"$dir/berthd.conf"
      # bin/berthd execs java, so $! is the JVM itself.
      "$berthd" --config "$dir/berthd.conf" --root "$dir/root" --state "$dir/state" --address "$sock" "${extra_args[@]}" \
        >"$dir/stdout.log" 2>"$dir/stderr.log" &
      ;;
  esac
  daemon_pid=$!
  # ctr started before the socket exists backs off for about a second before it retries, which would
  # inflate both daemons' figures; so wait for the socket file first (1 ms polls), then poll ctr.
  # Each ctr call already takes a few milliseconds, so it is polled without pause.
  until [[ -S $sock ]] && "$ctr" --address "$sock" version >/dev/null 2>&1; do
    [[ -S $sock ]] || sleep 0.001
    if ! kill -0 "$daemon_pid" 2>/dev/null; then
      echo "$kind exited before serving; its log:" >&2
      cat "$dir/stderr.log" >&2
      exit 1
    fi
    if (($(now_ms) - started_at > 120000)); then
      echo "$kind did not answer within 120 s; its log:" >&2
      cat "$dir/stderr.log" >&2
      exit 1
    fi
  done
  elapsed_ms=$(($(now_ms) - started_at))
}

rss_kib() {
  awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'
}

# containerd reads /etc/containerd/config.toml unless told otherwise; an empty v2 config keeps its
# shipped defaults (every built-in plugin, CRI included), which is what its users run.
echo 'version = 2' >"$work/containerd.toml"
extra_args=()

# One untimed start of each warms the page cache (and makes bin/berthd build a missing distribution),
# so that every timed run starts from the same state.
declare -A runs_ms median_ms rss_kib_of
for kind in containerd berthd; do
  start_timed "$kind" "$work/warmup-$kind"
  stop_daemon
  times=()
  for i in $(seq "$runs"); do
    start_timed "$kind" "$work/$kind-$i"
    times+=("$elapsed_ms")
    if ((i == runs)); then
      sleep 3
      rss_kib_of[$kind]=$(rss_kib "$daemon_pid")
    fi
    stop_daemon
  done
  runs_ms[$kind]="${times[*]}"
  median_ms[$kind]=$(median "${times[@]}")
done

# Where berthd's start goes: one more, untimed run at debug level, read from its log timestamps.
extra_args=(--log-level debug)
start_timed berthd "$work/berthd-debug"
stop_daemon
debug_log=$work/berthd-debug/stderr.log
stamp_re='[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.]+Z?'

# Milliseconds from the exec of the debug run to the time stamp of the first log line matching $1.
since_exec() {
  local stamp ms
  stamp=$(grep -E "^$stamp_re" "$debug_log" | grep -m1 -E "$1" | grep -oE "^$stamp_re" || true)
  if [[ -n $stamp ]] && ms=$(date -d "$stamp" +%s%3N 2>/dev/null); then
    echo $((ms - started_at))
  fi
}

mib() {
  awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'
}

echo "host: $(nproc) CPUs, $(uname -sr); $("$containerd" --version | awk '{ print $1, $3 }'); berthd $("$berthd" --version | head -1)"
echo "runs: $runs per daemon after one warm-up start (file cache warm, process cold)"
echo
printf '%-22s %14s %14s %18s\n' "" containerd berthd berthd/containerd
printf '%-22s %14s %14s %18s\n' "cold start (median)" "${median_ms[containerd]} ms" "${median_ms[berthd]} ms" \
  "$(ratio "${median_ms[berthd]}" "${median_ms[containerd]}")"
printf '%-22s %14s %14s %18s\n' "idle RSS" "$(mib "${rss_kib_of[containerd]}")" "$(mib "${rss_kib_of[berthd]}")" \
  "$(ratio "${rss_kib_of[berthd]}" "${rss_kib_of[containerd]}")"
echo
echo "start times (ms): containerd ${runs_ms[containerd]}; berthd ${runs_ms[berthd]}"
echo
echo "berthd start, one run at debug level (slower than the timed runs: it logs more):"
first_line=$(since_exec '.')
ready=$(since_exec 'ready')
printf '  %-44s %s\n' "exec -> first log line (JVM start)" "${first_line:-?} ms"
# Phase timings the daemon logs itself, e.g. each plugin's initialisation.
grep -E 'initiali[sz]ed in|phase|took|[0-9] ?ms\b' "$debug_log" | grep -vE '^\s+at ' \
  | sed -E "s/^$stamp_re +//; s/^/  /" || true
printf '  %-44s %s\n' "exec -> 'ready' logged" "${ready:-?} ms"
printf '  %-44s %s\n' "exec -> first ctr version answered" "$elapsed_ms ms"
