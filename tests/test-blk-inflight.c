// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-blk-inflight.c: back-end restarts without lost or repeated requests
 * (INFLIGHT_SHMFD), through the project's front end and a real
 * vhost-uring-blk, doing what QEMU does with reconnect=1: keep the guest
 * memory, the rings and the inflight region, connect to the new back-end,
 * hand the region back and set every ring up again at the used index.
 *
 *  - the region GET_INFLIGHT_FD creates (size, seals, layout once used);
 *  - crash states written by hand, one per step of the bookkeeping (taken,
 *    completed but unpublished, published but not settled, half settled,
 *    settled, interrupted while taking): the next daemon must run exactly
 *    the requests the guest has not seen completed, oldest first, and
 *    continue the avail ring right after them;
 *  - SIGKILL under a load of reads and writes, round after round, each at
 *    a different point of progress; then SIGTERM under load;
 *  - hostile GET/SET_INFLIGHT_FD messages: refused with a log line, the
 *    daemon serves on and holds no extra fd or mapping.
 *
 * The engine comes from $TEST_AIO (default io_uring).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_blk.h>

#include "harness.h"
#include "inflight.h"
#include "log.h"
#include "tap.h"
#include "test-util.h"
#include "util.h"

#define IMG_SIZE	(64u << 20)
#define QSIZE		128
#define NREQ		96		/* requests per round, at most QSIZE */
#define RLEN		65536		/* bytes per read or write */
#define WRITE_AREA	(8u << 20)	/* where round writes go */
#define READ_AREA	(32u << 20)	/* what round reads find */
#define ROUNDS		6
#define SERIAL		"inflight-serial"

static struct test_env env;
static const char *std_args[] = { env.img_arg, env.aio_arg, "--num-queues=4",
				   "--serial=" SERIAL, NULL };

/* Start a daemon on the image; one that does not is a failed check, "WHAT starts". */
static bool daemon_up(struct daemon *d, const char *what)
{
	if (daemon_start(d, std_args) == 0)
		return true;
	ok(false, "%s starts", what);
	return false;
}

static uint64_t want_pf(void)
{
	return BIT_ULL(VU_PF_MQ) | BIT_ULL(VU_PF_REPLY_ACK) |
	       BIT_ULL(VU_PF_CONFIG) | BIT_ULL(VU_PF_CONFIGURE_MEM_SLOTS) |
	       BIT_ULL(VU_PF_INFLIGHT_SHMFD);
}

/* ---- helpers ---------------------------------------------------------- */

static void host_io(bool write, void *buf, size_t len, off_t off)
{
	int fd = open(env.img, write ? O_WRONLY : O_RDONLY);
	ssize_t n = -1;

	if (fd >= 0)
		n = write ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);
	if (n != (ssize_t)len) {
		if (!write)
			memset(buf, 0xee, len);
		else
			exit(99);
	}
	if (fd >= 0)
		close(fd);
}

static void kill9(struct daemon *d)
{
	int status;

	kill(d->pid, SIGKILL);
	waitpid(d->pid, &status, 0);
	d->pid = -1;
}

/* Shared-memory mappings (guest memory, inflight regions) the daemon has. */
static int memfd_maps(const struct daemon *d)
{
	char path[64], line[512];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)d->pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, "/memfd:") != NULL;
	fclose(f);
	return n;
}

/* ---- a client that outlives daemons ----------------------------------- */

struct treq {
	struct vring_desc *table;	/* its indirect table: 3 descriptors */
	uint8_t *hdr;
	uint8_t *status;
	uint8_t *buf;
	uint32_t type;
	uint64_t sector;
	uint32_t len;
	unsigned int seed;	/* data pattern of a write, or expected by a read */
	int head;
	unsigned int done;	/* completions seen */
	uint8_t got;		/* status byte at completion */
};

struct client {
	struct front f;
	unsigned int nq;
	struct vu_inflight region;
	int region_fd;
	uint8_t *map;
	struct treq req[QSIZE];
	unsigned int order[4 * QSIZE];	/* request slots, in completion order */
	unsigned int norder;
	unsigned int bad;		/* used entries matching no request */
};

static struct inflight_queue_split *region_q(struct client *c, unsigned int q)
{
	return (struct inflight_queue_split *)
		(c->map + q * inflight_queue_bytes(c->region.queue_size));
}

static unsigned int marked(struct client *c)
{
	struct inflight_queue_split *q = region_q(c, 0);
	unsigned int n = 0;

	for (unsigned int h = 0; h < QSIZE; h++)
		n += READ_ONCE(q->desc[h].inflight) != 0;
	return n;
}

static uint16_t used_idx(struct client *c)
{
	return le16toh(READ_ONCE(c->f.vqs[0].used->idx));
}

static int client_open(struct client *c, const char *sock, unsigned int nq)
{
	int ret;

	memset(c, 0, sizeof(*c));
	c->region_fd = -1;
	c->nq = nq;
	ret = front_connect(&c->f, sock, 5000);
	c->f.timeout_ms = 5000;
	ret = ret ? ret : front_negotiate(&c->f, ~0ull, want_pf());
	ret = ret ? ret : front_mem_create(&c->f, 32u << 20, 0x100000);
	ret = ret ? ret : front_mem_share(&c->f, true);
	/* QEMU's order: the region before any ring starts. */
	ret = ret ? ret : front_get_inflight(&c->f, nq, QSIZE, &c->region,
					     &c->region_fd);
	if (ret < 0)
		return ret;
	if (c->region_fd < 0)
		return -ENOENT;
	c->map = mmap(NULL, c->region.mmap_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED, c->region_fd, c->region.mmap_offset);
	if (c->map == MAP_FAILED) {
		c->map = NULL;
		return -errno;
	}
	ret = front_set_inflight(&c->f, &c->region, c->region_fd);
	for (unsigned int i = 0; i < QSIZE && ret == 0; i++) {
		struct treq *r = &c->req[i];

		r->table = front_alloc(&c->f, 3 * sizeof(*r->table), 16, NULL);
		r->hdr = front_alloc(&c->f, 16, 16, NULL);
		r->status = front_alloc(&c->f, 1, 1, NULL);
		r->buf = front_alloc(&c->f, RLEN, 4096, NULL);
		if (!r->table || !r->hdr || !r->status || !r->buf)
			ret = -ENOMEM;
	}
	for (unsigned int q = 0; q < nq && ret == 0; q++)
		ret = front_vq_start(&c->f, q, QSIZE);
	return ret;
}

/* What QEMU does when the back-end is back: same memory, rings, region. */
static int client_reattach(struct client *c, const char *sock)
{
	int ret = front_reconnect(&c->f, sock, 5000);

	ret = ret ? ret : front_negotiate(&c->f, ~0ull, want_pf());
	ret = ret ? ret : front_mem_share(&c->f, true);
	ret = ret ? ret : front_set_inflight(&c->f, &c->region, c->region_fd);
	for (unsigned int q = 0; q < c->nq && ret == 0; q++) {
		uint16_t base = le16toh(READ_ONCE(c->f.vqs[q].used->idx));

		ret = front_vq_restart(&c->f, q, base);
	}
	return ret;
}

static void client_close(struct client *c)
{
	if (c->map)
		munmap(c->map, c->region.mmap_size);
	if (c->region_fd >= 0)
		close(c->region_fd);
	front_close(&c->f);
	c->map = NULL;
	c->region_fd = -1;
}

/*
 * Put request slot i on queue 0 (not yet visible): a read, write or GET_ID,
 * through an indirect table, so that a ring of 128 holds 128 requests.
 */
static int add_req(struct client *c, unsigned int i, uint32_t type,
		   uint64_t sector, uint32_t len, unsigned int seed)
{
	struct treq *r = &c->req[i];
	struct virtio_blk_outhdr h = {
		.type = htole32(type),
		.sector = htole64(sector),
	};
	struct front_buf b[3];

	r->type = type;
	r->sector = sector;
	r->len = len;
	r->seed = seed;
	r->done = 0;
	r->got = 0xff;
	memcpy(r->hdr, &h, sizeof(h));
	*r->status = 0xff;
	if (type == VIRTIO_BLK_T_OUT)
		pattern(r->buf, len, seed);
	else
		memset(r->buf, 0, len);
	b[0] = (struct front_buf){ front_gpa(&c->f, r->hdr), 16, false };
	b[1] = (struct front_buf){ front_gpa(&c->f, r->buf), len,
				   type != VIRTIO_BLK_T_OUT };
	b[2] = (struct front_buf){ front_gpa(&c->f, r->status), 1, true };
	r->head = fvq_add_indirect(&c->f.vqs[0], r->table,
				   front_gpa(&c->f, r->table), b, 3, r);
	return r->head;
}

/* Reap completions until every slot in [from, to) is done or time is up. */
static void reap(struct client *c, unsigned int from, unsigned int to,
		 int timeout_ms)
{
	struct front_vq *vq = &c->f.vqs[0];

	for (int waited = 0;;) {
		bool all = true;
		void *cookie;
		uint32_t len;
		int ret;

		while ((ret = fvq_get_used(vq, &cookie, &len)) != 0) {
			struct treq *r = cookie;

			if (ret < 0) {
				c->bad++;
				vq->last_used++;	/* skip it */
				continue;
			}
			r->done++;
			r->got = *r->status;
			if (c->norder < ARRAY_SIZE(c->order))
				c->order[c->norder++] = r - c->req;
		}
		for (unsigned int i = from; i < to; i++)
			all &= c->req[i].done > 0;
		if (all || waited >= timeout_ms)
			return;
		fvq_enable_cb(vq);
		if (fvq_wait(vq, 20) == 0)
			waited += 20;
	}
}

/* Every slot in [from, to) completed once, with status OK and its data. */
static bool all_good(struct client *c, unsigned int from, unsigned int to,
		     char *why, size_t whylen)
{
	static uint8_t host[RLEN];

	if (c->bad) {
		snprintf(why, whylen, "%u used entries matched no pending request",
			 c->bad);
		return false;
	}
	for (unsigned int i = from; i < to; i++) {
		struct treq *r = &c->req[i];

		if (r->done != 1 || r->got != VIRTIO_BLK_S_OK) {
			snprintf(why, whylen, "slot %u: %u completions, status %u",
				 i, r->done, r->got);
			return false;
		}
		if (r->type == VIRTIO_BLK_T_OUT) {
			host_io(false, host, r->len, r->sector * 512);
			if (!is_pattern(host, r->len, r->seed)) {
				snprintf(why, whylen, "slot %u: the write at sector %llu is not in the image",
					 i, (unsigned long long)r->sector);
				return false;
			}
		} else if (r->type == VIRTIO_BLK_T_IN &&
			   !is_pattern(r->buf, r->len, r->seed)) {
			snprintf(why, whylen, "slot %u: the read at sector %llu returned wrong data",
				 i, (unsigned long long)r->sector);
			return false;
		} else if (r->type == VIRTIO_BLK_T_GET_ID &&
			   memcmp(r->buf, SERIAL, sizeof(SERIAL) - 1)) {
			snprintf(why, whylen, "slot %u: GET_ID returned the wrong serial", i);
			return false;
		}
	}
	snprintf(why, whylen, "ok");
	return true;
}

static uint16_t stop_base(struct client *c)
{
	uint16_t base = 0xffff;

	if (front_vq_stop(&c->f, 0, &base) < 0)
		return 0xffff;
	return base;
}

/* ---- the region GET_INFLIGHT_FD creates ------------------------------- */

static void test_region(void)
{
	struct inflight_queue_split *q0, *q1;
	struct daemon d;
	struct client c;
	char why[160];
	int seals, ret;

	if (!daemon_up(&d, "region: daemon"))
		return;
	ret = client_open(&c, d.sock, 2);
	ok(ret == 0, "a front end negotiates INFLIGHT_SHMFD, gets a region, hands it back and starts 2 rings (%s)",
	   strerror(-ret));
	if (ret < 0)
		goto out;
	ok(c.f.protocol_features & BIT_ULL(VU_PF_INFLIGHT_SHMFD),
	   "INFLIGHT_SHMFD is offered");
	ok(c.region.mmap_size == 2 * 2112 && c.region.mmap_offset == 0 &&
	   c.region.num_queues == 2 && c.region.queue_size == QSIZE,
	   "GET_INFLIGHT_FD for 2 queues of 128: %llu bytes at offset %llu (2 x 64-aligned 16 + 128 x 16)",
	   (unsigned long long)c.region.mmap_size,
	   (unsigned long long)c.region.mmap_offset);
	seals = fcntl(c.region_fd, F_GET_SEALS);
	ok(seals >= 0 && (seals & F_SEAL_SHRINK) && (seals & F_SEAL_GROW) &&
	   ftruncate(c.region_fd, 100) < 0,
	   "the region is a memfd sealed against shrinking and growing");
	add_req(&c, 0, VIRTIO_BLK_T_OUT, 64, 4096, 1);
	add_req(&c, 1, VIRTIO_BLK_T_GET_ID, 0, 20, 0);
	fvq_kick(&c.f.vqs[0]);
	reap(&c, 0, 2, 5000);
	ok(all_good(&c, 0, 2, why, sizeof(why)), "I/O works with the region: %s", why);
	/* A round trip: the daemon has handled every message before it. */
	front_get_u64(&c.f, VU_GET_FEATURES, &(uint64_t){ 0 });
	q0 = region_q(&c, 0);
	q1 = region_q(&c, 1);
	ok(q0->version == 1 && q0->desc_num == QSIZE && q0->features == 0 &&
	   q0->used_idx == used_idx(&c) && marked(&c) == 0,
	   "queue 0's region: version 1, 128 entries, used_idx %u = used->idx %u, nothing marked",
	   q0->used_idx, used_idx(&c));
	ok(q1->version == 1 && q1->desc_num == QSIZE && q1->used_idx == 0,
	   "queue 1's region is initialised at its start");
	ok(q0->desc[c.req[0].head].counter == 1 && q0->desc[c.req[1].head].counter == 2,
	   "counters record the order the heads were taken");
	ok(stop_base(&c) == 2, "GET_VRING_BASE reports 2 taken");
out:
	client_close(&c);
	ok(daemon_stop(&d) == 0, "region: daemon exits 0 on SIGTERM");
}

/* ---- crash states written by hand --------------------------------------- */

enum crash_step {
	TAKEN,			/* marked, nothing completed */
	COMPLETED,		/* used entries written, used->idx not moved */
	PUBLISHED,		/* used->idx moved, nothing settled */
	HALF_SETTLED,		/* and some flags cleared */
	SETTLED,		/* and used_idx caught up */
	MID_TAKE,		/* interrupted between a counter and its flag */
};

static const char *const step_name[] = {
	"taken, not completed", "completed, not published",
	"published, not settled", "published, half settled",
	"published and settled", "interrupted while taking",
};

#define K	12	/* requests in the ring at the crash */
#define M	5	/* of which completed (COMPLETED and later) */
#define T	8	/* of which taken (MID_TAKE) */

/* The dead daemon finished this request: do its I/O as it would have. */
static void finish_by_hand(struct client *c, struct treq *r)
{
	if (r->type == VIRTIO_BLK_T_OUT)
		host_io(true, r->buf, r->len, r->sector * 512);
	else
		memcpy(r->buf, SERIAL, sizeof(SERIAL) - 1);
	*r->status = VIRTIO_BLK_S_OK;
}

/*
 * Write the state the previous daemon left at step st: the avail entries
 * U..U+K-1 hold the requests in slots perm[0..K-1] (avail order, which is
 * also the order they were taken).
 */
static void write_crash_state(struct client *c, enum crash_step st,
			      const unsigned int *perm, uint16_t U)
{
	struct inflight_queue_split *q = region_q(c, 0);
	struct front_vq *vq = &c->f.vqs[0];
	uint64_t counter = 100;
	unsigned int taken = st == MID_TAKE ? T : K;
	uint16_t head = q->last_batch_head;

	for (unsigned int j = 0; j < taken; j++) {
		struct inflight_desc_split *d = &q->desc[c->req[perm[j]].head];

		d->counter = ++counter;
		d->inflight = 1;
	}
	if (st == MID_TAKE)
		q->desc[c->req[perm[T]].head].counter = ++counter;
	if (st == TAKEN || st == MID_TAKE)
		return;
	/* The first M taken completed, in the order 4, 2, 0, 3, 1. */
	for (unsigned int k = 0; k < M; k++) {
		static const unsigned int done_order[M] = { 4, 2, 0, 3, 1 };
		struct treq *r = &c->req[perm[done_order[k]]];
		struct vring_used_elem *e = &vq->used->ring[(U + k) % QSIZE];

		e->id = htole32(r->head);
		e->len = htole32(r->type == VIRTIO_BLK_T_IN ? r->len + 1 : 1);
		q->desc[r->head].next = head;
		head = r->head;
		q->last_batch_head = head;
		if (st != COMPLETED)
			finish_by_hand(c, r);
	}
	if (st == COMPLETED)
		return;
	vq->used->idx = htole16(U + M);
	if (st == PUBLISHED)
		return;
	for (unsigned int k = 0; k < (st == HALF_SETTLED ? 2 : M); k++)
		q->desc[le32toh(vq->used->ring[(U + k) % QSIZE].id)].inflight = 0;
	if (st == SETTLED)
		q->used_idx = U + M;
}

static void crash_case(enum crash_step st)
{
	/* Avail order: heads deliberately not in increasing order. */
	static const unsigned int perm[K] = { 7, 2, 11, 5, 1, 9, 3, 12, 6, 10, 4, 8 };
	const char *name = step_name[st];
	unsigned int expect[K], nexpect = 0, got[K], ngot = 0, resub = 0;
	struct front_vq *vq;
	struct daemon a, b;
	struct client c;
	char why[160], line[96];
	uint16_t U;
	bool settled_log, order_ok;
	int ret;

	if (daemon_start(&a, std_args) < 0) {
		ok(false, "%s: first daemon starts", name);
		return;
	}
	ret = client_open(&c, a.sock, 1);
	if (ret == 0) {
		add_req(&c, 0, VIRTIO_BLK_T_OUT, 0, 4096, 900 + st);
		fvq_kick(&c.f.vqs[0]);
		reap(&c, 0, 1, 5000);
	}
	kill9(&a);
	if (ret < 0 || c.req[0].done != 1) {
		ok(false, "%s: a first request completes (%s)", name, strerror(-ret));
		client_close(&c);
		return;
	}

	/* K requests go on the ring while no daemon runs. */
	vq = &c.f.vqs[0];
	U = used_idx(&c);
	for (unsigned int i = 1; i <= K; i++) {
		if (i % 3 == 0)
			add_req(&c, i, VIRTIO_BLK_T_OUT, 2048 + 16 * i + 64 * st, 8192,
				1000 + 20 * st + i);
		else
			add_req(&c, i, VIRTIO_BLK_T_GET_ID, 0, 20, 0);
	}
	for (unsigned int j = 0; j < K; j++)
		vq->avail->ring[(U + j) % QSIZE] = htole16(c.req[perm[j]].head);
	fvq_kick(vq);
	write_crash_state(&c, st, perm, U);
	/* The guest sees what was published, before the new daemon starts. */
	reap(&c, 0, 0, 0);

	/* What must run now, in this order: all but the published ones. */
	for (unsigned int j = 0; j < K; j++) {
		bool published = (st == PUBLISHED || st == HALF_SETTLED ||
				  st == SETTLED) && j < M;

		if (!published)
			expect[nexpect++] = perm[j];
	}
	resub = st == MID_TAKE ? T : nexpect;

	if (daemon_start(&b, std_args) < 0) {
		ok(false, "%s: second daemon starts", name);
		client_close(&c);
		return;
	}
	c.norder = 0;
	ret = client_reattach(&c, b.sock);
	reap(&c, 1, K + 1, 5000);
	for (unsigned int k = 0; k < c.norder; k++) {
		if (c.req[c.order[k]].type == VIRTIO_BLK_T_GET_ID && ngot < K)
			got[ngot++] = c.order[k];
	}
	order_ok = true;
	for (unsigned int j = 0, k = 0; j < nexpect; j++) {
		if (c.req[expect[j]].type != VIRTIO_BLK_T_GET_ID)
			continue;
		order_ok &= k < ngot && got[k] == expect[j];
		k++;
	}
	ok(ret == 0 && all_good(&c, 1, K + 1, why, sizeof(why)),
	   "crash %s: every request completes exactly once, data in the image: %s",
	   name, ret ? strerror(-ret) : why);
	if (!ok(order_ok, "crash %s: the requests left run oldest first, then the rest of the avail ring",
		name)) {
		for (unsigned int k = 0; k < ngot; k++)
			tap_diag("GET_ID completion %u: slot %u", k, got[k]);
		for (unsigned int j = 0; j < nexpect; j++)
			tap_diag("expected %u: slot %u", j, expect[j]);
	}
	snprintf(line, sizeof(line), "resubmitting %u request(s)", resub);
	settled_log = daemon_log_has(&b, "published just before the restart were settled");
	ok(daemon_log_has(&b, line) &&
	   settled_log == (st == PUBLISHED || st == HALF_SETTLED),
	   "crash %s: the new daemon says it resubmits %u%s",
	   name, resub, settled_log ? " and settled the published batch" : "");
	ok(stop_base(&c) == (uint16_t)(U + K) && marked(&c) == 0 &&
	   region_q(&c, 0)->used_idx == used_idx(&c),
	   "crash %s: GET_VRING_BASE reports all %u taken, the region is settled",
	   name, U + K);
	client_close(&c);
	ok(daemon_stop(&b) == 0, "crash %s: the new daemon exits 0 on SIGTERM", name);
}

/* ---- SIGKILL and SIGTERM under load ----------------------------------- */

static int set_writethrough(struct client *c)
{
	uint8_t wce = 0;

	/* Each write waits for the disk: requests stay in flight longer. */
	return front_set_config(&c->f, offsetof(struct virtio_blk_config, wce),
				1, &wce);
}

/* A front end with 1 ring, the write cache turned off. */
static int open_writethrough(struct client *c, const char *sock)
{
	int ret = client_open(c, sock, 1);

	return ret ? ret : set_writethrough(c);
}

/* A round: NREQ requests, one in four a read of host-written data. */
static void add_round(struct client *c, unsigned int round)
{
	for (unsigned int i = 0; i < NREQ; i++) {
		if (i % 4 == 3)
			add_req(c, i, VIRTIO_BLK_T_IN, (READ_AREA + i * RLEN) / 512,
				RLEN, 5000 + i);
		else
			add_req(c, i, VIRTIO_BLK_T_OUT, (WRITE_AREA + i * RLEN) / 512,
				RLEN, 100 * round + i);
	}
	c->bad = 0;
	fvq_kick(&c->f.vqs[0]);
}

/*
 * Wait until at least target completions of this round are published and
 * the region marks a request as in flight (or the round is over); false on
 * timeout.
 */
static bool wait_progress(struct client *c, uint16_t U, unsigned int target)
{
	struct timespec t0, now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned long spins = 1;; spins++) {
		uint16_t done = used_idx(c) - U;

		if (done >= NREQ)
			return true;
		if (done >= target && marked(c) > 0)
			return true;
		if (spins % 1024)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > 20)
			return false;
	}
}

static void test_kill_under_load(void)
{
	static uint8_t fill[RLEN];
	unsigned int caught = 0;
	struct daemon d;
	struct client c;
	char why[160];
	int ret;

	for (unsigned int i = 3; i < NREQ; i += 4) {
		pattern(fill, RLEN, 5000 + i);
		host_io(true, fill, RLEN, READ_AREA + i * RLEN);
	}
	if (!daemon_up(&d, "kill: daemon"))
		return;
	ret = open_writethrough(&c, d.sock);
	if (ret < 0) {
		ok(false, "kill: connect (%s)", strerror(-ret));
		goto out;
	}
	for (unsigned int round = 0; round < ROUNDS; round++) {
		uint16_t U = used_idx(&c);
		unsigned int target = round * NREQ / (ROUNDS + 2);
		unsigned int k, p;
		bool seen;

		add_round(&c, round);
		seen = wait_progress(&c, U, target);
		kill9(&d);
		k = marked(&c);
		p = (uint16_t)(used_idx(&c) - U);
		caught += k > 0;
		tap_diag("round %u: SIGKILL with %u of %u completions published, %u requests marked in flight",
			 round, p, NREQ, k);
		if (daemon_start(&d, std_args) < 0) {
			ok(false, "kill round %u: a new daemon starts", round);
			goto out;
		}
		ret = client_reattach(&c, d.sock);
		ret = ret ? ret : set_writethrough(&c);
		reap(&c, 0, NREQ, 20000);
		ok(seen && ret == 0 && all_good(&c, 0, NREQ, why, sizeof(why)),
		   "SIGKILL round %u (%u published, %u in flight): every request completes exactly once, data right: %s",
		   round, p, k, ret ? strerror(-ret) : why);
	}
	ok(caught > 0, "at least one SIGKILL hit requests in flight (%u of %u rounds)",
	   caught, ROUNDS);
	ok(stop_base(&c) == (uint16_t)(ROUNDS * NREQ) && marked(&c) == 0,
	   "GET_VRING_BASE reports all %u requests taken; nothing is marked",
	   ROUNDS * NREQ);
out:
	client_close(&c);
	ok(daemon_stop(&d) == 0, "kill: the last daemon exits 0 on SIGTERM");
}

static void test_term_under_load(void)
{
	struct daemon d;
	struct client c;
	char why[160];
	uint16_t U;
	int ret, status;

	if (!daemon_up(&d, "term: daemon"))
		return;
	ret = open_writethrough(&c, d.sock);
	if (ret < 0) {
		ok(false, "term: connect (%s)", strerror(-ret));
		client_close(&c);
		daemon_stop(&d);
		return;
	}
	U = used_idx(&c);
	add_round(&c, 40);
	wait_progress(&c, U, 0);
	status = daemon_stop(&d);
	ok(status == 0 && marked(&c) == 0 &&
	   region_q(&c, 0)->used_idx == used_idx(&c),
	   "SIGTERM under load: exit status %d, nothing left marked, the region is settled at used index %u",
	   status, used_idx(&c));
	if (!daemon_up(&d, "term: a new daemon")) {
		client_close(&c);
		return;
	}
	ret = client_reattach(&c, d.sock);
	reap(&c, 0, NREQ, 20000);
	ok(ret == 0 && all_good(&c, 0, NREQ, why, sizeof(why)) &&
	   !daemon_log_has(&d, "resubmitting"),
	   "after SIGTERM and a restart every request completed exactly once, none needed resubmitting: %s",
	   ret ? strerror(-ret) : why);
	client_close(&c);
	ok(daemon_stop(&d) == 0, "term: the new daemon exits 0 on SIGTERM");
}

/* ---- hostile messages ------------------------------------------------- */

static int raw_connect(struct front *f, const char *sock, uint64_t pf)
{
	int ret = front_connect(f, sock, 5000);

	f->timeout_ms = 5000;
	return ret ? ret : front_negotiate(f, ~0ull, pf);
}

/* An fd of len bytes, optionally with queue 0's header set. */
static int region_file(size_t len, uint16_t version, uint16_t desc_num)
{
	struct inflight_queue_split h = { 0, version, desc_num, 0, 0 };
	int fd = memfd_create("test-region", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, len) < 0 || pwrite(fd, &h, sizeof(h), 0) != sizeof(h))
		exit(99);
	return fd;
}

static void refused(struct front *f, struct daemon *d, const void *p,
		    uint32_t size, const int *fds, unsigned int nfds,
		    const char *logline, const char *what)
{
	int ret = front_request(f, VU_SET_INFLIGHT_FD, p, size, fds, nfds);

	ok(ret == -EIO && daemon_log_has(d, logline) && daemon_alive(d),
	   "hostile SET_INFLIGHT_FD, %s: refused (%d), logged, daemon alive", what, ret);
}

/* SET_INFLIGHT_FD regions the daemon must refuse, with what it logs. */
static const struct bad_region {
	struct vu_inflight w;
	const char *log, *what;
} bad_regions[] = {
	{ { 2111, 0, 1, QSIZE }, "mmap_size 2111 cannot hold 1 queues",
	  "mmap_size one byte short" },
	{ { 4224, 0, 2, QSIZE }, "is beyond the end of the file (2112 bytes)",
	  "a file too small for 2 queues" },
	{ { 2112, 4096, 1, QSIZE }, "offset 4096 + 2112 bytes is beyond",
	  "an offset past the end of the file" },
	{ { 2112, ~0ull - 100, 1, QSIZE }, "wraps around", "an offset that wraps" },
	{ { 2112, 0, 0, QSIZE }, "SET_INFLIGHT_FD: 0 queues", "0 queues" },
	{ { 5 * 2112, 0, 5, QSIZE }, "SET_INFLIGHT_FD: 5 queues; this device has 1 to 4",
	  "more queues than the device has" },
	{ { 2112, 0, 1, 0 }, "queue size 0 is not between 1 and 1024", "queue size 0" },
	{ { 1ull << 20, 0, 1, 2048 }, "queue size 2048 is not between 1 and 1024",
	  "a queue size above the maximum" },
};

static void test_hostile_set(void)
{
	struct vu_inflight good = { 2112, 0, 1, QSIZE };
	int before, after, fd, efd, fds[2];
	uint8_t pad[32] = { 0 };
	struct blkc_res r;
	struct daemon d;
	struct front f;
	struct blkc c;

	if (!daemon_up(&d, "hostile: daemon"))
		return;
	before = daemon_settled_fd_count(&d);
	if (raw_connect(&f, d.sock, want_pf()) < 0) {
		ok(false, "hostile: connect");
		goto out;
	}
	fd = region_file(2112, 0, 0);
	efd = eventfd(0, EFD_CLOEXEC);

	memcpy(pad, &good, sizeof(good));
	refused(&f, &d, pad, 20, &fd, 1, "SET_INFLIGHT_FD: payload of 20 bytes",
		"a 20-byte payload");
	refused(&f, &d, pad, 32, &fd, 1, "SET_INFLIGHT_FD: payload of 32 bytes",
		"a 32-byte payload");
	refused(&f, &d, &good, sizeof(good), NULL, 0,
		"SET_INFLIGHT_FD: 0 file descriptors", "no fd");
	fds[0] = fds[1] = fd;
	refused(&f, &d, &good, sizeof(good), fds, 2,
		"SET_INFLIGHT_FD: 2 file descriptors", "two fds");
	refused(&f, &d, &good, sizeof(good), &efd, 1,
		"the fd is not a shareable memory file", "an eventfd");
	for (unsigned int i = 0; i < ARRAY_SIZE(bad_regions); i++)
		refused(&f, &d, &bad_regions[i].w, sizeof(good), &fd, 1,
			bad_regions[i].log, bad_regions[i].what);
	close(fd);
	fd = region_file(2112, 1, 64);
	refused(&f, &d, &good, sizeof(good), &fd, 1,
		"tracks 64 entries, not the announced queue size 128",
		"a used region laid out for another queue size");
	close(fd);
	fd = region_file(2112, 7, QSIZE);
	refused(&f, &d, &good, sizeof(good), &fd, 1, "has layout version 7",
		"an unknown layout version");
	close(fd);
	close(efd);
	front_close(&f);

	after = daemon_wait_fds(&d, before, 5000);
	ok(after == before && memfd_maps(&d) == 0,
	   "after the hostile messages the daemon holds its %d fds (now %d) and no shared mapping",
	   before, after);
	if (blkc_open(&c, d.sock, 1, ~0ull, want_pf()) == 0 &&
	    blkc_req(&c, 0, VIRTIO_BLK_T_IN, 0, 4096, true, false, &r) == 0)
		ok(r.status == VIRTIO_BLK_S_OK, "and serves a fresh front end");
	else
		ok(false, "and serves a fresh front end");
	/* A ring runs: the region may not change under it. */
	fd = region_file(2112, 0, 0);
	refused(&c.f, &d, &good, sizeof(good), &fd, 1, "SET_INFLIGHT_FD: vq 0 is running",
		"while a ring runs");
	close(fd);
	blkc_close(&c);
	/* The daemon closes the front end's fds after our hang-up: wait for it. */
	after = daemon_wait_fds(&d, before, 5000);
	ok(after == before && memfd_maps(&d) == 0,
	   "after that front end the daemon holds its %d fds (now %d) and no shared mapping",
	   before, after);
out:
	ok(daemon_stop(&d) == 0, "hostile: daemon exits 0 on SIGTERM");
}

static bool get_refused(struct front *f, struct daemon *d, uint16_t nq,
			uint16_t qs, const char *logline)
{
	struct vu_inflight out;
	int fd = -2, ret = front_get_inflight(f, nq, qs, &out, &fd);

	if (fd >= 0)
		close(fd);
	return ret == 0 && out.mmap_size == 0 && fd == -1 &&
	       daemon_log_has(d, logline) && daemon_alive(d);
}

static void test_hostile_get(void)
{
	struct vu_inflight w = { 1056, 0, 1, 64 }, out;
	struct daemon d;
	struct front f;
	struct pollfd p;
	int before, fd = -1, rfd = -1;

	if (!daemon_up(&d, "hostile GET: daemon"))
		return;
	before = daemon_settled_fd_count(&d);
	if (raw_connect(&f, d.sock, want_pf() & ~BIT_ULL(VU_PF_INFLIGHT_SHMFD)) < 0) {
		ok(false, "hostile GET: connect");
		goto out;
	}
	ok(get_refused(&f, &d, 1, QSIZE, "GET_INFLIGHT_FD: INFLIGHT_SHMFD was not negotiated"),
	   "GET_INFLIGHT_FD without INFLIGHT_SHMFD negotiated: an empty answer, no fd, a log line");
	fd = region_file(2112, 0, 0);
	ok(front_set_inflight(&f, &w, fd) == -EIO &&
	   daemon_log_has(&d, "SET_INFLIGHT_FD: INFLIGHT_SHMFD was not negotiated"),
	   "SET_INFLIGHT_FD without INFLIGHT_SHMFD negotiated is refused");
	close(fd);
	front_close(&f);

	if (raw_connect(&f, d.sock, want_pf()) < 0) {
		ok(false, "hostile GET: connect again");
		goto out;
	}
	ok(get_refused(&f, &d, 0, QSIZE, "GET_INFLIGHT_FD: 0 queues"),
	   "GET_INFLIGHT_FD for 0 queues: an empty answer, no fd");
	ok(get_refused(&f, &d, 9, QSIZE, "GET_INFLIGHT_FD: 9 queues; this device has 1 to 4"),
	   "GET_INFLIGHT_FD for more queues than the device has: an empty answer");
	ok(get_refused(&f, &d, 1, 4096, "GET_INFLIGHT_FD: queue size 4096 is not between 1 and 1024"),
	   "GET_INFLIGHT_FD for queues too large: an empty answer");

	/* A region for 64 entries, then a ring of 128: the ring is stopped. */
	ok(front_get_inflight(&f, 1, 64, &out, &rfd) == 0 && rfd >= 0 &&
	   out.mmap_size == 1088 && front_set_inflight(&f, &out, rfd) == 0,
	   "a region for queues of 64 entries is accepted");
	front_mem_create(&f, 1u << 20, 0);
	front_mem_share(&f, true);
	front_vq_start(&f, 0, QSIZE);
	p = (struct pollfd){ .fd = f.vqs[0].err_fd, .events = POLLIN };
	ok(poll(&p, 1, 5000) == 1 &&
	   daemon_log_has(&d, "the ring has 128 entries, its inflight region only 64"),
	   "a ring larger than its region is stopped: error eventfd, log line");
	if (rfd >= 0)
		close(rfd);
	front_close(&f);
	ok(daemon_wait_fds(&d, before, 5000) == before && memfd_maps(&d) == 0 &&
	   daemon_alive(&d),
	   "afterwards the daemon holds its %d fds and no shared mapping", before);
out:
	ok(daemon_stop(&d) == 0, "hostile GET: daemon exits 0 on SIGTERM");
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	vu_log_init("test-blk-inflight", 0);
	if (!test_env_init(&env, IMG_SIZE))
		return 0;
	tap_diag("engine %s, image %s", env.aio, env.img);

	test_region();
	for (enum crash_step st = TAKEN; st <= MID_TAKE; st++)
		crash_case(st);
	test_kill_under_load();
	test_term_under_load();
	test_hostile_set();
	test_hostile_get();
	harness_cleanup();
	return tap_done();
}
