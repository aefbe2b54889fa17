// Base64url encoding with AVX2, after W. Muła and D. Lemire, "Faster Base64 Encoding and Decoding Using AVX2
// Instructions" (2018): 24 input bytes become 32 characters per step. The 6-bit values are split with
// multiplies and mapped to ASCII with range arithmetic and an in-register shuffle, never a memory table, so
// the timing does not depend on the (possibly secret) data.

#include "cbase64.h"

// -1 until first asked; read and set atomically (relaxed), since any thread may be the first to ask.
static int avx2_state = -1;

static int detect(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? 1 : 0;
#else
    return 0;
#endif
}

int cbase64_uses_avx2(void) {
    int state = __atomic_load_n(&avx2_state, __ATOMIC_RELAXED);
    if (state < 0) {
        state = detect();
        __atomic_store_n(&avx2_state, state, __ATOMIC_RELAXED);
    }
    return state;
}

void cbase64_force_portable(int portable) { __atomic_store_n(&avx2_state, portable ? 0 : detect(), __ATOMIC_RELAXED); }

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2")))
static size_t encode_avx2(const uint8_t *in, size_t length, uint8_t *out) {
    // Per 128-bit lane: 12 input bytes, as groups (a, b, c) arranged (b, a, c, b) for the multiplies below.
    const __m256i arrange = _mm256_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10,
                                             1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
    // Added to each 6-bit value by its range: 0-25 'A'.., 26-51 'a'.., 52-61 '0'.., 62 '-', 63 '_'.
    const __m256i shifts = _mm256_setr_epi8('a' - 26, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52,
                                            '0' - 52, '0' - 52, '0' - 52, '0' - 52, '-' - 62, '_' - 63, 'A', 0, 0,
                                            'a' - 26, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52,
                                            '0' - 52, '0' - 52, '0' - 52, '0' - 52, '-' - 62, '_' - 63, 'A', 0, 0);
    size_t done = 0;
    while (length - done >= 28) {   // each 16-byte load reads 4 bytes past its 12
        __m128i lo = _mm_loadu_si128((const __m128i *)(in + done));
        __m128i hi = _mm_loadu_si128((const __m128i *)(in + done + 12));
        __m256i v = _mm256_shuffle_epi8(_mm256_set_m128i(hi, lo), arrange);
        // Split each 24-bit group into four 6-bit values, one per byte.
        __m256i t0 = _mm256_mulhi_epu16(_mm256_and_si256(v, _mm256_set1_epi32(0x0fc0fc00)), _mm256_set1_epi32(0x04000040));
        __m256i t1 = _mm256_mullo_epi16(_mm256_and_si256(v, _mm256_set1_epi32(0x003f03f0)), _mm256_set1_epi32(0x01000010));
        __m256i indices = _mm256_or_si256(t0, t1);
        // Range of each value: 13 for 0-25, 0 for 26-51, 1-12 for 52-63; then the shift for that range.
        __m256i range = _mm256_subs_epu8(indices, _mm256_set1_epi8(51));
        __m256i below26 = _mm256_cmpgt_epi8(_mm256_set1_epi8(26), indices);
        range = _mm256_or_si256(range, _mm256_and_si256(below26, _mm256_set1_epi8(13)));
        __m256i ascii = _mm256_add_epi8(_mm256_shuffle_epi8(shifts, range), indices);
        _mm256_storeu_si256((__m256i *)out, ascii);
        done += 24;
        out += 32;
    }
    return done;
}
#endif

size_t cbase64url_encode_prefix(const uint8_t *in, size_t length, uint8_t *out) {
#if defined(__x86_64__)
    if (length >= 28 && cbase64_uses_avx2()) return encode_avx2(in, length, out);
#endif
    (void)in; (void)length; (void)out;
    return 0;
}
