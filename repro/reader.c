/*
 * reader: what `ps` does to the target.  pread()s /proc/<pid>/cmdline in a loop with a
 * think time and records each read's latency; on 6.18 one short read takes mmap_lock(R)
 * twice (fs/proc/base.c: get_mm_cmdline(), two access_remote_vm() calls).
 *
 *   reader pid=N duration_ms=N think_us=N out=F
 */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *pid = arg(argc, argv, "pid", NULL);
	const char *out = arg(argc, argv, "out", NULL);
	long duration_ms = atol(arg(argc, argv, "duration_ms", "1000"));
	long think_us = atol(arg(argc, argv, "think_us", "1000"));
	struct vec read_ns = { 0 };
	char path[64], buf[4096];

	if (!pid || !out) {
		fprintf(stderr, "usage: reader pid=N out=F [duration_ms=N think_us=N]\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/proc/%s/cmdline", pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	long long start = now_ns(), end = start + duration_ms * 1000000LL, t0;
	while ((t0 = now_ns()) < end) {
		if (pread(fd, buf, sizeof(buf), 0) <= 0)
			break;	/* the target is gone */
		vec_push(&read_ns, now_ns() - t0);
		sleep_us(think_us);
	}
	FILE *f = fopen(out, "w");
	if (!f) {
		perror(out);
		return 1;
	}
	fprintf(f, "{\"elapsed_ns\": %lld, ", now_ns() - start);
	vec_dump(f, "read_ns", &read_ns);
	fprintf(f, "}\n");
	return fclose(f) == 0 ? 0 : 1;
}
