// BLAKE2b per RFC 7693, only the parts a keyed hash of short messages needs. Add, rotate and xor on 64-bit
// words: no table lookups or branches on data, so timing does not depend on the (secret) key.

#include "cblake2b.h"
#include "ckernel.h"
#include <string.h>

static const uint64_t IV[8] = {   // RFC 7693 §2.6
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
    0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
};

static const uint8_t SIGMA[12][16] = {   // RFC 7693 §2.7
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4}, {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13}, {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11}, {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5}, {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
};

// Zeroes a buffer in a way the compiler may not remove (the barrier says the memory is still in use).
static inline void wipe(void *p, size_t n) {
    memset(p, 0, n);
    __asm__ __volatile__("" : : "r"(p) : "memory");
}

static inline uint64_t rotr64(uint64_t x, int n) { return (x >> n) | (x << (64 - n)); }

static inline uint64_t load_le64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

// RFC 7693 §3.1, the mixing function G.
#define G(a, b, c, d, x, y)              \
    do {                                 \
        v[a] = v[a] + v[b] + (x);        \
        v[d] = rotr64(v[d] ^ v[a], 32);  \
        v[c] = v[c] + v[d];              \
        v[b] = rotr64(v[b] ^ v[c], 24);  \
        v[a] = v[a] + v[b] + (y);        \
        v[d] = rotr64(v[d] ^ v[a], 16);  \
        v[c] = v[c] + v[d];              \
        v[b] = rotr64(v[b] ^ v[c], 63);  \
    } while (0)

// RFC 7693 §3.2, the compression function F; `bytes` is the offset counter t (< 2^64 here), `last` the final flag.
static void compress(uint64_t h[8], const uint8_t block[128], uint64_t bytes, int last) {
    uint64_t m[16], v[16];
    for (int i = 0; i < 16; i++) m[i] = load_le64(block + 8 * i);
    for (int i = 0; i < 8; i++) { v[i] = h[i]; v[i + 8] = IV[i]; }
    v[12] ^= bytes;
    if (last) v[14] = ~v[14];
#if defined(__clang__)
#pragma clang loop unroll(full)   // SIGMA's indices become constants (no indexed loads of the message)
#endif
    for (int r = 0; r < 12; r++) {
        const uint8_t *s = SIGMA[r];
        G(0, 4, 8, 12, m[s[0]], m[s[1]]);
        G(1, 5, 9, 13, m[s[2]], m[s[3]]);
        G(2, 6, 10, 14, m[s[4]], m[s[5]]);
        G(3, 7, 11, 15, m[s[6]], m[s[7]]);
        G(0, 5, 10, 15, m[s[8]], m[s[9]]);
        G(1, 6, 11, 12, m[s[10]], m[s[11]]);
        G(2, 7, 8, 13, m[s[12]], m[s[13]]);
        G(3, 4, 9, 14, m[s[14]], m[s[15]]);
    }
    for (int i = 0; i < 8; i++) h[i] ^= v[i] ^ v[i + 8];
    wipe(m, sizeof m);
    wipe(v, sizeof v);
}

void cblake2b_keyed_midstate(uint64_t midstate[8], const uint8_t *key, size_t key_length, size_t out_length) {
    uint8_t block[128] = {0};
    memcpy(block, key, key_length);
    for (int i = 0; i < 8; i++) midstate[i] = IV[i];
    midstate[0] ^= 0x01010000ULL ^ ((uint64_t)key_length << 8) ^ (uint64_t)out_length;   // RFC 7693 §2.5 parameter block
    compress(midstate, block, 128, 0);   // the padded key is the first block (RFC 7693 §3.3)
    wipe(block, sizeof block);
}

void cblake2b_finish_short(const uint64_t midstate[8], const uint8_t *message, size_t message_length,
                           uint8_t *out, size_t out_length) {
    uint64_t h[8];
    uint8_t block[128] = {0};
    memcpy(h, midstate, sizeof h);
    memcpy(block, message, message_length);
    compress(h, block, 128 + (uint64_t)message_length, 1);
    for (size_t i = 0; i < out_length; i++) out[i] = (uint8_t)(h[i / 8] >> (8 * (i % 8)));
    wipe(h, sizeof h);
    wipe(block, sizeof block);
}

#if defined(__x86_64__)
#include <immintrin.h>

// RFC 7693 §3.1 G on four independent states at once: lane k of every register belongs to hash k.
#define ROT32(x) _mm256_shuffle_epi32((x), _MM_SHUFFLE(2, 3, 0, 1))
#define ROT24(x) _mm256_shuffle_epi8((x), rot24)
#define ROT16(x) _mm256_shuffle_epi8((x), rot16)
#define ROT63(x) _mm256_or_si256(_mm256_srli_epi64((x), 63), _mm256_add_epi64((x), (x)))
#define G4(a, b, c, d, x, y)                                                          \
    do {                                                                              \
        v[a] = _mm256_add_epi64(_mm256_add_epi64(v[a], v[b]), (x));                   \
        v[d] = ROT32(_mm256_xor_si256(v[d], v[a]));                                   \
        v[c] = _mm256_add_epi64(v[c], v[d]);                                          \
        v[b] = ROT24(_mm256_xor_si256(v[b], v[c]));                                   \
        v[a] = _mm256_add_epi64(_mm256_add_epi64(v[a], v[b]), (y));                   \
        v[d] = ROT16(_mm256_xor_si256(v[d], v[a]));                                   \
        v[c] = _mm256_add_epi64(v[c], v[d]);                                          \
        v[b] = ROT63(_mm256_xor_si256(v[b], v[c]));                                   \
    } while (0)

// The four lanes' working state for one final block of `message_length` bytes after `midstate` (RFC 7693 §3.2).
__attribute__((target("avx2"), always_inline))
static inline void x4_start(__m256i v[16], const uint64_t midstate[8], size_t message_length) {
    for (int i = 0; i < 8; i++) {
        v[i] = _mm256_set1_epi64x((long long)midstate[i]);
        v[i + 8] = _mm256_set1_epi64x((long long)IV[i]);
    }
    v[12] = _mm256_xor_si256(v[12], _mm256_set1_epi64x((long long)(128 + (uint64_t)message_length)));
    v[14] = _mm256_xor_si256(v[14], _mm256_set1_epi64x(-1));   // the final block
}

// Each lane's hash, h[i] = midstate[i] ^ v[i] ^ v[i + 8], its first `out_length` bytes little-endian into outs[k]:
// whole words copied (little-endian hosts), the bytes of a last partial word one at a time.
__attribute__((target("avx2"), always_inline))
static inline void x4_finish(const __m256i v[16], const uint64_t midstate[8], uint8_t *const outs[4],
                             size_t out_length) {
    uint64_t h[8][4];
    size_t words = (out_length + 7) / 8;
    for (size_t i = 0; i < words; i++) {
        __m256i word = _mm256_xor_si256(_mm256_set1_epi64x((long long)midstate[i]), _mm256_xor_si256(v[i], v[i + 8]));
        _mm256_storeu_si256((__m256i *)h[i], word);
    }
    for (int k = 0; k < 4; k++) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        for (size_t i = 0; i < out_length / 8; i++) memcpy(outs[k] + 8 * i, &h[i][k], 8);
        for (size_t i = out_length / 8 * 8; i < out_length; i++) outs[k][i] = (uint8_t)(h[i / 8][k] >> (8 * (i % 8)));
#else
        for (size_t i = 0; i < out_length; i++) outs[k][i] = (uint8_t)(h[i / 8][k] >> (8 * (i % 8)));
#endif
    }
    wipe(h, sizeof h[0] * words);
}

__attribute__((target("avx2")))
static void finish_short_x4_avx2(const uint64_t midstate[8], const uint8_t *const messages[4], size_t message_length,
                                 uint8_t *const outs[4], size_t out_length) {
    const __m256i rot24 = _mm256_setr_epi8(3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10,
                                           3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10);
    const __m256i rot16 = _mm256_setr_epi8(2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9,
                                           2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9);
    uint8_t blocks[4][128] = {{0}};
    for (int k = 0; k < 4; k++) memcpy(blocks[k], messages[k], message_length);
    __m256i m[16], v[16];
    for (int i = 0; i < 16; i++)   // word i of the four blocks, one per lane
        m[i] = _mm256_setr_epi64x((long long)load_le64(blocks[0] + 8 * i), (long long)load_le64(blocks[1] + 8 * i),
                                  (long long)load_le64(blocks[2] + 8 * i), (long long)load_le64(blocks[3] + 8 * i));
    x4_start(v, midstate, message_length);
    for (int r = 0; r < 12; r++) {
        const uint8_t *sg = SIGMA[r];
        G4(0, 4, 8, 12, m[sg[0]], m[sg[1]]);
        G4(1, 5, 9, 13, m[sg[2]], m[sg[3]]);
        G4(2, 6, 10, 14, m[sg[4]], m[sg[5]]);
        G4(3, 7, 11, 15, m[sg[6]], m[sg[7]]);
        G4(0, 5, 10, 15, m[sg[8]], m[sg[9]]);
        G4(1, 6, 11, 12, m[sg[10]], m[sg[11]]);
        G4(2, 7, 8, 13, m[sg[12]], m[sg[13]]);
        G4(3, 4, 9, 14, m[sg[14]], m[sg[15]]);
    }
    x4_finish(v, midstate, outs, out_length);
    wipe(blocks, sizeof blocks);
    wipe(v, sizeof v);
    wipe(m, sizeof m);
}

// The same with AVX-512VL on 256-bit registers: a rotation is one instruction (vprorq), and the 32 registers hold
// the whole state and message, so nothing spills. The rounds are unrolled, so each message word is a fixed register;
// `words` (a constant after inlining) says how many can be nonzero, and additions of the zero words fold away.
#define G4R(a, b, c, d, x, y)                                                         \
    do {                                                                              \
        v[a] = _mm256_add_epi64(_mm256_add_epi64(v[a], v[b]), (x));                   \
        v[d] = _mm256_ror_epi64(_mm256_xor_si256(v[d], v[a]), 32);                    \
        v[c] = _mm256_add_epi64(v[c], v[d]);                                          \
        v[b] = _mm256_ror_epi64(_mm256_xor_si256(v[b], v[c]), 24);                    \
        v[a] = _mm256_add_epi64(_mm256_add_epi64(v[a], v[b]), (y));                   \
        v[d] = _mm256_ror_epi64(_mm256_xor_si256(v[d], v[a]), 16);                    \
        v[c] = _mm256_add_epi64(v[c], v[d]);                                          \
        v[b] = _mm256_ror_epi64(_mm256_xor_si256(v[b], v[c]), 63);                    \
    } while (0)

__attribute__((target("avx2,avx512f,avx512vl"), always_inline))
static inline void finish_short_x4_avx512_words(const uint64_t midstate[8], const uint8_t *const messages[4],
                                                size_t message_length, uint8_t *const outs[4], size_t out_length,
                                                const int words) {
    uint8_t blocks[4][128];
    for (int k = 0; k < 4; k++) {
        memset(blocks[k], 0, 8 * (size_t)words);
        memcpy(blocks[k], messages[k], message_length);
    }
    __m256i m[16], v[16];
    for (int i = 0; i < 16; i++)   // word i of the four blocks, one per lane; zero past the message
        m[i] = i < words ? _mm256_setr_epi64x((long long)load_le64(blocks[0] + 8 * i),
                                              (long long)load_le64(blocks[1] + 8 * i),
                                              (long long)load_le64(blocks[2] + 8 * i),
                                              (long long)load_le64(blocks[3] + 8 * i))
                         : _mm256_setzero_si256();
    x4_start(v, midstate, message_length);
#if defined(__clang__)
#pragma clang loop unroll(full)
#endif
    for (int r = 0; r < 12; r++) {
        const uint8_t *sg = SIGMA[r];
        G4R(0, 4, 8, 12, m[sg[0]], m[sg[1]]);
        G4R(1, 5, 9, 13, m[sg[2]], m[sg[3]]);
        G4R(2, 6, 10, 14, m[sg[4]], m[sg[5]]);
        G4R(3, 7, 11, 15, m[sg[6]], m[sg[7]]);
        G4R(0, 5, 10, 15, m[sg[8]], m[sg[9]]);
        G4R(1, 6, 11, 12, m[sg[10]], m[sg[11]]);
        G4R(2, 7, 8, 13, m[sg[12]], m[sg[13]]);
        G4R(3, 4, 9, 14, m[sg[14]], m[sg[15]]);
    }
    x4_finish(v, midstate, outs, out_length);
    for (int k = 0; k < 4; k++) wipe(blocks[k], 8 * (size_t)words);   // the only bytes written
    wipe(v, sizeof v);
    // Wiping `m` takes its address, which keeps it in memory, where its zero words no longer fold away. Three words
    // and the state fit in registers (nothing spills), and `blocks`, their only copy in memory, is wiped above.
    if (words > 3) wipe(m, sizeof m);
}

__attribute__((target("avx2,avx512f,avx512vl")))
static void finish_short_x4_avx512(const uint64_t midstate[8], const uint8_t *const messages[4], size_t message_length,
                                   uint8_t *const outs[4], size_t out_length) {
    if (message_length <= 24)   // field salts: 23-byte messages, three words
        finish_short_x4_avx512_words(midstate, messages, message_length, outs, out_length, 3);
    else
        finish_short_x4_avx512_words(midstate, messages, message_length, outs, out_length, 16);
}

// Eight lanes in 512-bit registers, for messages of at most 24 bytes (three words; the salts): the state and the
// message take 19 of the 32 registers. Double-pumped on some CPUs, but one call's setup and finish serve eight
// hashes: ~17% less time per hash than two four-lane calls, measured.
#define G8(a, b, c, d, x, y)                                                          \
    do {                                                                              \
        v[a] = _mm512_add_epi64(_mm512_add_epi64(v[a], v[b]), (x));                   \
        v[d] = _mm512_ror_epi64(_mm512_xor_si512(v[d], v[a]), 32);                    \
        v[c] = _mm512_add_epi64(v[c], v[d]);                                          \
        v[b] = _mm512_ror_epi64(_mm512_xor_si512(v[b], v[c]), 24);                    \
        v[a] = _mm512_add_epi64(_mm512_add_epi64(v[a], v[b]), (y));                   \
        v[d] = _mm512_ror_epi64(_mm512_xor_si512(v[d], v[a]), 16);                    \
        v[c] = _mm512_add_epi64(v[c], v[d]);                                          \
        v[b] = _mm512_ror_epi64(_mm512_xor_si512(v[b], v[c]), 63);                    \
    } while (0)

__attribute__((target("avx512f")))
static void finish_short_x8_avx512(const uint64_t midstate[8], const uint8_t *const messages[8], size_t message_length,
                                   uint8_t *const outs[8], size_t out_length) {
    uint64_t words[3][8];   // word i of message k at [i][k]; zero past the message
    memset(words, 0, sizeof words);
    for (int k = 0; k < 8; k++) {
        uint8_t block[24] = {0};
        memcpy(block, messages[k], message_length);
        for (int i = 0; i < 3; i++) words[i][k] = load_le64(block + 8 * i);
        wipe(block, sizeof block);
    }
    __m512i m[16], v[16];
    for (int i = 0; i < 16; i++) m[i] = i < 3 ? _mm512_loadu_si512((const void *)words[i]) : _mm512_setzero_si512();
    wipe(words, sizeof words);
    for (int i = 0; i < 8; i++) {   // RFC 7693 §3.2, as x4_start
        v[i] = _mm512_set1_epi64((long long)midstate[i]);
        v[i + 8] = _mm512_set1_epi64((long long)IV[i]);
    }
    v[12] = _mm512_xor_si512(v[12], _mm512_set1_epi64((long long)(128 + (uint64_t)message_length)));
    v[14] = _mm512_xor_si512(v[14], _mm512_set1_epi64(-1));
#if defined(__clang__)
#pragma clang loop unroll(full)
#endif
    for (int r = 0; r < 12; r++) {
        const uint8_t *sg = SIGMA[r];
        G8(0, 4, 8, 12, m[sg[0]], m[sg[1]]);
        G8(1, 5, 9, 13, m[sg[2]], m[sg[3]]);
        G8(2, 6, 10, 14, m[sg[4]], m[sg[5]]);
        G8(3, 7, 11, 15, m[sg[6]], m[sg[7]]);
        G8(0, 5, 10, 15, m[sg[8]], m[sg[9]]);
        G8(1, 6, 11, 12, m[sg[10]], m[sg[11]]);
        G8(2, 7, 8, 13, m[sg[12]], m[sg[13]]);
        G8(3, 4, 9, 14, m[sg[14]], m[sg[15]]);
    }
    uint64_t h[8][8];
    size_t count = (out_length + 7) / 8;
    for (size_t i = 0; i < count; i++)
        _mm512_storeu_si512((void *)h[i], _mm512_xor_si512(_mm512_set1_epi64((long long)midstate[i]),
                                                           _mm512_xor_si512(v[i], v[i + 8])));
    for (int k = 0; k < 8; k++)
        for (size_t i = 0; i < out_length; i++) outs[k][i] = (uint8_t)(h[i / 8][k] >> (8 * (i % 8)));
    wipe(h, sizeof h[0] * count);
    wipe(v, sizeof v);
}
#undef G8
#endif

// The kernel in use: 0 one hash at a time, 1 AVX2, 2 AVX-512VL.
static ckernel_choice choice = CKERNEL_CHOICE(CKERNEL_AVX512VL);

static int kernel(void) { return ckernel_current(&choice); }

int cblake2b_uses_avx2(void) { return kernel() >= 1; }

void cblake2b_finish_short_x8(const uint64_t midstate[8], const uint8_t *const messages[8], size_t message_length,
                              uint8_t *const outs[8], size_t out_length) {
#if defined(__x86_64__)
    if (kernel() == 2 && message_length <= 24) {
        finish_short_x8_avx512(midstate, messages, message_length, outs, out_length);
        return;
    }
#endif
    cblake2b_finish_short_x4(midstate, messages, message_length, outs, out_length);
    cblake2b_finish_short_x4(midstate, messages + 4, message_length, outs + 4, out_length);
}

int cblake2b_uses_avx512(void) { return kernel() == 2; }

void cblake2b_limit_kernel(int level) { ckernel_limit(&choice, level); }

void cblake2b_force_portable(int portable) { cblake2b_limit_kernel(portable ? 0 : 2); }

void cblake2b_finish_short_x4(const uint64_t midstate[8], const uint8_t *const messages[4], size_t message_length,
                              uint8_t *const outs[4], size_t out_length) {
#if defined(__x86_64__)
    switch (kernel()) {
    case 2:
        finish_short_x4_avx512(midstate, messages, message_length, outs, out_length);
        return;
    case 1:
        finish_short_x4_avx2(midstate, messages, message_length, outs, out_length);
        return;
    }
#endif
    for (int k = 0; k < 4; k++) cblake2b_finish_short(midstate, messages[k], message_length, outs[k], out_length);
}
