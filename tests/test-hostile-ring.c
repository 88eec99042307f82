// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-hostile-ring.c: a hostile guest driver against a real
 * vhost-uring-blk.  Each case writes raw descriptors, indirect tables, ring
 * entries and request headers into guest memory (two regions, filled with a
 * pattern), kicks, and is one TAP test that passes when:
 *   - the request completes with the status the virtio spec asks for
 *     (OK for the odd but legal layouts, IOERR or UNSUPP for bad requests),
 *     or the queue is marked broken (error eventfd, nothing published);
 *   - guest memory changed only where the device may write: writable
 *     buffers of good requests, the status byte of refused ones, the used
 *     ring (canaries everywhere else), and a refused request left the image
 *     file as it was;
 *   - one log line names the problem;
 *   - the daemon is alive, serves a fresh connection, holds the fds it had
 *     before, and exits 0 on SIGTERM (under ASan: without leaks).
 * Then the cases run again against one shared daemon.  The engine comes
 * from $TEST_AIO (default io_uring).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_blk.h>

#include "blk_req.h"
#include "harness.h"
#include "log.h"
#include "tap.h"
#include "test-case.h"
#include "test-util.h"
#include "util.h"

#define IMG_SIZE	(8u << 20)
#define CAPACITY	(IMG_SIZE / 512)
#define NUM		128	/* queue size the harness client uses */
#define PARTS		2	/* guest memory regions */
#define GUARD		64	/* pattern bytes between buffers */

#define NX	VRING_DESC_F_NEXT
#define WR	VRING_DESC_F_WRITE
#define IND	VRING_DESC_F_INDIRECT

static struct test_env env;

enum outcome { EX_OK, EX_IOERR, EX_UNSUPP, EX_BROKEN };

static const uint8_t status_of[] = {
	[EX_OK] = VIRTIO_BLK_S_OK,
	[EX_IOERR] = VIRTIO_BLK_S_IOERR,
	[EX_UNSUPP] = VIRTIO_BLK_S_UNSUPP,
};

/* One case in progress. */
struct one_seg;

struct rt {
	const struct one_seg *seg;	/* what q_one_seg sends */
	struct daemon *d;
	struct blkc c;
	bool connected;
	struct front_vq *vq;
	uint8_t *area;		/* pattern-filled guest memory for the case */
	size_t area_size, area_used;
	struct range wr[64];	/* where the device may write */
	unsigned int nwr;
	bool set_idx;		/* publish avail index idx, not the count */
	uint16_t idx;
	enum outcome expect;
	uint16_t head;
	uint8_t *status;
	uint32_t used_len;	/* expected, for completed requests */
	const char *log;
	void (*verify)(struct rt *t);
	struct verdict v;
};

#define check(t, ...)	verdict_check(&(t)->v, __VA_ARGS__)

/* ---- building guest memory ---------------------------------------------- */

static uint64_t G(struct rt *t, const void *p)
{
	return front_gpa(&t->c.f, p);
}

/* Guest memory for a buffer, with pattern guards around it. */
static void *alloc(struct rt *t, size_t len, size_t align)
{
	size_t off = ALIGN_UP(t->area_used + GUARD, align);

	if (off + len + GUARD > t->area_size) {
		fprintf(stderr, "test-hostile-ring: guest memory exhausted\n");
		exit(99);
	}
	t->area_used = off + len;
	return t->area + off;
}

/* The address where region k + 1 begins, minus back bytes. */
static void *at_boundary(struct rt *t, size_t back)
{
	return t->c.f.mem.base + t->c.f.mem.size / PARTS - back;
}

static void allow(struct rt *t, const void *p, size_t len)
{
	if (t->nwr < ARRAY_SIZE(t->wr))
		t->wr[t->nwr++] = (struct range){ p, len };
}

/* Descriptor i of the queue (or of table) pointing at host pointer p. */
static void D(struct rt *t, struct vring_desc *table, uint16_t i,
	      const void *p, uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc *d = table ? &table[i] : &t->vq->desc[i];

	d->addr = htole64(G(t, p));
	d->len = htole32(len);
	d->flags = htole16(flags);
	d->next = htole16(next);
	if (flags & WR)
		allow(t, p, len);
}

static uint8_t *header(struct rt *t, uint32_t type, uint64_t sector)
{
	struct virtio_blk_outhdr h = {
		.type = htole32(type),
		.sector = htole64(sector),
	};
	uint8_t *p = alloc(t, sizeof(h), 16);

	memcpy(p, &h, sizeof(h));
	return p;
}

static uint8_t *status_byte(struct rt *t)
{
	t->status = alloc(t, 1, 1);
	return t->status;
}

static void put_seg(uint8_t *p, uint64_t sector, uint32_t num, uint32_t flags)
{
	struct virtio_blk_discard_write_zeroes s = {
		.sector = htole64(sector),
		.num_sectors = htole32(num),
		.flags = htole32(flags),
	};

	memcpy(p, &s, sizeof(s));
}

/*
 * The common request: header, one data buffer (device-writable when
 * data_in), status byte, as descriptors 0..2 at head 0.  Returns the data.
 */
static uint8_t *request(struct rt *t, uint32_t type, uint64_t sector,
			size_t len, bool data_in)
{
	uint8_t *h = header(t, type, sector), *data = NULL, *st;
	uint16_t i = 0;

	D(t, NULL, i, h, 16, NX, i + 1);
	i++;
	if (len) {
		data = alloc(t, len, 512);
		D(t, NULL, i, data, len, NX | (data_in ? WR : 0), i + 1);
		i++;
	}
	st = status_byte(t);
	D(t, NULL, i, st, 1, WR, 0);
	fvq_put_head(t->vq, 0);
	t->head = 0;
	return data;
}

static void expect(struct rt *t, enum outcome o, const char *log)
{
	t->expect = o;
	t->log = log;
	t->used_len = 1;
	/* A refused request may write its status byte and nothing else. */
	if (o == EX_IOERR || o == EX_UNSUPP) {
		t->nwr = 0;
		allow(t, t->status, 1);
	}
}

/* ---- the image file ----------------------------------------------------- */

static uint8_t *read_image(void)
{
	uint8_t *buf = malloc(IMG_SIZE);
	int fd = open(env.img, O_RDONLY);

	if (!buf || fd < 0 || pread(fd, buf, IMG_SIZE, 0) != IMG_SIZE)
		exit(99);
	close(fd);
	return buf;
}

static void write_image(const void *buf, size_t len, off_t off)
{
	int fd = open(env.img, O_WRONLY);

	if (fd < 0 || pwrite(fd, buf, len, off) != (ssize_t)len || fsync(fd) < 0)
		exit(99);
	close(fd);
}

static bool image_has(const void *data, size_t len, uint64_t sector)
{
	uint8_t *buf = read_image();
	bool same = !memcmp(buf + sector * 512, data, len);

	free(buf);
	return same;
}

/* ---- rings -------------------------------------------------------------- */

static void r_avail_jump(struct rt *t)
{
	request(t, VIRTIO_BLK_T_IN, 0, 512, true);
	expect(t, EX_BROKEN, "avail index moved from 0 to 129, more than queue size 128");
	t->set_idx = true;
	t->idx = NUM + 1;
}

static void r_head_beyond(struct rt *t)
{
	request(t, VIRTIO_BLK_T_IN, 0, 512, true);
	t->vq->avail->ring[0] = htole16(200);
	expect(t, EX_BROKEN, "avail ring slot 0 holds head 200, beyond queue size 128");
}

/* After a reset (GET_VRING_BASE, SET_VRING_BASE, SET_VRING_KICK) it works. */
static void reset_and_retry(struct rt *t)
{
	struct vu_vring_state st = { 0, 0 };
	uint64_t kick = 0;
	uint16_t base = 0;
	uint8_t *data;
	uint32_t id, len;
	int got = 0;

	if (!check(t, front_vq_stop(&t->c.f, 0, &base) == 0 && base == 1,
		   "GET_VRING_BASE after the break (base %u)", base))
		return;
	st.num = base;
	check(t, front_request(&t->c.f, VU_SET_VRING_BASE, &st, sizeof(st), NULL, 0) == 0 &&
	      front_request(&t->c.f, VU_SET_VRING_KICK, &kick, 8, &t->vq->kick_fd, 1) == 0,
	      "restarting the ring");
	data = header(t, VIRTIO_BLK_T_IN, 0);
	D(t, NULL, 4, data, 16, NX, 5);
	data = alloc(t, 4096, 512);
	D(t, NULL, 5, data, 4096, NX | WR, 6);
	D(t, NULL, 6, status_byte(t), 1, WR, 0);
	fvq_put_head(t->vq, 4);
	fvq_publish(t->vq, t->vq->avail_idx);
	for (int i = 0; i < 300 && got == 0; i++) {
		got = fvq_raw_used(t->vq, &id, &len);
		if (!got)
			fvq_wait(t->vq, 10);
	}
	check(t, got == 1 && id == 4 && len == 4097 && *t->status == VIRTIO_BLK_S_OK,
	      "a request after the reset did not complete OK (%d, id %u, len %u, status %u)",
	      got, id, len, *t->status);
}

static void r_reset_recovers(struct rt *t)
{
	uint8_t *h = header(t, VIRTIO_BLK_T_IN, 0);

	D(t, NULL, 0, h, 16, NX, 1);
	D(t, NULL, 1, h, 16, NX, 0);
	fvq_put_head(t->vq, 0);
	expect(t, EX_BROKEN, "descriptor chain loops");
	t->verify = reset_and_retry;
}

/* ---- descriptors -------------------------------------------------------- */

static void d_loop(struct rt *t)
{
	uint8_t *h = header(t, VIRTIO_BLK_T_IN, 0), *data = alloc(t, 512, 512);

	D(t, NULL, 0, h, 16, NX, 1);
	D(t, NULL, 1, data, 512, NX, 0);
	fvq_put_head(t->vq, 0);
	expect(t, EX_BROKEN, "chain at head 0: descriptor chain loops or is longer than its table");
}

/* Every descriptor of the table in one chain, then back to the first. */
static void d_longer_than_queue(struct rt *t)
{
	uint8_t *h = header(t, VIRTIO_BLK_T_OUT, 0), *data = alloc(t, 512, 512);

	D(t, NULL, 0, h, 16, NX, 1);
	for (uint16_t i = 1; i < NUM; i++)
		D(t, NULL, i, data, 512, NX, (i + 1) % NUM);
	fvq_put_head(t->vq, 0);
	expect(t, EX_BROKEN, "descriptor chain loops or is longer than its table");
}

static uint8_t *long_data;

static void verify_long_write(struct rt *t)
{
	check(t, image_has(long_data, (NUM - 2) * 512, 1000),
	      "the image does not hold what the %u-descriptor chain wrote", NUM);
}

/* A chain using every descriptor of the queue is legal. */
static void d_as_long_as_queue(struct rt *t)
{
	uint8_t *h = header(t, VIRTIO_BLK_T_OUT, 1000);

	long_data = alloc(t, (NUM - 2) * 512, 512);
	pattern(long_data, (NUM - 2) * 512, 3);
	D(t, NULL, 0, h, 16, NX, 1);
	for (uint16_t i = 1; i < NUM - 1; i++)
		D(t, NULL, i, long_data + (i - 1) * 512, 512, NX, i + 1);
	D(t, NULL, NUM - 1, status_byte(t), 1, WR, 0);
	fvq_put_head(t->vq, 0);
	expect(t, EX_OK, NULL);
	t->verify = verify_long_write;
}

static void d_indirect_in_indirect(struct rt *t)
{
	struct vring_desc *a = alloc(t, 2 * 16, 16), *b = alloc(t, 2 * 16, 16);
	uint8_t *h = header(t, VIRTIO_BLK_T_IN, 0), *st = status_byte(t);

	D(t, b, 0, alloc(t, 512, 512), 512, NX | WR, 1);
	D(t, b, 1, st, 1, WR, 0);
	D(t, a, 0, h, 16, NX, 1);
	D(t, a, 1, b, 32, IND, 0);
	D(t, NULL, 0, a, 32, IND, 0);
	fvq_put_head(t->vq, 0);
	expect(t, EX_BROKEN, "indirect table inside an indirect table");
}

static void indirect_len(struct rt *t, uint32_t len, const char *log)
{
	struct vring_desc *a = alloc(t, 16 * 4, 16);

	D(t, a, 0, header(t, VIRTIO_BLK_T_IN, 0), 16, NX, 1);
	D(t, a, 1, status_byte(t), 1, WR, 0);
	D(t, NULL, 0, a, len, IND, 0);
	fvq_put_head(t->vq, 0);
	expect(t, EX_BROKEN, log);
}

static void d_indirect_bad_len(struct rt *t)
{
	indirect_len(t, 40, "indirect table length is not a non-zero multiple of 16");
}

static void d_indirect_zero_len(struct rt *t)
{
	indirect_len(t, 0, "indirect table length is not a non-zero multiple of 16");
}

static void d_indirect_too_long(struct rt *t)
{
	indirect_len(t, 16 * (VQ_MAX_INDIRECT + 1),
		     "indirect table has more than 1024 descriptors");
}

static uint8_t *span_data;

static void verify_span_read(struct rt *t)
{
	check(t, image_has(span_data, 4096, 64), "the read returned other data than the image's");
}

/* A table straddling the boundary between the two regions must work. */
static void d_indirect_spanning(struct rt *t)
{
	struct vring_desc *a = at_boundary(t, 24);
	uint8_t pat[4096];

	pattern(pat, sizeof(pat), 9);
	write_image(pat, sizeof(pat), 64 * 512);
	span_data = alloc(t, 4096, 512);
	D(t, a, 0, header(t, VIRTIO_BLK_T_IN, 64), 16, NX, 1);
	D(t, a, 1, span_data, 4096, NX | WR, 2);
	D(t, a, 2, status_byte(t), 1, WR, 0);
	D(t, NULL, 0, a, 48, IND, 0);
	fvq_put_head(t->vq, 0);
	expect(t, EX_OK, NULL);
	t->used_len = 4097;
	t->verify = verify_span_read;
}

static void d_indirect_next(struct rt *t)
{
	struct vring_desc *a = alloc(t, 16 * 2, 16);

	D(t, a, 0, header(t, VIRTIO_BLK_T_IN, 0), 16, NX, 1);
	D(t, a, 1, status_byte(t), 1, WR, 0);
	D(t, NULL, 0, a, 32, IND | NX, 1);
	D(t, NULL, 1, alloc(t, 1, 1), 1, WR, 0);
	fvq_put_head(t->vq, 0);
	expect(t, EX_BROKEN, "indirect descriptor has NEXT set");
}

static void d_indirect_outside(struct rt *t)
{
	fvq_set_desc(t->vq, 0, t->c.f.mem.gpa + t->c.f.mem.size - 16, 48, IND, 0);
	fvq_put_head(t->vq, 0);
	expect(t, EX_BROKEN, "indirect table is not inside guest memory");
}

static void d_indirect_not_negotiated(struct rt *t)
{
	struct vring_desc *a = alloc(t, 16 * 2, 16);

	D(t, a, 0, header(t, VIRTIO_BLK_T_IN, 0), 16, NX, 1);
	D(t, a, 1, status_byte(t), 1, WR, 0);
	D(t, NULL, 0, a, 32, IND, 0);
	fvq_put_head(t->vq, 0);
	expect(t, EX_BROKEN, "VIRTIO_RING_F_INDIRECT_DESC was not negotiated");
}

static void d_next_out_of_range(struct rt *t)
{
	D(t, NULL, 0, header(t, VIRTIO_BLK_T_IN, 0), 16, NX, NUM);
	fvq_put_head(t->vq, 0);
	expect(t, EX_BROKEN, "descriptor index out of range");
}

/* A read into one buffer at gpa of len bytes, which breaks the queue. */
static void bad_read_buffer(struct rt *t, uint64_t gpa, uint32_t len, const char *log)
{
	D(t, NULL, 0, header(t, VIRTIO_BLK_T_IN, 0), 16, NX, 1);
	fvq_set_desc(t->vq, 1, gpa, len, NX | WR, 2);
	D(t, NULL, 2, status_byte(t), 1, WR, 0);
	fvq_put_head(t->vq, 0);
	expect(t, EX_BROKEN, log);
}

static void d_addr_overflow(struct rt *t)
{
	bad_read_buffer(t, UINT64_MAX - 100, 512, "buffer is not inside guest memory");
}

static void d_buffer_partly_outside(struct rt *t)
{
	bad_read_buffer(t, t->c.f.mem.gpa + t->c.f.mem.size - 256, 512,
			"buffer is not inside guest memory");
}

static void d_zero_length(struct rt *t)
{
	bad_read_buffer(t, G(t, alloc(t, 512, 512)), 0, "zero-length buffer");
}

static void d_readable_after_writable(struct rt *t)
{
	D(t, NULL, 0, header(t, VIRTIO_BLK_T_IN, 0), 16, NX, 1);
	D(t, NULL, 1, alloc(t, 512, 512), 512, NX | WR, 2);
	D(t, NULL, 2, alloc(t, 512, 512), 512, NX, 3);
	D(t, NULL, 3, status_byte(t), 1, WR, 0);
	fvq_put_head(t->vq, 0);
	expect(t, EX_BROKEN, "device-readable buffer after a device-writable one");
}

static uint8_t *split_data;

static void verify_split_write(struct rt *t)
{
	check(t, image_has(split_data, 4096, 200),
	      "the image does not hold the data of the split request");
}

/* Header byte by byte, data in 512-byte pieces, then the status. */
static void d_header_bytewise(struct rt *t)
{
	uint8_t *h = header(t, VIRTIO_BLK_T_OUT, 200);
	uint16_t i = 0;

	split_data = alloc(t, 4096, 512);
	pattern(split_data, 4096, 11);
	for (unsigned int k = 0; k < 16; k++, i++)
		D(t, NULL, i, h + k, 1, NX, i + 1);
	for (unsigned int k = 0; k < 8; k++, i++)
		D(t, NULL, i, split_data + 512 * k, 512, NX, i + 1);
	D(t, NULL, i, status_byte(t), 1, WR, 0);
	fvq_put_head(t->vq, 0);
	expect(t, EX_OK, NULL);
	t->verify = verify_split_write;
}

static void verify_split_read(struct rt *t)
{
	check(t, image_has(split_data, 4096, 300),
	      "the split read returned other data than the image's");
}

/* The same for a read, inside an indirect table, with a split status. */
static void d_header_bytewise_indirect(struct rt *t)
{
	struct vring_desc *a = alloc(t, 16 * 32, 16);
	uint8_t *h = header(t, VIRTIO_BLK_T_IN, 300), pat[4096];
	uint16_t i = 0;

	pattern(pat, sizeof(pat), 13);
	write_image(pat, sizeof(pat), 300 * 512);
	split_data = alloc(t, 4096, 512);
	for (unsigned int k = 0; k < 16; k++, i++)
		D(t, a, i, h + k, 1, NX, i + 1);
	for (unsigned int k = 0; k < 8; k++, i++)
		D(t, a, i, split_data + 512 * k, 512, NX | WR, i + 1);
	D(t, a, i, status_byte(t), 1, WR, 0);
	D(t, NULL, 0, a, 16 * (i + 1), IND, 0);
	fvq_put_head(t->vq, 0);
	expect(t, EX_OK, NULL);
	t->used_len = 4097;
	t->verify = verify_split_read;
}

static void d_missing_status(struct rt *t)
{
	D(t, NULL, 0, header(t, VIRTIO_BLK_T_OUT, 0), 16, NX, 1);
	D(t, NULL, 1, alloc(t, 512, 512), 512, 0, 0);
	fvq_put_head(t->vq, 0);
	expect(t, EX_BROKEN, "request at head 0 has no writable status byte");
}

static void d_status_read_only_write(struct rt *t)
{
	D(t, NULL, 0, header(t, VIRTIO_BLK_T_OUT, 0), 16, NX, 1);
	D(t, NULL, 1, alloc(t, 512, 512), 512, NX, 2);
	D(t, NULL, 2, status_byte(t), 1, 0, 0);
	fvq_put_head(t->vq, 0);
	expect(t, EX_BROKEN, "request at head 0 has no writable status byte");
}

static void d_status_read_only_read(struct rt *t)
{
	D(t, NULL, 0, header(t, VIRTIO_BLK_T_IN, 0), 16, NX, 1);
	D(t, NULL, 1, alloc(t, 512, 512), 512, NX | WR, 2);
	D(t, NULL, 2, status_byte(t), 1, 0, 0);
	fvq_put_head(t->vq, 0);
	expect(t, EX_BROKEN, "device-readable buffer after a device-writable one");
}

static void d_short_header(struct rt *t)
{
	D(t, NULL, 0, header(t, VIRTIO_BLK_T_IN, 0), 8, NX, 1);
	D(t, NULL, 1, status_byte(t), 1, WR, 0);
	fvq_put_head(t->vq, 0);
	expect(t, EX_IOERR, "request header shorter than 16 bytes");
}

/* ---- requests ----------------------------------------------------------- */

static void q_read(struct rt *t, uint64_t sector, size_t len, enum outcome o,
		   const char *log)
{
	request(t, VIRTIO_BLK_T_IN, sector, len, true);
	expect(t, o, log);
}

static void q_read_at_capacity(struct rt *t)
{
	q_read(t, CAPACITY, 512, EX_IOERR,
	       "at sector 16384 refused: access beyond the end of the disk");
}

static void q_read_crossing_end(struct rt *t)
{
	q_read(t, CAPACITY - 4, 4096, EX_IOERR, "access beyond the end of the disk");
}

static void q_sector_wrap(struct rt *t)
{
	q_read(t, UINT64_MAX - 3, 4096, EX_IOERR, "access beyond the end of the disk");
}

static void q_sector_shift_overflow(struct rt *t)
{
	q_read(t, 1ull << 55, 512, EX_IOERR, "access beyond the end of the disk");
}

static void q_len_not_512(struct rt *t)
{
	q_read(t, 0, 1000, EX_IOERR, "data length is not a multiple of the block size");
}

static void q_len_not_block(struct rt *t)
{
	q_read(t, 8, 512, EX_IOERR, "data length is not a multiple of the block size");
}

static void q_sector_not_block_aligned(struct rt *t)
{
	q_read(t, 1, 4096, EX_IOERR, "sector is not aligned to the block size");
}

static void q_write_beyond(struct rt *t)
{
	uint8_t *data = request(t, VIRTIO_BLK_T_OUT, CAPACITY - 1, 1024, false);

	pattern(data, 1024, 5);
	expect(t, EX_IOERR, "at sector 16383 refused: access beyond the end of the disk");
}

static void q_unknown_type(struct rt *t)
{
	request(t, 42, 0, 512, true);
	expect(t, EX_UNSUPP, "request type 42 at sector 0 refused: unknown request type");
}

/* A discard or write-zeroes request with n segments; *segs to fill. */
static uint8_t *dz_request(struct rt *t, uint32_t type, unsigned int n,
			   size_t len)
{
	uint8_t *segs = request(t, type, 0, len ? len : 16 * n, false);

	memset(segs, 0, len ? len : 16 * n);
	return segs;
}

/* A discard or write-zeroes request of one segment, and how it must end. */
struct one_seg {
	uint32_t type;
	size_t len;		/* segment data length; 0: 16 bytes */
	uint64_t sector;
	uint32_t num, flags;
	enum outcome ex;
	const char *log;
};

/* The case's request of one segment (t->seg). */
static void q_one_seg(struct rt *t)
{
	const struct one_seg *o = t->seg;

	put_seg(dz_request(t, o->type, 1, o->len), o->sector, o->num, o->flags);
	expect(t, o->ex, o->log);
}

static const struct one_seg
	seg_discard_beyond = { VIRTIO_BLK_T_DISCARD, 0, CAPACITY - 8, 16, 0,
		EX_IOERR, "segment beyond the end of the disk" },
	seg_write_zeroes_wrap = { VIRTIO_BLK_T_WRITE_ZEROES, 0, UINT64_MAX - 7, 16, 0,
		EX_IOERR, "segment beyond the end of the disk" },
	seg_discard_unknown_flags = { VIRTIO_BLK_T_DISCARD, 0, 0, 8, 0x2,
		EX_UNSUPP, "unknown segment flags" },
	seg_write_zeroes_unknown_flags = { VIRTIO_BLK_T_WRITE_ZEROES, 0, 0, 8, 0x80000001,
		EX_UNSUPP, "unknown segment flags" },
	seg_discard_unmap = { VIRTIO_BLK_T_DISCARD, 0, 0, 8, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP,
		EX_UNSUPP, "unmap flag on a discard" },
	seg_segment_length = { VIRTIO_BLK_T_DISCARD, 20, 0, 8, 0,
		EX_IOERR, "segment data is not a non-zero multiple of 16 bytes" },
	seg_segment_too_big = { VIRTIO_BLK_T_WRITE_ZEROES, 0, 0, 2 * BLK_MAX_DZ_SECTORS, 0,
		EX_IOERR, "segment larger than the announced maximum" },
	seg_read_only_discard = { VIRTIO_BLK_T_DISCARD, 0, 0, 8, 0,
		EX_IOERR, "write to a read-only disk" },
	seg_read_only_write_zeroes = { VIRTIO_BLK_T_WRITE_ZEROES, 0, 0, 8, 0,
		EX_IOERR, "write to a read-only disk" };

static void q_too_many_segments(struct rt *t)
{
	uint8_t *segs = dz_request(t, VIRTIO_BLK_T_WRITE_ZEROES, BLK_MAX_SEGS + 1, 0);

	for (unsigned int i = 0; i <= BLK_MAX_SEGS; i++)
		put_seg(segs + 16 * i, 8 * i, 8, 0);
	expect(t, EX_UNSUPP, "more segments than announced");
}

static void q_read_only_write(struct rt *t)
{
	pattern(request(t, VIRTIO_BLK_T_OUT, 0, 4096, false), 4096, 7);
	expect(t, EX_IOERR, "write to a read-only disk");
}

/* GET_ID into a 4-byte buffer: 4 bytes of the serial, nothing beyond. */
static void q_get_id_short(struct rt *t)
{
	request(t, VIRTIO_BLK_T_GET_ID, 0, 4, true);
	expect(t, EX_OK, NULL);
	t->used_len = 5;
}

/* ---- the case list ------------------------------------------------------ */

struct rcase {
	const char *name;
	void (*fn)(struct rt *t);
	const char *arg;	/* an extra daemon argument */
	uint64_t drop;		/* features not to negotiate */
	const struct one_seg *seg;	/* for q_one_seg */
};

static const struct rcase cases[] = {
	{ "ring: avail index jumping by more than the queue size", r_avail_jump, NULL, 0, NULL },
	{ "ring: avail entry with a head beyond the queue size", r_head_beyond, NULL, 0, NULL },
	{ "ring: a broken queue works again after a ring reset", r_reset_recovers, NULL, 0, NULL },
	{ "descriptor: chain that loops", d_loop, NULL, 0, NULL },
	{ "descriptor: chain longer than the queue", d_longer_than_queue, NULL, 0, NULL },
	{ "descriptor: chain as long as the queue works", d_as_long_as_queue, NULL, 0, NULL },
	{ "descriptor: indirect inside indirect", d_indirect_in_indirect, NULL, 0, NULL },
	{ "descriptor: indirect table length not a multiple of 16", d_indirect_bad_len, NULL, 0, NULL },
	{ "descriptor: indirect table of length 0", d_indirect_zero_len, NULL, 0, NULL },
	{ "descriptor: indirect table of 1025 entries", d_indirect_too_long, NULL, 0, NULL },
	{ "descriptor: indirect table spanning two regions works", d_indirect_spanning, NULL, 0, NULL },
	{ "descriptor: indirect descriptor with NEXT set", d_indirect_next, NULL, 0, NULL },
	{ "descriptor: indirect table partly outside guest memory", d_indirect_outside, NULL, 0, NULL },
	{ "descriptor: indirect without INDIRECT_DESC negotiated", d_indirect_not_negotiated,
	  NULL, BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC), NULL },
	{ "descriptor: next index beyond the queue", d_next_out_of_range, NULL, 0, NULL },
	{ "descriptor: address plus length overflowing", d_addr_overflow, NULL, 0, NULL },
	{ "descriptor: buffer partly outside guest memory", d_buffer_partly_outside, NULL, 0, NULL },
	{ "descriptor: zero-length buffer", d_zero_length, NULL, 0, NULL },
	{ "descriptor: device-readable buffer after a writable one",
	  d_readable_after_writable, NULL, 0, NULL },
	{ "descriptor: header split byte by byte works", d_header_bytewise, NULL, 0, NULL },
	{ "descriptor: header split byte by byte in an indirect table works",
	  d_header_bytewise_indirect, NULL, 0, NULL },
	{ "descriptor: missing status byte", d_missing_status, NULL, 0, NULL },
	{ "descriptor: read-only status buffer on a write", d_status_read_only_write, NULL, 0, NULL },
	{ "descriptor: read-only status buffer on a read", d_status_read_only_read, NULL, 0, NULL },
	{ "descriptor: header shorter than 16 bytes", d_short_header, NULL, 0, NULL },
	{ "request: read at the capacity", q_read_at_capacity, NULL, 0, NULL },
	{ "request: read crossing the end of the disk", q_read_crossing_end, NULL, 0, NULL },
	{ "request: sector plus length wrapping around", q_sector_wrap, NULL, 0, NULL },
	{ "request: sector whose byte offset overflows", q_sector_shift_overflow, NULL, 0, NULL },
	{ "request: write beyond the end of the disk", q_write_beyond, NULL, 0, NULL },
	{ "request: length not a multiple of 512", q_len_not_512, NULL, 0, NULL },
	{ "request: length not a multiple of the 4 KiB block size", q_len_not_block,
	  "--logical-block-size=4096", 0, NULL },
	{ "request: sector not aligned to the 4 KiB block size", q_sector_not_block_aligned,
	  "--logical-block-size=4096", 0, NULL },
	{ "request: unknown request type", q_unknown_type, NULL, 0, NULL },
	{ "request: discard segment beyond the capacity", q_one_seg, NULL, 0, &seg_discard_beyond },
	{ "request: write-zeroes segment wrapping around", q_one_seg, NULL, 0, &seg_write_zeroes_wrap },
	{ "request: discard with unknown flags", q_one_seg, NULL, 0, &seg_discard_unknown_flags },
	{ "request: write-zeroes with unknown flags", q_one_seg, NULL, 0,
	  &seg_write_zeroes_unknown_flags },
	{ "request: discard with the unmap flag", q_one_seg, NULL, 0, &seg_discard_unmap },
	{ "request: more segments than announced", q_too_many_segments, NULL, 0, NULL },
	{ "request: segment data not a multiple of 16 bytes", q_one_seg, NULL, 0, &seg_segment_length },
	{ "request: segment larger than the announced maximum", q_one_seg, NULL, 0, &seg_segment_too_big },
	{ "request: write on a read-only disk", q_read_only_write,
	  "--read-only", 0, NULL },
	{ "request: discard on a read-only disk", q_one_seg,
	  "--read-only", 0, &seg_read_only_discard },
	{ "request: write-zeroes on a read-only disk", q_one_seg,
	  "--read-only", 0, &seg_read_only_write_zeroes },
	{ "request: GET_ID into a 4-byte buffer", q_get_id_short, NULL, 0, NULL },
};

/* Wait for what the case expects: a used entry, or a broken queue. */
static void wait_outcome(struct rt *t)
{
	struct front_vq *vq = t->vq;
	uint32_t id = 0, len = 0;
	int got = 0;

	if (t->expect == EX_BROKEN) {
		check(t, fvq_wait_err(vq, 3000) == 1, "the error eventfd was not signalled");
		usleep(20000);
		check(t, le16toh(READ_ONCE(vq->used->idx)) == 0,
		      "a used entry was published for a broken chain");
		return;
	}
	for (int i = 0; i < 300 && got == 0; i++) {
		got = fvq_raw_used(vq, &id, &len);
		if (!got)
			fvq_wait(vq, 10);
	}
	if (!check(t, got == 1, "the request did not complete"))
		return;
	check(t, id == t->head && len == t->used_len,
	      "used entry id %u len %u, expected id %u len %u", id, len, t->head,
	      t->used_len);
	check(t, *t->status == status_of[t->expect], "status %u, expected %u",
	      *t->status, status_of[t->expect]);
	check(t, fvq_wait_err(vq, 0) == 0, "the queue was marked broken");
}

static void check_memory(struct rt *t, const uint8_t *snap, const uint8_t *img0)
{
	uint8_t *img1;
	long off;

	allow(t, t->vq->used, 6 + 8 * NUM);
	/* The avail index changed too: the test published it after the copy. */
	allow(t, &t->vq->avail->idx, sizeof(t->vq->avail->idx));
	off = guest_changed_outside(&t->c.f, snap, t->wr, t->nwr);
	check(t, off < 0, "guest memory at gpa 0x%llx changed outside the device's buffers",
	      (unsigned long long)(t->c.f.mem.gpa + off));
	if (t->expect == EX_OK)
		return;
	img1 = read_image();
	check(t, !memcmp(img0, img1, IMG_SIZE), "a refused request changed the image");
	free(img1);
}

/* Case seq; on the shared daemon, only those that need no argument of their own. */
static void run_case(unsigned int seq, struct daemon *shared)
{
	const struct rcase *c = &cases[seq];
	const char *args[] = { env.img_arg, env.aio_arg, c->arg, NULL };
	struct daemon own, *d;
	uint8_t *snap = NULL, *img0 = NULL;
	struct rt t;
	int base = 0, ret;
	long mark = 0;

	if (shared && c->arg)
		return;
	memset(&t, 0, sizeof(t));
	d = case_daemon(&own, shared, args, &t.v, &base, &mark);
	if (!d)
		goto out;
	t.d = d;
	ret = blkc_open_parts(&t.c, d->sock, 1, ~c->drop, BIT_ULL(VU_PF_MQ) |
			      BIT_ULL(VU_PF_REPLY_ACK) | BIT_ULL(VU_PF_CONFIG) |
			      BIT_ULL(VU_PF_CONFIGURE_MEM_SLOTS), PARTS);
	t.connected = true;
	if (!check(&t, ret == 0, "connect: %s", strerror(-ret)))
		goto done;
	t.vq = &t.c.f.vqs[0];
	t.area = front_alloc(&t.c.f, t.c.f.mem.size - ALIGN_UP(t.c.f.mem.used, 4096),
			     4096, NULL);
	t.area_size = t.c.f.mem.base + t.c.f.mem.size - t.area;
	guest_fill_pattern(t.area, t.area_size, seq);
	t.seg = c->seg;
	c->fn(&t);
	img0 = read_image();
	snap = guest_snapshot(&t.c.f);
	fvq_publish(t.vq, t.set_idx ? t.idx : t.vq->avail_idx);
	wait_outcome(&t);
	check_memory(&t, snap, img0);
	if (t.verify && !t.v.fail[0])
		t.verify(&t);
done:
	if (t.connected)
		blkc_close(&t.c);
	daemon_aftermath(&t.v, d, base, mark, shared ? NULL : t.log,
			 2048 + 16 * seq, !shared);
out:
	free(snap);
	free(img0);
	case_verdict(&t.v, shared ? shared : &own, mark, shared, c->name);
}

int main(void)
{
	const char *args[] = { env.img_arg, env.aio_arg, NULL };

	signal(SIGPIPE, SIG_IGN);
	vu_log_init("test-hostile-ring", -1);
	if (!test_env_init(&env, IMG_SIZE))
		return 0;
	tap_diag("engine %s", env.aio);

	return case_suite(ARRAY_SIZE(cases), run_case, args);
}
