#!/bin/bash
# tests/guest/scsi-guest.sh -- virtio-scsi guest test of vhost-uring-scsi.
#
# Owns the host half of the scsi guest test: make three sparse images with
# known contents (LUN 0 and LUN 1 read-write, LUN 1 with 4096-byte blocks,
# LUN 2 read-only), start vhost-uring-scsi on them, boot a guest running
# scsi-in-guest.sh through vhost-user-scsi-pci, turn the guest's results
# into TAP, stop the back-end; then restart it, with a QoS limit on LUN 2
# and a control socket, and boot a second, short guest (the NAA designators
# must not change, LUN 2's reads must keep to the limit until the host
# removes it live); then check the image files
# on the host (patterns, zeroed ranges, WRITE SAME data, file system, the
# read-only image untouched).
# Output: TAP on stdout (for automake's tap-driver.sh); logs on stderr.
#
# Parameters (environment):
#   QUEUES  1|2 (default 2)          request queues (--num-queues, num_queues)
#   VCPUS   1|2 (default QUEUES)     guest vCPUs
#   THREADS 1..QUEUES (default 1)    back-end I/O threads (--num-threads);
#           with 2, the control queue and the two request queues' commands
#           are on different threads
#   AIO     io_uring|libaio (default io_uring)  back-end engine, and the
#           guest fio ioengine
#   GUEST_FIO_MB  MiB fio writes and verifies on each LUN (default 32)
#   GUEST_FIO_STALL_SECS  a fio run still going after this long is a stall:
#           the guest and the back-end log their state, the check fails (100)
#   QOS_IOPS  LUN 2's total_iops_sec in the second boot (default 200; 0: no
#           limit and no QoS check)
#   SCSI_BACKEND  vhost-uring-scsi (default), or qemu: the same guest checks
#           against QEMU's own virtio-scsi-pci and scsi-hd (a reference run
#           of the test itself; no back-end, no second boot)
# plus what guest-lib.sh reads (VHOST_URING_SCSI, GUEST_DAEMON_VERBOSE,
# GUEST_TIMEOUT (default 600 here), GUEST_VERBOSE, GUEST_KEEP_TMP, ...).

# shellcheck disable=SC2034  # layout variables reach the guest through ${!v}
set -eu

GUEST_TIMEOUT=${GUEST_TIMEOUT:-600}
# shellcheck source=guest-lib.sh
. "$(dirname "$0")/guest-lib.sh"

QUEUES=${QUEUES:-2}
VCPUS=${VCPUS:-$QUEUES}
AIO=${AIO:-io_uring}
THREADS=${THREADS:-1}
export SCSI_THREADS=$THREADS
FIO_MB=${GUEST_FIO_MB:-32}
BACKEND=${SCSI_BACKEND:-vhost-uring-scsi}

# (QEMU's own virtio-scsi needs neither engine)
engine=$AIO
[ "$BACKEND" = vhost-uring-scsi ] || engine=
guest_begin "$engine"
case "$QUEUES" in 1|2) ;; *) guest_die "QUEUES must be 1 or 2, not '$QUEUES'" ;; esac
case "$VCPUS" in [1-8]) ;; *) guest_die "VCPUS must be 1..8, not '$VCPUS'" ;; esac
case "$BACKEND" in vhost-uring-scsi|qemu) ;; *) guest_die "SCSI_BACKEND must be vhost-uring-scsi or qemu, not '$BACKEND'" ;; esac
guest_need_e2fsprogs
guest_need_odirect

tap_diag "backend=$BACKEND queues=$QUEUES vcpus=$VCPUS aio=$AIO threads=$THREADS kernel=$GUEST_KVER"

# ---------------------------------------------------------------- layout
# The same layout on LUN 0 and LUN 1 (byte offsets, multiples of 4096).
MiB=1048576
IMG_BYTES=$((256 * MiB))
RO_BYTES=$((16 * MiB))
FS_MB=64                        # ext4 on LUN 0 at [0, 64 MiB); fio uses [0, FIO_MB)
PAT_OFF=$((128 * MiB + 4096))   # 4 KiB-aligned, not 64 KiB-aligned
PAT_LEN=65536
UNMAP_OFF=$((160 * MiB)); UNMAP_LEN=$((8 * MiB))
WSU_OFF=$((176 * MiB));   WSU_LEN=$((4 * MiB))
WSZ_OFF=$((180 * MiB));   WSZ_LEN=$((4 * MiB))
WSP_OFF=$((184 * MiB));   WSP_LEN=$((1 * MiB))
DISC_OFF=$((192 * MiB));  DISC_LEN=$((8 * MiB))
RST_OFF=$((208 * MiB));   RST_MB=16
PROBE_OFF=$((240 * MiB + 4096))
QOS_FLAG_OFF=$((248 * MiB))     # LUN 0: the host's word in the second boot
[ "$FIO_MB" -le 64 ] || guest_die "GUEST_FIO_MB=$FIO_MB too large for the layout (at most 64)"

img0=$GUEST_TMP/lun0.img
img1=$GUEST_TMP/lun1.img
img2=$GUEST_TMP/lun2-ro.img
sock=$GUEST_TMP/vhost-user-scsi.sock
data=$GUEST_TMP/data
mkdir -p "$data/files"
nonce=$(od -An -tx4 -N4 /dev/urandom | tr -d ' \n')
serial0="VUS0-$nonce"

truncate -s "$IMG_BYTES" "$img0" "$img1"

# fill IMG OFF LEN: non-zero text over the range (no zero byte at all).
fill() {
    yes "vhost-uring scsi fill $nonce" | head -c "$3" |
        dd of="$1" bs=$MiB seek="$2" oflag=seek_bytes conv=notrunc status=none
}
for img in "$img0" "$img1"; do
    fill "$img" "$UNMAP_OFF" "$UNMAP_LEN"
    fill "$img" "$WSU_OFF" "$WSU_LEN"
    fill "$img" "$WSZ_OFF" "$WSZ_LEN"
    fill "$img" "$WSP_OFF" "$WSP_LEN"
    fill "$img" "$DISC_OFF" "$DISC_LEN"
done
# The read-only LUN: text all through; the guest compares its first 64 KiB.
yes "vhost-uring scsi read-only LUN $nonce" | head -c "$RO_BYTES" > "$img2"
head -c 65536 "$img2" > "$data/ro-head"
sync "$img0" "$img1" "$img2"
ro_sum=$(sha256sum < "$img2")

# 64 KiB of text per LUN that names this run: 2048 lines of 32 bytes.
for l in 0 1; do
    awk -v n="$nonce" -v l="$l" 'BEGIN { for (i = 0; i < 2048; i++) printf "vus%d pattern %s #%08d\n", l, n, i }' \
        > "$data/pattern-lun$l"
    [ "$(stat -c %s "$data/pattern-lun$l")" -eq "$PAT_LEN" ] || guest_die "pattern generator produced the wrong size"
done
# WRITE SAME data block (the guest uses its first logical block) and the
# post-reset probe.
awk -v n="$nonce" 'BEGIN { for (i = 0; i < 128; i++) printf "write same %s %011d\n", n, i }' > "$data/wsblock"
awk -v n="$nonce" 'BEGIN { for (i = 0; i < 128; i++) printf "reset probe %s %010d\n", n, i }' > "$data/probe"
if [ "$(stat -c %s "$data/wsblock")" -ne 4096 ] || [ "$(stat -c %s "$data/probe")" -ne 4096 ]; then
    guest_die "block generator produced the wrong size"
fi

echo "vhost-uring scsi ext4 check $nonce" > "$data/files/small.txt"
head -c 4096 /dev/urandom > "$data/files/block-4k.bin"
head -c $((MiB + 777)) /dev/urandom > "$data/files/odd-1m.bin"
head -c $((3 * MiB)) /dev/urandom > "$data/files/random-3m.bin"
(cd "$data/files" && sha256sum -- *) > "$data/SHA256SUMS"

# ----------------------------------------------------------------- guest
guest_env BYTES0 "$IMG_BYTES"; guest_env BS0 512
guest_env BYTES1 "$IMG_BYTES"; guest_env BS1 4096
guest_env BYTES2 "$RO_BYTES";  guest_env BS2 512
guest_env SERIAL0 "$serial0"
guest_env CACHE0 writeback
guest_env EXPECT_HWQ $((QUEUES < VCPUS ? QUEUES : VCPUS))
guest_env VCPUS "$VCPUS"
guest_env AIO "$AIO"
guest_env FIO_MB "$FIO_MB"
guest_env FIO_SEED "$((0x$nonce % 1000000 + 1))"
guest_env FIO_STALL_SECS "${GUEST_FIO_STALL_SECS:-100}"
for v in PAT_OFF PAT_LEN UNMAP_OFF UNMAP_LEN WSU_OFF WSU_LEN WSZ_OFF WSZ_LEN \
         WSP_OFF WSP_LEN DISC_OFF DISC_LEN FS_MB RST_OFF RST_MB PROBE_OFF; do
    guest_env "$v" "${!v}"
done
for f in pattern-lun0 pattern-lun1 wsblock probe ro-head SHA256SUMS; do
    guest_file "$data/$f" "/data/$f"
done
for f in "$data/files/"*; do
    guest_file "$f" "/data/files/${f##*/}"
done

luns=("0,file=$img0,serial=$serial0,cache=writeback"
      "1,file=$img1,logical-block-size=4096,cache=none"
      "2,file=$img2,read-only")

# The QEMU arguments of the controller.
if [ "$BACKEND" = vhost-uring-scsi ]; then
    ctrl=(-chardev "socket,id=vus0,path=$sock"
          -device "vhost-user-scsi-pci,chardev=vus0,num_queues=$QUEUES,virtqueue_size=128")
else
    case "$AIO" in io_uring) qaio=io_uring ;; *) qaio=native ;; esac
    ctrl=(-device "virtio-scsi-pci,id=scsi0,num_queues=$QUEUES,virtqueue_size=128"
          -drive "if=none,id=d0,file=$img0,format=raw,cache=none,aio=$qaio,discard=unmap"
          -device "scsi-hd,bus=scsi0.0,scsi-id=0,lun=0,drive=d0,serial=$serial0,wwn=0x5000000000000001,write-cache=on"
          -drive "if=none,id=d1,file=$img1,format=raw,cache=none,aio=$qaio,discard=unmap"
          -device "scsi-hd,bus=scsi0.0,scsi-id=0,lun=1,drive=d1,wwn=0x5000000000000002,logical_block_size=4096,physical_block_size=4096"
          -drive "if=none,id=d2,file=$img2,format=raw,cache=none,aio=$qaio,readonly=on"
          -device "scsi-hd,bus=scsi0.0,scsi-id=0,lun=2,drive=d2,wwn=0x5000000000000003")
fi

# Through daemon_start_next, so that the first back-end's log is kept
# (daemon-1.log) when the second one starts.
[ "$BACKEND" = vhost-uring-scsi ] && daemon_start_next scsi_daemon_start "$sock" "$QUEUES" "$AIO" "${luns[@]}"

GUEST_VCPUS=$VCPUS
GUEST_WAIT_DEVS=sda,sdb,sdc
GUEST_WAIT_SECS=${GUEST_WAIT_SECS:-60}
guest_boot "$GUEST_SRCDIR/scsi-in-guest.sh" "${ctrl[@]}" || true

tap_guest_exit
tap_guest_results luns-found disk-sizes hw-queues sg-turs inquiry-standard \
    invalid-field-in-cdb vpd-supported-pages vpd-serial vpd-naa vpd-block-limits \
    vpd-block-characteristics vpd-provisioning read-capacity report-luns \
    mode-caching mode-all-pages sg-opcodes unknown-opcode lba-out-of-range \
    readonly-write-protect readonly-lun sg-sync fio-write-verify fio-verify-only \
    io-on-all-queues pattern-write prefill-visible unmap-reads-zero \
    write-same-unmap-reads-zero write-same-zero-reads-zero write-same-pattern \
    discard-reads-zero ext4-mkfs-write ext4-fsck-clean ext4-checksums \
    fio-across-lun-resets lun-reset-during-io lun-reset-idle io-after-resets

# daemon_result WHICH: the back-end must have run through the boot, exit
# with status 0 on SIGTERM and remove its socket.
daemon_result() {
    if daemon_stop; then
        tap_ok "back-end ($1) was still running after the guest and exited with status 0 on SIGTERM"
    else
        tap_not_ok "back-end ($1) ran through the guest and exited cleanly on SIGTERM: $DAEMON_STATUS"
    fi
    if [ -e "$sock" ]; then
        tap_not_ok "back-end ($1) removed its socket on exit"
    else
        tap_ok "back-end ($1) removed its socket on exit"
    fi
}

if [ "$BACKEND" = vhost-uring-scsi ]; then
    daemon_result "first run"

    # --------------------------------------- second boot, new back-end
    # The NAA designators the first boot saw go to the second one.
    naa=$(tr -d '\r' < "$GUEST_CONSOLE" | sed -n 's/^@@ # naa-ident //p' | tail -n 1)
    guest_env PHASE ident
    guest_env NAA0 "${naa%% *}"
    guest_env NAA1 "${naa#* }"
    grown=$(( $(stat -c %s "$img1") + 64 * 1048576 ))
    guest_env GROWN_SECTORS $((grown / 512))
    # LUN 2 limited from the start (an item of its --lun); the host removes
    # the limit through the control socket once the guest has measured it.
    QOS_IOPS=${QOS_IOPS:-200}
    luns2=("${luns[@]}")
    qos_names=
    if [ "$QOS_IOPS" != 0 ]; then
        ctl_sock=$GUEST_TMP/control.sock
        GUEST_DAEMON_ARGS=(--control-socket="$ctl_sock")
        luns2[2]="${luns[2]},total_iops_sec=$QOS_IOPS"
        guest_env QOS_IOPS "$QOS_IOPS"
        guest_env QOS_FLAG_OFF "$QOS_FLAG_OFF"
        guest_env NONCE "$nonce"
        qos_names="qos-lun-limit-holds qos-lun-after-lift"
    fi
    daemon_start_next scsi_daemon_start "$sock" "$QUEUES" "$AIO" "${luns2[@]}"
    boot_bg "$GUEST_SRCDIR/scsi-in-guest.sh" "${ctrl[@]}"
    # Grow LUN 1 under the running guest, then ask for a rescan.
    if wait_mark grow 240; then
        truncate -s "$grown" "$img1"
        kill -HUP "$DAEMON_PID"
    fi
    if [ -n "$qos_names" ]; then
        if wait_mark qos-measured 120; then
            guest_iotune "$ctl_sock" total_iops_sec=0 --lun=2
            guest_flag "$img0" "$QOS_FLAG_OFF" "qos lifted $nonce"
        else
            tap_not_ok "host: the guest measured LUN 2 under its limit: no 'mark qos-measured' within 120s"
        fi
    fi
    boot_bg_end 120
    tap_guest_exit
    # shellcheck disable=SC2086
    tap_guest_results luns-found naa-stable data-after-restart capacity-change $qos_names
    daemon_result "second run"
fi

# ------------------------------------------------------- host-side checks
for l in 0 1; do
    img=$GUEST_TMP/lun$l.img
    tap_check "host: LUN $l: pattern written by the guest is at offset $PAT_OFF of the image" \
        cmp -n "$PAT_LEN" -i "$PAT_OFF:0" "$img" "$data/pattern-lun$l"
    tap_check "host: LUN $l: UNMAP range reads as zeros in the image" \
        guest_range_is_zero "$img" "$UNMAP_OFF" "$UNMAP_LEN"
    tap_check "host: LUN $l: WRITE SAME UNMAP range reads as zeros in the image" \
        guest_range_is_zero "$img" "$WSU_OFF" "$WSU_LEN"
    tap_check "host: LUN $l: WRITE SAME zero range reads as zeros in the image" \
        guest_range_is_zero "$img" "$WSZ_OFF" "$WSZ_LEN"
    tap_check "host: LUN $l: discarded range reads as zeros in the image" \
        guest_range_is_zero "$img" "$DISC_OFF" "$DISC_LEN"
    bs=512
    [ "$l" = 1 ] && bs=4096
    head -c "$bs" "$data/wsblock" > "$data/wsb$l"
    for _ in $(seq $((WSP_LEN / bs))); do cat "$data/wsb$l"; done > "$data/wsp$l"
    tap_check "host: LUN $l: WRITE SAME data range holds the guest's $bs-byte block repeated" \
        cmp -n "$WSP_LEN" -i "$WSP_OFF:0" "$img" "$data/wsp$l"
done
tap_check "host: LUN 0: the probe written after the resets is in the image" \
    cmp -n 4096 -i "$PROBE_OFF:0" "$img0" "$data/probe"
tap_check "host: LUN 0: e2fsck -fn finds the guest's ext4 file system clean" \
    e2fsck -fn "$img0"

tap_check "host: LUN 0: files written by the guest have the right contents in the image" \
    guest_image_files_ok "$img0" "$data/files"
if [ "$(sha256sum < "$img2")" = "$ro_sum" ]; then
    tap_ok "host: LUN 2: the read-only image is unchanged"
else
    tap_not_ok "host: LUN 2: the read-only image is unchanged"
fi

tap_diag "guest boot took ${GUEST_SECONDS:-?}s (QEMU start to exit, last boot)"
tap_finish
