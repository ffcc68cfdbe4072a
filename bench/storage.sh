#!/usr/bin/env bash
# Storage throughput and metadata costs of berthd next to containerd, measured in the same run on the
# same machine, through ctr, so that the ratio means something even where the absolute figures do not.
#
#   ingest:  `ctr content ingest REF < FILE` of a random file (1 GiB), MiB/s (median of RUNS, after one
#            untimed ingest and get per daemon)
#   get:     `ctr content get DIGEST > /dev/null` of that blob, MiB/s (median of RUNS)
#   ls:      `ctr content ls > /dev/null` with 10,000 blobs in the namespace, ms (median of 5)
#   GC pass: one collection over 100,000 objects (those blobs and 90,000 leases), asked for by
#            `ctr leases rm --sync`: the wall time of that ctr and the pass's time as each daemon logs it
#
# Usage: bench/storage.sh [-n RUNS] [-s SIZE_MIB] [-b BLOBS] [-o OBJECTS]   (defaults 3, 1024, 10000, 100000)
# Environment: BERTHD (default: bin/berthd of this repository), CONTAINERD, CTR (default: from PATH),
# JAVA_HOME (a JDK 25 for the loader; otherwise one under /usr/lib/jvm), BENCH_DIR (ingest and get run
# under it, default /tmp), BENCH_META_DIR (ls and GC run under it, default /dev/shm), BERTHD_CONFIG (lines
# added to berthd's config).
# Needs root (containerd does), a built berthd distribution, and about 3 GiB free in BENCH_DIR.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

runs=3
size_mib=1024
blobs=10000
objects=100000
while getopts "n:s:b:o:h" opt; do
  case $opt in
    n) runs=$OPTARG ;;
    s) size_mib=$OPTARG ;;
    b) blobs=$OPTARG ;;
    o) objects=$OPTARG ;;
    *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "runs must be a positive number, got '$runs'" >&2; exit 2; }
for n in "$size_mib" "$blobs" "$objects"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "sizes and counts must be positive numbers, got '$n'" >&2; exit 2; }
done
((objects > blobs)) || { echo "objects ($objects) must exceed blobs ($blobs): the rest are leases" >&2; exit 2; }
ls_runs=5
gc_runs=3
# Each ctr gets this long before it counts as hung; the loader gets longer, it makes up to 90,000 calls.
ctr_timeout=600
load_timeout=1200

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
berthd=${BERTHD:-$repo/bin/berthd}
containerd=${CONTAINERD:-$(command -v containerd || true)}
ctr=${CTR:-$(command -v ctr || true)}
dist=$repo/bootstrap/target/dist
for tool in "$berthd" "$containerd" "$ctr"; do
  [[ -n $tool && -x $tool ]] || { echo "missing executable: '${tool}' (containerd and ctr: Debian package containerd)" >&2; exit 1; }
done
[[ $(id -u) -eq 0 ]] || { echo "containerd needs root" >&2; exit 1; }

java_home=""
for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*25*; do
  major=$(sed -n 's/^JAVA_VERSION="\([0-9][0-9]*\).*/\1/p' "$candidate/release" 2>/dev/null || true)
  if [[ -n $major && $major -ge 25 && -x $candidate/bin/javac ]]; then
    java_home=$candidate
    break
  fi
done
[[ -n $java_home ]] || { echo "the loader needs a JDK 25: set JAVA_HOME" >&2; exit 1; }

# Ingest and get go through the file system a user's blobs live on. Listing and collecting need 100,000
# objects first, each a synchronous commit: on a disk that is 100,000 fsyncs (about half an hour for
# containerd here), in memory a minute; the figures measured afterwards are reads of mapped pages either way.
disk_work=$(mktemp -d "${BENCH_DIR:-/tmp}/berth-bench-storage-XXXXXX")
meta_work=$(mktemp -d "${BENCH_META_DIR:-/dev/shm}/berth-bench-storage-XXXXXX")
declare -A pid_of=()

cleanup() {
  local name
  for name in "${!pid_of[@]}"; do
    stop_daemon "$name"
  done
  rm -rf "$disk_work" "$meta_work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
  echo "storage bench: $*" >&2
  local log
  for log in "$disk_work"/*/stderr.log "$meta_work"/*/stderr.log; do
    [[ -f $log ]] || continue
    echo "--- last lines of $log" >&2
    tail -n 20 "$log" >&2
  done
  exit 1
}

# ctr against daemon $1 in namespace bench; its warnings (berthd's version is not containerd's) to a log.
c() {
  local dir=$1
  shift
  timeout "$ctr_timeout" "$ctr" --address "$dir/d.sock" -n bench "$@" 2>>"$dir/ctr.log"
}

# Asks daemon $1 for a collection and waits for it (containerd's way: remove a lease with --sync).
collect() {
  local lease=sync-$RANDOM$RANDOM
  c "$1" leases create --id "$lease" >/dev/null
  c "$1" leases rm --sync "$lease" >/dev/null
}

mib_per_s() {
  awk -v mib="$size_mib" -v ms="$1" 'BEGIN { printf "%.0f", (ms > 0) ? mib * 1000 / ms : 0 }'
}

# A Go duration as containerd logs it (850µs, 45.3ms, 1.2s, 1m2.5s) in ms.
go_ms() {
  awk -v d="$1" 'BEGIN {
    f["ns"] = 1e-6; f["us"] = 1e-3; f["µs"] = 1e-3; f["ms"] = 1; f["s"] = 1e3; f["m"] = 6e4; f["h"] = 3.6e6
    while (match(d, /^[0-9.]+[^0-9.]+/)) {
      tok = substr(d, 1, RLENGTH); d = substr(d, RLENGTH + 1)
      unit = tok; gsub(/[0-9.]/, "", unit)
      if (!(unit in f)) exit 1
      total += (tok + 0) * f[unit]
    }
    printf "%.1f", total
  }'
}

# A java.time.Duration as berthd logs it (PT0.0446S, PT1M2.5S) in ms.
iso_ms() {
  awk -v d="$1" 'BEGIN {
    sub(/^PT/, "", d); f["H"] = 3.6e6; f["M"] = 6e4; f["S"] = 1e3
    while (match(d, /^[0-9.]+[HMS]/)) {
      tok = substr(d, 1, RLENGTH); d = substr(d, RLENGTH + 1)
      total += (tok + 0) * f[substr(tok, RLENGTH)]
    }
    printf "%.1f", total
  }'
}

# The duration of the last collection daemon $2 (kind $1) logged after line $3 of its log, in ms;
# berthd's figure is its metadata pass plus its content cleanup, as containerd's d= is.
logged_gc_ms() {
  local kind=$1 log=$2/stderr.log from=$3 line
  case $kind in
    containerd)
      line=$(tail -n "+$((from + 1))" "$log" | grep 'msg="garbage collected"' | tail -n 1 || true)
      if [[ $line =~ d=([^[:space:]]+) ]]; then
        go_ms "${BASH_REMATCH[1]}"
      fi
      ;;
    berthd)
      line=$(tail -n "+$((from + 1))" "$log" | grep 'GarbageCollector: garbage collected' | tail -n 1 || true)
      if [[ $line =~ in\ (PT[^[:space:]]+)\ \(content\ (PT[^\)]+)\) ]]; then
        awk -v a="$(iso_ms "${BASH_REMATCH[1]}")" -v b="$(iso_ms "${BASH_REMATCH[2]}")" 'BEGIN { printf "%.1f", a + b }'
      fi
      ;;
  esac
}

# --------------------------------------------------------------------------------------------- loader
# 10,000 blobs and 90,000 leases through ctr would take about 60 ms a call here (over 3 hours for both
# daemons, one call at a time); this client makes the same gRPC calls, 32 at a time, on one connection.
mkdir -p "$meta_work/loader"
cat >"$meta_work/loader/Load.java" <<'EOF'
import com.google.protobuf.ByteString;
import dev.berth.api.services.content.v1.ContentGrpc;
import dev.berth.api.services.content.v1.WriteAction;
import dev.berth.api.services.content.v1.WriteContentRequest;
import dev.berth.api.services.content.v1.WriteContentResponse;
import dev.berth.api.services.leases.v1.CreateRequest;
import dev.berth.api.services.leases.v1.LeasesGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Load SOCKET NAMESPACE (blobs|leases) COUNT PREFIX: writes COUNT distinct small blobs, each committed
 * with the label containerd.io/gc.root so that no collection takes it, or creates COUNT leases; prints
 * the elapsed milliseconds.
 */
public class Load {
    private static final int IN_FLIGHT = 32;

    public static void main(String[] args) throws Exception {
        String socket = args[0], namespace = args[1], what = args[2], prefix = args[4];
        int count = Integer.parseInt(args[3]);
        var loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket))
                .eventLoopGroup(loop).channelType(EpollDomainSocketChannel.class).usePlaintext().build();
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("containerd-namespace", Metadata.ASCII_STRING_MARSHALLER), namespace);
        var withNamespace = MetadataUtils.newAttachHeadersInterceptor(headers);
        var content = ContentGrpc.newStub(channel).withInterceptors(withNamespace);
        var leases = LeasesGrpc.newFutureStub(channel).withInterceptors(withNamespace);
        MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
        Semaphore inFlight = new Semaphore(IN_FLIGHT);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long start = System.nanoTime();
        for (int i = 0; i < count && failure.get() == null; i++) {
            inFlight.acquire();
            String name = prefix + "-" + i;
            CompletableFuture<Void> done = new CompletableFuture<>();
            done.whenComplete((ignored, error) -> {
                if (error != null) {
                    failure.compareAndSet(null, error);
                }
                inFlight.release();
            });
            if (what.equals("leases")) {
                var created = leases.create(CreateRequest.newBuilder().setId(name).build());
                created.addListener(() -> {
                    try {
                        created.get();
                        done.complete(null);
                    } catch (Exception e) {
                        done.completeExceptionally(e);
                    }
                }, Runnable::run);
            } else {
                byte[] bytes = (name + " " + "x".repeat(200)).getBytes(StandardCharsets.UTF_8);
                String digest = "sha256:" + HexFormat.of().formatHex(sha256.digest(bytes));
                // as a client pulling an image: STAT the ref, then one COMMIT carrying the data; the
                // client closes the stream once the commit is answered (containerd waits for that)
                var requests = content.write(new ClientResponseObserver<WriteContentRequest, WriteContentResponse>() {
                    private ClientCallStreamObserver<WriteContentRequest> stream;
                    private int responses;

                    @Override
                    public void beforeStart(ClientCallStreamObserver<WriteContentRequest> requestStream) {
                        stream = requestStream;
                    }

                    @Override
                    public void onNext(WriteContentResponse response) {
                        if (++responses == 2) {
                            stream.onCompleted();
                            done.complete(null);
                        }
                    }

                    @Override
                    public void onError(Throwable error) {
                        done.completeExceptionally(error);
                    }

                    @Override
                    public void onCompleted() {
                        if (!done.isDone()) {
                            done.completeExceptionally(new IllegalStateException(name + ": stream closed before its commit"));
                        }
                    }
                });
                requests.onNext(WriteContentRequest.newBuilder().setAction(WriteAction.STAT).setRef(name)
                        .setTotal(bytes.length).setExpected(digest).build());
                requests.onNext(WriteContentRequest.newBuilder().setAction(WriteAction.COMMIT).setRef(name)
                        .setData(ByteString.copyFrom(bytes)).setTotal(bytes.length).setExpected(digest)
                        .putLabels("containerd.io/gc.root", "bench").build());
            }
        }
        inFlight.acquire(IN_FLIGHT);
        long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        loop.shutdownGracefully(0, 0, TimeUnit.SECONDS);
        if (failure.get() != null) {
            System.err.println("load failed: " + failure.get());
            System.exit(1);
        }
        System.out.println(elapsed);
    }
}
EOF
# bin/berthd builds a missing distribution; the loader compiles against its jars, so start one first.
start_daemon berthd berthd-probe "$meta_work/probe"
stop_daemon berthd-probe
"$java_home/bin/javac" -nowarn -d "$meta_work/loader" -cp "$dist/lib/*" "$meta_work/loader/Load.java" \
  || die "the loader did not compile"
load() {
  timeout "$load_timeout" "$java_home/bin/java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
    -cp "$meta_work/loader:$dist/lib/*" Load "$@" 2>>"$meta_work/loader/stderr.log"
}

kinds=(containerd berthd)
# Runs alternate which daemon goes first, so that a drift in the machine's load touches both alike.
order() {
  if (($1 % 2)); then echo containerd berthd; else echo berthd containerd; fi
}

echo "host: $(nproc) CPUs, $(uname -sr); $("$containerd" --version | awk '{ print $1, $3 }'); berthd $("$berthd" --version | head -1)"
echo "ingest and get under $disk_work ($(df --output=fstype "$disk_work" | tail -n 1)); ls and GC under $meta_work ($(df --output=fstype "$meta_work" | tail -n 1))"

# ------------------------------------------------------------------------------------- ingest and get
declare -A dir_of ingest_ms get_ms ls_ms ctr_ms gc_wall_ms gc_log_ms populate_ms
for kind in "${kinds[@]}"; do
  dir_of[$kind]=$disk_work/$kind
  start_daemon "$kind" "$kind" "${dir_of[$kind]}"
done

data=$disk_work/data.bin
echo "writing a $size_mib MiB random file..."
head -c $((size_mib << 20)) /dev/urandom >"$data"
digest=sha256:$(sha256sum "$data" | cut -d ' ' -f 1)

# Run 0 is an untimed warm-up of both daemons (for berthd, of its JIT as well).
for run in $(seq 0 "$runs"); do
  for kind in $(order "$run"); do
    dir=${dir_of[$kind]}
    start=$(now_ms)
    c "$dir" content ingest "ingest-$run" <"$data" || die "$kind: ctr content ingest failed (run $run)"
    ms=$(($(now_ms) - start))
    ((run == 0)) || ingest_ms[$kind]+=" $ms"
    [[ $'\n'$(c "$dir" content ls -q)$'\n' == *$'\n'"$digest"$'\n'* ]] || die "$kind: $digest not listed after its ingest"
    # Ingested without a lease the blob is garbage; keep it through the get.
    c "$dir" content label "$digest" containerd.io/gc.root=bench >/dev/null || die "$kind: ctr content label failed"
    start=$(now_ms)
    c "$dir" content get "$digest" >/dev/null || die "$kind: ctr content get failed (run $run)"
    get=$(($(now_ms) - start))
    ((run == 0)) || get_ms[$kind]+=" $get"
    # The next run ingests the same bytes again: remove the blob and wait until the collection took it.
    c "$dir" content rm "$digest" >/dev/null
    collect "$dir"
    echo "run $run $kind: ingest $(mib_per_s "$ms") MiB/s, get $(mib_per_s "$get") MiB/s$( ((run > 0)) || echo ' (warm-up, untimed)')"
  done
done
rm -f "$data"
for kind in "${kinds[@]}"; do
  stop_daemon "$kind"
done

# -------------------------------------------------------------------------------------- ls and GC
# containerd logs each collection with its duration at debug level; berthd at debug level logs every
# HTTP/2 frame as well, so only its collector's logger is raised.
cat >"$meta_work/logback.xml" <<'EOF'
<configuration>
  <appender name="stderr" class="ch.qos.logback.core.ConsoleAppender">
    <target>System.err</target>
    <encoder><pattern>%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level %logger{0}: %msg%n</pattern></encoder>
  </appender>
  <logger name="dev.berth.plugins.metadata.GarbageCollector" level="DEBUG"/>
  <root level="INFO"><appender-ref ref="stderr"/></root>
</configuration>
EOF
dir_of[containerd]=$meta_work/containerd
dir_of[berthd]=$meta_work/berthd
start_daemon containerd containerd "${dir_of[containerd]}" --log-level debug
BERTHD_JAVA_OPTS="-Dlogback.configurationFile=$meta_work/logback.xml" start_daemon berthd berthd "${dir_of[berthd]}"

for kind in "${kinds[@]}"; do
  echo "loading $kind with $blobs blobs..."
  ms=$(load "${dir_of[$kind]}/d.sock" bench blobs "$blobs" blob) || die "loading $kind failed: $(tail -n 5 "$meta_work/loader/stderr.log")"
  populate_ms[$kind]=$ms
  listed=$(c "${dir_of[$kind]}" content ls -q | wc -l)
  ((listed == blobs)) || die "$kind lists $listed blobs, not $blobs"
done

# ctr's own cost (process start, connection) for scale: ls and the sync collection include it.
for run in $(seq "$ls_runs"); do
  for kind in $(order "$run"); do
    start=$(now_ms)
    c "${dir_of[$kind]}" version >/dev/null
    ctr_ms[$kind]+=" $(($(now_ms) - start))"
  done
done
for kind in "${kinds[@]}"; do
  c "${dir_of[$kind]}" content ls >/dev/null # untimed warm-up
done
for run in $(seq "$ls_runs"); do
  for kind in $(order "$run"); do
    start=$(now_ms)
    c "${dir_of[$kind]}" content ls >/dev/null || die "$kind: ctr content ls failed"
    ls_ms[$kind]+=" $(($(now_ms) - start))"
  done
done

leases=$((objects - blobs))
for kind in "${kinds[@]}"; do
  echo "loading $kind with $leases leases..."
  ms=$(load "${dir_of[$kind]}/d.sock" bench leases "$leases" lease) || die "loading $kind failed: $(tail -n 5 "$meta_work/loader/stderr.log")"
  populate_ms[$kind]+=" + $ms"
  listed=$(c "${dir_of[$kind]}" leases ls -q | wc -l)
  ((listed == leases)) || die "$kind lists $listed leases, not $leases"
done

for run in $(seq "$gc_runs"); do
  for kind in $(order "$run"); do
    dir=${dir_of[$kind]}
    c "$dir" leases create --id "gc-$run" >/dev/null
    from=$(wc -l <"$dir/stderr.log")
    start=$(now_ms)
    c "$dir" leases rm --sync "gc-$run" >/dev/null || die "$kind: ctr leases rm --sync failed"
    gc_wall_ms[$kind]+=" $(($(now_ms) - start))"
    sleep 0.5 # the log line may trail the answer
    ms=$(logged_gc_ms "$kind" "$dir" "$from")
    [[ -n $ms ]] || die "$kind logged no collection for the sync removal"
    gc_log_ms[$kind]+=" $ms"
  done
done
listed=$(c "${dir_of[berthd]}" content ls -q | wc -l)
((listed == blobs)) || die "berthd lists $listed blobs after collecting, not $blobs"
last_berthd_gc=$(grep 'GarbageCollector: garbage collected' "${dir_of[berthd]}/stderr.log" | tail -n 1 | sed -E 's/^.*GarbageCollector: //')

# --------------------------------------------------------------------------------------------- report
row() {
  local label=$1 unit=$2 target=$3 c_med=$4 b_med=$5
  printf '%-44s %14s %14s %10s %8s\n' "$label" "$c_med $unit" "$b_med $unit" "$(ratio "$b_med" "$c_med")" "$target"
}
# shellcheck disable=SC2086 # the per-run figures are space-separated lists on purpose
{
  med_c_in=$(mib_per_s "$(median ${ingest_ms[containerd]})"); med_b_in=$(mib_per_s "$(median ${ingest_ms[berthd]})")
  med_c_get=$(mib_per_s "$(median ${get_ms[containerd]})"); med_b_get=$(mib_per_s "$(median ${get_ms[berthd]})")
  echo
  echo "runs: ingest and get $runs per daemon after 1 untimed, ls $ls_runs, GC $gc_runs (medians; runs alternate which daemon goes first)"
  printf '%-44s %14s %14s %10s %8s\n' "" containerd berthd berthd/c target
  row "ingest $size_mib MiB (median)" MiB/s ">= 1.00" "$med_c_in" "$med_b_in"
  row "get $size_mib MiB (median)" MiB/s ">= 1.00" "$med_c_get" "$med_b_get"
  row "ls with $blobs blobs (median)" ms "<= 1.00" "$(median ${ls_ms[containerd]})" "$(median ${ls_ms[berthd]})"
  row "GC pass over $objects objects, logged (median)" ms "report" "$(median ${gc_log_ms[containerd]})" "$(median ${gc_log_ms[berthd]})"
  row "GC pass, ctr leases rm --sync (median)" ms "report" "$(median ${gc_wall_ms[containerd]})" "$(median ${gc_wall_ms[berthd]})"
  row "ctr version round trip, for scale (median)" ms "" "$(median ${ctr_ms[containerd]})" "$(median ${ctr_ms[berthd]})"
  echo
  for kind in "${kinds[@]}"; do
    echo "$kind: ingest ms${ingest_ms[$kind]}; get ms${get_ms[$kind]}; ls ms${ls_ms[$kind]}; GC logged ms${gc_log_ms[$kind]}; GC wall ms${gc_wall_ms[$kind]}; load ms ${populate_ms[$kind]} (blobs + leases, through the API)"
  done
  echo "berthd's last collection: $last_berthd_gc"
  echo "GC objects: $blobs blobs labelled containerd.io/gc.root and $leases leases in one namespace; logged = containerd's"
  echo "  \"garbage collected\" d=, berthd's metadata pass plus content cleanup."
}
