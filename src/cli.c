// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cli.c: owns the parsing of option values common to the daemons' command
 * lines: bounded numbers, permission modes and on/off switches.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"

int cli_parse_uint(const char *opt, const char *arg, unsigned long min,
		   unsigned long max, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v < min || v > max) {
		log_err("--%s=%s: expected a number from %lu to %lu", opt, arg,
			min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int cli_parse_mode(const char *opt, const char *arg, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 8);
	if (errno || end == arg || *end || arg[0] == '-' || v > 0777) {
		log_err("--%s=%s: expected octal permissions such as 0600", opt, arg);
		return -1;
	}
	*out = v;
	return 0;
}

int cli_parse_on_off(const char *opt, const char *arg, bool *out)
{
	if (strcmp(arg, "on") && strcmp(arg, "off")) {
		log_err("--%s=%s: expected on or off", opt, arg);
		return -1;
	}
	*out = !strcmp(arg, "on");
	return 0;
}
