/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * poll_window.h: how long an I/O thread keeps polling its rings after the
 * last work before it sleeps, adapted to the gaps it sees between pieces
 * of work.  Pure arithmetic on times the caller passes: the I/O thread
 * feeds it its clock, tests/test-poll-window feeds it a clock of its own.
 */
#ifndef VU_POLL_WINDOW_H
#define VU_POLL_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

/* The first window, once a sleep shows that polling would have paid. */
#define POLL_WINDOW_START_NS	4000ull

struct poll_window {
	uint64_t max_ns;	/* the ceiling (--poll-us); 0: never poll */
	uint64_t cur_ns;	/* the window now, 0 to max_ns */
};

/* Start with no window, able to grow up to max_ns. */
void poll_window_init(struct poll_window *pw, uint64_t max_ns);

/*
 * The thread polled for the whole window, slept for slept_ns, and then
 * found work.  A gap the ceiling would have covered grows the window
 * (doubling from POLL_WINDOW_START_NS, at most max_ns); a longer one
 * halves it, and a window below POLL_WINDOW_START_NS becomes 0.
 */
void poll_window_slept(struct poll_window *pw, uint64_t slept_ns);

/*
 * The thread slept for slept_ns and woke for something that is not work
 * (a timer, a control request): only a sleep longer than the ceiling says
 * anything (the thread was idle), and it shrinks the window as above.
 */
void poll_window_idle(struct poll_window *pw, uint64_t slept_ns);

/* Should a thread whose last work was at last_ns still poll at now_ns? */
static inline bool poll_window_open(const struct poll_window *pw,
				    uint64_t last_ns, uint64_t now_ns)
{
	return now_ns - last_ns < pw->cur_ns;
}

#endif
