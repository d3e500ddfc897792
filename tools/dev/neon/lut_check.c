// Cross-check of the kernels built for another CPU (aarch64 NEON under qemu-user): every supported
// path must match the scalar path bit for bit, and the scalar path must match a float reference
// dequantized from the packed layout within the table-rounding bound (see LUTKernelTests.swift).
// The portable softmax, SwiGLU and decode attention are held against double precision, as
// FloatOpsTests holds the AVX-512 ones.
// Built and run by tools/dev/check-neon.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lut_kernels.h"

static uint64_t rng_state = 0x1234567;
static uint32_t next_random(void) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}
static float uniform(float lo, float hi) { return lo + (hi - lo) * (next_random() / 2147483648.0f); }

/// A float's nearest half, for random scales (the exact value does not matter, only that both sides agree).
static uint16_t float_to_half(float f) {
    _Float16 h = (_Float16)f;
    uint16_t bits;
    memcpy(&bits, &h, sizeof bits);
    return bits;
}
static float half_to_float(uint16_t bits) {
    _Float16 h;
    memcpy(&h, &bits, sizeof h);
    return (float)h;
}

/// Plane i's bit for (row, col), read back from the packed layout.
static int packed_bit(const uint8_t *bits, int32_t cols, int32_t planes, int32_t group_size, int row, int col, int i) {
    const int32_t kp = elutq_padded_cols(cols);
    const int32_t block = row / 32, r = row % 32, j = col / group_size;
    const int32_t group_begin = j * group_size;
    const int32_t group_end = group_begin + group_size < kp ? group_begin + group_size : kp;
    const int32_t quads = (group_end - group_begin) / 16;
    const int32_t within = col - group_begin, quad = within / 16, slice = (within % 16) / 4, t = within % 4;
    const uint8_t *p = bits + (int64_t)block * planes * kp * 4 + (int64_t)j * (group_size / 16) * planes * 64
                       + ((int64_t)i * quads + quad) * 64;
    const uint8_t byte = p[2 * r + (slice & 1)];
    const uint8_t nibble = slice < 2 ? byte & 15 : byte >> 4;
    return (nibble >> t) & 1;
}

static int check_shape(int32_t rows, int32_t cols, int32_t planes, int32_t group_size, int32_t count, int precise) {
    const int64_t nbits = elutq_bits_bytes(rows, cols, planes);
    const int64_t nparams = elutq_params_count(rows, cols, planes, group_size);
    const int32_t kp = elutq_padded_cols(cols), groups = elutq_group_count(cols, group_size);
    uint8_t *bits = malloc(nbits);
    uint16_t *params = malloc(nparams * 2);
    for (int64_t i = 0; i < nbits; i++) bits[i] = (uint8_t)next_random();
    for (int64_t i = 0; i < nparams; i++) params[i] = float_to_half(uniform(-0.05f, 0.05f));
    float *x = malloc(sizeof(float) * cols * count);
    for (int32_t i = 0; i < cols * count; i++) x[i] = uniform(-1, 1) * (i % 97 == 0 ? 20 : 1);
    uint8_t *tables = malloc((size_t)kp * 4 * count), *multipliers = malloc((size_t)kp / 4 * count);
    float *scales = malloc(sizeof(float) * groups * count), *sums = malloc(sizeof(float) * groups * count);
    int32_t *offsets = malloc(sizeof(int32_t) * groups * count);
    uint8_t *residuals = precise ? malloc((size_t)kp * 4 * count) : NULL;
    for (int32_t v = 0; v < count; v++) {
        elutq_table_output out = {tables + (int64_t)v * kp * 4, multipliers + (int64_t)v * kp / 4, scales + v * groups,
                                  offsets + v * groups, sums + v * groups, residuals ? residuals + (int64_t)v * kp * 4 : NULL};
        elutq_build_tables(ELUTQ_ISA_SCALAR, x + v * cols, cols, group_size, 0, elutq_group_count(cols, group_size), out);
    }
    elutq_lut_matrix a = {bits, params, rows, cols, planes, group_size};
    elutq_lut_tables t = {tables, multipliers, scales, offsets, sums, residuals, count, cols, group_size};
    const int32_t blocks = (rows + 31) / 32;
    float *reference = malloc(sizeof(float) * rows * count), *y = malloc(sizeof(float) * rows * count);
    elutq_lut_matmul(ELUTQ_ISA_SCALAR, &a, &t, reference, rows, 0, blocks);
    int failures = 0;

    // Scalar against the float reference dequantized from the packed bytes.
    for (int32_t v = 0; v < count; v++) {
        for (int32_t row = 0; row < rows; row++) {
            double exact = 0, magnitude = 0, bound = 0;
            for (int32_t col = 0; col < cols; col++) {
                const int32_t j = col / group_size;
                const uint16_t *p = params + ((int64_t)(row / 32) * groups + j) * (planes + 1) * 32;
                double w = half_to_float(p[planes * 32 + row % 32]);
                for (int32_t i = 0; i < planes; i++)
                    w += half_to_float(p[i * 32 + row % 32]) * (packed_bit(bits, cols, planes, group_size, row, col, i) - 0.5);
                exact += w * x[v * cols + col];
                magnitude += fabs(w * x[v * cols + col]);
            }
            // Each lookup is off by at most half a step of its slice, unit * multiplier / 2 (precise
            // tables: a 254th of that).
            for (int32_t j = 0; j < groups; j++) {
                const uint16_t *p = params + ((int64_t)(row / 32) * groups + j) * (planes + 1) * 32;
                const int32_t end = (j + 1) * group_size < kp ? (j + 1) * group_size : kp;
                double steps = 0;
                for (int32_t q = j * group_size / 4; q < end / 4; q++) steps += multipliers[(int64_t)v * kp / 4 + q];
                for (int32_t i = 0; i < planes; i++)
                    bound += fabs(half_to_float(p[i * 32 + row % 32])) * steps * scales[v * groups + j] / 2
                             / (precise ? ELUTQ_RESIDUAL_STEPS : 1);
            }
            bound += 1e-5 * magnitude;
            if (fabs(reference[v * rows + row] - exact) > bound) {
                if (failures++ < 5) printf("  scalar vs float: v%d row %d: %g vs %g (bound %g)\n", v, row, reference[v * rows + row], exact, bound);
            }
        }
    }
    const elutq_isa paths[] = {ELUTQ_ISA_AVX2, ELUTQ_ISA_AVX512_VBMI, ELUTQ_ISA_NEON};
    int compared = 0;
    for (unsigned p = 0; p < sizeof paths / sizeof paths[0]; p++) {
        if (!elutq_isa_supported(paths[p])) continue;
        compared++;
        memset(y, 0, sizeof(float) * rows * count);
        elutq_lut_matmul(paths[p], &a, &t, y, rows, 0, blocks);
        if (memcmp(y, reference, sizeof(float) * rows * count) != 0) {
            failures++;
            printf("  %s differs from scalar\n", elutq_isa_name(paths[p]));
        }
    }
    // Without a SIMD path there is nothing to cross-check: that is a failure, not a pass.
    if (compared == 0) {
        failures++;
        printf("  no path but scalar is supported here\n");
    }
    printf("%s %dx%d B%d g%d M%d%s\n", failures ? "FAIL" : "ok  ", rows, cols, planes, group_size, count,
           precise ? " precise" : "");
    free(residuals);
    free(bits); free(params); free(x); free(tables); free(multipliers); free(scales); free(offsets); free(sums);
    free(reference); free(y);
    return failures;
}

/// Softmax (scores across e^x's range, a masked one), SwiGLU and decode attention against double
/// precision, with the bounds FloatOpsTests uses.
static int check_float_ops(void) {
    int failures = 0;
    enum { n = 1000, heads = 3, head_size = 40, visible = 21, kv_stride = 2 * head_size + 3 };
    static float x[n], y[n], gate[n], up[n];
    for (int i = 0; i < n; i++) x[i] = uniform(-87, 0);
    x[7] = 0;
    x[8] = -INFINITY;
    memcpy(y, x, sizeof x);
    elutq_softmax(y, n);
    double sum = 0;
    for (int i = 0; i < n; i++) sum += exp((double)x[i]);
    for (int i = 0; i < n; i++) {
        const double exact = exp((double)x[i]) / sum;
        if (fabs(y[i] - exact) > 4e-7 * exact + 1.401298464e-45) failures++;
    }
    // A vocabulary's worth of logits: the normaliser sums 49152 terms.
    enum { vocabulary = 49152 };
    static float logits[vocabulary], probabilities[vocabulary];
    for (int i = 0; i < vocabulary; i++) logits[i] = probabilities[i] = uniform(-8, 8);
    elutq_softmax(probabilities, vocabulary);
    double top = -INFINITY, total = 0;
    for (int i = 0; i < vocabulary; i++) top = logits[i] > top ? logits[i] : top;
    for (int i = 0; i < vocabulary; i++) total += exp((double)logits[i] - top);
    for (int i = 0; i < vocabulary; i++) {
        const double exact = exp((double)logits[i] - top) / total;
        if (fabs(probabilities[i] - exact) > 1e-5 * exact + 1e-12) failures++;
    }
    for (int i = 0; i < n; i++) {
        gate[i] = uniform(-30, 30);
        up[i] = uniform(-1, 1);
        y[i] = gate[i];
    }
    elutq_swiglu(y, up, n);
    for (int i = 0; i < n; i++) {
        const double g = gate[i], exact = g / (1 + exp(-g)) * up[i];
        if (fabs(y[i] - exact) > 1e-6 * fabs(exact) + 1e-30) failures++;
    }
    static float q[heads * head_size], keys[visible * kv_stride], values[visible * kv_stride];
    static float scratch[heads * visible], out[heads * head_size];
    for (int i = 0; i < heads * head_size; i++) q[i] = uniform(-2, 2);
    for (int i = 0; i < visible * kv_stride; i++) keys[i] = uniform(-2, 2), values[i] = uniform(-2, 2);
    const float scale = 1.0f / sqrtf((float)head_size);
    elutq_attend(q, head_size, heads, head_size, keys, values, kv_stride, visible, scale, scratch, out, head_size);
    for (int h = 0; h < heads; h++) {
        double scores[visible], top = -INFINITY, total = 0;
        for (int j = 0; j < visible; j++) {
            double dot = 0;
            for (int d = 0; d < head_size; d++) dot += (double)q[h * head_size + d] * keys[j * kv_stride + d];
            scores[j] = scale * dot;
            top = scores[j] > top ? scores[j] : top;
        }
        for (int j = 0; j < visible; j++) total += scores[j] = exp(scores[j] - top);
        for (int d = 0; d < head_size; d++) {
            double exact = 0;
            for (int j = 0; j < visible; j++) exact += scores[j] / total * values[j * kv_stride + d];
            if (fabs(out[h * head_size + d] - exact) > 1e-5) failures++;
        }
    }
    printf("%s softmax, SwiGLU and decode attention against double precision\n", failures ? "FAIL" : "ok  ");
    return failures;
}

int main(void) {
    printf("best path on this CPU: %s\n", elutq_isa_name(elutq_best_isa()));
    const int32_t shapes[][5] = {
        {37, 100, 1, 32, 1}, {64, 576, 2, 128, 1}, {96, 200, 3, 64, 3},
        {33, 48, 4, 32, 2}, {192, 1536, 4, 1024, 1}, {5, 1000, 2, 96, 70},
        {40, 800, 3, 256, 2}, {32, 1100, 2, 512, 1},
    };
    const int total = 2 * sizeof shapes / sizeof shapes[0];
    int failed = 0;
    for (int s = 0; s < total; s++)
        failed += check_shape(shapes[s / 2][0], shapes[s / 2][1], shapes[s / 2][2], shapes[s / 2][3], shapes[s / 2][4], s % 2) != 0;
    failed += check_float_ops() != 0;
    printf("%d passed, %d failed\n", total + 1 - failed, failed);
    return failed ? 1 : 0;
}
