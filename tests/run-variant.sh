#!/bin/sh
# tests/run-variant.sh: runs one test variant of tests/variants: the test
# program or guest test script its line names, with its environment.  It is
# make check's LOG_COMPILER for tests/*.v and tests/guest/*.v (the argument
# is then that test's path; only its base name counts); by hand, run it from
# the top of the build tree with the variant's name:
#   ../tests/run-variant.sh blk-1q-io_uring
# Output: the test's own (TAP); exit status: the test's.
set -eu
if [ $# -ne 1 ]; then
	echo "usage: run-variant.sh NAME (a line of tests/variants)" >&2
	exit 2
fi
name=${1##*/}
name=${name%.v}

# By hand, the source tree is where this script is and the build tree is
# the current directory; make check sets both (AM_TESTS_ENVIRONMENT).
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
VHOST_URING_BLK=${VHOST_URING_BLK:-$top_builddir/vhost-uring-blk}
VHOST_URING_SCSI=${VHOST_URING_SCSI:-$top_builddir/vhost-uring-scsi}
VHOST_URING_CTL=${VHOST_URING_CTL:-$top_builddir/vhost-uring-ctl}
FUSE_FAULTY=${FUSE_FAULTY:-$top_builddir/tests/fuse-faulty}
export top_srcdir top_builddir VHOST_URING_BLK VHOST_URING_SCSI VHOST_URING_CTL FUSE_FAULTY

line=$(awk -v n="$name" '$1 == n { $1 = ""; print; exit }' "$top_srcdir/tests/variants")
if [ -z "$line" ]; then
	echo "1..1"
	echo "not ok 1 - $name is a line of $top_srcdir/tests/variants"
	exit 1
fi
# shellcheck disable=SC2086  # the run and environment words split on spaces
set -- $line
run=$1
shift
case "$run" in
*.sh) exec env "$@" bash "$top_srcdir/tests/$run" ;;
*) exec env "$@" "./$run" ;;
esac
