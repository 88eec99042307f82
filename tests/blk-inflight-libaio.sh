#!/bin/sh
# Back-end restarts with the inflight region (VM-less), libaio engine.
TEST_AIO=libaio exec ./tests/test-blk-inflight
