# tests/bench-lib.sh: what the vhost-uring-bench test scripts share (sourced
# by bench-verify.sh and bench-verify-scsi.sh): a scratch directory removed
# at exit with the daemons started in it, TAP results, starting a daemon on
# a socket there, and a short --verify run.  Sets builddir, bench, tmp.
# shellcheck shell=bash

builddir=${top_builddir:-.}
bench=$builddir/vhost-uring-bench
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vu-bench.XXXXXX")
n=0
fail=0
pids=()

cleanup() {
	for p in "${pids[@]}"; do
		kill -CONT "$p" 2>/dev/null
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		fail=1
		[ -f "$tmp/out" ] && sed 's/^/# /' "$tmp/out" | tail -15
	fi
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
