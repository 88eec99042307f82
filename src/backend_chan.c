// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * backend_chan.c: owns the back-end channel (protocol feature BACKEND_REQ):
 * taking the socket SET_BACKEND_REQ_FD carries, sending CONFIG_CHANGE_MSG
 * when the device's config space changed, and reading the front end's acks.
 *
 * The control thread never waits for an ack.  QEMU answers
 * CONFIG_CHANGE_MSG only after it has sent GET_CONFIG on the main socket
 * and read our reply to it, so a back end blocked on the channel would
 * deadlock with it.  With REPLY_ACK negotiated the message still asks for
 * an ack, because a failure verdict is the only way to learn that the
 * front end could not read the new config; the server loop polls the
 * channel and the ack is read whenever it arrives, after GET_CONFIG.
 * The channel is non-blocking: a front end that never reads it cannot
 * stall the daemon for more than one send timeout.
 *
 * QEMU 7.2 acks a config change without reading the config while the
 * device is stopped, and reads no config when it reconnects; so until a
 * GET_CONFIG is answered the change is signalled again each time the
 * device starts.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend_chan.h"
#include "log.h"
#include "vu_handlers.h"

static bool negotiated(const struct vu_dev *dev, unsigned int bit)
{
	return dev->protocol_features & BIT_ULL(bit);
}

/* A connected Unix stream socket, as the specification asks for? */
static bool is_unix_stream(int fd)
{
	int type = 0, domain = 0;
	socklen_t len = sizeof(type);
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    type != SOCK_STREAM)
		return false;
	len = sizeof(domain);
	return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
	       domain == AF_UNIX;
}

int vu_h_set_backend_req_fd(struct vu_dev *dev, struct vu_msg *msg,
			    bool *replied)
{
	int fd, fl;

	if (!negotiated(dev, VU_PF_BACKEND_REQ)) {
		log_peer("SET_BACKEND_REQ_FD: BACKEND_REQ was not negotiated");
		return -EPROTO;
	}
	if (!is_unix_stream(msg->fds[0])) {
		log_peer("SET_BACKEND_REQ_FD: the fd is not a Unix stream socket");
		return -EINVAL;
	}
	fd = vu_msg_take_fd(msg, 0);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		int err = errno;

		log_err("SET_BACKEND_REQ_FD: cannot make the channel non-blocking: %s",
			strerror(err));
		close(fd);
		return -err;
	}
	if (dev->backend_fd >= 0)
		log_peer("SET_BACKEND_REQ_FD: a back-end channel was set already; the new one replaces it");
	vu_backend_chan_close(dev);
	dev->backend_fd = fd;
	log_debug("back-end channel set");
	return 0;
}

void vu_backend_config_changed(struct vu_dev *dev)
{
	bool ack = negotiated(dev, VU_PF_REPLY_ACK);
	uint32_t flags = VU_VERSION | (ack ? VU_FLAG_NEED_REPLY : 0);
	int ret;

	if (dev->sock < 0) {
		log_info("config changed with no front end connected: it is signalled when the device next starts");
		return;
	}
	if (dev->backend_fd < 0) {
		log_warn("config changed, but the front end gave no back-end channel to signal it: the guest sees the change only when the front end reads the config again");
		return;
	}
	ret = vu_msg_send(dev->backend_fd, VU_BACKEND_CONFIG_CHANGE_MSG, flags,
			  NULL, 0, NULL, 0);
	if (ret < 0) {
		log_warn("back-end channel: cannot send CONFIG_CHANGE_MSG (%s), channel closed: the guest sees the change only when the front end reads the config again",
			 strerror(-ret));
		vu_backend_chan_close(dev);
		return;
	}
	if (ack)
		dev->backend_acks++;
	log_info("config change signalled to the front end%s",
		 ack ? "; its ack is read when it comes" : "");
}

void vu_backend_device_started(struct vu_dev *dev)
{
	if (!dev->config_unread)
		return;
	log_info("the front end has not read the config since it changed: signalling the change again as the device starts");
	vu_backend_config_changed(dev);
}

/* Is msg the answer to a CONFIG_CHANGE_MSG we sent with NEED_REPLY? */
static bool is_ack(const struct vu_dev *dev, const struct vu_msg *msg)
{
	return dev->backend_acks > 0 &&
	       msg->hdr.request == VU_BACKEND_CONFIG_CHANGE_MSG &&
	       msg->hdr.flags == (VU_VERSION | VU_FLAG_REPLY) &&
	       msg->hdr.size == sizeof(uint64_t) && msg->nfds == 0;
}

void vu_backend_chan_event(struct vu_dev *dev)
{
	struct vu_msg msg;
	int ret;

	if (dev->backend_fd < 0)
		return;
	ret = vu_msg_recv(dev->backend_fd, &msg);
	if (ret == -ECONNRESET) {
		log_warn("back-end channel: the front end closed it%s; config changes are no longer signalled",
			 dev->backend_acks ? " without acking a config change" : "");
		goto close;
	}
	if (ret < 0) {
		log_peer("back-end channel: unreadable message, channel closed");
		goto close;
	}
	vu_msg_close_fds(&msg);
	if (!is_ack(dev, &msg)) {
		log_peer("back-end channel: unexpected message (request %u, flags 0x%x, %u bytes, %u fds), channel closed",
			 msg.hdr.request, msg.hdr.flags, msg.hdr.size, msg.nfds);
		goto close;
	}
	dev->backend_acks--;
	if (msg.payload.u64)
		log_warn("back-end channel: the front end failed to handle CONFIG_CHANGE_MSG (status %llu): the guest sees the change only when the front end reads the config again",
			 (unsigned long long)msg.payload.u64);
	else
		log_debug("back-end channel: CONFIG_CHANGE_MSG acknowledged");
	return;
close:
	vu_backend_chan_close(dev);
}

void vu_backend_chan_close(struct vu_dev *dev)
{
	vu_replace_fd(&dev->backend_fd, -1);
	dev->backend_acks = 0;
}
