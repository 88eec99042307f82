/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * backend_chan.h: the back-end channel, the socket a front end hands over
 * with SET_BACKEND_REQ_FD, on which the back end sends requests of its own
 * (here only CONFIG_CHANGE_MSG).  Control thread only.
 */
#ifndef VU_BACKEND_CHAN_H
#define VU_BACKEND_CHAN_H

#include <stdbool.h>

#include "vhost_user.h"

/* SET_BACKEND_REQ_FD: see vu_handlers.h. */
int vu_h_set_backend_req_fd(struct vu_dev *dev, struct vu_msg *msg,
			    bool *replied);
/*
 * The device's config space changed: tell the front end, without waiting
 * for its answer.  Without a channel, one log line says so.
 */
void vu_backend_config_changed(struct vu_dev *dev);
/*
 * The device started (its first ring runs): if the front end has not read
 * the config since it changed, signal the change again.  QEMU 7.2 acks a
 * config change and ignores it while the device is stopped (a guest in
 * firmware or rebooting), and reads no config on a reconnect.
 */
void vu_backend_device_started(struct vu_dev *dev);
/*
 * The channel is readable or hung up (the server polls dev->backend_fd):
 * read the front end's answers; close the channel on anything else.
 */
void vu_backend_chan_event(struct vu_dev *dev);
/* Forget the channel (the front end went away). */
void vu_backend_chan_close(struct vu_dev *dev);

#endif
