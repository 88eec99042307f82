#!/bin/sh
# Online resize of vhost-uring-blk (SIGHUP, CONFIG_CHANGE_MSG) with io_uring.
TEST_AIO=io_uring exec ./tests/test-blk-resize
