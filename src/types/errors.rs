//! Every user-facing error of the vector types, each with its SQLSTATE, in
//! one place. `type_name` is the SQL type the message names.

use super::literal::{LiteralError, MAX_DIM};
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode::*;

pub fn literal_error(error: LiteralError, text: &str, type_name: &str) -> ! {
    let syntax = format!("invalid input syntax for type {type_name}: \"{text}\"");
    match error {
        LiteralError::Malformed(Some(detail)) => {
            ereport!(ERROR, ERRCODE_INVALID_TEXT_REPRESENTATION, syntax, detail);
        }
        LiteralError::Malformed(None) => {
            ereport!(ERROR, ERRCODE_INVALID_TEXT_REPRESENTATION, syntax);
        }
        LiteralError::Empty => empty_vector(type_name),
        LiteralError::TooManyDimensions => too_many_dimensions(type_name),
        LiteralError::OutOfRange(token) => out_of_range(&token, type_name),
        LiteralError::NaN => {
            ereport!(
                ERROR,
                ERRCODE_DATA_EXCEPTION,
                format!("NaN not allowed in {type_name}")
            );
        }
        LiteralError::Infinite => {
            ereport!(
                ERROR,
                ERRCODE_DATA_EXCEPTION,
                format!("infinite value not allowed in {type_name}")
            );
        }
    }
}

/// A finite value too large for the type's elements, as written.
pub fn out_of_range(value: &str, type_name: &str) -> ! {
    ereport!(
        ERROR,
        ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
        format!("\"{value}\" is out of range for type {type_name}")
    );
}

pub fn empty_vector(type_name: &str) -> ! {
    ereport!(
        ERROR,
        ERRCODE_DATA_EXCEPTION,
        format!("{type_name} must have at least 1 dimension")
    );
}

pub fn too_many_dimensions(type_name: &str) -> ! {
    ereport!(
        ERROR,
        ERRCODE_PROGRAM_LIMIT_EXCEEDED,
        format!("{type_name} cannot have more than {MAX_DIM} dimensions")
    );
}

/// Rejects a dimension count outside 1..=MAX_DIM.
pub fn check_dim(dim: usize, type_name: &str) {
    if dim == 0 {
        empty_vector(type_name);
    }
    if dim > MAX_DIM {
        too_many_dimensions(type_name);
    }
}

/// Rejects a value whose length differs from a column's declared `vector(n)`.
pub fn check_expected_dim(typmod: i32, dim: usize) {
    if typmod != -1 && typmod as usize != dim {
        ereport!(
            ERROR,
            ERRCODE_DATA_EXCEPTION,
            format!("expected {typmod} dimensions, not {dim}")
        );
    }
}

/// Operands of a binary operator must have the same length.
pub fn check_same_dims(a: usize, b: usize, type_name: &str) {
    if a != b {
        ereport!(
            ERROR,
            ERRCODE_DATA_EXCEPTION,
            format!("different {type_name} dimensions {a} and {b}")
        );
    }
}

/// Rejects a NaN or infinite element that did not come from text.
pub fn check_element(x: f32, type_name: &str) {
    if let Err(e) = super::literal::check_element(x) {
        literal_error(e, "", type_name);
    }
}

/// An arithmetic result left the element type's range.
pub fn overflow() -> ! {
    ereport!(
        ERROR,
        ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
        "value out of range: overflow"
    );
}

pub fn underflow() -> ! {
    ereport!(
        ERROR,
        ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
        "value out of range: underflow"
    );
}
