//! x86-64 SIMD kernels. Each is compiled for its instruction set with
//! `#[target_feature]` and only called after runtime detection, so one binary
//! runs on any x86-64 CPU.

use std::arch::x86_64::*;

/// Horizontal sum of 8 lanes. Safe to call from code compiled with AVX2
/// (target_feature 1.1): it touches no memory.
#[target_feature(enable = "avx2")]
fn hsum256(v: __m256) -> f32 {
    let hi = _mm256_extractf128_ps(v, 1);
    let lo = _mm256_castps256_ps128(v);
    let s = _mm_add_ps(lo, hi);
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 0b01));
    _mm_cvtss_f32(s)
}

/// The abs() of 8 lanes: clear the sign bit.
#[target_feature(enable = "avx2")]
fn abs256(v: __m256) -> __m256 {
    _mm256_andnot_ps(_mm256_set1_ps(-0.0), v)
}

/// # Safety
///
/// The CPU must support AVX2 and FMA (checked at runtime by the caller's
/// dispatch, `kernels::supported`). Nothing else: it reads only the first
/// min(a.len(), b.len()) elements of each slice.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn l2_squared_avx2(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: the caller guarantees AVX2 and FMA. Every load reads lanes
    // [i, i + 8) or [i, i + 16) only after checking they end at or before n,
    // and the scalar tail reads i < n; n is at most either slice's length.
    unsafe {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc0 = _mm256_setzero_ps();
        let mut acc1 = _mm256_setzero_ps();
        let mut i = 0;
        while i + 16 <= n {
            let d0 = _mm256_sub_ps(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)));
            let d1 = _mm256_sub_ps(
                _mm256_loadu_ps(pa.add(i + 8)),
                _mm256_loadu_ps(pb.add(i + 8)),
            );
            acc0 = _mm256_fmadd_ps(d0, d0, acc0);
            acc1 = _mm256_fmadd_ps(d1, d1, acc1);
            i += 16;
        }
        if i + 8 <= n {
            let d = _mm256_sub_ps(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)));
            acc0 = _mm256_fmadd_ps(d, d, acc0);
            i += 8;
        }
        let mut sum = hsum256(_mm256_add_ps(acc0, acc1));
        while i < n {
            let d = *pa.add(i) - *pb.add(i);
            sum += d * d;
            i += 1;
        }
        sum
    }
}

/// # Safety
///
/// The CPU must support AVX2 and FMA (checked at runtime by the caller's
/// dispatch, `kernels::supported`). Nothing else: it reads only the first
/// min(a.len(), b.len()) elements of each slice.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: the caller guarantees AVX2 and FMA. Every load reads lanes
    // [i, i + 8) or [i, i + 16) only after checking they end at or before n,
    // and the scalar tail reads i < n; n is at most either slice's length.
    unsafe {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc0 = _mm256_setzero_ps();
        let mut acc1 = _mm256_setzero_ps();
        let mut i = 0;
        while i + 16 <= n {
            acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)), acc0);
            acc1 = _mm256_fmadd_ps(
                _mm256_loadu_ps(pa.add(i + 8)),
                _mm256_loadu_ps(pb.add(i + 8)),
                acc1,
            );
            i += 16;
        }
        if i + 8 <= n {
            acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)), acc0);
            i += 8;
        }
        let mut sum = hsum256(_mm256_add_ps(acc0, acc1));
        while i < n {
            sum += *pa.add(i) * *pb.add(i);
            i += 1;
        }
        sum
    }
}

/// # Safety
///
/// The CPU must support AVX2 and FMA (checked at runtime by the caller's
/// dispatch, `kernels::supported`). Nothing else: it reads only the first
/// min(a.len(), b.len()) elements of each slice.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn l1_avx2(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: the caller guarantees AVX2 and FMA. Every load reads lanes
    // [i, i + 8) or [i, i + 16) only after checking they end at or before n,
    // and the scalar tail reads i < n; n is at most either slice's length.
    unsafe {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = _mm256_setzero_ps();
        let mut i = 0;
        while i + 8 <= n {
            let d = _mm256_sub_ps(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)));
            acc = _mm256_add_ps(acc, abs256(d));
            i += 8;
        }
        let mut sum = hsum256(acc);
        while i < n {
            sum += (*pa.add(i) - *pb.add(i)).abs();
            i += 1;
        }
        sum
    }
}

/// # Safety
///
/// The CPU must support AVX2 and FMA (checked at runtime by the caller's
/// dispatch, `kernels::supported`). Nothing else: it reads only the first
/// min(a.len(), b.len()) elements of each slice.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn cosine_parts_avx2(a: &[f32], b: &[f32]) -> (f32, f32, f32) {
    // SAFETY: the caller guarantees AVX2 and FMA. Every load reads lanes
    // [i, i + 8) or [i, i + 16) only after checking they end at or before n,
    // and the scalar tail reads i < n; n is at most either slice's length.
    unsafe {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut ab = _mm256_setzero_ps();
        let mut aa = _mm256_setzero_ps();
        let mut bb = _mm256_setzero_ps();
        let mut i = 0;
        while i + 8 <= n {
            let x = _mm256_loadu_ps(pa.add(i));
            let y = _mm256_loadu_ps(pb.add(i));
            ab = _mm256_fmadd_ps(x, y, ab);
            aa = _mm256_fmadd_ps(x, x, aa);
            bb = _mm256_fmadd_ps(y, y, bb);
            i += 8;
        }
        let (mut sab, mut saa, mut sbb) = (hsum256(ab), hsum256(aa), hsum256(bb));
        while i < n {
            let (x, y) = (*pa.add(i), *pb.add(i));
            sab += x * y;
            saa += x * x;
            sbb += y * y;
            i += 1;
        }
        (sab, saa, sbb)
    }
}

/// Lanes [0, remaining) of a 16-lane mask.
#[inline(always)]
fn tail_mask(remaining: usize) -> __mmask16 {
    ((1u32 << remaining) - 1) as __mmask16
}

/// # Safety
///
/// The CPU must support AVX-512F (checked at runtime by the caller's
/// dispatch, `kernels::supported`). Nothing else: it reads only the first
/// min(a.len(), b.len()) elements of each slice.
#[target_feature(enable = "avx512f")]
pub unsafe fn l2_squared_avx512(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: the caller guarantees AVX-512F. Full loads read [i, i + 16)
    // only when i + 16 <= n; the tail's masked loads enable only lanes below
    // n (masked-off lanes are not accessed and cannot fault); n is at most
    // either slice's length.
    unsafe {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = _mm512_setzero_ps();
        let mut i = 0;
        while i + 16 <= n {
            let d = _mm512_sub_ps(_mm512_loadu_ps(pa.add(i)), _mm512_loadu_ps(pb.add(i)));
            acc = _mm512_fmadd_ps(d, d, acc);
            i += 16;
        }
        if i < n {
            let m = tail_mask(n - i);
            let d = _mm512_sub_ps(
                _mm512_maskz_loadu_ps(m, pa.add(i)),
                _mm512_maskz_loadu_ps(m, pb.add(i)),
            );
            acc = _mm512_fmadd_ps(d, d, acc);
        }
        _mm512_reduce_add_ps(acc)
    }
}

/// # Safety
///
/// The CPU must support AVX-512F (checked at runtime by the caller's
/// dispatch, `kernels::supported`). Nothing else: it reads only the first
/// min(a.len(), b.len()) elements of each slice.
#[target_feature(enable = "avx512f")]
pub unsafe fn dot_avx512(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: the caller guarantees AVX-512F. Full loads read [i, i + 16)
    // only when i + 16 <= n; the tail's masked loads enable only lanes below
    // n (masked-off lanes are not accessed and cannot fault); n is at most
    // either slice's length.
    unsafe {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = _mm512_setzero_ps();
        let mut i = 0;
        while i + 16 <= n {
            acc = _mm512_fmadd_ps(_mm512_loadu_ps(pa.add(i)), _mm512_loadu_ps(pb.add(i)), acc);
            i += 16;
        }
        if i < n {
            let m = tail_mask(n - i);
            acc = _mm512_fmadd_ps(
                _mm512_maskz_loadu_ps(m, pa.add(i)),
                _mm512_maskz_loadu_ps(m, pb.add(i)),
                acc,
            );
        }
        _mm512_reduce_add_ps(acc)
    }
}

/// # Safety
///
/// The CPU must support AVX-512F (checked at runtime by the caller's
/// dispatch, `kernels::supported`). Nothing else: it reads only the first
/// min(a.len(), b.len()) elements of each slice.
#[target_feature(enable = "avx512f")]
pub unsafe fn l1_avx512(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: the caller guarantees AVX-512F. Full loads read [i, i + 16)
    // only when i + 16 <= n; the tail's masked loads enable only lanes below
    // n (masked-off lanes are not accessed and cannot fault); n is at most
    // either slice's length.
    unsafe {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = _mm512_setzero_ps();
        let mut i = 0;
        while i + 16 <= n {
            let d = _mm512_sub_ps(_mm512_loadu_ps(pa.add(i)), _mm512_loadu_ps(pb.add(i)));
            acc = _mm512_add_ps(acc, _mm512_abs_ps(d));
            i += 16;
        }
        if i < n {
            let m = tail_mask(n - i);
            let d = _mm512_sub_ps(
                _mm512_maskz_loadu_ps(m, pa.add(i)),
                _mm512_maskz_loadu_ps(m, pb.add(i)),
            );
            acc = _mm512_add_ps(acc, _mm512_abs_ps(d));
        }
        _mm512_reduce_add_ps(acc)
    }
}

/// # Safety
///
/// The CPU must support AVX-512F (checked at runtime by the caller's
/// dispatch, `kernels::supported`). Nothing else: it reads only the first
/// min(a.len(), b.len()) elements of each slice.
#[target_feature(enable = "avx512f")]
pub unsafe fn cosine_parts_avx512(a: &[f32], b: &[f32]) -> (f32, f32, f32) {
    // SAFETY: the caller guarantees AVX-512F. Full loads read [i, i + 16)
    // only when i + 16 <= n; the tail's masked loads enable only lanes below
    // n (masked-off lanes are not accessed and cannot fault); n is at most
    // either slice's length.
    unsafe {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut ab = _mm512_setzero_ps();
        let mut aa = _mm512_setzero_ps();
        let mut bb = _mm512_setzero_ps();
        let mut i = 0;
        while i < n {
            let m = if i + 16 <= n {
                0xFFFF
            } else {
                tail_mask(n - i)
            };
            let x = _mm512_maskz_loadu_ps(m, pa.add(i));
            let y = _mm512_maskz_loadu_ps(m, pb.add(i));
            ab = _mm512_fmadd_ps(x, y, ab);
            aa = _mm512_fmadd_ps(x, x, aa);
            bb = _mm512_fmadd_ps(y, y, bb);
            i += 16;
        }
        (
            _mm512_reduce_add_ps(ab),
            _mm512_reduce_add_ps(aa),
            _mm512_reduce_add_ps(bb),
        )
    }
}
