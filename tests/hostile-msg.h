/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostile-msg.h: the frame of the hostile front-end programs
 * (test-hostile-msg-proto, test-hostile-msg-mem): a case, the ways it
 * connects to the daemon, the answers it expects, and the run of a case
 * list.  Each case sends malformed or out-of-order vhost-user messages to a
 * real vhost-uring-blk of its own, and is one TAP test that passes when:
 *   - the message was refused the way the protocol allows (a REPLY_ACK
 *     failure, or the connection closed; never a fake reply),
 *   - fds that came with it were closed (the daemon's fd count),
 *   - one log line names the problem,
 *   - the daemon is alive, serves a fresh connection, holds the fds it had
 *     before, and exits 0 on SIGTERM (under ASan: without leaks).
 * Then every case runs again against one shared daemon, which must come out
 * of the whole series serving I/O with the fd count it started with.
 * The engine comes from $TEST_AIO (default io_uring).
 */
#ifndef VU_HOSTILE_MSG_H
#define VU_HOSTILE_MSG_H

#include <stdbool.h>
#include <stdint.h>

#include "harness.h"

#define NQ		4
#define MEM_SIZE	(2u << 20)
#define MEM_GPA		0x100000ull

/* One case in progress. */
struct mt {
	const struct mcase *c;	/* the case that runs */
	struct daemon *d;
	struct front f;
	bool connected;
	const char *log;	/* a part of the line the daemon must log */
	long mark;		/* where the daemon's log stood at the start */
	struct verdict v;
};

struct bad_index;

struct mcase {
	const char *name;
	void (*fn)(struct mt *t);
	const struct bad_index *bad;	/* for m_index_state and m_index_fd */
};

#define check(t, ...)	verdict_check(&(t)->v, __VA_ARGS__)

/* Every protocol feature the cases negotiate, REPLY_ACK if ack. */
uint64_t all_pf(bool ack);

/* Connect only. */
bool open_raw(struct mt *t);
/* Connect and negotiate everything, with or without REPLY_ACK. */
bool open_neg(struct mt *t, bool ack);
/* Negotiated with REPLY_ACK and INFLIGHT_SHMFD. */
bool open_inflight(struct mt *t);
/* Negotiated with REPLY_ACK, and guest memory shared as one region. */
bool open_mem(struct mt *t);

/* The daemon refuses the message, closes its fds, keeps the connection. */
bool nack(struct mt *t, uint32_t req, const void *payload, uint32_t size,
	  const int *fds, unsigned int nfds, const char *what);
/* The daemon acknowledges the message as a success. */
bool ack(struct mt *t, uint32_t req, const void *payload, uint32_t size,
	 const int *fds, unsigned int nfds, const char *what);
/* The daemon closes the connection without sending anything. */
bool hangup(struct mt *t, const char *what);
/* The connection still works: GET_FEATURES is answered properly. */
bool still_usable(struct mt *t, const char *what);

/*
 * The whole test: the n cases, each on a daemon of its own and then all on
 * one (see case_suite()); name is the program's for its log.  Returns
 * main's exit status.
 */
int hostile_msg_main(const char *name, const struct mcase *cases, unsigned int n);

#endif
