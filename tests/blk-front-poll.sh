#!/bin/sh
# The VM-less front-end tests with the I/O thread polling the rings
# (--poll-us), where kicks stay off while it polls.
TEST_AIO=io_uring TEST_EXTRA_ARG=--poll-us=100 exec ./tests/test-blk-front
