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

#endif
