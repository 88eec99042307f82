/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scsi_priv.h: what the virtio-scsi controller's files share: a request's
 * state (struct scsi_io), the header sizes, and the functions each file
 * offers the others.  Not for use outside scsi/.
 */
#ifndef VU_SCSI_PRIV_H
#define VU_SCSI_PRIV_H

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <linux/virtio_scsi.h>

#include "iothread.h"
#include "log.h"
#include "scsi_dev.h"
#include "util.h"

/* The TMF response meaning "done"; the header has no name for 0. */
#define TMF_FUNCTION_COMPLETE	0

#define REQ_HDR_SIZE	sizeof(struct virtio_scsi_cmd_req)	/* 51 */
#define RESP_HDR_SIZE	sizeof(struct virtio_scsi_cmd_resp)	/* 108 */
#define RESP_PIECES	8
#define BOUNCE_MAX	(1u << 20)	/* WRITE SAME pattern and VERIFY chunks */

_Static_assert(SCSI_MAX_PENDING_TMFS <= 64, "a TMF slot is a bit of tmf_slots");

_Static_assert(REQ_HDR_SIZE == 51 && RESP_HDR_SIZE == 108,
	       "virtio-scsi header sizes with cdb 32 and sense 96");

/* Per-request state, kept in the request's private area. */
struct scsi_io {
	struct disk_req dr;
	struct scsi_dev *sd;
	struct scsi_lun *ln;
	struct iovec resp[RESP_PIECES];	/* where the response header goes */
	unsigned int nresp;
	struct iovec *data;		/* data-in or data-out, trimmed */
	unsigned int data_cnt;
	uint32_t data_len;		/* bytes of data[] the I/O moves */
	uint32_t resid;			/* buffer bytes the command leaves */
	uint64_t done;			/* bytes (or blocks) done so far */
	bool write;
	bool caw;			/* a COMPARE AND WRITE owning its LUN */
	bool caw_run;			/* counted in: it may start at once */
	bool overrun;			/* the buffers are short for the CDB */
	bool wce;			/* the LUN's WCE when it was parsed */
	bool is_caw;			/* its opcode is COMPARE AND WRITE */
	/* Under ln->mu, from the command's first look at its LUN on. */
	bool in_held;			/* in ln->held */
	uint8_t abort_resp;		/* a TMF aborted it while it waited */
	uint64_t seq;			/* its place in ln->held */
	struct scsi_link held_link;
	struct scsi_link wait_link;	/* ln->waiting, then an abort batch */
	uint32_t dout_len;		/* data-out bytes after the header */
	uint32_t din_len;		/* data-in bytes after the header */
	bool in_round;			/* a ready TMF: in the publish round */
	unsigned int tmf_slot;		/* a waiting TMF's in ln->tmf_mark[] */
	struct iovec one;		/* the bounce buffer, as an iovec */
	uint32_t chunk;			/* bytes of the bounce path's step */
	uint8_t *bounce;		/* WRITE SAME pattern, VERIFY chunk */
	uint32_t bounce_len;
	uint64_t tag;			/* the driver's id for the command */
	uint8_t cdb[SCSI_CDB_SIZE];
	struct scsi_cmd cmd;
};

static inline struct vq_req *io_req(struct scsi_io *io)
{
	return (struct vq_req *)((char *)io - VQ_REQ_HDR_SIZE);
}

static inline struct iothread *io_thread(struct scsi_io *io)
{
	return io_req(io)->vq->th;
}

/* scsi_resp.c */
void scsi_respond(struct scsi_io *io, uint8_t response, uint32_t data_in);
int scsi_decode_lun(const uint8_t *l, bool *wlun);
bool scsi_iov_slice(const struct iovec *iov, unsigned int cnt, size_t skip,
		    size_t len, struct iovec *out, unsigned int *n,
		    unsigned int max);
void scsi_answer(struct scsi_io *io, const uint8_t *data, uint32_t din_len);
void scsi_locate_data(struct scsi_io *io, struct vq_req *req);
void scsi_tmf_answer(struct scsi_io *io, uint8_t response);

/* scsi_taskset.c */
void scsi_set_pending(struct scsi_lun *ln);
void scsi_finish_io(struct scsi_io *io, uint32_t data_in);
void scsi_exec_locked(struct scsi_dev *sd, struct scsi_io *io);
void scsi_exec_nolun(struct scsi_dev *sd, struct scsi_io *io, bool wlun,
		     int lun);
bool scsi_must_wait(const struct scsi_lun *ln, const struct scsi_io *io);
bool scsi_defer(struct scsi_io *io);
void scsi_lun_wake(struct scsi_dev *sd, struct scsi_lun *ln,
		   struct iothread *th);

/* scsi_io.c */
void scsi_run_caw(struct scsi_io *io);
void scsi_start_io(struct scsi_io *io);

/* scsi_tmf.c */
void scsi_tmf_kick(struct scsi_dev *sd);
void scsi_tmf_progress(struct scsi_dev *sd, struct iothread *me);
void scsi_handle_ctrl(struct scsi_dev *sd, struct scsi_io *io,
		      struct vq_req *req);

/* scsi_event.c */
void scsi_handle_event_buf(struct scsi_dev *sd, struct vq_req *req);
void scsi_post_rescan_events(struct scsi_dev *sd);
void scsi_release_held(void *ctx, struct virtq *vq);

/* scsi_lun.c */
bool scsi_rescan(void *ctx);

#endif
