// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vu_msg.c: reads and writes vhost-user messages.  Reading is strict: the
 * header is read completely, the version checked, the payload size bounded
 * by the largest payload we know, and every received fd accounted for, so a
 * malformed message costs a log line and never a leaked fd.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "vu_msg.h"

static const char *const request_names[VU_REQUEST_MAX] = {
	[VU_NONE] = "NONE",
	[VU_GET_FEATURES] = "GET_FEATURES",
	[VU_SET_FEATURES] = "SET_FEATURES",
	[VU_SET_OWNER] = "SET_OWNER",
	[VU_RESET_OWNER] = "RESET_OWNER",
	[VU_SET_MEM_TABLE] = "SET_MEM_TABLE",
	[VU_SET_LOG_BASE] = "SET_LOG_BASE",
	[VU_SET_LOG_FD] = "SET_LOG_FD",
	[VU_SET_VRING_NUM] = "SET_VRING_NUM",
	[VU_SET_VRING_ADDR] = "SET_VRING_ADDR",
	[VU_SET_VRING_BASE] = "SET_VRING_BASE",
	[VU_GET_VRING_BASE] = "GET_VRING_BASE",
	[VU_SET_VRING_KICK] = "SET_VRING_KICK",
	[VU_SET_VRING_CALL] = "SET_VRING_CALL",
	[VU_SET_VRING_ERR] = "SET_VRING_ERR",
	[VU_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
	[VU_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
	[VU_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
	[VU_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
	[VU_SEND_RARP] = "SEND_RARP",
	[VU_NET_SET_MTU] = "NET_SET_MTU",
	[VU_SET_BACKEND_REQ_FD] = "SET_BACKEND_REQ_FD",
	[VU_IOTLB_MSG] = "IOTLB_MSG",
	[VU_SET_VRING_ENDIAN] = "SET_VRING_ENDIAN",
	[VU_GET_CONFIG] = "GET_CONFIG",
	[VU_SET_CONFIG] = "SET_CONFIG",
	[VU_CREATE_CRYPTO_SESSION] = "CREATE_CRYPTO_SESSION",
	[VU_CLOSE_CRYPTO_SESSION] = "CLOSE_CRYPTO_SESSION",
	[VU_POSTCOPY_ADVISE] = "POSTCOPY_ADVISE",
	[VU_POSTCOPY_LISTEN] = "POSTCOPY_LISTEN",
	[VU_POSTCOPY_END] = "POSTCOPY_END",
	[VU_GET_INFLIGHT_FD] = "GET_INFLIGHT_FD",
	[VU_SET_INFLIGHT_FD] = "SET_INFLIGHT_FD",
	[VU_GPU_SET_SOCKET] = "GPU_SET_SOCKET",
	[VU_RESET_DEVICE] = "RESET_DEVICE",
	[VU_VRING_KICK] = "VRING_KICK",
	[VU_GET_MAX_MEM_SLOTS] = "GET_MAX_MEM_SLOTS",
	[VU_ADD_MEM_REG] = "ADD_MEM_REG",
	[VU_REM_MEM_REG] = "REM_MEM_REG",
	[VU_SET_STATUS] = "SET_STATUS",
	[VU_GET_STATUS] = "GET_STATUS",
};

const char *vu_request_name(uint32_t req)
{
	if (req < VU_REQUEST_MAX && request_names[req])
		return request_names[req];
	return "UNKNOWN";
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Keep fds from one control message; close any beyond VU_MAX_FDS. */
static int collect_fds(struct msghdr *mh, struct vu_msg *msg)
{
	int ret = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t n;
		int fds[VU_MAX_FDS * 2];

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		n = MIN(n, ARRAY_SIZE(fds));
		memcpy(fds, CMSG_DATA(c), n * sizeof(int));
		for (size_t i = 0; i < n; i++) {
			if (msg->nfds < VU_MAX_FDS) {
				msg->fds[msg->nfds++] = fds[i];
			} else {
				close(fds[i]);
				ret = -ETOOMANYREFS;
			}
		}
	}
	return ret;
}

/*
 * Read exactly len bytes into buf; *got says how many arrived.  Returns 0,
 * -ECONNRESET when the peer closed before the first byte of a message
 * (started false), -ENODATA when it closed in the middle of one,
 * -ETOOMANYREFS when more fds came than a message may carry (the extra
 * ones are closed, the bytes still read), -ETIMEDOUT, or another -errno.
 */
static int recv_exact(int sock, void *buf, size_t len, struct vu_msg *msg,
		      bool started, long long deadline, size_t *got)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VU_MAX_FDS * 2)];
		struct cmsghdr align;
	} ctl;
	int ret = 0;

	*got = 0;
	while (*got < len) {
		struct iovec iov = { (char *)buf + *got, len - *got };
		struct msghdr mh = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctl.buf,
			.msg_controllen = sizeof(ctl.buf),
		};
		ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);

		if (n > 0) {
			/* The kernel dropped fds that did not fit: too many too. */
			if (collect_fds(&mh, msg) < 0 || (mh.msg_flags & MSG_CTRUNC))
				ret = -ETOOMANYREFS;
			*got += n;
			started = true;
			continue;
		}
		if (n == 0 || errno == ECONNRESET)
			return started ? -ENODATA : -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			struct pollfd pfd = { .fd = sock, .events = POLLIN };
			long long left = deadline - now_ms();

			if (left <= 0)
				return -ETIMEDOUT;
			if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
				return -errno;
			continue;
		}
		return -errno;
	}
	return ret;
}

/* One line saying why reading part of a message failed. */
static void log_recv_error(const struct vu_msg *msg, const char *part,
			   int err, size_t got, size_t len)
{
	const char *name = got >= 4 || part[0] == 'p' ?
			   vu_request_name(msg->hdr.request) : "message";

	if (err == -ENODATA)
		log_peer("%s: %s truncated: the peer closed the connection after %zu of %zu bytes",
			 name, part, got, len);
	else if (err == -ETOOMANYREFS)
		log_peer("%s: more than %u file descriptors attached",
			 name, VU_MAX_FDS);
	else if (err == -ETIMEDOUT)
		log_peer("%s: %s incomplete after %zu of %zu bytes: peer stalled for %d ms",
			 name, part, got, len, VU_MSG_TIMEOUT_MS);
	else
		log_peer("%s: cannot read the %s: %s", name, part, strerror(-err));
}

int vu_msg_recv(int sock, struct vu_msg *msg)
{
	long long deadline = now_ms() + VU_MSG_TIMEOUT_MS;
	size_t got;
	int ret;

	memset(&msg->hdr, 0, sizeof(msg->hdr));
	msg->nfds = 0;
	ret = recv_exact(sock, &msg->hdr, sizeof(msg->hdr), msg, false,
			 deadline, &got);
	if (ret == -ECONNRESET)
		return ret;
	if (ret < 0) {
		log_recv_error(msg, "header", ret, got, sizeof(msg->hdr));
		goto fail;
	}
	if ((msg->hdr.flags & VU_VERSION_MASK) != VU_VERSION) {
		log_peer("%s: bad protocol version in flags 0x%x",
			 vu_request_name(msg->hdr.request), msg->hdr.flags);
		ret = -EPROTO;
		goto fail;
	}
	if (msg->hdr.size > VU_MAX_PAYLOAD) {
		log_peer("%s: payload of %u bytes exceeds the maximum of %zu",
			 vu_request_name(msg->hdr.request), msg->hdr.size,
			 VU_MAX_PAYLOAD);
		ret = -EMSGSIZE;
		goto fail;
	}
	memset(&msg->payload, 0, sizeof(msg->payload));
	ret = recv_exact(sock, &msg->payload, msg->hdr.size, msg, true,
			 deadline, &got);
	if (ret < 0) {
		log_recv_error(msg, "payload", ret, got, msg->hdr.size);
		goto fail;
	}
	return 0;
fail:
	vu_msg_close_fds(msg);
	return ret < 0 ? ret : -EPROTO;
}

int vu_msg_sendv(int sock, struct iovec *iov, unsigned int iovcnt,
		 const int *fds, unsigned int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VU_RAW_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = iovcnt };
	size_t total = 0, sent = 0;

	if (nfds > VU_RAW_MAX_FDS)
		return -EINVAL;
	for (unsigned int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (nfds) {
		struct cmsghdr *c;

		memset(ctl.buf, 0, sizeof(ctl.buf));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	while (sent < total) {
		ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				struct pollfd pfd = { .fd = sock, .events = POLLOUT };

				if (poll(&pfd, 1, VU_MSG_TIMEOUT_MS) <= 0)
					return -ETIMEDOUT;
				continue;
			}
			return -errno;
		}
		sent += n;
		/* Ancillary data goes with the first chunk only. */
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
		while (n > 0 && mh.msg_iovlen) {
			size_t k = MIN((size_t)n, mh.msg_iov->iov_len);

			mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + k;
			mh.msg_iov->iov_len -= k;
			n -= k;
			if (mh.msg_iov->iov_len == 0) {
				mh.msg_iov++;
				mh.msg_iovlen--;
			}
		}
	}
	return 0;
}

int vu_msg_send(int sock, uint32_t request, uint32_t flags,
		const void *payload, uint32_t size,
		const int *fds, unsigned int nfds)
{
	struct vu_hdr hdr = { request, flags, size };
	struct iovec iov[2] = {
		{ &hdr, sizeof(hdr) },
		{ (void *)payload, size },
	};

	if (nfds > VU_MAX_FDS)
		return -EINVAL;
	return vu_msg_sendv(sock, iov, size ? 2 : 1, fds, nfds);
}

void vu_msg_close_fds(struct vu_msg *msg)
{
	for (unsigned int i = 0; i < msg->nfds; i++) {
		if (msg->fds[i] >= 0)
			close(msg->fds[i]);
	}
	msg->nfds = 0;
}

int vu_msg_take_fd(struct vu_msg *msg, unsigned int i)
{
	int fd;

	if (i >= msg->nfds)
		return -1;
	fd = msg->fds[i];
	msg->fds[i] = -1;
	return fd;
}
