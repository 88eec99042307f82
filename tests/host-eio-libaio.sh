#!/bin/sh
# vhost-uring-blk and vhost-uring-scsi on a FUSE file failing with EIO and ENOSPC, with libaio.
TEST_AIO=libaio exec ./tests/test-host-eio
