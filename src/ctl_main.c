// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ctl_main.c: vhost-uring-ctl, the client of a daemon's control socket:
 * turns a command line into one JSON-RPC 2.0 request, waits for the one
 * response line, and prints its result (JSON on one line, or the
 * Prometheus text as it is).  Exit status: 0 done, 1 the daemon answered
 * with an error (its message on stderr), 2 a usage error, 3 no daemon
 * could be reached or it did not answer in time.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "sbuf.h"

#define EXIT_REPLY_ERROR	1
#define EXIT_USAGE		2
#define EXIT_UNREACHABLE	3
/* The longest reply read (a scsi device's Prometheus text is large). */
#define REPLY_MAX		(256u << 20)

struct args {
	const char *socket;
	unsigned int timeout_s;
	const char *command;
	const char *format;	/* stats */
	const char *lun;	/* iotune */
	char **kv;		/* iotune's KEY=VALUE words */
	unsigned int nkv;
};

static const char *prog = "vhost-uring-ctl";

static void usage(FILE *f)
{
	fprintf(f,
"Usage: vhost-uring-ctl --socket=PATH [--timeout=SECONDS] COMMAND [ARGS]\n"
"Query and control a running vhost-uring-blk or vhost-uring-scsi through\n"
"its control socket (the daemon's --control-socket).\n"
"\n"
"Commands:\n"
"  stats [--format=json|prometheus]\n"
"                            request counts, bytes, errors, per queue, and\n"
"                            latency histograms (default json)\n"
"  iotune [--lun=N] [KEY=VALUE...]\n"
"                            print the QoS limits, or change them (0 removes\n"
"                            a limit); a scsi device needs --lun to change\n"
"  rescan                    look at the backing stores again (as SIGHUP)\n"
"  info                      device, features, queues, engine, disks, uptime\n"
"\n"
"Options:\n"
"  --socket=PATH             the daemon's control socket\n"
"  --timeout=SECONDS         wait this long for the answer (default 10)\n"
"  --help                    show this help and exit\n"
"  --version                 show the version and exit\n"
"\n"
"Exit status: 0 done, 1 the daemon refused the request, 2 usage error,\n"
"3 the daemon could not be reached or did not answer.\n");
}

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", prog);
	return -1;
}

/* --NAME=VALUE or --NAME VALUE at argv[*i]: the value, or NULL if not NAME. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n))
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] || *i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

static int parse_timeout(struct args *a, const char *v)
{
	char *end;
	unsigned long t;

	errno = 0;
	t = strtoul(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-' || t < 1 || t > 86400)
		return usage_error("--timeout=%s: expected seconds from 1 to 86400", v);
	a->timeout_s = t;
	return 0;
}

/* One argument that starts with "--". */
static int parse_option(struct args *a, int argc, char **argv, int *i)
{
	const char *v;

	if ((v = opt_value(argc, argv, i, "--socket")))
		a->socket = v;
	else if ((v = opt_value(argc, argv, i, "--timeout")))
		return parse_timeout(a, v);
	else if ((v = opt_value(argc, argv, i, "--format")))
		a->format = v;
	else if ((v = opt_value(argc, argv, i, "--lun")))
		a->lun = v;
	else
		return usage_error("unknown option %s", argv[*i]);
	return 0;
}

/* What each command takes. */
static int check_command(const struct args *a)
{
	static const char *const commands[] = { "stats", "iotune", "rescan", "info" };
	bool known = false;

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		known |= !strcmp(a->command, commands[i]);
	if (!known)
		return usage_error("unknown command %s (expected stats, iotune, rescan or info)",
				   a->command);
	if (a->format && strcmp(a->command, "stats"))
		return usage_error("--format goes with stats only");
	if (a->format && strcmp(a->format, "json") && strcmp(a->format, "prometheus"))
		return usage_error("--format=%s: expected json or prometheus", a->format);
	if (a->lun && strcmp(a->command, "iotune"))
		return usage_error("--lun goes with iotune only");
	if (a->lun && (!*a->lun || strspn(a->lun, "0123456789") != strlen(a->lun) ||
		       strlen(a->lun) > 3))
		return usage_error("--lun=%s: expected a LUN number (0-255)", a->lun);
	if (a->nkv && strcmp(a->command, "iotune"))
		return usage_error("%s takes no arguments (got %s)", a->command, a->kv[0]);
	for (unsigned int i = 0; i < a->nkv; i++) {
		const char *eq = strchr(a->kv[i], '=');

		if (!eq || eq == a->kv[i])
			return usage_error("iotune: %s: expected KEY=VALUE", a->kv[i]);
		for (unsigned int j = 0; j < i; j++) {
			if (!strncmp(a->kv[j], a->kv[i], eq - a->kv[i] + 1))
				return usage_error("iotune: %.*s given twice",
						   (int)(eq - a->kv[i]), a->kv[i]);
		}
	}
	return 0;
}

/* Returns 0 to run, 1 when --help or --version was answered, -1 on error. */
static int parse_args(struct args *a, int argc, char **argv)
{
	memset(a, 0, sizeof(*a));
	a->timeout_s = 10;
	a->kv = calloc(argc, sizeof(*a->kv));
	if (!a->kv)
		return usage_error("out of memory");
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 1;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("%s %s\n", prog, PACKAGE_VERSION);
			return 1;
		}
	}
	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "--", 2)) {
			if (parse_option(a, argc, argv, &i) < 0)
				return -1;
		} else if (!a->command) {
			a->command = argv[i];
		} else {
			a->kv[a->nkv++] = argv[i];
		}
	}
	if (!a->socket)
		return usage_error("--socket=PATH is required");
	if (!a->command)
		return usage_error("a command is required (stats, iotune, rescan or info)");
	return check_command(a);
}

/* The request line, LF included. */
static void build_request(const struct args *a, struct sbuf *o)
{
	sbuf_puts(o, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":");
	sbuf_json_str(o, a->command);
	sbuf_puts(o, ",\"params\":{");
	if (a->format) {
		sbuf_puts(o, "\"format\":");
		sbuf_json_str(o, a->format);
	}
	if (a->lun)
		sbuf_printf(o, "\"lun\":%s%s", a->lun, a->nkv ? "," : "");
	if (a->nkv)
		sbuf_puts(o, "\"set\":{");
	for (unsigned int i = 0; i < a->nkv; i++) {
		char *eq = strchr(a->kv[i], '=');

		*eq = '\0';
		sbuf_printf(o, "%s", i ? "," : "");
		sbuf_json_str(o, a->kv[i]);
		sbuf_puts(o, ":");
		sbuf_json_str(o, eq + 1);
		*eq = '=';
	}
	sbuf_puts(o, a->nkv ? "}}}\n" : "}}\n");
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for fd to be ready for events before the deadline: 0 or -1. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		uint64_t now = now_ms();
		int ret;

		if (now >= deadline)
			return -1;
		ret = poll(&p, 1, (int)(deadline - now));
		if (ret > 0)
			return 0;
		if (ret < 0 && errno != EINTR)
			return -1;
	}
}

static int connect_to(const char *path, unsigned int timeout_s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = timeout_s };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "%s: %s: the path is too long for a socket\n", prog, path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* connect() to a full backlog waits at most this long. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "%s: cannot connect to %s: %s\n", prog, path,
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Send the request and read the response line into reply (LF dropped). */
static int exchange(int fd, const struct sbuf *req, struct sbuf *reply,
		    unsigned int timeout_s)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_s * 1000;
	size_t off = 0;
	char buf[65536];

	while (off < req->len) {
		ssize_t n = send(fd, req->p + off, req->len - off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno != EAGAIN && errno != EINTR)
			goto broken;
		if (n < 0 && wait_fd(fd, POLLOUT, deadline) < 0)
			goto late;
		off += n > 0 ? n : 0;
	}
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		char *lf;

		if (n < 0 && errno != EAGAIN && errno != EINTR)
			goto broken;
		if (n == 0) {
			errno = ECONNRESET;
			goto broken;
		}
		if (n < 0) {
			if (wait_fd(fd, POLLIN, deadline) < 0)
				goto late;
			continue;
		}
		lf = memchr(buf, '\n', n);
		sbuf_add(reply, buf, lf ? (size_t)(lf - buf) : (size_t)n);
		if (reply->oom || reply->len > REPLY_MAX) {
			fprintf(stderr, "%s: the reply is too long\n", prog);
			return -1;
		}
		if (lf)
			return 0;
	}
late:
	fprintf(stderr, "%s: no answer within %u s\n", prog, timeout_s);
	return -1;
broken:
	fprintf(stderr, "%s: the daemon closed the connection without an answer (%s)\n",
		prog, strerror(errno));
	return -1;
}

/* Print a JSON value on one line. */
static void print_json(const struct json_node *v, struct sbuf *o)
{
	switch (v->type) {
	case JSON_NULL:
	case JSON_FALSE:
	case JSON_TRUE:
		sbuf_puts(o, json_type_name(v->type));
		return;
	case JSON_NUMBER:
		sbuf_add(o, v->s, v->len);
		return;
	case JSON_STRING:
		sbuf_json_str(o, v->s);
		return;
	default:
		break;
	}
	sbuf_puts(o, v->type == JSON_ARRAY ? "[" : "{");
	for (const struct json_node *m = v->child; m; m = m->next) {
		if (v->type == JSON_OBJECT) {
			sbuf_json_str(o, m->key);
			sbuf_puts(o, ":");
		}
		print_json(m, o);
		if (m->next)
			sbuf_puts(o, ",");
	}
	sbuf_puts(o, v->type == JSON_ARRAY ? "]" : "}");
}

/* At most how many values a JSON text of len bytes holds. */
static unsigned int max_values(const char *p, size_t len)
{
	size_t n = 1;

	for (size_t i = 0; i < len; i++)
		n += p[i] == ',' || p[i] == '[' || p[i] == '{';
	return n > UINT32_MAX / 2 ? UINT32_MAX / 2 : (unsigned int)n;
}

/* The daemon's answer: print it, and the exit status. */
static int show_reply(const struct args *a, char *line, size_t len)
{
	struct json_node *nodes = calloc(max_values(line, len), sizeof(*nodes));
	const struct json_node *r, *res, *err, *msg, *text;
	struct json_doc doc;
	int ret = 0;
	struct sbuf o;

	if (!nodes) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return EXIT_UNREACHABLE;
	}
	json_doc_init(&doc, nodes, max_values(line, len));
	r = json_parse(&doc, line, len);

	res = json_get(r, "result");
	err = json_get(r, "error");
	msg = json_get(err, "message");
	if (!r || !!res == !!err || (err && (!msg || msg->type != JSON_STRING))) {
		fprintf(stderr, "%s: the daemon's reply is not a JSON-RPC response%s%s\n",
			prog, r ? "" : ": ", r ? "" : doc.err);
		ret = EXIT_UNREACHABLE;
	} else if (err) {
		fprintf(stderr, "%s: %s\n", prog, msg->s);
		ret = EXIT_REPLY_ERROR;
	} else if (a->format && !strcmp(a->format, "prometheus") &&
		   (text = json_get(res, "text")) && text->type == JSON_STRING) {
		fputs(text->s, stdout);
	} else {
		sbuf_init(&o);
		print_json(res, &o);
		printf("%s\n", o.p ? o.p : "");
		sbuf_free(&o);
	}
	free(nodes);
	return ret;
}

int main(int argc, char **argv)
{
	struct sbuf req, reply;
	struct args a;
	int fd, ret;

	ret = parse_args(&a, argc, argv);
	if (ret) {
		free(a.kv);
		return ret > 0 ? 0 : EXIT_USAGE;
	}
	sbuf_init(&req);
	sbuf_init(&reply);
	build_request(&a, &req);
	ret = EXIT_UNREACHABLE;
	fd = connect_to(a.socket, a.timeout_s);
	if (fd >= 0 && exchange(fd, &req, &reply, a.timeout_s) == 0)
		ret = show_reply(&a, reply.p ? reply.p : (char *)"", reply.len);
	if (fd >= 0)
		close(fd);
	sbuf_free(&req);
	sbuf_free(&reply);
	free(a.kv);
	return ret;
}
