#!/bin/sh
# vhost-uring-blk and vhost-uring-scsi on a FUSE file failing with EIO and ENOSPC, with io_uring.
TEST_AIO=io_uring exec ./tests/test-host-eio
