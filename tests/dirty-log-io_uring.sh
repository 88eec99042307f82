#!/bin/sh
# Dirty logging for live migration (VM-less), io_uring engine.
TEST_AIO=io_uring exec ./tests/test-dirty-log
