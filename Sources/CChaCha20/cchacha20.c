// ChaCha20, RFC 8439 §2.3-2.4, on 8 or 16 blocks at once: lane j of vector i holds word i of block j (the
// "vertical" layout), so a quarter round is 12 vector operations on four independent columns or diagonals, and the
// blocks are transposed into byte order only at the end. Add, rotate and xor on 32-bit words: no table lookups and
// no branches on data, so timing does not depend on the key.

#include "cchacha20.h"
#include "ckernel.h"
#include <string.h>

// Zeroes a buffer in a way the compiler may not remove (the barrier says the memory is still in use).
static inline void wipe(void *p, size_t n) {
    memset(p, 0, n);
    __asm__ __volatile__("" : : "r"(p) : "memory");
}

static inline uint32_t load_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

// RFC 8439 §2.3: constants, key, counter, nonce.
static void initial_state(uint32_t s[16], const uint8_t key[32], const uint8_t nonce[12], uint32_t counter) {
    s[0] = 0x61707865; s[1] = 0x3320646e; s[2] = 0x79622d32; s[3] = 0x6b206574;   // "expand 32-byte k"
    for (int i = 0; i < 8; i++) s[4 + i] = load_le32(key + 4 * i);
    s[12] = counter;
    for (int i = 0; i < 3; i++) s[13 + i] = load_le32(nonce + 4 * i);
}

#if defined(__x86_64__)
#include <immintrin.h>

// RFC 8439 §2.1, the quarter round, on whole vectors; ROTL is the vector's rotate-left by a constant.
#define QR(a, b, c, d)                                     \
    do {                                                   \
        x[a] = ADD(x[a], x[b]); x[d] = ROTL(XOR(x[d], x[a]), 16); \
        x[c] = ADD(x[c], x[d]); x[b] = ROTL(XOR(x[b], x[c]), 12); \
        x[a] = ADD(x[a], x[b]); x[d] = ROTL(XOR(x[d], x[a]), 8);  \
        x[c] = ADD(x[c], x[d]); x[b] = ROTL(XOR(x[b], x[c]), 7);  \
    } while (0)

// RFC 8439 §2.3: ten double rounds, each the four columns then the four diagonals.
#define TWENTY_ROUNDS()                                                      \
    for (int r = 0; r < 10; r++) {                                           \
        QR(0, 4, 8, 12); QR(1, 5, 9, 13); QR(2, 6, 10, 14); QR(3, 7, 11, 15); \
        QR(0, 5, 10, 15); QR(1, 6, 11, 12); QR(2, 7, 8, 13); QR(3, 4, 9, 14); \
    }

// ---- 8 blocks in 256-bit vectors ----

#define ADD(a, b) _mm256_add_epi32((a), (b))
#define XOR(a, b) _mm256_xor_si256((a), (b))

// Transposes words 4q..4q+3 (x[4q..4q+3]) of the 8 blocks within each 128-bit lane: afterwards y[k] lane L holds
// those four words of block 4L + k.
__attribute__((target("avx2"), always_inline))
static inline void transpose4_256(const __m256i x[4], __m256i y[4]) {
    __m256i t0 = _mm256_unpacklo_epi32(x[0], x[1]), t1 = _mm256_unpackhi_epi32(x[0], x[1]);
    __m256i t2 = _mm256_unpacklo_epi32(x[2], x[3]), t3 = _mm256_unpackhi_epi32(x[2], x[3]);
    y[0] = _mm256_unpacklo_epi64(t0, t2); y[1] = _mm256_unpackhi_epi64(t0, t2);
    y[2] = _mm256_unpacklo_epi64(t1, t3); y[3] = _mm256_unpackhi_epi64(t1, t3);
}

// The 8 blocks' keystream (x plus the input state), in byte order, into ks[0..512).
__attribute__((target("avx2"), always_inline))
static inline void store8(const __m256i x[16], uint8_t *ks) {
    __m256i y[4][4];   // y[q][k]: words 4q..4q+3 of blocks k (lane 0) and 4 + k (lane 1)
    for (int q = 0; q < 4; q++) transpose4_256(x + 4 * q, y[q]);
    for (int k = 0; k < 4; k++) {
        __m256i lo01 = _mm256_permute2x128_si256(y[0][k], y[1][k], 0x20);   // block k, words 0..7
        __m256i lo23 = _mm256_permute2x128_si256(y[2][k], y[3][k], 0x20);   // block k, words 8..15
        __m256i hi01 = _mm256_permute2x128_si256(y[0][k], y[1][k], 0x31);   // block 4 + k
        __m256i hi23 = _mm256_permute2x128_si256(y[2][k], y[3][k], 0x31);
        _mm256_storeu_si256((__m256i *)(ks + 64 * k), lo01);
        _mm256_storeu_si256((__m256i *)(ks + 64 * k + 32), lo23);
        _mm256_storeu_si256((__m256i *)(ks + 64 * (4 + k)), hi01);
        _mm256_storeu_si256((__m256i *)(ks + 64 * (4 + k) + 32), hi23);
    }
    wipe(y, sizeof y);
}

// The state of 8 consecutive blocks from s[12]: every word broadcast, the counter word plus 0..7.
__attribute__((target("avx2"), always_inline))
static inline void start8(const uint32_t s[16], __m256i x[16]) {
    for (int i = 0; i < 16; i++) x[i] = _mm256_set1_epi32((int)s[i]);
    x[12] = _mm256_add_epi32(x[12], _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

__attribute__((target("avx2"), always_inline))
static inline void finish8(const uint32_t s[16], __m256i x[16]) {
    __m256i in[16];
    start8(s, in);
    for (int i = 0; i < 16; i++) x[i] = _mm256_add_epi32(x[i], in[i]);
}

// 8 blocks of keystream from s (block counter s[12]) into ks[0..512), AVX2 rotations.
__attribute__((target("avx2")))
static void keystream8_avx2(const uint32_t s[16], uint8_t ks[512]) {
    const __m256i rot16 = _mm256_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13,
                                           2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
    const __m256i rot8 = _mm256_setr_epi8(3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14,
                                          3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14);
#define ROTL(v, n)                                                                         \
    ((n) == 16 ? _mm256_shuffle_epi8((v), rot16)                                           \
     : (n) == 8 ? _mm256_shuffle_epi8((v), rot8)                                           \
                : _mm256_or_si256(_mm256_slli_epi32((v), (n)), _mm256_srli_epi32((v), 32 - (n))))
    __m256i x[16];
    start8(s, x);
    TWENTY_ROUNDS();
    finish8(s, x);
    store8(x, ks);
    wipe(x, sizeof x);
#undef ROTL
}

// The same with AVX-512VL's one-instruction rotation.
__attribute__((target("avx2,avx512f,avx512vl")))
static void keystream8_avx512(const uint32_t s[16], uint8_t ks[512]) {
#define ROTL(v, n) _mm256_rol_epi32((v), (n))
    __m256i x[16];
    start8(s, x);
    TWENTY_ROUNDS();
    finish8(s, x);
    store8(x, ks);
    wipe(x, sizeof x);
#undef ROTL
}

#undef ADD
#undef XOR

// ---- 16 blocks in 512-bit vectors ----

#define ADD(a, b) _mm512_add_epi32((a), (b))
#define XOR(a, b) _mm512_xor_si512((a), (b))
#define ROTL(v, n) _mm512_rol_epi32((v), (n))

// out[0..1024) = in XOR 16 blocks of keystream from s (block counter s[12]).
__attribute__((target("avx512f")))
static void xor16_avx512(const uint32_t s[16], uint8_t *out, const uint8_t *in) {
    __m512i x[16], y[4][4];
    for (int i = 0; i < 16; i++) x[i] = _mm512_set1_epi32((int)s[i]);
    const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    x[12] = _mm512_add_epi32(x[12], lanes);
    TWENTY_ROUNDS();
    for (int i = 0; i < 16; i++) x[i] = _mm512_add_epi32(x[i], _mm512_set1_epi32((int)s[i]));
    x[12] = _mm512_add_epi32(x[12], lanes);
    for (int q = 0; q < 4; q++) {   // y[q][k] lane L: words 4q..4q+3 of block 4L + k
        __m512i *w = x + 4 * q;
        __m512i t0 = _mm512_unpacklo_epi32(w[0], w[1]), t1 = _mm512_unpackhi_epi32(w[0], w[1]);
        __m512i t2 = _mm512_unpacklo_epi32(w[2], w[3]), t3 = _mm512_unpackhi_epi32(w[2], w[3]);
        y[q][0] = _mm512_unpacklo_epi64(t0, t2); y[q][1] = _mm512_unpackhi_epi64(t0, t2);
        y[q][2] = _mm512_unpacklo_epi64(t1, t3); y[q][3] = _mm512_unpackhi_epi64(t1, t3);
    }
    for (int k = 0; k < 4; k++) {   // a 4x4 transpose of 128-bit lanes: block 4L + k's four quads side by side
        __m512i s0 = _mm512_shuffle_i32x4(y[0][k], y[1][k], _MM_SHUFFLE(1, 0, 1, 0));
        __m512i s1 = _mm512_shuffle_i32x4(y[0][k], y[1][k], _MM_SHUFFLE(3, 2, 3, 2));
        __m512i s2 = _mm512_shuffle_i32x4(y[2][k], y[3][k], _MM_SHUFFLE(1, 0, 1, 0));
        __m512i s3 = _mm512_shuffle_i32x4(y[2][k], y[3][k], _MM_SHUFFLE(3, 2, 3, 2));
        __m512i blocks[4] = {
            _mm512_shuffle_i32x4(s0, s2, _MM_SHUFFLE(2, 0, 2, 0)), _mm512_shuffle_i32x4(s0, s2, _MM_SHUFFLE(3, 1, 3, 1)),
            _mm512_shuffle_i32x4(s1, s3, _MM_SHUFFLE(2, 0, 2, 0)), _mm512_shuffle_i32x4(s1, s3, _MM_SHUFFLE(3, 1, 3, 1)),
        };
        for (int L = 0; L < 4; L++) {
            size_t at = 64 * (size_t)(4 * L + k);
            __m512i m = _mm512_loadu_si512((const void *)(in + at));
            _mm512_storeu_si512((void *)(out + at), _mm512_xor_si512(m, blocks[L]));
        }
        wipe(blocks, sizeof blocks);
    }
    wipe(x, sizeof x);
    wipe(y, sizeof y);
}

#undef ADD
#undef XOR
#undef ROTL
#endif

static ckernel_choice choice = CKERNEL_CHOICE(CKERNEL_AVX512VL);

int cchacha20_kernel(void) { return ckernel_current(&choice); }

void cchacha20_limit_kernel(int level) { ckernel_limit(&choice, level); }

// out = in XOR the keystream from s[12] on, `kernel` 1 or 2; s[12] advances past the blocks used.
static void xor_from(uint32_t s[16], uint8_t *out, const uint8_t *in, size_t length, int kernel) {
#if defined(__x86_64__)
    if (kernel == 2) {
        for (; length >= 1024; length -= 1024, in += 1024, out += 1024, s[12] += 16) xor16_avx512(s, out, in);
    }
    uint8_t ks[512];
    while (length > 0) {
        if (kernel == 2) keystream8_avx512(s, ks); else keystream8_avx2(s, ks);
        size_t n = length < 512 ? length : 512;
        for (size_t i = 0; i < n; i++) out[i] = in[i] ^ ks[i];
        length -= n; in += n; out += n; s[12] += 8;
    }
    wipe(ks, sizeof ks);
#else
    (void)s; (void)out; (void)in; (void)length; (void)kernel;
#endif
}

// RFC 8439 §2.4: the counter is 32 bits; block `counter` + blocks - 1 must not pass 2^32 - 1.
static int fits_counter(size_t length, uint32_t counter) {
    uint64_t blocks = ((uint64_t)length + 63) / 64;
    return blocks <= (uint64_t)UINT32_MAX - counter + 1;
}

int cchacha20_xor(uint8_t *out, const uint8_t *in, size_t length, const uint8_t key[32], const uint8_t nonce[12],
                  uint32_t counter) {
    int kernel = cchacha20_kernel();
    if (kernel == 0 || !fits_counter(length, counter)) return -1;
    uint32_t s[16];
    initial_state(s, key, nonce, counter);
    xor_from(s, out, in, length, kernel);
    wipe(s, sizeof s);
    return 0;
}

int cchacha20_aead_xor(uint8_t *out, const uint8_t *in, size_t length, const uint8_t key[32],
                       const uint8_t nonce[12], uint8_t poly_key[32]) {
    int kernel = cchacha20_kernel();
    if (kernel == 0 || !fits_counter(length, 1)) return -1;
#if defined(__x86_64__)
    uint32_t s[16];
    initial_state(s, key, nonce, 0);
    // Block 0 is computed with the message's first blocks (one kernel call, not a call of its own).
    uint8_t ks[1024];
    size_t group = kernel == 2 && length + 64 > 512 ? 1024 : 512;
    if (group == 1024) xor16_avx512(s, ks, memset(ks, 0, sizeof ks)); else if (kernel == 2) keystream8_avx512(s, ks);
    else keystream8_avx2(s, ks);
    s[12] += (uint32_t)(group / 64);
    memcpy(poly_key, ks, 32);
    size_t n = length < group - 64 ? length : group - 64;
    for (size_t i = 0; i < n; i++) out[i] = in[i] ^ ks[64 + i];
    wipe(ks, sizeof ks);
    xor_from(s, out + n, in + n, length - n, kernel);
    wipe(s, sizeof s);
    return 0;
#else
    (void)out; (void)in; (void)key; (void)nonce; (void)poly_key;
    return -1;
#endif
}
