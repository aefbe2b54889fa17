#include "ckernel.h"

int ckernel_best(enum ckernel_wide wide) {
#if defined(__x86_64__)
    __builtin_cpu_init();   // __builtin_cpu_supports takes literal names only: one test per extension set
    if (__builtin_cpu_supports("avx512f")) {
        int wide_ok = 0;
        switch (wide) {
        case CKERNEL_AVX512VL: wide_ok = __builtin_cpu_supports("avx512vl"); break;
        case CKERNEL_AVX512BW: wide_ok = __builtin_cpu_supports("avx512bw"); break;
        case CKERNEL_AVX512VBMI:
            wide_ok = __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi");
            break;
        }
        if (wide_ok) return 2;
    }
    return __builtin_cpu_supports("avx2") ? 1 : 0;
#else
    (void)wide;
    return 0;
#endif
}

int ckernel_current(ckernel_choice *choice) {
    int state = __atomic_load_n(&choice->in_use, __ATOMIC_RELAXED);
    if (state < 0) {
        state = ckernel_best(choice->wide);
        __atomic_store_n(&choice->in_use, state, __ATOMIC_RELAXED);
    }
    return state;
}

void ckernel_limit(ckernel_choice *choice, int level) {
    int best = ckernel_best(choice->wide);
    __atomic_store_n(&choice->in_use, level < best ? level : best, __ATOMIC_RELAXED);
}
