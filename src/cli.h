/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli.h: command-line value parsing shared by the daemons.  Each parser
 * logs one line naming the option and what it expected, and returns -1,
 * on a bad value.
 */
#ifndef VU_CLI_H
#define VU_CLI_H

#include <stdbool.h>
#include <stdio.h>

/* A decimal number in [min, max]. */
int cli_parse_uint(const char *opt, const char *arg, unsigned long min,
		   unsigned long max, unsigned int *out);
/* Octal permissions such as 0600 or 660 (--socket-mode). */
int cli_parse_mode(const char *opt, const char *arg, unsigned int *out);
/* "on" or "off". */
int cli_parse_on_off(const char *opt, const char *arg, bool *out);

/*
 * --print-capabilities (prints caps_json), --help (usage on stdout) and
 * --version ignore every other argument.  True when argv holds one of them
 * and it was answered: the program exits 0.
 */
bool cli_answer_early(int argc, char **argv, const char *prog,
		      const char *caps_json, void (*usage)(FILE *f));
/*
 * After getopt: no stray arguments (from optind on), and exactly one of
 * --socket-path and --fd.  Returns 0 or -1 after a log line.
 */
int cli_check_socket_args(int argc, char **argv, int optind,
			  const char *socket_path, int fd);

#endif
