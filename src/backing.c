// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * backing.c: owns opening and probing the storage behind a device, an image
 * file or a host block device: its size, logical and physical block sizes,
 * I/O hints, direct-I/O alignment, hole punching and non-blocking reads
 * (and, through image_format.c, that it holds no other image format);
 * and the names of the cache modes.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/magic.h>

#include "backing.h"
#include "image_format.h"
#include "log.h"
#include "util.h"

static const char *const cache_names[] = {
	[CACHE_NONE] = "none",
	[CACHE_WRITEBACK] = "writeback",
	[CACHE_WRITETHROUGH] = "writethrough",
	[CACHE_DIRECTSYNC] = "directsync",
};

int cache_mode_parse(const char *s, enum cache_mode *out)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(cache_names); i++) {
		if (!strcmp(s, cache_names[i])) {
			*out = i;
			return 0;
		}
	}
	return -1;
}

const char *cache_mode_name(enum cache_mode m)
{
	return (unsigned int)m < ARRAY_SIZE(cache_names) ? cache_names[m] : "?";
}

static unsigned long sysfs_queue_value(const struct stat *st, const char *attr)
{
	char path[128], buf[32];
	unsigned long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/queue/%s",
		 major(st->st_rdev), minor(st->st_rdev), attr);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f))
		v = strtoul(buf, NULL, 10);
	fclose(f);
	return v;
}

/* Size and block limits of a block device; *min_lbs is its sector size. */
static int probe_blkdev(struct backing *b, const struct stat *st,
			uint64_t *size, uint32_t *min_lbs)
{
	int lbs = 512, pbs = 0;
	unsigned int min_io = 0, opt_io = 0;
	int align = 0;

	if (ioctl(b->fd, BLKGETSIZE64, size) < 0)
		return -errno;
	ioctl(b->fd, BLKSSZGET, &lbs);
	ioctl(b->fd, BLKPBSZGET, &pbs);
	ioctl(b->fd, BLKIOMIN, &min_io);
	ioctl(b->fd, BLKIOOPT, &opt_io);
	if (ioctl(b->fd, BLKALIGNOFF, &align) < 0 || align < 0)
		align = 0;
	*min_lbs = lbs;
	b->pbs = pbs > 0 ? (uint32_t)pbs : (uint32_t)lbs;
	b->min_io = min_io;
	b->opt_io = opt_io;
	b->align_off = align / lbs;
	b->can_punch = sysfs_queue_value(st, "discard_max_bytes") > 0;
	return 0;
}

/* Size and alignment needs of an image file. */
static void probe_file(struct backing *b, const struct stat *st,
		       uint64_t *size, uint32_t *min_lbs)
{
	struct statfs sfs;
	struct statx sx;

	*size = st->st_size;
	*min_lbs = 512;
	b->pbs = st->st_blksize > 512 && IS_POW2((uint32_t)st->st_blksize) ?
		 (uint32_t)st->st_blksize : 512;
	if (b->pbs > 65536)
		b->pbs = 4096;
	b->min_io = b->pbs;
	b->opt_io = 0;
	if (b->direct &&
	    statx(b->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 &&
	    (sx.stx_mask & STATX_DIOALIGN) && sx.stx_dio_offset_align > 512)
		*min_lbs = sx.stx_dio_offset_align;
	b->in_memory = fstatfs(b->fd, &sfs) == 0 &&
		       (sfs.f_type == TMPFS_MAGIC || sfs.f_type == RAMFS_MAGIC);
	/* A hole punched past the end changes nothing: a safe probe. */
	b->can_punch = !b->read_only &&
		fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  ALIGN_UP(*size, 4096), 4096) == 0;
}

static int open_file(struct backing *b, const struct backing_opts *o)
{
	int flags = (o->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;

	if (o->direct)
		flags |= O_DIRECT;
	/*
	 * Guest reads need not touch the image's access time; only the
	 * file's owner (or CAP_FOWNER) may ask for that, so try without too.
	 */
	b->fd = open(o->path, flags | O_NOATIME);
	if (b->fd < 0 && errno == EPERM)
		b->fd = open(o->path, flags);
	if (b->fd >= 0)
		return 0;
	if (errno == EINVAL && o->direct)
		log_err("%s: the file system does not support O_DIRECT; use cache=writeback or writethrough",
			o->path);
	else
		log_err("cannot open %s: %s", o->path, strerror(errno));
	return -1;
}

static int choose_block_size(struct backing *b, const struct backing_opts *o,
			     uint32_t min_lbs)
{
	if (min_lbs > 4096) {
		log_err("%s needs %u-byte aligned direct I/O, more than 4096; use cache=writeback or writethrough",
			o->path, min_lbs);
		return -1;
	}
	if (o->lbs && o->lbs < min_lbs) {
		log_err("logical block size %u is smaller than the %u bytes %s needs%s",
			o->lbs, min_lbs, o->path,
			b->is_blkdev ? "" : " for direct I/O (or use cache=writeback or writethrough)");
		return -1;
	}
	b->lbs = o->lbs ? o->lbs : MAX(min_lbs, 512u);
	if (b->pbs < b->lbs)
		b->pbs = b->lbs;
	return 0;
}

/*
 * Can the kernel try a read of this file without blocking?  If not
 * (tmpfs), io_uring hands every read to an io-wq worker.
 */
static bool probe_nowait(int fd, uint32_t lbs)
{
	struct iovec iov;
	void *buf;
	bool ok;

	if (posix_memalign(&buf, 4096, MAX(lbs, 4096u)))
		return false;
	iov.iov_base = buf;
	iov.iov_len = lbs;
	ok = preadv2(fd, &iov, 1, 0, RWF_NOWAIT) >= 0 || errno != EOPNOTSUPP;
	free(buf);
	return ok;
}

/* The raw size in bytes of the open file or device. */
static int raw_size(const struct backing *b, uint64_t *size)
{
	struct stat st;

	if (fstat(b->fd, &st) < 0)
		return -errno;
	if (b->is_blkdev)
		return ioctl(b->fd, BLKGETSIZE64, size) < 0 ? -errno : 0;
	*size = st.st_size;
	return 0;
}

int backing_open(struct backing *b, const struct backing_opts *o)
{
	uint64_t size = 0;
	uint32_t min_lbs = 512;
	struct stat st;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	b->direct = o->direct;
	b->read_only = o->read_only;
	if (open_file(b, o) < 0)
		return -1;
	if (fstat(b->fd, &st) < 0) {
		log_err("cannot stat %s: %s", o->path, strerror(errno));
		goto fail;
	}
	if (S_ISBLK(st.st_mode)) {
		b->is_blkdev = true;
		if (probe_blkdev(b, &st, &size, &min_lbs) < 0) {
			log_err("cannot read the size of %s: %s", o->path,
				strerror(errno));
			goto fail;
		}
	} else if (S_ISREG(st.st_mode)) {
		probe_file(b, &st, &size, &min_lbs);
	} else {
		log_err("%s is neither a regular file nor a block device", o->path);
		goto fail;
	}
	if (choose_block_size(b, o, min_lbs) < 0)
		goto fail;
	if (!o->format_raw &&
	    image_format_check(b->fd, o->path, size, o->raw_opt) < 0)
		goto fail;
	b->size = ALIGN_DOWN(size, (uint64_t)b->lbs);
	if (b->size == 0) {
		log_err("%s is smaller than one %u-byte block", o->path, b->lbs);
		goto fail;
	}
	if (size % b->lbs)
		log_warn("%s: the last %" PRIu64 " bytes are not a whole block and are not used",
			 o->path, size % b->lbs);
	b->nowait = probe_nowait(b->fd, b->lbs);
	return 0;
fail:
	close(b->fd);
	b->fd = -1;
	return -1;
}

int backing_refresh_size(struct backing *b)
{
	uint64_t size;
	int ret = raw_size(b, &size);

	if (ret < 0)
		return ret;
	b->size = ALIGN_DOWN(size, (uint64_t)b->lbs);
	return 0;
}

void backing_close(struct backing *b)
{
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
}
