// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-stability.c: many front ends in a row.  Each cycle connects,
 * negotiates, shares memory, starts two queues, writes and reads back a
 * block, and disconnects.  After TEST_CYCLES cycles (default 1000) the
 * daemon must hold exactly the fds it held after the warm-up, and its
 * resident memory must not have grown by more than a bounded slack.
 *
 * Environment: TEST_AIO (engine), TEST_CYCLES.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_blk.h>

#include "harness.h"
#include "log.h"
#include "tap.h"
#include "util.h"
#include "vu_proto.h"

#define WARMUP		50
/* Allocator and page-cache noise; a per-cycle leak of 1 KiB shows well above. */
#define RSS_SLACK_KIB	512

/* Everything offered. */
static uint64_t want_features(void)
{
	return ~0ull;
}

static uint64_t want_pf(void)
{
	return BIT_ULL(VU_PF_MQ) | BIT_ULL(VU_PF_REPLY_ACK) |
	       BIT_ULL(VU_PF_CONFIG) | BIT_ULL(VU_PF_CONFIGURE_MEM_SLOTS);
}

/*
 * AddressSanitizer keeps freed memory in a quarantine of up to 256 MiB,
 * which would look like growth: measure the daemon without it.
 */
static void no_quarantine(void)
{
#ifdef __SANITIZE_ADDRESS__
	const char *old = getenv("ASAN_OPTIONS");
	char buf[512];

	snprintf(buf, sizeof(buf), "%s%squarantine_size_mb=0:thread_local_quarantine_size_kb=0",
		 old ? old : "", old && *old ? ":" : "");
	setenv("ASAN_OPTIONS", buf, 1);
#endif
}

/* One cycle; returns 0 when the block written came back intact. */
static int cycle(struct daemon *d, unsigned int n)
{
	uint64_t sector = (n % 256) * 8;
	struct blkc_res r;
	struct blkc c;
	int ret;

	ret = blkc_open(&c, d->sock, 2, want_features(), want_pf());
	if (ret)
		return ret;
	for (unsigned int i = 0; i < 4096; i++)
		c.data[i] = (uint8_t)(n + i * 7);
	ret = blkc_req(&c, n % 2, VIRTIO_BLK_T_OUT, sector, 4096, false, n % 3 == 0, &r);
	if (ret == 0 && r.status != VIRTIO_BLK_S_OK)
		ret = -EIO;
	if (ret == 0) {
		memset(c.data, 0, 4096);
		ret = blkc_req(&c, (n + 1) % 2, VIRTIO_BLK_T_IN, sector, 4096, true,
			       false, &r);
	}
	if (ret == 0 && r.status != VIRTIO_BLK_S_OK)
		ret = -EIO;
	for (unsigned int i = 0; ret == 0 && i < 4096; i++) {
		if (c.data[i] != (uint8_t)(n + i * 7))
			ret = -EILSEQ;
	}
	blkc_close(&c);
	return ret;
}

int main(void)
{
	const char *env = getenv("TEST_CYCLES");
	unsigned int cycles = env ? (unsigned int)atoi(env) : 1000, failed = 0;
	struct test_env te;
	int fds0, fds1;
	long rss0, rss1;
	struct daemon d;

	signal(SIGPIPE, SIG_IGN);
	vu_log_init("test-stability", 0);
	if (!test_env_init(&te, 16 << 20))
		return 0;
	tap_diag("engine %s, %u cycles", te.aio, cycles);
	no_quarantine();
	{
		const char *args[] = { te.img_arg, te.aio_arg, "--cache=writeback",
				       "--num-queues=2", NULL };

		if (daemon_start(&d, args) < 0) {
			ok(false, "daemon starts");
			harness_cleanup();
			return tap_done();
		}
	}
	for (unsigned int i = 0; i < WARMUP; i++)
		failed += cycle(&d, i) != 0;
	fds0 = daemon_settled_fd_count(&d);
	rss0 = daemon_rss_kib(&d);
	for (unsigned int i = 0; i < cycles; i++) {
		if (cycle(&d, WARMUP + i) != 0 && failed++ < 3)
			tap_diag("cycle %u failed", i);
	}
	fds1 = daemon_wait_fds(&d, fds0, 5000);
	rss1 = daemon_rss_kib(&d);
	ok(failed == 0, "%u connect, negotiate, write, read back, disconnect cycles all succeed (%u failed)",
	   cycles + WARMUP, failed);
	ok(daemon_alive(&d), "the daemon is alive afterwards");
	ok(fds0 > 0 && fds1 == fds0, "it holds the same %d fds after %u more cycles (now %d)",
	   fds0, cycles, fds1);
	ok(rss0 > 0 && rss1 > 0 && rss1 - rss0 <= RSS_SLACK_KIB,
	   "its resident memory is stable: %ld KiB after the warm-up, %ld KiB after %u more cycles (slack %d KiB)",
	   rss0, rss1, cycles, RSS_SLACK_KIB);
	ok(daemon_stop(&d) == 0, "it exits cleanly on SIGTERM");
	harness_cleanup();
	return tap_done();
}
