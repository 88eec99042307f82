// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * report.c: owns what vhost-uring-bench measures besides its I/O (the CPU
 * time and resident memory of the back-end, its own CPU time) and the
 * report of a run, as text or as one JSON object.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"

/* CPU seconds (user + system) of a process, from /proc. */
double bench_proc_cpu_s(pid_t pid)
{
	char path[64], buf[2048], *p;
	unsigned long utime, stime;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	/* Fields after the command name, which may hold spaces. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			 &utime, &stime) != 2)
		return -1;
	return (double)(utime + stime) / sysconf(_SC_CLK_TCK);
}

/* The back-end's own resident memory: anonymous and file pages, no shmem. */
long bench_proc_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long anon = -1, file = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "RssAnon: %ld", &anon);
		sscanf(line, "RssFile: %ld", &file);
	}
	fclose(f);
	return anon < 0 || file < 0 ? -1 : anon + file;
}

double bench_self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}


static void print_text(const struct bench_opts *o, const struct report *r,
		       const struct bench_dirty *d)
{
	double iops = r->ios / r->secs;
	double mibs = (r->rd_bytes + r->wr_bytes) / r->secs / (1 << 20);

	if (o->device == DEV_SCSI)
		printf("vhost-uring-bench: scsi lun=%u ", o->lun);
	else
		printf("vhost-uring-bench: ");
	printf("%s bs=%u iodepth=%u queues=%u runtime=%.1fs%s%s\n",
	       bench_rw_name(o->rw), o->bs, o->iodepth, o->queues, r->secs,
	       o->verify ? " verify" : "", o->dirty_log ? " dirty-log" : "");
	printf("  iops: %.0f (%.1f MiB/s)\n", iops, mibs);
	printf("  lat (us): mean %.1f, p50 %.1f, p99 %.1f, p99.9 %.1f, max %.1f\n",
	       hist_mean(&r->hist) / 1e3, hist_percentile(&r->hist, 50) / 1e3,
	       hist_percentile(&r->hist, 99) / 1e3,
	       hist_percentile(&r->hist, 99.9) / 1e3, r->hist.max_ns / 1e3);
	if (o->backend_pid)
		printf("  back-end: %.2f s CPU, %.2f us CPU per I/O, %.1f MiB own resident memory\n",
		       r->be_cpu, r->ios ? r->be_cpu * 1e6 / r->ios : 0,
		       r->be_rss / 1024.0);
	printf("  front-end (this tool): %.2f s CPU, %.2f us CPU per I/O; %.3f kicks and %.3f notifications per I/O\n",
	       r->fe_cpu, r->ios ? r->fe_cpu * 1e6 / r->ios : 0,
	       r->ios ? (double)r->kicks / r->ios : 0,
	       r->ios ? (double)r->calls / r->ios : 0);
	if (o->verify)
		printf("  verify: %" PRIu64 " blocks checked, %" PRIu64 " errors\n",
		       r->verified, r->verify_errors);
	if (o->per_second)
		series_print(&r->ser, r->secs, false);
	if (o->dirty_log)
		bench_dirty_print(d, false);
}

static void print_json(const struct bench_opts *o, const struct report *r,
		       const struct bench_dirty *d)
{
	printf("{\"rw\": \"%s\", \"bs\": %u, \"iodepth\": %u, \"queues\": %u, "
	       "\"runtime_s\": %.3f, \"ios\": %" PRIu64 ", \"iops\": %.1f, "
	       "\"mib_per_s\": %.2f, "
	       "\"lat_us\": {\"mean\": %.2f, \"p50\": %.2f, \"p99\": %.2f, "
	       "\"p99.9\": %.2f, \"max\": %.2f}, ",
	       bench_rw_name(o->rw), o->bs, o->iodepth, o->queues, r->secs, r->ios,
	       r->ios / r->secs,
	       (r->rd_bytes + r->wr_bytes) / r->secs / (1 << 20),
	       hist_mean(&r->hist) / 1e3, hist_percentile(&r->hist, 50) / 1e3,
	       hist_percentile(&r->hist, 99) / 1e3,
	       hist_percentile(&r->hist, 99.9) / 1e3, r->hist.max_ns / 1e3);
	if (o->backend_pid)
		printf("\"backend_cpu_s\": %.3f, \"backend_cpu_us_per_io\": %.3f, "
		       "\"backend_rss_kib\": %ld, ",
		       r->be_cpu, r->ios ? r->be_cpu * 1e6 / r->ios : 0, r->be_rss);
	else
		printf("\"backend_cpu_s\": null, \"backend_cpu_us_per_io\": null, "
		       "\"backend_rss_kib\": null, ");
	printf("\"kicks_per_io\": %.4f, \"notifications_per_io\": %.4f, ",
	       r->ios ? (double)r->kicks / r->ios : 0,
	       r->ios ? (double)r->calls / r->ios : 0);
	printf("\"frontend_cpu_s\": %.3f, \"frontend_cpu_us_per_io\": %.3f, "
	       "\"verify\": %s, \"verified_blocks\": %" PRIu64 ", "
	       "\"verify_errors\": %" PRIu64,
	       r->fe_cpu, r->ios ? r->fe_cpu * 1e6 / r->ios : 0,
	       o->verify ? "true" : "false", r->verified, r->verify_errors);
	if (o->per_second)
		series_print(&r->ser, r->secs, true);
	if (o->dirty_log)
		bench_dirty_print(d, true);
	printf("}\n");
}

void bench_report_print(const struct bench_opts *o, const struct report *r,
			const struct bench_dirty *d)
{
	if (o->json)
		print_json(o, r, d);
	else
		print_text(o, r, d);
}
