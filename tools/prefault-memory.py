#!/usr/bin/env python3
"""Touches N GiB of memory once, page by page, then exits (default: 80% of MemAvailable).

On this project's machines (Firecracker VMs) the host backs a guest page only when the guest first touches it: the
first write to each never-used page costs a host page fault (~11 us per 4 KiB page measured, 2.8 s per GiB). An
import of millions of records writes gigabytes into the page cache, and once the cache grows past memory the guest
has used before, every new page-cache page pays that fault inside the kernel's copy (`copy_folio_from_iter_atomic`:
6-10x its usual share of the import's CPU samples). That is the hypervisor, not the ledger, so the scale benchmarks
(docs/PERFORMANCE.md) run this first:

    python3 tools/prefault-memory.py && ledger bench --scale 100000,10000000 --end-to-end

Run it as root on an otherwise idle machine; it only allocates and frees anonymous memory.
"""
import mmap
import sys


def available_gib():
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / (1 << 20)
    return 4.0


def main():
    gib = float(sys.argv[1]) if len(sys.argv) > 1 else 0.8 * available_gib()
    page, chunk = mmap.PAGESIZE, 1 << 30
    regions = []  # all kept until the end: a region freed early would hand its pages to the next one
    while len(regions) < gib:
        region = mmap.mmap(-1, chunk)
        for offset in range(0, chunk, page):
            region[offset] = 1
        regions.append(region)
    for region in regions:
        region.close()
    print(f"touched {len(regions)} GiB")


if __name__ == "__main__":
    main()
