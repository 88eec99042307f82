// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-iothread.c: unit tests of src/iothread.c, its pause protocol and
 * what an engine failure does, with a real thread, engine and virtqueue
 * on a memfd standing in for guest memory, and a device of the test's
 * own whose request waits for a wake (as a virtio-scsi command waits for
 * another thread's COMPARE AND WRITE).  The engine comes from $TEST_AIO
 * (default io_uring).
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "device.h"
#include "iothread.h"
#include "log.h"
#include "mem.h"
#include "tap.h"
#include "test-ring.h"
#include "test-util.h"
#include "util.h"
#include "virtq.h"

static uint8_t *guest;
static struct vu_mem mem;
static struct virtq vq;
static struct virtq *vqs[1] = { &vq };
static struct iothread th;
static struct iothread_group group = { .th = &th };
/* No files to register (the engines copy the list: not NULL). */
static int no_files[1];

/* The device: it holds its one request until a wake completes it. */
static struct vq_req *held;
static sem_t got_req, may_return;
static int wakes;

static void handler(void *ctx, struct vq_req *r)
{
	(void)ctx;
	held = r;
	sem_post(&got_req);
	/* Keep the thread busy while the test lines its eventfd writes up. */
	sem_wait(&may_return);
}

static void on_wake(void *ctx, struct iothread *t)
{
	(void)ctx;
	(void)t;
	wakes++;
	if (held) {
		virtq_push(held, 0);
		held = NULL;
	}
}

static const struct vu_dev_ops test_ops = {
	.handle_request = handler,
	.wake = on_wake,
};

/* The eventfd's counter, from /proc (reading the fd would consume it). */
static unsigned long long eventfd_count(int fd)
{
	char path[64], line[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "eventfd-count: %llx", &v) == 1)
			break;
	}
	fclose(f);
	return v;
}

static void setup_queue(void)
{
	struct vu_mem_region w = {
		.guest_phys_addr = 0,
		.memory_size = MEM_SIZE,
		.userspace_addr = QVA_BASE,
		.mmap_offset = 0,
	};
	struct vu_mem_reg r;
	struct vring_desc *desc;
	struct vring_avail *avail;
	int fd = memfd_create("guest", 0);

	if (fd < 0 || ftruncate(fd, MEM_SIZE) < 0)
		exit(99);
	guest = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (guest == MAP_FAILED || mem_reg_map(&r, &w, fd) || mem_insert(&mem, &r))
		exit(99);
	close(fd);
	virtq_init(&vq, 0);
	test_ring_place(&vq);
	/*
	 * No kick eventfd: the thread takes the ring when it resumes (and
	 * after a wake); no kick read is armed, so that none is cancelled
	 * when the drain starts, and nothing but the wake can end its sleep.
	 */
	vq.kick_fd = -1;
	vq.call_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	vq.err_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (virtq_activate(&vq, &mem, 0))
		exit(99);
	/* One writable 512-byte buffer at head 0, made available. */
	desc = (struct vring_desc *)(guest + DESC_GPA);
	avail = (struct vring_avail *)(guest + AVAIL_GPA);
	desc[0].addr = htole64(BUF_GPA);
	desc[0].len = htole32(512);
	desc[0].flags = htole16(VRING_DESC_F_WRITE);
	avail->ring[0] = 0;
	__atomic_store_n(&avail->idx, htole16(1), __ATOMIC_RELEASE);
}

/* The engine's operations, but every wait fails as with EIO. */
static struct io_engine_ops failing_ops;

static int failing_run(struct io_engine *e, bool wait)
{
	(void)e;
	(void)wait;
	return -EIO;
}

/*
 * An engine that fails while the thread serves ends the process with
 * IOTHREAD_EXIT_ENGINE and a line that says why, instead of leaving its
 * queues with nobody to serve them.  It runs in a child, before this
 * process has any other thread.
 */
static void test_engine_failure(enum io_engine_kind kind,
				const struct io_engine_opts *eo)
{
	char out[512] = "";
	int pfd[2], status = -1;
	size_t len = 0;
	ssize_t n;
	pid_t pid;
	long end;

	if (pipe(pfd) < 0)
		exit(99);
	pid = fork();
	if (pid < 0)
		exit(99);
	if (pid == 0) {
		dup2(pfd[1], STDERR_FILENO);
		close(pfd[0]);
		/* The request must not wait for the test here. */
		for (int i = 0; i < 4; i++)
			sem_post(&may_return);
		if (iothread_start(&group, &test_ops, NULL, kind, eo, 0, vqs, 1))
			_exit(98);
		/* Parked, the thread does not look at its engine. */
		iothread_pause(&th);
		failing_ops = *th.eng->ops;
		failing_ops.run = failing_run;
		th.eng->ops = &failing_ops;
		iothread_resume(&th);
		/* The thread ends the process; if not, say so after 10 s. */
		sleep(10);
		_exit(97);
	}
	close(pfd[1]);
	for (end = now_ms() + 20000; now_ms() < end;) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		usleep(10000);
	}
	if (status == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	while (len < sizeof(out) - 1 &&
	       (n = read(pfd[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += n;
	out[len] = 0;
	close(pfd[0]);
	for (char *p = out; *p; p++)
		if (*p == '\n')
			*p = ' ';
	ok(WIFEXITED(status) && WEXITSTATUS(status) == IOTHREAD_EXIT_ENGINE,
	   "an engine that fails while serving ends the daemon with status %d (%s %d)",
	   IOTHREAD_EXIT_ENGINE, WIFEXITED(status) ? "exit" : "signal",
	   WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	ok(strstr(out, "engine failed") && strstr(out, "Input/output error"),
	   "and says so on standard error (%s)", len ? out : "nothing");
}

static void *pause_thread(void *arg)
{
	bool *done = arg;

	iothread_pause(&th);
	__atomic_store_n(done, true, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * A wake and a pause request land on the thread's eventfd while it is
 * busy, so that one read takes both; the request in flight waits for
 * nothing but that wake, and no kick read is armed.  The pause must complete: the drain runs the
 * wake before it sleeps.  (The drain used to sleep first, and nothing
 * was left to wake it.)
 */
static void test_wake_with_pause(void)
{
	const struct vring_used *used = (const struct vring_used *)(guest + USED_GPA);
	bool paused = false, lined_up = true, unstuck = false;
	pthread_t tid;
	long end;

	iothread_resume(&th);
	/* The thread sleeps before it looks at the ring: a first wake. */
	iothread_wake(&th);
	sem_wait(&got_req);
	iothread_wake(&th);
	pthread_create(&tid, NULL, pause_thread, &paused);
	for (end = now_ms() + 5000; eventfd_count(th.ctl_fd) < 2;) {
		if (now_ms() > end) {
			lined_up = false;
			break;
		}
		usleep(1000);
	}
	sem_post(&may_return);
	for (end = now_ms() + 5000; !__atomic_load_n(&paused, __ATOMIC_ACQUIRE) &&
	     now_ms() < end;)
		usleep(1000);
	if (!__atomic_load_n(&paused, __ATOMIC_ACQUIRE)) {
		/* Hung: end the sleep by hand so that the test can go on. */
		unstuck = true;
		eventfd_write(th.ctl_fd, 1);
	}
	pthread_join(tid, NULL);
	ok(lined_up, "the wake and the pause request wait on one eventfd count (2)");
	ok(!unstuck && wakes == 2 && le16toh(used->idx) == 1,
	   "a pause whose eventfd read also carried a wake: the drain runs the wake, the held request completes, the thread parks (%d wake%s, used index %u%s)",
	   wakes, wakes == 1 ? "" : "s", le16toh(used->idx),
	   unstuck ? ", hung until a second eventfd write" : "");
}

/* Thread B's hook: wake thread A, as a device wakes another thread. */
static struct iothread ta, tb;
static struct iothread_group group_a = { .th = &ta }, group_b = { .th = &tb };
static int b_wakes;

static void wake_a(void *ctx, struct iothread *t)
{
	(void)ctx;
	(void)t;
	iothread_wake(&ta);
	__atomic_add_fetch(&b_wakes, 1, __ATOMIC_RELEASE);
}

static const struct vu_dev_ops no_hooks, b_hooks = { .wake = wake_a };

/*
 * Threads stop one after another, and one still running may wake one that
 * has stopped: the stopped one's eventfd must stay open (a closed one may
 * have been reused by then) until iothread_destroy().
 */
static void test_wake_after_stop(enum io_engine_kind kind)
{
	struct io_engine_opts eo = { .depth = 8, .files = no_files };
	unsigned long long before;
	long end;
	int fd;

	if (iothread_start(&group_a, &no_hooks, NULL, kind, &eo, 0, NULL, 0) ||
	    iothread_start(&group_b, &b_hooks, NULL, kind, &eo, 0, NULL, 0)) {
		ok(false, "two more I/O threads start");
		return;
	}
	iothread_resume(&ta);
	iothread_resume(&tb);
	fd = ta.ctl_fd;
	iothread_stop(&ta);
	/* The stop's own write may be left unread (libaio). */
	before = eventfd_count(fd);
	iothread_wake(&tb);
	for (end = now_ms() + 5000; !__atomic_load_n(&b_wakes, __ATOMIC_ACQUIRE) &&
	     now_ms() < end;)
		usleep(1000);
	ok(b_wakes == 1 && ta.ctl_fd == fd && eventfd_count(fd) == before + 1,
	   "a wake from a running thread to a stopped one lands on its own eventfd, still open (fd %d, was %d, count %llu, then %llu)",
	   ta.ctl_fd, fd, before, eventfd_count(fd));
	iothread_stop(&tb);
	iothread_destroy(&ta);
	iothread_destroy(&tb);
	ok(ta.ctl_fd < 0 && tb.ctl_fd < 0, "iothread_destroy() closes the eventfds");
}

int main(void)
{
	const char *aio = getenv("TEST_AIO");
	struct io_engine_opts eo = { .depth = 64, .files = no_files };
	enum io_engine_kind kind;
	int ret;

	vu_log_init("test-iothread", 0);
	if (io_engine_select(aio && !strcmp(aio, "libaio") ? IO_ENGINE_AIO :
			     IO_ENGINE_URING, &kind) < 0) {
		tap_skip("this engine is not available on this host");
		return tap_done();
	}
	sem_init(&got_req, 0, 0);
	sem_init(&may_return, 0, 0);
	setup_queue();
	test_engine_failure(kind, &eo);
	ret = iothread_start(&group, &test_ops, NULL, kind, &eo, 0, vqs, 1);
	if (!ok(ret == 0, "an I/O thread starts (%s)", io_engine_kind_name(kind)))
		return tap_done();
	test_wake_with_pause();
	iothread_stop(&th);
	iothread_destroy(&th);
	ok(true, "the thread stops");
	test_wake_after_stop(kind);
	return tap_done();
}
