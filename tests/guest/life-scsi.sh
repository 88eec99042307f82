#!/bin/sh
# tests/guest/life-scsi.sh -- automake test: life-guest.sh with DEVICE=scsi
# (a 2-vCPU guest on a back-end and a QEMU device with their default queue
# counts; online resize, 3 reboots with I/O in flight, a driver reload).
# Only sets parameters; see life-guest.sh.
set -eu
for d in "${srcdir:-}" "${srcdir:-}/tests/guest" "${top_srcdir:-}/tests/guest" "$(dirname "$0")"; do
    if [ -n "$d" ] && [ -f "$d/life-guest.sh" ]; then
        DEVICE=scsi VCPUS=2 REBOOTS=3 AIO=io_uring exec bash "$d/life-guest.sh"
    fi
done
echo "not ok 1 - cannot find life-guest.sh (srcdir='${srcdir:-}')"
echo "1..1"
exit 1
