# tests/guest/migrate-in-guest.sh -- the guest half of migrate-guest.sh
# (busybox sh).
#
# Runs inside the guest as /test.sh while the host live-migrates the guest
# from QEMU to QEMU.  Keeps I/O with data verification going on /dev/$DISK
# until the host says the migrations are over: rounds of fio, each with
# JOBS jobs of mixed random reads and writes (crc32c-verified) on their own
# regions and a reader job that verifies random reads of a region written
# before the migrations began, so that reads (the device writing guest
# memory) and writes are in flight whenever the host migrates.  The host
# ends the rounds by writing TOKEN at TOKEN_OFF of the image.  Then the
# guest reads the whole reader region back once more, writes /data/pattern
# at PAT_OFF, which the host looks for in the image after power-off.
# Every check prints "@@ ok NAME" or "@@ not ok NAME" (guest-functions.sh);
# marks "@@ # mark NAME" tell the host how far it got.
#
# Variables from /test.env (set by migrate-guest.sh):
#   DISK DISK_BYTES     device name and expected size in bytes
#   JOBS VCPUS AIO      mixed fio jobs (one per queue), vCPUs, fio ioengine
#   MIX_MB              each mixed job's region (MiB), from the disk's start
#   RD_OFF RD_MB        the reader region (bytes, MiB)
#   FIO_SEED            random seed (round N uses FIO_SEED + N)
#   FIO_MAX_SECS        give up waiting for the token after this long
#   FIO_STALL_SECS      a fio round running this long is a stall
#   TOKEN TOKEN_OFF     the host's "migrations over" token and its offset
#   PAT_OFF             where /data/pattern goes (bytes)

# shellcheck disable=SC2153  # the capitalised variables come from /test.env
. /guest-functions.sh

dev=/dev/$DISK
t_start=$(g_uptime)
g_diag "test started ${t_start}s after the kernel booted"

g_disk_size disk-size "$DISK" "$DISK_BYTES"

common="--filename=$dev --direct=1 --ioengine=$AIO --iodepth=16 --verify=crc32c --verify_fatal=1"
reader="--name=reader --rw=randread --bs=64k --offset=$RD_OFF --size=${RD_MB}M"

# The reader region, written once with verification headers.
t0=$(g_uptime)
# shellcheck disable=SC2086
if g_fio_run prefill 1 "$dev" $common --name=prefill --rw=write --bs=64k \
        --offset="$RD_OFF" --size="${RD_MB}M" --do_verify=0; then
    g_ok reader-prefill "${RD_MB} MiB at $RD_OFF, $(g_elapsed "$t0")s"
else
    g_not_ok reader-prefill "$g_fio_why"
fi

# Rounds until the token: JOBS mixed jobs and the reader, all verifying.
mix=
j=0
while [ "$j" -lt "$JOBS" ]; do
    mix="$mix --name=mix$j --rw=randrw --rwmixread=50 --bssplit=4k/50:16k/30:64k/20
 --offset=$((j * MIX_MB))M --size=${MIX_MB}M --cpus_allowed=$((j % VCPUS))"
    j=$((j + 1))
done
round=0
failed=0
token=0
why=
t0=$(g_uptime)
g_diag "mark fio-started"
while :; do
    round=$((round + 1))
    tr0=$(g_uptime)
    # shellcheck disable=SC2086
    if ! g_fio_run "round$round" $((JOBS + 1)) "$dev" $common \
            --randseed=$((FIO_SEED + round)) $mix $reader; then
        failed=$((failed + 1))
        [ "$failed" -le 3 ] && why="${why}round $round: $g_fio_why; "
    fi
    g_diag "fio round $round took $(g_elapsed "$tr0")s"
    if g_read_has "$dev" "$TOKEN_OFF" "$TOKEN"; then
        token=1
        break
    fi
    [ "$(cut -d. -f1 /proc/uptime)" -ge $(( ${t0%.*} + FIO_MAX_SECS )) ] && break
done
g_diag "mark fio-done"
if [ "$failed" -eq 0 ]; then
    g_ok fio-verify-during-migration "$round round(s) of $JOBS mixed job(s) and a reader, $(g_elapsed "$t0")s, err=0 everywhere"
else
    g_not_ok fio-verify-during-migration "$failed of $round round(s) failed (the first 3 shown): $why"
fi
if [ "$token" = 1 ]; then
    g_ok host-token "the host's token came after $round round(s)"
else
    g_not_ok host-token "no token from the host within ${FIO_MAX_SECS}s ($round rounds)"
fi

# The reader region once more, all of it, in order.
t0=$(g_uptime)
# shellcheck disable=SC2086
if g_fio_run reread 1 "$dev" $common --name=reread --rw=read --bs=64k \
        --offset="$RD_OFF" --size="${RD_MB}M"; then
    g_ok reader-region-verify "${RD_MB} MiB, $(g_elapsed "$t0")s"
else
    g_not_ok reader-region-verify "$g_fio_why"
fi

# The last write: the host finds it in the image after power-off.
g_pat_write final-pattern-write "$dev" /data/pattern "$PAT_OFF"
sync
g_diag "mark final-written"
g_diag "test took $(g_elapsed "$t_start")s in the guest"
g_finish
