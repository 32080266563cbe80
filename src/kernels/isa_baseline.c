/*
 * isa_baseline.c -- the kernel table's baseline row: the kernel bodies
 * built for the compiler's default target (SSE2 on x86-64) with 16-byte
 * vectors and the portable micro-kernel. Runs on every CPU.
 */
#define CCK_VBYTES 16
#include "gemm/ukr_generic.h"
#include "kernel_bodies.h"
#include "kernel_row.h"

CCK_ROW(CCK_BASELINE, "baseline", "default", cck_row_baseline)
