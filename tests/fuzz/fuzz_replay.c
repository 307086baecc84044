/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_replay.c — runs a libFuzzer target over corpus directories without libFuzzer,
 * so every build (gcc included) replays the tests/fuzz/corpus directories in the unit suite.
 * Usage: fuzz_replay_X DIR...   Fails when a directory is unreadable or empty (a
 * corpus that silently vanished would make the test pass vacuously).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) {
		fprintf(stderr, "%s: cannot read\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "%s: cannot read\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned total = 0;

	for (int i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		struct dirent *e;
		unsigned n = 0;
		if (d == NULL) {
			fprintf(stderr, "%s: cannot open corpus\n", argv[i]);
			return 1;
		}
		while ((e = readdir(d)) != NULL) {
			char p[4096];
			if (e->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", argv[i], e->d_name);
			if (replay_file(p) < 0) {
				closedir(d);
				return 1;
			}
			n++;
		}
		closedir(d);
		if (n == 0) {
			fprintf(stderr, "%s: empty corpus\n", argv[i]);
			return 1;
		}
		total += n;
	}
	printf("replayed %u inputs\n", total);
	return total ? 0 : 1;
}
