/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli.h: what the daemons' command lines share: value parsing, and the
 * options every daemon takes (socket, control socket, queues, threads, polling, engine,
 * sandbox, image locking, verbosity).  Each parser logs one line naming the option and
 * what it expected, and returns -1, on a bad value.
 */
#ifndef VU_CLI_H
#define VU_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "engine.h"
#include "image_lock.h"

/* Who may connect to a socket the daemon creates. */
struct sock_perm {
	mode_t mode;		/* e.g. 0600 */
	gid_t gid;		/* its group, or (gid_t)-1: the daemon's own */
};

/* The options every daemon takes, parsed by cli_parse_args(). */
struct cli_common {
	const char *socket_path;
	const char *control_path;	/* --control-socket, or NULL */
	unsigned int socket_mode;	/* 0600, or 0660 with a group */
	bool socket_mode_set;		/* --socket-mode given */
	gid_t socket_gid;		/* --socket-group, or (gid_t)-1 */
	int fd;
	unsigned int num_queues;
	unsigned int queue_size;
	unsigned int num_threads;
	unsigned int poll_us;
	bool sandbox;
	enum io_engine_kind engine;
	enum image_locking locking;
	int verbose;
};

/* A daemon's bounds and defaults for them, and the name of its queues. */
struct cli_limits {
	unsigned int max_queues;
	unsigned int default_queues;
	const char *queues_are;		/* "queues", "request queues" */
	unsigned int max_queue_size;
	unsigned int default_queue_size;
	unsigned int max_threads;
	const char *threads_note;	/* after the default, or "" */
};

/* getopt_long() values; a daemon numbers its own from CLI_OPT_OWN. */
enum {
	CLI_OPT_SOCKET = 256,
	CLI_OPT_SOCKET_MODE,
	CLI_OPT_SOCKET_GROUP,
	CLI_OPT_FD,
	CLI_OPT_CONTROL,
	CLI_OPT_NUM_QUEUES,
	CLI_OPT_QUEUE_SIZE,
	CLI_OPT_NUM_THREADS,
	CLI_OPT_POLL_US,
	CLI_OPT_SANDBOX,
	CLI_OPT_AIO,
	CLI_OPT_LOCKING,
	CLI_OPT_CAPS,
	CLI_OPT_HELP,
	CLI_OPT_VERSION,
	CLI_OPT_OWN,
};

/* The common entries of a daemon's struct option table. */
/*
 * The polling ceiling by default: it covers the gap between a completion
 * and the next request of a front end that answers at once (bench/ab:
 * 4k QD1 1.4x the IOPS at 32, 1.15x at 16), and a guest slower than that
 * never opens the window.
 */
#define CLI_POLL_US_DEFAULT	32

#define CLI_COMMON_OPTIONS \
	{ "socket-path", required_argument, NULL, CLI_OPT_SOCKET }, \
	{ "socket-mode", required_argument, NULL, CLI_OPT_SOCKET_MODE }, \
	{ "socket-group", required_argument, NULL, CLI_OPT_SOCKET_GROUP }, \
	{ "fd", required_argument, NULL, CLI_OPT_FD }, \
	{ "control-socket", required_argument, NULL, CLI_OPT_CONTROL }, \
	{ "num-queues", required_argument, NULL, CLI_OPT_NUM_QUEUES }, \
	{ "queue-size", required_argument, NULL, CLI_OPT_QUEUE_SIZE }, \
	{ "num-threads", required_argument, NULL, CLI_OPT_NUM_THREADS }, \
	{ "poll-us", required_argument, NULL, CLI_OPT_POLL_US }, \
	{ "sandbox", required_argument, NULL, CLI_OPT_SANDBOX }, \
	{ "aio", required_argument, NULL, CLI_OPT_AIO }, \
	{ "locking", required_argument, NULL, CLI_OPT_LOCKING }, \
	{ "print-capabilities", no_argument, NULL, CLI_OPT_CAPS }, \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "help", no_argument, NULL, CLI_OPT_HELP }, \
	{ "version", no_argument, NULL, CLI_OPT_VERSION }

/* The defaults. */
void cli_common_init(struct cli_common *c, const struct cli_limits *l);
/* The permissions of the sockets the daemon creates (both take them). */
struct sock_perm cli_sock_perm(const struct cli_common *c);
/*
 * --help: the socket options (first), the queue, thread, polling, engine
 * and sandbox options, image locking, and the ones that answer at once
 * (last).
 */
/* The usage line, what the program does, and the socket options. */
void cli_usage_head(FILE *f, const char *synopsis, const char *what);
void cli_usage_queues(FILE *f, const struct cli_limits *l);
void cli_usage_locking(FILE *f);
void cli_usage_tail(FILE *f);

/* A decimal number in [min, max]. */
int cli_parse_uint(const char *opt, const char *arg, unsigned long min,
		   unsigned long max, unsigned int *out);

/*
 * --print-capabilities (prints caps_json), --help (usage on stdout) and
 * --version ignore every other argument.  True when argv holds one of them
 * and it was answered: the program exits 0.
 */
bool cli_answer_early(int argc, char **argv, const char *prog,
		      const char *caps_json, void (*usage)(FILE *f));
/*
 * getopt_long() over argv: the common options, and the daemon's own with
 * own_opt (0, or -1 after a log line; it prints the usage for an unknown
 * one).  Then the socket rules, no more threads than queues, and the log's
 * verbosity from -v.  Returns 0, or -1 for a usage error.
 */
int cli_parse_args(int argc, char **argv, const struct option *opts,
		   struct cli_common *c, const struct cli_limits *l,
		   int (*own_opt)(void *ctx, int opt, const char *arg),
		   void *ctx);

#endif
