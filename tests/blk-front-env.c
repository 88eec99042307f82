// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * blk-front-env.c: the set-up and host-side helpers that the front-end
 * tests of vhost-uring-blk share (see blk-front-env.h).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blk-front-env.h"
#include "log.h"
#include "tap.h"
#include "util.h"

struct test_env env;

bool blk_front_init(const char *name, const char *extra)
{
	signal(SIGPIPE, SIG_IGN);
	vu_log_init(name, 0);
	if (!test_env_init(&env, IMG_SIZE))
		return false;
	tap_diag("engine %s, image %s%s%s", env.aio, env.img, extra ? ", " : "",
		 extra ? extra : "");
	return true;
}

uint64_t all_features(void)
{
	return ~0ull;
}

uint64_t all_pf(void)
{
	return BIT_ULL(VU_PF_MQ) | BIT_ULL(VU_PF_REPLY_ACK) |
	       BIT_ULL(VU_PF_CONFIG) | BIT_ULL(VU_PF_CONFIGURE_MEM_SLOTS);
}

void host_pread(void *buf, size_t len, off_t off)
{
	int fd = open(env.img, O_RDONLY);

	if (fd < 0 || pread(fd, buf, len, off) != (ssize_t)len)
		memset(buf, 0xee, len);
	if (fd >= 0)
		close(fd);
}

void host_fill(uint8_t c, size_t len, off_t off)
{
	uint8_t *buf = malloc(len);
	int fd = open(env.img, O_WRONLY);

	memset(buf, c, len);
	if (fd < 0 || pwrite(fd, buf, len, off) != (ssize_t)len || fsync(fd) < 0)
		exit(99);
	close(fd);
	free(buf);
}
