// Which vector kernel a C module runs: the CPU's best of AVX-512 (with the extensions the module needs), AVX2 or
// none, chosen once on first use, and lowered by tests to run each kernel against its reference. Shared by the
// vector modules (CBLAKE2b, CBase64, CChaCha20, CTextScan); Swift imports none of it.
#ifndef CKERNEL_H
#define CKERNEL_H

// The AVX-512 extensions (beyond AVX-512F) a module's level-2 kernel needs.
enum ckernel_wide { CKERNEL_AVX512VL, CKERNEL_AVX512BW, CKERNEL_AVX512VBMI };

// One module's choice: `in_use` is -1 until first asked, then the level (0 none, 1 AVX2, 2 AVX-512); read and set
// atomically (relaxed), since any thread may be the first to ask.
typedef struct {
    int in_use;
    enum ckernel_wide wide;
} ckernel_choice;

#define CKERNEL_CHOICE(wide) { -1, (wide) }

// The CPU's best level for `wide`: 2 with AVX-512F and those extensions, 1 with AVX2, else 0.
int ckernel_best(enum ckernel_wide wide);
// The level in use.
int ckernel_current(ckernel_choice *choice);
// Uses at most `level`, or the CPU's best if lower.
void ckernel_limit(ckernel_choice *choice, int level);

#endif
