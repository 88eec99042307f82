/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sd_daemon.h: what a daemon does for systemd without libsystemd: take a
 * socket passed by socket activation (LISTEN_FDS, LISTEN_PID), and tell
 * $NOTIFY_SOCKET that it is ready (READY=1) or stopping (STOPPING=1).
 */
#ifndef VU_SD_DAEMON_H
#define VU_SD_DAEMON_H

/*
 * A socket passed by systemd's socket activation: 0 and *fd = -1 when
 * none was passed (LISTEN_PID unset, or not this process), 0 and
 * *fd = 3 when one listening stream socket was passed, -1 after a log
 * line when the variables or the fd are wrong.  The variables are removed
 * from the environment either way, so children never inherit them.
 */
int sd_listen_take(int *fd);
/*
 * Open the notify socket named by $NOTIFY_SOCKET (a path, or "@name" for
 * an abstract one) and forget the variable.  Before the sandbox: it makes
 * a socket.  Nothing happens without the variable.
 */
void sd_notify_open(void);
/* Send state (e.g. "READY=1") as one datagram; quiet when not open. */
void sd_notify_send(const char *state);
void sd_notify_close(void);

#endif
