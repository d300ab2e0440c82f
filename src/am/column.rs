//! The indexed column as any index type sees it, read from the index: the
//! type its operator class takes, the metric its support functions say, its
//! declared dimensions, the filter columns after it, and how vectors are
//! stored and measured. Errors name the index's access method.

use crate::kernels;
use crate::page::{ElementWidth, Metric, StoredVector};
use crate::types::{BitArg, HalfvecArg, SparsevecArg, VectorArg};
use pgrx::pg_sys;
use pgrx::prelude::*;

/// Most dimensions an indexed `vector` or `halfvec` may have: as many as the
/// types allow. Past about 2,000 (float4) or 4,000 (float16) an element's
/// vector no longer fits a page and is stored in parts (`page::encode_parts`).
pub const MAX_DIMENSIONS: usize = crate::types::literal::MAX_DIM;
/// A bit(n) is stored packed, 8 bits to the byte.
pub const MAX_BIT_DIMENSIONS: usize = 64000;
/// Most non-zero elements of an indexed sparsevec, whatever its dimensions:
/// the index holds it packed (`kernels::sparse::pack`) in this many floats'
/// slots, `SPARSE_SLOTS`, and stores only those it uses.
pub const MAX_SPARSE_NNZ: usize = 1000;
const SPARSE_SLOTS: usize = 1 + 2 * MAX_SPARSE_NNZ;

/// The indexed type: the graph works on float4 either way; a halfvec is
/// widened when it enters the index.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum IndexedType {
    Vector,
    Halfvec,
    Bit,
    Sparsevec,
}

impl IndexedType {
    pub fn name(self) -> &'static str {
        match self {
            IndexedType::Vector => "vector",
            IndexedType::Halfvec => "halfvec",
            IndexedType::Bit => "bit",
            IndexedType::Sparsevec => "sparsevec",
        }
    }

    fn max_dimensions(self) -> usize {
        match self {
            IndexedType::Vector | IndexedType::Halfvec => MAX_DIMENSIONS,
            IndexedType::Bit => MAX_BIT_DIMENSIONS,
            IndexedType::Sparsevec => usize::MAX,
        }
    }
}

/// The indexed column: from the index's operator class and type modifier.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    pub indexed_type: IndexedType,
    pub metric: Metric,
    /// Dimensions of the vectors the index holds: a sparse vector's packed
    /// slots, whatever its declared dimensions.
    pub dimensions: usize,
    /// Key columns after the vector, whose values the index keeps (`filter`).
    pub filter_columns: usize,
    /// How the index stores vectors: a halfvec's as float16, as they came
    /// (exactly), unless the access method needs them otherwise.
    pub width: ElementWidth,
}

impl Column {
    /// Reads and validates the indexed column of `index`; errors name what is wrong.
    pub fn of(index: pg_sys::Relation) -> Column {
        let am = am_name(index);
        let filter_columns = filter_columns_of(index, &am);
        let indexed_type = indexed_type_of(index, &am);
        Column {
            indexed_type,
            metric: metric_of(index, &am),
            dimensions: if indexed_type == IndexedType::Sparsevec {
                SPARSE_SLOTS
            } else {
                dimensions_of(index, indexed_type, &am)
            },
            filter_columns,
            width: match indexed_type {
                IndexedType::Vector => ElementWidth::Float4,
                IndexedType::Halfvec => ElementWidth::Float2,
                IndexedType::Bit => ElementWidth::Bit,
                IndexedType::Sparsevec => ElementWidth::Sparse,
            },
        }
    }

    pub fn distance(&self) -> fn(&[f32], &[f32]) -> f32 {
        if self.indexed_type == IndexedType::Sparsevec {
            // Cosine's values were normalized, as for vector.
            return match self.metric {
                Metric::L1 => kernels::sparse::packed_l1,
                Metric::InnerProduct | Metric::Cosine => kernels::sparse::packed_negative_dot,
                _ => kernels::sparse::packed_l2_squared,
            };
        }
        if self.keeps_raw_cosine() {
            kernels::negative_cosine
        } else {
            distance_for(self.metric)
        }
    }

    /// What an element stores of a prepared vector: a packed sparse vector
    /// without its padding, else all of it.
    pub fn stored<'a>(&self, vector: &'a [f32]) -> &'a [f32] {
        if self.indexed_type == IndexedType::Sparsevec {
            kernels::sparse::trimmed(vector)
        } else {
            vector
        }
    }

    /// Cosine over vectors kept as they came: normalized, a halfvec's
    /// elements would be rounded to float16, and scans would hand out rows
    /// out of the order the `<=>` operator gives them.
    fn keeps_raw_cosine(&self) -> bool {
        self.metric == Metric::Cosine && self.width == ElementWidth::Float2
    }

    /// A vector as the index stores and searches it (see `prepare`).
    pub fn prepare_values(&self, values: &[f32]) -> Option<Vec<f32>> {
        if self.indexed_type == IndexedType::Sparsevec {
            if self.metric != Metric::Cosine {
                return Some(values.to_vec());
            }
            let (indices, sparse_values) = kernels::sparse::unpack(values)?;
            let norm = kernels::norm(sparse_values);
            let normalized: Vec<f32> = sparse_values
                .iter()
                .map(|&x| (x as f64 / norm) as f32)
                .collect();
            let mut packed = Vec::new();
            kernels::sparse::pack(indices, &normalized, values.len(), &mut packed);
            return (norm > 0.0).then_some(packed);
        }
        if self.keeps_raw_cosine() {
            return (kernels::norm(values) > 0.0).then(|| values.to_vec());
        }
        prepare_for(self.metric, values)
    }

    /// The elements of a non-null datum of the indexed type, as float4.
    ///
    /// # Safety
    /// `datum` must be a non-null value of the indexed type.
    pub unsafe fn values_of(&self, datum: pg_sys::Datum) -> Vec<f32> {
        // A halfvec or a bit string widens as its stored form on a page does.
        fn widened(stored: StoredVector) -> Vec<f32> {
            let mut out = Vec::new();
            stored.extend_into(&mut out);
            out
        }
        // SAFETY: the caller's promise.
        let values = unsafe {
            match self.indexed_type {
                IndexedType::Vector => VectorArg::from_datum_unchecked(datum).as_slice().to_vec(),
                IndexedType::Halfvec => widened(StoredVector::Float2(
                    HalfvecArg::from_datum_unchecked(datum).as_slice(),
                )),
                IndexedType::Bit => {
                    let bits = BitArg::from_datum_unchecked(datum);
                    widened(StoredVector::Bit(bits.bytes(), bits.len()))
                }
                IndexedType::Sparsevec => {
                    let sparse = SparsevecArg::from_datum_unchecked(datum);
                    if sparse.indices().len() > MAX_SPARSE_NNZ {
                        ereport!(
                            ERROR,
                            PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                            format!("sparsevec cannot have more than {MAX_SPARSE_NNZ} non-zero elements for hnsw index")
                        );
                    }
                    let mut packed = Vec::with_capacity(SPARSE_SLOTS);
                    kernels::sparse::pack(
                        sparse.indices(),
                        sparse.values(),
                        SPARSE_SLOTS,
                        &mut packed,
                    );
                    packed
                }
            }
        };
        values
    }

    /// A datum as the index stores and searches it: unit length for cosine.
    /// None for a vector the index leaves out (a zero vector under cosine).
    ///
    /// # Safety
    /// As `values_of`.
    pub unsafe fn prepare(&self, datum: pg_sys::Datum) -> Option<Vec<f32>> {
        // SAFETY: the caller's promise.
        let values = unsafe { self.values_of(datum) };
        if values.len() != self.dimensions {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
                format!(
                    "expected {} dimensions, not {}",
                    self.dimensions,
                    values.len()
                )
            );
        }
        self.prepare_values(&values)
    }
}

/// The name of the index's access method, for messages.
fn am_name(index: pg_sys::Relation) -> String {
    // SAFETY: an open index has its pg_class row; get_am_name returns a
    // palloc'd name, or null for a missing access method.
    unsafe {
        let name = pg_sys::get_am_name((*(*index).rd_rel).relam);
        if name.is_null() {
            "index".into()
        } else {
            std::ffi::CStr::from_ptr(name)
                .to_string_lossy()
                .into_owned()
        }
    }
}

pub fn prepare_for(metric: Metric, values: &[f32]) -> Option<Vec<f32>> {
    if metric != Metric::Cosine {
        return Some(values.to_vec());
    }
    let norm = kernels::norm(values);
    (norm > 0.0).then(|| values.iter().map(|&x| (x as f64 / norm) as f32).collect())
}

/// The distance the graph orders by: monotone in the SQL operator's value.
/// A kernel of the CPU's best instruction set, called directly.
pub fn distance_for(metric: Metric) -> fn(&[f32], &[f32]) -> f32 {
    let kernels = kernels::best();
    match metric {
        Metric::L2 => kernels.l2_squared,
        // Vectors are normalized for cosine, so -dot orders like 1 - cos.
        Metric::InnerProduct | Metric::Cosine => kernels.negative_dot,
        // Bits are held as 0.0 and 1.0: Hamming is their L1 distance.
        Metric::L1 | Metric::Hamming => kernels.l1,
        Metric::Jaccard => kernels::jaccard_of_indicators,
    }
}

/// The metric, told by the operator class's support functions.
fn metric_of(index: pg_sys::Relation, am: &str) -> Metric {
    // SAFETY: index is an open index; missing procs give InvalidOid.
    let (distance, norm) = unsafe {
        (
            pg_sys::index_getprocid(index, 1, 1),
            pg_sys::index_getprocid(index, 1, 2),
        )
    };
    let name = if distance == pg_sys::InvalidOid {
        String::new()
    } else {
        // SAFETY: a valid function OID.
        unsafe { std::ffi::CStr::from_ptr(pg_sys::get_func_name(distance)) }
            .to_string_lossy()
            .into_owned()
    };
    match (name.as_str(), norm != pg_sys::InvalidOid) {
        (
            "vector_l2_squared_distance"
            | "halfvec_l2_squared_distance"
            | "sparsevec_l2_squared_distance",
            _,
        ) => Metric::L2,
        (
            "vector_negative_inner_product"
            | "halfvec_negative_inner_product"
            | "sparsevec_negative_inner_product",
            true,
        ) => Metric::Cosine,
        (
            "vector_negative_inner_product"
            | "halfvec_negative_inner_product"
            | "sparsevec_negative_inner_product",
            false,
        ) => Metric::InnerProduct,
        ("l1_distance", _) => Metric::L1,
        ("hamming_distance", _) => Metric::Hamming,
        ("jaccard_distance", _) => Metric::Jaccard,
        _ => {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                format!("operator class support function \"{name}\" is not one {am} knows"),
                "Use vector_l2_ops, vector_ip_ops, vector_cosine_ops or vector_l1_ops, their halfvec_ classes, or bit_hamming_ops or bit_jaccard_ops."
            );
        }
    }
}

/// The index's key columns after the vector. The first column must be the
/// vector (its class has a distance function) and the others must not be.
fn filter_columns_of(index: pg_sys::Relation, am: &str) -> usize {
    // SAFETY: an open index has rd_index; missing procs give InvalidOid.
    let columns = unsafe { (*(*index).rd_index).indnkeyatts } as usize;
    let has_distance = |column: usize| {
        // SAFETY: as above; `column` is one of the index's key columns.
        let proc = unsafe { pg_sys::index_getprocid(index, column as i16, 1) };
        proc != pg_sys::InvalidOid
    };
    if !has_distance(1) {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            format!("the first column of an {am} index must be the vector"),
            format!("Put the vector first, then the filter columns: USING {am} (embedding vector_l2_ops, tenant_id).")
        );
    }
    if let Some(column) = (2..=columns).find(|&c| has_distance(c)) {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            format!("{am} index column {column} is a second vector"),
            format!("An {am} index orders by one vector, its first column; the columns after it are filter columns.")
        );
    }
    columns - 1
}

/// The type the operator class takes, told by its name.
fn indexed_type_of(index: pg_sys::Relation, am: &str) -> IndexedType {
    // SAFETY: an open index has an operator class input type per column;
    // format_type_be returns a palloc'd name, qualified if not on search_path.
    let name = unsafe {
        let oid = *(*index).rd_opcintype;
        std::ffi::CStr::from_ptr(pg_sys::format_type_be(oid))
            .to_string_lossy()
            .into_owned()
    };
    match name.rsplit('.').next() {
        Some("vector") => IndexedType::Vector,
        Some("halfvec") => IndexedType::Halfvec,
        Some("bit") => IndexedType::Bit,
        Some("sparsevec") => IndexedType::Sparsevec,
        _ => {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                format!("{am} does not index type {name}")
            );
        }
    }
}

/// The indexed column's declared dimensions.
fn dimensions_of(index: pg_sys::Relation, indexed_type: IndexedType, am: &str) -> usize {
    // SAFETY: an index has at least one attribute.
    let typmod = unsafe { (*(*(*index).rd_att).attrs.as_ptr()).atttypmod };
    if typmod < 0 {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "column does not have dimensions",
            "Declare the column as vector(n), or index an expression such as (embedding::vector(384))."
        );
    }
    let most = indexed_type.max_dimensions();
    if typmod as usize > most {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            format!("column cannot have more than {most} dimensions for {am} index"),
            format!("The column has {typmod} dimensions.")
        );
    }
    typmod as usize
}
