#!/bin/bash
# tests/run-suite.sh: the whole test suite, as CI runs it.  Installs what is
# missing, then builds and runs `make check` twice (a -Werror build and an
# ASan+UBSan build), runs each libFuzzer harness for a bounded time, checks
# `make install`, builds the Debian package, runs `make distcheck`, and ends
# with one line "N passed, N failed, N skipped".  Exits non-zero on any
# failure.  Build trees go to _build/ in the source tree.
#
# Environment: JOBS (default: number of CPUs), SUITE_SKIP_DISTCHECK=1 to
# leave out the release-tarball check (it is run by default and in CI),
# FUZZ_SECONDS (default 60) for how long each fuzz harness runs.
# Root runs it directly; another user's run goes through sudo (tests/as-root.sh).
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=as-root.sh
. "$top/tests/as-root.sh"
AS_ROOT_KEEP="JOBS SUITE_SKIP_DISTCHECK FUZZ_SECONDS"
as_root "$top/tests/run-suite.sh" "$@"
cd "$top" || exit 1
jobs=${JOBS:-$(nproc)}
out=$top/_build
extra_pass=0
extra_fail=0
failed_names=()

note() { printf '\n=== %s\n' "$*"; }

# An extra result for steps that are not automake tests.
result() {
	local name=$1 ok=$2
	if [ "$ok" = 0 ]; then
		extra_pass=$((extra_pass + 1))
		echo "PASS: $name"
	else
		extra_fail=$((extra_fail + 1))
		failed_names+=("$name")
		echo "FAIL: $name"
	fi
}

note "installing missing packages"
if ! "$top/tests/install-deps.sh"; then
	echo "install-deps failed"
	echo "0 passed, 1 failed"
	exit 1
fi

note "generating the build system"
if ! ./autogen.sh >/dev/null; then
	echo "autogen.sh failed"
	echo "0 passed, 1 failed"
	exit 1
fi

# build NAME CONFIGURE-ARGS...: configure, build and `make check` in _build/NAME.
build() {
	local name=$1 dir=$out/$1
	shift
	note "build '$name': configure $*"
	rm -rf "$dir"
	mkdir -p "$dir"
	(cd "$dir" && "$top/configure" "$@" >configure.log 2>&1)
	result "$name: configure" $? || true
	[ -f "$dir/Makefile" ] || { tail -20 "$dir/configure.log"; return; }
	(cd "$dir" && make -j"$jobs" >make.log 2>&1)
	local rc=$?
	result "$name: build with -Wall -Wextra -Werror" $rc
	if [ $rc -ne 0 ]; then
		tail -30 "$dir/make.log"
		return
	fi
	note "build '$name': make check"
	(cd "$dir" && make -j"$jobs" check 2>&1 | grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP|# [A-Z]+:)' | grep -v '^PASS')
	for log in "$dir"/tests/*.log "$dir"/tests/guest/*.log; do
		[ -f "$log" ] || continue
		case "$log" in */test-suite.log) continue ;; esac
		if grep -q '^not ok\|^ERROR\|^FAIL' "${log%.log}.trs" 2>/dev/null ||
		   grep -q ':test-result: \(FAIL\|ERROR\)' "${log%.log}.trs" 2>/dev/null; then
			echo "--- $log (tail)"
			tail -40 "$log"
		fi
	done
}

# fuzz: build the libFuzzer harnesses in the default tree and run
# each for FUZZ_SECONDS (default 60); a crash or leak fails the suite.
fuzz() {
	local dir=$out/default secs=${FUZZ_SECONDS:-60} line
	note "fuzzing: each harness for $secs s"
	[ -f "$dir/Makefile" ] || { result "fuzz: a configured build tree" 1; return; }
	if ! (cd "$dir" && make fuzz >fuzz-build.log 2>&1); then
		tail -20 "$dir/fuzz-build.log"
		result "fuzz: build the harnesses with clang and libFuzzer" 1
		return
	fi
	result "fuzz: build the harnesses with clang and libFuzzer" 0
	while IFS= read -r line; do
		case "$line" in
		PASS:*) result "${line#PASS: }" 0 ;;
		FAIL:*) result "${line#FAIL: }" 1 ;;
		*) echo "$line" ;;
		esac
	done < <(FUZZ_OUT="$out/fuzz-out" "$top/fuzz/run.sh" "$dir" "$secs")
}

build default --enable-werror
build sanitizers --enable-werror --enable-sanitizers
fuzz

note "make install into a staging directory"
stage=$out/stage
rm -rf "$stage"
if (cd "$out/default" && make install DESTDIR="$stage" >install.log 2>&1); then
	for d in blk:block scsi:scsi; do
		prog=vhost-uring-${d%%:*} type=${d#*:}
		bin=$(find "$stage" -path "*/libexec/$prog" -type f | head -1)
		json=$(find "$stage" -path "*/qemu/vhost-user/50-$prog.json" | head -1)
		man=$(find "$stage" -path "*/man1/$prog.1" | head -1)
		[ -n "$bin" ] && [ -x "$bin" ]
		result "install: $prog goes to libexec" $?
		[ -n "$man" ]
		result "install: the $prog man page is installed" $?
		rel=${bin#"$stage"}
		[ -n "$json" ] && grep -q "\"binary\": \"$rel\"" "$json" &&
			grep -q "\"type\": \"$type\"" "$json"
		result "install: the $prog vhost-user JSON descriptor names the installed binary" $?
	done
else
	tail -20 "$out/default/install.log"
	result "install: make install" 1
fi

# debian_package: builds the Debian package from the release tarball in
# _build/deb/ (dpkg-buildpackage writes next to the tree it builds), runs
# lintian, and unpacks the package into a scratch root with dpkg -x rather
# than installing it: this script also runs on developers' machines, where
# dpkg -i would replace an installed vhost-uring.  apt-get -s checks that
# the package's dependencies install.
debian_package() {
	local dir=$out/deb root=$out/deb/root p deb json unit
	note "the Debian package, from the release tarball"
	rm -rf "$dir"
	mkdir -p "$dir"
	if ! (cd "$out/default" && make dist-gzip >"$dir/dist.log" 2>&1 &&
		tar -C "$dir" -xzf vhost-uring-*.tar.gz); then
		tail -20 "$dir/dist.log"
		result "deb: make dist-gzip" 1
		return
	fi
	(cd "$dir"/vhost-uring-*/ && DEB_BUILD_OPTIONS="parallel=$jobs nocheck" \
		dpkg-buildpackage -us -uc -b >"$dir/build.log" 2>&1)
	result "deb: dpkg-buildpackage -us -uc -b" $? || true
	deb=$(find "$dir" -maxdepth 1 -name "vhost-uring_*.deb" | head -1)
	[ -n "$deb" ] || { tail -30 "$dir/build.log"; return; }
	lintian --allow-root --fail-on error "$dir"/vhost-uring_*.changes 2>&1 | tee "$dir/lintian.log"
	result "deb: lintian finds no errors" "${PIPESTATUS[0]}"
	apt-get -s install "$deb" >"$dir/apt.log" 2>&1
	result "deb: apt-get -s install: its dependencies are installable" $?
	dpkg -x "$deb" "$root" && dpkg-deb -e "$deb" "$dir/control"
	result "deb: dpkg -x into a scratch root" $?
	! grep -qs -e deb-systemd -e systemctl "$dir"/control/postinst \
		"$dir"/control/prerm "$dir"/control/postrm
	result "deb: no maintainer script enables or starts the template units" $?
	for p in blk:block scsi:scsi; do
		prog=vhost-uring-${p%%:*} type=${p#*:}
		"$root/usr/libexec/$prog" --print-capabilities | grep -q "\"type\": \"$type\""
		result "deb: /usr/libexec/$prog --print-capabilities" $?
		json=$root/usr/share/qemu/vhost-user/50-$prog.json
		python3 -m json.tool "$json" >/dev/null 2>&1 &&
			grep -q "\"binary\": \"/usr/libexec/$prog\"" "$json"
		result "deb: 50-$prog.json names /usr/libexec/$prog" $?
		unit=$root/lib/systemd/system/$prog@
		[ -f "$unit.socket" ] && grep -q "^ExecStart=/usr/libexec/$prog " "$unit.service"
		result "deb: $prog@.service and .socket in /lib/systemd/system" $?
	done
	for p in blk scsi ctl bench; do
		[ -f "$root/usr/share/man/man1/vhost-uring-$p.1.gz" ]
		result "deb: the vhost-uring-$p man page" $?
	done
	for p in ctl bench; do
		"$root/usr/bin/vhost-uring-$p" --help >/dev/null
		result "deb: /usr/bin/vhost-uring-$p runs" $?
	done
}
debian_package

if [ "${SUITE_SKIP_DISTCHECK:-0}" != 1 ]; then
	note "make distcheck (release tarball, built and tested out of tree)"
	(cd "$out/default" && make -j"$jobs" distcheck >distcheck.log 2>&1)
	rc=$?
	[ $rc -eq 0 ] || tail -40 "$out/default/distcheck.log"
	result "make distcheck" $rc
fi

# Count every automake test result of both builds.
pass=$extra_pass
fail=$extra_fail
skip=0
while IFS= read -r trs; do
	while IFS= read -r line; do
		case "$line" in
		*PASS|*XFAIL) pass=$((pass + 1)) ;;
		*SKIP) skip=$((skip + 1)) ;;
		*)
			fail=$((fail + 1))
			failed_names+=("${trs#"$out"/}")
			;;
		esac
	done < <(grep '^:test-result:' "$trs")
done < <(find "$out/default" "$out/sanitizers" -maxdepth 3 -name '*.trs' 2>/dev/null | sort)

if [ ${#failed_names[@]} -gt 0 ]; then
	note "failures"
	printf '%s\n' "${failed_names[@]}" | sort -u
fi
echo
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
