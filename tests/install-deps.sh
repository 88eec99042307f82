#!/bin/sh
# tests/install-deps.sh: installs the Debian packages that building and
# testing vhost-uring need, when any of them is missing.  Runs apt-get update
# first.  Needs root (or sudo).  libvirt-daemon-system creates the
# libvirt-qemu user that libvirt's QEMU runs as (group kvm) for the libvirt
# guest test; with no systemd as PID 1 its scripts start nothing.
set -eu

PKGS="build-essential autoconf automake pkg-config
      clang libclang-rt-14-dev llvm
      liburing-dev libaio-dev libseccomp-dev linux-libc-dev
      qemu-system-x86 qemu-system-common qemu-utils linux-image-amd64
      fio busybox-static e2fsprogs util-linux cpio gzip kmod perl
      sg3-utils groff-base mandoc python3 gnuplot-nox
      fuse3 libfuse3-dev python3-prometheus-client
      systemd man-db dpkg-dev debhelper lintian
      libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients"

missing=
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
[ -n "$missing" ] || exit 0

if [ "$(id -u)" -eq 0 ]; then
	sudo=
elif command -v sudo >/dev/null 2>&1; then
	sudo=sudo
else
	echo "install-deps: missing packages:$missing; run as root or install sudo" >&2
	exit 1
fi
echo "install-deps: installing$missing" >&2
$sudo apt-get update
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends $missing
