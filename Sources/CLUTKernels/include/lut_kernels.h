// Bit-serial lookup-table kernels for HLQ matrices, plus the float32 products of the reference path,
// the q8 head's integer products, softmax, SwiGLU and decode attention, and the read-bandwidth probe
// the kernels are measured by: the SIMD code Swift cannot reach.
//
// This header is the one place the packed weight layout and the activation-table layout are defined.
// The Swift packer (HLQ/PackedLayout.swift), the .hlq file format and every ISA path follow it.
//
// ---------------------------------------------------------------------------------------------
// The quantized matrix
//
// A matrix has N rows (outputs) and K columns (inputs). Each row is cut into groups of G columns
// (G a multiple of 32, at most 1024); the last group is shorter when K is not a multiple of G.
// Columns are padded with zeros up to Kp = K rounded up to 16, rows up to Np = N rounded up to 32.
// A group holds B bit planes (1 <= B <= 4) and is reconstructed as
//
//     w = sum_i s_i * (b_i - 1/2) + m          b_i in {0, 1}
//
// where s_i is the free per-plane scale and m the group's midpoint. (The paper's zero z is
// m - sum_i s_i / 2; storing the midpoint lets the kernel use centred, mirror-symmetric tables.)
//
// bits: row blocks of 32 rows, one after another. Inside a row block, for each group j, for each
// plane i, for each quad u of the group (16 columns: four 4-column slices q = 4u .. 4u+3), 64 bytes:
//
//     byte 2r     = nib(r, 4u+0) | nib(r, 4u+2) << 4        r = row within the block, 0..31
//     byte 2r + 1 = nib(r, 4u+1) | nib(r, 4u+3) << 4
//
// where nib(r, q) holds plane i's bits of columns 4q .. 4q+3 of row r, column 4q+t in bit t.
// A row block takes B * Kp * 4 bytes, and group j starts j * (G / 16) * B * 64 bytes into it.
//
// params: IEEE half floats, for each row block, for each group, (B + 1) runs of 32 values:
//     s_0[32 rows], s_1[32 rows], ..., s_{B-1}[32 rows], m[32 rows]
//
// Padded rows and columns carry zero scales and midpoints.
//
// ---------------------------------------------------------------------------------------------
// The activation tables (built once per input vector, shared by every matrix that reads it)
//
// For each slice q of 4 inputs x[4q .. 4q+3], the 16 centred partial sums
//     T[q][p] = sum_t (bit_t(p) - 1/2) * x[4q + t]          p = 0..15
// are mirror symmetric (T[q][15 - p] = -T[q][p]). They are stored as int8 steps of a group unit,
// with a power-of-two multiplier per slice so that small slices keep their precision next to an
// outlier slice in the same group:
//     top[j]  = the largest multiplier group j may use: a power of two, at most 8, such that
//               127 * top[j] * slices_j <= 32767 (the int16 accumulator cannot overflow)
//     M[q]    = max_p |T[q][p]| = (|x[4q]| + |x[4q+1]| + |x[4q+2]| + |x[4q+3]|) / 2, summed in that order
//     unit[j] = max of M[q] over the group's slices / (127 * top[j])
//     m[q]    = the smallest power of two with M[q] <= 127 * unit[j] * m[q]
//     U[q][p] = round(T[q][p] / (unit[j] * m[q])) + 128, a byte in 1..255
// Layout: tables[Kp / 4][16] bytes, so a quad of four slices is 64 contiguous bytes, which is one
// AVX-512 register, two AVX2 registers or four NEON registers; multipliers[Kp / 4] bytes; per
// group, scales[j] = unit[j], offsets[j] = 128 * sum of the group's m[q], and sums[j], the exact
// float sum of the group's inputs, which carries the midpoint term.
//
// For row r, group j, the kernel computes with integer lookups only
//     L_i = sum over the group's slices of m[q] * U[q][nib_i(r, q)] - offsets[j]
//     y_r += scale[j] * (sum_i s_i * L_i) + m * sums[j]
// and no weight is ever expanded to float. The multiply by m[q] rides on the instruction that
// already pairs lookups into int16 (vpmaddubsw, or NEON's widening multiply-accumulate).
//
// Precise tables (optional): int8 tables carry about 8 bits of each slice, as int8 activations do.
// That is within 1% of exact float on any usable model, but a destroyed model (perplexity ~10^6)
// amplifies it past that. A second byte per entry carries what the first rounded away:
//     R[q][p] = clamp(round(254 * (T[q][p] - unit[j] * m[q] * (U[q][p] - 128)) / (unit[j] * m[q])), ±127) + 128
// with the same multipliers and offsets. Its lookups L'_i come from the same instructions, and
//     y_r += (unit[j] / 254) * (sum_i s_i * (254 * L_i + L'_i)) + m * sums[j]
// where 254 * L_i + L'_i is exact in int32 and below 2^24, so it converts to float exactly.
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A packed HLQ matrix, used in place (for example from a memory-mapped model file).
typedef struct elutq_lut_matrix {
    const uint8_t *bits;      ///< packed bit planes, layout above
    const uint16_t *params;   ///< half-float scales and midpoints, layout above
    int32_t rows;             ///< N
    int32_t cols;             ///< K
    int32_t planes;           ///< B, 1..4
    int32_t group_size;       ///< G, a multiple of 32, at most 1024
} elutq_lut_matrix;

/// Tables for `count` input vectors, one after another, each as built by elutq_build_tables.
typedef struct elutq_lut_tables {
    const uint8_t *tables;       ///< [count][Kp / 4][16]
    const uint8_t *multipliers;  ///< [count][Kp / 4]
    const float *scales;         ///< [count][groups]
    const int32_t *offsets;      ///< [count][groups]
    const float *sums;           ///< [count][groups]
    const uint8_t *residuals;    ///< [count][Kp / 4][16] precise tables' second bytes, or NULL
    int32_t count;            ///< number of input vectors
    int32_t cols;             ///< K, must match the matrix
    int32_t group_size;       ///< G, must match the matrix
} elutq_lut_tables;

/// The instruction-set paths. Every entry point that has more than one takes the path as its first
/// argument instead of reading process-wide state: the caller picks elutq_best_isa() once, and a
/// test can run two paths side by side (on any thread, at the same time) and know which ones it
/// compared. The path must be one this CPU supports: another would fault on an illegal instruction.
typedef enum elutq_isa {
    ELUTQ_ISA_SCALAR = 0,
    ELUTQ_ISA_AVX2 = 1,          ///< vpshufb, with avx2 + fma + f16c
    ELUTQ_ISA_AVX512_VBMI = 2,   ///< vpermb, with avx512 f/bw/vbmi
    ELUTQ_ISA_NEON = 3,          ///< tbl, aarch64 only
} elutq_isa;

/// Whether this CPU (and build) can run a path.
int elutq_isa_supported(elutq_isa isa);
/// The fastest path this CPU supports: AVX-512 VBMI, then NEON, then AVX2, then scalar.
elutq_isa elutq_best_isa(void);
/// A short name such as "avx512vbmi".
const char *elutq_isa_name(elutq_isa isa);

/// Kp: the column count padded to a whole quad of 16.
int32_t elutq_padded_cols(int32_t cols);
/// Number of column groups (the last one may be short).
int32_t elutq_group_count(int32_t cols, int32_t group_size);
/// Bytes of `bits` for a matrix.
int64_t elutq_bits_bytes(int32_t rows, int32_t cols, int32_t planes);
/// Number of half floats in `params` for a matrix.
int64_t elutq_params_count(int32_t rows, int32_t cols, int32_t planes, int32_t group_size);

/// Where elutq_build_tables writes one vector's tables (sizes in the layout above).
typedef struct elutq_table_output {
    uint8_t *tables;       ///< Kp * 4 bytes
    uint8_t *multipliers;  ///< Kp / 4 bytes
    float *scales;         ///< one per group
    int32_t *offsets;      ///< one per group
    float *sums;           ///< one per group
    uint8_t *residuals;    ///< Kp * 4 bytes for precise tables, or NULL for plain int8 tables
} elutq_table_output;

/// The residual bytes' steps per step of the first byte (precise tables, above).
#define ELUTQ_RESIDUAL_STEPS 254

/// Build the tables, multipliers and per-group values of groups [group_begin, group_end) for one
/// input vector x[cols] (and the residual bytes when out.residuals is set); groups are independent,
/// so threads can share one vector's build. Every path builds the same bytes, so tables built on
/// one path serve products on any other.
void elutq_build_tables(elutq_isa isa, const float *x, int32_t cols, int32_t group_size, int32_t group_begin,
                        int32_t group_end, elutq_table_output out);

/// y[v * ldy + row] = (A x_v)[row] for every input vector v and the rows of row blocks
/// [block_begin, block_end) (32 rows each; rows past N are not written). Threads split row blocks.
/// Every path returns the same bits.
void elutq_lut_matmul(elutq_isa isa, const elutq_lut_matrix *a, const elutq_lut_tables *x,
                      float *y, int64_t ldy, int32_t block_begin, int32_t block_end);

/// In-place softmax of x[count]; returns log Σ e^(x - max) + max (the log-sum-exp). e^x is a
/// vector polynomial within a few ulp (vector_math.c), not libm's. Like elutq_f32_gemm below, these
/// three take no path argument: AVX-512 when the CPU has it, else AVX2 with FMA, else portable C
/// that compilers vectorise; they round differently, so each is held against double precision.
float elutq_softmax(float *x, int32_t count);
/// gate[i] = silu(gate[i]) * up[i], SwiGLU, with the same e^x.
void elutq_swiglu(float *gate, const float *up, int32_t count);

/// Decode attention for `heads` query heads sharing one key/value head (q_h at q + h * q_stride),
/// over cached positions 0..<visible (k_j at keys + j * kv_stride, v_j likewise):
/// out_h = softmax(scale * q_h . k_j) . V, written at out + h * out_stride. scores is scratch of
/// heads * visible floats and holds the probabilities afterwards. The AVX-512 path needs head_size
/// to be a multiple of 16, the AVX2 path a multiple of 8; other sizes take the portable loops.
void elutq_attend(const float *q, int64_t q_stride, int32_t heads, int32_t head_size, const float *keys,
                  const float *values, int64_t kv_stride, int32_t visible, float scale, float *scores,
                  float *out, int64_t out_stride);

/// Asks for the 64-byte lines holding `bytes` from `start` to be brought into L2 (prefetcht1 on
/// x86, PRFM PLDL2KEEP on AArch64, nothing where the target has no such hint). It does not wait
/// for the data, though a long run of requests stalls on the core's miss buffers.
void elutq_prefetch_l2(const void *start, int64_t bytes);

/// Float32 products for the float reference path: y[v * ldy + r] = sum_k w[r * cols + k] * x[v * ldx + k]
/// for rows [row_begin, row_end) and vectors 0..<count. Uses AVX-512 whenever the CPU has it (also
/// one without VBMI), else AVX2 with FMA, and takes no path argument: the paths add in different
/// orders, so they are each held against a float reference, not against each other.
void elutq_f32_gemm(const float *w, int32_t cols, const float *x, int64_t ldx, int32_t count,
                    float *y, int64_t ldy, int32_t row_begin, int32_t row_end);
/// The same for half-float weights (raw IEEE half bits).
void elutq_f16_gemm(const uint16_t *w, int32_t cols, const float *x, int64_t ldx, int32_t count,
                    float *y, int64_t ldy, int32_t row_begin, int32_t row_end);
/// Float32 products in the plain row-major form, for training:
///     c[i * ldc + j] = (accumulate ? c[i * ldc + j] : 0) + sum_k a[i * lda + k] * b[k * ldb + j]
/// for rows i < m and columns [col_begin, col_end). Uses AVX-512 when present, else AVX2 with FMA.
void elutq_f32_gemm_nn(const float *a, int64_t lda, int32_t m, const float *b, int64_t ldb, int32_t depth,
                       float *c, int64_t ldc, int32_t col_begin, int32_t col_end, int accumulate);
/// Quantizes `count` vectors x[v * ldx + k] to int16 for elutq_q8_gemm, one scale per vector
/// (x ≈ scales[v] * out[v * cols + k]), with |out| small enough that every int32 sum stays exact.
void elutq_quantize_int16(const float *x, int64_t ldx, int32_t cols, int32_t count, int16_t *out, float *scales);
/// q8 weights (int8 rows, one float scale each) times int16-quantized inputs:
/// y[v * ldy + r] = wscales[r] * xscales[v] * sum_k w[r * cols + k] * xq[v * ldx + k], for rows
/// [row_begin, row_end). Integer dot products (AVX-512 VNNI on the AVX-512 path when the CPU has
/// it, AVX2, or portable C); every path returns the same bits.
void elutq_q8_gemm(elutq_isa isa, const int8_t *w, const float *wscales, int32_t cols, const int16_t *xq,
                   const float *xscales, int64_t ldx, int32_t count, float *y, int64_t ldy, int32_t row_begin, int32_t row_end);

/// Reads `bytes` of a 64-byte-aligned buffer with the widest loads available, in four independent
/// streams, and returns a value derived from every byte (so the reads cannot be elided).
uint64_t elutq_read_probe(const void *buffer, size_t bytes);

/// A CPU spin-wait hint (pause / yield) for the thread pool's bounded spin.
void elutq_cpu_relax(void);

#ifdef __cplusplus
}
#endif
