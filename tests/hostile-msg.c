// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hostile-msg.c: what the hostile front-end programs share (hostile-msg.h):
 * the daemon every case starts, the ways a case connects, the answers it
 * expects, and the run of one case.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "hostile-msg.h"
#include "log.h"
#include "tap.h"
#include "test-case.h"
#include "util.h"

static struct test_env env;
static const char *daemon_args[] = { env.img_arg, env.aio_arg, "--num-queues=4", NULL };
static const struct mcase *cases;	/* the program's case list */

/* Every protocol feature the cases negotiate, REPLY_ACK if ack. */
uint64_t all_pf(bool ack)
{
	return BIT_ULL(VU_PF_MQ) | BIT_ULL(VU_PF_CONFIG) |
	       BIT_ULL(VU_PF_CONFIGURE_MEM_SLOTS) |
	       (ack ? BIT_ULL(VU_PF_REPLY_ACK) : 0);
}

/* ---- connections -------------------------------------------------------- */

bool open_raw(struct mt *t)
{
	int ret = front_connect(&t->f, t->d->sock, 5000);

	t->connected = ret == 0;
	t->f.timeout_ms = 3000;
	return check(t, ret == 0, "connect: %s", strerror(-ret));
}

/* Connect and negotiate everything, with or without REPLY_ACK. */
bool open_neg(struct mt *t, bool ack)
{
	int ret;

	if (!open_raw(t))
		return false;
	ret = front_negotiate(&t->f, ~0ull, all_pf(ack));
	return check(t, ret == 0, "negotiate: %s", strerror(-ret));
}

/* Negotiated with REPLY_ACK and INFLIGHT_SHMFD. */
bool open_inflight(struct mt *t)
{
	int ret;

	if (!open_raw(t))
		return false;
	ret = front_negotiate(&t->f, ~0ull, all_pf(true) | BIT_ULL(VU_PF_INFLIGHT_SHMFD));
	return check(t, ret == 0 && (t->f.pf_acked & BIT_ULL(VU_PF_INFLIGHT_SHMFD)),
		     "negotiate INFLIGHT_SHMFD: %s", strerror(-ret));
}

/* Negotiated with REPLY_ACK, and guest memory shared as one region. */
bool open_mem(struct mt *t)
{
	int ret;

	if (!open_neg(t, true))
		return false;
	ret = front_mem_create(&t->f, MEM_SIZE, MEM_GPA);
	ret = ret ? ret : front_mem_share(&t->f, false);
	return check(t, ret == 0, "share memory: %s", strerror(-ret));
}

/* ---- expectations ------------------------------------------------------- */

/*
 * Send a message asking for an ack: the daemon must answer with a failure
 * verdict, close every fd it got, and keep the connection.
 */
bool nack(struct mt *t, uint32_t req, const void *payload, uint32_t size,
	  const int *fds, unsigned int nfds, const char *what)
{
	int before = daemon_fd_count(t->d), after;
	uint64_t verdict = 0;
	int ret;

	ret = front_send_hdr(&t->f, req, VU_VERSION | VU_FLAG_NEED_REPLY, size,
			     payload, size, fds, nfds);
	ret = ret ? ret : front_recv_u64(&t->f, req, &verdict);
	if (!check(t, ret == 0, "%s: no ack (%s)", what, strerror(-ret)) ||
	    !check(t, verdict != 0, "%s: acknowledged as a success", what))
		return false;
	after = daemon_fd_count(t->d);
	return check(t, after == before,
		     "%s: the daemon held %d fds before and %d after", what,
		     before, after);
}

/* The same for a message that must succeed. */
bool ack(struct mt *t, uint32_t req, const void *payload, uint32_t size,
	 const int *fds, unsigned int nfds, const char *what)
{
	uint64_t verdict = 1;
	int ret;

	ret = front_send_hdr(&t->f, req, VU_VERSION | VU_FLAG_NEED_REPLY, size,
			     payload, size, fds, nfds);
	ret = ret ? ret : front_recv_u64(&t->f, req, &verdict);
	return check(t, ret == 0 && verdict == 0, "%s: not acknowledged (%s, %llu)",
		     what, strerror(-ret), (unsigned long long)verdict);
}

/* The daemon must close the connection without sending anything. */
bool hangup(struct mt *t, const char *what)
{
	size_t bytes = 0;
	int ret = front_wait_hangup(&t->f, 3000, &bytes);

	return check(t, ret == 0, "%s: the daemon kept the connection", what) &&
	       check(t, bytes == 0, "%s: the daemon sent %zu bytes", what, bytes);
}

/* The connection still works: GET_FEATURES is answered properly. */
bool still_usable(struct mt *t, const char *what)
{
	uint64_t v = 0;
	int ret = front_get_u64(&t->f, VU_GET_FEATURES, &v);

	return check(t, ret == 0 && (v & BIT_ULL(VIRTIO_F_VERSION_1)),
		     "%s: the connection is not usable afterwards (%s)", what,
		     strerror(-ret));
}

/* ---- running a case ----------------------------------------------------- */

/*
 * Run one case.  With shared set, against that daemon (no log checks:
 * the daemon rate-limits lines caused by a peer); otherwise against a
 * daemon of its own.  Returns false when the case failed.
 */
static void run_case(unsigned int seq, struct daemon *shared)
{
	const struct mcase *c = &cases[seq];
	struct daemon own, *d;
	struct mt t;
	int base;
	long mark = 0;

	memset(&t, 0, sizeof(t));
	d = case_daemon(&own, shared, daemon_args, &t.v, &base, &mark);
	if (!d)
		goto out;
	t.c = c;
	t.d = d;
	t.mark = mark;
	c->fn(&t);
	if (t.connected)
		front_close(&t.f);
	daemon_aftermath(&t.v, d, base, mark, shared ? NULL : t.log,
			 128 + 16 * seq, !shared);
out:
	case_verdict(&t.v, shared ? shared : &own, mark, shared, c->name);
}

int hostile_msg_main(const char *name, const struct mcase *list, unsigned int n)
{
	signal(SIGPIPE, SIG_IGN);
	vu_log_init(name, -1);
	if (!test_env_init(&env, 8u << 20))
		return 0;
	tap_diag("engine %s", env.aio);

	cases = list;
	return case_suite(n, run_case, daemon_args);
}
