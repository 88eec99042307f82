#!/bin/sh
# tests/guest-files.sh: every file the guest tests need (GUEST_FILES, set
# by make check from Makefile.am's GUEST_SUPPORT) is in the source tree,
# each shell script among them parses, and each guest test (GUEST_VARIANTS,
# from GUEST_TESTS) is a line of tests/variants naming one of those
# scripts.  make distcheck leaves the guest tests themselves out; this still
# catches a file missing from the release tarball.  Last, every line of
# tests/variants is a test of Makefile.am (ALL_VARIANTS: VARIANT_TESTS and
# GUEST_TESTS), so that none is left out of make check.  Output: TAP.
set -u
: "${top_srcdir:?run from make check}"
: "${GUEST_FILES:?run from make check}"
: "${GUEST_VARIANTS:?run from make check}"
: "${ALL_VARIANTS:?run from make check}"
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
for t in $GUEST_VARIANTS; do
	n=$((n + 1))
	name=${t##*/}
	name=${name%.v}
	run=$(awk -v n="$name" '$1 == n { print $2; exit }' "$top_srcdir/tests/variants")
	case " $GUEST_FILES " in
	*" tests/$run "*) echo "ok $n - $t runs tests/$run" ;;
	*)
		echo "not ok $n - $t is a line of tests/variants naming a guest script (it names '$run')"
		fail=1
		;;
	esac
done
for name in $(awk '!/^#/ && NF { print $1 }' "$top_srcdir/tests/variants"); do
	n=$((n + 1))
	case " $ALL_VARIANTS " in
	*"/$name.v "*) echo "ok $n - variant $name is a test of make check" ;;
	*)
		echo "not ok $n - variant $name of tests/variants is in no test list of Makefile.am"
		fail=1
		;;
	esac
done
echo "1..$n"
exit $fail
