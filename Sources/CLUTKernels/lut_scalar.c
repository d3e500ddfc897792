// The portable path: the reference every SIMD path must match exactly.
//
// Integer lookups are summed exactly, and the float steps are the same fused multiply-adds in the
// same order as the vector paths, so all paths give bit-identical outputs.
#include <math.h>
#include "lut_internal.h"

/// Row r's lookups of one plane (bits w) in `tables`, times the slice multipliers, offset removed.
static int32_t plane_lookups(const uint8_t *w, const uint8_t *tables, const lut_group *group, int32_t r) {
    int32_t lookups = 0;
    for (int32_t u = 0; u < group->quads; u++) {
        const uint8_t lo = w[64 * u + 2 * r], hi = w[64 * u + 2 * r + 1];
        const uint8_t *t = tables + 64 * u, *m = group->multipliers + 4 * u;
        lookups += m[0] * t[lo & 15] + m[1] * t[16 + (hi & 15)] + m[2] * t[32 + (lo >> 4)] + m[3] * t[48 + (hi >> 4)];
    }
    return lookups - group->offset;
}

static void block_times_vector(const elutq_lut_matrix *a, const lut_geometry *g, int32_t block,
                      const elutq_lut_tables *x, int32_t vector, float out[32]) {
    const int32_t planes = a->planes;
    for (int32_t r = 0; r < 32; r++) out[r] = 0;
    for (int32_t j = 0; j < g->groups; j++) {
        const lut_group group = lut_group_at(a, g, block, x, vector, j);
        for (int32_t r = 0; r < 32; r++) {
            float planes_sum = 0;
            for (int32_t i = 0; i < planes; i++) {
                const uint8_t *w = group.bits + (int64_t)i * group.quads * 64;
                int32_t lookups = plane_lookups(w, group.tables, &group, r);
                if (group.residuals) lookups = ELUTQ_RESIDUAL_STEPS * lookups + plane_lookups(w, group.residuals, &group, r);
                planes_sum = fmaf((float)lookups, lut_half_to_float(group.params[32 * i + r]), planes_sum);
            }
            out[r] = fmaf(planes_sum, group.scale, out[r]);
            out[r] = fmaf(lut_half_to_float(group.params[32 * planes + r]), group.sum, out[r]);
        }
    }
}

/// Vectors one at a time: this path gains little from sharing weight loads.
void lut_block_scalar(const elutq_lut_matrix *a, const lut_geometry *g, int32_t block,
                      const elutq_lut_tables *x, int32_t vector, int32_t vectors, float out[][32]) {
    for (int32_t k = 0; k < vectors; k++) block_times_vector(a, g, block, x, vector + k, out[k]);
}
