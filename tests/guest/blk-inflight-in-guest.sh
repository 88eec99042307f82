# tests/guest/blk-inflight-in-guest.sh -- the guest half of blk-inflight.sh
# (busybox sh).
#
# Runs inside the guest as /test.sh.  Fills the read region with a pattern
# that holds each block's offset, then runs fio rounds until the host writes
# its token (the back-end is killed and restarted meanwhile).  Each round is
# one fio run of two jobs at once: a random write job with crc32c headers,
# verified at its end, over the write region, and a random read job
# checking the pattern over the read region.  Afterwards: a verify-only pass
# over the last round's writes, a pattern check of the read region, the
# checksums of both regions for the host ("@@ # sum NAME HASH"), and the
# kernel log.
#
# Variables from /test.env (set by blk-inflight.sh):
#   DISK DISK_BYTES      device name and expected size in bytes
#   AIO FIO_SEED         fio ioengine and the first round's seed
#   W_OFF W_MB R_OFF R_MB  the write and read regions (bytes, MiB)
#   TOKEN_OFF TOKEN      where the host writes the stop token, and its text
#   MAX_SECS             the rounds end after this long in any case

. /guest-functions.sh

dev=/dev/$DISK
t_start=$(g_uptime)
RPAT='0x76756221%o'

# fio_ok NAME RC OUT JOBS [TEXT]: fio exited 0 and each of its JOBS jobs
# reported "err= 0"; its report is printed only on failure.
fio_ok() {
    _good=$(grep -c 'err= 0' "$3")
    _bad=$(grep -cE 'err= *[1-9]' "$3")
    if [ "$2" -eq 0 ] && [ "$_good" -eq "$4" ] && [ "$_bad" -eq 0 ]; then
        g_ok "$1" "${5:-fio passed}"
        return 0
    fi
    cat "$3"
    g_not_ok "$1" "fio exit status $2, $_good of $4 job(s) with err=0, $_bad with errors"
    return 1
}

write_job() {   # write_job SEED: the round's write job (options of one job)
    echo "--name=write --rw=randwrite --bssplit=4k/50:16k/30:64k/20 --iodepth=16" \
         "--offset=$W_OFF --size=${W_MB}M --verify=crc32c --randseed=$1"
}

read_job() {    # read_job RW SIZE-MIB: a pattern-checking read job
    echo "--name=read --rw=$1 --bs=4k --iodepth=8 --offset=$R_OFF --size=${R_MB}M" \
         "--io_size=$2M --verify=pattern --verify_pattern=$RPAT"
}

common="--filename=$dev --direct=1 --ioengine=$AIO --verify_fatal=1"

token_seen() {
    _got=$(dd if="$dev" bs=4096 count=1 skip="$TOKEN_OFF" iflag=direct,skip_bytes \
           2>/dev/null | tr -d '\000' | head -n 1)
    [ "$_got" = "$TOKEN" ]
}

# ------------------------------------------------------------- checks
_b=$(( $(cat "/sys/block/$DISK/size") * 512 ))
if [ "$_b" -eq "$DISK_BYTES" ]; then
    g_ok disk-size "$dev has $_b bytes"
else
    g_not_ok disk-size "guest sees $_b bytes, image has $DISK_BYTES"
fi

rc=0
# shellcheck disable=SC2086
fio $common --name=fill --rw=write --bs=4k --iodepth=16 --offset="$R_OFF" \
    --size="${R_MB}M" --verify=pattern --verify_pattern="$RPAT" \
    > /tmp/fio-fill.out 2>&1 || rc=$?
fio_ok fill-read-region "$rc" /tmp/fio-fill.out 1 "$R_MB MiB written and checked"

g_diag "mark load-running"
t0=$(g_uptime)
round=0
failed=0
stopped=0
while :; do
    round=$((round + 1))
    r0=$(g_uptime)
    rc=0
    # shellcheck disable=SC2046,SC2086
    fio $common $(write_job $((FIO_SEED + round))) $(read_job randread $((2 * R_MB))) \
        > /tmp/fio-round.out 2>&1 || rc=$?
    if ! fio_ok round-$round "$rc" /tmp/fio-round.out 2 "$(g_elapsed "$r0")s"; then
        failed=1
        break
    fi
    if token_seen; then
        stopped=1
        break
    fi
    [ "$(g_elapsed "$t0" | cut -d. -f1)" -lt "$MAX_SECS" ] || break
done
if [ "$failed" = 1 ]; then
    g_not_ok fio-rounds "round $round of fio failed (see above)"
elif [ "$stopped" = 0 ]; then
    g_not_ok fio-rounds "no stop token from the host within $MAX_SECS s ($round rounds passed)"
else
    g_ok fio-rounds "$round rounds of reads and writes passed in $(g_elapsed "$t0")s, across the back-end restarts"
fi

# Everything again through the last back-end.
rc=0
# shellcheck disable=SC2046,SC2086
fio $common $(write_job $((FIO_SEED + round))) --verify_only > /tmp/fio-v.out 2>&1 || rc=$?
fio_ok final-verify-write "$rc" /tmp/fio-v.out 1 "round $round's writes verified again"
rc=0
# shellcheck disable=SC2046,SC2086
fio $common $(read_job read "$R_MB") > /tmp/fio-r.out 2>&1 || rc=$?
fio_ok final-verify-read "$rc" /tmp/fio-r.out 1 "the read region still holds its pattern"

for part in "write $W_OFF $W_MB" "read $R_OFF $R_MB"; do
    set -- $part
    sum=$(dd if="$dev" bs=1048576 skip=$(($2 / 1048576)) count="$3" iflag=direct 2>/dev/null |
          sha256sum | cut -c1-64)
    g_diag "sum $1 $sum"
done

n=$(dmesg | grep -ciE 'I/O error|blk_update_request|virtio.*(reset|broken)')
if [ "$n" -eq 0 ]; then
    g_ok no-io-errors "no I/O errors in the kernel log"
else
    dmesg | grep -iE 'I/O error|blk_update_request|virtio.*(reset|broken)' | tail -n 20
    g_not_ok no-io-errors "$n kernel log line(s) about I/O errors"
fi

g_diag "test took $(g_elapsed "$t_start")s in the guest"
g_finish
