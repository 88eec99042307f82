/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-op.h: one engine operation a test queues and waits for (test-engine,
 * test-sandbox): the operation, whether it completed, and its result.
 */
#ifndef VU_TEST_OP_H
#define VU_TEST_OP_H

#include <stdbool.h>

#include "engine.h"

struct result {
	struct io_op op;	/* first: on_done casts back */
	bool done;
	int res;
};

static inline void on_done(struct io_op *op, int res)
{
	struct result *r = (struct result *)op;

	r->done = true;
	r->res = res;
}

#endif
