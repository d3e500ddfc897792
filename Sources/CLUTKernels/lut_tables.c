// Activation tables: the scalar builder, which every other builder must match bit for bit.
#include <math.h>
#include "lut_internal.h"

float lut_group_sum(const float *x, int32_t begin, int32_t end) {
    // Eight independent double sums (in a fixed order, so every path gets the same float), not one
    // chain: a chain of 128 dependent additions cost as much as building the group's tables.
    double lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int32_t c = begin;
    for (; c + 8 <= end; c += 8)
        for (int l = 0; l < 8; l++) lanes[l] += x[c + l];
    for (int l = 0; c < end; c++, l++) lanes[l] += x[c];
    return (float)(((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7])));
}

/// Centred partial sums of one slice, (+-x0 +- x1 +- x2 +- x3) / 2, in a fixed order of
/// operations: sign flips are exact and the halving comes last, so no compiler can fuse a product
/// into an add (a fused -x/2 + y rounds differently when x/2 is subnormal), and a vector path doing
/// the same adds in the same order produces the same floats.
static inline void centred_sums(const float in[4], float out[16]) {
    for (int p = 0; p < 16; p++) {
        float v = (p & 1) ? in[0] : -in[0];
        v += (p & 2) ? in[1] : -in[1];
        v += (p & 4) ? in[2] : -in[2];
        v += (p & 8) ? in[3] : -in[3];
        out[p] = 0.5f * v;
    }
}

void lut_build_tables_scalar(const float *x, int32_t cols, int32_t group_size, int32_t group_begin, int32_t group_end,
                             elutq_table_output out) {
    const int32_t kp = elutq_padded_cols(cols);
    float centred[1024 / 4][16];   // one group's slices, G <= 1024
    float slice_max[1024 / 4];
    for (int32_t j = group_begin; j < group_end; j++) {
        const int32_t begin = j * group_size;
        const int32_t end = begin + group_size < kp ? begin + group_size : kp;
        const int32_t slices = (end - begin) / 4;
        float group_max = 0;
        for (int32_t s = 0; s < slices; s++) {
            float in[4];
            lut_slice_inputs(x, begin + 4 * s, cols, in);
            centred_sums(in, centred[s]);
            slice_max[s] = lut_slice_max(in);
            group_max = fmaxf(group_max, slice_max[s]);
        }
        const int32_t top = lut_top_multiplier(slices);
        const float unit = group_max / (127.0f * (float)top);
        float inverses[9];
        for (int32_t m = 1; m <= top; m *= 2) inverses[m] = lut_inverse_step(unit, m);
        int32_t offset = 0;
        for (int32_t s = 0; s < slices; s++) {
            const int32_t m = lut_slice_multiplier(slice_max[s], unit, top);
            const float inverse = inverses[m];
            uint8_t *table = out.tables + (int64_t)(begin / 4 + s) * 16;
            uint8_t *residual = out.residuals ? out.residuals + (int64_t)(begin / 4 + s) * 16 : NULL;
            for (int p = 0; p < 16; p++) {
                const int32_t q = lut_steps(centred[s][p] * inverse);
                table[p] = (uint8_t)(q + 128);
                if (residual) residual[p] = lut_residual_byte(centred[s][p], q, unit * (float)m, inverse);
            }
            out.multipliers[begin / 4 + s] = (uint8_t)m;
            offset += 128 * m;
        }
        out.scales[j] = unit;
        out.offsets[j] = offset;
        out.sums[j] = lut_group_sum(x, begin, end < cols ? end : cols);
    }
}
