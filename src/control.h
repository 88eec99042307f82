/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * control.h: the control socket (--control-socket), served on the control
 * thread as more fds of vu_server_run()'s poll loop: up to CTL_MAX_CLIENTS
 * clients, each sending JSON-RPC 2.0 requests one a line (ctl_rpc.h) and
 * reading one response line per request, in order.  The methods are
 * ctl_methods[] (ctl_cmds.c) on the device being served.
 */
#ifndef VU_CONTROL_H
#define VU_CONTROL_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ctl_rpc.h"

struct vu_dev;

/* Clients at once; one more evicts the one idle longest. */
#define CTL_MAX_CLIENTS		16
/* A client owing more reply bytes than this is dropped. */
#define CTL_OUT_MAX		(8u << 20)
/* Lines handled per client per round of the poll loop. */
#define CTL_LINES_PER_ROUND	8
/* The pollfds ctl_poll_fill() may fill: the socket and the clients. */
#define CTL_POLL_FDS		(1 + CTL_MAX_CLIENTS)

/* What the methods act on. */
struct ctl_target {
	struct vu_dev *dev;
	uint64_t start_ns;		/* CLOCK_MONOTONIC at start-up */
};

extern const struct ctl_method ctl_methods[];

struct ctl_server;
struct sock_perm;

/*
 * Listen at path with p's mode and group (the vhost-user socket's rules:
 * vu_socket_listen()).  Returns the server, or NULL after a log line.
 */
struct ctl_server *ctl_open(const char *path, const struct sock_perm *p);
/* Close every client and the socket, and remove it.  NULL is fine. */
void ctl_close(struct ctl_server *c);
/* The pollfds to wait on, into p (CTL_POLL_FDS at most): how many. */
unsigned int ctl_poll_fill(struct ctl_server *c, struct pollfd *p);
/* Has a client lines left from the last round (poll without waiting)? */
bool ctl_busy(const struct ctl_server *c);
/* After poll(): serve what p (as filled) says is ready, on dev. */
void ctl_poll_serve(struct ctl_server *c, const struct pollfd *p,
		    unsigned int n, struct vu_dev *dev);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t ctl_now_ns(void);

#endif
