# tests/guest/life-in-guest.sh -- the guest half of life-guest.sh (busybox sh).
#
# Runs as /test.sh on every boot of one guest that reboots REBOOTS times in
# the same QEMU.  The boot number lives on the test disk: a state block at
# STATE_OFF says "vu-life NONCE boot N inflight W" once boot N is about to
# reset the machine with W writes in flight.
#   boot 1:  the disk and its queue count (QEMU's default: one per vCPU),
#            verified fio on all queues; the online resize (the host grows
#            the image and sends SIGHUP once it sees mark resize-ready);
#            verified I/O beyond the old end, and a pattern there that the
#            host looks for in the image.
#   boot N <= REBOOTS: fio writes in the background; meanwhile the
#            acknowledged region N is written and fsync'd; the state block
#            is written; with writes in flight, sysrq 'b' resets the machine.
#   boot N >= 2: boot N-1 had writes in flight when it reset the machine,
#            region N-1 reads back verified, the disk keeps its grown size,
#            and new verified I/O works.
#   last boot: region N is written, the driver is unbound from the device
#            and bound again (a device reset), region N reads back and
#            verified I/O works again.
# Every check prints "@@ ok NAME" or "@@ not ok NAME" (guest-functions.sh);
# marks "@@ # mark NAME" tell the host how far it got.
#
# Variables from /test.env (set by life-guest.sh):
#   DISK DRIVER         disk name (vda, sda) and virtio driver (virtio_blk,
#                       virtio_scsi)
#   VCPUS AIO           vCPUs (= fio jobs = queues expected), fio ioengine
#   NONCE FIO_SEED      this run's nonce and random seed
#   REBOOTS             reboots with I/O in flight
#   OLD_BYTES NEW_BYTES the disk's size before and after the resize
#   MIX_MB              each fio job's region (MiB): jobs at 0 and at BG_OFF
#   STATE_OFF           the state block (bytes)
#   ACK_OFF ACK_MB      acknowledged region N is at ACK_OFF + (N-1) * ACK_MB MiB
#   BG_OFF              the region written while the guest reboots (bytes)
#   GROW_MB PAT_OFF     verified fio region from OLD_BYTES on (MiB); where
#                       /data/pattern goes (bytes, beyond OLD_BYTES)
#   FIO_STALL_SECS      a fio run going on this long is a stall

# shellcheck disable=SC2153  # the capitalised variables come from /test.env
. /guest-functions.sh

dev=/dev/$DISK
common="--filename=$dev --direct=1 --ioengine=$AIO --iodepth=16 --verify=crc32c --verify_fatal=1"

# state_read: "N W" from the state block: boot N reset the machine with W
# writes in flight ("0 0": a fresh disk).
state_read() {
    _s=$(dd if="$dev" bs=4096 count=1 skip=$((STATE_OFF / 4096)) iflag=direct 2>/dev/null |
        tr -d '\000' |
        sed -n "s/^vu-life $NONCE boot \([0-9][0-9]*\) inflight \([0-9][0-9]*\)\$/\1 \2/p")
    echo "${_s:-0 0}"
}

# state_write N W: the state block says "boot N, W writes in flight".
state_write() {
    printf 'vu-life %s boot %s inflight %s\n' "$NONCE" "$1" "$2" |
        dd of="$dev" bs=4096 count=1 seek=$((STATE_OFF / 4096)) \
           oflag=direct conv=sync,notrunc,fsync 2>/dev/null
}

# mix_jobs OFF RW: one job per vCPU doing RW (fio's --rw), MIX_MB MiB
# each, from byte OFF.
mix_jobs() {
    _j=0
    while [ "$_j" -lt "$VCPUS" ]; do
        printf ' --name=mix%s --rw=%s --rwmixread=50 --bssplit=4k/50:16k/30:64k/20 --offset=%s --size=%sM --cpus_allowed=%s' \
            "$_j" "$2" $(($1 + _j * MIX_MB * 1048576)) "$MIX_MB" "$_j"
        _j=$((_j + 1))
    done
}

# fio_mix NAME OFF SEED: verified mixed I/O on all queues, as check NAME.
fio_mix() {
    _t0=$(g_uptime)
    # shellcheck disable=SC2046,SC2086
    if g_fio_run "$1" "$VCPUS" "$dev" $common --randseed="$3" $(mix_jobs "$2" randrw); then
        g_ok "$1" "$VCPUS job(s) x ${MIX_MB} MiB, verified, $(g_elapsed "$_t0")s"
    else
        g_not_ok "$1" "$g_fio_why"
    fi
}

# ack_fio N WHAT: fio over acknowledged region N; WHAT is "write" (then
# fsync) or "verify" (read back and check what "write" wrote).
ack_fio() {
    _off=$((ACK_OFF + ($1 - 1) * ACK_MB * 1048576))
    _how="--do_verify=0 --end_fsync=1"
    [ "$2" = verify ] && _how="--verify_only=1"
    # shellcheck disable=SC2086
    g_fio_run "ack$1-$2" 1 "$dev" $common --name="ack$1" --rw=write --bs=16k \
        --offset="$_off" --size="${ACK_MB}M" --randseed=$((FIO_SEED + $1)) $_how
}

# ack_write NAME N / ack_verify NAME N: the two halves, as check NAME.
ack_write() {
    if ack_fio "$2" write; then
        g_ok "$1" "${ACK_MB} MiB written with O_DIRECT and fsync'd"
    else
        g_not_ok "$1" "$g_fio_why"
        return 1
    fi
}
ack_verify() {
    if ack_fio "$2" verify; then
        g_ok "$1" "the ${ACK_MB} MiB acknowledged before read back verified"
    else
        g_not_ok "$1" "$g_fio_why"
    fi
}

# size_is SECTORS: the disk has SECTORS.
size_is() {
    [ "$(cat "/sys/block/$DISK/size")" -eq "$1" ]
}

first_boot() {
    g_disk_size disk-size "$DISK" "$OLD_BYTES"
    nq=$(ls "/sys/block/$DISK/mq" | wc -l)
    if [ "$nq" -eq "$VCPUS" ]; then
        g_ok default-queues "$nq hardware queues, one per vCPU, with no queue count set anywhere"
    else
        g_not_ok default-queues "$nq hardware queues for $VCPUS vCPUs"
    fi
    fio_mix fio-verify-all-queues 0 "$FIO_SEED"

    # Online resize: the host grows the image and sends SIGHUP.
    g_diag "mark resize-ready"
    if g_wait_for 120 size_is $((NEW_BYTES / 512)); then
        g_ok online-resize "$DISK grew to $NEW_BYTES bytes without a reboot"
    else
        g_not_ok online-resize "$DISK has $(cat "/sys/block/$DISK/size") sectors 120s after mark resize-ready, expected $((NEW_BYTES / 512))"
    fi
    if dmesg | grep "$DISK: detected capacity change"; then
        g_ok resize-kernel-log
    else
        g_not_ok resize-kernel-log "no 'detected capacity change' for $DISK in the kernel log"
    fi
    _t0=$(g_uptime)
    # shellcheck disable=SC2086
    if g_fio_run grow 1 "$dev" $common --name=grow --rw=randwrite --bs=16k \
            --offset="$OLD_BYTES" --size="${GROW_MB}M" --randseed="$FIO_SEED"; then
        g_ok fio-verify-beyond-old-end "${GROW_MB} MiB from the old end on, $(g_elapsed "$_t0")s"
    else
        g_not_ok fio-verify-beyond-old-end "$g_fio_why"
    fi
    g_pat_write grown-pattern-write "$dev" /data/pattern "$PAT_OFF"
}

# reboot_now N: background writes, acknowledged region N, then a machine
# reset while writes are in flight.  The serial console loses what it has
# not sent yet when the machine resets: the number of writes in flight
# goes into the state block, and the next boot reports it.
reboot_now() {
    # shellcheck disable=SC2046,SC2086
    g_fio_start bg$1 $common --do_verify=0 --time_based --runtime=600 \
        --iodepth=32 --randseed=$((FIO_SEED + 100 + $1)) $(mix_jobs "$BG_OFF" randwrite)
    _bg=$g_fio_pid
    # Its "ok" line may be lost in the reset; a failure stops the reboots.
    if ! ack_write "acked-write-$1" "$1"; then
        kill "$_bg"
        wait "$_bg"
        return
    fi
    # One read per look: a second read may find the writes completed.
    _end=$(($(g_secs) + 30))
    while :; do
        _inf=$(awk '{ print $2 }' "/sys/block/$DISK/inflight")
        [ "$_inf" -gt 0 ] && break
        if ! kill -0 "$_bg" 2>/dev/null || [ "$(g_secs)" -ge "$_end" ]; then
            break
        fi
        sleep 0.1
    done
    if ! state_write "$1" "$_inf"; then
        g_not_ok "reboot-$1" "dd of the state block failed"
        kill "$_bg"
        wait "$_bg"
        return
    fi
    g_diag "mark reboot-$1"
    echo b > /proc/sysrq-trigger
    sleep 60
    g_not_ok "reboot-$1" "sysrq b did not reset the machine"
}

# reload_driver: unbind the driver from the disk's virtio device and bind
# it again; the driver resets the device on both.
reload_driver() {
    vdev=
    for d in /sys/bus/virtio/drivers/"$DRIVER"/virtio*; do
        [ -e "$d" ] && vdev=${d##*/}
    done
    if [ -z "$vdev" ]; then
        g_not_ok driver-unbind "no device bound to $DRIVER"
        return 1
    fi
    echo "$vdev" > "/sys/bus/virtio/drivers/$DRIVER/unbind"
    if ! g_wait_for 60 test ! -e "/sys/block/$DISK"; then
        g_not_ok driver-unbind "$DISK still there 60s after unbinding $DRIVER from $vdev"
        return 1
    fi
    g_ok driver-unbind "$DRIVER unbound from $vdev, $DISK gone"
    echo "$vdev" > "/sys/bus/virtio/drivers/$DRIVER/bind"
    if ! g_wait_for 60 test -b "$dev"; then
        g_not_ok driver-bind "no $dev 60s after binding $DRIVER to $vdev (disks: $(ls /sys/block | tr '\n' ' '))"
        return 1
    fi
    g_ok driver-bind "$DRIVER bound to $vdev again, $DISK back"
}

# shellcheck disable=SC2046
set -- $(state_read)
boot=$(($1 + 1))
g_diag "mark boot-$boot"
g_diag "boot $boot: test started $(g_uptime)s after the kernel booted"
if [ "$boot" -eq 1 ]; then
    first_boot
else
    prev=$1
    if [ "$2" -gt 0 ]; then
        g_ok "writes-in-flight-$prev" "boot $prev reset the machine with $2 writes in flight"
    else
        g_not_ok "writes-in-flight-$prev" "boot $prev saw no write in flight within 30s before it reset the machine"
    fi
    g_disk_size "disk-size-boot-$boot" "$DISK" "$NEW_BYTES"
    ack_verify "acked-read-after-reboot-$prev" "$prev"
    fio_mix "fio-verify-after-reboot-$prev" "$BG_OFF" $((FIO_SEED + boot))
fi
[ "$boot" -le "$REBOOTS" ] && reboot_now "$boot"

ack_write acked-write-before-reload "$boot"
if reload_driver; then
    g_disk_size disk-size-after-reload "$DISK" "$NEW_BYTES"
    ack_verify acked-read-after-reload "$boot"
    fio_mix fio-verify-after-reload "$BG_OFF" $((FIO_SEED + 1000))
fi
g_finish
