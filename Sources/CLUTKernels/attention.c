// Decode attention: the query heads that share one key/value head, against every cached position.
//     scores[h][j] = scale * q_h . k_j,   p_h = softmax(scores[h]),   out_h = sum_j p_h[j] v_j
// The heads of a group go together, so each cached key and value is read once per group rather
// than once per head. The products run on AVX-512 or AVX2 when the CPU has it (the Swift code is
// built for baseline x86-64); the portable loops keep eight partial sums per dot product, so
// compilers vectorise them. The paths add in different orders; each is held against double precision.
#include "lut_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

/// Query heads whose accumulators share one pass over the values (4 heads x 4 registers of 16).
#define ATT_HEADS 4

/// Four dot products' eight-lane sums as one register of four.
LUT_FLOAT_AVX2 static inline __m128 sum_four(const __m256 acc[4]) {
    const __m256 pairs = _mm256_hadd_ps(_mm256_hadd_ps(acc[0], acc[1]), _mm256_hadd_ps(acc[2], acc[3]));
    return _mm_add_ps(_mm256_castps256_ps128(pairs), _mm256_extractf128_ps(pairs, 1));
}

/// The same for sixteen-lane sums: each register's halves added, then as sum_four.
LUT_FLOAT_AVX512 static inline __m128 sum_four_wide(const __m512 acc[4]) {
    __m256 halves[4];
    for (int c = 0; c < 4; c++) halves[c] = _mm256_add_ps(_mm512_castps512_ps256(acc[c]), _mm512_extractf32x8_ps(acc[c], 1));
    return sum_four(halves);
}

/// Positions ahead of the scores loop whose keys are prefetched.
#define ATT_PREFETCH_AHEAD 16

/// Prefetches, into L2, the keys of positions j + ATT_PREFETCH_AHEAD to j + ATT_PREFETCH_AHEAD + 3
/// and the values of positions j to j + 3, which the values pass reads after the softmax. In a
/// decode step the weights stream through the caches between one layer's attention and the next,
/// so the cache comes from memory, one short strided run per key/value head, and the loads waited
/// on it: attention took 0.44-0.54 ms of a one-thread SmolLM2 2-bit step at tg128 before, 0.35-0.44
/// after (`elutq bench --profile`, interleaved runs, with the four-key scores below).
LUT_FLOAT_AVX512 static inline void prefetch_positions(const float *keys, const float *values, int64_t kv_stride,
                                                       int32_t head_size, int32_t j, int32_t visible) {
    for (int32_t c = 0; c < 4; c++) {
        const int32_t ahead = j + ATT_PREFETCH_AHEAD + c;
        if (ahead < visible)
            for (int32_t d = 0; d < head_size; d += 16) _mm_prefetch((const char *)(keys + (int64_t)ahead * kv_stride + d), _MM_HINT_T1);
        for (int32_t d = 0; d < head_size; d += 16) _mm_prefetch((const char *)(values + (int64_t)(j + c) * kv_stride + d), _MM_HINT_T1);
    }
}

/// scores[h][j] for the group's heads, 16 dimensions at a time and four keys at a time per head, as
/// attention_scores_avx2 does: four independent chains of multiply-adds and one horizontal sum
/// for the four keys, where one key at a time paid a full horizontal sum for each.
LUT_FLOAT_AVX512 static void attention_scores(const float *q, int64_t q_stride, int32_t heads, int32_t head_size,
                                        const float *keys, const float *values, int64_t kv_stride, int32_t visible,
                                        float scale, float *scores) {
    const __m128 scale4 = _mm_set1_ps(scale);
    int32_t j = 0;
    for (; j + 4 <= visible; j += 4) {
        const float *k = keys + (int64_t)j * kv_stride;
        prefetch_positions(keys, values, kv_stride, head_size, j, visible);
        for (int32_t h = 0; h < heads; h++) {
            const float *qh = q + (int64_t)h * q_stride;
            __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
            for (int32_t d = 0; d < head_size; d += 16) {
                const __m512 query = _mm512_loadu_ps(qh + d);
                for (int c = 0; c < 4; c++) acc[c] = _mm512_fmadd_ps(query, _mm512_loadu_ps(k + c * kv_stride + d), acc[c]);
            }
            _mm_storeu_ps(scores + (int64_t)h * visible + j, _mm_mul_ps(sum_four_wide(acc), scale4));
        }
    }
    for (; j < visible; j++) {
        const float *k = keys + (int64_t)j * kv_stride;
        for (int32_t h = 0; h < heads; h++) {
            const float *qh = q + (int64_t)h * q_stride;
            __m512 acc = _mm512_setzero_ps();
            for (int32_t d = 0; d < head_size; d += 16)
                acc = _mm512_fmadd_ps(_mm512_loadu_ps(qh + d), _mm512_loadu_ps(k + d), acc);
            // summed as sum_four_wide sums, so a key's score does not depend on where it falls
            const __m512 four[4] = {acc, _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
            scores[(int64_t)h * visible + j] = _mm_cvtss_f32(sum_four_wide(four)) * scale;
        }
    }
}

/// out_h = sum_j p_h[j] v_j for `heads` heads (at most ATT_HEADS) and `chunks` registers of 16
/// dimensions from `d`. Inlined with both constant, so the accumulators stay in registers: with
/// either a variable, the compiler kept them on the stack and copied rows with memcpy, which took
/// most of a long context's decode attention.
LUT_FLOAT_AVX512 static inline __attribute__((always_inline)) void
values_avx512(const float *p, int32_t heads, const float *values, int64_t kv_stride, int32_t visible, int32_t d,
              int32_t chunks, float *out, int64_t out_stride) {
    __m512 acc[ATT_HEADS][4];
    for (int32_t h = 0; h < heads; h++)
        for (int32_t c = 0; c < chunks; c++) acc[h][c] = _mm512_setzero_ps();
    for (int32_t j = 0; j < visible; j++) {
        const float *v = values + (int64_t)j * kv_stride + d;
        __m512 row[4];
        for (int32_t c = 0; c < chunks; c++) row[c] = _mm512_loadu_ps(v + 16 * c);
        for (int32_t h = 0; h < heads; h++) {
            const __m512 weight = _mm512_set1_ps(p[(int64_t)h * visible + j]);
            for (int32_t c = 0; c < chunks; c++) acc[h][c] = _mm512_fmadd_ps(weight, row[c], acc[h][c]);
        }
    }
    for (int32_t h = 0; h < heads; h++)
        for (int32_t c = 0; c < chunks; c++) _mm512_storeu_ps(out + (int64_t)h * out_stride + d + 16 * c, acc[h][c]);
}

/// A switch over every (heads, chunks) pair of a values kernel, each case inlined with constants.
#define VALUES_CASE(kernel, h, c) \
    case (h) * 8 + (c): kernel(p, h, values, kv_stride, visible, d, c, out, out_stride); break;
#define VALUES_HEADS(kernel, c) \
    VALUES_CASE(kernel, 1, c) VALUES_CASE(kernel, 2, c) VALUES_CASE(kernel, 3, c) VALUES_CASE(kernel, 4, c)

/// values_avx512 for up to ATT_HEADS heads and 64 dimensions from `d` (width a multiple of 16).
LUT_FLOAT_AVX512 static void attention_values(const float *p, int32_t heads, const float *values, int64_t kv_stride,
                                              int32_t visible, int32_t d, int32_t width, float *out, int64_t out_stride) {
    switch (heads * 8 + width / 16) {
        VALUES_HEADS(values_avx512, 1) VALUES_HEADS(values_avx512, 2) VALUES_HEADS(values_avx512, 3) VALUES_HEADS(values_avx512, 4)
    }
}

/// attention_scores in eight lanes, for head sizes that are multiples of 8. Four keys at a time
/// per head: a dot product is a chain of dependent multiply-adds, and one chain at a time left
/// the loop waiting on their latency (about 200 ns per position and key/value head at 64
/// dimensions); four chains share each load of the query and one horizontal sum.
LUT_FLOAT_AVX2 static void attention_scores_avx2(const float *q, int64_t q_stride, int32_t heads, int32_t head_size,
                                                 const float *keys, const float *values, int64_t kv_stride, int32_t visible,
                                                 float scale, float *scores) {
    (void)values;  // prefetched by the AVX-512 path only
    const __m128 scale4 = _mm_set1_ps(scale);
    int32_t j = 0;
    for (; j + 4 <= visible; j += 4) {
        const float *k = keys + (int64_t)j * kv_stride;
        for (int32_t h = 0; h < heads; h++) {
            const float *qh = q + (int64_t)h * q_stride;
            __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
            for (int32_t d = 0; d < head_size; d += 8) {
                const __m256 query = _mm256_loadu_ps(qh + d);
                for (int c = 0; c < 4; c++) acc[c] = _mm256_fmadd_ps(query, _mm256_loadu_ps(k + c * kv_stride + d), acc[c]);
            }
            _mm_storeu_ps(scores + (int64_t)h * visible + j, _mm_mul_ps(sum_four(acc), scale4));
        }
    }
    for (; j < visible; j++) {
        const float *k = keys + (int64_t)j * kv_stride;
        for (int32_t h = 0; h < heads; h++) {
            const float *qh = q + (int64_t)h * q_stride;
            __m256 acc = _mm256_setzero_ps();
            for (int32_t d = 0; d < head_size; d += 8)
                acc = _mm256_fmadd_ps(_mm256_loadu_ps(qh + d), _mm256_loadu_ps(k + d), acc);
            // summed as sum_four sums, so a key's score does not depend on where it falls
            const __m256 four[4] = {acc, _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
            scores[(int64_t)h * visible + j] = _mm_cvtss_f32(sum_four(four)) * scale;
        }
    }
}

/// values_avx512 in eight lanes: `chunks` (1 or 2) registers of 8 dimensions, so at most eight
/// accumulators beside the two rows of values and the broadcast weight.
LUT_FLOAT_AVX2 static inline __attribute__((always_inline)) void
values_avx2(const float *p, int32_t heads, const float *values, int64_t kv_stride, int32_t visible, int32_t d,
            int32_t chunks, float *out, int64_t out_stride) {
    __m256 acc[ATT_HEADS][2];
    for (int32_t h = 0; h < heads; h++)
        for (int32_t c = 0; c < chunks; c++) acc[h][c] = _mm256_setzero_ps();
    for (int32_t j = 0; j < visible; j++) {
        const float *v = values + (int64_t)j * kv_stride + d;
        __m256 row[2];
        for (int32_t c = 0; c < chunks; c++) row[c] = _mm256_loadu_ps(v + 8 * c);
        for (int32_t h = 0; h < heads; h++) {
            const __m256 weight = _mm256_broadcast_ss(p + (int64_t)h * visible + j);
            for (int32_t c = 0; c < chunks; c++) acc[h][c] = _mm256_fmadd_ps(weight, row[c], acc[h][c]);
        }
    }
    for (int32_t h = 0; h < heads; h++)
        for (int32_t c = 0; c < chunks; c++) _mm256_storeu_ps(out + (int64_t)h * out_stride + d + 8 * c, acc[h][c]);
}

/// values_avx2 for up to ATT_HEADS heads and 16 dimensions from `d` (width 8 or 16).
LUT_FLOAT_AVX2 static void attention_values_avx2(const float *p, int32_t heads, const float *values, int64_t kv_stride,
                                                 int32_t visible, int32_t d, int32_t width, float *out, int64_t out_stride) {
    switch (heads * 8 + width / 8) {
        VALUES_HEADS(values_avx2, 1) VALUES_HEADS(values_avx2, 2)
    }
}

typedef void (*scores_kernel)(const float *q, int64_t q_stride, int32_t heads, int32_t head_size, const float *keys,
                              const float *values, int64_t kv_stride, int32_t visible, float scale, float *scores);
typedef void (*values_kernel)(const float *p, int32_t heads, const float *values, int64_t kv_stride, int32_t visible,
                              int32_t d, int32_t width, float *out, int64_t out_stride);

/// elutq_attend on one ISA's kernels: the scores, their softmax, then the values in runs of up to
/// ATT_HEADS heads and `span` dimensions.
static void attend_in_vectors(scores_kernel scores_of, values_kernel values_of, int32_t span, const float *q,
                              int64_t q_stride, int32_t heads, int32_t head_size, const float *keys, const float *values,
                              int64_t kv_stride, int32_t visible, float scale, float *scores, float *out,
                              int64_t out_stride) {
    scores_of(q, q_stride, heads, head_size, keys, values, kv_stride, visible, scale, scores);
    for (int32_t h = 0; h < heads; h++) elutq_softmax(scores + (int64_t)h * visible, visible);
    for (int32_t h0 = 0; h0 < heads; h0 += ATT_HEADS) {
        const int32_t n = heads - h0 < ATT_HEADS ? heads - h0 : ATT_HEADS;
        for (int32_t d = 0; d < head_size; d += span) {
            const int32_t width = head_size - d < span ? head_size - d : span;
            values_of(scores + (int64_t)h0 * visible, n, values, kv_stride, visible, d, width,
                      out + (int64_t)h0 * out_stride, out_stride);
        }
    }
}
#endif

void elutq_attend(const float *q, int64_t q_stride, int32_t heads, int32_t head_size, const float *keys,
                  const float *values, int64_t kv_stride, int32_t visible, float scale, float *scores,
                  float *out, int64_t out_stride) {
#if defined(__x86_64__) || defined(__i386__)
    if (head_size % 16 == 0 && lut_has_float_avx512()) {
        attend_in_vectors(attention_scores, attention_values, 64, q, q_stride, heads, head_size, keys, values,
                          kv_stride, visible, scale, scores, out, out_stride);
        return;
    }
    if (head_size % 8 == 0 && lut_has_float_avx2()) {
        attend_in_vectors(attention_scores_avx2, attention_values_avx2, 16, q, q_stride, heads, head_size, keys, values,
                          kv_stride, visible, scale, scores, out, out_stride);
        return;
    }
#endif
    for (int32_t h = 0; h < heads; h++) {
        const float *qh = q + (int64_t)h * q_stride;
        float *p = scores + (int64_t)h * visible;
        for (int32_t j = 0; j < visible; j++) {
            const float *k = keys + (int64_t)j * kv_stride;
            float lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            int32_t d = 0;
            for (; d + 8 <= head_size; d += 8)
                for (int l = 0; l < 8; l++) lanes[l] += qh[d + l] * k[d + l];
            for (int l = 0; d < head_size; d++, l++) lanes[l] += qh[d] * k[d];
            p[j] = (((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]))) * scale;
        }
        elutq_softmax(p, visible);
        float *oh = out + (int64_t)h * out_stride;
        for (int32_t d = 0; d < head_size; d++) oh[d] = 0;
        for (int32_t j = 0; j < visible; j++) {
            const float *v = values + (int64_t)j * kv_stride;
            for (int32_t d = 0; d < head_size; d++) oh[d] += p[j] * v[d];
        }
    }
}

void elutq_prefetch_l2(const void *start, int64_t bytes) {
    // From the line holding the first byte to the line holding the last.
    const uintptr_t first = (uintptr_t)start & ~(uintptr_t)63, end = (uintptr_t)start + (uintptr_t)bytes;
    for (uintptr_t line = first; line < end; line += 64) __builtin_prefetch((const void *)line, 0, 2);
}
