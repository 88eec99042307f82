#!/bin/sh
# tests/as-root-check.sh: tests/as-root.sh's choice, with a fake id and a
# fake sudo on PATH: root runs on, another user re-executes through sudo
# with the kept variables and the same arguments, and with no sudo there is
# one line on stderr and exit status 1.
# shellcheck source=tap-lib.sh
. "$(dirname "$0")/tap-lib.sh"

srcdir=${top_srcdir:-${srcdir:-.}}
lib=$(cd "$srcdir/tests" && pwd)/as-root.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/nosudo" "$tmp/sudo"
printf '#!/bin/sh\necho "$FAKE_UID"\n' >"$tmp/nosudo/id"
cp "$tmp/nosudo/id" "$tmp/sudo/id"
printf '#!/bin/sh\nfor a; do echo "[$a]"; done\n' >"$tmp/sudo/sudo"
chmod +x "$tmp/nosudo/id" "$tmp/sudo/id" "$tmp/sudo/sudo"
cat >"$tmp/script" <<EOS
. "$lib"
AS_ROOT_KEEP="KEEP_A KEEP_UNSET"
as_root /x/demo.sh one "two words"
echo "went on as root"
EOS

# run FAKE-UID BIN-DIR: the script's stdout in $out, stderr in $err, status in $rc.
run() {
	out=$(FAKE_UID=$1 KEEP_A="a b" PATH=$tmp/$2 /bin/sh "$tmp/script" \
		one "two words" 2>"$tmp/err")
	rc=$?
	err=$(cat "$tmp/err")
}

run 0 nosudo
[ "$rc" = 0 ] && [ "$out" = "went on as root" ] && [ -z "$err" ]
tap_result $? "root runs the script itself, without sudo"

run 0 sudo
[ "$rc" = 0 ] && [ "$out" = "went on as root" ]
tap_result $? "root does not go through sudo even when it is there"

run 1000 sudo
want=$(printf '%s\n' "[--]" "[env]" "[KEEP_A=a b]" "[/x/demo.sh]" "[one]" "[two words]")
[ "$rc" = 0 ] && [ "$out" = "$want" ]
tap_result $? "another user re-executes through sudo, with the kept variables and the arguments"
[ "$out" = "$want" ] || printf '%s\n' "$out" | sed 's/^/# got: /'

run 1000 nosudo
[ "$rc" = 1 ] && [ -z "$out" ] &&
	[ "$err" = "demo.sh: needs root: run it as root, or as a user with sudo" ]
tap_result $? "another user without sudo gets one line and status 1"
[ -z "$err" ] || echo "# stderr: $err"

echo "1..$n"
exit $fail
