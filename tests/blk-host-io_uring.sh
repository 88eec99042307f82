#!/bin/sh
# vhost-uring-blk on host storage (block device, full and shrinking file systems) with io_uring.
TEST_AIO=io_uring exec ./tests/test-blk-host
