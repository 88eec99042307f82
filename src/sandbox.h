/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sandbox.h: the daemon's system call filter (see sandbox.c).
 */
#ifndef VU_SANDBOX_H
#define VU_SANDBOX_H

/*
 * Install the filter on every thread of the process.  Call once setup is
 * over: no file is opened and no thread is started after this.  Returns 0
 * (also when the build has no filter, after a log line) or -errno.
 */
int sandbox_enter(void);

#endif
