# tests/as-root.sh: how the README's commands (tests/demo.sh,
# tests/run-suite.sh) get root.  Sourced; as_root SCRIPT ARGS... returns when
# the caller is root, re-executes SCRIPT ARGS... through sudo for anyone else
# (keeping the variables named in AS_ROOT_KEEP), and with no sudo exits 1
# after one line saying what to do.
# shellcheck shell=sh

as_root() {
	[ "$(id -u)" = 0 ] && return 0
	if ! command -v sudo >/dev/null 2>&1; then
		echo "${1##*/}: needs root: run it as root, or as a user with sudo" >&2
		exit 1
	fi
	echo "${1##*/}: not root: running it again through sudo" >&2
	for as_root_v in $AS_ROOT_KEEP; do
		eval "[ -n \"\${$as_root_v+x}\" ]" || continue
		set -- "$as_root_v=$(eval "printf '%s' \"\$$as_root_v\"")" "$@"
	done
	exec sudo -- env "$@"
}
