#!/bin/bash
# tests/demo.sh: the README's first command.  Installs what is missing,
# builds, creates a sparse 1 GiB image, starts vhost-uring-blk on it, boots a
# small Linux guest under QEMU against it (KVM when it works here, else TCG),
# runs fio in the guest, prints fio's report and shuts everything down.
#
# Environment: DEMO_RUNTIME (seconds per fio job, default 8), DEMO_ACCEL
# (kvm or tcg: skip the KVM probe), DEMO_QUEUES (default 2).
#
# Root runs it directly; another user's run goes through sudo (tests/as-root.sh).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=as-root.sh
. "$top/tests/as-root.sh"
AS_ROOT_KEEP="DEMO_RUNTIME DEMO_ACCEL DEMO_QUEUES"
as_root "$top/tests/demo.sh" "$@"
cd "$top"
"$top/tests/install-deps.sh"

echo "demo: building vhost-uring"
[ -x configure ] || ./autogen.sh >/dev/null
build=$top/_build/demo
mkdir -p "$build"
if [ ! -f "$build/Makefile" ]; then
	(cd "$build" && "$top/configure" >configure.log 2>&1) ||
		{ tail -20 "$build/configure.log"; exit 1; }
fi
make -C "$build" -j"$(nproc)" >"$build/make.log" 2>&1 ||
	{ tail -30 "$build/make.log"; exit 1; }

export top_builddir=$build
export VHOST_URING_BLK=$build/vhost-uring-blk
export DEMO_RUNTIME=${DEMO_RUNTIME:-8}
queues=${DEMO_QUEUES:-2}
# shellcheck source=guest/guest-lib.sh
. "$top/tests/guest/guest-lib.sh"
GUEST_VCPUS=$queues
GUEST_MEM_MB=1024
echo "demo: preparing the guest (kernel $(sh "$top/tests/guest/mkinitramfs.sh" --print-kver))"
guest_setup

# KVM if a Linux kernel really boots under it here (it reaches its "no root
# file system" panic within seconds); TCG otherwise.
kvm_boots() {
	[ -w /dev/kvm ] || return 1
	timeout 10 "$QEMU" -accel kvm -machine q35 -nodefaults -display none \
		-no-reboot -m 256M -kernel "$GUEST_KERNEL" \
		-append "console=ttyS0 panic=-1" -serial stdio </dev/null 2>/dev/null |
		grep -a -q 'Kernel panic'
}
accel=${DEMO_ACCEL:-}
if [ -z "$accel" ]; then
	echo "demo: checking whether a Linux guest boots under KVM here (at most 10 s)"
	accel=tcg
	kvm_boots && accel=kvm
fi
export GUEST_ACCEL=$accel

img=$GUEST_TMP/demo.img
sock=$GUEST_TMP/demo.sock
truncate -s 1G "$img"
echo "demo: serving a sparse 1 GiB image: vhost-uring-blk --socket-path=$sock --blk-file=$img --num-queues=$queues"
blk_daemon_start "$img" "$sock" "$queues" auto
echo "demo: booting a $queues-vCPU guest with QEMU ($accel); fio runs inside it"
guest_env DEMO_RUNTIME "$DEMO_RUNTIME"
rc=0
guest_run_stream "$top/tests/guest/demo-in-guest.sh" \
	-chardev "socket,id=disk0,path=$sock" \
	-device "vhost-user-blk-pci,chardev=disk0,num-queues=$queues" || rc=$?
if daemon_stop; then
	echo "demo: guest powered off, vhost-uring-blk exited cleanly"
else
	echo "demo: vhost-uring-blk: $DAEMON_STATUS"
	rc=1
fi
[ "$rc" -eq 0 ] || echo "demo: failed ($GUEST_STATUS)"
exit "$rc"
