// SHA-256 per FIPS 180-4. Two block functions: portable C, and the x86 SHA extensions (SHA-NI), chosen once
// at load time from CPUID. Hashing is the hot loop of import and verify; this avoids swift-crypto's
// per-call context allocation and copy, which cost more than the compression itself for 65-byte inputs.

#include "csha256.h"
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define CSHA256_X86 1
#endif

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

// Zeroes a buffer in a way the compiler may not remove (the barrier says the memory is still in use).
static inline void wipe(void *p, size_t n) {
    memset(p, 0, n);
    __asm__ __volatile__("" : : "r"(p) : "memory");
}

static inline uint32_t ror(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static inline uint32_t load_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline void store_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

// FIPS 180-4 §6.2.2: message schedule, then 64 rounds, per 64-byte block.
static void blocks_portable(uint32_t state[8], const uint8_t *data, size_t blocks) {
    uint32_t w[64];
    while (blocks--) {
        for (int t = 0; t < 16; t++) w[t] = load_be32(data + 4 * t);
        for (int t = 16; t < 64; t++) {
            uint32_t s0 = ror(w[t - 15], 7) ^ ror(w[t - 15], 18) ^ (w[t - 15] >> 3);
            uint32_t s1 = ror(w[t - 2], 17) ^ ror(w[t - 2], 19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }
        uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
        uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
        for (int t = 0; t < 64; t++) {
            uint32_t t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t];
            uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
        }
        state[0] += a; state[1] += b; state[2] += c; state[3] += d;
        state[4] += e; state[5] += f; state[6] += g; state[7] += h;
        data += 64;
    }
    wipe(w, sizeof w);
}

#ifdef CSHA256_X86
// The state A..H in the two registers SHA256RNDS2 works on, as ABEF and CDGH.
__attribute__((target("sha,sse4.1,ssse3")))
static inline void load_state(const uint32_t state[8], __m128i *abef, __m128i *cdgh) {
    __m128i dcba = _mm_loadu_si128((const __m128i *)&state[0]);
    __m128i hgfe = _mm_loadu_si128((const __m128i *)&state[4]);
    __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
    __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
    *abef = _mm_alignr_epi8(cdab, efgh, 8);
    *cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);
}

// ABEF and CDGH back to the state A..H.
__attribute__((target("sha,sse4.1,ssse3")))
static inline void store_state(uint32_t state[8], __m128i abef, __m128i cdgh) {
    __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128((__m128i *)&state[0], _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128((__m128i *)&state[4], _mm_alignr_epi8(dchg, feba, 8));
}

// The same compression with SHA256RNDS2 (two rounds per instruction) and SHA256MSG1/MSG2 for the schedule.
__attribute__((target("sha,sse4.1,ssse3")))
static void blocks_sha_extensions(uint32_t state[8], const uint8_t *data, size_t blocks) {
    const __m128i byteswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i abef, cdgh;
    load_state(state, &abef, &cdgh);

    while (blocks--) {
        const __m128i abef_saved = abef, cdgh_saved = cdgh;
        __m128i w[4];
#if defined(__clang__)
#pragma clang loop unroll(full)
#elif defined(__GNUC__)
#pragma GCC unroll 16
#endif
        for (int i = 0; i < 16; i++) {
            __m128i words;
            if (i < 4) {
                words = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16 * i)), byteswap);
            } else {
                // W[t] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16], four words at a time.
                words = _mm_sha256msg1_epu32(w[i & 3], w[(i + 1) & 3]);
                words = _mm_add_epi32(words, _mm_alignr_epi8(w[(i + 3) & 3], w[(i + 2) & 3], 4));
                words = _mm_sha256msg2_epu32(words, w[(i + 3) & 3]);
            }
            w[i & 3] = words;
            __m128i wk = _mm_add_epi32(words, _mm_loadu_si128((const __m128i *)&K[4 * i]));
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
            abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0E));
        }
        abef = _mm_add_epi32(abef, abef_saved);
        cdgh = _mm_add_epi32(cdgh, cdgh_saved);
        data += 64;
    }

    store_state(state, abef, cdgh);
}

// Two independent compressions interleaved, block for block: SHA256RNDS2 has a latency of several cycles but
// issues more often, so the rounds of one message fill the other's wait (about twice the throughput of one).
__attribute__((target("sha,sse4.1,ssse3")))
static void blocks_sha_extensions_x2(uint32_t state_a[8], const uint8_t *a, uint32_t state_b[8], const uint8_t *b,
                                     size_t blocks) {
    const __m128i byteswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i abef[2], cdgh[2];
    load_state(state_a, &abef[0], &cdgh[0]);
    load_state(state_b, &abef[1], &cdgh[1]);
    while (blocks--) {
        const __m128i abef_a = abef[0], cdgh_a = cdgh[0], abef_b = abef[1], cdgh_b = cdgh[1];
        __m128i wa[4], wb[4];
#if defined(__clang__)
#pragma clang loop unroll(full)
#elif defined(__GNUC__)
#pragma GCC unroll 16
#endif
        for (int i = 0; i < 16; i++) {
            __m128i x, y;
            if (i < 4) {
                x = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(a + 16 * i)), byteswap);
                y = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(b + 16 * i)), byteswap);
            } else {
                // W[t] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16], four words at a time, per message.
                x = _mm_sha256msg1_epu32(wa[i & 3], wa[(i + 1) & 3]);
                y = _mm_sha256msg1_epu32(wb[i & 3], wb[(i + 1) & 3]);
                x = _mm_add_epi32(x, _mm_alignr_epi8(wa[(i + 3) & 3], wa[(i + 2) & 3], 4));
                y = _mm_add_epi32(y, _mm_alignr_epi8(wb[(i + 3) & 3], wb[(i + 2) & 3], 4));
                x = _mm_sha256msg2_epu32(x, wa[(i + 3) & 3]);
                y = _mm_sha256msg2_epu32(y, wb[(i + 3) & 3]);
            }
            wa[i & 3] = x;
            wb[i & 3] = y;
            const __m128i k = _mm_loadu_si128((const __m128i *)&K[4 * i]);
            const __m128i xk = _mm_add_epi32(x, k), yk = _mm_add_epi32(y, k);
            cdgh[0] = _mm_sha256rnds2_epu32(cdgh[0], abef[0], xk);
            cdgh[1] = _mm_sha256rnds2_epu32(cdgh[1], abef[1], yk);
            abef[0] = _mm_sha256rnds2_epu32(abef[0], cdgh[0], _mm_shuffle_epi32(xk, 0x0E));
            abef[1] = _mm_sha256rnds2_epu32(abef[1], cdgh[1], _mm_shuffle_epi32(yk, 0x0E));
        }
        abef[0] = _mm_add_epi32(abef[0], abef_a);
        cdgh[0] = _mm_add_epi32(cdgh[0], cdgh_a);
        abef[1] = _mm_add_epi32(abef[1], abef_b);
        cdgh[1] = _mm_add_epi32(cdgh[1], cdgh_b);
        a += 64;
        b += 64;
    }
    store_state(state_a, abef[0], cdgh[0]);
    store_state(state_b, abef[1], cdgh[1]);
}

static int cpu_has_sha_extensions(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int ssse3 = (c >> 9) & 1, sse41 = (c >> 19) & 1;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    int sha = (b >> 29) & 1;
    return ssse3 && sse41 && sha;
}
#endif

typedef void (*block_function)(uint32_t state[8], const uint8_t *data, size_t blocks);
static block_function compress = blocks_portable;
static int using_extensions = 0;

__attribute__((constructor))
static void choose_block_function(void) {
#ifdef CSHA256_X86
    if (cpu_has_sha_extensions()) {
        compress = blocks_sha_extensions;
        using_extensions = 1;
    }
#endif
}

int csha256_uses_sha_extensions(void) { return using_extensions; }

void csha256_force_portable(int portable) {
    if (portable) {
        compress = blocks_portable;
        using_extensions = 0;
    } else {
        choose_block_function();
    }
}

void csha256_init(csha256_ctx *ctx) {
    static const uint32_t initial[8] = {   // FIPS 180-4 §5.3.3
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    };
    memcpy(ctx->state, initial, sizeof initial);
    ctx->length = 0;
    ctx->buffered = 0;
}

void csha256_update(csha256_ctx *ctx, const void *data, size_t length) {
    const uint8_t *p = data;
    ctx->length += length;
    if (ctx->buffered) {
        size_t take = 64 - ctx->buffered < length ? 64 - ctx->buffered : length;
        memcpy(ctx->buffer + ctx->buffered, p, take);
        ctx->buffered += (uint32_t)take;
        p += take;
        length -= take;
        if (ctx->buffered < 64) return;
        compress(ctx->state, ctx->buffer, 1);
        ctx->buffered = 0;
    }
    if (length >= 64) {
        compress(ctx->state, p, length / 64);
        p += length & ~(size_t)63;
        length &= 63;
    }
    if (length) {
        memcpy(ctx->buffer, p, length);
        ctx->buffered = (uint32_t)length;
    }
}

// FIPS 180-4 §5.1.1: append 0x80, zeros, and the message length in bits as a 64-bit big-endian integer.
void csha256_final(csha256_ctx *ctx, uint8_t out[32]) {
    uint64_t bits = ctx->length * 8;
    uint32_t n = ctx->buffered;
    ctx->buffer[n++] = 0x80;
    if (n > 56) {
        memset(ctx->buffer + n, 0, 64 - n);
        compress(ctx->state, ctx->buffer, 1);
        n = 0;
    }
    memset(ctx->buffer + n, 0, 56 - n);
    for (int i = 0; i < 8; i++) ctx->buffer[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    compress(ctx->state, ctx->buffer, 1);
    for (int i = 0; i < 8; i++) store_be32(out + 4 * i, ctx->state[i]);
    wipe(ctx, sizeof *ctx);
}

void csha256(const void *data, size_t length, uint8_t out[32]) {
    csha256_ctx ctx;
    csha256_init(&ctx);
    csha256_update(&ctx, data, length);
    csha256_final(&ctx, out);
}

// One message of `csha256_x2`: the context's buffered bytes (`head`), then `data`, then the padding of
// FIPS 180-4 §5.1.1, as a sequence of 64-byte blocks.
typedef struct {
    uint32_t *state;
    const uint8_t *head;
    size_t head_length;
    const uint8_t *data;
    size_t data_length;
    size_t blocks;   // padded blocks still to compress, counted from the head
    uint64_t bits;   // the whole message's length in bits
} lane;

static lane lane_make(csha256_ctx *ctx, const void *data, size_t length) {
    lane l = {ctx->state, ctx->buffer, ctx->buffered, data, length, 0, (ctx->length + length) * 8};
    l.blocks = (ctx->buffered + length + 1 + 8 + 63) / 64;
    return l;
}

// Consecutive blocks from block `i` on that lie wholly in the caller's data (after the head): read in place.
static size_t lane_direct_blocks(const lane *l, size_t i) {
    size_t start = 64 * i, total = l->head_length + l->data_length;
    return start >= l->head_length && start < total ? (total - start) / 64 : 0;
}

static const uint8_t *lane_direct(const lane *l, size_t i) { return l->data + (64 * i - l->head_length); }

// Block `i` assembled in `out`: head and data bytes, the 0x80 terminator, zeros, the length in the last block.
static void lane_block(const lane *l, size_t i, uint8_t out[64]) {
    size_t start = 64 * i, total = l->head_length + l->data_length;
    size_t end = start + 64 < total ? start + 64 : total;
    memset(out, 0, 64);
    if (start < l->head_length) {
        size_t head_end = end < l->head_length ? end : l->head_length;
        memcpy(out, l->head + start, head_end - start);
    }
    size_t from = start > l->head_length ? start : l->head_length;
    if (from < end) memcpy(out + (from - start), l->data + (from - l->head_length), end - from);
    if (total >= start && total < start + 64) out[total - start] = 0x80;
    if (i + 1 == l->blocks) {
        for (int k = 0; k < 8; k++) out[56 + k] = (uint8_t)(l->bits >> (56 - 8 * k));
    }
}

static void lane_digest(const lane *l, uint8_t out[32]) {
    for (int i = 0; i < 8; i++) store_be32(out + 4 * i, l->state[i]);
}

// Compresses the lane's blocks from `i` on, one message alone.
static void lane_finish(const lane *l, size_t i, uint8_t scratch[64]) {
    while (i < l->blocks) {
        size_t direct = lane_direct_blocks(l, i);
        if (direct) {
            compress(l->state, lane_direct(l, i), direct);
            i += direct;
        } else {
            lane_block(l, i, scratch);
            compress(l->state, scratch, 1);
            i += 1;
        }
    }
}

void csha256_x2(csha256_ctx *ctx_a, const void *a, size_t a_length, uint8_t out_a[32],
                csha256_ctx *ctx_b, const void *b, size_t b_length, uint8_t out_b[32]) {
#ifdef CSHA256_X86
    if (compress == blocks_sha_extensions) {
        lane la = lane_make(ctx_a, a, a_length), lb = lane_make(ctx_b, b, b_length);
        uint8_t scratch_a[64], scratch_b[64];
        size_t i = 0;
        while (i < la.blocks && i < lb.blocks) {
            size_t direct = lane_direct_blocks(&la, i), direct_b = lane_direct_blocks(&lb, i);
            if (direct_b < direct) direct = direct_b;
            if (direct) {
                blocks_sha_extensions_x2(la.state, lane_direct(&la, i), lb.state, lane_direct(&lb, i), direct);
                i += direct;
                continue;
            }
            const uint8_t *pa = scratch_a, *pb = scratch_b;
            if (lane_direct_blocks(&la, i)) pa = lane_direct(&la, i); else lane_block(&la, i, scratch_a);
            if (lane_direct_blocks(&lb, i)) pb = lane_direct(&lb, i); else lane_block(&lb, i, scratch_b);
            blocks_sha_extensions_x2(la.state, pa, lb.state, pb, 1);
            i += 1;
        }
        lane_finish(&la, i, scratch_a);
        lane_finish(&lb, i, scratch_b);
        lane_digest(&la, out_a);
        lane_digest(&lb, out_b);
        wipe(scratch_a, sizeof scratch_a);  // the blocks may hold the caller's secrets
        wipe(scratch_b, sizeof scratch_b);
        wipe(ctx_a, sizeof *ctx_a);
        wipe(ctx_b, sizeof *ctx_b);
        return;
    }
#endif
    csha256_update(ctx_a, a, a_length);
    csha256_final(ctx_a, out_a);
    csha256_update(ctx_b, b, b_length);
    csha256_final(ctx_b, out_b);
}

// One lane of `csha256_many_padded`: the message it is hashing, from its next block on.
typedef struct {
    uint32_t state[8];
    const uint8_t *next;
    size_t left;    // blocks still to compress
    size_t index;   // which message
    int busy;
} padded_lane;

// The messages of `csha256_many_padded`, handed out longest first, then in order: a long message starts at once,
// paired with the short ones, instead of finishing alone at the end.
typedef struct {
    const uint8_t *const *messages;
    const size_t *blocks;
    size_t count;
    size_t longest;
    size_t next;
} padded_queue;

static void padded_take(padded_lane *p, padded_queue *q) {
    static const uint32_t initial[8] = {   // FIPS 180-4 §5.3.3
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    };
    p->busy = q->next < q->count;
    if (!p->busy) return;
    size_t n = q->next++;
    p->index = n == 0 ? q->longest : n - (n <= q->longest);
    memcpy(p->state, initial, sizeof initial);
    p->next = q->messages[p->index];
    p->left = q->blocks[p->index];
}

// Writes the lane's digest once its message is done, and takes the next message.
static void padded_advance(padded_lane *p, size_t run, padded_queue *q, uint8_t *outs) {
    p->next += 64 * run;
    p->left -= run;
    if (p->left) return;
    for (int i = 0; i < 8; i++) store_be32(outs + 32 * p->index + 4 * i, p->state[i]);
    padded_take(p, q);
}

void csha256_many_padded(const uint8_t *const messages[], const size_t blocks[], size_t count, uint8_t *outs) {
    padded_queue q = {messages, blocks, count, 0, 0};
    for (size_t k = 1; k < count; k++) if (blocks[k] > blocks[q.longest]) q.longest = k;
    padded_lane lanes[2];
    padded_take(&lanes[0], &q);
    padded_take(&lanes[1], &q);
#ifdef CSHA256_X86
    if (compress == blocks_sha_extensions) {
        while (lanes[0].busy && lanes[1].busy) {
            size_t run = lanes[0].left < lanes[1].left ? lanes[0].left : lanes[1].left;
            blocks_sha_extensions_x2(lanes[0].state, lanes[0].next, lanes[1].state, lanes[1].next, run);
            padded_advance(&lanes[0], run, &q, outs);
            padded_advance(&lanes[1], run, &q, outs);
        }
    }
#endif
    for (int k = 0; k < 2; k++) {
        while (lanes[k].busy) {
            compress(lanes[k].state, lanes[k].next, lanes[k].left);
            padded_advance(&lanes[k], lanes[k].left, &q, outs);
        }
    }
    wipe(lanes, sizeof lanes);
}
