/*
 * kernel_bodies.h -- every ISA-dependent kernel, written once. Included by
 * each src/kernels/isa_*.c between target_begin.h and target_end.h, after
 * that ISA's GEMM micro-kernel header (gemm/ukr_*.h) and with CCK_VBYTES
 * set to its vector width; everything here is static to that file.
 */
#include "gemm/driver.h"
#include "depthwise/nhwc.h"
#include "depthwise/nchw.h"
#include "single_channel/nhwc.h"
#include "winograd/transforms.h"
#include "peak.h"
