# tests/guest/guest-functions.sh -- guest-side helpers, sourced by /test.sh.
#
# Owns the guest half of the result protocol.  A guest test reports each named
# check as one console line, which guest-lib.sh (host side) turns into TAP:
#   @@ ok NAME [- text]        the check passed
#   @@ not ok NAME [- text]    the check failed
#   @@ # text                  diagnostic, copied into the TAP stream as "# text"
# NAME is one word (no blanks).  guest-lib.sh puts this file into every
# per-test archive as /guest-functions.sh, next to /test.sh and /test.env
# (variables the host passed with guest_env).
#
# Runs under busybox sh (ash).

[ -f /test.env ] && . /test.env

g_failures=0

g_ok() {    # g_ok NAME [TEXT...]
    _n=$1; shift
    echo "@@ ok $_n${1:+ - $*}"
}

g_not_ok() {    # g_not_ok NAME [TEXT...]
    _n=$1; shift
    echo "@@ not ok $_n${1:+ - $*}"
    g_failures=$((g_failures + 1))
}

g_diag() {    # g_diag TEXT...
    echo "@@ # $*"
}

# g_result NAME RC [TEXT...]: ok when RC is 0.
g_result() {
    _n=$1; _rc=$2; shift 2
    if [ "$_rc" -eq 0 ]; then g_ok "$_n" "$@"; else g_not_ok "$_n" "$@"; fi
}

# g_check NAME CMD...: run CMD (its output goes to the console), ok when it
# exits with status 0.
g_check() {
    _n=$1; shift
    if "$@"; then
        g_ok "$_n"
    else
        g_not_ok "$_n" "exit status $?: $*"
    fi
}

# g_uptime: seconds since boot with centiseconds, for timing diagnostics.
g_uptime() {
    cut -d' ' -f1 /proc/uptime
}

# g_elapsed START: seconds since START (a g_uptime value), e.g. "2.41".
g_elapsed() {
    awk -v s="$1" -v e="$(g_uptime)" 'BEGIN { printf "%.2f", e - s }'
}

# g_finish: end the test script; the exit status is the number of failed
# checks (capped at 100), which /init reports as "GUEST-EXIT <rc>".
g_finish() {
    [ "$g_failures" -gt 100 ] && g_failures=100
    exit "$g_failures"
}

# Debian's static busybox runs its own applets in preference to programs
# found in PATH.  These wrappers select the real util-linux/e2fsprogs tools
# wherever busybox has a same-named (and less capable) applet.
blkdiscard() { /usr/sbin/blkdiscard "$@"; }
mke2fs() { /usr/sbin/mke2fs "$@"; }

# g_ext4_checks DEV MB: mkfs.ext4 on the first MB MiB of DEV (nodiscard,
# so the rest of DEV stays as it is), copy /data/files onto it, unmount,
# e2fsck -fn, mount it read-only again and check the files against
# /data/SHA256SUMS: three results, ext4-mkfs-write, ext4-fsck-clean and
# ext4-checksums.
g_ext4_checks() {
    _edev=$1; _emb=$2; _et0=$(g_uptime); _erc=0
    {
        mke2fs -t ext4 -F -q -E nodiscard,lazy_itable_init=0,lazy_journal_init=0 \
            "$_edev" "${_emb}M" &&
        mount -t ext4 "$_edev" /mnt &&
        cp /data/files/* /mnt/ &&
        sync &&
        umount /mnt
    } || _erc=$?
    g_result ext4-mkfs-write "$_erc" "mkfs, mount, copy $(ls /data/files | wc -l) files, sync, umount (status $_erc)"

    _erc=0
    e2fsck -fn "$_edev" || _erc=$?
    g_result ext4-fsck-clean "$_erc" "e2fsck -fn exit status $_erc"

    _erc=0
    if mount -t ext4 -o ro "$_edev" /mnt; then
        (cd /mnt && sha256sum -c /data/SHA256SUMS) || _erc=$?
        umount /mnt || _erc=$?
    else
        _erc=$?
    fi
    g_result ext4-checksums "$_erc" "files read back after remount (status $_erc, $(g_elapsed "$_et0")s for the ext4 part)"
}

# g_stall_report NAME PID DEV...: the fio run NAME (process PID) has not
# exited after FIO_STALL_SECS.  Leave the evidence in the log: the line
# "STALL:" makes the host ask the back-end for its queue state (SIGUSR1);
# then the block layer's view of each DEV; then one new read of the first
# DEV, which tells a lost completion notification (fio then finishes: the
# read's notification made the driver look at the used ring) from a device
# that completes nothing.  Kills fio if it is still stuck.
g_stall_report() {
    _sname=$1; _spid=$2; shift 2
    g_diag "STALL: $_sname: fio has not finished after ${FIO_STALL_SECS}s"
    sleep 3
    for _sdev in "$@"; do
        _sn=${_sdev#/dev/}
        g_diag "STALL: $_sn in flight (reads writes): $(cat "/sys/block/$_sn/inflight")"
        for _sf in /sys/kernel/debug/block/"$_sn"/hctx*/busy \
                   /sys/kernel/debug/block/"$_sn"/hctx*/dispatch \
                   /sys/kernel/debug/block/"$_sn"/hctx*/state; do
            [ -r "$_sf" ] && g_diag "STALL: $_sf: $(tr '\n' ';' < "$_sf" | cut -c1-300)"
        done
    done
    g_diag "STALL: interrupts: $(grep virtio /proc/interrupts | tr -s ' ' | tr '\n' ';')"
    if ! kill -0 "$_spid" 2>/dev/null; then
        g_diag "STALL: fio finished by itself meanwhile: slow, not stuck"
        return
    fi
    dd if="$1" of=/dev/null bs=4096 count=1 iflag=direct 2>/dev/null &
    _sprobe=$!
    _sw=0
    while [ "$_sw" -lt 20 ] && kill -0 "$_spid" 2>/dev/null; do
        sleep 1
        _sw=$((_sw + 1))
    done
    if kill -0 "$_sprobe" 2>/dev/null; then
        g_diag "STALL: a new 4 KiB read did not complete within ${_sw}s either"
    else
        g_diag "STALL: a new 4 KiB read completed"
    fi
    if kill -0 "$_spid" 2>/dev/null; then
        g_diag "STALL: fio is still stuck after the new read; killing it"
        kill -9 "$_spid" 2>/dev/null
    else
        g_diag "STALL: fio finished within ${_sw}s of the new read: a completion notification had been lost"
    fi
}

# g_disk_size NAME DISK BYTES: check NAME: the guest sees /dev/DISK with
# BYTES bytes.
g_disk_size() {
    _dbytes=$(( $(cat "/sys/block/$2/size") * 512 ))
    if [ "$_dbytes" -eq "$3" ]; then
        g_ok "$1" "/dev/$2 has $_dbytes bytes"
    else
        g_not_ok "$1" "guest sees $_dbytes bytes on /dev/$2, image has $3"
    fi
}

# g_pat_matches DEV FILE OFF: DEV holds FILE at byte offset OFF (read with
# O_DIRECT, so nothing comes from the guest's page cache).
g_pat_matches() {
    dd if="$1" bs=$(($(wc -c < "$2"))) count=1 skip="$3" iflag=direct,skip_bytes 2>/dev/null |
        cmp -s - "$2"
}

# g_pat_write NAME DEV FILE OFF: check NAME: FILE written to DEV at byte
# offset OFF with O_DIRECT reads back the same.
g_pat_write() {
    _prc=0
    dd if="$3" of="$2" bs=$(($(wc -c < "$3"))) count=1 seek="$4" \
       oflag=direct,seek_bytes conv=notrunc 2>/dev/null || _prc=$?
    if [ "$_prc" -ne 0 ]; then
        g_not_ok "$1" "dd (O_DIRECT) of $3 to offset $4 failed with status $_prc"
    elif g_pat_matches "$2" "$3" "$4"; then
        g_ok "$1" "$(($(wc -c < "$3"))) bytes at offset $4, read back with O_DIRECT"
    else
        g_not_ok "$1" "$3 read back from offset $4 differs"
    fi
}

# g_fio_start NAME FIO-ARGS...: fio with FIO-ARGS in the background, its
# output in /tmp/fio-NAME.out; g_fio_pid is its pid.
g_fio_start() {
    _fname=$1; shift
    fio "$@" > "/tmp/fio-$_fname.out" 2>&1 &
    g_fio_pid=$!
}

# g_fio_judge NAME JOBS RC [STOPPED]: the verdict on a finished fio run
# that exited with RC: its "err=" and "IOPS=" lines go to the console.
# True when RC is 0 (or 128 with STOPPED=1: we ended it with SIGINT), JOBS
# jobs report err=0, none reports an error and fio printed no verify
# failure; else false with the reason in g_fio_why (and fio's whole output
# shown).
# shellcheck disable=SC2034  # g_fio_why is for the caller
g_fio_judge() {
    _fout=/tmp/fio-$1.out
    _frc=$3
    [ "${4:-0}" = 1 ] && [ "$_frc" -eq 128 ] && _frc=0
    _fok=$(grep -c 'err= 0' "$_fout")
    _fbad=$(grep -cE 'err= *[1-9]' "$_fout")
    _fver=$(grep -ciE 'verify failed|bad magic|bad header|verify: ' "$_fout")
    grep -E 'err=|IOPS=' "$_fout"
    if [ "$_frc" -eq 0 ] && [ "$_fok" -eq "$2" ] && [ "$_fbad" -eq 0 ] && [ "$_fver" -eq 0 ]; then
        return 0
    fi
    g_fio_why="fio exit status $3, $_fok/$2 jobs with err=0, $_fbad with errors, $_fver verify failure line(s)"
    cat "$_fout"
    return 1
}

# g_fio_run NAME JOBS DEV FIO-ARGS...: g_fio_start, then wait for it.  A
# run still going after FIO_STALL_SECS (default 100) is a stall:
# g_stall_report on DEV, and false.  Then g_fio_judge.
g_fio_run() {
    _fname=$1; _fjobs=$2; _fdev=$3; shift 3
    g_fio_why=
    g_fio_start "$_fname" "$@"
    _fpid=$g_fio_pid
    _fticks=0
    _fstalled=0
    while kill -0 "$_fpid" 2>/dev/null; do
        sleep 0.2
        _fticks=$((_fticks + 1))
        if [ "$_fticks" -eq $((${FIO_STALL_SECS:-100} * 5)) ]; then
            _fstalled=1
            g_stall_report "$_fname" "$_fpid" "$_fdev"
        fi
    done
    _frc=0
    wait "$_fpid" || _frc=$?
    if [ "$_fstalled" -eq 1 ]; then
        g_fio_why="fio stalled for ${FIO_STALL_SECS:-100}s (see the STALL lines)"
        cat "/tmp/fio-$_fname.out"
        return 1
    fi
    g_fio_judge "$_fname" "$_fjobs" "$_frc"
}

# g_read_has DEV OFF TEXT: the 4 KiB block at byte offset OFF (4 KiB
# aligned) of DEV, read with O_DIRECT, contains TEXT.
g_read_has() {
    dd if="$1" bs=4096 count=1 skip=$(($2 / 4096)) iflag=direct 2>/dev/null |
        grep -qF "$3"
}

# g_secs: whole seconds since boot.
g_secs() {
    cut -d. -f1 /proc/uptime
}

# g_wait_for SECS CMD...: poll until CMD succeeds; false when it has not
# after SECS seconds.  Bounded by the clock, not by a count of looks: on a
# loaded host one look may take long.
g_wait_for() {
    _wend=$(($(g_secs) + $1))
    shift
    until "$@"; do
        [ "$(g_secs)" -ge "$_wend" ] && return 1
        sleep 0.1
    done
}

# g_iops_at_most NAME LIMIT SECS FIO-ARGS...: random 4 KiB reads with
# O_DIRECT for SECS seconds (FIO-ARGS give the file, engine, depth and
# jobs), against a disk limited to LIMIT requests per second.  Check NAME
# passes when fio ends without an error and its IOPS, all jobs together,
# are at most 10% above LIMIT; g_fio_iops is the figure.
g_iops_at_most() {
    _qn=$1; _ql=$2; _qs=$3; shift 3
    _qo=/tmp/fio-$_qn.out
    _qrc=0
    fio --name="$_qn" --direct=1 --rw=randread --bs=4k --time_based \
        --runtime="$_qs" --group_reporting --output-format=terse \
        --terse-version=3 "$@" > "$_qo" 2>&1 || _qrc=$?
    # Terse version 3: field 5 is the error, field 8 the read IOPS.
    _qerr=$(awk -F';' 'NF > 8 { print $5; exit }' "$_qo")
    g_fio_iops=$(awk -F';' 'NF > 8 { print $8; exit }' "$_qo")
    _qmax=$((_ql * 11 / 10))
    if [ "$_qrc" -ne 0 ] || [ "$_qerr" != 0 ] || [ -z "$g_fio_iops" ]; then
        cat "$_qo"
        g_not_ok "$_qn" "fio failed (exit status $_qrc, error ${_qerr:-none})"
    elif [ "$g_fio_iops" -gt "$_qmax" ]; then
        g_not_ok "$_qn" "$g_fio_iops IOPS over ${_qs}s, more than 10% above the limit of $_ql (at most $_qmax)"
    else
        g_ok "$_qn" "$g_fio_iops IOPS over ${_qs}s with a limit of $_ql (at most $_qmax)"
    fi
}
