// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuzz.c: helpers shared by the fuzz harnesses.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

void fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz: invariant broken: %s\n", what);
	abort();
}
