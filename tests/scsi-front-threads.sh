#!/bin/sh
# VM-less front-end tests of vhost-uring-scsi with 2 I/O threads: the cases
# run on a request queue of the thread that does not serve the control queue.
TEST_AIO=io_uring TEST_SCSI_THREADS=2 exec ./tests/test-scsi-front
