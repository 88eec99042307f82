#!/bin/sh
# VM-less front-end tests of vhost-uring-blk with the libaio engine.
TEST_AIO=libaio exec ./tests/test-blk-front
