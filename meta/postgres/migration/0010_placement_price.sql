-- A placement's price (admeter.Placement.Price): its buying model and the
-- amount in millionths of CNY, both NULL when the cost is unknown. A
-- placement created before this migration has none.
ALTER TABLE placements
	ADD COLUMN price_model text CHECK (price_model IN ('cpm', 'cpc', 'cpd', 'fixed')),
	ADD COLUMN price_amount bigint CHECK (price_amount BETWEEN 0 AND 1000000000000000),
	ADD CONSTRAINT placements_price_both CHECK ((price_model IS NULL) = (price_amount IS NULL));
