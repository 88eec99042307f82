#!/bin/sh
# VM-less front-end tests of vhost-uring-scsi with the io_uring engine.
TEST_AIO=io_uring exec ./tests/test-scsi-front
