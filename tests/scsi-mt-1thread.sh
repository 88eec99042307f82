#!/bin/sh
# TMFs and COMPARE AND WRITE with 1 I/O thread, I/O held in a FUSE file (io_uring).
TEST_AIO=io_uring TEST_SCSI_THREADS=1 exec ./tests/test-scsi-mt
