# tests/guest/guest-lib.sh -- host-side helpers for the guest tests (bash).
#
# The library every guest test sources.  Owns the test's frame: finding
# the kernel, QEMU and the host tools it needs, the temp dir, the TAP
# output (the guest's own results included), cleanup of temp files and
# processes on every exit path, and host-side checks of images.  It sources
# its two siblings, which own the rest (their functions are used as if they
# were this file's; this comment and the environment list below cover all
# three):
#   guest-qemu.sh     the guest's initramfs (cached base + per-test archive)
#                     and its QEMU: booting with a hard timeout, in the
#                     foreground or background, console marks, QMP, live
#                     migration
#   guest-backend.sh  the vhost-user back-end around the boot: starting,
#                     stopping, changing its QoS limits while the guest runs
#
# Usage from a test script (bash, set -eu):
#   . "$(dirname "$0")/guest-lib.sh"   # run as: bash tests/guest/X.sh
#   guest_begin ENGINE          # skip without ENGINE; tap_begin (from here
#                               # on stdout carries TAP only); guest_setup
#                               # (temp dir, traps, prerequisite checks)
#   blk_daemon_start IMG SOCK QUEUES AIO   (or scsi_daemon_start)
#   guest_env NAME VALUE        # visible to the guest script via /test.env
#   guest_file SRC DEST         # extra file in the guest (DEST absolute)
#   guest_boot SCRIPT [QEMU-ARGS...] || true
#   tap_guest_results NAME...   # guest "@@ ok NAME" lines -> TAP
#   daemon_stop && tap_ok ... || tap_not_ok ...
#   tap_finish                  # plan line, diagnostics on failure
# A demo script can instead call guest_setup and then
#   guest_run_stream SCRIPT [QEMU-ARGS...]   (console streamed to stdout).
# Tests that act while the guest runs (back-end restarts) boot it with
#   boot_bg SCRIPT [QEMU-ARGS...]; wait_mark NAME SECS; ...; boot_bg_end SECS
# and start back-ends one after the other with blk_daemon_start_next.
# Such a test changes a back-end's QoS limits with guest_iotune (through
# its control socket, vhost-uring-ctl) and tells the guest with guest_flag.
# Every QEMU has a QMP socket ($GUEST_QMP); `qmp SOCKET COMMAND...` talks to
# it (qmp.py).  Tests that live-migrate the running guest boot it with
#   migrate_boot START-FUNC SCRIPT [QEMU-ARGS with @SOCK@...]
#   wait_mark NAME SECS; migrate_hop || ...; migrate_hop ...; boot_bg_end SECS
# (START-FUNC SOCK starts one back-end; see "Live migration" in
# guest-qemu.sh); the guest's output then spans one console per QEMU, in
# GUEST_CONSOLES, which has_mark, wait_mark and tap_guest_results read as
# one (guest_console_text).
# A test that starts more than QEMU and back-ends (virt-lib.sh: libvirt)
# stops it from a function it names with guest_on_cleanup FUNC.
#
# Environment read (all optional):
#   srcdir top_srcdir top_builddir   set by automake (AM_TESTS_ENVIRONMENT)
#   GUEST_CACHE     base initramfs cache dir ($top_builddir/tests/guest/cache)
#   GUEST_KVER      guest kernel version (default: newest with modules)
#   GUEST_KERNEL    guest kernel image (default /boot/vmlinuz-$GUEST_KVER)
#   QEMU            QEMU binary (qemu-system-x86_64)
#   QSD             qemu-storage-daemon binary (qemu-storage-daemon)
#   GUEST_VCPUS     vCPUs (1)            GUEST_MEM_MB   guest RAM in MiB (512)
#   GUEST_MEM_BACKEND  memfd (default) or file: how guest RAM is shared
#   GUEST_MEM_HOTPLUG  room for memory hotplug, appended to -m (empty:
#                   none), e.g. "slots=2,maxmem=2G"
#   GUEST_ACCEL     QEMU accelerator (tcg; Linux guests do not boot under
#                   KVM on every host, so tests never default to kvm;
#                   with MIGRATE_LIVE=1 migrate_boot makes it
#                   tcg,thread=single, see there)
#   GUEST_TIMEOUT   hard limit for one boot, seconds (300); for each QEMU
#                   from its start (a migration destination has its own)
#   GUEST_WAIT_DEVS disks /init waits for, comma separated, or "none" (vda)
#   GUEST_WAIT_SECS how long /init waits for them (30)
#   GUEST_APPEND    more guest kernel parameters
#   GUEST_REBOOT    1: a guest reboot resets the machine and boots it again
#                   in the same QEMU (default 0: QEMU runs with -no-reboot
#                   and ends when the guest reboots); a kernel panic then
#                   reboots too (panic=-1), which the test must look for
#   GUEST_VERBOSE   1: copy the guest console to stderr while it runs
#   GUEST_TMPDIR    where the per-test temp dir goes (${TMPDIR:-/tmp}); it
#                   must support O_DIRECT (not tmpfs on Linux 6.1)
#   GUEST_KEEP_TMP  1: keep the temp dir (logs, image) and print its path
#   GUEST_BACKEND   vhost-uring-blk (default) or qsd
#   VHOST_URING_BLK daemon binary ($top_builddir/vhost-uring-blk)
#   VHOST_URING_SCSI  scsi daemon binary ($top_builddir/vhost-uring-scsi)
#   VHOST_URING_CTL   control client ($top_builddir/vhost-uring-ctl)
#   (top_builddir defaults to the directory two levels above this file)
#   CACHE           none|writeback: passed to the back-end when set
#   GUEST_DAEMON_VERBOSE  1: pass -v to vhost-uring-blk or vhost-uring-scsi
#   GUEST_DAEMON_ARGS     more arguments for vhost-uring-blk or
#                         vhost-uring-scsi, a bash array (e.g. a control
#                         socket), set by the test script
#   GUEST_DAEMON_TIMEOUT  seconds to wait for the socket / for exit (30)
#   GUEST_DAEMON_GRACE    seconds QEMU may go on after the back-end died (10)
#   GUEST_WATCH_DAEMON    0: do not stop QEMU when the back-end dies (for
#                         tests that restart the back-end on purpose)
#   GUEST_SHARED_IMAGE    1: two back-ends may have the image open at once
#                         (qemu-storage-daemon then takes no image locks);
#                         migrate_boot sets it
#   MIGRATE_TIMEOUT       seconds one migration may take to complete (60)
#   MIGRATE_DOWNTIME_MS   the migration's downtime-limit (2000)
#   MIGRATE_BANDWIDTH     the migration's max-bandwidth, bytes/s (10 GiB)
#   MIGRATE_AUTO_CONVERGE 1: turn on QEMU's auto-converge (0)
#   MIGRATE_LIVE          1: migrate the running guest; default 0: stop it
#                         first (see migrate_hop)
#   QMP_TIMEOUT           seconds QEMU gets to answer a QMP command (30)
#   QMP_CONNECT_TIMEOUT   seconds to retry connecting to a QMP socket (5)

# shellcheck shell=bash
# shellcheck disable=SC2034  # several variables set here are for the callers

# Directory holding this file and its siblings (init, mkinitramfs.sh, ...).
GUEST_SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Top of the build tree: automake's top_builddir, else (a build in the source
# tree) two levels above this file, whatever the current directory is.
GUEST_TOP_BUILDDIR=${top_builddir:-$(cd "$GUEST_SRCDIR/../.." && pwd)}

QEMU=${QEMU:-qemu-system-x86_64}
QSD=${QSD:-qemu-storage-daemon}
GUEST_VCPUS=${GUEST_VCPUS:-1}
GUEST_MEM_MB=${GUEST_MEM_MB:-512}
GUEST_TIMEOUT=${GUEST_TIMEOUT:-300}
GUEST_WAIT_DEVS=${GUEST_WAIT_DEVS:-vda}
GUEST_WAIT_SECS=${GUEST_WAIT_SECS:-30}
GUEST_BACKEND=${GUEST_BACKEND:-vhost-uring-blk}
GUEST_DAEMON_TIMEOUT=${GUEST_DAEMON_TIMEOUT:-30}
GUEST_DAEMON_ARGS=()

GUEST_TMP=              # per-test temp dir (guest_setup)
GUEST_BASE_INITRD=      # cached base initramfs (guest_base_initrd)
GUEST_STAGE=            # per-test archive contents
GUEST_BOOTS=0           # boots so far (log file names)
GUEST_CONSOLE=          # console log of the last boot (its current QEMU)
GUEST_CONSOLES=()       # the guest's consoles in order (several after migrations)
GUEST_QMP=              # QMP socket of the last boot's (current) QEMU
GUEST_INITRD=           # initramfs of the last boot
GUEST_QEMU_ARGS=()      # the last boot's QEMU-ARGS
GUEST_QEMU_RC=          # exit status of the last QEMU that ended
GUEST_QEMU_LOG=         # QEMU's stdout/stderr of the last boot
GUEST_RC=               # exit status of the guest's /test.sh (GUEST-EXIT)
GUEST_STATUS=           # one line about how the last boot ended
GUEST_SECONDS=          # wall-clock seconds of the last boot
DAEMON_PID=
DAEMON_LOG=
DAEMON_SOCK=            # socket of the running back-end
DAEMON_STATUS=          # why daemon_stop failed
DAEMON_LOGS_STATE=0     # 1: the back-end logs its queue state on SIGUSR1
_guest_qemu_pid=
_guest_qemu_groups=()   # process groups of background QEMUs still to end
_guest_daemon_pids=()   # back-ends started and not yet reaped
_guest_tail_pid=
_tap_mode=0
_tap_n=0
_tap_failed=0
_tap_finished=0
_guest_logs=()          # "title|file" pairs shown on failure

# The two siblings (see the top of this file), from beside this file.
# shellcheck source=guest-qemu.sh
. "$GUEST_SRCDIR/guest-qemu.sh"
# shellcheck source=guest-backend.sh
. "$GUEST_SRCDIR/guest-backend.sh"

# ---------------------------------------------------------------------------
# Errors and cleanup

# guest_die MSG: fail the whole test with MSG (as TAP "not ok" in TAP mode).
guest_die() {
    if [ "$_tap_mode" = 1 ]; then
        # First line as the result, any further lines as diagnostics.
        tap_not_ok "${1%%$'\n'*}"
        case "$1" in *$'\n'*) tap_diag "${1#*$'\n'}" ;; esac
        tap_finish
        exit 1
    fi
    echo "ERROR: $1" >&2
    exit 1
}

# _guest_alive PID: true while PID exists and is not a zombie.
_guest_alive() {
    local st
    [ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
    st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# _guest_kill PID [group]: SIGTERM, up to 5 s grace, then SIGKILL; reaps
# it.  "group": PID leads a process group (timeout(1) makes one for QEMU);
# the SIGKILL then goes to the whole group, so QEMU cannot outlive it.
_guest_kill() {
    local pid=$1 _
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
        _guest_alive "$pid" || break
        sleep 0.1
    done
    if _guest_alive "$pid"; then
        if [ "${2:-}" = group ]; then
            kill -KILL -- "-$pid" 2>/dev/null || true
        else
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
}

# guest_on_cleanup FUNC: run FUNC first when the test ends, on every exit
# path (e.g. to stop what a test started besides QEMU and its back-ends).
_guest_cleanup_hooks=()
guest_on_cleanup() {
    _guest_cleanup_hooks+=("$1")
}

_guest_cleanup() {
    local rc=$?
    trap - EXIT
    set +e
    local p
    for p in "${_guest_cleanup_hooks[@]}"; do
        "$p"
    done
    [ -n "$_guest_qemu_pid" ] && _guest_kill "$_guest_qemu_pid" group
    for p in "${_guest_qemu_groups[@]}"; do
        _guest_alive "$p" && _guest_kill "$p" group
    done
    [ -n "$_guest_tail_pid" ] && _guest_kill "$_guest_tail_pid"
    [ -n "$DAEMON_PID" ] && _guest_kill "$DAEMON_PID"
    for p in "${_guest_daemon_pids[@]}"; do
        _guest_alive "$p" && _guest_kill "$p"
    done
    if [ "$_tap_mode" = 1 ] && [ "$_tap_finished" = 0 ]; then
        tap_not_ok "test script ended early (exit status $rc)"
        tap_finish
        [ "$rc" -eq 0 ] && rc=1
    fi
    if [ -n "$GUEST_TMP" ] && [ -d "$GUEST_TMP" ]; then
        if [ "${GUEST_KEEP_TMP:-0}" = 1 ]; then
            echo "guest-lib: kept $GUEST_TMP" >&2
        else
            rm -rf "$GUEST_TMP"
        fi
    fi
    exit "$rc"
}

# ---------------------------------------------------------------------------
# TAP

# tap_begin: from here on, stdout is the TAP stream (fd 3); anything else
# that writes to stdout goes to stderr (the test log) instead.
tap_begin() {
    exec 3>&1 1>&2
    _tap_mode=1
}

tap_ok() {
    _tap_n=$((_tap_n + 1))
    echo "ok $_tap_n - $*" >&3
}

tap_not_ok() {
    _tap_n=$((_tap_n + 1))
    _tap_failed=$((_tap_failed + 1))
    echo "not ok $_tap_n - $*" >&3
}

# tap_result RC DESC: ok when RC is 0.
tap_result() {
    local rc=$1
    shift
    if [ "$rc" -eq 0 ]; then tap_ok "$@"; else tap_not_ok "$@"; fi
}

# tap_diag TEXT: every line of TEXT as a TAP diagnostic.
tap_diag() {
    local line
    printf '%s\n' "$*" | while IFS= read -r line; do
        echo "# $line" >&3
    done
}

# tap_check DESC CMD...: run CMD; ok when it exits 0, else not ok with its
# output as diagnostics.
tap_check() {
    local desc=$1 out rc=0
    shift
    out=$("$@" 2>&1) || rc=$?
    if [ "$rc" -eq 0 ]; then
        tap_ok "$desc"
    else
        tap_not_ok "$desc"
        tap_diag "command failed (exit status $rc): $*"
        [ -n "$out" ] && tap_diag "$out"
    fi
    return 0
}

# tap_no_match DESC REGEX FILE: one TAP result, ok when no line of FILE
# matches the extended REGEX; otherwise the first 5 that do are shown.
tap_no_match() {
    local desc=$1 bad
    bad=$(grep -E "$2" "$3" | head -n 5) || true
    if [ -z "$bad" ]; then
        tap_ok "$desc"
    else
        tap_not_ok "$desc"
        tap_diag "$bad"
    fi
}

# guest_log_register TITLE FILE: show FILE's tail if the test fails.
guest_log_register() {
    _guest_logs+=("$1|$2")
}

# tap_finish: diagnostics (log tails) if anything failed, then the plan.
# Returns 1 when any result was "not ok".
tap_finish() {
    local entry title file n=${GUEST_LOG_LINES:-40}
    [ "$_tap_finished" = 1 ] && return 0
    _tap_finished=1
    if [ "$_tap_failed" -gt 0 ]; then
        for entry in "${_guest_logs[@]}"; do
            title=${entry%%|*}
            file=${entry#*|}
            [ -s "$file" ] || continue
            tap_diag "---- $title: last $n lines of $file ----"
            tap_diag "$(tail -n "$n" "$file" | tr -d '\r')"
        done
        [ "${GUEST_KEEP_TMP:-0}" = 1 ] && tap_diag "temp dir kept: $GUEST_TMP"
    fi
    echo "1..$_tap_n" >&3
    [ "$_tap_failed" -eq 0 ]
}

# tap_guest_results NAME...: one TAP result per expected guest check NAME,
# taken from the guest's "@@ not ok NAME" line if there is one, else from its
# last "@@ ok NAME" line; a check the guest never reported fails.  Results the guest reported under other
# names are passed through as well; "@@ # text" lines become diagnostics.
tap_guest_results() {
    local con=$GUEST_TMP/console-$GUEST_BOOTS.clean name line
    guest_console_text > "$con"
    sed -n 's/^@@ # \{0,1\}//p' "$con" | while IFS= read -r line; do
        echo "# guest: $line" >&3
    done
    for name in "$@"; do
        line=$(grep -E "^@@ not ok $name( |\$)" "$con" | head -n 1) || true
        [ -n "$line" ] ||
            line=$(grep -E "^@@ ok $name( |\$)" "$con" | tail -n 1) || true
        if [ -z "$line" ]; then
            tap_not_ok "guest: $name - not reported by the guest ($GUEST_STATUS)"
            continue
        fi
        _guest_tap_line "$line"
    done
    # Results the caller did not expect.
    grep -E '^@@ (not )?ok [^ ]+' "$con" | while IFS= read -r line; do
        name=$(echo "$line" | sed -E 's/^@@ (not )?ok ([^ ]+).*/\2/')
        case " $* " in *" $name "*) continue ;; esac
        echo "$line"
    done > "$GUEST_TMP/unexpected.txt"
    while IFS= read -r line; do
        _guest_tap_line "$line"
    done < "$GUEST_TMP/unexpected.txt"
}

_guest_tap_line() {
    local line=$1 rest
    case "$line" in
        "@@ ok "*) rest=${line#@@ ok }; tap_ok "guest: $rest" ;;
        *) rest=${line#@@ not ok }; tap_not_ok "guest: $rest" ;;
    esac
}

# tap_guest_exit: TAP result for "the guest ran to the end with status 0".
tap_guest_exit() {
    if [ "${GUEST_RC:-x}" = 0 ]; then
        tap_ok "guest ran its test script to the end and powered off (${GUEST_SECONDS}s)"
    else
        tap_not_ok "guest ran its test script to the end and powered off: $GUEST_STATUS"
    fi
}

# ---------------------------------------------------------------------------
# Setup: prerequisites, kernel, temp dir

guest_setup() {
    local base t missing=

    trap _guest_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP

    for t in cpio gzip flock timeout perl cmp sha256sum stat tail; do
        command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
    done
    command -v "$QEMU" >/dev/null 2>&1 ||
        guest_die "QEMU not found: '$QEMU' (install qemu-system-x86, or set QEMU=)"
    [ -z "$missing" ] || guest_die "host tools missing:$missing (install cpio gzip util-linux coreutils perl diffutils)"

    if [ -z "${GUEST_KVER:-}" ]; then
        GUEST_KVER=$(sh "$GUEST_SRCDIR/mkinitramfs.sh" --print-kver 2>&1) ||
            guest_die "no guest kernel: $GUEST_KVER"
    fi
    GUEST_KERNEL=${GUEST_KERNEL:-/boot/vmlinuz-$GUEST_KVER}
    [ -r "$GUEST_KERNEL" ] ||
        guest_die "guest kernel $GUEST_KERNEL not found or not readable (install linux-image-amd64, or set GUEST_KERNEL=)"

    GUEST_CACHE=${GUEST_CACHE:-$GUEST_TOP_BUILDDIR/tests/guest/cache}
    mkdir -p "$GUEST_CACHE" || guest_die "cannot create cache dir $GUEST_CACHE"
    GUEST_CACHE=$(cd "$GUEST_CACHE" && pwd)

    base=${GUEST_TMPDIR:-${TMPDIR:-/tmp}}
    GUEST_TMP=$(mktemp -d "$base/vhost-uring-guest.XXXXXX") ||
        guest_die "cannot create a temp dir in $base"
    GUEST_STAGE=$GUEST_TMP/stage
    mkdir -p "$GUEST_STAGE"
    : > "$GUEST_STAGE/test.env"

    # Build (or find) the base image now, so that a missing host package
    # fails the test before anything else is started.
    guest_base_initrd
}

# guest_skip_without_engine AIO: end the test as skipped (TAP "1..0 # SKIP")
# when this build of the daemons was configured without engine AIO
# (io_uring or libaio).  Call it before tap_begin.
guest_skip_without_engine() {
    local sym=HAVE_LIBAIO
    [ "$1" = io_uring ] && sym=HAVE_LIBURING
    if [ -f "$GUEST_TOP_BUILDDIR/config.h" ] &&
       ! grep -q "^#define $sym 1" "$GUEST_TOP_BUILDDIR/config.h"; then
        echo "1..0 # SKIP this build has no $1 engine"
        exit 0
    fi
}

# guest_tmp_supports_odirect: true when O_DIRECT opens work in $GUEST_TMP
# (tmpfs on Linux < 6.6 refuses them; back-ends with cache=none need them).
guest_tmp_supports_odirect() {
    local f=$GUEST_TMP/.odirect-probe rc=0
    dd if=/dev/zero of="$f" bs=4096 count=1 oflag=direct status=none 2>/dev/null || rc=1
    rm -f "$f"
    return $rc
}

# guest_begin ENGINE: how a guest test starts: end it as skipped when the
# daemons were built without ENGINE (empty: no such check; see
# guest_skip_without_engine), then tap_begin, guest_setup and
# guest_check_aio.
guest_begin() {
    [ -z "$1" ] || guest_skip_without_engine "$1"
    tap_begin
    guest_setup
    guest_check_aio
}

# guest_check_aio: AIO (the back-end engine and guest fio ioengine) must be
# io_uring or libaio.
guest_check_aio() {
    case "$AIO" in
    io_uring|libaio) ;;
    *) guest_die "AIO must be io_uring or libaio, not '$AIO'" ;;
    esac
}

# guest_make_pattern FILE TEXT: 64 KiB of 2048 lines of 32 bytes, each
# "TEXT #N" with the line number N zero-padded to fill it, in FILE.
guest_make_pattern() {
    awk -v t="$2" 'BEGIN {
        fmt = "%s #%0" (32 - length(t) - 3) "d\n"
        for (i = 0; i < 2048; i++) printf fmt, t, i
    }' > "$1"
    [ "$(stat -c %s "$1")" -eq 65536 ] || guest_die "pattern generator produced the wrong size"
}

# guest_need_e2fsprogs: end the test unless the host has debugfs and e2fsck
# (for the checks of a guest's ext4 file system in an image).
guest_need_e2fsprogs() {
    local t
    for t in debugfs e2fsck; do
        command -v "$t" >/dev/null 2>&1 || guest_die "host tool $t missing (install e2fsprogs)"
    done
}

# guest_need_odirect: end the test unless $GUEST_TMP takes O_DIRECT opens.
guest_need_odirect() {
    guest_tmp_supports_odirect ||
        guest_die "temp dir $GUEST_TMP does not support O_DIRECT (tmpfs?): set GUEST_TMPDIR to a disk-backed directory"
}

# ---------------------------------------------------------------------------
# Host-side helpers for checks

# guest_image_files_ok IMAGE DIR: every file of DIR is in the ext4 file
# system of IMAGE (read with debugfs) with the same contents; names the
# files that differ or are missing.
guest_image_files_ok() {
    local img=$1 dir=$2 f out=$GUEST_TMP/dump rc=0
    for f in "$dir/"*; do
        rm -f "$out"
        debugfs -R "dump -p /${f##*/} $out" "$img" >/dev/null 2>&1
        if ! cmp "$f" "$out"; then
            echo "${f##*/}: differs or missing in the image"
            rc=1
        fi
    done
    return $rc
}

# guest_alloc_bytes FILE OFFSET LENGTH: bytes of FILE's range that are
# allocated (data, not holes), found with lseek(SEEK_DATA/SEEK_HOLE).
guest_alloc_bytes() {
    perl -e '
        use strict;
        my ($f, $off, $len) = @ARGV;
        my ($SEEK_DATA, $SEEK_HOLE) = (3, 4);
        open(my $fh, "<", $f) or die "open $f: $!\n";
        my ($pos, $end, $total) = ($off, $off + $len, 0);
        while ($pos < $end) {
            my $d = sysseek($fh, $pos, $SEEK_DATA);
            last unless defined $d;            # ENXIO: only a hole follows
            last if $d >= $end;
            my $h = sysseek($fh, $d, $SEEK_HOLE);
            die "SEEK_HOLE: $!\n" unless defined $h;
            $h = $end if $h > $end;
            $total += $h - $d;
            $pos = $h;
        }
        print "$total\n";
    ' "$1" "$2" "$3"
}

# guest_range_is_zero FILE OFFSET LENGTH: true when the range reads as zeros.
guest_range_is_zero() {
    cmp -s -n "$3" -i "$2:0" "$1" /dev/zero
}
