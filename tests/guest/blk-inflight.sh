#!/bin/bash
# tests/guest/blk-inflight.sh -- back-end restarts under a guest's load with
# the inflight region (INFLIGHT_SHMFD): no I/O error, nothing lost, nothing
# written twice out of order.
#
# Owns the host half; blk-inflight-in-guest.sh is the guest half.  One QEMU
# with reconnect=1 runs a guest whose fio keeps reading and writing with
# verification (a random write job with crc32c headers, verified at the end
# of every round, and a concurrent random read job checking a known pattern),
# round after round, until the host says stop.  Meanwhile the host kills the
# back-end with SIGKILL KILLS times, each at a moment when its inflight
# region (read through QEMU's fd of it) marks a request in flight, and stops
# it once with SIGTERM, each time starting a new back-end after a short
# pause.  Then:
#  - every fio round passed, with zero errors and zero verify failures, and
#    a last verify-only pass over the final round's data passes too;
#  - the guest saw no I/O error in its kernel log;
#  - at least one new back-end found requests in flight in the region and
#    ran them again (the kills hit I/O, so the test tested something), and
#    the one after SIGTERM found none (a graceful stop drains);
#  - the host image holds what the guest read back last (checksums of both
#    regions, computed in the guest through the disk and on the host from
#    the image file).
# Output: TAP on stdout (for automake's tap-driver.sh); logs on stderr.
#
# Parameters (environment):
#   AIO        io_uring|libaio (default io_uring)   back-end engine and guest
#              fio ioengine
#   KILLS      SIGKILLs before the SIGTERM (default 3)
#   UP_SECS    seconds each back-end serves before it is stopped (default 3)
#   DOWN_SECS  seconds without a back-end each time (default 1)
#   RESTART_WAIT  seconds the host waits for the guest's marks and for its
#              end (default 120)
# plus everything guest-lib.sh reads (VHOST_URING_BLK, CACHE, GUEST_TIMEOUT,
# GUEST_VERBOSE, GUEST_KEEP_TMP, ...).
set -eu

# shellcheck source=guest-lib.sh
. "$(dirname "$0")/guest-lib.sh"

AIO=${AIO:-io_uring}
KILLS=${KILLS:-3}
UP_SECS=${UP_SECS:-3}
DOWN_SECS=${DOWN_SECS:-1}
RESTART_WAIT=${RESTART_WAIT:-120}

guest_begin "$AIO"
case "$KILLS" in [1-9]) ;; *) guest_die "KILLS must be 1..9, not '$KILLS'" ;; esac
[ "$GUEST_BACKEND" = vhost-uring-blk ] ||
    guest_die "this test is about vhost-uring-blk's inflight region (GUEST_BACKEND=$GUEST_BACKEND)"
if [ "${CACHE:-none}" = none ]; then
    guest_need_odirect
fi
tap_diag "aio=$AIO cache=${CACHE:-default} kills=$KILLS up=${UP_SECS}s down=${DOWN_SECS}s kernel=$GUEST_KVER"

# ---------------------------------------------------------------- layout
MiB=1048576
IMG_BYTES=$((256 * MiB))
W_MB=16                 # the write job's region: [W_OFF, W_OFF + W_MB MiB)
W_OFF=0
R_MB=8                  # the read job's region
R_OFF=$((64 * MiB))
TOKEN_OFF=$((224 * MiB))

img=$GUEST_TMP/disk.img
sock=$GUEST_TMP/vhost-user-blk.sock
nonce=$(od -An -tx4 -N4 /dev/urandom | tr -d ' \n')
token="vub-inflight-stop $nonce"
truncate -s "$IMG_BYTES" "$img"

guest_env DISK vda
guest_env DISK_BYTES "$IMG_BYTES"
guest_env AIO "$AIO"
guest_env FIO_SEED "$((0x$nonce % 1000000 + 1))"
guest_env W_OFF "$W_OFF"
guest_env W_MB "$W_MB"
guest_env R_OFF "$R_OFF"
guest_env R_MB "$R_MB"
guest_env TOKEN_OFF "$TOKEN_OFF"
guest_env TOKEN "$token"
guest_env MAX_SECS "$((RESTART_WAIT + 60))"

start_daemon() {
    blk_daemon_start_next "$img" "$sock" 1 "$AIO"
    tap_diag "back-end $GUEST_DAEMONS started (pid $DAEMON_PID)"
}

# region_file: QEMU's copy of the back-end's inflight region, through its
# open fd (QEMU keeps the memfd from GET_INFLIGHT_FD for every back-end).
region_file() {
    local f
    for f in "/proc/$QEMU_PID/fd/"*; do
        case "$(readlink "$f" 2>/dev/null)" in
        *memfd:vhost-uring-inflight*) echo "$f"; return 0 ;;
        esac
    done
    return 1
}

# marked FILE: requests queue 0's region marks as taken and not completed.
marked() {
    perl -e '
        open(my $fh, "<", $ARGV[0]) or die "$ARGV[0]: $!\n";
        sysread($fh, my $b, 65536);
        my $n = unpack("x10 S", $b);
        my $m = 0;
        for my $h (0 .. $n - 1) { $m++ if unpack("C", substr($b, 16 + 16 * $h, 1)) }
        print "$m\n";
    ' "$1"
}

# kill_daemon: SIGKILL the back-end, at a moment when its inflight region
# marks one of the guest's requests as in flight if that happens within
# 10 s, and reap it (the next one must not start while the old one still
# exits: its I/O may still be in the kernel).  Sets KILL_MARKED to the
# requests the region marked once it was dead.
kill_daemon() {
    local pid=$DAEMON_PID region
    region=$(region_file) || region=
    if [ -n "$region" ]; then
        perl -e '
            my ($pid, $file) = @ARGV;
            open(my $fh, "<", $file) or die "$file: $!\n";
            my $end = time + 10;
            while (time < $end) {
                sysseek($fh, 0, 0);
                sysread($fh, my $b, 65536);
                my $n = unpack("x10 S", $b);
                for my $h (0 .. $n - 1) {
                    next unless unpack("C", substr($b, 16 + 16 * $h, 1));
                    kill "KILL", $pid;
                    exit 0;
                }
            }
        ' "$pid" "$region" || true
    else
        echo "blk-inflight: QEMU holds no inflight region" >&2
    fi
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    DAEMON_PID=
    KILL_MARKED=$([ -n "$region" ] && marked "$region" || echo 0)
    # Its socket stays behind: remove it, so that the next start waits for
    # the new one.
    rm -f "$sock"
}

# ================================================================= run
start_daemon
GUEST_WATCH_DAEMON=0            # the back-end goes away on purpose
GUEST_WAIT_DEVS=vda
boot_bg "$GUEST_SRCDIR/blk-inflight-in-guest.sh" \
    -chardev "socket,id=vub0,path=$sock,reconnect=1" \
    -device "vhost-user-blk-pci,chardev=vub0,num-queues=1"

# The back-ends started after each SIGKILL, and the one after the SIGTERM.
after_kill=()
after_term=
end_wait=10
t0=$SECONDS
if wait_mark load-running "$RESTART_WAIT"; then
    tap_ok "guest runs its load ($((SECONDS - t0))s after QEMU started)"
    for i in $(seq "$KILLS"); do
        sleep "$UP_SECS"
        echo "blk-inflight: SIGKILL $i to back-end $GUEST_DAEMONS (pid $DAEMON_PID)" >&2
        kill_daemon
        tap_diag "SIGKILL $i: the region marked $KILL_MARKED request(s) in flight"
        sleep "$DOWN_SECS"
        start_daemon
        after_kill+=("$GUEST_DAEMONS")
    done
    sleep "$UP_SECS"
    if daemon_stop; then
        tap_ok "SIGTERM under load: back-end $GUEST_DAEMONS exited with status 0"
    else
        tap_not_ok "SIGTERM under load: back-end $GUEST_DAEMONS exited with status 0: $DAEMON_STATUS"
    fi
    sleep "$DOWN_SECS"
    start_daemon
    after_term=$GUEST_DAEMONS
    sleep "$UP_SECS"
    # With the back-end running: the token that ends the guest's rounds.
    printf '%s\n' "$token" |
        dd of="$img" bs=4096 count=1 seek=$((TOKEN_OFF / 4096)) conv=notrunc,sync,fsync status=none
    end_wait=$RESTART_WAIT
else
    tap_not_ok "guest runs its load: no 'mark load-running' within ${RESTART_WAIT}s"
fi
boot_bg_end "$end_wait"

tap_guest_exit
tap_guest_results disk-size fill-read-region fio-rounds final-verify-write \
    final-verify-read no-io-errors
if [ -z "$DAEMON_PID" ]; then
    tap_not_ok "last back-end exited with status 0 on SIGTERM: none was running"
elif daemon_stop; then
    tap_ok "last back-end exited with status 0 on SIGTERM"
else
    tap_not_ok "last back-end exited with status 0 on SIGTERM: $DAEMON_STATUS"
fi

# ------------------------------------------------------- host-side checks
# daemon_log N: the log of back-end N (the last one's is daemon.log).
daemon_log() {
    if [ "$1" -eq "$GUEST_DAEMONS" ]; then
        echo "$GUEST_TMP/daemon.log"
    else
        echo "$GUEST_TMP/daemon-$1.log"
    fi
}

# resubmitted N: the requests back-end N ran again from the region.
resubmitted() {
    sed -n 's/.*resubmitting \([0-9][0-9]*\) request(s).*/\1/p' "$(daemon_log "$1")" |
        awk '{ n += $1 } END { print n + 0 }'
}

if [ "${#after_kill[@]}" -gt 0 ]; then
    hits=0
    counts=
    for n in "${after_kill[@]}"; do
        r=$(resubmitted "$n")
        counts="$counts $r"
        [ "$r" -gt 0 ] && hits=$((hits + 1))
    done
    tap_diag "requests resubmitted after each SIGKILL:$counts"
    if [ "$hits" -gt 0 ]; then
        tap_ok "after $hits of ${#after_kill[@]} SIGKILLs the new back-end ran in-flight requests again"
    else
        tap_not_ok "after no SIGKILL did the new back-end find requests in flight: the kills missed the guest's I/O"
    fi
fi
if [ -n "$after_term" ]; then
    r=$(resubmitted "$after_term")
    if [ "$r" -eq 0 ]; then
        tap_ok "after SIGTERM the new back-end found nothing in flight (the old one drained)"
    else
        tap_not_ok "after SIGTERM the new back-end resubmitted $r request(s): the graceful stop left the region unsettled"
    fi
fi

# guest_sum NAME: the checksum the guest printed as "@@ # sum NAME HASH".
guest_sum() {
    tr -d '\r' < "$GUEST_CONSOLE" | sed -n "s/^@@ # sum $1 \([0-9a-f]\{64\}\)\$/\1/p" | tail -n 1
}

# host_sum OFF MB: the checksum of that part of the image.
host_sum() {
    dd if="$img" bs="$MiB" skip=$(($1 / MiB)) count="$2" status=none | sha256sum | cut -c1-64
}

for part in "write $W_OFF $W_MB" "read $R_OFF $R_MB"; do
    read -r name off mb <<< "$part"
    g=$(guest_sum "$name")
    h=$(host_sum "$off" "$mb")
    if [ -n "$g" ] && [ "$g" = "$h" ]; then
        tap_ok "host: the image's $name region ($mb MiB) matches what the guest read back last"
    else
        tap_not_ok "host: the image's $name region ($mb MiB) matches what the guest read back last (guest '${g:-none}', host '$h')"
    fi
done

tap_finish
