// The AVX2 path: vpshufb reads one 16-entry table per 128-bit lane, so each nibble half needs two
// shuffles (one per slice) and a byte blend before vpmaddubsw pairs a row's two lookups.
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <math.h>
#include "lut_internal.h"

#define AVX2_TARGET __attribute__((target("avx2,fma,f16c")))
/// The most vectors one call of block_times_vectors takes (see lut_block_avx2).
#define AVX2_VECTORS 2

/// The nibbles of one 16-row half (32 weight bytes) of a quad: low nibbles index slices 0 and 1
/// (even and odd bytes), high nibbles slices 2 and 3.
typedef struct nibbles {
    __m256i lo, hi;
} nibbles;

AVX2_TARGET static inline nibbles nibbles_of(const uint8_t *w) {
    const __m256i weights = _mm256_loadu_si256((const __m256i *)w);
    const __m256i low_nibbles = _mm256_set1_epi8(0x0F);
    return (nibbles){_mm256_and_si256(weights, low_nibbles), _mm256_and_si256(_mm256_srli_epi16(weights, 4), low_nibbles)};
}

/// Lookups of one half's nibbles in a quad's four tables (`t`: 64 bytes), times the slice
/// multipliers (m01 for slices 0 and 1, m23 for 2 and 3, as byte pairs), summed per row into 16 int16.
AVX2_TARGET static inline __m256i half_quad(nibbles n, const uint8_t *t, __m256i m01, __m256i m23) {
    const __m256i odd_bytes = _mm256_set1_epi16((short)0xFF00);
#define TABLE(k) _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(t + 16 * (k))))
    const __m256i slices_01 = _mm256_blendv_epi8(_mm256_shuffle_epi8(TABLE(0), n.lo), _mm256_shuffle_epi8(TABLE(1), n.lo), odd_bytes);
    const __m256i slices_23 = _mm256_blendv_epi8(_mm256_shuffle_epi8(TABLE(2), n.hi), _mm256_shuffle_epi8(TABLE(3), n.hi), odd_bytes);
#undef TABLE
    return _mm256_add_epi16(_mm256_maddubs_epi16(slices_01, m01), _mm256_maddubs_epi16(slices_23, m23));
}

/// One plane's lookups for 32 rows over a group's quads, for `n` vectors at once (a constant at
/// every call site): the weights are loaded and split into nibbles once for all. Times the slice
/// multipliers, offset removed: rows 0-15 in sums[v][0], 16-31 in sums[v][1]; with precise tables
/// the residual bytes' lookups likewise in residuals[v][], sharing the nibbles too.
AVX2_TARGET static inline __attribute__((always_inline)) void
plane_lookups(const uint8_t *w, const lut_group groups[AVX2_VECTORS], int32_t quads, int n, int precise,
              __m256i sums[AVX2_VECTORS][2], __m256i residuals[AVX2_VECTORS][2]) {
    for (int v = 0; v < n; v++) sums[v][0] = sums[v][1] = residuals[v][0] = residuals[v][1] = _mm256_setzero_si256();
    for (int32_t u = 0; u < quads; u++) {
        __m256i pair_01[AVX2_VECTORS], pair_23[AVX2_VECTORS];  // each vector's slice multipliers, as byte pairs
        for (int v = 0; v < n; v++) {
            uint16_t m01, m23;
            __builtin_memcpy(&m01, groups[v].multipliers + 4 * u, 2);
            __builtin_memcpy(&m23, groups[v].multipliers + 4 * u + 2, 2);
            pair_01[v] = _mm256_set1_epi16((short)m01);
            pair_23[v] = _mm256_set1_epi16((short)m23);
        }
        for (int h = 0; h < 2; h++) {
            const nibbles nb = nibbles_of(w + 64 * u + 32 * h);
            for (int v = 0; v < n; v++) {
                sums[v][h] = _mm256_add_epi16(sums[v][h], half_quad(nb, groups[v].tables + 64 * u, pair_01[v], pair_23[v]));
                if (precise)
                    residuals[v][h] = _mm256_add_epi16(residuals[v][h], half_quad(nb, groups[v].residuals + 64 * u, pair_01[v], pair_23[v]));
            }
        }
    }
    for (int v = 0; v < n; v++) {
        const __m256i offset = _mm256_set1_epi16((short)groups[v].offset);
        for (int h = 0; h < 2; h++) {
            sums[v][h] = _mm256_sub_epi16(sums[v][h], offset);
            residuals[v][h] = _mm256_sub_epi16(residuals[v][h], offset);
        }
    }
}

/// Eight rows' int16 sums (half `k` of rows[k / 2]) widened to int32.
AVX2_TARGET static inline __m256i widen(const __m256i rows[2], int k) {
    const __m128i half = k % 2 == 0 ? _mm256_castsi256_si128(rows[k / 2]) : _mm256_extracti128_si256(rows[k / 2], 1);
    return _mm256_cvtepi16_epi32(half);
}

/// Row block `block` times `n` vectors from `vector`, every group; `precise` says whether the
/// tables have residual bytes (a constant at every call site, so each inlined loop has its branch
/// decided).
AVX2_TARGET static inline __attribute__((always_inline)) void
block_times_vectors(const elutq_lut_matrix *a, const lut_geometry *g, int32_t block, const elutq_lut_tables *x,
                    int32_t vector, int n, int precise, float out[][32]) {
    const int32_t planes = a->planes;
    __m256 rows[AVX2_VECTORS][4];  // rows 8k .. 8k+7 of each vector
    for (int v = 0; v < n; v++) for (int k = 0; k < 4; k++) rows[v][k] = _mm256_setzero_ps();
    for (int32_t j = 0; j < g->groups; j++) {
        lut_group groups[AVX2_VECTORS];  // the bits and params are the same for each vector
        for (int v = 0; v < n; v++) groups[v] = lut_group_at(a, g, block, x, vector + v, j);
        const int32_t quads = groups[0].quads;
        __m256 planes_sum[AVX2_VECTORS][4];
        for (int v = 0; v < n; v++) for (int k = 0; k < 4; k++) planes_sum[v][k] = _mm256_setzero_ps();
        for (int32_t i = 0; i < planes; i++) {
            __m256i sums[AVX2_VECTORS][2], residuals[AVX2_VECTORS][2];
            plane_lookups(groups[0].bits + (int64_t)i * quads * 64, groups, quads, n, precise, sums, residuals);
            for (int k = 0; k < 4; k++) {
                const __m256 s = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(groups[0].params + 32 * i + 8 * k)));
                for (int v = 0; v < n; v++) {
                    __m256i lookups = widen(sums[v], k);
                    if (precise)  // 254 * L + L', exact in int32
                        lookups = _mm256_add_epi32(_mm256_mullo_epi32(lookups, _mm256_set1_epi32(ELUTQ_RESIDUAL_STEPS)), widen(residuals[v], k));
                    planes_sum[v][k] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lookups), s, planes_sum[v][k]);
                }
            }
        }
        for (int k = 0; k < 4; k++) {
            const __m256 mid = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(groups[0].params + 32 * planes + 8 * k)));
            for (int v = 0; v < n; v++) {
                rows[v][k] = _mm256_fmadd_ps(planes_sum[v][k], _mm256_set1_ps(groups[v].scale), rows[v][k]);
                rows[v][k] = _mm256_fmadd_ps(mid, _mm256_set1_ps(groups[v].sum), rows[v][k]);
            }
        }
    }
    for (int v = 0; v < n; v++) for (int k = 0; k < 4; k++) _mm256_storeu_ps(out[v] + 8 * k, rows[v][k]);
}

/// lut_steps eight at once: the nearest integers, 0 where the value is infinite or NaN.
AVX2_TARGET static inline __m256i steps_of(__m256 value) {
    const __m256 magnitude = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), value);
    const __m256 finite = _mm256_cmp_ps(magnitude, _mm256_set1_ps(INFINITY), _CMP_LT_OQ);
    return _mm256_and_si256(_mm256_cvtps_epi32(value), _mm256_castps_si256(finite));
}

/// Two slices' int32 entries (16 each, as low and high halves) as 32 bytes, slice after slice, each
/// + 128 (q XOR 0x80), saturated to [-128, 127] first and then raised to at least `floor`.
AVX2_TARGET static inline __m256i pair_bytes(const __m256i a[2], const __m256i b[2], __m256i floor) {
    // The packs work within 128-bit lanes: dword d of the result must come from dword order[d].
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(a[0], a[1]), _mm256_packs_epi32(b[0], b[1]));
    bytes = _mm256_max_epi8(bytes, floor);
    return _mm256_xor_si256(_mm256_permutevar8x32_epi32(bytes, order), _mm256_set1_epi8((char)0x80));
}

/// lut_build_tables_avx512 in eight lanes: the same operations in the same order as
/// lut_build_tables_scalar, a slice's 16 entries in two registers, two slices per 32-byte store.
AVX2_TARGET void lut_build_tables_avx2(const float *x, int32_t cols, int32_t group_size,
                                       int32_t group_begin, int32_t group_end, elutq_table_output out) {
    const int32_t kp = elutq_padded_cols(cols);
    // flip[t][h]: the sign bit where entries 8h ... 8h + 7 take -x_t (entry p takes +x_t where bit t is set)
    __m256 flip[4][2];
    for (int t = 0; t < 4; t++)
        for (int h = 0; h < 2; h++) {
            float lanes[8];
            for (int l = 0; l < 8; l++) lanes[l] = ((8 * h + l) >> t) & 1 ? 0.0f : -0.0f;
            flip[t][h] = _mm256_loadu_ps(lanes);
        }
    const __m256 half = _mm256_set1_ps(0.5f);
    const __m256i no_floor = _mm256_set1_epi8(-128), residual_floor = _mm256_set1_epi8(-127);
    const __m256 residual_steps = _mm256_set1_ps((float)ELUTQ_RESIDUAL_STEPS);
    __m256 centred[1024 / 4][2];
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
            for (int h = 0; h < 2; h++) {  // centred_sums, eight entries at a time
                __m256 v = _mm256_xor_ps(flip[0][h], _mm256_set1_ps(in[0]));
                for (int t = 1; t < 4; t++) v = _mm256_add_ps(v, _mm256_xor_ps(flip[t][h], _mm256_set1_ps(in[t])));
                centred[s][h] = _mm256_mul_ps(v, half);
            }
            slice_max[s] = lut_slice_max(in);
            group_max = fmaxf(group_max, slice_max[s]);
        }
        const int32_t top = lut_top_multiplier(slices);
        const float unit = group_max / (127.0f * (float)top);
        const lut_group_steps steps = lut_steps_of_group(unit);
        int32_t offset = 0;
        for (int32_t s0 = 0; s0 < slices; s0 += 2) {
            __m256i q[2][2], r[2][2];
            for (int k = 0; k < 2; k++) {
                const int32_t s = s0 + k;
                const int32_t e = lut_multiplier_exponent(&steps, slice_max[s], top);
                const __m256 inverse = _mm256_set1_ps(steps.inverses[e]);
                for (int h = 0; h < 2; h++) {
                    q[k][h] = steps_of(_mm256_mul_ps(centred[s][h], inverse));
                    if (out.residuals) {  // lut_residual_byte, eight at once
                        const __m256 rest = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(q[k][h]), _mm256_set1_ps(steps.steps[e]), centred[s][h]);
                        r[k][h] = steps_of(_mm256_mul_ps(_mm256_mul_ps(rest, inverse), residual_steps));
                    }
                }
                out.multipliers[begin / 4 + s] = (uint8_t)(1 << e);
                offset += 128 << e;
            }
            _mm256_storeu_si256((__m256i *)(out.tables + (int64_t)(begin / 4 + s0) * 16), pair_bytes(q[0], q[1], no_floor));
            if (out.residuals)
                _mm256_storeu_si256((__m256i *)(out.residuals + (int64_t)(begin / 4 + s0) * 16), pair_bytes(r[0], r[1], residual_floor));
        }
        out.scales[j] = unit;
        out.offsets[j] = offset;
        out.sums[j] = lut_group_sum(x, begin, end < cols ? end : cols);
    }
}

/// With int8 tables, AVX2_VECTORS (two) vectors at a time share each load of the weights and its
/// nibbles: 1.13-1.14x at a batch of 64 on 576 x 576 and 1536 x 576 (four at a time ran out of
/// registers and lost 5-8%).
/// Precise tables go one vector at a time: their residual lookups already share the nibbles, and
/// two vectors' worth of both accumulators lost 10-18%.
AVX2_TARGET void lut_block_avx2(const elutq_lut_matrix *a, const lut_geometry *g, int32_t block,
                                const elutq_lut_tables *x, int32_t vector, int32_t vectors, float out[][32]) {
    int32_t k = 0;
    if (x->residuals) {
        for (; k < vectors; k++) block_times_vectors(a, g, block, x, vector + k, 1, 1, out + k);
        return;
    }
    for (; k + AVX2_VECTORS <= vectors; k += AVX2_VECTORS) block_times_vectors(a, g, block, x, vector + k, AVX2_VECTORS, 0, out + k);
    for (; k < vectors; k++) block_times_vectors(a, g, block, x, vector + k, 1, 0, out + k);
}
#endif
