#!/bin/sh
# tests/guest/demo-in-guest.sh: the guest half of tests/demo.sh: show the
# disk vhost-uring-blk serves, then run fio on it, print fio's report, and
# end with a table of fio's own figures (from its terse lines) per workload.
set -u
. /guest-functions.sh
dev=/dev/vda
sectors=$(cat /sys/block/vda/size)
queues=$(ls /sys/block/vda/mq | wc -l)
echo "guest: $dev is $((sectors / 2048)) MiB, $queues request queue(s), cache: $(cat /sys/block/vda/queue/write_cache)"
cat > /tmp/demo.fio <<FIO
[global]
filename=$dev
direct=1
ioengine=io_uring
time_based=1
runtime=${DEMO_RUNTIME:-8}
size=512m
group_reporting=1

[4k-randwrite-qd32]
rw=randwrite
bs=4k
iodepth=32
numjobs=$queues

[4k-randread-qd32]
stonewall
rw=randread
bs=4k
iodepth=32
numjobs=$queues

[128k-seqread-qd8]
stonewall
rw=read
bs=128k
iodepth=8
FIO
echo "guest: running fio (each job ${DEMO_RUNTIME:-8} s)"
fio --eta=never --output-format=normal,terse --output=/tmp/demo.out /tmp/demo.fio
rc=$?
grep -v '^3;' /tmp/demo.out
# Terse v3, one line per workload: the read half from field 6, the write
# half from field 47 (io KiB, bandwidth KiB/s, IOPS; clat percentiles in
# fields 18-37 / 59-78, total latency's mean in field 40 / 81; usec).
grep '^3;' /tmp/demo.out | awk -F';' '
function p99(from,  i) {
	for (i = from; i < from + 20; i++)
		if ($i ~ /^99\.0+%=/) { sub(/.*=/, "", $i); return $i }
	return "?"
}
BEGIN {
	print ""
	printf "%-20s %10s %12s %12s %12s\n", "workload", "IOPS", "bandwidth", "mean lat", "p99 clat"
}
{
	w = ($6 > 0) ? 0 : 41
	printf "%-20s %10d %7.1f MiB/s %9.1f us %9d us\n", $3, $(8 + w),
	       $(7 + w) / 1024, $(40 + w), p99(18 + w)
}'
exit $rc
