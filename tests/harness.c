// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * harness.c: owns the test-side plumbing for daemon tests: process control
 * of the daemon under test and of the other programs a test runs (QEMU,
 * qemu-img), what a test checks a daemon by (its fds, threads, memory
 * and log), and canaries in guest memory.  The blocking virtio-blk and
 * virtio-scsi clients are the front-end library's (front_blk.c,
 * front_scsi.c).
 */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_scsi.h>

#include "harness.h"
#include "test-util.h"
#include "util.h"

static char scratch[256];
static unsigned int daemon_seq;

bool engine_built(const char *aio)
{
#ifndef HAVE_LIBURING
	if (!strcmp(aio, "io_uring"))
		return false;
#endif
#ifndef HAVE_LIBAIO
	if (!strcmp(aio, "libaio"))
		return false;
#endif
	return aio != NULL;
}

const char *harness_dir(void)
{
	if (!scratch[0]) {
		const char *t = getenv("TMPDIR");

		snprintf(scratch, sizeof(scratch), "%s/vu-test.XXXXXX",
			 t ? t : "/tmp");
		if (!mkdtemp(scratch)) {
			perror("mkdtemp");
			exit(99);
		}
	}
	return scratch;
}

void harness_cleanup(void)
{
	char cmd[300];

	if (!scratch[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", scratch);
	scratch[0] = 0;
}

const char *blk_daemon_binary(void)
{
	const char *b = getenv("VHOST_URING_BLK");

	return b ? b : "./vhost-uring-blk";
}

const char *scsi_daemon_binary(void)
{
	const char *b = getenv("VHOST_URING_SCSI");

	return b ? b : "./vhost-uring-scsi";
}

/* An optional program that runs the daemon (e.g. tests/no-uring). */
static unsigned int add_wrapper(const char **argv)
{
	const char *w = getenv("VHOST_URING_WRAPPER");

	if (!w || !*w)
		return 0;
	argv[0] = w;
	return 1;
}

int daemon_start(struct daemon *d, const char *const *args)
{
	return daemon_start_bin(d, blk_daemon_binary(), args);
}

static int start_daemon(struct daemon *d, const char *bin,
			const char *const *args, bool ctl)
{
	const char *argv[64];
	char sockarg[320], ctlarg[340];
	unsigned int n = 0;

	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "%s", harness_dir());
	snprintf(d->sock, sizeof(d->sock), "%s/d%u.sock", d->dir, daemon_seq);
	snprintf(d->log, sizeof(d->log), "%s/d%u.log", d->dir, daemon_seq);
	if (ctl)
		snprintf(d->ctl, sizeof(d->ctl), "%s/d%u.ctl", d->dir, daemon_seq);
	daemon_seq++;
	snprintf(sockarg, sizeof(sockarg), "--socket-path=%s", d->sock);
	snprintf(ctlarg, sizeof(ctlarg), "--control-socket=%s", d->ctl);
	n = add_wrapper(argv);
	argv[n++] = bin;
	argv[n++] = sockarg;
	if (ctl)
		argv[n++] = ctlarg;
	while (args && *args && n < ARRAY_SIZE(argv) - 1)
		argv[n++] = *args++;
	argv[n] = NULL;

	d->pid = fork();
	if (d->pid < 0)
		return -1;
	if (d->pid == 0) {
		int fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		/* A test that is killed takes its daemons with it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		execv(argv[0], (char *const *)argv);
		perror("execv");
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		struct stat st;

		if (stat(d->sock, &st) == 0)
			return 0;
		if (!daemon_alive(d))
			return -1;
		sleep_ms(10);
	}
	return -1;
}

int daemon_start_bin(struct daemon *d, const char *bin, const char *const *args)
{
	return start_daemon(d, bin, args, false);
}

int daemon_start_ctl(struct daemon *d, const char *bin,
		     const char *const *args)
{
	return start_daemon(d, bin, args, true);
}

bool daemon_alive(struct daemon *d)
{
	int status;

	if (d->pid <= 0)
		return false;
	if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
		d->pid = -1;
		return false;
	}
	return true;
}

/*
 * A system call refused by the sandbox during a test means the filter
 * lacks one the daemon needs: fail the stop, whatever the exit status.
 */
static int check_sandbox(const struct daemon *d, int status)
{
	if (!daemon_log_has(d, "sandbox: refused system call"))
		return status;
	printf("# the daemon's sandbox refused a system call (see %s)\n", d->log);
	return -1;
}

int daemon_stop(struct daemon *d)
{
	int status;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, SIGTERM);
	for (int i = 0; i < 1000; i++) {
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			d->pid = -1;
			return check_sandbox(d, WIFEXITED(status) ?
					     WEXITSTATUS(status) : -1);
		}
		sleep_ms(10);
	}
	kill(d->pid, SIGKILL);
	waitpid(d->pid, &status, 0);
	d->pid = -1;
	return -1;
}

int daemon_fd_count(const struct daemon *d)
{
	char path[64];
	struct dirent *e;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)d->pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((e = readdir(dir)))
		n += e->d_name[0] != '.';
	closedir(dir);
	return n;
}

int daemon_settled_fd_count(const struct daemon *d)
{
	int last = -1, same = 0;

	for (int i = 0; i < 300 && same < 10; i++) {
		int n = daemon_fd_count(d);

		same = n == last ? same + 1 : 0;
		last = n;
		usleep(10000);
	}
	return last;
}

/* A number from /proc/PID/status ("VmRSS", ...), or -1. */
static long daemon_status_value(const struct daemon *d, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)d->pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':' &&
		    sscanf(line + klen + 1, "%ld", &v) == 1)
			break;
	}
	fclose(f);
	return v;
}

int daemon_thread_count(const struct daemon *d)
{
	char path[300], comm[32];
	struct dirent *e;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)d->pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((e = readdir(dir))) {
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/comm", (int)d->pid,
			 e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && strncmp(comm, "iou-", 4))
			n++;
		fclose(f);
	}
	closedir(dir);
	return n;
}

long daemon_rss_kib(const struct daemon *d)
{
	return daemon_status_value(d, "VmRSS");
}

/* The whole log is searched, however long it has grown. */
bool daemon_log_has(const struct daemon *d, const char *s)
{
	size_t slen = strlen(s), have = 0;
	char buf[65536];
	bool found = false;
	int fd = open(d->log, O_RDONLY);

	if (fd < 0 || slen >= sizeof(buf) / 2) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);

		if (n <= 0)
			break;
		have += n;
		buf[have] = 0;
		if (strstr(buf, s)) {
			found = true;
			break;
		}
		/* Keep a tail that a match may start in. */
		if (have > slen) {
			memmove(buf, buf + have - slen, slen);
			have = slen;
		}
	}
	close(fd);
	return found;
}

long daemon_log_mark(const struct daemon *d)
{
	struct stat st;

	return stat(d->log, &st) == 0 ? (long)st.st_size : 0;
}

int daemon_log_count(const struct daemon *d, long mark, const char *s)
{
	char line[2048];
	int n = 0;
	FILE *f = fopen(d->log, "re");

	if (!f)
		return 0;
	if (fseek(f, mark, SEEK_SET) == 0) {
		while (fgets(line, sizeof(line), f))
			n += strstr(line, s) != NULL;
	}
	fclose(f);
	return n;
}

bool daemon_wait_log(const struct daemon *d, long mark, const char *s,
		     int timeout_ms)
{
	for (int waited = 0; daemon_log_count(d, mark, s) == 0; waited += 10) {
		if (waited >= timeout_ms)
			return false;
		sleep_ms(10);
	}
	return true;
}

void daemon_log_diag(const struct daemon *d, long mark)
{
	char line[2048];
	int n = 0;
	FILE *f = fopen(d->log, "re");

	if (!f)
		return;
	if (fseek(f, mark, SEEK_SET) == 0) {
		while (fgets(line, sizeof(line), f) && n++ < 40)
			printf("#   %s%s", line, strchr(line, '\n') ? "" : "\n");
	}
	fclose(f);
}

bool file_line(const char *path, long from, const char *s, char *line,
	       size_t len)
{
	bool found = false;
	FILE *f = fopen(path, "re");

	if (!f)
		return false;
	if (fseek(f, from, SEEK_SET) == 0) {
		while (!found && fgets(line, (int)len, f))
			found = strstr(line, s) != NULL;
	}
	fclose(f);
	if (found)
		line[strcspn(line, "\n")] = 0;
	return found;
}

int daemon_wait_fds(const struct daemon *d, int n, int timeout_ms)
{
	int now = daemon_fd_count(d);

	for (int waited = 0; now != n && waited < timeout_ms; waited += 10) {
		sleep_ms(10);
		now = daemon_fd_count(d);
	}
	return now;
}

bool daemon_serves(struct daemon *d, uint64_t sector)
{
	uint8_t expect[8192];
	struct blkc_res r = { 0xff, 0 };
	struct blkc c;
	bool good = false, ro;

	if (!daemon_alive(d))
		return false;
	pattern(expect, sizeof(expect), (unsigned int)sector);
	if (blkc_open(&c, d->sock, 1, ~0ull, BIT_ULL(VU_PF_MQ) |
		      BIT_ULL(VU_PF_REPLY_ACK) | BIT_ULL(VU_PF_CONFIG) |
		      BIT_ULL(VU_PF_CONFIGURE_MEM_SLOTS)) < 0)
		goto out;
	/* A read-only disk: a read must do. */
	ro = c.f.features & BIT_ULL(VIRTIO_BLK_F_RO);
	memcpy(c.data, expect, sizeof(expect));
	if (!ro && (blkc_req(&c, 0, VIRTIO_BLK_T_OUT, sector, sizeof(expect),
			     false, false, &r) < 0 || r.status != VIRTIO_BLK_S_OK))
		goto out;
	memset(c.data, 0, sizeof(expect));
	if (blkc_req(&c, 0, VIRTIO_BLK_T_IN, sector, sizeof(expect), true,
		     true, &r) < 0 || r.status != VIRTIO_BLK_S_OK)
		goto out;
	good = r.used_len == sizeof(expect) + 1 &&
	       (ro || memcmp(c.data, expect, sizeof(expect)) == 0);
out:
	blkc_close(&c);
	return good;
}

void image_create(const char *path, uint64_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || ftruncate(fd, size) < 0) {
		perror(path);
		exit(99);
	}
	close(fd);
}

void file_put(const char *path, uint64_t off, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0644);

	if (fd < 0 || pwrite(fd, buf, len, off) != (ssize_t)len) {
		perror(path);
		exit(99);
	}
	close(fd);
}

void image_create_random(const char *path, uint64_t size, unsigned int seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
	uint8_t chunk[65536];

	image_create(path, 0);
	for (uint64_t off = 0; off < size; off += sizeof(chunk)) {
		for (size_t i = 0; i < sizeof(chunk); i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			chunk[i] = (uint8_t)(x >> 24);
		}
		file_put(path, off, chunk, MIN(sizeof(chunk), size - off));
	}
}

int loop_attach(const char *img, char *dev, size_t len)
{
	char cmd[512];
	FILE *p;
	bool got;

	snprintf(cmd, sizeof(cmd), "losetup --find --show '%s' 2>/dev/null", img);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	got = fgets(dev, (int)len, p) != NULL;
	if (pclose(p) != 0 || !got)
		return -1;
	dev[strcspn(dev, "\n")] = 0;
	return dev[0] ? 0 : -1;
}

int loop_set_capacity(const char *dev)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "losetup --set-capacity '%s'", dev);
	return system(cmd) == 0 ? 0 : -1;
}

void loop_detach(const char *dev)
{
	char cmd[300];

	if (!dev[0])
		return;
	snprintf(cmd, sizeof(cmd), "losetup --detach '%s'", dev);
	if (system(cmd) != 0)
		printf("# cannot detach %s\n", dev);
}

bool test_env_init(struct test_env *e, uint64_t img_size)
{
	const char *aio = getenv("TEST_AIO");

	if (!aio)
		aio = "io_uring";
	if (!engine_built(aio)) {
		printf("1..0 # SKIP this build has no %s engine\n", aio);
		return false;
	}
	e->aio = aio;
	snprintf(e->aio_arg, sizeof(e->aio_arg), "--aio=%s", aio);
	snprintf(e->img, sizeof(e->img), "%s/disk.img", harness_dir());
	snprintf(e->img_arg, sizeof(e->img_arg), "--blk-file=%s", e->img);
	image_create(e->img, img_size);
	return true;
}

bool verdict_check(struct verdict *v, bool cond, const char *fmt, ...)
{
	va_list ap;

	if (cond || v->fail[0])
		return cond;
	va_start(ap, fmt);
	vsnprintf(v->fail, sizeof(v->fail), fmt, ap);
	va_end(ap);
	return false;
}

void daemon_aftermath(struct verdict *v, struct daemon *d, int base_fds,
		      long mark, const char *log, uint64_t sector, bool stop)
{
	int now = daemon_wait_fds(d, base_fds, 3000);

	verdict_check(v, now == base_fds,
		"after the connection the daemon holds %d fds, not %d", now,
		base_fds);
	if (log)
		verdict_check(v, daemon_log_count(d, mark, log) >= 1,
			"no log line containing \"%s\"", log);
	verdict_check(v, daemon_alive(d), "the daemon died");
	verdict_check(v, daemon_serves(d, sector),
		"a fresh connection is not served correctly");
	now = daemon_wait_fds(d, base_fds, 3000);
	verdict_check(v, now == base_fds,
		"after a fresh connection the daemon holds %d fds, not %d", now,
		base_fds);
	if (stop) {
		int status = daemon_stop(d);

		verdict_check(v, status == 0, "the daemon exited with status %d", status);
	}
}

int run_daemon_cmd(const char *const *args, char *buf, size_t len)
{
	return run_daemon_cmd_bin(blk_daemon_binary(), args, buf, len);
}

int run_daemon_cmd_bin(const char *bin, const char *const *args, char *buf,
		       size_t len)
{
	const char *argv[32];
	unsigned int n = 0;

	n = add_wrapper(argv);
	argv[n++] = bin;
	while (args && *args && n < ARRAY_SIZE(argv) - 1)
		argv[n++] = *args++;
	argv[n] = NULL;
	return run_cmd(argv, buf, len);
}

int run_daemon_refused(const char *bin, const char *const *args, char *buf,
		       size_t len)
{
	const char *argv[40] = { "timeout", "-s", "KILL", "20" };
	char sockarg[320];
	unsigned int n = 4;

	snprintf(sockarg, sizeof(sockarg), "--socket-path=%s/refused.sock",
		 harness_dir());
	n += add_wrapper(argv + n);
	argv[n++] = bin;
	argv[n++] = sockarg;
	while (args && *args && n < ARRAY_SIZE(argv) - 1)
		argv[n++] = *args++;
	argv[n] = NULL;
	return run_cmd(argv, buf, len);
}

int qemu_img_create(const char *path, const char *fmt, const char *size,
		    const char *const *opts, char *out, size_t len)
{
	const char *argv[32] = { "qemu-img", "create", "-q", "-f", fmt };
	unsigned int n = 5;

	while (opts && *opts && n < ARRAY_SIZE(argv) - 3)
		argv[n++] = *opts++;
	argv[n++] = path;
	argv[n++] = size;
	argv[n] = NULL;
	return run_cmd(argv, out, len);
}

int run_cmd(const char *const *argv, char *buf, size_t len)
{
	int p[2], status;
	size_t got = 0;
	pid_t pid;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], STDERR_FILENO);
		dup2(p[1], STDOUT_FILENO);
		close(p[0]);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		ssize_t r = read(p[0], buf + got, len - 1 - got);

		if (r <= 0)
			break;
		got += r;
	}
	buf[got] = 0;
	close(p[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

pid_t spawn_cmd(const char *const *argv, const char *log, int *in)
{
	int p[2] = { -1, -1 };
	pid_t pid;

	if (in && pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		if (in)
			dup2(p[0], STDIN_FILENO);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (in) {
		close(p[0]);
		*in = p[1];
		if (pid < 0)
			close(p[1]);
	}
	return pid;
}

void cmd_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

bool have_program(const char *name)
{
	const char *path = getenv("PATH");
	char buf[512];

	while (path && *path) {
		size_t n = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, name);
		if (access(buf, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

/* ---- the page cache of an image ------------------------------------- */

#ifndef __NR_cachestat
#define __NR_cachestat	451	/* the same number on every architecture */
#endif

/* cachestat(2)'s structures, as in <linux/mman.h> since Linux 6.5. */
struct cs_range {
	uint64_t off;
	uint64_t len;
};

struct cs_stat {
	uint64_t nr_cache;
	uint64_t nr_dirty;
	uint64_t nr_writeback;
	uint64_t nr_evicted;
	uint64_t nr_recently_evicted;
};

int page_state(const char *path, uint64_t off, uint64_t len,
	       struct page_state *ps)
{
	struct cs_range r = { off, len };
	struct cs_stat cs;
	struct statfs sfs;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = -1;

	if (fd < 0)
		return -1;
	/* tmpfs pages stay dirty: there is no writeback to wait for. */
	if (fstatfs(fd, &sfs) == 0 && sfs.f_type != TMPFS_MAGIC &&
	    syscall(__NR_cachestat, fd, &r, &cs, 0) == 0) {
		ps->cached = cs.nr_cache;
		ps->dirty = cs.nr_dirty;
		ps->writeback = cs.nr_writeback;
		ret = 0;
	}
	close(fd);
	return ret;
}

/* ---- canaries in guest memory ---------------------------------------- */

uint8_t *guest_snapshot(const struct front *f)
{
	uint8_t *copy = malloc(f->mem.size);

	if (copy)
		memcpy(copy, f->mem.base, f->mem.size);
	return copy;
}

static bool allowed(const struct front *f, size_t off, const struct range *ok,
		    unsigned int n)
{
	const uint8_t *p = f->mem.base + off;

	for (unsigned int i = 0; i < n; i++) {
		const uint8_t *s = ok[i].p;

		if (p >= s && p < s + ok[i].len)
			return true;
	}
	return false;
}

long guest_changed_outside(const struct front *f, const uint8_t *snap,
			   const struct range *ok, unsigned int n)
{
	const uint8_t *now = f->mem.base;

	for (size_t off = 0; off < f->mem.size; off += 4096) {
		size_t len = MIN((size_t)4096, f->mem.size - off);

		if (!memcmp(now + off, snap + off, len))
			continue;
		for (size_t i = off; i < off + len; i++) {
			if (now[i] != snap[i] && !allowed(f, i, ok, n))
				return (long)i;
		}
	}
	return -1;
}

void guest_fill_pattern(void *p, size_t len, unsigned int seed)
{
	uint8_t *b = p;
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		b[i] = (uint8_t)(0x20 + (x >> 16) % 0x5f);
	}
}
