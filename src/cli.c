// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cli.c: owns what the daemons' command lines have in common: parsing
 * bounded numbers, permission modes and on/off switches, the options every
 * daemon takes (image locking's mode included) and their help, the options that answer at once, and the
 * socket options' rules.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "sd_daemon.h"
#include "util.h"

int cli_parse_uint(const char *opt, const char *arg, unsigned long min,
		   unsigned long max, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v < min || v > max) {
		log_err("--%s=%s: expected a number from %lu to %lu", opt, arg,
			min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* Octal permissions such as 0600 or 660 (--socket-mode). */
static int parse_mode(const char *opt, const char *arg, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 8);
	if (errno || end == arg || *end || arg[0] == '-' || v > 0777) {
		log_err("--%s=%s: expected octal permissions such as 0600", opt, arg);
		return -1;
	}
	*out = v;
	return 0;
}

/* A group name, or a number (--socket-group). */
static int parse_group(const char *arg, gid_t *out)
{
	struct group *g;
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (!errno && end != arg && !*end && arg[0] != '-' &&
	    v < (unsigned long)(gid_t)-1) {
		*out = v;
		return 0;
	}
	g = getgrnam(arg);
	if (!g) {
		log_err("--socket-group=%s: no such group", arg);
		return -1;
	}
	*out = g->gr_gid;
	return 0;
}

/* "on" or "off". */
static int parse_on_off(const char *opt, const char *arg, bool *out)
{
	if (strcmp(arg, "on") && strcmp(arg, "off")) {
		log_err("--%s=%s: expected on or off", opt, arg);
		return -1;
	}
	*out = !strcmp(arg, "on");
	return 0;
}

bool cli_answer_early(int argc, char **argv, const char *prog,
		      const char *caps_json, void (*usage)(FILE *f))
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--print-capabilities")) {
			printf("%s\n", caps_json);
			return true;
		}
		if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return true;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("%s %s\n", prog, PACKAGE_VERSION);
			return true;
		}
	}
	return false;
}

/* No stray arguments (from optind on), and one of --socket-path and --fd. */
static int check_socket_args(int argc, char **argv, int optind,
			     const char *socket_path, int fd)
{
	if (optind < argc) {
		log_err("unexpected argument: %s", argv[optind]);
		return -1;
	}
	if (!socket_path == (fd < 0)) {
		log_err("exactly one of --socket-path and --fd is required");
		return -1;
	}
	return 0;
}

void cli_common_init(struct cli_common *c, const struct cli_limits *l)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->socket_mode = 0600;
	c->socket_gid = (gid_t)-1;
	c->num_queues = l->default_queues;
	c->queue_size = l->default_queue_size;
	c->num_threads = 1;
	c->poll_us = CLI_POLL_US_DEFAULT;
	c->sandbox = true;
	c->engine = IO_ENGINE_AUTO;
	c->locking = IMAGE_LOCKING_AUTO;
}

static int parse_queue_size(struct cli_common *c, const struct cli_limits *l,
			    const char *arg)
{
	if (cli_parse_uint("queue-size", arg, 1, l->max_queue_size,
			   &c->queue_size) < 0)
		return -1;
	if (!IS_POW2(c->queue_size)) {
		log_err("--queue-size=%s: must be a power of 2", arg);
		return -1;
	}
	return 0;
}

/*
 * One getopt_long() result: 0 when it was a common option and its value
 * is good, -1 after a log line when the value is bad, 1 when the option
 * is not a common one.
 */
static int parse_common(struct cli_common *c, const struct cli_limits *l,
			int opt, const char *arg)
{
	unsigned int v;

	switch (opt) {
	case CLI_OPT_SOCKET:
		c->socket_path = arg;
		return 0;
	case CLI_OPT_CONTROL:
		c->control_path = arg;
		return 0;
	case CLI_OPT_SOCKET_MODE:
		c->socket_mode_set = true;
		return parse_mode("socket-mode", arg, &c->socket_mode);
	case CLI_OPT_SOCKET_GROUP:
		return parse_group(arg, &c->socket_gid);
	case CLI_OPT_FD:
		if (cli_parse_uint("fd", arg, 0, INT_MAX, &v) < 0)
			return -1;
		c->fd = v;
		return 0;
	case CLI_OPT_NUM_QUEUES:
		return cli_parse_uint("num-queues", arg, 1, l->max_queues,
				      &c->num_queues);
	case CLI_OPT_QUEUE_SIZE:
		return parse_queue_size(c, l, arg);
	case CLI_OPT_NUM_THREADS:
		return cli_parse_uint("num-threads", arg, 1, l->max_threads,
				      &c->num_threads);
	case CLI_OPT_POLL_US:
		return cli_parse_uint("poll-us", arg, 0, 1000000, &c->poll_us);
	case CLI_OPT_SANDBOX:
		return parse_on_off("sandbox", arg, &c->sandbox);
	case CLI_OPT_AIO:
		if (io_engine_parse(arg, &c->engine) < 0) {
			log_err("--aio=%s: expected auto, io_uring or libaio", arg);
			return -1;
		}
		return 0;
	case CLI_OPT_LOCKING:
		if (image_locking_parse(arg, &c->locking) < 0) {
			log_err("--locking=%s: expected auto, on or off", arg);
			return -1;
		}
		return 0;
	case 'v':
		c->verbose++;
		return 0;
	default:
		return 1;
	}
}

/* A socket from systemd's socket activation, instead of --socket-path or --fd. */
static int take_activated_socket(struct cli_common *c)
{
	int fd;

	if (sd_listen_take(&fd) < 0)
		return -1;
	if (fd < 0)
		return 0;
	if (c->socket_path || c->fd >= 0) {
		log_err("socket activation passed a socket: no --socket-path or --fd with it");
		return -1;
	}
	c->fd = fd;
	return 0;
}

int cli_parse_args(int argc, char **argv, const struct option *opts,
		   struct cli_common *c, const struct cli_limits *l,
		   int (*own_opt)(void *ctx, int opt, const char *arg),
		   void *ctx)
{
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		ret = parse_common(c, l, opt, optarg);
		if (ret > 0)
			ret = own_opt(ctx, opt, optarg);
		if (ret < 0)
			return -1;
	}
	if (take_activated_socket(c) < 0)
		return -1;
	if (check_socket_args(argc, argv, optind, c->socket_path, c->fd) < 0)
		return -1;
	/* A group is given so that it can connect. */
	if (c->socket_gid != (gid_t)-1 && !c->socket_mode_set)
		c->socket_mode = 0660;
	/* Queue i goes to thread i % n: each thread gets a queue. */
	if (c->num_threads > c->num_queues)
		c->num_threads = c->num_queues;
	vu_log_init(argv[0], c->verbose);
	return 0;
}

struct sock_perm cli_sock_perm(const struct cli_common *c)
{
	return (struct sock_perm){ .mode = c->socket_mode, .gid = c->socket_gid };
}

void cli_usage_head(FILE *f, const char *synopsis, const char *what)
{
	fprintf(f, "Usage: %s\n%s\n\n", synopsis, what);
	fputs(
"  --socket-path=PATH        listen on a new Unix socket at PATH\n"
"  --socket-mode=MODE        its permissions, in octal (default 0600, or\n"
"                            0660 with --socket-group)\n"
"  --socket-group=GROUP      its group (a name or a number)\n"
"  --fd=N                    use inherited socket N (listening or connected)\n"
"  --control-socket=PATH     serve the control socket (vhost-uring-ctl) at\n"
"                            PATH, with the same mode and group\n",
	      f);
}

void cli_usage_queues(FILE *f, const struct cli_limits *l)
{
	fprintf(f,
"  --num-queues=N            most %s offered (1-%u, default %u)\n"
"  --queue-size=N            largest queue size accepted (power of 2, default %u)\n"
"  --num-threads=N           I/O threads (1-%u, default 1%s)\n"
"  --poll-us=N               poll the rings for new requests for up to N\n"
"                            microseconds after the last work, adapting to the\n"
"                            guest (default %u; 0: never poll)\n"
"  --aio=auto|io_uring|libaio\n"
"                            I/O engine (default auto: io_uring, else libaio)\n"
"  --sandbox=on|off          restrict the io_uring rings and the system calls\n"
"                            once set up (default on)\n",
		l->queues_are, l->max_queues, l->default_queues,
		l->default_queue_size, l->max_threads, l->threads_note,
		CLI_POLL_US_DEFAULT);
}

void cli_usage_locking(FILE *f)
{
	fputs(
"  --locking=auto|on|off     QEMU's image locks (OFD locks on bytes 100, 101\n"
"                            and 201), held from when a front end starts the\n"
"                            device until it disconnects or migrates away;\n"
"                            on: refuse a file system without OFD locks;\n"
"                            auto (default): serve unlocked there, with a\n"
"                            warning; off: never lock\n",
	      f);
}

void cli_usage_tail(FILE *f)
{
	fputs(
"  --print-capabilities      print the vhost-user capabilities as JSON and exit\n"
"  -v, --verbose             debug output, including every protocol message\n"
"  --help                    show this help and exit\n"
"  --version                 show the version and exit\n",
	      f);
}
