// Geometry helpers, CPU feature detection and the dispatch to the best supported path.
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

/// -1 until first use; then the chosen path. Written once per process (or by tests via force).
static int active_isa = -1;

elutq_isa elutq_active_isa(void) {
    if (active_isa < 0) {
        const elutq_isa preference[] = {ELUTQ_ISA_AVX512_VBMI, ELUTQ_ISA_NEON, ELUTQ_ISA_AVX2, ELUTQ_ISA_SCALAR};
        for (unsigned i = 0; i < sizeof preference / sizeof preference[0]; i++)
            if (elutq_isa_supported(preference[i])) { active_isa = preference[i]; break; }
    }
    return (elutq_isa)active_isa;
}

int elutq_force_isa(elutq_isa isa) {
    if (!elutq_isa_supported(isa)) return 0;
    active_isa = isa;
    return 1;
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

void elutq_build_tables(const float *x, int32_t cols, int32_t group_size,
                        uint8_t *tables, float *scales, float *sums) {
#if defined(__x86_64__) || defined(__i386__)
    if (elutq_active_isa() == ELUTQ_ISA_AVX512_VBMI) {
        lut_build_tables_avx512(x, cols, group_size, tables, scales, sums);
        return;
    }
#endif
    lut_build_tables_scalar(x, cols, group_size, tables, scales, sums);
}

void elutq_lut_matmul(const elutq_lut_matrix *a, const elutq_lut_tables *x,
                      float *y, int64_t ldy, int32_t block_begin, int32_t block_end) {
    switch (elutq_active_isa()) {
#if defined(__x86_64__) || defined(__i386__)
    case ELUTQ_ISA_AVX512_VBMI: lut_matmul_avx512vbmi(a, x, y, ldy, block_begin, block_end); return;
    case ELUTQ_ISA_AVX2: lut_matmul_avx2(a, x, y, ldy, block_begin, block_end); return;
#endif
#if defined(__aarch64__)
    case ELUTQ_ISA_NEON: lut_matmul_neon(a, x, y, ldy, block_begin, block_end); return;
#endif
    default: lut_matmul_scalar(a, x, y, ldy, block_begin, block_end); return;
    }
}

void elutq_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}
