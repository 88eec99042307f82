#!/bin/sh
# The hostile front-end suite (tests/test-hostile-msg.c) with the libaio engine.
TEST_AIO=libaio exec ./tests/test-hostile-msg
