"""A small corpus for the examples: short documents with a topic and a year,
and questions whose best answer is known (the examples' --check asserts it)."""

DOCUMENTS = [
    (1, "Sourdough bread", "Feed the starter the night before, knead the dough, let it rise for hours, then bake the loaf in a hot Dutch oven.", "cooking", 2021),
    (2, "Tomato soup", "Simmer tomatoes with onions and garlic for an hour, then blend until smooth and season with basil.", "cooking", 2019),
    (3, "Fresh pasta", "Mix flour and eggs into a stiff dough, rest it, roll it thin and cut it into ribbons.", "cooking", 2023),
    (4, "Pancakes", "Whisk milk, eggs and flour into a batter and fry thin pancakes in a buttered pan.", "cooking", 2018),
    (5, "Fixing a flat tire", "Remove the wheel, take out the inner tube, find the puncture, patch it and pump the tire up again.", "bikes", 2020),
    (6, "Chain care", "Clean the bicycle chain with a degreaser, dry it, and oil every link so the gears shift smoothly.", "bikes", 2022),
    (7, "Brake adjustment", "If the brakes squeal or feel soft, align the pads with the rim and tighten the cable.", "bikes", 2021),
    (8, "Choosing a frame size", "Measure your inseam and pick a bicycle frame that leaves a few centimetres of clearance.", "bikes", 2017),
    (9, "Indexes in PostgreSQL", "A btree index lets PostgreSQL find rows by key without reading the whole table.", "databases", 2022),
    (10, "Vacuum", "VACUUM reclaims the space of dead rows so that tables and indexes do not grow without end.", "databases", 2020),
    (11, "Write-ahead log", "The WAL records every change before it reaches the data files, so a crash loses no committed transaction.", "databases", 2019),
    (12, "Vector search", "An HNSW index finds the nearest embeddings to a query vector by walking a graph of neighbors.", "databases", 2024),
    (13, "Saturn's rings", "The rings of Saturn are made of ice and rock, from tiny grains to pieces as large as houses.", "astronomy", 2016),
    (14, "Black holes", "A black hole bends space so strongly that not even light escapes from inside its event horizon.", "astronomy", 2021),
    (15, "The Moon's phases", "The Moon shows phases because we see a changing part of its sunlit half as it orbits the Earth.", "astronomy", 2018),
    (16, "Exoplanets", "Astronomers find planets around other stars by the dip in starlight when a planet passes in front.", "astronomy", 2023),
    (17, "Tomato plants", "Tomato plants need full sun, deep watering and a stake to climb as the fruit grows heavy.", "gardening", 2022),
    (18, "Composting", "Mix green kitchen scraps with brown leaves, keep the pile moist and turn it so it breaks down.", "gardening", 2020),
    (19, "Pruning roses", "Prune roses in late winter, cutting above an outward-facing bud to open the center of the bush.", "gardening", 2019),
    (20, "Growing garlic", "Plant garlic cloves in autumn, pointed end up, and harvest the bulbs when the leaves turn yellow.", "gardening", 2021),
    (21, "The printing press", "Gutenberg's movable type press made books cheap and spread learning across Europe.", "history", 2015),
    (22, "The Roman aqueducts", "Roman engineers carried water to cities over aqueducts many kilometres long, using gravity alone.", "history", 2018),
    (23, "The first flight", "In 1903 the Wright brothers flew a powered airplane for twelve seconds at Kitty Hawk.", "history", 2020),
    (24, "Error code QX-4471", "Error QX-4471 means the sensor module lost power; reseat the connector and restart the device.", "support", 2024),
]

# (question, topic filter or None, the document that answers it)
QUESTIONS = [
    ("How do I bake a loaf of bread at home?", "cooking", 1),
    ("My bike tire went flat, what do I do?", "bikes", 5),
    ("Why does the moon change shape during the month?", None, 15),
    ("How does the database survive a crash without losing data?", "databases", 11),
    ("When should I cut back my rose bushes?", "gardening", 19),
    ("Who flew the first airplane?", None, 23),
]
