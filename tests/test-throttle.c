// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-throttle.c: src/throttle.c's arithmetic, exactly, on a clock the
 * test moves by hand (no sleeping, nothing timed): the bucket sizes and
 * waits of QEMU's throttling for iops and bytes, read, write and total,
 * size_iops_sec and bursts; simulated 5-second runs at several queue
 * depths whose admitted counts are computed beforehand; and the keys,
 * their values and QEMU's consistency rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "throttle.h"

#define MS	1000000ull
#define SEC	1000000000ull
#define KIB	1024ull
#define MIB	(1024 * KIB)

static struct thr_config config(const char *list)
{
	struct thr_config c;
	char err[256];

	memset(&c, 0, sizeof(c));
	if (thr_config_parse(&c, list, err, sizeof(err)) ||
	    thr_config_check(&c, err, sizeof(err))) {
		printf("Bail out! %s: %s\n", list, err);
		exit(99);
	}
	return c;
}

static struct throttle start(const char *list)
{
	struct thr_config c = config(list);
	struct throttle t;

	throttle_init(&t, &c, 0);
	return t;
}

/*
 * How many of up to n requests go at now, one after the other; *wait is
 * what the first refused one was told (0 if all went).
 */
static unsigned int go_at(struct throttle *t, bool is_write, uint64_t bytes,
			  uint64_t now, unsigned int n, uint64_t *wait)
{
	unsigned int i;

	*wait = 0;
	for (i = 0; i < n; i++) {
		*wait = throttle_admit(t, is_write, bytes, now);
		if (*wait)
			break;
	}
	return i;
}

/* ---- simulated runs ------------------------------------------------------- */

#define MAX_DEPTH	256

/*
 * depth requests always outstanding: each asks, and asks again exactly
 * when it was told to; once admitted it completes after service_ns and is
 * sent again at once.  Counts admissions in [from, to).
 */
struct sim {
	unsigned int depth;
	uint64_t service_ns;
	bool is_write;
	uint64_t bytes;
};

static unsigned long run(const char *list, const struct sim *s,
			 uint64_t from, uint64_t to)
{
	struct throttle t = start(list);
	uint64_t next[MAX_DEPTH] = { 0 }, wait;
	unsigned long admitted = 0, asks = 0;
	unsigned int i, k;

	for (;;) {
		for (k = 0, i = 1; i < s->depth; i++) {
			if (next[i] < next[k])
				k = i;
		}
		if (next[k] >= to)
			return admitted;
		if (++asks > 100000000) {
			printf("Bail out! %s: no progress\n", list);
			exit(99);
		}
		wait = throttle_admit(&t, s->is_write, s->bytes, next[k]);
		if (!wait && next[k] >= from)
			admitted++;
		next[k] += wait ? wait : s->service_ns;
	}
}

/* Admitted in 5 s, within 10% of rate * 5 and exactly as expected. */
static void five_seconds(const char *list, const struct sim *s,
			 unsigned long rate, unsigned long expect)
{
	unsigned long n = run(list, s, 0, 5 * SEC);

	ok(n == expect && n * 10 >= rate * 5 * 9 && n * 10 <= rate * 5 * 11,
	   "%s, %s of %llu bytes, depth %u, %llu ms each: %lu admitted in 5 s (expected %lu, limit %lu)",
	   list, s->is_write ? "writes" : "reads", (unsigned long long)s->bytes,
	   s->depth, (unsigned long long)(s->service_ns / MS), n, expect,
	   rate * 5);
}

/* ---- the arithmetic ------------------------------------------------------- */

static void test_iops(void)
{
	struct throttle t = start("total_iops_sec=100"), early;
	uint64_t wait;

	/* Bucket avg / 10 = 10: levels 0..10 let a request go. */
	ok(go_at(&t, false, 4096, 0, 100, &wait) == 11,
	   "iops 100: 11 requests go at t=0");
	ok(wait == 10 * MS, "the 12th waits (11 - 10) / 100 s = 10 ms (%llu ns)",
	   (unsigned long long)wait);
	ok(t.level[THR_OPS_TOTAL] == 11 && t.level[THR_OPS_READ] == 0 &&
	   t.level[THR_BPS_TOTAL] == 0,
	   "only the limited bucket counts the 11");
	early = t;
	ok(throttle_admit(&early, false, 4096, 10 * MS - 1) != 0,
	   "1 ns early it still waits");
	ok(throttle_admit(&t, true, 4096, 10 * MS) == 0,
	   "at 10 ms it goes (a write: the total counts both)");
	ok(throttle_admit(&t, false, 4096, 10 * MS) == 10 * MS,
	   "and the next waits 10 ms again");
}

static void test_rate(void)
{
	const char *l = "total_iops_sec=100";
	const struct sim qd1 = { 1, 0, false, 4096 };
	const struct sim qd32 = { 32, 0, true, 4096 };
	const struct sim qd256 = { 256, 0, false, 512 };
	const struct sim qd1_lat = { 1, 3 * MS, false, 4096 };
	const struct sim qd8_lat = { 8, 25 * MS, true, 4096 };
	const struct sim slow = { 4, 50 * MS, false, 4096 };

	/*
	 * Requests always waiting, each asking again exactly when told:
	 * 11 at t=0, then one every 10 ms to 4990 ms: 11 + 499, whatever
	 * the depth.
	 */
	five_seconds(l, &qd1, 100, 510);
	five_seconds(l, &qd32, 100, 510);
	five_seconds(l, &qd256, 100, 510);
	/*
	 * 3 ms per request, one at a time: the level gains 1 - 0.3 per
	 * request, so 15 go (0 to 42 ms, level 10.8); the ask at 45 ms
	 * waits 5 ms, and from 50 ms one goes every 10 ms: 15 + 495.
	 */
	five_seconds(l, &qd1_lat, 100, 510);
	/*
	 * 8 of 25 ms: 8 at t=0, 5 at 25 ms (levels 5.5 to 9.5), then from
	 * 30 ms one every 10 ms: 8 + 5 + 497.
	 */
	five_seconds(l, &qd8_lat, 100, 510);
	/* 4 every 50 ms is 80/s, under the limit: the limiter holds none. */
	ok(run(l, &slow, 0, 5 * SEC) == 400,
	   "%s, 4 requests of 50 ms: all 400 go (80/s, under the limit)", l);
}

static void test_bps(void)
{
	struct throttle t = start("write_bytes_sec=102400");
	const struct sim w4k = { 32, 0, true, 4 * KIB };
	uint64_t wait;

	ok(throttle_admit(&t, true, MIB, 0) == 0, "a 1 MiB write goes at once");
	wait = throttle_admit(&t, true, MIB, 0);
	ok(wait == 10140 * MS,
	   "the next waits (1048576 - 10240) / 102400 s = 10.14 s (%llu ns)",
	   (unsigned long long)wait);
	ok(throttle_admit(&t, false, MIB, 0) == 0, "a read does not wait");
	ok(throttle_admit(&t, true, MIB, 10140 * MS) == 0,
	   "the write goes at 10.14 s");
	ok(throttle_admit(&t, true, MIB, 10140 * MS) == 10240 * MS,
	   "and the next one waits a whole 1 MiB / 100 KiB/s = 10.24 s");
	/*
	 * 4 KiB writes: 3 at t=0 (levels 0, 4096, 8192 <= 10240), then at
	 * 20 ms and every 40 ms to 4980 ms: 3 + 125 = 128 writes.
	 */
	five_seconds("write_bytes_sec=102400", &w4k, 25, 128);
}

static void test_directions(void)
{
	struct throttle t = start("read_iops_sec=100,write_iops_sec=50");
	uint64_t w;

	ok(go_at(&t, false, 512, 0, 100, &w) == 11 && w == 10 * MS,
	   "read 100/s: 11 reads go, the next waits 10 ms");
	ok(go_at(&t, true, 512, 0, 100, &w) == 6 && w == 20 * MS,
	   "write 50/s: 6 writes go after them, the next waits 20 ms");
	t = start("total_iops_sec=100");
	ok(go_at(&t, false, 512, 0, 6, &w) == 6 &&
	   go_at(&t, true, 512, 0, 100, &w) == 5 && w == 10 * MS &&
	   throttle_admit(&t, false, 512, 0) == 10 * MS,
	   "total 100/s: 6 reads and 5 writes go, then both wait 10 ms");
	t = start("total_bytes_sec=1024000,read_iops_sec=1000");
	ok(go_at(&t, false, 64 * KIB, 0, 100, &w) == 2 && w == 28 * MS,
	   "bytes 1000 KiB/s: 2 reads of 64 KiB, the next waits (131072 - 102400) / 1024000 s = 28 ms");
	ok(throttle_admit(&t, true, 64 * KIB, 0) == 28 * MS,
	   "a write waits as long (the total bucket)");
	ok(t.level[THR_OPS_READ] == 2 && t.level[THR_BPS_TOTAL] == 128 * KIB,
	   "the read iops bucket counts the 2 reads, the bytes bucket 128 KiB");
	t = start("read_bytes_sec=1024000");
	ok(go_at(&t, false, 64 * KIB, 0, 100, &w) == 2 &&
	   go_at(&t, true, 64 * KIB, 0, 100, &w) == 100,
	   "read bytes limited: writes are not");
}

static void test_size_iops(void)
{
	struct throttle t = start("total_iops_sec=160,size_iops_sec=4096");
	static const struct { uint64_t bytes; double units; } sizes[] = {
		{ 64 * KIB, 16 }, { 4096, 1 }, { 1000, 1 }, { 6000, 1.46484375 },
		{ 0, 1 },
	};
	unsigned int i;

	ok(throttle_admit(&t, false, 64 * KIB, 0) == 0 &&
	   t.level[THR_OPS_TOTAL] == 16, "a 64 KiB read counts 16 ops of 4096");
	ok(throttle_admit(&t, true, 64 * KIB, 0) == 0,
	   "a second goes (level 16 is not over the bucket of 16)");
	ok(throttle_admit(&t, false, 4096, 0) == 100 * MS,
	   "a third waits (32 - 16) / 160 s = 100 ms");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		t = start("total_iops_sec=160,size_iops_sec=4096");
		throttle_admit(&t, false, sizes[i].bytes, 0);
		ok(t.level[THR_OPS_TOTAL] == sizes[i].units,
		   "%llu bytes count %.8g ops", (unsigned long long)sizes[i].bytes,
		   t.level[THR_OPS_TOTAL]);
	}
	t = start("total_iops_sec=160");
	throttle_admit(&t, false, 64 * KIB, 0);
	ok(t.level[THR_OPS_TOTAL] == 1, "without size_iops_sec, 64 KiB is 1 op");
}

static void test_burst(void)
{
	const char *l = "total_iops_sec=100,total_iops_sec_max=1000,total_iops_sec_max_length=5";
	const struct sim qd1 = { 1, 0, false, 4096 };
	const struct sim qd64 = { 64, 0, true, 4096 };
	struct throttle t = start(l);
	uint64_t w;

	/* Burst bucket max / 10 = 100: levels 0..100 go. */
	ok(go_at(&t, false, 4096, 0, 1000, &w) == 101 && w == 1 * MS,
	   "burst: 101 go at t=0, the next waits (101 - 100) / 1000 s = 1 ms");
	ok(run(l, &qd1, 0, MS / 2) == 101 && run(l, &qd64, 0, MS / 2) == 101,
	   "simulated: 101 at t=0");
	/* Then one a millisecond: the burst bucket holds the rate at max. */
	ok(run(l, &qd1, MS / 2, SEC + MS / 2) == 1000 &&
	   run(l, &qd64, MS / 2, SEC + MS / 2) == 1000,
	   "1000 in the first second after that (max = 1000/s)");
	/*
	 * The main bucket holds max * max_length = 5000 and leaks 100/s:
	 * before the ask at m ms it is 100 + 0.9 m, at most 5000 up to
	 * m = 5444: 101 + 5444 = 5545 in the burst, about max * length.
	 */
	ok(run(l, &qd1, 0, 5444 * MS + MS / 2) == 5545,
	   "5545 go in the burst, to 5444 ms");
	ok(run(l, &qd1, 5444 * MS + MS / 2, 5449 * MS + MS / 2) == 0 &&
	   run(l, &qd64, 5444 * MS + MS / 2, 5449 * MS + MS / 2) == 0,
	   "then none until 5450 ms (level 5000.6 leaks to 5000)");
	ok(run(l, &qd1, 6005 * MS, 16005 * MS) == 1000 &&
	   run(l, &qd64, 6005 * MS, 16005 * MS) == 1000,
	   "then the rate is avg: 1000 in 10 s");
	t = start(l);
	go_at(&t, false, 4096, 0, 1000, &w);
	ok(go_at(&t, false, 4096, 3600 * SEC, 1000, &w) == 101,
	   "an hour later the burst is back: 101 at once");
	t = start("total_iops_sec=100,total_iops_sec_max=1000");
	ok(go_at(&t, false, 4096, 0, 5000, &w) == 1001 && w == 10 * MS,
	   "max without a length (1 s): 1001 go at once, then 10 ms each");
}

static void test_clock(void)
{
	struct throttle t = start("total_iops_sec=100"), u;
	struct thr_config c = config("total_iops_sec=100");
	uint64_t w;

	go_at(&t, false, 1, 0, 100, &w);
	ok(go_at(&t, false, 1, 3600 * SEC, 100, &w) == 11,
	   "an hour idle: still only 11 at once (levels stop at 0)");
	u = t;
	ok(throttle_admit(&t, false, 1, 3600 * SEC - 5 * MS) == 10 * MS &&
	   t.last_ns == 3600 * SEC && !memcmp(&t, &u, sizeof(t)),
	   "a clock 5 ms behind leaks nothing and changes nothing");
	throttle_init(&t, &c, 7 * SEC);
	ok(t.last_ns == 7 * SEC && t.level[THR_OPS_TOTAL] == 0 &&
	   go_at(&t, false, 1, 7 * SEC, 100, &w) == 11,
	   "throttle_init empties the buckets and starts the clock at now");
	t = start("total_iops_sec=3");
	throttle_admit(&t, false, 1, 0);
	w = throttle_admit(&t, false, 1, 0);
	ok(w == 233333334, "0.7 / 3 s is rounded up to 233333334 ns (%llu)",
	   (unsigned long long)w);
	t = start("total_bytes_sec=1000000000000000");
	throttle_admit(&t, true, 100000000000001ull, 0);
	w = throttle_admit(&t, true, 1, 0);
	ok(w == 1, "1 byte over at 10^15 B/s is 10^-6 ns: 1 ns (%llu)",
	   (unsigned long long)w);
	t = start("total_bytes_sec=1");
	throttle_admit(&t, true, 1ull << 62, 0);
	ok(throttle_admit(&t, true, 1, 0) == (uint64_t)INT64_MAX,
	   "a wait past INT64_MAX ns is INT64_MAX");
	t = start("read_bytes_sec=1");
	ok(go_at(&t, true, MIB, 0, 1000, &w) == 1000,
	   "unlimited buckets never make a request wait");
}

/* ---- keys, values and the rules ------------------------------------------- */

/*
 * libvirt's formatdomain <iotune> names, in the order throttle.h lists:
 * {total,read,write}_{bytes,iops}_sec, then with _max, then with
 * _max_length, then size_iops_sec.  Made here from those parts.
 */
#define NKEYS	19

static void libvirt_key(unsigned int i, char *name, size_t len)
{
	static const char *const dir[] = { "total", "read", "write" };
	static const char *const suffix[] = { "", "_max", "_max_length" };
	unsigned int b = i % 6;

	if (i == NKEYS - 1)
		snprintf(name, len, "size_iops_sec");
	else
		snprintf(name, len, "%s_%s_sec%s", dir[b % 3],
			 b < 3 ? "bytes" : "iops", suffix[i / 6]);
}

static void test_keys(void)
{
	struct thr_config c, p;
	char name[64], v[32], list[1024], err[256];
	size_t len = 0;
	unsigned int i;
	bool same = thr_nkeys() == NKEYS, back = true;

	memset(&c, 0, sizeof(c));
	memset(&p, 0, sizeof(p));
	for (i = 0; i < NKEYS; i++) {
		libvirt_key(i, name, sizeof(name));
		same = same && thr_key_name(i) && !strcmp(thr_key_name(i), name);
		snprintf(v, sizeof(v), "%u", 7 * (i + 1));
		back = back && !thr_config_set(&c, name, v, err, sizeof(err)) &&
		       thr_key_get(&c, i) == 7 * (i + 1);
		len += snprintf(list + len, sizeof(list) - len, "%s%s=%u",
				i ? "," : "", name, 11 * (i + 1));
	}
	ok(same && !thr_key_name(NKEYS), "the 19 keys are libvirt's, in order");
	ok(back, "every key set from text reads back");
	ok(!thr_config_parse(&p, list, err, sizeof(err)), "a list of all 19 parses");
	for (i = 0, back = true; i < NKEYS; i++)
		back = back && thr_key_get(&p, i) == 11 * (i + 1);
	ok(back && p.size_iops == 11 * NKEYS && p.b[THR_OPS_WRITE].max_length == 11 * 18,
	   "each lands in its field");
	ok(thr_key_get(&p, NKEYS) == 0, "a key past the end reads 0");
}

static void test_values(void)
{
	static const struct { const char *value, *why; } bad[] = {
		{ "-1", "negative" }, { "", "empty" }, { "1e3", "not a decimal" },
		{ "0x10", "not a decimal" }, { " 1", "not a decimal" },
		{ "1 ", "not a decimal" }, { "+1", "not a decimal" },
		{ "1.5", "not a decimal" },
		{ "99999999999999999999", "too big" },
		{ "1000000000000001", "too big" },
	};
	struct thr_config c = config("read_iops_sec=9"), before = c;
	char err[256];
	unsigned int i;
	int rc;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		rc = thr_config_set(&c, "read_iops_sec", bad[i].value, err, sizeof(err));
		ok(rc == -1 && strstr(err, "read_iops_sec") && strstr(err, bad[i].why) &&
		   !memcmp(&c, &before, sizeof(c)),
		   "'%s' refused, unchanged: %s", bad[i].value, err);
	}
	ok(!thr_config_set(&c, "total_bytes_sec", "1000000000000000", err, sizeof(err)) &&
	   c.b[THR_BPS_TOTAL].avg == THR_VALUE_MAX, "THR_VALUE_MAX itself is taken");
	ok(!thr_config_set(&c, "read_iops_sec", "007", err, sizeof(err)) &&
	   c.b[THR_OPS_READ].avg == 7, "leading zeros are decimal: 007 is 7");
	ok(!thr_config_set(&c, "read_iops_sec", "0", err, sizeof(err)) &&
	   !c.b[THR_OPS_READ].avg, "0 removes a limit");
	c = before;
	ok(thr_config_set(&c, "bogus", "1", err, sizeof(err)) == -1 &&
	   strstr(err, "unknown key 'bogus'") && !memcmp(&c, &before, sizeof(c)),
	   "unknown key: %s", err);
	ok(thr_config_set(&c, "TOTAL_IOPS_SEC", "1", err, sizeof(err)) == -1 &&
	   strstr(err, "unknown"), "names are case-sensitive");
	ok(thr_config_set(&c, "group_name", "a", err, sizeof(err)) == -1 &&
	   strstr(err, "group_name is not supported"), "group_name: %s", err);
}

static void test_parse(void)
{
	static const char *const bad[] = {
		"", ",", "read_iops_sec=1,", ",read_iops_sec=1",
		"read_iops_sec=1,,write_iops_sec=1", "read_iops_sec",
		"read_iops_sec=5,bogus=1", "read_iops_sec=5,write_iops_sec=-1",
		"=5", "read_iops_sec=5 ,write_iops_sec=1",
	};
	struct thr_config c = config("read_iops_sec=9"), before = c;
	char err[256];
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		ok(thr_config_parse(&c, bad[i], err, sizeof(err)) == -1 && err[0] &&
		   !memcmp(&c, &before, sizeof(c)),
		   "'%s' refused, nothing changed: %s", bad[i], err);
	}
	ok(!thr_config_parse(&c, "write_bytes_sec=5,read_iops_sec=0,write_bytes_sec=6",
			     err, sizeof(err)) &&
	   c.b[THR_BPS_WRITE].avg == 6 && !c.b[THR_OPS_READ].avg,
	   "a good list applies in order (the last of a key wins, 0 removes)");
}

static void test_rules(void)
{
	static const struct { const char *list, *fault; } rules[] = {
		{ "total_bytes_sec=1,read_bytes_sec=1", "total_bytes_sec cannot be used" },
		{ "total_bytes_sec=1,write_bytes_sec=1", "total_bytes_sec cannot be used" },
		{ "total_iops_sec=1,read_iops_sec=1", "total_iops_sec cannot be used" },
		{ "total_iops_sec_max=10,read_iops_sec=5,read_iops_sec_max=10",
		  "total_iops_sec_max cannot be used" },
		{ "total_iops_sec=100,total_iops_sec_max=50", "lower than total_iops_sec" },
		{ "write_bytes_sec_max=50", "write_bytes_sec_max needs write_bytes_sec" },
		{ "read_iops_sec=100,read_iops_sec_max_length=5",
		  "read_iops_sec_max_length needs read_iops_sec_max" },
		{ "size_iops_sec=4096,total_bytes_sec=1", "size_iops_sec needs" },
		{ "total_bytes_sec=1000,total_bytes_sec_max=1000000000000000,total_bytes_sec_max_length=2",
		  "total_bytes_sec_max times total_bytes_sec_max_length" },
		{ "total_bytes_sec=1,read_iops_sec=1", NULL },
		{ "read_bytes_sec=1,write_bytes_sec=2,total_iops_sec=3", NULL },
		{ "total_iops_sec=100,total_iops_sec_max=100", NULL },
		{ "total_iops_sec=100,total_iops_sec_max=1000,total_iops_sec_max_length=5", NULL },
		{ "total_iops_sec_max_length=1", NULL },
		{ "size_iops_sec=4096,write_iops_sec=10", NULL },
	};
	struct thr_config c;
	char err[256];
	unsigned int i;
	int rc;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		memset(&c, 0, sizeof(c));
		err[0] = 0;
		if (thr_config_parse(&c, rules[i].list, err, sizeof(err))) {
			ok(false, "%s parses: %s", rules[i].list, err);
			continue;
		}
		rc = thr_config_check(&c, err, sizeof(err));
		if (rules[i].fault)
			ok(rc == -1 && strstr(err, rules[i].fault), "%s refused: %s",
			   rules[i].list, err);
		else
			ok(rc == 0, "%s is consistent", rules[i].list);
	}
	memset(&c, 0, sizeof(c));
	c.b[THR_OPS_READ].avg = THR_VALUE_MAX + 1;
	ok(thr_config_check(&c, err, sizeof(err)) == -1 && strstr(err, "read_iops_sec"),
	   "a value over THR_VALUE_MAX set directly: %s", err);
}

static void test_enabled(void)
{
	struct thr_config c;

	memset(&c, 0, sizeof(c));
	ok(!thr_config_enabled(&c) && !thr_config_check(&c, NULL, 0),
	   "no limits: not enabled, consistent");
	c = config("total_iops_sec_max_length=1");
	ok(!thr_config_enabled(&c), "a burst length alone limits nothing");
	c = config("write_bytes_sec=1");
	ok(thr_config_enabled(&c), "one average enables it");
	thr_config_set(&c, "write_bytes_sec", "0", NULL, 0);
	ok(!thr_config_enabled(&c), "and setting it to 0 disables it again");
}

int main(void)
{
	test_iops();
	test_rate();
	test_bps();
	test_directions();
	test_size_iops();
	test_burst();
	test_clock();
	test_keys();
	test_values();
	test_parse();
	test_rules();
	test_enabled();
	return tap_done();
}
