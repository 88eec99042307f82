// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * args.c: owns vhost-uring-bench's command line: the options, their
 * defaults and checks, sizes such as 4k or 1G, and the usage text.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "front.h"
#include "front_scsi.h"
#include "log.h"
#include "scsi_req.h"
#include "util.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: vhost-uring-bench --socket=PATH [options]\n"
"Drive a vhost-user-blk or vhost-user-scsi back-end without a VM and measure it.\n"
"\n"
"  --socket=PATH          the back-end's vhost-user socket\n"
"  --device=blk|scsi      the back-end's device type (default blk)\n"
"  --lun=N                scsi: the LUN on target 0 to drive (default 0)\n"
"  --rw=MODE              randread (default), randwrite, read, write, randrw\n"
"  --rwmixread=PCT        reads in percent for randrw (default 50)\n"
"  --bs=SIZE              request size, a multiple of 512 and of the\n"
"                         disk's block size (default 4k)\n"
"  --iodepth=N            requests in flight per queue (default 32)\n"
"  --queues=N             queues, one thread each (default 1)\n"
"  --queue-size=N         virtqueue size (default: 128, or more for the depth)\n"
"  --size=SIZE            span of the disk to use (default: the whole disk)\n"
"  --runtime=SECONDS      measured time (default 10)\n"
"  --ramp=SECONDS         unmeasured warm-up before it (default 2)\n"
"  --verify               write self-checking blocks and check every read\n"
"  --dirty-log            turn on the back-end's dirty page log for the run\n"
"                         and check that every page it wrote was logged\n"
"  --per-second           also report IOPS and MiB/s of each second\n"
"  --no-indirect          do not use indirect descriptors\n"
"  --backend-pid=PID      measure this process's CPU time and memory\n"
"  --timeout=SECONDS      bound the whole run (default: runtime + ramp + 120)\n"
"  --json                 print one JSON object instead of text\n"
"  --help                 show this help\n");
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	double v = strtod(s, &end);
	uint64_t mul = 1;

	if (end == s || v < 0)
		return -1;
	switch (*end) {
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	case 't': case 'T': mul = 1ull << 40; end++; break;
	default: break;
	}
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end)
		return -1;
	*out = (uint64_t)(v * (double)mul);
	return 0;
}

/*
 * --name=s: a decimal number from lo to hi, and nothing after it.  0, or
 * -1 after a message.
 */
static int opt_uint(const char *name, const char *s, unsigned int lo,
		    unsigned int hi, unsigned int *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*end || v < lo || v > hi) {
		log_err("--%s=%s: expected %u to %u", name, s, lo, hi);
		return -1;
	}
	*out = (unsigned int)v;
	return 0;
}

const char *bench_rw_name(enum rw_mode rw)
{
	static const char *const names[] = { "read", "write", "randread",
					     "randwrite", "randrw" };

	return names[rw];
}

/* --rwmixread, --iodepth and --queues (by their getopt codes). */
static int opt_number(struct bench_opts *o, int c, const char *s)
{
	switch (c) {
	case 'm':
		return opt_uint("rwmixread", s, 0, 100, &o->rwmixread);
	case 'd':
		return opt_uint("iodepth", s, 1, 4096, &o->iodepth);
	default:
		return opt_uint("queues", s, 1, FRONT_MAX_VQS, &o->queues);
	}
}

/* --rw=s into *rw.  0, or -1 after a message. */
static int parse_rw(const char *s, enum rw_mode *rw)
{
	for (unsigned int i = RW_READ; i <= RW_RANDRW; i++) {
		if (!strcmp(s, bench_rw_name(i))) {
			*rw = i;
			return 0;
		}
	}
	log_err("--rw=%s: expected read, write, randread, randwrite or randrw", s);
	return -1;
}

int bench_parse_args(struct bench_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "device", required_argument, NULL, 'D' },
		{ "lun", required_argument, NULL, 'L' },
		{ "rw", required_argument, NULL, 'r' },
		{ "rwmixread", required_argument, NULL, 'm' },
		{ "bs", required_argument, NULL, 'b' },
		{ "iodepth", required_argument, NULL, 'd' },
		{ "queues", required_argument, NULL, 'q' },
		{ "queue-size", required_argument, NULL, 'Q' },
		{ "size", required_argument, NULL, 'S' },
		{ "runtime", required_argument, NULL, 't' },
		{ "ramp", required_argument, NULL, 'R' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "verify", no_argument, NULL, 'V' },
		{ "dirty-log", no_argument, NULL, 'G' },
		{ "per-second", no_argument, NULL, 'P' },
		{ "no-indirect", no_argument, NULL, 'I' },
		{ "backend-pid", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool lun_given = false;
	uint64_t v;
	int c;

	*o = (struct bench_opts){
		.rw = RW_RANDREAD, .rwmixread = 50, .bs = 4096, .iodepth = 32,
		.queues = 1, .runtime = 10, .ramp = 2, .indirect = true,
	};
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		char *end = NULL;

		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'D':
			if (!strcmp(optarg, "blk")) {
				o->device = DEV_BLK;
			} else if (!strcmp(optarg, "scsi")) {
				o->device = DEV_SCSI;
			} else {
				log_err("--device=%s: expected blk or scsi", optarg);
				return -1;
			}
			break;
		case 'L':
			o->lun = strtoul(optarg, &end, 10);
			if (!*optarg || *end || o->lun > SCSI_REQ_LUN_MAX) {
				log_err("--lun=%s: expected 0 to %d", optarg, SCSI_REQ_LUN_MAX);
				return -1;
			}
			lun_given = true;
			break;
		case 'r':
			if (parse_rw(optarg, &o->rw) < 0)
				return -1;
			break;
		case 'b':
			if (parse_size(optarg, &v) < 0 || v == 0 || v % SECTOR || v > (16u << 20)) {
				log_err("--bs=%s: expected a multiple of 512 up to 16M", optarg);
				return -1;
			}
			o->bs = v;
			break;
		case 'm':
		case 'd':
		case 'q':
			if (opt_number(o, c, optarg) < 0)
				return -1;
			break;
		case 'Q':
			o->queue_size = strtoul(optarg, &end, 10);
			if (*end || !IS_POW2(o->queue_size) || o->queue_size > 32768) {
				log_err("--queue-size=%s: expected a power of 2 up to 32768", optarg);
				return -1;
			}
			break;
		case 'S':
			if (parse_size(optarg, &o->size) < 0 || o->size == 0) {
				log_err("--size=%s: expected a size such as 1G", optarg);
				return -1;
			}
			break;
		case 't':
		case 'R':
		case 'T': {
			double d = strtod(optarg, &end);

			if (*end || d < 0 || (c == 't' && d == 0)) {
				log_err("--%s=%s: expected seconds", c == 't' ? "runtime" :
					c == 'R' ? "ramp" : "timeout", optarg);
				return -1;
			}
			*(c == 't' ? &o->runtime : c == 'R' ? &o->ramp : &o->timeout) = d;
			break;
		}
		case 'V':
			o->verify = true;
			break;
		case 'G':
			o->dirty_log = true;
			break;
		case 'P':
			o->per_second = true;
			break;
		case 'I':
			o->indirect = false;
			break;
		case 'p':
			o->backend_pid = strtol(optarg, &end, 10);
			if (*end || o->backend_pid <= 0 || bench_proc_cpu_s(o->backend_pid) < 0) {
				log_err("--backend-pid=%s: no such process", optarg);
				return -1;
			}
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		log_err("unexpected argument: %s", argv[optind]);
		return -1;
	}
	if (!o->socket) {
		log_err("--socket is required");
		return -1;
	}
	if (lun_given && o->device != DEV_SCSI) {
		log_err("--lun needs --device=scsi");
		return -1;
	}
	if (o->device == DEV_SCSI && SCSIC_REQ_VQ + o->queues > FRONT_MAX_VQS) {
		log_err("--queues=%u: with --device=scsi at most %d request queues",
			o->queues, FRONT_MAX_VQS - SCSIC_REQ_VQ);
		return -1;
	}
	if (!o->timeout)
		o->timeout = o->runtime + o->ramp + 120;
	return 0;
}
