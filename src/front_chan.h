/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * front_chan.h: the front end's side of the back-end channel (protocol
 * feature BACKEND_REQ), set up as QEMU does it: a socketpair whose one end
 * goes to the back end with SET_BACKEND_REQ_FD.  The back end sends its
 * requests (CONFIG_CHANGE_MSG) there and may ask for an ack.
 */
#ifndef VU_FRONT_CHAN_H
#define VU_FRONT_CHAN_H

#include <stdint.h>

#include "front.h"

/*
 * Create the channel and hand it over (with NEED_REPLY when REPLY_ACK is
 * negotiated).  A channel set before is closed.  Returns 0 or -errno.
 */
int front_chan_open(struct front *f);
/*
 * Wait up to timeout_ms for one request from the back end.  Returns 0,
 * -ETIMEDOUT, -ECONNRESET when the back end closed its end, -ENOTCONN
 * without a channel, or another -errno.  Fds the request carried are
 * closed.
 */
int front_chan_recv(struct front *f, struct vu_msg *msg, int timeout_ms);
/* Answer req, which asked for a reply, with verdict (0 is success). */
int front_chan_ack(struct front *f, const struct vu_msg *req, uint64_t verdict);
/* Close our end: the back end sees the channel hang up. */
void front_chan_close(struct front *f);

#endif
