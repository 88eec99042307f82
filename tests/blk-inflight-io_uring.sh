#!/bin/sh
# Back-end restarts with the inflight region (VM-less), io_uring engine.
TEST_AIO=io_uring exec ./tests/test-blk-inflight
