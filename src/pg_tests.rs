//! Tests that run inside a live PostgreSQL (`cargo pgrx test`): they check the
//! SQL functions against Rust references on random data.

#[pgrx::pg_schema]
mod tests {
    use crate::types::literal;
    use pgrx::prelude::*;
    use rand::{Rng, SeedableRng};

    fn random_vector(rng: &mut rand::rngs::StdRng, dim: usize) -> Vec<f32> {
        (0..dim)
            .map(|_| rng.gen_range(-100.0f32..100.0) * 10f32.powi(rng.gen_range(-6..6)))
            .collect()
    }

    fn select_f64(sql: &str) -> f64 {
        Spi::get_one::<f64>(sql)
            .expect("query runs")
            .expect("not null")
    }

    #[pg_test]
    fn text_round_trip_keeps_every_bit() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for dim in [1, 2, 3, 17, 128, 1000] {
            let v = random_vector(&mut rng, dim);
            let text = literal::format(&v);
            let back = Spi::get_one::<String>(&format!("SELECT '{text}'::vector::text"))
                .unwrap()
                .unwrap();
            assert_eq!(back, text);
            let array = Spi::get_one::<Vec<f32>>(&format!("SELECT '{text}'::vector::real[]"))
                .unwrap()
                .unwrap();
            assert_eq!(
                array.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                v.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
            );
        }
    }

    #[pg_test]
    fn page_ports_agree_with_postgres_macros() {
        use crate::storage::port;
        let mut block = vec![0u64; pg_sys::BLCKSZ as usize / 8];
        let page: pg_sys::Page = block.as_mut_ptr().cast();
        // SAFETY: `page` is a BLCKSZ, maximally aligned buffer.
        unsafe {
            assert!(port::is_new(page) && pg_sys::PageIsNew(page));
            assert_eq!(port::max_offset(page), 0);
            pg_sys::PageInit(page, pg_sys::BLCKSZ as usize, 8);
            assert_eq!(port::max_offset(page), pg_sys::PageGetMaxOffsetNumber(page));
            for len in [10usize, 100, 37] {
                let bytes = vec![len as u8; len];
                let at = pg_sys::PageAddItemExtended(
                    page,
                    bytes.as_ptr() as pg_sys::Item,
                    len,
                    pg_sys::InvalidOffsetNumber,
                    0,
                );
                assert_eq!(port::max_offset(page), at);
            }
            assert_eq!(port::max_offset(page), pg_sys::PageGetMaxOffsetNumber(page));
            for offset in 1..=3u16 {
                let item_id = port::item_id(page, offset);
                assert_eq!(item_id, pg_sys::PageGetItemId(page, offset));
                assert_eq!(
                    port::item(page, item_id),
                    pg_sys::PageGetItem(page, item_id).cast::<u8>()
                );
            }
            assert_eq!(
                port::contents(page),
                pg_sys::PageGetContents(page).cast::<u8>()
            );
            assert_eq!(
                port::special(page),
                pg_sys::PageGetSpecialPointer(page).cast::<u8>()
            );
            assert!(!port::is_new(page) && !pg_sys::PageIsNew(page));
        }
    }

    #[pg_test]
    fn binary_send_uses_pgvector_wire_layout() {
        let bytes = Spi::get_one::<Vec<u8>>("SELECT vector_send('[1,-2.5]')")
            .unwrap()
            .unwrap();
        let mut want = vec![0, 2, 0, 0];
        want.extend_from_slice(&1.0f32.to_be_bytes());
        want.extend_from_slice(&(-2.5f32).to_be_bytes());
        assert_eq!(bytes, want);
    }

    #[pg_test]
    fn distance_operators_match_f64_references() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(2);
        for dim in [1, 3, 8, 15, 16, 17, 50, 384, 785] {
            let a: Vec<f32> = (0..dim).map(|_| rng.gen_range(-1.0..1.0)).collect();
            let b: Vec<f32> = (0..dim).map(|_| rng.gen_range(-1.0..1.0)).collect();
            let (ta, tb) = (literal::format(&a), literal::format(&b));
            let pairs = a.iter().zip(&b).map(|(&x, &y)| (x as f64, y as f64));
            let l2 = pairs
                .clone()
                .map(|(x, y)| (x - y) * (x - y))
                .sum::<f64>()
                .sqrt();
            let ip = pairs.clone().map(|(x, y)| x * y).sum::<f64>();
            let l1 = pairs.clone().map(|(x, y)| (x - y).abs()).sum::<f64>();
            let na = a.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
            let nb = b.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
            let cos = 1.0 - ip / (na * nb);
            let tolerance = 1e-5 * dim as f64;
            let check = |op: &str, want: f64| {
                let got = select_f64(&format!("SELECT '{ta}'::vector {op} '{tb}'::vector"));
                assert!(
                    (got - want).abs() <= tolerance,
                    "{op} dim={dim}: {got} vs {want}"
                );
            };
            check("<->", l2);
            check("<#>", -ip);
            check("<=>", cos);
            check("<+>", l1);
            let norm = select_f64(&format!("SELECT vector_norm('{ta}')"));
            assert!((norm - na).abs() <= tolerance);
        }
    }

    #[pg_test]
    fn avg_and_sum_match_row_by_row_arithmetic() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        Spi::run("CREATE TABLE agg_items (v vector(5))").unwrap();
        let rows: Vec<Vec<f32>> = (0..50)
            .map(|_| (0..5).map(|_| rng.gen_range(-10.0..10.0)).collect())
            .collect();
        for row in &rows {
            Spi::run(&format!(
                "INSERT INTO agg_items VALUES ('{}')",
                literal::format(row)
            ))
            .unwrap();
        }
        let avg = Spi::get_one::<Vec<f32>>("SELECT avg(v)::real[] FROM agg_items")
            .unwrap()
            .unwrap();
        let sum = Spi::get_one::<Vec<f32>>("SELECT sum(v)::real[] FROM agg_items")
            .unwrap()
            .unwrap();
        for i in 0..5 {
            let exact: f64 = rows.iter().map(|r| r[i] as f64).sum();
            assert!((avg[i] as f64 - exact / 50.0).abs() < 1e-5, "avg[{i}]");
            assert!((sum[i] as f64 - exact).abs() < 1e-3, "sum[{i}]");
        }
        let empty =
            Spi::get_one::<String>("SELECT avg(v)::text FROM agg_items WHERE false").unwrap();
        assert_eq!(empty, None);
    }

    #[pg_test(error = "different vector dimensions 2 and 3")]
    fn mismatched_dimensions_raise_an_error() {
        Spi::get_one::<f64>("SELECT '[1,2]'::vector <-> '[1,2,3]'::vector").unwrap();
    }

    #[pg_test(error = "expected 3 dimensions, not 2")]
    fn typmod_is_enforced_on_cast() {
        Spi::get_one::<String>("SELECT '[1,2]'::vector(3)::text").unwrap();
    }
}
