// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * gate.c: starting and stopping tests/fuse-faulty with its gate, and the
 * gate's commands (see fuse-faulty.c for the protocol: "hold OFF LEN",
 * "release OFF", and a read listing each hold and what it keeps waiting).
 */
#include <fcntl.h>
#include <inttypes.h>
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

#include "gate.h"
#include "harness.h"
#include "test-util.h"

static struct ffs *started;	/* stopped at exit */

const char *ffs_binary(void)
{
	const char *b = getenv("FUSE_FAULTY");

	return b && *b ? b : "./tests/fuse-faulty";
}

static bool ffs_ready(const struct ffs *m)
{
	struct stat st;

	return stat(m->gate, &st) == 0 && stat(m->img, &st) == 0 &&
	       (uint64_t)st.st_size == m->size;
}

void ffs_stop(struct ffs *m)
{
	int status;

	if (m->pid <= 0)
		return;
	kill(m->pid, SIGTERM);
	for (long end = now_ms() + 5000; now_ms() < end; sleep_ms(10)) {
		if (waitpid(m->pid, &status, WNOHANG) == m->pid) {
			m->pid = -1;
			break;
		}
	}
	if (m->pid > 0) {
		kill(m->pid, SIGKILL);
		waitpid(m->pid, &status, 0);
		m->pid = -1;
	}
	/* auto_unmount normally did it; make sure. */
	umount2(m->dir, MNT_DETACH);
	rmdir(m->dir);
}

static void ffs_atexit(void)
{
	if (started)
		ffs_stop(started);
}

int ffs_start(struct ffs *m, uint64_t size)
{
	char sz[32], far[32];

	m->size = size;
	snprintf(m->dir, sizeof(m->dir), "%s/mnt", harness_dir());
	snprintf(m->img, sizeof(m->img), "%s/disk.img", m->dir);
	snprintf(m->gate, sizeof(m->gate), "%s/gate", m->dir);
	snprintf(m->log, sizeof(m->log), "%s/fuse-faulty.log", harness_dir());
	if (access(ffs_binary(), X_OK) < 0 || mkdir(m->dir, 0755) < 0)
		return -1;
	snprintf(sz, sizeof(sz), "%" PRIu64, size);
	snprintf(far, sizeof(far), "%" PRIu64, 2 * size);	/* no fault */
	fflush(stdout);
	m->pid = fork();
	if (m->pid < 0)
		return -1;
	if (m->pid == 0) {
		int fd = open(m->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd >= 0)
			dup2(fd, STDERR_FILENO);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execl(ffs_binary(), ffs_binary(), m->dir, sz, far, far, "gate",
		      (char *)NULL);
		_exit(127);
	}
	if (!started)
		atexit(ffs_atexit);
	started = m;
	for (long end = now_ms() + 5000; now_ms() < end; sleep_ms(10)) {
		if (ffs_ready(m))
			return 0;
	}
	return -1;
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
