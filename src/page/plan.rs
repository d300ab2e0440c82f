//! Where a build puts the tuples it writes: nodes packed into pages in the
//! graph's order, each node's element beside its neighbor tuple, and part
//! tuples in the order they come.

use super::ids::NodeId;

/// One item of a planned page: a node's element or neighbor tuple.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlannedItem {
    Element(u32),
    Neighbors(u32),
}

/// Where the build puts every node: pages in block order, each a list of
/// items whose offsets are their positions + 1, and each node's addresses.
#[derive(Debug, Default)]
pub struct PagePlan {
    pub pages: Vec<Vec<PlannedItem>>,
    pub elements: Vec<NodeId>,
    pub neighbors: Vec<NodeId>,
}

/// Packs nodes into pages in the given order. `sizes[i]` is node i's
/// (element, neighbor tuple) length; `footprint` is what an item of a length
/// takes on a page (aligned data plus line pointer); `capacity` what an empty
/// page holds. A node's two tuples share a page when they fit one; otherwise
/// the element gets a page of its own.
pub fn plan_pages(
    order: &[u32],
    sizes: &[(usize, usize)],
    capacity: usize,
    footprint: impl Fn(usize) -> usize,
    first_block: u32,
) -> PagePlan {
    let mut plan = PagePlan {
        pages: Vec::new(),
        elements: vec![NodeId::NONE; sizes.len()],
        neighbors: vec![NodeId::NONE; sizes.len()],
    };
    // The page that shared items go to, and its free bytes.
    let mut open: Option<(usize, usize)> = None;
    let place = |plan: &mut PagePlan,
                 open: &mut Option<(usize, usize)>,
                 item: PlannedItem,
                 need: usize|
     -> NodeId {
        let page = match *open {
            Some((page, free)) if free >= need => page,
            _ => {
                plan.pages.push(Vec::new());
                *open = Some((plan.pages.len() - 1, capacity));
                plan.pages.len() - 1
            }
        };
        plan.pages[page].push(item);
        if let Some((_, free)) = open.as_mut() {
            *free -= need;
        }
        NodeId::new(first_block + page as u32, plan.pages[page].len() as u16)
    };
    for &node in order {
        let (element_len, neighbors_len) = sizes[node as usize];
        let (element, neighbors) = (footprint(element_len), footprint(neighbors_len));
        let n = node as usize;
        if element + neighbors <= capacity {
            let together = match open {
                Some((_, free)) if free >= element + neighbors => open,
                _ => None,
            };
            if together.is_none() {
                open = None;
            }
            plan.neighbors[n] = place(
                &mut plan,
                &mut open,
                PlannedItem::Neighbors(node),
                neighbors,
            );
            plan.elements[n] = place(&mut plan, &mut open, PlannedItem::Element(node), element);
        } else {
            plan.neighbors[n] = place(
                &mut plan,
                &mut open,
                PlannedItem::Neighbors(node),
                neighbors,
            );
            plan.pages.push(vec![PlannedItem::Element(node)]);
            plan.elements[n] = NodeId::new(first_block + plan.pages.len() as u32 - 1, 1);
        }
    }
    plan
}

/// Packs items into pages in the order given (the build's part tuples):
/// each page's items, as positions in `lengths`, and every item's id.
pub fn pack_in_order(
    lengths: &[usize],
    capacity: usize,
    footprint: impl Fn(usize) -> usize,
    first_block: u32,
) -> (Vec<Vec<usize>>, Vec<NodeId>) {
    let (mut pages, mut ids): (Vec<Vec<usize>>, Vec<NodeId>) =
        (Vec::new(), Vec::with_capacity(lengths.len()));
    let mut free = 0;
    for (i, &length) in lengths.iter().enumerate() {
        let need = footprint(length);
        if pages.is_empty() || need > free {
            pages.push(Vec::new());
            free = capacity;
        }
        free -= need;
        let block = first_block + pages.len() as u32 - 1;
        let page = pages.last_mut().expect("a page is open");
        page.push(i);
        ids.push(NodeId::new(block, page.len() as u16));
    }
    (pages, ids)
}
