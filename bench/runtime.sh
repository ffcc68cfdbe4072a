#!/usr/bin/env bash
# Containers run by berthd next to containerd, both through containerd-shim-runc-v2 and runc, measured in
# the same run on the same machine, through ctr, so that the ratio means something even where the absolute
# figures do not.
#
#   run:    `ctr run --rm IMAGE ID /bin/true` from exec to exit; ms (median of RUNS)
#   create: `ctr containers create IMAGE ID /bin/true` + `ctr containers rm ID`; ms (median of PAIRS), twice:
#           early, right after the warm-up below, and in use, after INUSE more untimed pairs
#   Both daemons first get WARMUP untimed runs and pairs. berthd's JIT compiles the paths of a pair during
#   its first few hundred pairs, so the early pairs show a daemon still warming; the target is for the
#   pairs in use.
#   RSS:    VmRSS of the daemon with COUNT containers running `/bin/sleep 600` (`ctr run -d`), and the
#           total VmRSS of their shims for scale (the same shim binary for both daemons)
#
# The image is busybox-static in one layer, built offline with umoci and imported with `ctr images import`.
# Each daemon has a namespace of its own: the cgroups ctr asks for are per namespace, and containerd's
# shims keep runc's state under /run/containerd/runc, one directory per namespace (berthd's keep theirs
# in its own state directory).
#
# Usage: bench/runtime.sh [-n RUNS] [-p PAIRS] [-k COUNT] [-w WARMUP] [-u INUSE]   (defaults 15, 40, 20, 20, 200)
# Environment: BERTHD (default: bin/berthd of this repository), CONTAINERD, CTR (default: from PATH),
# BENCH_DIR (everything runs under it, default /tmp; overlayfs must work there), BERTHD_CONFIG (lines
# added to berthd's config, e.g. 'grpc.warm-up-connections = 2000' to measure it with a warm-up).
# Needs root, umoci, /bin/busybox (Debian package busybox-static), containerd-shim-runc-v2 and runc on
# PATH, and a built berthd distribution.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

runs=15
pairs=40
count=20
warmup=20
inuse=200
while getopts "n:p:k:w:u:h" opt; do
  case $opt in
    n) runs=$OPTARG ;;
    p) pairs=$OPTARG ;;
    k) count=$OPTARG ;;
    w) warmup=$OPTARG ;;
    u) inuse=$OPTARG ;;
    *) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
for n in "$runs" "$pairs" "$count"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "runs, pairs and count must be positive numbers, got '$n'" >&2; exit 2; }
done
for n in "$warmup" "$inuse"; do
  [[ $n =~ ^[0-9]+$ ]] || { echo "warmup and inuse must be numbers, got '$n'" >&2; exit 2; }
done
ctr_timeout=120

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
berthd=${BERTHD:-$repo/bin/berthd}
containerd=${CONTAINERD:-$(command -v containerd || true)}
ctr=${CTR:-$(command -v ctr || true)}
busybox=/bin/busybox
for tool in "$berthd" "$containerd" "$ctr" "$(command -v umoci || true)" "$busybox" \
  "$(command -v containerd-shim-runc-v2 || true)" "$(command -v runc || true)"; do
  [[ -n $tool && -x $tool ]] || {
    echo "missing executable: '${tool}' (Debian packages containerd, runc, umoci, busybox-static)" >&2
    exit 1
  }
done
[[ $(id -u) -eq 0 ]] || { echo "containerd and runc need root" >&2; exit 1; }

work=$(mktemp -d "${BENCH_DIR:-/tmp}/berth-bench-runtime-XXXXXX")
kinds=(containerd berthd)
# Namespaces of this run only: the cgroups and containerd's runc state directory are per namespace, and
# other containerd instances on the machine use the same runc root.
declare -A ns_of=([containerd]=bench-ctd-$$ [berthd]=bench-berth-$$) prefix_of=([containerd]=ctd [berthd]=berth)
declare -A pid_of=()

# ctr against daemon $1 in its namespace; its warnings (berthd's version is not containerd's) to a log.
# Standard input is never a pipe or a terminal, so ctr forwards none.
c() {
  local kind=$1
  shift
  timeout "$ctr_timeout" "$ctr" --address "$work/$kind/d.sock" -n "${ns_of[$kind]}" "$@" </dev/null 2>>"$work/$kind/ctr.log"
}

# Kills and removes every container in daemon $1's namespace (all of them were created by this run).
remove_containers() {
  local kind=$1 id
  [[ -n ${pid_of[$kind]:-} ]] || return 0
  for id in $(c "$kind" tasks ls -q 2>/dev/null || true); do
    c "$kind" tasks kill -s SIGKILL "$id" 2>/dev/null || true
  done
  for id in $(c "$kind" tasks ls -q 2>/dev/null || true); do
    for _ in $(seq 50); do
      [[ $(c "$kind" tasks ls 2>/dev/null | awk -v id="$id" '$1 == id { print $3 }') == RUNNING ]] || break
      sleep 0.1
    done
    c "$kind" tasks rm -f "$id" >/dev/null 2>&1 || true
  done
  for id in $(c "$kind" containers ls -q 2>/dev/null || true); do
    c "$kind" containers rm "$id" 2>/dev/null || true
  done
}

cleanup() {
  local kind dir
  for kind in "${kinds[@]}"; do
    remove_containers "$kind"
  done
  for kind in "${kinds[@]}"; do
    stop_daemon "$kind"
  done
  unmount_under "$work"
  rm -rf "$work"
  # What runc and the cgroup drivers keep per namespace, empty once its containers are gone.
  for kind in "${kinds[@]}"; do
    for dir in "/run/containerd/runc/${ns_of[$kind]}" /sys/fs/cgroup/*/"${ns_of[$kind]}" "/sys/fs/cgroup/${ns_of[$kind]}"; do
      [[ -d $dir ]] && rmdir "$dir" 2>/dev/null || true
    done
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
  echo "runtime bench: $*" >&2
  local log
  for log in "$work"/*/stderr.log "$work"/*/ctr.log; do
    [[ -f $log ]] || continue
    echo "--- last lines of $log" >&2
    tail -n 20 "$log" >&2
  done
  exit 1
}

now_us() {
  local ns
  ns=$(date +%s%N)
  echo $((ns / 1000))
}

ms() {
  awk -v us="$1" 'BEGIN { printf "%.1f", us / 1000 }'
}

mib() {
  awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'
}

rss_kib() {
  awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# Runs alternate which daemon goes first, so that a drift in the machine's load touches both alike.
order() {
  if (($1 % 2)); then echo containerd berthd; else echo berthd containerd; fi
}

# Container ids differ between the daemons too, so that no two containers of this run share a name anywhere.
id_for() {
  echo "${prefix_of[$1]}-$2"
}

# ---------------------------------------------------------------------------------------------- image
# busybox-static and links to the applets the bench runs, in one layer made by umoci.
build_image() {
  local dir=$1 layout=$1/layout bundle=$1/bundle applet
  mkdir -p "$dir"
  umoci init --layout "$layout"
  umoci new --image "$layout:latest"
  umoci unpack --image "$layout:latest" "$bundle" >/dev/null
  mkdir -p "$bundle/rootfs/bin"
  cp "$busybox" "$bundle/rootfs/bin/busybox"
  for applet in sh true sleep; do
    ln -s busybox "$bundle/rootfs/bin/$applet"
  done
  umoci repack --image "$layout:latest" "$bundle" >/dev/null
  umoci gc --layout "$layout"
  tar -C "$layout" -cf "$dir/busybox.tar" .
  rm -rf "$bundle" "$layout"
}

echo "host: $(nproc) CPUs, $(uname -sr); $("$containerd" --version | awk '{ print $1, $3 }'); berthd $("$berthd" --version | head -1)"
echo "shim: $(command -v containerd-shim-runc-v2); $(runc --version | head -1)"
echo "under $work; namespaces ${ns_of[containerd]} (containerd) and ${ns_of[berthd]} (berthd)"
build_image "$work/image" || die "building the busybox image with umoci failed"
archive=$work/image/busybox.tar
image=bench.test/busybox:latest

# $3 untimed create + rm pairs on daemon $1, their ids named after $2.
untimed_pairs() {
  local kind=$1 stage=$2 i
  for i in $(seq "$3"); do
    c "$kind" containers create "$image" "$(id_for "$kind" "$stage-pair-$i")" /bin/true || die "$kind: untimed ($stage) ctr containers create $i failed"
    c "$kind" containers rm "$(id_for "$kind" "$stage-pair-$i")" || die "$kind: untimed ($stage) ctr containers rm $i failed"
  done
}

for kind in "${kinds[@]}"; do
  start_daemon "$kind" "$kind" "$work/$kind"
  c "$kind" images import --base-name bench.test/busybox "$archive" >/dev/null || die "$kind: ctr images import failed"
  # The untimed warm-up: the first container pays for loading the shim, runc and the image's files, the
  # first calls for berthd's JIT.
  for i in $(seq 0 "$warmup"); do
    c "$kind" run --rm "$image" "$(id_for "$kind" warm-"$i")" /bin/true || die "$kind: warm-up ctr run $i failed"
  done
  untimed_pairs "$kind" warm "$warmup"
done

# ----------------------------------------------------------------------------------------------- run
declare -A run_us early_us create_us version_us rss_of shims_of shim_count_of
for run in $(seq "$runs"); do
  for kind in $(order "$run"); do
    start=$(now_us)
    c "$kind" run --rm "$image" "$(id_for "$kind" run-"$run")" /bin/true || die "$kind: ctr run --rm failed (run $run)"
    run_us[$kind]+=" $(($(now_us) - start))"
  done
done
for kind in "${kinds[@]}"; do
  [[ -z $(c "$kind" containers ls -q) ]] || die "$kind still lists containers after ctr run --rm"
done

# -------------------------------------------------------------------------------------- create and rm
# PAIRS timed pairs per daemon, alternating, into the array named $1; $2 tells the pairs' ids apart.
time_pairs() {
  local -n into=$1
  local stage=$2 pair kind id start
  for pair in $(seq "$pairs"); do
    for kind in $(order "$pair"); do
      id=$(id_for "$kind" "$stage-$pair")
      start=$(now_us)
      c "$kind" containers create "$image" "$id" /bin/true || die "$kind: ctr containers create failed ($stage pair $pair)"
      c "$kind" containers rm "$id" || die "$kind: ctr containers rm failed ($stage pair $pair)"
      into[$kind]+=" $(($(now_us) - start))"
    done
  done
}
time_pairs early_us early
for kind in "${kinds[@]}"; do
  untimed_pairs "$kind" use "$inuse"
done
time_pairs create_us create
# ctr's own cost (process start, connection) for scale: each pair pays it twice.
for run in $(seq 5); do
  for kind in $(order "$run"); do
    start=$(now_us)
    c "$kind" version >/dev/null
    version_us[$kind]+=" $(($(now_us) - start))"
  done
done

# --------------------------------------------------------------------------------------------- memory
# The shim of a task is the parent of its init process (runc's v2 shim reparents it to itself).
shim_pids() {
  local pid
  for pid in $(c "$1" tasks ls | awk 'NR > 1 && $3 == "RUNNING" { print $2 }'); do
    awk '/^PPid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true
  done | sort -u
}

for kind in "${kinds[@]}"; do
  for i in $(seq "$count"); do
    c "$kind" run -d "$image" "$(id_for "$kind" sleep-"$i")" /bin/sleep 600 || die "$kind: ctr run -d failed (container $i)"
  done
  running=$(c "$kind" tasks ls | awk 'NR > 1 && $3 == "RUNNING"' | wc -l)
  ((running == count)) || die "$kind runs $running containers, not $count"
done
# Both daemons hold their containers at once; let what they started settle before reading the figures.
sleep 3
for kind in "${kinds[@]}"; do
  rss_of[$kind]=$(rss_kib "${pid_of[$kind]}")
  total=0
  shims=0
  for pid in $(shim_pids "$kind"); do
    total=$((total + $(rss_kib "$pid")))
    shims=$((shims + 1))
  done
  shims_of[$kind]=$total
  shim_count_of[$kind]=$shims
done
for kind in "${kinds[@]}"; do
  remove_containers "$kind"
  [[ -z $(c "$kind" containers ls -q) ]] || die "$kind still lists containers after removing them"
done

# --------------------------------------------------------------------------------------------- report
row() {
  local label=$1 unit=$2 c_fig=$3 b_fig=$4 target=$5
  printf '%-46s %12s %12s %9s %8s\n' "$label" "$c_fig $unit" "$b_fig $unit" "$(ratio "$b_fig" "$c_fig")" "$target"
}
# shellcheck disable=SC2086 # the per-run figures are space-separated lists on purpose
{
  echo
  echo "runs: ctr run $runs per daemon and create + rm $pairs early, after $warmup untimed of each; create + rm $pairs in use,"
  echo "after $inuse more untimed pairs (medians; runs alternate which daemon goes first)"
  printf '%-46s %12s %12s %9s %8s\n' "" containerd berthd berthd/c target
  row "ctr run --rm IMAGE ID /bin/true" ms "$(ms "$(median ${run_us[containerd]})")" "$(ms "$(median ${run_us[berthd]})")" "<= 1.05"
  row "ctr containers create + rm, early" ms "$(ms "$(median ${early_us[containerd]})")" "$(ms "$(median ${early_us[berthd]})")" reported
  row "ctr containers create + rm, in use" ms "$(ms "$(median ${create_us[containerd]})")" "$(ms "$(median ${create_us[berthd]})")" "<= 1.00"
  row "daemon RSS, $count containers running" MiB "$(mib "${rss_of[containerd]}")" "$(mib "${rss_of[berthd]}")" reported
  row "shims' RSS, total of ${shim_count_of[containerd]} and ${shim_count_of[berthd]}" MiB \
    "$(mib "${shims_of[containerd]}")" "$(mib "${shims_of[berthd]}")" reported
  printf '%-46s %12s %12s\n' "ctr version round trip, for scale" "$(ms "$(median ${version_us[containerd]})") ms" \
    "$(ms "$(median ${version_us[berthd]})") ms"
  echo
  for kind in "${kinds[@]}"; do
    echo "$kind: run us${run_us[$kind]}; create + rm early us${early_us[$kind]}; in use us${create_us[$kind]}"
  done
}
