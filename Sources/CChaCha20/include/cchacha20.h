// ChaCha20 (RFC 8439 §2.4, the IETF variant: 32-byte key, 12-byte nonce, 32-bit block counter) many blocks at a
// time with AVX-512 or AVX2: libsodium 1.0.18's own code takes 8 blocks at most and handles a message's last
// < 512 bytes a block at a time. Only Sodium imports this module; it composes XChaCha20-Poly1305 from it.
#ifndef CCHACHA20_H
#define CCHACHA20_H

#include <stddef.h>
#include <stdint.h>

// out = in XOR the ChaCha20 keystream of (key, nonce) from block `counter` on; `out` may equal `in` (in place),
// and no other overlap. Returns 0, or -1 (nothing written) when the message would run the 32-bit block counter
// past 2^32 - 1, or when no wide kernel is in use (see cchacha20_kernel): the caller then uses libsodium.
int cchacha20_xor(uint8_t *out, const uint8_t *in, size_t length, const uint8_t key[32], const uint8_t nonce[12],
                  uint32_t counter);

// For the AEAD (RFC 8439 §2.6 and §2.8): the first 32 bytes of block 0's keystream into `poly_key` (the one-time
// Poly1305 key), and out = in XOR the keystream from block 1 on, in one pass. Returns like cchacha20_xor.
int cchacha20_aead_xor(uint8_t *out, const uint8_t *in, size_t length, const uint8_t key[32],
                       const uint8_t nonce[12], uint8_t poly_key[32]);

// The kernel in use: 0 none (the caller uses libsodium), 1 AVX2 (8 blocks), 2 AVX-512 (16 blocks, 8 on the tail).
int cchacha20_kernel(void);
// Uses at most kernel `level` (0, 1 or 2), or the CPU's best if lower: tests run each against libsodium.
void cchacha20_limit_kernel(int level);

#endif
