// Base64url encoding with AVX2, after W. Muła and D. Lemire, "Faster Base64 Encoding and Decoding Using AVX2
// Instructions" (2018): 24 input bytes become 32 characters per step. The 6-bit values are split with
// multiplies and mapped to ASCII with range arithmetic and an in-register shuffle, never a memory table, so
// the timing does not depend on the (possibly secret) data. With AVX-512 VBMI (W. Muła, "Base64 encoding with
// AVX512VBMI"), 48 bytes become 64 characters per step and masked loads and stores take any length, so a short
// disclosure (most are under 64 bytes) is one step; the alphabet lookup is a byte permutation in a register.

#include "cbase64.h"
#include "ckernel.h"

// The kernel in use: 0 none (the caller's table code), 1 AVX2, 2 AVX-512 VBMI.
static ckernel_choice choice = CKERNEL_CHOICE(CKERNEL_AVX512VBMI);

int cbase64_kernel(void) { return ckernel_current(&choice); }

int cbase64_uses_avx2(void) { return cbase64_kernel() >= 1; }

void cbase64_limit_kernel(int level) { ckernel_limit(&choice, level); }

void cbase64_force_portable(int portable) { cbase64_limit_kernel(portable ? 0 : 2); }

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

// The whole input, 48 bytes to 64 characters per step; the last step's load and store are masked to the bytes
// that exist (a masked-off byte is never read: no fault past the buffer). Bytes past the input load as zero,
// which is what the unpadded encoding of a last partial group uses.
__attribute__((target("avx512f,avx512bw,avx512vbmi")))
static size_t encode_vbmi(const uint8_t *in, size_t length, uint8_t *out) {
    // Group k (bytes 3k, 3k+1, 3k+2 = a, b, c) into 32-bit lane k as (b, a, c, b).
    const __m512i arrange = _mm512_set_epi8(
        46, 47, 45, 46, 43, 44, 42, 43, 40, 41, 39, 40, 37, 38, 36, 37, 34, 35, 33, 34, 31, 32, 30, 31,
        28, 29, 27, 28, 25, 26, 24, 25, 22, 23, 21, 22, 19, 20, 18, 19, 16, 17, 15, 16, 13, 14, 12, 13,
        10, 11, 9, 10, 7, 8, 6, 7, 4, 5, 3, 4, 1, 2, 0, 1);
    // The bit offsets of the four sextets in each lane (b | a << 8 | c << 16 | b << 24): 10, 4, 22, 16.
    const __m512i offsets = _mm512_set1_epi64(0x3036242a1016040aLL);
    static const char alphabet[64] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const __m512i letters = _mm512_loadu_si512((const void *)alphabet);
    size_t done = 0, written = 0;
    while (done < length) {
        size_t n = length - done < 48 ? length - done : 48;
        size_t chars = n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
        __m512i v = _mm512_maskz_loadu_epi8(n == 48 ? (__mmask64)0xffffffffffffULL : ((__mmask64)1 << n) - 1,
                                            in + done);
        __m512i sextets = _mm512_multishift_epi64_epi8(offsets, _mm512_permutexvar_epi8(arrange, v));
        __m512i ascii = _mm512_permutexvar_epi8(sextets, letters);   // the low 6 bits of each byte pick
        _mm512_mask_storeu_epi8(out + written, chars == 64 ? ~(__mmask64)0 : ((__mmask64)1 << chars) - 1, ascii);
        done += n;
        written += chars;
    }
    return done;
}
#endif

size_t cbase64url_encode_prefix(const uint8_t *in, size_t length, uint8_t *out) {
#if defined(__x86_64__)
    switch (cbase64_kernel()) {
    case 2:
        return encode_vbmi(in, length, out);
    case 1:
        if (length >= 28) return encode_avx2(in, length, out);
    }
#endif
    (void)in; (void)length; (void)out;
    return 0;
}
