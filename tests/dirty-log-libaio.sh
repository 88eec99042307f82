#!/bin/sh
# Dirty logging for live migration (VM-less), libaio engine.
TEST_AIO=libaio exec ./tests/test-dirty-log
