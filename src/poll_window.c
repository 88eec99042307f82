// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * poll_window.c: the adaptive polling window of an I/O thread.
 *
 * Polling pays when the next piece of work (a kick, a completion) comes
 * soon after the last: the thread sees it at once, with no sleep, no
 * wake-up and no notification from the front end.  It costs a CPU while
 * nothing comes.  So the window starts at zero, grows while the thread
 * keeps going to sleep only to be woken again within the ceiling, and
 * shrinks as soon as it sleeps for longer than the ceiling: an idle guest
 * brings it back to zero after a few sleeps.
 */
#include "poll_window.h"

void poll_window_init(struct poll_window *pw, uint64_t max_ns)
{
	pw->max_ns = max_ns;
	pw->cur_ns = 0;
}

static void shrink(struct poll_window *pw)
{
	pw->cur_ns /= 2;
	if (pw->cur_ns < POLL_WINDOW_START_NS)
		pw->cur_ns = 0;
}

static void grow(struct poll_window *pw)
{
	uint64_t next = pw->cur_ns ? pw->cur_ns * 2 : POLL_WINDOW_START_NS;

	pw->cur_ns = next < pw->max_ns ? next : pw->max_ns;
}

void poll_window_slept(struct poll_window *pw, uint64_t slept_ns)
{
	if (!pw->max_ns)
		return;
	/*
	 * The work came slept_ns after the window closed, so cur_ns +
	 * slept_ns after the last work: a window that size would have seen
	 * it without sleeping.
	 */
	if (slept_ns > pw->max_ns || pw->cur_ns + slept_ns > pw->max_ns)
		shrink(pw);
	else
		grow(pw);
}

void poll_window_idle(struct poll_window *pw, uint64_t slept_ns)
{
	if (pw->max_ns && slept_ns > pw->max_ns)
		shrink(pw);
}
