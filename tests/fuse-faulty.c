// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuse-faulty.c: a FUSE file system holding one file, disk.img, kept in
 * memory, whose reads and writes fail the way a failing host disk does:
 * any access to [eio, eio + 1 MiB) fails with EIO, and writes to
 * [nospc, nospc + 1 MiB) fail with ENOSPC.  The host fault tests serve it
 * to a back-end, so that the back-end meets real host I/O errors.
 *
 *   fuse-faulty MOUNTPOINT SIZE EIO_OFFSET NOSPC_OFFSET [gate]
 *
 * Runs in the foreground, single-threaded, until unmounted or stopped
 * (SIGTERM, SIGINT and SIGHUP unmount).
 *
 * With "gate", it runs multi-threaded and serves a second file, gate, to
 * hold I/O at the test's command: writing "hold OFF LEN" to it makes every
 * read and write of disk.img that overlaps [OFF, OFF + LEN) wait, until
 * "release OFF" lets them (and later ones) through; reading it returns a
 * line "hold OFF LEN WAITING" per hold, WAITING the requests it holds now.
 * A test can so keep a back-end's I/O in flight for as long as it likes
 * (a few requests at a time: libfuse serves at most 10 at once).  SIGUSR1 clears both fault ranges
 * (the fault was transient) and says so on stderr.  Every open is
 * direct_io: no page cache hides a fault.  The mount is auto_unmount: it
 * goes away even if this process is killed.
 */
#define FUSE_USE_VERSION 31
#include <errno.h>
#include <fuse.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FAULT_LEN	(1u << 20)
#define FILE_NAME	"disk.img"
#define GATE_NAME	"gate"
#define GATE_SIZE	4096		/* room for the status lines */
#define MAX_HOLDS	16
#define CLEARED_MSG	"fuse-faulty: fault ranges cleared\n"

static uint8_t *disk;
static uint64_t disk_size, eio_off, nospc_off;
static volatile sig_atomic_t faults_cleared;

/* The gate's holds: under gate_mu; waiters sleep on gate_cv. */
struct hold {
	uint64_t off, len;
	unsigned int waiting;	/* requests asleep on it */
	bool on;		/* holding (not released) */
	bool used;		/* the slot: on, or released with sleepers */
};

static bool gated;
static struct hold holds[MAX_HOLDS];
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;

static struct hold *hold_over(uint64_t off, uint64_t len)
{
	for (unsigned int i = 0; i < MAX_HOLDS; i++) {
		struct hold *h = &holds[i];

		if (h->on && len && off < h->off + h->len && h->off < off + len)
			return h;
	}
	return NULL;
}

/* A request on [off, off + len) of disk.img waits while a hold covers it. */
static void gate_pass(uint64_t off, uint64_t len)
{
	struct hold *h;

	if (!gated)
		return;
	pthread_mutex_lock(&gate_mu);
	while ((h = hold_over(off, len))) {
		h->waiting++;
		pthread_cond_wait(&gate_cv, &gate_mu);
		if (--h->waiting == 0 && !h->on)
			h->used = false;
	}
	pthread_mutex_unlock(&gate_mu);
}

static int gate_hold(uint64_t off, uint64_t len)
{
	for (unsigned int i = 0; i < MAX_HOLDS; i++) {
		if (!holds[i].used) {
			holds[i] = (struct hold){ off, len, 0, true, true };
			return 0;
		}
	}
	return -ENOSPC;
}

static int gate_release(uint64_t off)
{
	int ret = -ENOENT;

	for (unsigned int i = 0; i < MAX_HOLDS; i++) {
		struct hold *h = &holds[i];

		if (h->on && h->off == off) {
			h->on = false;
			h->used = h->waiting > 0;
			ret = 0;
		}
	}
	pthread_cond_broadcast(&gate_cv);
	return ret;
}

/* A command written to the gate file. */
static int gate_command(const char *buf, size_t len)
{
	char cmd[128];
	uint64_t off, n;
	int ret = -EINVAL;

	if (len >= sizeof(cmd))
		return -EINVAL;
	memcpy(cmd, buf, len);
	cmd[len] = 0;
	pthread_mutex_lock(&gate_mu);
	if (sscanf(cmd, "hold %" SCNu64 " %" SCNu64, &off, &n) == 2 && n)
		ret = gate_hold(off, n);
	else if (sscanf(cmd, "release %" SCNu64, &off) == 1)
		ret = gate_release(off);
	pthread_mutex_unlock(&gate_mu);
	return ret;
}

static int gate_status(char *buf, size_t len, off_t off)
{
	char text[GATE_SIZE];
	size_t n = 0;

	pthread_mutex_lock(&gate_mu);
	for (unsigned int i = 0; i < MAX_HOLDS; i++) {
		const struct hold *h = &holds[i];

		if (h->on)
			n += snprintf(text + n, sizeof(text) - n,
				      "hold %" PRIu64 " %" PRIu64 " %u\n",
				      h->off, h->len, h->waiting);
	}
	pthread_mutex_unlock(&gate_mu);
	if ((size_t)off >= n)
		return 0;
	n = n - (size_t)off < len ? n - (size_t)off : len;
	memcpy(buf, text + off, n);
	return (int)n;
}

/* SIGUSR1: write() is async-signal-safe; the test waits for this line. */
static void clear_faults(int sig)
{
	ssize_t n;

	(void)sig;
	faults_cleared = 1;
	n = write(STDERR_FILENO, CLEARED_MSG, sizeof(CLEARED_MSG) - 1);
	(void)n;
}

static bool overlaps(uint64_t off, uint64_t len, uint64_t start)
{
	return !faults_cleared && len && off < start + FAULT_LEN &&
	       start < off + len;
}

static bool is_file(const char *path)
{
	return !strcmp(path, "/" FILE_NAME);
}

static bool is_gate(const char *path)
{
	return gated && !strcmp(path, "/" GATE_NAME);
}

static int ff_getattr(const char *path, struct stat *st,
		      struct fuse_file_info *fi)
{
	(void)fi;
	memset(st, 0, sizeof(*st));
	if (!strcmp(path, "/")) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	}
	if (is_gate(path)) {
		st->st_mode = S_IFREG | 0644;
		st->st_nlink = 1;
		st->st_size = GATE_SIZE;
		return 0;
	}
	if (!is_file(path))
		return -ENOENT;
	st->st_mode = S_IFREG | 0644;
	st->st_nlink = 1;
	st->st_size = (off_t)disk_size;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)(disk_size / 512);
	return 0;
}

static int ff_readdir(const char *path, void *buf, fuse_fill_dir_t fill,
		      off_t off, struct fuse_file_info *fi,
		      enum fuse_readdir_flags flags)
{
	(void)off;
	(void)fi;
	(void)flags;
	if (strcmp(path, "/"))
		return -ENOENT;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	fill(buf, FILE_NAME, NULL, 0, 0);
	if (gated)
		fill(buf, GATE_NAME, NULL, 0, 0);
	return 0;
}

static int ff_open(const char *path, struct fuse_file_info *fi)
{
	if (!is_file(path) && !is_gate(path))
		return -ENOENT;
	fi->direct_io = 1;
	return 0;
}

static int ff_read(const char *path, char *buf, size_t len, off_t off,
		   struct fuse_file_info *fi)
{
	uint64_t o = (uint64_t)off;

	(void)fi;
	if (is_gate(path))
		return off < 0 ? -EINVAL : gate_status(buf, len, off);
	if (!is_file(path))
		return -ENOENT;
	if (off < 0)
		return -EINVAL;
	if (o >= disk_size)
		return 0;
	if (len > disk_size - o)
		len = (size_t)(disk_size - o);
	gate_pass(o, len);
	if (overlaps(o, len, eio_off))
		return -EIO;
	memcpy(buf, disk + o, len);
	return (int)len;
}

static int ff_write(const char *path, const char *buf, size_t len, off_t off,
		    struct fuse_file_info *fi)
{
	uint64_t o = (uint64_t)off;

	(void)fi;
	if (is_gate(path)) {
		int ret = gate_command(buf, len);

		return ret < 0 ? ret : (int)len;
	}
	if (!is_file(path))
		return -ENOENT;
	if (off < 0)
		return -EINVAL;
	if (o >= disk_size || len > disk_size - o)
		return -EFBIG;
	gate_pass(o, len);
	if (overlaps(o, len, eio_off))
		return -EIO;
	if (overlaps(o, len, nospc_off))
		return -ENOSPC;
	memcpy(disk + o, buf, len);
	return (int)len;
}

static int ff_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	(void)path;
	(void)datasync;
	(void)fi;
	return 0;
}

static const struct fuse_operations ff_ops = {
	.getattr = ff_getattr,
	.readdir = ff_readdir,
	.open = ff_open,
	.read = ff_read,
	.write = ff_write,
	.fsync = ff_fsync,
};

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end ? -1 : 0;
}

static int setup_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = clear_faults;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	return sigaction(SIGUSR1, &sa, NULL);
}

int main(int argc, char **argv)
{
	char *fargv[] = { argv[0], "-f", "-s", "-o",
			  "default_permissions,auto_unmount,fsname=fuse-faulty",
			  NULL, NULL };
	int ret;

	gated = argc == 6 && !strcmp(argv[5], "gate");
	if (argc != 5 && !gated) {
		fprintf(stderr, "usage: %s MOUNTPOINT SIZE EIO_OFFSET NOSPC_OFFSET [gate]\n",
			argv[0]);
		return 2;
	}
	/*
	 * Held requests sleep in their own threads and the rest go on, up
	 * to libfuse's default of 10 threads: hold a few requests at a time.
	 */
	if (gated)
		fargv[2] = "-f";
	if (parse_u64(argv[2], &disk_size) || parse_u64(argv[3], &eio_off) ||
	    parse_u64(argv[4], &nospc_off) || !disk_size) {
		fprintf(stderr, "%s: SIZE and offsets must be numbers, SIZE not 0\n",
			argv[0]);
		return 2;
	}
	fargv[5] = argv[1];
	disk = calloc(1, disk_size);
	if (!disk) {
		fprintf(stderr, "%s: cannot allocate %s bytes\n", argv[0], argv[2]);
		return 1;
	}
	if (setup_signals() < 0) {
		perror("sigaction");
		free(disk);
		return 1;
	}
	ret = fuse_main(6, fargv, &ff_ops, NULL);
	free(disk);
	return ret;
}
