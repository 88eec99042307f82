#!/bin/sh
# vhost-uring-blk on host storage (block device, full and shrinking file systems) with libaio.
TEST_AIO=libaio exec ./tests/test-blk-host
