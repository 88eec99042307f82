#!/bin/sh
# The hostile front-end suite (tests/test-hostile-msg.c) with the io_uring engine.
TEST_AIO=io_uring exec ./tests/test-hostile-msg
