// Scans of text for the JSON fast paths, many bytes at a time (AVX-512BW: 64 with a masked last load; AVX2: 32).
// Only LedgerFormat imports this module.
#ifndef CTEXTSCAN_H
#define CTEXTSCAN_H

#include <stddef.h>
#include <stdint.h>

// For the plain string whose characters start at `from` (just after its opening quote): the offset just after
// its closing quote, when every byte before that quote is printable ASCII (0x20-0x7e) other than '\\'; -1 when a
// byte breaks that rule first or no quote comes before `count`; -2 when no vector kernel is in use (the caller
// scans itself). Reads no byte at or past `count`.
ptrdiff_t ctextscan_plain_string_end(const uint8_t *bytes, size_t count, size_t from);

// The kernel in use: 0 none, 1 AVX2, 2 AVX-512BW. Tests run each against the Swift scan.
int ctextscan_kernel(void);
void ctextscan_limit_kernel(int level);

#endif
