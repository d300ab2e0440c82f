//! pgrx: the index access methods, one folder each (`hnsw/`, `ivfflat/`),
//! over what they share: the description of the indexed column read from
//! the index (type, metric, dimensions, filter columns) and the filter
//! columns' values (`filter.rs`). Each callback is short and delegates to the
//! pure algorithms and to `storage/` (pages).

pub mod filter;
pub mod hnsw;
mod ivfflat;

use crate::hnsw::Params;
use crate::kernels;
use crate::page::{ElementWidth, HeapTid, Meta, Metric, StoredVector};
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

/// What an index is: from its operator class, column type modifier and options.
#[derive(Clone, Copy)]
pub struct IndexSpec {
    pub indexed_type: IndexedType,
    pub metric: Metric,
    pub dimensions: usize,
    pub params: Params,
    /// `WITH (neighbor_codes = on)`: codes of the layer-0 neighbors in each list.
    pub neighbor_codes: bool,
    /// Key columns after the vector, whose values elements keep (`filter`).
    pub filter_columns: usize,
}

impl IndexSpec {
    /// Reads and validates the spec of `index`; errors name what is wrong.
    pub fn of(index: pg_sys::Relation) -> IndexSpec {
        let (m, ef_construction, neighbor_codes) = hnsw::options::index_options(index);
        if ef_construction < 2 * m {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                "ef_construction must be greater than or equal to 2 * m",
                format!(
                    "m = {m} needs ef_construction >= {}; it is {ef_construction}.",
                    2 * m
                )
            );
        }
        let filter_columns = filter_columns_of(index);
        let indexed_type = indexed_type_of(index);
        if matches!(indexed_type, IndexedType::Bit | IndexedType::Sparsevec) && neighbor_codes {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                format!(
                    "neighbor_codes is not supported for {}",
                    indexed_type.name()
                ),
                "Codes are for dense vectors; a bit string or a sparse vector is already compact."
            );
        }
        IndexSpec {
            indexed_type,
            metric: metric_of(index),
            // A sparse vector's dimensions may be any; the index holds its packed slots.
            dimensions: if indexed_type == IndexedType::Sparsevec {
                SPARSE_SLOTS
            } else {
                dimensions_of(index, indexed_type)
            },
            params: Params { m, ef_construction },
            neighbor_codes,
            filter_columns,
        }
    }

    /// The spec, read once per relcache entry: kept in rd_amcache, which
    /// Postgres frees when the index's relcache entry is rebuilt (for example
    /// after ALTER INDEX ... SET), so a changed index is read again.
    // `index` is an open relation: see `crate::storage`.
    #[allow(clippy::not_unsafe_ptr_arg_deref)]
    pub fn cached(index: pg_sys::Relation) -> IndexSpec {
        // SAFETY: `index` is open. rd_amcache belongs to the index's access
        // method, us: null, or the IndexSpec we put there. rd_indexcxt lives
        // as long as the relcache entry, and MemoryContextAlloc's MAXALIGN
        // suits IndexSpec (plain Copy data, no Drop).
        unsafe {
            if (*index).rd_amcache.is_null() {
                let spec = Self::of(index);
                let slot = pg_sys::MemoryContextAlloc(
                    (*index).rd_indexcxt,
                    std::mem::size_of::<IndexSpec>(),
                )
                .cast::<IndexSpec>();
                slot.write(spec);
                (*index).rd_amcache = slot.cast();
            }
            *(*index).rd_amcache.cast::<IndexSpec>()
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

    /// How elements store vectors: a halfvec's as float16, as they came
    /// (exactly), except under cosine with neighbor codes, whose codes are
    /// of normalized vectors.
    pub fn element_width(&self) -> ElementWidth {
        match self.indexed_type {
            IndexedType::Halfvec if !(self.metric == Metric::Cosine && self.neighbor_codes) => {
                ElementWidth::Float2
            }
            IndexedType::Bit => ElementWidth::Bit,
            IndexedType::Sparsevec => ElementWidth::Sparse,
            _ => ElementWidth::Float4,
        }
    }

    /// Cosine over vectors kept as they came: normalized, a halfvec's
    /// elements would be rounded to float16, and scans would hand out rows
    /// out of the order the `<=>` operator gives them.
    fn keeps_raw_cosine(&self) -> bool {
        self.metric == Metric::Cosine && self.element_width() == ElementWidth::Float2
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
fn metric_of(index: pg_sys::Relation) -> Metric {
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
                format!("operator class support function \"{name}\" is not one hnsw knows"),
                "Use vector_l2_ops, vector_ip_ops, vector_cosine_ops or vector_l1_ops, their halfvec_ classes, or bit_hamming_ops or bit_jaccard_ops."
            );
        }
    }
}

/// The index's key columns after the vector. The first column must be the
/// vector (its class has a distance function) and the others must not be.
fn filter_columns_of(index: pg_sys::Relation) -> usize {
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
            "the first column of an hnsw index must be the vector",
            "Put the vector first, then the filter columns: USING hnsw (embedding vector_l2_ops, tenant_id)."
        );
    }
    if let Some(column) = (2..=columns).find(|&c| has_distance(c)) {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            format!("hnsw index column {column} is a second vector"),
            "An hnsw index orders by one vector, its first column; the columns after it are filter columns."
        );
    }
    columns - 1
}

/// The type the operator class takes, told by its name.
fn indexed_type_of(index: pg_sys::Relation) -> IndexedType {
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
                format!("hnsw does not index type {name}")
            );
        }
    }
}

/// The indexed column's declared dimensions.
fn dimensions_of(index: pg_sys::Relation, indexed_type: IndexedType) -> usize {
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
            format!("column cannot have more than {most} dimensions for hnsw index"),
            format!("The column has {typmod} dimensions.")
        );
    }
    typmod as usize
}

impl IndexSpec {
    /// The meta data of this index with nothing in it yet.
    pub fn empty_meta(&self) -> Meta {
        Meta::empty(
            self.dimensions as u32,
            self.params.m as u16,
            self.params.ef_construction as u16,
            self.metric,
        )
    }
}

/// A TID Postgres passed in, packed.
///
/// # Safety
/// `tid` must point to a valid ItemPointerData (as callbacks' TIDs do).
pub unsafe fn heap_tid(tid: pg_sys::ItemPointer) -> HeapTid {
    // SAFETY: the caller's promise.
    let (block, offset) = pgrx::itemptr::item_pointer_get_both(unsafe { *tid });
    HeapTid::new(block, offset)
}

pub fn set_item_pointer(target: &mut pg_sys::ItemPointerData, tid: HeapTid) {
    pgrx::itemptr::item_pointer_set_all(target, tid.block(), tid.offset());
}

pub fn check_for_interrupts() {
    pgrx::check_for_interrupts!();
}
