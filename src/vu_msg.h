/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vu_msg.h: framing of vhost-user messages on a Unix stream socket, with
 * file descriptors passed as SCM_RIGHTS.  Used by both sides.
 */
#ifndef VU_MSG_H
#define VU_MSG_H

#include <sys/uio.h>

#include "vu_proto.h"

/* A message must arrive completely within this time once it has begun. */
#define VU_MSG_TIMEOUT_MS	10000

/*
 * Receive one message.  Returns 0, -ECONNRESET when the peer closed the
 * connection between messages, or another negative errno (a log line says
 * what was wrong).  On error no fd is left open.
 */
int vu_msg_recv(int sock, struct vu_msg *msg);

/* Send one message; fds may be NULL.  Returns 0 or a negative errno. */
int vu_msg_send(int sock, uint32_t request, uint32_t flags,
		const void *payload, uint32_t size,
		const int *fds, unsigned int nfds);

/*
 * Send the bytes of iov (modified as it goes) with nfds fds attached to
 * the first byte.  No framing is checked: the project's front end uses it
 * to send malformed messages, with up to VU_RAW_MAX_FDS fds.
 */
#define VU_RAW_MAX_FDS	32
int vu_msg_sendv(int sock, struct iovec *iov, unsigned int iovcnt,
		 const int *fds, unsigned int nfds);

/* Close every fd the message still holds. */
void vu_msg_close_fds(struct vu_msg *msg);

/* Take fd i out of the message (the caller now owns it). */
int vu_msg_take_fd(struct vu_msg *msg, unsigned int i);

#endif
