# tests/guest/memhp-in-guest.sh -- the guest half of memhp-guest.sh
# (busybox sh).
#
# Runs inside the guest as /test.sh while the host plugs a DIMM in and
# takes it out again.  Verifying fio rounds (crc32c) on /dev/$DISK run
# across the plug, once more with the DIMM online (fio's buffers then come
# from it: the kernel onlines it as ZONE_MOVABLE, the zone user pages are
# taken from first), across the guest's offlining of the DIMM and the
# unplug, and once more after it; then it waits for the host's token (written
# into the image) before it powers off.  Marks "@@ # mark NAME" tell the host
# when to act: booted (plug now), dimm-offline (unplug now).
#
# Variables from /test.env (set by memhp-guest.sh):
#   DISK DISK_BYTES     device name and expected size in bytes
#   AIO                 fio ioengine
#   FIO_MB              each round's region (MiB)
#   FIO_SEED            random seed (each round adds its number)
#   FIO_STALL_SECS      a fio round running this long is a stall
#   HP_SECS             how long the guest waits for each of the host's steps
#   TOKEN TOKEN_OFF     the host's "done" token and its offset in the image

# shellcheck disable=SC2153  # the capitalised variables come from /test.env
# shellcheck disable=SC2154  # g_fio_why comes from guest-functions.sh
. /guest-functions.sh

dev=/dev/$DISK
mem=/sys/devices/system/memory
t_start=$(g_uptime)
round=0

g_disk_size disk-size "$DISK" "$DISK_BYTES"

# fio_round NAME: one verifying round of mixed random I/O.
fio_round() {
    round=$((round + 1))
    # shellcheck disable=SC2086
    g_fio_run "$1" 1 "$dev" --filename="$dev" --direct=1 --ioengine="$AIO" \
        --iodepth=16 --verify=crc32c --verify_fatal=1 --name="$1" \
        --rw=randrw --rwmixread=50 --bssplit=4k/40:64k/40:256k/20 \
        --size="${FIO_MB}M" --randseed=$((FIO_SEED + round))
}

# rounds_start NAME: fio rounds in the background until /tmp/NAME.stop
# exists; then /tmp/NAME.done holds "ROUNDS FAILED" and /tmp/NAME.why the
# first failures.
rounds_start() {
    rm -f "/tmp/$1.stop" "/tmp/$1.done" "/tmp/$1.why"
    (
        n=0
        bad=0
        until [ -e "/tmp/$1.stop" ]; do
            n=$((n + 1))
            if ! fio_round "$1-$n" > "/tmp/$1-$n.log" 2>&1; then
                bad=$((bad + 1))
                [ "$bad" -le 2 ] && echo "round $n: $g_fio_why" >> "/tmp/$1.why"
                cat "/tmp/$1-$n.log"
            fi
        done
        echo "$n $bad" > "/tmp/$1.done"
    ) &
}

# rounds_end NAME CHECK: stop the rounds, wait for the last one, report CHECK.
rounds_end() {
    touch "/tmp/$1.stop"
    wait
    [ -f "/tmp/$1.done" ] || echo "0 1" > "/tmp/$1.done"
    read -r _n _bad < "/tmp/$1.done"
    if [ "$_n" -gt 0 ] && [ "$_bad" -eq 0 ]; then
        g_ok "$2" "$_n round(s), err=0, verified"
    else
        g_not_ok "$2" "$_bad of $_n round(s) failed: $(cat "/tmp/$1.why" 2>/dev/null)"
    fi
}

# blocks: the memory block names, one a line.
blocks() {
    for _m in "$mem"/memory[0-9]*; do
        [ -e "$_m" ] && echo "${_m##*/}"
    done | sort
}

# wait_for CMD...: poll CMD every 0.2 s for at most HP_SECS seconds.
wait_for() {
    _w=0
    until "$@"; do
        [ "$_w" -ge $((HP_SECS * 5)) ] && return 1
        sleep 0.2
        _w=$((_w + 1))
    done
}

new_blocks_online() {
    blocks | grep -vxF -f /tmp/blocks-boot > /tmp/blocks-dimm || return 1
    while read -r _b; do
        [ "$(cat "$mem/$_b/state" 2>/dev/null)" = online ] || return 1
    done < /tmp/blocks-dimm
}

dimm_blocks_gone() {
    ! blocks | grep -qxF -f /tmp/blocks-dimm
}

movable_free_kb() {
    awk '/^Node .* zone/ { z = $4 } z == "Movable" && $1 == "pages" && $2 == "free" { print $3 * 4; exit }' /proc/zoneinfo
}

# ---------------------------------------------------------------- plug
blocks > /tmp/blocks-boot
g_diag "$(wc -l < /tmp/blocks-boot) memory blocks at boot, $(cat "$mem/block_size_bytes") bytes each (hex)"
rounds_start plug
g_diag "mark booted"
t0=$(g_uptime)
if wait_for new_blocks_online; then
    zones=
    while read -r _b; do
        zones="$zones $(cat "$mem/$_b/valid_zones")"
    done < /tmp/blocks-dimm
    if ! echo "$zones" | grep -qv '^\( Movable\)*$'; then
        g_ok dimm-online-movable "$(tr '\n' ' ' < /tmp/blocks-dimm)online in ZONE_MOVABLE $(g_elapsed "$t0")s after the mark"
    else
        g_not_ok dimm-online-movable "the new blocks are in zones:$zones"
    fi
else
    g_not_ok dimm-online-movable "no new memory block online within ${HP_SECS}s"
    : > /tmp/blocks-dimm
fi
rounds_end plug fio-verify-across-plug
g_diag "ZONE_MOVABLE free: $(movable_free_kb) KiB"

# --------------------------------------------------- I/O with the DIMM
if fio_round with-dimm; then
    g_ok fio-verify-with-dimm "buffers from ZONE_MOVABLE (free now $(movable_free_kb) KiB)"
else
    g_not_ok fio-verify-with-dimm "$g_fio_why"
fi

# --------------------------------------------------------------- unplug
rounds_start unplug
t0=$(g_uptime)
rc=0
while read -r _b; do
    echo offline > "$mem/$_b/state" || rc=1
done < /tmp/blocks-dimm
[ -s /tmp/blocks-dimm ] || rc=1
g_result dimm-offline "$rc" "the guest offlined $(tr '\n' ' ' < /tmp/blocks-dimm)in $(g_elapsed "$t0")s (status $rc)"
g_diag "mark dimm-offline"
t0=$(g_uptime)
if [ "$rc" -eq 0 ] && wait_for dimm_blocks_gone; then
    g_ok dimm-removed "the DIMM's blocks went away $(g_elapsed "$t0")s after the mark"
else
    g_not_ok dimm-removed "the DIMM's blocks are still there after ${HP_SECS}s"
fi
rounds_end unplug fio-verify-across-unplug

if fio_round after-unplug; then
    g_ok fio-verify-after-unplug
else
    g_not_ok fio-verify-after-unplug "$g_fio_why"
fi

# The host may still be talking to QEMU: end only once it says so.
if wait_for g_read_has "$dev" "$TOKEN_OFF" "$TOKEN"; then
    g_ok host-token "the host finished the unplug"
else
    g_not_ok host-token "no token from the host within ${HP_SECS}s"
fi
g_diag "test took $(g_elapsed "$t_start")s in the guest"
g_finish
