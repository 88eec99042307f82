#!/bin/sh
# Online resize of vhost-uring-blk (SIGHUP, CONFIG_CHANGE_MSG) with libaio.
TEST_AIO=libaio exec ./tests/test-blk-resize
