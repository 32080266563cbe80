/*
 * kernel_row.h -- the table row of the ISA file that includes it, after
 * target_end.h (building the row needs no ISA): CCK_ROW(level, name, fn)
 * defines `const cck_row *fn(void)` returning the row of the kernels in
 * kernel_bodies.h as this file compiled them.
 */
#include "table.h"

/* A row may take a kernel family from another ISA's file where that one is
 * faster (the file defines these before including this one). */
#ifndef CCK_SC_FORWARD
#define CCK_SC_FORWARD(S) ccsc_##S##_forward_row
#define CCK_SC_GRAD_WEIGHT(S) ccsc_##S##_grad_weight_row
#define CCK_SC_GRAD_INPUT(S) ccsc_##S##_grad_input_row
#endif

#define CCK_ROW_KERNELS(S, MR, NR)                                              \
    {                                                                           \
        (MR), (NR), CCK_KC, cck_##S##_mc, CCK_VBYTES / (int)sizeof(S##_elem),   \
        CCSC_OB, CCSC_VBYTES / (int)sizeof(S##_elem),                           \
        cck_##S##_packb_size, cck_##S##_abuf_size, cck_kc_for,                  \
        cck_##S##_pack_b, cck_##S##_gemm, cck_##S##_gemm_indirect,              \
        ccdw_##S##_forward_row, ccdw_##S##_grad_input_row,                      \
        ccdw_##S##_grad_weight_row,                                             \
        ccdp_##S##_forward, ccdp_##S##_grad_input, ccdp_##S##_grad_weight,      \
        CCK_SC_FORWARD(S), CCK_SC_GRAD_WEIGHT(S), CCK_SC_GRAD_INPUT(S),         \
        ccwg_##S##_weight_panel, ccwg_##S##_input, ccwg_##S##_output,           \
        ccwg_##S##_grad_output,                                                 \
    }

typedef float s_elem;
typedef double d_elem;

#define CCK_ROW(LEVEL, NAME, TARGET, FN)                                        \
    static const cck_row FN##_row = {                                           \
        (LEVEL), (NAME), (TARGET), CCK_VBYTES, cck_peak_loop,                   \
        CCK_ROW_KERNELS(s, CCK_S_MR, CCK_S_NR),                                 \
        CCK_ROW_KERNELS(d, CCK_D_MR, CCK_D_NR),                                 \
    };                                                                          \
    const cck_row *FN(void) { return &FN##_row; }
