# The kernel table (src/kernels/table.h) as Cython sees it: the row of every
# ISA-dependent kernel, with the sizes that go with it. Every compiled module
# fetches the active row once, at import (``ROW = active_row()``), and passes
# it down to each kernel call; nothing below asks the CPU again. The row is
# chosen by cconv._kernels (the CPU detector and CCONV_ISA).
from cpython.pycapsule cimport PyCapsule_GetPointer

cdef extern from "kernels/table.h" nogil:
    ctypedef struct ccdw_geom:
        Py_ssize_t N, H, W, C, KH, KW, sh, sw, dh, dw, pt, pl, Ho, Wo
        Py_ssize_t PD, xpd, wpd
        Py_ssize_t ah
        const void* wrot
        const void* brot
    ctypedef struct ccdp_geom:
        Py_ssize_t H, W, KH, KW, sh, sw, dh, dw, pt, pl, Ho, Wo
    ctypedef struct ccsc_geom:
        Py_ssize_t N, H, W, O, Opad, KH, KW, dh, dw, pt, pl, Ho, Wo
    ctypedef struct ccwg_geom:
        Py_ssize_t N, H, W, C, O, pt, pl, Ho, Wo, tiles_h, tiles_w
    int CCWG_ALL_ROWS
    ctypedef struct ccwg_pack:
        Py_ssize_t Cg, O, Og, groups, bsize

    ctypedef struct cck_s_kernels:
        int mr, nr, kc, mc, lanes, sc_ob, sc_lanes
        size_t (*packb_size)(int K, int N) noexcept nogil
        size_t (*abuf_size)(int K) noexcept nogil
        int (*kc_for)(int K) noexcept nogil
        void (*pack_b)(int K, int N, const float* B, Py_ssize_t rsb, Py_ssize_t csb, float* Bp) noexcept nogil
        void (*gemm)(int M, int N, int K, const float* A, Py_ssize_t rsa, Py_ssize_t csa,
                     const float* Bp, float* C, Py_ssize_t ldc, int beta, const float* bias,
                     float* abuf) noexcept nogil
        void (*gemm_indirect)(int M, int N, int nseg, int seglen, const float* const* ptrs,
                              const float* Bp, float* C, Py_ssize_t ldc, const float* bias,
                              float* abuf) noexcept nogil
        void (*dw_forward_row)(const float* x, const float* w, const float* bias, float* y,
                               const ccdw_geom* g, Py_ssize_t row) noexcept nogil
        void (*dw_grad_input_row)(const float* dy, const float* w, float* dx,
                                  const ccdw_geom* g, Py_ssize_t row) noexcept nogil
        void (*dw_grad_weight_row)(const float* x, const float* dy, float* dw, float* db,
                                   const ccdw_geom* g, Py_ssize_t row) noexcept nogil
        void (*dp_forward)(const float* x, const float* w, float b, float* y, const ccdp_geom* g) noexcept nogil
        void (*dp_grad_input)(const float* dy, const float* w, float* dx, const ccdp_geom* g) noexcept nogil
        void (*dp_grad_weight)(const float* x, const float* dy, float* dw, const ccdp_geom* g) noexcept nogil
        void (*sc_forward_row)(const float* x, const float* wpad, const float* bpad, float* y,
                               const ccsc_geom* g, Py_ssize_t row) noexcept nogil
        void (*sc_grad_weight_row)(const float* x, const float* dy, float* dwv, float* db,
                                   float* dyt, const ccsc_geom* g, Py_ssize_t row) noexcept nogil
        void (*sc_grad_input_row)(const float* dy, const float* wflip, float* dx, const ccsc_geom* g,
                                  Py_ssize_t row) noexcept nogil
        void (*wg_weight_panel)(int m, const float* w, const ccwg_pack* pk, Py_ssize_t grp,
                                Py_ssize_t jr, float* Bp) noexcept nogil
        void (*wg_input)(int m, int half, const float* x, const ccwg_geom* g, const float* zeros,
                         Py_ssize_t t0, Py_ssize_t cnt, float* V, Py_ssize_t vs) noexcept nogil
        void (*wg_output)(int m, const float* M, Py_ssize_t ms, const float* bias, float* y,
                          const ccwg_geom* g, Py_ssize_t t0, Py_ssize_t cnt) noexcept nogil
        void (*wg_grad_output)(int m, int half, const float* dy, const ccwg_geom* g, const float* zeros,
                               Py_ssize_t t0, Py_ssize_t cnt, float* E, Py_ssize_t es) noexcept nogil

    ctypedef struct cck_d_kernels:
        int mr, nr, kc, mc, lanes, sc_ob, sc_lanes
        size_t (*packb_size)(int K, int N) noexcept nogil
        size_t (*abuf_size)(int K) noexcept nogil
        int (*kc_for)(int K) noexcept nogil
        void (*pack_b)(int K, int N, const double* B, Py_ssize_t rsb, Py_ssize_t csb, double* Bp) noexcept nogil
        void (*gemm)(int M, int N, int K, const double* A, Py_ssize_t rsa, Py_ssize_t csa,
                     const double* Bp, double* C, Py_ssize_t ldc, int beta, const double* bias,
                     double* abuf) noexcept nogil
        void (*gemm_indirect)(int M, int N, int nseg, int seglen, const double* const* ptrs,
                              const double* Bp, double* C, Py_ssize_t ldc, const double* bias,
                              double* abuf) noexcept nogil
        void (*dw_forward_row)(const double* x, const double* w, const double* bias, double* y,
                               const ccdw_geom* g, Py_ssize_t row) noexcept nogil
        void (*dw_grad_input_row)(const double* dy, const double* w, double* dx,
                                  const ccdw_geom* g, Py_ssize_t row) noexcept nogil
        void (*dw_grad_weight_row)(const double* x, const double* dy, double* dw, double* db,
                                   const ccdw_geom* g, Py_ssize_t row) noexcept nogil
        void (*dp_forward)(const double* x, const double* w, double b, double* y, const ccdp_geom* g) noexcept nogil
        void (*dp_grad_input)(const double* dy, const double* w, double* dx, const ccdp_geom* g) noexcept nogil
        void (*dp_grad_weight)(const double* x, const double* dy, double* dw, const ccdp_geom* g) noexcept nogil
        void (*sc_forward_row)(const double* x, const double* wpad, const double* bpad, double* y,
                               const ccsc_geom* g, Py_ssize_t row) noexcept nogil
        void (*sc_grad_weight_row)(const double* x, const double* dy, double* dwv, double* db,
                                   double* dyt, const ccsc_geom* g, Py_ssize_t row) noexcept nogil
        void (*sc_grad_input_row)(const double* dy, const double* wflip, double* dx, const ccsc_geom* g,
                                  Py_ssize_t row) noexcept nogil
        void (*wg_weight_panel)(int m, const double* w, const ccwg_pack* pk, Py_ssize_t grp,
                                Py_ssize_t jr, double* Bp) noexcept nogil
        void (*wg_input)(int m, int half, const double* x, const ccwg_geom* g, const double* zeros,
                         Py_ssize_t t0, Py_ssize_t cnt, double* V, Py_ssize_t vs) noexcept nogil
        void (*wg_output)(int m, const double* M, Py_ssize_t ms, const double* bias, double* y,
                          const ccwg_geom* g, Py_ssize_t t0, Py_ssize_t cnt) noexcept nogil
        void (*wg_grad_output)(int m, int half, const double* dy, const ccwg_geom* g, const double* zeros,
                               Py_ssize_t t0, Py_ssize_t cnt, double* E, Py_ssize_t es) noexcept nogil

    ctypedef struct cck_row:
        int level
        const char* isa
        const char* target
        int vector_bytes
        double (*peak_loop)(int is_double, long long iters) noexcept nogil
        cck_s_kernels s
        cck_d_kernels d


cdef inline const cck_row* active_row() except NULL:
    """The row cconv._kernels chose at import (CCONV_ISA, else the best this CPU runs)."""
    from cconv._kernels import _active_row_capsule
    return <const cck_row*>PyCapsule_GetPointer(_active_row_capsule(), b"cconv._kernels.row")
