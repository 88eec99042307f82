#!/bin/bash
# bench/guest-run.sh: for bench/compare --guest.  Boots a 2-vCPU guest whose
# vhost-user-blk-pci disk (2 queues) is served on $SOCK, runs the guest
# script given as $1 in it with $WORKLOADS and $RUNTIME, and streams the
# guest console to stdout.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../tests/guest/guest-lib.sh
. "$here/../tests/guest/guest-lib.sh"
GUEST_VCPUS=2
GUEST_MEM_MB=1024
GUEST_TIMEOUT=3600
guest_setup
guest_env WORKLOADS "$WORKLOADS"
guest_env RUNTIME "$RUNTIME"
guest_run_stream "$1" -chardev "socket,id=disk0,path=$SOCK" \
	-device "vhost-user-blk-pci,chardev=disk0,num-queues=2"
