//! Text form of vectors: `[1,2.5,-3e-07]`. Pure: no pgrx, so it is unit-tested
//! on its own; the SQL glue maps `LiteralError` to SQLSTATEs.

use std::fmt::Write;

/// Most dimensions a `vector` may have (pgvector's limit).
pub const MAX_DIM: usize = 16000;

#[derive(Debug, PartialEq)]
pub enum LiteralError {
    /// Not of the form `[x, y, ...]`; the detail says what was wrong, if anything specific.
    Malformed(Option<&'static str>),
    /// `[]`
    Empty,
    TooManyDimensions,
    /// A finite number too large for float4, such as `1e99`.
    OutOfRange(String),
    NaN,
    Infinite,
}

/// What Postgres' `scanner_isspace` accepts: the separators allowed around elements.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

/// A value of a vector element is acceptable when finite.
pub fn check_element(x: f32) -> Result<(), LiteralError> {
    if x.is_nan() {
        Err(LiteralError::NaN)
    } else if x.is_infinite() {
        Err(LiteralError::Infinite)
    } else {
        Ok(())
    }
}

pub fn parse_element(token: &str) -> Result<f32, LiteralError> {
    let x: f32 = token.parse().map_err(|_| LiteralError::Malformed(None))?;
    if x.is_infinite() {
        // A finite literal that rounds to infinity is a range error; a
        // spelled-out infinity is rejected like NaN.
        let spelled = token.trim_start_matches(['+', '-']).to_ascii_lowercase();
        if spelled != "inf" && spelled != "infinity" {
            return Err(LiteralError::OutOfRange(token.to_string()));
        }
    }
    check_element(x)?;
    Ok(x)
}

/// Whether a number's text is zero itself (`0`, `-0.0`, `0e5`), rather than
/// a non-zero value too small for float4.
pub fn spells_zero(token: &str) -> bool {
    let mantissa = token.split(['e', 'E']).next().unwrap_or(token);
    !mantissa.bytes().any(|c| (b'1'..=b'9').contains(&c))
}

/// Parses `[x, y, ...]`, with white space allowed around the brackets and elements.
pub fn parse(text: &str) -> Result<Vec<f32>, LiteralError> {
    let bytes = text.as_bytes();
    let mut pos = 0;
    let skip_space = |pos: &mut usize| {
        while *pos < bytes.len() && is_space(bytes[*pos]) {
            *pos += 1;
        }
    };
    skip_space(&mut pos);
    if bytes.get(pos) != Some(&b'[') {
        return Err(LiteralError::Malformed(Some(
            "Vector contents must start with \"[\".",
        )));
    }
    pos += 1;
    skip_space(&mut pos);
    if bytes.get(pos) == Some(&b']') {
        return Err(LiteralError::Empty);
    }
    let mut values = Vec::new();
    loop {
        if values.len() == MAX_DIM {
            return Err(LiteralError::TooManyDimensions);
        }
        skip_space(&mut pos);
        let start = pos;
        while pos < bytes.len() && !is_space(bytes[pos]) && bytes[pos] != b',' && bytes[pos] != b']'
        {
            pos += 1;
        }
        if start == pos {
            return Err(LiteralError::Malformed(if pos == bytes.len() {
                Some("Unexpected end of input.")
            } else {
                None
            }));
        }
        // The token is all non-space ASCII up to a delimiter, so slicing is on char boundaries
        // unless it holds multi-byte characters, which parse() rejects anyway.
        let token = text.get(start..pos).ok_or(LiteralError::Malformed(None))?;
        values.push(parse_element(token)?);
        skip_space(&mut pos);
        match bytes.get(pos) {
            Some(b',') => pos += 1,
            Some(b']') => {
                pos += 1;
                break;
            }
            None => return Err(LiteralError::Malformed(Some("Unexpected end of input."))),
            Some(_) => return Err(LiteralError::Malformed(None)),
        }
    }
    skip_space(&mut pos);
    if pos != bytes.len() {
        return Err(LiteralError::Malformed(Some(
            "Junk after closing right brace.",
        )));
    }
    Ok(values)
}

/// Appends `x` as PostgreSQL's `float4out` writes it: the shortest text that
/// reads back to the same float, in fixed notation when the decimal exponent
/// is in [-4, 6) and as `d.ddde+XX` otherwise.
pub fn write_float(out: &mut String, x: f32) {
    if x == 0.0 {
        out.push_str(if x.is_sign_negative() { "-0" } else { "0" });
        return;
    }
    if !x.is_finite() {
        out.push_str(if x.is_nan() {
            "NaN"
        } else if x > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        });
        return;
    }
    let (digits, exponent) = shortest_digits(x);
    if x < 0.0 {
        out.push('-');
    }
    if (-4..6).contains(&exponent) {
        if exponent < 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exponent - 1) as usize));
            out.push_str(&digits);
        } else {
            let whole = exponent as usize + 1;
            if digits.len() <= whole {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', whole - digits.len()));
            } else {
                let _ = write!(out, "{}.{}", &digits[..whole], &digits[whole..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            let _ = write!(out, ".{}", &digits[1..]);
        }
        let sign = if exponent < 0 { '-' } else { '+' };
        let _ = write!(out, "e{sign}{:02}", exponent.abs());
    }
}

/// The shortest significant digits that read back to |x|, and the decimal
/// exponent of the first. When two such strings are equally near (|x| lies
/// exactly halfway), the even last digit, as PostgreSQL's Ryu-based
/// float4out picks; Rust's formatting picks the upper one.
fn shortest_digits(x: f32) -> (String, i32) {
    // `{:e}` prints the shortest round-trip digits, e.g. "1.5e-7".
    let scientific = format!("{:e}", x.abs());
    let (mantissa, exponent) = scientific.split_once('e').expect("{:e} has an exponent");
    let exponent: i32 = exponent.parse().expect("{:e} exponent is an integer");
    let mut digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let last = digits.as_bytes()[digits.len() - 1];
    if digits.len() > 1 && (last - b'0') % 2 == 1 {
        // |x| as f64 is exact, and its decimal expansion ends within 120
        // places, so this prints it exactly.
        let exact = format!("{:.120e}", x.abs() as f64);
        let exact_digits: String = exact
            .split_once('e')
            .expect("has an exponent")
            .0
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        let mut lower = digits.clone();
        lower.pop();
        lower.push((last - 1) as char);
        let n = lower.len();
        let halfway = exact_digits[..n] == lower
            && exact_digits.as_bytes()[n] == b'5'
            && exact_digits[n + 1..].bytes().all(|d| d == b'0');
        if halfway {
            digits = lower;
        }
    }
    (digits, exponent)
}

/// `[x,y,...]` with no spaces, as pgvector prints vectors.
pub fn format(values: &[f32]) -> String {
    let mut out = String::with_capacity(values.len() * 10 + 2);
    out.push('[');
    for (i, &x) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_float(&mut out, x);
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn float_text(x: f32) -> String {
        let mut s = String::new();
        write_float(&mut s, x);
        s
    }

    #[test]
    fn parses_with_spaces_around_elements() {
        assert_eq!(parse("[1,2,3]").unwrap(), vec![1.0, 2.0, 3.0]);
        assert_eq!(
            parse("  [ 1 , -2.5,3e2 ]  ").unwrap(),
            vec![1.0, -2.5, 300.0]
        );
        assert_eq!(parse("[+.5,5.]").unwrap(), vec![0.5, 5.0]);
        assert_eq!(
            parse("[1e-50]").unwrap(),
            vec![0.0],
            "underflow rounds to zero, as strtof"
        );
    }

    #[test]
    fn rejects_malformed_text() {
        use LiteralError::*;
        assert_eq!(
            parse("[1,2"),
            Err(Malformed(Some("Unexpected end of input.")))
        );
        assert_eq!(
            parse("1,2]"),
            Err(Malformed(Some("Vector contents must start with \"[\".")))
        );
        assert_eq!(
            parse(""),
            Err(Malformed(Some("Vector contents must start with \"[\".")))
        );
        assert_eq!(parse("[]"), Err(Empty));
        assert_eq!(parse("[ ]"), Err(Empty));
        assert_eq!(parse("[1,,2]"), Err(Malformed(None)));
        assert_eq!(parse("[1,]"), Err(Malformed(None)));
        assert_eq!(parse("[1 2]"), Err(Malformed(None)));
        assert_eq!(
            parse("[1,2]x"),
            Err(Malformed(Some("Junk after closing right brace.")))
        );
        assert_eq!(parse("[a]"), Err(Malformed(None)));
        assert_eq!(parse("[1é]"), Err(Malformed(None)));
        assert_eq!(parse("[0x10]"), Err(Malformed(None)));
    }

    #[test]
    fn rejects_non_finite_and_out_of_range() {
        use LiteralError::*;
        assert_eq!(parse("[nan]"), Err(NaN));
        assert_eq!(parse("[NaN]"), Err(NaN));
        assert_eq!(parse("[inf]"), Err(Infinite));
        assert_eq!(parse("[-Infinity]"), Err(Infinite));
        assert_eq!(parse("[1e99]"), Err(OutOfRange("1e99".into())));
        assert_eq!(parse("[-3.5e38]"), Err(OutOfRange("-3.5e38".into())));
        assert_eq!(parse("[3.4e38]").unwrap(), vec![3.4e38]);
    }

    #[test]
    fn dimension_limit() {
        let ok = format!("[{}]", vec!["1"; MAX_DIM].join(","));
        assert_eq!(parse(&ok).unwrap().len(), MAX_DIM);
        let too_many = format!("[{}]", vec!["1"; MAX_DIM + 1].join(","));
        assert_eq!(parse(&too_many), Err(LiteralError::TooManyDimensions));
    }

    #[test]
    fn float_output_matches_float4out() {
        assert_eq!(float_text(1.0), "1");
        assert_eq!(float_text(-2.5), "-2.5");
        assert_eq!(float_text(0.1), "0.1");
        assert_eq!(float_text(0.0001), "0.0001");
        assert_eq!(float_text(0.00001), "1e-05");
        assert_eq!(float_text(123456.0), "123456");
        assert_eq!(float_text(1234567.0), "1.234567e+06");
        assert_eq!(float_text(1000000.0), "1e+06");
        assert_eq!(float_text(3.4028235e38), "3.4028235e+38");
        assert_eq!(float_text(1.4e-45), "1e-45");
        assert_eq!(float_text(-1.5e-7), "-1.5e-07");
        assert_eq!(float_text(0.0), "0");
        assert_eq!(float_text(-0.0), "-0");
        assert_eq!(float_text(1.0 / 3.0), "0.33333334");
    }

    #[test]
    fn a_float_halfway_between_two_shortest_texts_ends_in_the_even_digit() {
        // 3.30078125 (845 / 256, exact) is halfway between 3.3007812 and
        // 3.3007813, both of which read back to it; float4out prints the even
        // one. Likewise 4.33203125 (1109 / 256).
        assert_eq!(float_text(845.0 / 256.0), "3.3007812");
        assert_eq!(float_text(-845.0 / 256.0), "-3.3007812");
        assert_eq!(float_text(1109.0 / 256.0), "4.3320312");
        // Not halfway: the nearer text, odd or not.
        assert_eq!(float_text(1.099_609_4), "1.0996094");
        assert_eq!(float_text(0.1), "0.1");
        assert_eq!(float_text(123456.7), "123456.7");
        assert_eq!(float_text(1.5e-7), "1.5e-07");
        // Over a spread of all finite floats: the text reads back to the same
        // bits, and is never longer than Rust's shortest.
        for bits in (0..u32::MAX).step_by(9973) {
            let x = f32::from_bits(bits);
            if !x.is_finite() || x == 0.0 {
                continue;
            }
            let text = float_text(x);
            assert_eq!(text.parse::<f32>().unwrap().to_bits(), bits, "{text}");
            let rust: String = format!("{:e}", x.abs())
                .split('e')
                .next()
                .unwrap()
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            assert!(shortest_digits(x).0.len() == rust.len(), "{text}");
        }
    }

    #[test]
    fn output_reads_back_to_the_same_bits() {
        let mut x = 1.0e-38f32;
        while x < 3.0e38 {
            for v in [x, -x, x * 1.2345678] {
                let text = format(&[v]);
                assert_eq!(parse(&text).unwrap()[0].to_bits(), v.to_bits(), "{text}");
            }
            x *= 7.3;
        }
        assert_eq!(format(&[1.0, 2.0, 3.0]), "[1,2,3]");
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        fn config() -> ProptestConfig {
            // Failures are kept as unit tests by hand, not as files beside the source.
            ProptestConfig {
                cases: 256,
                failure_persistence: None,
                ..ProptestConfig::default()
            }
        }

        /// Every finite float4, of every magnitude.
        fn finite() -> impl Strategy<Value = f32> {
            use proptest::num::f32::*;
            POSITIVE | NEGATIVE | NORMAL | SUBNORMAL | ZERO
        }

        /// Text made of what vector literals are made of, so that most of it
        /// gets past the first bracket.
        fn vectorish() -> impl Strategy<Value = String> {
            let pieces = prop::sample::select(vec![
                "[", "]", ",", " ", "\t", "1", "-", "+", ".", "e", "E", "5", "0", "nan", "inf",
                "Infinity", "1e39", "x", "é", "{", "}",
            ]);
            proptest::collection::vec(pieces, 0..24).prop_map(|p| p.concat())
        }

        proptest! {
            #![proptest_config(config())]

            #[test]
            fn parse_never_panics_and_accepts_only_finite_vectors(text in prop_oneof![any::<String>(), vectorish()]) {
                if let Ok(values) = parse(&text) {
                    prop_assert!(!values.is_empty() && values.len() <= MAX_DIM);
                    prop_assert!(values.iter().all(|x| x.is_finite()));
                }
            }

            #[test]
            fn vector_text_round_trips(values in proptest::collection::vec(finite(), 1..40)) {
                let text = format(&values);
                let back = parse(&text).expect("formatted vectors parse");
                prop_assert_eq!(back.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), values.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), "{}", text);
            }

            #[test]
            fn halfvec_text_round_trips(bits in proptest::collection::vec(any::<u16>(), 1..40)) {
                // halfvec prints its elements widened to float4 and reads them back narrowed.
                let halves: Vec<half::f16> = bits.into_iter().map(half::f16::from_bits).filter(|h| h.is_finite()).collect();
                prop_assume!(!halves.is_empty());
                let text = format(&halves.iter().map(|h| h.to_f32()).collect::<Vec<_>>());
                let back: Vec<half::f16> = parse(&text).expect("formatted halfvecs parse").into_iter().map(half::f16::from_f32).collect();
                prop_assert_eq!(back.iter().map(|h| h.to_bits()).collect::<Vec<_>>(), halves.iter().map(|h| h.to_bits()).collect::<Vec<_>>(), "{}", text);
            }

            #[test]
            fn spaces_around_elements_do_not_change_the_value(values in proptest::collection::vec(-1e6f32..1e6, 1..10), space in prop::sample::select(vec![" ", "\t", "\n", "  \r"])) {
                let spaced = format!("{space}[{space}{}{space}]{space}", format(&values).trim_matches(['[', ']']).replace(',', &format!("{space},{space}")));
                prop_assert_eq!(parse(&spaced), Ok(values));
            }
        }
    }
}
