// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cli.c: owns what the daemons' command lines have in common: parsing
 * bounded numbers, permission modes and on/off switches, the options that
 * answer at once, and the socket options' rules.
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

bool cli_answer_early(int argc, char **argv, const char *prog,
		      const char *caps_json, void (*usage)(FILE *f))
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--print-capabilities")) {
			printf("%s\n", caps_json);
			return true;
		}
		if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return true;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("%s %s\n", prog, PACKAGE_VERSION);
			return true;
		}
	}
	return false;
}

int cli_check_socket_args(int argc, char **argv, int optind,
			  const char *socket_path, int fd)
{
	if (optind < argc) {
		log_err("unexpected argument: %s", argv[optind]);
		return -1;
	}
	if (!socket_path == (fd < 0)) {
		log_err("exactly one of --socket-path and --fd is required");
		return -1;
	}
	return 0;
}
