//! The planner support function of the distance functions: what one call
//! costs (`search::cost::distance_call_microseconds`), from the vectors'
//! dimensions and whether the table stores them out of line, so that a plan
//! that measures the distance to every row of a btree's or a sequential
//! scan's output is charged for it. Postgres' default (one cpu_operator_cost)
//! prices a 784-d distance read from TOAST like an integer comparison, and a
//! btree plan over 1,200 rows like one over 600, while one takes four times
//! as long as the other.

use super::microseconds_to_cost;
use crate::search::cost::{distance_call_microseconds, toast_chunks};
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::{Internal, PgList};

/// Dimensions assumed for a vector whose type modifier does not tell.
const UNKNOWN_DIMENSIONS: usize = 384;

#[pg_extern(sql = false)]
fn vector_distance_support(request: Internal) -> Internal {
    let not_handled = Internal::from(Some(pg_sys::Datum::from(0usize)));
    let Some(datum) = request.unwrap() else {
        return not_handled;
    };
    let node = datum.cast_mut_ptr::<pg_sys::Node>();
    // SAFETY: Postgres passes a support request node; only a cost request is read.
    unsafe {
        if node.is_null() || (*node).type_ != pg_sys::NodeTag::T_SupportRequestCost {
            return not_handled;
        }
        let request = node.cast::<pg_sys::SupportRequestCost>();
        let args = call_arguments((*request).node);
        let mut microseconds = distance_call_microseconds(UNKNOWN_DIMENSIONS, 0);
        if !args.is_empty() {
            microseconds = args
                .iter()
                .map(|&arg| {
                    let (dimensions, chunks) = argument_shape((*request).root, arg);
                    distance_call_microseconds(dimensions, chunks)
                })
                .fold(0.0, f64::max);
        }
        (*request).startup = 0.0;
        (*request).per_tuple = microseconds_to_cost(microseconds);
        Internal::from(Some(pg_sys::Datum::from(request)))
    }
}

/// The arguments of the call being costed, if the planner passed it.
///
/// # Safety
/// `node` is null or a valid expression node (a cost request's).
unsafe fn call_arguments(node: *mut pg_sys::Node) -> Vec<*mut pg_sys::Node> {
    // SAFETY: the caller's node is null or valid; its tag says its struct,
    // whose args is a List of nodes or NIL.
    unsafe {
        let list = if node.is_null() {
            std::ptr::null_mut()
        } else {
            match (*node).type_ {
                pg_sys::NodeTag::T_OpExpr => (*node.cast::<pg_sys::OpExpr>()).args,
                pg_sys::NodeTag::T_FuncExpr => (*node.cast::<pg_sys::FuncExpr>()).args,
                _ => std::ptr::null_mut(),
            }
        };
        PgList::<pg_sys::Node>::from_pg(list).iter_ptr().collect()
    }
}

/// An argument's dimensions, and the TOAST chunks a call reads for it: only a
/// table's column can be stored out of line.
///
/// # Safety
/// `root` is null or the planner's; `arg` is a valid expression node.
unsafe fn argument_shape(root: *mut pg_sys::PlannerInfo, arg: *mut pg_sys::Node) -> (usize, usize) {
    // SAFETY: the caller's nodes are valid. A Var of this query level indexes
    // simple_rte_array, whose entries 1 to simple_rel_array_size - 1 are
    // checked against that size first.
    unsafe {
        let typmod = pg_sys::exprTypmod(arg);
        let dimensions = if typmod > 0 {
            typmod as usize
        } else {
            UNKNOWN_DIMENSIONS
        };
        if (*arg).type_ != pg_sys::NodeTag::T_Var {
            return (dimensions, 0);
        }
        let var = arg.cast::<pg_sys::Var>();
        let mut stored_width = None;
        let in_this_query = (*var).varlevelsup == 0 && (*var).varattno > 0;
        if !root.is_null()
            && in_this_query
            && (*var).varno > 0
            && (*var).varno < (*root).simple_rel_array_size
        {
            let rte = *(*root).simple_rte_array.add((*var).varno as usize);
            if !rte.is_null() && (*rte).rtekind == pg_sys::RTEKind::RTE_RELATION {
                let width = pg_sys::get_attavgwidth((*rte).relid, (*var).varattno);
                stored_width = (width > 0).then_some(width as usize);
            }
        }
        (dimensions, toast_chunks(dimensions, stored_width))
    }
}
