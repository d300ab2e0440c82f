INSERT INTO inserts (embedding)
SELECT ('[' || array_to_string(array(SELECT random() FROM generate_series(1, 128)), ',') || ']')::vector;
