// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * front_scsi.c: owns virtio-scsi on the project's front end: LUN
 * addresses, command requests, event buffers and synchronous commands on
 * any front end (vhost-uring-bench's set-up runs on these), and the
 * synchronous virtio-scsi client of the tests, scsic_*: connecting with
 * the control, event and request queues up, commands in slots, task
 * management, asynchronous notification queries and events.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "front_scsi.h"
#include "util.h"

int scsic_open(struct scsic *c, const char *sock, unsigned int nreq,
	       uint64_t want)
{
	uint64_t pf = BIT_ULL(VU_PF_MQ) | BIT_ULL(VU_PF_REPLY_ACK) |
		      BIT_ULL(VU_PF_CONFIG) | BIT_ULL(VU_PF_CONFIGURE_MEM_SLOTS) |
		      BIT_ULL(VU_PF_LOG_SHMFD);
	int ret;

	memset(c, 0, sizeof(*c));
	c->nreq = nreq;
	ret = front_open(&c->f, sock, want, pf, 64u << 20, 1);
	if (ret < 0)
		return ret;
	c->req = front_alloc(&c->f, SCSIC_SLOTS * sizeof(*c->req), 64, NULL);
	c->resp = front_alloc(&c->f, SCSIC_SLOTS * sizeof(*c->resp), 64, NULL);
	c->ctrl_req = front_alloc(&c->f, 64, 64, NULL);
	c->ctrl_resp = front_alloc(&c->f, 64, 64, NULL);
	c->ev = front_alloc(&c->f, SCSIC_EVENTS * sizeof(*c->ev), 64, NULL);
	c->dout = front_alloc(&c->f, SCSIC_DATA_SIZE, 4096, NULL);
	c->din = front_alloc(&c->f, SCSIC_DATA_SIZE, 4096, NULL);
	if (!c->req || !c->resp || !c->ctrl_req || !c->ctrl_resp || !c->ev ||
	    !c->dout || !c->din)
		return -ENOMEM;
	for (unsigned int q = 0; q < SCSIC_REQ_VQ + nreq; q++) {
		ret = front_vq_start(&c->f, q, SCSIC_QSIZE);
		if (ret < 0)
			return ret;
	}
	/* A round trip: every queue is set up once it is answered. */
	return front_get_u64(&c->f, VU_GET_FEATURES, &c->f.features);
}

void scsic_close(struct scsic *c)
{
	front_close(&c->f);
}

void scsic_lun(uint8_t *addr, unsigned int target, unsigned int lun)
{
	memset(addr, 0, 8);
	addr[0] = 1;
	addr[1] = (uint8_t)target;
	addr[2] = lun < 256 ? 0 : (uint8_t)(0x40 | (lun >> 8));
	addr[3] = (uint8_t)lun;
}

void fscsi_req_init(struct virtio_scsi_cmd_req *req, const uint8_t *lun,
		    uint64_t tag)
{
	memset(req, 0, sizeof(*req));
	memcpy(req->lun, lun, 8);
	req->tag = htole64(tag);
	req->task_attr = VIRTIO_SCSI_S_SIMPLE;
}

int scsic_submit(struct scsic *c, unsigned int rq, unsigned int slot,
		 const uint8_t *lun, const uint8_t *cdb, unsigned int cdb_len,
		 const void *dout, uint32_t dout_len, void *din,
		 uint32_t din_len)
{
	struct virtio_scsi_cmd_req *r = &c->req[slot];
	struct front_buf bufs[4];
	unsigned int n;

	if (slot >= SCSIC_SLOTS || rq >= c->nreq ||
	    cdb_len > VIRTIO_SCSI_CDB_SIZE)
		return -EINVAL;
	fscsi_req_init(r, lun, slot);
	memcpy(r->cdb, cdb, cdb_len);
	memset(&c->resp[slot], 0xff, sizeof(c->resp[slot]));
	n = fscsi_bufs(bufs, front_gpa(&c->f, r),
		       dout_len ? front_gpa(&c->f, dout) : 0, dout_len,
		       front_gpa(&c->f, &c->resp[slot]),
		       din_len ? front_gpa(&c->f, din) : 0, din_len);
	return fvq_add(&c->f.vqs[SCSIC_REQ_VQ + rq], bufs, n,
		       (void *)(uintptr_t)slot);
}

void scsic_kick(struct scsic *c, unsigned int vq)
{
	fvq_kick(&c->f.vqs[vq]);
}

int scsic_reap(struct scsic *c, unsigned int vq, int timeout_ms,
	       uintptr_t *cookie, uint32_t *used_len)
{
	void *ck = NULL;
	int ret = fvq_wait_used(&c->f.vqs[vq], timeout_ms, &ck, used_len);

	*cookie = (uintptr_t)ck;
	return ret;
}

void scsic_result(const struct scsic *c, unsigned int slot, uint32_t used_len,
		  struct scsic_res *res)
{
	const struct virtio_scsi_cmd_resp *r = &c->resp[slot];

	res->response = r->response;
	res->status = r->status;
	res->sense_len = le32toh(r->sense_len);
	memcpy(res->sense, r->sense, sizeof(res->sense));
	res->resid = le32toh(r->resid);
	res->used_len = used_len;
}

int fscsi_run(struct front *f, unsigned int vq, const struct front_buf *bufs,
	      unsigned int n, int timeout_ms, uint32_t *used_len)
{
	void *cookie;
	int ret = fvq_add(&f->vqs[vq], bufs, n, (void *)(uintptr_t)0x5eed);

	if (ret < 0)
		return ret;
	fvq_kick(&f->vqs[vq]);
	ret = fvq_wait_used(&f->vqs[vq], timeout_ms, &cookie, used_len);
	if (ret == 0)
		return -ETIMEDOUT;
	if (ret < 0)
		return ret;
	return cookie == (void *)(uintptr_t)0x5eed ? 0 : -EPROTO;
}

int scsic_run(struct scsic *c, unsigned int vq, const struct front_buf *bufs,
	      unsigned int n, uint32_t *used_len)
{
	return fscsi_run(&c->f, vq, bufs, n, 5000, used_len);
}

int scsic_cmd(struct scsic *c, const uint8_t *lun, const uint8_t *cdb,
	      unsigned int cdb_len, uint32_t dout_len, uint32_t din_len,
	      struct scsic_res *res)
{
	uintptr_t cookie;
	uint32_t len;
	int ret;

	if (dout_len > SCSIC_DATA_SIZE || din_len > SCSIC_DATA_SIZE)
		return -EINVAL;
	ret = scsic_submit(c, c->rq, 0, lun, cdb, cdb_len, c->dout, dout_len,
			   c->din, din_len);
	if (ret < 0)
		return ret;
	scsic_kick(c, SCSIC_REQ_VQ + c->rq);
	ret = scsic_reap(c, SCSIC_REQ_VQ + c->rq, 5000, &cookie, &len);
	if (ret == 0)
		return -ETIMEDOUT;
	if (ret < 0)
		return ret;
	if (cookie != 0)
		return -EPROTO;
	scsic_result(c, 0, len, res);
	return 0;
}

/* Copy a control request into ctrl_req; its chain, with len bytes of answer. */
static void ctrl_bufs(struct scsic *c, const void *req, uint32_t req_len,
		      uint32_t len, struct front_buf *bufs)
{
	memcpy(c->ctrl_req, req, req_len);
	memset(c->ctrl_resp, 0xff, 64);
	bufs[0] = (struct front_buf){ front_gpa(&c->f, c->ctrl_req), req_len, false };
	bufs[1] = (struct front_buf){ front_gpa(&c->f, c->ctrl_resp), len, true };
}

int scsic_tmf_submit(struct scsic *c, uint32_t subtype, const uint8_t *lun,
		     uint64_t tag)
{
	struct virtio_scsi_ctrl_tmf_req t;
	struct front_buf bufs[2];
	int ret;

	memset(&t, 0, sizeof(t));
	t.type = htole32(VIRTIO_SCSI_T_TMF);
	t.subtype = htole32(subtype);
	memcpy(t.lun, lun, 8);
	t.tag = htole64(tag);
	ctrl_bufs(c, &t, sizeof(t), sizeof(struct virtio_scsi_ctrl_tmf_resp),
		  bufs);
	ret = fvq_add(&c->f.vqs[SCSIC_CTRL_VQ], bufs, 2,
		      (void *)(uintptr_t)SCSIC_TMF_COOKIE);
	if (ret < 0)
		return ret;
	scsic_kick(c, SCSIC_CTRL_VQ);
	return 0;
}

int scsic_tmf(struct scsic *c, uint32_t subtype, const uint8_t *lun,
	      uint64_t tag, uint8_t *response)
{
	uintptr_t cookie;
	uint32_t len;
	int ret = scsic_tmf_submit(c, subtype, lun, tag);

	if (ret < 0)
		return ret;
	ret = scsic_reap(c, SCSIC_CTRL_VQ, 5000, &cookie, &len);
	if (ret == 0)
		return -ETIMEDOUT;
	if (ret < 0)
		return ret;
	if (cookie != SCSIC_TMF_COOKIE || len != 1)
		return -EPROTO;
	*response = c->ctrl_resp[0];
	return 0;
}

int scsic_an(struct scsic *c, uint32_t type, const uint8_t *lun,
	     uint32_t requested, struct virtio_scsi_ctrl_an_resp *an,
	     uint32_t *used_len)
{
	struct virtio_scsi_ctrl_an_req a;
	struct front_buf bufs[2];
	int ret;

	memset(&a, 0, sizeof(a));
	a.type = htole32(type);
	memcpy(a.lun, lun, 8);
	a.event_requested = htole32(requested);
	ctrl_bufs(c, &a, sizeof(a), sizeof(*an), bufs);
	ret = scsic_run(c, SCSIC_CTRL_VQ, bufs, 2, used_len);
	if (ret < 0)
		return ret;
	memcpy(an, c->ctrl_resp, sizeof(*an));
	an->event_actual = le32toh(an->event_actual);
	return 0;
}

int fscsi_post_events(struct front *f, struct virtio_scsi_event *ev,
		      unsigned int n)
{
	struct front_vq *vq = &f->vqs[SCSIC_EVENT_VQ];

	for (unsigned int i = 0; i < n; i++) {
		struct front_buf b = { front_gpa(f, &ev[i]), sizeof(ev[i]), true };
		int ret;

		memset(&ev[i], 0xff, sizeof(ev[i]));
		ret = fvq_add(vq, &b, 1, (void *)(uintptr_t)i);
		if (ret < 0)
			return ret;
	}
	fvq_kick(vq);
	return 0;
}

int scsic_post_events(struct scsic *c, unsigned int n)
{
	if (n > SCSIC_EVENTS)
		return -EINVAL;
	return fscsi_post_events(&c->f, c->ev, n);
}
