// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * front_chan.c: owns the front end's side of the back-end channel: the
 * socketpair, SET_BACKEND_REQ_FD, reading the back end's requests and
 * answering the ones that ask for an ack, as QEMU does.
 */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "front_chan.h"

int front_chan_open(struct front *f)
{
	int sv[2], ret;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	ret = front_request(f, VU_SET_BACKEND_REQ_FD, NULL, 0, &sv[1], 1);
	close(sv[1]);
	if (ret < 0) {
		close(sv[0]);
		return ret;
	}
	front_chan_close(f);
	f->chan_fd = sv[0];
	return 0;
}

int front_chan_recv(struct front *f, struct vu_msg *msg, int timeout_ms)
{
	struct pollfd p = { .fd = f->chan_fd, .events = POLLIN };
	int ret;

	if (f->chan_fd < 0)
		return -ENOTCONN;
	ret = poll(&p, 1, timeout_ms);
	if (ret <= 0)
		return ret < 0 ? -errno : -ETIMEDOUT;
	ret = vu_msg_recv(f->chan_fd, msg);
	if (ret == 0)
		vu_msg_close_fds(msg);
	return ret;
}

int front_chan_ack(struct front *f, const struct vu_msg *req, uint64_t verdict)
{
	if (f->chan_fd < 0)
		return -ENOTCONN;
	return vu_msg_send(f->chan_fd, req->hdr.request,
			   VU_VERSION | VU_FLAG_REPLY, &verdict,
			   sizeof(verdict), NULL, 0);
}

void front_chan_close(struct front *f)
{
	if (f->chan_fd >= 0)
		close(f->chan_fd);
	f->chan_fd = -1;
}
