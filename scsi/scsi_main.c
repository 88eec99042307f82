// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * scsi_main.c: the vhost-uring-scsi program: command-line parsing (the
 * repeatable --lun option included), start-up checks (each failure is one
 * line on stderr and exit status 1), and the hand-off to the server loop.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine.h"
#include "image_format.h"
#include "log.h"
#include "scsi_dev.h"
#include "server.h"
#include "util.h"
#include "vhost_user.h"

#define MAX_REQ_QUEUES		254	/* 2 + N vrings, indices are 8 bits */
/*
 * QEMU gives a vhost-user-scsi-pci device without num_queues one request
 * queue per vCPU: offer all there can be.  A queue costs only its slot in
 * the device until the front end starts it.
 */
#define DEFAULT_REQ_QUEUES	MAX_REQ_QUEUES
#define DEFAULT_QUEUE_SIZE	1024

static const struct cli_limits limits = {
	.max_queues = MAX_REQ_QUEUES,
	.default_queues = DEFAULT_REQ_QUEUES,
	.queues_are = "request queues",
	.max_queue_size = SCSI_MAX_HELD_EVENTS,
	.default_queue_size = DEFAULT_QUEUE_SIZE,
	.max_threads = SCSI_MAX_THREADS,
	.threads_note = ", at most one per\n                            request queue",
};

struct options {
	struct cli_common c;
	struct scsi_lun_opts luns[SCSI_MAX_LUNS];
	char *lun_args[SCSI_MAX_LUNS];
	unsigned int nluns;
};

enum {
	OPT_LUN = CLI_OPT_OWN,
};

static const struct option long_opts[] = {
	CLI_COMMON_OPTIONS,
	{ "lun", required_argument, NULL, OPT_LUN },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	cli_usage_head(f, "vhost-uring-scsi (--socket-path=PATH | --fd=N) --lun=N,file=PATH[,...] [options]",
		       "Serve a virtio-scsi controller with disk LUNs to a vhost-user front end.");
	fputs(
"  --lun=N,file=PATH[,read-only][,serial=S][,logical-block-size=512|4096]\n"
"       [,cache=none|writeback|writethrough|directsync][,format=raw]\n"
"                            a disk LUN N (0-255) on target 0; repeatable;\n"
"                            cache: none (default): O_DIRECT; writeback: page\n"
"                            cache; writethrough, directsync: the same two\n"
"                            with WCE 0 at start-up (every write durable)\n"
"                            format=raw: serve it even if it holds another\n"
"                            image format's header (qcow2, vmdk...)\n"
"       [,KEY=VALUE...]      and the LUN's QoS limits with libvirt's <iotune>\n"
"                            names, e.g. total_iops_sec=500\n", f);
	cli_usage_locking(f);
	cli_usage_queues(f, &limits);
	cli_usage_tail(f);
}

/* Is key one of the QoS limits' names? */
static bool iotune_key(const char *key)
{
	for (unsigned int i = 0; i < thr_nkeys(); i++) {
		if (!strcmp(key, thr_key_name(i)))
			return true;
	}
	return false;
}

/* One key=value (or flag) of a --lun option. */
static int lun_key(struct scsi_lun_opts *l, const char *key, char *val)
{
	char err[160];

	if (!strcmp(key, "file") && val && *val) {
		l->path = val;
	} else if (!strcmp(key, "read-only") && !val) {
		l->read_only = true;
	} else if (!strcmp(key, "serial") && val) {
		if (strlen(val) > 32) {
			log_err("--lun: serial \"%s\" is longer than 32 bytes", val);
			return -1;
		}
		l->serial = val;
	} else if (!strcmp(key, "logical-block-size") && val &&
		   (!strcmp(val, "512") || !strcmp(val, "4096"))) {
		l->lbs = atoi(val);
	} else if (!strcmp(key, "cache") && val) {
		if (cache_mode_parse(val, &l->cache) < 0) {
			log_err("--lun: cache=%s: expected " CACHE_MODE_CHOICES, val);
			return -1;
		}
	} else if (!strcmp(key, "format") && val) {
		if (image_format_parse("--lun: format", val) < 0)
			return -1;
		l->format_raw = true;
	} else if (iotune_key(key) && val) {
		if (thr_config_set(&l->limits, key, val, err, sizeof(err)) < 0) {
			log_err("--lun: %s", err);
			return -1;
		}
	} else {
		log_err("--lun: bad item \"%s%s%s\" (expected file=PATH, read-only, serial=S, logical-block-size=512|4096, cache=MODE, format=raw or an iotune KEY=VALUE)",
			key, val ? "=" : "", val ? val : "");
		return -1;
	}
	return 0;
}

/* --lun=N,file=PATH[,...]: parsed in place in a copy of the argument. */
static int parse_lun(struct options *o, const char *arg)
{
	struct scsi_lun_opts *l = &o->luns[o->nluns];
	char *copy, *item, *save = NULL, err[160];
	unsigned int n;

	if (o->nluns == SCSI_MAX_LUNS) {
		log_err("--lun: at most %d LUNs", SCSI_MAX_LUNS);
		return -1;
	}
	copy = strdup(arg);
	if (!copy)
		return -1;
	o->lun_args[o->nluns] = copy;
	item = strtok_r(copy, ",", &save);
	if (!item || cli_parse_uint("lun", item, 0, SCSI_MAX_LUNS - 1, &n) < 0)
		return -1;
	memset(l, 0, sizeof(*l));
	l->lun = n;
	l->cache = CACHE_NONE;
	while ((item = strtok_r(NULL, ",", &save))) {
		char *eq = strchr(item, '=');

		if (eq)
			*eq++ = '\0';
		if (lun_key(l, item, eq) < 0)
			return -1;
	}
	if (!l->path) {
		log_err("--lun=%s: file=PATH is required", arg);
		return -1;
	}
	if (thr_config_check(&l->limits, err, sizeof(err)) < 0) {
		log_err("--lun=%s: %s", arg, err);
		return -1;
	}
	for (unsigned int i = 0; i < o->nluns; i++) {
		if (o->luns[i].lun == n) {
			log_err("--lun: LUN %u is given twice", n);
			return -1;
		}
	}
	o->nluns++;
	return 0;
}

static int parse_one(void *ctx, int c, const char *arg)
{
	struct options *o = ctx;

	if (c == OPT_LUN)
		return parse_lun(o, arg);
	usage(stderr);
	return -1;
}

static void free_args(struct options *o)
{
	for (unsigned int i = 0; i < SCSI_MAX_LUNS; i++) {
		free(o->lun_args[i]);
		o->lun_args[i] = NULL;
	}
}

/* Returns 0 to run, 1 for a usage error, 2 for a successful early exit. */
static int parse_args(struct options *o, int argc, char **argv)
{
	memset(o, 0, sizeof(*o));
	cli_common_init(&o->c, &limits);

	if (cli_answer_early(argc, argv, "vhost-uring-scsi",
			     "{\"type\": \"scsi\"}", usage))
		return 2;
	if (cli_parse_args(argc, argv, long_opts, &o->c, &limits, parse_one, o) < 0)
		return 1;
	if (!o->nluns) {
		log_err("at least one --lun=N,file=PATH is required");
		return 1;
	}
	return 0;
}

static void announce(void *arg, const struct vu_dev_config *cfg,
		     const struct vu_dev *dev)
{
	const struct scsi_dev *sd = arg;

	for (unsigned int i = 0; i < SCSI_MAX_LUNS; i++) {
		const struct scsi_lun *ln = sd->luns[i];

		if (ln)
			log_info("LUN %u: %s: %" PRIu64 " blocks of %u bytes, cache=%s%s%s%s",
				 i, ln->path, ln->lu.nblocks, ln->lu.lbs,
				 cache_mode_name(ln->cache),
				 ln->lu.read_only ? ", read-only" : "",
				 ln->lu.thin ? ", unmap" : "",
				 ln->disk.copy_in_thread ? ", in memory" : "");
	}
	log_info("serving %u LUN%s on target 0, %s, up to %u request queues, %u I/O thread%s",
		 sd->target.nluns, sd->target.nluns == 1 ? "" : "s",
		 io_engine_kind_name(cfg->engine),
		 cfg->max_queues - SCSI_FIRST_REQ_VQ, dev->threads.n,
		 dev->threads.n == 1 ? "" : "s");
}

static int run(struct options *o)
{
	struct vu_dev_config cfg = {
		.max_queues = SCSI_FIRST_REQ_VQ + o->c.num_queues,
	};
	static struct scsi_dev sd;
	int status = 1;

	for (unsigned int i = 0; i < o->nluns; i++) {
		o->luns[i].locking = o->c.locking;
		o->luns[i].num_queues = cfg.max_queues;
		if (scsi_dev_add_lun(&sd, &o->luns[i]) < 0)
			goto out;
	}
	cfg.files = sd.files;
	cfg.nfiles = sd.nfiles;
	status = vu_server_daemon(&o->c, &cfg, &scsi_dev_ops, &sd, announce,
				  &sd);
out:
	scsi_dev_close(&sd);
	return status;
}

int main(int argc, char **argv)
{
	struct options o;
	int ret;

	vu_log_init(argv[0], 0);
	ret = parse_args(&o, argc, argv);
	if (ret) {
		free_args(&o);
		return ret == 2 ? 0 : 1;
	}
	ret = run(&o);
	free_args(&o);
	return ret;
}
