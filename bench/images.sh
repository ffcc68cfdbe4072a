#!/usr/bin/env bash
# Image import, export and snapshot cycles of berthd next to containerd, measured in the same run on the
# same machine, through ctr, so that the ratio means something even where the absolute figures do not.
#
#   import: `ctr images import --snapshotter overlayfs` (content, image record and unpack) of an OCI archive
#           of about SIZE MiB in 5 gzip layers, each thousands of small files and one large one; s (median of RUNS)
#   export: `ctr images export` of that image to a file; s (median of RUNS)
#   cycle:  `ctr snapshots prepare KEY PARENT` + `commit NAME KEY` + `rm NAME` on the image's top layer with
#           overlayfs, three ctr calls; ms (median of CYCLES), twice: early, after WARMUP untimed cycles,
#           and in use, after INUSE more untimed cycles
#   Both daemons first get one untimed import and export, and WARMUP untimed cycles. berthd's JIT compiles
#   the paths of a cycle during its first few hundred cycles, so the early cycles show a daemon still
#   warming; the target is for the cycles in use.
#
# The archive is generated deterministically (same bytes on every run and machine) from an AES-CTR stream.
#
# Usage: bench/images.sh [-n RUNS] [-c CYCLES] [-s SIZE_MIB] [-w WARMUP] [-u INUSE]   (defaults 3, 40, 200, 20, 200)
# Environment: BERTHD (default: bin/berthd of this repository), CONTAINERD, CTR (default: from PATH),
# BENCH_DIR (everything runs under it, default /tmp; overlayfs must work there), BERTHD_CONFIG (lines
# added to berthd's config, e.g. 'grpc.warm-up-connections = 2000' to measure it with a warm-up).
# Needs root (containerd and overlay mounts do), openssl, a built berthd distribution, and about
# 8 x SIZE MiB free in BENCH_DIR.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

runs=3
cycles=40
size_mib=200
warmup=20
inuse=200
while getopts "n:c:s:w:u:h" opt; do
  case $opt in
    n) runs=$OPTARG ;;
    c) cycles=$OPTARG ;;
    s) size_mib=$OPTARG ;;
    w) warmup=$OPTARG ;;
    u) inuse=$OPTARG ;;
    *) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
for n in "$runs" "$cycles" "$size_mib"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "runs, cycles and size must be positive numbers, got '$n'" >&2; exit 2; }
done
for n in "$warmup" "$inuse"; do
  [[ $n =~ ^[0-9]+$ ]] || { echo "warmup and inuse must be numbers, got '$n'" >&2; exit 2; }
done
((size_mib >= 20)) || { echo "size must be at least 20 MiB, got $size_mib" >&2; exit 2; }
ctr_timeout=600

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
berthd=${BERTHD:-$repo/bin/berthd}
containerd=${CONTAINERD:-$(command -v containerd || true)}
ctr=${CTR:-$(command -v ctr || true)}
for tool in "$berthd" "$containerd" "$ctr" "$(command -v openssl || true)"; do
  [[ -n $tool && -x $tool ]] || { echo "missing executable: '${tool}' (containerd and ctr: Debian package containerd; openssl)" >&2; exit 1; }
done
[[ $(id -u) -eq 0 ]] || { echo "containerd and overlay mounts need root" >&2; exit 1; }

work=$(mktemp -d "${BENCH_DIR:-/tmp}/berth-bench-images-XXXXXX")
declare -A pid_of=()

cleanup() {
  local name
  for name in "${!pid_of[@]}"; do
    stop_daemon "$name"
  done
  unmount_under "$work"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
  echo "images bench: $*" >&2
  local log
  for log in "$work"/*/stderr.log "$work"/*/ctr.log; do
    [[ -f $log ]] || continue
    echo "--- last lines of $log" >&2
    tail -n 20 "$log" >&2
  done
  exit 1
}

# ctr against daemon $1 in namespace bench; its warnings (berthd's version is not containerd's) to a log.
c() {
  local kind=$1
  shift
  timeout "$ctr_timeout" "$ctr" --address "$work/$kind/d.sock" -n bench "$@" 2>>"$work/$kind/ctr.log"
}

seconds() {
  awk -v ms="$1" 'BEGIN { printf "%.2f", ms / 1000 }'
}

# ---------------------------------------------------------------------------------------------- image
# $1 bytes of a deterministic stream named $2: AES-128-CTR of zeros under a key derived from the name.
stream() {
  local key
  key=$(printf '%s' "$2" | sha256sum | cut -c 1-32)
  # openssl ends on the closed pipe once head has its bytes
  { openssl enc -aes-128-ctr -nosalt -K "$key" -iv 00000000000000000000000000000000 </dev/zero 2>/dev/null || true; } | head -c "$1"
}

sha() {
  sha256sum "$1" | cut -d ' ' -f 1
}

# Layer i holds 2,000 small files in 20 directories (text of 1, 2, 4 or 8 KiB, which gzip shrinks by a
# quarter) and one large random file; the large files (weighted 4:5:6:7:8, about 22 to 44 MiB at the
# default size) share what the small ones leave of SIZE MiB.
build_image() {
  local out=$1 layout=$1/layout blobs=$1/layout/blobs/sha256 i dir small_total large_total diff_ids="" layers="" tarball gz
  local kib group
  mkdir -p "$blobs"
  small_total=$((5 * 2000 * 15 / 4 * 1024)) # 500 files of each size per layer: 3.75 KiB on average
  large_total=$(((size_mib << 20) - small_total))
  ((large_total > 0)) || die "size $size_mib MiB leaves no room for the large files"
  for i in 1 2 3 4 5; do
    dir=$out/layer$i
    for kib in 1 2 4 8; do
      for group in 1 2 3 4 5; do
        # 100 files of kib KiB cut from one stream: base64 text, as most small files in images are text
        mkdir -p "$dir/usr/share/l$i/k$kib-$group"
        stream $((100 * kib * 768)) "layer$i-$kib-$group" | base64 -w 0 \
          | split -b $((kib * 1024)) -a 2 -d - "$dir/usr/share/l$i/k$kib-$group/f"
      done
    done
    mkdir -p "$dir/opt/l$i"
    stream $((large_total * (i + 3) / 30)) "layer$i-large" >"$dir/opt/l$i/blob.bin"
    tarball=$out/layer$i.tar
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=pax --pax-option=delete=atime,delete=ctime \
      -C "$dir" -cf "$tarball" .
    rm -rf "$dir"
    diff_ids+="${diff_ids:+,}\"sha256:$(sha "$tarball")\""
    gzip -n -6 "$tarball"
    gz=$(sha "$tarball.gz")
    mv "$tarball.gz" "$blobs/$gz"
    layers+="${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$gz\",\"size\":$(stat -c %s "$blobs/$gz")}"
  done
  printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[%s]}}' "$diff_ids" >"$out/config.json"
  local config
  config=$(sha "$out/config.json")
  mv "$out/config.json" "$blobs/$config"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[%s]}' \
    "$config" "$(stat -c %s "$blobs/$config")" "$layers" >"$out/manifest.json"
  manifest=sha256:$(sha "$out/manifest.json")
  mv "$out/manifest.json" "$blobs/${manifest#sha256:}"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"1"}}]}' \
    "$manifest" "$(stat -c %s "$blobs/${manifest#sha256:}")" >"$layout/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$layout" -cf "$out/image.tar" .
  rm -rf "$layout"
}

# Removes the image from daemon $1 and waits for the collection; fails unless content and snapshots are gone.
remove_image() {
  c "$1" images rm --sync "$ref" >/dev/null || die "$1: ctr images rm failed"
  [[ -z $(c "$1" content ls -q) ]] || die "$1 still holds content after removing the image"
  [[ $(c "$1" snapshots --snapshotter overlayfs ls | wc -l) -le 1 ]] || die "$1 still holds snapshots after removing the image"
}

# The image's top layer: the committed snapshot no other is the parent of.
top_snapshot() {
  c "$1" snapshots --snapshotter overlayfs ls | awk 'NR > 1 { key[$1] = 1; if (NF == 3) parent[$2] = 1 } END { for (k in key) if (!(k in parent)) print k }'
}

kinds=(containerd berthd)
# Runs alternate which daemon goes first, so that a drift in the machine's load touches both alike.
order() {
  if (($1 % 2)); then echo containerd berthd; else echo berthd containerd; fi
}

echo "host: $(nproc) CPUs, $(uname -sr); $("$containerd" --version | awk '{ print $1, $3 }'); berthd $("$berthd" --version | head -1)"
echo "under $work ($(df --output=fstype "$work" | tail -n 1))"
echo "building a $size_mib MiB image of 5 gzip layers..."
build_image "$work/image"
archive=$work/image/image.tar
ref=bench.test/images:1
echo "archive $(($(stat -c %s "$archive") >> 20)) MiB, manifest $manifest"

for kind in "${kinds[@]}"; do
  start_daemon "$kind" "$kind" "$work/$kind"
done

# ----------------------------------------------------------------------------------- import and export
declare -A import_ms export_ms early_ms cycle_ms version_ms export_sha
# The untimed warm-up: one import and export per daemon.
for kind in "${kinds[@]}"; do
  c "$kind" images import --snapshotter overlayfs --base-name bench.test/images "$archive" >/dev/null \
    || die "$kind: the warm-up ctr images import failed"
  c "$kind" images export "$work/$kind/export.tar" "$ref" || die "$kind: the warm-up ctr images export failed"
  rm -f "$work/$kind/export.tar"
  remove_image "$kind"
done
for run in $(seq "$runs"); do
  for kind in $(order "$run"); do
    start=$(now_ms)
    c "$kind" images import --snapshotter overlayfs --base-name bench.test/images "$archive" >/dev/null \
      || die "$kind: ctr images import failed (run $run)"
    ms=$(($(now_ms) - start))
    import_ms[$kind]+=" $ms"
    listed=$(c "$kind" images ls | awk -v ref="$ref" '$1 == ref { print $3 }')
    [[ $listed == "$manifest" ]] || die "$kind lists $ref as '$listed', not $manifest"
    check=$(c "$kind" images check --snapshotter overlayfs)
    [[ $check =~ $ref\ [^$'\n']*complete\ \(6/6\)[^$'\n']*true ]] || die "$kind: the imported image is not complete and unpacked: $check"

    exported=$work/$kind/export.tar
    start=$(now_ms)
    c "$kind" images export "$exported" "$ref" || die "$kind: ctr images export failed (run $run)"
    export_ms[$kind]+=" $(($(now_ms) - start))"
    export_sha[$kind]=$(sha "$exported")
    rm -f "$exported"

    remove_image "$kind"
    echo "run $run $kind: import $(seconds "$ms") s, export $(seconds "${export_ms[$kind]##* }") s"
  done
done

# ------------------------------------------------------------------------------------- snapshot cycles
declare -A parent_of
# Untimed cycles on daemon $1, keys named after $2, numbered $3 to $4.
untimed_cycles() {
  local kind=$1 stage=$2 i
  for i in $(seq "$3" "$4"); do
    c "$kind" snapshots --snapshotter overlayfs prepare "$stage-$i" "${parent_of[$kind]}" >/dev/null || die "$kind: untimed prepare $i failed"
    c "$kind" snapshots --snapshotter overlayfs commit "$stage-committed-$i" "$stage-$i" || die "$kind: untimed commit $i failed"
    c "$kind" snapshots --snapshotter overlayfs rm "$stage-committed-$i" || die "$kind: untimed rm $i failed"
  done
}
for kind in "${kinds[@]}"; do
  c "$kind" images import --snapshotter overlayfs --base-name bench.test/images "$archive" >/dev/null || die "$kind: ctr images import failed"
  parent_of[$kind]=$(top_snapshot "$kind")
  [[ -n ${parent_of[$kind]} ]] || die "$kind: no top snapshot after the import"
  untimed_cycles "$kind" warm 0 "$warmup"
done
# CYCLES timed cycles per daemon, alternating, into the array named $1; $2 tells the cycles' keys apart.
time_cycles() {
  local -n into=$1
  local stage=$2 cycle kind start
  for cycle in $(seq "$cycles"); do
    for kind in $(order "$cycle"); do
      start=$(now_ms)
      c "$kind" snapshots --snapshotter overlayfs prepare "$stage-active-$cycle" "${parent_of[$kind]}" >/dev/null || die "$kind: prepare failed ($stage cycle $cycle)"
      c "$kind" snapshots --snapshotter overlayfs commit "$stage-committed-$cycle" "$stage-active-$cycle" || die "$kind: commit failed ($stage cycle $cycle)"
      c "$kind" snapshots --snapshotter overlayfs rm "$stage-committed-$cycle" || die "$kind: rm failed ($stage cycle $cycle)"
      into[$kind]+=" $(($(now_ms) - start))"
    done
  done
}
time_cycles early_ms early
for kind in "${kinds[@]}"; do
  untimed_cycles "$kind" use 1 "$inuse"
done
time_cycles cycle_ms inuse
# ctr's own cost (process start, connection) for scale: each cycle pays it three times.
for run in $(seq 5); do
  for kind in $(order "$run"); do
    start=$(now_ms)
    c "$kind" version >/dev/null
    version_ms[$kind]+=" $(($(now_ms) - start))"
  done
done

# --------------------------------------------------------------------------------------------- report
row() {
  local label=$1 unit=$2 c_med=$3 b_med=$4 target=${5:-<= 1.00}
  printf '%-46s %12s %12s %9s %8s\n' "$label" "$c_med $unit" "$b_med $unit" "$(ratio "$b_med" "$c_med")" "$target"
}
# shellcheck disable=SC2086 # the per-run figures are space-separated lists on purpose
{
  echo
  echo "runs: import and export $runs per daemon after 1 untimed; snapshot cycles $cycles early, after $warmup untimed, and $cycles"
  echo "in use, after $inuse more untimed (medians; runs alternate which daemon goes first)"
  printf '%-46s %12s %12s %9s %8s\n' "" containerd berthd berthd/c target
  row "images import, $size_mib MiB, 5 layers, unpacked" s "$(seconds "$(median ${import_ms[containerd]})")" "$(seconds "$(median ${import_ms[berthd]})")"
  row "images export" s "$(seconds "$(median ${export_ms[containerd]})")" "$(seconds "$(median ${export_ms[berthd]})")"
  row "snapshots prepare + commit + rm, early" ms "$(median ${early_ms[containerd]})" "$(median ${early_ms[berthd]})" reported
  row "snapshots prepare + commit + rm, in use" ms "$(median ${cycle_ms[containerd]})" "$(median ${cycle_ms[berthd]})"
  printf '%-46s %12s %12s\n' "ctr version round trip, for scale" "$(median ${version_ms[containerd]}) ms" "$(median ${version_ms[berthd]}) ms"
  echo
  for kind in "${kinds[@]}"; do
    echo "$kind: import ms${import_ms[$kind]}; export ms${export_ms[$kind]}; cycle early ms${early_ms[$kind]}; in use ms${cycle_ms[$kind]}"
  done
  if [[ ${export_sha[containerd]} == "${export_sha[berthd]}" ]]; then
    echo "the exported archives are identical (sha256:${export_sha[berthd]})"
  else
    echo "the exported archives differ: containerd sha256:${export_sha[containerd]}, berthd sha256:${export_sha[berthd]}"
  fi
}
