// Private to the kernels: the derived geometry every ISA path walks, and the per-ISA entry points.
#pragma once

#include "lut_kernels.h"

/// Offsets and counts derived once per call from a matrix, so each path walks the layout the same way.
typedef struct lut_geometry {
    int32_t padded_cols;      // Kp
    int32_t groups;           // number of groups
    int32_t group_quads;      // quads in a full group (G / 16)
    int32_t last_group_quads; // quads in the last group
    int64_t block_bytes;      // bytes of one row block of bits
    int64_t block_params;     // half floats of params for one row block
    int64_t table_stride;     // bytes of tables per input vector (Kp * 4)
} lut_geometry;

static inline lut_geometry lut_geometry_of(const elutq_lut_matrix *a) {
    lut_geometry g;
    g.padded_cols = elutq_padded_cols(a->cols);
    g.groups = elutq_group_count(a->cols, a->group_size);
    g.group_quads = a->group_size / 16;
    g.last_group_quads = (g.padded_cols - (g.groups - 1) * a->group_size) / 16;
    g.block_bytes = (int64_t)a->planes * g.padded_cols * 4;
    g.block_params = (int64_t)g.groups * (a->planes + 1) * 32;
    g.table_stride = (int64_t)g.padded_cols * 4;
    return g;
}

static inline int32_t lut_quads_in_group(const lut_geometry *g, int32_t j) {
    return j == g->groups - 1 ? g->last_group_quads : g->group_quads;
}

/// IEEE half to float, exactly, without F16C (the scalar and NEON paths use it).
static inline float lut_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exponent = (h >> 10) & 0x1F;
    uint32_t mantissa = h & 0x3FF;
    uint32_t bits;
    if (exponent == 0x1F) {
        bits = sign | 0x7F800000u | (mantissa << 13);
    } else if (exponent != 0) {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {
        bits = sign;
    } else {  // subnormal half: renormalise
        int shift = 0;
        while ((mantissa & 0x400) == 0) { mantissa <<= 1; shift++; }
        bits = sign | ((uint32_t)(113 - shift) << 23) | ((mantissa & 0x3FF) << 13);
    }
    float f;
    __builtin_memcpy(&f, &bits, sizeof f);
    return f;
}

/// One group j of one row block, seen from one input vector: where its bit planes, parameters,
/// tables and multipliers start, and the vector's per-group values. Every path starts a group here.
typedef struct lut_group {
    int32_t quads;               // quads of 16 columns in the group
    const uint8_t *bits;         // [planes][quads][64]
    const uint16_t *params;      // [planes + 1][32] half floats: the plane scales, then the midpoints
    const uint8_t *tables;       // [quads][4 slices][16]
    const uint8_t *residuals;    // [quads][4 slices][16], or NULL without precise tables
    const uint8_t *multipliers;  // [quads][4 slices]
    int32_t offset;              // 128 * the sum of the group's multipliers
    float scale;                 // the tables' unit (over ELUTQ_RESIDUAL_STEPS with residuals)
    float sum;                   // the exact sum of the group's inputs
} lut_group;

static inline lut_group lut_group_at(const elutq_lut_matrix *a, const lut_geometry *g, int32_t block,
                                     const elutq_lut_tables *x, int32_t vector, int32_t j) {
    lut_group group;
    group.quads = lut_quads_in_group(g, j);
    group.bits = a->bits + block * g->block_bytes + (int64_t)j * g->group_quads * a->planes * 64;
    group.params = a->params + block * g->block_params + (int64_t)j * (a->planes + 1) * 32;
    group.tables = x->tables + vector * g->table_stride + (int64_t)j * a->group_size * 4;
    group.residuals = x->residuals ? x->residuals + vector * g->table_stride + (int64_t)j * a->group_size * 4 : NULL;
    group.multipliers = x->multipliers + vector * g->table_stride / 16 + (int64_t)j * a->group_size / 4;
    group.offset = x->offsets[(int64_t)vector * g->groups + j];
    group.scale = x->scales[(int64_t)vector * g->groups + j];
    if (x->residuals) group.scale /= (float)ELUTQ_RESIDUAL_STEPS;
    group.sum = x->sums[(int64_t)vector * g->groups + j];
    return group;
}

/// Row blocks per tile of the batched loop: a tile's bit planes (about 256 KB) stay in L2 while every
/// vector of the batch is multiplied by them, so a batch reads the weights from memory once.
static inline int32_t lut_tile_blocks(const lut_geometry *g) {
    int64_t blocks = (256 * 1024) / (g->block_bytes > 0 ? g->block_bytes : 1);
    return blocks < 1 ? 1 : (int32_t)blocks;
}

/// How many row blocks ahead the AVX-512 kernel prefetches (about 32 KB): on one thread the hardware
/// prefetcher alone leaves much of the memory bandwidth unused. It prefetches into L2 (prefetcht1),
/// not L1: on AMD Zen 4 a prefetch into L1 holds one of the core's few L1 miss buffers until its
/// line arrives, so the lookups and the waits for memory took turns (`elutq bench-kernel --rows
/// 4096 --cols 4096 --bits 2 --threads 1 --tables int8`: 363 us, 56% of the read probe, with
/// prefetcht0; 233 us, 83%, with prefetcht1; README, On AVX-512 again).
static inline int32_t lut_prefetch_blocks(const lut_geometry *g) {
    int64_t blocks = 32768 / (g->block_bytes > 0 ? g->block_bytes : 1);
    return blocks < 1 ? 1 : (int32_t)blocks;
}

/// Exact float sum of x[begin..<end] (accumulated in double); every table builder uses it.
float lut_group_sum(const float *x, int32_t begin, int32_t end);
/// The largest slice multiplier a group of `slices` slices may use (see lut_kernels.h).
static inline int32_t lut_top_multiplier(int32_t slices) {
    int32_t top = 8;
    while (top > 1 && 127 * top * slices > 32767) top /= 2;
    return top;
}

/// max_p |T[q][p]| of a slice, (|x0| + |x1| + |x2| + |x3|) / 2, in the order every builder uses.
static inline float lut_slice_max(const float in[4]) {
    return 0.5f * (((__builtin_fabsf(in[0]) + __builtin_fabsf(in[1])) + __builtin_fabsf(in[2])) + __builtin_fabsf(in[3]));
}

/// The smallest power of two m with slice_max <= 127 * unit * m, at most `top`.
static inline int32_t lut_slice_multiplier(float slice_max, float unit, int32_t top) {
    int32_t m = 1;
    while (m < top && slice_max > 127.0f * unit * (float)m) m *= 2;
    return m;
}

/// The four inputs of the slice starting at column c, zeros past the last column.
static inline void lut_slice_inputs(const float *x, int32_t c, int32_t cols, float in[4]) {
    if (c + 4 <= cols) {
        __builtin_memcpy(in, x + c, 4 * sizeof(float));
    } else {
        for (int t = 0; t < 4; t++) in[t] = c + t < cols ? x[c + t] : 0.0f;
    }
}

/// A table entry's steps: lrintf of a finite value, and 0 for a non-finite one (inf or NaN inputs,
/// where lrintf's result is unspecified), which the vector builders reproduce with a class mask.
static inline int32_t lut_steps(float value) {
    return __builtin_isfinite(value) ? (int32_t)__builtin_lrintf(value) : 0;
}

/// The residual byte of a table entry whose first byte holds q steps of `step` (= unit * m, and
/// `inverse` = 1 / step): both builders compute it with these operations, so they agree exactly.
static inline uint8_t lut_residual_byte(float centred, int32_t q, float step, float inverse) {
    const float rest = __builtin_fmaf(-(float)q, step, centred);
    int32_t r = lut_steps(rest * inverse * (float)ELUTQ_RESIDUAL_STEPS);
    r = r > 127 ? 127 : r < -127 ? -127 : r;
    return (uint8_t)(r + 128);
}

/// 1 / (unit * m), or 0 where that is not finite: unit 0 (a group of zeros), or a group so small
/// that its inverse step overflows. Its entries are then all 0 steps, on every path.
static inline float lut_inverse_step(float unit, int32_t m) {
    const float inverse = 1.0f / (unit * (float)m);
    return unit > 0 && __builtin_isfinite(inverse) ? inverse : 0.0f;
}
/// For each power of two m = 2^e <= 8 of a group: the step (unit * m), its inverse, and for m < 8
/// the largest slice it holds (127 * unit * m, as lut_slice_multiplier computes it), so the
/// vector builders choose each slice's multiplier without a loop: the limits grow with m, so the
/// count of those exceeded (below top) is e.
typedef struct lut_group_steps {
    float steps[4], inverses[4], limits[3];
} lut_group_steps;

static inline lut_group_steps lut_steps_of_group(float unit) {
    lut_group_steps g;
    for (int32_t e = 0, m = 1; e < 4; e++, m *= 2) {
        g.steps[e] = unit * (float)m;
        g.inverses[e] = lut_inverse_step(unit, m);
        if (e < 3) g.limits[e] = 127.0f * unit * (float)m;
    }
    return g;
}

static inline int32_t lut_multiplier_exponent(const lut_group_steps *g, float slice_max, int32_t top) {
    return (top > 1 && slice_max > g->limits[0]) + (top > 2 && slice_max > g->limits[1]) + (top > 4 && slice_max > g->limits[2]);
}

void lut_build_tables_scalar(const float *x, int32_t cols, int32_t group_size, int32_t group_begin, int32_t group_end,
                             elutq_table_output out);

/// Input vectors one kernel call handles together: they share each load and decode of the weights
/// (all four on AVX-512; AVX2 shares them between two, see lut_block_avx2).
#define LUT_VECTORS_PER_CALL 4

/// One ISA's inner kernel: row block `block` times input vectors `vector ..< vector + vectors`
/// (at most LUT_VECTORS_PER_CALL), all groups, 32 outputs per vector.
typedef void (*lut_block_kernel)(const elutq_lut_matrix *a, const lut_geometry *g, int32_t block,
                                 const elutq_lut_tables *x, int32_t vector, int32_t vectors, float out[][32]);

void lut_block_scalar(const elutq_lut_matrix *a, const lut_geometry *g, int32_t block,
                      const elutq_lut_tables *x, int32_t vector, int32_t vectors, float out[][32]);
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

void lut_block_avx2(const elutq_lut_matrix *a, const lut_geometry *g, int32_t block,
                    const elutq_lut_tables *x, int32_t vector, int32_t vectors, float out[][32]);
void lut_block_avx512vbmi(const elutq_lut_matrix *a, const lut_geometry *g, int32_t block,
                          const elutq_lut_tables *x, int32_t vector, int32_t vectors, float out[][32]);
/// The float AVX-512 code (vector_math.c, attention.c) and whether this CPU can run it.
#define LUT_FLOAT_AVX512 __attribute__((target("avx512f,avx512dq,fma")))
int lut_has_float_avx512(void);
/// The float AVX2 code, for CPUs without AVX-512 (vector_math.c, attention.c, the dense products).
#define LUT_FLOAT_AVX2 __attribute__((target("avx2,fma")))
int lut_has_float_avx2(void);
/// An AVX2 lane mask with the lanes below `count` (clamped to 0...8) set, for maskload and
/// maskstore: AVX2 has no mask registers.
LUT_FLOAT_AVX2 static inline __m256i lut_lanes_below(int32_t count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
/// The sum of eight lanes.
LUT_FLOAT_AVX2 static inline float lut_sum8(__m256 v) {
    const __m128 four = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 two = _mm_add_ps(four, _mm_movehl_ps(four, four));
    return _mm_cvtss_f32(_mm_add_ss(two, _mm_movehdup_ps(two)));
}
/// The table builders that match lut_build_tables_scalar bit for bit.
void lut_build_tables_avx512(const float *x, int32_t cols, int32_t group_size, int32_t group_begin, int32_t group_end,
                             elutq_table_output out);
void lut_build_tables_avx2(const float *x, int32_t cols, int32_t group_size, int32_t group_begin, int32_t group_end,
                           elutq_table_output out);
#endif
#if defined(__aarch64__)
void lut_block_neon(const elutq_lut_matrix *a, const lut_geometry *g, int32_t block,
                    const elutq_lut_tables *x, int32_t vector, int32_t vectors, float out[][32]);
#endif
