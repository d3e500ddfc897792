// The AVX2 path: vpshufb reads one 16-entry table per 128-bit lane, so each nibble half needs two
// shuffles (one per slice) and a byte blend before vpmaddubsw pairs a row's two lookups.
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include "lut_internal.h"

#define AVX2_TARGET __attribute__((target("avx2,fma,f16c")))

/// Lookups of one 16-row half (32 weight bytes) of a quad, summed per row into 16 int16.
AVX2_TARGET static inline __m256i half_quad(__m256i weights, const __m256i table[4]) {
    const __m256i low_nibbles = _mm256_set1_epi8(0x0F);
    const __m256i odd_bytes = _mm256_set1_epi16((short)0xFF00);
    const __m256i ones = _mm256_set1_epi8(1);
    const __m256i lo = _mm256_and_si256(weights, low_nibbles);
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(weights, 4), low_nibbles);
    const __m256i slices_01 = _mm256_blendv_epi8(_mm256_shuffle_epi8(table[0], lo), _mm256_shuffle_epi8(table[1], lo), odd_bytes);
    const __m256i slices_23 = _mm256_blendv_epi8(_mm256_shuffle_epi8(table[2], hi), _mm256_shuffle_epi8(table[3], hi), odd_bytes);
    return _mm256_add_epi16(_mm256_maddubs_epi16(slices_01, ones), _mm256_maddubs_epi16(slices_23, ones));
}

AVX2_TARGET static inline __m256 int16_to_float(__m128i v) {
    return _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(v));
}

AVX2_TARGET void lut_matmul_avx2(const elutq_lut_matrix *a, const elutq_lut_tables *x, float *y, int64_t ldy,
                                 int32_t block_begin, int32_t block_end) {
    const lut_geometry g = lut_geometry_of(a);
    const int32_t planes = a->planes;
    __m256 out[LUT_BATCH_CHUNK][4];
    for (int32_t block = block_begin; block < block_end; block++) {
        const uint8_t *block_bits = a->bits + block * g.block_bytes;
        const uint16_t *block_params = a->params + block * g.block_params;
        const int32_t valid_rows = a->rows - block * 32 < 32 ? a->rows - block * 32 : 32;
        for (int32_t v0 = 0; v0 < x->count; v0 += LUT_BATCH_CHUNK) {
            const int32_t vectors = x->count - v0 < LUT_BATCH_CHUNK ? x->count - v0 : LUT_BATCH_CHUNK;
            for (int32_t v = 0; v < vectors; v++)
                for (int k = 0; k < 4; k++) out[v][k] = _mm256_setzero_ps();
            for (int32_t j = 0; j < g.groups; j++) {
                const int32_t quads = lut_quads_in_group(&g, j);
                const uint8_t *group_bits = block_bits + (int64_t)j * g.group_quads * planes * 64;
                const uint16_t *group_params = block_params + (int64_t)j * (planes + 1) * 32;
                for (int32_t v = 0; v < vectors; v++) {
                    const int64_t vector = v0 + v;
                    const uint8_t *group_tables = x->tables + vector * g.table_stride + (int64_t)j * a->group_size * 4;
                    __m256 planes_sum[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
                    for (int32_t i = 0; i < planes; i++) {
                        const uint8_t *w = group_bits + (int64_t)i * quads * 64;
                        __m256i rows_0_15 = _mm256_setzero_si256(), rows_16_31 = _mm256_setzero_si256();
                        for (int32_t u = 0; u < quads; u++) {
                            const uint8_t *t = group_tables + 64 * u;
                            const __m256i table[4] = {
                                _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)t)),
                                _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(t + 16))),
                                _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(t + 32))),
                                _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(t + 48))),
                            };
                            rows_0_15 = _mm256_add_epi16(rows_0_15, half_quad(_mm256_loadu_si256((const __m256i *)(w + 64 * u)), table));
                            rows_16_31 = _mm256_add_epi16(rows_16_31, half_quad(_mm256_loadu_si256((const __m256i *)(w + 64 * u + 32)), table));
                        }
                        const __m256i offset = _mm256_set1_epi16((short)(512 * quads));
                        rows_0_15 = _mm256_sub_epi16(rows_0_15, offset);
                        rows_16_31 = _mm256_sub_epi16(rows_16_31, offset);
                        const __m256 lookups[4] = {
                            int16_to_float(_mm256_castsi256_si128(rows_0_15)), int16_to_float(_mm256_extracti128_si256(rows_0_15, 1)),
                            int16_to_float(_mm256_castsi256_si128(rows_16_31)), int16_to_float(_mm256_extracti128_si256(rows_16_31, 1)),
                        };
                        for (int k = 0; k < 4; k++) {
                            const __m256 s = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(group_params + 32 * i + 8 * k)));
                            planes_sum[k] = _mm256_fmadd_ps(lookups[k], s, planes_sum[k]);
                        }
                    }
                    const __m256 table_scale = _mm256_set1_ps(x->scales[vector * g.groups + j]);
                    const __m256 group_sum = _mm256_set1_ps(x->sums[vector * g.groups + j]);
                    for (int k = 0; k < 4; k++) {
                        const __m256 mid = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(group_params + 32 * planes + 8 * k)));
                        out[v][k] = _mm256_fmadd_ps(planes_sum[k], table_scale, out[v][k]);
                        out[v][k] = _mm256_fmadd_ps(mid, group_sum, out[v][k]);
                    }
                }
            }
            for (int32_t v = 0; v < vectors; v++) {
                float *dst = y + (v0 + v) * ldy + (int64_t)block * 32;
                if (valid_rows == 32) {
                    for (int k = 0; k < 4; k++) _mm256_storeu_ps(dst + 8 * k, out[v][k]);
                } else {
                    float rows[32];
                    for (int k = 0; k < 4; k++) _mm256_storeu_ps(rows + 8 * k, out[v][k]);
                    for (int32_t r = 0; r < valid_rows; r++) dst[r] = rows[r];
                }
            }
        }
    }
}
#endif
