#!/bin/sh
# tests/guest/memhp-blk.sh -- automake test: memhp-guest.sh with DEVICE=blk
# and the io_uring engine.  Only sets parameters; see memhp-guest.sh.
set -eu
for d in "${srcdir:-}" "${srcdir:-}/tests/guest" "${top_srcdir:-}/tests/guest" "$(dirname "$0")"; do
    if [ -n "$d" ] && [ -f "$d/memhp-guest.sh" ]; then
        DEVICE=blk AIO=io_uring exec bash "$d/memhp-guest.sh"
    fi
done
echo "not ok 1 - cannot find memhp-guest.sh (srcdir='${srcdir:-}')"
echo "1..1"
exit 1
