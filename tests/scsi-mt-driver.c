// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * scsi-mt-driver.c: the driver side of test-scsi-mt: its commands and
 * control requests on chosen slots and queues, the order in which it sees
 * their answers, its client's set-up, and the gated image seen from the
 * host.  What each case does with them is in test-scsi-mt.c.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_scsi.h>

#include "scsi-mt-driver.h"
#include "test-util.h"
#include "util.h"

struct ffs fmnt;
uint8_t lun0[8];
static const uint8_t wlun[8] = { 0xc1, 0x01 };

uint8_t *ctrl_req[NCTRL], *ctrl_resp[NCTRL];
uint8_t *slot_buf[SCSIC_SLOTS];

/* ---- commands and control requests -------------------------------------- */

static void cdb_rw(uint8_t *cdb, uint8_t op, uint64_t off, uint32_t blocks)
{
	uint32_t lba = (uint32_t)(off / LBS);

	memset(cdb, 0, 16);
	cdb[0] = op;
	cdb[2] = lba >> 24;
	cdb[3] = lba >> 16;
	cdb[4] = lba >> 8;
	cdb[5] = (uint8_t)lba;
	cdb[7] = (uint8_t)(blocks >> 8);
	cdb[8] = (uint8_t)blocks;
}

/* COMPARE AND WRITE of IO_BLOCKS at off: data-out is compare || write. */
static void cdb_caw(uint8_t *cdb, uint64_t off)
{
	uint64_t lba = off / LBS;

	memset(cdb, 0, 16);
	cdb[0] = 0x89;
	for (int i = 0; i < 8; i++)
		cdb[2 + i] = (uint8_t)(lba >> (56 - 8 * i));
	cdb[13] = IO_BLOCKS;
}

void submit_read(struct scsic *c, unsigned int rq, unsigned int slot,
		 uint64_t off)
{
	uint8_t cdb[16];

	cdb_rw(cdb, 0x28, off, IO_BLOCKS);
	scsic_submit(c, rq, slot, lun0, cdb, 10, NULL, 0, slot_buf[slot],
		     IO_BLOCKS * LBS);
}

/* A COMPARE AND WRITE of what the image holds at off with new data. */
void submit_caw(struct scsic *c, unsigned int rq, unsigned int slot,
		uint64_t off, const uint8_t *old, const uint8_t *new)
{
	uint8_t cdb[16];

	memcpy(slot_buf[slot], old, IO_BLOCKS * LBS);
	memcpy(slot_buf[slot] + IO_BLOCKS * LBS, new, IO_BLOCKS * LBS);
	cdb_caw(cdb, off);
	scsic_submit(c, rq, slot, lun0, cdb, 16, slot_buf[slot],
		     2 * IO_BLOCKS * LBS, NULL, 0);
}

/* REPORT LUNS through the W-LUN: no LUN state, answered at once. */
void submit_marker(struct scsic *c, unsigned int rq, unsigned int slot)
{
	uint8_t cdb[12] = { 0xa0 };

	cdb[9] = 64;
	scsic_submit(c, rq, slot, wlun, cdb, 12, NULL, 0, slot_buf[slot], 64);
}

static int ctrl_add(struct scsic *c, unsigned int i, const void *req,
		    size_t req_len, size_t resp_len)
{
	struct front_buf bufs[2];

	memcpy(ctrl_req[i], req, req_len);
	memset(ctrl_resp[i], 0xff, 64);
	bufs[0] = (struct front_buf){ front_gpa(&c->f, ctrl_req[i]), req_len, false };
	bufs[1] = (struct front_buf){ front_gpa(&c->f, ctrl_resp[i]), resp_len, true };
	return fvq_add(&c->f.vqs[SCSIC_CTRL_VQ], bufs, 2,
		       (void *)(uintptr_t)(0x100 + i));
}

void submit_tmf(struct scsic *c, unsigned int i, uint32_t subtype,
		uint64_t tag)
{
	struct virtio_scsi_ctrl_tmf_req t;

	memset(&t, 0, sizeof(t));
	t.type = htole32(VIRTIO_SCSI_T_TMF);
	t.subtype = htole32(subtype);
	memcpy(t.lun, lun0, 8);
	t.tag = htole64(tag);
	ctrl_add(c, i, &t, sizeof(t), 1);
}

/* AN_QUERY, answered at once: the control queue took what came before. */
void submit_an(struct scsic *c, unsigned int i)
{
	struct virtio_scsi_ctrl_an_req a;

	memset(&a, 0, sizeof(a));
	a.type = htole32(VIRTIO_SCSI_T_AN_QUERY);
	memcpy(a.lun, lun0, 8);
	ctrl_add(c, i, &a, sizeof(a), sizeof(struct virtio_scsi_ctrl_an_resp));
}

/* ---- what the driver has seen ------------------------------------------- */

static void take(struct seen *s, uintptr_t ck)
{
	if (ck >= ARRAY_SIZE(s->rank)) {
		s->bad = true;
		return;
	}
	s->twice |= s->rank[ck] != 0;
	s->rank[ck] = ++s->next;
}

static void reap_queues(struct scsic *c, struct seen *s)
{
	static const unsigned int vqs[] = { SCSIC_EVENT_VQ, SCSIC_REQ_VQ,
					    SCSIC_REQ_VQ + 1 };
	uintptr_t ck;
	uint32_t len;

	for (unsigned int q = 0; q < ARRAY_SIZE(vqs); q++) {
		while (scsic_reap(c, vqs[q], 0, &ck, &len) == 1)
			take(s, ck);
	}
}

void reap_all(struct scsic *c, struct seen *s)
{
	uintptr_t ck;
	uint32_t len;

	reap_queues(c, s);
	while (scsic_reap(c, SCSIC_CTRL_VQ, 0, &ck, &len) == 1) {
		take(s, ck);
		reap_queues(c, s);
		if (ck >= 0x100 && ck < 0x100 + NCTRL) {
			uint64_t m = 0;

			for (unsigned int i = 0; i < SCSIC_SLOTS; i++)
				m |= (uint64_t)(s->rank[i] != 0) << i;
			s->answered_at[ck - 0x100] = m;
		}
	}
}

bool reap_until(struct scsic *c, struct seen *s, const uintptr_t *want,
		unsigned int n, int timeout_ms)
{
	for (long end = now_ms() + timeout_ms;; sleep_ms(1)) {
		unsigned int done = 0;

		reap_all(c, s);
		for (unsigned int i = 0; i < n; i++)
			done += s->rank[want[i]] != 0;
		if (done == n)
			return true;
		if (now_ms() > end)
			return false;
	}
}

uint8_t response(struct scsic *c, unsigned int slot)
{
	return __atomic_load_n(&c->resp[slot].response, __ATOMIC_ACQUIRE);
}

bool ctrl_answer(unsigned int i, uint8_t want)
{
	return __atomic_load_n(&ctrl_resp[i][0], __ATOMIC_ACQUIRE) == want;
}

/* ---- the steps the cases share ------------------------------------------ */

bool read_caw_marker(struct scsic *c, struct seen *s, unsigned int rq,
		     uint64_t held, uint64_t ca, const uint8_t *old,
		     const uint8_t *new)
{
	static const uintptr_t marker[] = { 3 };

	gate_hold(&fmnt, held, HOLD_LEN);
	submit_read(c, rq, 1, held);
	submit_caw(c, rq, 2, ca, old, new);
	submit_marker(c, rq, 3);
	scsic_kick(c, SCSIC_REQ_VQ + rq);
	return gate_wait_held(&fmnt, held, WAIT_MS) && reap_until(c, s, marker, 1, WAIT_MS);
}

void hold_read_then_tmf(struct scsic *c, struct verdict *v,
			struct seen *s, uint64_t off)
{
	const uintptr_t an[] = { TMF_CK(1) };

	gate_hold(&fmnt, off, HOLD_LEN);
	submit_read(c, RQ_OTHER, 1, off);
	scsic_kick(c, SCSIC_REQ_VQ + RQ_OTHER);
	verdict_check(v, gate_wait_held(&fmnt, off, WAIT_MS), "the held read never reached the file");
	submit_tmf(c, 0, VIRTIO_SCSI_T_TMF_ABORT_TASK, NO_TAG);
	submit_an(c, 1);
	scsic_kick(c, SCSIC_CTRL_VQ);
	verdict_check(v, reap_until(c, s, an, 1, WAIT_MS), "the TMF was not taken (the AN query behind it was not answered)");
}

void settle(struct scsic *c, struct seen *s, const uint64_t *holds,
	    unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		gate_release(&fmnt, holds[i]);
	for (long end = now_ms() + 2000; now_ms() < end; sleep_ms(5))
		reap_all(c, s);
}

void *msg_thread(void *arg)
{
	struct msg_job *m = arg;
	uint64_t v;

	/* SET_VRING_CALL pauses every thread; GET_FEATURES is its answer. */
	m->ret = front_vq_swap_call(&m->c->f, SCSIC_EVENT_VQ);
	if (m->ret == 0)
		m->ret = front_get_u64(&m->c->f, VU_GET_FEATURES, &v);
	__atomic_store_n(&m->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* ---- the client and the image from the host ----------------------------- */

int open_client(struct scsic *c, struct daemon *d)
{
	struct scsic_res r;
	uint8_t cdb[6] = { 0 };
	int ret = scsic_open(c, d->sock, 2, ~0ull);

	if (ret < 0)
		return ret;
	for (unsigned int i = 0; i < SCSIC_SLOTS; i++) {
		slot_buf[i] = front_alloc(&c->f, 2 * IO_BLOCKS * LBS, 4096, NULL);
		if (!slot_buf[i])
			return -ENOMEM;
	}
	for (unsigned int i = 0; i < NCTRL; i++) {
		ctrl_req[i] = front_alloc(&c->f, 64, 64, NULL);
		ctrl_resp[i] = front_alloc(&c->f, 64, 64, NULL);
		if (!ctrl_req[i] || !ctrl_resp[i])
			return -ENOMEM;
	}
	/* The power-on unit attention. */
	scsic_cmd(c, lun0, cdb, 6, 0, 0, &r);
	return 0;
}

void host_write(uint64_t off, const void *buf, size_t len)
{
	int fd = open(fmnt.img, O_WRONLY);

	if (fd < 0 || pwrite(fd, buf, len, (off_t)off) != (ssize_t)len)
		exit(99);
	close(fd);
}

bool host_holds(uint64_t off, const void *want, size_t len)
{
	uint8_t buf[IO_BLOCKS * LBS];
	int fd = open(fmnt.img, O_RDONLY);
	bool same;

	same = fd >= 0 && len <= sizeof(buf) &&
	       pread(fd, buf, len, (off_t)off) == (ssize_t)len &&
	       !memcmp(buf, want, len);
	if (fd >= 0)
		close(fd);
	return same;
}
