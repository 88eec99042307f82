#!/bin/sh
# The hostile guest-driver suite (tests/test-hostile-ring.c) with the libaio engine.
TEST_AIO=libaio exec ./tests/test-hostile-ring
