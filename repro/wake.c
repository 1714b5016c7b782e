/*
 * wake: the scheduler's wake-up latency on this machine, as a distribution.  A waker
 * thread stamps the time and writes a byte to a pipe every gap_us; a sleeper blocked in
 * read() on it stamps the time when it runs again.  Each sample is that difference: what
 * a task woken by a lock release (or an IO completion) waits before it runs, measured
 * with nothing else of the reproducer running.  That is the idle path of docs/model.md
 * §14.2: the sleeper wakes onto an idle CPU.
 *
 * pin=1 measures the busy path (§14.3) instead: both threads pinned to one CPU, the waker
 * blocks in read() on a second pipe right after its write, so the sleeper runs only once
 * its waker sleeps; a sample is the write's syscall, the waker's way into schedule() and
 * the context switch.  The sleeper's answer lets the waker go on.
 *
 * pin=2 measures a wake-up onto another, idle CPU (docs/model.md §14.8, wake_remote):
 * the waker pinned to the first CPU this process may run on, the sleeper to the second;
 * as in the unpinned probe the waker sleeps gap_us after each write, so the sleeper's CPU
 * is idle when the write wakes it.
 *
 * sleep=1 measures instead how long a think time of gap_us really sleeps (nanosleep()
 * and the timer's slack and wake-up): the reproducer's loops sleep so between iterations.
 *
 *   wake n=N gap_us=N out=F [pin=1 | pin=2 | sleep=1]
 */
#define _GNU_SOURCE
#include "common.h"
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

static int fds[2], back[2];
static long n, gap_us, pinned;
static cpu_set_t one_cpu, other_cpu;

/* Pin the calling thread to the first CPU this process may run on. */
static int pin_here(void)
{
	return pthread_setaffinity_np(pthread_self(), sizeof(one_cpu), &one_cpu);
}

/* The first (k = 0) or second (k = 1) CPU this process may run on, as a set; -1 if none. */
static int nth_allowed(int k, cpu_set_t *set)
{
	cpu_set_t allowed;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
		return -1;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &allowed) && k-- == 0) {
			CPU_ZERO(set);
			CPU_SET(cpu, set);
			return cpu;
		}
	return -1;
}

static void *waker(void *unused)
{
	char ack;
	(void)unused;
	if (pinned && pin_here() != 0) {
		close(fds[1]);          /* the sleeper's read() returns 0: main stops */
		return NULL;
	}
	for (long i = 0; i < n; i++) {
		long long t = now_ns();
		if (write(fds[1], &t, sizeof(t)) != sizeof(t))
			break;
		if (pinned == 1 && read(back[0], &ack, 1) != 1)
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
	pinned = atol(arg(argc, argv, "pin", "0"));
	if (atol(arg(argc, argv, "sleep", "0"))) {
		for (long i = 0; i < n; i++) {
			long long t0 = now_ns();
			sleep_us(gap_us);
			vec_push(&wake_ns, now_ns() - t0);
		}
		goto dump;
	}
	if (!out || n <= 0 || pipe(fds) != 0 || pipe(back) != 0) {
		fprintf(stderr, "usage: wake n=N gap_us=N out=F [pin=1 | pin=2 | sleep=1]\n");
		return 2;
	}
	if (pinned && nth_allowed(0, &one_cpu) < 0)
		return 1;
	if (pinned == 2 && nth_allowed(1, &other_cpu) < 0) {
		fprintf(stderr, "wake: pin=2 needs two CPUs this process may run on\n");
		return 2;
	}
	if (pinned && pthread_setaffinity_np(pthread_self(), sizeof(one_cpu),
					     pinned == 2 ? &other_cpu : &one_cpu) != 0) {
		perror("pthread_setaffinity_np");
		return 1;
	}
	pthread_create(&t, NULL, waker, NULL);
	for (long i = 0; i < n && read(fds[0], &sent, sizeof(sent)) == sizeof(sent); i++) {
		vec_push(&wake_ns, now_ns() - sent);
		if (pinned == 1 && write(back[1], "", 1) != 1)
			break;
	}
	pthread_join(t, NULL);
dump:;
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
