// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-blk-resize.c: online resize of a vhost-uring-blk disk, driven
 * through the project's front end with a back-end channel as QEMU sets it
 * up.  The image grows and the daemon gets SIGHUP: CONFIG_CHANGE_MSG comes
 * on the channel (asking for an ack only with REPLY_ACK), GET_CONFIG sent
 * before the ack (as QEMU does) has the new capacity, and I/O beyond the
 * old end works.  A shrunk image keeps its capacity.  Without a channel,
 * or after the front end closed it, SIGHUP logs that and GET_CONFIG still
 * has the new size.  A change the front end has not read (QEMU ignores it
 * while the device is stopped, and reads no config on a reconnect) is
 * signalled again when the device starts.  Hostile SET_BACKEND_REQ_FD messages and channel
 * traffic are refused with a log line and no leaked fd.  The same on a
 * loop device.  The engine comes from $TEST_AIO (default io_uring).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/virtio_blk.h>

#include "front_chan.h"
#include "harness.h"
#include "log.h"
#include "tap.h"
#include "util.h"

#define MIB		(1ull << 20)
#define SECTORS(b)	((uint64_t)(b) / 512)
#define SMALL		(8 * MIB)
#define LARGE		(16 * MIB)
#define LARGER		(24 * MIB)
#define IO_LEN		4096u

static struct test_env env;

/* One daemon on an image of its own, and a connection to it. */
struct rt {
	struct daemon d;
	char img[300];
	char arg[320];
	struct blkc c;
	bool open;
	const char *name;
};

static uint64_t pf(bool ack, bool backend_req)
{
	return BIT_ULL(VU_PF_MQ) | BIT_ULL(VU_PF_CONFIG) |
	       BIT_ULL(VU_PF_CONFIGURE_MEM_SLOTS) |
	       (ack ? BIT_ULL(VU_PF_REPLY_ACK) : 0) |
	       (backend_req ? BIT_ULL(VU_PF_BACKEND_REQ) : 0);
}

static bool rt_connect(struct rt *t, uint64_t want_pf, bool chan)
{
	int ret = blkc_open(&t->c, t->d.sock, 1, ~0ull, want_pf);

	t->open = true;
	if (ret == 0 && chan)
		ret = front_chan_open(&t->c.f);
	return ok(ret == 0, "%s: connect%s (%s)", t->name,
		  chan ? " and hand over a back-end channel" : "",
		  strerror(-ret));
}

/* Start a daemon on the image (of size bytes) or device at path. */
static bool rt_start_on(struct rt *t, const char *name, const char *path)
{
	const char *args[] = { t->arg, env.aio_arg, NULL };

	memset(t, 0, sizeof(*t));
	t->name = name;
	snprintf(t->img, sizeof(t->img), "%s", path);
	snprintf(t->arg, sizeof(t->arg), "--blk-file=%s", path);
	return ok(daemon_start(&t->d, args) == 0, "%s: the daemon starts", name);
}

static bool rt_start(struct rt *t, const char *name, uint64_t size)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/%s.img", harness_dir(), name);
	image_create(path, size);
	return rt_start_on(t, name, path);
}

static void rt_finish(struct rt *t)
{
	if (t->open)
		blkc_close(&t->c);
	ok(daemon_stop(&t->d) == 0,
	   "%s: the daemon exits 0 on SIGTERM (its sandbox refused nothing)",
	   t->name);
}

static void set_size(const struct rt *t, uint64_t size)
{
	if (truncate(t->img, size) < 0) {
		perror(t->img);
		exit(99);
	}
}

static void hup(struct rt *t)
{
	kill(t->d.pid, SIGHUP);
}

/* The capacity GET_CONFIG reports (of the 57 bytes QEMU asks for). */
static uint64_t capacity(struct rt *t)
{
	struct virtio_blk_config cfg;

	if (front_get_config(&t->c.f, 0, 57, &cfg) < 0)
		return 0;
	return le64toh(cfg.capacity);
}

/* The status of a 4 KiB read at sector (0xff: no completion). */
static uint8_t read_status(struct rt *t, uint64_t sector)
{
	struct blkc_res r = { 0xff, 0 };

	if (blkc_req(&t->c, 0, VIRTIO_BLK_T_IN, sector, IO_LEN, true, false,
		     &r) < 0)
		return 0xff;
	return r.status;
}

/*
 * Write a pattern at sector, read it back through cleared buffers, and
 * find it in the backing store at the same offset.
 */
static bool io_roundtrip(struct rt *t, uint64_t sector, uint8_t seed)
{
	uint8_t expect[IO_LEN], host[IO_LEN];
	struct blkc_res r = { 0xff, 0 };
	int fd;
	bool good;

	for (unsigned int i = 0; i < IO_LEN; i++)
		expect[i] = (uint8_t)(seed + i * 7 + (i >> 9));
	memcpy(t->c.data, expect, IO_LEN);
	if (blkc_req(&t->c, 0, VIRTIO_BLK_T_OUT, sector, IO_LEN, false, false,
		     &r) < 0 || r.status != VIRTIO_BLK_S_OK)
		return false;
	memset(t->c.data, 0, IO_LEN);
	if (blkc_req(&t->c, 0, VIRTIO_BLK_T_IN, sector, IO_LEN, true, false,
		     &r) < 0 || r.status != VIRTIO_BLK_S_OK)
		return false;
	good = !memcmp(t->c.data, expect, IO_LEN);
	fd = open(t->img, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || pread(fd, host, IO_LEN, (off_t)(sector * 512)) != IO_LEN)
		good = false;
	else
		good = good && !memcmp(host, expect, IO_LEN);
	if (fd >= 0)
		close(fd);
	return good;
}

/* The next message on the channel: CONFIG_CHANGE_MSG, NEED_REPLY iff ack. */
static bool got_change(struct rt *t, bool ack, struct vu_msg *m,
		       const char *what)
{
	uint32_t flags = VU_VERSION | (ack ? VU_FLAG_NEED_REPLY : 0);
	int ret = front_chan_recv(&t->c.f, m, 5000);

	return ok(ret == 0 && m->hdr.request == VU_BACKEND_CONFIG_CHANGE_MSG &&
		  m->hdr.size == 0 && m->hdr.flags == flags,
		  "%s: %s: CONFIG_CHANGE_MSG on the channel, flags 0x%x (%s, request %u, flags 0x%x)",
		  t->name, what, flags, strerror(-ret), ret ? 0 : m->hdr.request,
		  ret ? 0 : m->hdr.flags);
}

/* Nothing on the channel for a while. */
static bool chan_quiet(struct rt *t)
{
	struct vu_msg m;

	return front_chan_recv(&t->c.f, &m, 300) == -ETIMEDOUT;
}

/* ---- growing ------------------------------------------------------------ */

static void test_grow(bool ack)
{
	struct rt t;
	struct vu_msg m;
	long mark;

	if (!rt_start(&t, ack ? "grow-ack" : "grow-noack", SMALL) ||
	    !rt_connect(&t, pf(ack, true), true))
		goto out;
	ok(capacity(&t) == SECTORS(SMALL) &&
	   read_status(&t, SECTORS(SMALL)) == VIRTIO_BLK_S_IOERR,
	   "%s: before: %llu sectors, a read at the end gets IOERR", t.name,
	   (unsigned long long)SECTORS(SMALL));

	mark = daemon_log_mark(&t.d);
	hup(&t);
	ok(daemon_wait_log(&t.d, mark, "rescan: capacity unchanged at 16384 sectors", 3000) &&
	   chan_quiet(&t), "%s: SIGHUP with the same size: a log line, nothing sent",
	   t.name);

	mark = daemon_log_mark(&t.d);
	set_size(&t, LARGE);
	hup(&t);
	got_change(&t, ack, &m, "grown image");
	/* QEMU reads the config before it acks: the daemon must not wait. */
	ok(capacity(&t) == SECTORS(LARGE),
	   "%s: GET_CONFIG before any ack has the new capacity", t.name);
	if (ack)
		ok(front_chan_ack(&t.c.f, &m, 0) == 0, "%s: ack sent", t.name);
	ok(daemon_wait_log(&t.d, mark, "rescan: capacity grew from 16384 to 32768 sectors", 3000),
	   "%s: the growth is logged", t.name);
	ok(io_roundtrip(&t, SECTORS(SMALL) + 8, 1) &&
	   io_roundtrip(&t, SECTORS(LARGE) - 8, 2),
	   "%s: writes beyond the old end read back and are in the image", t.name);
	ok(read_status(&t, SECTORS(LARGE)) == VIRTIO_BLK_S_IOERR,
	   "%s: a read at the new end gets IOERR", t.name);

	/* A failure verdict, read after GET_CONFIG: logged, nothing else. */
	mark = daemon_log_mark(&t.d);
	set_size(&t, LARGER);
	hup(&t);
	got_change(&t, ack, &m, "grown again");
	ok(capacity(&t) == SECTORS(LARGER), "%s: GET_CONFIG has %llu sectors",
	   t.name, (unsigned long long)SECTORS(LARGER));
	if (ack) {
		front_chan_ack(&t.c.f, &m, 1);
		ok(daemon_wait_log(&t.d, mark, "the front end failed to handle CONFIG_CHANGE_MSG (status 1)", 3000),
		   "%s: a failure ack is read and logged", t.name);
	}
	ok(io_roundtrip(&t, SECTORS(LARGER) - 8, 3) && daemon_log_count(&t.d, mark, "channel closed") == 0,
	   "%s: the daemon serves on with its channel", t.name);
out:
	rt_finish(&t);
}

/* ---- shrinking ---------------------------------------------------------- */

static void test_shrink(void)
{
	struct rt t;
	struct vu_msg m;
	long mark;

	if (!rt_start(&t, "shrink", LARGE) || !rt_connect(&t, pf(true, true), true))
		goto out;
	ok(io_roundtrip(&t, SECTORS(SMALL) + 8, 4), "%s: I/O in the upper half", t.name);
	mark = daemon_log_mark(&t.d);
	set_size(&t, SMALL);
	hup(&t);
	ok(daemon_wait_log(&t.d, mark, "rescan: the backing store shrank to 16384 sectors; the capacity stays 32768 sectors", 3000),
	   "%s: one log line says the capacity stays, and why", t.name);
	ok(chan_quiet(&t), "%s: no config change is sent", t.name);
	ok(capacity(&t) == SECTORS(LARGE), "%s: GET_CONFIG keeps the old capacity", t.name);
	ok(read_status(&t, SECTORS(SMALL) + 8) == VIRTIO_BLK_S_IOERR,
	   "%s: a read beyond the file's end gets IOERR", t.name);
	ok(io_roundtrip(&t, 8, 5), "%s: I/O inside the file works", t.name);

	/* Growing past the old capacity again is a growth. */
	mark = daemon_log_mark(&t.d);
	set_size(&t, LARGER);
	hup(&t);
	if (got_change(&t, true, &m, "grown past the kept capacity"))
		front_chan_ack(&t.c.f, &m, 0);
	ok(capacity(&t) == SECTORS(LARGER) &&
	   daemon_wait_log(&t.d, mark, "capacity grew from 32768 to 49152 sectors", 3000),
	   "%s: then the capacity grows from the kept one", t.name);
out:
	rt_finish(&t);
}

/* ---- a stopped device, a reconnect -------------------------------------- */

/*
 * Connect and hand over a channel with no ring started yet, as QEMU does
 * before the guest's driver starts the device.
 */
static bool rt_connect_stopped(struct rt *t)
{
	int ret = blkc_open(&t->c, t->d.sock, 0, ~0ull, pf(true, true));

	t->open = true;
	ret = ret ? ret : front_chan_open(&t->c.f);
	return ok(ret == 0, "%s: connect, no ring started (%s)", t->name,
		  strerror(-ret));
}

/* Start ring 0: the change must be signalled again, then read. */
static void start_signals_again(struct rt *t, uint64_t size)
{
	struct vu_msg m;
	int ret = front_vq_start(&t->c.f, 0, 128);

	ok(ret == 0, "%s: the guest starts the device (%s)", t->name, strerror(-ret));
	if (got_change(t, true, &m, "device started with the config unread"))
		front_chan_ack(&t->c.f, &m, 0);
	ok(capacity(t) == SECTORS(size) && io_roundtrip(t, SECTORS(SMALL) + 8, 8),
	   "%s: GET_CONFIG has the new capacity, I/O beyond the old end works",
	   t->name);
}

/*
 * QEMU 7.2 acks a config change without reading the config while the
 * device is stopped (a guest in firmware, or rebooting).
 */
static void test_stopped_device(void)
{
	struct vu_msg m;
	struct rt t;
	uint16_t base = 0;
	int ret;

	if (!rt_start(&t, "stopped-device", SMALL) || !rt_connect_stopped(&t))
		goto out;
	set_size(&t, LARGE);
	hup(&t);
	if (got_change(&t, true, &m, "grown, device stopped"))
		front_chan_ack(&t.c.f, &m, 0);
	ok(chan_quiet(&t), "%s: one message only", t.name);
	start_signals_again(&t, LARGE);
	/* Read now: a restart of the device signals nothing. */
	ret = front_vq_stop(&t.c.f, 0, &base);
	ret = ret ? ret : front_vq_restart(&t.c.f, 0, base);
	ok(ret == 0 && chan_quiet(&t),
	   "%s: once the config was read, a restarted device signals nothing (%s)",
	   t.name, strerror(-ret));
out:
	rt_finish(&t);
}

/* QEMU 7.2 reads no config when it reconnects to a restarted back end. */
static void test_reconnect(void)
{
	struct rt t;
	long mark;

	if (!rt_start(&t, "reconnect", SMALL) || !rt_connect(&t, pf(true, true), true))
		goto out;
	ok(capacity(&t) == SECTORS(SMALL), "%s: GET_CONFIG at the start", t.name);
	mark = daemon_log_mark(&t.d);
	blkc_close(&t.c);
	t.open = false;
	daemon_wait_log(&t.d, mark, "front end disconnected", 3000);
	set_size(&t, LARGE);
	hup(&t);
	ok(daemon_wait_log(&t.d, mark, "config changed with no front end connected", 3000),
	   "%s: grown with no front end: logged", t.name);
	if (rt_connect_stopped(&t))
		start_signals_again(&t, LARGE);
out:
	rt_finish(&t);
}

/* ---- no channel, closed channel ----------------------------------------- */

static void grow_unsignalled(struct rt *t, uint64_t from, uint64_t to)
{
	long mark = daemon_log_mark(&t->d);

	set_size(t, to);
	hup(t);
	ok(daemon_wait_log(&t->d, mark, "the front end gave no back-end channel to signal it", 3000),
	   "%s: SIGHUP logs that the change cannot be signalled", t->name);
	ok(capacity(t) == SECTORS(to), "%s: the next GET_CONFIG has the new size", t->name);
	ok(io_roundtrip(t, SECTORS(from) + 8, 6), "%s: I/O beyond the old end works",
	   t->name);
}

static void test_no_channel(bool backend_req)
{
	struct rt t;

	if (rt_start(&t, backend_req ? "no-channel" : "no-backend-req", SMALL) &&
	    rt_connect(&t, pf(true, backend_req), false)) {
		ok(((t.c.f.pf_acked & BIT_ULL(VU_PF_BACKEND_REQ)) != 0) == backend_req,
		   "%s: BACKEND_REQ %snegotiated", t.name, backend_req ? "" : "not ");
		grow_unsignalled(&t, SMALL, LARGE);
	}
	rt_finish(&t);
}

static void test_closed_channel(void)
{
	struct rt t;
	struct vu_msg m;
	long mark;
	int base;

	if (!rt_start(&t, "closed-channel", SMALL) ||
	    !rt_connect(&t, pf(true, true), true))
		goto out;
	base = daemon_settled_fd_count(&t.d);
	/* The front end takes the message, then closes without acking. */
	mark = daemon_log_mark(&t.d);
	set_size(&t, LARGE);
	hup(&t);
	got_change(&t, true, &m, "grown image");
	front_chan_close(&t.c.f);
	ok(daemon_wait_log(&t.d, mark, "back-end channel: the front end closed it without acking a config change", 3000),
	   "%s: the hang-up is logged", t.name);
	ok(daemon_wait_fds(&t.d, base - 1, 3000) == base - 1,
	   "%s: the daemon closed its end (%d fds, was %d)", t.name,
	   daemon_fd_count(&t.d), base);
	ok(capacity(&t) == SECTORS(LARGE), "%s: GET_CONFIG has the new size", t.name);
	grow_unsignalled(&t, LARGE, LARGER);
out:
	rt_finish(&t);
}

/* ---- hostile SET_BACKEND_REQ_FD and channel traffic --------------------- */

/* Refused with a failure ack, a log line, and every fd sent closed. */
static void refused(struct rt *t, uint32_t size, const int *fds,
		    unsigned int nfds, const char *log, const char *what)
{
	uint64_t payload[2] = { 0, 0 }, verdict = 0;
	int before = daemon_settled_fd_count(&t->d), ret;
	long mark = daemon_log_mark(&t->d);

	ret = front_send_hdr(&t->c.f, VU_SET_BACKEND_REQ_FD,
			     VU_VERSION | VU_FLAG_NEED_REPLY, size, payload,
			     size, fds, nfds);
	ret = ret ? ret : front_recv_u64(&t->c.f, VU_SET_BACKEND_REQ_FD, &verdict);
	ok(ret == 0 && verdict != 0 && daemon_fd_count(&t->d) == before &&
	   daemon_wait_log(&t->d, mark, log, 3000),
	   "hostile: SET_BACKEND_REQ_FD with %s: refused, logged, no fd kept (%s, verdict %llu, %d fds, was %d)",
	   what, strerror(-ret), (unsigned long long)verdict,
	   daemon_fd_count(&t->d), before);
}

static void hostile_fds(struct rt *t)
{
	const char *not_sock = "SET_BACKEND_REQ_FD: the fd is not a Unix stream socket";
	int efd = eventfd(0, EFD_CLOEXEC), mfd = memfd_create("x", MFD_CLOEXEC);
	int pfd[2] = { -1, -1 }, dgram[2] = { -1, -1 }, pair[2] = { -1, -1 };
	int tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (pipe2(pfd, O_CLOEXEC) < 0 ||
	    socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, dgram) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0 ||
	    efd < 0 || mfd < 0 || tcp < 0) {
		ok(false, "hostile: test fds");
		return;
	}
	refused(t, 0, NULL, 0, "SET_BACKEND_REQ_FD: 0 file descriptors, expected 1..1", "no fd");
	refused(t, 0, pair, 2, "SET_BACKEND_REQ_FD: 2 file descriptors, expected 1..1", "two sockets");
	refused(t, 16, pair, 1, "SET_BACKEND_REQ_FD: payload of 16 bytes, expected 0..8", "a 16-byte payload");
	refused(t, 0, &efd, 1, not_sock, "an eventfd");
	refused(t, 0, &mfd, 1, not_sock, "a memfd");
	refused(t, 0, &pfd[1], 1, not_sock, "a pipe");
	refused(t, 0, &dgram[0], 1, not_sock, "a datagram socket");
	refused(t, 0, &tcp, 1, not_sock, "a TCP socket");
	close(efd);
	close(mfd);
	close(tcp);
	for (int i = 0; i < 2; i++) {
		close(pfd[i]);
		close(dgram[i]);
		close(pair[i]);
	}
}

/* A second SET_BACKEND_REQ_FD replaces the first, which is closed. */
static void hostile_twice(struct rt *t)
{
	int before = daemon_settled_fd_count(&t->d), old, ret;
	long mark = daemon_log_mark(&t->d);
	struct vu_msg m;
	char c;

	ret = front_chan_open(&t->c.f);
	old = dup(t->c.f.chan_fd);
	ret = ret ? ret : front_chan_open(&t->c.f);
	ok(ret == 0 && daemon_wait_log(&t->d, mark, "a back-end channel was set already; the new one replaces it", 3000) &&
	   daemon_fd_count(&t->d) == before + 1,
	   "hostile: SET_BACKEND_REQ_FD twice: accepted, logged, one channel kept (%s, %d fds, was %d)",
	   strerror(-ret), daemon_fd_count(&t->d), before);
	ok(old >= 0 && recv(old, &c, 1, 0) == 0,
	   "hostile: the daemon closed the first channel");
	if (old >= 0)
		close(old);
	set_size(t, LARGE);
	hup(t);
	if (got_change(t, true, &m, "after a replaced channel"))
		front_chan_ack(&t->c.f, &m, 0);
	ok(capacity(t) == SECTORS(LARGE), "hostile: the new channel is used");
}

/* Anything but an awaited ack on the channel closes it; serving goes on. */
static void hostile_traffic(struct rt *t, const void *buf, size_t len,
			    const char *log, const char *what)
{
	int before, ret;
	long mark;

	ret = front_chan_open(&t->c.f);
	before = daemon_settled_fd_count(&t->d);
	mark = daemon_log_mark(&t->d);
	if (ret == 0 && send(t->c.f.chan_fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len)
		ret = -errno;
	ok(ret == 0 && daemon_wait_log(&t->d, mark, log, 3000) &&
	   daemon_wait_fds(&t->d, before - 1, 3000) == before - 1 &&
	   io_roundtrip(t, 64, (uint8_t)len),
	   "hostile: %s on the channel: logged, channel closed, the daemon serves on (%s)",
	   what, strerror(-ret));
	front_chan_close(&t->c.f);
}

static void test_hostile(void)
{
	struct vu_hdr unasked = { VU_BACKEND_CONFIG_CHANGE_MSG, VU_VERSION | VU_FLAG_REPLY, 8 };
	struct { struct vu_hdr h; uint64_t v; } __attribute__((packed)) ack = { unasked, 0 };
	struct vu_hdr request = { VU_GET_FEATURES, VU_VERSION, 0 };
	struct vu_hdr bad = { 2, 0x2, 0 };
	struct rt t;
	int base, pair[2];

	if (!rt_start(&t, "hostile", SMALL))
		goto out;
	base = daemon_settled_fd_count(&t.d);
	if (!rt_connect(&t, pf(true, true), false))
		goto out;
	hostile_fds(&t);
	hostile_twice(&t);
	hostile_traffic(&t, &ack, sizeof(ack),
			"back-end channel: unexpected message (request 2, flags 0x5, 8 bytes, 0 fds)",
			"an ack nobody asked for");
	hostile_traffic(&t, &request, sizeof(request),
			"back-end channel: unexpected message (request 1, flags 0x1, 0 bytes, 0 fds)",
			"a request");
	hostile_traffic(&t, &bad, sizeof(bad), "bad protocol version in flags 0x2",
			"a bad header");

	/* A new connection without BACKEND_REQ may not set a channel. */
	blkc_close(&t.c);
	t.open = false;
	if (rt_connect(&t, pf(true, false), false) &&
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0) {
		refused(&t, 0, pair, 1, "SET_BACKEND_REQ_FD: BACKEND_REQ was not negotiated",
			"BACKEND_REQ not negotiated");
		close(pair[0]);
		close(pair[1]);
	}

	/* A disconnect closes the channel along with the connection. */
	blkc_close(&t.c);
	t.open = false;
	if (rt_connect(&t, pf(true, true), true)) {
		char c;

		ok(daemon_fd_count(&t.d) > base, "hostile: a channel is open");
		close(t.c.f.sock);
		t.c.f.sock = -1;
		ok(daemon_wait_fds(&t.d, base, 3000) == base &&
		   recv(t.c.f.chan_fd, &c, 1, 0) == 0,
		   "hostile: after the disconnect the daemon holds its %d fds again and closed the channel",
		   base);
	}
out:
	rt_finish(&t);
}

/* ---- a block device ----------------------------------------------------- */

static void test_loop_device(void)
{
	char backing[300], dev[64] = "";
	struct vu_msg m;
	struct rt t;
	long mark;

	snprintf(backing, sizeof(backing), "%s/loop-backing.img", harness_dir());
	image_create(backing, SMALL);
	if (loop_attach(backing, dev, sizeof(dev)) < 0) {
		tap_skip("cannot set up a loop device (not root, or no loop driver)");
		return;
	}
	if (!rt_start_on(&t, "loop", dev) || !rt_connect(&t, pf(true, true), true))
		goto out;
	ok(capacity(&t) == SECTORS(SMALL), "%s: %s has %llu sectors", t.name, dev,
	   (unsigned long long)SECTORS(SMALL));
	mark = daemon_log_mark(&t.d);
	if (truncate(backing, LARGE) < 0 || loop_set_capacity(dev) < 0) {
		ok(false, "%s: grow the loop device", t.name);
		goto out;
	}
	hup(&t);
	if (got_change(&t, true, &m, "grown device"))
		front_chan_ack(&t.c.f, &m, 0);
	ok(capacity(&t) == SECTORS(LARGE) &&
	   daemon_wait_log(&t.d, mark, "rescan: capacity grew from 16384 to 32768 sectors", 3000),
	   "%s: GET_CONFIG has the new capacity", t.name);
	ok(io_roundtrip(&t, SECTORS(SMALL) + 8, 7), "%s: I/O beyond the old end works", t.name);

	mark = daemon_log_mark(&t.d);
	if (truncate(backing, SMALL) < 0 || loop_set_capacity(dev) < 0) {
		ok(false, "%s: shrink the loop device", t.name);
		goto out;
	}
	hup(&t);
	ok(daemon_wait_log(&t.d, mark, "the capacity stays 32768 sectors", 3000) &&
	   chan_quiet(&t) && capacity(&t) == SECTORS(LARGE),
	   "%s: shrunk: the capacity stays, logged, nothing sent", t.name);
	ok(read_status(&t, SECTORS(SMALL) + 8) == VIRTIO_BLK_S_IOERR,
	   "%s: a read beyond the device's end gets IOERR", t.name);
out:
	rt_finish(&t);
	loop_detach(dev);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	vu_log_init("test-blk-resize", -1);
	if (!test_env_init(&env, SMALL))
		return 0;
	tap_diag("engine %s", env.aio);
	test_grow(true);
	test_grow(false);
	test_shrink();
	test_stopped_device();
	test_reconnect();
	test_no_channel(true);
	test_no_channel(false);
	test_closed_channel();
	test_hostile();
	test_loop_device();
	harness_cleanup();
	return tap_done();
}
