# tests/guest/blk-restart-in-guest.sh -- the guest half of blk-restart.sh
# (busybox sh).
#
# Runs inside the guest as /test.sh; ROLE says which boot of the host's
# sequence this is.  Every check prints "@@ ok NAME" or "@@ not ok NAME"
# (see guest-functions.sh); "@@ # mark NAME" lines tell the host that the
# guest reached a point it waits for.
#   a  write pattern A, power off
#   b  (new QEMU) read pattern A, write pattern B, power off
#   c  start fio, mark c-io-running, wait for the host to SIGKILL QEMU
#   d  (new QEMU) read patterns A and B, fio write + verify, power off
#   e  (QEMU with reconnect=1) write pattern E, mark phase1-done; wait for
#      the host's token (the back-end restarts meanwhile), read pattern E,
#      fio write + verify; then a fio write job, marking fio-running once it
#      writes (the back-end restarts again meanwhile) and fio-writes-done
#      when it is done; then verify every block it wrote
#
# Variables from /test.env (set by blk-restart.sh):
#   ROLE                  a|b|c|d|e
#   DISK DISK_BYTES       device name and expected size in bytes
#   AIO FIO_MB FIO_SEED   fio ioengine, MiB written across restart 2, seed
#   PAT_LEN A_OFF B_OFF E_OFF   pattern length and offsets (bytes)
#   TOKEN_OFF TOKEN       where the host writes the token, and its text
# Files: /data/pat-a, /data/pat-b, /data/pat-e.

. /guest-functions.sh

dev=/dev/$DISK
t_start=$(g_uptime)
g_diag "role $ROLE: test started ${t_start}s after the kernel booted"

# ------------------------------------------------------------- helpers

# check_size NAME: the guest sees the image's size.
check_size() {
    g_disk_size "$1" "$DISK" "$DISK_BYTES"
}

# pat_matches FILE OFF: the disk holds FILE at byte offset OFF (O_DIRECT).
pat_matches() {
    g_pat_matches "$dev" "$1" "$2"
}

# pat_write NAME FILE OFF: write FILE at OFF with O_DIRECT, read it back.
pat_write() {
    g_pat_write "$1" "$dev" "$2" "$3"
}

# pat_read NAME FILE OFF: the disk holds FILE at OFF.
pat_read() {
    if pat_matches "$2" "$3"; then
        g_ok "$1" "${2##*/} found at offset $3 (O_DIRECT read)"
    else
        g_not_ok "$1" "${2##*/} not found at offset $3: $(dd if="$dev" bs=64 count=1 \
            skip="$3" iflag=direct,skip_bytes 2>/dev/null | tr -c '[:print:]' '.')"
    fi
}

# fio_args OFFSET-MIB SIZE-MIB: a random write job with crc32c verification.
fio_args() {
    echo "--name=restart --filename=$dev --direct=1 --ioengine=$AIO --iodepth=16" \
         "--rw=randwrite --bssplit=4k/50:16k/30:64k/20 --offset=$1M --size=$2M" \
         "--verify=crc32c --verify_fatal=1 --randseed=$FIO_SEED"
}

# fio_result NAME RC OUT: fio must have exited 0 with "err= 0"; the report is
# printed only on failure.
fio_result() {
    _ok=$(grep -c 'err= 0' "$3")
    _bad=$(grep -cE 'err= *[1-9]' "$3")
    grep -E 'err=|IOPS=' "$3"
    if [ "$2" -eq 0 ] && [ "$_ok" -eq 1 ] && [ "$_bad" -eq 0 ]; then
        g_ok "$1" "${4:-fio passed}"
    else
        cat "$3"
        g_not_ok "$1" "fio exit status $2, $_ok job(s) with err=0, $_bad with errors"
    fi
}

# run_fio NAME ARGS...: fio in the foreground.
run_fio() {
    _name=$1; shift
    _t0=$(g_uptime)
    _rc=0
    fio "$@" > /tmp/fio.out 2>&1 || _rc=$?
    fio_result "$_name" "$_rc" /tmp/fio.out "$(g_elapsed "$_t0")s"
}

# clat_max_ms FILE: the longest completion latency in fio's report FILE, in
# whole milliseconds ("clat (usec): min=5, max=2008.9k, ..." gives 2008).
clat_max_ms() {
    awk '$1 == "clat" && $2 ~ /^\((n|u|m)sec\):$/ {
        for (i = 3; i <= NF; i++) {
            if ($i !~ /^max=/) continue
            v = $i; sub(/^max=/, "", v); sub(/,$/, "", v)
            m = 1
            if (v ~ /k$/) { m = 1000; sub(/k$/, "", v) }
            if (v ~ /M$/) { m = 1000000; sub(/M$/, "", v) }
            d = ($2 == "(nsec):") ? 1000000 : ($2 == "(usec):") ? 1000 : 1
            if (v * m / d > best) best = v * m / d
        }
    } END { printf "%d\n", best }' "$1"
}

write_sectors() {
    awk '{ print $7 }' "/sys/block/$DISK/stat"
}

# wait_writes PID: wait (at most 60 s) until the fio with PID has written
# 1 MiB; false if it ended first.
wait_writes() {
    _w0=$(write_sectors)
    _t0=$(g_uptime)
    while [ $(( $(write_sectors) - _w0 )) -lt 2048 ]; do
        kill -0 "$1" 2>/dev/null || return 1
        [ "$(g_elapsed "$_t0" | cut -d. -f1)" -lt 60 ] || return 1
        sleep 0.1
    done
}

# ------------------------------------------------------------- roles
case "$ROLE" in
a)
    check_size a-disk-size
    pat_write a-pattern-write /data/pat-a "$A_OFF"
    ;;
b)
    check_size b-disk-size
    pat_read b-read-pattern-a /data/pat-a "$A_OFF"
    pat_write b-pattern-write /data/pat-b "$B_OFF"
    ;;
c)
    check_size c-disk-size
    # Reads and writes until the host kills QEMU (or 120 s at most).
    fio --name=busy --filename="$dev" --direct=1 --ioengine="$AIO" --iodepth=32 \
        --rw=randrw --bs=4k --offset=0 --size=32M --time_based --runtime=120 \
        > /tmp/fio.out 2>&1 &
    fio_pid=$!
    if wait_writes "$fio_pid"; then
        g_ok c-io-running "fio is reading and writing"
        g_diag "mark c-io-running"
    else
        cat /tmp/fio.out
        g_not_ok c-io-running "fio wrote less than 1 MiB and ended or took 60 s"
    fi
    wait "$fio_pid"
    g_diag "fio ended (exit status $?): QEMU should have been killed before"
    ;;
d)
    check_size d-disk-size
    pat_read d-read-pattern-a /data/pat-a "$A_OFF"
    pat_read d-read-pattern-b /data/pat-b "$B_OFF"
    # shellcheck disable=SC2046
    run_fio d-fio-verify $(fio_args 32 16)
    ;;
e)
    check_size e-disk-size
    pat_write e-pattern-write /data/pat-e "$E_OFF"
    g_diag "mark phase1-done"

    # Restart 1: poll the token sector.  While no back-end is connected the
    # reads wait; the host writes the token before it starts the new one.
    t0=$(g_uptime)
    polls=0
    longest=0
    seen=0
    while :; do
        p0=$(g_uptime)
        got=$(dd if="$dev" bs=4096 count=1 skip="$TOKEN_OFF" iflag=direct,skip_bytes \
              2>/dev/null | tr -d '\000' | head -n 1)
        polls=$((polls + 1))
        longest=$(awk -v l="$longest" -v d="$(g_elapsed "$p0")" 'BEGIN { print (d > l) ? d : l }')
        if [ "$got" = "$TOKEN" ]; then
            seen=1
            break
        fi
        [ "$(g_elapsed "$t0" | cut -d. -f1)" -lt 60 ] || break
        sleep 0.2
    done
    if [ "$seen" = 1 ]; then
        g_ok e-reconnect-token "seen after $(g_elapsed "$t0")s, $polls reads, the longest took ${longest}s"
    else
        g_not_ok e-reconnect-token "not seen within 60 s ($polls reads, the longest took ${longest}s; last read: '$got')"
    fi
    pat_read e-read-pattern-e /data/pat-e "$E_OFF"
    # shellcheck disable=SC2046
    run_fio e-fio-verify $(fio_args 48 16)

    # Restart 2, while this fio job writes (with verification headers).
    t0=$(g_uptime)
    # shellcheck disable=SC2046
    fio $(fio_args 64 "$FIO_MB") --do_verify=0 > /tmp/fio-restart.out 2>&1 &
    fio_pid=$!
    t_mark=-
    if wait_writes "$fio_pid"; then
        g_diag "mark fio-running"
        t_mark=$(g_elapsed "$t0")
    else
        g_diag "fio wrote less than 1 MiB and ended or took 60 s"
    fi
    rc=0
    wait "$fio_pid" || rc=$?
    g_diag "mark fio-writes-done"
    g_diag "fio across restart 2: ${t_mark}s to the mark, $(g_elapsed "$t0")s in all;" \
           "$(grep -E '^ +clat \(' /tmp/fio-restart.out | sed 's/^ *//')"
    fio_result e-fio-write-across-restart "$rc" /tmp/fio-restart.out \
        "$FIO_MB MiB written in $(g_elapsed "$t0")s"
    # The back-end was away for over a second (the host waits 1 s before it
    # starts the new one): if that happened while the job wrote, some write
    # waited that long.  Otherwise the restart missed the writes.
    ms=$(clat_max_ms /tmp/fio-restart.out)
    if [ "$ms" -ge 500 ]; then
        g_ok e-writes-waited-for-restart "the longest write took ${ms} ms"
    else
        g_not_ok e-writes-waited-for-restart "the longest write took only ${ms} ms: the restart did not happen while the job wrote"
    fi
    # Every block of it, read back and checked.
    # shellcheck disable=SC2046
    run_fio e-fio-verify-after-restart $(fio_args 64 "$FIO_MB") --verify_only

    n=$(dmesg | grep -ciE 'I/O error|blk_update_request|virtio.*(reset|broken)')
    if [ "$n" -eq 0 ]; then
        g_ok e-no-io-errors "no I/O errors in the kernel log"
    else
        dmesg | grep -iE 'I/O error|blk_update_request|virtio.*(reset|broken)' | tail -n 20
        g_not_ok e-no-io-errors "$n kernel log line(s) about I/O errors"
    fi
    ;;
*)
    g_not_ok role "unknown ROLE '$ROLE'"
    ;;
esac

g_diag "role $ROLE: test took $(g_elapsed "$t_start")s in the guest"
g_finish
