/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * front.h: the project's own vhost-user front end.  It plays the part QEMU
 * plays: shares a memfd as guest memory, negotiates, sets up split rings and
 * drives them.  Used by the VM-less tests and by vhost-uring-bench; it can
 * also send raw or deliberately malformed messages.
 */
#ifndef VU_FRONT_H
#define VU_FRONT_H

#include <stdbool.h>
#include <stdint.h>

#include "front_vq.h"
#include "vu_msg.h"

struct front_mem {
	int fd;
	uint8_t *base;		/* our mapping; also the "QVA" we announce */
	uint64_t size;
	uint64_t gpa;		/* guest-physical address of base */
	uint64_t used;		/* bump allocator */
};

struct front {
	int sock;
	uint64_t features;		/* offered by the back end */
	uint64_t acked;			/* sent in SET_FEATURES */
	uint64_t protocol_features;	/* offered by the back end */
	uint64_t pf_acked;
	uint64_t max_queues;
	struct front_mem mem;
	struct front_vq vqs[FRONT_MAX_VQS];
	int timeout_ms;			/* for replies */
	int chan_fd;			/* back-end channel (front_chan.h) */
};

/* Connect to a back end, retrying until timeout_ms for the socket to appear. */
int front_connect(struct front *f, const char *path, int timeout_ms);
void front_close(struct front *f);

/* Raw messages. */
int front_send(struct front *f, uint32_t req, uint32_t flags,
	       const void *payload, uint32_t size, const int *fds,
	       unsigned int nfds);
/* Wait for a reply to req; fails on timeout, hang-up or a mismatch. */
int front_recv_reply(struct front *f, uint32_t req, struct vu_msg *msg);
/* The same, keeping the fds the reply carried (the caller closes them). */
int front_recv_reply_fds(struct front *f, uint32_t req, struct vu_msg *msg);
/* Wait for a reply to req that carries a u64 (also REPLY_ACK verdicts). */
int front_recv_u64(struct front *f, uint32_t req, uint64_t *v);
/* Request with a u64 reply (GET_FEATURES and friends). */
int front_get_u64(struct front *f, uint32_t req, uint64_t *v);
/*
 * Send a message that has no reply of its own.  With REPLY_ACK negotiated
 * it asks for an ack and returns the back end's verdict (0 or -EIO).
 */
int front_request(struct front *f, uint32_t req, const void *payload,
		  uint32_t size, const int *fds, unsigned int nfds);

/*
 * Hostile input.  front_send_hdr() sends a header with any field values,
 * then len payload bytes (which need not match size), with up to
 * VU_RAW_MAX_FDS fds.  front_send_raw() sends bytes as they are.
 */
int front_send_hdr(struct front *f, uint32_t req, uint32_t flags,
		   uint32_t size, const void *payload, size_t len,
		   const int *fds, unsigned int nfds);
int front_send_raw(struct front *f, const void *buf, size_t len,
		   const int *fds, unsigned int nfds);
/* Stop writing (the back end sees EOF once it has read what was sent). */
void front_shutdown_write(struct front *f);
/*
 * Wait up to timeout_ms for the back end to close the connection, reading
 * and counting in *bytes whatever it still sends.  Returns 0 once it has
 * closed, -ETIMEDOUT if it did not.
 */
int front_wait_hangup(struct front *f, int timeout_ms, size_t *bytes);
/* Is nothing at all sent to us within timeout_ms? */
bool front_silent(struct front *f, int timeout_ms);

/*
 * The usual start: features, protocol features, queue count, owner.
 * want/want_pf are masked with what the back end offers; VHOST_F_LOG_ALL
 * is never acked here (front_log_enable() turns logging on).
 */
int front_negotiate(struct front *f, uint64_t want, uint64_t want_pf);

/* Guest memory: a shared memfd of size bytes at guest-physical gpa. */
int front_mem_create(struct front *f, uint64_t size, uint64_t gpa);
/* Announce it with SET_MEM_TABLE, or ADD_MEM_REG when add is true. */
int front_mem_share(struct front *f, bool add);
/*
 * The same, cut into parts regions of equal size (at increasing mmap
 * offsets of the one memfd, contiguous in guest-physical space).
 */
int front_mem_share_parts(struct front *f, bool add, unsigned int parts);
/*
 * The usual start of a client: connect (waiting up to 5 s for the socket),
 * replies awaited up to 5 s, front_negotiate(), then mem_size bytes of
 * guest memory at 1 MiB shared as parts regions (ADD_MEM_REG when
 * CONFIGURE_MEM_SLOTS was negotiated).
 */
int front_open(struct front *f, const char *path, uint64_t want,
	       uint64_t want_pf, uint64_t mem_size, unsigned int parts);
/* Carve aligned guest memory; returns the host pointer, *gpa its address. */
void *front_alloc(struct front *f, uint64_t size, uint64_t align,
		  uint64_t *gpa);
static inline uint64_t front_gpa(const struct front *f, const void *p)
{
	return f->mem.gpa + (uint64_t)((const uint8_t *)p - f->mem.base);
}

int front_get_config(struct front *f, uint32_t off, uint32_t len, void *buf);
int front_set_config(struct front *f, uint32_t off, uint32_t len,
		     const void *buf);

/* Allocate and start queue idx with num entries. */
int front_vq_start(struct front *f, unsigned int idx, uint16_t num);
/* The same with ring addresses of the caller's choosing (QVAs). */
int front_vq_start_at(struct front *f, unsigned int idx, uint16_t num,
		      uint64_t desc, uint64_t avail, uint64_t used);
/*
 * SET_VRING_CALL with a new eventfd for running queue idx, as QEMU does
 * when the guest masks or unmasks the queue's interrupt vector.
 */
int front_vq_swap_call(struct front *f, unsigned int idx);
/* GET_VRING_BASE: stop queue idx and return the back end's avail index. */
int front_vq_stop(struct front *f, unsigned int idx, uint16_t *base);

/*
 * Back-end restarts, as QEMU does them with reconnect=1: a new connection
 * to path (memory and rings kept), then after negotiation and sharing the
 * memory again, each queue set up once more on its rings with SET_VRING_BASE
 * = base (QEMU sends the used index after a crash).
 */
int front_reconnect(struct front *f, const char *path, int timeout_ms);
int front_vq_restart(struct front *f, unsigned int idx, uint16_t base);

/*
 * GET_INFLIGHT_FD: *out is the back end's answer; *fd its region (-1 when
 * it has none: out->mmap_size is then 0).  SET_INFLIGHT_FD hands it back.
 */
int front_get_inflight(struct front *f, uint16_t num_queues,
		       uint16_t queue_size, struct vu_inflight *out, int *fd);
int front_set_inflight(struct front *f, const struct vu_inflight *in, int fd);

#endif
