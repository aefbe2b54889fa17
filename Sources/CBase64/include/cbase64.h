// Base64url encoding (RFC 4648 §5, no padding) with AVX2 when the CPU has it. Only Sodium imports this module.
#ifndef CBASE64_H
#define CBASE64_H

#include <stddef.h>
#include <stdint.h>

// Encodes the longest prefix of `in` that the vector code handles into `out` and returns the number of input
// bytes consumed: all of them with AVX-512 VBMI; with AVX2 a multiple of 24 bytes, leaving at least 4 readable
// bytes after it; 0 without either. The caller encodes the rest. No table lookups in memory: timing does not
// depend on the data.
size_t cbase64url_encode_prefix(const uint8_t *in, size_t length, uint8_t *out);

// The kernel in use: 0 none, 1 AVX2, 2 AVX-512 VBMI. 1 from cbase64_uses_avx2 if either vector code is in use.
int cbase64_kernel(void);
int cbase64_uses_avx2(void);
// Uses at most kernel `level`, or the CPU's best if lower; `portable` != 0 is level 0, 0 the CPU's best (tests
// compare them all).
void cbase64_limit_kernel(int level);
void cbase64_force_portable(int portable);

#endif
