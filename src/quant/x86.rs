//! x86-64 SIMD kernels for scalar codes: the sums of `scalar::ScalarQuery::estimate`
//! over 8-bit and 4-bit codes. Compiled per instruction set and only called
//! after runtime detection, like `x86.rs`.

use std::arch::x86_64::*;

/// What one sum computes per dimension, from the query's target t and
/// weight w and the code's level c: w(t-c)², t·c, or w|t-c|.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Term {
    WeightedSquare,
    Product,
    WeightedAbsolute,
}

/// Safe to call from code compiled with AVX2 (target_feature 1.1): it
/// touches no memory, like `term256` and `term512`.
#[target_feature(enable = "avx2")]
fn hsum256(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 0b01)))
}

#[target_feature(enable = "avx2,fma")]
fn term256(term: Term, t: __m256, w: __m256, c: __m256, acc: __m256) -> __m256 {
    match term {
        Term::WeightedSquare => {
            let d = _mm256_sub_ps(t, c);
            _mm256_fmadd_ps(_mm256_mul_ps(w, d), d, acc)
        }
        Term::Product => _mm256_fmadd_ps(t, c, acc),
        Term::WeightedAbsolute => {
            let d = _mm256_andnot_ps(_mm256_set1_ps(-0.0), _mm256_sub_ps(t, c));
            _mm256_fmadd_ps(w, d, acc)
        }
    }
}

/// 16 levels of a 4-bit code, from 8 bytes, as 16 bytes in dimension order:
/// byte j holds dimension 2j in its low nibble and 2j+1 in its high one.
///
/// # Safety
///
/// The CPU must support AVX2, and `code` must be valid for reading 8 bytes
/// (no alignment needed).
#[target_feature(enable = "avx2")]
unsafe fn unpack_nibbles(code: *const u8) -> __m128i {
    // SAFETY: the caller guarantees 8 readable bytes at `code`; the load is unaligned.
    let words = _mm_cvtepu8_epi16(unsafe { _mm_loadl_epi64(code.cast()) });
    let low = _mm_and_si128(words, _mm_set1_epi16(0x0F));
    let high = _mm_and_si128(_mm_srli_epi16(words, 4), _mm_set1_epi16(0x0F));
    _mm_or_si128(low, _mm_slli_epi16(high, 8))
}

/// The sum of `term` over every dimension; `tail` gives the scalar tail.
///
/// # Safety
///
/// The CPU must support AVX2 and FMA (checked at runtime by the caller's
/// dispatch, `isa::supported_isas`). `bits` must be 4 or 8, and `code` must
/// hold at least `scalar::code_bytes(target.len(), bits)` bytes; unless `term`
/// is `Product`, `weight` must be at least as long as `target`.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn sum_avx2(
    term: Term,
    bits: u8,
    target: &[f32],
    weight: &[f32],
    code: &[u8],
    tail: impl Fn(usize) -> f32,
) -> f32 {
    // SAFETY: the caller guarantees AVX2 and FMA. Vector loads cover dimensions
    // [i, i + 16) only when i + 16 <= n = target.len(), so the loads of
    // `target` and (for terms that use it) `weight` stay in bounds; 8-bit codes
    // read bytes [i, i + 16) and 4-bit codes bytes [i / 2, (i + 16) / 2),
    // both within the code_bytes(n, bits) bytes the caller guarantees.
    unsafe {
        let n = target.len();
        let (pt, pw, pc) = (target.as_ptr(), weight.as_ptr(), code.as_ptr());
        // Product needs no weights; they may be absent.
        let weight_at = |i: usize| {
            if term == Term::Product {
                _mm256_setzero_ps()
            } else {
                _mm256_loadu_ps(pw.add(i))
            }
        };
        let (mut acc0, mut acc1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
        let mut i = 0;
        while i + 16 <= n {
            let bytes = if bits == 8 {
                _mm_loadu_si128(pc.add(i).cast())
            } else {
                unpack_nibbles(pc.add(i / 2))
            };
            let c0 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));
            let c1 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(bytes, 8)));
            acc0 = term256(term, _mm256_loadu_ps(pt.add(i)), weight_at(i), c0, acc0);
            acc1 = term256(
                term,
                _mm256_loadu_ps(pt.add(i + 8)),
                weight_at(i + 8),
                c1,
                acc1,
            );
            i += 16;
        }
        let mut sum = hsum256(_mm256_add_ps(acc0, acc1));
        while i < n {
            sum += tail(i);
            i += 1;
        }
        sum
    }
}

#[target_feature(enable = "avx512f")]
fn term512(term: Term, t: __m512, w: __m512, c: __m512, acc: __m512) -> __m512 {
    match term {
        Term::WeightedSquare => {
            let d = _mm512_sub_ps(t, c);
            _mm512_fmadd_ps(_mm512_mul_ps(w, d), d, acc)
        }
        Term::Product => _mm512_fmadd_ps(t, c, acc),
        Term::WeightedAbsolute => _mm512_fmadd_ps(w, _mm512_abs_ps(_mm512_sub_ps(t, c)), acc),
    }
}

/// `sum_avx2` with 512-bit vectors.
///
/// # Safety
///
/// As `sum_avx2`, but the CPU must support AVX-512F and AVX2.
#[target_feature(enable = "avx512f,avx2")]
pub unsafe fn sum_avx512(
    term: Term,
    bits: u8,
    target: &[f32],
    weight: &[f32],
    code: &[u8],
    tail: impl Fn(usize) -> f32,
) -> f32 {
    // SAFETY: the caller guarantees AVX-512F and AVX2. A step of 32 (or 16)
    // dimensions from i runs only while i + 32 (or 16) <= n = target.len(),
    // so its loads of `target` and (for terms that use it) `weight` stay in
    // bounds; 8-bit codes read the same range of bytes and 4-bit codes half
    // of it from i / 2, within the code_bytes(n, bits) the caller guarantees.
    unsafe {
        let n = target.len();
        let (pt, pw, pc) = (target.as_ptr(), weight.as_ptr(), code.as_ptr());
        let weight_at = |i: usize| {
            if term == Term::Product {
                _mm512_setzero_ps()
            } else {
                _mm512_loadu_ps(pw.add(i))
            }
        };
        let (mut acc0, mut acc1) = (_mm512_setzero_ps(), _mm512_setzero_ps());
        let mut i = 0;
        while i + 32 <= n {
            let (b0, b1) = if bits == 8 {
                (
                    _mm_loadu_si128(pc.add(i).cast()),
                    _mm_loadu_si128(pc.add(i + 16).cast()),
                )
            } else {
                (
                    unpack_nibbles(pc.add(i / 2)),
                    unpack_nibbles(pc.add(i / 2 + 8)),
                )
            };
            acc0 = term512(
                term,
                _mm512_loadu_ps(pt.add(i)),
                weight_at(i),
                _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(b0)),
                acc0,
            );
            acc1 = term512(
                term,
                _mm512_loadu_ps(pt.add(i + 16)),
                weight_at(i + 16),
                _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(b1)),
                acc1,
            );
            i += 32;
        }
        if i + 16 <= n {
            let b = if bits == 8 {
                _mm_loadu_si128(pc.add(i).cast())
            } else {
                unpack_nibbles(pc.add(i / 2))
            };
            acc0 = term512(
                term,
                _mm512_loadu_ps(pt.add(i)),
                weight_at(i),
                _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(b)),
                acc0,
            );
            i += 16;
        }
        let mut sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
        while i < n {
            sum += tail(i);
            i += 1;
        }
        sum
    }
}

/// The sum of `values[i]` over the set bits i of `bits` (bit i is bit i % 8
/// of byte i / 8): one masked add per 16 bits.
///
/// # Safety
///
/// The CPU must support AVX-512F, and `values` must hold 16 per two bytes of
/// `bits`, rounded up (bits.len().div_ceil(2) * 16), so the last load stays
/// in bounds.
#[target_feature(enable = "avx512f")]
pub unsafe fn masked_sum_avx512(values: &[f32], bits: &[u8]) -> f32 {
    debug_assert!(values.len() >= bits.len().div_ceil(2) * 16);
    let mut acc = _mm512_setzero_ps();
    let mut pairs = bits.chunks_exact(2);
    let mut at = 0;
    for pair in &mut pairs {
        let mask = u16::from_le_bytes([pair[0], pair[1]]);
        // SAFETY: pair k loads values [16k, 16k + 16), within the caller's
        // bits.len().div_ceil(2) * 16.
        let v = unsafe { _mm512_loadu_ps(values.as_ptr().add(at)) };
        acc = _mm512_mask_add_ps(acc, mask, acc, v);
        at += 16;
    }
    if let [last] = pairs.remainder() {
        // SAFETY: an odd last byte rounds up to one more 16 values, which the
        // caller's length includes.
        let v = unsafe { _mm512_loadu_ps(values.as_ptr().add(at)) };
        acc = _mm512_mask_add_ps(acc, *last as u16, acc, v);
    }
    _mm512_reduce_add_ps(acc)
}
