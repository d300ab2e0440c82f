//! What distance calls and the work around them cost, in microseconds on
//! cached data, and in planner units: the shared part of every index's cost
//! model, and of the distance operators' planner support function. Pure.
//!
//! The constants were fitted on a 2-core AMD EPYC with PostgreSQL 15 and the
//! data in shared buffers (2026-11-25), on 100,000 GloVe vectors (50-d,
//! cosine) and 60,000 Fashion-MNIST images (784-d, L2, stored out of line in
//! TOAST); pg_test/planner.sh checks the plans they lead to.

/// Planner cost units per microsecond of work. The planner prices most plans
/// by pages: on cached data a sequential scan comes to about 0.5 units per
/// microsecond it takes, and a bitmap heap scan fetching 1-2% of a table
/// to 2-2.5 (random_page_cost = 4 per page). The index competes with both, so
/// its work and the distance calls are priced in between, where the plan
/// choices of pg_test/planner.sh come out right on both data sets: at 0.7 to
/// 1.3 units per microsecond.
pub const COST_PER_MICROSECOND: f64 = 1.0;

/// Measuring one node during a walk: reading its element from a shared
/// buffer, the visited set, the heaps, and the distance kernel. Measured
/// from scans at ef_search 40, 100 and 200 (500 queries each): 0.27 us at
/// 50-d, 1.05 us at 784-d.
pub fn visit_microseconds(dimensions: usize) -> f64 {
    0.22 + 0.00106 * dimensions as f64
}

/// Checking one filter directory entry's values in a scan that reads them
/// all: 3.0 ms for 200,000 entries of four int columns (perf: the entries'
/// memory, then the comparisons).
pub const DIRECTORY_ENTRY_MICROSECONDS: f64 = 0.015;

/// Microseconds of a scan that checks `entries` directory entries and
/// measures the `passing` elements, then sorts them.
pub fn exact_filter_microseconds(entries: f64, passing: f64, dimensions: usize) -> f64 {
    let sort = passing * passing.max(2.0).log2() * 0.005;
    entries * DIRECTORY_ENTRY_MICROSECONDS + passing * visit_microseconds(dimensions) + sort
}

/// Handing one node out: the executor fetches its heap row, checks it is
/// visible and applies the filter. Measured as what filtered scans took
/// beyond their visits: 2.2 us per row on GloVe, 1.2 on Fashion-MNIST.
pub const HANDOUT_MICROSECONDS: f64 = 1.6;

/// One call of a distance function on a vector read from a table:
/// argument handling and the kernel (0.19 us at 50-d: 18.6 ms per 100,000
/// calls in a sequential scan), plus, for a vector stored out of line,
/// fetching its TOAST chunks. Those come in the order the plan reads rows,
/// which for a btree's or bitmap's rows is scattered: 4.3 us per row in all
/// at 784-d (two chunks) when a bitmap scan of 1,200 rows feeds a sort.
pub fn distance_call_microseconds(dimensions: usize, toast_chunks: usize) -> f64 {
    let call = 0.15 + 0.0007 * dimensions as f64;
    let detoast = if toast_chunks > 0 {
        2.0 + 0.8 * toast_chunks as f64
    } else {
        0.0
    };
    call + detoast
}

/// Bytes of a vector of `dimensions` as a varlena: header, dims, floats.
fn vector_bytes(dimensions: usize) -> usize {
    8 + 4 * dimensions
}

/// A row grows past this and Postgres moves its widest values out of line
/// (TOAST_TUPLE_THRESHOLD on 8 kB pages); they come back in chunks of at most
/// TOAST_MAX_CHUNK_SIZE bytes.
const TOAST_TUPLE_THRESHOLD: usize = 2032;
const TOAST_CHUNK_BYTES: usize = 1996;

/// How many TOAST chunks a distance call reads for a table's vector column:
/// 0 when its values sit in the row. `stored_width` is the column's average
/// width as stored, from its statistics (an out-of-line value is stored as an
/// 18-byte pointer); without statistics, a vector too wide for a row on its
/// own is taken to be out of line.
pub fn toast_chunks(dimensions: usize, stored_width: Option<usize>) -> usize {
    let bytes = vector_bytes(dimensions);
    let out_of_line = match stored_width {
        Some(width) => width * 2 < bytes,
        None => bytes > TOAST_TUPLE_THRESHOLD,
    };
    if out_of_line {
        bytes.div_ceil(TOAST_CHUNK_BYTES)
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_line_vectors_are_told_by_their_stored_width() {
        // Fashion-MNIST's 784-d vectors: 3,144 bytes, stored as pointers.
        assert_eq!(toast_chunks(784, Some(18)), 2);
        assert_eq!(toast_chunks(784, None), 2);
        // GloVe's 50-d vectors sit in the row.
        assert_eq!(toast_chunks(50, Some(208)), 0);
        assert_eq!(toast_chunks(50, None), 0);
        // 384-d (1,544 bytes) fits a row alone, but a wide row moves it out.
        assert_eq!(toast_chunks(384, None), 0);
        assert_eq!(toast_chunks(384, Some(18)), 1);
        assert_eq!(toast_chunks(1536, Some(18)), 4);
    }
}
