"""The workload behind tests/data/mmap_lock_6.18.trace (docs/traces.md, "The fixture").

A target process whose thread ``mprotect-loop`` mmap()s 1 MiB, touches it, mprotect()s it
back and forth and munmap()s it in a loop (writers on the target's mmap lock; munmap
downgrades), and a reader process ``hp-reader`` that pread()s the target's
/proc/<pid>/cmdline every millisecond (the HP reader: two read acquisitions of the
target's mmap lock per read on 5.3+ kernels).  Both start after DELAY seconds, so a
recording started meanwhile with ``--pid`` sees no interpreter start-up::

    python tests/data/trace_workload.py SECONDS DELAY   # prints "TARGET READER"
"""
import ctypes
import mmap
import os
import sys
import threading
import time

SIZE = 256 * mmap.PAGESIZE
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long)
libc.mprotect.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
libc.munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
PROT_RW, PROT_R, FLAGS = 3, 1, 0x22           # PROT_READ|PROT_WRITE; MAP_PRIVATE|ANON
PR_SET_NAME = 15


def name(text):
    libc.prctl(PR_SET_NAME, text.encode(), 0, 0, 0)


def writer(start, end):
    name("mprotect-loop")
    time.sleep(max(0.0, start - time.monotonic()))
    while time.monotonic() < end:
        addr = libc.mmap(None, SIZE, PROT_RW, FLAGS, -1, 0)
        ctypes.memset(addr, 1, SIZE)
        libc.mprotect(addr, SIZE, PROT_R)
        libc.mprotect(addr, SIZE, PROT_RW)
        libc.munmap(addr, SIZE)
        time.sleep(0.0005)


def reader(target, start, end):
    name("hp-reader")
    fd = os.open(f"/proc/{target}/cmdline", os.O_RDONLY)
    time.sleep(max(0.0, start - time.monotonic()))
    while time.monotonic() < end:
        os.pread(fd, 4096, 0)
        time.sleep(0.001)
    os.close(fd)


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 0.2
    delay = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    start = time.monotonic() + delay
    end = start + seconds
    thread = threading.Thread(target=writer, args=(start, end))
    thread.start()
    child = os.fork()
    if child == 0:
        reader(os.getppid(), start, end)
        os._exit(0)
    print(os.getpid(), child, flush=True)
    os.waitpid(child, 0)
    thread.join()


if __name__ == "__main__":
    main()
