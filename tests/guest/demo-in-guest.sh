#!/bin/sh
# tests/guest/demo-in-guest.sh: the guest half of tests/demo.sh: show the
# disk vhost-uring-blk serves, then run fio on it and print fio's report.
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
fio --eta=never /tmp/demo.fio
