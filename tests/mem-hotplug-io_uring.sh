#!/bin/sh
# Memory hotplug without a VM: REM_MEM_REG while a read into the region is held in a FUSE file (io_uring).
TEST_AIO=io_uring exec ./tests/test-mem-hotplug
