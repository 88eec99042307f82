#!/bin/bash
# tests/bench-verify.sh: vhost-uring-bench as a correctness test.  Short
# --verify runs (mixed reads and writes, self-checking blocks) against
# vhost-uring-blk with both engines, 1 and 2 queues and a small
# --max-batch, and against
# qemu-storage-daemon; then the tool's error paths: a request failing with
# IOERR, a back-end hanging up mid-run and a back-end that stops answering
# must each end the run with a clear message and a non-zero status.
# Asserts behaviour only, never a speed.  TAP on stdout.
set -u

# shellcheck source=bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
blk=${VHOST_URING_BLK:-$builddir/vhost-uring-blk}

# start_blk NAME ARGS...: a vhost-uring-blk on $tmp/NAME.sock; sets $pid.
start_blk() {
	start_daemon "$blk" "$@"
}

# verify_run SOCKET ARGS...: a short --verify run (see bench_verify).
verify_run() {
	bench_verify "$@"
}

truncate -s 64M "$tmp/disk.img"

for aio in io_uring libaio; do
	if ! start_blk "$aio" --blk-file="$tmp/disk.img" --aio="$aio" --num-queues=2; then
		ok 1 "vhost-uring-blk --aio=$aio starts"
		continue
	fi
	verify_queues "$tmp/$aio.sock" "vhost-uring-blk --aio=$aio" "queue(s)"
	verify_run "$tmp/$aio.sock" --queues=2 --iodepth=8 --bs=64k --rw=write
	ok $? "--verify against vhost-uring-blk --aio=$aio, 64k sequential writes read back"
	stop_after_runs "vhost-uring-blk --aio=$aio"

	# Queues taken a few requests per pass, with no kick in between.
	if start_blk "$aio-mb" --blk-file="$tmp/disk.img" --aio="$aio" \
		     --num-queues=2 --cache=writeback --max-batch=3; then
		verify_run "$tmp/$aio-mb.sock" --queues=2 --iodepth=32
		ok $? "--verify against vhost-uring-blk --aio=$aio --max-batch=3, depth 32: no verify errors"
		grep -q "max batch 3" "$tmp/$aio-mb.log"
		ok $? "vhost-uring-blk logs the max batch in use"
		kill "$pid"
		wait "$pid"
	else
		ok 1 "vhost-uring-blk --aio=$aio --max-batch=3 starts"
	fi
done

if command -v qemu-storage-daemon >/dev/null 2>&1; then
	qemu-storage-daemon \
		--blockdev "driver=file,node-name=f0,filename=$tmp/disk.img,cache.direct=on,aio=io_uring" \
		--export "type=vhost-user-blk,id=e0,node-name=f0,addr.type=unix,addr.path=$tmp/qsd.sock,writable=on,num-queues=2" \
		2>"$tmp/qsd.log" &
	pid=$!
	pids+=("$pid")
	for _ in $(seq 100); do [ -S "$tmp/qsd.sock" ] && break; sleep 0.05; done
	for q in 1 2; do
		verify_run "$tmp/qsd.sock" --queues=$q --iodepth=16
		ok $? "--verify against qemu-storage-daemon, $q queue(s): no verify errors, clean exit"
	done
	kill "$pid"
	wait "$pid" 2>/dev/null
else
	echo "# qemu-storage-daemon is not installed: its runs are left out"
fi

# --per-second: one part per second of the measured time (the last one
# shorter), whose counts add up to the run's requests, text and JSON.
start_blk persec --blk-file="$tmp/disk.img" --num-queues=2
timeout 60 "$bench" --socket="$tmp/persec.sock" --runtime=2.5 --ramp=0.2 \
	--queues=2 --iodepth=4 --per-second --json >"$tmp/out" 2>&1 &&
python3 - "$tmp/out" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
ps = d["per_second"]
secs = [1, 1, 0.5]
ios = sum(round(v * s) for v, s in zip(ps["iops"], secs))
mib = sum(v * s for v, s in zip(ps["mib_per_s"], secs))
assert len(ps["iops"]) == 3 and len(ps["mib_per_s"]) == 3, ps
assert all(v > 0 for v in ps["iops"]), ps
assert ios == d["ios"], (ios, d["ios"])
assert abs(mib - d["mib_per_s"] * 2.5) < 0.05, (mib, d["mib_per_s"])
EOF
ok $? "--per-second --runtime=2.5: 3 parts whose requests and bytes add up to the run's"
timeout 60 "$bench" --socket="$tmp/persec.sock" --runtime=1 --ramp=0 --per-second \
	>"$tmp/out" 2>&1 &&
grep -Eq '^  per second \(iops\): [0-9.]+$' "$tmp/out" &&
grep -Eq '^  per second \(MiB/s\): [0-9.]+$' "$tmp/out"
ok $? "--per-second --runtime=1: one part in the text report"
kill "$pid"
wait "$pid"

# --verify must notice data that changed behind its back: the image is
# overwritten while the run goes on.
start_blk tamper --blk-file="$tmp/disk.img"
(sleep 1.5; dd if=/dev/urandom of="$tmp/disk.img" bs=1M count=8 seek=4 \
	oflag=direct conv=notrunc status=none) &
timeout 60 "$bench" --socket="$tmp/tamper.sock" --verify --rw=randread --size=32M \
	--runtime=2 --ramp=0 >"$tmp/out" 2>&1
rc=$?
[ $rc = 1 ] && grep -q 'verify error at offset' "$tmp/out" &&
	grep -q '[1-9][0-9]* verify errors' "$tmp/out"
ok $? "--verify reports blocks overwritten behind its back and exits 1 (status $rc)"

# A request that fails: the image shrinks under the daemon, reads past the
# new end complete with IOERR.
truncate -s 64M "$tmp/shrink.img"
start_blk shrink --blk-file="$tmp/shrink.img"
truncate -s 1M "$tmp/shrink.img"
timeout 60 "$bench" --socket="$tmp/shrink.sock" --rw=read --bs=1M --iodepth=4 \
	--runtime=1 --ramp=0 >"$tmp/out" 2>&1
rc=$?
[ $rc = 1 ] && grep -q 'failed with status IOERR' "$tmp/out"
ok $? "a request failing with IOERR ends the run with status 1 and says so (status $rc)"

# The back-end goes away mid-run.
truncate -s 64M "$tmp/gone.img"
start_blk gone --blk-file="$tmp/gone.img"
gone=$pid
(sleep 1; kill -KILL "$gone") &
timeout 60 "$bench" --socket="$tmp/gone.sock" --runtime=5 --ramp=0 >"$tmp/out" 2>&1
rc=$?
[ $rc = 1 ] && grep -q 'closed the control connection' "$tmp/out"
ok $? "a back-end that dies mid-run ends the run with status 1 and says so (status $rc)"

# --timeout bounds the whole run, even against a healthy back-end.
start_blk bounded --blk-file="$tmp/gone.img"
SECONDS=0
timeout 60 "$bench" --socket="$tmp/bounded.sock" --runtime=30 --ramp=0 --timeout=2 \
	>"$tmp/out" 2>&1
rc=$?
[ $rc = 1 ] && grep -q 'exceeded --timeout=2' "$tmp/out" && [ $SECONDS -lt 10 ]
ok $? "--timeout=2 ends a 30-second run after ${SECONDS}s with status 1 (status $rc)"
kill "$pid"

# The back-end stops answering (frozen): the run must end, not hang.
start_blk frozen --blk-file="$tmp/gone.img"
frozen=$pid
(sleep 1; kill -STOP "$frozen") &
SECONDS=0
timeout 60 "$bench" --socket="$tmp/frozen.sock" --runtime=30 --ramp=0 >"$tmp/out" 2>&1
rc=$?
[ $rc = 1 ] && grep -q 'stopped answering' "$tmp/out" && [ $SECONDS -lt 30 ]
ok $? "a back-end that stops answering ends the run with status 1 after ${SECONDS}s (status $rc)"
kill -CONT "$frozen"

echo "1..$n"
exit $fail
