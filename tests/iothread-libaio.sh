#!/bin/sh
# The I/O thread's pause protocol, with the libaio engine.
TEST_AIO=libaio exec ./tests/test-iothread
