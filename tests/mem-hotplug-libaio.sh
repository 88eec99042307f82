#!/bin/sh
# Memory hotplug without a VM: REM_MEM_REG while a read into the region is held in a FUSE file (libaio).
TEST_AIO=libaio exec ./tests/test-mem-hotplug
