//! What `quiver_check_index(regclass)` checks of an hnsw index: every page,
//! each problem one line (see `am::inspect`).

use crate::am::inspect::MAX_PROBLEMS;
use crate::page::{self, ElementHeader, Meta, NodeId};
use crate::storage::meta::decode_meta;
use crate::storage::walk::{block_count, for_each_graph_tuple, with_tuple, GraphTuple};
use pgrx::pg_sys;
use std::collections::HashMap;

struct Element {
    header: ElementHeader,
    /// The stored code of its vector, when the index has neighbor codes.
    code: Vec<u8>,
    /// Its filter values, when it has them.
    filter: Option<Vec<u8>>,
    /// A hash of its vector as stored, to compare with its row's.
    vector_hash: Option<u64>,
}

/// The structural check of an hnsw index, problems appended to `problems`.
// `index` is an open relation: see `crate::storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn check(index: pg_sys::Relation, compare_rows: bool, problems: &mut Vec<String>) {
    let mut report = |problem: String| {
        if problems.len() < MAX_PROBLEMS {
            problems.push(problem);
        }
    };
    if block_count(index) == 0 {
        report("the index has no meta page".into());
        return;
    }
    let meta = match decode_meta::<Meta>(index) {
        Ok(meta) => meta,
        Err(e) => return report(format!("meta page: {e}")),
    };
    let shape = meta.list_shape();
    // SAFETY: index is open.
    let filter_columns = unsafe { (*(*index).rd_index).indnkeyatts } as usize - 1;
    // A broken quantizer is an ERROR here as in a scan: nothing is checked against it.
    let codes = crate::storage::quantizer::load(index, &meta);
    let mut list_codes: HashMap<NodeId, Vec<u8>> = HashMap::new();

    // An element's vector must be readable and finite; its code, to compare
    // with the ones its neighbors' lists hold.
    let check_vector =
        |id: NodeId, vector: Option<page::StoredVector>, report: &mut dyn FnMut(String)| {
            if vector.is_none_or(|v| !v.all_finite()) {
                report(format!(
                    "element {}/{}: vector unreadable or not finite",
                    id.block(),
                    id.offset()
                ));
            }
            let mut code = Vec::new();
            if let (Some(codes), Some(vector)) = (&codes, vector) {
                let mut widened = Vec::new();
                vector.extend_into(&mut widened);
                codes.encode(&widened, &mut code);
            }
            (code, vector.map(vector_hash))
        };
    // Wide elements with their parts' ids, and every part's position.
    let mut wide: Vec<(NodeId, Vec<NodeId>)> = Vec::new();
    let mut part_positions: HashMap<NodeId, usize> = HashMap::new();

    // Pass 1: every tuple of every page.
    let mut elements: HashMap<NodeId, Element> = HashMap::new();
    let mut neighbor_lists: HashMap<NodeId, Vec<Vec<NodeId>>> = HashMap::new();
    let mut other_pages = Vec::new();
    for_each_graph_tuple(
        index,
        &meta,
        |id, tuple| {
            let (block, offset) = (id.block(), id.offset());
            match tuple {
                GraphTuple::Element(tuple) => match ElementHeader::decode(tuple) {
                    Ok(header) => {
                        let own_length = header.width == page::ElementWidth::Sparse;
                        if !own_length && header.dimensions as u32 != meta.dimensions {
                            report(format!(
                                "element {block}/{offset}: {} dimensions, index has {}",
                                header.dimensions, meta.dimensions
                            ));
                        }
                        let (code, vector_hash) = if header.wide {
                            match page::element_parts(tuple) {
                                Ok(parts) => wide.push((id, parts)),
                                Err(e) => report(format!("element {block}/{offset}: {e}")),
                            }
                            (Vec::new(), None)
                        } else {
                            check_vector(
                                id,
                                page::element_vector(tuple, header.dimensions as usize),
                                &mut report,
                            )
                        };
                        // Elements of an index with filter columns carry their values.
                        let filter = match page::element_filter(tuple) {
                            Ok(values) if values.is_some() != (filter_columns > 0) => {
                                report(format!(
                                    "element {block}/{offset}: {} filter values, index has {filter_columns} filter columns",
                                    if values.is_some() { "has" } else { "lacks" }
                                ));
                                None
                            }
                            Ok(values) => values.map(<[u8]>::to_vec),
                            Err(e) => {
                                report(format!("element {block}/{offset}: {e}"));
                                None
                            }
                        };
                        elements.insert(
                            id,
                            Element {
                                header,
                                code,
                                filter,
                                vector_hash,
                            },
                        );
                    }
                    Err(e) => report(format!("element {block}/{offset}: {e}")),
                },
                GraphTuple::Neighbors(tuple) => {
                    let level = tuple.get(1).copied().unwrap_or(0) as usize;
                    let mut layers = Vec::new();
                    for layer in 0..=level {
                        let mut ids = Vec::new();
                        let read = if layer == 0 && codes.is_some() {
                            let mut stored = Vec::new();
                            let read = page::read_layer_codes(tuple, shape, &mut ids, &mut stored);
                            list_codes.insert(id, stored);
                            read
                        } else {
                            page::read_layer(tuple, shape, layer, &mut ids)
                        };
                        match read {
                            Ok(()) => layers.push(ids),
                            Err(e) => {
                                report(format!("neighbors {block}/{offset} layer {layer}: {e}"));
                                break;
                            }
                        }
                    }
                    neighbor_lists.insert(id, layers);
                }
                GraphTuple::Part(tuple) => match page::part_position(tuple) {
                    Some(position) => {
                        part_positions.insert(id, position);
                    }
                    None => report(format!("part {block}/{offset}: too short")),
                },
                GraphTuple::Unknown(_) => {
                    report(format!("item {block}/{offset}: unknown tuple kind"))
                }
            }
        },
        |block| other_pages.push(block),
    );
    for block in other_pages {
        report(format!(
            "block {block}: not a graph page (page id or kind wrong)"
        ));
    }

    // Pass 1b: wide elements' vectors, copied together from their parts.
    let mut gathered = page::Gathered::default();
    for (id, parts) in &wide {
        let (block, offset) = (id.block(), id.offset());
        gathered.clear();
        let mut whole = true;
        for (position, &part) in parts.iter().enumerate() {
            let at = format!(
                "element {block}/{offset}: part {position} at {}/{}",
                part.block(),
                part.offset()
            );
            if part_positions.get(&part) != Some(&position) {
                report(format!("{at} is missing or out of place"));
                whole = false;
                break;
            }
            // Pass 1 found the part there.
            let piece = with_tuple(index, part, |tuple| {
                page::part_piece(tuple, position).map(|piece| gathered.push(piece))
            });
            if let Err(e) = piece {
                report(format!("{at}: {e}"));
                whole = false;
                break;
            }
        }
        if let Some(element) = elements.get_mut(id) {
            let vector = if whole {
                page::stored_vector(
                    gathered.bytes(),
                    element.header.width,
                    element.header.dimensions as usize,
                )
            } else {
                None
            };
            (element.code, element.vector_hash) = check_vector(*id, vector, &mut report);
        }
    }
    let mut rows = Rows::of_index(index);
    if compare_rows {
        compare_with_rows(index, &mut rows, &elements, &mut report);
    }

    // The filter directory: one entry per element with filter values,
    // repeating them (deleted elements may keep theirs until VACUUM frees them).
    let mut entries: HashMap<NodeId, usize> = HashMap::new();
    crate::storage::filters::for_each_entry(index, &meta, |id, values| {
        let (block, offset) = (id.block(), id.offset());
        match elements.get(&id) {
            None => report(format!("filter directory: entry for {block}/{offset}, which is not an element")),
            Some(e) if !e.filter.as_deref().is_some_and(|own| page::same_filter_values(own, values)) => {
                report(format!("filter directory: the entry for {block}/{offset} differs from the element's filter values"))
            }
            Some(_) => *entries.entry(id).or_default() += 1,
        }
        true
    });
    if meta.filter_directory {
        for (id, element) in &elements {
            let live = !element.header.deleted && !element.header.heap_tids.is_empty();
            match entries.get(id) {
                None if live && element.filter.is_some() => report(format!(
                    "filter directory: element {}/{} has no entry",
                    id.block(),
                    id.offset()
                )),
                Some(&count) if count > 1 => report(format!(
                    "filter directory: element {}/{} has {count} entries",
                    id.block(),
                    id.offset()
                )),
                _ => {}
            }
        }
    }

    // Pass 2: links between them.
    // A deleted element's links may name elements VACUUM freed already
    // (a crash stopped it before it freed this one too): harmless while no
    // search reaches it, so reported only if one does.
    let mut of_deleted: Vec<(NodeId, String)> = Vec::new();
    for (&id, element) in &elements {
        let (block, offset) = (id.block(), id.offset());
        let mut report = |problem: String| {
            if element.header.deleted {
                of_deleted.push((id, problem));
            } else {
                report(problem);
            }
        };
        let Some(layers) = neighbor_lists.get(&element.header.neighbors) else {
            report(format!(
                "element {block}/{offset}: its neighbor tuple {:?} is missing",
                element.header.neighbors
            ));
            continue;
        };
        if layers.len() != element.header.level as usize + 1 {
            report(format!(
                "element {block}/{offset}: level {} but {} neighbor layers",
                element.header.level,
                layers.len()
            ));
        }
        let stored = list_codes.get(&element.header.neighbors);
        for (layer, ids) in layers.iter().enumerate() {
            for (i, &n) in ids.iter().enumerate() {
                let code_bytes = shape.code_bytes;
                if let (0, Some(stored), Some(e)) = (layer, stored, elements.get(&n)) {
                    if stored.get(i * code_bytes..(i + 1) * code_bytes) != Some(&e.code[..]) {
                        report(format!("element {block}/{offset}: the code of neighbor {}/{} does not match its vector", n.block(), n.offset()));
                    }
                }
                match elements.get(&n) {
                    None => report(format!("element {block}/{offset} layer {layer}: neighbor {}/{} is not an element", n.block(), n.offset())),
                    Some(_) if n == id => report(format!("element {block}/{offset} layer {layer}: links to itself")),
                    Some(e) if (e.header.level as usize) < layer => report(format!(
                        "element {block}/{offset} layer {layer}: neighbor {}/{} only reaches layer {}",
                        n.block(),
                        n.offset(),
                        e.header.level
                    )),
                    Some(_) => {}
                }
            }
        }
    }

    // The entry point, and every live element reachable from it.
    let reached = check_reachability(&meta, &elements, &neighbor_lists, &mut rows, &mut report);
    for (id, problem) in of_deleted {
        if reached.as_ref().is_none_or(|seen| seen.contains(&id)) {
            report(problem);
        }
    }
}

/// The entry point, and every live element reachable from it. Returns
/// the elements the walk from the entry point reached, if it could walk.
fn check_reachability(
    meta: &Meta,
    elements: &HashMap<NodeId, Element>,
    neighbor_lists: &HashMap<NodeId, Vec<Vec<NodeId>>>,
    rows: &mut Rows,
    report: &mut dyn FnMut(String),
) -> Option<std::collections::HashSet<NodeId>> {
    if elements.is_empty() {
        if !meta.entry.is_none() {
            report("the meta page names an entry point, but the index has no elements".into());
        }
        return None;
    }
    match elements.get(&meta.entry) {
        None => {
            report(format!(
                "the entry point {}/{} is not an element",
                meta.entry.block(),
                meta.entry.offset()
            ));
            None
        }
        Some(entry) => {
            // SAFETY: a function called in a query has an active snapshot.
            let snapshot = unsafe { pg_sys::GetActiveSnapshot() };
            // Above it may be elements of rows that are gone (VACUUM moved
            // the entry point off one, and a crash came before it was
            // freed) or never committed (an insert cut off before it moved
            // the entry point up): only elements of visible rows count.
            let top = elements
                .values()
                .filter(|e| e.header.level > entry.header.level && !e.header.deleted)
                .filter(|e| {
                    e.header
                        .heap_tids
                        .iter()
                        .any(|&tid| rows.fetch(tid, snapshot))
                })
                .map(|e| e.header.level)
                .max();
            if entry.header.level != meta.entry_level || top.is_some() {
                report(format!(
                    "the entry point is on layer {} (meta says {}), an element of a visible row on layer {}",
                    entry.header.level,
                    meta.entry_level,
                    top.unwrap_or(entry.header.level)
                ));
            }
            let mut seen: std::collections::HashSet<NodeId> = [meta.entry].into();
            let mut stack = vec![meta.entry];
            while let Some(id) = stack.pop() {
                let Some(layers) = elements
                    .get(&id)
                    .and_then(|e| neighbor_lists.get(&e.header.neighbors))
                else {
                    continue;
                };
                for &n in layers.iter().flatten() {
                    if elements.contains_key(&n) && seen.insert(n) {
                        stack.push(n);
                    }
                }
            }
            // An insert cut off by a crash or an ERROR leaves its element
            // without incoming links; its row is never visible, and VACUUM
            // frees it. Only elements of rows this query sees must be found.
            let unreachable: Vec<&NodeId> = elements
                .iter()
                .filter(|(id, e)| !e.header.deleted && !seen.contains(id))
                .filter(|(_, e)| {
                    e.header
                        .heap_tids
                        .iter()
                        .any(|&tid| rows.fetch(tid, snapshot))
                })
                .map(|(id, _)| id)
                .collect();
            if !unreachable.is_empty() {
                report(format!(
                    "{} elements of visible rows are unreachable from the entry point, e.g. {}/{}",
                    unreachable.len(),
                    unreachable[0].block(),
                    unreachable[0].offset()
                ));
            }
            Some(seen)
        }
    }
}

/// A hash of a stored vector's values.
fn vector_hash(vector: page::StoredVector) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut widened = Vec::new();
    vector.extend_into(&mut widened);
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    widened.iter().for_each(|x| x.to_bits().hash(&mut hasher));
    hasher.finish()
}

/// Compares each live element's vector with its first row's, prepared and
/// stored as an insert would: a changed byte inside a vector breaks no
/// structure, and only the table knows the right value. Rows the query does
/// not see are skipped (the caller holds VACUUM off, so no TID is reused).
fn compare_with_rows(
    index: pg_sys::Relation,
    rows: &mut Rows,
    elements: &HashMap<NodeId, Element>,
    report: &mut dyn FnMut(String),
) {
    // SAFETY: an open index has its pg_index row; indkey has indnatts entries.
    let column = unsafe {
        let form = (*index).rd_index;
        (*form).indkey.values.as_slice((*form).indnatts as usize)[0]
    };
    // An expression's value is not in the row.
    if column == 0 {
        return;
    }
    let spec = super::IndexSpec::cached(index);
    let width = spec.column.width;
    let mut in_table_order: Vec<(&NodeId, &Element)> = elements.iter().collect();
    in_table_order.sort_by_key(|(_, e)| e.header.heap_tids.first().copied());
    let mut per_row = pgrx::PgMemoryContexts::new("quiver_check_index rows");
    // Only rows the query sees: a dead version may have lost its TOAST
    // chunks to VACUUM already, and its element goes with the next one.
    // SAFETY: a function called in a query has an active snapshot.
    let snapshot = unsafe { pg_sys::GetActiveSnapshot() };
    // SAFETY: `rows.slot` holds the row just fetched.
    unsafe {
        for (id, element) in in_table_order {
            let (Some(hash), Some(&tid)) = (element.vector_hash, element.header.heap_tids.first())
            else {
                continue;
            };
            if element.header.deleted {
                continue;
            }
            crate::am::check_for_interrupts();
            if !rows.fetch(tid, snapshot) {
                continue;
            }
            let mut is_null = false;
            let datum = pg_sys::slot_getattr(rows.slot, column as i32, &mut is_null);
            // Detoasted and prepared copies go with the per-row context.
            let row_hash = per_row.switch_to(|_| {
                if is_null {
                    return None;
                }
                let prepared = spec.column.prepare(datum)?;
                let stored = spec.column.stored(&prepared);
                let bytes = page::vector_bytes(width, stored);
                page::stored_vector(&bytes, width, stored.len()).map(vector_hash)
            });
            per_row.reset();
            if row_hash != Some(hash) {
                report(format!(
                    "element {}/{}: its vector differs from its row's (heap TID {}/{})",
                    id.block(),
                    id.offset(),
                    tid.block(),
                    tid.offset()
                ));
            }
        }
    }
}

/// The indexed table's rows, fetched by TID into one slot.
struct Rows {
    heap: pg_sys::Relation,
    slot: *mut pg_sys::TupleTableSlot,
}

impl Rows {
    fn of_index(index: pg_sys::Relation) -> Rows {
        // SAFETY: an open index has its pg_index row; its table is locked by the caller.
        unsafe {
            let heap = pg_sys::table_open(
                (*(*index).rd_index).indrelid,
                pg_sys::AccessShareLock as i32,
            );
            Rows {
                heap,
                slot: pg_sys::table_slot_create(heap, std::ptr::null_mut()),
            }
        }
    }

    /// Fetches the row at `tid` into the slot if `snapshot` sees it.
    fn fetch(&mut self, tid: page::HeapTid, snapshot: pg_sys::Snapshot) -> bool {
        let mut pointer = pg_sys::ItemPointerData::default();
        crate::am::set_item_pointer(&mut pointer, tid);
        // SAFETY: an open table, its own slot, a valid snapshot.
        unsafe {
            pg_sys::table_tuple_fetch_row_version(self.heap, &mut pointer, snapshot, self.slot)
        }
    }
}

impl Drop for Rows {
    fn drop(&mut self) {
        // SAFETY: created in `open`, dropped once.
        unsafe {
            pg_sys::ExecDropSingleTupleTableSlot(self.slot);
            pg_sys::table_close(self.heap, pg_sys::AccessShareLock as i32);
        }
    }
}
