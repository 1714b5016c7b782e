/*
 * wake: the scheduler's wake-up latency on this machine, as a distribution.  A waker
 * thread stamps the time and writes a byte to a pipe every gap_us; a sleeper blocked in
 * read() on it stamps the time when it runs again.  Each sample is that difference: what
 * a task woken by a lock release (or an IO completion) waits before it runs, measured
 * with nothing else of the reproducer running.
 *
 *   wake n=N gap_us=N out=F
 */
#define _GNU_SOURCE
#include "common.h"
#include <pthread.h>
#include <unistd.h>

static int fds[2];
static long n, gap_us;

static void *waker(void *unused)
{
	(void)unused;
	for (long i = 0; i < n; i++) {
		long long t = now_ns();
		if (write(fds[1], &t, sizeof(t)) != sizeof(t))
			break;
		sleep_us(gap_us);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *out = arg(argc, argv, "out", NULL);
	struct vec wake_ns = { 0 };
	pthread_t t;
	long long sent;

	n = atol(arg(argc, argv, "n", "1000"));
	gap_us = atol(arg(argc, argv, "gap_us", "1000"));
	if (!out || n <= 0 || pipe(fds) != 0) {
		fprintf(stderr, "usage: wake n=N gap_us=N out=F\n");
		return 2;
	}
	pthread_create(&t, NULL, waker, NULL);
	for (long i = 0; i < n && read(fds[0], &sent, sizeof(sent)) == sizeof(sent); i++)
		vec_push(&wake_ns, now_ns() - sent);
	pthread_join(t, NULL);
	FILE *f = fopen(out, "w");
	if (!f) {
		perror(out);
		return 1;
	}
	fprintf(f, "{");
	vec_dump(f, "wake_ns", &wake_ns);
	fprintf(f, "}\n");
	return fclose(f) == 0 ? 0 : 1;
}
