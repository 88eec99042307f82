#!/bin/sh
# tests/guest/blk-2q-libaio.sh -- automake test: blk-guest.sh with 2 queue(s),
# 2 vCPU(s) and the libaio engine.  Only sets parameters; see blk-guest.sh.
set -eu
for d in "${srcdir:-}" "${srcdir:-}/tests/guest" "${top_srcdir:-}/tests/guest" "$(dirname "$0")"; do
    if [ -n "$d" ] && [ -f "$d/blk-guest.sh" ]; then
        QUEUES=2 VCPUS=2 AIO=libaio exec bash "$d/blk-guest.sh"
    fi
done
echo "not ok 1 - cannot find blk-guest.sh (srcdir='${srcdir:-}')"
echo "1..1"
exit 1
