// A byte stops a plain string's scan when it is '"', '\\', below 0x20, or 0x7f and above. Compared as signed
// bytes, 0x80-0xff are negative, so "below 0x20" covers them too; 0x7f is compared on its own.

#include "ctextscan.h"
#include "ckernel.h"

#if defined(__x86_64__)
#include <immintrin.h>

static ptrdiff_t stopped_at(const uint8_t *bytes, size_t at) { return bytes[at] == '"' ? (ptrdiff_t)at + 1 : -1; }

// Nonzero if some byte of `w` may stop the scan (exact, or a false alarm that only sends the caller to its byte
// loop): the classic "has a zero byte" test on w ^ each stopping byte, and on the range checks.
static inline uint64_t may_stop(uint64_t w) {
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
    uint64_t control = (w - ones * 0x20) & ~w & highs;
    uint64_t high = ((w + ones) & highs) | (w & highs);   // 0x7f and above
    return control | high | ((q - ones) & ~q & highs) | ((b - ones) & ~b & highs);
}

// The scan's last < 32 bytes: eight at a time, then one at a time.
static ptrdiff_t end_tail(const uint8_t *bytes, size_t count, size_t o) {
    for (; o + 8 <= count; o += 8) {
        uint64_t w;
        __builtin_memcpy(&w, bytes + o, 8);
        if (may_stop(w)) break;
    }
    for (; o < count; o++) {
        uint8_t c = bytes[o];
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f) return stopped_at(bytes, o);
    }
    return -1;
}

__attribute__((target("avx2")))
static ptrdiff_t end_avx2(const uint8_t *bytes, size_t count, size_t o) {
    const __m256i quote = _mm256_set1_epi8('"'), backslash = _mm256_set1_epi8('\\');
    const __m256i space = _mm256_set1_epi8(0x20), del = _mm256_set1_epi8(0x7f);
    for (; o + 32 <= count; o += 32) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(bytes + o));
        __m256i stop = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, quote), _mm256_cmpeq_epi8(v, backslash)),
                                       _mm256_or_si256(_mm256_cmpgt_epi8(space, v), _mm256_cmpeq_epi8(v, del)));
        unsigned mask = (unsigned)_mm256_movemask_epi8(stop);
        if (mask) return stopped_at(bytes, o + (size_t)__builtin_ctz(mask));
    }
    return end_tail(bytes, count, o);
}

__attribute__((target("avx512f,avx512bw")))
static ptrdiff_t end_avx512(const uint8_t *bytes, size_t count, size_t o) {
    const __m512i quote = _mm512_set1_epi8('"'), backslash = _mm512_set1_epi8('\\');
    const __m512i space = _mm512_set1_epi8(0x20), del = _mm512_set1_epi8(0x7f);
    while (o < count) {
        size_t n = count - o < 64 ? count - o : 64;
        __mmask64 valid = n == 64 ? ~(__mmask64)0 : ((__mmask64)1 << n) - 1;
        __m512i v = _mm512_maskz_loadu_epi8(valid, bytes + o);   // masked-off bytes are never read
        __mmask64 stop = _mm512_cmpeq_epi8_mask(v, quote) | _mm512_cmpeq_epi8_mask(v, backslash) |
                         _mm512_cmplt_epi8_mask(v, space) | _mm512_cmpeq_epi8_mask(v, del);
        stop &= valid;
        if (stop) return stopped_at(bytes, o + (size_t)__builtin_ctzll(stop));
        o += n;
    }
    return -1;
}
#endif

static ckernel_choice choice = CKERNEL_CHOICE(CKERNEL_AVX512BW);

int ctextscan_kernel(void) { return ckernel_current(&choice); }

void ctextscan_limit_kernel(int level) { ckernel_limit(&choice, level); }

ptrdiff_t ctextscan_plain_string_end(const uint8_t *bytes, size_t count, size_t from) {
#if defined(__x86_64__)
    switch (ctextscan_kernel()) {
    case 2:
        return end_avx512(bytes, count, from);
    case 1:
        return end_avx2(bytes, count, from);
    }
#endif
    (void)bytes; (void)count; (void)from;
    return -2;
}
