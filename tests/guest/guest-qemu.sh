# tests/guest/guest-qemu.sh -- the guest's QEMU, for the guest tests (bash).
#
# Sourced by guest-lib.sh (see there for the usage, the environment read and
# the shared state).  Owns the guest itself: the cached base initramfs and
# the per-test archive appended to it, QEMU's command line and one boot with
# a hard timeout while the back-end is watched, boots in the background for
# tests that act while the guest runs, the console marks and image flags
# that keep host and guest in step, the QMP client and live migration from
# QEMU to QEMU.

# shellcheck shell=bash
# shellcheck disable=SC2034,SC2153,SC2154  # guest-lib.sh's state, both ways

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
