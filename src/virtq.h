/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtq.h: the device side of a split virtqueue.  The control thread
 * configures a queue while its I/O thread is paused; the I/O thread then
 * pops descriptor chains into iovecs that point into guest memory, hands
 * them to the device, and publishes completions in batches.
 */
#ifndef VU_VIRTQ_H
#define VU_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <linux/virtio_ring.h>

#include "dirty_log.h"
#include "engine.h"
#include "inflight.h"
#include "mem.h"
#include "util.h"

/* Largest queue size we accept (the virtio maximum for split rings). */
#define VQ_MAX_SIZE		32768
/* Most iovecs one request may need (data segments, header, status, splits). */
#define VQ_MAX_IOV		160
/* iovecs kept in the request itself; longer chains use the queue's spare. */
#define VQ_INLINE_IOV		8
/* Most descriptors in an indirect table. */
#define VQ_MAX_INDIRECT		1024

struct virtq;
struct iothread;

/* One descriptor chain taken from the avail ring, until it is completed. */
struct vq_req {
	struct virtq *vq;
	uint16_t head;
	bool busy;
	uint16_t out_num;	/* iov[0, out_num): device-readable */
	uint16_t in_num;	/* iov[out_num, out_num + in_num): writable */
	uint32_t out_len;
	uint32_t in_len;
	uint16_t log_n;		/* writable ranges kept for the dirty log */
	struct iovec *iov;	/* inline_iov, or this head's long array */
	struct iovec inline_iov[VQ_INLINE_IOV];
};

/* A writable guest range of a request, kept while dirty logging is on. */
struct vq_log_range {
	uint64_t gpa;
	uint64_t len;
};

/* Device-private bytes follow the request, suitably aligned. */
#define VQ_REQ_HDR_SIZE	ALIGN_UP(sizeof(struct vq_req), 64)

static inline void *vq_req_priv(struct vq_req *req)
{
	return (char *)req + VQ_REQ_HDR_SIZE;
}

typedef void (*vq_handler_fn)(void *ctx, struct vq_req *req);
struct virtq;
typedef void (*vq_release_fn)(void *ctx, struct virtq *vq);

struct virtq {
	unsigned int index;
	/* Its I/O thread; requests go to that thread's device (th->ops). */
	struct iothread *th;
	const struct vu_mem *mem;

	/* Set by vhost-user messages (control thread, I/O thread paused). */
	uint16_t num;
	bool addr_set;
	uint32_t addr_flags;
	uint64_t desc_qva, avail_qva, used_qva, log_gpa;
	int kick_fd, call_fd, err_fd;
	bool started;		/* a kick fd arrived and no GET_VRING_BASE since */
	bool enabled;		/* SET_VRING_ENABLE */
	bool event_idx;
	bool indirect;
	bool polled;		/* the I/O thread polls: keep kicks off */
	uint16_t max_batch;	/* most chains per virtq_process, 0: all */
	bool more;		/* the last pass stopped at max_batch */
	uint16_t last_avail_idx;
	bool active;		/* ready for the I/O thread */

	/* Owned by the I/O thread while active. */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t used_idx;		/* next used slot */
	uint16_t published_used;	/* last value stored in used->idx */
	uint16_t notified_used;		/* used->idx at our last notification */
	bool dirty;			/* used entries not yet published */
	bool kicked;
	bool kick_armed;
	bool broken;
	unsigned int inflight;
	struct io_op kick_op;
	/* Its part of the inflight region (SET_INFLIGHT_FD), if any. */
	struct inflight_vq ifl;
	/*
	 * Dirty logging (live migration): the log while VHOST_F_LOG_ALL is
	 * on, else NULL; set with the queue inactive.  The device's writes
	 * are marked when a request completes, from the writable ranges its
	 * chain had (VQ_MAX_IOV per head, allocated when logging first
	 * starts); with VHOST_VRING_F_LOG, used ring writes are marked at
	 * log_gpa.
	 */
	struct dirty_log *log;
	struct vq_log_range *log_ranges;

	/* Requests, indexed by head; allocated for pool_num entries. */
	uint8_t *pool;
	size_t stride;
	uint16_t pool_num;
	/*
	 * VQ_MAX_IOV iovecs per head for long chains.  Pages of it are only
	 * touched by requests that need them, so typical small requests keep
	 * the daemon's resident memory low.
	 */
	struct iovec *long_iov;
};

static inline struct vq_req *vq_req_at(struct virtq *vq, uint16_t head)
{
	return (struct vq_req *)(vq->pool + (size_t)head * vq->stride);
}

void virtq_init(struct virtq *vq, unsigned int index);

/*
 * Control thread: translate and check the ring addresses and make the
 * queue ready.  Returns 0 or -errno with a log line.
 */
int virtq_activate(struct virtq *vq, const struct vu_mem *mem,
		   size_t priv_size);
void virtq_deactivate(struct virtq *vq);
/* Forget all configuration (disconnect); closes the fds. */
void virtq_reset(struct virtq *vq);

/*
 * I/O thread: take available chains and pass them to the device (the
 * handle_request hook of vq->th->ops), at most
 * vq->max_batch of them (then vq->more is set and kicks stay off).  Returns
 * the number taken.  Unless vq->polled, kicks are re-enabled once the ring
 * is empty.
 */
unsigned int virtq_process(struct virtq *vq);
/* Has the driver made chains available that we have not taken? */
bool virtq_has_work(struct virtq *vq);
/* Before a polling thread sleeps: ask for kicks; true if work arrived. */
bool virtq_enable_kicks(struct virtq *vq);
/* Record a finished request; len = bytes written to writable buffers. */
void virtq_push(struct vq_req *req, uint32_t len);
/* Give up a request without completing it (the queue is broken). */
void virtq_abandon(struct vq_req *req);
/*
 * Publish recorded completions.  Returns true when the driver asked to be
 * notified of them (the caller signals call_fd).
 */
bool virtq_flush(struct virtq *vq);
/*
 * I/O thread: publish vq's completions now and notify the driver if it
 * asked (virtq_flush plus the call).  The I/O loop does this after every
 * pass; a device that must order what the driver sees across queues may
 * do it earlier.
 */
void virtq_flush_now(struct virtq *vq);
/*
 * I/O thread, some time after the last activity: look again, in case the
 * driver's last stores reached us late.  A guest vCPU whose memory
 * barriers are not enforced (QEMU TCG with one vCPU drops them) can store
 * used_event, or the avail index, after loading what we published, and
 * then neither side wakes the other.  Returns true when the driver asked
 * for a notification it did not get (the caller signals call_fd); sets
 * vq->kicked when the avail ring holds requests no kick announced.
 */
bool virtq_recheck(struct virtq *vq);
/* Control thread: log a snapshot of the queue's indices and flags. */
void virtq_log_state(struct virtq *vq);
/* The driver broke the ring protocol: stop the queue, tell the front end. */
void virtq_set_broken(struct virtq *vq, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Walk the chain starting at head into req->iov (exposed for tests and the
 * fuzzer).  Returns 0, or -errno with *why set to a static description.
 */
int virtq_map_chain(struct virtq *vq, uint16_t head, struct vq_req *req,
		    const char **why);

#endif
