#!/bin/sh
# tests/guest/migrate-blk-1q-io_uring.sh -- automake test: migrate-guest.sh with
# DEVICE=blk, 1 queue(s), 1 vCPU(s) and the io_uring engine.  Only sets
# parameters; see migrate-guest.sh.
set -eu
for d in "${srcdir:-}" "${srcdir:-}/tests/guest" "${top_srcdir:-}/tests/guest" "$(dirname "$0")"; do
    if [ -n "$d" ] && [ -f "$d/migrate-guest.sh" ]; then
        DEVICE=blk QUEUES=1 VCPUS=2 AIO=io_uring exec bash "$d/migrate-guest.sh"
    fi
done
echo "not ok 1 - cannot find migrate-guest.sh (srcdir='${srcdir:-}')"
echo "1..1"
exit 1
