// The AVX-512 VBMI path: one vpermb picks four slices' table entries at once.
//
// A quad's 64 table bytes fill one register. Each weight byte holds two nibbles; the low nibbles of
// a row's two bytes index slices 0 and 1, the high nibbles slices 2 and 3, so after one vpermb per
// nibble half the two lookups of a row sit side by side and vpmaddubsw adds them into an int16.
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <math.h>
#include "lut_internal.h"

#define AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vbmi,avx512vl,avx512dq,fma,f16c")))

/// Sums of one plane's lookups for 32 rows over a group's quads, times the slice multipliers,
/// offset removed, as 32 int16 per vector, for `n` vectors at once: the weights are loaded and
/// split into indices once for all. `n` is a constant at every call site, so each count gets its
/// own unrolled copy. With `residual`, the lookups read the precise tables' second bytes.
AVX512_TARGET static inline __attribute__((always_inline)) void
plane_lookups(const uint8_t *w, const lut_group tables[LUT_VECTORS_PER_CALL], int32_t quads, int n, int residual,
              __m512i sums[LUT_VECTORS_PER_CALL]) {
    const __m512i low_nibbles = _mm512_set1_epi8(0x0F);
    const __m512i slices_01 = _mm512_set1_epi16(0x1000);  // even bytes read slice 0, odd bytes slice 1
    const __m512i slices_23 = _mm512_set1_epi16(0x3020);  // even bytes read slice 2, odd bytes slice 3
    __m512i sum_lo[LUT_VECTORS_PER_CALL], sum_hi[LUT_VECTORS_PER_CALL];
    for (int v = 0; v < n; v++) sum_lo[v] = sum_hi[v] = _mm512_setzero_si512();
    for (int32_t u = 0; u < quads; u++) {
        const __m512i weights = _mm512_loadu_si512(w + 64 * u);
        // (a & b) | c is ternary-logic 0xEA
        const __m512i lo = _mm512_ternarylogic_epi32(weights, low_nibbles, slices_01, 0xEA);
        const __m512i hi = _mm512_ternarylogic_epi32(_mm512_srli_epi16(weights, 4), low_nibbles, slices_23, 0xEA);
        for (int v = 0; v < n; v++) {
            const __m512i table = _mm512_loadu_si512((residual ? tables[v].residuals : tables[v].tables) + 64 * u);
            uint16_t m01, m23;  // the multipliers of slices 0 and 1, and of 2 and 3, as byte pairs
            __builtin_memcpy(&m01, tables[v].multipliers + 4 * u, 2);
            __builtin_memcpy(&m23, tables[v].multipliers + 4 * u + 2, 2);
            sum_lo[v] = _mm512_add_epi16(sum_lo[v], _mm512_maddubs_epi16(_mm512_permutexvar_epi8(lo, table), _mm512_set1_epi16((short)m01)));
            sum_hi[v] = _mm512_add_epi16(sum_hi[v], _mm512_maddubs_epi16(_mm512_permutexvar_epi8(hi, table), _mm512_set1_epi16((short)m23)));
        }
    }
    for (int v = 0; v < n; v++)
        sums[v] = _mm512_sub_epi16(_mm512_add_epi16(sum_lo[v], sum_hi[v]), _mm512_set1_epi16((short)tables[v].offset));
}

/// Row block `block` times `n` vectors from `vector`, every group.
AVX512_TARGET static inline __attribute__((always_inline)) void
block_times_vectors(const elutq_lut_matrix *a, const lut_geometry *g, int32_t block, const elutq_lut_tables *x,
                    int32_t vector, int n, float out[][32]) {
    const int32_t planes = a->planes;
    const int precise = x->residuals != NULL;
    __m512 out_lo[LUT_VECTORS_PER_CALL], out_hi[LUT_VECTORS_PER_CALL];  // rows 0-15, 16-31
    for (int v = 0; v < n; v++) out_lo[v] = out_hi[v] = _mm512_setzero_ps();
    const int32_t ahead = lut_prefetch_blocks(g);
    const int prefetch = vector == 0 && block + ahead < (a->rows + 31) / 32;
    for (int32_t j = 0; j < g->groups; j++) {
        lut_group groups[LUT_VECTORS_PER_CALL];  // the bits and params are the same for each vector
        for (int v = 0; v < n; v++) groups[v] = lut_group_at(a, g, block, x, vector + v, j);
        const int32_t quads = groups[0].quads;
        const uint8_t *group_bits = groups[0].bits;
        const uint16_t *group_params = groups[0].params;
        if (prefetch) {
            for (int64_t b = 0; b < (int64_t)quads * planes * 64; b += 64)
                _mm_prefetch((const char *)(group_bits + ahead * g->block_bytes + b), _MM_HINT_T1);
            for (int64_t b = 0; b < (int64_t)(planes + 1) * 64; b += 64)
                _mm_prefetch((const char *)(group_params + ahead * g->block_params) + b, _MM_HINT_T1);
        }
        __m512 planes_lo[LUT_VECTORS_PER_CALL], planes_hi[LUT_VECTORS_PER_CALL];
        for (int v = 0; v < n; v++) planes_lo[v] = planes_hi[v] = _mm512_setzero_ps();
        for (int32_t i = 0; i < planes; i++) {
            __m512i sums[LUT_VECTORS_PER_CALL], residuals[LUT_VECTORS_PER_CALL];
            plane_lookups(group_bits + (int64_t)i * quads * 64, groups, quads, n, 0, sums);
            if (precise) plane_lookups(group_bits + (int64_t)i * quads * 64, groups, quads, n, 1, residuals);
            const __m512 scale_lo = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(group_params + 32 * i)));
            const __m512 scale_hi = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(group_params + 32 * i + 16)));
            for (int v = 0; v < n; v++) {
                __m512i lo = _mm512_cvtepi16_epi32(_mm512_castsi512_si256(sums[v]));
                __m512i hi = _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(sums[v], 1));
                if (precise) {  // 254 * L + L', exact in int32
                    const __m512i steps = _mm512_set1_epi32(ELUTQ_RESIDUAL_STEPS);
                    lo = _mm512_add_epi32(_mm512_mullo_epi32(lo, steps), _mm512_cvtepi16_epi32(_mm512_castsi512_si256(residuals[v])));
                    hi = _mm512_add_epi32(_mm512_mullo_epi32(hi, steps), _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(residuals[v], 1)));
                }
                planes_lo[v] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(lo), scale_lo, planes_lo[v]);
                planes_hi[v] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(hi), scale_hi, planes_hi[v]);
            }
        }
        const __m512 mid_lo = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(group_params + 32 * planes)));
        const __m512 mid_hi = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(group_params + 32 * planes + 16)));
        for (int v = 0; v < n; v++) {
            const __m512 table_scale = _mm512_set1_ps(groups[v].scale);
            const __m512 group_sum = _mm512_set1_ps(groups[v].sum);
            out_lo[v] = _mm512_fmadd_ps(planes_lo[v], table_scale, out_lo[v]);
            out_hi[v] = _mm512_fmadd_ps(planes_hi[v], table_scale, out_hi[v]);
            out_lo[v] = _mm512_fmadd_ps(mid_lo, group_sum, out_lo[v]);
            out_hi[v] = _mm512_fmadd_ps(mid_hi, group_sum, out_hi[v]);
        }
    }
    for (int v = 0; v < n; v++) {
        _mm512_storeu_ps(out[v], out_lo[v]);
        _mm512_storeu_ps(out[v] + 16, out_hi[v]);
    }
}

AVX512_TARGET void lut_block_avx512vbmi(const elutq_lut_matrix *a, const lut_geometry *g, int32_t block,
                                        const elutq_lut_tables *x, int32_t vector, int32_t vectors, float out[][32]) {
    switch (vectors) {
    case 4: block_times_vectors(a, g, block, x, vector, 4, out); break;
    case 3: block_times_vectors(a, g, block, x, vector, 3, out); break;
    case 2: block_times_vectors(a, g, block, x, vector, 2, out); break;
    default: block_times_vectors(a, g, block, x, vector, 1, out); break;
    }
}

/// lut_steps sixteen at once: the nearest integers, 0 where the value is infinite or NaN.
AVX512_TARGET static inline __m512i steps_of(__m512 value) {
    return _mm512_maskz_cvtps_epi32(~_mm512_fpclass_ps_mask(value, 0x99), value);  // 0x99: NaN or inf
}

/// Four slices' int32 entries (16 each) as 64 bytes, slice after slice, each + 128 (q XOR 0x80),
/// saturated to [-128, 127] first and then raised to at least `floor`.
AVX512_TARGET static inline __m512i quad_bytes(__m512i q0, __m512i q1, __m512i q2, __m512i q3, __m512i floor) {
    // The packs interleave 128-bit lanes: dword d of the result must come from dword (d % 4) * 4 + d / 4.
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    __m512i bytes = _mm512_packs_epi16(_mm512_packs_epi32(q0, q1), _mm512_packs_epi32(q2, q3));
    bytes = _mm512_max_epi8(bytes, floor);
    return _mm512_xor_si512(_mm512_permutexvar_epi32(order, bytes), _mm512_set1_epi8((char)0x80));
}

/// Same operations in the same order as lut_build_tables_scalar, sixteen table entries per register,
/// a quad of four slices at a time packed into one 64-byte store (finite entries never exceed
/// +-127 steps, so the packs' saturation changes nothing), and the multipliers chosen without branches.
AVX512_TARGET void lut_build_tables_avx512(const float *x, int32_t cols, int32_t group_size,
                                           int32_t group_begin, int32_t group_end, elutq_table_output out) {
    const int32_t kp = elutq_padded_cols(cols);
    // flip[t]: the sign bit where entry p takes -x_t (it takes +x_t where bit t of p is set)
    const __m512 flip[4] = {
        _mm512_setr_ps(-0.f, 0.f, -0.f, 0.f, -0.f, 0.f, -0.f, 0.f, -0.f, 0.f, -0.f, 0.f, -0.f, 0.f, -0.f, 0.f),
        _mm512_setr_ps(-0.f, -0.f, 0.f, 0.f, -0.f, -0.f, 0.f, 0.f, -0.f, -0.f, 0.f, 0.f, -0.f, -0.f, 0.f, 0.f),
        _mm512_setr_ps(-0.f, -0.f, -0.f, -0.f, 0.f, 0.f, 0.f, 0.f, -0.f, -0.f, -0.f, -0.f, 0.f, 0.f, 0.f, 0.f),
        _mm512_setr_ps(-0.f, -0.f, -0.f, -0.f, -0.f, -0.f, -0.f, -0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f),
    };
    const __m512 half = _mm512_set1_ps(0.5f);
    const __m512i no_floor = _mm512_set1_epi8(-128), residual_floor = _mm512_set1_epi8(-127);
    const __m512 residual_steps = _mm512_set1_ps((float)ELUTQ_RESIDUAL_STEPS);
    __m512 centred[1024 / 4];
    float slice_max[1024 / 4];
    for (int32_t j = group_begin; j < group_end; j++) {
        const int32_t begin = j * group_size;
        const int32_t end = begin + group_size < kp ? begin + group_size : kp;
        const int32_t slices = (end - begin) / 4;
        float group_max = 0;
        for (int32_t s = 0; s < slices; s++) {
            const int32_t c = begin + 4 * s;
            float in[4];
            lut_slice_inputs(x, c, cols, in);
            __m512 v = _mm512_xor_ps(flip[0], _mm512_set1_ps(in[0]));  // centred_sums, sixteen at once
            v = _mm512_add_ps(v, _mm512_xor_ps(flip[1], _mm512_set1_ps(in[1])));
            v = _mm512_add_ps(v, _mm512_xor_ps(flip[2], _mm512_set1_ps(in[2])));
            v = _mm512_add_ps(v, _mm512_xor_ps(flip[3], _mm512_set1_ps(in[3])));
            centred[s] = _mm512_mul_ps(v, half);
            slice_max[s] = lut_slice_max(in);
            group_max = fmaxf(group_max, slice_max[s]);
        }
        const int32_t top = lut_top_multiplier(slices);
        const float unit = group_max / (127.0f * (float)top);
        const lut_group_steps steps = lut_steps_of_group(unit);
        int32_t offset = 0;
        for (int32_t s0 = 0; s0 < slices; s0 += 4) {
            __m512i q[4], r[4];
            for (int k = 0; k < 4; k++) {
                const int32_t s = s0 + k;
                const int32_t e = lut_multiplier_exponent(&steps, slice_max[s], top);
                const __m512 inverse = _mm512_set1_ps(steps.inverses[e]);
                q[k] = steps_of(_mm512_mul_ps(centred[s], inverse));
                if (out.residuals) {  // lut_residual_byte, sixteen at once
                    const __m512 rest = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(q[k]), _mm512_set1_ps(steps.steps[e]), centred[s]);
                    r[k] = steps_of(_mm512_mul_ps(_mm512_mul_ps(rest, inverse), residual_steps));
                }
                out.multipliers[begin / 4 + s] = (uint8_t)(1 << e);
                offset += 128 << e;
            }
            _mm512_storeu_si512(out.tables + (int64_t)(begin / 4 + s0) * 16, quad_bytes(q[0], q[1], q[2], q[3], no_floor));
            if (out.residuals)
                _mm512_storeu_si512(out.residuals + (int64_t)(begin / 4 + s0) * 16, quad_bytes(r[0], r[1], r[2], r[3], residual_floor));
        }
        out.scales[j] = unit;
        out.offsets[j] = offset;
        out.sums[j] = lut_group_sum(x, begin, end < cols ? end : cols);
    }
}
#endif
