# tests/guest/guest-lib.sh -- host-side helpers for the guest tests (bash).
#
# Owns everything a guest test does on the host: finding the kernel and QEMU,
# building the base initramfs once and caching it, appending the per-test
# archive (/test.sh, /guest-functions.sh, /test.env, data files), booting QEMU
# with a hard timeout, starting and stopping the vhost-user back-end around the
# boot, TAP output, and cleanup of temp files and processes on every exit path.
#
# Usage from a test script (bash, set -eu):
#   . "$(dirname "$0")/guest-lib.sh"   # run as: bash tests/guest/X.sh
#   guest_begin ENGINE          # skip without ENGINE; tap_begin (from here
#                               # on stdout carries TAP only); guest_setup
#                               # (temp dir, traps, prerequisite checks)
#   blk_daemon_start IMG SOCK QUEUES AIO   (or scsi_daemon_start, below)
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
# (START-FUNC SOCK starts one back-end; see "Live migration" below); the
# guest's output then spans one console per QEMU, in GUEST_CONSOLES, which
# has_mark, wait_mark and tap_guest_results read as one (guest_console_text).
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
# Initramfs: cached base + per-test archive

# _guest_base_key: changes whenever the base image would change: the
# builder, /init, the kernel version and the host programs it copies.
_guest_base_key() {
    local f files=()
    for f in fio busybox mke2fs e2fsck blkdiscard sg_inq; do
        f=$(command -v "$f" 2>/dev/null) && files+=("$(readlink -f "$f")")
    done
    files+=("/lib/modules/$GUEST_KVER/modules.dep")
    {
        cat "$GUEST_SRCDIR/mkinitramfs.sh" "$GUEST_SRCDIR/init"
        echo "$GUEST_KVER"
        stat -L -c '%n %s %Y' "${files[@]}" 2>/dev/null
    } | sha256sum | cut -c1-16
}

# guest_base_initrd: set GUEST_BASE_INITRD to the cached base initramfs,
# building it first when missing.  Concurrent tests serialise on a lock
# file; mkinitramfs.sh renames the image into place only when complete.
guest_base_initrd() {
    local key file lockfd out
    key=$(_guest_base_key)
    # Uncompressed: saves the guest ~1 s of gunzip under TCG per boot.
    file=$GUEST_CACHE/base-$GUEST_KVER-$key.cpio
    if [ ! -s "$file" ]; then
        exec {lockfd}>"$GUEST_CACHE/.lock"
        flock -x "$lockfd"
        if [ ! -s "$file" ]; then
            if ! out=$(GUEST_KVER=$GUEST_KVER sh "$GUEST_SRCDIR/mkinitramfs.sh" "$file" 2>&1); then
                exec {lockfd}>&-
                guest_die "building the guest initramfs failed: $out"
            fi
            echo "$out" >&2
            # Drop images built from older inputs.
            find "$GUEST_CACHE" -maxdepth 1 -name 'base-*.cpio*' ! -name "${file##*/}" -delete
        fi
        exec {lockfd}>&-
    fi
    GUEST_BASE_INITRD=$file
}

# guest_env NAME VALUE: make NAME=VALUE visible to the guest test script.
guest_env() {
    local v=${2//\'/\'\\\'\'}
    printf "%s='%s'\n" "$1" "$v" >> "$GUEST_STAGE/test.env"
}

# guest_file SRC DEST: put the host file SRC into the guest at DEST.
guest_file() {
    mkdir -p "$GUEST_STAGE$(dirname "$2")"
    cp "$1" "$GUEST_STAGE$2"
}

# _guest_make_initrd SCRIPT OUT: base image + per-test archive.  Linux
# unpacks concatenated cpio archives in order (later files win).  The
# per-test part is a gzip member, which the kernel finds at any offset after
# the uncompressed base (an uncompressed part would need 4-byte alignment).
_guest_make_initrd() {
    local script=$1 out=$2
    guest_base_initrd
    cp "$script" "$GUEST_STAGE/test.sh"
    cp "$GUEST_SRCDIR/guest-functions.sh" "$GUEST_STAGE/guest-functions.sh"
    (cd "$GUEST_STAGE" && find . -mindepth 1 | LC_ALL=C sort |
        cpio --quiet -o -H newc -R 0:0) | gzip -n -1 > "$GUEST_TMP/test.cpio.gz"
    cat "$GUEST_BASE_INITRD" "$GUEST_TMP/test.cpio.gz" > "$out"
}

# ---------------------------------------------------------------------------
# Booting

# guest_boot SCRIPT [QEMU-ARGS...]: boot a guest that runs SCRIPT as
# /test.sh; QEMU-ARGS are extra device arguments.  Uses GUEST_VCPUS,
# GUEST_MEM_MB, GUEST_TIMEOUT, GUEST_WAIT_DEVS, GUEST_WAIT_SECS; the console goes to
# $GUEST_CONSOLE.  Sets GUEST_RC, GUEST_STATUS, GUEST_SECONDS and GUEST_QEMU_RC
# (QEMU's exit status), and returns
# the guest's exit status (255 when there is none: timeout, crash, no marker).
# GUEST_STREAM=stdout|stderr copies the console there while the guest runs.
# Every QEMU gets a QMP socket, $GUEST_QMP (qmp-N.sock in the temp dir).
guest_boot() {
    _guest_boot_prepare "$@"
    _guest_qemu_run
}

# _guest_boot_prepare SCRIPT [QEMU-ARGS...]: number the next boot, build its
# initramfs ($GUEST_INITRD) and name its files (_guest_qemu_files); keep
# QEMU-ARGS in GUEST_QEMU_ARGS (a migration destination reuses all three).
_guest_boot_prepare() {
    local script=$1
    shift
    [ -f "$script" ] || guest_die "guest script $script not found"
    GUEST_BOOTS=$((GUEST_BOOTS + 1))
    GUEST_INITRD=$GUEST_TMP/initrd-$GUEST_BOOTS.img
    GUEST_QEMU_ARGS=("$@")
    _guest_make_initrd "$script" "$GUEST_INITRD"
    _guest_qemu_files "boot $GUEST_BOOTS"
    GUEST_CONSOLES=("$GUEST_CONSOLE")
}

# _guest_qemu_files LABEL: the files of QEMU number $GUEST_BOOTS (console,
# QEMU output, QMP socket), the console empty, both logs shown on failure.
_guest_qemu_files() {
    GUEST_CONSOLE=$GUEST_TMP/console-$GUEST_BOOTS.log
    GUEST_QEMU_LOG=$GUEST_TMP/qemu-$GUEST_BOOTS.log
    GUEST_QMP=$GUEST_TMP/qmp-$GUEST_BOOTS.sock
    GUEST_RC=
    GUEST_STATUS=
    : > "$GUEST_CONSOLE"
    guest_log_register "guest console ($1)" "$GUEST_CONSOLE"
    guest_log_register "QEMU output ($1)" "$GUEST_QEMU_LOG"
}

# _guest_qemu_run [EXTRA-ARGS...]: run QEMU number $GUEST_BOOTS (the files
# _guest_qemu_files named, $GUEST_INITRD, GUEST_QEMU_ARGS, then EXTRA-ARGS)
# to its end, watching the back-end $DAEMON_PID; sets GUEST_RC,
# GUEST_STATUS, GUEST_SECONDS and GUEST_QEMU_RC as guest_boot describes.
_guest_qemu_run() {
    local qrc=0 start end stream=${GUEST_STREAM:-} noreboot=(-no-reboot)
    [ -z "$stream" ] && [ "${GUEST_VERBOSE:-0}" = 1 ] && stream=stderr
    [ "${GUEST_REBOOT:-0}" = 1 ] && noreboot=()

    start=$(date +%s.%N)
    # timeout(1) enforces the hard limit: SIGTERM, then SIGKILL 10 s later.
    timeout -k 10 "$GUEST_TIMEOUT" "$QEMU" \
        -accel "${GUEST_ACCEL:-tcg}" -machine q35 -nodefaults -display none "${noreboot[@]}" \
        -smp "$GUEST_VCPUS" -m "${GUEST_MEM_MB}M${GUEST_MEM_HOTPLUG:+,$GUEST_MEM_HOTPLUG}" \
        -object "$(_guest_mem_object)" \
        -numa node,memdev=mem \
        -kernel "$GUEST_KERNEL" -initrd "$GUEST_INITRD" \
        -append "$(guest_kernel_cmdline)" \
        -chardev "file,id=con0,path=$GUEST_CONSOLE" -serial chardev:con0 \
        -qmp "unix:$GUEST_QMP,server=on,wait=off" \
        "${GUEST_QEMU_ARGS[@]}" "$@" </dev/null >"$GUEST_QEMU_LOG" 2>&1 3>&- &
    _guest_qemu_pid=$!

    if [ -n "$stream" ]; then
        local fd=1
        [ "$stream" = stderr ] && fd=2
        if [ "$stream" = stdout ] && [ "$_tap_mode" = 1 ]; then fd=2; fi
        tail -n +1 -f --pid="$_guest_qemu_pid" "$GUEST_CONSOLE" 3>&- |
            tr -d '\r' >&"$fd" &
        _guest_tail_pid=$!
    fi

    # Wait for QEMU.  A back-end that dies leaves the guest hanging on its
    # disk until the hard timeout; instead, give QEMU a grace period
    # (GUEST_DAEMON_GRACE seconds) after the back-end's death, then stop it.
    # Shortly before the hard timeout, ask our back-end to log the state
    # of its queues (SIGUSR1), so a stalled guest leaves evidence of where.
    local watch=0 died_at= booted_at=$SECONDS dumped=0
    [ "${GUEST_WATCH_DAEMON:-1}" = 1 ] && _guest_alive "$DAEMON_PID" && watch=1
    while [ "$watch" = 1 ] && _guest_alive "$_guest_qemu_pid"; do
        if [ "$dumped" = 0 ] && [ "$DAEMON_LOGS_STATE" = 1 ] &&
           { [ $((SECONDS - booted_at)) -ge $((GUEST_TIMEOUT - 5)) ] ||
             grep -q 'STALL:' "$GUEST_CONSOLE" 2>/dev/null; }; then
            dumped=1
            echo "guest-lib: the guest reports a stall or is near the hard timeout ($((SECONDS - booted_at))s); the back-end logs its queue state" >&2
            kill -USR1 "$DAEMON_PID" 2>/dev/null || true
        fi
        if [ -z "$died_at" ] && ! _guest_alive "$DAEMON_PID"; then
            died_at=$SECONDS
            echo "guest-lib: back-end (pid $DAEMON_PID) died while the guest was running" >&2
        fi
        if [ -n "$died_at" ] && [ $((SECONDS - died_at)) -ge "${GUEST_DAEMON_GRACE:-10}" ]; then
            kill -TERM "$_guest_qemu_pid" 2>/dev/null || true
            break
        fi
        sleep 0.2
    done
    wait "$_guest_qemu_pid" || qrc=$?
    _guest_qemu_pid=
    GUEST_QEMU_RC=$qrc
    if [ -n "$_guest_tail_pid" ]; then
        wait "$_guest_tail_pid" || true
        _guest_tail_pid=
    fi
    end=$(date +%s.%N)
    GUEST_SECONDS=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }')

    GUEST_RC=$(tr -d '\r' < "$GUEST_CONSOLE" |
        sed -n 's/^GUEST-EXIT \([0-9][0-9]*\)$/\1/p' | tail -n 1)
    if [ -n "$died_at" ] && [ -z "$GUEST_RC" ]; then
        GUEST_STATUS="the back-end died while the guest was running; QEMU stopped ${GUEST_DAEMON_GRACE:-10}s later"
    elif [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
        GUEST_STATUS="QEMU killed by the ${GUEST_TIMEOUT}s hard timeout (GUEST_TIMEOUT)"
        GUEST_RC=
    elif [ -z "$GUEST_RC" ]; then
        GUEST_STATUS="no GUEST-EXIT line on the console (QEMU exit status $qrc): guest crashed or hung"
    elif [ "$qrc" -ne 0 ]; then
        GUEST_STATUS="guest exit status $GUEST_RC, but QEMU exited with status $qrc"
    else
        GUEST_STATUS="guest exit status $GUEST_RC"
    fi
    [ -n "$GUEST_RC" ] || return 255
    return "$GUEST_RC"
}

# guest_kernel_cmdline: the guest kernel's command line.  no_timer_check:
# on a busy host TCG is too slow for the kernel's IO-APIC timer check, which
# then panics at boot.
guest_kernel_cmdline() {
    echo "console=ttyS0 quiet panic=-1 no_timer_check guest_wait=$GUEST_WAIT_DEVS guest_wait_secs=$GUEST_WAIT_SECS${GUEST_APPEND:+ $GUEST_APPEND}"
}

# The shared guest RAM: a memfd, or with GUEST_MEM_BACKEND=file a file in
# the temp dir (QEMU passes it with an mmap offset per RAM region).
_guest_mem_object() {
    case "${GUEST_MEM_BACKEND:-memfd}" in
    memfd) echo "memory-backend-memfd,id=mem,size=${GUEST_MEM_MB}M,share=on" ;;
    file) echo "memory-backend-file,id=mem,size=${GUEST_MEM_MB}M,mem-path=$GUEST_TMP/guest-ram,share=on" ;;
    *) guest_die "GUEST_MEM_BACKEND must be memfd or file, not '$GUEST_MEM_BACKEND'" ;;
    esac
}

# guest_run_stream SCRIPT [QEMU-ARGS...]: guest_boot with the console copied
# to stdout as it runs (for demos); returns the guest's exit status.
guest_run_stream() {
    GUEST_STREAM=stdout guest_boot "$@"
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
# Back-end daemon

# daemon_start SOCK CMD...: start a back-end that listens on SOCK, with its
# output in $GUEST_TMP/daemon.log, and wait (bounded) until SOCK exists.
daemon_start() {
    local sock=$1 i
    shift
    DAEMON_SOCK=$sock
    DAEMON_LOGS_STATE=0
    DAEMON_LOG=$GUEST_TMP/daemon.log
    guest_log_register "back-end log" "$DAEMON_LOG"
    echo "+ $*" > "$DAEMON_LOG"
    "$@" </dev/null >>"$DAEMON_LOG" 2>&1 3>&- &
    DAEMON_PID=$!
    _guest_daemon_pids+=("$DAEMON_PID")
    for i in $(seq $((GUEST_DAEMON_TIMEOUT * 10))); do
        [ -S "$sock" ] && return 0
        if ! _guest_alive "$DAEMON_PID"; then
            wait "$DAEMON_PID" && i=0 || i=$?
            DAEMON_PID=
            guest_die "back-end exited (status $i) before creating $sock:
$(tail -n 20 "$DAEMON_LOG")"
        fi
        sleep 0.1
    done
    guest_die "back-end did not create $sock within ${GUEST_DAEMON_TIMEOUT}s:
$(tail -n 20 "$DAEMON_LOG")"
}

# daemon_stop: the back-end must still be running; send SIGTERM and wait
# (bounded) for exit status 0.  Returns 1 with the reason in DAEMON_STATUS
# otherwise (died earlier, non-zero status, killed by a signal, hung).
daemon_stop() {
    local pid=$DAEMON_PID
    [ -n "$pid" ] || { DAEMON_STATUS="no back-end was started"; return 1; }
    DAEMON_PID=
    daemon_stop_pid "$pid" "$DAEMON_LOG"
}

# daemon_stop_pid PID LOG: daemon_stop for the back-end PID (started by
# this shell) whose output is in LOG, e.g. one that is no longer
# $DAEMON_PID because a newer one runs beside it.
daemon_stop_pid() {
    local pid=$1 log=$2 i rc=0 p keep=()
    DAEMON_STATUS=
    for p in "${_guest_daemon_pids[@]}"; do
        [ "$p" = "$pid" ] || keep+=("$p")
    done
    _guest_daemon_pids=("${keep[@]}")
    if ! _guest_alive "$pid"; then
        wait "$pid" || rc=$?
        DAEMON_STATUS="back-end had already exited (status $rc) before it was asked to stop"
        return 1
    fi
    kill -TERM "$pid"
    for i in $(seq $((GUEST_DAEMON_TIMEOUT * 10))); do
        _guest_alive "$pid" || break
        sleep 0.1
    done
    if _guest_alive "$pid"; then
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        DAEMON_STATUS="back-end still running ${GUEST_DAEMON_TIMEOUT}s after SIGTERM (killed)"
        return 1
    fi
    wait "$pid" || rc=$?
    if [ "$rc" -ne 0 ]; then
        if [ "$rc" -gt 128 ]; then
            DAEMON_STATUS="back-end exit status $rc (signal $((rc - 128)))"
        else
            DAEMON_STATUS="back-end exit status $rc"
        fi
        return 1
    fi
    # The sandbox lets the daemon carry on after refusing a call; a test
    # run must not need one it refuses.
    if grep -q "sandbox: refused system call" "$log" 2>/dev/null; then
        DAEMON_STATUS="back-end's sandbox refused a system call: $(grep -m1 'sandbox: refused' "$log")"
        return 1
    fi
    return 0
}

# blk_daemon_start IMG SOCK QUEUES AIO: start the vhost-user-blk back-end
# chosen by GUEST_BACKEND on IMG.  AIO is io_uring or libaio.  QUEUES
# "default" passes no queue count: the back-end's default is used.
blk_daemon_start() {
    local img=$1 sock=$2 queues=$3 aio=$4 bin qaio direct
    case "$GUEST_BACKEND" in
    vhost-uring-blk)
        bin=${VHOST_URING_BLK:-$GUEST_TOP_BUILDDIR/vhost-uring-blk}
        [ -x "$bin" ] ||
            guest_die "back-end binary $bin not found or not executable (build it, set VHOST_URING_BLK=, or use GUEST_BACKEND=qsd)"
        local args=("$bin" "--socket-path=$sock" "--blk-file=$img" "--aio=$aio")
        [ "$queues" != default ] && args+=("--num-queues=$queues")
        [ -n "${CACHE:-}" ] && args+=("--cache=$CACHE")
        [ "${GUEST_DAEMON_VERBOSE:-0}" = 1 ] && args+=(-v)
        args+=("${GUEST_DAEMON_ARGS[@]}")
        daemon_start "$sock" "${args[@]}"
        DAEMON_LOGS_STATE=1
        ;;
    qsd)
        command -v "$QSD" >/dev/null 2>&1 ||
            guest_die "qemu-storage-daemon not found: '$QSD' (install qemu-system-common, or set QSD=)"
        case "$aio" in
            io_uring) qaio=io_uring ;;
            libaio) qaio=native ;;
            *) guest_die "unknown AIO '$aio' (io_uring or libaio)" ;;
        esac
        case "${CACHE:-none}" in
            none) direct=on ;;
            writeback) direct=off ;;
            *) guest_die "unknown CACHE '$CACHE' (none or writeback)" ;;
        esac
        [ "$qaio" = native ] && [ "$direct" = off ] &&
            guest_die "qemu-storage-daemon: aio=native (AIO=libaio) needs CACHE=none"
        # discard=unmap: guest discards punch holes into the image file.
        # A migration runs a second back-end on the image: no image locks.
        local locking=
        local nq=
        [ "${GUEST_SHARED_IMAGE:-0}" = 1 ] && locking=,locking=off
        [ "$queues" != default ] && nq=,num-queues=$queues
        daemon_start "$sock" "$QSD" \
            --blockdev "driver=file,node-name=f0,filename=$img,cache.direct=$direct,aio=$qaio,discard=unmap$locking" \
            --export "type=vhost-user-blk,id=e0,node-name=f0,addr.type=unix,addr.path=$sock,writable=on$nq"
        ;;
    *)
        guest_die "unknown GUEST_BACKEND '$GUEST_BACKEND' (vhost-uring-blk or qsd)"
        ;;
    esac
}

# scsi_daemon_start SOCK QUEUES AIO LUN-SPEC...: start vhost-uring-scsi on
# SOCK with QUEUES request queues ("default": no --num-queues, the
# daemon's default) and engine AIO (io_uring or libaio); each
# LUN-SPEC is the value of one --lun= option ("N,file=PATH[,read-only]
# [,serial=S][,logical-block-size=B][,cache=none|writeback]").  SCSI_THREADS,
# when set, is its --num-threads.
scsi_daemon_start() {
    local sock=$1 queues=$2 aio=$3 bin spec
    shift 3
    bin=${VHOST_URING_SCSI:-$GUEST_TOP_BUILDDIR/vhost-uring-scsi}
    [ -x "$bin" ] ||
        guest_die "back-end binary $bin not found or not executable (build it, or set VHOST_URING_SCSI=)"
    case "$aio" in
        io_uring|libaio) ;;
        *) guest_die "unknown AIO '$aio' (io_uring or libaio)" ;;
    esac
    [ $# -gt 0 ] || guest_die "scsi_daemon_start: no LUN given"
    local args=("$bin" "--socket-path=$sock" "--aio=$aio")
    [ "$queues" != default ] && args+=("--num-queues=$queues")
    for spec in "$@"; do
        args+=("--lun=$spec")
    done
    [ -n "${SCSI_THREADS:-}" ] && args+=("--num-threads=$SCSI_THREADS")
    [ "${GUEST_DAEMON_VERBOSE:-0}" = 1 ] && args+=(-v)
    args+=("${GUEST_DAEMON_ARGS[@]}")
    daemon_start "$sock" "${args[@]}"
    DAEMON_LOGS_STATE=1
}

# blk_daemon_start_next IMG SOCK QUEUES AIO: blk_daemon_start for tests that
# run several back-ends one after the other.  daemon_start writes every
# back-end's output to daemon.log and registers that file again on each
# start: keep the log of the previous back-end as daemon-N.log (N counts
# from 1), and daemon.log registered once.  GUEST_DAEMONS counts the
# back-ends started this way.
GUEST_DAEMONS=0
blk_daemon_start_next() {
    daemon_start_next blk_daemon_start "$@"
}

# daemon_start_next FUNC ARGS...: the same for any starter FUNC
# (blk_daemon_start, scsi_daemon_start).
daemon_start_next() {
    local logs=("${_guest_logs[@]}")
    if [ "$GUEST_DAEMONS" -gt 0 ] && [ -f "$GUEST_TMP/daemon.log" ]; then
        mv "$GUEST_TMP/daemon.log" "$GUEST_TMP/daemon-$GUEST_DAEMONS.log"
    fi
    GUEST_DAEMONS=$((GUEST_DAEMONS + 1))
    "$@"
    if [ "$GUEST_DAEMONS" -gt 1 ]; then
        _guest_logs=("${logs[@]}")
        guest_log_register "back-end log (back-end $((GUEST_DAEMONS - 1)))" \
            "$GUEST_TMP/daemon-$((GUEST_DAEMONS - 1)).log"
    fi
}

# ---------------------------------------------------------------------------
# Guests in the background, for tests that act while the guest runs

# boot_bg SCRIPT [QEMU-ARGS...]: guest_boot in a background subshell, so
# that this shell can act while the guest runs (it owns the back-end, whose
# exit status only its parent can collect).  Sets BOOT_PID (the subshell)
# and QEMU_PID, and GUEST_BOOTS, GUEST_CONSOLE, GUEST_QEMU_LOG and GUEST_QMP
# as guest_boot does; boot_bg_end collects the rest.
boot_bg() {
    _guest_boot_prepare "$@"
    _guest_qemu_bg
}

# _guest_qemu_bg [EXTRA-ARGS...]: _guest_qemu_run in a background subshell,
# which leaves its results in boot-N.result; sets BOOT_PID and QEMU_PID.
_guest_qemu_bg() {
    local n=$GUEST_BOOTS pidfile i
    pidfile=$GUEST_TMP/qemu-$n.pid
    rm -f "$pidfile" "$GUEST_TMP/boot-$n.result"
    (
        _guest_qemu_run "$@" -pidfile "$pidfile" || true
        printf 'GUEST_RC=%q\nGUEST_STATUS=%q\nGUEST_SECONDS=%q\nGUEST_QEMU_RC=%q\n' \
            "$GUEST_RC" "$GUEST_STATUS" "$GUEST_SECONDS" "$GUEST_QEMU_RC" \
            > "$GUEST_TMP/boot-$n.result"
    ) 3>&- &
    BOOT_PID=$!
    # QEMU writes its pid file before it sets the machine up.
    QEMU_PID=
    for i in $(seq 300); do
        if [ -s "$pidfile" ]; then
            QEMU_PID=$(tr -dc 0-9 < "$pidfile")
            [ -n "$QEMU_PID" ] && break
        fi
        _guest_alive "$BOOT_PID" || break
        sleep 0.1
    done
    # timeout(1) leads QEMU's process group: hand it to the lib's cleanup,
    # which kills that group if this script ends early.  A QEMU that is
    # already gone leaves it empty (boot_bg_end reports how the boot ended).
    _guest_qemu_pid=
    if [ -n "$QEMU_PID" ]; then
        _guest_qemu_pid=$(sed 's/^.*) //' "/proc/$QEMU_PID/stat" 2>/dev/null |
            cut -d' ' -f3) || true
    fi
    if [ -n "$_guest_qemu_pid" ]; then
        _guest_qemu_groups+=("$_guest_qemu_pid")
    else
        echo "guest-lib: QEMU (boot $n) did not start or ended at once" >&2
    fi
    return 0
}

# _guest_qemu_forget GROUP: the background QEMU of process group GROUP has
# ended (its subshell was reaped): the cleanup no longer kills that group.
_guest_qemu_forget() {
    local g keep=()
    for g in "${_guest_qemu_groups[@]}"; do
        [ "$g" = "$1" ] || keep+=("$g")
    done
    _guest_qemu_groups=("${keep[@]}")
}

# boot_bg_end SECS: wait (at most SECS) for the boot_bg guest to end; stop
# its QEMU if it is still running then.  Sets GUEST_RC, GUEST_STATUS and
# GUEST_SECONDS as guest_boot would.
boot_bg_end() {
    local limit=$1 i late=
    for i in $(seq $((limit * 10))); do
        _guest_alive "$BOOT_PID" || break
        sleep 0.1
    done
    if _guest_alive "$BOOT_PID"; then
        late=1
        echo "guest-lib: boot $GUEST_BOOTS still running after ${limit}s more: stopping QEMU" >&2
        if [ -n "$_guest_qemu_pid" ]; then
            _guest_kill "$_guest_qemu_pid" group
        else
            _guest_kill "$QEMU_PID"
        fi
    fi
    wait "$BOOT_PID" || true
    _guest_qemu_forget "$_guest_qemu_pid"
    _guest_qemu_pid=
    GUEST_RC=
    GUEST_STATUS="the boot left no result"
    GUEST_SECONDS='?'
    # shellcheck disable=SC1090
    [ -f "$GUEST_TMP/boot-$GUEST_BOOTS.result" ] && . "$GUEST_TMP/boot-$GUEST_BOOTS.result"
    if [ -n "$late" ]; then
        GUEST_STATUS="the guest had not ended ${limit}s after the host's last step: the test stopped QEMU"
        GUEST_RC=
    fi
    return 0
}

# has_mark NAME: the guest printed the line "@@ # mark NAME" (on any of
# its consoles, when it migrated).
has_mark() {
    guest_console_text 2>/dev/null | grep -q "@@ # mark $1\$"
}

# guest_console_text: the guest's console output without CRs: all its
# consoles in order (one per QEMU it ran on; a line may start on one and
# end on the next), so a guest that migrated reads as one that did not.
guest_console_text() {
    cat "${GUEST_CONSOLES[@]}" | tr -d '\r'
}

# wait_mark NAME SECS: wait (at most SECS) for mark NAME of the running
# boot_bg guest; false when it did not come or the guest ended without it.
wait_mark() {
    local i
    for i in $(seq $(($2 * 10))); do
        has_mark "$1" && return 0
        _guest_alive "$BOOT_PID" || { has_mark "$1"; return; }
        sleep 0.1
    done
    return 1
}

# ---------------------------------------------------------------------------
# QoS limits changed while the guest runs, through the control socket

# guest_ctl SOCK ARGS...: vhost-uring-ctl (VHOST_URING_CTL, default the
# build tree's) on the back-end's control socket SOCK with ARGS; its output
# in $GUEST_TMP/ctl.out.  Returns its exit status.
guest_ctl() {
    local sock=$1
    shift
    "${VHOST_URING_CTL:-$GUEST_TOP_BUILDDIR/vhost-uring-ctl}" --socket="$sock" "$@" \
        > "$GUEST_TMP/ctl.out" 2>&1
}

# guest_iotune SOCK KEY=VALUE [--lun=N]: change one limit of the running
# back-end with vhost-uring-ctl iotune; a TAP result: the limits the
# back-end answers with have VALUE for KEY.
guest_iotune() {
    local sock=$1 kv=$2 what
    shift 2
    what="vhost-uring-ctl iotune${*:+ $*} $kv"
    if guest_ctl "$sock" iotune "$@" "$kv" &&
        grep -Eq "\"${kv%%=*}\": *${kv#*=}[,}]" "$GUEST_TMP/ctl.out"; then
        tap_ok "host: $what: the back-end's limits now have $kv"
    else
        tap_not_ok "host: $what changes the back-end's limits: $(head -c 300 "$GUEST_TMP/ctl.out")"
    fi
}

# guest_flag IMG OFF TEXT: TEXT, padded with blanks, as the 4 KiB block at
# byte OFF (4 KiB aligned) of IMG, made durable: a guest polling that block
# with g_read_has (O_DIRECT) learns that a step of the host is done.
guest_flag() {
    printf '%-4095s\n' "$3" |
        dd of="$1" bs=4096 seek=$(($2 / 4096)) conv=notrunc,fsync status=none
}

# ---------------------------------------------------------------------------
# Live migration: the running guest moves from QEMU to QEMU
#
# The guest is booted with migrate_boot, which starts its first back-end
# through a starter function (called as FUNC SOCK) and records QEMU-ARGS
# with @SOCK@ standing for the back-end's socket.  Each migrate_hop then
# starts a second back-end on a new socket (the same image; the first one
# still runs), a destination QEMU with the same command line on that socket
# plus -incoming defer, migrates, and ends the source QEMU and its back-end;
# the destination is the source of the next hop.  Each QEMU runs in its own
# background subshell that watches its own back-end and hard timeout, as
# boot_bg's does; boot_bg_end collects the last one.  GUEST_CONSOLES lists
# the guest's consoles in order, which has_mark and tap_guest_results read.

MIGRATE_HOPS=0          # hops done (or tried) so far
MIGRATE_STATUS=         # why the last migrate_hop failed
_migrate_backend=       # starter function: FUNC SOCK
_migrate_args=()        # QEMU-ARGS, @SOCK@ for the back-end's socket

# qmp SOCKET [--poll ...] COMMAND...: run QMP commands on a QEMU (see
# qmp.py): output "key=value" lines, status 1 when QEMU refused one, 2 when
# it could not be reached or did not answer, 3 when --poll ran out of time.
qmp() {
    python3 "$GUEST_SRCDIR/qmp.py" "$@"
}

# migrate_boot FUNC SCRIPT [QEMU-ARGS...]: start the first back-end with
# "FUNC SOCK" (through daemon_start_next, so every back-end keeps its own
# log) and boot_bg SCRIPT with QEMU-ARGS, @SOCK@ replaced by SOCK.
migrate_boot() {
    local func=$1 script=$2 sock
    shift 2
    command -v python3 >/dev/null 2>&1 ||
        guest_die "python3 missing (the QMP client needs it; install python3)"
    _migrate_backend=$func
    _migrate_args=("$@")
    # A live migration under QEMU 7.2's multi-threaded TCG corrupts a
    # running guest's memory on this project's machines when they are
    # busy: 2 of 2 guests on QEMU's own virtio-blk (no vhost-user at all)
    # and 2 of 2 on vhost-uring-blk crashed after a hop.  One TCG thread
    # made it rarer, not rare enough (a guest crashed after a hop in CI).
    _migrate_live && : "${GUEST_ACCEL:=tcg,thread=single}"
    GUEST_SHARED_IMAGE=1
    sock=$GUEST_TMP/vhost-user-$((GUEST_DAEMONS + 1)).sock
    daemon_start_next "$func" "$sock"
    boot_bg "$script" "${_migrate_args[@]//@SOCK@/$sock}"
}

# _migrate_live: does MIGRATE_LIVE=1 ask for the running guest to move?
_migrate_live() {
    [ "${MIGRATE_LIVE:-0}" = 1 ]
}

# _migrate_field NAME: the value of NAME in qmp's "key=value" output ($out).
_migrate_field() {
    printf '%s\n' "$out" | sed -n "s/^$1=//p" | head -n 1
}

# migrate_hop: move the running guest to a new QEMU and back-end, as the
# section's comment says; emits TAP results (the migration completed, the
# destination runs, the source QEMU ended with status 0 on "quit", the
# source back-end exited with status 0 on SIGTERM).  When the migration
# does not complete, the destination QEMU and back-end are stopped and the
# guest stays where it was.  Returns 1 (reason in MIGRATE_STATUS) when any
# of its checks failed.
# Tunables: MIGRATE_TIMEOUT (s, 60) for the migration to complete,
# MIGRATE_DOWNTIME_MS (2000), MIGRATE_BANDWIDTH (bytes/s, 10 GiB/s),
# MIGRATE_AUTO_CONVERGE (0) and MIGRATE_LIVE (0).
# By default the source QEMU is stopped ("stop") before "migrate" and the
# destination continued ("cont") after it: QEMU stops the device first
# (GET_VRING_BASE with the guest's I/O in flight) and copies the memory
# of a guest that does not run; the source QEMU and back-end are ended,
# and then the second back-end starts the rings where the first left them.
# MIGRATE_LIVE=1 migrates the running guest instead (with -accel
# tcg,thread=single, see migrate_boot): that is what a back-end's dirty
# log is for, but QEMU 7.2's TCG corrupted a guest's memory in about one
# hop in 25 here that way (vhost-uring-blk and -scsi; with multi-threaded
# TCG QEMU's own virtio-blk fared no better), and a 1-vCPU guest hung once
# after a hop; KVM does not run guests on these machines.  The VM-less tests/test-dirty-log.c is what checks the log.
migrate_hop() {
    local n=$((MIGRATE_HOPS + 1)) sock uri out st t0 i rc=0 prc tag
    local src_boot=$BOOT_PID src_group=$_guest_qemu_pid src_qmp=$GUEST_QMP
    local src_n=$GUEST_BOOTS src_daemon=$DAEMON_PID src_log src_sock=$DAEMON_SOCK
    local src_console=$GUEST_CONSOLE src_qemu_log=$GUEST_QEMU_LOG src_qemu=$QEMU_PID
    local dst_n dst_daemon dst_log
    [ -n "$_migrate_backend" ] || guest_die "migrate_hop: boot the guest with migrate_boot first"
    MIGRATE_HOPS=$n
    MIGRATE_STATUS=

    # The destination back-end, while the source one still serves.
    sock=$GUEST_TMP/vhost-user-$((GUEST_DAEMONS + 1)).sock
    daemon_start_next "$_migrate_backend" "$sock"
    src_log=$GUEST_TMP/daemon-$((GUEST_DAEMONS - 1)).log
    dst_daemon=$DAEMON_PID
    dst_log=$DAEMON_LOG

    # The destination QEMU: the source's command line on the new socket.
    GUEST_BOOTS=$((GUEST_BOOTS + 1))
    dst_n=$GUEST_BOOTS
    tag="hop $n (QEMU $src_n -> QEMU $dst_n)"
    _guest_qemu_files "QEMU $dst_n, migration destination of hop $n"
    GUEST_QEMU_ARGS=("${_migrate_args[@]//@SOCK@/$sock}")
    _guest_qemu_bg -incoming defer

    uri=unix:$GUEST_TMP/migrate-$n.sock
    t0=$(date +%s.%N)
    for i in $(seq $((GUEST_DAEMON_TIMEOUT * 10))); do
        [ -S "$GUEST_QMP" ] && break
        _guest_alive "$_guest_qemu_pid" || break
        sleep 0.1
    done
    if [ -z "$_guest_qemu_pid" ] || [ ! -S "$GUEST_QMP" ]; then
        MIGRATE_STATUS="the destination QEMU did not start or made no QMP socket: $(tail -n 5 "$GUEST_QEMU_LOG" 2>/dev/null)"
    elif ! out=$(qmp "$GUEST_QMP" "migrate-incoming {\"uri\": \"$uri\"}" 2>&1); then
        MIGRATE_STATUS="the destination QEMU refused migrate-incoming: $out"
    elif ! out=$(qmp "$src_qmp" \
            "migrate-set-capabilities {\"capabilities\": [{\"capability\": \"auto-converge\", \"state\": $([ "${MIGRATE_AUTO_CONVERGE:-0}" = 1 ] && echo true || echo false)}]}" \
            "migrate-set-parameters {\"max-bandwidth\": ${MIGRATE_BANDWIDTH:-10737418240}, \"downtime-limit\": ${MIGRATE_DOWNTIME_MS:-2000}}" \
            $(_migrate_live || echo stop) \
            "migrate {\"uri\": \"$uri\"}" 2>&1); then
        MIGRATE_STATUS="the source QEMU refused to migrate: $out"
    else
        prc=0
        out=$(qmp "$src_qmp" --poll "${MIGRATE_TIMEOUT:-60}" 'status=completed|failed|cancelled' \
            query-migrate 2>&1) || prc=$?
        st=$(_migrate_field status)
        [ "$prc" = 0 ] || [ "$prc" = 3 ] || st="?"
        case "$st" in
        completed) ;;
        failed|cancelled)
            MIGRATE_STATUS="migration $st: $(_migrate_field error-desc)" ;;
        "?")
            MIGRATE_STATUS="query-migrate on the source failed: $out" ;;
        *)
            if _guest_alive "$_guest_qemu_pid"; then
                MIGRATE_STATUS="migration not completed within ${MIGRATE_TIMEOUT:-60}s (status '$st'; $(printf '%s' "$out" | grep -E '^(ram\.(transferred|remaining|dirty-pages-rate)|expected-downtime|dirty-sync-count)=' | tr '\n' ' '))"
                qmp "$src_qmp" migrate_cancel >/dev/null 2>&1 || true
            else
                MIGRATE_STATUS="the destination QEMU ended during the migration (status '$st'): $(tail -n 5 "$GUEST_QEMU_LOG" 2>/dev/null)"
            fi
            ;;
        esac
    fi

    if [ -n "$MIGRATE_STATUS" ]; then
        # Back to the source: stop the destination QEMU and back-end.
        tap_not_ok "$tag: migration completed: $MIGRATE_STATUS"
        _migrate_live || qmp "$src_qmp" cont >/dev/null 2>&1 || true
        _guest_kill "$_guest_qemu_pid" group
        wait "$BOOT_PID" 2>/dev/null || true
        _guest_qemu_forget "$_guest_qemu_pid"
        daemon_stop_pid "$dst_daemon" "$dst_log" ||
            tap_diag "$tag: the destination back-end: $DAEMON_STATUS"
        BOOT_PID=$src_boot _guest_qemu_pid=$src_group GUEST_QMP=$src_qmp
        GUEST_BOOTS=$src_n DAEMON_PID=$src_daemon DAEMON_LOG=$src_log DAEMON_SOCK=$src_sock
        GUEST_CONSOLE=$src_console GUEST_QEMU_LOG=$src_qemu_log QEMU_PID=$src_qemu
        return 1
    fi
    tap_ok "$tag: migration completed in $(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')s (QEMU: total $(_migrate_field total-time) ms, downtime $(_migrate_field downtime) ms, $(( $(_migrate_field ram.transferred) / 1048576 )) MiB sent, $(_migrate_field ram.dirty-sync-count) dirty syncs)"
    GUEST_CONSOLES+=("$GUEST_CONSOLE")

    # A live guest runs on the destination now.  A stopped one is continued
    # once the source QEMU and back-end are gone: the source back-end's
    # device stopped before the migration began (no dirty log on, so no
    # hand-over), and it lets the image go only when its front end leaves.
    if _migrate_live; then
        _migrate_dst_running "$tag" || rc=1
    fi

    # The source QEMU ends on "quit" with status 0; then its back-end.
    out=$(qmp "$src_qmp" quit 2>&1) || tap_diag "$tag: quit to the source QEMU: $out"
    for i in $(seq $((GUEST_DAEMON_TIMEOUT * 10))); do
        _guest_alive "$src_boot" || break
        sleep 0.1
    done
    _guest_alive "$src_boot" && _guest_kill "$src_group" group
    wait "$src_boot" 2>/dev/null || true
    _guest_qemu_forget "$src_group"
    # shellcheck disable=SC1090
    st=$(. "$GUEST_TMP/boot-$src_n.result" 2>/dev/null; echo "${GUEST_QEMU_RC:-none}")
    if [ "$st" = 0 ]; then
        tap_ok "$tag: the source QEMU exited with status 0 on quit"
    else
        tap_not_ok "$tag: the source QEMU exited with status 0 on quit: status $st"
        MIGRATE_STATUS="source QEMU status $st"
        rc=1
    fi
    if daemon_stop_pid "$src_daemon" "$src_log"; then
        tap_ok "$tag: the source back-end exited with status 0 on SIGTERM"
    else
        tap_not_ok "$tag: the source back-end exited with status 0 on SIGTERM: $DAEMON_STATUS"
        MIGRATE_STATUS="source back-end: $DAEMON_STATUS"
        rc=1
    fi
    if [ -e "$src_sock" ]; then
        tap_not_ok "$tag: the source back-end removed its socket on exit"
        rc=1
    fi
    DAEMON_PID=$dst_daemon
    if ! _migrate_live; then
        out=$(qmp "$GUEST_QMP" cont 2>&1) ||
            tap_diag "$tag: cont to the destination QEMU: $out"
        _migrate_dst_running "$tag" || rc=1
    fi
    return $rc
}

# _migrate_dst_running TAG: TAP result: the destination QEMU ($GUEST_QMP)
# runs the guest within 10 s; 1 (and MIGRATE_STATUS) when it does not.
_migrate_dst_running() {
    local tag=$1 out st
    out=$(qmp "$GUEST_QMP" --poll 10 status=running query-status 2>&1) || true
    st=$(_migrate_field status)
    if [ "$st" = running ]; then
        tap_ok "$tag: the destination QEMU is running"
        return 0
    fi
    tap_not_ok "$tag: the destination QEMU is running: its status is '$st' 10s after the migration completed"
    MIGRATE_STATUS="destination status '$st'"
    return 1
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
