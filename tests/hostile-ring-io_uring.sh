#!/bin/sh
# The hostile guest-driver suite (tests/test-hostile-ring.c) with the io_uring engine.
TEST_AIO=io_uring exec ./tests/test-hostile-ring
