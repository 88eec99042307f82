// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * control.c: owns the control socket and its clients (control.h).  Each
 * client has a fixed input buffer of one line's size and a reply buffer.
 * A client is read only while it owes no reply, at most once per round of
 * the poll loop, at most CTL_LINES_PER_ROUND of its lines are handled in
 * a round, and its replies are written without blocking; so no client can
 * hold up the front end's messages, however it behaves.  A line
 * longer than CTL_LINE_MAX gets an error reply and ends the connection; a
 * client that owes more than CTL_OUT_MAX is dropped; with CTL_MAX_CLIENTS
 * connected, a newcomer evicts the one idle longest.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "server.h"

struct ctl_client {
	int fd;			/* -1: a free slot */
	char *in;		/* CTL_LINE_MAX + 1 bytes */
	size_t start;		/* the unhandled bytes are in[start, len) */
	size_t len;
	size_t scanned;		/* in[start, scanned) holds no LF */
	struct sbuf out;	/* replies; out.p[out_off...] not written yet */
	size_t out_off;
	uint64_t last_ns;	/* the last byte read or written */
	bool eof;		/* the client shut its side */
	bool closing;		/* close once the replies are written */
	bool more;		/* lines left for the next round */
};

struct ctl_server {
	int listen_fd;
	char *path;
	struct ctl_target target;
	struct ctl_client cl[CTL_MAX_CLIENTS];
	int polled[CTL_POLL_FDS];	/* the client of each pollfd, -1: socket */
	struct json_doc doc;
	struct json_node nodes[JSON_MAX_NODES];
};

uint64_t ctl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct ctl_server *ctl_open(const char *path, const struct sock_perm *p)
{
	struct ctl_server *c = calloc(1, sizeof(*c));

	if (!c) {
		log_err("control socket: out of memory");
		return NULL;
	}
	c->listen_fd = vu_socket_listen(path, p);
	c->path = strdup(path);
	if (c->listen_fd < 0 || !c->path) {
		if (c->listen_fd >= 0) {
			close(c->listen_fd);
			unlink(path);
		}
		free(c->path);
		free(c);
		return NULL;
	}
	fcntl(c->listen_fd, F_SETFL, O_NONBLOCK);
	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++)
		c->cl[i].fd = -1;
	json_doc_init(&c->doc, c->nodes, JSON_MAX_NODES);
	c->target.start_ns = ctl_now_ns();
	log_info("control socket at %s", path);
	return c;
}

static void drop(struct ctl_client *cl)
{
	close(cl->fd);
	free(cl->in);
	sbuf_free(&cl->out);
	memset(cl, 0, sizeof(*cl));
	cl->fd = -1;
}

void ctl_close(struct ctl_server *c)
{
	if (!c)
		return;
	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++) {
		if (c->cl[i].fd >= 0)
			drop(&c->cl[i]);
	}
	close(c->listen_fd);
	unlink(c->path);
	free(c->path);
	free(c);
}

static bool owes(const struct ctl_client *cl)
{
	return cl->out_off < cl->out.len;
}

unsigned int ctl_poll_fill(struct ctl_server *c, struct pollfd *p)
{
	unsigned int n = 0;

	p[n] = (struct pollfd){ .fd = c->listen_fd, .events = POLLIN };
	c->polled[n++] = -1;
	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct ctl_client *cl = &c->cl[i];

		if (cl->fd < 0)
			continue;
		p[n] = (struct pollfd){ .fd = cl->fd };
		if (owes(cl))
			p[n].events = POLLOUT;
		else if (!cl->eof && !cl->closing)
			p[n].events = POLLIN;
		c->polled[n++] = (int)i;
	}
	return n;
}

/* A free slot, after evicting the client idle longest if there is none. */
static struct ctl_client *free_slot(struct ctl_server *c)
{
	struct ctl_client *oldest = &c->cl[0];

	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++) {
		if (c->cl[i].fd < 0)
			return &c->cl[i];
		if (c->cl[i].last_ns < oldest->last_ns)
			oldest = &c->cl[i];
	}
	log_peer("control socket: %d clients connected; closing the one idle longest",
		 CTL_MAX_CLIENTS);
	drop(oldest);
	return oldest;
}

static void accept_clients(struct ctl_server *c)
{
	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++) {
		int fd = accept4(c->listen_fd, NULL, NULL,
				 SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct ctl_client *cl;
		char *in;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_err("control socket: accept failed: %s",
					strerror(errno));
			return;
		}
		in = malloc(CTL_LINE_MAX + 1);
		if (!in) {
			log_err("control socket: out of memory for a client");
			close(fd);
			return;
		}
		cl = free_slot(c);
		cl->fd = fd;
		cl->in = in;
		cl->last_ns = ctl_now_ns();
	}
}

/* Write what the client is owed: 0, or -1 when it must be dropped. */
static int flush_out(struct ctl_client *cl)
{
	while (owes(cl)) {
		ssize_t n = write(cl->fd, cl->out.p + cl->out_off,
				  cl->out.len - cl->out_off);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		cl->out_off += n;
		cl->last_ns = ctl_now_ns();
	}
	cl->out_off = 0;
	if (cl->out.cap > CTL_LINE_MAX * 4)
		sbuf_free(&cl->out);	/* a big reply's memory goes back */
	else
		sbuf_reset(&cl->out);
	return 0;
}

/*
 * Handle the next complete line (at the end of input, what is left even
 * without its LF).  Returns false when there is none.
 */
static bool next_line(struct ctl_server *c, struct ctl_client *cl)
{
	char *lf = memchr(cl->in + cl->scanned, '\n', cl->len - cl->scanned);
	size_t end = lf ? (size_t)(lf - cl->in) : cl->len;

	if (!lf && !(cl->eof && cl->start < cl->len &&
		     cl->len - cl->start <= CTL_LINE_MAX)) {
		cl->scanned = cl->len;
		return false;
	}
	ctl_rpc_line(ctl_methods, &c->target, &c->doc, cl->in + cl->start,
		     end - cl->start, &cl->out);
	cl->start = cl->scanned = lf ? end + 1 : end;
	return true;
}

/* Read once: 0, or -1 when the client must be dropped. */
static int read_in(struct ctl_client *cl)
{
	ssize_t n;

	if (cl->start) {
		memmove(cl->in, cl->in + cl->start, cl->len - cl->start);
		cl->len -= cl->start;
		cl->scanned -= cl->start;
		cl->start = 0;
	}
	n = read(cl->fd, cl->in + cl->len, CTL_LINE_MAX + 1 - cl->len);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		cl->eof = true;
	cl->len += n;
	cl->last_ns = ctl_now_ns();
	return 0;
}

/* Is what the client sent a line too long (no LF in a full buffer)? */
static bool too_long(struct ctl_client *cl)
{
	if (cl->len - cl->start <= CTL_LINE_MAX)
		return false;
	ctl_rpc_error_line(&cl->out, RPC_INVALID_REQUEST,
			   "request longer than 65536 bytes");
	log_peer("control socket: a request longer than %d bytes; closing the connection",
		 CTL_LINE_MAX);
	cl->closing = true;
	return true;
}

/*
 * Everything the client can do now: write what it is owed, handle up to
 * CTL_LINES_PER_ROUND of the lines it sent (the rest wait for the next
 * round, so that the front end's messages come in between), and read
 * once if it may (readable, nothing owed).
 */
static void serve_client(struct ctl_server *c, struct ctl_client *cl,
			 bool readable)
{
	unsigned int lines = 0;

	cl->more = false;
	for (;;) {
		if (cl->out.oom || cl->out.len - cl->out_off > CTL_OUT_MAX) {
			log_peer("control socket: a client owes more than %u bytes of replies; dropping it",
				 CTL_OUT_MAX);
			goto drop;
		}
		if (flush_out(cl) < 0)
			goto drop;
		if (owes(cl))
			return;		/* until POLLOUT */
		if (cl->closing)
			goto drop;
		if (lines == CTL_LINES_PER_ROUND) {
			cl->more = true;
			return;
		}
		if (next_line(c, cl) || too_long(cl)) {
			lines++;
			continue;
		}
		if (cl->eof)
			goto drop;
		if (!readable)
			return;
		readable = false;
		if (read_in(cl) < 0)
			goto drop;
	}
drop:
	drop(cl);
}

bool ctl_busy(const struct ctl_server *c)
{
	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++) {
		if (c->cl[i].fd >= 0 && c->cl[i].more)
			return true;
	}
	return false;
}

void ctl_poll_serve(struct ctl_server *c, const struct pollfd *p,
		    unsigned int n, struct vu_dev *dev)
{
	c->target.dev = dev;
	for (unsigned int i = 0; i < n; i++) {
		int who = c->polled[i];

		if (!p[i].revents && (who < 0 || !c->cl[who].more))
			continue;
		if (who < 0)
			accept_clients(c);
		else if (c->cl[who].fd == p[i].fd)
			serve_client(c, &c->cl[who],
				     p[i].revents & (POLLIN | POLLHUP | POLLERR));
	}
}
