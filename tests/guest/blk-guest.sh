#!/bin/bash
# tests/guest/blk-guest.sh -- virtio-blk guest test of a vhost-user-blk back-end.
#
# Owns the host half of the blk guest test: make a sparse image with known
# contents, start the back-end (GUEST_BACKEND: vhost-uring-blk or qsd), boot a
# guest running blk-in-guest.sh on it through vhost-user-blk-pci, turn the
# guest's check results into TAP, stop the back-end, and check the image file
# on the host (pattern, zeroed ranges, punched hole, file system).  With
# vhost-uring-blk the guest first reads under a QoS limit the host sets
# through the back-end's control socket, and carries on once the host has
# removed it (see "QoS" below).
# Output: TAP on stdout (for automake's tap-driver.sh); logs on stderr.
#
# Parameters (environment):
#   QUEUES  1|2 (default 1)          virtqueues (num-queues) and fio jobs
#   VCPUS   1|2 (default QUEUES)     guest vCPUs
#   AIO     io_uring|libaio (default io_uring)  back-end engine, and the
#           guest fio ioengine
#   GUEST_FIO_MB  MiB each fio job writes and verifies (default 32)
#   GUEST_FIO_STALL_SECS  a fio run still going after this long is a stall:
#           the guest and the back-end log their state, the check fails (100)
#   EXPECT_MEM_REGIONS  check the back-end got this many memory regions
#   QOS_IOPS  the total_iops_sec limit set live for the guest's QoS check
#           (default 200; 0: no QoS check)
# plus everything guest-lib.sh reads (GUEST_BACKEND, VHOST_URING_BLK, CACHE,
# GUEST_TIMEOUT, GUEST_VERBOSE, GUEST_KEEP_TMP, ...).
set -eu

# shellcheck source=guest-lib.sh
. "$(dirname "$0")/guest-lib.sh"

QUEUES=${QUEUES:-1}
VCPUS=${VCPUS:-$QUEUES}
AIO=${AIO:-io_uring}
FIO_MB=${GUEST_FIO_MB:-32}

# (qemu-storage-daemon needs neither engine)
engine=$AIO
[ "$GUEST_BACKEND" = vhost-uring-blk ] || engine=
guest_begin "$engine"
case "$QUEUES" in 1|2) ;; *) guest_die "QUEUES must be 1 or 2, not '$QUEUES'" ;; esac
case "$VCPUS" in [1-8]) ;; *) guest_die "VCPUS must be 1..8, not '$VCPUS'" ;; esac
guest_need_e2fsprogs
if [ "${CACHE:-none}" = none ]; then
    guest_need_odirect
fi

tap_diag "backend=$GUEST_BACKEND queues=$QUEUES vcpus=$VCPUS aio=$AIO cache=${CACHE:-default} kernel=$GUEST_KVER"

# ---------------------------------------------------------------- layout
MiB=1048576
IMG_BYTES=$((256 * MiB))
FS_MB=64                        # ext4 at [0, 64 MiB); fio uses [0, QUEUES*FIO_MB)
PAT_OFF=$((128 * MiB + 4096))   # 4 KiB-aligned, not 64 KiB-aligned
PAT_LEN=65536
DISC_OFF=$((160 * MiB))
DISC_LEN=$((8 * MiB))
WZ_OFF=$((192 * MiB))
WZ_LEN=$((8 * MiB))
QOS_FLAG_OFF=$((224 * MiB))     # the host's word to the guest in the QoS phase
[ $((QUEUES * FIO_MB)) -le 120 ] || guest_die "GUEST_FIO_MB=$FIO_MB too large for the layout (QUEUES*FIO_MB must be <= 120)"

img=$GUEST_TMP/disk.img
sock=$GUEST_TMP/vhost-user-blk.sock
data=$GUEST_TMP/data
mkdir -p "$data/files"
nonce=$(od -An -tx4 -N4 /dev/urandom | tr -d ' \n')

truncate -s "$IMG_BYTES" "$img"

# Non-zero fill for the ranges the guest discards / write-zeroes.
fill() {
    yes "vhost-uring fill $nonce" | head -c "$2" |
        dd of="$img" bs=$MiB seek="$1" oflag=seek_bytes conv=notrunc status=none
}
fill "$DISC_OFF" "$DISC_LEN"
fill "$WZ_OFF" "$WZ_LEN"
sync "$img"
disc_alloc_before=$(guest_alloc_bytes "$img" "$DISC_OFF" "$DISC_LEN")

# 64 KiB of text that names this run: 2048 lines of 32 bytes.
awk -v n="$nonce" 'BEGIN { for (i = 0; i < 2048; i++) printf "vub pattern %s, #%08d\n", n, i }' \
    > "$data/pattern"
[ "$(stat -c %s "$data/pattern")" -eq "$PAT_LEN" ] || guest_die "pattern generator produced the wrong size"

# Files for the ext4 check: odd and even sizes, text and random.
echo "vhost-uring ext4 check $nonce" > "$data/files/small.txt"
head -c 4096 /dev/urandom > "$data/files/block-4k.bin"
head -c $((MiB + 777)) /dev/urandom > "$data/files/odd-1m.bin"
head -c $((3 * MiB)) /dev/urandom > "$data/files/random-3m.bin"
(cd "$data/files" && sha256sum -- *) > "$data/SHA256SUMS"

# ----------------------------------------------------------------- guest
guest_env DISK vda
guest_env DISK_BYTES "$IMG_BYTES"
guest_env EXPECT_HWQ $((QUEUES < VCPUS ? QUEUES : VCPUS))
guest_env JOBS "$QUEUES"
guest_env VCPUS "$VCPUS"
guest_env FIO_STALL_SECS "${GUEST_FIO_STALL_SECS:-100}"
guest_env AIO "$AIO"
guest_env FIO_MB "$FIO_MB"
guest_env FIO_SEED "$((0x$nonce % 1000000 + 1))"
guest_env PAT_OFF "$PAT_OFF"
guest_env PAT_LEN "$PAT_LEN"
guest_env DISC_OFF "$DISC_OFF"
guest_env DISC_LEN "$DISC_LEN"
guest_env WZ_OFF "$WZ_OFF"
guest_env WZ_LEN "$WZ_LEN"
guest_env FS_MB "$FS_MB"
guest_file "$data/pattern" /data/pattern
for f in "$data/files/"*; do
    guest_file "$f" "/data/files/${f##*/}"
done
guest_file "$data/SHA256SUMS" /data/SHA256SUMS

# -------------------------------------------------------------------- QoS
# Once the guest prints mark qos-ready, the host sets total_iops_sec=QOS_IOPS
# through the back-end's control socket and writes "qos limit NONCE" at
# QOS_FLAG_OFF; the guest's random reads on every queue must see at most
# 10% more IOPS than that.  After mark qos-measured the host removes the
# limit (0) and writes "qos lifted NONCE": the guest's verified I/O runs
# after that.  (qemu-storage-daemon has no such socket: no QoS check.)
QOS_IOPS=${QOS_IOPS:-200}
qos=0
if [ "$GUEST_BACKEND" = vhost-uring-blk ] && [ "$QOS_IOPS" != 0 ]; then
    qos=1
    ctl_sock=$GUEST_TMP/control.sock
    GUEST_DAEMON_ARGS=(--control-socket="$ctl_sock")
    guest_env QOS_IOPS "$QOS_IOPS"
    guest_env QOS_FLAG_OFF "$QOS_FLAG_OFF"
    guest_env NONCE "$nonce"
fi

# qos_host: the host's part of the QoS phase.
qos_host() {
    if ! wait_mark qos-ready 240; then
        tap_not_ok "host: the guest got ready for the QoS phase: no 'mark qos-ready' within 240s"
        return
    fi
    guest_iotune "$ctl_sock" total_iops_sec="$QOS_IOPS"
    guest_flag "$img" "$QOS_FLAG_OFF" "qos limit $nonce"
    wait_mark qos-measured 120 ||
        tap_diag "no 'mark qos-measured' within 120s: removing the limit anyway"
    guest_iotune "$ctl_sock" total_iops_sec=0
    guest_flag "$img" "$QOS_FLAG_OFF" "qos lifted $nonce"
}

blk_daemon_start "$img" "$sock" "$QUEUES" "$AIO"

GUEST_VCPUS=$VCPUS
GUEST_WAIT_DEVS=vda
boot_bg "$GUEST_SRCDIR/blk-in-guest.sh" \
    -chardev "socket,id=vub0,path=$sock" \
    -device "vhost-user-blk-pci,chardev=vub0,num-queues=$QUEUES"
qos_names=
if [ "$qos" = 1 ]; then
    qos_host
    qos_names="qos-limit-holds qos-limit-lifted"
fi
boot_bg_end "$GUEST_TIMEOUT"

tap_guest_exit
# shellcheck disable=SC2086
tap_guest_results disk-size hw-queues $qos_names fio-write-verify fio-verify-only \
    io-on-all-queues pattern-write discard-prefill-visible discard-reads-zero \
    write-zeroes-reads-zero ext4-mkfs-write ext4-fsck-clean ext4-checksums

# ---------------------------------------------------------------- back-end
if daemon_stop; then
    tap_ok "back-end was still running after the guest and exited with status 0 on SIGTERM"
else
    tap_not_ok "back-end ran through the guest and exited cleanly on SIGTERM: $DAEMON_STATUS"
fi
if [ -e "$sock" ]; then
    tap_not_ok "back-end removed its socket on exit"
else
    tap_ok "back-end removed its socket on exit"
fi

# With EXPECT_MEM_REGIONS=N (and GUEST_DAEMON_VERBOSE=1), QEMU must have
# shared guest RAM as N regions, and I/O above went through all of them.
if [ -n "${EXPECT_MEM_REGIONS:-}" ]; then
    regions=$(grep -c 'debug: <- ADD_MEM_REG' "$DAEMON_LOG" || true)
    if [ "$regions" -eq "$EXPECT_MEM_REGIONS" ]; then
        tap_ok "QEMU shared guest RAM as $regions regions ($GUEST_MEM_BACKEND-backed, ${GUEST_MEM_MB} MiB)"
    else
        tap_not_ok "QEMU shared guest RAM as $EXPECT_MEM_REGIONS regions (the daemon saw $regions ADD_MEM_REG)"
    fi
fi

# ------------------------------------------------------- host-side checks
tap_check "host: pattern written by the guest is at offset $PAT_OFF of the image" \
    cmp -n "$PAT_LEN" -i "$PAT_OFF:0" "$img" "$data/pattern"
tap_check "host: discarded range reads as zeros in the image" \
    guest_range_is_zero "$img" "$DISC_OFF" "$DISC_LEN"
tap_check "host: write-zeroes range reads as zeros in the image" \
    guest_range_is_zero "$img" "$WZ_OFF" "$WZ_LEN"

disc_alloc_after=$(guest_alloc_bytes "$img" "$DISC_OFF" "$DISC_LEN")
if [ "$disc_alloc_before" -eq "$DISC_LEN" ] && [ "$disc_alloc_after" -eq 0 ]; then
    tap_ok "host: discarded range was deallocated in the image (hole punched)"
else
    tap_not_ok "host: discarded range was deallocated in the image (allocated bytes before: $disc_alloc_before of $DISC_LEN, after: $disc_alloc_after, expected 0)"
fi

tap_check "host: e2fsck -fn finds the guest's ext4 file system clean" \
    e2fsck -fn "$img"

# The files, as the host reads them out of the image with debugfs.
tap_check "host: files written by the guest have the right contents in the image" \
    guest_image_files_ok "$img" "$data/files"

tap_diag "guest boot took ${GUEST_SECONDS:-?}s (QEMU start to exit)"
tap_finish
