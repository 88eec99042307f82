#!/bin/bash
# tests/bench-dirty-log.sh: the back-ends' dirty page log, checked by
# vhost-uring-bench --dirty-log.  Short runs with logging on from the start
# of the run to its end, against vhost-uring-blk with both engines (random
# reads, a read/write mix with --verify on two queues, writes only) and
# against vhost-uring-scsi (random reads, a read/write mix, without indirect
# descriptors); each must report every page the device wrote as logged
# (0 missing) and exit 0.  Asserts behaviour only, never a speed.  TAP on
# stdout.
set -u

# shellcheck source=bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
blk=${VHOST_URING_BLK:-$builddir/vhost-uring-blk}
scsi=${VHOST_URING_SCSI:-$builddir/vhost-uring-scsi}

# dirty_run SOCKET ARGS...: a short --dirty-log run; succeeds on a clean
# exit with pages expected and none missing or logged outside memory.
dirty_run() {
	local sock=$1
	shift
	timeout 120 "$bench" --socket="$sock" --dirty-log --size=32M \
		--runtime=1 --ramp=0.2 "$@" >"$tmp/out" 2>&1 &&
	grep -q 'dirty log: [1-9][0-9]* pages expected, 0 missing' "$tmp/out"
}

truncate -s 64M "$tmp/disk.img" "$tmp/lun0.img"

for aio in io_uring libaio; do
	if ! start_daemon "$blk" "blk-$aio" --blk-file="$tmp/disk.img" \
			--aio="$aio" --num-queues=2; then
		ok 1 "vhost-uring-blk --aio=$aio starts"
		continue
	fi
	dirty_run "$tmp/blk-$aio.sock" --rw=randread --iodepth=32
	ok $? "vhost-uring-blk --aio=$aio, random reads: every page written is logged"
	dirty_run "$tmp/blk-$aio.sock" --rw=randrw --queues=2 --iodepth=16 --verify
	ok $? "vhost-uring-blk --aio=$aio, read/write mix on 2 queues with --verify: every page written is logged"
	dirty_run "$tmp/blk-$aio.sock" --rw=randwrite --iodepth=8 --no-indirect &&
		grep -q ' 0 extra' "$tmp/out"
	ok $? "vhost-uring-blk --aio=$aio, writes only: status and used ring pages logged, no data page"
	kill "$pid"
	wait "$pid"
	ok $? "vhost-uring-blk --aio=$aio exits cleanly after the runs"
done

if start_daemon "$scsi" scsi --lun=0,file="$tmp/lun0.img" --num-queues=2; then
	dirty_run "$tmp/scsi.sock" --device=scsi --rw=randread
	ok $? "vhost-uring-scsi, random reads: every page written is logged"
	dirty_run "$tmp/scsi.sock" --device=scsi --rw=randrw --queues=2 \
		--iodepth=16 --verify
	ok $? "vhost-uring-scsi, read/write mix on 2 queues with --verify: every page written is logged"
	dirty_run "$tmp/scsi.sock" --device=scsi --rw=randrw --no-indirect
	ok $? "vhost-uring-scsi, read/write mix without indirect descriptors: every page written is logged"
	kill "$pid"
	wait "$pid"
	ok $? "vhost-uring-scsi exits cleanly after the runs"
else
	ok 1 "vhost-uring-scsi starts"
fi

echo "1..$n"
exit $fail
