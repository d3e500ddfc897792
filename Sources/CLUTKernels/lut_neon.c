// The NEON path (aarch64): tbl over a two-register table reads slices 0/1 (or 2/3) in one lookup,
// and a widening multiply-accumulate applies the slice multipliers into uint16 lanes, whose
// pairs (one row's two slices) are added once per group.
//
// vqtbl2q_u8 is the two-register form of the tbl family: with it every nibble costs one lookup,
// as with vpermb, where the one-register vqtbl1q_u8 would need two lookups and a blend.
#if defined(__aarch64__)
#include <arm_neon.h>
#include "lut_internal.h"

/// Lookups of one plane for 32 rows (four registers of 8 rows) in `t` (the first or the residual
/// bytes), times the slice multipliers, offset removed.
static inline void plane_lookups(const uint8_t *w, const uint8_t *t, const uint8_t *m, int32_t quads, int32_t offset,
                                 int16x8_t rows[4]) {
    const uint8x16_t low_nibbles = vdupq_n_u8(0x0F);
    const uint8x16_t odd_slice = vreinterpretq_u8_u16(vdupq_n_u16(0x1000));  // odd bytes read the second table
    // Per byte lane (a row's even or odd slice), low and high halves of each 16-byte chunk.
    uint16x8_t low[4], high[4];
    for (int c = 0; c < 4; c++) low[c] = high[c] = vdupq_n_u16(0);
    for (int32_t u = 0; u < quads; u++) {
        const uint8x16x2_t slices_01 = {{vld1q_u8(t + 64 * u), vld1q_u8(t + 64 * u + 16)}};
        const uint8x16x2_t slices_23 = {{vld1q_u8(t + 64 * u + 32), vld1q_u8(t + 64 * u + 48)}};
        uint16_t m01, m23;
        __builtin_memcpy(&m01, m + 4 * u, 2);
        __builtin_memcpy(&m23, m + 4 * u + 2, 2);
        const uint8x16_t pair_01 = vreinterpretq_u8_u16(vdupq_n_u16(m01)), pair_23 = vreinterpretq_u8_u16(vdupq_n_u16(m23));
        for (int c = 0; c < 4; c++) {
            const uint8x16_t weights = vld1q_u8(w + 64 * u + 16 * c);
            const uint8x16_t v01 = vqtbl2q_u8(slices_01, vorrq_u8(vandq_u8(weights, low_nibbles), odd_slice));
            const uint8x16_t v23 = vqtbl2q_u8(slices_23, vorrq_u8(vshrq_n_u8(weights, 4), odd_slice));
            low[c] = vmlal_u8(low[c], vget_low_u8(v01), vget_low_u8(pair_01));
            high[c] = vmlal_high_u8(high[c], v01, pair_01);
            low[c] = vmlal_u8(low[c], vget_low_u8(v23), vget_low_u8(pair_23));
            high[c] = vmlal_high_u8(high[c], v23, pair_23);
        }
    }
    const uint16x8_t bias = vdupq_n_u16((uint16_t)offset);
    for (int c = 0; c < 4; c++) rows[c] = vreinterpretq_s16_u16(vsubq_u16(vpaddq_u16(low[c], high[c]), bias));
}

static inline float32x4_t halves_to_float(const uint16_t *p) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
}

static void block_times_vector(const elutq_lut_matrix *a, const lut_geometry *g, int32_t block,
                    const elutq_lut_tables *x, int32_t vector, float out[32]) {
    const int32_t planes = a->planes;
    float32x4_t result[8];  // rows 4k .. 4k+3
    for (int k = 0; k < 8; k++) result[k] = vdupq_n_f32(0);
    for (int32_t j = 0; j < g->groups; j++) {
        const lut_group group = lut_group_at(a, g, block, x, vector, j);
        const int32_t quads = group.quads;
        float32x4_t planes_sum[8];
        for (int k = 0; k < 8; k++) planes_sum[k] = vdupq_n_f32(0);
        for (int32_t i = 0; i < planes; i++) {
            const uint8_t *w = group.bits + (int64_t)i * quads * 64;
            int16x8_t rows[4], residuals[4];
            plane_lookups(w, group.tables, group.multipliers, quads, group.offset, rows);
            if (group.residuals) plane_lookups(w, group.residuals, group.multipliers, quads, group.offset, residuals);
            for (int c = 0; c < 4; c++) {
                int32x4_t lo32 = vmovl_s16(vget_low_s16(rows[c])), hi32 = vmovl_s16(vget_high_s16(rows[c]));
                if (group.residuals) {  // 254 * L + L', exact in int32
                    lo32 = vmlaq_n_s32(vmovl_s16(vget_low_s16(residuals[c])), lo32, ELUTQ_RESIDUAL_STEPS);
                    hi32 = vmlaq_n_s32(vmovl_s16(vget_high_s16(residuals[c])), hi32, ELUTQ_RESIDUAL_STEPS);
                }
                const float32x4_t lo = vcvtq_f32_s32(lo32);
                const float32x4_t hi = vcvtq_f32_s32(hi32);
                planes_sum[2 * c] = vfmaq_f32(planes_sum[2 * c], lo, halves_to_float(group.params + 32 * i + 8 * c));
                planes_sum[2 * c + 1] = vfmaq_f32(planes_sum[2 * c + 1], hi, halves_to_float(group.params + 32 * i + 8 * c + 4));
            }
        }
        const float32x4_t table_scale = vdupq_n_f32(group.scale);
        const float32x4_t group_sum = vdupq_n_f32(group.sum);
        for (int k = 0; k < 8; k++) {
            result[k] = vfmaq_f32(result[k], planes_sum[k], table_scale);
            result[k] = vfmaq_f32(result[k], halves_to_float(group.params + 32 * planes + 4 * k), group_sum);
        }
    }
    for (int k = 0; k < 8; k++) vst1q_f32(out + 4 * k, result[k]);
}

/// Vectors one at a time: this path gains little from sharing weight loads.
void lut_block_neon(const elutq_lut_matrix *a, const lut_geometry *g, int32_t block,
                    const elutq_lut_tables *x, int32_t vector, int32_t vectors, float out[][32]) {
    for (int32_t k = 0; k < vectors; k++) block_times_vector(a, g, block, x, vector + k, out[k]);
}
#endif
