#!/bin/sh
# 1000 front ends in a row against vhost-uring-blk with libaio: no fd or memory growth.
TEST_AIO=libaio exec ./tests/test-stability
