// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuse-faulty.c: a FUSE file system holding one file, disk.img, kept in
 * memory, whose reads and writes fail the way a failing host disk does:
 * any access to [eio, eio + 1 MiB) fails with EIO, and writes to
 * [nospc, nospc + 1 MiB) fail with ENOSPC.  The host fault tests serve it
 * to a back-end, so that the back-end meets real host I/O errors.
 *
 *   fuse-faulty MOUNTPOINT SIZE EIO_OFFSET NOSPC_OFFSET
 *
 * Runs in the foreground, single-threaded, until unmounted or stopped
 * (SIGTERM, SIGINT and SIGHUP unmount).  SIGUSR1 clears both fault ranges
 * (the fault was transient) and says so on stderr.  Every open is
 * direct_io: no page cache hides a fault.  The mount is auto_unmount: it
 * goes away even if this process is killed.
 */
#define FUSE_USE_VERSION 31
#include <errno.h>
#include <fuse.h>
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
#define CLEARED_MSG	"fuse-faulty: fault ranges cleared\n"

static uint8_t *disk;
static uint64_t disk_size, eio_off, nospc_off;
static volatile sig_atomic_t faults_cleared;

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
	return 0;
}

static int ff_open(const char *path, struct fuse_file_info *fi)
{
	if (!is_file(path))
		return -ENOENT;
	fi->direct_io = 1;
	return 0;
}

static int ff_read(const char *path, char *buf, size_t len, off_t off,
		   struct fuse_file_info *fi)
{
	uint64_t o = (uint64_t)off;

	(void)fi;
	if (!is_file(path))
		return -ENOENT;
	if (off < 0)
		return -EINVAL;
	if (o >= disk_size)
		return 0;
	if (len > disk_size - o)
		len = (size_t)(disk_size - o);
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
	if (!is_file(path))
		return -ENOENT;
	if (off < 0)
		return -EINVAL;
	if (o >= disk_size || len > disk_size - o)
		return -EFBIG;
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

	if (argc != 5) {
		fprintf(stderr, "usage: %s MOUNTPOINT SIZE EIO_OFFSET NOSPC_OFFSET\n",
			argv[0]);
		return 2;
	}
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
