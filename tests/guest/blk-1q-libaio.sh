#!/bin/sh
# tests/guest/blk-1q-libaio.sh -- automake test: blk-guest.sh with 1 queue(s),
# 1 vCPU(s) and the libaio engine.  Only sets parameters; see blk-guest.sh.
set -eu
for d in "${srcdir:-}" "${srcdir:-}/tests/guest" "${top_srcdir:-}/tests/guest" "$(dirname "$0")"; do
    if [ -n "$d" ] && [ -f "$d/blk-guest.sh" ]; then
        QUEUES=1 VCPUS=1 AIO=libaio exec bash "$d/blk-guest.sh"
    fi
done
echo "not ok 1 - cannot find blk-guest.sh (srcdir='${srcdir:-}')"
echo "1..1"
exit 1
