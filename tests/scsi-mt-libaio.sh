#!/bin/sh
# TMFs and COMPARE AND WRITE across 2 I/O threads, I/O held in a FUSE file (libaio).
TEST_AIO=libaio TEST_SCSI_THREADS=2 exec ./tests/test-scsi-mt
