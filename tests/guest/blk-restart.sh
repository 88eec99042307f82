#!/bin/bash
# tests/guest/blk-restart.sh -- restart tests of a vhost-user-blk back-end:
# QEMU going away (power-off or SIGKILL) under a running back-end, and the
# back-end restarting under a running QEMU that reconnects (reconnect=1).
#
# Owns the host half of the restart tests; blk-restart-in-guest.sh is the
# guest half (ROLE selects what a boot does).  On one sparse image:
#  Part 1, QEMU restarts, ONE back-end throughout: guest A writes pattern A
#    and powers off; guest B (a new QEMU) reads A and writes pattern B; guest
#    C runs fio and its QEMU is killed with SIGKILL mid-I/O; guest D reads A
#    and B and runs fio with verification.  After each QEMU the back-end must
#    still run, be back at its open-fd count from before the first QEMU and
#    hold no guest memory; at the end it must exit 0 on SIGTERM.
#  Part 2, back-end restarts, ONE QEMU with reconnect=1: guest E writes
#    pattern E; the host stops the back-end (SIGTERM, must exit 0), writes a
#    "go" token into the image with no back-end running and starts a new
#    back-end; the guest, whose reads wait meanwhile, must see the token,
#    read pattern E and pass fio.  A second restart happens while a guest fio
#    job writes; it must finish without errors, and its data must verify.
#  At the end the host finds patterns A, B and E in the image file.
# Output: TAP on stdout (for automake's tap-driver.sh); logs on stderr.
#
# Parameters (environment):
#   AIO     io_uring|libaio (default io_uring)  back-end engine and guest fio
#           ioengine
#   GUEST_FIO_MB  MiB guest E's fio writes across the second restart (96;
#                 enough that the restart comes while it is still writing)
#   RESTART_WAIT  seconds the host waits for each guest marker, and for the
#                 guest to finish once the back-end is back (default 120)
#   FD_SETTLE     seconds the back-end gets to release a gone QEMU's fds and
#                 memory (default 10)
# plus everything guest-lib.sh reads (GUEST_BACKEND, VHOST_URING_BLK, CACHE,
# GUEST_TIMEOUT, GUEST_VERBOSE, GUEST_KEEP_TMP, ...).
set -eu

# shellcheck source=guest-lib.sh
. "$(dirname "$0")/guest-lib.sh"

AIO=${AIO:-io_uring}
FIO_MB=${GUEST_FIO_MB:-96}
RESTART_WAIT=${RESTART_WAIT:-120}
FD_SETTLE=${FD_SETTLE:-10}
guest_script=$GUEST_SRCDIR/blk-restart-in-guest.sh

guest_begin ""
case "$FIO_MB" in [1-9]|[1-9][0-9]) ;; *) guest_die "GUEST_FIO_MB must be 1..99, not '$FIO_MB'" ;; esac
if [ "${CACHE:-none}" = none ]; then
    guest_need_odirect
fi

tap_diag "backend=$GUEST_BACKEND aio=$AIO cache=${CACHE:-default} kernel=$GUEST_KVER"

# ---------------------------------------------------------------- layout
MiB=1048576
IMG_BYTES=$((256 * MiB))
PAT_LEN=65536
A_OFF=$((200 * MiB + 4096))     # 4 KiB-aligned, not 64 KiB-aligned
B_OFF=$((208 * MiB + 4096))
E_OFF=$((216 * MiB + 4096))
TOKEN_OFF=$((224 * MiB))        # 4 KiB the host writes the "go" token into
# fio regions (MiB): guest C [0, 32), guest D [32, 48), guest E after the
# first restart [48, 64), guest E across the second restart [64, 64+FIO_MB).

img=$GUEST_TMP/disk.img
sock=$GUEST_TMP/vhost-user-blk.sock
data=$GUEST_TMP/data
mkdir -p "$data"
nonce=$(od -An -tx4 -N4 /dev/urandom | tr -d ' \n')
token="vub-restart-go $nonce"

truncate -s "$IMG_BYTES" "$img"

# mkpattern NAME: 64 KiB of text naming this run and the guest that writes it.
mkpattern() {
    awk -v n="$nonce" -v g="$1" \
        'BEGIN { for (i = 0; i < 2048; i++) printf "vub restart %s %s #%08d\n", g, n, i }' |
        head -c "$PAT_LEN" > "$data/pat-$1"
    [ "$(stat -c %s "$data/pat-$1")" -eq "$PAT_LEN" ] ||
        guest_die "pattern generator produced the wrong size"
}
for g in a b e; do
    mkpattern "$g"
    guest_file "$data/pat-$g" "/data/pat-$g"
done

guest_env DISK vda
guest_env DISK_BYTES "$IMG_BYTES"
guest_env AIO "$AIO"
guest_env FIO_MB "$FIO_MB"
guest_env FIO_SEED "$((0x$nonce % 1000000 + 1))"
guest_env PAT_LEN "$PAT_LEN"
guest_env A_OFF "$A_OFF"
guest_env B_OFF "$B_OFF"
guest_env E_OFF "$E_OFF"
guest_env TOKEN_OFF "$TOKEN_OFF"
guest_env TOKEN "$token"

# ------------------------------------------------------------- helpers

# start_daemon: start a (further) back-end on $img and $sock.
start_daemon() {
    blk_daemon_start_next "$img" "$sock" 1 "$AIO"
    tap_diag "back-end $GUEST_DAEMONS started (pid $DAEMON_PID)"
}

fd_count() {
    # shellcheck disable=SC2012  # the names are numbers
    ls "/proc/$1/fd" 2>/dev/null | wc -l
}

# fd_list PID: "fd -> target" lines, for diagnostics.
fd_list() {
    local f
    for f in "/proc/$1/fd/"*; do
        printf '%s -> %s\n' "${f##*/}" "$(readlink "$f" 2>/dev/null)"
    done | sort -n
}

# memfd_maps PID: the number of memfd mappings (guest memory) of PID.
memfd_maps() {
    local n
    n=$(grep -c 'memfd:' "/proc/$1/maps" 2>/dev/null) || true
    echo "${n:-0}"
}

# settle FUNC WANT: run FUNC on the back-end's pid until it prints WANT,
# FD_SETTLE seconds at most; prints what it printed last.
settle() {
    local i v
    for i in $(seq $((FD_SETTLE * 10))); do
        v=$("$1" "$DAEMON_PID")
        [ "$v" -eq "$2" ] && break
        sleep 0.1
    done
    echo "$v"
}

# check_daemon_after LABEL: after a QEMU is gone, the back-end must still
# run, be back at its open-fd count from before the first QEMU, and have no
# guest memory mapped (each within FD_SETTLE seconds).
check_daemon_after() {
    local label=$1 n m
    if ! _guest_alive "$DAEMON_PID"; then
        tap_not_ok "back-end still running after $label"
        tap_not_ok "back-end back at $fd_base open fds after $label: it is not running"
        tap_not_ok "back-end unmapped the guest memory after $label: it is not running"
        return 0
    fi
    tap_ok "back-end still running after $label"
    n=$(settle fd_count "$fd_base")
    if [ "$n" -eq "$fd_base" ]; then
        tap_ok "back-end back at $fd_base open fds after $label"
    else
        tap_not_ok "back-end back at $fd_base open fds after $label: $n open ${FD_SETTLE}s after it"
        tap_diag "fds before the first QEMU (<) and now (>):"
        tap_diag "$(diff <(echo "$fd_base_list") <(fd_list "$DAEMON_PID"))"
    fi
    m=$(settle memfd_maps "$memfd_base")
    if [ "$m" -eq "$memfd_base" ]; then
        tap_ok "back-end unmapped the guest memory after $label"
    else
        tap_not_ok "back-end unmapped the guest memory after $label: $m memfd mapping(s) ${FD_SETTLE}s after it, $memfd_base before the first QEMU"
        tap_diag "$(grep 'memfd:' "/proc/$DAEMON_PID/maps")"
    fi
}

vub_dev=(-device "vhost-user-blk-pci,chardev=vub0,num-queues=1")
GUEST_VCPUS=1
GUEST_WAIT_DEVS=vda

# ===================================================== part 1: QEMU restarts
start_daemon
# The open-fd count before any QEMU connected: wait until it is steady.
fd_base=$(fd_count "$DAEMON_PID")
for i in $(seq 30); do
    sleep 0.1
    n=$(fd_count "$DAEMON_PID")
    [ "$n" -eq "$fd_base" ] && [ "$i" -ge 5 ] && break
    fd_base=$n
done
fd_base_list=$(fd_list "$DAEMON_PID")
memfd_base=$(memfd_maps "$DAEMON_PID")
tap_diag "back-end has $fd_base open fds and $memfd_base memfd mapping(s) before any QEMU"

# Guest A: write pattern A, power off.
guest_env ROLE a
guest_boot "$guest_script" -chardev "socket,id=vub0,path=$sock" "${vub_dev[@]}" || true
tap_guest_exit
tap_guest_results a-disk-size a-pattern-write
check_daemon_after "guest A powered off"

# Guest B, a new QEMU: the disk is there, pattern A reads back, write B.
guest_env ROLE b
guest_boot "$guest_script" -chardev "socket,id=vub0,path=$sock" "${vub_dev[@]}" || true
tap_guest_exit
tap_guest_results b-disk-size b-read-pattern-a b-pattern-write
check_daemon_after "guest B powered off"

# Guest C: fio runs in the guest; SIGKILL its QEMU in the middle.
guest_env ROLE c
boot_bg "$guest_script" -chardev "socket,id=vub0,path=$sock" "${vub_dev[@]}"
t0=$SECONDS
if wait_mark c-io-running "$RESTART_WAIT"; then
    tap_ok "guest C: fio running in the guest ($((SECONDS - t0))s after QEMU started)"
    sleep 0.5
else
    tap_not_ok "guest C: fio running in the guest: no 'mark c-io-running' within ${RESTART_WAIT}s"
fi
killed=0
# (bash reports this QEMU as "Killed" in the log: that is the test's doing.)
echo "blk-restart: SIGKILL to QEMU of guest C (pid $QEMU_PID)" >&2
_guest_alive "$QEMU_PID" && kill -KILL "$QEMU_PID" 2>/dev/null && killed=1
boot_bg_end 30
if [ "$killed" = 1 ] && [ -z "$GUEST_RC" ] && ! _guest_alive "$QEMU_PID"; then
    tap_ok "QEMU of guest C killed with SIGKILL in the middle of the guest's I/O"
else
    tap_not_ok "QEMU of guest C killed with SIGKILL in the middle of the guest's I/O (killed: $killed; $GUEST_STATUS)"
fi
[ "$killed" = 1 ] && GUEST_STATUS="QEMU killed with SIGKILL by the test"
tap_guest_results c-disk-size c-io-running
check_daemon_after "guest C's QEMU was killed"

# Guest D: patterns A and B are there, fio writes and verifies.
guest_env ROLE d
guest_boot "$guest_script" -chardev "socket,id=vub0,path=$sock" "${vub_dev[@]}" || true
tap_guest_exit
tap_guest_results d-disk-size d-read-pattern-a d-read-pattern-b d-fio-verify
check_daemon_after "guest D powered off"

if daemon_stop; then
    tap_ok "back-end of part 1 (4 QEMUs) exited with status 0 on SIGTERM"
else
    tap_not_ok "back-end of part 1 (4 QEMUs) exited with status 0 on SIGTERM: $DAEMON_STATUS"
fi

# ============================ part 2: back-end restarts, QEMU reconnect=1
start_daemon
guest_env ROLE e
# The back-end goes away on purpose: the lib must not stop QEMU then.
watch_saved=${GUEST_WATCH_DAEMON:-1}
GUEST_WATCH_DAEMON=0
boot_bg "$guest_script" -chardev "socket,id=vub0,path=$sock,reconnect=1" "${vub_dev[@]}"

# Restart 1, the guest idle after writing pattern E.  A guest that missed
# a step gets only a short time to end (it may be stuck on its disk).
end_wait=10
t0=$SECONDS
if wait_mark phase1-done "$RESTART_WAIT"; then
    tap_ok "guest E finished phase 1 ($((SECONDS - t0))s after QEMU started)"
    if daemon_stop; then
        tap_ok "restart 1: back-end exited with status 0 on SIGTERM"
    else
        tap_not_ok "restart 1: back-end exited with status 0 on SIGTERM: $DAEMON_STATUS"
    fi
    # With no back-end running: the token the guest waits for.
    printf '%s\n' "$token" |
        dd of="$img" bs=4096 count=1 seek=$((TOKEN_OFF / 4096)) conv=notrunc,sync,fsync status=none
    sleep 1                     # meanwhile the guest's reads wait
    start_daemon

    # Restart 2, while the guest's fio writes and verifies.
    t0=$SECONDS
    if wait_mark fio-running "$RESTART_WAIT"; then
        tap_ok "guest E got its disk back and is running fio ($((SECONDS - t0))s after the new back-end)"
        if daemon_stop; then
            tap_ok "restart 2: back-end exited with status 0 on SIGTERM during the guest's fio"
        else
            tap_not_ok "restart 2: back-end exited with status 0 on SIGTERM during the guest's fio: $DAEMON_STATUS"
        fi
        sleep 1
        start_daemon
        end_wait=$RESTART_WAIT
    else
        tap_not_ok "guest E got its disk back and is running fio: no 'mark fio-running' within ${RESTART_WAIT}s"
    fi
else
    tap_not_ok "guest E finished phase 1: no 'mark phase1-done' within ${RESTART_WAIT}s"
fi
boot_bg_end "$end_wait"
GUEST_WATCH_DAEMON=$watch_saved

tap_guest_exit
tap_guest_results e-disk-size e-pattern-write e-reconnect-token \
    e-read-pattern-e e-fio-verify e-fio-write-across-restart \
    e-writes-waited-for-restart e-fio-verify-after-restart \
    e-no-io-errors

if [ -z "$DAEMON_PID" ]; then
    tap_not_ok "last back-end of part 2 exited with status 0 on SIGTERM: none was started"
elif daemon_stop; then
    tap_ok "last back-end of part 2 exited with status 0 on SIGTERM"
else
    tap_not_ok "last back-end of part 2 exited with status 0 on SIGTERM: $DAEMON_STATUS"
fi

# ------------------------------------------------------- host-side checks
for g in a b e; do
    off_var=${g^^}_OFF
    tap_check "host: pattern ${g^^} is at offset ${!off_var} of the image" \
        cmp -n "$PAT_LEN" -i "${!off_var}:0" "$img" "$data/pat-$g"
done

tap_finish
