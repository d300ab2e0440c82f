//! Training: k-means over a sample of rows, then the residual codes learnt
//! from how far the sample lies from its centers. The build trains on a
//! sample of the table; an untrained index trains itself on its pending
//! rows once an insert brings them to `IndexSpec::rows_to_train`.

use super::IndexSpec;
use crate::am::check_for_interrupts;
use crate::ivf::{binarize, kmeans, residual, IvfMetric, ListCodes, Rows};
use crate::page::{self, ElementWidth, HeapTid, ListPages};
use crate::storage::ivf::{
    for_each_pending, lock_meta, try_training, write_centers, write_quantizer, ListWriter,
};
use crate::storage::meta::read_ivf_meta;
use crate::storage::xlog::Logging;

/// k-means' seed: the same rows give the same lists.
const SEED: u64 = 0x1f_f1a7;

/// Trained centers (flat) and the codes of their lists.
pub struct Training {
    pub centers: Vec<f32>,
    pub codes: ListCodes,
}

/// The list a prepared row belongs to: its nearest center.
pub fn assign(metric: IvfMetric, centers: Rows, row: &[f32]) -> usize {
    kmeans::nearest(metric.training(), centers, row).0
}

/// Threads a build trains on: itself and as many more as
/// max_parallel_maintenance_workers lets a maintenance command use, no more
/// than the machine's cores. They are threads of this backend that only
/// compute over the sample in memory (kmeans::in_parallel), never touching
/// Postgres, so temporary tables and expressions do not stop them as they
/// stop worker processes.
pub fn build_threads() -> usize {
    // SAFETY: a plain GUC variable, read on the backend's own thread.
    let workers = unsafe { pgrx::pg_sys::max_parallel_maintenance_workers }.max(0) as usize;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (1 + workers).min(cores)
}

/// Trains `spec.lists` centers and their codes on `sample` (prepared rows),
/// on `threads` threads; the same centers whatever their number.
pub fn train(spec: &IndexSpec, sample: Rows, threads: usize) -> Training {
    let mut centers = kmeans::train_on(
        spec.metric.training(),
        sample,
        spec.lists as usize,
        SEED,
        threads,
        check_for_interrupts,
    );
    // Rows are coded against their center as the index stores it, which
    // is what scans read back: bits for bit strings, float16 for halfvec.
    match spec.column.width {
        ElementWidth::Bit => binarize(&mut centers),
        ElementWidth::Float2 => centers
            .iter_mut()
            .for_each(|x| *x = half::f16::from_f32(*x).to_f32()),
        _ => {}
    }
    let d = sample.dimensions;
    check_for_interrupts();
    let nearest = kmeans::nearest_all(
        spec.metric.training(),
        Rows::new(&centers, d),
        sample,
        threads,
    );
    let mut residuals = Vec::with_capacity(sample.values.len());
    for (i, (list, _)) in nearest.into_iter().enumerate() {
        residuals.extend(residual(sample.row(i), &centers[list * d..(list + 1) * d]));
    }
    let codes = ListCodes::train(spec.metric, Rows::new(&residuals, d));
    Training { centers, codes }
}

impl Training {
    /// The list entry of a prepared row, and the list it goes to.
    pub fn entry(
        &self,
        spec: &IndexSpec,
        row: &[f32],
        tid: HeapTid,
        filter: &[u8],
    ) -> (usize, Vec<u8>) {
        let d = spec.column.dimensions;
        let list = assign(spec.metric, Rows::new(&self.centers, d), row);
        (list, self.entry_in(spec, list, row, tid, filter))
    }

    /// The list entry of a prepared row whose list is known.
    pub fn entry_in(
        &self,
        spec: &IndexSpec,
        list: usize,
        row: &[f32],
        tid: HeapTid,
        filter: &[u8],
    ) -> Vec<u8> {
        let d = spec.column.dimensions;
        let mut code = Vec::with_capacity(self.codes.stored_bytes());
        self.codes
            .encode(row, &self.centers[list * d..(list + 1) * d], &mut code);
        page::encode_entry(tid, &code, filter)
    }

    /// The list of each of `rows` (prepared), on `threads` threads.
    pub fn lists_of(&self, metric: IvfMetric, rows: Rows, threads: usize) -> Vec<usize> {
        let centers = Rows::new(&self.centers, rows.dimensions);
        kmeans::nearest_all(metric.training(), centers, rows, threads)
            .into_iter()
            .map(|(list, _)| list)
            .collect()
    }

    /// The quantizer's stored bytes (none for bits).
    pub fn quantizer_bytes(&self) -> Vec<u8> {
        match &self.codes {
            ListCodes::Residual(codes) => codes.quantizer.to_bytes(),
            ListCodes::Bits { .. } => Vec::new(),
        }
    }
}

/// Where a training wrote the trained structure, for the meta page.
pub struct Written {
    pub quantizer: (u32, u32, u32),
    pub centers: (u32, u32),
}

/// Writes the quantizer, then the lists `fill` puts entries in, then the
/// centers naming the lists' pages.
pub fn write_trained(
    index: pgrx::pg_sys::Relation,
    spec: &IndexSpec,
    training: &Training,
    logging: Logging,
    fill: impl FnOnce(&mut ListWriter),
) -> Written {
    let bytes = training.quantizer_bytes();
    let (first_quantizer, quantizer_blocks) = if bytes.is_empty() {
        (page::INVALID_BLOCK, 0)
    } else {
        write_quantizer(index, logging, &bytes)
    };
    let mut writer = ListWriter::new(index, logging, spec.lists as usize);
    fill(&mut writer);
    let pages: Vec<ListPages> = writer.finish();
    let centers = write_centers(
        index,
        logging,
        Rows::new(&training.centers, spec.column.dimensions),
        &pages,
        spec.column.width,
    );
    Written {
        quantizer: (first_quantizer, quantizer_blocks, bytes.len() as u32),
        centers,
    }
}

/// Sets the meta data of a trained index.
pub fn set_trained(meta: &mut page::IvfMeta, training: &Training, written: &Written, rows: u64) {
    meta.trained = true;
    meta.code_bits = training.codes.bits();
    meta.code_bytes = training.codes.stored_bytes() as u16;
    (
        meta.first_quantizer_block,
        meta.quantizer_blocks,
        meta.quantizer_bytes,
    ) = written.quantizer;
    (meta.first_center_block, meta.center_blocks) = written.centers;
    meta.pending_head = page::INVALID_BLOCK;
    meta.pending_tail = page::INVALID_BLOCK;
    meta.pending_rows = 0;
    meta.rows = rows;
    meta.generation += 1;
}

/// Trains an index on its pending rows, unless another backend is at it.
/// The rows are read without blocking anyone, the trained structure is
/// written on new pages, and then, under the meta page's lock, the rows
/// inserted meanwhile join their lists and the meta page switches to the
/// trained index in one record. A crash before the switch leaves the index
/// as it was (and the new pages unused).
pub fn train_pending(index: pgrx::pg_sys::Relation, spec: &IndexSpec) {
    try_training(index, || {
        let meta = read_ivf_meta(index);
        if meta.trained || (meta.pending_rows as u64) < spec.rows_to_train() {
            return;
        }
        let width = spec.column.width;
        let mut rows: Vec<(HeapTid, Vec<f32>, Vec<u8>)> = Vec::new();
        let mut read = |row: page::PendingRow| {
            let mut values = Vec::with_capacity(spec.column.dimensions);
            row.vector.extend_into(&mut values);
            // Pending rows were prepared to be indexed: only zero vectors
            // under cosine have none, and they never became pending rows.
            if let Some(prepared) = spec.prepare(&values) {
                rows.push((row.tid, prepared, row.filter.unwrap_or_default().to_vec()));
            }
            true
        };
        let end = for_each_pending(index, &meta, width, None, &mut read);
        let d = spec.column.dimensions;
        let sample_size = crate::ivf::sample_rows(spec.lists as usize).min(rows.len());
        // The first rows make the sample: pending rows come in no order that
        // matters here, and a training runs on at most a few times the rows
        // it needs.
        let sample: Vec<f32> = rows[..sample_size]
            .iter()
            .flat_map(|(_, v, _)| v.iter().copied())
            .collect();
        // An insert trains: on its own thread, as inserts are not a
        // maintenance command.
        let training = train(spec, Rows::new(&sample, d), 1);
        drop(sample);
        let moved = rows.len();
        let mut switch = None;
        let written = write_trained(index, spec, &training, Logging::Wal, |writer| {
            for (tid, prepared, filter) in rows.drain(..) {
                let (list, entry) = training.entry(spec, &prepared, tid, &filter);
                writer.add(list, entry);
            }
            // The rows inserted since the read join too, under the lock
            // inserts take to add pending rows, held until the switch: none
            // is left behind.
            let (lock, now) = lock_meta(index);
            let mut late = 0u64;
            for_each_pending(index, &now, width, Some(end), |row| {
                let mut values = Vec::with_capacity(d);
                row.vector.extend_into(&mut values);
                if let Some(prepared) = spec.prepare(&values) {
                    let filter = row.filter.unwrap_or_default();
                    let (list, entry) = training.entry(spec, &prepared, row.tid, filter);
                    writer.add(list, entry);
                    late += 1;
                }
                true
            });
            switch = Some((lock, now.rows, late));
        });
        let (lock, rows_now, late) = switch.expect("the lists were filled");
        lock.change(index, Logging::Wal, |meta| {
            set_trained(meta, &training, &written, rows_now)
        });
        pgrx::debug1!(
            "ivfflat index trained {} lists on {moved} pending rows ({late} more joined at the switch)",
            spec.lists
        );
    });
}
