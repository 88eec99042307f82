#!/bin/sh
# VM-less front-end tests of vhost-uring-scsi with the libaio engine.
TEST_AIO=libaio exec ./tests/test-scsi-front
