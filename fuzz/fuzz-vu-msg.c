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
 * bits: which kind to start from: guest memfd, eventfd, /dev/null,
 * read-only memfd, sealed memfd, small memfd, pipe), length u16, then that
 * many bytes of the stream (headers and payloads, cut anywhere).  After the
 * last record the harness shuts the socket for writing, serves messages
 * until the connection ends, and disconnects.  It checks that every reply
 * is well formed (flags 0x5, a known request, a bounded size, no more
 * config bytes than exist) and that no fd was left open.
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
#include "fuzz.h"
#include "log.h"
#include "util.h"
#include "vhost_user.h"

#define NKINDS		7
#define MAX_RECORDS	64
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

/*
 * Send the records.  At most SEND_MAX bytes in all, so that they fit the
 * socket buffer: nobody reads them before the last one is sent.
 */
static void send_records(int sock, struct fuzz_in *in)
{
	size_t total = 0;

	for (unsigned int r = 0; r < MAX_RECORDS && in->left; r++) {
		uint8_t spec = fuzz_u8(in);
		size_t want = fuzz_u16(in), len = MIN(want, in->left);
		int fds[15];
		unsigned int nfds = spec & 15;
		struct iovec iov = { (void *)in->p, len };

		for (unsigned int i = 0; i < nfds; i++)
			fds[i] = pool[((spec >> 4) + i) % NKINDS];
		in->p += len;
		in->left -= len;
		total += len;
		if (total > SEND_MAX)
			break;
		if (len == 0)
			continue;	/* fds need at least one byte to travel */
		if (vu_msg_sendv(sock, &iov, 1, fds, nfds) < 0)
			break;
	}
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
			check_replies(replies, drain(sv[0], replies), msg.hdr.request);
		} else if (drain(sv[0], replies)) {
			fuzz_fail("a reply to a message that was not read");
		}
		if (ret < 0)
			break;
	}
	vu_dev_disconnect(&dev);
	dev.sock = -1;
	close(sv[0]);
	close(sv[1]);
	if (count_fds() != base_fds)
		fuzz_fail("a file descriptor was leaked");
	return 0;
}
