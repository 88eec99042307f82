#!/bin/sh
# tests/guest/scsi-2q-io_uring.sh -- automake test: scsi-guest.sh with 2 request
# queues, 2 vCPUs, 2 back-end I/O threads and the io_uring engine.  Only sets parameters; see scsi-guest.sh.
set -eu
for d in "${srcdir:-}" "${srcdir:-}/tests/guest" "${top_srcdir:-}/tests/guest" "$(dirname "$0")"; do
    if [ -n "$d" ] && [ -f "$d/scsi-guest.sh" ]; then
        QUEUES=2 VCPUS=2 THREADS=2 AIO=io_uring exec bash "$d/scsi-guest.sh"
    fi
done
echo "not ok 1 - cannot find scsi-guest.sh (srcdir='${srcdir:-}')"
echo "1..1"
exit 1
