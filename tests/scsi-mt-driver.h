/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scsi-mt-driver.h: the driver side of test-scsi-mt: commands on chosen
 * slots and request queues of a client with two of them, control requests
 * of its own, the order in which the driver sees the answers, and the
 * gated disk (tests/fuse-faulty) that LUN 0 lives on.
 */
#ifndef VU_SCSI_MT_DRIVER_H
#define VU_SCSI_MT_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ffs.h"
#include "front_scsi.h"
#include "harness.h"

#define LBS		512u
#define HOLD_LEN	4096u		/* one held read: 8 blocks */
#define IO_BLOCKS	8u
#define WAIT_MS		10000		/* hang detector */
#define NO_TAG		0xdeadull	/* an ABORT TASK that finds nothing */
#define NCTRL		4		/* control requests of our own */

/* Where each case's held reads and COMPARE AND WRITEs go (bytes). */
#define OFF_CASE(n)	((uint64_t)(n) << 20)

/* The queue the "other" thread serves, and the control queue's thread's. */
#define RQ_OTHER	1
#define RQ_CTRL		0

#define BIT(slot)	(1ull << (slot))
#define TMF_CK(i)	(0x100u + (i))	/* control request i's cookie */

/* The gated file system LUN 0's image is on, and LUN 0's address. */
extern struct ffs fmnt;
extern uint8_t lun0[8];

/* Control requests of our own: a TMF and a marker can be out at once. */
extern uint8_t *ctrl_req[NCTRL], *ctrl_resp[NCTRL];
/* Per slot: its own data buffer in guest memory. */
extern uint8_t *slot_buf[SCSIC_SLOTS];

/* ---- commands and control requests (queued, not kicked) ----------------- */

/* A READ(10) of IO_BLOCKS at off into slot's buffer. */
void submit_read(struct scsic *c, unsigned int rq, unsigned int slot,
		 uint64_t off);
/* A COMPARE AND WRITE of what the image holds at off with new data. */
void submit_caw(struct scsic *c, unsigned int rq, unsigned int slot,
		uint64_t off, const uint8_t *old, const uint8_t *new);
/* REPORT LUNS through the W-LUN: no LUN state, answered at once. */
void submit_marker(struct scsic *c, unsigned int rq, unsigned int slot);
/* A TMF for LUN 0 as control request i. */
void submit_tmf(struct scsic *c, unsigned int i, uint32_t subtype,
		uint64_t tag);
/* AN_QUERY, answered at once: the control queue took what came before. */
void submit_an(struct scsic *c, unsigned int i);

/* ---- what the driver has seen ------------------------------------------- */

/*
 * The order of completions over all queues (rank[] holds each cookie's
 * rank, 0 for not yet), and any duplicate.
 */
#define EV_COOKIE	0x200		/* event buffers: 0x200 + i */
#define NEV		64

struct seen {
	int rank[EV_COOKIE + NEV];
	int next;
	/* For a control request: the slots already answered when it was. */
	uint64_t answered_at[NCTRL];
	bool twice;		/* a cookie came back twice */
	bool bad;		/* one that was never put on a ring */
};

#define SEEN_INIT	{ .next = 0 }

/*
 * Reap every queue.  When a control request's answer is seen, what the
 * device published before it is in the used rings already: reap those
 * first and note which command slots were done by then.
 */
void reap_all(struct scsic *c, struct seen *s);
/* Reap until every cookie in want[] has completed; false on timeout. */
bool reap_until(struct scsic *c, struct seen *s, const uintptr_t *want,
		unsigned int n, int timeout_ms);
/* Slot's virtio-scsi response byte (0xff while not answered). */
uint8_t response(struct scsic *c, unsigned int slot);
/* Is control request i's answer (its first byte) want? */
bool ctrl_answer(unsigned int i, uint8_t want);

/* ---- the steps the cases share ------------------------------------------ */

/*
 * On queue rq: a read (tag 1) held in the gate at held, a COMPARE AND WRITE
 * (tag 2) of block ca from old to new behind it, and a marker (tag 3).  True
 * once the read is held and the marker is answered (the CAW was taken).
 */
bool read_caw_marker(struct scsic *c, struct seen *s, unsigned int rq,
		     uint64_t held, uint64_t ca, const uint8_t *old,
		     const uint8_t *new);
/*
 * A read on the other request queue (slot 1), held by the gate at off;
 * then an ABORT TASK (control request 0) that finds nothing and so waits
 * for that read, with an AN query (1) behind it on the control queue,
 * whose answer shows that the control queue's thread has taken the TMF.
 */
void hold_read_then_tmf(struct scsic *c, struct verdict *v, struct seen *s,
			uint64_t off);
/* Let everything go and reap what is left (after a failed check). */
void settle(struct scsic *c, struct seen *s, const uint64_t *holds,
	    unsigned int n);

/* A paused vhost-user message sent from another thread, and its answer. */
struct msg_job {
	struct scsic *c;
	int ret;
	bool done;	/* atomic */
};

/* The thread's body: SET_VRING_CALL of the event queue, GET_FEATURES. */
void *msg_thread(void *arg);

/* ---- the client and the image from the host ----------------------------- */

/*
 * Connect with 2 request queues, give each slot and control request its
 * buffers, and take the power-on unit attention.  0 or -errno.
 */
int open_client(struct scsic *c, struct daemon *d);
/* Write or compare the image behind the daemon's back (exit 99 on error). */
void host_write(uint64_t off, const void *buf, size_t len);
bool host_holds(uint64_t off, const void *want, size_t len);

#endif
