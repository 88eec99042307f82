#!/bin/bash
# tests/guest/virt-guest.sh -- both daemons under libvirt, end to end.
#
# Owns the host half of the libvirt test: start vhost-uring-blk and
# vhost-uring-scsi with --socket-group=kvm (and nothing else done to their
# sockets), start virtlogd and libvirtd by hand, and boot one guest with
# virsh create from a domain XML as README.md shows it (TCG, memfd shared
# memory, a vhostuser disk with <reconnect>, the vhost-user-scsi controller
# on QEMU's command line through the qemu namespace).  libvirt's QEMU runs
# as libvirt-qemu:kvm; the guest (virt-in-guest.sh) runs fio with
# verification, patterns and ext4 on both disks; the host restarts the blk
# back-end under it once; then virsh destroy, the back-ends and libvirt
# stop, and the host checks the images (patterns, ext4 and its files).
# Output: TAP on stdout (for automake's tap-driver.sh); logs on stderr.
#
# Parameters (environment):
#   AIO     io_uring|libaio (default io_uring)  back-end engine and guest
#           fio ioengine
#   GUEST_FIO_MB  MiB fio writes and verifies on each disk (default 16)
# plus everything guest-lib.sh and virt-lib.sh read (VHOST_URING_BLK,
# VHOST_URING_SCSI, VIRT_TIMEOUT, GUEST_KEEP_TMP, ...).

# shellcheck disable=SC2034  # GUEST_* variables are read by guest-lib.sh
set -eu

# shellcheck source=guest-lib.sh
. "$(dirname "$0")/guest-lib.sh"
# shellcheck source=virt-lib.sh
. "$GUEST_SRCDIR/virt-lib.sh"

AIO=${AIO:-io_uring}
FIO_MB=${GUEST_FIO_MB:-16}

virt_skip_unless_ready
guest_begin "$AIO"
virt_begin
guest_need_e2fsprogs
guest_need_odirect
tap_diag "libvirt $(libvirtd --version | awk '{ print $NF }'), aio=$AIO, kernel=$GUEST_KVER"

# ---------------------------------------------------------------- layout
# Both images: fio at [FIO_OFF, FIO_OFF + FIO_MB) MiB, the pattern at
# PAT_OFF; on the blk disk ext4 at [0, FS_MB) MiB and the token at TOKEN_OFF.
MiB=1048576
IMG_BYTES=$((256 * MiB))
FS_MB=64
FIO_OFF=64
PAT_OFF=$((128 * MiB + 4096))
TOKEN_OFF=$((224 * MiB))
case "$FIO_MB" in [1-9]|[1-5][0-9]|6[0-4]) ;; *) guest_die "GUEST_FIO_MB must be 1..64, not '$FIO_MB'" ;; esac

blk_img=$GUEST_TMP/blk.img
scsi_img=$GUEST_TMP/scsi.img
blk_sock=$GUEST_TMP/blk.sock
scsi_sock=$GUEST_TMP/scsi.sock
data=$GUEST_TMP/data
mkdir -p "$data/files"
nonce=$(od -An -tx4 -N4 /dev/urandom | tr -d ' \n')
token="vhost-uring virt go $nonce"
truncate -s "$IMG_BYTES" "$blk_img" "$scsi_img"

guest_make_pattern "$data/pattern-blk" "virt blk $nonce"
guest_make_pattern "$data/pattern-scsi" "virt scsi $nonce"
echo "vhost-uring virt ext4 check $nonce" > "$data/files/small.txt"
head -c $((MiB + 777)) /dev/urandom > "$data/files/odd-1m.bin"
(cd "$data/files" && sha256sum -- *) > "$data/SHA256SUMS"

guest_env BLK_BYTES "$IMG_BYTES"
guest_env SCSI_BYTES "$IMG_BYTES"
guest_env AIO "$AIO"
guest_env FIO_MB "$FIO_MB"
guest_env FIO_OFF "$FIO_OFF"
guest_env FIO_SEED "$((0x$nonce % 1000000 + 1))"
guest_env FIO_STALL_SECS "${GUEST_FIO_STALL_SECS:-100}"
guest_env PAT_OFF "$PAT_OFF"
guest_env FS_MB "$FS_MB"
guest_env TOKEN_OFF "$TOKEN_OFF"
guest_env TOKEN "$token"
for f in pattern-blk pattern-scsi SHA256SUMS; do
    guest_file "$data/$f" "/data/$f"
done
for f in "$data/files/"*; do
    guest_file "$f" "/data/files/${f##*/}"
done

# ------------------------------------------------------------- back-ends
# The operator's part: the group libvirt's QEMU runs in, nothing more.
GUEST_DAEMON_ARGS=(--socket-group=kvm)
blk_start() {
    daemon_start_next blk_daemon_start "$blk_img" "$blk_sock" 1 "$AIO"
    blk_pid=$DAEMON_PID
}
blk_start
daemon_start_next scsi_daemon_start "$scsi_sock" 1 "$AIO" "0,file=$scsi_img"
scsi_pid=$DAEMON_PID
scsi_log=$GUEST_TMP/daemon.log
blk_log=$GUEST_TMP/daemon-1.log     # (daemon_start_next renamed it)
for s in "$blk_sock" "$scsi_sock"; do
    st=$(stat -c '%a %U:%G' "$s")
    if [ "$st" = "660 root:kvm" ]; then
        tap_ok "host: ${s##*/} has mode 0660, root:kvm, from --socket-group=kvm"
    else
        tap_not_ok "host: ${s##*/} has mode 0660, root:kvm, from --socket-group=kvm: it has $st"
    fi
done

# ----------------------------------------------------------------- guest
virt_daemons_start
GUEST_WAIT_DEVS=vda,sda
virt_prepare "$GUEST_SRCDIR/virt-in-guest.sh"
virt_domain_xml "$GUEST_TMP/domain.xml" "$blk_sock" "$scsi_sock"
guest_log_register "domain XML" "$GUEST_TMP/domain.xml"
GUEST_STATUS="the guest did not finish its checks"
if virt_create "$GUEST_TMP/domain.xml"; then
    virt_qemu_runs_as libvirt-qemu kvm
    t0=$SECONDS
    if wait_mark restart 240; then
        tap_ok "guest: first checks done ($((SECONDS - t0))s after virsh create)"
        # Restart the blk back-end: SIGTERM, the token with no back-end
        # running, a new back-end on the same socket.
        if daemon_stop_pid "$blk_pid" "$blk_log"; then
            tap_ok "restart: blk back-end exited with status 0 on SIGTERM"
        else
            tap_not_ok "restart: blk back-end exited with status 0 on SIGTERM: $DAEMON_STATUS"
        fi
        printf '%s\n' "$token" |
            dd of="$blk_img" bs=4096 count=1 seek=$((TOKEN_OFF / 4096)) conv=notrunc,sync,fsync status=none
        sleep 1
        blk_start
        blk_log=$GUEST_TMP/daemon.log
        scsi_log=$GUEST_TMP/daemon-2.log
    else
        tap_not_ok "guest: first checks done: no 'mark restart' within 240s"
    fi
    if wait_mark checks-done 150; then
        GUEST_STATUS="the guest finished its checks"
    fi
    virt_destroy
fi

tap_guest_results blk-disk-size scsi-disk-size blk-fio-write-verify \
    scsi-fio-write-verify blk-pattern-write scsi-pattern-write \
    ext4-mkfs-write ext4-fsck-clean ext4-checksums blk-reconnect-token \
    blk-fio-verify-after-restart blk-pattern-after-restart

# ---------------------------------------------------------------- the end
for b in "blk $blk_pid $blk_log" "scsi $scsi_pid $scsi_log"; do
    read -r name pid log <<< "$b"
    if daemon_stop_pid "$pid" "$log"; then
        tap_ok "$name back-end ran through virsh destroy and exited with status 0 on SIGTERM"
    else
        tap_not_ok "$name back-end ran through virsh destroy and exited with status 0 on SIGTERM: $DAEMON_STATUS"
    fi
done
DAEMON_PID=
virt_daemons_stop

tap_check "host: the blk pattern is at offset $PAT_OFF of its image" \
    cmp -n 65536 -i "$PAT_OFF:0" "$blk_img" "$data/pattern-blk"
tap_check "host: the scsi pattern is at offset $PAT_OFF of its image" \
    cmp -n 65536 -i "$PAT_OFF:0" "$scsi_img" "$data/pattern-scsi"
tap_check "host: e2fsck -fn finds the guest's ext4 file system clean" \
    e2fsck -fn "$blk_img"
tap_check "host: files written by the guest have the right contents in the image" \
    guest_image_files_ok "$blk_img" "$data/files"
tap_finish
