// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-ctl-hostile.c: hostile clients of vhost-uring-blk's control socket:
 * malformed JSON (truncated, bad escapes, too deep, NUL bytes, invalid
 * UTF-8), requests that are not JSON-RPC 2.0, unknown methods and keys,
 * negative, non-numeric, huge and fractional values, a line of several
 * megabytes, 64 clients at once, clients that connect and never speak,
 * and one that never reads its replies.  Each gets a clear error reply
 * (or is dropped, as the man page says), and the front end's I/O works
 * during and after every case, through a connection kept open all along.
 * The engine comes from $TEST_AIO (default io_uring).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/virtio_blk.h>

#include "harness.h"
#include "tap.h"
#include "test-util.h"
#include "util.h"

#define MIB		(1ull << 20)
#define NCLIENTS	64

static struct test_env env;
static struct daemon d;
static struct blkc fe;		/* the front end, connected all along */
static char reply[1 << 16];
static unsigned int io_round;

/* Does the front end's I/O work: a write read back through other buffers? */
static bool io_works(void)
{
	struct blkc_res r = { 0xff, 0 };
	uint64_t sector = 2048 + 16 * (io_round++ % 64);
	bool good;

	pattern(fe.data, 8192, io_round);
	good = blkc_req(&fe, 0, VIRTIO_BLK_T_OUT, sector, 8192, false, false, &r) == 0 &&
	       r.status == VIRTIO_BLK_S_OK;
	memset(fe.data, 0, 8192);
	good = good && blkc_req(&fe, 1, VIRTIO_BLK_T_IN, sector, 8192, true, false, &r) == 0 &&
	       r.status == VIRTIO_BLK_S_OK && is_pattern(fe.data, 8192, io_round);
	return good;
}

/* The reply to line on fd has error code and a message containing msg. */
static bool answers_error(int fd, const char *line, size_t len, int code,
			  const char *msg, const char *id)
{
	struct ctl_json *j;
	int64_t got = 0;
	bool good;

	if (send(fd, line, len, MSG_NOSIGNAL) != (ssize_t)len ||
	    ctl_exchange(fd, "", reply, sizeof(reply), 5000) < 0) {
		tap_diag("no reply to %.80s", line);
		return false;
	}
	j = ctl_json_parse(reply);
	good = j->root && json_int64(json_at(j->root, "error.code"), &got) == 0 &&
	       got == code && strstr(json_str_at(j->root, "error.message"), msg) &&
	       (id ? json_at(j->root, "id") && !strncmp(json_at(j->root, "id")->s, id, strlen(id)) :
		json_at(j->root, "id") && json_at(j->root, "id")->type == JSON_NULL);
	if (!good)
		tap_diag("%.100s -> %s", line, reply);
	ctl_json_free(j);
	return good;
}

/* One line of tests/ctl-bad-requests.txt, split in place. */
struct bad {
	char *what;
	int code;
	char *id;		/* NULL: null */
	char *msg;
	char *line;		/* the request, its %HH escapes decoded */
	size_t len;
};

static bool split_bad(char *text, struct bad *b)
{
	char *f[5], *w;

	for (unsigned int i = 0; i < 5; i++) {
		f[i] = text;
		text = i < 4 ? strchr(text, '|') : NULL;
		if (i < 4 && !text)
			return false;
		if (text)
			*text++ = '\0';
	}
	b->what = f[0];
	b->code = atoi(f[1]);
	b->id = strcmp(f[2], "-") ? f[2] : NULL;
	b->msg = f[3];
	b->line = w = f[4];
	for (char *r = f[4]; *r && *r != '\n'; r++) {
		unsigned int byte;

		if (*r == '%' && sscanf(r + 1, "%2x", &byte) == 1) {
			*w++ = (char)byte;
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	b->len = w - b->line;
	return true;
}

static void test_bad_requests(void)
{
	const char *top = getenv("top_srcdir");
	char path[512], text[1024], line[256];
	unsigned int n = 0;
	int fd = ctl_connect(d.ctl);
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/ctl-bad-requests.txt", top ? top : "..");
	f = fopen(path, "r");
	if (!f) {
		perror(path);
		exit(99);
	}
	while (fgets(text, sizeof(text), f)) {
		struct bad b = { .what = text, .msg = "" };
		bool parsed;

		if (text[0] == '#')
			continue;
		n++;
		/* Split first: the message below names the parsed fields. */
		parsed = split_bad(text, &b);
		ok(parsed && fd >= 0 &&
		   answers_error(fd, b.line, b.len, b.code, b.msg, b.id),
		   "%s: error %d saying %s, on the same connection", b.what,
		   b.code, b.msg);
	}
	fclose(f);
	ok(n >= 30, "%u bad requests sent", n);
	/* A notification gets no reply, even a failing one; the next request does. */
	snprintf(line, sizeof(line), "%s\n%s", "{\"jsonrpc\":\"2.0\",\"method\":\"nope\"}",
		 "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"nope\"}");
	ok(fd >= 0 && answers_error(fd, line, strlen(line), -32601, "nope", "9"),
	   "a notification gets no reply, the request after it does");
	ok(io_works(), "the front end's I/O works after the bad requests");
	if (fd >= 0)
		close(fd);
}

/* Send up to len bytes of filler without blocking: how many went. */
static size_t send_filler(int fd, size_t len)
{
	static char chunk[65536];
	size_t sent = 0;

	memset(chunk, ' ', sizeof(chunk));
	while (sent < len) {
		ssize_t n = send(fd, chunk, MIN(sizeof(chunk), len - sent),
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n <= 0)
			break;
		sent += n;
	}
	return sent;
}

/* Read until EOF (true) or timeout_ms (false). */
static bool closed_by_daemon(int fd, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	char buf[4096];

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return false;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return true;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return true;
	}
}

static void test_long_lines(void)
{
	const char *info = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"info\"}";
	int fd = ctl_connect(d.ctl);
	size_t sent;
	bool good;

	/* Exactly 65536 bytes before the LF: served. */
	good = fd >= 0 && send(fd, info, strlen(info), MSG_NOSIGNAL) > 0 &&
	       send_filler(fd, 65536 - strlen(info)) == 65536 - strlen(info) &&
	       ctl_exchange(fd, "", reply, sizeof(reply), 5000) > 0 &&
	       strstr(reply, "\"result\":{\"device\":\"blk\"");
	ok(good, "a request of exactly 65536 bytes is served");
	if (fd >= 0)
		close(fd);

	/* 4 MiB without an LF: the error, then the connection ends. */
	fd = ctl_connect(d.ctl);
	sent = fd >= 0 ? send_filler(fd, 4 * MIB) : 0;
	good = fd >= 0 && ctl_read_line(fd, reply, sizeof(reply), 5000) > 0;
	ok(good && strstr(reply, "\"code\":-32600") &&
	   strstr(reply, "request longer than 65536 bytes") &&
	   strstr(reply, "\"id\":null"),
	   "a line of 4 MiB (%zu bytes went before the daemon stopped reading): error -32600",
	   sent);
	ok(fd >= 0 && closed_by_daemon(fd, 5000), "and the daemon closes that connection");
	ok(io_works(), "the front end's I/O works after the long line");
	if (fd >= 0)
		close(fd);
}

/* The fds of clients that got a reply to info, of n. */
static unsigned int answered(const int *fd, unsigned int n, bool *got)
{
	const char *info = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"info\"}";
	unsigned int k = 0;

	for (unsigned int i = 0; i < n; i++) {
		got[i] = ctl_exchange(fd[i], info, reply, sizeof(reply), 2000) > 0 &&
			 strstr(reply, "\"result\"");
		k += got[i];
	}
	return k;
}

static void test_many_clients(int base_fds)
{
	int fd[NCLIENTS];
	bool got[NCLIENTS], newest = true, oldest = false;
	unsigned int n = 0;
	int fds;

	for (unsigned int i = 0; i < NCLIENTS; i++) {
		fd[i] = ctl_connect(d.ctl);
		n += fd[i] >= 0;
	}
	ok(n == NCLIENTS, "%u clients connect at once", n);
	ok(io_works(), "the front end's I/O works with %d clients connected", NCLIENTS);
	/*
	 * Connections still queued on the listening socket are accepted (one
	 * fd more, then the evicted one's fewer) after the last connect()
	 * returned: count once the daemon has stopped accepting.
	 */
	daemon_wait_fds(&d, base_fds + 16, 3000);
	fds = daemon_settled_fd_count(&d);
	ok(fds == base_fds + 16, "the daemon keeps 16 of them (%d fds over its %d)",
	   fds - base_fds, base_fds);
	n = answered(fd + NCLIENTS - 16, 16, got + NCLIENTS - 16);
	for (unsigned int i = NCLIENTS - 16; i < NCLIENTS; i++)
		newest &= got[i];
	for (unsigned int i = 0; i < NCLIENTS - 16; i++)
		oldest |= !closed_by_daemon(fd[i], 100);
	ok(newest && !oldest,
	   "the 16 newest are served (%u), the 48 evicted find their connection closed", n);
	for (unsigned int i = 0; i < NCLIENTS; i++)
		close(fd[i]);
	ok(io_works(), "the front end's I/O works after the 64 clients");
}

static void test_silent_clients(int base_fds)
{
	const char *info = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"info\"}";
	int fd[16], op;
	bool good;

	for (unsigned int i = 0; i < 16; i++)
		fd[i] = ctl_connect(d.ctl);
	daemon_wait_fds(&d, base_fds + 16, 3000);
	op = ctl_connect(d.ctl);
	good = op >= 0 && ctl_exchange(op, info, reply, sizeof(reply), 5000) > 0 &&
	       strstr(reply, "\"result\"");
	ok(good, "16 clients that never speak do not lock an operator out");
	ok(closed_by_daemon(fd[0], 2000), "the one idle longest was closed for it");
	ok(io_works(), "the front end's I/O works with 16 silent clients");
	for (unsigned int i = 0; i < 16; i++)
		close(fd[i]);
	if (op >= 0)
		close(op);
}

/* A client pipelines requests and never reads; others are still served. */
static void test_not_reading(void)
{
	const char *stats = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"stats\"}\n";
	int fd = ctl_connect(d.ctl);
	size_t len = strlen(stats), sent = 0;
	char out[4096];

	for (unsigned int i = 0; fd >= 0 && i < 20000; i++) {
		ssize_t n = send(fd, stats, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n != (ssize_t)len)
			break;
		sent += n;
	}
	ok(sent > 0 && sent < 20000 * len,
	   "a client that does not read its replies is not read either (it sent %zu bytes before blocking)",
	   sent);
	ok(ctl_request(&d, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"info\"}", out, sizeof(out)) > 0 &&
	   io_works(), "others are served meanwhile, and the front end's I/O works");
	if (fd >= 0)
		close(fd);
}

/*
 * Nearly 64 KiB of notifications and a request, in one go: the daemon
 * takes them in rounds of a few lines and answers the request.
 */
static void test_notification_flood(void)
{
	const char *note = "{\"jsonrpc\":\"2.0\",\"method\":\"stats\",\"params\":{\"format\":\"prometheus\"}}\n";
	const char *last = "{\"jsonrpc\":\"2.0\",\"id\":\"last\",\"method\":\"info\"}\n";
	static char flood[65536];
	size_t len = strlen(note), n = 0;
	int fd = ctl_connect(d.ctl);
	bool good;

	while (n + len < sizeof(flood) - 128) {
		memcpy(flood + n, note, len);
		n += len;
	}
	memcpy(flood + n, last, strlen(last));
	good = fd >= 0 && send(fd, flood, n + strlen(last), MSG_NOSIGNAL) ==
			  (ssize_t)(n + strlen(last));
	ok(good && io_works(), "%zu notifications and a request in one go: the front end's I/O works meanwhile",
	   n / len);
	good = good && ctl_read_line(fd, reply, sizeof(reply), 10000) > 0 &&
	       strstr(reply, "\"id\":\"last\",\"result\"");
	ok(good, "the request after them is answered, and is the first line answered");
	if (fd >= 0)
		close(fd);
}

int main(void)
{
	const char *args[] = { env.img_arg, env.aio_arg, "--num-queues=2", NULL };
	struct verdict v = { { 0 } };
	int base_fds;

	if (!test_env_init(&env, 64 * MIB))
		return 0;
	if (!ok(daemon_start_ctl(&d, blk_daemon_binary(), args) == 0 &&
		blkc_open(&fe, d.sock, 2, ~0ull, BIT_ULL(VU_PF_MQ) |
			  BIT_ULL(VU_PF_REPLY_ACK) | BIT_ULL(VU_PF_CONFIG) |
			  BIT_ULL(VU_PF_CONFIGURE_MEM_SLOTS)) == 0 && io_works(),
		"the daemon serves a front end on 2 queues, with a control socket"))
		return tap_done();
	base_fds = daemon_settled_fd_count(&d);
	test_bad_requests();
	test_long_lines();
	test_many_clients(base_fds);
	test_silent_clients(base_fds);
	test_not_reading();
	test_notification_flood();
	ok(daemon_wait_fds(&d, base_fds, 3000) == base_fds,
	   "every client's fd is closed once it went (%d fds, %d before)",
	   daemon_fd_count(&d), base_fds);
	blkc_close(&fe);
	daemon_aftermath(&v, &d, daemon_settled_fd_count(&d), 0, NULL, 4096, true);
	if (!ok(!v.fail[0], "the daemon serves a fresh front end and exits 0 on SIGTERM"))
		tap_diag("%s", v.fail);
	harness_cleanup();
	return tap_done();
}
