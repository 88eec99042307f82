#!/bin/sh
# tests/man-lint.sh: the man pages format without a single warning from
# groff (-ww) and mandoc (-Tlint), and document every option --help lists.
# shellcheck source=tap-lib.sh
. "$(dirname "$0")/tap-lib.sh"

srcdir=${top_srcdir:-${srcdir:-.}}
for page in "$srcdir"/man/*.1; do
	name=$(basename "$page")
	out=$(groff -man -ww -z "$page" 2>&1)
	[ -z "$out" ]
	tap_result $? "$name: groff -man -ww is silent"
	[ -z "$out" ] || echo "$out" | sed 's/^/# /'
	out=$(mandoc -Tlint -W warning "$page" 2>&1)
	[ -z "$out" ]
	tap_result $? "$name: mandoc -Tlint is silent"
	[ -z "$out" ] || echo "$out" | sed 's/^/# /'
done

# Every long option in --help appears in the program's man page.
builddir=${top_builddir:-.}
for prog in vhost-uring-blk vhost-uring-scsi vhost-uring-bench vhost-uring-ctl; do
	case $prog in
	vhost-uring-blk) bin=${VHOST_URING_BLK:-$builddir/$prog} ;;
	vhost-uring-scsi) bin=${VHOST_URING_SCSI:-$builddir/$prog} ;;
	*) bin=$builddir/$prog ;;
	esac
	missing=
	for opt in $("$bin" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		esc=$(echo "$opt" | sed 's/-/\\\\-/g')
		grep -q -- "$esc" "$srcdir/man/$prog.1" || missing="$missing $opt"
	done
	[ -z "$missing" ]
	tap_result $? "$prog.1 documents every option of --help"
	[ -z "$missing" ] || echo "# missing:$missing"
done
echo "1..$n"
exit $fail
