#!/bin/bash
# tests/systemd.sh: the daemons under systemd's conventions, with no systemd
# as PID 1.  Socket activation by systemd-socket-activate, with --verify
# runs of vhost-uring-bench through the passed socket; bad LISTEN_*
# variables refused; Type=notify against a fake NOTIFY_SOCKET
# (notify-check.py: READY=1 only once ready, STOPPING=1 at SIGTERM); and
# systemd-analyze verify on the unit templates installed into a scratch
# root.  TAP on stdout.
set -u

# shellcheck source=bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
srcdir=${top_srcdir:-$(dirname "$0")/..}
blk=${VHOST_URING_BLK:-$builddir/vhost-uring-blk}
scsi=${VHOST_URING_SCSI:-$builddir/vhost-uring-scsi}

for t in systemd-socket-activate systemd-analyze python3; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "not ok 1 - $t is missing (Debian: apt-get install systemd python3; tests/install-deps.sh)"
		echo "1..1"
		exit 1
	fi
done

truncate -s 64M "$tmp/disk.img"

# activate NAME BIN ARGS...: BIN under systemd-socket-activate on
# $tmp/NAME.sock, its log in $tmp/NAME.log; sets $pid.
activate() {
	local name=$1
	shift
	systemd-socket-activate -l "$tmp/$name.sock" "$@" 2>"$tmp/$name.log" &
	pid=$!
	pids+=("$pid")
	timeout 5 sh -c 'until [ -S "$1" ]; do sleep 0.05; done' sh "$tmp/$name.sock"
}

# I/O through an activated socket, both daemons.
activate act-blk "$blk" --blk-file="$tmp/disk.img" --num-queues=2
bench_verify "$tmp/act-blk.sock" --queues=2 --iodepth=16
ok $? "vhost-uring-blk, socket-activated: --verify run with no errors"
grep -q "listening on inherited socket" "$tmp/act-blk.log"
ok $? "vhost-uring-blk serves the socket systemd passed"
stop_after_runs "socket-activated vhost-uring-blk"

activate act-scsi "$scsi" --lun=0,file="$tmp/disk.img"
bench_verify "$tmp/act-scsi.sock" --device=scsi --iodepth=16
ok $? "vhost-uring-scsi, socket-activated: --verify run with no errors"
stop_after_runs "socket-activated vhost-uring-scsi"

# refused WHAT PATTERN CMD...: CMD must fail with a log line matching
# PATTERN.  Under "sh -c", LISTEN_PID=$$ is the daemon's pid once exec'd.
refused() {
	local what=$1 pattern=$2
	shift 2
	if "$@" 2>"$tmp/out"; then
		ok 1 "$what: refused"
		return
	fi
	grep -q -- "$pattern" "$tmp/out"
	ok $? "$what: refused, saying \"$pattern\""
}
# in_sh SHELL-COMMAND: the command (10 s at most), with $0 the daemon and $1 the image.
in_sh() {
	timeout 10 sh -c "$1" "$blk" "$tmp/disk.img"
}
refused "LISTEN_FDS=2" "LISTEN_FDS=2, expected 1" in_sh \
	'export LISTEN_PID=$$ LISTEN_FDS=2; exec "$0" --blk-file="$1"'
refused "LISTEN_PID not a number" "LISTEN_PID=x1 is not" in_sh \
	'export LISTEN_PID=x1 LISTEN_FDS=1; exec "$0" --blk-file="$1"'
refused "fd 3 not a socket" "fd 3 is not a stream socket" in_sh \
	'export LISTEN_PID=$$ LISTEN_FDS=1; exec "$0" --blk-file="$1" 3</dev/null'
refused "LISTEN_PID of another process: ignored" "exactly one of --socket-path and --fd" in_sh \
	'export LISTEN_PID=1 LISTEN_FDS=1; exec "$0" --blk-file="$1"'
# A listening fd 3 passed as activation does, with no wait for a client.
passed_listener() {
	timeout 10 python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen()
os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS="1")
os.execv(sys.argv[2], sys.argv[2:])' "$@"
}
refused "activation and --socket-path together" "no --socket-path or --fd with it" \
	passed_listener "$tmp/both.sock" "$blk" --blk-file="$tmp/disk.img" \
	--socket-path="$tmp/both2.sock"

# Type=notify, a path and an abstract NOTIFY_SOCKET; sandbox on (the
# default), so STOPPING=1 goes through the filter.
for kind in path abstract; do
	flag=
	[ "$kind" = abstract ] && flag=--abstract
	# shellcheck disable=SC2086
	timeout 60 python3 "$srcdir/tests/notify-check.py" $flag \
		--socket "$tmp/n-$kind.sock" --notify "$tmp/notify-$kind" -- \
		"$blk" --socket-path="$tmp/n-$kind.sock" --blk-file="$tmp/disk.img" \
		>"$tmp/out" 2>&1
	ok $? "NOTIFY_SOCKET ($kind): READY=1 once the socket exists, STOPPING=1 at SIGTERM"
done
timeout 60 python3 "$srcdir/tests/notify-check.py" --socket "$tmp/n-scsi.sock" \
	--notify "$tmp/notify-scsi" -- "$scsi" --socket-path="$tmp/n-scsi.sock" \
	--lun=0,file="$tmp/disk.img" >"$tmp/out" 2>&1
ok $? "vhost-uring-scsi: READY=1 once the socket exists, STOPPING=1 at SIGTERM"

# The unit templates, installed into a scratch root.  verify wants each
# ExecStart= binary to exist: it points into the scratch root in a copy.
root=$tmp/root
make -C "$builddir" install-systemdsystemunitDATA install-libexecPROGRAMS \
	install-man1 DESTDIR="$root" >"$tmp/out" 2>&1
ok $? "make install puts the unit templates into a scratch root"
units=$(find "$root" -name 'vhost-uring-*@.s*' | sort)
[ "$(echo "$units" | grep -c .)" = 4 ]
ok $? "four unit templates installed (blk and scsi, .service and .socket)"
mkdir -p "$tmp/units"
for u in $units; do
	sed "s|^ExecStart=|ExecStart=$root|" "$u" >"$tmp/units/${u##*/}"
done
man1=$(dirname "$(find "$root" -name vhost-uring-blk.1 | head -1)")
(cd "$tmp/units" && MANPATH=${man1%/man1} systemd-analyze verify ./*) >"$tmp/out" 2>&1 &&
	! grep -q . "$tmp/out"
ok $? "systemd-analyze verify is clean on the installed units"

echo "1..$n"
exit $fail
