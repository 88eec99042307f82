#!/bin/sh
# VM-less front-end tests of vhost-uring-blk with the io_uring engine.
TEST_AIO=io_uring exec ./tests/test-blk-front
