// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * scsi_io.c: the I/O state machines of the commands that reach the disk.
 * What the command layer decided runs on the LUN's disk (disk_io.h):
 * reads and writes on the guest's own buffers (or a bounce buffer when
 * O_DIRECT cannot take them), SYNCHRONIZE CACHE as a flush, UNMAP as
 * discards, WRITE SAME as write-zeroes or a pattern, VERIFY and WRITE AND
 * VERIFY a chunk at a time, and COMPARE AND WRITE's read, compare, write.
 * A host failure becomes the sense a disk would give.
 */
#include "scsi_priv.h"

/*
 * The host failed the command's I/O: CHECK CONDITION with the sense a disk
 * gives (SBC-4 4.18, SPC-5 4.4): an unreadable or unwritable medium is a
 * MEDIUM ERROR, a thin LU out of space is DATA PROTECT, SPACE ALLOCATION
 * FAILED WRITE PROTECT.  A failed READ delivers no data (the used length
 * is the response header's), so its residual is the whole data-in buffer,
 * as for a READ the command layer refuses; a command with data-out keeps
 * the residual of the buffer bytes beyond what it would have taken.
 */
static void fail_io(struct scsi_io *io, int err)
{
	struct scsi_cmd *c = &io->cmd;

	if (c->exec == SCSI_X_READ)
		io->resid += io->data_len;
	log_peer("LUN %u: %s of %" PRIu64 " blocks at LBA %" PRIu64 " failed: %s",
		 io->ln->lu.lun, io->write ? "write" : "read",
		 (uint64_t)c->nblocks, c->lba, strerror(-err));
	if (err == -EIO || err == -ENXIO)
		scsi_fail(c, SK_MEDIUM_ERROR, io->write ? ASC_WRITE_ERROR :
			  ASC_UNRECOVERED_READ_ERROR, NULL);
	else if (err == -ENOSPC)
		scsi_fail(c, SK_DATA_PROTECT, ASC_SPACE_ALLOC_FAILED_WP, NULL);
	else
		scsi_fail(c, SK_HARDWARE_ERROR, ASC_INTERNAL_TARGET_FAILURE, NULL);
	scsi_finish_io(io, 0);
}

/* ---- reads and writes ----------------------------------------------- */

static void rw_done(struct disk_req *r, int res);
static void bounce_done(struct disk_req *r, int res);

/* Can O_DIRECT take these buffers as they are? */
static bool iov_aligned(const struct iovec *iov, unsigned int cnt,
			uint32_t align)
{
	for (unsigned int i = 0; i < cnt; i++) {
		if ((uintptr_t)iov[i].iov_base % align || iov[i].iov_len % align)
			return false;
	}
	return true;
}

/* Writes that must be durable when they complete: FUA, or WCE off. */
static bool write_fua(const struct scsi_io *io)
{
	return io->cmd.fua || !io->wce;
}

/* The byte io->done bytes into the command's range. */
static uint64_t io_off(const struct scsi_io *io)
{
	return io->cmd.lba * io->ln->lu.lbs + io->done;
}

/* Read or write iov (cnt pieces, len bytes) at io->done into the range. */
static void transfer(struct scsi_io *io, bool write, struct iovec *iov,
		     unsigned int cnt, uint32_t len, disk_done_fn done)
{
	if (write)
		disk_write(&io->dr, iov, cnt, io_off(io), len, write_fua(io), done);
	else
		disk_read(&io->dr, iov, cnt, io_off(io), len, done);
}

/*
 * Read or write a chunk of len bytes at buf, at io->done bytes into the
 * command's range: the bounce-buffer paths' single step.
 */
static void queue_one(struct scsi_io *io, bool write, void *buf, uint32_t len,
		      disk_done_fn done)
{
	io->one.iov_base = buf;
	io->one.iov_len = len;
	io->chunk = len;
	transfer(io, write, &io->one, 1, len, done);
}

/* A block-aligned bounce buffer of len bytes; false (failed) if none. */
static bool alloc_bounce(struct scsi_io *io, uint32_t len)
{
	io->bounce_len = len;
	if (posix_memalign((void **)&io->bounce, 4096, len) == 0)
		return true;
	io->bounce = NULL;
	fail_io(io, -ENOMEM);
	return false;
}

/*
 * The next chunk of a read or write through the bounce buffer: for
 * O_DIRECT with guest buffers that are not block-aligned (data sharing a
 * descriptor with the response header, say).  Linux never sends those; the
 * virtio specification allows them.
 */
static void bounce_next(struct scsi_io *io)
{
	uint32_t n = MIN(io->data_len - (uint32_t)io->done, io->bounce_len);

	if (io->write)
		iov_to_buf(io->data, io->data_cnt, io->done, io->bounce, n);
	queue_one(io, io->write, io->bounce, n, bounce_done);
}

static void bounce_done(struct disk_req *r, int res)
{
	struct scsi_io *io = container_of(r, struct scsi_io, dr);

	if (res < 0) {
		fail_io(io, res);
		return;
	}
	if (!io->write)
		iov_from_buf(io->data, io->data_cnt, io->done, io->bounce,
			     io->chunk);
	io->done += io->chunk;
	if (io->done < io->data_len) {
		bounce_next(io);
		return;
	}
	scsi_finish_io(io, io->write ? 0 : io->data_len);
}

static void start_rw(struct scsi_io *io)
{
	struct scsi_lun *ln = io->ln;

	if (!ln->direct || iov_aligned(io->data, io->data_cnt, ln->lu.lbs)) {
		transfer(io, io->write, io->data, io->data_cnt, io->data_len,
			 rw_done);
		return;
	}
	if (alloc_bounce(io, MIN(io->data_len, BOUNCE_MAX)))
		bounce_next(io);
}

static void rw_done(struct disk_req *r, int res)
{
	struct scsi_io *io = container_of(r, struct scsi_io, dr);

	if (res < 0) {
		fail_io(io, res);
		return;
	}
	scsi_finish_io(io, io->write ? 0 : io->data_len);
}

/* ---- SYNCHRONIZE CACHE -------------------------------------------------- */

static void flush_done(struct disk_req *r, int res)
{
	struct scsi_io *io = container_of(r, struct scsi_io, dr);

	io->write = true;
	if (res < 0)
		fail_io(io, res);
	else
		scsi_finish_io(io, 0);
}

/* ---- UNMAP and zeroing WRITE SAME, extent by extent --------------------- */

static void extent_done(struct disk_req *r, int res);

static bool extent_at(struct scsi_io *io, unsigned int i, struct scsi_extent *e)
{
	if (io->cmd.exec == SCSI_X_UNMAP) {
		if (i >= io->cmd.nunmap)
			return false;
		*e = io->cmd.unmap_list[i];
		return true;
	}
	if (i > 0)
		return false;
	e->lba = io->cmd.lba;
	e->nblocks = io->cmd.nblocks;
	return true;
}

static void extent_next(struct scsi_io *io)
{
	uint32_t lbs = io->ln->lu.lbs;
	struct scsi_extent e;
	uint64_t off, len;

	if (!extent_at(io, io->done, &e)) {
		scsi_finish_io(io, 0);
		return;
	}
	off = e.lba * lbs;
	len = (uint64_t)e.nblocks * lbs;
	if (io->cmd.exec == SCSI_X_UNMAP)
		disk_discard(&io->dr, off, len, extent_done);
	else
		disk_write_zeroes(&io->dr, off, len, io->cmd.unmap, extent_done);
}

static void extent_done(struct disk_req *r, int res)
{
	struct scsi_io *io = container_of(r, struct scsi_io, dr);

	if (res < 0) {
		io->write = true;
		fail_io(io, res);
		return;
	}
	io->done++;
	extent_next(io);
}

/* ---- WRITE SAME with a non-zero block: the pattern, a chunk at a time - */

static void pattern_done(struct disk_req *r, int res);

static void pattern_next(struct scsi_io *io)
{
	struct scsi_lun *ln = io->ln;
	uint64_t total = (uint64_t)io->cmd.nblocks * ln->lu.lbs;
	uint64_t left = total - io->done;

	if (left == 0) {
		scsi_finish_io(io, 0);
		return;
	}
	queue_one(io, true, io->bounce,
		  (uint32_t)MIN(left, (uint64_t)io->bounce_len), pattern_done);
}

static void pattern_done(struct disk_req *r, int res)
{
	struct scsi_io *io = container_of(r, struct scsi_io, dr);

	if (res < 0) {
		fail_io(io, res);
		return;
	}
	io->done += io->chunk;
	pattern_next(io);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i])
			return false;
	}
	return true;
}

static void start_write_same(struct scsi_io *io, const uint8_t *block)
{
	uint32_t lbs = io->ln->lu.lbs;

	io->write = true;
	if (io->cmd.ndob || all_zero(block, lbs)) {
		extent_next(io);
		return;
	}
	if (!alloc_bounce(io, (uint32_t)MIN((uint64_t)io->cmd.nblocks * lbs,
					    (uint64_t)BOUNCE_MAX)))
		return;
	for (uint32_t off = 0; off < io->bounce_len; off += lbs)
		memcpy(io->bounce + off, block, lbs);
	pattern_next(io);
}

/* ---- VERIFY with BYTCHK: read a chunk, compare with the data-out ------- */

static void verify_done(struct disk_req *r, int res);

static void verify_next(struct scsi_io *io)
{
	uint64_t left = io->data_len - io->done;

	if (left == 0) {
		scsi_finish_io(io, 0);
		return;
	}
	queue_one(io, false, io->bounce,
		  (uint32_t)MIN(left, (uint64_t)io->bounce_len / 2), verify_done);
}

/*
 * The chunk in the bounce buffer's first half against other: on the first
 * differing byte, fail with MISCOMPARE (INFORMATION: that byte's offset in
 * the transfer), finish the command and return false.
 */
static bool chunk_matches(struct scsi_io *io, const uint8_t *other)
{
	for (uint32_t i = 0; i < io->chunk; i++) {
		if (io->bounce[i] != other[i]) {
			scsi_fail(&io->cmd, SK_MISCOMPARE, ASC_MISCOMPARE_VERIFY, NULL);
			io->cmd.info_valid = true;
			io->cmd.info = (uint32_t)io->done + i;
			scsi_finish_io(io, 0);
			return false;
		}
	}
	return true;
}

static void verify_done(struct disk_req *r, int res)
{
	struct scsi_io *io = container_of(r, struct scsi_io, dr);
	uint8_t *want = io->bounce + io->bounce_len / 2;

	if (res < 0) {
		fail_io(io, res);
		return;
	}
	iov_to_buf(io->data, io->data_cnt, io->done, want, io->chunk);
	if (!chunk_matches(io, want))
		return;
	io->done += io->chunk;
	verify_next(io);
}

static void start_verify(struct scsi_io *io)
{
	if (alloc_bounce(io, 2 * MIN(io->data_len, BOUNCE_MAX / 2)))
		verify_next(io);
}

/* ---- WRITE AND VERIFY with BYTCHK: write a chunk, read it back, compare */

static void wv_written(struct disk_req *r, int res);
static void wv_read_back(struct disk_req *r, int res);

/*
 * The bounce buffer holds a chunk as written in its first half and as read
 * back in its second.  The chunk is copied from the data-out once, so what
 * is compared is what was written, whatever the guest does to its buffer.
 */
static void wv_next(struct scsi_io *io)
{
	uint32_t half = io->bounce_len / 2;
	uint32_t n = MIN(io->data_len - (uint32_t)io->done, half);

	if (n == 0) {
		scsi_finish_io(io, 0);
		return;
	}
	io->write = true;
	iov_to_buf(io->data, io->data_cnt, io->done, io->bounce, n);
	queue_one(io, true, io->bounce, n, wv_written);
}

static void wv_written(struct disk_req *r, int res)
{
	struct scsi_io *io = container_of(r, struct scsi_io, dr);

	if (res < 0) {
		fail_io(io, res);
		return;
	}
	/* Durable now (FUA): read back what this pass wrote. */
	io->write = false;
	queue_one(io, false, io->bounce + io->bounce_len / 2, io->chunk,
		  wv_read_back);
}

static void wv_read_back(struct disk_req *r, int res)
{
	struct scsi_io *io = container_of(r, struct scsi_io, dr);
	const uint8_t *back = io->bounce + io->bounce_len / 2;

	if (res < 0) {
		fail_io(io, res);
		return;
	}
	if (!chunk_matches(io, back))
		return;
	io->done += io->chunk;
	wv_next(io);
}

static void start_write_verify(struct scsi_io *io)
{
	/* Both halves aligned for O_DIRECT. */
	uint32_t half = ALIGN_UP(MIN(io->data_len, BOUNCE_MAX / 2), 4096u);

	if (alloc_bounce(io, 2 * half))
		wv_next(io);
}

/* ---- COMPARE AND WRITE: read, compare with the first half, write ------ */

static void caw_read_done(struct disk_req *r, int res);

/* Run a COMPARE AND WRITE, already counted in the LUN's inflight. */
void scsi_run_caw(struct scsi_io *io)
{
	io->caw = true;
	io->done = 0;
	if (alloc_bounce(io, io->data_len))
		queue_one(io, false, io->bounce, io->data_len / 2, caw_read_done);
}

static void caw_read_done(struct disk_req *r, int res)
{
	struct scsi_io *io = container_of(r, struct scsi_io, dr);
	uint32_t half = io->data_len / 2;
	uint8_t *want = io->bounce + half;

	if (res < 0) {
		fail_io(io, res);
		return;
	}
	iov_to_buf(io->data, io->data_cnt, 0, want, half);
	for (uint32_t i = 0; i < half; i++) {
		if (io->bounce[i] != want[i]) {
			scsi_fail(&io->cmd, SK_MISCOMPARE, ASC_MISCOMPARE_VERIFY, NULL);
			io->cmd.info_valid = true;
			io->cmd.info = i;
			scsi_finish_io(io, 0);
			return;
		}
	}
	/* The same blocks, from the second half of the data-out. */
	iov_discard_front(&io->data, &io->data_cnt, half);
	io->data_len = half;
	io->done = 0;
	io->write = true;
	free(io->bounce);
	io->bounce = NULL;
	start_rw(io);
}

/* Start the I/O the command layer asked for (counted in already). */
void scsi_start_io(struct scsi_io *io)
{
	uint32_t dout_len = io->dout_len, din_len = io->din_len;
	struct scsi_cmd *c = &io->cmd;
	uint32_t need = c->exec == SCSI_X_READ ? c->xfer_in : c->xfer_out;
	uint32_t have = c->exec == SCSI_X_READ ? din_len : dout_len;
	uint8_t block[4096];

	if (io->overrun) {
		/* The CDB wants more data than the buffers hold: OVERRUN. */
		log_peer("LUN %u: opcode 0x%02x: data buffer of %u bytes, the command transfers %u",
			 io->ln->lu.lun, c->cdb[0], have, need);
		c->status = SAM_GOOD;
		io->resid = c->exec == SCSI_X_READ ? din_len : dout_len;
		scsi_respond(io, VIRTIO_SCSI_S_OVERRUN, 0);
		return;
	}
	iov_discard_back(io->data, &io->data_cnt, have - need);
	io->data_len = need;
	io->resid = have - need;
	switch (c->exec) {
	case SCSI_X_READ:
	case SCSI_X_WRITE:
		io->write = c->exec == SCSI_X_WRITE;
		start_rw(io);
		break;
	case SCSI_X_FLUSH:
		disk_flush(&io->dr, flush_done);
		break;
	case SCSI_X_UNMAP:
		io->write = true;
		extent_next(io);
		break;
	case SCSI_X_WRITE_SAME:
		if (!c->ndob)
			iov_to_buf(io->data, io->data_cnt, 0, block, io->ln->lu.lbs);
		start_write_same(io, block);
		break;
	case SCSI_X_VERIFY:
		start_verify(io);
		break;
	case SCSI_X_WRITE_VERIFY:
		start_write_verify(io);
		break;
	case SCSI_X_COMPARE_WRITE:
		/* Atomic: it waits (in ln->caw) for what runs on the LUN. */
		if (io->caw_run)
			scsi_run_caw(io);
		break;
	default:
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, NULL);
		scsi_finish_io(io, 0);
		break;
	}
}
