// Float32 products in the plain row-major form, for training's forward and backward passes:
//     c[i * ldc + j] (+)= sum_k a[i * lda + k] * b[k * ldb + j]
//
// Each output row keeps its 32 columns in two registers (16 columns on AVX2) while k runs, taking
// one broadcast of a[i][k] and two loads of b[k] per step: no horizontal sums, as the dot-product
// form (elutq_f32_gemm) needs at the end of every tile. Blocks of 8 rows (6 on AVX2) share the
// loads of b, and k runs in slices of 256 so that a slice of b's columns stays in the L1 cache.
// Every output is summed in the same order whichever thread computes it.
#include "lut_internal.h"

#include <math.h>

#define NN_DEPTH_SLICE 256

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define NN_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,fma")))

/// ROWS rows by up to 32 columns (masks m0, m1) over kn steps of k.
#define NN_TILE(ROWS)                                                                                          \
    NN_AVX512 static inline void nn_tile_##ROWS(const float *a, int64_t lda, const float *b, int64_t ldb,      \
                                                int32_t kn, float *c, int64_t ldc, __mmask16 m0, __mmask16 m1, \
                                                int load) {                                                    \
        __m512 acc[ROWS][2];                                                                                   \
        for (int i = 0; i < ROWS; i++) {                                                                       \
            acc[i][0] = load ? _mm512_maskz_loadu_ps(m0, c + i * ldc) : _mm512_setzero_ps();                  \
            acc[i][1] = load ? _mm512_maskz_loadu_ps(m1, c + i * ldc + 16) : _mm512_setzero_ps();             \
        }                                                                                                      \
        for (int32_t k = 0; k < kn; k++) {                                                                     \
            const __m512 b0 = _mm512_maskz_loadu_ps(m0, b + k * ldb);                                          \
            const __m512 b1 = _mm512_maskz_loadu_ps(m1, b + k * ldb + 16);                                     \
            for (int i = 0; i < ROWS; i++) {                                                                   \
                const __m512 x = _mm512_set1_ps(a[i * lda + k]);                                               \
                acc[i][0] = _mm512_fmadd_ps(x, b0, acc[i][0]);                                                 \
                acc[i][1] = _mm512_fmadd_ps(x, b1, acc[i][1]);                                                 \
            }                                                                                                  \
        }                                                                                                      \
        for (int i = 0; i < ROWS; i++) {                                                                       \
            _mm512_mask_storeu_ps(c + i * ldc, m0, acc[i][0]);                                                 \
            _mm512_mask_storeu_ps(c + i * ldc + 16, m1, acc[i][1]);                                            \
        }                                                                                                      \
    }
NN_TILE(8)
NN_TILE(1)

NN_AVX512 static void nn_avx512(const float *a, int64_t lda, int32_t m, const float *b, int64_t ldb, int32_t depth,
                                float *c, int64_t ldc, int32_t col_begin, int32_t col_end, int accumulate) {
    for (int32_t j = col_begin; j < col_end; j += 32) {
        const int32_t w = col_end - j < 32 ? col_end - j : 32;
        const __mmask16 m0 = w >= 16 ? 0xFFFF : (__mmask16)((1u << w) - 1);
        const __mmask16 m1 = w >= 32 ? 0xFFFF : w <= 16 ? 0 : (__mmask16)((1u << (w - 16)) - 1);
        for (int32_t k0 = 0; k0 < depth; k0 += NN_DEPTH_SLICE) {
            const int32_t kn = depth - k0 < NN_DEPTH_SLICE ? depth - k0 : NN_DEPTH_SLICE;
            const int load = accumulate || k0 > 0;
            const float *bk = b + (int64_t)k0 * ldb + j;
            int32_t i = 0;
            for (; i + 8 <= m; i += 8) nn_tile_8(a + i * lda + k0, lda, bk, ldb, kn, c + i * ldc + j, ldc, m0, m1, load);
            for (; i < m; i++) nn_tile_1(a + i * lda + k0, lda, bk, ldb, kn, c + i * ldc + j, ldc, m0, m1, load);
        }
    }
}

static int nn_avx512_supported(void) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
}

#define NN_AVX2 LUT_FLOAT_AVX2

/// The AVX2 form of NN_TILE: ROWS rows by up to 16 columns (lane masks m0, m1 for maskload and
/// maskstore). Six rows make twelve accumulators, which with two loads of b and the broadcast fill
/// AVX2's sixteen registers.
#define NN_TILE_AVX2(ROWS)                                                                                     \
    NN_AVX2 static inline void nn_tile_avx2_##ROWS(const float *a, int64_t lda, const float *b, int64_t ldb,   \
                                                   int32_t kn, float *c, int64_t ldc, __m256i m0, __m256i m1,  \
                                                   int load) {                                                 \
        __m256 acc[ROWS][2];                                                                                   \
        for (int i = 0; i < ROWS; i++) {                                                                       \
            acc[i][0] = load ? _mm256_maskload_ps(c + i * ldc, m0) : _mm256_setzero_ps();                      \
            acc[i][1] = load ? _mm256_maskload_ps(c + i * ldc + 8, m1) : _mm256_setzero_ps();                  \
        }                                                                                                      \
        for (int32_t k = 0; k < kn; k++) {                                                                     \
            const __m256 b0 = _mm256_maskload_ps(b + k * ldb, m0);                                             \
            const __m256 b1 = _mm256_maskload_ps(b + k * ldb + 8, m1);                                         \
            for (int i = 0; i < ROWS; i++) {                                                                   \
                const __m256 x = _mm256_broadcast_ss(a + i * lda + k);                                         \
                acc[i][0] = _mm256_fmadd_ps(x, b0, acc[i][0]);                                                 \
                acc[i][1] = _mm256_fmadd_ps(x, b1, acc[i][1]);                                                 \
            }                                                                                                  \
        }                                                                                                      \
        for (int i = 0; i < ROWS; i++) {                                                                       \
            _mm256_maskstore_ps(c + i * ldc, m0, acc[i][0]);                                                   \
            _mm256_maskstore_ps(c + i * ldc + 8, m1, acc[i][1]);                                               \
        }                                                                                                      \
    }
NN_TILE_AVX2(6)
NN_TILE_AVX2(1)

NN_AVX2 static void nn_avx2(const float *a, int64_t lda, int32_t m, const float *b, int64_t ldb, int32_t depth,
                            float *c, int64_t ldc, int32_t col_begin, int32_t col_end, int accumulate) {
    for (int32_t j = col_begin; j < col_end; j += 16) {
        const int32_t w = col_end - j < 16 ? col_end - j : 16;
        const __m256i m0 = lut_lanes_below(w), m1 = lut_lanes_below(w - 8);
        for (int32_t k0 = 0; k0 < depth; k0 += NN_DEPTH_SLICE) {
            const int32_t kn = depth - k0 < NN_DEPTH_SLICE ? depth - k0 : NN_DEPTH_SLICE;
            const int load = accumulate || k0 > 0;
            const float *bk = b + (int64_t)k0 * ldb + j;
            int32_t i = 0;
            for (; i + 6 <= m; i += 6)
                nn_tile_avx2_6(a + i * lda + k0, lda, bk, ldb, kn, c + i * ldc + j, ldc, m0, m1, load);
            for (; i < m; i++) nn_tile_avx2_1(a + i * lda + k0, lda, bk, ldb, kn, c + i * ldc + j, ldc, m0, m1, load);
        }
    }
}

#endif

/// Portable fallback: the same order (k ascending per output). A plain multiply-add, which compilers
/// fuse where the target has FMA (NEON) and vectorise everywhere; fmaf was a library call per
/// element on baseline x86-64. Without fusing it may round differently from the vector paths.
static void nn_scalar(const float *a, int64_t lda, int32_t m, const float *b, int64_t ldb, int32_t depth,
                      float *c, int64_t ldc, int32_t col_begin, int32_t col_end, int accumulate) {
    for (int32_t i = 0; i < m; i++) {
        float *row = c + i * ldc;
        if (!accumulate)
            for (int32_t j = col_begin; j < col_end; j++) row[j] = 0;
        for (int32_t k = 0; k < depth; k++) {
            const float x = a[i * lda + k];
            const float *bk = b + (int64_t)k * ldb;
            for (int32_t j = col_begin; j < col_end; j++) row[j] = x * bk[j] + row[j];
        }
    }
}

void elutq_f32_gemm_nn(const float *a, int64_t lda, int32_t m, const float *b, int64_t ldb, int32_t depth,
                       float *c, int64_t ldc, int32_t col_begin, int32_t col_end, int accumulate) {
    if (depth <= 0) {  // an empty sum: the tiles below would not run at all
        nn_scalar(a, lda, m, b, ldb, 0, c, ldc, col_begin, col_end, accumulate);
        return;
    }
#if defined(__x86_64__) || defined(__i386__)
    if (nn_avx512_supported()) {
        nn_avx512(a, lda, m, b, ldb, depth, c, ldc, col_begin, col_end, accumulate);
        return;
    }
    if (lut_has_float_avx2()) {
        nn_avx2(a, lda, m, b, ldb, depth, c, ldc, col_begin, col_end, accumulate);
        return;
    }
#endif
    nn_scalar(a, lda, m, b, ldb, depth, c, ldc, col_begin, col_end, accumulate);
}
