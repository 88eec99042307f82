# tests/guest/virt-in-guest.sh -- the guest half of virt-guest.sh (busybox sh).
#
# Runs inside a guest that libvirt started, as /test.sh, on two disks: the
# vhost-user-blk disk /dev/vda and LUN 0 of the vhost-user-scsi controller,
# /dev/sda.  On each: the size, fio writing and verifying a region, and a
# pattern written at PAT_OFF (which the host finds in the image); on vda an
# ext4 file system too.  Then the host restarts the blk back-end under the
# guest (mark restart): the guest's reads wait, see the token the host wrote
# while no back-end ran, and the data written before reads back.  Every
# check prints "@@ ok NAME" or "@@ not ok NAME" (guest-functions.sh).  Last
# comes mark checks-done, and the guest waits for the host's virsh destroy
# instead of powering off.
#
# Variables from /test.env (set by virt-guest.sh):
#   BLK_BYTES SCSI_BYTES  disk sizes in bytes
#   AIO FIO_MB FIO_SEED FIO_OFF FIO_STALL_SECS  fio engine, region size
#                         (MiB) and seed, region start (MiB), stall limit
#   PAT_OFF               where /data/pattern-blk and /data/pattern-scsi go
#   FS_MB                 ext4 on vda at [0, FS_MB MiB)
#   TOKEN_OFF TOKEN       where and what the host writes with no back-end
# Files: /data/pattern-blk, /data/pattern-scsi, /data/files/*,
# /data/SHA256SUMS.

# shellcheck disable=SC1091,SC2154  # /guest-functions.sh sets g_*
. /guest-functions.sh

t_start=$(g_uptime)
g_diag "test started ${t_start}s after the kernel booted"

# fio_verify NAME DEV [FIO-ARGS...]: one fio job writing (or, with
# --verify_only, only verifying) the region [FIO_OFF, FIO_OFF + FIO_MB) of DEV.
fio_verify() {
    _vn=$1; _vd=$2; shift 2
    _vt=$(g_uptime)
    if g_fio_run "$_vn" 1 "$_vd" --name=job --filename="$_vd" --direct=1 \
        --ioengine="$AIO" --iodepth=16 --rw=randwrite --bssplit=4k/50:64k/50 \
        --offset="${FIO_OFF}M" --size="${FIO_MB}M" --verify=crc32c \
        --verify_fatal=1 --randseed="$FIO_SEED" "$@"; then
        g_ok "$_vn" "$(g_elapsed "$_vt")s"
    else
        g_not_ok "$_vn" "$g_fio_why"
    fi
}

g_disk_size blk-disk-size vda "$BLK_BYTES"
g_disk_size scsi-disk-size sda "$SCSI_BYTES"
fio_verify blk-fio-write-verify /dev/vda
fio_verify scsi-fio-write-verify /dev/sda
g_pat_write blk-pattern-write /dev/vda /data/pattern-blk "$PAT_OFF"
g_pat_write scsi-pattern-write /dev/sda /data/pattern-scsi "$PAT_OFF"
g_ext4_checks /dev/vda "$FS_MB"

# The blk back-end restarts under us: the first read of the token waits
# until QEMU has reconnected to the new one.
g_diag "mark restart"
t0=$(g_uptime)
if g_wait_for 90 g_read_has /dev/vda "$TOKEN_OFF" "$TOKEN"; then
    g_ok blk-reconnect-token "the host's token read back $(g_elapsed "$t0")s after mark restart"
else
    g_not_ok blk-reconnect-token "no token at offset $TOKEN_OFF within 90s"
fi
fio_verify blk-fio-verify-after-restart /dev/vda --verify_only
if g_pat_matches /dev/vda /data/pattern-blk "$PAT_OFF"; then
    g_ok blk-pattern-after-restart
else
    g_not_ok blk-pattern-after-restart "the pattern at $PAT_OFF differs"
fi

g_diag "test took $(g_elapsed "$t_start")s in the guest, $g_failures failure(s)"
g_diag "mark checks-done"
# The host ends the guest with virsh destroy.
while :; do sleep 60; done
