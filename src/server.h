/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * server.h: the control thread's main loop: the listening socket, one front
 * end at a time, and the signals that end the daemon.
 */
#ifndef VU_SERVER_H
#define VU_SERVER_H

#include "cli.h"
#include "vhost_user.h"

struct vu_server {
	int listen_fd;		/* -1 when serving one inherited connection */
	int conn_fd;		/* the current front end, or -1 */
	char *path;		/* socket file we created, removed at exit */
	int sig_fd;
	struct ctl_server *ctl;	/* the control socket, or NULL */
};

struct ctl_server;

/* Block the signals the server handles; call before starting any thread. */
int vu_server_signals(struct vu_server *s);
/*
 * A new listening socket at path with p's mode (e.g. 0600) and group, never
 * looser, not even between bind and chown/chmod; a stale socket there is
 * replaced, one in use is refused.  Returns its fd, or -1 after a message.
 */
int vu_socket_listen(const char *path, const struct sock_perm *p);
/* Listen on a new socket at path (vu_socket_listen()).  Returns 0 or -1. */
int vu_server_open_path(struct vu_server *s, const char *path,
			const struct sock_perm *p);
/* Use an inherited socket: listening, or already connected. */
int vu_server_open_fd(struct vu_server *s, int fd);
/* Serve front ends until SIGTERM/SIGINT.  Returns the exit status. */
int vu_server_run(struct vu_server *s, struct vu_dev *dev);
/*
 * The end of a daemon's start-up: open the socket (a new one at path with
 * p's mode and group, or the inherited fd), enter the sandbox if asked, and serve until
 * the end.  Returns the exit status (1 when the socket cannot be opened).
 */
int vu_server_serve(struct vu_server *s, struct vu_dev *dev, const char *path,
		    const struct sock_perm *p, int fd, bool sandbox);
void vu_server_close(struct vu_server *s);

/* Called once the device and its threads exist, for the start-up log lines. */
typedef void (*vu_announce_fn)(void *arg, const struct vu_dev_config *cfg,
			       const struct vu_dev *dev);
/*
 * A daemon's life once its options are parsed and its disks are open: the
 * engine chosen, the common options put in cfg (the device fills in the
 * rest), signals, the device (ops on ctx) and its I/O threads,
 * announce(arg, ...), then serving until SIGTERM or SIGINT.  Returns the
 * exit status.
 */
int vu_server_daemon(const struct cli_common *c, struct vu_dev_config *cfg,
		     const struct vu_dev_ops *ops, void *ctx,
		     vu_announce_fn announce, void *arg);

#endif
