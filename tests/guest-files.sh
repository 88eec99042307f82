#!/bin/sh
# tests/guest-files.sh: every file the guest tests need (GUEST_FILES, set
# by make check from Makefile.am's GUEST_TESTS and GUEST_SUPPORT) is in the
# source tree, and each shell script among them parses.  make distcheck
# leaves the guest tests themselves out; this still catches a file missing
# from the release tarball.  Output: TAP.
set -u
: "${top_srcdir:?run from make check}"
: "${GUEST_FILES:?run from make check}"
n=0
fail=0
for f in $GUEST_FILES; do
	n=$((n + 1))
	p=$top_srcdir/$f
	if [ ! -f "$p" ]; then
		echo "not ok $n - $f is in the source tree"
		fail=1
		continue
	fi
	case "$f" in
	*.sh)
		if out=$(bash -n "$p" 2>&1); then
			echo "ok $n - $f is in the source tree and parses"
		else
			echo "not ok $n - $f parses: $out"
			fail=1
		fi
		;;
	*) echo "ok $n - $f is in the source tree" ;;
	esac
done
echo "1..$n"
exit $fail
