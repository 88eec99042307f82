#!/bin/sh
# fuzz/run.sh: runs libFuzzer harnesses built by `make fuzz`, each for a
# bounded time, and says PASS or FAIL for each.  A crash, a broken invariant
# (abort), a leak (LeakSanitizer), a timeout or running out of memory is a
# failure; its reproducer lands in OUT/NAME/.
#
# Usage: fuzz/run.sh BUILD_DIR SECONDS [NAME...]
#   BUILD_DIR  a build tree where `make fuzz` was run
#   SECONDS    how long each harness runs (e.g. 60 in CI, 3600 or more by hand)
#   NAME       harnesses (default: all of fuzz/fuzz-*.c)
# Environment: FUZZ_OUT (default BUILD_DIR/fuzz-out) for the growing corpus
# and reproducers; FUZZ_ARGS for extra libFuzzer options (e.g. -jobs=2).
# Exits non-zero when any harness failed.
set -u

src=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: fuzz/run.sh BUILD_DIR SECONDS [NAME...]}
secs=${2:?usage: fuzz/run.sh BUILD_DIR SECONDS [NAME...]}
shift 2
out=${FUZZ_OUT:-$build/fuzz-out}
names=$*
[ -n "$names" ] || names=$(cd "$src" && ls fuzz-*.c | sed 's/^fuzz-//; s/\.c$//')

# Inputs longer than a harness can use only slow it down.
max_len() {
	case $1 in
	virtq | ctl) echo 70000 ;;
	*) echo 16384 ;;
	esac
}

failed=0
for name in $names; do
	bin=$build/fuzz/fuzz-$name
	dir=$out/$name
	mkdir -p "$dir/corpus"
	if [ ! -x "$bin" ]; then
		echo "FAIL: fuzz $name: $bin is missing (run make fuzz)"
		failed=1
		continue
	fi
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len="$(max_len "$name")" -print_final_stats=1 \
		-artifact_prefix="$dir/" ${FUZZ_ARGS:-} \
		"$dir/corpus" "$src/corpus/$name" >"$dir/log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
	if [ $rc -eq 0 ]; then
		echo "PASS: fuzz $name: ${runs:-?} inputs in $secs s, no crash or leak"
	else
		echo "FAIL: fuzz $name (exit $rc); log and reproducer in $dir"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz: invariant)|^artifact_prefix|Test unit written' "$dir/log" | head -10
		failed=1
	fi
done
exit $failed
