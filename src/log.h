/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * log.h: one-line diagnostics on stderr.  Messages triggered by a guest or a
 * front end go through vu_log_ratelimited() so a hostile peer cannot flood
 * the log.
 */
#ifndef VU_LOG_H
#define VU_LOG_H

#include <stdbool.h>

enum vu_log_level {
	VU_LOG_ERR,
	VU_LOG_WARN,
	VU_LOG_INFO,
	VU_LOG_DEBUG,
};

void vu_log_init(const char *prog, int verbosity);
bool vu_log_enabled(enum vu_log_level lvl);
void vu_log(enum vu_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void vu_log_ratelimited(enum vu_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One error line from a signal handler: write() only, no formatting. */
void vu_log_signal_safe(const char *const *parts, unsigned int n);

#define log_err(...)	vu_log(VU_LOG_ERR, __VA_ARGS__)
#define log_warn(...)	vu_log(VU_LOG_WARN, __VA_ARGS__)
#define log_info(...)	vu_log(VU_LOG_INFO, __VA_ARGS__)
#define log_debug(...)						\
	do {							\
		if (vu_log_enabled(VU_LOG_DEBUG))		\
			vu_log(VU_LOG_DEBUG, __VA_ARGS__);	\
	} while (0)

/* For problems caused by guest or front-end input. */
#define log_peer(...)	vu_log_ratelimited(VU_LOG_ERR, __VA_ARGS__)

#endif
