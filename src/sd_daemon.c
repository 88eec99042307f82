// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sd_daemon.c: systemd's two conventions, written out: socket activation
 * (fd 3, named by LISTEN_FDS and LISTEN_PID) and readiness notification
 * (datagrams on $NOTIFY_SOCKET).  The daemon passes no fds of its own and
 * keeps the notify socket open across the sandbox, which allows sendto().
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "sd_daemon.h"

#define SD_LISTEN_FDS_START 3

static int notify_fd = -1;
static struct sockaddr_un notify_sa;
static socklen_t notify_len;

/* A decimal number in [1, max], or -1. */
static long env_number(const char *v, long max)
{
	char *end;
	long n;

	if (!v || !*v || *v < '0' || *v > '9')
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || n < 1 || n > max)
		return -1;
	return n;
}

static int check_listening(int fd)
{
	int type = 0, listening = 0;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    type != SOCK_STREAM) {
		log_err("socket activation: fd %d is not a stream socket", fd);
		return -1;
	}
	len = sizeof(listening);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 ||
	    !listening) {
		log_err("socket activation: fd %d is not listening (use Accept=no)", fd);
		return -1;
	}
	return 0;
}

int sd_listen_take(int *fd)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	long p, n;
	int ret = -1;

	*fd = -1;
	if (!pid && !fds) {
		ret = 0;
		goto out;
	}
	p = env_number(pid, 0x7fffffff);
	if (p < 0) {
		log_err("socket activation: LISTEN_PID=%s is not a process id",
			pid ? pid : "(unset)");
		goto out;
	}
	if (p != getpid()) {
		ret = 0;	/* meant for another process */
		goto out;
	}
	n = env_number(fds, 64);
	if (n != 1) {
		log_err("socket activation: LISTEN_FDS=%s, expected 1 (one ListenStream=)",
			fds ? fds : "(unset)");
		goto out;
	}
	if (check_listening(SD_LISTEN_FDS_START) < 0)
		goto out;
	fcntl(SD_LISTEN_FDS_START, F_SETFD, FD_CLOEXEC);
	*fd = SD_LISTEN_FDS_START;
	ret = 0;
out:
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return ret;
}

void sd_notify_open(void)
{
	const char *v = getenv("NOTIFY_SOCKET");
	size_t len;

	if (!v)
		return;
	len = strlen(v);
	if ((v[0] != '/' && v[0] != '@') || len < 2 ||
	    len >= sizeof(notify_sa.sun_path)) {
		log_err("NOTIFY_SOCKET=%s: expected a path or @name; not notifying", v);
		goto out;
	}
	memset(&notify_sa, 0, sizeof(notify_sa));
	notify_sa.sun_family = AF_UNIX;
	memcpy(notify_sa.sun_path, v, len);
	if (v[0] == '@')
		notify_sa.sun_path[0] = '\0';	/* abstract: no trailing NUL */
	notify_len = offsetof(struct sockaddr_un, sun_path) + len +
		     (v[0] == '/');
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (notify_fd < 0)
		log_err("NOTIFY_SOCKET: cannot create a socket: %s", strerror(errno));
out:
	unsetenv("NOTIFY_SOCKET");
}

void sd_notify_send(const char *state)
{
	if (notify_fd < 0)
		return;
	if (sendto(notify_fd, state, strlen(state), MSG_NOSIGNAL,
		   (struct sockaddr *)&notify_sa, notify_len) < 0)
		log_err("NOTIFY_SOCKET: cannot send %s: %s", state, strerror(errno));
}

void sd_notify_close(void)
{
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
}
