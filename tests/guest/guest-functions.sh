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
