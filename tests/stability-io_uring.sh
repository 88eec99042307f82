#!/bin/sh
# 1000 front ends in a row against vhost-uring-blk with io_uring: no fd or memory growth.
TEST_AIO=io_uring exec ./tests/test-stability
