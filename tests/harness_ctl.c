// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * harness_ctl.c: the harness's side of a daemon's control socket (see
 * harness.h): connecting, one request and its response line, replies
 * parsed with the daemon's own JSON parser and looked up by path, and
 * vhost-uring-ctl run against the daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "test-util.h"
#include "util.h"

int ctl_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

int ctl_read_line(int fd, char *reply, size_t len, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	size_t got = 0;

	while (got < len - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long left = deadline - now_ms();
		char *lf;
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return -1;
		n = recv(fd, reply + got, len - 1 - got, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return -1;
		reply[got + n] = '\0';
		lf = memchr(reply + got, '\n', n);
		got += n;
		if (lf) {
			*lf = '\0';
			return (int)(lf - reply);
		}
	}
	return -1;
}

int ctl_exchange(int fd, const char *line, char *reply, size_t len,
		 int timeout_ms)
{
	if (send_all(fd, line, strlen(line)) < 0 || send_all(fd, "\n", 1) < 0)
		return -1;
	return ctl_read_line(fd, reply, len, timeout_ms);
}

int ctl_request(const struct daemon *d, const char *line, char *reply,
		size_t len)
{
	int fd = ctl_connect(d->ctl), ret;

	if (fd < 0)
		return -1;
	ret = ctl_exchange(fd, line, reply, len, 5000);
	close(fd);
	return ret;
}

struct ctl_json *ctl_json_parse(const char *text)
{
	size_t len = strlen(text), max = 1;
	struct ctl_json *j = calloc(1, sizeof(*j));
	struct json_node *nodes;

	for (size_t i = 0; i < len; i++)
		max += text[i] == ',' || text[i] == '[' || text[i] == '{';
	nodes = calloc(max, sizeof(*nodes));
	if (!j || !nodes || !(j->text = strdup(text))) {
		perror("ctl_json_parse");
		exit(99);
	}
	json_doc_init(&j->doc, nodes, max);
	j->root = json_parse(&j->doc, j->text, len);
	return j;
}

void ctl_json_free(struct ctl_json *j)
{
	if (!j)
		return;
	free(j->doc.nodes);
	free(j->text);
	free(j);
}

const struct json_node *json_at(const struct json_node *n, const char *path)
{
	char part[64];

	while (n && *path) {
		size_t len = strcspn(path, ".");
		char *end;
		unsigned long idx;

		snprintf(part, sizeof(part), "%.*s", (int)len, path);
		path += len + (path[len] == '.');
		if (n->type == JSON_OBJECT) {
			n = json_get(n, part);
			continue;
		}
		idx = strtoul(part, &end, 10);
		if (n->type != JSON_ARRAY || *end || end == part)
			return NULL;
		for (n = n->child; n && idx; idx--)
			n = n->next;
	}
	return n;
}

uint64_t json_u64_at(const struct json_node *n, const char *path)
{
	uint64_t v;

	return json_uint64(json_at(n, path), &v) == 0 ? v : UINT64_MAX;
}

const char *json_str_at(const struct json_node *n, const char *path)
{
	n = json_at(n, path);
	return n && n->type == JSON_STRING ? n->s : "";
}

static const char *ctl_binary(void)
{
	const char *b = getenv("VHOST_URING_CTL");

	return b ? b : "./vhost-uring-ctl";
}

/* Read all of fd into buf (NUL-terminated; the rest is dropped). */
static void read_all(int fd, char *buf, size_t len)
{
	size_t got = 0;
	char junk[4096];

	for (;;) {
		ssize_t n = buf && got < len - 1 ?
			    read(fd, buf + got, len - 1 - got) :
			    read(fd, junk, sizeof(junk));

		if (n <= 0)
			break;
		if (buf && got < len - 1)
			got += n;
	}
	if (buf)
		buf[got] = '\0';
}

int run_ctl(const struct daemon *d, const char *const *args, char *out,
	    size_t out_len, char *err, size_t err_len)
{
	const char *argv[32];
	char sockarg[320];
	int po[2], pe[2], status;
	unsigned int n = 0;
	pid_t pid;

	snprintf(sockarg, sizeof(sockarg), "--socket=%s", d->ctl);
	argv[n++] = ctl_binary();
	argv[n++] = sockarg;
	while (args && *args && n < ARRAY_SIZE(argv) - 1)
		argv[n++] = *args++;
	argv[n] = NULL;
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(po[1], STDOUT_FILENO);
		dup2(pe[1], STDERR_FILENO);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	/* Small outputs: stderr fits in its pipe while stdout is read. */
	read_all(po[0], out, out_len);
	read_all(pe[0], err, err_len);
	for (char *p = err; p && *p; p++)
		*p = *p == '\n' ? ' ' : *p;	/* for TAP lines */
	close(po[0]);
	close(pe[0]);
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
