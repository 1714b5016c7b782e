/*
 * target: the process whose mmap_lock is contended.  One thread faults on a shared
 * mapping of the FUSE file in a loop, one writer thread changes a VMA in a loop; each
 * sleeps its think time between iterations.  Runs for duration_ms, then writes per-
 * iteration latencies to out as JSON: the fault's ("fault_ns"), the writer's
 * ("writer_ns") and the fault loop's calls before its fault ("lead_ns":
 * sync_file_range() on mkwrite, madvise() and posix_fadvise() on retry), one of each per
 * fault-loop iteration in the same order as fault_ns.
 *
 *   target path=retry|mkwrite file=F duration_ms=N fault_think_us=N
 *          writer=none|same|other writer_think_us=N out=F
 *
 * path=retry: each iteration zaps the PTE (MADV_DONTNEED) and drops the page from the
 *   page cache (POSIX_FADV_DONTNEED), then reads the page: a major fault whose first pass
 *   (VMA lock) drops the lock for the READ and returns VM_FAULT_RETRY; that READ fails
 *   (fusedelay FAIL=1), so the TRIED retry pass reads the page again under mmap_lock(R).
 *   The mapping is MADV_RANDOM so that the first pass reads exactly the one page itself
 *   (no readahead, whose failure the first pass would retry on its own).
 * path=mkwrite: each iteration starts the writeback of the dirty page
 *   (sync_file_range(SYNC_FILE_RANGE_WRITE): the FUSE WRITE takes D) and writes the page
 *   at once: the write faults on the write-protected page and ->page_mkwrite
 *   (fs/fuse/file.c: fuse_page_mkwrite()) waits in folio_wait_writeback() holding the
 *   VMA lock (the VMA has ->map_pages, so mm/memory.c: vmf_can_call_fault() keeps it).
 * writer=same: madvise() of the faulting VMA, MADV_DONTFORK and MADV_DOFORK in turn, so
 *   that every call changes vm_flags (VM_DONTCOPY) and write-locks the VMA under
 *   mmap_lock(W) (mm/madvise.c: madvise_update_vma() -> vma_start_write()); the flag
 *   changes nothing on the fault path.  (Toggling PROT_EXEC with mprotect() does not:
 *   traced on 6.18, a fault on the VM_EXEC mapping read the page by readahead despite
 *   MADV_RANDOM (do_sync_mmap_readahead() tests VM_EXEC before VM_RAND_READ since 6.16),
 *   and its first pass re-read the failed page itself, outside mmap_lock.)
 * writer=other: mmap() or munmap() of an anonymous page elsewhere, alternately.
 */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096

static int fd, mkwrite;
static long fault_think_us, writer_think_us;
static const char *writer;
static char *page;
static atomic_int stop;
static struct vec fault_ns, writer_ns, lead_ns;

static void *fault_loop(void *unused)
{
	(void)unused;
	while (!atomic_load(&stop)) {
		long long t0, lead0 = now_ns();
		if (mkwrite) {
			/* Start the writeback of the page dirtied by the previous write, then
			 * write it at once: the fault waits for the whole FUSE WRITE. */
			sync_file_range(fd, 0, PAGE, SYNC_FILE_RANGE_WRITE);
			t0 = now_ns();
			vec_push(&lead_ns, t0 - lead0);
			((volatile char *)page)[0]++;
			vec_push(&fault_ns, now_ns() - t0);
		} else {
			madvise(page, PAGE, MADV_DONTNEED);
			posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
			t0 = now_ns();
			vec_push(&lead_ns, t0 - lead0);
			(void)((volatile char *)page)[0];
			vec_push(&fault_ns, now_ns() - t0);
		}
		sleep_us(fault_think_us);
	}
	return NULL;
}

static void *writer_loop(void *unused)
{
	void *other = NULL;
	int flip = 0;
	(void)unused;
	while (!atomic_load(&stop)) {
		long long t0 = now_ns();
		if (strcmp(writer, "same") == 0) {
			flip = !flip;
			if (madvise(page, PAGE, flip ? MADV_DONTFORK : MADV_DOFORK) != 0) {
				perror("madvise");
				exit(1);
			}
		} else if (other) {
			munmap(other, PAGE);
			other = NULL;
		} else {
			other = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		}
		vec_push(&writer_ns, now_ns() - t0);
		sleep_us(writer_think_us);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *path = arg(argc, argv, "path", "retry");
	const char *file = arg(argc, argv, "file", NULL);
	const char *out = arg(argc, argv, "out", NULL);
	long duration_ms = atol(arg(argc, argv, "duration_ms", "1000"));
	pthread_t ft, wt;

	fault_think_us = atol(arg(argc, argv, "fault_think_us", "0"));
	writer_think_us = atol(arg(argc, argv, "writer_think_us", "1000"));
	writer = arg(argc, argv, "writer", "none");
	mkwrite = strcmp(path, "mkwrite") == 0;
	if (!file || !out || (!mkwrite && strcmp(path, "retry") != 0)) {
		fprintf(stderr, "usage: target path=retry|mkwrite file=F out=F [...]\n");
		return 2;
	}
	fd = open(file, mkwrite ? O_RDWR : O_RDONLY);
	if (fd < 0) {
		perror(file);
		return 1;
	}
	page = mmap(NULL, PAGE, PROT_READ | (mkwrite ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
	if (page == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	if (!mkwrite && madvise(page, PAGE, MADV_RANDOM) != 0) {
		perror("madvise");
		return 1;
	}
	(void)((volatile char *)page)[0];	/* the file is served: fail here, not later */
	printf("ready %d\n", getpid());
	fflush(stdout);

	long long t0 = now_ns();
	pthread_create(&ft, NULL, fault_loop, NULL);
	if (strcmp(writer, "none") != 0)
		pthread_create(&wt, NULL, writer_loop, NULL);
	sleep_us(duration_ms * 1000);
	atomic_store(&stop, 1);
	pthread_join(ft, NULL);
	if (strcmp(writer, "none") != 0)
		pthread_join(wt, NULL);
	long long elapsed = now_ns() - t0;

	FILE *f = fopen(out, "w");
	if (!f) {
		perror(out);
		return 1;
	}
	fprintf(f, "{\"elapsed_ns\": %lld, ", elapsed);
	vec_dump(f, "fault_ns", &fault_ns);
	fprintf(f, ", ");
	vec_dump(f, "writer_ns", &writer_ns);
	fprintf(f, ", ");
	vec_dump(f, "lead_ns", &lead_ns);
	fprintf(f, "}\n");
	return fclose(f) == 0 ? 0 : 1;
}
