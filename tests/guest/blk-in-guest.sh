# tests/guest/blk-in-guest.sh -- the guest half of blk-guest.sh (busybox sh).
#
# Runs inside the guest as /test.sh and exercises the vhost-user-blk disk
# /dev/$DISK.  Every check prints "@@ ok NAME" or "@@ not ok NAME" (see
# guest-functions.sh); blk-guest.sh on the host lists the same names and
# does the host-side half (image contents, sparseness) after power-off.
#
# Variables from /test.env (set by blk-guest.sh):
#   DISK DISK_BYTES       device name and expected size in bytes
#   EXPECT_HWQ            request queues the guest should see
#   JOBS VCPUS AIO        fio jobs (one per queue), vCPUs, fio ioengine
#   FIO_MB FIO_SEED       per-job region size (MiB) and random seed
#   PAT_OFF PAT_LEN       where /data/pattern goes (bytes)
#   DISC_OFF DISC_LEN     range to discard (host pre-filled it, non-zero)
#   WZ_OFF WZ_LEN         range to write-zero (host pre-filled it, non-zero)
#   FS_MB                 size of the ext4 file system at the disk's start
#   QOS_IOPS QOS_FLAG_OFF NONCE  with QOS_IOPS, the QoS phase: the limit the
#                         host sets, where it writes its word, and this
#                         run's nonce in it
# Files: /data/pattern, /data/files/* and /data/SHA256SUMS (of those files).

. /guest-functions.sh

dev=/dev/$DISK
MiB=1048576
t_start=$(g_uptime)
g_diag "test started ${t_start}s after the kernel booted"

# ---------------------------------------------------------------- a. size
g_disk_size disk-size "$DISK" "$DISK_BYTES"

hwq=$(ls -d "/sys/block/$DISK/mq/"* 2>/dev/null | wc -l)
g_diag "$dev: $hwq request queue(s), discard_max_bytes=$(cat "/sys/block/$DISK/queue/discard_max_bytes")," \
       "write_zeroes_max_bytes=$(cat "/sys/block/$DISK/queue/write_zeroes_max_bytes")," \
       "write cache: $(cat "/sys/block/$DISK/queue/write_cache")"
if [ "$hwq" -eq "$EXPECT_HWQ" ]; then
    g_ok hw-queues "$hwq"
else
    g_not_ok hw-queues "guest uses $hwq request queues, expected $EXPECT_HWQ"
fi

# ------------------------------------------------ QoS: a limit set live
# The host sets total_iops_sec=QOS_IOPS through the back-end's control
# socket once it sees mark qos-ready, then writes "qos limit NONCE" at
# QOS_FLAG_OFF.  Random reads at depth 16 on every queue for 4 s must see
# at most 10% more IOPS.  After mark qos-measured the host removes the
# limit and writes "qos lifted NONCE"; everything below runs after that.
if [ -n "${QOS_IOPS:-}" ]; then
    g_diag "mark qos-ready"
    if g_wait_for 120 g_read_has "$dev" "$QOS_FLAG_OFF" "qos limit $NONCE"; then
        g_iops_at_most qos-limit-holds "$QOS_IOPS" 4 --filename="$dev" \
            --ioengine="$AIO" --iodepth=16 --numjobs="$JOBS" --size=64M \
            --cpus_allowed=0-$((VCPUS - 1)) --cpus_allowed_policy=split
    else
        g_not_ok qos-limit-holds "the host's word 'qos limit' did not come within 120 s"
    fi
    g_diag "mark qos-measured"
    if g_wait_for 120 g_read_has "$dev" "$QOS_FLAG_OFF" "qos lifted $NONCE"; then
        g_ok qos-limit-lifted "the host removed the limit; the I/O below runs without it"
    else
        g_not_ok qos-limit-lifted "the host's word 'qos lifted' did not come within 120 s"
    fi
fi

# -------------------------------------------------- b. fio write + verify
# Per-queue completion interrupt counts ("virtioN-req.Q" lines, summed over
# CPUs), to show afterwards that every queue carried I/O.
queue_irqs() {
    awk '$NF ~ /^virtio[0-9]+-req\.[0-9]+$/ {
        s = 0
        for (i = 2; i <= NF; i++) { if ($i ~ /^[0-9]+$/) s += $i; else break }
        print $NF, s
    }' /proc/interrupts
}

# One fio job per queue, each on its own region and pinned to its own vCPU,
# so that blk-mq submits through every request queue.
fio_args="--filename=$dev --direct=1 --ioengine=$AIO --iodepth=32
 --rw=randwrite --bssplit=4k/50:16k/30:64k/20 --size=${FIO_MB}M
 --verify=crc32c --verify_fatal=1 --randseed=$FIO_SEED"
j=0
while [ "$j" -lt "$JOBS" ]; do
    fio_args="$fio_args --name=job$j --offset=$((j * FIO_MB))M --cpus_allowed=$((j % VCPUS))"
    j=$((j + 1))
done

# run_fio NAME [EXTRA-ARGS]: fio must exit 0 and every job must report
# err=0, within FIO_STALL_SECS (g_fio_run).
run_fio() {
    _name=$1; shift
    _t0=$(g_uptime)
    # shellcheck disable=SC2086
    if g_fio_run "$_name" "$JOBS" "$dev" $fio_args "$@"; then
        g_ok "$_name" "$JOBS job(s), $(g_elapsed "$_t0")s"
    else
        g_not_ok "$_name" "$g_fio_why"
    fi
}

queue_irqs > /tmp/irq.before
run_fio fio-write-verify
run_fio fio-verify-only --verify_only
queue_irqs > /tmp/irq.after

# Every request queue must have completed I/O during the fio runs.
idle=$(awk 'NR == FNR { b[$1] = $2; next } { if ($2 - b[$1] <= 0) print $1 }' \
       /tmp/irq.before /tmp/irq.after)
nq=$(wc -l < /tmp/irq.after)
g_diag "completion interrupts per queue during fio: $(awk 'NR == FNR { b[$1] = $2; next } { printf "%s=%d ", $1, $2 - b[$1] }' /tmp/irq.before /tmp/irq.after)"
if [ "$nq" -eq "$EXPECT_HWQ" ] && [ -z "$idle" ]; then
    g_ok io-on-all-queues "$nq queue(s)"
else
    g_not_ok io-on-all-queues "$nq queue interrupt line(s), expected $EXPECT_HWQ; without I/O: ${idle:-none}"
fi

# ------------------------------------------------------- c. pattern write
# The host looks for /data/pattern at PAT_OFF in the image after power-off.
g_pat_write pattern-write "$dev" /data/pattern "$PAT_OFF"

# ------------------------------------------------ d. discard, write zeroes
# zero_bytes OFF LEN: number of zero bytes in the range, read with O_DIRECT
# (so nothing comes from the guest page cache).  OFF and LEN are MiB-aligned.
zero_bytes() {
    dd if="$dev" bs=$MiB skip=$(($1 / MiB)) count=$(($2 / MiB)) iflag=direct 2>/dev/null |
        tr -cd '\000' | wc -c
}

# one_line TEXT: blkdiscard's messages on one line, without the warning
# that -f (skip the in-use/signature checks) always prints.
one_line() {
    echo "$1" | grep -v 'Operation forced' | tr '\n' ' '
}

t0=$(g_uptime)
z1=$(zero_bytes "$DISC_OFF" "$DISC_LEN")
z2=$(zero_bytes "$WZ_OFF" "$WZ_LEN")
if [ "$z1" -eq 0 ] && [ "$z2" -eq 0 ]; then
    g_ok discard-prefill-visible "both ranges hold the host's non-zero fill"
else
    g_not_ok discard-prefill-visible "zero bytes before discard: $z1 (discard range), $z2 (write-zeroes range); expected none"
fi

rc=0
out=$(blkdiscard -f -o "$DISC_OFF" -l "$DISC_LEN" "$dev" 2>&1) || rc=$?
out=$(one_line "$out")
z=$(zero_bytes "$DISC_OFF" "$DISC_LEN")
if [ "$rc" -ne 0 ]; then
    g_not_ok discard-reads-zero "blkdiscard failed (status $rc): $out"
elif [ "$z" -ne "$DISC_LEN" ]; then
    g_not_ok discard-reads-zero "after blkdiscard only $z of $DISC_LEN bytes read as zero"
else
    g_ok discard-reads-zero "$DISC_LEN bytes at $DISC_OFF"
fi

rc=0
out=$(blkdiscard -f -z -o "$WZ_OFF" -l "$WZ_LEN" "$dev" 2>&1) || rc=$?
out=$(one_line "$out")
z=$(zero_bytes "$WZ_OFF" "$WZ_LEN")
if [ "$rc" -ne 0 ]; then
    g_not_ok write-zeroes-reads-zero "blkdiscard -z failed (status $rc): $out"
elif [ "$z" -ne "$WZ_LEN" ]; then
    g_not_ok write-zeroes-reads-zero "after blkdiscard -z only $z of $WZ_LEN bytes read as zero"
else
    g_ok write-zeroes-reads-zero "$WZ_LEN bytes at $WZ_OFF"
fi
g_diag "discard/write-zeroes part took $(g_elapsed "$t0")s"

# ------------------------------------------------------------- e. ext4
# A file system of FS_MB at the start of the disk (the rest of the disk
# holds the ranges the host checks).
g_ext4_checks "$dev" "$FS_MB"

g_diag "test took $(g_elapsed "$t_start")s in the guest"
g_finish
