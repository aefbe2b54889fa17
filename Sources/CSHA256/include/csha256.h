// SHA-256 (FIPS 180-4) with the x86 SHA extensions when the CPU has them, portable C otherwise.
// MerkleLog and LedgerFormat import this module; no C type leaves them.
#ifndef CSHA256_H
#define CSHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t state[8];
    uint64_t length;      // bytes hashed so far
    uint8_t buffer[64];   // a partial block
    uint32_t buffered;    // bytes in buffer
} csha256_ctx;

void csha256_init(csha256_ctx *ctx);
void csha256_update(csha256_ctx *ctx, const void *data, size_t length);
// Writes the 32-byte digest and wipes the context.
void csha256_final(csha256_ctx *ctx, uint8_t out[32]);
// One-shot: SHA-256 of `length` bytes at `data`.
void csha256(const void *data, size_t length, uint8_t out[32]);
// 1 if the SHA extensions are in use (for diagnostics and tests).
// Finishes two hashes at once: the same digests as csha256_update(ctx_a, a, a_length) then csha256_final(ctx_a,
// out_a), and the same for b; with the SHA extensions the two messages' blocks are compressed interleaved.
void csha256_x2(csha256_ctx *ctx_a, const void *a, size_t a_length, uint8_t out_a[32],
                csha256_ctx *ctx_b, const void *b, size_t b_length, uint8_t out_b[32]);
// SHA-256 of each of `count` messages that the caller has padded (FIPS 180-4 §5.1.1: 0x80, zeros, the length in
// bits as a 64-bit big-endian integer) to `blocks[k]` >= 1 whole 64-byte blocks: outs + 32 * k = SHA-256(message k).
// Every block is read in place. With the SHA extensions two lanes run interleaved and each lane takes the next message
// as soon as its own ends, so a long message (the longest goes first) is paired with several short ones.
void csha256_many_padded(const uint8_t *const messages[], const size_t blocks[], size_t count, uint8_t *outs);
int csha256_uses_sha_extensions(void);
// Forces the portable implementation (tests compare the two).
void csha256_force_portable(int portable);

#endif
