// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * blk_main.c: the vhost-uring-blk program: command-line parsing, start-up
 * checks (each failure is one line on stderr and exit status 1), and the
 * hand-off to the server loop.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk_dev.h"
#include "cli.h"
#include "engine.h"
#include "image_format.h"
#include "log.h"
#include "server.h"
#include "util.h"
#include "vhost_user.h"

#define DEFAULT_QUEUES		256
#define MAX_QUEUES		256	/* vring indices are 8 bits wide */
#define DEFAULT_QUEUE_SIZE	1024
#define DEFAULT_MAX_BATCH	16

static const struct cli_limits limits = {
	.max_queues = MAX_QUEUES,
	.default_queues = DEFAULT_QUEUES,
	.queues_are = "queues",
	.max_queue_size = VQ_MAX_SIZE,
	.default_queue_size = DEFAULT_QUEUE_SIZE,
	.max_threads = 256,
	.threads_note = "",
};

struct options {
	struct cli_common c;
	struct blk_opts blk;
	int submit_batch;		/* -1: from the cache mode */
	int max_batch;			/* -1: from the cache mode */
};

enum {
	OPT_BLK_FILE = CLI_OPT_OWN,
	OPT_READ_ONLY,
	OPT_SUBMIT_BATCH,
	OPT_MAX_BATCH,
	OPT_CACHE,
	OPT_SERIAL,
	OPT_LBS,
	OPT_IOTUNE,
	OPT_FORMAT,
};

static const struct option long_opts[] = {
	CLI_COMMON_OPTIONS,
	{ "blk-file", required_argument, NULL, OPT_BLK_FILE },
	{ "read-only", no_argument, NULL, OPT_READ_ONLY },
	{ "submit-batch", required_argument, NULL, OPT_SUBMIT_BATCH },
	{ "max-batch", required_argument, NULL, OPT_MAX_BATCH },
	{ "cache", required_argument, NULL, OPT_CACHE },
	{ "serial", required_argument, NULL, OPT_SERIAL },
	{ "logical-block-size", required_argument, NULL, OPT_LBS },
	{ "iotune", required_argument, NULL, OPT_IOTUNE },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	cli_usage_head(f, "vhost-uring-blk (--socket-path=PATH | --fd=N) --blk-file=PATH [options]",
		       "Serve a virtio-blk disk to a vhost-user front end such as QEMU.");
	fputs(
"  --blk-file=PATH           image file or block device to serve\n"
"  --read-only               offer a read-only disk\n"
"  --format=raw              serve the file as raw bytes even if it holds\n"
"                            another image format's header (qcow2, vmdk...)\n", f);
	cli_usage_locking(f);
	cli_usage_queues(f, &limits);
	fprintf(f,
"  --submit-batch=N          hand requests to the kernel N at a time, or\n"
"                            256 KiB of them (0: all of a kick at once;\n"
"                            default 4 for direct I/O to a device or file\n"
"                            system that can take it, else 0)\n"
"  --max-batch=N             take at most N requests from a queue before\n"
"                            publishing what has completed (0: no limit;\n"
"                            default 0 where --submit-batch defaults to 4,\n"
"                            else %d)\n"
"  --cache=MODE              none (default): O_DIRECT; writeback: page cache;\n"
"                            writethrough, directsync: the same two with no\n"
"                            write cache at start-up (every write durable)\n"
"  --serial=STRING           serial number reported to the guest (max 20 bytes)\n"
"  --logical-block-size=512|4096\n"
"                            block size seen by the guest (default: from the backing store)\n"
"  --iotune=KEY=VALUE[,KEY=VALUE...]\n"
"                            QoS limits with libvirt's <iotune> names, e.g.\n"
"                            total_iops_sec=500,read_bytes_sec=10485760\n",
		DEFAULT_MAX_BATCH);
	cli_usage_tail(f);
}

static int parse_one(void *ctx, int c, const char *arg)
{
	struct options *o = ctx;
	char err[160];
	unsigned int v;

	switch (c) {
	case OPT_BLK_FILE:
		o->blk.path = arg;
		return 0;
	case OPT_READ_ONLY:
		o->blk.read_only = true;
		return 0;
	case OPT_SUBMIT_BATCH:
		if (cli_parse_uint("submit-batch", arg, 0, 4096, &v) < 0)
			return -1;
		o->submit_batch = v;
		return 0;
	case OPT_MAX_BATCH:
		if (cli_parse_uint("max-batch", arg, 0, 32768, &v) < 0)
			return -1;
		o->max_batch = v;
		return 0;
	case OPT_CACHE:
		if (cache_mode_parse(arg, &o->blk.cache) < 0) {
			log_err("--cache=%s: expected " CACHE_MODE_CHOICES, arg);
			return -1;
		}
		return 0;
	case OPT_SERIAL:
		if (strlen(arg) > BLK_ID_BYTES) {
			log_err("--serial: \"%s\" is longer than %d bytes", arg,
				BLK_ID_BYTES);
			return -1;
		}
		o->blk.serial = arg;
		return 0;
	case OPT_LBS:
		if (strcmp(arg, "512") && strcmp(arg, "4096")) {
			log_err("--logical-block-size=%s: expected 512 or 4096", arg);
			return -1;
		}
		o->blk.lbs = atoi(arg);
		return 0;
	case OPT_FORMAT:
		if (image_format_parse("--format", arg) < 0)
			return -1;
		o->blk.format_raw = true;
		return 0;
	case OPT_IOTUNE:
		if (thr_config_parse(&o->blk.limits, arg, err, sizeof(err)) < 0) {
			log_err("--iotune=%s: %s", arg, err);
			return -1;
		}
		return 0;
	default:
		usage(stderr);
		return -1;
	}
}

/* Returns 0 to run, 1 for a usage error, 2 for a successful early exit. */
static int parse_args(struct options *o, int argc, char **argv)
{
	char err[160];

	memset(o, 0, sizeof(*o));
	cli_common_init(&o->c, &limits);
	o->blk.cache = CACHE_NONE;
	o->submit_batch = -1;
	o->max_batch = -1;

	if (cli_answer_early(argc, argv, "vhost-uring-blk",
			     "{\"type\": \"block\", \"features\": [\"read-only\", \"blk-file\"]}", usage))
		return 2;
	if (cli_parse_args(argc, argv, long_opts, &o->c, &limits, parse_one, o) < 0)
		return 1;
	if (!o->blk.path) {
		log_err("--blk-file is required");
		return 1;
	}
	if (thr_config_check(&o->blk.limits, err, sizeof(err)) < 0) {
		log_err("--iotune: %s", err);
		return 1;
	}
	o->blk.num_queues = o->c.num_queues;
	o->blk.locking = o->c.locking;
	return 0;
}

struct run {
	const struct options *o;
	const struct blk_dev *bd;
};

static void announce(void *arg, const struct vu_dev_config *cfg,
		     const struct vu_dev *dev)
{
	const struct run *r = arg;
	const struct blk_opts *b = &r->o->blk;

	log_info("serving %s: %" PRIu64 " sectors, %u-byte blocks, cache=%s%s%s, %s, up to %u queues, %u I/O thread%s, submit batch %u, max batch %u",
		 b->path, r->bd->geom.capacity, r->bd->geom.lbs,
		 cache_mode_name(b->cache), b->read_only ? ", read-only" : "",
		 r->bd->disk.copy_in_thread ? ", in memory" : "",
		 io_engine_kind_name(cfg->engine), cfg->max_queues,
		 dev->threads.n, dev->threads.n == 1 ? "" : "s",
		 cfg->submit_batch, cfg->max_batch);
}

static int run(struct options *o)
{
	struct vu_dev_config cfg = { .max_queues = o->c.num_queues };
	struct blk_dev bd;
	struct run r = { .o = o, .bd = &bd };
	int status;

	if (blk_dev_open(&bd, &o->blk) < 0)
		return 1;
	cfg.files = &bd.bk.fd;
	cfg.nfiles = 1;
	/*
	 * A device sees a kick's requests as one burst if they go together,
	 * and then completes them as one; handing them over a few at a time
	 * keeps it busy.  Page-cache I/O, and files the kernel cannot read
	 * without blocking (served by workers on this CPU), gain from whole
	 * batches instead.
	 *
	 * When this CPU does the copying (the same two cases), taking a long
	 * kick in parts and publishing each part's completions lets the
	 * front end refill while we copy; with a device doing the work, the
	 * extra passes only cost CPU.
	 */
	cfg.submit_batch = o->submit_batch >= 0 ? (unsigned int)o->submit_batch :
			   bd.bk.direct && bd.bk.nowait ? 4 : 0;
	cfg.max_batch = o->max_batch >= 0 ? (unsigned int)o->max_batch :
			bd.bk.direct && bd.bk.nowait ? 0 : DEFAULT_MAX_BATCH;
	status = vu_server_daemon(&o->c, &cfg, &blk_dev_ops, &bd, announce, &r);
	blk_dev_close(&bd);
	return status;
}

int main(int argc, char **argv)
{
	struct options o;

	vu_log_init(argv[0], 0);
	switch (parse_args(&o, argc, argv)) {
	case 0:
		return run(&o);
	case 2:
		return 0;
	default:
		return 1;
	}
}
