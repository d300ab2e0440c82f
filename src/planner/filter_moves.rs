//! Conditions on filter columns the planner leaves in a scan's Filter, moved
//! into the index's conditions once the plan is made. PostgreSQL 15 and 16
//! build no ordered index scan with an array condition on a later index
//! column (`tenant_id IN (1, 2)`, `= ANY ($1)`), and match a bare boolean
//! column (`WHERE published`, `NOT published`) to btree and hash indexes
//! only; so these stay in the executor, which fetches every row the walk
//! hands out to test them. An hnsw or ivfflat scan can check them itself
//! (amsearcharray and its bool class), and does once they are moved: the plan's choice was
//! made with them as a Filter, and stays; its rows are the same, fewer heap
//! fetches bring them.

use pgrx::pg_sys;
use pgrx::PgList;

/// Moves the conditions in every hnsw and ivfflat index scan of `stmt`.
///
/// # Safety
/// `stmt` is a finished plan, in the planner's memory context.
pub unsafe fn move_filters_into_index(stmt: *mut pg_sys::PlannedStmt) {
    // SAFETY: as the caller promises.
    unsafe {
        if stmt.is_null() {
            return;
        }
        visit((*stmt).planTree);
        for plan in PgList::<pg_sys::Plan>::from_pg((*stmt).subplans).iter_ptr() {
            visit(plan);
        }
    }
}

/// # Safety
/// `plan` is null or a node of a finished plan tree.
unsafe fn visit(plan: *mut pg_sys::Plan) {
    // SAFETY: a node of a finished plan tree.
    unsafe {
        if plan.is_null() {
            return;
        }
        match (*plan).type_ {
            pg_sys::NodeTag::T_IndexScan => move_into(plan.cast()),
            pg_sys::NodeTag::T_Append => {
                for child in
                    PgList::<pg_sys::Plan>::from_pg((*plan.cast::<pg_sys::Append>()).appendplans)
                        .iter_ptr()
                {
                    visit(child);
                }
            }
            pg_sys::NodeTag::T_MergeAppend => {
                for child in PgList::<pg_sys::Plan>::from_pg(
                    (*plan.cast::<pg_sys::MergeAppend>()).mergeplans,
                )
                .iter_ptr()
                {
                    visit(child);
                }
            }
            pg_sys::NodeTag::T_SubqueryScan => {
                visit((*plan.cast::<pg_sys::SubqueryScan>()).subplan)
            }
            _ => {}
        }
        visit((*plan).lefttree);
        visit((*plan).righttree);
    }
}

/// A filter column of the index: its position among the index's columns
/// (1-based), its operator family and collation.
struct Column {
    position: i16,
    opfamily: pg_sys::Oid,
    collation: pg_sys::Oid,
    type_oid: pg_sys::Oid,
}

/// The index's filter columns by table column, if it is an index of ours that has any.
///
/// # Safety
/// In a transaction, as while planning; `index` names a relation or none.
unsafe fn filter_columns(index: pg_sys::Oid) -> Option<Vec<(i16, Column)>> {
    // SAFETY: a relcache entry is read and released; the plan's index exists.
    unsafe {
        let rel = pg_sys::RelationIdGetRelation(index);
        if rel.is_null() {
            return None;
        }
        // An hnsw or ivfflat index with filter columns is ours: pgvector's
        // (met in place after a migration) have none.
        let am_name = pg_sys::get_am_name((*(*rel).rd_rel).relam);
        let ours = !am_name.is_null()
            && matches!(
                std::ffi::CStr::from_ptr(am_name).to_bytes(),
                b"hnsw" | b"ivfflat"
            );
        let mut columns = Vec::new();
        if ours && !(*rel).rd_index.is_null() {
            let keys = (*(*rel).rd_index).indnkeyatts as usize;
            let attributes = (*(*rel).rd_index).indkey.values.as_slice(keys);
            for position in 2..=keys {
                let table_column = attributes[position - 1];
                if table_column == 0 {
                    continue; // an expression
                }
                let attribute = (*(*rel).rd_att).attrs.as_slice(keys)[position - 1];
                columns.push((
                    table_column,
                    Column {
                        position: position as i16,
                        opfamily: *(*rel).rd_opfamily.add(position - 1),
                        collation: *(*rel).rd_indcollation.add(position - 1),
                        type_oid: attribute.atttypid,
                    },
                ));
            }
        }
        pg_sys::RelationClose(rel);
        (!columns.is_empty()).then_some(columns)
    }
}

/// # Safety
/// `scan` is an IndexScan of a finished plan, and the current memory
/// context is the plan's.
unsafe fn move_into(scan: *mut pg_sys::IndexScan) {
    // SAFETY: an IndexScan of a finished plan; new nodes go in the current (planner's) context.
    unsafe {
        let qual = (*scan).scan.plan.qual;
        if qual.is_null() {
            return;
        }
        let Some(columns) = filter_columns((*scan).indexid) else {
            return;
        };
        let relation = (*scan).scan.scanrelid as i32;
        let column_of = |node: *mut pg_sys::Node| -> Option<(&Column, *mut pg_sys::Var)> {
            if node.is_null() || (*node).type_ != pg_sys::NodeTag::T_Var {
                return None;
            }
            let var = node.cast::<pg_sys::Var>();
            if (*var).varno != relation || (*var).varlevelsup != 0 {
                return None;
            }
            columns
                .iter()
                .find(|(attno, _)| *attno == (*var).varattno)
                .map(|(_, column)| (column, var))
        };
        let index_var = |column: &Column, var: *mut pg_sys::Var| {
            pg_sys::makeVar(
                pg_sys::INDEX_VAR,
                column.position,
                column.type_oid,
                (*var).vartypmod,
                (*var).varcollid,
                0,
            )
            .cast::<pg_sys::Expr>()
        };
        let mut kept = PgList::<pg_sys::Node>::new();
        let (mut index_qual, mut index_qual_orig) = ((*scan).indexqual, (*scan).indexqualorig);
        for clause in PgList::<pg_sys::Node>::from_pg(qual).iter_ptr() {
            let moved: Option<(*mut pg_sys::Expr, *mut pg_sys::Expr)> = match (*clause).type_ {
                pg_sys::NodeTag::T_ScalarArrayOpExpr => {
                    let saop = clause.cast::<pg_sys::ScalarArrayOpExpr>();
                    let args = PgList::<pg_sys::Node>::from_pg((*saop).args);
                    match (args.get_ptr(0).and_then(&column_of), args.get_ptr(1)) {
                        (Some((column, var)), Some(array))
                            if (*saop).useOr
                                && pg_sys::op_in_opfamily((*saop).opno, column.opfamily)
                                && (column.collation == pg_sys::InvalidOid
                                    || column.collation == (*saop).inputcollid)
                                && !pg_sys::contain_var_clause(array)
                                && !pg_sys::contain_volatile_functions(array) =>
                        {
                            let copy = pg_sys::copyObjectImpl(saop.cast())
                                .cast::<pg_sys::ScalarArrayOpExpr>();
                            let mut copy_args = PgList::<pg_sys::Node>::new();
                            copy_args.push(index_var(column, var).cast());
                            copy_args.push(pg_sys::copyObjectImpl(array.cast()).cast());
                            (*copy).args = copy_args.into_pg();
                            Some((copy.cast(), clause.cast()))
                        }
                        _ => None,
                    }
                }
                // `published`, or `NOT published`: `published = true`, or `= false`.
                pg_sys::NodeTag::T_Var | pg_sys::NodeTag::T_BoolExpr => {
                    let (var_node, wanted) = if (*clause).type_ == pg_sys::NodeTag::T_Var {
                        (clause, true)
                    } else {
                        let not = clause.cast::<pg_sys::BoolExpr>();
                        let args = PgList::<pg_sys::Node>::from_pg((*not).args);
                        match args.get_ptr(0) {
                            Some(arg)
                                if (*not).boolop == pg_sys::BoolExprType::NOT_EXPR
                                    && args.len() == 1 =>
                            {
                                (arg, false)
                            }
                            _ => (std::ptr::null_mut(), false),
                        }
                    };
                    match column_of(var_node) {
                        Some((column, var))
                            if (*var).vartype == pg_sys::BOOLOID
                                && pg_sys::op_in_opfamily(
                                    pg_sys::Oid::from(pg_sys::BooleanEqualOperator),
                                    column.opfamily,
                                ) =>
                        {
                            let equals = |left: *mut pg_sys::Expr| {
                                let op = pg_sys::make_opclause(
                                    pg_sys::Oid::from(pg_sys::BooleanEqualOperator),
                                    pg_sys::BOOLOID,
                                    false,
                                    left,
                                    pg_sys::makeBoolConst(wanted, false).cast(),
                                    pg_sys::InvalidOid,
                                    pg_sys::InvalidOid,
                                );
                                (*op.cast::<pg_sys::OpExpr>()).opfuncid = pg_sys::get_opcode(
                                    pg_sys::Oid::from(pg_sys::BooleanEqualOperator),
                                );
                                op
                            };
                            Some((
                                equals(index_var(column, var)),
                                equals(pg_sys::copyObjectImpl(var.cast()).cast()),
                            ))
                        }
                        _ => None,
                    }
                }
                _ => None,
            };
            match moved {
                Some((on_index, original)) => {
                    index_qual = pg_sys::lappend(index_qual, on_index.cast());
                    index_qual_orig = pg_sys::lappend(index_qual_orig, original.cast());
                }
                None => kept.push(clause),
            }
        }
        (*scan).indexqual = index_qual;
        (*scan).indexqualorig = index_qual_orig;
        (*scan).scan.plan.qual = kept.into_pg();
    }
}
