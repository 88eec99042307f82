// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ffs.c: owns the life of tests/fuse-faulty's mounts for the tests that
 * use it: starting it (with fault ranges or with its gate, or with
 * /dev/fuse hidden so that mounting must fail), the careful unmount,
 * leaving no mount behind at exit or on a signal, and the gate's commands
 * (see fuse-faulty.c for the protocol: "hold OFF LEN", "release OFF", and
 * a read listing each hold and what it keeps waiting).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ffs.h"
#include "harness.h"
#include "test-util.h"

#define WAIT_MS		5000
#define CLEARED_MSG	"fault ranges cleared"

static struct ffs *live;	/* unmounted at exit, whatever happens */
static struct ffs stuck;	/* one that would not unmount, for exit */

const char *ffs_binary(void)
{
	const char *b = getenv("FUSE_FAULTY");

	return b && *b ? b : "./tests/fuse-faulty";
}

bool ffs_is_mounted(const char *dir)
{
	char line[1024], mp[512];
	bool found = false;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%*s %*s %*s %*s %511s", mp) == 1 &&
			!strcmp(mp, dir);
	fclose(f);
	return found;
}

static bool ffs_ready(const struct ffs *m)
{
	struct stat st;

	if (m->gate[0] && stat(m->gate, &st) < 0)
		return false;
	return ffs_is_mounted(m->dir) && stat(m->img, &st) == 0 &&
	       (uint64_t)st.st_size == m->size;
}

/*
 * The child: stderr to the log, SIGTERM when the test dies (fuse-faulty
 * then unmounts), and with hide_fuse, /dev/fuse replaced by /dev/null in a
 * mount namespace of its own, so that mounting must fail.
 */
static void ffs_child(const struct ffs *m, const struct ffs_conf *c)
{
	char size[32], eio[32], nospc[32];
	int fd = open(m->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd >= 0)
		dup2(fd, STDERR_FILENO);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (c->hide_fuse && (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("/dev/null", "/dev/fuse", NULL, MS_BIND, NULL) < 0)) {
		fprintf(stderr, "cannot hide /dev/fuse: %s\n", strerror(errno));
		_exit(126);
	}
	snprintf(size, sizeof(size), "%" PRIu64, c->size);
	snprintf(eio, sizeof(eio), "%" PRIu64, c->eio_off);
	snprintf(nospc, sizeof(nospc), "%" PRIu64, c->nospc_off);
	execl(ffs_binary(), ffs_binary(), m->dir, size, eio, nospc,
	      c->gate ? "gate" : (char *)NULL, (char *)NULL);
	fprintf(stderr, "cannot run %s: %s\n", ffs_binary(), strerror(errno));
	_exit(127);
}

/* Wait for disk.img to appear, or for fuse-faulty to give up.  0 or -1. */
static int ffs_wait(struct ffs *m)
{
	char line[512] = "";
	int status;

	for (long end = now_ms() + WAIT_MS; now_ms() < end; sleep_ms(10)) {
		if (waitpid(m->pid, &status, WNOHANG) == m->pid) {
			m->pid = -1;
			file_line(m->log, 0, "", line, sizeof(line));
			snprintf(m->why, sizeof(m->why), "fuse-faulty exited (%s %d) before mounting: %s",
				 WIFEXITED(status) ? "status" : "signal",
				 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
				 line[0] ? line : "(nothing on stderr)");
			return -1;
		}
		if (ffs_ready(m))
			return 0;
	}
	snprintf(m->why, sizeof(m->why), "%s did not appear within %d ms", m->img,
		 WAIT_MS);
	return -1;
}

/* SIGTERM, then SIGKILL if it does not go. */
static void ffs_kill(struct ffs *m)
{
	int status;

	if (m->pid <= 0)
		return;
	kill(m->pid, SIGTERM);
	for (long end = now_ms() + WAIT_MS; now_ms() < end; sleep_ms(10)) {
		if (waitpid(m->pid, &status, WNOHANG) == m->pid) {
			m->pid = -1;
			return;
		}
	}
	kill(m->pid, SIGKILL);
	waitpid(m->pid, &status, 0);
	m->pid = -1;
}

bool ffs_stop(struct ffs *m)
{
	char cmd[400];

	if (!m->dir[0])
		return true;
	ffs_kill(m);
	for (int i = 0; i < 200 && ffs_is_mounted(m->dir); i++)
		sleep_ms(10);
	if (ffs_is_mounted(m->dir)) {
		snprintf(cmd, sizeof(cmd), "fusermount3 -u -z '%s' 2>/dev/null", m->dir);
		if (system(cmd) != 0)
			umount2(m->dir, MNT_DETACH);
	}
	if (ffs_is_mounted(m->dir)) {
		if (live == m) {
			stuck = *m;
			live = &stuck;
		}
		return false;
	}
	rmdir(m->dir);
	if (live == m)
		live = NULL;
	m->dir[0] = 0;
	return true;
}

bool ffs_stuck(void)
{
	return live && live == &stuck;
}

/* The test ends in any way: leave no mount behind. */
static void ffs_atexit(void)
{
	if (live && !ffs_stop(live))
		fprintf(stderr, "%s is still mounted\n", live->dir);
}

static void ffs_on_signal(int sig)
{
	/* Async-signal-safe: the unmount itself is fuse-faulty's job. */
	if (live && live->pid > 0)
		kill(live->pid, SIGTERM);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void ffs_guard(void)
{
	static bool installed;

	if (installed)
		return;
	installed = true;
	atexit(ffs_atexit);
	signal(SIGTERM, ffs_on_signal);
	signal(SIGINT, ffs_on_signal);
	signal(SIGHUP, ffs_on_signal);
}

static int ffs_paths(struct ffs *m, const struct ffs_conf *c)
{
	memset(m, 0, sizeof(*m));
	m->pid = -1;
	m->size = c->size;
	snprintf(m->dir, sizeof(m->dir), "%s/%s", harness_dir(), c->name);
	snprintf(m->img, sizeof(m->img), "%s/disk.img", m->dir);
	if (c->gate)
		snprintf(m->gate, sizeof(m->gate), "%s/gate", m->dir);
	snprintf(m->log, sizeof(m->log), "%s/%s.log", harness_dir(), c->name);
	snprintf(m->img_arg, sizeof(m->img_arg), "--blk-file=%s", m->img);
	if (access(ffs_binary(), X_OK) < 0) {
		snprintf(m->why, sizeof(m->why), "%s was not built: configure found no fuse3 (install fuse3 and libfuse3-dev, as tests/install-deps.sh does, and run configure again)",
			 ffs_binary());
		m->dir[0] = 0;
		return -1;
	}
	if (mkdir(m->dir, 0755) < 0) {
		snprintf(m->why, sizeof(m->why), "mkdir %s: %s", m->dir, strerror(errno));
		m->dir[0] = 0;
		return -1;
	}
	return 0;
}

int ffs_mount(struct ffs *m, const struct ffs_conf *c)
{
	char line[512];
	FILE *f;

	if (ffs_paths(m, c) < 0)
		return -1;
	ffs_guard();
	fflush(stdout);
	m->pid = fork();
	if (m->pid < 0) {
		snprintf(m->why, sizeof(m->why), "fork: %s", strerror(errno));
		return -1;
	}
	if (m->pid == 0)
		ffs_child(m, c);
	live = m;
	if (ffs_wait(m) == 0)
		return 0;
	f = fopen(m->log, "re");
	for (int n = 0; f && n < 20 && fgets(line, sizeof(line), f); n++)
		printf("#   %s%s", line, strchr(line, '\n') ? "" : "\n");
	if (f)
		fclose(f);
	ffs_stop(m);
	return -1;
}

int ffs_start(struct ffs *m, uint64_t size)
{
	struct ffs_conf c = {
		.name = "mnt", .size = size,
		.eio_off = 2 * size, .nospc_off = 2 * size,	/* no fault */
		.gate = true,
	};

	return ffs_mount(m, &c);
}

bool ffs_clear(struct ffs *m)
{
	char line[256];

	if (m->pid <= 0 || kill(m->pid, SIGUSR1) < 0)
		return false;
	for (long end = now_ms() + WAIT_MS; now_ms() < end; sleep_ms(5)) {
		if (file_line(m->log, 0, CLEARED_MSG, line, sizeof(line)))
			return true;
	}
	return false;
}

static bool gate_cmd(const struct ffs *m, const char *cmd)
{
	int fd = open(m->gate, O_WRONLY);
	bool done;

	if (fd < 0)
		return false;
	done = write(fd, cmd, strlen(cmd)) == (ssize_t)strlen(cmd);
	close(fd);
	return done;
}

bool gate_hold(const struct ffs *m, uint64_t off, uint64_t len)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "hold %" PRIu64 " %" PRIu64, off, len);
	return gate_cmd(m, cmd);
}

bool gate_release(const struct ffs *m, uint64_t off)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "release %" PRIu64, off);
	return gate_cmd(m, cmd);
}

int gate_waiting(const struct ffs *m, uint64_t off)
{
	char buf[4096], *line, *save = NULL;
	int fd = open(m->gate, O_RDONLY), n, waiting = -1;

	if (fd < 0)
		return -1;
	n = (int)read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		uint64_t o, len;
		int w;

		if (sscanf(line, "hold %" SCNu64 " %" SCNu64 " %d", &o, &len, &w) == 3 &&
		    o == off)
			waiting = w;
	}
	return waiting;
}

bool gate_wait_held(const struct ffs *m, uint64_t off, int timeout_ms)
{
	for (long end = now_ms() + timeout_ms; now_ms() < end; sleep_ms(2)) {
		if (gate_waiting(m, off) > 0)
			return true;
	}
	return false;
}
