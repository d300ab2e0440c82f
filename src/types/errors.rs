//! Every user-facing error of the vector types, each with its SQLSTATE, in one place.

use super::literal::{LiteralError, MAX_DIM};
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode::*;

pub fn literal_error(error: LiteralError, text: &str) -> ! {
    let syntax = format!("invalid input syntax for type vector: \"{text}\"");
    match error {
        LiteralError::Malformed(Some(detail)) => {
            ereport!(ERROR, ERRCODE_INVALID_TEXT_REPRESENTATION, syntax, detail);
        }
        LiteralError::Malformed(None) => {
            ereport!(ERROR, ERRCODE_INVALID_TEXT_REPRESENTATION, syntax);
        }
        LiteralError::Empty => empty_vector(),
        LiteralError::TooManyDimensions => too_many_dimensions(),
        LiteralError::OutOfRange(token) => {
            ereport!(
                ERROR,
                ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                format!("\"{token}\" is out of range for type vector")
            );
        }
        LiteralError::NaN => {
            ereport!(ERROR, ERRCODE_DATA_EXCEPTION, "NaN not allowed in vector");
        }
        LiteralError::Infinite => {
            ereport!(ERROR, ERRCODE_DATA_EXCEPTION, "infinite value not allowed in vector");
        }
    }
}

pub fn empty_vector() -> ! {
    ereport!(ERROR, ERRCODE_DATA_EXCEPTION, "vector must have at least 1 dimension");
}

pub fn too_many_dimensions() -> ! {
    ereport!(
        ERROR,
        ERRCODE_PROGRAM_LIMIT_EXCEEDED,
        format!("vector cannot have more than {MAX_DIM} dimensions")
    );
}

/// Rejects a dimension count outside 1..=MAX_DIM.
pub fn check_dim(dim: usize) {
    if dim == 0 {
        empty_vector();
    }
    if dim > MAX_DIM {
        too_many_dimensions();
    }
}

/// Rejects a vector whose length differs from a column's declared `vector(n)`.
pub fn check_expected_dim(typmod: i32, dim: usize) {
    if typmod != -1 && typmod as usize != dim {
        ereport!(ERROR, ERRCODE_DATA_EXCEPTION, format!("expected {typmod} dimensions, not {dim}"));
    }
}

/// Operands of a binary vector operator must have the same length.
pub fn check_same_dims(a: usize, b: usize) {
    if a != b {
        ereport!(ERROR, ERRCODE_DATA_EXCEPTION, format!("different vector dimensions {a} and {b}"));
    }
}

/// Rejects a NaN or infinite element that did not come from text.
pub fn check_element(x: f32) {
    if let Err(e) = super::literal::check_element(x) {
        literal_error(e, "");
    }
}

/// An arithmetic result left float4's range.
pub fn overflow() -> ! {
    ereport!(ERROR, ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, "value out of range: overflow");
}

pub fn underflow() -> ! {
    ereport!(ERROR, ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, "value out of range: underflow");
}
