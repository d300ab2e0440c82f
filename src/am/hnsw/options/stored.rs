//! The index options as `amoptions` stores them (the struct PostgreSQL's
//! `build_reloptions` fills in, which the relcache keeps as `rd_options`),
//! read from bytes. Pure: no pgrx, so it is fuzzed on its own.

/// Offsets of the fields in the stored struct (`options::Options`, checked
/// against it at compile time): a varlena header, then m, ef_construction
/// and neighbor_codes.
pub const M_AT: usize = 4;
pub const EF_CONSTRUCTION_AT: usize = 8;
pub const NEIGHBOR_CODES_AT: usize = 12;
pub const SIZE: usize = 16;

/// (m, ef_construction, neighbor_codes), with `defaults` for an index
/// without stored options (None) and for fields past the end of `bytes`.
pub fn decode(bytes: Option<&[u8]>, defaults: (usize, usize, bool)) -> (usize, usize, bool) {
    let Some(bytes) = bytes else { return defaults };
    let int = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|b| i32::from_ne_bytes(b.try_into().expect("4 bytes")))
    };
    (
        // PostgreSQL checked the range when it parsed WITH (...); the cast is what reading the struct did.
        int(M_AT).map_or(defaults.0, |m| m as usize),
        int(EF_CONSTRUCTION_AT).map_or(defaults.1, |ef| ef as usize),
        bytes.get(NEIGHBOR_CODES_AT).map_or(defaults.2, |&b| b != 0),
    )
}

/// The bytes `decode` reads back, laid out as `build_reloptions` fills them.
pub fn encode(m: i32, ef_construction: i32, neighbor_codes: bool) -> [u8; SIZE] {
    let mut out = [0u8; SIZE];
    out[..4].copy_from_slice(&((SIZE as u32) << 2).to_ne_bytes());
    out[M_AT..M_AT + 4].copy_from_slice(&m.to_ne_bytes());
    out[EF_CONSTRUCTION_AT..EF_CONSTRUCTION_AT + 4].copy_from_slice(&ef_construction.to_ne_bytes());
    out[NEIGHBOR_CODES_AT] = neighbor_codes as u8;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DEFAULTS: (usize, usize, bool) = (16, 64, false);

    #[test]
    fn no_options_read_as_the_defaults() {
        assert_eq!(decode(None, DEFAULTS), DEFAULTS);
        assert_eq!(decode(Some(&[]), DEFAULTS), DEFAULTS);
        assert_eq!(
            decode(Some(&encode(8, 100, true)[..8]), DEFAULTS),
            (8, 64, false)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn options_round_trip(m in 2i32..=100, ef in 4i32..=1000, codes in any::<bool>()) {
            prop_assert_eq!(decode(Some(&encode(m, ef, codes)), DEFAULTS), (m as usize, ef as usize, codes));
        }

        #[test]
        fn any_bytes_decode_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..32)) {
            let (m, ef, _) = decode(Some(&bytes), DEFAULTS);
            if bytes.len() < M_AT + 4 {
                prop_assert_eq!(m, DEFAULTS.0);
            }
            if bytes.len() < EF_CONSTRUCTION_AT + 4 {
                prop_assert_eq!(ef, DEFAULTS.1);
            }
        }
    }
}
