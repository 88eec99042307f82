#!/bin/sh
# tests/guest/mkinitramfs.sh -- builds the BASE guest initramfs for the guest tests.
#
# Owns: choosing the guest kernel version, collecting host binaries (static
# busybox, fio, e2fsprogs, util-linux blkdiscard, sg3-utils) together with the
# shared libraries and ELF interpreter they need, copying the kernel modules the
# tests need (plus their dependencies) and the /init script, and packing all of
# it into a reproducible newc cpio archive (gzip-compressed or not).
#
# Usage: mkinitramfs.sh OUT.cpio.gz   gzip-compressed archive
#        mkinitramfs.sh OUT.cpio      uncompressed (bigger, but the guest
#                                     unpacks it ~1 s faster under TCG)
#        mkinitramfs.sh --print-kver  print the kernel version it would use
#
# Environment:
#   GUEST_KVER  kernel version whose modules go into the image (default: the
#               newest /boot/vmlinuz-* that has a /lib/modules/<ver> directory)
#   SOURCE_DATE_EPOCH  timestamp stored for every file (default 0)
#
# Per-test files (/test.sh, /guest-functions.sh, data) are NOT part of this
# image: guest-lib.sh appends them as a second, small cpio archive.
set -eu

prog=mkinitramfs.sh
die() { echo "$prog: error: $*" >&2; exit 1; }

[ $# -eq 1 ] || { echo "usage: $prog OUT.cpio.gz | OUT.cpio | --print-kver" >&2; exit 2; }
out=$1
case "$out" in
    --print-kver) ;;
    *.cpio.gz) compress="gzip -n -6" ;;
    *.cpio) compress="cat" ;;
    *) die "output name must end in .cpio.gz or .cpio: $out" ;;
esac
here=$(cd "$(dirname "$0")" && pwd)

# Kernel modules the guest loads, in load order.  Their dependencies are
# resolved from modules.dep below.
guest_modules="crc32c_generic virtio_pci virtio_blk virtio_scsi sd_mod sg ext4"

# sg3-utils programs wanted for SCSI tests; each is copied when present.
sg_tools="sg_inq sg_readcap sg_turs sg_vpd sg_luns sg_sync sg_unmap sg_write_same sg_modes sg_persist sg_rtpg sg_opcodes sg_raw sg_reset sg_requests sg_verify sg_compare_and_write"

# ---------------------------------------------------------------------------
# Kernel version: newest /boot/vmlinuz-<ver> with /lib/modules/<ver>, unless
# GUEST_KVER says otherwise.
pick_kver() {
    for k in $(ls -1 /boot/vmlinuz-* 2>/dev/null | sed 's|^/boot/vmlinuz-||' | sort -rV); do
        if [ -d "/lib/modules/$k" ]; then
            echo "$k"
            return 0
        fi
    done
    return 1
}
if [ -n "${GUEST_KVER:-}" ]; then
    kver=$GUEST_KVER
else
    kver=$(pick_kver) || kver=
fi
if [ "$out" = --print-kver ]; then
    [ -n "$kver" ] || die "no /boot/vmlinuz-<ver> with a matching /lib/modules/<ver> (install linux-image-amd64)"
    echo "$kver"
    exit 0
fi

# ---------------------------------------------------------------------------
# Prerequisites: collect everything missing, then fail once with one message.
missing_pkgs=
missing_what=
need() {    # need PATH PACKAGE
    if [ ! -e "$1" ]; then
        missing_what="$missing_what $1"
        case " $missing_pkgs " in *" $2 "*) ;; *) missing_pkgs="$missing_pkgs $2" ;; esac
    fi
}
need_cmd() {    # need_cmd COMMAND PACKAGE
    if ! command -v "$1" >/dev/null 2>&1; then
        missing_what="$missing_what $1"
        case " $missing_pkgs " in *" $2 "*) ;; *) missing_pkgs="$missing_pkgs $2" ;; esac
    fi
}

if [ -z "$kver" ]; then
    need /boot/vmlinuz-ANY linux-image-amd64
elif [ ! -f "/lib/modules/$kver/modules.dep" ]; then
    need "/lib/modules/$kver/modules.dep" "linux-image-$kver"
fi
need_cmd cpio cpio
[ "${compress:-}" = cat ] || need_cmd gzip gzip
need_cmd ldd libc-bin
need_cmd fio fio
need_cmd blkdiscard util-linux
need_cmd mke2fs e2fsprogs
need_cmd e2fsck e2fsprogs
need_cmd sg_inq sg3-utils
need "$here/init" "(vhost-uring source tree: tests/guest/init)"

# The busybox must be the static one (busybox-static): it runs before any
# library could be found.
busybox=
for b in /bin/busybox /usr/bin/busybox; do
    if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then
        busybox=$b
        break
    fi
done
[ -n "$busybox" ] || need /bin/busybox-STATIC busybox-static

if [ -n "$missing_pkgs" ]; then
    die "missing host prerequisites:$missing_what
  install them with: apt-get install$missing_pkgs"
fi

# ---------------------------------------------------------------------------
stage=$(mktemp -d "${TMPDIR:-/tmp}/mkinitramfs.XXXXXX")
tmp_out="$out.tmp.$$"
trap 'rm -rf "$stage" "$tmp_out"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$stage/bin" "$stage/sbin" "$stage/usr/bin" "$stage/usr/sbin" \
         "$stage/proc" "$stage/sys" "$stage/dev" "$stage/tmp" "$stage/mnt" \
         "$stage/run" "$stage/etc" "$stage/root" "$stage/lib/modules/$kver"
chmod 1777 "$stage/tmp"

# Copy one file to the same path inside the image (following symlinks, so the
# image holds the real contents under the name the program looks for).
copy_file() {
    [ -e "$stage$1" ] && return 0
    mkdir -p "$stage$(dirname "$1")"
    cp -L "$1" "$stage$1"
}

# Copy an ELF program plus every shared library ldd reports and the ELF
# interpreter.  Static programs (ldd fails) are copied alone.
copy_elf() {
    src=$1
    copy_file "$src"
    libs=$(ldd "$src" 2>/dev/null) || return 0
    if echo "$libs" | grep -q 'not found'; then
        die "$src: unresolved shared libraries:
$(echo "$libs" | grep 'not found')"
    fi
    # "libfoo.so.1 => /path/libfoo.so.1 (0x...)" and "/lib64/ld-linux... (0x...)"
    for lib in $(echo "$libs" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }
                                     $1 ~ /^\// { print $1 }'); do
        copy_file "$lib"
    done
}

# --- host programs (copied before busybox so the real tools win) ----------
copy_elf "$(command -v fio)"
copy_elf "$(command -v blkdiscard)"
for t in mke2fs mkfs.ext4 e2fsck fsck.ext4; do
    p=$(command -v "$t" 2>/dev/null) || die "$t not found (install e2fsprogs)"
    copy_elf "$p"
done
for t in $sg_tools; do
    p=$(command -v "$t" 2>/dev/null) || continue
    copy_elf "$p"
done
[ -f /etc/mke2fs.conf ] && copy_file /etc/mke2fs.conf

# --- busybox and its applet links ------------------------------------------
cp "$busybox" "$stage/bin/busybox"
for applet in $("$busybox" --list-full); do
    case "$applet" in
        linuxrc|*/init) continue ;;   # our /init is the only init
    esac
    # A real program already installed under the same name (in any of the
    # PATH directories) takes precedence over the busybox applet.
    name=${applet##*/}
    for d in bin sbin usr/bin usr/sbin; do
        [ -e "$stage/$d/$name" ] && continue 2
    done
    mkdir -p "$stage/$(dirname "$applet")"
    ln -s /bin/busybox "$stage/$applet"
done

# e2fsck/mount look at /etc/mtab.
ln -s /proc/mounts "$stage/etc/mtab"

# --- kernel modules -----------------------------------------------------------
moddir=/lib/modules/$kver
depfile=$moddir/modules.dep

# modules.dep path ("kernel/.../name.ko[.xz|.zst]") of module NAME; module
# names treat '-' and '_' alike.
module_path() {
    want=$(echo "$1" | tr - _)
    awk -F: -v want="$want" '{
        n = $1; sub(/.*\//, "", n); sub(/\.ko(\.[a-z0-9]+)?$/, "", n); gsub(/-/, "_", n)
        if (n == want) { print $1; exit }
    }' "$depfile"
}

# Transitive closure over modules.dep (it already lists indirect deps, but
# walking it again costs nothing and does not rely on that).
todo=
for m in $guest_modules; do
    p=$(module_path "$m")
    if [ -z "$p" ]; then
        # Built into the kernel is fine; absent altogether is not.
        if grep -q "/$(echo "$m" | tr - _)\.ko\$" "$moddir/modules.builtin" 2>/dev/null ||
           grep -q "/$(echo "$m" | tr _ -)\.ko\$" "$moddir/modules.builtin" 2>/dev/null; then
            continue
        fi
        die "kernel module $m not found in $depfile"
    fi
    todo="$todo $p"
done
done_list=
# shellcheck disable=SC2086  # $todo is a blank-separated work list
set -- $todo
while [ $# -gt 0 ]; do
    p=$1; shift
    case " $done_list " in *" $p "*) continue ;; esac
    done_list="$done_list $p"
    deps=$(awk -F: -v p="$p" '$1 == p { print $2; exit }' "$depfile")
    # shellcheck disable=SC2086
    set -- "$@" $deps
done

for p in $done_list; do
    mkdir -p "$stage$moddir/$(dirname "$p")"
    cp "$moddir/$p" "$stage$moddir/$p"
done
# modules.dep / modules.alias restricted to what the image holds, so busybox
# modprobe resolves dependencies and aliases (e.g. crypto-crc32c).
printf '%s\n' $done_list | sort > "$stage/.modlist"
awk -F: 'NR == FNR { have[$1] = 1; next } have[$1]' "$stage/.modlist" "$depfile" \
    > "$stage$moddir/modules.dep"
awk 'NR == FNR { n = $1; sub(/.*\//, "", n); sub(/\.ko.*$/, "", n); gsub(/-/, "_", n); have[n] = 1; next }
     $1 == "alias" { n = $3; gsub(/-/, "_", n); if (have[n]) print }' \
    "$stage/.modlist" "$moddir/modules.alias" > "$stage$moddir/modules.alias"
rm -f "$stage/.modlist"
for f in modules.builtin modules.builtin.modinfo modules.order; do
    [ -f "$moddir/$f" ] && cp "$moddir/$f" "$stage$moddir/$f"
done
# Module names /init loads, in order.
printf '%s\n' $guest_modules > "$stage/etc/guest-modules"
echo "$kver" > "$stage/etc/guest-kver"

# --- /init ----------------------------------------------------------------------
cp "$here/init" "$stage/init"
chmod 0755 "$stage/init"

# --- pack (reproducible: sorted names, fixed owner and timestamps) -----------
epoch=${SOURCE_DATE_EPOCH:-0}
find "$stage" -exec touch -h -d "@$epoch" {} +
(
    cd "$stage"
    find . -mindepth 1 | LC_ALL=C sort |
        cpio --quiet -o -H newc -R 0:0 --reproducible
) | $compress > "$tmp_out"
mv -f "$tmp_out" "$out"
echo "$prog: wrote $out (kernel $kver, $(du -h "$out" | cut -f1))" >&2
