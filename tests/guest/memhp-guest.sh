#!/bin/bash
# tests/guest/memhp-guest.sh -- memory hotplug and unplug in a guest whose
# disk a vhost-user back-end serves (with its sandbox on, the default).
#
# Owns the host half of the memory hotplug test: boot a guest with room for
# DIMMs (-m 1G,slots=2,maxmem=2G) that onlines new memory as ZONE_MOVABLE
# (memhp_default_state=online_movable), running memhp-in-guest.sh.  Once it
# runs its verifying fio rounds, plug a shared memfd DIMM through QMP
# (object-add, device_add pc-dimm): QEMU sends the back-end ADD_MEM_REG.
# When the guest has done I/O with buffers in the DIMM and offlined it,
# check that the back-end's mapping of the DIMM holds pages it touched,
# then unplug it (device_del, object-del): QEMU sends REM_MEM_REG, and the
# mapping must be gone.  The guest's fio goes on throughout and after; a
# token written into the image then lets the guest power off.
# Output: TAP on stdout (for automake's tap-driver.sh); logs on stderr.
#
# Parameters (environment):
#   DEVICE  blk (default): vhost-user-blk-pci on vhost-uring-blk;
#           scsi: vhost-user-scsi-pci on vhost-uring-scsi, one LUN
#   AIO     io_uring|libaio (default io_uring)  back-end engine and fio's
#   DIMM_MB size of the DIMM in MiB (default 256; a multiple of 128)
#   GUEST_FIO_MB  MiB each fio round covers (default 8)
#   HP_SECS how long each side waits for the other's step (default 120;
#           the boot gets twice that)
# plus everything guest-lib.sh reads (VHOST_URING_BLK, VHOST_URING_SCSI,
# GUEST_TIMEOUT, GUEST_VERBOSE, GUEST_KEEP_TMP, ...).
set -eu

# shellcheck source=guest-lib.sh
. "$(dirname "$0")/guest-lib.sh"

DEVICE=${DEVICE:-blk}
AIO=${AIO:-io_uring}
DIMM_MB=${DIMM_MB:-256}
FIO_MB=${GUEST_FIO_MB:-8}
HP_SECS=${HP_SECS:-120}

guest_begin "$AIO"
case "$DEVICE" in blk|scsi) ;; *) guest_die "DEVICE must be blk or scsi, not '$DEVICE'" ;; esac
case "$FIO_MB" in [1-9]|[12][0-9]|3[01]) ;; *) guest_die "GUEST_FIO_MB must be 1..31, not '$FIO_MB'" ;; esac
case "$DIMM_MB" in 128|256|384|512) ;; *) guest_die "DIMM_MB must be 128, 256, 384 or 512, not '$DIMM_MB'" ;; esac
guest_need_odirect
tap_diag "device=$DEVICE aio=$AIO dimm=${DIMM_MB}MiB fio=${FIO_MB}MiB kernel=$GUEST_KVER"

MiB=1048576
IMG_BYTES=$((64 * MiB))
TOKEN_OFF=$((32 * MiB))          # past the fio rounds' region
token="vub-memhp-done $RANDOM$RANDOM"
img=$GUEST_TMP/disk.img
sock=$GUEST_TMP/vu.sock
truncate -s "$IMG_BYTES" "$img"

guest_env DISK_BYTES "$IMG_BYTES"
guest_env AIO "$AIO"
guest_env FIO_MB "$FIO_MB"
guest_env FIO_SEED "$((RANDOM + 1))"
guest_env FIO_STALL_SECS "${GUEST_FIO_STALL_SECS:-100}"
guest_env HP_SECS "$HP_SECS"
guest_env TOKEN "$token"
guest_env TOKEN_OFF "$TOKEN_OFF"

GUEST_MEM_MB=1024
GUEST_MEM_HOTPLUG=slots=2,maxmem=2G
GUEST_APPEND=memhp_default_state=online_movable
# The back-end logs every message it gets ("<- ADD_MEM_REG").
GUEST_DAEMON_VERBOSE=1
if [ "$DEVICE" = blk ]; then
    guest_env DISK vda
    GUEST_WAIT_DEVS=vda
    blk_daemon_start "$img" "$sock" 1 "$AIO"
    dev_args=(-device "vhost-user-blk-pci,chardev=vu0,num-queues=1")
else
    guest_env DISK sda
    GUEST_WAIT_DEVS=sda
    scsi_daemon_start "$sock" 1 "$AIO" "0,file=$img,cache=none"
    dev_args=(-device "vhost-user-scsi-pci,chardev=vu0,num_queues=1,virtqueue_size=128")
fi

# msgs NAME: how many NAME messages the back-end has received.
msgs() {
    grep -c "debug: <- $1 " "$DAEMON_LOG" || true
}

# wait_msgs NAME N: wait (at most HP_SECS) until it has received N.
wait_msgs() {
    local i
    for i in $(seq $((HP_SECS * 10))); do
        [ "$(msgs "$1")" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

# dimm_rss_kib: the back-end's resident KiB in its DIMM_MB MiB shared
# mapping of a memfd (the DIMM; guest RAM is 1 GiB in other sizes);
# "none" when it has no such mapping.
dimm_rss_kib() {
    awk -v kb=$((DIMM_MB * 1024)) '
        /^[0-9a-f]+-[0-9a-f]+ / { name = $6; shared = $2 ~ /s$/ }
        $1 == "Size:" { size = $2 }
        $1 == "Rss:" && size == kb && shared && name ~ /memfd/ { rss = $2; n++ }
        END { if (n == 1) print rss; else if (n == 0) print "none"; else print "ambiguous" }
    ' "/proc/$DAEMON_PID/smaps"
}

t_test=$SECONDS
boot_bg "$GUEST_SRCDIR/memhp-in-guest.sh" -chardev "socket,id=vu0,path=$sock" "${dev_args[@]}"

# ------------------------------------------------------------------ plug
plugged=0
if wait_mark booted $((2 * HP_SECS)); then
    adds=$(msgs ADD_MEM_REG)
    tap_diag "guest booted, its fio runs; the back-end has $adds region(s)"
    if qmp "$GUEST_QMP" \
        "object-add {\"qom-type\": \"memory-backend-memfd\", \"id\": \"dimm-mem0\", \"size\": $((DIMM_MB * MiB)), \"share\": true}" \
        'device_add {"driver": "pc-dimm", "id": "dimm0", "memdev": "dimm-mem0"}' >&2; then
        plugged=1
        tap_ok "QMP: a ${DIMM_MB} MiB memfd DIMM plugged in"
    else
        tap_not_ok "QMP: a ${DIMM_MB} MiB memfd DIMM plugged in: QEMU refused (see stderr)"
    fi
    if [ "$plugged" = 1 ] && wait_msgs ADD_MEM_REG $((adds + 1)); then
        tap_ok "the back-end got ADD_MEM_REG for the DIMM ($(msgs ADD_MEM_REG) regions in all)"
    else
        tap_not_ok "the back-end got ADD_MEM_REG for the DIMM: still $(msgs ADD_MEM_REG) after ${HP_SECS}s"
    fi
else
    tap_not_ok "guest: fio running before the plug: no 'mark booted' within $((2 * HP_SECS))s"
fi

# ---------------------------------------------------------------- unplug
if [ "$plugged" = 1 ] && wait_mark dimm-offline $((3 * HP_SECS)); then
    rss=$(dimm_rss_kib)
    if [ "$rss" != none ] && [ "$rss" != ambiguous ] && [ "$rss" -gt 0 ]; then
        tap_ok "the guest's I/O used the DIMM: the back-end's mapping of it has $rss KiB resident"
    else
        tap_not_ok "the guest's I/O used the DIMM: the back-end's mapping of it: $rss (resident KiB)"
    fi
    rems=$(msgs REM_MEM_REG)
    if qmp "$GUEST_QMP" 'device_del {"id": "dimm0"}' >&2 &&
       qmp "$GUEST_QMP" --poll "$HP_SECS" "return=[]" query-memory-devices >&2 &&
       qmp "$GUEST_QMP" 'object-del {"id": "dimm-mem0"}' >&2; then
        tap_ok "QMP: the DIMM unplugged (device_del, gone from query-memory-devices, object-del)"
    else
        tap_not_ok "QMP: the DIMM unplugged (device_del, gone from query-memory-devices, object-del)"
    fi
    if wait_msgs REM_MEM_REG $((rems + 1)) && [ "$(dimm_rss_kib)" = none ]; then
        tap_ok "the back-end got REM_MEM_REG and unmapped the DIMM"
    else
        tap_not_ok "the back-end got REM_MEM_REG ($(msgs REM_MEM_REG) now, $rems before) and unmapped the DIMM (mapping: $(dimm_rss_kib))"
    fi
elif [ "$plugged" = 1 ]; then
    tap_not_ok "guest: DIMM offlined: no 'mark dimm-offline' within $((3 * HP_SECS))s"
fi

# The host's steps are over: the guest may power off.
printf '%s\n' "$token" |
    dd of="$img" bs=4096 count=1 seek=$((TOKEN_OFF / 4096)) conv=notrunc,sync,fsync status=none
boot_bg_end $((3 * HP_SECS))
tap_diag "guest ran $((SECONDS - t_test))s"
tap_guest_exit
tap_guest_results disk-size dimm-online-movable fio-verify-across-plug \
    fio-verify-with-dimm dimm-offline dimm-removed fio-verify-across-unplug \
    fio-verify-after-unplug host-token

if daemon_stop; then
    tap_ok "back-end ran through the hotplug and exited with status 0 on SIGTERM"
else
    tap_not_ok "back-end ran through the hotplug and exited cleanly on SIGTERM: $DAEMON_STATUS"
fi
if grep -q 'sandbox: refused' "$DAEMON_LOG"; then
    tap_not_ok "the back-end's sandbox refused no system call"
else
    tap_ok "the back-end's sandbox refused no system call"
fi
tap_diag "test took $((SECONDS - t_test))s"
tap_finish
