// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-hostile-msg-proto.c: a hostile front end against a real
 * vhost-uring-blk, at the protocol's level: malformed message framing,
 * wrong fd counts and kinds, replies, queue indexes out of range, messages
 * out of order, features never offered, and config space accesses.  The
 * memory table and ring set-up are test-hostile-msg-mem.c's; what a case
 * checks and how the cases run is hostile-msg.h's.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/virtio_blk.h>

#include "harness.h"
#include "hostile-msg.h"
#include "util.h"

#define CONFIG_SIZE	60	/* virtio-blk config space the daemon has */

/* A request naming a queue out of range, and what the daemon logs. */
struct bad_index {
	uint32_t req;
	uint64_t index;
	const char *log;
};

/* ---- fds ---------------------------------------------------------------- */

static void make_eventfds(int *fds, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		fds[i] = eventfd(0, EFD_CLOEXEC);
}

static void close_fds(int *fds, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
	}
}

/* ---- messages: framing -------------------------------------------------- */

static void m_truncated_header(struct mt *t)
{
	struct vu_hdr h = { VU_GET_FEATURES, VU_VERSION, 0 };

	t->log = "header truncated: the peer closed the connection after 7 of 12 bytes";
	if (!open_raw(t))
		return;
	front_send_raw(&t->f, &h, 7, NULL, 0);
	front_shutdown_write(&t->f);
	hangup(t, "7-byte header");
}

static void m_truncated_payload(struct mt *t)
{
	uint64_t f = 0;

	t->log = "SET_FEATURES: payload truncated: "
		 "the peer closed the connection after 3 of 8 bytes";
	if (!open_neg(t, true))
		return;
	front_send_hdr(&t->f, VU_SET_FEATURES, VU_VERSION, 8, &f, 3, NULL, 0);
	front_shutdown_write(&t->f);
	hangup(t, "3 of 8 payload bytes");
}

static void m_oversized(struct mt *t)
{
	static uint8_t junk[4096];

	t->log = "payload of 4096 bytes exceeds the maximum";
	if (!open_raw(t))
		return;
	front_send_hdr(&t->f, VU_SET_MEM_TABLE, VU_VERSION, sizeof(junk), junk,
		       sizeof(junk), NULL, 0);
	hangup(t, "4096-byte payload");
}

static void m_size_mismatch(struct mt *t)
{
	uint64_t v[2] = { 0, 0 };

	t->log = "SET_OWNER: payload of 16 bytes, expected 0..0";
	if (open_neg(t, true) &&
	    nack(t, VU_SET_OWNER, v, sizeof(v), NULL, 0, "SET_OWNER with 16 bytes"))
		still_usable(t, "after a wrong payload size");
}

static void m_bad_version(struct mt *t)
{
	t->log = "bad protocol version in flags 0x2";
	if (!open_raw(t))
		return;
	front_send_hdr(&t->f, VU_GET_FEATURES, 0x2, 0, NULL, 0, NULL, 0);
	hangup(t, "version 2");
}

static void m_unknown_request_acked(struct mt *t)
{
	uint64_t v = 0;

	t->log = "unsupported request 99";
	if (open_neg(t, true) &&
	    nack(t, 99, &v, sizeof(v), NULL, 0, "request 99"))
		still_usable(t, "after an unknown request");
}

static void m_unknown_request_no_ack(struct mt *t)
{
	t->log = "unsupported request 0 (NONE)";
	if (!open_neg(t, false))
		return;
	front_send_hdr(&t->f, VU_NONE, VU_VERSION, 0, NULL, 0, NULL, 0);
	hangup(t, "request 0 without NEED_REPLY");
}

/* A request the daemon does not implement, carrying fds: closed. */
static void m_unimplemented_with_fd(struct mt *t)
{
	uint64_t v = 0;
	int fd = memfd_create("gpu", MFD_CLOEXEC);

	t->log = "unsupported request 33 (GPU_SET_SOCKET)";
	if (open_neg(t, true))
		nack(t, VU_GPU_SET_SOCKET, &v, sizeof(v), &fd, 1,
		     "GPU_SET_SOCKET with a memfd");
	close(fd);
}

/* ---- messages: file descriptors ----------------------------------------- */

static void m_fds_on_fdless(struct mt *t)
{
	int fds[3];

	t->log = "SET_OWNER: 3 file descriptors, expected 0..0";
	make_eventfds(fds, 3);
	if (open_neg(t, true) &&
	    nack(t, VU_SET_OWNER, NULL, 0, fds, 3, "SET_OWNER with 3 eventfds"))
		still_usable(t, "after fds on SET_OWNER");
	close_fds(fds, 3);
}

static void m_fds_over_eight(struct mt *t)
{
	struct vu_mem_table mt = { .nregions = 1 };
	int fds[9];

	t->log = "SET_MEM_TABLE: more than 8 file descriptors attached";
	make_eventfds(fds, 9);
	if (open_neg(t, true)) {
		front_send_hdr(&t->f, VU_SET_MEM_TABLE, VU_VERSION | VU_FLAG_NEED_REPLY,
			       8 + 32, &mt, 8 + 32, fds, 9);
		hangup(t, "9 fds");
	}
	close_fds(fds, 9);
}

/* More fds than the daemon's receive buffer holds: the kernel drops some. */
static void m_fds_truncated(struct mt *t)
{
	int fds[VU_RAW_MAX_FDS];

	t->log = "GET_FEATURES: more than 8 file descriptors attached";
	make_eventfds(fds, VU_RAW_MAX_FDS);
	if (open_raw(t)) {
		front_send_hdr(&t->f, VU_GET_FEATURES, VU_VERSION, 0, NULL, 0,
			       fds, VU_RAW_MAX_FDS);
		hangup(t, "32 fds");
	}
	close_fds(fds, VU_RAW_MAX_FDS);
}

static void m_mem_table_too_few_fds(struct mt *t)
{
	struct vu_mem_table mt = { .nregions = 2 };

	t->log = "SET_MEM_TABLE: 2 regions but 1 file descriptors";
	if (!open_neg(t, true) ||
	    front_mem_create(&t->f, MEM_SIZE, MEM_GPA) < 0)
		return;
	for (unsigned int i = 0; i < 2; i++)
		mt.regions[i] = (struct vu_mem_region){
			MEM_GPA + i * (MEM_SIZE / 2), MEM_SIZE / 2,
			(uint64_t)(uintptr_t)t->f.mem.base + i * (MEM_SIZE / 2),
			i * (MEM_SIZE / 2),
		};
	nack(t, VU_SET_MEM_TABLE, &mt, 8 + 2 * 32, &t->f.mem.fd, 1,
	     "2 regions, 1 fd");
}

static void m_add_mem_reg_no_fd(struct mt *t)
{
	struct vu_mem_single s = { 0, { MEM_GPA, 4096, 0x7f0000000000ull, 0 } };

	t->log = "ADD_MEM_REG: 0 file descriptors, expected 1..1";
	if (open_neg(t, true))
		nack(t, VU_ADD_MEM_REG, &s, sizeof(s), NULL, 0, "ADD_MEM_REG without fd");
}

static void m_kick_two_fds(struct mt *t)
{
	uint64_t v = 0;
	int fds[2];

	t->log = "SET_VRING_KICK: 2 file descriptors, expected 0..1";
	make_eventfds(fds, 2);
	if (open_neg(t, true))
		nack(t, VU_SET_VRING_KICK, &v, sizeof(v), fds, 2, "KICK with 2 fds");
	close_fds(fds, 2);
}

static void m_call_nofd_with_fd(struct mt *t)
{
	uint64_t v = VU_VRING_NOFD;
	int fd = eventfd(0, EFD_CLOEXEC);

	t->log = "SET_VRING_CALL: vq 0: 1 file descriptors, expected 0";
	if (open_neg(t, true))
		nack(t, VU_SET_VRING_CALL, &v, sizeof(v), &fd, 1, "CALL with NOFD and an fd");
	close(fd);
}

static void m_err_missing_fd(struct mt *t)
{
	uint64_t v = 1;

	t->log = "SET_VRING_ERR: vq 1: 0 file descriptors, expected 1";
	if (open_neg(t, true))
		nack(t, VU_SET_VRING_ERR, &v, sizeof(v), NULL, 0, "ERR without fd or NOFD");
}

/*
 * Kick, call and error fds that are not eventfds: reading kicks from a
 * file or /dev/null never blocks, which would make the I/O thread spin.
 */
static void vring_fd_not_eventfd(struct mt *t, uint32_t req, int fd)
{
	uint64_t v = 0;

	if (open_mem(t) &&
	    check(t, front_vq_start(&t->f, 0, 128) == 0, "ring start") &&
	    still_usable(t, "after the ring start") &&
	    nack(t, req, &v, sizeof(v), &fd, 1, "a vring fd that is not an eventfd"))
		still_usable(t, "after a vring fd that is not an eventfd");
	close(fd);
}

static void m_kick_dev_null(struct mt *t)
{
	t->log = "SET_VRING_KICK: vq 0: the fd is not an eventfd";
	vring_fd_not_eventfd(t, VU_SET_VRING_KICK, open("/dev/null", O_RDWR | O_CLOEXEC));
}

/* The back-end channel must be a Unix stream socket. */
static void m_backend_req_eventfd(struct mt *t)
{
	int fd = eventfd(0, EFD_CLOEXEC), ret;

	t->log = "SET_BACKEND_REQ_FD: the fd is not a Unix stream socket";
	if (open_raw(t)) {
		ret = front_negotiate(&t->f, ~0ull, all_pf(true) | BIT_ULL(VU_PF_BACKEND_REQ));
		if (check(t, ret == 0 && (t->f.pf_acked & BIT_ULL(VU_PF_BACKEND_REQ)),
			  "negotiate BACKEND_REQ: %s", strerror(-ret)) &&
		    nack(t, VU_SET_BACKEND_REQ_FD, NULL, 0, &fd, 1,
			 "SET_BACKEND_REQ_FD with an eventfd"))
			still_usable(t, "after a refused back-end channel");
	}
	close(fd);
}

/* A back-end channel without BACKEND_REQ negotiated: refused, closed. */
static void m_backend_req_not_negotiated(struct mt *t)
{
	int sv[2] = { -1, -1 };

	t->log = "SET_BACKEND_REQ_FD: BACKEND_REQ was not negotiated";
	if (check(t, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0,
		  "socketpair") && open_neg(t, true))
		nack(t, VU_SET_BACKEND_REQ_FD, NULL, 0, &sv[1], 1,
		     "SET_BACKEND_REQ_FD without BACKEND_REQ");
	for (int i = 0; i < 2; i++) {
		if (sv[i] >= 0)
			close(sv[i]);
	}
}

static void m_call_regular_file(struct mt *t)
{
	t->log = "SET_VRING_CALL: vq 0: the fd is not an eventfd";
	vring_fd_not_eventfd(t, VU_SET_VRING_CALL, memfd_create("call", MFD_CLOEXEC));
}

static void m_err_pipe(struct mt *t)
{
	int p[2];

	t->log = "SET_VRING_ERR: vq 0: the fd is not an eventfd";
	if (pipe2(p, O_CLOEXEC) < 0)
		p[0] = p[1] = -1;
	close(p[0]);
	vring_fd_not_eventfd(t, VU_SET_VRING_ERR, p[1]);
}

/* ---- messages: replies -------------------------------------------------- */

/* Without REPLY_ACK negotiated, NEED_REPLY is ignored: no stray reply. */
static void m_need_reply_without_ack(struct mt *t)
{
	uint64_t f;

	t->log = NULL;	/* nothing wrong: the flag simply does not apply */
	if (!open_neg(t, false))
		return;
	f = t->f.acked;
	front_send_hdr(&t->f, VU_SET_OWNER, VU_VERSION | VU_FLAG_NEED_REPLY,
		       0, NULL, 0, NULL, 0);
	front_send_hdr(&t->f, VU_SET_FEATURES, VU_VERSION | VU_FLAG_NEED_REPLY,
		       8, &f, 8, NULL, 0);
	check(t, front_silent(&t->f, 300), "a reply came for NEED_REPLY without REPLY_ACK");
	still_usable(t, "after NEED_REPLY without REPLY_ACK");
}

/* A request with a reply of its own gets that reply only, no extra ack. */
static void m_need_reply_on_get(struct mt *t)
{
	struct vu_msg m;
	int ret;

	t->log = NULL;
	if (!open_neg(t, true))
		return;
	front_send_hdr(&t->f, VU_GET_QUEUE_NUM, VU_VERSION | VU_FLAG_NEED_REPLY,
		       0, NULL, 0, NULL, 0);
	ret = front_recv_reply(&t->f, VU_GET_QUEUE_NUM, &m);
	check(t, ret == 0 && m.hdr.size == 8 && m.payload.u64 == NQ,
	      "GET_QUEUE_NUM with NEED_REPLY: bad reply (%s)", strerror(-ret));
	check(t, front_silent(&t->f, 300), "a second reply followed GET_QUEUE_NUM");
	still_usable(t, "after GET_QUEUE_NUM with NEED_REPLY");
}

/*
 * A failed request that has a reply of its own must not be answered with a
 * REPLY_ACK-style u64: the front end would take it for the reply itself
 * (here: a queue count of 1).  The daemon hangs up instead.
 */
static void m_failed_get_no_fake_reply(struct mt *t)
{
	uint64_t v = 0;

	t->log = "GET_QUEUE_NUM: payload of 8 bytes, expected 0..0";
	if (!open_neg(t, true))
		return;
	front_send_hdr(&t->f, VU_GET_QUEUE_NUM, VU_VERSION | VU_FLAG_NEED_REPLY,
		       8, &v, 8, NULL, 0);
	hangup(t, "malformed GET_QUEUE_NUM with NEED_REPLY");
}

/* ---- messages: queue indexes -------------------------------------------- */

static void vring_state_bad_index(struct mt *t, uint32_t req, uint32_t index)
{
	struct vu_vring_state st = { index, 1 };
	char what[64];

	snprintf(what, sizeof(what), "%s of queue %u", vu_request_name(req), index);
	if (open_neg(t, true) &&
	    nack(t, req, &st, sizeof(st), NULL, 0, what))
		still_usable(t, what);
}

/* SET_VRING_NUM, _BASE or _ENABLE (the case's) of a queue out of range. */
static void m_index_state(struct mt *t)
{
	t->log = t->c->bad->log;
	vring_state_bad_index(t, t->c->bad->req, (uint32_t)t->c->bad->index);
}

static void m_index_vring_addr(struct mt *t)
{
	struct vu_vring_addr a = { .index = NQ + 1 };

	t->log = "SET_VRING_ADDR: queue index 5 out of range";
	if (open_mem(t) &&
	    nack(t, VU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0, "ADDR of queue 5"))
		still_usable(t, "after SET_VRING_ADDR of queue 5");
}

/* GET_VRING_BASE has its own reply: a bad index closes the connection. */
static void m_index_get_vring_base(struct mt *t)
{
	struct vu_vring_state st = { NQ, 0 };

	t->log = "GET_VRING_BASE: queue index 4 out of range";
	if (!open_neg(t, true))
		return;
	front_send_hdr(&t->f, VU_GET_VRING_BASE, VU_VERSION | VU_FLAG_NEED_REPLY,
		       sizeof(st), &st, sizeof(st), NULL, 0);
	hangup(t, "GET_VRING_BASE of queue 4");
}

static void vring_fd_bad_index(struct mt *t, uint32_t req, uint64_t v)
{
	int fd = eventfd(0, EFD_CLOEXEC);
	char what[64];

	snprintf(what, sizeof(what), "%s of queue %llu", vu_request_name(req),
		 (unsigned long long)(v & VU_VRING_IDX_MASK));
	if (open_neg(t, true) && nack(t, req, &v, sizeof(v), &fd, 1, what))
		still_usable(t, what);
	close(fd);
}

/* SET_VRING_KICK, _CALL or _ERR (the case's) of a queue out of range. */
static void m_index_fd(struct mt *t)
{
	t->log = t->c->bad->log;
	vring_fd_bad_index(t, t->c->bad->req, t->c->bad->index);
}

/* Bits above the index and NOFD flag are not a queue index either. */
static void m_vring_fd_high_bits(struct mt *t)
{
	t->log = "SET_VRING_KICK: unknown bits in 0x100000000";
	vring_fd_bad_index(t, VU_SET_VRING_KICK, 1ull << 32);
}

/* ---- messages: order, features ------------------------------------------ */

static void m_before_owner(struct mt *t)
{
	struct vu_vring_state st = { 0, 128 };
	uint64_t f = BIT_ULL(VIRTIO_F_VERSION_1), pf = all_pf(true), kick = 0, v;
	struct vu_mem_table mt = { .nregions = 1 };
	int fd = eventfd(0, EFD_CLOEXEC);
	struct front_mem *m = &t->f.mem;

	t->log = "SET_VRING_KICK before SET_OWNER";
	if (!open_raw(t) ||
	    !check(t, front_send(&t->f, VU_SET_PROTOCOL_FEATURES, VU_VERSION, &pf,
				 8, NULL, 0) == 0, "SET_PROTOCOL_FEATURES") ||
	    !check(t, front_mem_create(&t->f, MEM_SIZE, MEM_GPA) == 0, "memfd") ||
	    !check(t, front_get_u64(&t->f, VU_GET_FEATURES, &v) == 0, "GET_FEATURES"))
		goto out;
	mt.regions[0] = (struct vu_mem_region){ MEM_GPA, MEM_SIZE,
		(uint64_t)(uintptr_t)m->base, 0 };
	nack(t, VU_SET_FEATURES, &f, 8, NULL, 0, "SET_FEATURES before SET_OWNER");
	nack(t, VU_SET_MEM_TABLE, &mt, 8 + 32, &m->fd, 1, "SET_MEM_TABLE before SET_OWNER");
	nack(t, VU_SET_VRING_NUM, &st, sizeof(st), NULL, 0, "SET_VRING_NUM before SET_OWNER");
	nack(t, VU_SET_VRING_KICK, &kick, 8, &fd, 1, "SET_VRING_KICK before SET_OWNER");
out:
	close(fd);
}

static void m_features_not_offered(struct mt *t)
{
	uint64_t f;

	t->log = "SET_FEATURES: bits 0x4000000000000000 were never offered";
	if (!open_neg(t, true))
		return;
	check(t, !(t->f.features & BIT_ULL(62)), "bit 62 is offered");
	f = t->f.acked | BIT_ULL(62);
	nack(t, VU_SET_FEATURES, &f, 8, NULL, 0, "SET_FEATURES with bit 62");
	still_usable(t, "after SET_FEATURES with bit 62");
}

static void m_packed_not_offered(struct mt *t)
{
	uint64_t f;

	t->log = "SET_FEATURES: bits 0x400000000 were never offered";
	if (!open_neg(t, true))
		return;
	f = t->f.acked | BIT_ULL(VIRTIO_F_RING_PACKED);
	nack(t, VU_SET_FEATURES, &f, 8, NULL, 0, "SET_FEATURES with RING_PACKED");
}

static void m_legacy_features(struct mt *t)
{
	uint64_t f;

	t->log = "VIRTIO_F_VERSION_1 not accepted";
	if (!open_neg(t, true))
		return;
	f = t->f.acked & ~BIT_ULL(VIRTIO_F_VERSION_1);
	nack(t, VU_SET_FEATURES, &f, 8, NULL, 0, "SET_FEATURES without VERSION_1");
}

static void m_protocol_not_offered(struct mt *t)
{
	uint64_t pf = all_pf(true) | BIT_ULL(62);

	t->log = "SET_PROTOCOL_FEATURES: bits 0x4000000000000000 were never offered";
	if (!open_raw(t))
		return;
	front_send_hdr(&t->f, VU_SET_PROTOCOL_FEATURES, VU_VERSION, 8, &pf, 8,
		       NULL, 0);
	hangup(t, "SET_PROTOCOL_FEATURES with bit 62");
}

/* ---- messages: config space --------------------------------------------- */

/* GET_CONFIG that must fail: an empty reply, nothing of the config. */
static void get_config_refused(struct mt *t, uint32_t off, uint32_t size,
			       uint32_t msg_size)
{
	struct vu_config c = { .offset = off, .size = size };
	struct vu_msg m;
	int ret;

	if (!open_neg(t, true))
		return;
	front_send_hdr(&t->f, VU_GET_CONFIG, VU_VERSION, msg_size, &c, msg_size,
		       NULL, 0);
	ret = front_recv_reply(&t->f, VU_GET_CONFIG, &m);
	check(t, ret == 0 && m.hdr.size == 0,
	      "GET_CONFIG %u+%u: expected an empty reply (%s, %u bytes)", off,
	      size, strerror(-ret), m.hdr.size);
	still_usable(t, "after a refused GET_CONFIG");
}

static void m_get_config_too_long(struct mt *t)
{
	t->log = "GET_CONFIG: bytes 0+61 are outside the 60-byte config space";
	get_config_refused(t, 0, CONFIG_SIZE + 1, 12 + CONFIG_SIZE + 1);
}

static void m_get_config_wrapping(struct mt *t)
{
	t->log = "GET_CONFIG: bytes 4294967280+32 are outside";
	get_config_refused(t, UINT32_MAX - 15, 32, 12 + 32);
}

static void m_get_config_size_mismatch(struct mt *t)
{
	t->log = "GET_CONFIG: size 200 does not match the 16-byte payload";
	get_config_refused(t, 0, 200, 16);
}

static void m_get_config_max(struct mt *t)
{
	t->log = "GET_CONFIG: bytes 0+256 are outside";
	get_config_refused(t, 0, VU_MAX_CONFIG_SIZE, 12 + VU_MAX_CONFIG_SIZE);
}

/* SET_CONFIG that must fail and leave the config space as it was. */
static void set_config_refused(struct mt *t, uint32_t off, uint32_t size,
			       uint32_t flags, uint8_t fill)
{
	struct virtio_blk_config before, after;
	struct vu_config c = { .offset = off, .size = size, .flags = flags };

	memset(c.region, fill, sizeof(c.region));
	if (!open_neg(t, true) ||
	    !check(t, front_get_config(&t->f, 0, CONFIG_SIZE, &before) == 0,
		   "GET_CONFIG before"))
		return;
	nack(t, VU_SET_CONFIG, &c, 12 + size, NULL, 0, "SET_CONFIG");
	check(t, front_get_config(&t->f, 0, CONFIG_SIZE, &after) == 0 &&
	      !memcmp(&before, &after, CONFIG_SIZE),
	      "the config space changed after a refused SET_CONFIG");
}

static void m_set_config_capacity(struct mt *t)
{
	t->log = "SET_CONFIG: bytes 0+8 are read-only";
	set_config_refused(t, 0, 8, VU_CONFIG_FLAG_FRONTEND, 0x55);
}

static void m_set_config_beyond(struct mt *t)
{
	t->log = "SET_CONFIG: bytes 60+4 are read-only";
	set_config_refused(t, CONFIG_SIZE, 4, VU_CONFIG_FLAG_FRONTEND, 0);
}

static void m_set_config_wce_wide(struct mt *t)
{
	t->log = "SET_CONFIG: bytes 32+2 are read-only";
	set_config_refused(t, offsetof(struct virtio_blk_config, wce), 2,
			   VU_CONFIG_FLAG_FRONTEND, 0);
}

static void m_set_config_migration(struct mt *t)
{
	t->log = "SET_CONFIG: flags 0x1 are not supported";
	set_config_refused(t, offsetof(struct virtio_blk_config, wce), 1,
			   VU_CONFIG_FLAG_MIGRATION, 0);
}

static void m_set_config_wce_value(struct mt *t)
{
	t->log = "SET_CONFIG: writeback value 2 is neither 0 nor 1";
	set_config_refused(t, offsetof(struct virtio_blk_config, wce), 1,
			   VU_CONFIG_FLAG_FRONTEND, 2);
}

static void m_set_config_size_mismatch(struct mt *t)
{
	struct vu_config c = { .offset = 32, .size = 100 };

	t->log = "SET_CONFIG: size 100 does not fit the 13-byte payload";
	if (open_neg(t, true))
		nack(t, VU_SET_CONFIG, &c, 13, NULL, 0, "SET_CONFIG size 100 in 13 bytes");
}

/* ---- the case list ------------------------------------------------------ */

/* The queue index cases: request, index out of range, what is logged. */
static const struct bad_index
	bad_num = { VU_SET_VRING_NUM, NQ,
		"SET_VRING_NUM: queue index 4 out of range (device has 4 queues)" },
	bad_base = { VU_SET_VRING_BASE, UINT32_MAX,
		"SET_VRING_BASE: queue index 4294967295 out of range" },
	bad_kick = { VU_SET_VRING_KICK, NQ,
		"SET_VRING_KICK: queue index 4 out of range" },
	bad_call = { VU_SET_VRING_CALL, 255,
		"SET_VRING_CALL: queue index 255 out of range" },
	bad_err = { VU_SET_VRING_ERR, 128,
		"SET_VRING_ERR: queue index 128 out of range" },
	bad_enable = { VU_SET_VRING_ENABLE, 256,
		"SET_VRING_ENABLE: queue index 256 out of range" };

static const struct mcase cases[] = {
	{ "message: truncated header", m_truncated_header, NULL },
	{ "message: truncated payload", m_truncated_payload, NULL },
	{ "message: size larger than any payload", m_oversized, NULL },
	{ "message: payload size wrong for the request", m_size_mismatch, NULL },
	{ "message: bad protocol version", m_bad_version, NULL },
	{ "message: unknown request with NEED_REPLY", m_unknown_request_acked, NULL },
	{ "message: unknown request without NEED_REPLY", m_unknown_request_no_ack, NULL },
	{ "message: unimplemented request carrying an fd", m_unimplemented_with_fd, NULL },
	{ "fds: three on a message that takes none", m_fds_on_fdless, NULL },
	{ "fds: nine, more than any message takes", m_fds_over_eight, NULL },
	{ "fds: more than the daemon can receive", m_fds_truncated, NULL },
	{ "fds: SET_MEM_TABLE with fewer fds than regions", m_mem_table_too_few_fds, NULL },
	{ "fds: ADD_MEM_REG without fd", m_add_mem_reg_no_fd, NULL },
	{ "fds: SET_VRING_KICK with two", m_kick_two_fds, NULL },
	{ "fds: SET_VRING_CALL with NOFD and an fd", m_call_nofd_with_fd, NULL },
	{ "fds: SET_VRING_ERR with neither fd nor NOFD", m_err_missing_fd, NULL },
	{ "fds: SET_VRING_KICK with /dev/null", m_kick_dev_null, NULL },
	{ "fds: SET_VRING_CALL with a regular file", m_call_regular_file, NULL },
	{ "fds: SET_VRING_ERR with a pipe", m_err_pipe, NULL },
	{ "fds: SET_BACKEND_REQ_FD with an eventfd", m_backend_req_eventfd, NULL },
	{ "fds: SET_BACKEND_REQ_FD without BACKEND_REQ", m_backend_req_not_negotiated, NULL },
	{ "reply: NEED_REPLY without REPLY_ACK gets no reply", m_need_reply_without_ack, NULL },
	{ "reply: NEED_REPLY on GET_QUEUE_NUM gets one reply", m_need_reply_on_get, NULL },
	{ "reply: failed GET_QUEUE_NUM gets no fake reply", m_failed_get_no_fake_reply, NULL },
	{ "queue index: SET_VRING_NUM", m_index_state, &bad_num },
	{ "queue index: SET_VRING_ADDR", m_index_vring_addr, NULL },
	{ "queue index: SET_VRING_BASE", m_index_state, &bad_base },
	{ "queue index: GET_VRING_BASE", m_index_get_vring_base, NULL },
	{ "queue index: SET_VRING_KICK", m_index_fd, &bad_kick },
	{ "queue index: SET_VRING_CALL", m_index_fd, &bad_call },
	{ "queue index: SET_VRING_ERR", m_index_fd, &bad_err },
	{ "queue index: SET_VRING_ENABLE", m_index_state, &bad_enable },
	{ "queue index: high bits in a vring fd message", m_vring_fd_high_bits, NULL },
	{ "order: memory and vring messages before SET_OWNER", m_before_owner, NULL },
	{ "features: SET_FEATURES with a bit never offered", m_features_not_offered, NULL },
	{ "features: SET_FEATURES with RING_PACKED", m_packed_not_offered, NULL },
	{ "features: SET_FEATURES without VERSION_1", m_legacy_features, NULL },
	{ "features: SET_PROTOCOL_FEATURES with a bit never offered", m_protocol_not_offered, NULL },
	{ "config: GET_CONFIG one byte beyond the config", m_get_config_too_long, NULL },
	{ "config: GET_CONFIG offset plus size wrapping", m_get_config_wrapping, NULL },
	{ "config: GET_CONFIG size not matching the payload", m_get_config_size_mismatch, NULL },
	{ "config: GET_CONFIG of 256 bytes", m_get_config_max, NULL },
	{ "config: SET_CONFIG on the capacity", m_set_config_capacity, NULL },
	{ "config: SET_CONFIG beyond the config", m_set_config_beyond, NULL },
	{ "config: SET_CONFIG on writeback and the next byte", m_set_config_wce_wide, NULL },
	{ "config: SET_CONFIG with the migration flag", m_set_config_migration, NULL },
	{ "config: SET_CONFIG writeback=2", m_set_config_wce_value, NULL },
	{ "config: SET_CONFIG size not fitting the payload", m_set_config_size_mismatch, NULL },
};

int main(void)
{
	return hostile_msg_main("test-hostile-msg-proto", cases, ARRAY_SIZE(cases));
}
