// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-blk-front-options.c: vhost-uring-blk started with options of its
 * own, each daemon driven through the project's own vhost-user front end
 * with no VM: read-only and 4 KiB-block disks, the cache modes (writeback
 * at start-up, what writes leave in the host page cache), an inherited
 * listening socket (--fd), SIGINT, and the command line's refusals.  The
 * long-running daemon's data path is test-blk-front-serve.c's.
 */
#include <endian.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/virtio_blk.h>

#include "blk-front-env.h"
#include "harness.h"
#include "tap.h"
#include "test-util.h"
#include "util.h"

/* A daemon of its own with extra arguments, and a client connected to it. */
static bool start_with(const char *const *args, struct daemon *d,
		       struct blkc *c, const char *what)
{
	if (daemon_start(d, args) == 0 &&
	    blkc_open(c, d->sock, 1, all_features(), all_pf()) == 0)
		return true;
	ok(false, "%s: daemon starts and a front end connects", what);
	daemon_stop(d);
	return false;
}

static void test_read_only(void)
{
	const char *args[] = { env.img_arg, env.aio_arg, "--read-only", NULL };
	struct daemon d;
	struct blkc_res r;
	struct blkc c;
	int ret;

	host_fill(0x42, 4096, 0);
	if (!start_with(args, &d, &c, "read-only: start"))
		return;
	ok(c.f.features & BIT_ULL(VIRTIO_BLK_F_RO) &&
	   !(c.f.features & BIT_ULL(VIRTIO_BLK_F_DISCARD)) &&
	   !(c.f.features & BIT_ULL(VIRTIO_BLK_F_WRITE_ZEROES)),
	   "--read-only offers RO and neither DISCARD nor WRITE_ZEROES");
	ret = blkc_req(&c, 0, VIRTIO_BLK_T_IN, 0, 4096, true, false, &r);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK && c.data[0] == 0x42, "reads work");
	blkc_close(&c);
	ok(daemon_stop(&d) == 0, "read-only daemon exits 0 on SIGTERM");
}

static void test_block_size_4k(void)
{
	const char *args[] = { env.img_arg, env.aio_arg, "--logical-block-size=4096", NULL };
	struct virtio_blk_config cfg;
	struct daemon d;
	struct blkc_res r;
	struct blkc c;
	int ret;

	if (!start_with(args, &d, &c, "4k: start"))
		return;
	ok(front_get_config(&c.f, 0, 57, &cfg) == 0 && le32toh(cfg.blk_size) == 4096,
	   "--logical-block-size=4096 is reported in blk_size");
	ret = blkc_req(&c, 0, VIRTIO_BLK_T_IN, 8, 4096, true, false, &r);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK, "an aligned 4 KiB read works");
	blkc_close(&c);
	daemon_stop(&d);
}

static void test_writeback_cache(void)
{
	const char *args[] = { env.img_arg, env.aio_arg, "--cache=writeback", NULL };
	uint8_t host[4096], expect[4096];
	struct daemon d;
	struct blkc_res r;
	struct blkc c;
	int ret;

	if (!start_with(args, &d, &c, "writeback: start"))
		return;
	pattern(c.data, 4096, 77);
	pattern(expect, 4096, 77);
	ret = blkc_req(&c, 0, VIRTIO_BLK_T_OUT, 2048, 4096, false, false, &r);
	ret = ret ? ret : blkc_req(&c, 0, VIRTIO_BLK_T_FLUSH, 0, 0, false, false, &r);
	host_pread(host, 4096, 2048 * 512);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK && !memcmp(host, expect, 4096),
	   "--cache=writeback: write and flush land in the image");
	blkc_close(&c);
	daemon_stop(&d);
}

/*
 * The cache modes.  Each starts with the writeback field the mode gives;
 * what a write leaves in the host page cache, read back with cachestat(2),
 * shows whether it went around the page cache (O_DIRECT) and whether it
 * was durable when it completed (no dirty page left, none under writeback).
 */
struct cache_case {
	const char *mode;
	bool wce;		/* writeback at start-up */
	bool direct;		/* O_DIRECT: nothing stays in the page cache */
};

static const struct cache_case cache_cases[] = {
	{ "none", true, true },
	{ "writeback", true, false },
	{ "writethrough", false, false },
	{ "directsync", false, true },
};

#define CACHE_AREA	((48u << 20) / 512)	/* 1 MiB per case from here */
#define CACHE_LEN	65536u

/* A 64 KiB write at sector lands in the image; ps: the page cache just after. */
static bool cache_write(struct blkc *c, uint64_t sector, unsigned int seed,
			struct page_state *ps, bool *seen)
{
	uint8_t *expect = malloc(CACHE_LEN), *host = malloc(CACHE_LEN);
	struct blkc_res r;
	bool landed;
	int ret;

	pattern(c->data, CACHE_LEN, seed);
	pattern(expect, CACHE_LEN, seed);
	ret = blkc_req(c, 0, VIRTIO_BLK_T_OUT, sector, CACHE_LEN, false, false, &r);
	/* Before reading the file, which would fill the page cache. */
	*seen = page_state(env.img, sector * 512, CACHE_LEN, ps) == 0;
	host_pread(host, CACHE_LEN, sector * 512);
	landed = ret == 0 && r.status == VIRTIO_BLK_S_OK &&
		 !memcmp(host, expect, CACHE_LEN);
	free(expect);
	free(host);
	return landed;
}

/* What the page cache must show after a write with writeback wce. */
static void check_pages(const struct cache_case *k, bool seen,
			const struct page_state *ps, bool wce, const char *what)
{
	if (!seen) {
		tap_skip("cachestat(2) cannot see this image's page cache");
		return;
	}
	if (k->direct)
		ok(ps->cached == 0, "--cache=%s: %s went around the page cache (%llu pages cached)",
		   k->mode, what, (unsigned long long)ps->cached);
	else if (wce)
		ok(ps->cached > 0 && ps->dirty > 0,
		   "--cache=%s: %s is left in the page cache, dirty (%llu cached, %llu dirty)",
		   k->mode, what, (unsigned long long)ps->cached,
		   (unsigned long long)ps->dirty);
	else
		ok(ps->cached > 0 && ps->dirty == 0 && ps->writeback == 0,
		   "--cache=%s: %s is durable when it completes (%llu cached, %llu dirty, %llu under writeback)",
		   k->mode, what, (unsigned long long)ps->cached,
		   (unsigned long long)ps->dirty, (unsigned long long)ps->writeback);
}

/* Turn writeback to wce and read it back. */
static bool cache_set_wce(struct blkc *c, uint8_t wce)
{
	struct virtio_blk_config cfg;

	return front_set_config(&c->f, offsetof(struct virtio_blk_config, wce), 1, &wce) == 0 &&
	       front_get_config(&c->f, 0, 57, &cfg) == 0 && cfg.wce == wce;
}

static void test_cache_mode(const struct cache_case *k, uint64_t sector)
{
	char arg[64];
	const char *args[] = { env.img_arg, env.aio_arg, arg, NULL };
	struct virtio_blk_config cfg;
	struct page_state ps;
	struct daemon d;
	struct blkc_res r;
	struct blkc c;
	bool seen;
	int ret;

	snprintf(arg, sizeof(arg), "--cache=%s", k->mode);
	if (!start_with(args, &d, &c, arg))
		return;
	ok(daemon_log_has(&d, arg + 2), "%s: the start-up line names the mode", arg);
	ok(front_get_config(&c.f, 0, 57, &cfg) == 0 && cfg.wce == k->wce,
	   "%s: the config space reports writeback=%d", arg, k->wce);
	ok(cache_write(&c, sector, 80, &ps, &seen), "%s: a write lands in the image", arg);
	check_pages(k, seen, &ps, k->wce, "a write at start-up");

	/* The guest may change the write cache in any mode. */
	ok(cache_set_wce(&c, !k->wce), "%s: SET_CONFIG writeback=%d is taken", arg, !k->wce);
	ok(cache_write(&c, sector + 128, 81, &ps, &seen),
	   "%s: a write lands in the image with writeback=%d", arg, !k->wce);
	check_pages(k, seen, &ps, !k->wce, "a write after SET_CONFIG");
	ret = blkc_req(&c, 0, VIRTIO_BLK_T_FLUSH, 0, 0, false, false, &r);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK, "%s: flush completes OK", arg);
	if (!k->direct && page_state(env.img, sector * 512, 2 * CACHE_LEN, &ps) == 0)
		ok(ps.dirty == 0 && ps.writeback == 0,
		   "%s: after the flush no page of either write is dirty", arg);
	cache_set_wce(&c, 1);
	blkc_close(&c);

	/* A driver that cannot flush gets write-through, whatever writeback says. */
	ret = blkc_open(&c, d.sock, 1, all_features() & ~BIT_ULL(VIRTIO_BLK_F_FLUSH), all_pf());
	if (!ok(ret == 0, "%s: a driver without FLUSH connects", arg)) {
		daemon_stop(&d);
		return;
	}
	ok(cache_write(&c, sector + 256, 82, &ps, &seen),
	   "%s: without FLUSH a write lands in the image", arg);
	check_pages(k, seen, &ps, false, "a write without FLUSH negotiated");
	blkc_close(&c);
	ok(daemon_stop(&d) == 0, "%s: the daemon exits 0 on SIGTERM", arg);
}

static void test_cache_modes(void)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(cache_cases); i++)
		test_cache_mode(&cache_cases[i], CACHE_AREA + i * 2048);
}

static void test_inherited_fd(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct blkc_res r;
	struct blkc c;
	int lfd, status, ret;
	pid_t pid;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/inherited.sock", harness_dir());
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 4) < 0) {
		ok(false, "--fd: listening socket");
		return;
	}
	pid = fork();
	if (pid == 0) {
		const char *bin = getenv("VHOST_URING_BLK");

		dup2(lfd, 3);
		execl(bin ? bin : "./vhost-uring-blk", "vhost-uring-blk", "--fd=3",
		      env.img_arg, env.aio_arg, NULL);
		_exit(127);
	}
	close(lfd);
	ret = blkc_open(&c, sa.sun_path, 1, all_features(), all_pf());
	ret = ret ? ret : blkc_req(&c, 0, VIRTIO_BLK_T_IN, 0, 512, true, false, &r);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK, "--fd with an inherited listening socket serves I/O");
	blkc_close(&c);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "and exits 0 on SIGTERM");
}

static void test_sigint(void)
{
	const char *args[] = { env.img_arg, env.aio_arg, NULL };
	struct daemon d;
	struct stat st;
	int status;

	if (daemon_start(&d, args) < 0) {
		ok(false, "SIGINT: start");
		return;
	}
	kill(d.pid, SIGINT);
	ok(waitpid(d.pid, &status, 0) == d.pid && WIFEXITED(status) &&
	   WEXITSTATUS(status) == 0 && stat(d.sock, &st) < 0,
	   "SIGINT ends the daemon with status 0 and removes its socket");
	d.pid = -1;
}

static void test_cli(void)
{
	char out[4096];
	const char *bad_opt[] = { "--socket-path=/tmp/x", env.img_arg, "--bogus", NULL };
	const char *no_file[] = { "--socket-path=/tmp/x", "--blk-file=/nonexistent/img", NULL };
	const char *both[] = { "--socket-path=/tmp/x", "--fd=3", env.img_arg, NULL };
	const char *caps[] = { "--print-capabilities", NULL };
	const char *bad_lbs[] = { "--socket-path=/tmp/x", env.img_arg, "--logical-block-size=1024", NULL };
	const char *bad_mode[] = { "--socket-path=/tmp/x", env.img_arg, "--socket-mode=0999", NULL };
	const char *bad_cache[] = { "--socket-path=/tmp/x", env.img_arg, "--cache=unsafe", NULL };

	ok(run_daemon_cmd(caps, out, sizeof(out)) == 0 &&
	   !strcmp(out, "{\"type\": \"block\", \"features\": [\"read-only\", \"blk-file\"]}\n"),
	   "--print-capabilities prints the JSON capabilities");
	ok(run_daemon_cmd(bad_opt, out, sizeof(out)) == 1, "an unknown option exits 1");
	ok(run_daemon_cmd(no_file, out, sizeof(out)) == 1 &&
	   strchr(out, '\n') == out + strlen(out) - 1 && strstr(out, "/nonexistent/img"),
	   "a missing image exits 1 with one line naming it");
	ok(run_daemon_cmd(both, out, sizeof(out)) == 1 && strstr(out, "exactly one"),
	   "--socket-path with --fd exits 1");
	ok(run_daemon_cmd(bad_lbs, out, sizeof(out)) == 1, "--logical-block-size=1024 exits 1");
	ok(run_daemon_cmd(bad_mode, out, sizeof(out)) == 1 && strstr(out, "octal"),
	   "--socket-mode=0999 exits 1");
	ok(run_daemon_cmd(bad_cache, out, sizeof(out)) == 1 &&
	   strchr(out, '\n') == out + strlen(out) - 1 &&
	   strstr(out, "--cache=unsafe: expected none, writeback, writethrough or directsync"),
	   "--cache=unsafe exits 1 with one line listing the cache modes");
	if (getenv("TEST_EXPECT_FALLBACK")) {
		const char *uring[] = { "--socket-path=/tmp/x", env.img_arg, "--aio=io_uring", NULL };

		ok(run_daemon_cmd(uring, out, sizeof(out)) == 1 &&
		   strstr(out, "io_uring_setup failed: Operation not permitted"),
		   "--aio=io_uring where io_uring is refused exits 1 saying why");
	}
}

int main(void)
{
	if (!blk_front_init("test-blk-front-options", NULL))
		return 0;
	test_read_only();
	test_block_size_4k();
	test_writeback_cache();
	test_cache_modes();
	test_inherited_fd();
	test_sigint();
	test_cli();
	harness_cleanup();
	return tap_done();
}
