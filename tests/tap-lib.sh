# tests/tap-lib.sh: TAP results for the shell tests (sourced by man-lint.sh
# and bench-lib.sh).  tap_result STATUS TEXT prints the next "ok N - TEXT"
# when STATUS is 0, else "not ok N - TEXT", sets fail=1 and returns 1.
# A test ends with: echo "1..$n"; exit $fail
# shellcheck shell=sh
n=0
fail=0

tap_result() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
		return 0
	fi
	echo "not ok $n - $2"
	fail=1
	return 1
}
