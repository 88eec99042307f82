// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuzz-vu-msg.c: fuzzes the back end's vhost-user message handling: the
 * framing (src/vu_msg.c) and every handler (src/vhost_user.c) of a
 * virtio-blk device (blk/blk_dev.c) on an image in a memfd.  The device has
 * no I/O threads; rings are set up and checked but never served (the
 * virtq harness covers that).
 *
 * The input is a series of records, each sent with one sendmsg() on a
 * socket pair whose other end the daemon code reads exactly as it reads a
 * front end: fds u8 (low 4 bits: how many fds to attach, up to 15; high 4
 * bits K: for K < 7, the kind to start from, in turn: guest memfd,
 * eventfd, /dev/null, read-only memfd, sealed memfd, small memfd, pipe;
 * for K >= 7, the first fd is a memfd made for the record (a dirty log for
 * SET_LOG_BASE, say) and the others start from kind K - 7, modulo 7), then,
 * with such a memfd, its size u32 (bytes; with the top bit set, the low 31
 * bits are 4 KiB pages, up to 8 TiB), then length u16, then that many
 * bytes of the stream (headers and payloads, cut anywhere).  After
 * the last record the harness shuts the socket for writing, serves messages
 * until the connection ends, and disconnects.  It checks that every reply
 * is well formed (flags 0x5, a known request, a bounded size, no more
 * config bytes than exist), that rings run with dirty logging exactly when
 * VHOST_F_LOG_ALL is on and then only with a log, that an accepted log
 * covers guest memory (every page of it is marked, which faults if the
 * mapping is short), that the log goes with the connection and that no fd
 * was left open.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "blk_dev.h"
#include "dirty_log.h"
#include "fuzz.h"
#include "log.h"
#include "util.h"
#include "vhost_user.h"

#define NKINDS		7
#define KIND_SIZED	7	/* and above: a memfd of the record's size first */
#define MAX_RECORDS	64
/* Mark at most this much guest memory per message (the loop is per byte). */
#define MARK_MAX	(64ull << 20)
#define REPLY_BUF	65536
#define SEND_MAX	(128u << 10)

static struct blk_dev bd;
static struct vu_dev dev;
static int pool[NKINDS];
static int base_fds;

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		fuzz_fail("/proc/self/fd");
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the directory's own fd */
}

static int memfd_of(size_t size, unsigned int seals)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC | (seals ? MFD_ALLOW_SEALING : 0));

	if (fd < 0 || ftruncate(fd, size) < 0)
		fuzz_fail("memfd");
	if (seals && fcntl(fd, F_ADD_SEALS, seals) < 0)
		fuzz_fail("seals");
	return fd;
}

static void setup(void)
{
	struct vu_dev_config cfg = { .max_queues = 4, .max_queue_size = 256 };
	struct blk_opts o = { .num_queues = 4, .serial = "fuzz",
			      .cache = CACHE_WRITEBACK };
	char path[64];
	int img = memfd_of(1 << 20, 0), p[2];

	vu_log_init("fuzz-vu-msg", -10);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", img);
	o.path = path;
	if (blk_dev_open(&bd, &o) < 0)
		fuzz_fail("blk_dev_open");
	close(img);
	if (vu_dev_init(&dev, &blk_dev_ops, &bd, &cfg) < 0)
		fuzz_fail("vu_dev_init");
	pool[0] = memfd_of(1 << 20, 0);
	pool[1] = eventfd(0, EFD_CLOEXEC);
	pool[2] = open("/dev/null", O_RDWR | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", pool[0]);
	pool[3] = open(path, O_RDONLY | O_CLOEXEC);
	pool[4] = memfd_of(1 << 16, F_SEAL_WRITE);
	pool[5] = memfd_of(4096, 0);
	if (pipe2(p, O_CLOEXEC) < 0)
		fuzz_fail("pipe");
	pool[6] = p[0];
	close(p[1]);
	for (unsigned int i = 0; i < NKINDS; i++) {
		if (pool[i] < 0)
			fuzz_fail("fd pool");
	}
}

/* The record's sized memfd: its size comes from the input. */
static int sized_memfd(struct fuzz_in *in)
{
	uint32_t v = fuzz_u32(in);
	uint64_t size = v & 0x80000000u ? (uint64_t)(v & 0x7fffffffu) << 12 : v;
	int fd = memfd_create("fuzz-sized", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, size) < 0)
		fuzz_fail("sized memfd");
	return fd;
}

/*
 * Send the records.  At most SEND_MAX bytes in all, so that they fit the
 * socket buffer: nobody reads them before the last one is sent.
 */
static void send_records(int sock, struct fuzz_in *in)
{
	size_t total = 0;

	for (unsigned int r = 0; r < MAX_RECORDS && in->left; r++) {
		uint8_t spec = fuzz_u8(in);
		unsigned int nfds = spec & 15, kind = spec >> 4;
		int fds[15], sized = -1;
		size_t want, len;
		struct iovec iov;
		int ret = 0;

		if (nfds && kind >= KIND_SIZED) {
			sized = sized_memfd(in);
			fds[0] = sized;
		}
		for (unsigned int i = sized >= 0; i < nfds; i++)
			fds[i] = pool[(kind % KIND_SIZED + i - (sized >= 0)) % NKINDS];
		want = fuzz_u16(in);
		len = MIN(want, in->left);
		iov = (struct iovec){ (void *)in->p, len };
		in->p += len;
		in->left -= len;
		total += len;
		/* fds need at least one byte to travel */
		if (total <= SEND_MAX && len)
			ret = vu_msg_sendv(sock, &iov, 1, fds, nfds);
		if (sized >= 0)
			close(sized);
		if (total > SEND_MAX || ret < 0)
			break;
	}
}

/*
 * Dirty logging: a running ring logs exactly when VHOST_F_LOG_ALL is on,
 * and then into a mapped log, with room for its chains' ranges.  A log the
 * daemon accepted covers guest memory: mark every page of it, which faults
 * if the mapping is shorter than it claims.
 */
static void check_log(void)
{
	bool on = dev.features & BIT_ULL(VHOST_F_LOG_ALL);

	for (unsigned int i = 0; i < dev.max_queues; i++) {
		const struct virtq *vq = &dev.vqs[i];

		if (!vq->active)
			continue;
		if (vq->log != (on ? &dev.log : NULL))
			fuzz_fail("a running ring logs against VHOST_F_LOG_ALL");
		if (on && (!dev.log.bits || !vq->log_ranges))
			fuzz_fail("a ring runs with logging on but without a log");
	}
	if (!dev.log.bits)
		return;
	if (dev.log.size < dirty_log_bytes_needed(&dev.mem))
		return;	/* the memory table grew after the log came */
	/* A ring's log_guest_addr may lie anywhere: only ours count here. */
	dev.log.outside = false;
	for (unsigned int i = 0; i < dev.mem.nregs; i++) {
		const struct vu_mem_reg *r = &dev.mem.regs[i];

		if (r->size > MARK_MAX)
			continue;
		dirty_log_mark(&dev.log, r->gpa, r->size);
		if (!dirty_log_test(&dev.log, r->gpa + r->size - 1))
			fuzz_fail("a page marked in the log reads back clear");
	}
	if (dev.log.outside)
		fuzz_fail("a log that covers guest memory marked a page outside it");
}

/*
 * Check the replies to one request (req), now complete in buf: at most one,
 * to that request, flags 0x5, a bounded size, no more config bytes than
 * there are.
 */
static void check_replies(const uint8_t *buf, size_t len, uint32_t req)
{
	struct vu_hdr h;

	if (len == 0)
		return;
	if (len < sizeof(h))
		fuzz_fail("a reply shorter than a header");
	memcpy(&h, buf, sizeof(h));
	if (h.flags != (VU_VERSION | VU_FLAG_REPLY))
		fuzz_fail("a reply without flags 0x5");
	if (h.request != req)
		fuzz_fail("a reply to another request");
	if (h.size > VU_MAX_PAYLOAD)
		fuzz_fail("a reply larger than any payload");
	if (h.request == VU_GET_CONFIG && h.size > VU_CONFIG_HDR_SIZE + 60)
		fuzz_fail("GET_CONFIG replied with more than the config space");
	if (len != sizeof(h) + h.size)
		fuzz_fail("more than one reply, or a reply cut short");
}

/* Take what the daemon sent since the last call, without waiting. */
static size_t drain(int sock, uint8_t *buf)
{
	size_t len = 0;

	for (;;) {
		ssize_t n = recv(sock, buf + len, REPLY_BUF - len, MSG_DONTWAIT);

		if (n <= 0)
			return len;
		len += n;
		if (len == REPLY_BUF)
			fuzz_fail("replies larger than any message");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t replies[REPLY_BUF];
	struct fuzz_in in = { data, size };
	int sv[2];

	if (!dev.vqs)
		setup();
	/* libFuzzer opens and closes files between inputs: count afresh. */
	base_fds = count_fds();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		fuzz_fail("socketpair");
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	dev.sock = sv[1];
	send_records(sv[0], &in);
	shutdown(sv[0], SHUT_WR);
	for (;;) {
		struct vu_msg msg;
		int ret = vu_msg_recv(sv[1], &msg);

		if (ret == 0) {
			ret = vu_dev_handle_msg(&dev, &msg);
			if (msg.nfds)
				fuzz_fail("a handled message still holds fds");
			check_log();
			check_replies(replies, drain(sv[0], replies), msg.hdr.request);
		} else if (drain(sv[0], replies)) {
			fuzz_fail("a reply to a message that was not read");
		}
		if (ret < 0)
			break;
	}
	vu_dev_disconnect(&dev);
	if (dev.log.bits || dev.log.notify_fd >= 0)
		fuzz_fail("the dirty log outlived the connection");
	dev.sock = -1;
	close(sv[0]);
	close(sv[1]);
	if (count_fds() != base_fds)
		fuzz_fail("a file descriptor was leaked");
	return 0;
}
