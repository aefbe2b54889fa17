// Base64url encoding (RFC 4648 §5, no padding) with AVX2 when the CPU has it. Only Sodium imports this module.
#ifndef CBASE64_H
#define CBASE64_H

#include <stddef.h>
#include <stdint.h>

// Encodes the longest prefix of `in` that the vector code handles (a multiple of 24 bytes, leaving at least
// 4 readable bytes after it) into `out`; returns the number of input bytes consumed (0 without AVX2).
// The caller encodes the rest. No table lookups in memory: timing does not depend on the data.
size_t cbase64url_encode_prefix(const uint8_t *in, size_t length, uint8_t *out);

// 1 if the AVX2 code is in use; `portable` != 0 turns it off (tests compare the two).
int cbase64_uses_avx2(void);
void cbase64_force_portable(int portable);

#endif
