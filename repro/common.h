/* Helpers shared by target.c, reader.c and wake.c: a monotonic clock, a think-time sleep, a
 * growable array of latencies and its JSON dump. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	if (us > 0)
		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
}

struct vec {
	long long *v;
	size_t n, cap;
};

static void vec_push(struct vec *a, long long x)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 4096;
		a->v = realloc(a->v, a->cap * sizeof(*a->v));
		if (!a->v) {
			perror("realloc");
			exit(1);
		}
	}
	a->v[a->n++] = x;
}

static void vec_dump(FILE *f, const char *name, const struct vec *a)
{
	fprintf(f, "\"%s\": [", name);
	for (size_t i = 0; i < a->n; i++)
		fprintf(f, i ? ",%lld" : "%lld", a->v[i]);
	fprintf(f, "]");
}

/* "key=value" arguments: the value of key, or def. */
static const char *arg(int argc, char **argv, const char *key, const char *def)
{
	size_t k = strlen(key);
	for (int i = 1; i < argc; i++)
		if (strncmp(argv[i], key, k) == 0 && argv[i][k] == '=')
			return argv[i] + k + 1;
	return def;
}
