/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * front_scsi.h: virtio-scsi from the project's front end: LUN addresses,
 * command requests and their buffers, event buffers and synchronous
 * commands on any front end (what vhost-uring-bench uses), and on top of
 * them a synchronous virtio-scsi client with scratch buffers in guest
 * memory for the tests.
 */
#ifndef VU_FRONT_SCSI_H
#define VU_FRONT_SCSI_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_scsi.h>

#include "front.h"

/* The 8-byte virtio-scsi address of a LUN on a target (single level). */
void scsic_lun(uint8_t *addr, unsigned int target, unsigned int lun);
/* A command request header for lun (8 bytes), SIMPLE task; CDB zeroed. */
void fscsi_req_init(struct virtio_scsi_cmd_req *req, const uint8_t *lun,
		    uint64_t tag);

/*
 * A command's buffers, device-readable before device-writable: the request
 * header, dout_len bytes at dout (none when 0), the response header, then
 * din_len bytes at din (none when 0).  Returns how many (2 to 4).
 */
static inline unsigned int fscsi_bufs(struct front_buf *b, uint64_t req,
				      uint64_t dout, uint32_t dout_len,
				      uint64_t resp, uint64_t din,
				      uint32_t din_len)
{
	unsigned int n = 0;

	b[n++] = (struct front_buf){ req, sizeof(struct virtio_scsi_cmd_req), false };
	if (dout_len)
		b[n++] = (struct front_buf){ dout, dout_len, false };
	b[n++] = (struct front_buf){ resp, sizeof(struct virtio_scsi_cmd_resp), true };
	if (din_len)
		b[n++] = (struct front_buf){ din, din_len, true };
	return n;
}

/* Post n event buffers at ev (in guest memory), filled with 0xff; kick. */
int fscsi_post_events(struct front *f, struct virtio_scsi_event *ev,
		      unsigned int n);
/*
 * Put any chain on vq, kick, and wait up to timeout_ms for it: 0, or
 * -ETIMEDOUT, -EPROTO (another chain came back) or -errno.
 */
int fscsi_run(struct front *f, unsigned int vq, const struct front_buf *bufs,
	      unsigned int n, int timeout_ms, uint32_t *used_len);

/*
 * A synchronous virtio-scsi client: vq 0 control, vq 1 event, vq 2.. the
 * request queues, each of SCSIC_QSIZE entries.  Request and response
 * headers live in SCSIC_SLOTS slots in guest memory (cdb 32, sense 96);
 * dout and din are SCSIC_DATA_SIZE scratch buffers for scsic_cmd().
 */
#define SCSIC_CTRL_VQ	0
#define SCSIC_EVENT_VQ	1
#define SCSIC_REQ_VQ	2
#define SCSIC_QSIZE	128
#define SCSIC_SLOTS	64
#define SCSIC_EVENTS	16
#define SCSIC_DATA_SIZE	(1u << 20)
#define SCSIC_RESP_SIZE	sizeof(struct virtio_scsi_cmd_resp)	/* 108 */

struct scsic {
	struct front f;
	unsigned int nreq;			/* request queues */
	unsigned int rq;			/* the one scsic_cmd() uses */
	struct virtio_scsi_cmd_req *req;	/* [SCSIC_SLOTS] */
	struct virtio_scsi_cmd_resp *resp;	/* [SCSIC_SLOTS] */
	uint8_t *dout;
	uint8_t *din;
	uint8_t *ctrl_req;			/* 64 bytes */
	uint8_t *ctrl_resp;			/* 64 bytes */
	struct virtio_scsi_event *ev;		/* [SCSIC_EVENTS] */
};

/* What the device answered, decoded from the response header. */
struct scsic_res {
	uint8_t response;	/* VIRTIO_SCSI_S_* */
	uint8_t status;		/* SAM status */
	uint32_t sense_len;
	uint8_t sense[VIRTIO_SCSI_SENSE_SIZE];
	uint32_t resid;
	uint32_t used_len;
};

/*
 * Connect, negotiate want (masked with what is offered) with MQ, REPLY_ACK,
 * CONFIG and CONFIGURE_MEM_SLOTS, share 64 MiB of guest memory, start the
 * control, event and nreq request queues; returns once the back end has
 * handled all of that (a GET_FEATURES round trip).
 */
int scsic_open(struct scsic *c, const char *sock, unsigned int nreq,
	       uint64_t want);
void scsic_close(struct scsic *c);

/*
 * Queue a command in slot on request queue rq (not kicked): request header
 * (tag = slot), then dout_len bytes at dout, then the response header
 * (filled with 0xff first), then din_len bytes at din.  dout and din are in
 * guest memory.  Returns the head or -errno.
 */
int scsic_submit(struct scsic *c, unsigned int rq, unsigned int slot,
		 const uint8_t *lun, const uint8_t *cdb, unsigned int cdb_len,
		 const void *dout, uint32_t dout_len, void *din,
		 uint32_t din_len);
/* Kick vq (any vq index). */
void scsic_kick(struct scsic *c, unsigned int vq);
/*
 * Reap one used entry of vq, waiting up to timeout_ms: 1 with the cookie
 * (the slot for scsic_submit()) and used length, 0 on timeout, or -errno.
 */
int scsic_reap(struct scsic *c, unsigned int vq, int timeout_ms,
	       uintptr_t *cookie, uint32_t *used_len);
/* Decode slot's response header. */
void scsic_result(const struct scsic *c, unsigned int slot, uint32_t used_len,
		  struct scsic_res *res);
/* Put any chain on vq, kick, and wait for it (5 s).  0 or -errno. */
int scsic_run(struct scsic *c, unsigned int vq, const struct front_buf *bufs,
	      unsigned int n, uint32_t *used_len);

/*
 * One command on the first request queue, slot 0: dout_len bytes of
 * c->dout out, din_len bytes of c->din in.  0 when it completed, -errno.
 */
int scsic_cmd(struct scsic *c, const uint8_t *lun, const uint8_t *cdb,
	      unsigned int cdb_len, uint32_t dout_len, uint32_t din_len,
	      struct scsic_res *res);

/* Queue and kick a TMF (control queue, cookie SCSIC_TMF_COOKIE). */
#define SCSIC_TMF_COOKIE	0x7f00u
int scsic_tmf_submit(struct scsic *c, uint32_t subtype, const uint8_t *lun,
		     uint64_t tag);
/* A TMF, waited for: *response is the device's answer. */
int scsic_tmf(struct scsic *c, uint32_t subtype, const uint8_t *lun,
	      uint64_t tag, uint8_t *response);
/* AN_QUERY or AN_SUBSCRIBE: the answer and its used length. */
int scsic_an(struct scsic *c, uint32_t type, const uint8_t *lun,
	     uint32_t requested, struct virtio_scsi_ctrl_an_resp *an,
	     uint32_t *used_len);
/* Post n (up to SCSIC_EVENTS) event buffers, filled with 0xff; kick. */
int scsic_post_events(struct scsic *c, unsigned int n);

#endif
