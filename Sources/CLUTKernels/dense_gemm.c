// Dense float products for weights that are not HLQ: float32 (the reference path, calibration) and
// f16 (raw IEEE half bits):
//     y[v * ldy + r] = sum_k w[r][k] * x[v * ldx + k]
//
// Register blocking: each step loads a few weight and input registers and issues a fused
// multiply-add for every pair (4 rows by 4 vectors on AVX-512, 4 by 3 on AVX2's sixteen registers),
// so the loop runs at FMA speed rather than load speed.
#include "lut_internal.h"

/// How the weights of a row are stored.
enum weight_kind { WEIGHTS_F32 = 0, WEIGHTS_F16 = 1 };

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define DENSE_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,fma,f16c")))

static const int64_t weight_bytes[] = {4, 2};  // by weight_kind

/// Sixteen weights of a row from column k, as floats; `kind` is a compile-time constant at each use.
/// Full 16-lane loads use plain (unmasked) loads: masked loads of a few bytes stall this CPU's loads.
DENSE_AVX512 static inline __m512 load_weights(const void *row, int32_t k, __mmask16 m, int kind) {
    if (kind == WEIGHTS_F16) {
        const __m256i halves = m == 0xFFFF ? _mm256_loadu_si256((const __m256i *)((const uint16_t *)row + k))
                                           : _mm256_maskz_loadu_epi16(m, (const uint16_t *)row + k);
        return _mm512_cvtph_ps(halves);
    }
    return m == 0xFFFF ? _mm512_loadu_ps((const float *)row + k) : _mm512_maskz_loadu_ps(m, (const float *)row + k);
}

/// Sixteen inputs from column k, the same way.
DENSE_AVX512 static inline __m512 load_inputs(const float *x, __mmask16 m) {
    return m == 0xFFFF ? _mm512_loadu_ps(x) : _mm512_maskz_loadu_ps(m, x);
}

DENSE_AVX512 static inline __attribute__((always_inline)) void
dense_avx512(const void *w, int kind, int32_t cols, const float *x, int64_t ldx, int32_t count,
             float *y, int64_t ldy, int32_t row_begin, int32_t row_end) {
    const int64_t row_bytes = (int64_t)cols * weight_bytes[kind];
    const int32_t body = cols / 16 * 16;
    const __mmask16 tail = (__mmask16)((1u << (cols - body)) - 1);
#define ROW(r) ((const uint8_t *)w + (int64_t)(r) * row_bytes)
    int32_t r = row_begin;
    for (; r + 4 <= row_end; r += 4) {
        const void *rows[4] = {ROW(r), ROW(r + 1), ROW(r + 2), ROW(r + 3)};
        int32_t v = 0;
        for (; v + 4 <= count; v += 4) {
            __m512 acc[4][4];
            for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) acc[i][j] = _mm512_setzero_ps();
            for (int32_t k = 0; k < cols; k += 16) {
                const __mmask16 m = k < body ? 0xFFFF : tail;
                __m512 b[4];
                for (int j = 0; j < 4; j++) b[j] = load_inputs(x + (v + j) * ldx + k, m);
                for (int i = 0; i < 4; i++) {
                    const __m512 a = load_weights(rows[i], k, m, kind);
                    for (int j = 0; j < 4; j++) acc[i][j] = _mm512_fmadd_ps(a, b[j], acc[i][j]);
                }
            }
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) y[(v + j) * ldy + r + i] = _mm512_reduce_add_ps(acc[i][j]);
        }
        for (; v < count; v++) {
            __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
            for (int32_t k = 0; k < cols; k += 16) {
                const __mmask16 m = k < body ? 0xFFFF : tail;
                const __m512 b = load_inputs(x + v * ldx + k, m);
                for (int i = 0; i < 4; i++) acc[i] = _mm512_fmadd_ps(load_weights(rows[i], k, m, kind), b, acc[i]);
            }
            for (int i = 0; i < 4; i++) y[v * ldy + r + i] = _mm512_reduce_add_ps(acc[i]);
        }
    }
    for (; r < row_end; r++) {
        for (int32_t v = 0; v < count; v++) {
            __m512 acc = _mm512_setzero_ps();
            for (int32_t k = 0; k < cols; k += 16) {
                const __mmask16 m = k < body ? 0xFFFF : tail;
                acc = _mm512_fmadd_ps(load_weights(ROW(r), k, m, kind), load_inputs(x + v * ldx + k, m), acc);
            }
            y[v * ldy + r] = _mm512_reduce_add_ps(acc);
        }
    }
#undef ROW
}

DENSE_AVX512 static void f32_avx512(const void *w, int32_t cols, const float *x, int64_t ldx, int32_t count,
                                    float *y, int64_t ldy, int32_t row_begin, int32_t row_end) {
    dense_avx512(w, WEIGHTS_F32, cols, x, ldx, count, y, ldy, row_begin, row_end);
}

DENSE_AVX512 static void f16_avx512(const void *w, int32_t cols, const float *x, int64_t ldx, int32_t count,
                                    float *y, int64_t ldy, int32_t row_begin, int32_t row_end) {
    dense_avx512(w, WEIGHTS_F16, cols, x, ldx, count, y, ldy, row_begin, row_end);
}

static int dense_avx512_supported(void) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}

#define DENSE_AVX2 __attribute__((target("avx2,fma,f16c")))

/// Eight weights of a row from column k, as floats.
DENSE_AVX2 static inline __m256 load_weights8(const void *row, int32_t k, int kind) {
    if (kind == WEIGHTS_F16) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)row + k)));
    return _mm256_loadu_ps((const float *)row + k);
}

/// A row's dot product with x from its eight-lane partial sums `acc` over columns [0, body), plus
/// the columns past body one by one.
DENSE_AVX2 static inline float finish_dot(__m256 acc, const void *row, int kind, const float *x, int32_t body,
                                          int32_t cols) {
    float sum = lut_sum8(acc);
    for (int32_t k = body; k < cols; k++)
        sum += (kind == WEIGHTS_F16 ? lut_half_to_float(((const uint16_t *)row)[k]) : ((const float *)row)[k]) * x[k];
    return sum;
}

/// The AVX2 path: blocks of 4 rows by 3 vectors, 12 accumulators of 8 lanes, the most that fit in
/// sixteen registers beside the loads. Columns past the last multiple of 8 are added one by one.
DENSE_AVX2 static inline __attribute__((always_inline)) void
dense_avx2(const void *w, int kind, int32_t cols, const float *x, int64_t ldx, int32_t count,
           float *y, int64_t ldy, int32_t row_begin, int32_t row_end) {
    const int64_t row_bytes = (int64_t)cols * weight_bytes[kind];
    const int32_t body = cols / 8 * 8;
#define ROW(r) ((const uint8_t *)w + (int64_t)(r) * row_bytes)
    int32_t r = row_begin;
    for (; r + 4 <= row_end; r += 4) {
        const void *rows[4] = {ROW(r), ROW(r + 1), ROW(r + 2), ROW(r + 3)};
        int32_t v = 0;
        for (; v + 3 <= count; v += 3) {
            __m256 acc[4][3];
            for (int i = 0; i < 4; i++) for (int j = 0; j < 3; j++) acc[i][j] = _mm256_setzero_ps();
            for (int32_t k = 0; k < body; k += 8) {
                __m256 b[3];
                for (int j = 0; j < 3; j++) b[j] = _mm256_loadu_ps(x + (v + j) * ldx + k);
                for (int i = 0; i < 4; i++) {
                    const __m256 a = load_weights8(rows[i], k, kind);
                    for (int j = 0; j < 3; j++) acc[i][j] = _mm256_fmadd_ps(a, b[j], acc[i][j]);
                }
            }
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 3; j++)
                    y[(v + j) * ldy + r + i] = finish_dot(acc[i][j], rows[i], kind, x + (v + j) * ldx, body, cols);
        }
        for (; v < count; v++) {
            __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
            for (int32_t k = 0; k < body; k += 8) {
                const __m256 b = _mm256_loadu_ps(x + v * ldx + k);
                for (int i = 0; i < 4; i++) acc[i] = _mm256_fmadd_ps(load_weights8(rows[i], k, kind), b, acc[i]);
            }
            for (int i = 0; i < 4; i++) y[v * ldy + r + i] = finish_dot(acc[i], rows[i], kind, x + v * ldx, body, cols);
        }
    }
    for (; r < row_end; r++) {
        for (int32_t v = 0; v < count; v++) {
            __m256 acc = _mm256_setzero_ps();
            for (int32_t k = 0; k < body; k += 8)
                acc = _mm256_fmadd_ps(load_weights8(ROW(r), k, kind), _mm256_loadu_ps(x + v * ldx + k), acc);
            y[v * ldy + r] = finish_dot(acc, ROW(r), kind, x + v * ldx, body, cols);
        }
    }
#undef ROW
}

DENSE_AVX2 static void f32_avx2(const void *w, int32_t cols, const float *x, int64_t ldx, int32_t count,
                                float *y, int64_t ldy, int32_t row_begin, int32_t row_end) {
    dense_avx2(w, WEIGHTS_F32, cols, x, ldx, count, y, ldy, row_begin, row_end);
}

DENSE_AVX2 static void f16_avx2(const void *w, int32_t cols, const float *x, int64_t ldx, int32_t count,
                                float *y, int64_t ldy, int32_t row_begin, int32_t row_end) {
    dense_avx2(w, WEIGHTS_F16, cols, x, ldx, count, y, ldy, row_begin, row_end);
}
#endif

/// Portable fallback: eight partial sums per dot product, so the compiler can vectorise it.
static void dense_scalar(const void *w, int kind, int32_t cols, const float *x, int64_t ldx,
                         int32_t count, float *y, int64_t ldy, int32_t row_begin, int32_t row_end) {
    for (int32_t r = row_begin; r < row_end; r++) {
        const float *wf = (const float *)w + (int64_t)r * cols;
        const uint16_t *wh = (const uint16_t *)w + (int64_t)r * cols;
        for (int32_t v = 0; v < count; v++) {
            const float *in = x + v * ldx;
            float acc[8] = {0};
            int32_t k = 0;
#define WEIGHT(i) (kind == WEIGHTS_F16 ? lut_half_to_float(wh[i]) : wf[i])
            for (; k + 8 <= cols; k += 8)
                for (int l = 0; l < 8; l++) acc[l] += WEIGHT(k + l) * in[k + l];
            float sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
            for (; k < cols; k++) sum += WEIGHT(k) * in[k];
#undef WEIGHT
            y[v * ldy + r] = sum;
        }
    }
}

/// The best path for this CPU, for either kind.
static void dense(const void *w, int kind, int32_t cols, const float *x, int64_t ldx, int32_t count,
                  float *y, int64_t ldy, int32_t row_begin, int32_t row_end) {
#if defined(__x86_64__) || defined(__i386__)
    if (dense_avx512_supported()) {
        (kind == WEIGHTS_F32 ? f32_avx512 : f16_avx512)(w, cols, x, ldx, count, y, ldy, row_begin, row_end);
        return;
    }
    if (elutq_isa_supported(ELUTQ_ISA_AVX2)) {  // AVX2, FMA and F16C
        (kind == WEIGHTS_F32 ? f32_avx2 : f16_avx2)(w, cols, x, ldx, count, y, ldy, row_begin, row_end);
        return;
    }
#endif
    dense_scalar(w, kind, cols, x, ldx, count, y, ldy, row_begin, row_end);
}

void elutq_f32_gemm(const float *w, int32_t cols, const float *x, int64_t ldx, int32_t count,
                    float *y, int64_t ldy, int32_t row_begin, int32_t row_end) {
    dense(w, WEIGHTS_F32, cols, x, ldx, count, y, ldy, row_begin, row_end);
}

void elutq_f16_gemm(const uint16_t *w, int32_t cols, const float *x, int64_t ldx, int32_t count,
                    float *y, int64_t ldy, int32_t row_begin, int32_t row_end) {
    dense(w, WEIGHTS_F16, cols, x, ldx, count, y, ldy, row_begin, row_end);
}
