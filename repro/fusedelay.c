/*
 * fusedelay: a FUSE file system with one file, "data" (one page), whose READ and WRITE
 * replies are delayed by D microseconds: a slow or throttled device as the page cache
 * sees it.
 *
 *   fusedelay DELAY_US FAIL MOUNTPOINT [-f] [-o opts]
 *
 * FAIL = 1: every other READ (the 1st, 3rd, ...) fails with EIO after its delay.  A
 * fault on an uncached page of a VM_RAND_READ mapping reads the page in its first pass
 * with the lock dropped (mm/filemap.c: filemap_fault(), page_not_uptodate:
 * maybe_unlock_mmap_for_io()) and returns VM_FAULT_RETRY whatever the read gave; when
 * that read failed, the TRIED retry pass finds the page not uptodate and reads it again
 * holding mmap_lock(R), as it cannot drop (fault_flag_allow_retry_first()).  That second
 * READ succeeds, so every fault makes exactly two READs and the parity stays in step.
 * A failed read stands for any reason the retry finds the page not uptodate (evicted in
 * between, readahead aborted): the retry pass does the same work under the same lock.
 * FAIL = 0: every READ succeeds.
 *
 * With MCSIM_SERVER_OUT=F in the environment, the server writes to F as it exits
 * ({"recv_cpu_ns": [...]}) the CPU time (CLOCK_THREAD_CPUTIME_ID) each READ or WRITE
 * cost its thread before the delay began: from the end of the same thread's previous
 * request (its reply sent) to the handler's start, which holds reading the request from
 * /dev/fuse once woken, and libfuse's dispatch.  That is the server's CPU work at a
 * request's arrival, which occupies a CPU while the thread that sent the request may
 * still run (mcsim's io_cpu, docs/realkernel.md); a thread's first request has no
 * sample.
 *
 * Built by mcsim.realkernel with: cc -O2 fusedelay.c $(pkg-config --cflags --libs fuse3)
 */
#define FUSE_USE_VERSION 31
#include <fuse_lowlevel.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FILE_INO 2
#define FILE_SIZE 4096

static long delay_us;
static int fail;
static atomic_long n_reads;
static char content[FILE_SIZE];
static pthread_mutex_t content_lock = PTHREAD_MUTEX_INITIALIZER;

/* The receive-side CPU time of each request (see the header). */
static pthread_mutex_t recv_lock = PTHREAD_MUTEX_INITIALIZER;
static long long *recv_ns;
static size_t recv_n, recv_cap;
static __thread long long last_end = -1;	/* this thread's CPU time at its last reply */

static long long thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void request_start(void)
{
	long long t = thread_cpu_ns();
	if (last_end < 0)
		return;
	pthread_mutex_lock(&recv_lock);
	if (recv_n == recv_cap) {
		long long *grown;
		recv_cap = recv_cap ? 2 * recv_cap : 4096;
		grown = realloc(recv_ns, recv_cap * sizeof(*recv_ns));
		if (!grown) {
			perror("realloc");
			exit(1);
		}
		recv_ns = grown;
	}
	recv_ns[recv_n++] = t - last_end;
	pthread_mutex_unlock(&recv_lock);
}

static void request_end(void)
{
	last_end = thread_cpu_ns();
}

static int dump_recv(void)
{
	const char *path = getenv("MCSIM_SERVER_OUT");
	FILE *f;
	if (!path)
		return 0;
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		return -1;
	}
	fprintf(f, "{\"recv_cpu_ns\": [");
	for (size_t i = 0; i < recv_n; i++)
		fprintf(f, i ? ",%lld" : "%lld", recv_ns[i]);
	fprintf(f, "]}\n");
	return fclose(f) == 0 ? 0 : -1;
}

static void delay(void)
{
	struct timespec ts = { delay_us / 1000000, (delay_us % 1000000) * 1000 };
	if (delay_us > 0)
		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
}

static int fill_stat(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	if (ino == FUSE_ROOT_ID) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	} else if (ino == FILE_INO) {
		st->st_mode = S_IFREG | 0644;
		st->st_nlink = 1;
		st->st_size = FILE_SIZE;
	} else {
		return -1;
	}
	return 0;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	if (parent != FUSE_ROOT_ID || strcmp(name, "data") != 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = FILE_INO;
	e.attr_timeout = 3600;
	e.entry_timeout = 3600;
	fill_stat(FILE_INO, &e.attr);
	fuse_reply_entry(req, &e);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;
	(void)fi;
	if (fill_stat(ino, &st) < 0)
		fuse_reply_err(req, ENOENT);
	else
		fuse_reply_attr(req, &st, 3600);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	char buf[256];
	struct stat st = { .st_ino = FILE_INO, .st_mode = S_IFREG };
	size_t n = 0;
	(void)fi;
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	if (off == 0)
		n = fuse_add_direntry(req, buf, sizeof(buf), "data", &st, 1);
	fuse_reply_buf(req, buf, n < size ? n : size);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino != FILE_INO) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	fi->keep_cache = 1;
	fuse_reply_open(req, fi);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	char buf[FILE_SIZE];
	size_t n = 0;
	long nth = atomic_fetch_add(&n_reads, 1);
	(void)ino; (void)fi;
	request_start();
	delay();
	if (off < FILE_SIZE) {
		n = (size_t)(FILE_SIZE - off) < size ? (size_t)(FILE_SIZE - off) : size;
		pthread_mutex_lock(&content_lock);
		memcpy(buf, content + off, n);
		pthread_mutex_unlock(&content_lock);
	}
	if (fail && nth % 2 == 0)
		fuse_reply_err(req, EIO);
	else
		fuse_reply_buf(req, buf, n);
	request_end();
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *data, size_t size,
		     off_t off, struct fuse_file_info *fi)
{
	(void)ino; (void)fi;
	request_start();
	delay();
	if (off < FILE_SIZE) {
		size_t n = (size_t)(FILE_SIZE - off) < size ? (size_t)(FILE_SIZE - off) : size;
		pthread_mutex_lock(&content_lock);
		memcpy(content + off, data, n);
		pthread_mutex_unlock(&content_lock);
	}
	fuse_reply_write(req, size);
	request_end();
}

static const struct fuse_lowlevel_ops ops = {
	.lookup = op_lookup,
	.getattr = op_getattr,
	.readdir = op_readdir,
	.open = op_open,
	.read = op_read,
	.write = op_write,
};

int main(int argc, char **argv)
{
	struct fuse_cmdline_opts opts;
	int ret = 1;

	if (argc < 4) {
		fprintf(stderr, "usage: %s DELAY_US FAIL MOUNTPOINT [-f] [-o opts]\n", argv[0]);
		return 2;
	}
	delay_us = atol(argv[1]);
	fail = atoi(argv[2]);
	memset(content, 'x', sizeof(content));
	argv[2] = argv[0];	/* fuse sees: prog MOUNTPOINT [options] */
	struct fuse_args args = FUSE_ARGS_INIT(argc - 2, argv + 2);
	if (fuse_parse_cmdline(&args, &opts) != 0 || !opts.mountpoint)
		return 2;
	struct fuse_session *session = fuse_session_new(&args, &ops, sizeof(ops), NULL);
	if (!session)
		goto out;
	if (fuse_set_signal_handlers(session) != 0)
		goto out_destroy;
	if (fuse_session_mount(session, opts.mountpoint) != 0)
		goto out_signals;
	/* Tell the runner the mount is live (it polls the file as well). */
	printf("mounted\n");
	fflush(stdout);
	ret = fuse_session_loop_mt(session, 0);
	fuse_session_unmount(session);
	if (dump_recv() != 0)
		ret = 1;
out_signals:
	fuse_remove_signal_handlers(session);
out_destroy:
	fuse_session_destroy(session);
out:
	free(opts.mountpoint);
	fuse_opt_free_args(&args);
	return ret ? 1 : 0;
}
