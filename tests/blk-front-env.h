/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * blk-front-env.h: what the two front-end tests of vhost-uring-blk
 * (test-blk-front-serve.c, test-blk-front-options.c) share: the image and
 * engine they run with, the features they ask for, and the host's view of
 * the image file.
 */
#ifndef VU_BLK_FRONT_ENV_H
#define VU_BLK_FRONT_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "harness.h"

#define IMG_SIZE	(64u << 20)
#define CAPACITY	(IMG_SIZE / 512)

/* The image and the engine ($TEST_AIO, default io_uring). */
extern struct test_env env;

/*
 * Ignore SIGPIPE, name the log, create the image and say in a TAP comment
 * what the test runs with (extra: more daemon arguments, or NULL).  False
 * when this build lacks the engine: a skipping plan is printed already.
 */
bool blk_front_init(const char *name, const char *extra);

/* Every feature bit, and the protocol features a QEMU front end asks for. */
uint64_t all_features(void);
uint64_t all_pf(void);

/* Read the image file as the host sees it (0xee bytes when it cannot). */
void host_pread(void *buf, size_t len, off_t off);

/* Write len bytes of c at off into the image file and fsync it. */
void host_fill(uint8_t c, size_t len, off_t off);

#endif
