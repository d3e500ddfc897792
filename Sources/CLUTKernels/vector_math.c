// The exponentials of a transformer step: softmax (attention scores, the vocabulary) and SwiGLU.
//
// A decode step of a small model takes tens of thousands of them and a perplexity or training pass
// a vocabulary's worth per token; one libm call each was several percent of a step, and Swift's
// SIMD types, built for baseline x86-64, turned a vector exponential into scalar code. So e^x is
// computed here: x = n ln2 + r with |r| <= ln2 / 2, e^r by a degree-7 polynomial (within a few ulp),
// times 2^n. The AVX-512 and AVX2 paths use fused multiply-adds; the portable one is written
// without library calls, so compilers vectorise it (NEON, SSE2), and may round an ulp differently:
// each is held against double precision, not against the others.
#include "lut_internal.h"

#include <math.h>
#include <string.h>

#define EXP_LOW -87.33654f   // below this, e^x is taken as 0 (the smallest normal float is e^-87.34)
#define EXP_HIGH 88.72283f   // above this, e^x overflows
#define LOG2E 1.44269504f
#define LN2_HIGH 0.693359375f  // ln 2 in two parts; n * LN2_HIGH is exact for |n| <= 128
#define LN2_LOW -2.12194440e-4f
// e^r ≈ 1 + r + r² P(r), P's coefficients highest first
#define EXP_P0 1.9875691500e-4f
#define EXP_P1 1.3981999507e-3f
#define EXP_P2 8.3334519073e-3f
#define EXP_P3 4.1665795894e-2f
#define EXP_P4 1.6666665459e-1f
#define EXP_P5 5.0000001201e-1f

/// 2^n for an integer n in [-126, 127], from its exponent bits.
static inline float power_of_two(int32_t n) {
    const uint32_t bits = (uint32_t)(n + 127) << 23;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static inline float exp_portable(float x) {
    const float clamped = x >= EXP_LOW ? (x <= EXP_HIGH ? x : EXP_HIGH) : EXP_LOW;  // NaN too: no NaN reaches the int conversion
    // n = round(x log2 e) by adding and subtracting 1.5 * 2^23 (no rint call on baseline x86-64)
    const float n = (clamped * LOG2E + 12582912.0f) - 12582912.0f;
    float r = clamped - n * LN2_HIGH;
    r = r - n * LN2_LOW;
    float p = EXP_P0;
    p = p * r + EXP_P1;
    p = p * r + EXP_P2;
    p = p * r + EXP_P3;
    p = p * r + EXP_P4;
    p = p * r + EXP_P5;
    const int32_t whole = (int32_t)n, half = whole / 2;  // 2^128 is not a float: scale in two halves
    const float e = ((p * (r * r) + r) + 1.0f) * power_of_two(half) * power_of_two(whole - half);
    return x != x ? x : x < EXP_LOW ? 0.0f : x > EXP_HIGH ? INFINITY : e;
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

LUT_FLOAT_AVX512 static inline __m512 exp_avx512(__m512 x) {
    const __m512 clamped = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(EXP_LOW)), _mm512_set1_ps(EXP_HIGH));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(clamped, _mm512_set1_ps(LOG2E)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_HIGH), clamped);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_LOW), r);
    __m512 p = _mm512_set1_ps(EXP_P0);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_P1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_P2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_P3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_P4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_P5));
    __m512 e = _mm512_scalef_ps(_mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f)), n);
    e = _mm512_mask_mov_ps(e, _mm512_cmp_ps_mask(x, _mm512_set1_ps(EXP_LOW), _CMP_LT_OQ), _mm512_setzero_ps());
    e = _mm512_mask_mov_ps(e, _mm512_cmp_ps_mask(x, _mm512_set1_ps(EXP_HIGH), _CMP_GT_OQ), _mm512_set1_ps(INFINITY));
    return _mm512_mask_mov_ps(e, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), x);
}

static inline __mmask16 tail_mask(int32_t left) { return left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1); }

LUT_FLOAT_AVX512 static float softmax_avx512(float *x, int32_t count) {
    __m512 largest = _mm512_set1_ps(-INFINITY);
    for (int32_t i = 0; i < count; i += 16)
        largest = _mm512_max_ps(largest, _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), tail_mask(count - i), x + i));
    const float top = _mm512_reduce_max_ps(largest);
    const __m512 shift = _mm512_set1_ps(top);
    // Summed in double, like the other paths: sixteen float lanes of a vocabulary drift too far.
    __m512d sums = _mm512_setzero_pd();
    for (int32_t i = 0; i < count; i += 16) {
        const __mmask16 m = tail_mask(count - i);
        const __m512 e = _mm512_maskz_mov_ps(m, exp_avx512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), shift)));
        sums = _mm512_add_pd(sums, _mm512_add_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(e)),
                                                 _mm512_cvtps_pd(_mm512_extractf32x8_ps(e, 1))));
        _mm512_mask_storeu_ps(x + i, m, e);
    }
    const double sum = _mm512_reduce_add_pd(sums);
    const __m512 inverse = _mm512_set1_ps((float)(1.0 / sum));
    for (int32_t i = 0; i < count; i += 16) {
        const __mmask16 m = tail_mask(count - i);
        _mm512_mask_storeu_ps(x + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), inverse));
    }
    return (float)log(sum) + top;
}

LUT_FLOAT_AVX512 static void swiglu_avx512(float *gate, const float *up, int32_t count) {
    for (int32_t i = 0; i < count; i += 16) {
        const __mmask16 m = tail_mask(count - i);
        const __m512 g = _mm512_maskz_loadu_ps(m, gate + i);
        const __m512 sigmoid_denominator = _mm512_add_ps(_mm512_set1_ps(1.0f), exp_avx512(_mm512_sub_ps(_mm512_setzero_ps(), g)));
        _mm512_mask_storeu_ps(gate + i, m, _mm512_mul_ps(_mm512_div_ps(g, sigmoid_denominator), _mm512_maskz_loadu_ps(m, up + i)));
    }
}

int lut_has_float_avx512(void) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("fma");
}

/// exp_avx512 in eight lanes: no scalef, so 2^n is built from exponent bits in two halves, as
/// exp_portable does.
LUT_FLOAT_AVX2 static inline __m256 exp_avx2(__m256 x) {
    const __m256 clamped = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(EXP_LOW)), _mm256_set1_ps(EXP_HIGH));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(clamped, _mm256_set1_ps(LOG2E)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LN2_HIGH), clamped);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LN2_LOW), r);
    __m256 p = _mm256_set1_ps(EXP_P0);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EXP_P1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EXP_P2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EXP_P3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EXP_P4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EXP_P5));
    const __m256i whole = _mm256_cvtps_epi32(n), half = _mm256_srai_epi32(whole, 1);
    const __m256i bias = _mm256_set1_epi32(127);
    const __m256 low = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, bias), 23));
    const __m256 high = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(whole, half), bias), 23));
    __m256 e = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
    e = _mm256_mul_ps(_mm256_mul_ps(e, low), high);
    e = _mm256_blendv_ps(e, _mm256_setzero_ps(), _mm256_cmp_ps(x, _mm256_set1_ps(EXP_LOW), _CMP_LT_OQ));
    e = _mm256_blendv_ps(e, _mm256_set1_ps(INFINITY), _mm256_cmp_ps(x, _mm256_set1_ps(EXP_HIGH), _CMP_GT_OQ));
    return _mm256_blendv_ps(e, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

LUT_FLOAT_AVX2 static float softmax_avx2(float *x, int32_t count) {
    const __m256 minus_infinity = _mm256_set1_ps(-INFINITY);
    __m256 largest = minus_infinity;
    for (int32_t i = 0; i < count; i += 8) {
        const __m256i m = lut_lanes_below(count - i);
        largest = _mm256_max_ps(largest, _mm256_blendv_ps(minus_infinity, _mm256_maskload_ps(x + i, m), _mm256_castsi256_ps(m)));
    }
    __m128 four = _mm_max_ps(_mm256_castps256_ps128(largest), _mm256_extractf128_ps(largest, 1));
    four = _mm_max_ps(four, _mm_movehl_ps(four, four));
    const float top = _mm_cvtss_f32(_mm_max_ss(four, _mm_movehdup_ps(four)));
    const __m256 shift = _mm256_set1_ps(top);
    // Summed in double, like the portable path: eight float lanes of a vocabulary drift too far.
    __m256d sums = _mm256_setzero_pd();
    for (int32_t i = 0; i < count; i += 8) {
        const __m256i m = lut_lanes_below(count - i);
        const __m256 e = _mm256_and_ps(exp_avx2(_mm256_sub_ps(_mm256_maskload_ps(x + i, m), shift)), _mm256_castsi256_ps(m));
        sums = _mm256_add_pd(sums, _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(e)), _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1))));
        _mm256_maskstore_ps(x + i, m, e);
    }
    const __m128d two = _mm_add_pd(_mm256_castpd256_pd128(sums), _mm256_extractf128_pd(sums, 1));
    const double sum = _mm_cvtsd_f64(_mm_add_sd(two, _mm_unpackhi_pd(two, two)));
    const __m256 inverse = _mm256_set1_ps((float)(1.0 / sum));
    for (int32_t i = 0; i < count; i += 8) {
        const __m256i m = lut_lanes_below(count - i);
        _mm256_maskstore_ps(x + i, m, _mm256_mul_ps(_mm256_maskload_ps(x + i, m), inverse));
    }
    return (float)log(sum) + top;
}

LUT_FLOAT_AVX2 static void swiglu_avx2(float *gate, const float *up, int32_t count) {
    for (int32_t i = 0; i < count; i += 8) {
        const __m256i m = lut_lanes_below(count - i);
        const __m256 g = _mm256_maskload_ps(gate + i, m);
        const __m256 sigmoid_denominator = _mm256_add_ps(_mm256_set1_ps(1.0f), exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), g)));
        _mm256_maskstore_ps(gate + i, m, _mm256_mul_ps(_mm256_div_ps(g, sigmoid_denominator), _mm256_maskload_ps(up + i, m)));
    }
}

int lut_has_float_avx2(void) { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
#endif

float elutq_softmax(float *x, int32_t count) {
#if defined(__x86_64__) || defined(__i386__)
    if (lut_has_float_avx512()) return softmax_avx512(x, count);
    if (lut_has_float_avx2()) return softmax_avx2(x, count);
#endif
    float top = -INFINITY;
    for (int32_t i = 0; i < count; i++) top = fmaxf(top, x[i]);
    // Summed in double: compilers keep a float sum in one accumulator (reordering it would change
    // its rounding), and over a vocabulary's 49152 terms that drifts by 5e-5 of each probability.
    double sum = 0;
    for (int32_t i = 0; i < count; i++) {
        x[i] = exp_portable(x[i] - top);
        sum += x[i];
    }
    const float inverse = (float)(1.0 / sum);
    for (int32_t i = 0; i < count; i++) x[i] *= inverse;
    return (float)log(sum) + top;
}

void elutq_swiglu(float *gate, const float *up, int32_t count) {
#if defined(__x86_64__) || defined(__i386__)
    if (lut_has_float_avx512()) {
        swiglu_avx512(gate, up, count);
        return;
    }
    if (lut_has_float_avx2()) {
        swiglu_avx2(gate, up, count);
        return;
    }
#endif
    for (int32_t i = 0; i < count; i++) gate[i] = gate[i] / (1.0f + exp_portable(-gate[i])) * up[i];
}
