# tests/bench-lib.sh: what the vhost-uring-bench test scripts share (sourced
# by bench-verify.sh and bench-verify-scsi.sh): a scratch directory removed
# at exit with the daemons started in it, TAP results, starting a daemon on
# a socket there, a short --verify run, --verify on 1 and 2 queues, and
# stopping the daemon.  Sets builddir, bench, tmp.
# shellcheck shell=bash

builddir=${top_builddir:-.}
bench=$builddir/vhost-uring-bench
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vu-bench.XXXXXX")
pids=()
# shellcheck source=tap-lib.sh
. "$(dirname "$0")/tap-lib.sh"

cleanup() {
	for p in "${pids[@]}"; do
		kill -CONT "$p" 2>/dev/null
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# ok STATUS TEXT: a TAP result; a failure shows the tail of the last run.
ok() {
	tap_result "$1" "$2" && return 0
	[ -f "$tmp/out" ] && sed 's/^/# /' "$tmp/out" | tail -15
}

# start_daemon BIN NAME ARGS...: BIN on $tmp/NAME.sock, its log in
# $tmp/NAME.log; sets $pid.  Fails if the socket does not appear.
start_daemon() {
	local bin=$1 name=$2
	shift 2
	"$bin" --socket-path="$tmp/$name.sock" "$@" 2>"$tmp/$name.log" &
	pid=$!
	pids+=("$pid")
	for _ in $(seq 100); do
		[ -S "$tmp/$name.sock" ] && return 0
		sleep 0.05
	done
	return 1
}

# bench_verify SOCKET ARGS...: a short --verify run; succeeds on a clean
# exit with blocks checked and no errors.
bench_verify() {
	local sock=$1
	shift
	timeout 120 "$bench" --socket="$sock" --verify --rw=randrw --size=32M \
		--runtime=1 --ramp=0 "$@" >"$tmp/out" 2>&1 &&
	grep -q 'verify: [1-9][0-9]* blocks checked, 0 errors' "$tmp/out"
}

# verify_queues SOCKET WHAT QUEUES: --verify runs (the script's verify_run)
# on 1 and on 2 queues, a TAP result each: "--verify against WHAT, N
# QUEUES: no verify errors, clean exit".
verify_queues() {
	local q
	for q in 1 2; do
		verify_run "$1" --queues=$q --iodepth=16
		ok $? "--verify against $2, $q $3: no verify errors, clean exit"
	done
}

# stop_after_runs WHAT: SIGTERM to the daemon $pid, a TAP result for its
# exit status.
stop_after_runs() {
	kill "$pid"
	wait "$pid"
	ok $? "$1 exits cleanly after the runs"
}
