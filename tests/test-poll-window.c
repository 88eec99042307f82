// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-poll-window.c: src/poll_window.c's adaptive polling window, on a
 * clock the test moves by hand (nothing sleeps, nothing is timed).  A
 * small model of the I/O thread's loop feeds it work that comes at given
 * gaps and checks, step by step, when the thread polls, when it sleeps,
 * how the window grows and shrinks, and how much it polls in all.
 */
#include <stdio.h>
#include <string.h>

#include "poll_window.h"
#include "tap.h"

#define US	1000ull
#define MS	(1000 * US)
#define SEC	(1000 * MS)

/* The model thread: its window, its clock, and what it spent. */
struct model {
	struct poll_window pw;
	uint64_t now;		/* the time of the last work */
	uint64_t polled_ns;	/* time spent polling in all */
	unsigned int sleeps;	/* times it went to sleep */
};

static void model_init(struct model *m, uint64_t max_ns)
{
	memset(m, 0, sizeof(*m));
	poll_window_init(&m->pw, max_ns);
}

/*
 * The next work comes gap ns after the last.  The thread polls while its
 * window is open (poll_window_open(), as loop() asks), then sleeps until
 * the work comes.  True if it slept.
 */
static bool model_work(struct model *m, uint64_t gap)
{
	uint64_t t = m->now, win = m->pw.cur_ns;
	bool slept = !poll_window_open(&m->pw, m->now, m->now + gap);

	if (slept) {
		m->polled_ns += win;
		m->sleeps++;
		poll_window_slept(&m->pw, gap - win + 1);
	} else {
		m->polled_ns += gap;
	}
	m->now = t + gap;
	return slept;
}

/* Nothing comes: it polls out its window and sleeps until a timer at gap. */
static void model_timer(struct model *m, uint64_t gap)
{
	uint64_t win = m->pw.cur_ns;

	m->polled_ns += win < gap ? win : gap;
	m->sleeps++;
	poll_window_idle(&m->pw, gap - win + 1);
	m->now += gap;
}

static void test_off(void)
{
	struct model m;
	bool all_slept = true;

	model_init(&m, 0);
	for (int i = 0; i < 100; i++)
		all_slept &= model_work(&m, 2 * US);
	ok(all_slept && m.pw.cur_ns == 0 && m.polled_ns == 0,
	   "ceiling 0: never polls, whatever the gaps (window %llu, polled %llu ns)",
	   (unsigned long long)m.pw.cur_ns, (unsigned long long)m.polled_ns);
}

static void test_grow(void)
{
	static const uint64_t want[] = { 4 * US, 8 * US, 16 * US, 32 * US, 32 * US };
	struct model m;
	bool seq = true;

	model_init(&m, 32 * US);
	ok(m.pw.cur_ns == 0, "the window starts at 0");
	/* Work every 30 us: each sleep shows a longer window would pay. */
	for (size_t i = 0; i < 4; i++) {
		seq &= model_work(&m, 30 * US);
		seq &= m.pw.cur_ns == want[i];
	}
	ok(seq, "30 us gaps under a 32 us ceiling: 4, 8, 16, 32 us after each sleep");
	ok(!model_work(&m, 30 * US) && m.pw.cur_ns == 32 * US,
	   "then the work comes inside the window: no sleep, window unchanged");
	for (int i = 0; i < 1000; i++)
		model_work(&m, 30 * US);
	ok(m.sleeps == 4, "1000 more such gaps: still only the first 4 sleeps (%u)",
	   m.sleeps);
}

static void test_short_gaps(void)
{
	struct model m;

	model_init(&m, 50 * US);
	model_work(&m, 3 * US);
	ok(m.pw.cur_ns == 4 * US, "a 3 us gap opens a 4 us window");
	ok(!model_work(&m, 3 * US) && m.pw.cur_ns == 4 * US,
	   "and the next 3 us gap is caught by it, the window staying 4 us");
	model_work(&m, 10 * US);
	ok(m.pw.cur_ns == 8 * US, "a 10 us gap (6 us of sleep) doubles it to 8 us");
	model_work(&m, 10 * US);
	ok(m.pw.cur_ns == 16 * US && !model_work(&m, 10 * US),
	   "the next doubles it to 16 us, which catches the third");
}

static void test_ceiling(void)
{
	struct model m;

	model_init(&m, 20 * US);
	for (int i = 0; i < 10; i++)
		model_work(&m, 19 * US);
	ok(m.pw.cur_ns == 20 * US, "the window never passes the ceiling (20 us, got %llu)",
	   (unsigned long long)m.pw.cur_ns);
	model_init(&m, 20 * US);
	for (int i = 0; i < 10; i++)
		model_work(&m, 21 * US);
	ok(m.pw.cur_ns == 0 && m.polled_ns == 0,
	   "gaps just over the ceiling never open it (window %llu, polled %llu ns)",
	   (unsigned long long)m.pw.cur_ns, (unsigned long long)m.polled_ns);
}

static void test_shrink(void)
{
	static const uint64_t want[] = { 16 * US, 8 * US, 4 * US, 0 };
	struct model m;
	bool seq = true;

	model_init(&m, 32 * US);
	for (int i = 0; i < 5; i++)
		model_work(&m, 30 * US);
	/* Now each piece of work is 1 ms after the last. */
	for (size_t i = 0; i < 4; i++) {
		model_work(&m, 1 * MS);
		seq &= m.pw.cur_ns == want[i];
	}
	ok(seq, "1 ms gaps halve it: 16, 8, 4, then 0 us");
	model_init(&m, 32 * US);
	for (int i = 0; i < 5; i++)
		model_work(&m, 30 * US);
	model_work(&m, 20 * US);
	model_work(&m, 40 * US);
	ok(m.pw.cur_ns == 16 * US,
	   "a gap the ceiling could not cover halves it even when the sleep was short (%llu)",
	   (unsigned long long)m.pw.cur_ns);
	model_init(&m, 1 * MS);
	for (int i = 0; i < 30; i++)
		model_work(&m, 900 * US);
	model_work(&m, 1100 * US);
	ok(m.pw.cur_ns == 500 * US,
	   "with a 1 ms ceiling: 900 us gaps open it to 1 ms, one 1.1 ms gap halves it (%llu)",
	   (unsigned long long)m.pw.cur_ns);
}

static void test_idle(void)
{
	static const uint64_t recheck[] = { 1 * MS, 10 * MS, 100 * MS, 1 * SEC, 10 * SEC };
	struct model m;
	uint64_t busy;

	model_init(&m, 32 * US);
	for (int i = 0; i < 100; i++)
		model_work(&m, 20 * US);
	busy = m.polled_ns;
	ok(m.pw.cur_ns == 32 * US, "busy at 20 us gaps: the window is open");
	poll_window_idle(&m.pw, 10 * US);
	ok(m.pw.cur_ns == 32 * US, "a wake-up for no work after 10 us changes nothing");
	/* The guest goes idle: only the idle rechecks wake the thread. */
	for (size_t i = 0; i < sizeof(recheck) / sizeof(recheck[0]); i++)
		model_timer(&m, recheck[i]);
	ok(m.pw.cur_ns == 0, "idle for 11.1 s with five timer wake-ups: the window is 0");
	ok(m.polled_ns - busy <= 32 * US + 16 * US + 8 * US + 4 * US,
	   "and it polled at most 60 us of those 11.1 s (%llu ns)",
	   (unsigned long long)(m.polled_ns - busy));
	model_work(&m, 5 * SEC);
	ok(m.pw.cur_ns == 0, "work after 5 s of sleep leaves it shut");
}

static void test_qd1(void)
{
	struct model one, kick;

	/*
	 * QD1 on a slow disk: the completion comes 100 us after the kick,
	 * the next kick 8 us after the completion.  With one window for
	 * both, the long gaps keep shutting it and the thread sleeps for
	 * every kick too.
	 */
	model_init(&one, 32 * US);
	for (int i = 0; i < 100; i++) {
		model_work(&one, 100 * US);
		model_work(&one, 8 * US);
	}
	ok(one.sleeps == 200, "one window for both gaps: 200 sleeps for 100 requests (%u)",
	   one.sleeps);
	/*
	 * loop() polls only with nothing of its own in flight: the window
	 * sees the gaps before kicks, never the disk's latency.
	 */
	model_init(&kick, 32 * US);
	for (int i = 0; i < 100; i++)
		model_work(&kick, 8 * US);
	ok(kick.pw.cur_ns == 16 * US && kick.sleeps == 3,
	   "the window opens (4, 8, 16 us) after 3 sleeps and catches the other kicks (%u sleeps)",
	   kick.sleeps);
	ok(kick.polled_ns <= 100 * 8 * US,
	   "polling costs at most the 8 us gap a request (%llu ns for 100)",
	   (unsigned long long)kick.polled_ns);
}

int main(void)
{
	test_off();
	test_grow();
	test_short_gaps();
	test_ceiling();
	test_shrink();
	test_idle();
	test_qd1();
	return tap_done();
}
