#!/bin/bash
# tests/guest/migrate-guest.sh -- live migration of a guest whose disk a
# vhost-user back-end serves.
#
# Owns the host half of the migration test: make a sparse image, start a
# back-end on it and boot a guest running migrate-in-guest.sh (guest-lib.sh's
# migrate_boot); once the guest's verifying fio runs, live-migrate it HOPS
# times (migrate_hop: each time a second back-end on the same image and a
# new QEMU, the old QEMU and back-end then ended and checked), then tell
# the guest to stop (a token written into the image), collect the guest's
# results from all its consoles, stop the last back-end and check that the
# guest's last write reached the image.
# Output: TAP on stdout (for automake's tap-driver.sh); logs on stderr.
#
# Parameters (environment):
#   DEVICE  blk (default): vhost-user-blk-pci and GUEST_BACKEND
#           (vhost-uring-blk or qsd); scsi: vhost-user-scsi-pci and
#           vhost-uring-scsi, one LUN
#   QUEUES  1|2 (default 1)          virtqueues and mixed fio jobs
#   VCPUS   1..8 (default 2)         guest vCPUs; with QEMU 7.2's TCG a
#           1-vCPU guest hung after a hop here (in the kernel with
#           interrupts off), which no 2-vCPU guest did
#   AIO     io_uring|libaio (default io_uring)  back-end engine and guest
#           fio ioengine
#   HOPS    migrations (default 3)
#   GUEST_FIO_MB  MiB of each mixed fio job's region, and of the reader's
#           region (default 8); one round of fio does about that much I/O
#           per job, and rounds go on until the hops are done
#   GUEST_FIO_STALL_SECS  a fio round still going after this long is a
#           stall: the guest and the back-end log their state (100;
#           a round takes a few seconds)
#   MIGRATE_TIMEOUT MIGRATE_DOWNTIME_MS MIGRATE_BANDWIDTH  see migrate_hop
# plus everything guest-lib.sh reads (GUEST_BACKEND, VHOST_URING_BLK,
# VHOST_URING_SCSI, CACHE, GUEST_TIMEOUT, GUEST_VERBOSE, GUEST_KEEP_TMP, ...).
set -eu

# shellcheck source=guest-lib.sh
. "$(dirname "$0")/guest-lib.sh"

DEVICE=${DEVICE:-blk}
QUEUES=${QUEUES:-1}
VCPUS=${VCPUS:-2}
AIO=${AIO:-io_uring}
HOPS=${HOPS:-3}
FIO_MB=${GUEST_FIO_MB:-8}

engine=$AIO
[ "$DEVICE" = scsi ] || [ "$GUEST_BACKEND" = vhost-uring-blk ] || engine=
guest_begin "$engine"
case "$DEVICE" in blk|scsi) ;; *) guest_die "DEVICE must be blk or scsi, not '$DEVICE'" ;; esac
case "$QUEUES" in 1|2) ;; *) guest_die "QUEUES must be 1 or 2, not '$QUEUES'" ;; esac
case "$VCPUS" in [1-8]) ;; *) guest_die "VCPUS must be 1..8, not '$VCPUS'" ;; esac
case "$HOPS" in [1-9]) ;; *) guest_die "HOPS must be 1..9, not '$HOPS'" ;; esac
case "$FIO_MB" in [1-9]|[1-3][0-9]) ;; *) guest_die "GUEST_FIO_MB must be 1..39, not '$FIO_MB'" ;; esac
guest_need_odirect

backend=$GUEST_BACKEND
[ "$DEVICE" = scsi ] && backend=vhost-uring-scsi
tap_diag "device=$DEVICE backend=$backend queues=$QUEUES vcpus=$VCPUS aio=$AIO hops=$HOPS fio=${FIO_MB}MiB kernel=$GUEST_KVER"

# ---------------------------------------------------------------- layout
MiB=1048576
IMG_BYTES=$((256 * MiB))
RD_OFF=$((96 * MiB))            # the reader region; the mixed jobs use [0, QUEUES*FIO_MB)
PAT_OFF=$((160 * MiB + 4096))   # 4 KiB-aligned, not 64 KiB-aligned
PAT_LEN=65536
TOKEN_OFF=$((192 * MiB))

img=$GUEST_TMP/disk.img
data=$GUEST_TMP/data
mkdir -p "$data"
nonce=$(od -An -tx4 -N4 /dev/urandom | tr -d ' \n')
token="vub-migrate-done $nonce"
truncate -s "$IMG_BYTES" "$img"
guest_make_pattern "$data/pattern" "vu-migrate $nonce"

guest_env DISK_BYTES "$IMG_BYTES"
guest_env JOBS "$QUEUES"
guest_env VCPUS "$VCPUS"
guest_env AIO "$AIO"
guest_env MIX_MB "$FIO_MB"
guest_env RD_OFF "$RD_OFF"
guest_env RD_MB "$FIO_MB"
guest_env FIO_SEED "$((0x$nonce % 1000000 + 1))"
guest_env FIO_MAX_SECS $((HOPS * 60))
guest_env FIO_STALL_SECS "${GUEST_FIO_STALL_SECS:-100}"
guest_env TOKEN "$token"
guest_env TOKEN_OFF "$TOKEN_OFF"
guest_env PAT_OFF "$PAT_OFF"
guest_file "$data/pattern" /data/pattern

# start_backend SOCK: a back-end on the image, listening on SOCK.
start_backend() {
    if [ "$DEVICE" = blk ]; then
        blk_daemon_start "$img" "$1" "$QUEUES" "$AIO"
    else
        scsi_daemon_start "$1" "$QUEUES" "$AIO" "0,file=$img,cache=none"
    fi
}

if [ "$DEVICE" = blk ]; then
    guest_env DISK vda
    GUEST_WAIT_DEVS=vda
    dev_args=(-chardev "socket,id=vu0,path=@SOCK@"
              -device "vhost-user-blk-pci,chardev=vu0,num-queues=$QUEUES")
else
    guest_env DISK sda
    GUEST_WAIT_DEVS=sda
    dev_args=(-chardev "socket,id=vu0,path=@SOCK@"
              -device "vhost-user-scsi-pci,chardev=vu0,num_queues=$QUEUES,virtqueue_size=128")
fi
GUEST_VCPUS=$VCPUS
# Freed pages zeroed (the initramfs image, once unpacked): migrations then
# send only the pages in use.
GUEST_APPEND=init_on_free=1

# ------------------------------------------------------------ migrations
t_test=$SECONDS
migrate_boot start_backend "$GUEST_SRCDIR/migrate-in-guest.sh" "${dev_args[@]}"
hops_ok=0
if wait_mark fio-started 120; then
    tap_ok "guest: fio running before the first migration ($((SECONDS - t_test))s after boot)"
    for hop in $(seq "$HOPS"); do
        # Let the guest's I/O get going on this QEMU first.
        sleep 1
        if has_mark fio-done; then
            tap_not_ok "hop $hop: the guest's fio was still running: it had stopped"
            break
        fi
        migrate_hop || break
        hops_ok=$hop
    done
else
    tap_not_ok "guest: fio running before the first migration: no 'mark fio-started' within 120s"
fi
[ "$hops_ok" -eq "$HOPS" ] && ! has_mark fio-done &&
    tap_ok "all $HOPS migrations happened while the guest's fio ran"

# The migrations are over (or failed): the guest may stop its fio rounds.
printf '%s\n' "$token" |
    dd of="$img" bs=4096 count=1 seek=$((TOKEN_OFF / 4096)) conv=notrunc,sync,fsync status=none
boot_bg_end 120
tap_diag "guest ran on $((hops_ok + 1)) QEMU(s); $((SECONDS - t_test))s so far"

tap_guest_exit
tap_guest_results disk-size reader-prefill fio-verify-during-migration host-token \
    reader-region-verify final-pattern-write
[ "$hops_ok" -eq "$HOPS" ] || tap_not_ok "$HOPS migrations done: only $hops_ok"

# ---------------------------------------------------------------- back-end
if daemon_stop; then
    tap_ok "last back-end was still running after the guest and exited with status 0 on SIGTERM"
else
    tap_not_ok "last back-end ran through the guest and exited cleanly on SIGTERM: $DAEMON_STATUS"
fi

# ------------------------------------------------------- host-side checks
tap_check "host: the guest's last write (pattern at offset $PAT_OFF) is in the image" \
    cmp -n "$PAT_LEN" -i "$PAT_OFF:0" "$img" "$data/pattern"

tap_diag "test took $((SECONDS - t_test))s from the first back-end to the end"
tap_finish
