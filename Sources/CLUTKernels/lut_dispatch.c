// Geometry helpers, CPU feature detection and the dispatch to the path the caller names.
#include "lut_internal.h"

int32_t elutq_padded_cols(int32_t cols) { return (cols + 15) / 16 * 16; }

int32_t elutq_group_count(int32_t cols, int32_t group_size) {
    return (elutq_padded_cols(cols) + group_size - 1) / group_size;
}

int64_t elutq_bits_bytes(int32_t rows, int32_t cols, int32_t planes) {
    int64_t blocks = (rows + 31) / 32;
    return blocks * planes * (int64_t)elutq_padded_cols(cols) * 4;
}

int64_t elutq_params_count(int32_t rows, int32_t cols, int32_t planes, int32_t group_size) {
    int64_t blocks = (rows + 31) / 32;
    return blocks * elutq_group_count(cols, group_size) * (planes + 1) * 32;
}

int elutq_isa_supported(elutq_isa isa) {
    switch (isa) {
    case ELUTQ_ISA_SCALAR: return 1;
#if defined(__x86_64__) || defined(__i386__)
    case ELUTQ_ISA_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    case ELUTQ_ISA_AVX512_VBMI:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("fma");
#endif
#if defined(__aarch64__)
    case ELUTQ_ISA_NEON: return 1;
#endif
    default: return 0;
    }
}

elutq_isa elutq_best_isa(void) {
    const elutq_isa preference[] = {ELUTQ_ISA_AVX512_VBMI, ELUTQ_ISA_NEON, ELUTQ_ISA_AVX2};
    for (unsigned i = 0; i < sizeof preference / sizeof preference[0]; i++)
        if (elutq_isa_supported(preference[i])) return preference[i];
    return ELUTQ_ISA_SCALAR;
}

const char *elutq_isa_name(elutq_isa isa) {
    switch (isa) {
    case ELUTQ_ISA_SCALAR: return "scalar";
    case ELUTQ_ISA_AVX2: return "avx2";
    case ELUTQ_ISA_AVX512_VBMI: return "avx512vbmi";
    case ELUTQ_ISA_NEON: return "neon";
    }
    return "unknown";
}

void elutq_build_tables(elutq_isa isa, const float *x, int32_t cols, int32_t group_size, int32_t group_begin,
                        int32_t group_end, elutq_table_output out) {
#if defined(__x86_64__) || defined(__i386__)
    if (isa == ELUTQ_ISA_AVX512_VBMI) {
        lut_build_tables_avx512(x, cols, group_size, group_begin, group_end, out);
        return;
    }
    if (isa == ELUTQ_ISA_AVX2) {
        lut_build_tables_avx2(x, cols, group_size, group_begin, group_end, out);
        return;
    }
#endif
    lut_build_tables_scalar(x, cols, group_size, group_begin, group_end, out);
}

/// The loop every path shares: tiles of row blocks small enough to stay in L2, and within a tile,
/// every vector of the batch, so the weights come from memory once per call however large the batch.
static void tiled_matmul(const elutq_lut_matrix *a, const elutq_lut_tables *x, float *y, int64_t ldy,
                         int32_t block_begin, int32_t block_end, lut_block_kernel kernel) {
    const lut_geometry g = lut_geometry_of(a);
    const int32_t tile = lut_tile_blocks(&g);
    for (int32_t tile_begin = block_begin; tile_begin < block_end; tile_begin += tile) {
        const int32_t tile_end = tile_begin + tile < block_end ? tile_begin + tile : block_end;
        for (int32_t v = 0; v < x->count; v += LUT_VECTORS_PER_CALL) {
            const int32_t vectors = x->count - v < LUT_VECTORS_PER_CALL ? x->count - v : LUT_VECTORS_PER_CALL;
            for (int32_t block = tile_begin; block < tile_end; block++) {
                float out[LUT_VECTORS_PER_CALL][32];
                kernel(a, &g, block, x, v, vectors, out);
                const int32_t valid_rows = a->rows - block * 32 < 32 ? a->rows - block * 32 : 32;
                for (int32_t k = 0; k < vectors; k++) {
                    float *dst = y + (v + k) * ldy + (int64_t)block * 32;
                    for (int32_t r = 0; r < valid_rows; r++) dst[r] = out[k][r];
                }
            }
        }
    }
}

static lut_block_kernel block_kernel_for(elutq_isa isa) {
    switch (isa) {
#if defined(__x86_64__) || defined(__i386__)
    case ELUTQ_ISA_AVX512_VBMI: return lut_block_avx512vbmi;
    case ELUTQ_ISA_AVX2: return lut_block_avx2;
#endif
#if defined(__aarch64__)
    case ELUTQ_ISA_NEON: return lut_block_neon;
#endif
    default: return lut_block_scalar;
    }
}

void elutq_lut_matmul(elutq_isa isa, const elutq_lut_matrix *a, const elutq_lut_tables *x,
                      float *y, int64_t ldy, int32_t block_begin, int32_t block_end) {
    tiled_matmul(a, x, y, ldy, block_begin, block_end, block_kernel_for(isa));
}

void elutq_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}
