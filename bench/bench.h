/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench.h: what the parts of vhost-uring-bench share: its options (args.c
 * reads them from the command line), and the measurements and report of a
 * run (report.c).  The I/O loop is bench.c.
 */
#ifndef VU_BENCH_H
#define VU_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "dirty.h"
#include "hist.h"
#include "series.h"

#define SECTOR	512

enum rw_mode { RW_READ, RW_WRITE, RW_RANDREAD, RW_RANDWRITE, RW_RANDRW };
enum device { DEV_BLK, DEV_SCSI };

struct bench_opts {
	const char *socket;
	enum device device;
	unsigned int lun;
	enum rw_mode rw;
	unsigned int rwmixread;
	uint32_t bs;
	unsigned int iodepth;
	unsigned int queues;
	unsigned int queue_size;
	uint64_t size;
	double runtime;
	double ramp;
	double timeout;
	bool verify;
	bool dirty_log;
	bool per_second;
	bool json;
	bool indirect;
	pid_t backend_pid;
};

/* Fill o from the command line (--help exits).  0, or -1 after a message. */
int bench_parse_args(struct bench_opts *o, int argc, char **argv);
const char *bench_rw_name(enum rw_mode rw);

/* CPU seconds (user + system) of a process, from /proc; -1 if unknown. */
double bench_proc_cpu_s(pid_t pid);
/* A process's own resident memory (anonymous and file pages), or -1. */
long bench_proc_rss_kib(pid_t pid);
/* This process's CPU seconds. */
double bench_self_cpu_s(void);

/* The totals of a run. */
struct report {
	struct hist hist;
	struct series ser;	/* --per-second */
	uint64_t ios, rd_bytes, wr_bytes, verified, verify_errors;
	uint64_t kicks, calls;
	double secs, be_cpu, fe_cpu;
	long be_rss;
};

/* Print r as text, or as one JSON object with --json. */
void bench_report_print(const struct bench_opts *o, const struct report *r,
			const struct bench_dirty *d);

#endif
