// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * scsi_lun.c: the LUNs: opening one on its backing store with its image
 * lock, its identity (NAA and serial), the command layer's view of it,
 * closing them all, and a rescan (SIGHUP) of their sizes.
 */
#include "scsi_priv.h"

/*
 * Control thread, SIGHUP: has a LUN's backing store changed size?  The new
 * size and the unit attention take effect at once; the event is posted by
 * the event queue's thread, which the core wakes next.  The config space
 * is QEMU's own, so the core has nothing to signal.
 */
bool scsi_rescan(void *ctx)
{
	struct scsi_dev *sd = ctx;
	bool any = false;

	for (unsigned int i = 0; i < SCSI_MAX_LUNS; i++) {
		struct scsi_lun *ln = sd->luns[i];
		uint64_t before, after;
		int ret;

		if (!ln)
			continue;
		before = ln->bk.size / ln->bk.lbs;
		ret = backing_refresh_size(&ln->bk);
		if (ret < 0) {
			log_err("LUN %u: cannot read the size of %s: %s", i,
				ln->path, strerror(-ret));
			continue;
		}
		after = ln->bk.size / ln->bk.lbs;
		if (after == before)
			continue;
		if (after == 0) {
			log_err("LUN %u: %s is now smaller than one block; its size stays %" PRIu64 " blocks",
				i, ln->path, before);
			ln->bk.size = before * ln->bk.lbs;
			continue;
		}
		log_info("LUN %u: capacity changed from %" PRIu64 " to %" PRIu64 " blocks",
			 i, before, after);
		pthread_mutex_lock(&ln->mu);
		ln->lu.nblocks = after;
		ln->lu.pending_ua = ASC_CAPACITY_CHANGED;
		pthread_mutex_unlock(&ln->mu);
		__atomic_store_n(&ln->event_pending, true, __ATOMIC_RELEASE);
		any = true;
	}
	if (any)
		__atomic_store_n(&sd->rescan_pending, true, __ATOMIC_RELEASE);
	return false;
}

/* FNV-1a: a stable hash of the LUN's backing path and number. */
static uint64_t fnv1a(const char *s, unsigned int lun)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	h = (h ^ lun) * 0x100000001b3ull;
	return h;
}

static void set_identity(struct scsi_lun *ln, const struct scsi_lun_opts *o)
{
	char real[PATH_MAX];
	const char *p = realpath(o->path, real) ? real : o->path;

	/* NAA 3 (locally assigned): stable for the same file and LUN. */
	ln->lu.naa = (3ull << 60) | (fnv1a(p, o->lun) >> 4);
	if (o->serial)
		snprintf(ln->lu.serial, sizeof(ln->lu.serial), "%s", o->serial);
	else
		snprintf(ln->lu.serial, sizeof(ln->lu.serial), "%015" PRIx64,
			 (uint64_t)(ln->lu.naa & 0x0fffffffffffffffull));
}

int scsi_dev_add_lun(struct scsi_dev *sd, const struct scsi_lun_opts *o)
{
	struct backing_opts bo = {
		.path = o->path,
		.read_only = o->read_only,
		.direct = cache_mode_direct(o->cache),
		.lbs = o->lbs,
		.format_raw = o->format_raw,
		.raw_opt = "format=raw in its --lun",
	};
	struct scsi_lun *ln;

	if (o->lun >= SCSI_MAX_LUNS || sd->luns[o->lun]) {
		log_err("LUN %u is %s", o->lun, o->lun >= SCSI_MAX_LUNS ?
			"out of range (0-255)" : "given twice");
		return -1;
	}
	ln = calloc(1, sizeof(*ln));
	if (!ln || !(ln->path = strdup(o->path))) {
		free(ln);
		log_err("out of memory");
		return -1;
	}
	if (backing_open(&ln->bk, &bo) < 0)
		goto fail_backing;
	if (image_lock_init(&ln->lock, ln->bk.fd, o->path, o->read_only,
			    o->locking) < 0)
		goto fail_backing;
	if (disk_init(&ln->disk, &ln->bk, ln->path, o->cache,
		      o->num_queues) < 0)
		goto fail_lock;
	ln->direct = bo.direct;
	ln->cache = o->cache;
	pthread_mutex_init(&ln->mu, NULL);
	link_init(&ln->held);
	link_init(&ln->waiting);
	disk_limits_set(&ln->disk, &o->limits);
	ln->lu.lun = o->lun;
	ln->lu.lbs = ln->bk.lbs;
	ln->lu.pbs = ln->bk.pbs;
	ln->lu.nblocks = ln->bk.size / ln->bk.lbs;
	ln->lu.opt_blocks = ln->bk.opt_io / ln->bk.lbs;
	ln->lu.read_only = o->read_only;
	ln->lu.thin = !o->read_only && ln->bk.can_punch;
	/* A punched hole in a file reads as zeros; a discarded device may not. */
	ln->lu.lbprz = ln->lu.thin && !ln->bk.is_blkdev;
	/* The cache mode gives WCE at start-up; MODE SELECT may change it. */
	ln->lu.wce_default = cache_mode_wce(o->cache);
	ln->lu.wce = ln->lu.wce_default;
	ln->lu.pending_ua = ASC_POWER_ON_RESET;
	set_identity(ln, o);
	sd->luns[o->lun] = ln;
	sd->files[sd->nfiles++] = ln->bk.fd;
	/* REPORT LUNS lists them in increasing order. */
	sd->target.nluns = 0;
	for (unsigned int i = 0; i < SCSI_MAX_LUNS; i++) {
		if (sd->luns[i])
			sd->target.luns[sd->target.nluns++] = i;
	}
	return 0;

fail_lock:
	image_lock_fini(&ln->lock);
fail_backing:
	backing_close(&ln->bk);
	free(ln->path);
	free(ln);
	return -1;
}

void scsi_dev_close(struct scsi_dev *sd)
{
	for (unsigned int i = 0; i < SCSI_MAX_LUNS; i++) {
		struct scsi_lun *ln = sd->luns[i];

		if (!ln)
			continue;
		image_lock_fini(&ln->lock);
		disk_fini(&ln->disk);
		backing_close(&ln->bk);
		pthread_mutex_destroy(&ln->mu);
		free(ln->path);
		free(ln);
		sd->luns[i] = NULL;
	}
	sd->nfiles = 0;
	sd->target.nluns = 0;
}
