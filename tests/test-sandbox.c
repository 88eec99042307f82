// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-sandbox.c: the daemon's self-restrictions.  A restricted io_uring
 * engine serves its registered file and its registered eventfds, and the
 * kernel refuses an operation on any other file.  The system call filter
 * (in a child process) lets the serving calls through (the back-end
 * channel's, image locks and fdatasync() included) and refuses open() and
 * socket() with EPERM and a log line.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "sandbox.h"
#include "tap.h"
#include "test-op.h"
#include "vu_msg.h"

/* Queue op, run the engine until it completes; returns its result. */
static int run_one(struct io_engine *e, struct result *r)
{
	r->done = false;
	r->op.done = on_done;
	io_engine_queue(e, &r->op);
	for (int i = 0; i < 100 && !r->done; i++) {
		if (io_engine_run(e, true) < 0)
			break;
	}
	return r->done ? r->res : -ETIMEDOUT;
}

static void read_op(struct result *r, int fd, void *buf, size_t len)
{
	static struct iovec iov;

	memset(r, 0, sizeof(*r));
	iov.iov_base = buf;
	iov.iov_len = len;
	r->op.opcode = IO_OP_READV;
	r->op.fd = fd;
	r->op.iov = &iov;
	r->op.iovcnt = 1;
}

static void test_restricted_ring(void)
{
#ifdef HAVE_LIBURING
	char path[] = "/tmp/vu-sandbox.XXXXXX", buf[16];
	int fd = mkstemp(path), other = open("/proc/self/stat", O_RDONLY);
	int evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct io_engine_opts o = {
		.depth = 8, .files = &fd, .nfiles = 1, .max_wait_fds = 2,
		.restrict_ops = true,
	};
	struct io_engine *e = NULL;
	struct result r;

	if (fd < 0 || other < 0 || evfd < 0 || write(fd, "registered", 10) != 10) {
		ok(false, "test files");
		return;
	}
	unlink(path);
	if (io_engine_create(IO_ENGINE_URING, &o, &e) < 0) {
		ok(false, "a restricted io_uring engine starts");
		return;
	}
	read_op(&r, fd, buf, 10);
	ok(run_one(e, &r) == 10 && !memcmp(buf, "registered", 10),
	   "a restricted ring reads its registered file");
	read_op(&r, other, buf, sizeof(buf));
	run_one(e, &r);
	ok(r.res == -EACCES,
	   "it refuses to read a file it was not given (%s)", strerror(-r.res));
	memset(&r, 0, sizeof(r));
	r.op.opcode = IO_OP_READ_EVENTFD;
	r.op.fd = evfd;
	eventfd_write(evfd, 3);
	ok(run_one(e, &r) == -EACCES, "an eventfd not yet registered is refused too");
	ok(io_engine_set_wait_fds(e, &evfd, 1) == 0, "the eventfd slots can be updated");
	memset(&r, 0, sizeof(r));
	r.op.opcode = IO_OP_READ_EVENTFD;
	r.op.fd = evfd;
	ok(run_one(e, &r) == 8 && r.op.evbuf == 3, "then it is read through the ring");
	io_engine_destroy(e);
	close(fd);
	close(other);
	close(evfd);
#else
	tap_skip("no io_uring engine in this build");
#endif
}

#if defined(HAVE_LIBSECCOMP) && !defined(HAVE_SANITIZERS)
/*
 * What the back-end channel needs (backend_chan.c): check the socket, make
 * it non-blocking, send CONFIG_CHANGE_MSG and read an ack.
 */
static bool channel_calls(const int *sv)
{
	int type = 0, domain = 0;
	socklen_t len = sizeof(type);
	struct vu_msg m;
	struct stat st;
	uint64_t v = 0;

	return fstat(sv[0], &st) == 0 && S_ISSOCK(st.st_mode) &&
	       getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
	       getsockopt(sv[0], SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
	       fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK) == 0 &&
	       vu_msg_send(sv[0], VU_BACKEND_CONFIG_CHANGE_MSG,
			   VU_VERSION | VU_FLAG_NEED_REPLY, NULL, 0, NULL, 0) == 0 &&
	       vu_msg_send(sv[1], VU_BACKEND_CONFIG_CHANGE_MSG,
			   VU_VERSION | VU_FLAG_REPLY, &v, sizeof(v), NULL, 0) == 0 &&
	       vu_msg_recv(sv[0], &m) == 0 && m.hdr.size == sizeof(v);
}

/* In a child: install the filter, then try allowed and refused calls. */
static int filtered_child(void)
{
	char img[] = "/tmp/vu-sandbox-img.XXXXXX", c = 'x';
	struct flock fl = {
		.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 101,
		.l_len = 1,
	};
	int p[2], sv[2], fd, lk = mkstemp(img);

	if (lk < 0 || pipe(p) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || sandbox_enter() < 0)
		return 10;
	if (write(p[1], &c, 1) != 1 || read(p[0], &c, 1) != 1)
		return 11;
	if (!channel_calls(sv))
		return 14;
	/* Image locks, taken and given back while serving; then a flush. */
	if (fcntl(lk, F_OFD_SETLK, &fl) < 0 || fcntl(lk, F_OFD_GETLK, &fl) < 0 ||
	    fdatasync(lk) < 0 || unlink(img) < 0)
		return 16;
	fl.l_type = F_UNLCK;
	if (fcntl(lk, F_OFD_SETLK, &fl) < 0)
		return 15;
	fd = open("/etc/hostname", O_RDONLY);
	if (fd >= 0 || errno != EPERM)
		return 12;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd >= 0 || errno != EPERM)
		return 13;
	return 0;
}
#endif

static void test_filter(void)
{
#if defined(HAVE_LIBSECCOMP) && !defined(HAVE_SANITIZERS)
	char log[] = "/tmp/vu-sandbox-log.XXXXXX", buf[4096] = "";
	int lfd = mkstemp(log), status = -1;
	pid_t pid;
	ssize_t n;

	if (lfd < 0) {
		ok(false, "log file");
		return;
	}
	unlink(log);
	pid = fork();
	if (pid == 0) {
		dup2(lfd, STDERR_FILENO);
		_exit(filtered_child());
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "under the filter, read(), write(), the back-end channel's calls, OFD locks and fdatasync() work, open() and socket() fail with EPERM (child status %d)",
	   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	n = pread(lfd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	ok(strstr(buf, "sandbox: system call filter installed") != NULL,
	   "installing it is logged");
	ok(strstr(buf, "sandbox: refused system call") != NULL,
	   "each refused call is logged");
	close(lfd);
#else
	tap_skip("no system call filter in this build (no libseccomp, or a sanitizer build)");
#endif
}

int main(void)
{
	vu_log_init("test-sandbox", 0);
	test_restricted_ring();
	test_filter();
	return tap_done();
}
