#!/bin/bash
# tests/bench-verify-scsi.sh: vhost-uring-bench --device=scsi as a
# correctness test against vhost-uring-scsi.  Short --verify runs (mixed
# reads and writes, self-checking blocks) with both engines, 1 and 2 request
# queues, on a 512-byte and a 4096-byte LUN; --verify must notice data
# changed behind its back; then the scsi error paths: an absent LUN, a --bs
# the LUN's block size does not divide, a command failing with CHECK
# CONDITION mid-run, writes to a read-only LUN and more queues than offered
# must each end the run with a clear message and status 1.  Asserts behaviour only, never a speed.
# TAP on stdout.
set -u

# shellcheck source=bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
scsi=${VHOST_URING_SCSI:-$builddir/vhost-uring-scsi}

# start_scsi NAME ARGS...: a vhost-uring-scsi on $tmp/NAME.sock; sets $pid.
start_scsi() {
	start_daemon "$scsi" "$@"
}

# verify_run SOCKET ARGS...: a short --verify run in scsi mode.
verify_run() {
	local sock=$1
	shift
	bench_verify "$sock" --device=scsi "$@"
}

# fails_with MESSAGE ARGS...: the bench exits with status 1 and says MESSAGE.
fails_with() {
	local msg=$1
	shift
	timeout 60 "$bench" --runtime=1 --ramp=0 "$@" >"$tmp/out" 2>&1
	rc=$?
	[ $rc = 1 ] && grep -q -- "$msg" "$tmp/out"
}

truncate -s 64M "$tmp/lun0.img" "$tmp/lun1.img"

for aio in io_uring libaio; do
	if ! start_scsi "$aio" --lun=0,file="$tmp/lun0.img" \
			--lun=1,file="$tmp/lun1.img",logical-block-size=4096 \
			--aio="$aio" --num-queues=2; then
		ok 1 "vhost-uring-scsi --aio=$aio starts"
		continue
	fi
	verify_queues "$tmp/$aio.sock" "vhost-uring-scsi --aio=$aio, LUN 0" "request queue(s)"
	verify_run "$tmp/$aio.sock" --lun=1 --queues=2 --iodepth=8 --bs=64k --rw=write
	ok $? "--verify against vhost-uring-scsi --aio=$aio, 4096-byte LUN 1, 64k sequential writes read back"
	verify_run "$tmp/$aio.sock" --lun=1 --queues=1 --iodepth=4 --no-indirect
	ok $? "--verify against vhost-uring-scsi --aio=$aio, LUN 1 without indirect descriptors: no verify errors"
	stop_after_runs "vhost-uring-scsi --aio=$aio"
done

# --verify must notice data that changed behind its back.
truncate -s 64M "$tmp/tamper.img"
start_scsi tamper --lun=0,file="$tmp/tamper.img"
(sleep 1.5; dd if=/dev/urandom of="$tmp/tamper.img" bs=1M count=8 seek=4 \
	oflag=direct conv=notrunc status=none) &
timeout 60 "$bench" --device=scsi --socket="$tmp/tamper.sock" --verify \
	--rw=randread --size=32M --runtime=2 --ramp=0 >"$tmp/out" 2>&1
rc=$?
[ $rc = 1 ] && grep -q 'verify error at offset' "$tmp/out" &&
	grep -q '[1-9][0-9]* verify errors' "$tmp/out"
ok $? "--device=scsi --verify reports blocks overwritten behind its back and exits 1 (status $rc)"
kill "$pid"

# Error paths, against one daemon with a 4096-byte LUN 2, a read-only LUN 3
# and 2 request queues.
truncate -s 64M "$tmp/err.img"
start_scsi err --lun=0,file="$tmp/lun0.img" \
	--lun=2,file="$tmp/err.img",logical-block-size=4096 \
	--lun=3,file="$tmp/lun1.img",read-only --num-queues=2
fails_with 'LUN 5: TEST UNIT READY failed: status CHECK CONDITION, sense key ILLEGAL REQUEST, ASC/ASCQ 25h/00h' \
	--device=scsi --socket="$tmp/err.sock" --lun=5
ok $? "an absent LUN ends the run with status 1 and the sense data (status $rc)"
fails_with "--bs=512 is not a multiple of the disk's 4096-byte blocks" \
	--device=scsi --socket="$tmp/err.sock" --lun=2 --bs=512
ok $? "--bs=512 on a 4096-byte LUN is refused with status 1 (status $rc)"
fails_with 'offers 4 queues (control, event and 2 request queues), --queues=3 asked for more' \
	--device=scsi --socket="$tmp/err.sock" --queues=3
ok $? "--queues beyond the request queues offered is refused with status 1 (status $rc)"
fails_with 'LUN 3 is write-protected; use --rw=read or --rw=randread' \
	--device=scsi --socket="$tmp/err.sock" --lun=3 --rw=randwrite
ok $? "writes to a read-only LUN are refused before the run with status 1 (status $rc)"
timeout 60 "$bench" --device=scsi --socket="$tmp/err.sock" --lun=3 --rw=randread \
	--runtime=1 --ramp=0 >"$tmp/out" 2>&1 &&
	grep -q '^vhost-uring-bench: scsi lun=3 randread' "$tmp/out"
ok $? "random reads of a read-only LUN run and exit cleanly"
fails_with '--lun needs --device=scsi' --socket="$tmp/err.sock" --lun=2
ok $? "--lun without --device=scsi is refused with status 1 (status $rc)"
fails_with '--device=nvme: expected blk or scsi' --socket="$tmp/err.sock" --device=nvme
ok $? "an unknown --device is refused with status 1 (status $rc)"
kill -0 "$pid"
ok $? "vhost-uring-scsi is still up after the refused runs"
kill "$pid"

# A command failing mid-run: the image shrinks under the daemon, so reads
# past the new end complete with CHECK CONDITION.
truncate -s 64M "$tmp/shrink.img"
start_scsi shrink --lun=0,file="$tmp/shrink.img"
truncate -s 1M "$tmp/shrink.img"
fails_with 'READ(16) of 1048576 bytes at offset [0-9]* (LUN 0) failed: status CHECK CONDITION, sense key MEDIUM ERROR' \
	--device=scsi --socket="$tmp/shrink.sock" --rw=read --bs=1M --iodepth=4
ok $? "a READ(16) failing with CHECK CONDITION ends the run with status 1 and the sense key (status $rc)"
kill "$pid"

echo "1..$n"
exit $fail
