-- A placement's price (admeter.Placement.Price): its buying model and the
-- amount in millionths of CNY, both NULL when the cost is unknown. A
-- placement created before this migration has none.
ALTER TABLE placements ADD COLUMN price_model TEXT
	CHECK (price_model IN ('cpm', 'cpc', 'cpd', 'fixed'));
ALTER TABLE placements ADD COLUMN price_amount INTEGER
	CHECK ((price_amount IS NULL) = (price_model IS NULL)
		AND (price_amount IS NULL OR typeof(price_amount) = 'integer' AND price_amount BETWEEN 0 AND 1000000000000000));
