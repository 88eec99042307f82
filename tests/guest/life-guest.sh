#!/bin/bash
# tests/guest/life-guest.sh -- a disk's life in one running guest: QEMU's
# default queue count, online resize, reboots with I/O in flight, and a
# driver reload.
#
# Owns the host half of the device-life test: a sparse image of OLD_MB MiB,
# the back-end started with its defaults (no queue count, sandbox on), and
# one 2-vCPU guest whose QEMU device sets no queue count either, so QEMU
# asks for one request queue per vCPU.  The guest (life-in-guest.sh) checks
# its disk and its I/O; when it prints mark resize-ready, the host grows
# the image to NEW_MB MiB and sends the back-end SIGHUP.  The guest then
# reboots REBOOTS times with writes in flight (GUEST_REBOOT=1: each reboot
# resets the machine in the same QEMU, which stops the device and starts it
# again on new rings), and finally reloads its driver.  The host then
# checks the boots, the consoles and the back-end's log, stops the back-end
# and looks for the guest's pattern beyond the old end in the image.
# Output: TAP on stdout (for automake's tap-driver.sh); logs on stderr.
#
# Parameters (environment):
#   DEVICE   blk (vhost-uring-blk, vhost-user-blk-pci, /dev/vda) or scsi
#            (vhost-uring-scsi, vhost-user-scsi-pci, /dev/sda); required
#   AIO      io_uring|libaio (default io_uring): back-end engine and guest
#            fio ioengine
#   REBOOTS  reboots with I/O in flight (default 3; 0: none)
#   VCPUS    guest vCPUs, so request queues (default 2)
# plus everything guest-lib.sh reads (VHOST_URING_BLK, VHOST_URING_SCSI,
# CACHE, GUEST_TIMEOUT, GUEST_VERBOSE, GUEST_KEEP_TMP, ...).
set -eu

# All boots run in one QEMU, whose hard limit (guest-lib.sh: 300 s) must
# cover them all.
life_timeout=${GUEST_TIMEOUT:-900}
# shellcheck source=guest-lib.sh
. "$(dirname "$0")/guest-lib.sh"

DEVICE=${DEVICE:-}
AIO=${AIO:-io_uring}
REBOOTS=${REBOOTS:-3}
VCPUS=${VCPUS:-2}

guest_begin "$AIO"
case "$DEVICE" in blk|scsi) ;; *) guest_die "DEVICE must be blk or scsi, not '$DEVICE'" ;; esac
case "$REBOOTS" in [0-5]) ;; *) guest_die "REBOOTS must be 0..5, not '$REBOOTS'" ;; esac
case "$VCPUS" in [1-8]) ;; *) guest_die "VCPUS must be 1..8, not '$VCPUS'" ;; esac
guest_need_odirect
tap_diag "device=$DEVICE aio=$AIO vcpus=$VCPUS reboots=$REBOOTS kernel=$GUEST_KVER"

# ---------------------------------------------------------------- layout
MiB=1048576
OLD_MB=64
NEW_MB=96
MIX_MB=4                        # per fio job: [0, VCPUS*MIX_MB) and at BG_OFF
STATE_OFF=$((20 * MiB))
ACK_OFF=$((24 * MiB))           # ACK_MB per boot, REBOOTS + 1 regions
ACK_MB=4
BG_OFF=$((48 * MiB))
GROW_MB=8                       # from the old end on
PAT_OFF=$((88 * MiB + 4096))    # beyond the old end
PAT_LEN=65536

img=$GUEST_TMP/disk.img
data=$GUEST_TMP/data
mkdir -p "$data"
nonce=$(od -An -tx4 -N4 /dev/urandom | tr -d ' \n')
truncate -s $((OLD_MB * MiB)) "$img"
guest_make_pattern "$data/pattern" "vu-life $nonce"

guest_env VCPUS "$VCPUS"
guest_env AIO "$AIO"
guest_env NONCE "$nonce"
guest_env FIO_SEED "$((0x$nonce % 1000000 + 1))"
guest_env FIO_STALL_SECS "${GUEST_FIO_STALL_SECS:-100}"
guest_env REBOOTS "$REBOOTS"
guest_env OLD_BYTES $((OLD_MB * MiB))
guest_env NEW_BYTES $((NEW_MB * MiB))
guest_env MIX_MB "$MIX_MB"
guest_env STATE_OFF "$STATE_OFF"
guest_env ACK_OFF "$ACK_OFF"
guest_env ACK_MB "$ACK_MB"
guest_env BG_OFF "$BG_OFF"
guest_env GROW_MB "$GROW_MB"
guest_env PAT_OFF "$PAT_OFF"
guest_file "$data/pattern" /data/pattern

sock=$GUEST_TMP/vhost-user.sock
if [ "$DEVICE" = blk ]; then
    GUEST_BACKEND=vhost-uring-blk
    blk_daemon_start "$img" "$sock" default "$AIO"
    guest_env DISK vda
    guest_env DRIVER virtio_blk
    GUEST_WAIT_DEVS=vda
    dev_args=(-device "vhost-user-blk-pci,chardev=vu0")
else
    scsi_daemon_start "$sock" default "$AIO" "0,file=$img"
    guest_env DISK sda
    guest_env DRIVER virtio_scsi
    GUEST_WAIT_DEVS=sda
    dev_args=(-device "vhost-user-scsi-pci,chardev=vu0")
fi
GUEST_VCPUS=$VCPUS
GUEST_REBOOT=1
GUEST_TIMEOUT=$life_timeout

# ------------------------------------------------------------- the guest
t_test=$SECONDS
boot_bg "$GUEST_SRCDIR/life-in-guest.sh" -chardev "socket,id=vu0,path=$sock" "${dev_args[@]}"
if wait_mark resize-ready 300; then
    truncate -s $((NEW_MB * MiB)) "$img"
    kill -HUP "$DAEMON_PID"
    tap_ok "host: image grown from $OLD_MB to $NEW_MB MiB and SIGHUP sent once the guest was ready ($((SECONDS - t_test))s)"
else
    tap_not_ok "host: the guest got ready for the resize: no 'mark resize-ready' within 300s"
fi
boot_bg_end 600
tap_diag "the guest's life took $((SECONDS - t_test))s"

tap_guest_exit
names="disk-size default-queues fio-verify-all-queues online-resize resize-kernel-log
    fio-verify-beyond-old-end grown-pattern-write"
for n in $(seq "$REBOOTS"); do
    # acked-write-N is not expected: the reset may cut its console line
    # off (the next boot's acked-read-after-reboot-N stands for it).
    names="$names writes-in-flight-$n disk-size-boot-$((n + 1))
        acked-read-after-reboot-$n fio-verify-after-reboot-$n"
done
# shellcheck disable=SC2086
tap_guest_results $names acked-write-before-reload driver-unbind driver-bind \
    disk-size-after-reload acked-read-after-reload fio-verify-after-reload

# ------------------------------------------------------- host-side checks
con=$GUEST_TMP/console.txt
guest_console_text > "$con"
boots=$(grep -c '^@@ # mark boot-[0-9]*$' "$con" || true)
want=$(seq -f 'boot-%g' $((REBOOTS + 1)) | tr '\n' ' ')
got=$(sed -n 's/^@@ # mark \(boot-[0-9]*\)$/\1/p' "$con" | tr '\n' ' ')
if [ "$got" = "$want" ]; then
    tap_ok "the guest booted $boots times in one QEMU: $got"
else
    tap_not_ok "the guest booted $((REBOOTS + 1)) times in one QEMU, in order: got '$got'"
fi
tap_no_match "no kernel error on any boot's console" \
    'Kernel panic|I/O error|is not a head|out of range|virtio_ring|BUG:|WARNING:|Call Trace' "$con"
tap_no_match "the back-end logged no broken ring and no bad request" \
    'queue stopped|out of range|in flight' "$DAEMON_LOG"

if daemon_stop; then
    tap_ok "back-end served every boot and exited with status 0 on SIGTERM, no sandbox refusal"
else
    tap_not_ok "back-end served every boot and exited cleanly on SIGTERM: $DAEMON_STATUS"
fi
tap_check "host: the image has $NEW_MB MiB" test "$(stat -c %s "$img")" -eq $((NEW_MB * MiB))
tap_check "host: the guest's pattern beyond the old end (offset $PAT_OFF) is in the image" \
    cmp -n "$PAT_LEN" -i "$PAT_OFF:0" "$img" "$data/pattern"

tap_diag "test took $((SECONDS - t_test))s from the boot to the end"
tap_finish
