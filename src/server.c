// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * server.c: owns the vhost-user socket and the daemon's lifecycle.  It
 * serves one front end at a time (a second one is accepted, told nothing
 * and closed, with a log line), feeds its messages to the device, and after
 * a disconnect drains and forgets the front end's state and listens again.
 * SIGTERM and SIGINT end the daemon cleanly and remove the socket it
 * created; SIGUSR1 logs the state of every queue; SIGHUP asks the device
 * to rescan its backing stores.  The loop also polls the front end's
 * back-end channel, for the acks it sends there, and the control socket's
 * fds (control.c).  vu_socket_listen() makes both sockets.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "backend_chan.h"
#include "control.h"
#include "log.h"
#include "sandbox.h"
#include "sd_daemon.h"
#include "server.h"
#include "vu_msg.h"

int vu_server_signals(struct vu_server *s)
{
	sigset_t set;

	memset(s, 0, sizeof(*s));
	s->listen_fd = s->conn_fd = s->sig_fd = -1;
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	s->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return s->sig_fd < 0 ? -1 : 0;
}

/* Is something already serving this socket path? */
static bool socket_in_use(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool used;

	if (fd < 0)
		return false;
	used = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return used;
}

/*
 * Give the new socket at path its group, then its mode: until the group is
 * set, only the owner's bits are on, so no one outside it gets in early.
 */
static int socket_set_perm(const char *path, const struct sock_perm *p)
{
	if (p->gid != (gid_t)-1 && lchown(path, (uid_t)-1, p->gid) < 0) {
		log_err("cannot set group %u on %s: %s", (unsigned int)p->gid,
			path, strerror(errno));
		return -1;
	}
	if (chmod(path, p->mode) < 0) {
		log_err("cannot set mode %04o on %s: %s", p->mode, path,
			strerror(errno));
		return -1;
	}
	return 0;
}

int vu_socket_listen(const char *path, const struct sock_perm *p)
{
	mode_t mode = p->gid == (gid_t)-1 ? p->mode : p->mode & 0700;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old_mask;
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("socket path is longer than %zu bytes: %s",
			sizeof(sa.sun_path) - 1, path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_err("%s exists and is not a socket", path);
			return -1;
		}
		if (socket_in_use(&sa)) {
			log_err("%s is in use by another process", path);
			return -1;
		}
		unlink(path);	/* stale socket from an earlier run */
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_err("cannot create a socket: %s", strerror(errno));
		return -1;
	}
	/* Never looser than asked, not even between bind and chown/chmod. */
	old_mask = umask(~mode & 0777);
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_mask);
	if (ret < 0) {
		log_err("cannot bind %s: %s", path, strerror(errno));
		goto fail;
	}
	if (socket_set_perm(path, p) < 0)
		goto fail_unlink;
	if (listen(fd, 16) < 0) {
		log_err("cannot listen on %s: %s", path, strerror(errno));
		goto fail_unlink;
	}
	return fd;

fail_unlink:
	unlink(path);
fail:
	close(fd);
	return -1;
}

int vu_server_open_path(struct vu_server *s, const char *path,
			const struct sock_perm *p)
{
	int fd = vu_socket_listen(path, p);

	if (fd < 0)
		return -1;
	s->listen_fd = fd;
	s->path = strdup(path);
	return 0;
}

int vu_server_open_fd(struct vu_server *s, int fd)
{
	int type = 0, listening = 0;
	socklen_t len = sizeof(type);

	if (fcntl(fd, F_GETFD) < 0) {
		log_err("--fd=%d: not an open file descriptor", fd);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    type != SOCK_STREAM) {
		log_err("--fd=%d: not a stream socket", fd);
		return -1;
	}
	len = sizeof(listening);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0)
		listening = 0;
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	if (listening) {
		s->listen_fd = fd;
	} else {
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		s->conn_fd = fd;
	}
	return 0;
}

static void drop_conn(struct vu_server *s, struct vu_dev *dev)
{
	vu_dev_disconnect(dev);
	close(s->conn_fd);
	s->conn_fd = -1;
	dev->sock = -1;
	log_info("front end disconnected");
}

/* Returns true when the daemon should stop. */
static bool handle_signal(struct vu_server *s, struct vu_dev *dev)
{
	struct signalfd_siginfo si;
	bool stop = false;

	while (read(s->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			log_info("received %s, shutting down",
				 si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
			stop = true;
		} else if (si.ssi_signo == SIGHUP) {
			if (vu_dev_rescan(dev))
				log_info("received SIGHUP: backing stores rescanned");
			else
				log_info("received SIGHUP: nothing to rescan; ignored");
		} else if (si.ssi_signo == SIGUSR1) {
			log_info("received SIGUSR1: state of the queues follows (%s)",
				 s->conn_fd >= 0 ? "front end connected" :
						   "no front end");
			vu_dev_log_state(dev);
		}
	}
	return stop;
}

static void accept_conn(struct vu_server *s, struct vu_dev *dev)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_err("accept failed: %s", strerror(errno));
		return;
	}
	s->conn_fd = fd;
	dev->sock = fd;
	log_info("front end connected");
}

/* A front end is already being served: turn the newcomer away. */
static void refuse_conn(struct vu_server *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
		log_err("refusing a second front end (pid %d, uid %u): one is already connected",
			(int)cred.pid, (unsigned int)cred.uid);
	else
		log_err("refusing a second front end: one is already connected");
	close(fd);
}

static void serve_msg(struct vu_server *s, struct vu_dev *dev)
{
	struct vu_msg msg;
	int ret = vu_msg_recv(s->conn_fd, &msg);

	if (ret == 0) {
		ret = vu_dev_handle_msg(dev, &msg);
		if (ret < 0)
			log_err("dropping the front end after a failed %s",
				vu_request_name(msg.hdr.request));
	}
	if (ret < 0)
		drop_conn(s, dev);
}

int vu_server_run(struct vu_server *s, struct vu_dev *dev)
{
	dev->sock = s->conn_fd;
	if (s->listen_fd >= 0)
		log_info("listening on %s", s->path ? s->path : "inherited socket");
	for (;;) {
		/* Listen even while serving, to refuse a second front end. */
		struct pollfd p[4 + CTL_POLL_FDS] = {
			{ .fd = s->sig_fd, .events = POLLIN },
			{ .fd = s->conn_fd, .events = POLLIN },
			{ .fd = s->listen_fd, .events = POLLIN },
			{ .fd = dev->backend_fd, .events = POLLIN },
		};
		unsigned int nctl = s->ctl ? ctl_poll_fill(s->ctl, p + 4) : 0;

		if (s->conn_fd < 0 && s->listen_fd < 0)
			break;	/* an inherited connection has ended */
		if (poll(p, 4 + nctl, s->ctl && ctl_busy(s->ctl) ? 0 : -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err("poll failed: %s", strerror(errno));
			return 1;
		}
		if ((p[0].revents & POLLIN) && handle_signal(s, dev))
			break;
		if (p[3].revents)
			vu_backend_chan_event(dev);
		if (nctl)
			ctl_poll_serve(s->ctl, p + 4, nctl, dev);
		/*
		 * The current front end goes first: a newcomer is refused only
		 * once it has nothing left to read, so a successor that
		 * connects right after its predecessor's last messages and
		 * hang-up is served, not refused.
		 */
		if (p[1].revents) {
			serve_msg(s, dev);
			continue;
		}
		if (p[2].revents) {
			if (s->conn_fd >= 0)
				refuse_conn(s);
			else
				accept_conn(s, dev);
		}
	}
	if (s->conn_fd >= 0)
		drop_conn(s, dev);
	return 0;
}

int vu_server_serve(struct vu_server *s, struct vu_dev *dev, const char *path,
		    const struct sock_perm *p, int fd, bool sandbox)
{
	int status;

	/* The socket appears last: once it exists, the daemon is ready. */
	if (path ? vu_server_open_path(s, path, p) : vu_server_open_fd(s, fd))
		return 1;
	/* systemd's Type=notify: ready now; the socket outlives the sandbox. */
	sd_notify_open();
	sd_notify_send("READY=1\nSTATUS=serving");
	/* Set up: from here on, no new files, threads or sockets. */
	if (sandbox)
		sandbox_enter();
	status = vu_server_run(s, dev);
	sd_notify_send("STOPPING=1");
	sd_notify_close();
	return status;
}

void vu_server_close(struct vu_server *s)
{
	if (s->conn_fd >= 0)
		close(s->conn_fd);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->path) {
		unlink(s->path);
		free(s->path);
	}
	if (s->sig_fd >= 0)
		close(s->sig_fd);
	ctl_close(s->ctl);
	s->conn_fd = s->listen_fd = s->sig_fd = -1;
	s->path = NULL;
	s->ctl = NULL;
}

int vu_server_daemon(const struct cli_common *c, struct vu_dev_config *cfg,
		     const struct vu_dev_ops *ops, void *ctx,
		     vu_announce_fn announce, void *arg)
{
	struct sock_perm perm = cli_sock_perm(c);
	struct vu_server srv;
	struct vu_dev dev;
	int status = 1;

	cfg->max_queue_size = c->queue_size;
	cfg->num_threads = c->num_threads;
	cfg->poll_us = c->poll_us;
	cfg->restrict_io = c->sandbox;
	if (io_engine_select(c->engine, &cfg->engine) < 0)
		return 1;
	if (vu_server_signals(&srv) < 0) {
		log_err("cannot set up signal handling: %s", strerror(errno));
		return 1;
	}
	if (vu_dev_init(&dev, ops, ctx, cfg) < 0)
		goto out;
	announce(arg, cfg, &dev);
	/* Before the vhost-user socket, whose appearance means ready. */
	if (c->control_path &&
	    !(srv.ctl = ctl_open(c->control_path, &perm)))
		goto destroy;
	status = vu_server_serve(&srv, &dev, c->socket_path, &perm,
				 c->fd, c->sandbox);
destroy:
	vu_dev_destroy(&dev);
out:
	vu_server_close(&srv);
	return status;
}
