// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * log.c: the daemon's diagnostics.  Every message is a single line on stderr,
 * prefixed with the program name and level, written with one write() so lines
 * from I/O threads do not interleave.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static const char *log_prog = "vhost-uring";
static int log_verbosity = VU_LOG_INFO;

/* Rate limit for peer-triggered messages: a burst, then one per interval. */
#define RL_BURST	20
#define RL_INTERVAL_S	5

static pthread_mutex_t rl_lock = PTHREAD_MUTEX_INITIALIZER;
static time_t rl_window;
static unsigned int rl_count;
static unsigned long rl_dropped;

static const char *const level_names[] = {
	[VU_LOG_ERR] = "error",
	[VU_LOG_WARN] = "warning",
	[VU_LOG_INFO] = "info",
	[VU_LOG_DEBUG] = "debug",
};

void vu_log_init(const char *prog, int verbosity)
{
	const char *slash = strrchr(prog, '/');

	log_prog = slash ? slash + 1 : prog;
	log_verbosity = VU_LOG_INFO + verbosity;
}

bool vu_log_enabled(enum vu_log_level lvl)
{
	return (int)lvl <= log_verbosity;
}

static void log_emit(enum vu_log_level lvl, const char *fmt, va_list ap)
{
	char line[1024];
	int n;

	n = snprintf(line, sizeof(line), "%s: %s: ", log_prog, level_names[lvl]);
	n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (n >= (int)sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

void vu_log(enum vu_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	if (!vu_log_enabled(lvl))
		return;
	va_start(ap, fmt);
	log_emit(lvl, fmt, ap);
	va_end(ap);
}

void vu_log_ratelimited(enum vu_log_level lvl, const char *fmt, ...)
{
	unsigned long dropped = 0;
	time_t now = time(NULL);
	bool emit;
	va_list ap;

	if (!vu_log_enabled(lvl))
		return;
	pthread_mutex_lock(&rl_lock);
	if (now - rl_window >= RL_INTERVAL_S) {
		dropped = rl_dropped;
		rl_dropped = 0;
		rl_window = now;
		rl_count = 0;
	}
	emit = rl_count++ < RL_BURST;
	if (!emit)
		rl_dropped++;
	pthread_mutex_unlock(&rl_lock);

	if (dropped)
		vu_log(VU_LOG_WARN, "%lu similar messages suppressed", dropped);
	if (!emit)
		return;
	va_start(ap, fmt);
	log_emit(lvl, fmt, ap);
	va_end(ap);
}

void vu_log_signal_safe(const char *const *parts, unsigned int n)
{
	char line[512];
	size_t len = 0;
	const char *pre[] = { log_prog, ": ", level_names[VU_LOG_ERR], ": " };

	for (unsigned int i = 0; i < ARRAY_SIZE(pre) + n; i++) {
		const char *p = i < ARRAY_SIZE(pre) ? pre[i] : parts[i - ARRAY_SIZE(pre)];
		size_t k = strlen(p);

		if (k > sizeof(line) - 1 - len)
			k = sizeof(line) - 1 - len;
		memcpy(line + len, p, k);
		len += k;
	}
	line[len++] = '\n';
	if (write(STDERR_FILENO, line, len) < 0)
		return;
}
