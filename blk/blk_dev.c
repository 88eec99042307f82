// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * blk_dev.c: the virtio-blk device.  Owns the disk's geometry on its
 * backing store (backing.h), the config space, the write-cache mode (its
 * start-up value from the cache mode, then the driver's), and the
 * execution of parsed requests on its disk (disk_io.h): reads and writes
 * on the guest's own buffers, flushes, and DISCARD and WRITE_ZEROES
 * segment by segment, all through the I/O thread's engine.  A rescan
 * (SIGHUP) grows the capacity when the backing store grew, never shrinks it.
 * The disk's image lock (image_lock.h) is held while the device runs.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fs.h>
#include <linux/virtio_blk.h>

#include "blk_dev.h"
#include "iothread.h"
#include "log.h"
#include "util.h"
#include "vu_proto.h"

#define SECTOR_SHIFT	9
/* Config space up to and including write_zeroes_may_unmap and padding. */
#define BLK_CONFIG_SIZE	60
#define BLK_SIZE_MAX	(1u << 20)
#define BLK_SEG_MAX	126

/* Per-request state, kept in the request's private area. */
struct blk_io {
	struct disk_req dr;
	struct blk_dev *bd;
	unsigned int seg;
	struct blk_cmd cmd;
};

static struct vq_req *io_req(struct blk_io *io)
{
	return (struct vq_req *)((char *)io - VQ_REQ_HDR_SIZE);
}

static void finish(struct blk_io *io, uint8_t status, uint32_t written)
{
	WRITE_ONCE(*io->cmd.status_ptr, status);
	disk_req_end(&io->dr);
	/* The used length counts the status byte too. */
	virtq_push(io_req(io), written + 1);
}

static const char *op_name(const struct blk_io *io)
{
	switch (io->cmd.action) {
	case BLK_READ:
		return "read";
	case BLK_WRITE:
		return "write";
	case BLK_FLUSH:
		return "flush";
	case BLK_DISCARD:
		return "discard";
	case BLK_WRITE_ZEROES:
		return "write-zeroes";
	default:
		return "request";
	}
}

/* The disk failed: log the range it gave up on, answer IOERR. */
static void fail_host(struct blk_io *io, int err)
{
	log_peer("%s of %" PRIu64 " bytes at offset %" PRIu64 " failed: %s",
		 op_name(io), io->dr.left, io->dr.off, strerror(-err));
	finish(io, VIRTIO_BLK_S_IOERR, 0);
}

/* ---- reads, writes and flushes -------------------------------------- */

static void rw_done(struct disk_req *r, int res)
{
	struct blk_io *io = container_of(r, struct blk_io, dr);

	if (res < 0) {
		fail_host(io, res);
		return;
	}
	finish(io, VIRTIO_BLK_S_OK,
	       io->cmd.action == BLK_READ ? (uint32_t)io->cmd.len : 0);
}

static void submit_rw(struct blk_io *io)
{
	struct blk_cmd *cmd = &io->cmd;
	uint64_t off = cmd->sector << SECTOR_SHIFT;

	if (cmd->action == BLK_READ) {
		disk_read(&io->dr, cmd->iov, cmd->iovcnt, off, cmd->len, rw_done);
		return;
	}
	disk_write(&io->dr, cmd->iov, cmd->iovcnt, off, cmd->len,
		   __atomic_load_n(&io->bd->writethrough, __ATOMIC_RELAXED),
		   rw_done);
}

/* ---- discard and write-zeroes, segment by segment ------------------- */

static void dz_done(struct disk_req *r, int res);

static void dz_next(struct blk_io *io)
{
	const struct blk_seg *s;
	uint64_t off, len;

	while (io->seg < io->cmd.nsegs && io->cmd.segs[io->seg].num_sectors == 0)
		io->seg++;
	if (io->seg >= io->cmd.nsegs) {
		finish(io, VIRTIO_BLK_S_OK, 0);
		return;
	}
	s = &io->cmd.segs[io->seg];
	off = s->sector << SECTOR_SHIFT;
	len = (uint64_t)s->num_sectors << SECTOR_SHIFT;
	if (io->cmd.action == BLK_DISCARD)
		disk_discard(&io->dr, off, len, dz_done);
	else
		disk_write_zeroes(&io->dr, off, len, s->unmap, dz_done);
}

static void dz_done(struct disk_req *r, int res)
{
	struct blk_io *io = container_of(r, struct blk_io, dr);

	if (res < 0) {
		fail_host(io, res);
		return;
	}
	io->seg++;
	dz_next(io);
}

/* ---- request entry point -------------------------------------------- */

static void blk_handle(void *ctx, struct vq_req *req)
{
	struct blk_dev *bd = ctx;
	struct blk_io *io = vq_req_priv(req);
	struct blk_cmd *cmd = &io->cmd;

	io->bd = bd;
	io->seg = 0;
	disk_req_init(&io->dr, &bd->disk, req->vq);
	if (blk_parse(&bd->geom, req, cmd) < 0) {
		virtq_set_broken(req->vq, "request at head %u has no writable status byte",
				 req->head);
		virtq_abandon(req);
		return;
	}
	switch (cmd->action) {
	case BLK_DONE:
		if (cmd->status != VIRTIO_BLK_S_OK)
			log_peer("vq %u: request type %u at sector %" PRIu64 " refused: %s",
				 req->vq->index, cmd->type, cmd->sector, cmd->why);
		finish(io, cmd->status, 0);
		break;
	case BLK_READ:
	case BLK_WRITE:
		submit_rw(io);
		break;
	case BLK_FLUSH:
		disk_flush(&io->dr, rw_done);
		break;
	case BLK_GET_ID:
		iov_from_buf(cmd->iov, cmd->iovcnt, 0, bd->serial, cmd->len);
		finish(io, VIRTIO_BLK_S_OK, cmd->len);
		break;
	case BLK_DISCARD:
	case BLK_WRITE_ZEROES:
		dz_next(io);
		break;
	}
}

/* ---- features and config space -------------------------------------- */

static uint64_t blk_features(void *ctx)
{
	struct blk_dev *bd = ctx;
	uint64_t f = BIT_ULL(VIRTIO_BLK_F_SIZE_MAX) | BIT_ULL(VIRTIO_BLK_F_SEG_MAX) |
		     BIT_ULL(VIRTIO_BLK_F_BLK_SIZE) | BIT_ULL(VIRTIO_BLK_F_FLUSH) |
		     BIT_ULL(VIRTIO_BLK_F_TOPOLOGY) |
		     BIT_ULL(VIRTIO_BLK_F_CONFIG_WCE) | BIT_ULL(VIRTIO_BLK_F_MQ);

	if (bd->geom.read_only)
		f |= BIT_ULL(VIRTIO_BLK_F_RO);
	if (bd->geom.discard)
		f |= BIT_ULL(VIRTIO_BLK_F_DISCARD);
	if (bd->geom.write_zeroes)
		f |= BIT_ULL(VIRTIO_BLK_F_WRITE_ZEROES);
	return f;
}

/*
 * Writes are volatile only if the driver can flush them (it accepted
 * FLUSH) and writeback is enabled.  writeback starts from the cache mode;
 * a driver that accepted CONFIG_WCE reads it and may change it, one that
 * did not keeps the mode's value: it flushes either way, and a
 * write-through mode stays write-through.
 */
static void update_cache_mode(struct blk_dev *bd)
{
	bool wt = !(bd->features & BIT_ULL(VIRTIO_BLK_F_FLUSH)) || !bd->wce;

	__atomic_store_n(&bd->writethrough, wt, __ATOMIC_RELAXED);
}

static void blk_set_features(void *ctx, uint64_t features)
{
	struct blk_dev *bd = ctx;

	bd->features = features;
	update_cache_mode(bd);
}

static unsigned int log2u(uint32_t v)
{
	unsigned int n = 0;

	while (v > 1) {
		v >>= 1;
		n++;
	}
	return n;
}

static void build_config(const struct blk_dev *bd, struct virtio_blk_config *c)
{
	uint32_t lbs = bd->geom.lbs;

	memset(c, 0, sizeof(*c));
	c->capacity = htole64(bd->geom.capacity);
	c->size_max = htole32(BLK_SIZE_MAX);
	c->seg_max = htole32(BLK_SEG_MAX);
	c->blk_size = htole32(lbs);
	c->physical_block_exp = bd->bk.pbs > lbs ? log2u(bd->bk.pbs / lbs) : 0;
	c->alignment_offset = bd->bk.align_off;
	c->min_io_size = htole16(MIN(MAX(bd->bk.min_io / lbs, 1u), 0xffffu));
	c->opt_io_size = htole32(bd->bk.opt_io / lbs);
	c->wce = bd->wce;
	c->num_queues = htole16(bd->num_queues);
	c->max_discard_sectors = htole32(BLK_MAX_DZ_SECTORS);
	c->max_discard_seg = htole32(BLK_MAX_SEGS);
	c->discard_sector_alignment = htole32(MAX(bd->bk.pbs, lbs) >> SECTOR_SHIFT);
	c->max_write_zeroes_sectors = htole32(BLK_MAX_DZ_SECTORS);
	c->max_write_zeroes_seg = htole32(BLK_MAX_SEGS);
	c->write_zeroes_may_unmap = bd->bk.can_punch;
}

static int blk_get_config(void *ctx, uint8_t *buf, uint32_t off, uint32_t len)
{
	struct virtio_blk_config c;

	if (!range_within(off, len, BLK_CONFIG_SIZE)) {
		log_peer("GET_CONFIG: bytes %u+%u are outside the %u-byte config space",
			 off, len, BLK_CONFIG_SIZE);
		return -EINVAL;
	}
	build_config(ctx, &c);
	memcpy(buf, (uint8_t *)&c + off, len);
	return 0;
}

static int blk_set_config(void *ctx, const uint8_t *buf, uint32_t off,
			  uint32_t len, uint32_t flags)
{
	struct blk_dev *bd = ctx;

	if (flags != VU_CONFIG_FLAG_FRONTEND) {
		log_peer("SET_CONFIG: flags 0x%x are not supported", flags);
		return -EINVAL;
	}
	if (off != offsetof(struct virtio_blk_config, wce) || len != 1) {
		log_peer("SET_CONFIG: bytes %u+%u are read-only (only writeback, at 32, is writable)",
			 off, len);
		return -EPERM;
	}
	if (buf[0] > 1) {
		log_peer("SET_CONFIG: writeback value %u is neither 0 nor 1", buf[0]);
		return -EINVAL;
	}
	bd->wce = buf[0];
	update_cache_mode(bd);
	log_info("driver set the write cache to %s",
		 bd->wce ? "writeback" : "writethrough");
	return 0;
}

/* ---- rescan (online resize) ------------------------------------------ */

/*
 * Control thread, I/O threads running.  They check every sector range
 * against geom.capacity, read atomically (blk_req.c); the new capacity is
 * the only thing published, and the image already has that size.  A
 * smaller store keeps the capacity: the guest must never see its disk
 * shrink under it, and what lies beyond the new end fails with IOERR.
 */
static bool blk_rescan(void *ctx)
{
	struct blk_dev *bd = ctx;
	uint64_t old = bd->geom.capacity, now;
	int ret = backing_refresh_size(&bd->bk);

	if (ret < 0) {
		log_err("rescan: cannot read the size of the backing store: %s; the capacity stays %" PRIu64 " sectors",
			strerror(-ret), old);
		return false;
	}
	now = bd->bk.size >> SECTOR_SHIFT;
	if (now < old) {
		log_warn("rescan: the backing store shrank to %" PRIu64 " sectors; the capacity stays %" PRIu64 " sectors (a disk never shrinks under a guest) and requests beyond the end fail",
			 now, old);
		return false;
	}
	if (now == old) {
		log_info("rescan: capacity unchanged at %" PRIu64 " sectors", old);
		return false;
	}
	__atomic_store_n(&bd->geom.capacity, now, __ATOMIC_RELAXED);
	log_info("rescan: capacity grew from %" PRIu64 " to %" PRIu64 " sectors",
		 old, now);
	return true;
}

/* ---- start and stop: the image lock ---------------------------------- */

static int blk_start(void *ctx)
{
	struct blk_dev *bd = ctx;

	return image_lock_acquire(&bd->lock);
}

static void blk_stop(void *ctx, bool handover)
{
	struct blk_dev *bd = ctx;

	image_lock_stop(&bd->lock, handover);
}

/* The control socket's view: one disk. */
static struct disk *blk_disk(void *ctx, unsigned int i, int *lun)
{
	struct blk_dev *bd = ctx;

	*lun = -1;
	return i == 0 ? &bd->disk : NULL;
}

const struct vu_dev_ops blk_dev_ops = {
	.name = "virtio-blk",
	.features = blk_features,
	.set_features = blk_set_features,
	.get_config = blk_get_config,
	.set_config = blk_set_config,
	.handle_request = blk_handle,
	.rescan = blk_rescan,
	.start = blk_start,
	.stop = blk_stop,
	.disk = blk_disk,
	.req_priv_size = sizeof(struct blk_io),
};

/* ---- opening the backing store -------------------------------------- */

int blk_dev_open(struct blk_dev *bd, const struct blk_opts *o)
{
	struct backing_opts bo = {
		.path = o->path,
		.read_only = o->read_only,
		.direct = cache_mode_direct(o->cache),
		.lbs = o->lbs,
		.format_raw = o->format_raw,
		.raw_opt = "--format=raw",
	};

	memset(bd, 0, sizeof(*bd));
	bd->bk.fd = -1;
	bd->lock.fd = -1;
	bd->geom.read_only = o->read_only;
	bd->num_queues = o->num_queues;
	/* Write-through until the driver says it can flush. */
	bd->wce = cache_mode_wce(o->cache);
	bd->writethrough = true;
	/* NUL-padded, without a terminator when it is exactly 20 bytes. */
	if (o->serial)
		memcpy(bd->serial, o->serial, MIN(strlen(o->serial), sizeof(bd->serial)));
	if (backing_open(&bd->bk, &bo) < 0)
		return -1;
	if (image_lock_init(&bd->lock, bd->bk.fd, o->path, o->read_only,
			    o->locking) < 0) {
		backing_close(&bd->bk);
		return -1;
	}
	if (disk_init(&bd->disk, &bd->bk, o->path, o->cache, o->num_queues) < 0) {
		image_lock_fini(&bd->lock);
		backing_close(&bd->bk);
		return -1;
	}
	disk_limits_set(&bd->disk, &o->limits);
	bd->geom.lbs = bd->bk.lbs;
	bd->geom.capacity = bd->bk.size >> SECTOR_SHIFT;
	bd->geom.discard = !o->read_only && bd->bk.can_punch;
	bd->geom.write_zeroes = !o->read_only &&
				(bd->bk.is_blkdev || bd->bk.can_punch);
	return 0;
}

void blk_dev_close(struct blk_dev *bd)
{
	if (bd->bk.fd >= 0)
		image_lock_fini(&bd->lock);
	disk_fini(&bd->disk);
	backing_close(&bd->bk);
}
