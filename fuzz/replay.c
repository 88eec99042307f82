// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * replay.c: runs a fuzz harness without libFuzzer, over every file of its
 * corpus, as a TAP test (one line per file).  Without arguments the corpus
 * is $top_srcdir/fuzz/corpus/FUZZ_NAME; with arguments, the files or
 * directories named.  An input that makes the harness crash ends the
 * program, which the test driver reports as a failure.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "tap.h"

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_file(const char *path)
{
	struct stat st;
	uint8_t *buf;
	FILE *f = fopen(path, "rb");
	size_t n = 0;

	if (!f || fstat(fileno(f), &st) < 0) {
		ok(false, "%s: cannot read %s", FUZZ_NAME, path);
		if (f)
			fclose(f);
		return;
	}
	buf = malloc(st.st_size ? st.st_size : 1);
	if (buf)
		n = fread(buf, 1, st.st_size, f);
	fclose(f);
	if (!buf || n != (size_t)st.st_size) {
		ok(false, "%s: cannot read %s", FUZZ_NAME, path);
		free(buf);
		return;
	}
	/* An exact-size copy, so that ASan sees any read past the input. */
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	ok(true, "%s: %s", FUZZ_NAME, strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
}

static void run_dir(const char *dir)
{
	char **names = NULL, path[4096];
	size_t n = 0;
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d) {
		ok(false, "%s: cannot open the corpus %s", FUZZ_NAME, dir);
		return;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp);
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		run_file(path);
		free(names[i]);
	}
	free(names);
	if (n == 0)
		ok(false, "%s: the corpus %s is empty", FUZZ_NAME, dir);
}

static void run_path(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		run_dir(path);
	else
		run_file(path);
}

int main(int argc, char **argv)
{
	char dir[4096];
	const char *top = getenv("top_srcdir");

	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			run_path(argv[i]);
	} else {
		snprintf(dir, sizeof(dir), "%s/fuzz/corpus/%s", top ? top : ".",
			 FUZZ_NAME);
		run_dir(dir);
	}
	return tap_done();
}
