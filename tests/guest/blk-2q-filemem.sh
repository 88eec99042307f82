#!/bin/sh
# tests/guest/blk-2q-filemem.sh -- automake test: blk-guest.sh with 2 queues,
# 2 vCPUs and 3 GiB of file-backed guest RAM, which QEMU shares as two
# regions (below and above 4 GiB, the second at an mmap offset of 2 GiB).
set -eu
for d in "${srcdir:-}" "${srcdir:-}/tests/guest" "${top_srcdir:-}/tests/guest" "$(dirname "$0")"; do
    if [ -n "$d" ] && [ -f "$d/blk-guest.sh" ]; then
        QUEUES=2 VCPUS=2 AIO=io_uring GUEST_MEM_MB=3072 GUEST_MEM_BACKEND=file \
            GUEST_DAEMON_VERBOSE=1 EXPECT_MEM_REGIONS=2 exec bash "$d/blk-guest.sh"
    fi
done
echo "not ok 1 - cannot find blk-guest.sh (srcdir='${srcdir:-}')"
echo "1..1"
exit 1
