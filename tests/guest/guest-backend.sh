# tests/guest/guest-backend.sh -- the vhost-user back-ends of the guest
# tests (bash).
#
# Sourced by guest-lib.sh (see there for the usage, the environment read and
# the shared state).  Owns the back-end daemons around a boot: starting
# vhost-uring-blk, qemu-storage-daemon or vhost-uring-scsi and waiting for
# its socket, starting one after another with a log each, stopping one and
# judging how it ended, and changing a running one's QoS limits through its
# control socket (vhost-uring-ctl).

# shellcheck shell=bash
# shellcheck disable=SC2034  # DAEMON_* and GUEST_DAEMONS are the callers'

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
