#!/bin/sh
# The I/O thread's pause protocol, with the io_uring engine.
TEST_AIO=io_uring exec ./tests/test-iothread
