#!/bin/bash
# bench/guest-run.sh: for bench/compare --guest and bench/idle.  Boots a
# 2-vCPU guest whose vhost-user disk is served on $SOCK: $DEVICE (a QEMU
# -device without its chardev; default vhost-user-blk-pci with 2 queues).
# Runs the guest script given as $1 in it with the variables named in
# $GUEST_VARS (default WORKLOADS RUNTIME), and streams the guest console
# to stdout.  With $MARK set it prints only "guest-run: mark $MARK" as
# soon as the guest prints "@@ # mark $MARK" (or "guest-run: no mark
# $MARK"), waits for the guest's end and fails unless it ended well.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../tests/guest/guest-lib.sh
. "$here/../tests/guest/guest-lib.sh"
GUEST_VCPUS=2
GUEST_MEM_MB=1024
GUEST_TIMEOUT=3600
guest_setup
for var in ${GUEST_VARS:-WORKLOADS RUNTIME}; do
	guest_env "$var" "${!var}"
done
disk=(-chardev "socket,id=disk0,path=$SOCK"
	-device "${DEVICE:-vhost-user-blk-pci,num-queues=2},chardev=disk0")
if [ -z "${MARK:-}" ]; then
	guest_run_stream "$1" "${disk[@]}"
	exit
fi
boot_bg "$1" "${disk[@]}"
if wait_mark "$MARK" "$GUEST_TIMEOUT"; then
	echo "guest-run: mark $MARK"
else
	echo "guest-run: no mark $MARK"
fi
boot_bg_end "$GUEST_TIMEOUT"
[ "${GUEST_RC:-x}" = 0 ] || { echo "guest-run: $GUEST_STATUS" >&2; exit 1; }
