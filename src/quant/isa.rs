//! Which instruction set the code sums run on: picked once per process from
//! what the CPU has. Private to `quant`, so no caller can ask for SIMD the
//! CPU lacks.

/// Instruction sets the code sums come in, picked once per process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CodeIsa {
    Scalar,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

/// Every instruction set this CPU runs the code sums with, best last.
pub(super) fn supported_isas() -> Vec<CodeIsa> {
    #[allow(unused_mut)]
    let mut isas = vec![CodeIsa::Scalar];
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            isas.push(CodeIsa::Avx2);
            if is_x86_feature_detected!("avx512f") {
                isas.push(CodeIsa::Avx512);
            }
        }
    }
    isas
}

pub(super) fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    return best_isa() == CodeIsa::Avx512;
    #[cfg(not(target_arch = "x86_64"))]
    false
}

pub(super) fn best_isa() -> CodeIsa {
    static BEST: std::sync::OnceLock<CodeIsa> = std::sync::OnceLock::new();
    *BEST.get_or_init(|| *supported_isas().last().expect("scalar is always supported"))
}
