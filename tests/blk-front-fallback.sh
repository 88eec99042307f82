#!/bin/sh
# The VM-less front-end tests with --aio=auto under a seccomp filter that
# refuses io_uring_setup: the daemon must fall back to libaio and say why.
TEST_AIO=auto TEST_EXPECT_FALLBACK=1 VHOST_URING_WRAPPER=./tests/no-uring \
	exec ./tests/test-blk-front
