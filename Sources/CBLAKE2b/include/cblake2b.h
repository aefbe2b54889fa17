// BLAKE2b (RFC 7693) for many short messages under one key: the key block is compressed once into a
// midstate, then each message of at most 128 bytes costs a single compression. Only Sodium imports this module.
#ifndef CBLAKE2B_H
#define CBLAKE2B_H

#include <stddef.h>
#include <stdint.h>

// Fills `midstate` with the state after the key block (1 <= key_length <= 64, 1 <= out_length <= 64).
void cblake2b_keyed_midstate(uint64_t midstate[8], const uint8_t *key, size_t key_length, size_t out_length);

// BLAKE2b(key, message) from a midstate: 1 <= message_length <= 128, out_length as given to the midstate.
// (An empty message would make the key block the final one, which a midstate has already compressed.)
void cblake2b_finish_short(const uint64_t midstate[8], const uint8_t *message, size_t message_length,
                           uint8_t *out, size_t out_length);

// Four messages of the same length (1...128) under one midstate at once: out_k = BLAKE2b(key, messages[k]).
// Uses AVX-512VL or AVX2 (the four hashes in the four 64-bit lanes) when the CPU has it, four single calls otherwise.
void cblake2b_finish_short_x4(const uint64_t midstate[8], const uint8_t *const messages[4], size_t message_length,
                              uint8_t *const outs[4], size_t out_length);

// Eight at once: in one AVX-512F call for messages of at most 24 bytes, as two four-lane calls otherwise.
void cblake2b_finish_short_x8(const uint64_t midstate[8], const uint8_t *const messages[8], size_t message_length,
                              uint8_t *const outs[8], size_t out_length);

// 1 if four-lane code (AVX2 or AVX-512VL) is in use; 1 if it is the AVX-512VL code.
int cblake2b_uses_avx2(void);
int cblake2b_uses_avx512(void);
// `portable` != 0 forces the single-hash code, 0 restores the CPU's choice (tests compare the two).
void cblake2b_force_portable(int portable);
// Uses at most kernel `level` (0 single hashes, 1 AVX2, 2 AVX-512VL), or the CPU's best if lower: tests run each.
void cblake2b_limit_kernel(int level);

#endif
