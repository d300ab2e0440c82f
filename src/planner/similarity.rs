//! Similarity orderings served by the index. ORMs and BI tools order by a
//! similarity, highest first: `ORDER BY 1 - (embedding <=> $1) DESC`,
//! `ORDER BY (embedding <#> $1) * -1 DESC` or `ORDER BY -(embedding <#> $1)
//! DESC`. That is the distance's own order, but PostgreSQL matches an index
//! ordering only to `column <op> value`, so it sorts the whole table. A
//! planner hook rewrites the first key of such an ORDER BY, in a query with
//! a LIMIT, to the distance in ascending order (a hidden target column), which
//! the index serves; the similarity is still computed for the output.
//!
//! One difference: rows whose vector is NULL (or, under cosine, zero) have a
//! NULL (NaN) similarity, which DESC sorts first; ordered by distance they
//! come last, and an index scan leaves them out, as it does for any
//! `ORDER BY embedding <=> $1`.

use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::PgList;
use std::ffi::CStr;

static mut PREVIOUS_PLANNER: pg_sys::planner_hook_type = None;

/// Installs the hook (from `_PG_init`), after whatever hook was there.
pub fn init() {
    // SAFETY: _PG_init runs once per backend, before any planning by us.
    unsafe {
        PREVIOUS_PLANNER = pg_sys::planner_hook;
        pg_sys::planner_hook = Some(plan_with_distance_order);
    }
}

/// # Safety
/// Postgres calls it as planner_hook, with the planner's arguments.
#[pg_guard]
unsafe extern "C-unwind" fn plan_with_distance_order(
    parse: *mut pg_sys::Query,
    query_string: *const std::ffi::c_char,
    cursor_options: std::ffi::c_int,
    bound_params: pg_sys::ParamListInfo,
) -> *mut pg_sys::PlannedStmt {
    // SAFETY: the planner hands us its Query to plan, ours to change first.
    unsafe {
        rewrite_query(parse);
        let stmt = match PREVIOUS_PLANNER {
            Some(previous) => previous(parse, query_string, cursor_options, bound_params),
            None => pg_sys::standard_planner(parse, query_string, cursor_options, bound_params),
        };
        super::filter_moves::move_filters_into_index(stmt);
        stmt
    }
}

/// Rewrites `query` and the queries it holds (subqueries in FROM, CTEs).
///
/// # Safety
/// `query` is null or a valid Query tree, as the planner got it.
unsafe fn rewrite_query(query: *mut pg_sys::Query) {
    // SAFETY: a valid Query tree, as the planner got it.
    unsafe {
        if query.is_null() {
            return;
        }
        rewrite_order(query);
        for rte in PgList::<pg_sys::RangeTblEntry>::from_pg((*query).rtable).iter_ptr() {
            if (*rte).rtekind == pg_sys::RTEKind::RTE_SUBQUERY {
                rewrite_query((*rte).subquery);
            }
        }
        for cte in PgList::<pg_sys::CommonTableExpr>::from_pg((*query).cteList).iter_ptr() {
            let inner = (*cte).ctequery;
            if !inner.is_null() && (*inner).type_ == pg_sys::NodeTag::T_Query {
                rewrite_query(inner.cast());
            }
        }
    }
}

/// The first ORDER BY key, if it is a similarity in descending order, becomes
/// its distance in ascending order.
///
/// # Safety
/// `query` is a valid Query; the current memory context is the planner's.
unsafe fn rewrite_order(query: *mut pg_sys::Query) {
    // SAFETY: a valid Query; the nodes we add are palloc'd in the planner's context.
    unsafe {
        let q = &mut *query;
        // Only a plain kNN query: a sort with a limit, nothing that also uses the sort keys.
        if q.commandType != pg_sys::CmdType::CMD_SELECT
            || q.limitCount.is_null()
            || !q.groupClause.is_null()
            || !q.groupingSets.is_null()
            || !q.distinctClause.is_null()
            || !q.setOperations.is_null()
            || q.hasAggs
            || q.hasWindowFuncs
            || q.hasTargetSRFs
        {
            return;
        }
        let sort = PgList::<pg_sys::SortGroupClause>::from_pg(q.sortClause);
        let Some(first) = sort.get_ptr(0) else { return };
        let targets = PgList::<pg_sys::TargetEntry>::from_pg(q.targetList);
        let Some(target) = targets
            .iter_ptr()
            .find(|t| (**t).ressortgroupref == (*first).tleSortGroupRef)
        else {
            return;
        };
        let (mut less, mut equal, mut greater, mut hashable) = (
            pg_sys::InvalidOid,
            pg_sys::InvalidOid,
            pg_sys::InvalidOid,
            false,
        );
        pg_sys::get_sort_group_operators(
            pg_sys::FLOAT8OID,
            true,
            true,
            true,
            &mut less,
            &mut equal,
            &mut greater,
            &mut hashable,
        );
        if (*first).sortop != greater {
            return;
        }
        let Some(distance) = distance_of_similarity((*target).expr.cast()) else {
            return;
        };

        let next_ref = targets
            .iter_ptr()
            .map(|t| (*t).ressortgroupref)
            .max()
            .unwrap_or(0)
            + 1;
        let copied = pg_sys::copyObjectImpl(distance.cast()).cast::<pg_sys::Expr>();
        let hidden = pg_sys::makeTargetEntry(
            copied,
            (targets.len() + 1) as pg_sys::AttrNumber,
            std::ptr::null_mut(),
            true,
        );
        (*hidden).ressortgroupref = next_ref;
        q.targetList = pg_sys::lappend(q.targetList, hidden.cast());
        (*first).tleSortGroupRef = next_ref;
        (*first).sortop = less;
        (*first).eqop = equal;
        (*first).nulls_first = false;
    }
}

/// The distance `d` in an expression that orders as `-d` does: `c - d`,
/// `-d`, `d * c` or `c * d` for a constant c (negative, for the products),
/// where d is one of the distance operators.
///
/// # Safety
/// `expr` is null or a valid expression tree.
unsafe fn distance_of_similarity(expr: *mut pg_sys::Node) -> Option<*mut pg_sys::Node> {
    // SAFETY: a valid expression tree.
    unsafe {
        let op = as_op(expr)?;
        let args = PgList::<pg_sys::Node>::from_pg((*op).args);
        let name = operator_name((*op).opno);
        let (a, b) = (args.get_ptr(0), args.get_ptr(1));
        match (name.as_str(), a, b) {
            ("-", Some(only), None) => is_distance(only).then_some(only),
            ("-", Some(c), Some(d)) if constant(c).is_some() && is_distance(d) => Some(d),
            ("*", Some(d), Some(c)) | ("*", Some(c), Some(d))
                if constant(c).is_some_and(|v| v < 0.0) && is_distance(d) =>
            {
                Some(d)
            }
            _ => None,
        }
    }
}

/// # Safety
/// `node` is null or a valid node.
unsafe fn as_op(node: *mut pg_sys::Node) -> Option<*mut pg_sys::OpExpr> {
    // SAFETY: node is a valid node or null.
    unsafe {
        (!node.is_null() && (*node).type_ == pg_sys::NodeTag::T_OpExpr).then_some(node.cast())
    }
}

fn operator_name(opno: pg_sys::Oid) -> String {
    // SAFETY: a syscache lookup; NULL for an unknown operator.
    unsafe {
        let name = pg_sys::get_opname(opno);
        if name.is_null() {
            String::new()
        } else {
            CStr::from_ptr(name).to_string_lossy().into_owned()
        }
    }
}

/// Whether `node` is `a <op> b` for one of the distance operators, of float8.
///
/// # Safety
/// `node` is null or a valid node.
unsafe fn is_distance(node: *mut pg_sys::Node) -> bool {
    // SAFETY: a valid node.
    unsafe {
        as_op(node).is_some_and(|op| {
            (*op).opresulttype == pg_sys::FLOAT8OID
                && matches!(
                    operator_name((*op).opno).as_str(),
                    "<->" | "<#>" | "<=>" | "<+>" | "<~>" | "<%>"
                )
        })
    }
}

/// The value of a non-null float8 constant, once folded (the parser leaves
/// `1` in `1 - d` as a cast of an integer, which the planner folds later).
///
/// # Safety
/// `node` is null or a valid expression node.
unsafe fn constant(node: *mut pg_sys::Node) -> Option<f64> {
    // SAFETY: a valid node; folding works on a copy; a float8 Const holds its
    // value by value on 64-bit.
    unsafe {
        if node.is_null() {
            return None;
        }
        let folded = pg_sys::eval_const_expressions(
            std::ptr::null_mut(),
            pg_sys::copyObjectImpl(node.cast()).cast(),
        );
        if (*folded).type_ != pg_sys::NodeTag::T_Const {
            return None;
        }
        let c = folded.cast::<pg_sys::Const>();
        ((*c).consttype == pg_sys::FLOAT8OID && !(*c).constisnull)
            .then(|| f64::from_bits((*c).constvalue.value() as u64))
    }
}
