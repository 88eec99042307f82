#!/bin/sh
# tests/guest/scsi-2q-libaio.sh -- automake test: scsi-guest.sh with 2 request
# queues, 2 vCPUs and the libaio engine.  Only sets parameters; see scsi-guest.sh.
set -eu
for d in "${srcdir:-}" "${srcdir:-}/tests/guest" "${top_srcdir:-}/tests/guest" "$(dirname "$0")"; do
    if [ -n "$d" ] && [ -f "$d/scsi-guest.sh" ]; then
        QUEUES=2 VCPUS=2 AIO=libaio exec bash "$d/scsi-guest.sh"
    fi
done
echo "not ok 1 - cannot find scsi-guest.sh (srcdir='${srcdir:-}')"
echo "1..1"
exit 1
