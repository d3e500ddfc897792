// q8 products (int8 weight rows with one float scale each; the embeddings used as the output head)
// on integer dot products:
//     y[v * ldy + r] = (wscale_r * xscale_v) * sum_k w[r][k] * xq[v * ldx + k]
//
// The input vectors are first quantized to int16 with one scale per vector (elutq_quantize_int16),
// so the inner loop is one sign extension and one multiply-add of 32 pairs per instruction (AVX-512
// VNNI vpdpwssd) instead of a conversion to float per weight: on the 28 MB head of a small model
// that moves the head from compute-bound to memory-bound. Every sum is exact in int32 (the bound
// on |xq| below guarantees it), so each path returns the same bits.
#include "lut_internal.h"

/// The largest |xq| for rows of `cols` columns: 127 * limit * cols must fit in an int32, so that no
/// partial sum in any lane order can overflow.
static inline int32_t q8_input_limit(int32_t cols) {
    int64_t limit = 2147483647LL / (127LL * (cols > 0 ? cols : 1));
    return limit > 32767 ? 32767 : (int32_t)limit;
}

void elutq_quantize_int16(const float *x, int64_t ldx, int32_t cols, int32_t count, int16_t *out, float *scales) {
    const float limit = (float)q8_input_limit(cols);
    for (int32_t v = 0; v < count; v++) {
        const float *in = x + v * ldx;
        int16_t *q = out + (int64_t)v * cols;
        float amax = 0;
        for (int32_t k = 0; k < cols; k++) amax = __builtin_fmaxf(amax, __builtin_fabsf(in[k]));
        const float inverse = amax > 0 ? limit / amax : 0;
        for (int32_t k = 0; k < cols; k++) q[k] = (int16_t)__builtin_lrintf(in[k] * inverse);
        scales[v] = amax / limit;
    }
}

/// The one place the exact dot product becomes a float, shared by every path.
static inline float q8_output(int32_t dot, float wscale, float xscale) { return (wscale * xscale) * (float)dot; }

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define Q8_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define Q8_AVX2 __attribute__((target("avx2")))

/// 32 columns from k of one row and of one input; full steps use plain loads, only the tail a mask.
Q8_VNNI static inline __m512i vnni_weights(const int8_t *row, int32_t k, __mmask32 m) {
    const __m256i bytes = m == 0xFFFFFFFFu ? _mm256_loadu_si256((const __m256i *)(row + k))
                                           : _mm256_maskz_loadu_epi8(m, row + k);
    return _mm512_cvtepi8_epi16(bytes);
}

Q8_VNNI static inline __m512i vnni_inputs(const int16_t *x, __mmask32 m) {
    return m == 0xFFFFFFFFu ? _mm512_loadu_si512(x) : _mm512_maskz_loadu_epi16(m, x);
}

/// Rows [r0, r0 + nr) times vectors [v0, v0 + nv), nr and nv at most 4: each step loads nr weight
/// and nv input registers and issues nr * nv multiply-adds. Inlined with constant nr and nv, so the
/// accumulators stay in registers.
Q8_VNNI static inline __attribute__((always_inline)) void
vnni_block(const int8_t *w, const float *wscales, int32_t cols, const int16_t *xq, const float *xscales,
           int64_t ldx, float *y, int64_t ldy, int32_t r0, int32_t nr, int32_t v0, int32_t nv) {
    const int32_t body = cols / 32 * 32;
    const __mmask32 tail = (__mmask32)((1ull << (cols - body)) - 1);
    __m512i acc[4][4];
    for (int i = 0; i < nr; i++) for (int j = 0; j < nv; j++) acc[i][j] = _mm512_setzero_si512();
    for (int32_t k = 0; k < cols; k += 32) {
        const __mmask32 m = k < body ? 0xFFFFFFFFu : tail;
        __m512i b[4];
        for (int j = 0; j < nv; j++) b[j] = vnni_inputs(xq + (v0 + j) * ldx + k, m);
        for (int i = 0; i < nr; i++) {
            const __m512i a = vnni_weights(w + (int64_t)(r0 + i) * cols, k, m);
            for (int j = 0; j < nv; j++) acc[i][j] = _mm512_dpwssd_epi32(acc[i][j], a, b[j]);
        }
    }
    for (int i = 0; i < nr; i++)
        for (int j = 0; j < nv; j++)
            y[(v0 + j) * ldy + r0 + i] = q8_output(_mm512_reduce_add_epi32(acc[i][j]), wscales[r0 + i], xscales[v0 + j]);
}

/// How far ahead of the rows being multiplied their successors are prefetched.
#define Q8_PREFETCH_ROWS 16

/// Prefetches the four rows Q8_PREFETCH_ROWS after row r (while they are before row_end): the
/// hardware prefetcher alone leaves a third of the bandwidth unused on one thread. `to_l2` asks for
/// the lines in L2 only (prefetcht1): on the AVX-512 machine (AMD Zen 4) prefetches into L1 hold its
/// few L1 miss buffers and the stream stalls on them (lut_internal.h). The AVX2 path keeps T0: its
/// machine (AVX2 only) was not available to measure T1 on.
static inline __attribute__((always_inline)) void prefetch_ahead(const int8_t *w, int32_t cols, int32_t r, int32_t row_end,
                                                                 int to_l2) {
    if (r + Q8_PREFETCH_ROWS + 4 > row_end) return;
    const int8_t *ahead = w + (int64_t)(r + Q8_PREFETCH_ROWS) * cols;
    for (int64_t b = 0; b < 4 * (int64_t)cols; b += 64) {
        if (to_l2) _mm_prefetch((const char *)(ahead + b), _MM_HINT_T1);
        else _mm_prefetch((const char *)(ahead + b), _MM_HINT_T0);
    }
}

Q8_VNNI static void q8_vnni(const int8_t *w, const float *wscales, int32_t cols, const int16_t *xq,
                            const float *xscales, int64_t ldx, int32_t count, float *y, int64_t ldy,
                            int32_t row_begin, int32_t row_end) {
#define BLOCK(nr, nv) vnni_block(w, wscales, cols, xq, xscales, ldx, y, ldy, r, nr, v, nv)
    int32_t r = row_begin;
    for (; r + 4 <= row_end; r += 4) {
        prefetch_ahead(w, cols, r, row_end, 1);
        int32_t v = 0;
        for (; v + 4 <= count; v += 4) BLOCK(4, 4);
        switch (count - v) {
        case 3: BLOCK(4, 3); break;
        case 2: BLOCK(4, 2); break;
        case 1: BLOCK(4, 1); break;
        }
    }
    for (; r < row_end; r++)
        for (int32_t v = 0; v < count; v++) BLOCK(1, 1);
#undef BLOCK
}

/// The AVX2 form of vnni_block: vpmaddwd of 16 pairs and an add, for rows [r0, r0 + nr) times
/// vectors [v0, v0 + nv), nr at most 4 and nv at most 3 (twelve accumulators in sixteen registers).
/// Columns past the last multiple of 16 are added one by one.
Q8_AVX2 static inline __attribute__((always_inline)) void
avx2_block(const int8_t *w, const float *wscales, int32_t cols, const int16_t *xq, const float *xscales,
           int64_t ldx, float *y, int64_t ldy, int32_t r0, int32_t nr, int32_t v0, int32_t nv) {
    const int32_t body = cols / 16 * 16;
    __m256i acc[4][3];
    for (int i = 0; i < nr; i++) for (int j = 0; j < nv; j++) acc[i][j] = _mm256_setzero_si256();
    for (int32_t k = 0; k < body; k += 16) {
        __m256i b[3];
        for (int j = 0; j < nv; j++) b[j] = _mm256_loadu_si256((const __m256i *)(xq + (v0 + j) * ldx + k));
        for (int i = 0; i < nr; i++) {
            const __m256i a = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + (int64_t)(r0 + i) * cols + k)));
            for (int j = 0; j < nv; j++) acc[i][j] = _mm256_add_epi32(acc[i][j], _mm256_madd_epi16(a, b[j]));
        }
    }
    for (int i = 0; i < nr; i++) {
        const int8_t *row = w + (int64_t)(r0 + i) * cols;
        for (int j = 0; j < nv; j++) {
            const int16_t *in = xq + (v0 + j) * ldx;
            __m128i half = _mm_add_epi32(_mm256_castsi256_si128(acc[i][j]), _mm256_extracti128_si256(acc[i][j], 1));
            half = _mm_add_epi32(half, _mm_shuffle_epi32(half, 0x4E));
            half = _mm_add_epi32(half, _mm_shuffle_epi32(half, 0xB1));
            int32_t dot = _mm_cvtsi128_si32(half);
            for (int32_t k = body; k < cols; k++) dot += (int32_t)row[k] * in[k];
            y[(v0 + j) * ldy + r0 + i] = q8_output(dot, wscales[r0 + i], xscales[v0 + j]);
        }
    }
}

/// The AVX2 path: blocks of 4 rows by 3 vectors, prefetching ahead as q8_vnni does.
Q8_AVX2 static void q8_avx2(const int8_t *w, const float *wscales, int32_t cols, const int16_t *xq,
                            const float *xscales, int64_t ldx, int32_t count, float *y, int64_t ldy,
                            int32_t row_begin, int32_t row_end) {
#define BLOCK(nr, nv) avx2_block(w, wscales, cols, xq, xscales, ldx, y, ldy, r, nr, v, nv)
    int32_t r = row_begin;
    for (; r + 4 <= row_end; r += 4) {
        prefetch_ahead(w, cols, r, row_end, 0);
        int32_t v = 0;
        for (; v + 3 <= count; v += 3) BLOCK(4, 3);
        switch (count - v) {
        case 2: BLOCK(4, 2); break;
        case 1: BLOCK(4, 1); break;
        }
    }
    for (; r < row_end; r++)
        for (int32_t v = 0; v < count; v++) BLOCK(1, 1);
#undef BLOCK
}
#endif

/// Portable path (NEON builds vectorise it).
static void q8_scalar(const int8_t *w, const float *wscales, int32_t cols, const int16_t *xq, const float *xscales,
                      int64_t ldx, int32_t count, float *y, int64_t ldy, int32_t row_begin, int32_t row_end) {
    for (int32_t r = row_begin; r < row_end; r++) {
        const int8_t *row = w + (int64_t)r * cols;
        for (int32_t v = 0; v < count; v++) {
            const int16_t *in = xq + v * ldx;
            int32_t dot = 0;
            for (int32_t k = 0; k < cols; k++) dot += (int32_t)row[k] * in[k];
            y[v * ldy + r] = q8_output(dot, wscales[r], xscales[v]);
        }
    }
}

void elutq_q8_gemm(elutq_isa isa, const int8_t *w, const float *wscales, int32_t cols, const int16_t *xq,
                   const float *xscales, int64_t ldx, int32_t count, float *y, int64_t ldy, int32_t row_begin, int32_t row_end) {
#if defined(__x86_64__) || defined(__i386__)
    switch (isa) {
    case ELUTQ_ISA_AVX512_VBMI:
        if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl")) {
            q8_vnni(w, wscales, cols, xq, xscales, ldx, count, y, ldy, row_begin, row_end);
            return;
        }
        // fall through: a VBMI CPU without VNNI still has AVX2
    case ELUTQ_ISA_AVX2:
        q8_avx2(w, wscales, cols, xq, xscales, ldx, count, y, ldy, row_begin, row_end);
        return;
    default: break;
    }
#endif
    q8_scalar(w, wscales, cols, xq, xscales, ldx, count, y, ldy, row_begin, row_end);
}
