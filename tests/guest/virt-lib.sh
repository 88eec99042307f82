# tests/guest/virt-lib.sh -- libvirt around a guest test (bash), sourced
# after guest-lib.sh.
#
# Owns what a guest test needs to run its guest under libvirt's system
# instance (qemu:///system), where QEMU runs as libvirt-qemu:kvm as it does
# in production: starting virtlogd and libvirtd by hand (they need no
# systemd as PID 1) with their logs in the test's temp dir, the domain XML
# (TCG, memfd shared memory, direct kernel boot of the test kernel and
# initramfs, the serial console to a file, a vhost-user-blk disk with
# <reconnect>, and vhost-user-scsi through the qemu namespace's command
# line), virsh create and destroy, and stopping all of it on every exit
# path.  Guest checks, TAP and the back-ends stay guest-lib.sh's.
#
# Usage:
#   virt_skip_unless_ready     before guest_begin: skip unless root, with
#                              libvirt installed and no libvirtd running;
#                              one such test at a time (a lock)
#   guest_begin ...            (guest-lib.sh)
#   virt_begin                 the temp dir searchable by libvirt-qemu;
#                              cleanup on every exit
#   virt_daemons_start         virtlogd, then libvirtd (a TAP result)
#   virt_prepare SCRIPT        the boot's initramfs, kernel and console
#   virt_domain_xml OUT BLK-SOCK [SCSI-SOCK]
#   virt_create XML            virsh create (a TAP result); BOOT_PID is the
#                              domain's QEMU, so wait_mark works as usual
#   virt_destroy               virsh destroy (a TAP result)
#   virt_daemons_stop          (a TAP result)
#
# Environment read (all optional):
#   VIRT_URI      libvirt connection (qemu:///system)
#   VIRT_TIMEOUT  seconds for libvirtd to answer, virsh create and destroy
#                 (60)
#   VIRT_LOCK     lock file that keeps two such tests apart
#                 (/run/lock/vhost-uring-virt.lock)

# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154  # guest-lib.sh's variables, both ways

VIRT_URI=${VIRT_URI:-qemu:///system}
VIRT_TIMEOUT=${VIRT_TIMEOUT:-60}
VIRT_LOCK=${VIRT_LOCK:-/run/lock/vhost-uring-virt.lock}
VIRT_DOMAIN=vhost-uring-test-$$
VIRT_DIR=               # libvirt's files of this test (configs, logs, pids)
VIRT_QEMU_PID=
VIRT_QEMU_LOG=          # libvirt's log of the domain's QEMU
_virt_created=0
_virt_lockfd=

# virt_skip_unless_ready: end the test as skipped (TAP "1..0 # SKIP") when
# it cannot run here: not root (libvirt's system instance), libvirt not
# installed, a libvirtd of someone else's already answering, or domains or
# networks the host's libvirt would start along with the test's libvirtd.
virt_skip_unless_ready() {
    local t why=
    for t in libvirtd virtlogd virsh; do
        command -v "$t" >/dev/null 2>&1 || why="$t not found (tests/install-deps.sh installs libvirt)"
    done
    [ "$(id -u)" -eq 0 ] || why="libvirt's system instance needs root"
    getent passwd libvirt-qemu >/dev/null ||
        why="${why:-no user libvirt-qemu (install libvirt-daemon-system)}"
    if [ -z "$why" ]; then
        # One system libvirtd at a time: another such test's must be gone.
        exec {_virt_lockfd}>"$VIRT_LOCK"
        if ! flock -w 900 "$_virt_lockfd"; then
            echo "Bail out! another libvirt test held $VIRT_LOCK for 15 minutes"
            exit 1
        fi
    fi
    if [ -z "$why" ] && timeout 10 virsh -c "$VIRT_URI" version >/dev/null 2>&1; then
        why="a libvirtd already answers on $VIRT_URI; this test starts its own"
    fi
    for t in /etc/libvirt/qemu/autostart /etc/libvirt/qemu/networks/autostart; do
        [ -n "$why" ] || [ -z "$(ls -A "$t" 2>/dev/null)" ] ||
            why="$t is not empty: the test's libvirtd would start what it names"
    done
    [ -z "$why" ] && return 0
    echo "1..0 # SKIP $why"
    exit 0
}

# virt_begin: make the temp dir searchable by libvirt-qemu (QEMU opens the
# kernel and initramfs there by path, and the back-ends' sockets) and stop
# libvirt on every exit path.
virt_begin() {
    chmod 0711 "$GUEST_TMP"
    VIRT_DIR=$GUEST_TMP/libvirt
    mkdir -p "$VIRT_DIR"
    VIRT_QEMU_LOG=/var/log/libvirt/qemu/$VIRT_DOMAIN.log
    guest_on_cleanup _virt_cleanup
}

# _virt_run CMD...: CMD with neither the TAP stream (fd 3) nor the lock's fd,
# so that a daemon it leaves behind holds neither.
_virt_run() {
    "$@" 3>&- {_virt_lockfd}>&-
}

# _virt_pid NAME: the pid in $VIRT_DIR/NAME.pid when that process runs.
_virt_pid() {
    local pid
    pid=$(tr -dc 0-9 2>/dev/null < "$VIRT_DIR/$1.pid") || return 1
    _guest_alive "$pid" && echo "$pid"
}

# _virt_wait SECS CMD...: poll CMD until it succeeds, SECS at most.
_virt_wait() {
    local end=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$end" ] || return 1
        sleep 0.2
    done
}

# virt_daemons_start: virtlogd (which keeps QEMU's log for libvirtd), then
# libvirtd, each daemonized with its pid file and log in $VIRT_DIR; a TAP
# result once libvirtd answers on $VIRT_URI.
virt_daemons_start() {
    local d t0=$SECONDS
    for d in virtlogd libvirtd; do
        guest_log_register "$d log" "$VIRT_DIR/$d.log"
        printf 'log_outputs="3:file:%s"\n' "$VIRT_DIR/$d.log" > "$VIRT_DIR/$d.conf"
        _virt_run "$d" --daemon --config "$VIRT_DIR/$d.conf" \
            --pid-file "$VIRT_DIR/$d.pid" </dev/null >>"$VIRT_DIR/$d.log" 2>&1 ||
            guest_die "$d --daemon failed: $(tail -n 5 "$VIRT_DIR/$d.log")"
    done
    if _virt_wait "$VIRT_TIMEOUT" _virt_pid virtlogd &&
        _virt_wait "$VIRT_TIMEOUT" virsh -c "$VIRT_URI" version; then
        tap_ok "host: virtlogd and libvirtd started by hand, libvirtd answers on $VIRT_URI ($((SECONDS - t0))s)"
    else
        guest_die "host: libvirtd did not answer on $VIRT_URI within ${VIRT_TIMEOUT}s"
    fi
}

# virt_prepare SCRIPT: the boot of SCRIPT as guest-lib would prepare it
# (initramfs, console file, GUEST_CONSOLES for wait_mark), with a copy of
# the kernel next to the initramfs: libvirt gives both files to
# libvirt-qemu while the domain runs and gives them back after.
virt_prepare() {
    _guest_boot_prepare "$1"
    cp "$GUEST_KERNEL" "$GUEST_TMP/vmlinuz"
}

# virt_domain_xml OUT BLK-SOCK [SCSI-SOCK]: the domain, as README.md shows
# it: a vhost-user-blk disk on BLK-SOCK that reconnects, and with SCSI-SOCK
# a vhost-user-scsi controller given on QEMU's command line (libvirt has
# no vhost-user-scsi disk).
virt_domain_xml() {
    local out=$1 blk=$2 scsi=${3:-}
    {
        cat <<EOF
<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>$VIRT_DOMAIN</name>
  <memory unit='MiB'>$GUEST_MEM_MB</memory>
  <vcpu>$GUEST_VCPUS</vcpu>
  <memoryBacking>
    <source type='memfd'/>
    <access mode='shared'/>
  </memoryBacking>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>$GUEST_TMP/vmlinuz</kernel>
    <initrd>$GUEST_INITRD</initrd>
    <cmdline>$(guest_kernel_cmdline)</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='vhostuser' device='disk'>
      <driver name='qemu' type='raw' queues='1'/>
      <source type='unix' path='$blk'>
        <reconnect enabled='yes' timeout='1'/>
      </source>
      <target dev='vda' bus='virtio'/>
    </disk>
    <serial type='file'>
      <source path='$GUEST_CONSOLE'/>
    </serial>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
EOF
        [ -z "$scsi" ] || cat <<EOF
  <qemu:commandline>
    <qemu:arg value='-chardev'/>
    <qemu:arg value='socket,id=vus0,path=$scsi'/>
    <qemu:arg value='-device'/>
    <qemu:arg value='{"driver":"vhost-user-scsi-pci","id":"vus0","chardev":"vus0","bus":"pcie.0","addr":"0x10"}'/>
  </qemu:commandline>
EOF
        echo "</domain>"
    } > "$out"
}

# virt_create XML: virsh create (bounded: a QEMU that cannot reach a
# back-end with reconnect hangs in it); a TAP result.  On success
# VIRT_QEMU_PID and BOOT_PID are the domain's QEMU.
virt_create() {
    local out rc=0
    _virt_created=1
    out=$(_virt_run timeout "$VIRT_TIMEOUT" virsh -c "$VIRT_URI" create "$1" 2>&1) || rc=$?
    VIRT_QEMU_PID=$(tr -dc 0-9 2>/dev/null < "/run/libvirt/qemu/$VIRT_DOMAIN.pid") || true
    if [ "$rc" -ne 0 ] || [ -z "$VIRT_QEMU_PID" ]; then
        [ "$rc" -eq 124 ] && out="virsh create did not return within ${VIRT_TIMEOUT}s"
        tap_not_ok "host: virsh create started the domain: $out"
        tap_diag "$(tail -n 5 "$VIRT_QEMU_LOG" 2>/dev/null)"
        return 1
    fi
    BOOT_PID=$VIRT_QEMU_PID
    tap_ok "host: virsh create started domain $VIRT_DOMAIN (QEMU pid $VIRT_QEMU_PID)"
}

# virt_qemu_runs_as USER GROUP: a TAP result: the domain's QEMU runs as
# USER with GROUP among its groups, as libvirt's qemu.conf says.
virt_qemu_runs_as() {
    local uid gid st
    uid=$(id -u "$1")
    gid=$(getent group "$2" | cut -d: -f3)
    st=$(cat "/proc/$VIRT_QEMU_PID/status" 2>/dev/null) || st=
    if echo "$st" | grep -Eq "^Uid:[[:space:]]+${uid}[[:space:]]" &&
        echo "$st" | grep -Eq "^(Gid|Groups):.*[[:space:]]$gid([[:space:]]|\$)"; then
        tap_ok "host: libvirt's QEMU runs as $1 (uid $uid), group $2 (gid $gid)"
    else
        tap_not_ok "host: libvirt's QEMU runs as $1, group $2: $(echo "$st" | grep -E '^(Uid|Gid|Groups):' | tr '\n\t' '  ')"
    fi
}

# virt_destroy: virsh destroy; a TAP result: it returned, QEMU ended and
# the (transient) domain is gone.  QEMU's log is kept as GUEST_QEMU_LOG.
virt_destroy() {
    local out rc=0
    out=$(_virt_run timeout "$VIRT_TIMEOUT" virsh -c "$VIRT_URI" destroy "$VIRT_DOMAIN" 2>&1) || rc=$?
    # shellcheck disable=SC2016  # eval expands it
    _virt_wait 10 eval '! _guest_alive "$VIRT_QEMU_PID"' || true
    if [ "$rc" -eq 0 ] && ! _guest_alive "$VIRT_QEMU_PID" &&
        ! virsh -c "$VIRT_URI" domstate "$VIRT_DOMAIN" >/dev/null 2>&1; then
        _virt_created=0
        tap_ok "host: virsh destroy ended QEMU and the domain is gone"
    else
        tap_not_ok "host: virsh destroy ended QEMU and the domain is gone: status $rc: $out"
    fi
    cp "$VIRT_QEMU_LOG" "$GUEST_QEMU_LOG" 2>/dev/null || true
}

# virt_daemons_stop: SIGTERM to libvirtd, then virtlogd; a TAP result: both
# ended within VIRT_TIMEOUT seconds.  Idempotent.
virt_daemons_stop() {
    local d pid bad=
    for d in libvirtd virtlogd; do
        pid=$(_virt_pid "$d") || continue
        kill -TERM "$pid"
        if ! _virt_wait "$VIRT_TIMEOUT" eval "! _guest_alive $pid"; then
            kill -KILL "$pid" 2>/dev/null
            bad="$bad $d"
        fi
        rm -f "$VIRT_DIR/$d.pid"
    done
    [ "$_tap_finished" = 1 ] && return 0
    if [ -z "$bad" ]; then
        tap_ok "host: libvirtd and virtlogd ended on SIGTERM"
    else
        tap_not_ok "host: libvirtd and virtlogd ended on SIGTERM: still running${bad} after ${VIRT_TIMEOUT}s (killed)"
    fi
}

# _virt_cleanup: on every exit path: no domain, no libvirt daemon, no QEMU
# log of ours left in /var/log/libvirt.
_virt_cleanup() {
    [ "$_virt_created" = 1 ] &&
        _virt_run timeout "$VIRT_TIMEOUT" virsh -c "$VIRT_URI" destroy "$VIRT_DOMAIN" >/dev/null 2>&1
    [ -n "$VIRT_DIR" ] && virt_daemons_stop
    [ -n "$VIRT_QEMU_LOG" ] && rm -f "$VIRT_QEMU_LOG" "$VIRT_QEMU_LOG".*
    return 0
}
